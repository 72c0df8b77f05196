/*
 * graph.c: na_graph, the simple undirected graph analytics run on, and the igraph glue
 * (error handler, RNG seeding).
 */
#include "analytics/graph_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char igraph_reason[256];
static pthread_once_t igraph_once = PTHREAD_ONCE_INIT;

/*
 * igraph calls this instead of aborting. Like igraph_error_handler_ignore it must release what
 * the failed function registered with IGRAPH_FINALLY; we also remember the reason.
 */
static void on_igraph_error(const char *reason, const char *file, int line, igraph_error_t err)
{
    snprintf(igraph_reason, sizeof(igraph_reason), "%s (%s:%d, %s)", reason ? reason : "",
             file ? file : "?", line, igraph_strerror(err));
    na_log(NA_LOG_DEBUG, "igraph error: %s", igraph_reason);
    IGRAPH_FINALLY_FREE();
}

static void on_igraph_warning(const char *reason, const char *file, int line)
{
    (void)file;
    (void)line;
    na_log(NA_LOG_DEBUG, "igraph warning: %s", reason ? reason : "");
}

static void igraph_setup_once(void)
{
    igraph_set_error_handler(on_igraph_error);
    igraph_set_warning_handler(on_igraph_warning);
}

void na__igraph_setup(void)
{
    pthread_once(&igraph_once, igraph_setup_once);
}

int na__igraph_fail(igraph_error_t code, const char *what, na_error *err)
{
    int rc = code == IGRAPH_ENOMEM ? NA_ENOMEM : NA_EGRAPH;

    return na_error_set(err, rc, "%s failed: %s", what,
                        igraph_reason[0] ? igraph_reason : igraph_strerror(code));
}

void na__igraph_seed(uint64_t seed)
{
    na__igraph_setup();
    igraph_rng_seed(igraph_rng_default(), (igraph_uint_t)seed);
}

static int cmp_pair(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;

    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    if (x[1] != y[1])
        return x[1] < y[1] ? -1 : 1;
    return 0;
}

/*
 * Builds the graph from `pairs` (2 * m_in entries; may be reordered): drops loops, sorts,
 * removes duplicates, fills CSR and igraph. Takes ownership of pairs.
 */
static int graph_build(size_t n, uint32_t *pairs, size_t m_in, na_graph **out, na_error *err)
{
    na_graph *g;
    size_t m = 0;
    igraph_vector_int_t ev;
    igraph_error_t ie;
    uint32_t *fill = NULL;

    na__igraph_setup();
    *out = NULL;
    if (n > UINT32_MAX - 1) {
        free(pairs);
        return na_error_set(err, NA_ETOOBIG, "graph has too many vertices (%zu)", n);
    }
    g = calloc(1, sizeof(*g));
    if (!g) {
        free(pairs);
        return na_error_set(err, NA_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < m_in; k++) {
        uint32_t u = pairs[2 * k], v = pairs[2 * k + 1];
        if (u == v)
            continue;
        pairs[2 * m] = u < v ? u : v;
        pairs[2 * m + 1] = u < v ? v : u;
        m++;
    }
    qsort(pairs, m, 2 * sizeof(uint32_t), cmp_pair);
    size_t w = 0;
    for (size_t k = 0; k < m; k++) {
        if (w > 0 && pairs[2 * (w - 1)] == pairs[2 * k] && pairs[2 * (w - 1) + 1] == pairs[2 * k + 1])
            continue;
        pairs[2 * w] = pairs[2 * k];
        pairs[2 * w + 1] = pairs[2 * k + 1];
        w++;
    }
    m = w;
    g->n = n;
    g->m = m;
    g->edges = pairs;
    g->offsets = calloc(n + 1, sizeof(uint32_t));
    g->adj = malloc((2 * m + 1) * sizeof(uint32_t));
    fill = malloc((n + 1) * sizeof(uint32_t));
    if (!g->offsets || !g->adj || !fill)
        goto out_nomem;
    for (size_t k = 0; k < m; k++) {
        g->offsets[pairs[2 * k] + 1]++;
        g->offsets[pairs[2 * k + 1] + 1]++;
    }
    for (size_t v = 0; v < n; v++)
        g->offsets[v + 1] += g->offsets[v];
    memcpy(fill, g->offsets, (n + 1) * sizeof(uint32_t));
    /* Edges are sorted by (u, v), so each list fills in ascending order for the "v" side; the
     * "u" side also ascends because for fixed v the u's come in ascending order. */
    for (size_t k = 0; k < m; k++) {
        uint32_t u = pairs[2 * k], v = pairs[2 * k + 1];
        g->adj[fill[u]++] = v;
        g->adj[fill[v]++] = u;
    }
    for (size_t v = 0; v < n; v++) {
        /* Lists mix both sides; sort each (already nearly sorted). */
        uint32_t *a = g->adj + g->offsets[v];
        size_t len = g->offsets[v + 1] - g->offsets[v];
        for (size_t i = 1; i < len; i++) {
            uint32_t x = a[i];
            size_t j = i;
            while (j > 0 && a[j - 1] > x) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
    }
    free(fill);
    fill = NULL;

    ie = igraph_vector_int_init(&ev, (igraph_integer_t)(2 * m));
    if (ie != IGRAPH_SUCCESS)
        goto out_nomem;
    for (size_t k = 0; k < 2 * m; k++)
        VECTOR(ev)[k] = pairs[k];
    ie = igraph_create(&g->ig, &ev, (igraph_integer_t)n, IGRAPH_UNDIRECTED);
    igraph_vector_int_destroy(&ev);
    if (ie != IGRAPH_SUCCESS) {
        int rc = na__igraph_fail(ie, "building the graph", err);
        free(g->offsets);
        free(g->adj);
        free(g->edges);
        free(g);
        return rc;
    }
    *out = g;
    return NA_OK;

out_nomem:
    free(fill);
    free(g->offsets);
    free(g->adj);
    free(g->edges);
    free(g);
    return na_error_set(err, NA_ENOMEM, "out of memory building the graph");
}

int na_graph_from_edges(size_t n, const uint32_t *edges, size_t m, na_graph **out,
                        na_error *err)
{
    uint32_t *pairs = malloc((2 * m + 1) * sizeof(uint32_t));

    *out = NULL;
    if (!pairs)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    for (size_t k = 0; k < 2 * m; k++) {
        if (edges[k] >= n) {
            free(pairs);
            return na_error_set(err, NA_EINVAL, "edge endpoint %u out of range (n = %zu)",
                                (unsigned)edges[k], n);
        }
        pairs[k] = edges[k];
    }
    return graph_build(n, pairs, m, out, err);
}

int na_graph_from_topology(const na_topology *topo, na_graph **out, na_error *err)
{
    size_t n = na_topology_node_count(topo), nl = na_topology_link_count(topo), m = 0;
    uint32_t *pairs = malloc((2 * nl + 1) * sizeof(uint32_t));
    int rc;

    *out = NULL;
    if (!pairs)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    for (size_t i = 0; i < nl; i++) {
        const na_link *l = na_topology_link(topo, i);
        if (l->status == NA_STATUS_DOWN ||
            na_topology_node(topo, l->source_index)->status == NA_STATUS_DOWN ||
            na_topology_node(topo, l->target_index)->status == NA_STATUS_DOWN)
            continue;
        pairs[2 * m] = (uint32_t)l->source_index;
        pairs[2 * m + 1] = (uint32_t)l->target_index;
        m++;
    }
    rc = graph_build(n, pairs, m, out, err);
    if (rc == NA_OK)
        (*out)->topo = na_topology_ref((na_topology *)topo);
    return rc;
}

int na_graph_without(const na_graph *g, const bool *drop_vertex, const bool *drop_edge,
                     na_graph **out, na_error *err)
{
    uint32_t *pairs = malloc((2 * g->m + 1) * sizeof(uint32_t));
    size_t m = 0;
    int rc;

    *out = NULL;
    if (!pairs)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    for (size_t e = 0; e < g->m; e++) {
        uint32_t u = g->edges[2 * e], v = g->edges[2 * e + 1];
        if ((drop_edge && drop_edge[e]) || (drop_vertex && (drop_vertex[u] || drop_vertex[v])))
            continue;
        pairs[2 * m] = u;
        pairs[2 * m + 1] = v;
        m++;
    }
    rc = graph_build(g->n, pairs, m, out, err);
    if (rc == NA_OK && g->topo)
        (*out)->topo = na_topology_ref(g->topo);
    return rc;
}

void na_graph_free(na_graph *g)
{
    if (!g)
        return;
    igraph_destroy(&g->ig);
    free(g->offsets);
    free(g->adj);
    free(g->edges);
    na_topology_unref(g->topo);
    free(g);
}

size_t na_graph_vertex_count(const na_graph *g) { return g->n; }
size_t na_graph_edge_count(const na_graph *g) { return g->m; }
const na_topology *na_graph_topology(const na_graph *g) { return g->topo; }
const uint32_t *na_graph_offsets(const na_graph *g) { return g->offsets; }
const uint32_t *na_graph_adjacency(const na_graph *g) { return g->adj; }

size_t na_graph_degree(const na_graph *g, uint32_t v)
{
    return g->offsets[v + 1] - g->offsets[v];
}

void na_graph_edge(const na_graph *g, size_t e, uint32_t *u, uint32_t *v)
{
    *u = g->edges[2 * e];
    *v = g->edges[2 * e + 1];
}

int na_graph_find_edge(const na_graph *g, uint32_t u, uint32_t v, size_t *e)
{
    size_t lo = 0, hi = g->m;
    uint32_t a = u < v ? u : v, b = u < v ? v : u;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t x = g->edges[2 * mid], y = g->edges[2 * mid + 1];
        if (x < a || (x == a && y < b))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < g->m && g->edges[2 * lo] == a && g->edges[2 * lo + 1] == b) {
        if (e)
            *e = lo;
        return NA_OK;
    }
    return NA_ENOTFOUND;
}

const char *na_graph_vertex_id(const na_graph *g, uint32_t v, char *buf, size_t len)
{
    if (g->topo && v < na_topology_node_count(g->topo))
        return na_topology_node(g->topo, v)->id;
    snprintf(buf, len, "%u", (unsigned)v);
    return buf;
}
