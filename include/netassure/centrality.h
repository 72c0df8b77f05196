/*
 * netassure/centrality.h: per-vertex centrality and structural analyses of an na_graph.
 *
 * Both entry points run igraph (see graph.h: one thread at a time). Conventions are described
 * in docs/analytics.md.
 */
#ifndef NETASSURE_CENTRALITY_H
#define NETASSURE_CENTRALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netassure/common.h"
#include "netassure/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct na_centrality {
    size_t n;
    uint32_t *degree;      /* distinct neighbours in the analytics graph */
    double *betweenness;   /* unnormalised, each unordered pair counted once (igraph undirected) */
    double *closeness;     /* igraph closeness over reachable vertices (document the convention) */
    double *pagerank;      /* damping 0.85 */
    double *eigenvector;   /* scaled so the max is 1; per component convention documented */
} na_centrality;

/*
 * Fills *out with degree, betweenness, closeness, PageRank and eigenvector centrality of every
 * vertex. The caller owns the arrays in *out and frees them with na_centrality_free (also on
 * error, where *out is left zeroed). O(n m) for betweenness and closeness.
 */
int na_centrality_compute(const na_graph *g, na_centrality *out, na_error *err);
/* Frees the arrays of c and zeroes it; accepts a zeroed struct. */
void na_centrality_free(na_centrality *c);

typedef struct na_structure {
    size_t n;
    bool *articulation;          /* n */
    size_t n_articulation;
    uint32_t *bridges;           /* 2 * n_bridges vertex indexes (u < v), sorted */
    size_t n_bridges;
    uint32_t *coreness;          /* n: k-core number */
    uint32_t max_core;
    size_t n_components;
    uint32_t *component;         /* n: component index, 0..n_components-1, ordered by smallest vertex */
} na_structure;

/*
 * Fills *out with articulation points, bridges, k-core numbers and connected components.
 * The caller owns the arrays in *out and frees them with na_structure_free (*out is zeroed on
 * error). O(n + m).
 */
int na_structure_compute(const na_graph *g, na_structure *out, na_error *err);
/* Frees the arrays of s and zeroes it; accepts a zeroed struct. */
void na_structure_free(na_structure *s);

#ifdef __cplusplus
}
#endif
#endif
