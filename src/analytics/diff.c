/*
 * diff.c: field-by-field differences between two topology snapshots. Every value is rendered
 * to text first and compared as text, so "absent" (NULL, NAN, asn 0, unknown status) is one
 * value ("") whatever its type, and what the caller prints is exactly what was compared.
 */
#include "netassure/diff.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Changes gathered for one node or link before we know whether it changed at all. */
typedef struct change_list {
    na_diff_change *v;
    size_t n, cap;
} change_list;

static void changes_free(na_diff_change *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)v[i].field);
        free(v[i].before);
        free(v[i].after);
    }
    free(v);
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* Shortest of %.15g / %.17g that reads back as the same double, so 0.1 prints as "0.1". */
static char *render_double(double d)
{
    char buf[64];

    if (isnan(d))
        return strdup("");
    snprintf(buf, sizeof(buf), "%.15g", d);
    if (strtod(buf, NULL) != d)
        snprintf(buf, sizeof(buf), "%.17g", d);
    return strdup(buf);
}

static char *render_int(int64_t i)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%" PRId64, i);
    return strdup(buf);
}

static char *render_asn(int64_t asn)
{
    return asn == 0 ? strdup("") : render_int(asn);
}

static char *render_status(na_status s)
{
    return strdup(s == NA_STATUS_UNKNOWN ? "" : na_status_name(s));
}

static char *render_value(const na_value *v)
{
    if (!v)
        return strdup("");
    switch (v->type) {
    case NA_VAL_BOOL:
        return strdup(v->u.b ? "true" : "false");
    case NA_VAL_INT:
        return render_int(v->u.i);
    case NA_VAL_DOUBLE:
        return render_double(v->u.d);
    case NA_VAL_STRING:
        return dup_or_empty(v->u.s);
    case NA_VAL_NULL:
    default:
        return strdup("");
    }
}

/*
 * Records field: before -> after when the texts differ. Takes ownership of before and after
 * (NULL means the rendering ran out of memory). field is copied.
 */
static int compare(change_list *cl, const char *field, char *before, char *after, na_error *err)
{
    na_diff_change *grown;
    char *f = NULL;

    if (!before || !after)
        goto out_nomem;
    if (strcmp(before, after) == 0) {
        free(before);
        free(after);
        return NA_OK;
    }
    f = strdup(field);
    if (!f)
        goto out_nomem;
    if (cl->n == cl->cap) {
        size_t cap = cl->cap ? 2 * cl->cap : 8;
        grown = realloc(cl->v, cap * sizeof(*grown));
        if (!grown)
            goto out_nomem;
        cl->v = grown;
        cl->cap = cap;
    }
    cl->v[cl->n].field = f;
    cl->v[cl->n].before = before;
    cl->v[cl->n].after = after;
    cl->n++;
    return NA_OK;

out_nomem:
    free(f);
    free(before);
    free(after);
    return na_error_set(err, NA_ENOMEM, "out of memory");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One change per free-attribute key of either side, in key order. */
static int compare_attrs(change_list *cl, const na_attr *a, size_t na, const na_attr *b,
                         size_t nb, na_error *err)
{
    const char **keys;
    size_t k = 0;
    int rc = NA_OK;

    if (na + nb == 0)
        return NA_OK;
    keys = malloc((na + nb) * sizeof(*keys));
    if (!keys)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    for (size_t i = 0; i < na; i++)
        keys[k++] = a[i].key;
    for (size_t i = 0; i < nb; i++)
        keys[k++] = b[i].key;
    qsort(keys, k, sizeof(*keys), cmp_str);
    for (size_t i = 0; i < k && rc == NA_OK; i++) {
        const na_value *va = NULL, *vb = NULL;
        char field[512];
        if (i > 0 && strcmp(keys[i - 1], keys[i]) == 0)
            continue;
        for (size_t j = 0; j < na && !va; j++)
            if (strcmp(a[j].key, keys[i]) == 0)
                va = &a[j].value;
        for (size_t j = 0; j < nb && !vb; j++)
            if (strcmp(b[j].key, keys[i]) == 0)
                vb = &b[j].value;
        /* Keys longer than the buffer are truncated in the field name only. */
        snprintf(field, sizeof(field), "attributes.%s", keys[i]);
        rc = compare(cl, field, render_value(va), render_value(vb), err);
    }
    free(keys);
    return rc;
}

/* The fields nodes and links share and compare last: capacity, status, free attributes. */
static int compare_shared(change_list *cl, double cap_a, double cap_b, na_status st_a,
                          na_status st_b, const na_attr *at_a, size_t n_a, const na_attr *at_b,
                          size_t n_b, na_error *err)
{
    int rc = compare(cl, "capacity", render_double(cap_a), render_double(cap_b), err);

    if (rc == NA_OK)
        rc = compare(cl, "status", render_status(st_a), render_status(st_b), err);
    if (rc == NA_OK)
        rc = compare_attrs(cl, at_a, n_a, at_b, n_b, err);
    return rc;
}

static int compare_nodes(change_list *cl, const na_node *a, const na_node *b, na_error *err)
{
    int rc = compare(cl, "label", dup_or_empty(a->label), dup_or_empty(b->label), err);

    if (rc == NA_OK)
        rc = compare(cl, "role", dup_or_empty(a->role), dup_or_empty(b->role), err);
    if (rc == NA_OK)
        rc = compare(cl, "asn", render_asn(a->asn), render_asn(b->asn), err);
    if (rc == NA_OK)
        rc = compare(cl, "site", dup_or_empty(a->site), dup_or_empty(b->site), err);
    if (rc == NA_OK)
        rc = compare(cl, "latitude", render_double(a->latitude), render_double(b->latitude), err);
    if (rc == NA_OK)
        rc = compare(cl, "longitude", render_double(a->longitude), render_double(b->longitude),
                     err);
    if (rc == NA_OK)
        rc = compare_shared(cl, a->capacity, b->capacity, a->status, b->status, a->attrs,
                            a->n_attrs, b->attrs, b->n_attrs, err);
    return rc;
}

static bool same_endpoints(const na_link *a, const na_link *b)
{
    return (strcmp(a->source, b->source) == 0 && strcmp(a->target, b->target) == 0) ||
           (strcmp(a->source, b->target) == 0 && strcmp(a->target, b->source) == 0);
}

static int compare_links(change_list *cl, const na_link *a, const na_link *b, na_error *err)
{
    int rc = compare(cl, "id", dup_or_empty(a->id), dup_or_empty(b->id), err);

    /* Links are undirected: a reversed link is the same link. */
    if (rc == NA_OK && !same_endpoints(a, b)) {
        rc = compare(cl, "source", dup_or_empty(a->source), dup_or_empty(b->source), err);
        if (rc == NA_OK)
            rc = compare(cl, "target", dup_or_empty(a->target), dup_or_empty(b->target), err);
    }
    if (rc == NA_OK)
        rc = compare(cl, "label", dup_or_empty(a->label), dup_or_empty(b->label), err);
    if (rc == NA_OK)
        rc = compare_shared(cl, a->capacity, b->capacity, a->status, b->status, a->attrs,
                            a->n_attrs, b->attrs, b->n_attrs, err);
    return rc;
}

/* Appends an item (id copied); takes over cl's changes, even on failure. */
static int push_item(na_diff_result *r, size_t *cap, na_diff_kind kind, bool is_link,
                     const char *id, change_list *cl, na_error *err)
{
    char *copy = strdup(id);

    if (!copy)
        goto out_nomem;
    if (r->count == *cap) {
        size_t grown_cap = *cap ? 2 * *cap : 16;
        na_diff_item *grown = realloc(r->items, grown_cap * sizeof(*grown));
        if (!grown)
            goto out_nomem;
        r->items = grown;
        *cap = grown_cap;
    }
    r->items[r->count].kind = kind;
    r->items[r->count].is_link = is_link;
    r->items[r->count].id = copy;
    r->items[r->count].changes = cl ? cl->v : NULL;
    r->items[r->count].n_changes = cl ? cl->n : 0;
    r->count++;
    if (cl)
        memset(cl, 0, sizeof(*cl));
    return NA_OK;

out_nomem:
    free(copy);
    if (cl) {
        changes_free(cl->v, cl->n);
        memset(cl, 0, sizeof(*cl));
    }
    return na_error_set(err, NA_ENOMEM, "out of memory");
}

/* A link not matched by id, keyed by its unordered endpoints. */
typedef struct loose_link {
    const char *lo, *hi;
    size_t index;
} loose_link;

static int cmp_loose(const void *pa, const void *pb)
{
    const loose_link *a = pa, *b = pb;
    int c = strcmp(a->lo, b->lo);

    if (c == 0)
        c = strcmp(a->hi, b->hi);
    if (c == 0)
        c = a->index < b->index ? -1 : a->index > b->index;
    return c;
}

static int cmp_key(const loose_link *a, const loose_link *b)
{
    int c = strcmp(a->lo, b->lo);

    return c ? c : strcmp(a->hi, b->hi);
}

/* The links of t whose ids are absent from other, sorted by (endpoints, index). */
static int loose_links(const na_topology *t, const na_topology *other, loose_link **out,
                       size_t *count, na_error *err)
{
    size_t nl = na_topology_link_count(t), k = 0, unused;
    loose_link *v = malloc((nl + 1) * sizeof(*v));

    *out = NULL;
    *count = 0;
    if (!v)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    for (size_t i = 0; i < nl; i++) {
        const na_link *l = na_topology_link(t, i);
        bool ordered = strcmp(l->source, l->target) <= 0;
        if (na_topology_find_link(other, l->id, &unused) == NA_OK)
            continue;
        v[k].lo = ordered ? l->source : l->target;
        v[k].hi = ordered ? l->target : l->source;
        v[k].index = i;
        k++;
    }
    qsort(v, k, sizeof(*v), cmp_loose);
    *out = v;
    *count = k;
    return NA_OK;
}

static int cmp_item(const void *pa, const void *pb)
{
    const na_diff_item *a = pa, *b = pb;

    if (a->is_link != b->is_link)
        return a->is_link ? 1 : -1;
    return strcmp(a->id, b->id);
}

void na_diff_result_free(na_diff_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free((char *)r->items[i].id);
        changes_free(r->items[i].changes, r->items[i].n_changes);
    }
    free(r->items);
    memset(r, 0, sizeof(*r));
}

int na_diff_topologies(const na_topology *a, const na_topology *b, na_diff_result *out,
                       na_error *err)
{
    size_t cap = 0, index, n_la = 0, n_lb = 0, i, j;
    loose_link *la = NULL, *lb = NULL;
    change_list cl = {0};
    int rc = NA_OK;

    memset(out, 0, sizeof(*out));
    if (!a || !b)
        return na_error_set(err, NA_EINVAL, "diff needs two topologies");

    for (i = 0; i < na_topology_node_count(a) && rc == NA_OK; i++) {
        const na_node *x = na_topology_node(a, i);
        if (na_topology_find_node(b, x->id, &index) != NA_OK) {
            rc = push_item(out, &cap, NA_DIFF_REMOVED, false, x->id, NULL, err);
            out->nodes_removed++;
            continue;
        }
        rc = compare_nodes(&cl, x, na_topology_node(b, index), err);
        if (rc == NA_OK && cl.n > 0) {
            rc = push_item(out, &cap, NA_DIFF_CHANGED, false, x->id, &cl, err);
            out->nodes_changed++;
        }
    }
    for (i = 0; i < na_topology_node_count(b) && rc == NA_OK; i++) {
        const na_node *y = na_topology_node(b, i);
        if (na_topology_find_node(a, y->id, &index) == NA_OK)
            continue;
        rc = push_item(out, &cap, NA_DIFF_ADDED, false, y->id, NULL, err);
        out->nodes_added++;
    }

    for (i = 0; i < na_topology_link_count(a) && rc == NA_OK; i++) {
        const na_link *x = na_topology_link(a, i);
        if (na_topology_find_link(b, x->id, &index) != NA_OK)
            continue;
        rc = compare_links(&cl, x, na_topology_link(b, index), err);
        if (rc == NA_OK && cl.n > 0) {
            rc = push_item(out, &cap, NA_DIFF_CHANGED, true, x->id, &cl, err);
            out->links_changed++;
        }
    }
    if (rc == NA_OK)
        rc = loose_links(a, b, &la, &n_la, err);
    if (rc == NA_OK)
        rc = loose_links(b, a, &lb, &n_lb, err);
    /* Merge the two sorted lists: equal endpoint keys pair up in index order. */
    i = j = 0;
    while (rc == NA_OK && (i < n_la || j < n_lb)) {
        int c = i == n_la ? 1 : j == n_lb ? -1 : cmp_key(&la[i], &lb[j]);
        if (c < 0) {
            rc = push_item(out, &cap, NA_DIFF_REMOVED, true, na_topology_link(a, la[i].index)->id,
                           NULL, err);
            out->links_removed++;
            i++;
        } else if (c > 0) {
            rc = push_item(out, &cap, NA_DIFF_ADDED, true, na_topology_link(b, lb[j].index)->id,
                           NULL, err);
            out->links_added++;
            j++;
        } else {
            const na_link *y = na_topology_link(b, lb[j].index);
            rc = compare_links(&cl, na_topology_link(a, la[i].index), y, err);
            if (rc == NA_OK) {
                rc = push_item(out, &cap, NA_DIFF_CHANGED, true, y->id, &cl, err);
                out->links_changed++;
            }
            i++;
            j++;
        }
    }
    if (rc == NA_OK && out->count > 1)
        qsort(out->items, out->count, sizeof(*out->items), cmp_item);

    changes_free(cl.v, cl.n);
    free(la);
    free(lb);
    if (rc != NA_OK)
        na_diff_result_free(out);
    return rc;
}
