/*
 * graph_internal.h (internal): what analytics files share about na_graph and igraph.
 */
#ifndef NA_ANALYTICS_GRAPH_INTERNAL_H
#define NA_ANALYTICS_GRAPH_INTERNAL_H

#include <igraph.h>

#include "netassure/graph.h"

struct na_graph {
    na_topology *topo;   /* referenced; NULL for na_graph_from_edges */
    size_t n, m;
    uint32_t *offsets;   /* n + 1 */
    uint32_t *adj;       /* 2m, sorted per vertex */
    uint32_t *edges;     /* 2m: edge e = (edges[2e], edges[2e+1]), u < v, sorted */
    igraph_t ig;         /* same vertices; igraph edge e == our edge e */
};

/*
 * Installs our igraph error and warning handlers once per process (igraph's default handler
 * aborts). Every function that calls igraph calls this first; it is cheap after the first time.
 */
void na__igraph_setup(void);

/*
 * Turns an igraph error code into an NA_E* code with igraph's last reason in err.
 * `what` names the operation ("betweenness", ...).
 */
int na__igraph_fail(igraph_error_t code, const char *what, na_error *err);

/* Seeds igraph's default RNG so that randomised algorithms are reproducible. */
void na__igraph_seed(uint64_t seed);

#endif
