/* delta.c: topology deltas and their all-or-nothing application to a snapshot. */
#include "netassure/topology.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/topology_internal.h"

struct na_delta {
    na__arena arena;
    na_delta_op *ops;
    size_t n_ops, cap_ops;
    uint64_t seq;
    int64_t timestamp_ms;
};


na_delta *na_delta_new(void)
{
    na_delta *d = calloc(1, sizeof(*d));

    if (d)
        na__arena_init(&d->arena);
    return d;
}

void na_delta_free(na_delta *d)
{
    if (!d)
        return;
    free(d->ops);
    na__arena_free(&d->arena);
    free(d);
}

static int copy_attrs(na__arena *a, const na_attr *src, size_t n, const na_attr **out)
{
    na_attr *dst;

    *out = NULL;
    if (!n)
        return NA_OK;
    dst = na__arena_alloc(a, n * sizeof(*dst));
    if (!dst)
        return NA_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        dst[i] = src[i];
        dst[i].key = na__arena_strdup(a, src[i].key);
        if (src[i].key && !dst[i].key)
            return NA_ENOMEM;
        if (src[i].value.type == NA_VAL_STRING) {
            dst[i].value.u.s = na__arena_strdup(a, src[i].value.u.s ? src[i].value.u.s : "");
            if (!dst[i].value.u.s)
                return NA_ENOMEM;
        }
    }
    *out = dst;
    return NA_OK;
}

#define DUP(field)                                                           \
    do {                                                                     \
        if (op->field && !(dst->field = na__arena_strdup(&d->arena, op->field))) \
            return NA_ENOMEM;                                                \
    } while (0)

int na_delta_append(na_delta *d, const na_delta_op *op)
{
    na_delta_op *dst;

    if (d->n_ops == d->cap_ops) {
        size_t ncap = d->cap_ops ? d->cap_ops * 2 : 16;
        na_delta_op *nops = realloc(d->ops, ncap * sizeof(*nops));
        if (!nops)
            return NA_ENOMEM;
        d->ops = nops;
        d->cap_ops = ncap;
    }
    dst = &d->ops[d->n_ops];
    *dst = *op;
    DUP(node.id);
    DUP(node.label);
    DUP(node.role);
    DUP(node.site);
    DUP(link.id);
    DUP(link.source);
    DUP(link.target);
    DUP(link.label);
    if (copy_attrs(&d->arena, op->node.attrs, op->node.n_attrs, &dst->node.attrs) ||
        copy_attrs(&d->arena, op->link.attrs, op->link.n_attrs, &dst->link.attrs))
        return NA_ENOMEM;
    d->n_ops++;
    return NA_OK;
}
#undef DUP

size_t na_delta_count(const na_delta *d) { return d->n_ops; }
const na_delta_op *na_delta_get(const na_delta *d, size_t i) { return i < d->n_ops ? &d->ops[i] : NULL; }
void na_delta_set_seq(na_delta *d, uint64_t seq) { d->seq = seq; }
uint64_t na_delta_seq(const na_delta *d) { return d->seq; }
void na_delta_set_timestamp_ms(na_delta *d, int64_t ms) { d->timestamp_ms = ms; }
int64_t na_delta_timestamp_ms(const na_delta *d) { return d->timestamp_ms; }

const char *na__delta_op_link_id(const na_builder *b, const na_delta_op *op)
{
    const na_link *l;

    if (op->link.id && op->link.id[0])
        return op->link.id;
    l = na__builder_link_between(b, op->link.source, op->link.target);
    return l ? l->id : NULL;
}

int na__delta_apply_op(na_builder *b, const na_delta_op *op, na_error *err)
{
    switch (op->kind) {
    case NA_DELTA_NODE_ADD:
        return na_builder_add_node(b, &op->node, err);
    case NA_DELTA_NODE_REMOVE:
        return na_builder_remove_node(b, op->node.id, err);
    case NA_DELTA_NODE_UPDATE:
        return na_builder_update_node(b, &op->node, op->fields, err);
    case NA_DELTA_LINK_ADD:
        return na_builder_add_link(b, &op->link, NULL, err);
    case NA_DELTA_LINK_REMOVE:
    case NA_DELTA_LINK_UPDATE: {
        const char *id = op->link.id;
        if (!id || !id[0]) {
            const na_link *l = na__builder_link_between(b, op->link.source, op->link.target);
            if (!l)
                return na_error_set(err, NA_ENOTFOUND, "no link between '%s' and '%s'",
                                    op->link.source ? op->link.source : "(null)",
                                    op->link.target ? op->link.target : "(null)");
            id = l->id;
        }
        if (op->kind == NA_DELTA_LINK_REMOVE)
            return na_builder_remove_link(b, id, err);
        na_link tmpl = op->link;
        tmpl.id = id;
        return na_builder_update_link(b, &tmpl, op->fields, err);
    }
    }
    return na_error_set(err, NA_EINVAL, "unknown delta operation %d", (int)op->kind);
}

int na_topology_apply_delta(const na_topology *base, const na_delta *d, na_topology **out,
                            na_error *err)
{
    na_builder *b;
    int rc;

    *out = NULL;
    b = na_builder_from(base);
    if (!b)
        return na_error_set(err, NA_ENOMEM, "out of memory copying the snapshot");
    for (size_t i = 0; i < d->n_ops; i++) {
        rc = na__delta_apply_op(b, &d->ops[i], err);
        if (rc) {
            if (err) {
                char msg[sizeof(err->message)];
                memcpy(msg, err->message, sizeof(msg));
                na_error_set(err, rc, "delta op %zu: %.400s", i, msg);
            }
            na_builder_free(b);
            return rc;
        }
    }
    if (d->timestamp_ms)
        na_builder_set_timestamp_ms(b, d->timestamp_ms);
    return na_builder_finish(b, out, err);
}
