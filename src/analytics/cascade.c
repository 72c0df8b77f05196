/*
 * cascade.c: Motter-Lai overload cascade. Loads are igraph betweenness on the graph that
 * remains after each step; the damaged graph is rebuilt from the intact one with
 * na_graph_without, so vertex indexes never move.
 */
#include "netassure/cascade.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/graph_internal.h"

/*
 * Betweenness sums floating-point pair dependencies in an order that depends on the graph, so
 * an unchanged load can come back a few ulps higher; that noise must not count as overload.
 */
#define OVERLOAD_REL 1e-9
#define OVERLOAD_ABS 1e-9

static int load_of(const na_graph *g, igraph_vector_t *load, na_error *err)
{
    igraph_error_t ie = igraph_betweenness(&g->ig, load, igraph_vss_all(), false, NULL);

    return ie == IGRAPH_SUCCESS ? NA_OK : na__igraph_fail(ie, "betweenness", err);
}

/* Largest component among surviving vertices (failed ones are isolated in g). */
static int giant_of(const na_graph *g, size_t n_alive, size_t *giant, na_error *err)
{
    igraph_vector_int_t csize;
    igraph_integer_t count = 0;
    igraph_error_t ie;
    size_t best = 0;

    *giant = 0;
    if (n_alive == 0)
        return NA_OK;
    ie = igraph_vector_int_init(&csize, 0);
    if (ie != IGRAPH_SUCCESS)
        return na__igraph_fail(ie, "components", err);
    ie = igraph_connected_components(&g->ig, NULL, &csize, &count, IGRAPH_WEAK);
    if (ie != IGRAPH_SUCCESS) {
        igraph_vector_int_destroy(&csize);
        return na__igraph_fail(ie, "components", err);
    }
    for (igraph_integer_t c = 0; c < count; c++)
        if ((size_t)VECTOR(csize)[c] > best)
            best = (size_t)VECTOR(csize)[c];
    igraph_vector_int_destroy(&csize);
    *giant = best;
    return NA_OK;
}

/* Appends a step listing the vertices in list[0 .. count) (taken over) with its giant. */
static int push_step(na_cascade_result *r, uint32_t *list, size_t count, size_t giant,
                     na_error *err)
{
    na_cascade_step *grown = realloc(r->steps, (r->n_steps + 1) * sizeof(*grown));

    if (!grown) {
        free(list);
        return na_error_set(err, NA_ENOMEM, "out of memory");
    }
    r->steps = grown;
    r->steps[r->n_steps].failed = list;
    r->steps[r->n_steps].n_failed = count;
    r->steps[r->n_steps].giant = giant;
    r->n_steps++;
    r->total_failed += count;
    return NA_OK;
}

void na_cascade_result_free(na_cascade_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_steps; i++)
        free(r->steps[i].failed);
    free(r->steps);
    memset(r, 0, sizeof(*r));
}

int na_cascade_run(const na_graph *g, const na_failure_set *initial, double alpha,
                   size_t max_steps, na_cascade_result *out, na_error *err)
{
    size_t n = g->n, n_alive = n, giant = 0, count;
    bool *failed_v = NULL, *failed_e = NULL;
    double *capacity = NULL;
    uint32_t *list = NULL;
    igraph_vector_t load;
    bool load_ready = false;
    na_graph *h = NULL;
    igraph_error_t ie;
    int rc;

    memset(out, 0, sizeof(*out));
    na__igraph_setup();
    if (!(alpha >= 0.0) || !isfinite(alpha))
        return na_error_set(err, NA_EINVAL, "cascade tolerance alpha must be finite and >= 0");
    out->alpha = alpha;
    failed_v = calloc(n + 1, sizeof(bool));
    failed_e = calloc(g->m + 1, sizeof(bool));
    capacity = malloc((n + 1) * sizeof(double));
    if (!failed_v || !failed_e || !capacity) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out_free;
    }
    ie = igraph_vector_init(&load, 0);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "betweenness", err);
        goto out_free;
    }
    load_ready = true;

    for (size_t i = 0; initial && i < initial->n_vertices; i++) {
        if (initial->vertices[i] >= n) {
            rc = na_error_set(err, NA_EINVAL, "failed vertex %u out of range (n = %zu)",
                              (unsigned)initial->vertices[i], n);
            goto out_free;
        }
        failed_v[initial->vertices[i]] = true;
    }
    for (size_t i = 0; initial && i < initial->n_edges; i++) {
        if (initial->edges[i] >= g->m) {
            rc = na_error_set(err, NA_EINVAL, "failed edge %zu out of range (m = %zu)",
                              initial->edges[i], g->m);
            goto out_free;
        }
        failed_e[initial->edges[i]] = true;
    }

    rc = load_of(g, &load, err);
    if (rc != NA_OK)
        goto out_free;
    for (size_t v = 0; v < n; v++)
        capacity[v] = (1.0 + alpha) * VECTOR(load)[v];
    rc = giant_of(g, n, &out->giant_before, err);
    if (rc != NA_OK)
        goto out_free;

    /* Step 0: the initial failure, listed in index order. */
    list = malloc((n + 1) * sizeof(uint32_t));
    if (!list) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out_free;
    }
    count = 0;
    for (size_t v = 0; v < n; v++)
        if (failed_v[v])
            list[count++] = (uint32_t)v;
    n_alive -= count;
    rc = na_graph_without(g, failed_v, failed_e, &h, err);
    if (rc == NA_OK)
        rc = giant_of(h, n_alive, &giant, err);
    if (rc != NA_OK)
        goto out_free;
    rc = push_step(out, list, count, giant, err);
    list = NULL;
    if (rc != NA_OK)
        goto out_free;

    while (max_steps == 0 || out->n_steps <= max_steps) {
        rc = load_of(h, &load, err);
        if (rc != NA_OK)
            goto out_free;
        list = malloc((n + 1) * sizeof(uint32_t));
        if (!list) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out_free;
        }
        count = 0;
        for (size_t v = 0; v < n; v++) {
            if (!failed_v[v] &&
                VECTOR(load)[v] > capacity[v] * (1.0 + OVERLOAD_REL) + OVERLOAD_ABS)
                list[count++] = (uint32_t)v;
        }
        if (count == 0) {
            free(list);
            list = NULL;
            break;
        }
        /* Flagged only now: every overload of this step is judged on the same loads. */
        for (size_t i = 0; i < count; i++)
            failed_v[list[i]] = true;
        n_alive -= count;
        na_graph_free(h);
        h = NULL;
        rc = na_graph_without(g, failed_v, failed_e, &h, err);
        if (rc == NA_OK)
            rc = giant_of(h, n_alive, &giant, err);
        if (rc != NA_OK)
            goto out_free;
        rc = push_step(out, list, count, giant, err);
        list = NULL;
        if (rc != NA_OK)
            goto out_free;
    }
    out->giant_after = out->steps[out->n_steps - 1].giant;
    out->giant_fraction = n > 0 ? (double)out->giant_after / (double)n : 0.0;
    rc = NA_OK;

out_free:
    if (rc != NA_OK)
        na_cascade_result_free(out);
    if (load_ready)
        igraph_vector_destroy(&load);
    na_graph_free(h);
    free(list);
    free(failed_v);
    free(failed_e);
    free(capacity);
    return rc;
}
