/*
 * clusters.c: clusters (connected components and communities) and their shape type, after the
 * prose of seed 004 (docs/cluster-types.md): snake, circle, hub-and-spoke, else mesh.
 *
 * Classification needs no memory of its own when the members are sorted: a shape that could be
 * a snake or a circle has maximum degree 2, so its connectedness is checked by walking along
 * it, which needs no visited set.
 */
#include "netassure/clusters.h"

#include <stdlib.h>
#include <string.h>

#include "analytics/graph_internal.h"

const char *na_cluster_type_name(na_cluster_type t)
{
    switch (t) {
    case NA_CLUSTER_SNAKE:
        return "snake";
    case NA_CLUSTER_CIRCLE:
        return "circle";
    case NA_CLUSTER_HUB_AND_SPOKE:
        return "hub-and-spoke";
    case NA_CLUSTER_MESH:
        return "mesh";
    }
    return "unknown";
}

/* Whether v is in the sorted set. O(log k). */
static bool in_set(const uint32_t *set, size_t k, uint32_t v)
{
    size_t lo = 0, hi = k;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < k && set[lo] == v;
}

static size_t inner_degree(const na_graph *g, const uint32_t *set, size_t k, uint32_t v)
{
    size_t d = 0;

    for (uint32_t i = g->offsets[v]; i < g->offsets[v + 1]; i++)
        d += in_set(set, k, g->adj[i]);
    return d;
}

/* The first member neighbour of v other than `skip` (UINT32_MAX if none). */
static uint32_t next_on_chain(const na_graph *g, const uint32_t *set, size_t k, uint32_t v,
                              uint32_t skip)
{
    for (uint32_t i = g->offsets[v]; i < g->offsets[v + 1]; i++) {
        uint32_t w = g->adj[i];
        if (w != skip && in_set(set, k, w))
            return w;
    }
    return UINT32_MAX;
}

/*
 * Vertices reached by walking from `start` along a subgraph of maximum degree 2, stopping at
 * a dead end or back at start. A chain or a cycle is connected iff this reaches all k.
 */
static size_t walk_length(const na_graph *g, const uint32_t *set, size_t k, uint32_t start)
{
    uint32_t prev = UINT32_MAX, cur = start;
    size_t count = 1;

    while (count <= k) {
        uint32_t next = next_on_chain(g, set, k, cur, prev);
        if (next == UINT32_MAX || next == start)
            break;
        prev = cur;
        cur = next;
        count++;
    }
    return count;
}

/*
 * Type and internal link count of the subgraph induced by set (k sorted, distinct, in-range
 * vertices). O(sum of member degrees * log k).
 */
static na_cluster_type shape_of(const na_graph *g, const uint32_t *set, size_t k,
                                size_t *links)
{
    size_t deg_sum = 0, max_deg = 0, min_deg = SIZE_MAX, full = 0;
    uint32_t end = UINT32_MAX;

    *links = 0;
    if (k == 0)
        return NA_CLUSTER_MESH;   /* no members, no shape */
    for (size_t i = 0; i < k; i++) {
        size_t d = inner_degree(g, set, k, set[i]);
        deg_sum += d;
        if (d > max_deg)
            max_deg = d;
        if (d < min_deg)
            min_deg = d;
        if (d == k - 1)
            full++;
        if (d <= 1 && end == UINT32_MAX)
            end = set[i];
    }
    *links = deg_sum / 2;
    /* Snake: a chain. With max degree 2 and k - 1 links some vertex has degree <= 1. */
    if (max_deg <= 2 && *links == k - 1 && end != UINT32_MAX && walk_length(g, set, k, end) == k)
        return NA_CLUSTER_SNAKE;
    if (min_deg == 2 && max_deg == 2 && walk_length(g, set, k, set[0]) == k)
        return NA_CLUSTER_CIRCLE;
    if (full == 1)
        return NA_CLUSTER_HUB_AND_SPOKE;
    return NA_CLUSTER_MESH;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * Sorted members are used in place; others are copied, sorted and cleaned (which is the only
 * allocation). If that allocation fails we log it and answer mesh, the type that claims no
 * shape.
 */
na_cluster_type na_cluster_type_classify(const na_graph *g, const uint32_t *members,
                                         size_t n_members)
{
    uint32_t *copy;
    size_t k = 0, links;
    bool clean = true;
    na_cluster_type t;

    for (size_t i = 0; i < n_members && clean; i++)
        clean = members[i] < g->n && (i == 0 || members[i - 1] < members[i]);
    if (clean)
        return shape_of(g, members, n_members, &links);
    copy = malloc(n_members * sizeof(*copy));
    if (!copy) {
        na_log(NA_LOG_ERROR, "out of memory classifying a cluster of %zu members", n_members);
        return NA_CLUSTER_MESH;
    }
    for (size_t i = 0; i < n_members; i++)
        if (members[i] < g->n)
            copy[k++] = members[i];
    qsort(copy, k, sizeof(*copy), cmp_u32);
    if (k > 0) {
        size_t w = 1;
        for (size_t i = 1; i < k; i++)
            if (copy[i] != copy[w - 1])
                copy[w++] = copy[i];
        k = w;
    }
    t = shape_of(g, copy, k, &links);
    free(copy);
    return t;
}

void na_cluster_list_free(na_cluster_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].members);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/*
 * Appends `count` clusters of `kind` from a labelling of every vertex (labels < count) to l,
 * members ascending.
 */
static int add_clusters(const na_graph *g, na_cluster_kind kind, const uint32_t *label,
                        size_t count, na_cluster_list *l, na_error *err)
{
    size_t n = g->n, base = l->count;
    size_t *sizes = calloc(count + 1, sizeof(*sizes));

    if (!sizes)
        return na_error_set(err, NA_ENOMEM, "out of memory listing clusters");
    for (size_t v = 0; v < n; v++) {
        if (label[v] >= count) {
            free(sizes);
            return na_error_set(err, NA_EINVAL, "vertex %zu has cluster %u of %zu", v,
                                (unsigned)label[v], count);
        }
        sizes[label[v]]++;
    }
    for (size_t c = 0; c < count; c++) {
        na_cluster *cl = &l->items[base + c];
        memset(cl, 0, sizeof(*cl));
        cl->kind = kind;
        cl->index = c;
        cl->members = malloc((sizes[c] + 1) * sizeof(*cl->members));
        l->count++;
        if (!cl->members) {
            free(sizes);
            return na_error_set(err, NA_ENOMEM, "out of memory listing clusters");
        }
    }
    for (size_t v = 0; v < n; v++) {
        na_cluster *cl = &l->items[base + label[v]];
        cl->members[cl->n_members++] = (uint32_t)v;
    }
    for (size_t c = 0; c < count; c++) {
        na_cluster *cl = &l->items[base + c];
        cl->type = shape_of(g, cl->members, cl->n_members, &cl->internal_links);
    }
    free(sizes);
    return NA_OK;
}

/* The caller owns *out (na_cluster_list_free). O((n + m) log n). */
int na_clusters_compute(const na_graph *g, const na_structure *s, const na_communities *communities,
                        na_cluster_list *out, na_error *err)
{
    size_t total;
    int rc;

    memset(out, 0, sizeof(*out));
    if (s->n != g->n)
        return na_error_set(err, NA_EINVAL, "structure is for %zu vertices, graph has %zu",
                            s->n, g->n);
    if (communities && communities->n != g->n)
        return na_error_set(err, NA_EINVAL, "communities are for %zu vertices, graph has %zu",
                            communities->n, g->n);
    total = s->n_components + (communities ? communities->count : 0);
    out->items = calloc(total + 1, sizeof(*out->items));
    if (!out->items)
        return na_error_set(err, NA_ENOMEM, "out of memory listing clusters");
    rc = add_clusters(g, NA_CLUSTER_COMPONENT, s->component, s->n_components, out, err);
    if (rc == NA_OK && communities)
        rc = add_clusters(g, NA_CLUSTER_COMMUNITY, communities->membership, communities->count,
                          out, err);
    if (rc)
        na_cluster_list_free(out);
    return rc;
}
