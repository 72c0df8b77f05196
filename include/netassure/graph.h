/*
 * netassure/graph.h: the simple undirected graph that analytics run on.
 *
 * Built from a topology snapshot: vertex i is node i of the snapshot; parallel links collapse
 * into one edge, self-loops are dropped, and links that are down (or touch a node that is
 * down) are left out, so a down node is an isolated vertex. The graph keeps a reference to its
 * snapshot. It holds both an igraph_t (for igraph's algorithms) and a CSR adjacency with
 * sorted neighbour lists (for our own kernels).
 *
 * igraph is not thread-safe in the Debian build: call analytics that use igraph from one
 * thread at a time. Our own kernels (robustness) may run threads internally.
 */
#ifndef NETASSURE_GRAPH_H
#define NETASSURE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netassure/common.h"
#include "netassure/topology.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct na_graph na_graph;

/* O(n + m log m). *out owns a reference to topo; free with na_graph_free. */
int na_graph_from_topology(const na_topology *topo, na_graph **out, na_error *err);
/*
 * A graph with n vertices and the m edges (edges[2k], edges[2k+1]) (duplicates and loops
 * dropped), for tests, generators and benchmarks. It has no topology.
 */
int na_graph_from_edges(size_t n, const uint32_t *edges, size_t m, na_graph **out,
                        na_error *err);
/*
 * A copy of g without the vertices flagged in drop_vertex (they stay as isolated vertices, so
 * indexes do not change) and without the edges flagged in drop_edge (edge indexes of g).
 * Either array may be NULL.
 */
int na_graph_without(const na_graph *g, const bool *drop_vertex, const bool *drop_edge,
                     na_graph **out, na_error *err);
void na_graph_free(na_graph *g);

size_t na_graph_vertex_count(const na_graph *g);
size_t na_graph_edge_count(const na_graph *g);
/* The snapshot the graph came from, or NULL (na_graph_from_edges). */
const na_topology *na_graph_topology(const na_graph *g);

/* CSR: neighbours of v are adj[offsets[v] .. offsets[v + 1]), sorted ascending. */
const uint32_t *na_graph_offsets(const na_graph *g);
const uint32_t *na_graph_adjacency(const na_graph *g);
size_t na_graph_degree(const na_graph *g, uint32_t v);
/* Edge e's endpoints (u < v). Edges are sorted by (u, v). */
void na_graph_edge(const na_graph *g, size_t e, uint32_t *u, uint32_t *v);
/* Index of edge {u, v}, or NA_ENOTFOUND. O(log deg). */
int na_graph_find_edge(const na_graph *g, uint32_t u, uint32_t v, size_t *e);
/* Node id of vertex v (the topology's node id, or the decimal index without a topology). */
const char *na_graph_vertex_id(const na_graph *g, uint32_t v, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
