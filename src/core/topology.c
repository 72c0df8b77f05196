/*
 * topology.c: immutable, reference-counted snapshots and the builder that makes them.
 *
 * The builder owns an arena for every string it copies; finishing moves that arena into the
 * snapshot, so a snapshot is one allocation plus its arena blocks and frees in one go.
 */
#include "netassure/topology.h"
#include "core/topology_internal.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/idmap.h"

struct na_topology {
    atomic_long refs;
    uint64_t version;
    int64_t timestamp_ms;
    const char *name;
    na_node *nodes;
    size_t n_nodes;
    na_link *links;
    size_t n_links;
    na__idmap node_ids;
    na__idmap link_ids;
    na__arena arena;
};

struct na_builder {
    na__arena arena;
    na_node *nodes;
    bool *node_dead;
    size_t n_nodes, cap_nodes, live_nodes;
    na_link *links;
    bool *link_dead;
    size_t n_links, cap_links, live_links;
    na__idmap node_ids;
    na__idmap link_ids;
    na__idmap synth_next;  /* "S--T" -> next "#k" to try, so k parallel links cost O(k) */
    const char *name;
    uint64_t version;
    int64_t timestamp_ms;
};

/* ---- small pieces -------------------------------------------------------------------- */

const char *na_status_name(na_status status)
{
    switch (status) {
    case NA_STATUS_UP: return "up";
    case NA_STATUS_DOWN: return "down";
    default: return "unknown";
    }
}

int na_status_parse(const char *name, na_status *out)
{
    if (strcasecmp(name, "up") == 0)
        *out = NA_STATUS_UP;
    else if (strcasecmp(name, "down") == 0)
        *out = NA_STATUS_DOWN;
    else if (strcasecmp(name, "unknown") == 0)
        *out = NA_STATUS_UNKNOWN;
    else
        return NA_EINVAL;
    return NA_OK;
}

void na_node_init(na_node *node)
{
    memset(node, 0, sizeof(*node));
    node->latitude = NAN;
    node->longitude = NAN;
    node->capacity = NAN;
}

void na_link_init(na_link *link)
{
    memset(link, 0, sizeof(*link));
    link->capacity = NAN;
}

static const na_value *attr_find(const na_attr *attrs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(attrs[i].key, key) == 0)
            return &attrs[i].value;
    }
    return NULL;
}

const na_value *na_node_attr(const na_node *node, const char *key)
{
    return attr_find(node->attrs, node->n_attrs, key);
}

const na_value *na_link_attr(const na_link *link, const char *key)
{
    return attr_find(link->attrs, link->n_attrs, key);
}

/* ---- snapshots ----------------------------------------------------------------------- */

na_topology *na_topology_ref(na_topology *topo)
{
    if (topo)
        atomic_fetch_add(&topo->refs, 1);
    return topo;
}

void na_topology_unref(na_topology *topo)
{
    if (!topo || atomic_fetch_sub(&topo->refs, 1) != 1)
        return;
    na__idmap_free(&topo->node_ids);
    na__idmap_free(&topo->link_ids);
    na__arena_free(&topo->arena);
    free(topo);
}

uint64_t na_topology_version(const na_topology *topo) { return topo->version; }
int64_t na_topology_timestamp_ms(const na_topology *topo) { return topo->timestamp_ms; }
const char *na_topology_name(const na_topology *topo) { return topo->name; }
size_t na_topology_node_count(const na_topology *topo) { return topo->n_nodes; }
size_t na_topology_link_count(const na_topology *topo) { return topo->n_links; }

const na_node *na_topology_node(const na_topology *topo, size_t index)
{
    return index < topo->n_nodes ? &topo->nodes[index] : NULL;
}

const na_link *na_topology_link(const na_topology *topo, size_t index)
{
    return index < topo->n_links ? &topo->links[index] : NULL;
}

int na_topology_find_node(const na_topology *topo, const char *id, size_t *index)
{
    return id && na__idmap_get(&topo->node_ids, id, index) ? NA_OK : NA_ENOTFOUND;
}

int na_topology_find_link(const na_topology *topo, const char *id, size_t *index)
{
    return id && na__idmap_get(&topo->link_ids, id, index) ? NA_OK : NA_ENOTFOUND;
}

/* ---- builder ------------------------------------------------------------------------- */

na_builder *na_builder_new(void)
{
    na_builder *b = calloc(1, sizeof(*b));

    if (!b)
        return NULL;
    na__arena_init(&b->arena);
    na__idmap_init(&b->node_ids);
    na__idmap_init(&b->link_ids);
    na__idmap_init(&b->synth_next);
    b->version = 1;
    return b;
}

void na_builder_free(na_builder *b)
{
    if (!b)
        return;
    free(b->nodes);
    free(b->node_dead);
    free(b->links);
    free(b->link_dead);
    na__idmap_free(&b->node_ids);
    na__idmap_free(&b->link_ids);
    na__idmap_free(&b->synth_next);
    na__arena_free(&b->arena);
    free(b);
}

int na_builder_set_name(na_builder *b, const char *name)
{
    const char *copy = na__arena_strdup(&b->arena, name);

    if (name && !copy)
        return NA_ENOMEM;
    b->name = copy;
    return NA_OK;
}

void na_builder_set_version(na_builder *b, uint64_t version) { b->version = version; }
void na_builder_set_timestamp_ms(na_builder *b, int64_t ms) { b->timestamp_ms = ms; }
size_t na_builder_node_count(const na_builder *b) { return b->live_nodes; }
size_t na_builder_link_count(const na_builder *b) { return b->live_links; }

/* Copies a string into the arena; NULL stays NULL. Returns false on ENOMEM. */
static bool copy_str(na__arena *a, const char **dst, const char *src)
{
    *dst = na__arena_strdup(a, src);
    return !src || *dst;
}

static bool copy_value(na__arena *a, na_value *dst, const na_value *src)
{
    *dst = *src;
    if (src->type == NA_VAL_STRING)
        return copy_str(a, &dst->u.s, src->u.s ? src->u.s : "");
    return true;
}

/*
 * Merges `add` into `base` by key (an NA_VAL_NULL value in `add` removes the key when
 * `null_removes`), into a new arena array. Returns NA_OK or NA_ENOMEM.
 */
static int merge_attrs(na__arena *a, const na_attr *base, size_t n_base, const na_attr *add,
                       size_t n_add, bool null_removes, const na_attr **out, size_t *n_out)
{
    na_attr *res;
    size_t n = 0;

    if (n_base + n_add == 0) {
        *out = NULL;
        *n_out = 0;
        return NA_OK;
    }
    res = na__arena_alloc(a, (n_base + n_add) * sizeof(*res));
    if (!res)
        return NA_ENOMEM;
    for (size_t i = 0; i < n_base; i++)
        res[n++] = base[i];  /* already in an arena that outlives this array */
    for (size_t i = 0; i < n_add; i++) {
        size_t j;
        if (!add[i].key)
            continue;
        for (j = 0; j < n; j++) {
            if (strcmp(res[j].key, add[i].key) == 0)
                break;
        }
        if (add[i].value.type == NA_VAL_NULL && null_removes) {
            if (j < n) {
                memmove(&res[j], &res[j + 1], (n - j - 1) * sizeof(*res));
                n--;
            }
            continue;
        }
        if (j == n) {
            if (!copy_str(a, &res[n].key, add[i].key))
                return NA_ENOMEM;
            n++;
        }
        if (!copy_value(a, &res[j].value, &add[i].value))
            return NA_ENOMEM;
    }
    *out = res;
    *n_out = n;
    return NA_OK;
}

static int apply_node_fields(na__arena *a, na_node *dst, const na_node *src, unsigned fields)
{
    if ((fields & NA_FIELD_LABEL) && !copy_str(a, &dst->label, src->label))
        return NA_ENOMEM;
    if ((fields & NA_FIELD_ROLE) && !copy_str(a, &dst->role, src->role))
        return NA_ENOMEM;
    if ((fields & NA_FIELD_SITE) && !copy_str(a, &dst->site, src->site))
        return NA_ENOMEM;
    if (fields & NA_FIELD_ASN)
        dst->asn = src->asn;
    if (fields & NA_FIELD_LATITUDE)
        dst->latitude = src->latitude;
    if (fields & NA_FIELD_LONGITUDE)
        dst->longitude = src->longitude;
    if (fields & NA_FIELD_CAPACITY)
        dst->capacity = src->capacity;
    if (fields & NA_FIELD_STATUS)
        dst->status = src->status;
    if (fields & NA_FIELD_ATTRS)
        return merge_attrs(a, dst->attrs, dst->n_attrs, src->attrs, src->n_attrs, true,
                           &dst->attrs, &dst->n_attrs);
    return NA_OK;
}

static int apply_link_fields(na__arena *a, na_link *dst, const na_link *src, unsigned fields)
{
    if ((fields & NA_FIELD_LABEL) && !copy_str(a, &dst->label, src->label))
        return NA_ENOMEM;
    if (fields & NA_FIELD_CAPACITY)
        dst->capacity = src->capacity;
    if (fields & NA_FIELD_STATUS)
        dst->status = src->status;
    if (fields & NA_FIELD_ATTRS)
        return merge_attrs(a, dst->attrs, dst->n_attrs, src->attrs, src->n_attrs, true,
                           &dst->attrs, &dst->n_attrs);
    return NA_OK;
}

static int grow_array(void **arr, bool **dead, size_t *cap, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : 64;
    void *na = realloc(*arr, ncap * elem);
    bool *nd;

    if (!na)
        return NA_ENOMEM;
    *arr = na;
    nd = realloc(*dead, ncap * sizeof(bool));
    if (!nd)
        return NA_ENOMEM;
    *dead = nd;
    *cap = ncap;
    return NA_OK;
}

int na_builder_add_node(na_builder *b, const na_node *tmpl, na_error *err)
{
    na_node *n;
    int rc;

    if (!tmpl->id || !tmpl->id[0])
        return na_error_set(err, NA_EINVAL, "node without an id");
    if (na__idmap_get(&b->node_ids, tmpl->id, NULL))
        return na_error_set(err, NA_EINVAL, "duplicate node id '%s'", tmpl->id);
    if (b->n_nodes == b->cap_nodes &&
        grow_array((void **)&b->nodes, &b->node_dead, &b->cap_nodes, sizeof(na_node)))
        return na_error_set(err, NA_ENOMEM, "out of memory");
    n = &b->nodes[b->n_nodes];
    na_node_init(n);
    if (!copy_str(&b->arena, &n->id, tmpl->id))
        return na_error_set(err, NA_ENOMEM, "out of memory");
    rc = apply_node_fields(&b->arena, n, tmpl, NA_FIELD_ALL);
    if (rc)
        return na_error_set(err, rc, "out of memory");
    if (na__idmap_put(&b->node_ids, n->id, b->n_nodes))
        return na_error_set(err, NA_ENOMEM, "out of memory");
    b->node_dead[b->n_nodes] = false;
    b->n_nodes++;
    b->live_nodes++;
    return NA_OK;
}

static na_node *builder_node(const na_builder *b, const char *id)
{
    size_t i;

    if (!id || !na__idmap_get(&b->node_ids, id, &i))
        return NULL;
    return &b->nodes[i];
}

const na_node *na_builder_find_node(const na_builder *b, const char *id)
{
    return builder_node(b, id);
}

int na_builder_update_node(na_builder *b, const na_node *tmpl, unsigned fields, na_error *err)
{
    na_node *n = builder_node(b, tmpl->id);
    na_node next;
    int rc;

    if (!n)
        return na_error_set(err, NA_ENOTFOUND, "no node '%s' to update",
                            tmpl->id ? tmpl->id : "(null)");
    next = *n;  /* on ENOMEM the node keeps its old state */
    rc = apply_node_fields(&b->arena, &next, tmpl, fields);
    if (rc)
        return na_error_set(err, rc, "out of memory");
    *n = next;
    return NA_OK;
}

static void kill_link(na_builder *b, size_t i)
{
    na__idmap_del(&b->link_ids, b->links[i].id);
    b->link_dead[i] = true;
    b->live_links--;
}

int na_builder_remove_node(na_builder *b, const char *id, na_error *err)
{
    size_t idx;

    if (!id || !na__idmap_get(&b->node_ids, id, &idx))
        return na_error_set(err, NA_ENOTFOUND, "no node '%s' to remove", id ? id : "(null)");
    for (size_t i = 0; i < b->n_links; i++) {
        if (!b->link_dead[i] &&
            (b->links[i].source_index == idx || b->links[i].target_index == idx))
            kill_link(b, i);
    }
    na__idmap_del(&b->node_ids, id);
    b->node_dead[idx] = true;
    b->live_nodes--;
    return NA_OK;
}

/* Makes "S--T", then "S--T#2", "S--T#3", ... until one is free. */
static const char *synth_link_id(na_builder *b, const char *s, const char *t)
{
    size_t len = strlen(s) + strlen(t) + 24, k = 2;
    char *base = na__arena_alloc(&b->arena, len), *buf;

    if (!base)
        return NULL;
    snprintf(base, len, "%s--%s", s, t);
    if (!na__idmap_get(&b->link_ids, base, NULL))
        return base;
    buf = na__arena_alloc(&b->arena, len);
    if (!buf)
        return NULL;
    na__idmap_get(&b->synth_next, base, &k);
    for (;; k++) {
        snprintf(buf, len, "%s--%s#%zu", s, t, k);
        if (!na__idmap_get(&b->link_ids, buf, NULL))
            break;
    }
    if (na__idmap_put(&b->synth_next, base, k + 1))
        return NULL;
    return buf;
}

int na_builder_add_link(na_builder *b, const na_link *tmpl, const char **out_id, na_error *err)
{
    size_t si, ti;
    na_link *l;
    int rc;

    if (!tmpl->source || !na__idmap_get(&b->node_ids, tmpl->source, &si))
        return na_error_set(err, NA_ENOTFOUND, "link source '%s' is not a node",
                            tmpl->source ? tmpl->source : "(null)");
    if (!tmpl->target || !na__idmap_get(&b->node_ids, tmpl->target, &ti))
        return na_error_set(err, NA_ENOTFOUND, "link target '%s' is not a node",
                            tmpl->target ? tmpl->target : "(null)");
    if (tmpl->id && tmpl->id[0] && na__idmap_get(&b->link_ids, tmpl->id, NULL))
        return na_error_set(err, NA_EINVAL, "duplicate link id '%s'", tmpl->id);
    if (b->n_links == b->cap_links &&
        grow_array((void **)&b->links, &b->link_dead, &b->cap_links, sizeof(na_link)))
        return na_error_set(err, NA_ENOMEM, "out of memory");
    l = &b->links[b->n_links];
    na_link_init(l);
    if (tmpl->id && tmpl->id[0])
        l->id = na__arena_strdup(&b->arena, tmpl->id);
    else
        l->id = synth_link_id(b, b->nodes[si].id, b->nodes[ti].id);
    if (!l->id)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    l->source = b->nodes[si].id;
    l->target = b->nodes[ti].id;
    l->source_index = si;
    l->target_index = ti;
    rc = apply_link_fields(&b->arena, l, tmpl, NA_FIELD_ALL);
    if (rc)
        return na_error_set(err, rc, "out of memory");
    if (na__idmap_put(&b->link_ids, l->id, b->n_links))
        return na_error_set(err, NA_ENOMEM, "out of memory");
    b->link_dead[b->n_links] = false;
    b->n_links++;
    b->live_links++;
    if (out_id)
        *out_id = l->id;
    return NA_OK;
}

static na_link *builder_link(const na_builder *b, const char *id)
{
    size_t i;

    if (!id || !na__idmap_get(&b->link_ids, id, &i))
        return NULL;
    return &b->links[i];
}

const na_link *na_builder_find_link(const na_builder *b, const char *id)
{
    return builder_link(b, id);
}

int na_builder_update_link(na_builder *b, const na_link *tmpl, unsigned fields, na_error *err)
{
    na_link *l = builder_link(b, tmpl->id);
    na_link next;
    int rc;

    if (!l)
        return na_error_set(err, NA_ENOTFOUND, "no link '%s' to update",
                            tmpl->id ? tmpl->id : "(null)");
    next = *l;
    rc = apply_link_fields(&b->arena, &next, tmpl, fields);
    if (rc)
        return na_error_set(err, rc, "out of memory");
    *l = next;
    return NA_OK;
}

int na_builder_remove_link(na_builder *b, const char *id, na_error *err)
{
    size_t i;

    if (!id || !na__idmap_get(&b->link_ids, id, &i))
        return na_error_set(err, NA_ENOTFOUND, "no link '%s' to remove", id ? id : "(null)");
    kill_link(b, i);
    return NA_OK;
}

/* Finds the first live link between nodes s and t (either direction); NULL if none. */
void na__builder_links_of(const na_builder *b, const char *id,
                          void (*fn)(const na_link *l, void *ud), void *ud)
{
    size_t idx;

    if (!id || !na__idmap_get(&b->node_ids, id, &idx))
        return;
    for (size_t i = 0; i < b->n_links; i++) {
        if (!b->link_dead[i] &&
            (b->links[i].source_index == idx || b->links[i].target_index == idx))
            fn(&b->links[i], ud);
    }
}

const na_link *na__builder_link_between(const na_builder *b, const char *s, const char *t)
{
    size_t si, ti;

    if (!s || !t || !na__idmap_get(&b->node_ids, s, &si) || !na__idmap_get(&b->node_ids, t, &ti))
        return NULL;
    for (size_t i = 0; i < b->n_links; i++) {
        const na_link *l = &b->links[i];
        if (b->link_dead[i])
            continue;
        if ((l->source_index == si && l->target_index == ti) ||
            (l->source_index == ti && l->target_index == si))
            return l;
    }
    return NULL;
}

na_builder *na_builder_from(const na_topology *base)
{
    na_builder *b = na_builder_new();

    if (!b)
        return NULL;
    if (na_builder_set_name(b, base->name))
        goto fail;
    for (size_t i = 0; i < base->n_nodes; i++) {
        if (na_builder_add_node(b, &base->nodes[i], NULL))
            goto fail;
    }
    for (size_t i = 0; i < base->n_links; i++) {
        if (na_builder_add_link(b, &base->links[i], NULL, NULL))
            goto fail;
    }
    b->version = base->version + 1;
    b->timestamp_ms = base->timestamp_ms;
    return b;
fail:
    na_builder_free(b);
    return NULL;
}

int na_builder_finish(na_builder *b, na_topology **out, na_error *err)
{
    na_topology *t;
    size_t *remap = NULL;
    int rc = NA_ENOMEM;

    *out = NULL;
    t = calloc(1, sizeof(*t));
    if (!t)
        goto out_free_builder;
    atomic_init(&t->refs, 1);
    na__arena_init(&t->arena);
    na__idmap_init(&t->node_ids);
    na__idmap_init(&t->link_ids);
    na__arena_steal(&t->arena, &b->arena);
    t->version = b->version;
    t->timestamp_ms = b->timestamp_ms;
    t->name = b->name;

    remap = malloc((b->n_nodes ? b->n_nodes : 1) * sizeof(*remap));
    t->nodes = na__arena_alloc(&t->arena, (b->live_nodes ? b->live_nodes : 1) * sizeof(na_node));
    t->links = na__arena_alloc(&t->arena, (b->live_links ? b->live_links : 1) * sizeof(na_link));
    if (!remap || !t->nodes || !t->links)
        goto out_free_topology;
    for (size_t i = 0; i < b->n_nodes; i++) {
        if (b->node_dead[i])
            continue;
        remap[i] = t->n_nodes;
        t->nodes[t->n_nodes] = b->nodes[i];
        if (na__idmap_put(&t->node_ids, t->nodes[t->n_nodes].id, t->n_nodes))
            goto out_free_topology;
        t->n_nodes++;
    }
    for (size_t i = 0; i < b->n_links; i++) {
        na_link *l;
        if (b->link_dead[i])
            continue;
        l = &t->links[t->n_links];
        *l = b->links[i];
        l->source_index = remap[l->source_index];
        l->target_index = remap[l->target_index];
        if (na__idmap_put(&t->link_ids, l->id, t->n_links))
            goto out_free_topology;
        t->n_links++;
    }
    *out = t;
    rc = NA_OK;
    goto out_free_builder;

out_free_topology:
    na_topology_unref(t);
out_free_builder:
    free(remap);
    na_builder_free(b);
    if (rc)
        na_error_set(err, rc, "out of memory while freezing the topology");
    return rc;
}
