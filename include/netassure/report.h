/*
 * netassure/report.h: the analytics of one snapshot run together, and JSON reports of them,
 * what-if, cascade and diff results. The CLI (`--json`) and the daemon's API print the same
 * documents (docs/cli.md), so both call these.
 *
 * JSON values are jansson objects: the caller owns the returned reference (json_decref).
 */
#ifndef NETASSURE_REPORT_H
#define NETASSURE_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "netassure/cascade.h"
#include "netassure/centrality.h"
#include "netassure/clusters.h"
#include "netassure/community.h"
#include "netassure/diff.h"
#include "netassure/graph.h"
#include "netassure/motifs.h"
#include "netassure/robustness.h"
#include "netassure/topology.h"
#include "netassure/whatif.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kinds of analysis, as bits. NA_ANALYSIS_CLUSTERS implies STRUCTURE and COMMUNITIES. */
enum {
    NA_ANALYSIS_CENTRALITY = 1u << 0,
    NA_ANALYSIS_STRUCTURE = 1u << 1,
    NA_ANALYSIS_COMMUNITIES = 1u << 2,
    NA_ANALYSIS_SPECTRAL = 1u << 3,
    NA_ANALYSIS_MOTIFS = 1u << 4,
    NA_ANALYSIS_CLUSTERS = 1u << 5,
    NA_ANALYSIS_ROBUSTNESS = 1u << 6,
    NA_ANALYSIS_ALL = 0x7fu
};

/* "centrality", ... for one bit; NULL for anything else. */
const char *na_analysis_kind_name(unsigned kind);
/* Parses one kind name ("all" included); 0 when unknown. */
unsigned na_analysis_kind_parse(const char *name);

typedef struct na_analysis_opts {
    unsigned kinds;       /* NA_ANALYSIS_* bits */
    unsigned threads;     /* robustness threads, 0 = all CPUs */
    uint64_t seed;        /* randomised algorithms */
    double resolution;    /* modularity resolution (0 = 1.0) */
    size_t k;             /* spectral clusters (0 = by eigengap) */
    void (*progress)(void *ctx, size_t done, size_t total); /* robustness progress, may be NULL */
    void *progress_ctx;
} na_analysis_opts;

/* The results of every kind asked for, on one snapshot. Zero-initialise before use. */
typedef struct na_analysis {
    unsigned kinds;       /* what was computed */
    na_topology *topo;    /* a reference, dropped by na_analysis_free */
    na_graph *g;
    na_centrality cent;
    na_structure st;
    na_communities leiden, louvain;
    na_spectral spec;
    na_motifs motifs;
    na_cluster_list clusters;
    na_robustness rob;
    double seconds[7];    /* wall time per kind bit index */
} na_analysis;

/*
 * Builds the analytics graph of `topo` and runs the kinds in opts (igraph kernels: call from one
 * thread at a time, see docs/ARCHITECTURE.md). On success *out holds everything (free with
 * na_analysis_free); on error *out is freed and zeroed.
 */
int na_analysis_run(na_topology *topo, const na_analysis_opts *opts, na_analysis *out,
                    na_error *err);
void na_analysis_free(na_analysis *a);

/*
 * The `netassure analyze --json` document of the kinds in `kinds` (only those computed count).
 * `file` names the input (NULL: left out).
 */
json_t *na_analysis_json(const na_analysis *a, unsigned kinds, const char *file);

/* `netassure whatif --json` and `netassure cascade --json` documents. */
json_t *na_whatif_json(const na_graph *g, const na_failure_set *set, const na_whatif_result *r);
json_t *na_cascade_json(const na_graph *g, const na_failure_set *set, const na_cascade_result *r);
/* `netassure diff --json`; from/to name the two sides. */
json_t *na_diff_json(const na_diff_result *r, const char *from, const char *to);

/* A JSON real, or null for NaN / infinity (JSON has neither). */
json_t *na_json_real(double x);
/* A JSON string, or null for NULL (and for text jansson refuses: invalid UTF-8). */
json_t *na_json_str(const char *s);

#ifdef __cplusplus
}
#endif

#endif
