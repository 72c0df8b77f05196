/*
 * motifs.c: census of connected induced subgraphs on 3 and 4 vertices (igraph's RAND-ESU with
 * no sampling, so the counts are exact).
 *
 * igraph numbers the classes by its isoclass ids, which are not documented as stable names; we
 * build each class graph and name it by its sorted degree sequence, which tells the connected
 * classes of 3 and 4 vertices apart.
 */
#include "netassure/motifs.h"

#include <string.h>

#include "analytics/graph_internal.h"

typedef struct motif_shape {
    const char *name;
    int degrees[4];   /* sorted ascending; size 3 uses the first three */
} motif_shape;

/* In the order of na_motifs.size3 and na_motifs.size4. */
static const motif_shape shapes3[2] = {
    {"path", {1, 1, 2, 0}},
    {"triangle", {2, 2, 2, 0}},
};
static const motif_shape shapes4[6] = {
    {"star", {1, 1, 1, 3}},
    {"path", {1, 1, 2, 2}},
    {"paw", {1, 2, 2, 3}},
    {"cycle", {2, 2, 2, 2}},
    {"diamond", {2, 2, 3, 3}},
    {"clique", {3, 3, 3, 3}},
};

/*
 * Which entry of `shapes` isoclass `cls` of `size` vertices is: its slot, or -1 for a
 * disconnected class.
 */
static int classify_isoclass(int size, igraph_integer_t cls, const motif_shape *shapes,
                             int n_shapes, int *slot, na_error *err)
{
    igraph_t cg;
    igraph_vector_int_t deg;
    igraph_bool_t connected = false;
    igraph_error_t ie;
    int d[4] = {0, 0, 0, 0};
    int rc = NA_OK;

    *slot = -1;
    ie = igraph_isoclass_create(&cg, size, cls, IGRAPH_UNDIRECTED);
    if (ie != IGRAPH_SUCCESS)
        return na__igraph_fail(ie, "motif classes", err);
    ie = igraph_vector_int_init(&deg, 0);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "motif classes", err);
        goto out_graph;
    }
    ie = igraph_is_connected(&cg, &connected, IGRAPH_WEAK);
    if (ie == IGRAPH_SUCCESS)
        ie = igraph_degree(&cg, &deg, igraph_vss_all(), IGRAPH_ALL, IGRAPH_NO_LOOPS);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "motif classes", err);
        goto out_deg;
    }
    if (!connected)
        goto out_deg;
    for (int i = 0; i < size; i++) {
        int x = (int)VECTOR(deg)[i], j = i;
        while (j > 0 && d[j - 1] > x) {
            d[j] = d[j - 1];
            j--;
        }
        d[j] = x;
    }
    for (int s = 0; s < n_shapes; s++) {
        if (memcmp(d, shapes[s].degrees, (size_t)size * sizeof(int)) == 0) {
            *slot = s;
            break;
        }
    }
    if (*slot < 0)
        rc = na_error_set(err, NA_EGRAPH, "unexpected connected motif class %ld of size %d",
                          (long)cls, size);
out_deg:
    igraph_vector_int_destroy(&deg);
out_graph:
    igraph_destroy(&cg);
    return rc;
}

/* Counts one size into classes[n_shapes] (names from shapes). */
static int census(const na_graph *g, int size, const motif_shape *shapes, int n_shapes,
                  na_motif_class *classes, na_error *err)
{
    igraph_vector_t hist, cut_prob;
    igraph_error_t ie;
    int rc = NA_OK;

    for (int s = 0; s < n_shapes; s++) {
        classes[s].name = shapes[s].name;
        classes[s].count = 0.0;
    }
    if (g->n < (size_t)size)
        return NA_OK;
    ie = igraph_vector_init(&hist, 0);
    if (ie != IGRAPH_SUCCESS)
        return na__igraph_fail(ie, "motifs", err);
    /* All zeros: never cut the search tree. (igraph 0.10.2 asserts on NULL.) */
    ie = igraph_vector_init(&cut_prob, size);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "motifs", err);
        goto out_hist;
    }
    ie = igraph_motifs_randesu(&g->ig, &hist, size, &cut_prob);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "motifs", err);
        goto out_cut;
    }
    for (igraph_integer_t cls = 0; cls < igraph_vector_size(&hist); cls++) {
        int slot;
        rc = classify_isoclass(size, cls, shapes, n_shapes, &slot, err);
        if (rc)
            goto out_cut;
        if (slot >= 0)
            classes[slot].count = VECTOR(hist)[cls];
    }
out_cut:
    igraph_vector_destroy(&cut_prob);
out_hist:
    igraph_vector_destroy(&hist);
    return rc;
}

/*
 * Nothing to free: *out holds static names and counts. Time grows with the number of
 * connected 4-vertex subgraphs (O(n d^3) for maximum degree d).
 */
int na_motifs_census(const na_graph *g, na_motifs *out, na_error *err)
{
    int rc;

    na__igraph_setup();
    memset(out, 0, sizeof(*out));
    rc = census(g, 3, shapes3, 2, out->size3, err);
    if (rc == NA_OK)
        rc = census(g, 4, shapes4, 6, out->size4, err);
    return rc;
}
