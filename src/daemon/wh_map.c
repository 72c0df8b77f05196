/*
 * wh_map.c: topology snapshots to warehouse rows and back.
 *
 * Nodes, links and sites are written as full observations (an item absent from a new version
 * is closed). Reading as of a time rebuilds the API objects straight from the rows; the
 * snapshot for diff goes through our own JSON importer, so what comes back is validated the
 * same way as a file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "netassure/io.h"

enum { NODE_LABEL, NODE_ROLE, NODE_SITE, NODE_ASN, NODE_LAT, NODE_LON, NODE_CAP, NODE_STATUS,
       NODE_ATTRS, NODE_NCOL };
enum { LINK_SOURCE, LINK_TARGET, LINK_LABEL, LINK_CAP, LINK_STATUS, LINK_ATTRS, LINK_NCOL };
enum { SITE_NAME, SITE_LAT, SITE_LON, SITE_ADDRESS, SITE_ATTRS, SITE_NCOL };

static na_wh_value v_text(const char *s)
{
    na_wh_value v = {.type = s ? NA_WH_TEXT : NA_WH_NULL};
    v.v.s = s;
    return v;
}

static na_wh_value v_real(double x)
{
    na_wh_value v = {.type = isfinite(x) ? NA_WH_REAL : NA_WH_NULL};
    v.v.r = x;
    return v;
}

static na_wh_value v_int(int64_t i, bool known)
{
    na_wh_value v = {.type = known ? NA_WH_INT : NA_WH_NULL};
    v.v.i = i;
    return v;
}

static int check_columns(na_wh_table t, size_t want, na_error *err)
{
    size_t n;

    (void)na_wh_table_columns(t, &n);
    if (n != want)
        return na_error_set(err, NA_EINVAL, "warehouse table %s has %zu columns, expected %zu",
                            na_wh_table_name(t), n, want);
    return NA_OK;
}

/* A site seen in the topology: its nodes' mean position when they have one. */
typedef struct site_acc {
    const char *id;
    double lat, lon;
    size_t n_pos, n_nodes;
} site_acc;

int na__wh_observe_topology(na_warehouse *wh, const na_topology *topo, na_time_ms at,
                            na_error *err)
{
    size_t nn = na_topology_node_count(topo), nl = na_topology_link_count(topo), ns = 0;
    na_wh_row *rows = NULL;
    na_wh_value *vals = NULL;
    char **attrs = NULL;
    site_acc *sites = NULL;
    size_t big = nn > nl ? nn : nl;
    int rc;

    if ((rc = check_columns(NA_WH_NODES, NODE_NCOL, err)) ||
        (rc = check_columns(NA_WH_LINKS, LINK_NCOL, err)) ||
        (rc = check_columns(NA_WH_SITES, SITE_NCOL, err)))
        return rc;
    rows = calloc(big + 1, sizeof(*rows));
    vals = calloc((big + 1) * NODE_NCOL, sizeof(*vals));
    attrs = calloc(big + 1, sizeof(*attrs));
    sites = calloc(nn + 1, sizeof(*sites));
    if (!rows || !vals || !attrs || !sites) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nn; i++) {
        const na_node *n = na_topology_node(topo, i);
        na_wh_value *v = vals + i * NODE_NCOL;
        attrs[i] = na_export_attrs_json(n->attrs, n->n_attrs, NULL);
        if (!attrs[i]) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out;
        }
        v[NODE_LABEL] = v_text(n->label);
        v[NODE_ROLE] = v_text(n->role);
        v[NODE_SITE] = v_text(n->site);
        v[NODE_ASN] = v_int(n->asn, n->asn != 0);
        v[NODE_LAT] = v_real(n->latitude);
        v[NODE_LON] = v_real(n->longitude);
        v[NODE_CAP] = v_real(n->capacity);
        v[NODE_STATUS] = v_text(na_status_name(n->status));
        v[NODE_ATTRS] = v_text(attrs[i]);
        rows[i].id = n->id;
        rows[i].values = v;
        if (n->site) {
            size_t s;
            for (s = 0; s < ns && strcmp(sites[s].id, n->site) != 0; s++)
                ;
            if (s == ns)
                sites[ns++].id = n->site;
            sites[s].n_nodes++;
            if (isfinite(n->latitude) && isfinite(n->longitude)) {
                sites[s].lat += n->latitude;
                sites[s].lon += n->longitude;
                sites[s].n_pos++;
            }
        }
    }
    rc = na_wh_observe(wh, NA_WH_NODES, rows, nn, at, NA_WH_FULL, NULL, err);
    for (size_t i = 0; i < nn; i++) {
        free(attrs[i]);
        attrs[i] = NULL;
    }
    if (rc)
        goto out;

    for (size_t i = 0; i < nl; i++) {
        const na_link *l = na_topology_link(topo, i);
        na_wh_value *v = vals + i * NODE_NCOL;
        attrs[i] = na_export_attrs_json(l->attrs, l->n_attrs, NULL);
        if (!attrs[i]) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out;
        }
        v[LINK_SOURCE] = v_text(l->source);
        v[LINK_TARGET] = v_text(l->target);
        v[LINK_LABEL] = v_text(l->label);
        v[LINK_CAP] = v_real(l->capacity);
        v[LINK_STATUS] = v_text(na_status_name(l->status));
        v[LINK_ATTRS] = v_text(attrs[i]);
        rows[i].id = l->id;
        rows[i].values = v;
    }
    rc = na_wh_observe(wh, NA_WH_LINKS, rows, nl, at, NA_WH_FULL, NULL, err);
    if (rc)
        goto out;

    for (size_t s = 0; s < ns; s++) {
        na_wh_value *v = vals + s * NODE_NCOL;
        static const char no_attrs[] = "{}";
        v[SITE_NAME] = v_text(sites[s].id);
        v[SITE_LAT] = v_real(sites[s].n_pos ? sites[s].lat / (double)sites[s].n_pos : NAN);
        v[SITE_LON] = v_real(sites[s].n_pos ? sites[s].lon / (double)sites[s].n_pos : NAN);
        v[SITE_ADDRESS] = v_text(NULL);
        v[SITE_ATTRS] = v_text(no_attrs);
        rows[s].id = sites[s].id;
        rows[s].values = v;
    }
    rc = na_wh_observe(wh, NA_WH_SITES, rows, ns, at, NA_WH_FULL, NULL, err);
out:
    for (size_t i = 0; attrs && i < big; i++)
        free(attrs[i]);
    free(attrs);
    free(rows);
    free(vals);
    free(sites);
    return rc;
}

static void set_text(json_t *o, const char *key, const na_wh_value *v)
{
    if (v->type == NA_WH_TEXT)
        json_object_set_new(o, key, json_string(v->v.s));
}

static void set_real(json_t *o, const char *key, const na_wh_value *v)
{
    if (v->type == NA_WH_REAL && isfinite(v->v.r))
        json_object_set_new(o, key, json_real(v->v.r));
    else if (v->type == NA_WH_INT)
        json_object_set_new(o, key, json_real((double)v->v.i));
}

static void set_attrs(json_t *o, const na_wh_value *v)
{
    json_t *a;

    if (v->type != NA_WH_TEXT)
        return;
    a = json_loads(v->v.s, 0, NULL);
    if (json_is_object(a) && json_object_size(a) > 0)
        json_object_set_new(o, "attributes", a);
    else
        json_decref(a);
}

static void set_status(json_t *o, const na_wh_value *v)
{
    if (v->type == NA_WH_TEXT && strcmp(v->v.s, "unknown") != 0)
        json_object_set_new(o, "status", json_string(v->v.s));
    else
        json_object_set_new(o, "status", json_string("unknown"));
}

json_t *na__node_json_from_row(const na_wh_version *ver)
{
    const na_wh_value *v = ver->row.values;
    json_t *o = json_pack("{s:s}", "id", ver->row.id);

    if (!o)
        return NULL;
    set_text(o, "label", &v[NODE_LABEL]);
    set_text(o, "role", &v[NODE_ROLE]);
    if (v[NODE_ASN].type == NA_WH_INT)
        json_object_set_new(o, "asn", json_integer(v[NODE_ASN].v.i));
    set_text(o, "site", &v[NODE_SITE]);
    set_real(o, "latitude", &v[NODE_LAT]);
    set_real(o, "longitude", &v[NODE_LON]);
    set_real(o, "capacity", &v[NODE_CAP]);
    set_status(o, &v[NODE_STATUS]);
    set_attrs(o, &v[NODE_ATTRS]);
    return o;
}

json_t *na__link_json_from_row(const na_wh_version *ver)
{
    const na_wh_value *v = ver->row.values;
    json_t *o = json_pack("{s:s}", "id", ver->row.id);

    if (!o)
        return NULL;
    set_text(o, "source", &v[LINK_SOURCE]);
    set_text(o, "target", &v[LINK_TARGET]);
    set_text(o, "label", &v[LINK_LABEL]);
    set_real(o, "capacity", &v[LINK_CAP]);
    set_status(o, &v[LINK_STATUS]);
    set_attrs(o, &v[LINK_ATTRS]);
    return o;
}

typedef struct collect {
    json_t *arr;
    json_t *(*conv)(const na_wh_version *v);
    int rc;
} collect;

static int collect_cb(const na_wh_version *v, void *ud)
{
    collect *c = ud;
    json_t *o = c->conv(v);

    if (!o || json_array_append_new(c->arr, o)) {
        c->rc = NA_ENOMEM;
        return 1;
    }
    return 0;
}

typedef struct topo_meta {
    json_int_t version;
    json_t *name;
} topo_meta;

static int meta_cb(const na_wh_version *v, void *ud)
{
    topo_meta *m = ud;
    size_t n;
    const na_wh_column *cols = na_wh_table_columns(NA_WH_ANALYTICS, &n);

    for (size_t i = 0; i < n; i++) {
        if (strcmp(cols[i].name, "topology_version") == 0 && v->row.values[i].type == NA_WH_INT)
            m->version = v->row.values[i].v.i;
        if (strcmp(cols[i].name, "result") == 0 && v->row.values[i].type == NA_WH_TEXT) {
            json_t *r = json_loads(v->row.values[i].v.s, 0, NULL);
            json_t *name = json_object_get(r, "name");
            if (json_is_string(name))
                m->name = json_incref(name);
            json_decref(r);
        }
    }
    return 0;
}

json_t *na__wh_topology_json(na_warehouse *wh, na_time_ms at, na_error *err)
{
    collect nodes = {.arr = json_array(), .conv = na__node_json_from_row};
    collect links = {.arr = json_array(), .conv = na__link_json_from_row};
    topo_meta meta = {0};
    json_t *doc = NULL;
    char tb[40];
    int rc;

    if (!nodes.arr || !links.arr)
        goto fail;
    rc = na_wh_read_at(wh, NA_WH_NODES, at, NULL, collect_cb, &nodes, err);
    if (rc == NA_OK && nodes.rc == NA_OK)
        rc = na_wh_read_at(wh, NA_WH_LINKS, at, NULL, collect_cb, &links, err);
    if (rc == NA_OK && nodes.rc == NA_OK && links.rc == NA_OK)
        rc = na_wh_read_at(wh, NA_WH_ANALYTICS, at, "topology", meta_cb, &meta, err);
    if (rc || nodes.rc || links.rc)
        goto fail;
    doc = json_pack("{s:s, s:o, s:I, s:s, s:o, s:o}", "type", "snapshot", "name",
                    meta.name ? meta.name : json_null(), "version", meta.version, "timestamp",
                    na_time_format(at == NA_TIME_NOW ? na_time_now() : at, tb, sizeof(tb)),
                    "nodes", nodes.arr, "links", links.arr);
    return doc;
fail:
    if (!(err && err->code))
        na_error_set(err, NA_ENOMEM, "out of memory");
    json_decref(nodes.arr);
    json_decref(links.arr);
    json_decref(meta.name);
    return NULL;
}

int na__wh_topology_at(na_warehouse *wh, na_time_ms at, na_topology **out, na_error *err)
{
    json_t *doc = na__wh_topology_json(wh, at, err);
    char *text;
    int rc;

    if (!doc)
        return err && err->code ? err->code : NA_ENOMEM;
    json_object_del(doc, "timestamp");
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    rc = na_import_json(text, strlen(text), "<warehouse>", out, NULL, err);
    free(text);
    return rc;
}

void na__config_from_row(const na_wh_version *v, json_t **branding, json_t **banners)
{
    json_t *val = v->row.values[0].type == NA_WH_TEXT ? json_loads(v->row.values[0].v.s, 0, NULL)
                                                       : NULL;

    if (strcmp(v->row.id, "branding") == 0 && json_is_object(val)) {
        json_decref(*branding);
        *branding = val;
    } else if (strcmp(v->row.id, "banners") == 0 && json_is_array(val)) {
        json_decref(*banners);
        *banners = val;
    } else {
        json_decref(val);
    }
}
