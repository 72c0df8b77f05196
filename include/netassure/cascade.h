/*
 * netassure/cascade.h: Motter-Lai load-redistribution cascade (Phys. Rev. E 66, 065102, 2002).
 *
 * Load of a vertex = its betweenness (igraph_betweenness: unnormalised, undirected, endpoints
 * not counted, each unordered pair counted once). Capacity = (1 + alpha) * load in the intact
 * graph. After the initial failure, loads are recomputed on what remains and every vertex
 * whose load exceeds its capacity fails, all at once; this repeats until no vertex fails.
 * Failed vertices have load 0 and never fail twice. See docs/whatif-cascade-diff.md.
 */
#ifndef NETASSURE_CASCADE_H
#define NETASSURE_CASCADE_H

#include <stddef.h>
#include <stdint.h>

#include "netassure/common.h"
#include "netassure/graph.h"
#include "netassure/whatif.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct na_cascade_step { uint32_t *failed; size_t n_failed; size_t giant; } na_cascade_step;   /* step 0 = the initial failure */

typedef struct na_cascade_result {
    double alpha;
    na_cascade_step *steps; size_t n_steps;
    size_t total_failed;
    size_t giant_before, giant_after;              /* largest component before any failure, at the end */
    double giant_fraction;                         /* giant_after / n (Motter-Lai's G) */
} na_cascade_result;

/* Motter-Lai: load = node betweenness (with endpoints? document; use the standard: igraph betweenness, unnormalised) of the intact graph; capacity = (1 + alpha) * initial load; remove the initial failure, recompute loads on what remains, fail every node whose load exceeds its capacity (all at once per step), repeat until none; max_steps caps it (0 = no cap). */
/*
 * Details: step 0 lists the initially failed vertices (sorted; failed edges are removed too but
 * are not listed) and the giant component after them; step k >= 1 lists the vertices failed
 * at step k (sorted). A vertex fails when load > capacity * (1 + 1e-9) + 1e-9, so that
 * floating-point noise in betweenness does not fail a vertex whose load is unchanged.
 * max_steps counts propagation steps (step 0 excluded). giant sizes count surviving vertices;
 * giant_fraction is 0 for an empty graph. alpha must be >= 0 (NA_EINVAL otherwise).
 * O(steps * n m) (Brandes betweenness per step). *out owns its arrays: free with
 * na_cascade_result_free; on error *out is zeroed.
 */
int na_cascade_run(const na_graph *g, const na_failure_set *initial, double alpha, size_t max_steps, na_cascade_result *out, na_error *err);
/* Frees the arrays and zeroes *r (a zeroed result is accepted). */
void na_cascade_result_free(na_cascade_result *r);

#ifdef __cplusplus
}
#endif
#endif
