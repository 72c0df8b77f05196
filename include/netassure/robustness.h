/*
 * netassure/robustness.h: how much the network depends on each node.
 *
 * For every vertex v of a simple undirected graph G:
 *   redundancy(v)    = number of distinct neighbours of v (its degree in G);
 *   importance(v)    = E(G) - E(G - v), where E is the Latora-Marchiori global efficiency
 *                      E(G) = 1/(n(n-1)) * sum over ordered pairs s != t of 1/d(s,t)
 *                      (1/d = 0 for disconnected pairs; E = 0 when n < 2) and G - v has the
 *                      n - 1 other vertices;
 *   relative_loss(v) = importance(v) / E(G), or 0 when E(G) == 0.
 * Values match networkx.global_efficiency(G) - networkx.global_efficiency(G - v).
 *
 * na_robustness_compute is exact (not sampled) and runs in O(n m) for graphs whose
 * shortest-path dominator trees are shallow (meshes, scale-free graphs), O(n^2 m) in the worst
 * case (long rings); see docs/robustness.md for the algorithm and why it is exact.
 */
#ifndef NETASSURE_ROBUSTNESS_H
#define NETASSURE_ROBUSTNESS_H

#include <stddef.h>
#include <stdint.h>

#include "netassure/common.h"
#include "netassure/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Progress: `done` of `total` source vertices processed. */
typedef void (*na_progress_fn)(void *ctx, size_t done, size_t total);

typedef struct na_robustness_opts {
    unsigned threads;            /* 0 = all online CPUs */
    na_progress_fn progress;     /* may be NULL; called from the calling thread only */
    void *progress_ctx;
} na_robustness_opts;

typedef struct na_robustness {
    size_t n;
    double efficiency;           /* global efficiency E(G) of the whole graph */
    uint32_t *redundancy;        /* n: number of distinct neighbours */
    double *importance;          /* n: E(G) - E(G - v) */
    double *relative_loss;       /* n: importance / E(G); 0 when E(G) == 0 */
} na_robustness;

/*
 * Redundancy, importance and relative loss of every vertex of g. opts may be NULL (all CPUs,
 * no progress). Fills *out; its arrays are malloc'd and owned by the caller, who frees them
 * with na_robustness_free (also on failure, where *out is left empty). The result does not
 * depend on the number of threads (sums are exact fixed-point). Thread-safe for distinct
 * outputs; g is only read. O(n m) typical, O(n^2 m) worst case; O(threads * n) memory.
 * Errors: NA_ENOMEM. opts->threads above the vertex count or 256 is clamped.
 */
int na_robustness_compute(const na_graph *g, const na_robustness_opts *opts, na_robustness *out,
                          na_error *err);

/*
 * Reference implementation: one igraph_global_efficiency per removed vertex (O(n^2 m)). Same
 * output and ownership as na_robustness_compute. Uses igraph: call from one thread at a time.
 */
int na_robustness_compute_naive(const na_graph *g, na_robustness *out, na_error *err);

/* Frees the arrays of r and zeroes it (r itself is the caller's). NULL is accepted. */
void na_robustness_free(na_robustness *r);

/* Latora-Marchiori global efficiency of g (our BFS; 0 when n < 2; NaN when out of memory).
 * O(n m), one thread. */
double na_global_efficiency(const na_graph *g);

#ifdef __cplusplus
}
#endif
#endif
