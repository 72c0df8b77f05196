/*
 * structure.c: articulation points, bridges, k-core numbers and connected components, through
 * igraph.
 */
#include "netassure/centrality.h"

#include <stdlib.h>
#include <string.h>

#include "analytics/graph_internal.h"

void na_structure_free(na_structure *s)
{
    if (!s)
        return;
    free(s->articulation);
    free(s->bridges);
    free(s->coreness);
    free(s->component);
    memset(s, 0, sizeof(*s));
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

/* Bridges as sorted vertex pairs. Our edges are sorted by (u, v), so sorting ids sorts pairs. */
static int fill_bridges(const na_graph *g, na_structure *out, igraph_vector_int_t *res,
                        na_error *err)
{
    size_t nb;
    size_t *ids;
    igraph_error_t ie;

    ie = igraph_bridges(&g->ig, res);
    if (ie != IGRAPH_SUCCESS)
        return na__igraph_fail(ie, "bridges", err);
    nb = (size_t)igraph_vector_int_size(res);
    ids = malloc((nb + 1) * sizeof(*ids));
    out->bridges = malloc((2 * nb + 1) * sizeof(*out->bridges));
    if (!ids || !out->bridges) {
        free(ids);
        return na_error_set(err, NA_ENOMEM, "out of memory listing bridges");
    }
    for (size_t i = 0; i < nb; i++)
        ids[i] = (size_t)VECTOR(*res)[i];
    qsort(ids, nb, sizeof(*ids), cmp_size);
    for (size_t i = 0; i < nb; i++)
        na_graph_edge(g, ids[i], &out->bridges[2 * i], &out->bridges[2 * i + 1]);
    out->n_bridges = nb;
    free(ids);
    return NA_OK;
}

/*
 * Components renumbered by their smallest vertex (igraph happens to number them that way; we
 * do not rely on it).
 */
static int fill_components(const na_graph *g, na_structure *out, igraph_vector_int_t *res,
                           na_error *err)
{
    igraph_integer_t ncomp = 0;
    igraph_error_t ie;
    uint32_t *renum;
    uint32_t next = 0;

    ie = igraph_connected_components(&g->ig, res, NULL, &ncomp, IGRAPH_WEAK);
    if (ie != IGRAPH_SUCCESS)
        return na__igraph_fail(ie, "connected components", err);
    renum = malloc(((size_t)ncomp + 1) * sizeof(*renum));
    if (!renum)
        return na_error_set(err, NA_ENOMEM, "out of memory numbering components");
    for (size_t c = 0; c < (size_t)ncomp; c++)
        renum[c] = UINT32_MAX;
    for (size_t v = 0; v < g->n; v++) {
        size_t c = (size_t)VECTOR(*res)[v];
        if (renum[c] == UINT32_MAX)
            renum[c] = next++;
        out->component[v] = renum[c];
    }
    out->n_components = (size_t)ncomp;
    free(renum);
    return NA_OK;
}

/* The caller owns out's arrays (na_structure_free). O(n + m) for each part. */
int na_structure_compute(const na_graph *g, na_structure *out, na_error *err)
{
    igraph_vector_int_t res;
    igraph_error_t ie;
    size_t n = g->n;
    int rc = NA_OK;

    na__igraph_setup();
    memset(out, 0, sizeof(*out));
    out->n = n;
    out->articulation = calloc(n + 1, sizeof(*out->articulation));
    out->coreness = calloc(n + 1, sizeof(*out->coreness));
    out->component = calloc(n + 1, sizeof(*out->component));
    if (!out->articulation || !out->coreness || !out->component) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory computing structure");
        goto out_result;
    }
    ie = igraph_vector_int_init(&res, 0);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "structure", err);
        goto out_result;
    }
    ie = igraph_articulation_points(&g->ig, &res);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "articulation points", err);
        goto out_res;
    }
    for (igraph_integer_t i = 0; i < igraph_vector_int_size(&res); i++)
        out->articulation[VECTOR(res)[i]] = true;
    out->n_articulation = (size_t)igraph_vector_int_size(&res);

    rc = fill_bridges(g, out, &res, err);
    if (rc)
        goto out_res;

    ie = igraph_coreness(&g->ig, &res, IGRAPH_ALL);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "coreness", err);
        goto out_res;
    }
    for (size_t v = 0; v < n; v++) {
        out->coreness[v] = (uint32_t)VECTOR(res)[v];
        if (out->coreness[v] > out->max_core)
            out->max_core = out->coreness[v];
    }

    rc = fill_components(g, out, &res, err);
out_res:
    igraph_vector_int_destroy(&res);
out_result:
    if (rc)
        na_structure_free(out);
    return rc;
}
