/*
 * netassure/clusters.h: clusters (components and communities) and their shape type.
 *
 * The types follow the prose of seed 004; docs/cluster-types.md gives the rule and the small
 * cases.
 */
#ifndef NETASSURE_CLUSTERS_H
#define NETASSURE_CLUSTERS_H

#include <stddef.h>
#include <stdint.h>

#include "netassure/centrality.h"
#include "netassure/common.h"
#include "netassure/community.h"
#include "netassure/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum na_cluster_type { NA_CLUSTER_SNAKE = 0, NA_CLUSTER_CIRCLE, NA_CLUSTER_HUB_AND_SPOKE, NA_CLUSTER_MESH } na_cluster_type;

/* "snake", "circle", "hub-and-spoke", "mesh" (a static string; "unknown" for other values). */
const char *na_cluster_type_name(na_cluster_type t);

/*
 * Type of the subgraph of g induced by members (degrees counted inside it). members need not
 * be sorted; duplicates and out-of-range indexes are ignored. O(sum of member degrees).
 */
na_cluster_type na_cluster_type_classify(const na_graph *g, const uint32_t *members, size_t n_members);

typedef enum na_cluster_kind { NA_CLUSTER_COMPONENT = 0, NA_CLUSTER_COMMUNITY } na_cluster_kind;

typedef struct na_cluster {
    na_cluster_kind kind;
    size_t index;            /* component or community number */
    uint32_t *members;       /* sorted vertex indexes */
    size_t n_members;
    size_t internal_links;   /* edges inside */
    na_cluster_type type;
} na_cluster;

typedef struct na_cluster_list { na_cluster *items; size_t count; } na_cluster_list;

/*
 * One cluster per connected component of s (in component order), then (if communities !=
 * NULL) one per community. The caller owns *out and frees it with na_cluster_list_free (*out is
 * zeroed on error).
 */
int na_clusters_compute(const na_graph *g, const na_structure *s, const na_communities *communities,
                        na_cluster_list *out, na_error *err);
/* Frees every cluster's members and the list, and zeroes l; accepts a zeroed struct. */
void na_cluster_list_free(na_cluster_list *l);

#ifdef __cplusplus
}
#endif
#endif
