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
#include "io/json_writer.h"
#include "netassure/io.h"

enum { NODE_LABEL, NODE_ROLE, NODE_SITE, NODE_ASN, NODE_LAT, NODE_LON, NODE_CAP, NODE_STATUS,
       NODE_ATTRS, NODE_NCOL };
enum { LINK_SOURCE, LINK_TARGET, LINK_LABEL, LINK_CAP, LINK_STATUS, LINK_ATTRS, LINK_NCOL };
enum { SITE_NAME, SITE_LAT, SITE_LON, SITE_ADDRESS, SITE_ATTRS, SITE_NCOL };
enum { AN_VERSION, AN_RESULT, AN_NCOL };

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

/* The row of a node / link: values point into the item and *attrs (malloc'd, caller frees). */
static int node_row(const na_node *n, na_wh_row *row, na_wh_value *v, char **attrs)
{
    *attrs = na_export_attrs_json(n->attrs, n->n_attrs, NULL);
    if (!*attrs)
        return NA_ENOMEM;
    v[NODE_LABEL] = v_text(n->label);
    v[NODE_ROLE] = v_text(n->role);
    v[NODE_SITE] = v_text(n->site);
    v[NODE_ASN] = v_int(n->asn, n->asn != 0);
    v[NODE_LAT] = v_real(n->latitude);
    v[NODE_LON] = v_real(n->longitude);
    v[NODE_CAP] = v_real(n->capacity);
    v[NODE_STATUS] = v_text(na_status_name(n->status));
    v[NODE_ATTRS] = v_text(*attrs);
    row->id = n->id;
    row->values = v;
    return NA_OK;
}

static int link_row(const na_link *l, na_wh_row *row, na_wh_value *v, char **attrs)
{
    *attrs = na_export_attrs_json(l->attrs, l->n_attrs, NULL);
    if (!*attrs)
        return NA_ENOMEM;
    v[LINK_SOURCE] = v_text(l->source);
    v[LINK_TARGET] = v_text(l->target);
    v[LINK_LABEL] = v_text(l->label);
    v[LINK_CAP] = v_real(l->capacity);
    v[LINK_STATUS] = v_text(na_status_name(l->status));
    v[LINK_ATTRS] = v_text(*attrs);
    row->id = l->id;
    row->values = v;
    return NA_OK;
}

/* A site seen in the topology: its nodes' mean position when they have one. */
typedef struct site_acc {
    const char *id;
    double lat, lon;
    size_t n_pos, n_nodes;
} site_acc;

/* Sites are derived from their nodes (mean position); one full observation of the table. */
int na__daemon_write_sites(na_warehouse *wh, const na_topology *topo, na_time_ms at,
                           na_error *err)
{
    static const char no_attrs[] = "{}";
    size_t nn = na_topology_node_count(topo), ns = 0;
    site_acc *sites = calloc(nn + 1, sizeof(*sites));
    na_wh_row *rows = calloc(nn + 1, sizeof(*rows));
    na_wh_value *vals = calloc((nn + 1) * SITE_NCOL, sizeof(*vals));
    int rc;

    if (!sites || !rows || !vals) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nn; i++) {
        const na_node *n = na_topology_node(topo, i);
        size_t k;
        if (!n->site)
            continue;
        /* Few sites per topology: a linear search is fine. */
        for (k = 0; k < ns && strcmp(sites[k].id, n->site) != 0; k++)
            ;
        if (k == ns)
            sites[ns++].id = n->site;
        sites[k].n_nodes++;
        if (isfinite(n->latitude) && isfinite(n->longitude)) {
            sites[k].lat += n->latitude;
            sites[k].lon += n->longitude;
            sites[k].n_pos++;
        }
    }
    for (size_t k = 0; k < ns; k++) {
        na_wh_value *v = vals + k * SITE_NCOL;
        v[SITE_NAME] = v_text(sites[k].id);
        v[SITE_LAT] = v_real(sites[k].n_pos ? sites[k].lat / (double)sites[k].n_pos : NAN);
        v[SITE_LON] = v_real(sites[k].n_pos ? sites[k].lon / (double)sites[k].n_pos : NAN);
        v[SITE_ADDRESS] = v_text(NULL);
        v[SITE_ATTRS] = v_text(no_attrs);
        rows[k].id = sites[k].id;
        rows[k].values = v;
    }
    rc = na_wh_observe(wh, NA_WH_SITES, rows, ns, at, NA_WH_FULL, NULL, err);
out:
    free(sites);
    free(rows);
    free(vals);
    return rc;
}

int na__wh_observe_topology(na_warehouse *wh, const na_topology *topo, na_time_ms at,
                            na_error *err)
{
    size_t nn = na_topology_node_count(topo), nl = na_topology_link_count(topo);
    na_wh_row *rows = NULL;
    na_wh_value *vals = NULL;
    char **attrs = NULL;
    size_t big = nn > nl ? nn : nl;
    int rc;

    if ((rc = check_columns(NA_WH_NODES, NODE_NCOL, err)) ||
        (rc = check_columns(NA_WH_LINKS, LINK_NCOL, err)) ||
        (rc = check_columns(NA_WH_SITES, SITE_NCOL, err)))
        return rc;
    /* Nodes, links and sites of one version commit together (and with whatever the caller
     * groups around them). */
    if ((rc = na_wh_begin(wh, err)))
        return rc;
    rows = calloc(big + 1, sizeof(*rows));
    vals = calloc((big + 1) * NODE_NCOL, sizeof(*vals));
    attrs = calloc(big + 1, sizeof(*attrs));
    if (!rows || !vals || !attrs) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nn; i++) {
        const na_node *n = na_topology_node(topo, i);
        na_wh_value *v = vals + i * NODE_NCOL;
        if (node_row(n, &rows[i], v, &attrs[i])) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out;
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
        if (link_row(l, &rows[i], v, &attrs[i])) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out;
        }
    }
    rc = na_wh_observe(wh, NA_WH_LINKS, rows, nl, at, NA_WH_FULL, NULL, err);
    if (rc)
        goto out;

    rc = na__daemon_write_sites(wh, topo, at, err);
out:
    if (rc == NA_OK)
        rc = na_wh_commit(wh, err);
    else
        na_wh_rollback(wh);
    for (size_t i = 0; attrs && i < big; i++)
        free(attrs[i]);
    free(attrs);
    free(rows);
    free(vals);
    return rc;
}

int na__wh_observe_items(na_warehouse *wh, const na_node *const *nodes, size_t nn,
                         const na_link *const *links, size_t nl, const char *const *gone_nodes,
                         size_t ngn, const char *const *gone_links, size_t ngl, na_time_ms at,
                         na_error *err)
{
    size_t big = (nn > nl ? nn : nl) + 1;
    na_wh_row *rows = calloc(big, sizeof(*rows));
    na_wh_value *vals = calloc(big * NODE_NCOL, sizeof(*vals));
    char **attrs = calloc(big, sizeof(*attrs));
    int rc = NA_OK;

    if (!rows || !vals || !attrs) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < nn && rc == NA_OK; i++)
        if (node_row(nodes[i], &rows[i], vals + i * NODE_NCOL, &attrs[i]))
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
    if (rc == NA_OK && nn)
        rc = na_wh_observe(wh, NA_WH_NODES, rows, nn, at, NA_WH_PARTIAL, NULL, err);
    for (size_t i = 0; i < nn; i++) {
        free(attrs[i]);
        attrs[i] = NULL;
    }
    for (size_t i = 0; i < nl && rc == NA_OK; i++)
        if (link_row(links[i], &rows[i], vals + i * NODE_NCOL, &attrs[i]))
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
    if (rc == NA_OK && nl)
        rc = na_wh_observe(wh, NA_WH_LINKS, rows, nl, at, NA_WH_PARTIAL, NULL, err);
    /* An item can be gone before the warehouse heard of it (added and removed in one batch
     * of the same instant): not an error. */
    for (size_t i = 0; i < ngl && rc == NA_OK; i++)
        if ((rc = na_wh_close_item(wh, NA_WH_LINKS, gone_links[i], at, err)) == NA_ENOTFOUND)
            rc = NA_OK;
    for (size_t i = 0; i < ngn && rc == NA_OK; i++)
        if ((rc = na_wh_close_item(wh, NA_WH_NODES, gone_nodes[i], at, err)) == NA_ENOTFOUND)
            rc = NA_OK;
out:
    for (size_t i = 0; attrs && i < big; i++)
        free(attrs[i]);
    free(attrs);
    free(rows);
    free(vals);
    return rc;
}

typedef struct topo_meta {
    json_int_t version;
    json_t *name;
    bool found;
    na_time_ms from;
} topo_meta;

int na__wh_observe_analytics(na_warehouse *wh, const char *kind, uint64_t version,
                             const char *result, na_time_ms at, na_error *err)
{
    na_wh_value v[AN_NCOL];
    na_wh_row row = {.id = kind, .values = v};
    int rc;

    if ((rc = check_columns(NA_WH_ANALYTICS, AN_NCOL, err)))
        return rc;
    v[AN_VERSION] = v_int((int64_t)version, true);
    v[AN_RESULT] = v_text(result);
    return na_wh_observe(wh, NA_WH_ANALYTICS, &row, 1, at, NA_WH_PARTIAL, NULL, err);
}

void na__analytics_from_row(const na_wh_version *v, int64_t *version, const char **result)
{
    const na_wh_value *c = v->row.values;

    *version = c[AN_VERSION].type == NA_WH_INT ? c[AN_VERSION].v.i : 0;
    *result = c[AN_RESULT].type == NA_WH_TEXT ? c[AN_RESULT].v.s : NULL;
}

static int meta_cb(const na_wh_version *v, void *ud)
{
    topo_meta *m = ud;
    int64_t version;
    const char *result;

    na__analytics_from_row(v, &version, &result);
    m->found = true;
    m->from = v->valid_from;
    m->version = version;
    if (result) {
        json_t *r = json_loads(result, 0, NULL);
        json_t *name = json_object_get(r, "name");
        if (json_is_string(name) && !m->name)
            m->name = json_incref(name);
        json_decref(r);
    }
    return 0;
}

int na__wh_topology_at(na_warehouse *wh, na_time_ms at, na_topology **out, na_error *err)
{
    size_t len = 0;
    char *text = na__wh_topology_text(wh, at, NULL, &len, err);
    int rc;

    if (!text)
        return err && err->code ? err->code : NA_ENOMEM;
    rc = na_import_json(text, len, "<warehouse>", out, NULL, err);
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

/* ---- large answers written as text straight from the rows ---------------------------------- */

/*
 * Nodes and links of a 10,000-node topology as jansson objects cost a malloc per value and a
 * re-parse of every attributes text; the writer appends instead, and the attributes (JSON our
 * own exporter wrote) are copied as they are.
 */
typedef struct text_rows {
    na__jw *w;
    na_wh_table table;
    const na__row_filter *filter;
    size_t nfilter;
    size_t count;
} text_rows;

static void jw_text_col(na__jw *w, const char *key, const na_wh_value *v)
{
    if (v->type == NA_WH_TEXT)
        na__jw_kv_str(w, key, v->v.s);
}

static void jw_real_col(na__jw *w, const char *key, const na_wh_value *v)
{
    if (v->type == NA_WH_REAL)
        na__jw_kv_num(w, key, v->v.r);
    else if (v->type == NA_WH_INT)
        na__jw_kv_num(w, key, (double)v->v.i);
}

static void jw_status_col(na__jw *w, const na_wh_value *v)
{
    na__jw_kv_str(w, "status", v->type == NA_WH_TEXT ? v->v.s : "unknown");
}

static void jw_attrs_col(na__jw *w, const na_wh_value *v)
{
    if (v->type != NA_WH_TEXT || strcmp(v->v.s, "{}") == 0 || v->v.s[0] != '{')
        return;
    na__jw_key(w, "attributes");
    na__jw_puts(w, v->v.s);
}

static bool row_passes(const text_rows *t, const na_wh_version *ver)
{
    size_t ncols;
    const na_wh_column *cols = na_wh_table_columns(t->table, &ncols);

    for (size_t f = 0; f < t->nfilter; f++) {
        bool ok = false;
        for (size_t c = 0; c < ncols; c++) {
            const na_wh_value *v = &ver->row.values[c];
            if (strcmp(cols[c].name, t->filter[f].column) != 0)
                continue;
            ok = v->type == NA_WH_TEXT ? strcmp(v->v.s, t->filter[f].value) == 0
                 : v->type == NA_WH_NULL ? strcmp(t->filter[f].value, "unknown") == 0 &&
                                               strcmp(cols[c].name, "status") == 0
                                         : false;
        }
        if (!ok)
            return false;
    }
    return true;
}

static int text_row_cb(const na_wh_version *ver, void *ud)
{
    text_rows *t = ud;
    const na_wh_value *v = ver->row.values;
    na__jw *w = t->w;

    if (!row_passes(t, ver))
        return 0;
    t->count++;
    na__jw_next(w);
    na__jw_open(w, '{');
    na__jw_kv_str(w, "id", ver->row.id);
    if (t->table == NA_WH_NODES) {
        jw_text_col(w, "label", &v[NODE_LABEL]);
        jw_text_col(w, "role", &v[NODE_ROLE]);
        if (v[NODE_ASN].type == NA_WH_INT) {
            na__jw_key(w, "asn");
            na__jw_int(w, v[NODE_ASN].v.i);
        }
        jw_text_col(w, "site", &v[NODE_SITE]);
        jw_real_col(w, "latitude", &v[NODE_LAT]);
        jw_real_col(w, "longitude", &v[NODE_LON]);
        jw_real_col(w, "capacity", &v[NODE_CAP]);
        jw_status_col(w, &v[NODE_STATUS]);
        jw_attrs_col(w, &v[NODE_ATTRS]);
    } else {
        jw_text_col(w, "source", &v[LINK_SOURCE]);
        jw_text_col(w, "target", &v[LINK_TARGET]);
        jw_text_col(w, "label", &v[LINK_LABEL]);
        jw_real_col(w, "capacity", &v[LINK_CAP]);
        jw_status_col(w, &v[LINK_STATUS]);
        jw_attrs_col(w, &v[LINK_ATTRS]);
    }
    na__jw_close(w, '}');
    return w->failed ? 1 : 0;
}

static int write_rows_text(na__jw *w, na_warehouse *wh, na_wh_table table, na_time_ms at,
                           const char *id, const na__row_filter *filter, size_t nfilter,
                           na_error *err)
{
    text_rows t = {.w = w, .table = table, .filter = filter, .nfilter = nfilter};
    int rc;

    na__jw_open(w, '[');
    rc = na_wh_read_at(wh, table, at, id, text_row_cb, &t, err);
    na__jw_close(w, ']');
    if (rc == NA_OK && w->failed)
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
    return rc;
}

char *na__wh_rows_text(na_warehouse *wh, na_wh_table table, na_time_ms at, const char *id,
                       const na__row_filter *filter, size_t nfilter, size_t *len, na_error *err)
{
    na__jw w = {0};

    if ((table != NA_WH_NODES && table != NA_WH_LINKS) ||
        check_columns(NA_WH_NODES, NODE_NCOL, err) || check_columns(NA_WH_LINKS, LINK_NCOL, err)) {
        na_error_set(err, NA_EINVAL, "rows as text: nodes or links only");
        return NULL;
    }
    if (write_rows_text(&w, wh, table, at, id, filter, nfilter, err)) {
        free(w.buf);
        return NULL;
    }
    return na__jw_finish(&w, len);
}

/* The cached nodes-and-links text of version (version, from), copied; NULL when absent. */
static char *cache_get(na__text_cache *c, int64_t version, na_time_ms from, size_t *len)
{
    char *copy = NULL;

    if (!c)
        return NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < NA__TEXT_CACHE_SIZE; i++) {
        if (c->e[i].tail && c->e[i].version == version && c->e[i].from == from) {
            copy = malloc(c->e[i].len + 1);
            if (copy) {
                memcpy(copy, c->e[i].tail, c->e[i].len + 1);
                *len = c->e[i].len;
                c->e[i].used = ++c->clock;
                c->hits++;
            }
            break;
        }
    }
    if (!copy)
        c->misses++;
    pthread_mutex_unlock(&c->lock);
    return copy;
}

/* Keeps a copy in the least recently used slot (a failed copy just caches nothing). */
static void cache_put(na__text_cache *c, int64_t version, na_time_ms from, const char *tail,
                      size_t len)
{
    size_t victim = 0;
    char *copy;

    if (!c || !(copy = malloc(len + 1)))
        return;
    memcpy(copy, tail, len + 1);
    pthread_mutex_lock(&c->lock);
    for (size_t i = 1; i < NA__TEXT_CACHE_SIZE; i++)
        if (c->e[i].used < c->e[victim].used)
            victim = i;
    free(c->e[victim].tail);
    c->e[victim].tail = copy;
    c->e[victim].len = len;
    c->e[victim].version = version;
    c->e[victim].from = from;
    c->e[victim].used = ++c->clock;
    pthread_mutex_unlock(&c->lock);
}

void na__text_cache_free(na__text_cache *c)
{
    for (size_t i = 0; i < NA__TEXT_CACHE_SIZE; i++)
        free(c->e[i].tail);
    memset(c->e, 0, sizeof(c->e));
}

/* `{"nodes":[...],"links":[...]}` as of `at`. */
static char *nodes_links_text(na_warehouse *wh, na_time_ms at, size_t *len, na_error *err)
{
    na__jw t = {0};

    na__jw_open(&t, '{');
    na__jw_key(&t, "nodes");
    if (write_rows_text(&t, wh, NA_WH_NODES, at, NULL, NULL, 0, err))
        goto fail;
    na__jw_key(&t, "links");
    if (write_rows_text(&t, wh, NA_WH_LINKS, at, NULL, NULL, 0, err))
        goto fail;
    na__jw_close(&t, '}');
    if (na__jw_finish(&t, len))
        return t.buf;
    na_error_set(err, NA_ENOMEM, "out of memory");
    return NULL;
fail:
    free(t.buf);
    return NULL;
}

/*
 * The rows valid at any time inside one topology version are the same (a version is made only
 * by an observation that changed something, and its rows and version row commit together), so
 * the nodes-and-links text is cached by (version, the version row's valid_from); the reads run
 * in one snapshot so the version row and the rows always belong together.
 */
char *na__wh_topology_text(na_warehouse *wh, na_time_ms at, na__text_cache *cache, size_t *len,
                           na_error *err)
{
    na__jw w = {0};
    topo_meta meta = {0};
    char tb[40], *tail = NULL;
    size_t tail_len = 0;
    int rc;

    if ((rc = check_columns(NA_WH_NODES, NODE_NCOL, err)) ||
        (rc = check_columns(NA_WH_LINKS, LINK_NCOL, err)) ||
        (rc = na_wh_begin_read(wh, err)))
        return NULL;
    if ((rc = na_wh_read_at(wh, NA_WH_ANALYTICS, at, "topology", meta_cb, &meta, err)))
        goto fail;
    if (meta.found)
        tail = cache_get(cache, meta.version, meta.from, &tail_len);
    if (!tail) {
        if (!(tail = nodes_links_text(wh, at, &tail_len, err)))
            goto fail;
        if (meta.found)
            cache_put(cache, meta.version, meta.from, tail, tail_len);
    }
    if ((rc = na_wh_commit(wh, err)))
        goto fail_done;
    na__jw_open(&w, '{');
    na__jw_key(&w, "at");
    if (at == NA_TIME_NOW)
        na__jw_puts(&w, "null");
    else
        na__jw_string(&w, na_time_format(at, tb, sizeof(tb)));
    na__jw_kv_str(&w, "type", "snapshot");
    na__jw_key(&w, "name");
    if (json_is_string(meta.name))
        na__jw_string(&w, json_string_value(meta.name));
    else
        na__jw_puts(&w, "null");
    na__jw_key(&w, "version");
    na__jw_int(&w, (int64_t)meta.version);
    na__jw_kv_str(&w, "timestamp",
                  na_time_format(at == NA_TIME_NOW ? na_time_now() : at, tb, sizeof(tb)));
    /* The tail is an object of its own: its members follow ours. */
    na__jw_put(&w, ",", 1);
    na__jw_put(&w, tail + 1, tail_len - 1);
    free(tail);
    json_decref(meta.name);
    if (!na__jw_finish(&w, len))
        na_error_set(err, NA_ENOMEM, "out of memory");
    return w.buf;
fail:
    na_wh_rollback(wh);
fail_done:
    free(tail);
    json_decref(meta.name);
    return NULL;
}
