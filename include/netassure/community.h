/*
 * netassure/community.h: community detection (Leiden, Louvain) and spectral clustering.
 *
 * These run igraph (see graph.h: one thread at a time). Randomised steps are seeded from the
 * `seed` argument, so equal inputs give equal results. See docs/analytics.md.
 */
#ifndef NETASSURE_COMMUNITY_H
#define NETASSURE_COMMUNITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netassure/common.h"
#include "netassure/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum na_community_method { NA_COMMUNITY_LEIDEN = 0, NA_COMMUNITY_LOUVAIN } na_community_method;

typedef struct na_communities {
    size_t n;
    uint32_t *membership;  /* n; communities numbered 0..count-1 by smallest member */
    size_t count;
    double modularity;     /* Newman modularity of this partition (igraph_modularity, resolution 1) */
    na_community_method method;
} na_communities;

/*
 * Partitions the vertices of g into communities with `method`, optimising modularity at
 * `resolution` (resolution 1.0 is standard modularity; seed makes it reproducible). The caller
 * owns out->membership and frees it with na_communities_free (*out is zeroed on error).
 */
int na_communities_detect(const na_graph *g, na_community_method method, double resolution,
                          uint64_t seed, na_communities *out, na_error *err);
/* Frees c's membership and zeroes it; accepts a zeroed struct. */
void na_communities_free(na_communities *c);
/* "leiden", "louvain" (a static string; "unknown" for other values). */
const char *na_community_method_name(na_community_method m);

typedef struct na_spectral {
    size_t n, k;
    uint32_t *membership;     /* n, 0..k-1 */
    double *eigenvalues;      /* the n_eigenvalues smallest eigenvalues of the normalised Laplacian, ascending */
    size_t n_eigenvalues;
    bool k_from_eigengap;
} na_spectral;

/*
 * Spectral clustering (normalised Laplacian, Ng-Jordan-Weiss row normalisation, k-means++)
 * into k clusters. k = 0: choose k by the largest eigengap among the first min(n, 20)
 * eigenvalues (the rule is in docs/analytics.md); k is capped at n. The caller owns the arrays
 * in *out and frees them with na_spectral_free (*out is zeroed on error).
 */
int na_spectral_cluster(const na_graph *g, size_t k, uint64_t seed, na_spectral *out,
                        na_error *err);
/* Frees the arrays of s and zeroes it; accepts a zeroed struct. */
void na_spectral_free(na_spectral *s);

#ifdef __cplusplus
}
#endif
#endif
