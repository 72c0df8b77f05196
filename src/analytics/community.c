/*
 * community.c: modularity-based community detection (Leiden, Louvain) through igraph.
 */
#include "netassure/community.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/graph_internal.h"

/* Leiden's randomness parameter (igraph's and the Leiden paper's usual value). */
#define LEIDEN_BETA 0.01

const char *na_community_method_name(na_community_method m)
{
    switch (m) {
    case NA_COMMUNITY_LEIDEN:
        return "leiden";
    case NA_COMMUNITY_LOUVAIN:
        return "louvain";
    }
    return "unknown";
}

void na_communities_free(na_communities *c)
{
    if (!c)
        return;
    free(c->membership);
    memset(c, 0, sizeof(*c));
}

/* Leiden passes at most; each pass is one igraph Leiden iteration from the last partition. */
#define LEIDEN_MAX_PASSES 50

/* Renumbers labels by first appearance, so equal partitions get equal vectors. */
static void canonical_labels(igraph_vector_int_t *memb, uint32_t *renum, size_t n)
{
    igraph_integer_t next = 0;

    for (size_t v = 0; v < n; v++)
        renum[v] = UINT32_MAX;
    for (size_t v = 0; v < n; v++) {
        size_t c = (size_t)VECTOR(*memb)[v];
        if (renum[c] == UINT32_MAX)
            renum[c] = (uint32_t)next++;
        VECTOR(*memb)[v] = renum[c];
    }
}

/*
 * Leiden with the modularity objective: igraph's Leiden optimises the CPM-like quality
 * sum_ij (A_ij - gamma n_i n_j) delta(c_i, c_j), which is modularity (up to a factor 1/2m)
 * when the node weights n_i are the degrees and gamma = resolution / 2m.
 *
 * We run single passes until one leaves the partition unchanged (or LEIDEN_MAX_PASSES):
 * igraph 0.10.2's own "negative n_iterations" loop stops after the first pass that changes
 * something, and never stops when the singleton start is already optimal (igraph issue 2798).
 */
static igraph_error_t run_leiden(const na_graph *g, double resolution, igraph_vector_int_t *memb,
                                 uint32_t *renum)
{
    igraph_vector_t node_weights;
    igraph_vector_int_t prev;
    igraph_integer_t nb = 0;
    igraph_real_t quality = 0;
    igraph_error_t ie;

    ie = igraph_vector_init(&node_weights, (igraph_integer_t)g->n);
    if (ie != IGRAPH_SUCCESS)
        return ie;
    ie = igraph_vector_int_init(&prev, 0);
    if (ie != IGRAPH_SUCCESS)
        goto out_weights;
    for (size_t v = 0; v < g->n; v++)
        VECTOR(node_weights)[v] = (double)na_graph_degree(g, (uint32_t)v);
    for (int pass = 0; pass < LEIDEN_MAX_PASSES; pass++) {
        ie = igraph_community_leiden(&g->ig, NULL, &node_weights,
                                     resolution / (2.0 * (double)g->m), LEIDEN_BETA, pass > 0, 1,
                                     memb, &nb, &quality);
        if (ie != IGRAPH_SUCCESS)
            break;
        canonical_labels(memb, renum, g->n);
        if (pass > 0 && igraph_vector_int_all_e(memb, &prev))
            break;
        ie = igraph_vector_int_update(&prev, memb);
        if (ie != IGRAPH_SUCCESS)
            break;
    }
    igraph_vector_int_destroy(&prev);
out_weights:
    igraph_vector_destroy(&node_weights);
    return ie;
}

/* The caller owns out->membership (na_communities_free). About O(m) per pass. */
int na_communities_detect(const na_graph *g, na_community_method method, double resolution,
                          uint64_t seed, na_communities *out, na_error *err)
{
    igraph_vector_int_t memb;
    igraph_real_t q = 0;
    igraph_error_t ie;
    uint32_t *renum = NULL;
    size_t n = g->n, count = 0;
    int rc = NA_OK;

    na__igraph_setup();
    memset(out, 0, sizeof(*out));
    if (method != NA_COMMUNITY_LEIDEN && method != NA_COMMUNITY_LOUVAIN)
        return na_error_set(err, NA_EINVAL, "unknown community method %d", (int)method);
    if (!(resolution > 0.0) || !isfinite(resolution))
        return na_error_set(err, NA_EINVAL, "resolution must be a positive number, not %g",
                            resolution);
    out->n = n;
    out->method = method;
    out->membership = malloc((n + 1) * sizeof(*out->membership));
    renum = malloc((n + 1) * sizeof(*renum));
    if (!out->membership || !renum) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory detecting communities");
        goto out_renum;
    }
    if (g->m == 0) {
        /* No links: nothing to optimise, every vertex is its own community. Modularity is
         * undefined (0/0); we report 0 rather than igraph's NaN. */
        for (size_t v = 0; v < n; v++)
            out->membership[v] = (uint32_t)v;
        out->count = n;
        out->modularity = 0.0;
        goto out_renum;
    }

    ie = igraph_vector_int_init(&memb, 0);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "community detection", err);
        goto out_renum;
    }
    na__igraph_seed(seed);
    if (method == NA_COMMUNITY_LEIDEN)
        ie = run_leiden(g, resolution, &memb, renum);
    else
        ie = igraph_community_multilevel(&g->ig, NULL, resolution, &memb, NULL, NULL);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, na_community_method_name(method), err);
        goto out_memb;
    }

    /* Renumber by smallest member: scanning vertices in order meets each community first at
     * its smallest member. igraph's labels are < n. */
    for (size_t v = 0; v < n; v++)
        renum[v] = UINT32_MAX;
    for (size_t v = 0; v < n; v++) {
        size_t c = (size_t)VECTOR(memb)[v];
        if (renum[c] == UINT32_MAX)
            renum[c] = (uint32_t)count++;
        out->membership[v] = renum[c];
        VECTOR(memb)[v] = renum[c];
    }
    out->count = count;
    ie = igraph_modularity(&g->ig, &memb, NULL, 1.0, IGRAPH_UNDIRECTED, &q);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "modularity", err);
        goto out_memb;
    }
    out->modularity = q;
out_memb:
    igraph_vector_int_destroy(&memb);
out_renum:
    free(renum);
    if (rc)
        na_communities_free(out);
    return rc;
}
