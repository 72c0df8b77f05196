/*
 * netassure/whatif.h: what-if failure simulation.
 *
 * A failure set names failed vertices (topology nodes) and failed analytics-graph edges; the
 * what-if run compares the graph before and after removing them: components, connected pairs,
 * global efficiency, path stretch, role-to-role reachability loss, nodes cut off from the giant
 * component. Definitions and worked examples: docs/whatif-cascade-diff.md.
 */
#ifndef NETASSURE_WHATIF_H
#define NETASSURE_WHATIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netassure/common.h"
#include "netassure/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Zero-initialise before the first na_failure_set_add; free with na_failure_set_free. */
typedef struct na_failure_set {
    uint32_t *vertices; size_t n_vertices;     /* failed nodes (vertex = topology node index) */
    size_t *edges; size_t n_edges;             /* failed analytics-graph edges (na_graph edge index) */
} na_failure_set;

/*
 * Parses one --fail argument against g's topology and adds it to set: a node id, a link id, or "A-B" (the
 * link between nodes A and B; if a node id itself contains '-', an exact node id match wins; try every '-'
 * split). Unknown -> NA_ENOTFOUND with a message naming what was tried.
 *
 * Precedence: node id, then link id, then "A-B" splits (left to right, first split naming two
 * nodes joined by an edge wins). A link fails its collapsed graph edge (every parallel link
 * between the same two nodes). A link that is in the topology but not in the graph (a self-loop
 * or a down link) adds nothing and returns 0. Without a topology, nodes are decimal vertex
 * indexes and only "U-V" names an edge. Duplicates are ignored. The set owns its arrays.
 */
int na_failure_set_add(na_failure_set *set, const na_graph *g, const char *spec, na_error *err);
/* Frees the arrays and zeroes *set (a zeroed set is accepted). */
void na_failure_set_free(na_failure_set *set);

typedef struct na_role_loss {
    const char *from_role;    /* owned by the topology */
    const char *to_role;
    size_t nodes_cut_off;     /* surviving nodes of from_role that reached >= 1 node of to_role before and none after */
    size_t nodes_total;       /* surviving nodes of from_role that reached >= 1 node of to_role before */
} na_role_loss;

typedef struct na_whatif_result {
    size_t components_before, components_after;    /* connected components (after: among surviving vertices) */
    size_t giant_before, giant_after;
    size_t pairs_connected_before;                 /* unordered pairs of surviving vertices connected before */
    size_t pairs_disconnected;                     /* of those, pairs no longer connected */
    double efficiency_before, efficiency_after;    /* global efficiency; after = over the surviving vertices (n' = n - failed nodes) */
    double avg_stretch;                            /* mean of d_after/d_before over pairs still connected (1.0 = none longer) */
    size_t pairs_stretched;                        /* pairs whose distance grew */
    /*
     * One entry for every ordered pair (from, to) of roles present in the topology, same role
     * included (from == to: reaching another node of the role), sorted by (from, to) with
     * strcmp. Before, any other node of to_role counts (failed ones too: they were reachable);
     * after, only surviving ones. Nodes without a role are ignored. Empty without a topology
     * or with more than 1024 distinct roles (logged).
     */
    na_role_loss *role_loss; size_t n_role_loss;
    uint32_t *isolated;   size_t n_isolated;       /* surviving vertices left with no path to the giant component after */
} na_whatif_result;

/*
 * Runs the what-if for `fail` on g. O(n (n + m)) (one BFS per surviving vertex, before and
 * after). *out is overwritten; it owns its arrays (role strings belong to g's topology, which
 * must outlive it): free with na_whatif_result_free. On error *out is zeroed.
 */
int na_whatif_run(const na_graph *g, const na_failure_set *fail, na_whatif_result *out, na_error *err);
/* Frees the arrays and zeroes *r (a zeroed result is accepted). */
void na_whatif_result_free(na_whatif_result *r);

#ifdef __cplusplus
}
#endif
#endif
