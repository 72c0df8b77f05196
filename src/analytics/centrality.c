/*
 * centrality.c: degree, betweenness, closeness, PageRank and eigenvector centrality, through
 * igraph. Conventions are in docs/analytics.md.
 */
#include "netassure/centrality.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/graph_internal.h"

void na_centrality_free(na_centrality *c)
{
    if (!c)
        return;
    free(c->degree);
    free(c->betweenness);
    free(c->closeness);
    free(c->pagerank);
    free(c->eigenvector);
    memset(c, 0, sizeof(*c));
}

/* Copies an igraph vector of n reals into dst; NaN (no defined value) becomes 0. */
static void copy_reals(double *dst, const igraph_vector_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double x = VECTOR(*src)[i];
        dst[i] = isnan(x) ? 0.0 : x;
    }
}

/*
 * Eigenvector centrality of one connected component (`verts`, `s` >= 2 vertices, local index
 * in `local`), scaled so its maximum is 1, written into ev. igraph on a disconnected graph
 * would give the eigenvector of the component with the largest eigenvalue and 0 elsewhere, so
 * each component gets its own.
 */
static int component_eigenvector(const na_graph *g, const uint32_t *verts, size_t s,
                                 const uint32_t *local, double *ev, na_error *err)
{
    igraph_vector_int_t edges;
    igraph_vector_t vec;
    igraph_t sub;
    igraph_arpack_options_t opts;
    igraph_real_t value;
    igraph_error_t ie;
    size_t m = 0;
    int rc = NA_OK;

    for (size_t i = 0; i < s; i++)
        m += na_graph_degree(g, verts[i]);
    m /= 2;
    ie = igraph_vector_int_init(&edges, (igraph_integer_t)(2 * m));
    if (ie != IGRAPH_SUCCESS)
        return na__igraph_fail(ie, "eigenvector centrality", err);
    m = 0;
    for (size_t i = 0; i < s; i++) {
        uint32_t v = verts[i];
        for (uint32_t k = g->offsets[v]; k < g->offsets[v + 1]; k++) {
            if (g->adj[k] > v) {
                VECTOR(edges)[2 * m] = local[v];
                VECTOR(edges)[2 * m + 1] = local[g->adj[k]];
                m++;
            }
        }
    }
    ie = igraph_create(&sub, &edges, (igraph_integer_t)s, IGRAPH_UNDIRECTED);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "eigenvector centrality", err);
        goto out_edges;
    }
    ie = igraph_vector_init(&vec, 0);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "eigenvector centrality", err);
        goto out_sub;
    }
    igraph_arpack_options_init(&opts);
    ie = igraph_eigenvector_centrality(&sub, &vec, &value, IGRAPH_UNDIRECTED, true, NULL, &opts);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "eigenvector centrality", err);
        goto out_vec;
    }
    for (size_t i = 0; i < s; i++) {
        double x = VECTOR(vec)[i];
        /* igraph returns -0 for some entries; report a plain 0. */
        ev[verts[i]] = isnan(x) || x <= 0.0 ? 0.0 : x;
    }
out_vec:
    igraph_vector_destroy(&vec);
out_sub:
    igraph_destroy(&sub);
out_edges:
    igraph_vector_int_destroy(&edges);
    return rc;
}

/* Fills ev (n, zeroed by the caller) with the per-component eigenvector centrality. */
static int eigenvector_per_component(const na_graph *g, double *ev, na_error *err)
{
    igraph_vector_int_t memb, csize;
    igraph_integer_t ncomp = 0;
    igraph_error_t ie;
    uint32_t *start = NULL, *order = NULL, *local = NULL;
    size_t n = g->n;
    int rc = NA_OK;

    ie = igraph_vector_int_init(&memb, 0);
    if (ie != IGRAPH_SUCCESS)
        return na__igraph_fail(ie, "connected components", err);
    ie = igraph_vector_int_init(&csize, 0);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "connected components", err);
        goto out_memb;
    }
    ie = igraph_connected_components(&g->ig, &memb, &csize, &ncomp, IGRAPH_WEAK);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "connected components", err);
        goto out_csize;
    }
    start = calloc((size_t)ncomp + 1, sizeof(*start));
    order = malloc((n + 1) * sizeof(*order));
    local = malloc((n + 1) * sizeof(*local));
    if (!start || !order || !local) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory in eigenvector centrality");
        goto out_arrays;
    }
    /* Counting sort of vertices by component; a vertex's local index is its rank there. */
    for (size_t c = 0; c < (size_t)ncomp; c++)
        start[c + 1] = start[c] + (uint32_t)VECTOR(csize)[c];
    /* csize becomes each slice's fill position, so vertices stay ascending in a slice. */
    for (size_t c = 0; c < (size_t)ncomp; c++)
        VECTOR(csize)[c] = start[c];
    for (size_t v = 0; v < n; v++) {
        size_t c = (size_t)VECTOR(memb)[v];
        order[VECTOR(csize)[c]++] = (uint32_t)v;
    }
    for (size_t c = 0; c < (size_t)ncomp; c++) {
        size_t s = start[c + 1] - start[c];
        const uint32_t *verts = order + start[c];
        if (s < 2)
            continue;   /* an isolated vertex has centrality 0 */
        for (size_t i = 0; i < s; i++)
            local[verts[i]] = (uint32_t)i;
        rc = component_eigenvector(g, verts, s, local, ev, err);
        if (rc)
            goto out_arrays;
    }
out_arrays:
    free(start);
    free(order);
    free(local);
out_csize:
    igraph_vector_int_destroy(&csize);
out_memb:
    igraph_vector_int_destroy(&memb);
    return rc;
}

/*
 * The caller owns out's arrays (na_centrality_free). O(n m) for betweenness and closeness,
 * O(m) per iteration for PageRank and eigenvector centrality.
 */
int na_centrality_compute(const na_graph *g, na_centrality *out, na_error *err)
{
    igraph_vector_t vec;
    igraph_real_t value;
    igraph_error_t ie;
    size_t n = g->n;
    int rc = NA_OK;

    na__igraph_setup();
    memset(out, 0, sizeof(*out));
    out->n = n;
    /* +1 so that the empty graph still gets non-NULL arrays. */
    out->degree = malloc((n + 1) * sizeof(*out->degree));
    out->betweenness = calloc(n + 1, sizeof(double));
    out->closeness = calloc(n + 1, sizeof(double));
    out->pagerank = calloc(n + 1, sizeof(double));
    out->eigenvector = calloc(n + 1, sizeof(double));
    if (!out->degree || !out->betweenness || !out->closeness || !out->pagerank ||
        !out->eigenvector) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory computing centrality");
        goto out_result;
    }
    for (size_t v = 0; v < n; v++)
        out->degree[v] = (uint32_t)na_graph_degree(g, (uint32_t)v);
    if (n == 0)
        return NA_OK;

    ie = igraph_vector_init(&vec, 0);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "centrality", err);
        goto out_result;
    }
    ie = igraph_betweenness(&g->ig, &vec, igraph_vss_all(), IGRAPH_UNDIRECTED, NULL);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "betweenness", err);
        goto out_vec;
    }
    copy_reals(out->betweenness, &vec, n);
    /* Normalised: reachable count / sum of distances to the reachable vertices. */
    ie = igraph_closeness(&g->ig, &vec, NULL, NULL, igraph_vss_all(), IGRAPH_ALL, NULL, true);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "closeness", err);
        goto out_vec;
    }
    copy_reals(out->closeness, &vec, n);
    ie = igraph_pagerank(&g->ig, IGRAPH_PAGERANK_ALGO_PRPACK, &vec, &value, igraph_vss_all(),
                         IGRAPH_UNDIRECTED, 0.85, NULL, NULL);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "pagerank", err);
        goto out_vec;
    }
    copy_reals(out->pagerank, &vec, n);
    rc = eigenvector_per_component(g, out->eigenvector, err);
out_vec:
    igraph_vector_destroy(&vec);
out_result:
    if (rc)
        na_centrality_free(out);
    return rc;
}
