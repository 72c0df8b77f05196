/*
 * api.c: the REST API (docs/api.md, docs/openapi.json). Handlers run on the HTTP workers.
 *
 * Reads answer from the warehouse as of `?at=` (or its current rows), except where the live
 * state in memory is the same thing and much cheaper (/status, /alerts, /anomalies, /config,
 * /topology, /analytics/{kind} without `at`). Writes go to the engine thread as commands.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/daemon.h"
#include "server/api.h"
#include "netassure/io.h"

extern const unsigned char na_embedded_openapi[];
extern const size_t na_embedded_openapi_len;
extern const unsigned char na_embedded_api_docs[];
extern const size_t na_embedded_api_docs_len;

#define MAX_SEGMENTS 6
#define DEFAULT_LIMIT 1000
#define MAX_LIMIT 10000
#define MAX_WHATIF_FAILS 1000

typedef struct req_ctx {
    na__daemon *d;
    const na__http_request *req;
    na__http_response *resp;
    char *seg[MAX_SEGMENTS];
    size_t nseg;
    char path_copy[1024];
    bool has_at;
    na_time_ms at;           /* NA_TIME_NOW when !has_at */
} req_ctx;

/* ---- responses ----------------------------------------------------------------------------- */

static void send_json(req_ctx *c, int status, json_t *doc)
{
    char *text;

    if (!doc) {
        na__http_error(c->resp, 503, "service_unavailable", "out of memory");
        return;
    }
    /* 15 significant digits: what a double holds reliably, without %.17g's noise digits. */
    text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(doc);
    if (!text) {
        na__http_error(c->resp, 503, "service_unavailable", "out of memory");
        return;
    }
    na__http_respond(c->resp, status, "application/json", text, strlen(text));
}

static void send_text(req_ctx *c, int status, const char *type, const char *text, size_t len)
{
    char *copy = malloc(len + 1);

    if (!copy) {
        na__http_error(c->resp, 503, "service_unavailable", "out of memory");
        return;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    na__http_respond(c->resp, status, type, copy, len);
}

/* Maps an NA_E* code from a read to a status. */
static void send_failure(req_ctx *c, int rc, const na_error *err)
{
    const char *msg = err && err->message[0] ? err->message : na_strerror(rc);

    switch (rc) {
    case NA_ENOTFOUND: na__http_error(c->resp, 404, "not_found", "%s", msg); break;
    case NA_EINVAL:
    case NA_EPARSE:
    case NA_ETOOBIG: na__http_error(c->resp, 400, "bad_request", "%s", msg); break;
    default:
        na_log(NA_LOG_ERROR, "%s %s: %s", c->req->method, c->req->path, msg);
        na__http_error(c->resp, 503, "service_unavailable", "%s", msg);
    }
}

static json_t *at_json(const req_ctx *c)
{
    return c->has_at ? na__time_json(c->at) : json_null();
}

/* ---- request parsing ----------------------------------------------------------------------- */

/* A query parameter into buf; 1 present, 0 absent, -1 malformed (error sent). */
static int query(req_ctx *c, const char *name, char *buf, size_t len)
{
    long n = na__http_query_get(c->req->query, name, buf, len);

    if (n == -1)
        return 0;
    if (n < 0) {
        na__http_error(c->resp, 400, "bad_request", "query parameter %s: malformed or too long",
                       name);
        return -1;
    }
    return 1;
}

/* A time parameter; 1 present, 0 absent, -1 bad (error sent). */
static int query_time(req_ctx *c, const char *name, na_time_ms *out)
{
    char buf[80];
    int q = query(c, name, buf, sizeof(buf));

    if (q <= 0)
        return q;
    if (na_time_parse(buf, strlen(buf), out)) {
        na__http_error(c->resp, 400, "bad_request",
                       "query parameter %s: expected an RFC 3339 time such as "
                       "2026-03-08T12:00:00Z (got \"%.40s\")", name, buf);
        return -1;
    }
    return 1;
}

static int query_limit(req_ctx *c, size_t *out)
{
    char buf[32], *end;
    int q = query(c, "limit", buf, sizeof(buf));
    unsigned long v;

    *out = DEFAULT_LIMIT;
    if (q <= 0)
        return q;
    v = strtoul(buf, &end, 10);
    if (!isdigit((unsigned char)buf[0]) || *end || v < 1 || v > MAX_LIMIT) {
        na__http_error(c->resp, 400, "bad_request", "query parameter limit: expected an integer "
                                                    "from 1 to %d", MAX_LIMIT);
        return -1;
    }
    *out = v;
    return 1;
}

/* The request body as a JSON object (error sent on failure). `optional`: empty body -> {}. */
static json_t *body_object(req_ctx *c, bool optional)
{
    const char *ct = c->req->content_type;
    json_error_t jerr;
    json_t *doc;

    if (c->req->body_len == 0 && optional)
        return json_object();
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
        na__http_error(c->resp, 415, "unsupported_media_type",
                       "the body must be JSON with Content-Type: application/json");
        return NULL;
    }
    doc = json_loadb(c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        na__http_error(c->resp, 400, "bad_request", "malformed JSON body: %s (line %d, column %d)",
                       jerr.text, jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        na__http_error(c->resp, 400, "bad_request", "the body must be a JSON object");
        return NULL;
    }
    return doc;
}

static na_warehouse *reader(req_ctx *c)
{
    na_error err;
    na_warehouse *wh;

    na_error_clear(&err);
    wh = na__daemon_reader(c->d, &err);
    if (!wh)
        na__http_error(c->resp, 503, "service_unavailable", "warehouse unavailable: %s",
                       err.message);
    return wh;
}

/* ---- collecting rows ----------------------------------------------------------------------- */

typedef struct rows_json {
    json_t *arr;
    json_t *(*conv)(const na_wh_version *v);
    /* filters on fields of the converted object (NULL = none) */
    const char *f_key[3];
    const char *f_val[3];
    na_time_ms since;        /* on "created_at"/"detected_at" (0 = none) */
    const char *since_key;
    int rc;
} rows_json;

static bool field_is(json_t *o, const char *key, const char *val)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) && strcmp(json_string_value(v), val) == 0;
}

static int rows_cb(const na_wh_version *v, void *ud)
{
    rows_json *r = ud;
    json_t *o = r->conv(v);

    if (!o) {
        r->rc = NA_ENOMEM;
        return 1;
    }
    for (int i = 0; i < 3; i++) {
        if (r->f_key[i] && !field_is(o, r->f_key[i], r->f_val[i])) {
            json_decref(o);
            return 0;
        }
    }
    if (r->since_key) {
        const char *t = json_string_value(json_object_get(o, r->since_key));
        na_time_ms ts = 0;
        if (!t || na_time_parse(t, strlen(t), &ts) || ts < r->since) {
            json_decref(o);
            return 0;
        }
    }
    json_array_append_new(r->arr, o);
    return 0;
}

/* The rows of a table as of c->at through r's converter and filters, as a new array; NULL
 * after sending the failure. */
static json_t *read_rows(req_ctx *c, na_wh_table t, const char *id, rows_json *r)
{
    na_warehouse *wh = reader(c);
    na_error err;
    int rc;

    if (!wh)
        return NULL;
    na_error_clear(&err);
    r->arr = json_array();
    rc = na_wh_read_at(wh, t, c->at, id, rows_cb, r, &err);
    if (rc == NA_OK && r->rc)
        rc = na_error_set(&err, r->rc, "out of memory");
    if (rc) {
        json_decref(r->arr);
        send_failure(c, rc, &err);
        return NULL;
    }
    return r->arr;
}

/* The first element of a one-item read (a new reference), or NULL after answering 404; takes
 * over `arr`. */
static json_t *first_or_404(req_ctx *c, json_t *arr, const char *what, const char *id)
{
    json_t *o = json_incref(json_array_get(arr, 0));

    json_decref(arr);
    if (!o)
        na__http_error(c->resp, 404, "not_found", "no %s %s%s", what, id,
                       c->has_at ? " at that time" : "");
    return o;
}

/* The one item `id` of a table as of c->at as an API object; NULL after sending 404 or the
 * failure. */
static json_t *read_one(req_ctx *c, na_wh_table t, const char *id,
                        json_t *(*conv)(const na_wh_version *v), const char *what)
{
    rows_json r = {.conv = conv};
    json_t *arr = read_rows(c, t, id, &r);

    return arr ? first_or_404(c, arr, what, id) : NULL;
}

/* Sorts an array of objects by a time member, newest first, and cuts it to `limit`. */
/* An element with its sort key looked up once: qsort's comparator needs no shared state. */
typedef struct keyed {
    const char *t;
    json_t *o;
} keyed;

static int cmp_newest(const void *x, const void *y)
{
    return strcmp(((const keyed *)y)->t, ((const keyed *)x)->t);
}

static json_t *newest_first(json_t *arr, const char *key, size_t limit)
{
    size_t n = json_array_size(arr);
    keyed *items = malloc((n ? n : 1) * sizeof(*items));
    json_t *out = json_array();

    if (!items || !out) {
        free(items);
        json_decref(out);
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const char *t;
        items[i].o = json_array_get(arr, i);
        t = json_string_value(json_object_get(items[i].o, key));
        items[i].t = t ? t : "";
    }
    /* RFC 3339 texts with the same zone and precision sort like the times they name. */
    qsort(items, n, sizeof(*items), cmp_newest);
    for (size_t i = 0; i < n && i < limit; i++)
        json_array_append(out, items[i].o);
    free(items);
    json_decref(arr);
    return out;
}

/* One stored analytics result (kind) as of c->at: result text, topology version, time. */
typedef struct stored_result {
    json_t *result;
    int64_t version;
    na_time_ms valid_from;
    bool found;
} stored_result;

static int stored_cb(const na_wh_version *v, void *ud)
{
    stored_result *s = ud;
    const char *result;

    s->found = true;
    s->valid_from = v->valid_from;
    na__analytics_from_row(v, &s->version, &result);
    s->result = result ? json_loads(result, 0, NULL) : NULL;
    return 0;
}

/* The caller sends the failure (err holds the reason, the warehouse's too). */
static int read_result(req_ctx *c, const char *kind, stored_result *s, na_error *err)
{
    na_warehouse *wh = na__daemon_reader(c->d, err);

    memset(s, 0, sizeof(*s));
    if (!wh)
        return err && err->code ? err->code : NA_EIO;
    return na_wh_read_at(wh, NA_WH_ANALYTICS, c->at, kind, stored_cb, s, err);
}

/* ---- /status ----------------------------------------------------------------------------------- */

static int count_cb(const na_wh_version *v, void *ud)
{
    (void)v;
    (*(size_t *)ud)++;
    return 0;
}

typedef struct alert_counts {
    size_t active, total;
} alert_counts;

static int alert_count_cb(const na_wh_version *v, void *ud)
{
    alert_counts *ac = ud;
    const char *status = na__alert_row_status(v);

    ac->total++;
    if (status && strcmp(status, "resolved") != 0)
        ac->active++;
    return 0;
}

static void handle_status(req_ctx *c)
{
    na__daemon *d = c->d;
    json_t *sources = json_array(), *doc;
    na_time_ms now = na_time_now();
    size_t nodes = 0, links = 0, alerts_active = 0, alerts_total = 0, anomalies = 0;
    uint64_t version = 0, an_version = 0;
    na_time_ms updated = 0, computed = 0, last_update;
    double duration = NAN;
    bool running;
    char tb[40];

    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->cfg.n_sources; i++) {
        const na__source_state *s = &d->sources[i];
        json_array_append_new(
            sources,
            json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:I, s:I}", "name",
                      d->cfg.sources[i].name, "type", d->cfg.sources[i].type, "path",
                      na_json_str(d->cfg.sources[i].path), "url",
                      na_json_str(d->cfg.sources[i].url), "state",
                      s->state, "last_loaded_at",
                      s->last_loaded_at ? na__time_json(s->last_loaded_at) : json_null(),
                      "last_error", na_json_str(s->last_error), "nodes", (json_int_t)s->nodes,
                      "links", (json_int_t)s->links));
    }
    if (d->topo) {
        nodes = na_topology_node_count(d->topo);
        links = na_topology_link_count(d->topo);
        version = na_topology_version(d->topo);
        updated = na_topology_timestamp_ms(d->topo);
    }
    for (size_t i = 0; i < d->alerts.count; i++) {
        alerts_total++;
        alerts_active += d->alerts.items[i]->status != NA_ALERT_RESOLVED;
    }
    anomalies = d->anomalies_total;
    running = d->analysis_running || d->analysis_request;
    if (d->bundle) {
        an_version = na_topology_version(d->bundle->a.topo);
        computed = d->bundle->computed_at;
        duration = d->bundle->duration_ms;
    }
    last_update = d->last_update;
    pthread_mutex_unlock(&d->lock);

    if (c->has_at) {
        na_warehouse *wh = reader(c);
        alert_counts ac = {0, 0};
        na_error err;
        int rc;
        if (!wh) {
            json_decref(sources);
            return;
        }
        na_error_clear(&err);
        nodes = links = anomalies = 0;
        if ((rc = na_wh_read_at(wh, NA_WH_NODES, c->at, NULL, count_cb, &nodes, &err)) ||
            (rc = na_wh_read_at(wh, NA_WH_LINKS, c->at, NULL, count_cb, &links, &err)) ||
            (rc = na_wh_read_at(wh, NA_WH_ALERTS, c->at, NULL, alert_count_cb, &ac, &err)) ||
            (rc = na_wh_read_at(wh, NA_WH_ANOMALIES, c->at, NULL, count_cb, &anomalies, &err))) {
            json_decref(sources);
            send_failure(c, rc, &err);
            return;
        }
        alerts_active = ac.active;
        alerts_total = ac.total;
        /* The version valid then, and the analysis of it. */
        {
            stored_result tr, ar;
            if ((rc = read_result(c, "topology", &tr, &err)) ||
                (rc = read_result(c, "robustness", &ar, &err))) {
                json_decref(sources);
                send_failure(c, rc, &err);
                return;
            }
            version = tr.found ? (uint64_t)tr.version : 0;
            updated = tr.found ? tr.valid_from : 0;
            an_version = ar.found ? (uint64_t)ar.version : 0;
            computed = ar.found ? ar.valid_from : 0;
            duration = NAN;
            running = false;
            last_update = updated;
            json_decref(tr.result);
            json_decref(ar.result);
        }
    }
    doc = json_pack("{s:s, s:s, s:o, s:o, s:f, s:o, s:{s:s, s:i, s:s}, s:o, s:{s:I, s:I, s:I, "
                    "s:o}, s:{s:I, s:I, s:I, s:I, s:I}, s:{s:s, s:I, s:o, s:o}, s:o, s:{s:I}}",
                    "name", "netassure", "version", NA_VERSION_STRING, "started_at",
                    na__time_json(d->started_at), "now", na__time_json(now), "uptime_s",
                    (double)(now - d->started_at) / 1000.0, "at", at_json(c), "warehouse",
                    "backend", d->wh_backend, "schema_version", d->wh_schema_version, "location",
                    d->wh_location, "sources", sources, "topology", "version",
                    (json_int_t)version, "nodes", (json_int_t)nodes, "links", (json_int_t)links,
                    "updated_at", updated ? na__time_json(updated) : json_null(), "counts", "nodes",
                    (json_int_t)nodes, "links", (json_int_t)links, "alerts_active",
                    (json_int_t)alerts_active, "alerts_total", (json_int_t)alerts_total,
                    "anomalies", (json_int_t)anomalies, "analytics", "state",
                    running ? "running" : "idle", "version", (json_int_t)an_version,
                    "computed_at", computed ? na__time_json(computed) : json_null(), "duration_ms",
                    na_json_real(duration), "last_update",
                    last_update ? json_string(na_time_format(last_update, tb, sizeof(tb)))
                                : json_null(),
                    "stream", "clients",
                    (json_int_t)(d->http ? na__http_ws_clients(d->http, "/stream") : 0));
    if (doc) {
        json_t *ing = na__live_status_json(d);
        json_object_set_new(json_object_get(doc, "stream"), "topology_clients",
                            json_integer((json_int_t)(d->http ? na__http_ws_clients(
                                                                    d->http, "/topology/stream")
                                                              : 0)));
        json_object_set_new(doc, "nats", json_incref(json_object_get(ing, "nats")));
        json_object_del(ing, "nats");
        json_object_set_new(doc, "ingest", ing);
        json_object_set_new(doc, "snmp", na__snmp_status_json(d));
    }
    send_json(c, 200, doc);
}

/* ---- alerts -------------------------------------------------------------------------------------- */

static const char *const severities[] = {"critical", "major", "minor", "warning", "info", NULL};
static const char *const statuses[] = {"up", "down", "unknown", NULL};

static bool one_of(const char *v, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(v, list[i]) == 0)
            return true;
    return false;
}

/* A `status` filter on nodes or links; false after sending the error. */
static bool status_ok(req_ctx *c, int present, const char *status)
{
    if (present && !one_of(status, statuses)) {
        na__http_error(c->resp, 400, "bad_request", "query parameter status: expected up, down "
                                                    "or unknown");
        return false;
    }
    return true;
}

static void handle_alerts(req_ctx *c)
{
    char status[32], severity[32], node[256];
    int qs, qv, qn, qt;
    na_time_ms since = 0;
    size_t limit;
    json_t *arr;
    na__alert_status st;

    if ((qs = query(c, "status", status, sizeof(status))) < 0 ||
        (qv = query(c, "severity", severity, sizeof(severity))) < 0 ||
        (qn = query(c, "node_id", node, sizeof(node))) < 0 ||
        (qt = query_time(c, "since", &since)) < 0 || query_limit(c, &limit) < 0)
        return;
    if (qs && na__alert_status_parse(status, &st)) {
        na__http_error(c->resp, 400, "bad_request", "query parameter status: expected active, "
                                                    "acknowledged or resolved");
        return;
    }
    if (qv && !one_of(severity, severities)) {
        na__http_error(c->resp, 400, "bad_request", "query parameter severity: expected "
                                                    "critical, major, minor, warning or info");
        return;
    }
    if (c->has_at) {
        rows_json r = {.conv = na__alert_json_from_row, .since = since,
                       .since_key = qt ? "created_at" : NULL};
        int i = 0;
        if (qs) { r.f_key[i] = "status"; r.f_val[i++] = status; }
        if (qv) { r.f_key[i] = "severity"; r.f_val[i++] = severity; }
        if (qn) { r.f_key[i] = "node_id"; r.f_val[i++] = node; }
        if (!(arr = read_rows(c, NA_WH_ALERTS, NULL, &r)))
            return;
    } else {
        na__daemon *d = c->d;
        arr = json_array();
        pthread_mutex_lock(&d->lock);
        for (size_t i = 0; i < d->alerts.count; i++) {
            const na__alert *a = d->alerts.items[i];
            if ((qs && a->status != st) || (qv && strcmp(a->severity, severity) != 0) ||
                (qn && (!a->node_id || strcmp(a->node_id, node) != 0)) ||
                (qt && a->created_at < since))
                continue;
            json_array_append_new(arr, na__alert_json(a));
        }
        pthread_mutex_unlock(&d->lock);
    }
    send_json(c, 200, newest_first(arr, "created_at", limit));
}

typedef struct history_ctx {
    json_t *arr;
} history_ctx;

static int history_cb(const na_wh_version *v, void *ud)
{
    history_ctx *h = ud;
    json_t *o = na__alert_json_from_row(v);

    json_array_append_new(h->arr, json_pack("{s:O, s:o, s:o}", "status",
                                            json_object_get(o, "status"), "valid_from",
                                            na__time_json(v->valid_from), "valid_to",
                                            v->is_current ? json_null() : na__time_json(v->valid_to)));
    json_decref(o);
    return 0;
}

static int feedback_cb(const na_wh_feedback *fb, void *ud)
{
    json_array_append_new(ud, json_pack("{s:s, s:s, s:b, s:o, s:o}", "feedback_id",
                                        fb->feedback_id, "alert_id", fb->alert_id,
                                        "is_false_positive", fb->is_false_positive, "notes",
                                        na_json_str(fb->notes), "created_at",
                                        na__time_json(fb->created_at)));
    return 0;
}

static bool valid_id(const char *id)
{
    size_t n = strlen(id);
    return n > 0 && n <= 200;
}

static void handle_alert(req_ctx *c, const char *id)
{
    history_ctx h;
    json_t *alert = NULL, *fb;
    na_warehouse *wh;
    na_error err;
    int rc;

    na_error_clear(&err);
    if (!c->has_at) {
        na__alert *a;
        pthread_mutex_lock(&c->d->lock);
        a = na__alert_find(&c->d->alerts, id);
        if (a)
            alert = na__alert_json(a);
        pthread_mutex_unlock(&c->d->lock);
    }
    if (!alert && !(alert = read_one(c, NA_WH_ALERTS, id, na__alert_json_from_row, "alert")))
        return;
    if (!(wh = reader(c))) {
        json_decref(alert);
        return;
    }
    fb = json_array();
    h.arr = json_array();
    if ((rc = na_wh_feedback_read(wh, id, c->at, feedback_cb, fb, &err)) ||
        (rc = na_wh_read_history(wh, NA_WH_ALERTS, id, history_cb, &h, &err))) {
        json_decref(alert);
        json_decref(fb);
        json_decref(h.arr);
        send_failure(c, rc, &err);
        return;
    }
    if (c->has_at) {
        /* History as it was known then. */
        json_t *past = json_array(), *x;
        size_t i;
        json_array_foreach(h.arr, i, x) {
            const char *vf = json_string_value(json_object_get(x, "valid_from"));
            na_time_ms t = 0;
            if (vf && na_time_parse(vf, strlen(vf), &t) == NA_OK && t <= c->at)
                json_array_append(past, x);
        }
        json_decref(h.arr);
        h.arr = past;
    }
    json_object_set_new(alert, "feedback", fb);
    json_object_set_new(alert, "history", h.arr);
    json_object_set_new(alert, "at", at_json(c));
    send_json(c, 200, alert);
}

/* Runs a write on the engine and answers with its result (takes over `body`). */
static void command_reply(req_ctx *c, na__cmd_kind kind, const char *id, json_t *body,
                          int status)
{
    na__command cmd;

    memset(&cmd, 0, sizeof(cmd));
    cmd.kind = kind;
    cmd.alert_id = id;
    cmd.input = body;
    na__daemon_command(c->d, &cmd);
    json_decref(body);
    if (cmd.rc) {
        send_failure(c, cmd.rc, &cmd.err);
        return;
    }
    send_json(c, status, cmd.output);
}

static void handle_ack(req_ctx *c, const char *id)
{
    json_t *body = body_object(c, true), *by, *notes;

    if (!body)
        return;
    by = json_object_get(body, "by");
    notes = json_object_get(body, "notes");
    if ((by && !json_is_null(by) && (!json_is_string(by) || json_string_length(by) > 200)) ||
        (notes && !json_is_null(notes) && !json_is_string(notes))) {
        json_decref(body);
        na__http_error(c->resp, 400, "bad_request", "ack body: \"by\" and \"notes\" must be "
                                                    "strings or null");
        return;
    }
    command_reply(c, NA_CMD_ACK, id, body, 200);
}

static void handle_feedback(req_ctx *c, const char *id)
{
    json_t *body = body_object(c, false), *fp, *notes;
    const char *key;
    json_t *v;

    if (!body)
        return;
    fp = json_object_get(body, "is_false_positive");
    notes = json_object_get(body, "notes");
    json_object_foreach(body, key, v) {
        if (strcmp(key, "is_false_positive") && strcmp(key, "notes")) {
            json_decref(body);
            na__http_error(c->resp, 400, "bad_request", "feedback: unknown member \"%.60s\" "
                                                        "(expected is_false_positive, notes)",
                           key);
            return;
        }
    }
    if (!json_is_boolean(fp)) {
        json_decref(body);
        na__http_error(c->resp, 400, "bad_request",
                       "feedback: \"is_false_positive\" is required and must be true or false");
        return;
    }
    if (notes && !json_is_null(notes) &&
        (!json_is_string(notes) || json_string_length(notes) > 10000)) {
        json_decref(body);
        na__http_error(c->resp, 400, "bad_request",
                       "feedback: \"notes\" must be a string of at most 10000 characters, or "
                       "null");
        return;
    }
    command_reply(c, NA_CMD_FEEDBACK, id, body, 201);
}

/* ---- the alert manager: silences, feedback effects, groups (docs/alerts.md) -------------------- */

/* GET /silences and GET /tunings: live from the store, or as of ?at= from the config rows. */
static void handle_silences_tunings(req_ctx *c, bool silences)
{
    json_t *doc;

    if (c->has_at) {
        na_warehouse *wh = reader(c);
        json_t *sil = NULL, *tun = NULL;
        na_error err;
        int rc;
        if (!wh)
            return;
        na_error_clear(&err);
        if ((rc = na__alert_silences_tunings_at(wh, c->at, &sil, &tun, &err))) {
            send_failure(c, rc, &err);
            return;
        }
        doc = silences ? sil : tun;
        json_decref(silences ? tun : sil);
    } else {
        na_time_ms now = na_time_now();
        pthread_mutex_lock(&c->d->lock);
        doc = silences ? na__alert_silences_json(&c->d->alerts, now)
                       : na__alert_tunings_json(&c->d->alerts, now);
        pthread_mutex_unlock(&c->d->lock);
    }
    send_json(c, 200, doc);
}

static void handle_silence_post(req_ctx *c)
{
    json_t *body = body_object(c, false);

    /* The engine checks the members (one place for the API and the tests). */
    if (body)
        command_reply(c, NA_CMD_SILENCE_ADD, NULL, body, 201);
}

static int group_rows_cb(const na_wh_version *v, void *ud)
{
    return na__alert_store_load_row(ud, v) ? 1 : 0;
}

/* GET /alerts/groups: the live alerts grouped by node and by site; as of ?at=, the alerts that
 * were open then. */
static void handle_alert_groups(req_ctx *c)
{
    json_t *doc;

    if (c->has_at) {
        na_warehouse *wh = reader(c);
        na__alert_store past;
        na_error err;
        int rc;
        if (!wh)
            return;
        na_error_clear(&err);
        na__alert_store_init(&past);
        na__alert_store_configure(&past, &c->d->cfg.alerting);
        rc = na_wh_read_at(wh, NA_WH_ALERTS, c->at, NULL, group_rows_cb, &past, &err);
        if (rc == 1)
            rc = na_error_set(&err, NA_ENOMEM, "out of memory");
        doc = rc ? NULL : na__alert_groups_json(&past);
        na__alert_store_free(&past);
        if (rc) {
            send_failure(c, rc, &err);
            return;
        }
    } else {
        pthread_mutex_lock(&c->d->lock);
        doc = na__alert_groups_json(&c->d->alerts);
        pthread_mutex_unlock(&c->d->lock);
    }
    send_json(c, 200, doc);
}

/* ---- anomalies --------------------------------------------------------------------------------- */

static void handle_anomalies(req_ctx *c)
{
    char detector[64];
    int qd, qt;
    na_time_ms since = 0;
    size_t limit;
    json_t *arr;

    if ((qd = query(c, "detector", detector, sizeof(detector))) < 0 ||
        (qt = query_time(c, "since", &since)) < 0 || query_limit(c, &limit) < 0)
        return;
    if (c->has_at) {
        rows_json r = {.conv = na__anomaly_json_from_row, .since = since,
                       .since_key = qt ? "detected_at" : NULL};
        if (qd) {
            r.f_key[0] = "detector";
            r.f_val[0] = detector;
        }
        if (!(arr = read_rows(c, NA_WH_ANOMALIES, NULL, &r)))
            return;
    } else {
        na__daemon *d = c->d;
        arr = json_array();
        pthread_mutex_lock(&d->lock);
        for (size_t i = 0; i < d->n_anomalies; i++) {
            const na__anomaly *a = &d->anomalies[i];
            if ((qd && strcmp(a->detector, detector) != 0) || (qt && a->detected_at < since))
                continue;
            json_array_append_new(arr, na__anomaly_json(a));
        }
        pthread_mutex_unlock(&d->lock);
    }
    send_json(c, 200, newest_first(arr, "detected_at", limit));
}

/* ---- topology ----------------------------------------------------------------------------------- */

static void handle_topology(req_ctx *c)
{
    na__daemon *d = c->d;
    na_topology *topo;
    char *text = NULL;
    size_t len = 0;

    if (c->has_at) {
        na_warehouse *wh = reader(c);
        na_error err;
        if (!wh)
            return;
        na_error_clear(&err);
        text = na__wh_topology_text(wh, c->at, &c->d->topo_cache, &len, &err);
        if (!text) {
            send_failure(c, err.code ? err.code : NA_ENOMEM, &err);
            return;
        }
        na__http_respond(c->resp, 200, "application/json", text, len);
        return;
    }
    /* The current version's text is built once and shared by every request until it changes. */
    pthread_mutex_lock(&d->topo_json_lock);
    pthread_mutex_lock(&d->lock);
    topo = d->topo ? na_topology_ref(d->topo) : NULL;
    if (d->topo_json) {
        text = malloc(d->topo_json_len + 1);
        if (text) {
            memcpy(text, d->topo_json, d->topo_json_len + 1);
            len = d->topo_json_len;
        }
    }
    pthread_mutex_unlock(&d->lock);
    if (!text && topo) {
        size_t elen;
        char *exp = na_export_json(topo, NA_EXPORT_EXPLICIT, &elen);
        /* Our export starts with '{'; "at" goes first so the document stays one object. */
        if (exp && elen >= 2) {
            static const char at_null[] = "{\"at\":null,";
            len = elen - 1 + sizeof(at_null) - 1;
            text = malloc(len + 1);
            if (text) {
                memcpy(text, at_null, sizeof(at_null) - 1);
                memcpy(text + sizeof(at_null) - 1, exp + 1, elen);
                text[len] = '\0';
                pthread_mutex_lock(&d->lock);
                if (d->topo == topo && !d->topo_json) {
                    d->topo_json = malloc(len + 1);
                    if (d->topo_json) {
                        memcpy(d->topo_json, text, len + 1);
                        d->topo_json_len = len;
                    }
                }
                pthread_mutex_unlock(&d->lock);
            }
        }
        free(exp);
    }
    pthread_mutex_unlock(&d->topo_json_lock);
    na_topology_unref(topo);
    if (!topo) {
        /* Nothing loaded yet: an empty snapshot, version 0. */
        send_json(c, 200, json_pack("{s:n, s:s, s:n, s:I, s:o, s:[], s:[]}", "at", "type",
                                    "snapshot", "name", "version", (json_int_t)0, "timestamp",
                                    na__time_json(na_time_now()), "nodes", "links"));
        return;
    }
    if (!text) {
        na__http_error(c->resp, 503, "service_unavailable", "out of memory");
        return;
    }
    na__http_respond(c->resp, 200, "application/json", text, len);
}

/* Nodes or links (one with `id`) as of c->at as array text; NULL after sending the failure. */
static char *rows_text(req_ctx *c, na_wh_table table, const char *id, const na__row_filter *f,
                       size_t nf, size_t *len)
{
    na_warehouse *wh = reader(c);
    na_error err;
    char *text;

    if (!wh)
        return NULL;
    na_error_clear(&err);
    text = na__wh_rows_text(wh, table, c->at, id, f, nf, len, &err);
    if (!text)
        send_failure(c, err.code ? err.code : NA_ENOMEM, &err);
    return text;
}

/* The same as a JSON array (for the handlers that pick from it). */
static json_t *rows_array(req_ctx *c, na_wh_table table, const char *id)
{
    size_t len = 0;
    char *text = rows_text(c, table, id, NULL, 0, &len);
    json_t *arr;

    if (!text)
        return NULL;
    arr = json_loadb(text, len, 0, NULL);
    free(text);
    if (!json_is_array(arr)) {
        json_decref(arr);
        na__http_error(c->resp, 503, "service_unavailable", "out of memory");
        return NULL;
    }
    return arr;
}

/* Large answers go out as the text written from the rows. */
static void send_rows_text(req_ctx *c, na_wh_table table, const na__row_filter *f, size_t nf)
{
    size_t len = 0;
    char *text = rows_text(c, table, NULL, f, nf, &len);

    if (text)
        na__http_respond(c->resp, 200, "application/json", text, len);
}

static void handle_nodes(req_ctx *c)
{
    char role[128], site[128], status[16];
    int qr, qs, qst;
    na__row_filter f[3];
    size_t nf = 0;

    if ((qr = query(c, "role", role, sizeof(role))) < 0 ||
        (qs = query(c, "site", site, sizeof(site))) < 0 ||
        (qst = query(c, "status", status, sizeof(status))) < 0 || !status_ok(c, qst, status))
        return;
    if (qr)
        f[nf++] = (na__row_filter){"role", role};
    if (qs)
        f[nf++] = (na__row_filter){"site", site};
    if (qst)
        f[nf++] = (na__row_filter){"status", status};
    send_rows_text(c, NA_WH_NODES, f, nf);
}

static void handle_links(req_ctx *c)
{
    char status[16];
    int qst;
    na__row_filter f[1] = {{"status", status}};

    if ((qst = query(c, "status", status, sizeof(status))) < 0 || !status_ok(c, qst, status))
        return;
    send_rows_text(c, NA_WH_LINKS, f, qst ? 1 : 0);
}

/* Finds the node object with `id` in result.nodes. */
static json_t *result_node(json_t *result, const char *id)
{
    json_t *nodes = json_object_get(result, "nodes"), *n;
    size_t i;

    json_array_foreach(nodes, i, n) {
        if (field_is(n, "id", id))
            return n;
    }
    return NULL;
}

static json_t *null_analytics(void)
{
    return json_pack("{s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n}", "degree",
                     "betweenness", "closeness", "pagerank", "eigenvector", "articulation_point",
                     "redundancy", "importance", "relative_loss", "community", "cluster_type");
}

static int cmp_link_id(const void *x, const void *y)
{
    return strcmp((*(const na_link *const *)x)->id, (*(const na_link *const *)y)->id);
}

/*
 * The live answer from memory: the current topology's links of the node (in id order, as the
 * warehouse reads them) and its values in the newest analysis. The same facts as the current
 * rows, without reading every link and parsing every stored result (about 200 ms at 10,000
 * nodes). False when nothing is loaded yet.
 */
static bool live_node_extras(na__daemon *d, const char *id, json_t *node)
{
    na_topology *t;
    na__analysis_bundle *b;
    const na_link **mine;
    json_t *links, *neighbors, *an;
    size_t n = 0, v;

    pthread_mutex_lock(&d->lock);
    t = d->topo ? na_topology_ref(d->topo) : NULL;
    b = na__bundle_ref(d->bundle);
    pthread_mutex_unlock(&d->lock);
    mine = t ? malloc((na_topology_link_count(t) + 1) * sizeof(*mine)) : NULL;
    if (!mine) {
        na_topology_unref(t);
        na__bundle_unref(b);
        return false;
    }
    for (size_t i = 0; i < na_topology_link_count(t); i++) {
        const na_link *l = na_topology_link(t, i);
        if (strcmp(l->source, id) == 0 || strcmp(l->target, id) == 0)
            mine[n++] = l;
    }
    qsort(mine, n, sizeof(*mine), cmp_link_id);
    links = json_array();
    neighbors = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(links, json_string(mine[i]->id));
        json_array_append_new(neighbors, json_string(strcmp(mine[i]->source, id) == 0
                                                         ? mine[i]->target
                                                         : mine[i]->source));
    }
    an = null_analytics();
    if (b && na_topology_find_node(b->a.topo, id, &v) == NA_OK) {
        const na_analysis *a = &b->a;
        if (a->kinds & NA_ANALYSIS_CENTRALITY) {
            json_object_set_new(an, "degree", json_integer(a->cent.degree[v]));
            json_object_set_new(an, "betweenness", na_json_real(a->cent.betweenness[v]));
            json_object_set_new(an, "closeness", na_json_real(a->cent.closeness[v]));
            json_object_set_new(an, "pagerank", na_json_real(a->cent.pagerank[v]));
            json_object_set_new(an, "eigenvector", na_json_real(a->cent.eigenvector[v]));
        }
        if (a->kinds & NA_ANALYSIS_STRUCTURE)
            json_object_set_new(an, "articulation_point", json_boolean(a->st.articulation[v]));
        if (a->kinds & NA_ANALYSIS_COMMUNITIES)
            json_object_set_new(an, "community", json_integer(a->leiden.membership[v]));
        if (a->kinds & NA_ANALYSIS_ROBUSTNESS) {
            json_object_set_new(an, "redundancy", json_integer(a->rob.redundancy[v]));
            json_object_set_new(an, "importance", na_json_real(a->rob.importance[v]));
            json_object_set_new(an, "relative_loss", na_json_real(a->rob.relative_loss[v]));
        }
        for (size_t k = 0; (a->kinds & NA_ANALYSIS_CLUSTERS) && k < a->clusters.count; k++) {
            const na_cluster *cl = &a->clusters.items[k];
            if (cl->kind != NA_CLUSTER_COMPONENT)
                continue;
            for (size_t m = 0; m < cl->n_members; m++)
                if (cl->members[m] == v)
                    json_object_set_new(an, "cluster_type",
                                        json_string(na_cluster_type_name(cl->type)));
        }
    }
    free(mine);
    na_topology_unref(t);
    na__bundle_unref(b);
    json_object_set_new(node, "links", links);
    json_object_set_new(node, "neighbors", neighbors);
    json_object_set_new(node, "analytics", an);
    return true;
}

/* The same from the warehouse as of c->at; false after sending the failure. */
static bool stored_node_extras(req_ctx *c, const char *id, json_t *node)
{
    json_t *all, *links, *neighbors, *an, *l;
    static const char *const kinds[] = {"centrality", "structure", "communities", "robustness",
                                        "clusters"};
    na_error err;
    size_t i;
    int rc;

    if (!(all = rows_array(c, NA_WH_LINKS, NULL)))
        return false;
    links = json_array();
    neighbors = json_array();
    json_array_foreach(all, i, l) {
        bool src = field_is(l, "source", id), dst = field_is(l, "target", id);
        if (!src && !dst)
            continue;
        json_array_append(links, json_object_get(l, "id"));
        json_array_append(neighbors, json_object_get(l, src ? "target" : "source"));
    }
    json_decref(all);
    an = null_analytics();
    na_error_clear(&err);
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        stored_result s;
        if ((rc = read_result(c, kinds[k], &s, &err))) {
            json_decref(links);
            json_decref(neighbors);
            json_decref(an);
            send_failure(c, rc, &err);
            return false;
        }
        if (k == 4) {
            /* The type of the component the node is in. */
            json_t *cl, *x;
            size_t j;
            json_array_foreach(json_object_get(s.result, "clusters"), j, cl) {
                json_t *members = json_object_get(cl, "nodes");
                size_t m;
                if (!field_is(cl, "kind", "component"))
                    continue;
                json_array_foreach(members, m, x) {
                    if (json_is_string(x) && strcmp(json_string_value(x), id) == 0)
                        json_object_set(an, "cluster_type", json_object_get(cl, "type"));
                }
            }
        } else {
            json_t *nr = result_node(s.result, id);
            const char *key;
            json_t *val;
            json_object_foreach(nr, key, val) {
                if (json_object_get(an, key))
                    json_object_set(an, key, val);
            }
        }
        json_decref(s.result);
    }
    json_object_set_new(node, "links", links);
    json_object_set_new(node, "neighbors", neighbors);
    json_object_set_new(node, "analytics", an);
    return true;
}

static void handle_node(req_ctx *c, const char *id)
{
    json_t *found = rows_array(c, NA_WH_NODES, id), *node;

    if (!found || !(node = first_or_404(c, found, "node", id)))
        return;
    if (!(!c->has_at && live_node_extras(c->d, id, node)) && !stored_node_extras(c, id, node)) {
        json_decref(node);
        return;
    }
    json_object_set_new(node, "at", at_json(c));
    send_json(c, 200, node);
}

static void handle_clusters(req_ctx *c)
{
    stored_result s;
    na_error err;
    json_t *cl;
    int rc;

    na_error_clear(&err);
    if ((rc = read_result(c, "clusters", &s, &err))) {
        send_failure(c, rc, &err);
        return;
    }
    cl = json_incref(json_object_get(s.result, "clusters"));
    json_decref(s.result);
    send_json(c, 200, json_pack("{s:o, s:I, s:o}", "at", at_json(c), "topology_version",
                                (json_int_t)s.version, "clusters", cl ? cl : json_array()));
}

static void handle_analytics_kind(req_ctx *c, const char *kind)
{
    unsigned bit = na_analysis_kind_parse(kind);
    stored_result s;
    na_error err;
    int rc;

    if (!bit || bit == NA_ANALYSIS_ALL) {
        na__http_error(c->resp, 404, "not_found", "no analysis \"%.40s\" (known: centrality, "
                                                  "structure, communities, spectral, motifs, "
                                                  "clusters, robustness, whatif, diff)", kind);
        return;
    }
    if (!c->has_at) {
        /* The newest analysis straight from memory: its text is spliced in, not re-parsed. */
        na__analysis_bundle *b;
        char *text = NULL, tb[40];
        size_t len = 0;
        pthread_mutex_lock(&c->d->lock);
        b = na__bundle_ref(c->d->bundle);
        pthread_mutex_unlock(&c->d->lock);
        if (b) {
            unsigned idx = 0;
            while (!((1u << idx) & bit))
                idx++;
            if (b->kind_json[idx]) {
#define KIND_FMT "{\"kind\":\"%s\",\"at\":null,\"topology_version\":%llu,\"computed_at\":\"%s\",\"result\":%s}"
                na_time_format(b->computed_at, tb, sizeof(tb));
                len = sizeof(KIND_FMT) + strlen(kind) + 24 + strlen(tb) +
                      strlen(b->kind_json[idx]);
                text = malloc(len);
                if (text)
                    len = (size_t)snprintf(text, len, KIND_FMT, kind,
                                           (unsigned long long)na_topology_version(b->a.topo), tb,
                                           b->kind_json[idx]);
#undef KIND_FMT
            }
            na__bundle_unref(b);
            if (text) {
                na__http_respond(c->resp, 200, "application/json", text, len);
                return;
            }
        }
    }
    na_error_clear(&err);
    if ((rc = read_result(c, kind, &s, &err))) {
        send_failure(c, rc, &err);
        return;
    }
    if (!s.found) {
        json_decref(s.result);
        na__http_error(c->resp, 404, "not_found", "no %s analysis %s", kind,
                       c->has_at ? "at that time" : "yet");
        return;
    }
    send_json(c, 200, json_pack("{s:s, s:o, s:I, s:o, s:o}", "kind", kind, "at", at_json(c),
                                "topology_version", (json_int_t)s.version, "computed_at",
                                na__time_json(s.valid_from), "result",
                                s.result ? s.result : json_object()));
}

static void handle_whatif(req_ctx *c)
{
    json_t *body = body_object(c, false), *fail, *x, *doc = NULL;
    na_topology *topo;
    na_graph *g = NULL;
    na_failure_set set;
    na_whatif_result r;
    na_error err;
    size_t i;
    int rc = NA_OK;

    if (!body)
        return;
    fail = json_object_get(body, "fail");
    if (!json_is_array(fail) || json_array_size(fail) == 0 ||
        json_array_size(fail) > MAX_WHATIF_FAILS) {
        json_decref(body);
        na__http_error(c->resp, 400, "bad_request", "whatif: \"fail\" must be a list of 1 to %d "
                                                    "node ids or links (\"A-B\")",
                       MAX_WHATIF_FAILS);
        return;
    }
    json_array_foreach(fail, i, x) {
        if (!json_is_string(x) || json_string_length(x) == 0) {
            json_decref(body);
            na__http_error(c->resp, 400, "bad_request", "whatif: fail[%zu] must be a non-empty "
                                                        "string", i);
            return;
        }
    }
    pthread_mutex_lock(&c->d->lock);
    topo = c->d->topo ? na_topology_ref(c->d->topo) : NULL;
    pthread_mutex_unlock(&c->d->lock);
    if (!topo) {
        json_decref(body);
        na__http_error(c->resp, 503, "service_unavailable", "no topology loaded yet");
        return;
    }
    memset(&set, 0, sizeof(set));
    memset(&r, 0, sizeof(r));
    na_error_clear(&err);
    pthread_mutex_lock(&c->d->igraph_lock);
    rc = na_graph_from_topology(topo, &g, &err);
    json_array_foreach(fail, i, x) {
        if (rc)
            break;
        rc = na_failure_set_add(&set, g, json_string_value(x), &err);
    }
    if (rc == NA_OK)
        rc = na_whatif_run(g, &set, &r, &err);
    if (rc == NA_OK)
        doc = na_whatif_json(g, &set, &r);
    na_whatif_result_free(&r);
    na_failure_set_free(&set);
    na_graph_free(g);
    pthread_mutex_unlock(&c->d->igraph_lock);
    na_topology_unref(topo);
    json_decref(body);
    if (rc) {
        send_failure(c, rc == NA_ENOTFOUND ? NA_EINVAL : rc, &err);
        return;
    }
    send_json(c, 200, doc);
}

static void handle_diff(req_ctx *c)
{
    na_time_ms from, to = na_time_now();
    int qf, qt, rc;
    na_warehouse *wh;
    na_topology *a = NULL, *b = NULL;
    na_diff_result r;
    na_error err;
    char fs[40], ts[40];

    if ((qf = query_time(c, "from", &from)) < 0 || (qt = query_time(c, "to", &to)) < 0)
        return;
    if (!qf) {
        na__http_error(c->resp, 400, "bad_request", "diff: query parameter from is required "
                                                    "(an RFC 3339 time)");
        return;
    }
    if (!qt && c->has_at)
        to = c->at;
    if (!(wh = reader(c)))
        return;
    memset(&r, 0, sizeof(r));
    na_error_clear(&err);
    if ((rc = na__wh_topology_at(wh, from, &a, &err)) ||
        (rc = na__wh_topology_at(wh, to, &b, &err)) ||
        (rc = na_diff_topologies(a, b, &r, &err))) {
        na_topology_unref(a);
        na_topology_unref(b);
        send_failure(c, rc, &err);
        return;
    }
    send_json(c, 200, na_diff_json(&r, na_time_format(from, fs, sizeof(fs)),
                                   na_time_format(to, ts, sizeof(ts))));
    na_diff_result_free(&r);
    na_topology_unref(a);
    na_topology_unref(b);
}

/* ---- metrics ------------------------------------------------------------------------------------- */

typedef struct metric_ctx {
    json_t *arr;
} metric_ctx;

static int metric_cb(const na_wh_metric_point *p, void *ud)
{
    metric_ctx *m = ud;

    json_array_append_new(
        m->arr, json_pack("{s:o, s:s, s:o, s:o, s:I, s:o, s:o, s:I}", "node_id",
                          na_json_str(p->sample.node_id && *p->sample.node_id ? p->sample.node_id
                                                                              : NULL),
                          "name", p->sample.name, "at", na__time_json(p->sample.at), "value",
                          na_json_real(p->sample.value), "count",
                          (json_int_t)(p->count ? p->count : 1), "min",
                          na_json_real(p->step_ms ? p->min : p->sample.value), "max",
                          na_json_real(p->step_ms ? p->max : p->sample.value), "step_ms",
                          (json_int_t)p->step_ms));
    return 0;
}

static void handle_metrics(req_ctx *c)
{
    char node[256], name[128];
    int qn, qm, rc;
    na_time_ms since = 0, until = NA_TIME_OPEN;
    size_t limit;
    metric_ctx m;
    na_warehouse *wh;
    na_error err;

    if ((qn = query(c, "node_id", node, sizeof(node))) < 0 ||
        (qm = query(c, "name", name, sizeof(name))) < 0 || query_time(c, "since", &since) < 0 ||
        query_time(c, "until", &until) < 0 || query_limit(c, &limit) < 0)
        return;
    if (c->has_at && until > c->at + 1)
        until = c->at + 1;
    if (!(wh = reader(c)))
        return;
    m.arr = json_array();
    na_error_clear(&err);
    if ((rc = na_wh_metrics_read(wh, qn ? node : NULL, qm ? name : NULL, since, until, limit,
                                 metric_cb, &m, &err))) {
        json_decref(m.arr);
        send_failure(c, rc, &err);
        return;
    }
    send_json(c, 200, json_pack("{s:o, s:o}", "at", at_json(c), "points", m.arr));
}

/* ---- config ------------------------------------------------------------------------------------ */

typedef struct cfg_rows {
    json_t *branding, *banners;
} cfg_rows;

static int cfg_cb(const na_wh_version *v, void *ud)
{
    cfg_rows *r = ud;

    na__config_from_row(v, &r->branding, &r->banners);
    return 0;
}

static void handle_config_get(req_ctx *c)
{
    if (c->has_at) {
        cfg_rows r = {NULL, NULL};
        na_warehouse *wh = reader(c);
        na_error err;
        int rc;
        if (!wh)
            return;
        na_error_clear(&err);
        if ((rc = na_wh_read_at(wh, NA_WH_CONFIG, c->at, NULL, cfg_cb, &r, &err))) {
            json_decref(r.branding);
            json_decref(r.banners);
            send_failure(c, rc, &err);
            return;
        }
        if (!r.branding) {
            json_t *empty = json_object();
            r.branding = na__config_check_branding(empty, NULL, NULL);
            json_decref(empty);
        }
        send_json(c, 200, json_pack("{s:o, s:o, s:o}", "at", at_json(c), "branding", r.branding,
                                    "banners", r.banners ? r.banners : json_array()));
        return;
    }
    send_json(c, 200, na__daemon_config_json(c->d));
}

static void handle_config_put(req_ctx *c)
{
    json_t *body = body_object(c, false);
    const char *key;
    json_t *v;

    if (!body)
        return;
    json_object_foreach(body, key, v) {
        if (strcmp(key, "branding") && strcmp(key, "banners") && strcmp(key, "at")) {
            json_decref(body);
            na__http_error(c->resp, 400, "bad_request", "config: unknown member \"%.60s\" "
                                                        "(expected branding, banners)", key);
            return;
        }
    }
    command_reply(c, NA_CMD_CONFIG, NULL, body, 200);
}


/* ---- SNMP devices (docs/snmp.md) --------------------------------------------------------------- */

/* A short summary of one device document (GET /devices). */
/* The counts of a device document (live or stored) into o: ports, ports_up, neighbors, hosts,
 * sensors. */
static void device_counts(json_t *doc, json_t *o)
{
    static const char *const lists[] = {"ports", "neighbors", "hosts", "sensors"};
    size_t up = 0, i;
    json_t *p;

    for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++)
        json_object_set_new(o, lists[k], json_integer((json_int_t)json_array_size(
                                             json_object_get(doc, lists[k]))));
    json_array_foreach(json_object_get(doc, "ports"), i, p)
        up += field_is(p, "ifOperStatus", "up");
    json_object_set_new(o, "ports_up", json_integer((json_int_t)up));
}

/* A short summary of one live device document (GET /devices). */
static json_t *device_summary(json_t *doc)
{
    static const char *const keep[] = {"node_id", "target", "mgmt_ip", "reachable", "reason",
                                       "polled_at", "site", "latitude", "longitude",
                                       "geo_source"};
    json_t *o = json_object(), *sys = json_object_get(doc, "system");

    for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
        json_object_set(o, keep[k], json_object_get(doc, keep[k]) ? json_object_get(doc, keep[k])
                                                                  : json_null());
    json_object_set(o, "sysName", json_object_get(sys, "sysName"));
    json_object_set(o, "sysDescr", json_object_get(sys, "sysDescr"));
    json_object_set(o, "sysObjectID", json_object_get(sys, "sysObjectID"));
    device_counts(doc, o);
    return o;
}

/* Stored device tables as of c->at, grouped by node: node id -> {ports, neighbors, hosts,
 * sensors} in the poll document's names. */
typedef struct stored_devices {
    json_t *by_node;
    const char *only;          /* one node id, or NULL */
    na_wh_table table;
    int rc;
} stored_devices;

static json_t *cell(const na_wh_value *v)
{
    switch (v->type) {
    case NA_WH_TEXT: return json_string(v->v.s);
    case NA_WH_INT: return json_integer((json_int_t)v->v.i);
    case NA_WH_REAL: return na_json_real(v->v.r);
    default: return json_null();
    }
}

static int stored_device_cb(const na_wh_version *ver, void *ud)
{
    static const char *const names[][9] = {
        [NA_WH_PORTS] = {NULL, "ifIndex", "ifName", "ifDescr", "ifAlias", "ifType", "ifSpeed",
                         "ifAdminStatus", "ifOperStatus"},
        [NA_WH_HOSTS] = {"mac", "ip", NULL, "port_id", "vlan"},
        [NA_WH_SENSORS] = {NULL, "kind", "descr", "unit", "status"},
        [NA_WH_NEIGHBORS] = {NULL, "protocol", "local_ifIndex", "local_ifName", "remote_sysname",
                             "remote_chassis_id", "remote_port", "remote_mgmt_ip"},
    };
    static const char *const lists[] = {[NA_WH_PORTS] = "ports", [NA_WH_HOSTS] = "hosts",
                                        [NA_WH_SENSORS] = "sensors",
                                        [NA_WH_NEIGHBORS] = "neighbors"};
    stored_devices *sd = ud;
    const na_wh_value *v = ver->row.values;
    size_t ncols;
    const char *node;
    json_t *o, *dev, *attrs = NULL;

    na_wh_table_columns(sd->table, &ncols);
    /* node_id is column 0 except in hosts (column 2) */
    node = sd->table == NA_WH_HOSTS ? (v[2].type == NA_WH_TEXT ? v[2].v.s : NULL)
                                    : (v[0].type == NA_WH_TEXT ? v[0].v.s : NULL);
    if (!node || (sd->only && strcmp(node, sd->only) != 0))
        return 0;
    if (!(o = json_object()))
        goto oom;
    if (sd->table == NA_WH_SENSORS) {
        const char *colon = strchr(ver->row.id + strlen(node), ':');
        json_object_set_new(o, "id", json_string(colon ? colon + 1 : ver->row.id));
    }
    for (size_t k = 0; k + 1 < ncols && k < 9; k++)
        if (names[sd->table][k])
            json_object_set_new(o, names[sd->table][k], cell(&v[k]));
    if (v[ncols - 1].type == NA_WH_TEXT)
        attrs = json_loads(v[ncols - 1].v.s, 0, NULL);
    if (json_is_object(attrs))
        json_object_update(o, attrs);
    json_decref(attrs);
    json_object_set_new(o, "valid_from", na__time_json(ver->valid_from));
    if (!(dev = json_object_get(sd->by_node, node))) {
        dev = json_pack("{s:s, s:[], s:[], s:[], s:[]}", "node_id", node, "ports", "neighbors",
                        "hosts", "sensors");
        if (!dev || json_object_set_new(sd->by_node, node, dev)) {
            json_decref(o);
            goto oom;
        }
    }
    json_array_append_new(json_object_get(dev, lists[sd->table]), o);
    return 0;
oom:
    sd->rc = NA_ENOMEM;
    return 1;
}

/* NULL after sending the failure. */
static json_t *stored_devices_at(req_ctx *c, const char *only)
{
    static const na_wh_table tables[] = {NA_WH_PORTS, NA_WH_NEIGHBORS, NA_WH_HOSTS,
                                         NA_WH_SENSORS};
    na_warehouse *wh = reader(c);
    stored_devices sd = {.only = only};
    na_error err;
    int rc = NA_OK;

    if (!wh)
        return NULL;
    sd.by_node = json_object();
    na_error_clear(&err);
    for (size_t k = 0; k < sizeof(tables) / sizeof(tables[0]) && rc == NA_OK; k++) {
        sd.table = tables[k];
        rc = na_wh_read_at(wh, tables[k], c->at, NULL, stored_device_cb, &sd, &err);
        if (rc == NA_OK && sd.rc)
            rc = na_error_set(&err, sd.rc, "out of memory");
    }
    if (rc) {
        json_decref(sd.by_node);
        send_failure(c, rc, &err);
        return NULL;
    }
    return sd.by_node;
}

static void handle_devices(req_ctx *c)
{
    json_t *docs = c->has_at ? NULL : na__snmp_live_docs(c->d), *out = json_array(), *doc;
    const char *id;

    if (c->has_at) {
        if (!(docs = stored_devices_at(c, NULL))) {
            json_decref(out);
            return;
        }
        json_object_foreach(docs, id, doc) {
            json_t *o = json_pack("{s:s}", "node_id", id);
            device_counts(doc, o);
            json_array_append_new(out, o);
        }
    } else if (docs) {
        json_object_foreach(docs, id, doc)
            json_array_append_new(out, device_summary(doc));
    }
    json_decref(docs);
    send_json(c, 200, out);
}

static void handle_device(req_ctx *c, const char *id)
{
    json_t *docs, *doc;

    if (!c->has_at) {
        docs = na__snmp_live_docs(c->d);
        doc = json_deep_copy(json_object_get(docs, id));
        json_decref(docs);
    } else {
        if (!(docs = stored_devices_at(c, id)))
            return;
        doc = json_incref(json_object_get(docs, id));
        json_decref(docs);
    }
    if (!doc) {
        na__http_error(c->resp, 404, "not_found", "no polled device %s%s", id,
                       c->has_at ? " at that time" : "");
        return;
    }
    json_object_set_new(doc, "at", at_json(c));
    send_json(c, 200, doc);
}

/* ---- routing ------------------------------------------------------------------------------------ */

enum { R_GET = 1, R_POST = 2, R_PUT = 4, R_DELETE = 8 };

typedef struct route {
    const char *pattern;      /* segments; "*" matches one */
    unsigned methods;
    bool write;
} route;

static const route routes[] = {
    {"status", R_GET, false},
    {"alerts", R_GET, false},
    {"alerts/groups", R_GET, false},
    {"alerts/*", R_GET, false},
    {"alerts/*/ack", R_POST, true},
    {"alerts/*/feedback", R_POST, true},
    {"silences", R_GET | R_POST, true},
    {"silences/*", R_DELETE, true},
    {"tunings", R_GET, false},
    {"tunings/*", R_DELETE, true},
    {"anomalies", R_GET, false},
    {"topology", R_GET, false},
    {"nodes", R_GET, false},
    {"nodes/*", R_GET, false},
    {"links", R_GET, false},
    {"clusters", R_GET, false},
    {"analytics/whatif", R_POST, false},
    {"analytics/*", R_GET, false},
    {"metrics", R_GET, false},
    {"devices", R_GET, false},
    {"devices/*", R_GET, false},
    {"config", R_GET | R_PUT, true},
    {"openapi.json", R_GET, false},
    {"docs", R_GET, false},
    {"", R_GET, false},
};

static bool route_matches(const route *r, req_ctx *c)
{
    char pat[64], *save = NULL;
    size_t i = 0;

    snprintf(pat, sizeof(pat), "%s", r->pattern);
    if (!*pat)
        return c->nseg == 0;
    for (char *tok = strtok_r(pat, "/", &save); tok; tok = strtok_r(NULL, "/", &save), i++) {
        if (i >= c->nseg)
            return false;
        if (strcmp(tok, "*") != 0 && strcmp(tok, c->seg[i]) != 0)
            return false;
    }
    return i == c->nseg;
}

static void allow_header(unsigned m, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s", (m & R_GET) ? "GET, HEAD" : "",
             (m & R_POST) ? ((m & R_GET) ? ", POST" : "POST") : "",
             (m & R_PUT) ? ((m & (R_GET | R_POST)) ? ", PUT" : "PUT") : "",
             (m & R_DELETE) ? ((m & (R_GET | R_POST | R_PUT)) ? ", DELETE" : "DELETE") : "");
}

/* Constant-time comparison, so response timing says nothing about the token. */
static bool token_ok(const char *auth, const char *token)
{
    size_t n = strlen(token), m;
    unsigned diff = 0;

    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    auth += 7;
    while (*auth == ' ')
        auth++;
    m = strlen(auth);
    while (m > 0 && (auth[m - 1] == ' ' || auth[m - 1] == '\r'))
        m--;
    diff = (unsigned)(m != n);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned)(token[i] ^ (i < m ? auth[i] : 0));
    return diff == 0;
}

/* /stream is a read: it needs the token when reads are protected. */
bool na__api_authorize_stream(const char *path, const char *authorization,
                              const char *access_token, void *ud)
{
    na__daemon *d = ud;
    char bearer[300];

    (void)path;
    if (!d->cfg.api_token || !d->cfg.protect_reads)
        return true;
    if (token_ok(authorization, d->cfg.api_token))
        return true;
    if (!access_token || strlen(access_token) > 256)
        return false;
    snprintf(bearer, sizeof(bearer), "Bearer %s", access_token);
    return token_ok(bearer, d->cfg.api_token);
}

void na__api_handle(const na__http_request *req, na__http_response *resp, void *ud)
{
    req_ctx c;
    const route *r = NULL;
    unsigned method = 0, allowed = 0;
    char *save = NULL;
    int qa;

    memset(&c, 0, sizeof(c));
    c.d = ud;
    c.req = req;
    c.resp = resp;
    c.at = NA_TIME_NOW;
    if (strlen(req->path) >= sizeof(c.path_copy)) {
        na__http_error(resp, 404, "not_found", "no such resource");
        return;
    }
    snprintf(c.path_copy, sizeof(c.path_copy), "%s", req->path);
    for (char *tok = strtok_r(c.path_copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (c.nseg == MAX_SEGMENTS) {
            na__http_error(resp, 404, "not_found", "no such resource: %.200s", req->path);
            return;
        }
        c.seg[c.nseg++] = tok;
    }
    if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
        method = R_GET;
    else if (strcmp(req->method, "POST") == 0)
        method = R_POST;
    else if (strcmp(req->method, "PUT") == 0)
        method = R_PUT;
    else if (strcmp(req->method, "DELETE") == 0)
        method = R_DELETE;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!route_matches(&routes[i], &c))
            continue;
        /* The GET kinds under analytics/ do not include whatif (its own POST route). */
        if (strcmp(routes[i].pattern, "analytics/*") == 0 && strcmp(c.seg[1], "whatif") == 0)
            continue;
        allowed |= routes[i].methods;
        if (!r && (routes[i].methods & method))
            r = &routes[i];
    }
    if (!allowed) {
        na__http_error(resp, 404, "not_found", "no such resource: %.200s", req->path);
        return;
    }
    if (!r) {
        allow_header(allowed, resp->allow, sizeof(resp->allow));
        na__http_error(resp, 405, "method_not_allowed", "%.10s is not allowed on %.200s (allowed: "
                                                        "%s)", req->method, req->path,
                       resp->allow);
        return;
    }
    /* Writes need the token whenever one is configured (always the case beyond loopback);
     * reads only when protect_reads says so. */
    if (c.d->cfg.api_token &&
        ((method != R_GET) || (c.d->cfg.protect_reads && strcmp(r->pattern, "openapi.json") &&
                               strcmp(r->pattern, "docs")))) {
        if (!token_ok(req->authorization, c.d->cfg.api_token)) {
            snprintf(resp->extra_header_name, sizeof(resp->extra_header_name),
                     "WWW-Authenticate");
            snprintf(resp->extra_header_value, sizeof(resp->extra_header_value),
                     "Bearer realm=\"netassure\"");
            na__http_error(resp, 401, "unauthorized", "this request needs \"Authorization: "
                                                      "Bearer TOKEN\" with the API token");
            return;
        }
    }
    if (method == R_GET) {
        qa = query_time(&c, "at", &c.at);
        if (qa < 0)
            return;
        c.has_at = qa > 0;
        if (!c.has_at)
            c.at = NA_TIME_NOW;
    }
    if (strcmp(r->pattern, "status") == 0)
        handle_status(&c);
    else if (strcmp(r->pattern, "alerts") == 0)
        handle_alerts(&c);
    else if (strcmp(r->pattern, "alerts/groups") == 0)
        handle_alert_groups(&c);
    else if (strcmp(r->pattern, "devices") == 0)
        handle_devices(&c);
    else if (strcmp(r->pattern, "devices/*") == 0)
        handle_device(&c, c.seg[1]);
    else if (strcmp(r->pattern, "silences") == 0)
        method == R_POST ? handle_silence_post(&c) : handle_silences_tunings(&c, true);
    else if (strcmp(r->pattern, "silences/*") == 0)
        valid_id(c.seg[1]) ? command_reply(&c, NA_CMD_SILENCE_DELETE, c.seg[1], NULL, 200)
                           : na__http_error(resp, 404, "not_found", "no such silence");
    else if (strcmp(r->pattern, "tunings") == 0)
        handle_silences_tunings(&c, false);
    else if (strcmp(r->pattern, "tunings/*") == 0)
        valid_id(c.seg[1]) ? command_reply(&c, NA_CMD_TUNING_DELETE, c.seg[1], NULL, 200)
                           : na__http_error(resp, 404, "not_found", "no such tuning");
    else if (strcmp(r->pattern, "alerts/*") == 0)
        valid_id(c.seg[1]) ? handle_alert(&c, c.seg[1])
                           : na__http_error(resp, 404, "not_found", "no such alert");
    else if (strcmp(r->pattern, "alerts/*/ack") == 0)
        valid_id(c.seg[1]) ? handle_ack(&c, c.seg[1])
                           : na__http_error(resp, 404, "not_found", "no such alert");
    else if (strcmp(r->pattern, "alerts/*/feedback") == 0)
        valid_id(c.seg[1]) ? handle_feedback(&c, c.seg[1])
                           : na__http_error(resp, 404, "not_found", "no such alert");
    else if (strcmp(r->pattern, "anomalies") == 0)
        handle_anomalies(&c);
    else if (strcmp(r->pattern, "topology") == 0)
        handle_topology(&c);
    else if (strcmp(r->pattern, "nodes") == 0)
        handle_nodes(&c);
    else if (strcmp(r->pattern, "nodes/*") == 0)
        handle_node(&c, c.seg[1]);
    else if (strcmp(r->pattern, "links") == 0)
        handle_links(&c);
    else if (strcmp(r->pattern, "clusters") == 0)
        handle_clusters(&c);
    else if (strcmp(r->pattern, "analytics/whatif") == 0)
        handle_whatif(&c);
    else if (strcmp(r->pattern, "analytics/*") == 0)
        strcmp(c.seg[1], "diff") == 0 ? handle_diff(&c) : handle_analytics_kind(&c, c.seg[1]);
    else if (strcmp(r->pattern, "metrics") == 0)
        handle_metrics(&c);
    else if (strcmp(r->pattern, "config") == 0)
        method == R_PUT ? handle_config_put(&c) : handle_config_get(&c);
    else if (strcmp(r->pattern, "openapi.json") == 0)
        send_text(&c, 200, "application/json", (const char *)na_embedded_openapi,
                  na_embedded_openapi_len);
    else if (strcmp(r->pattern, "docs") == 0)
        send_text(&c, 200, "text/html; charset=utf-8", (const char *)na_embedded_api_docs,
                  na_embedded_api_docs_len);
    else {
        static const char page[] =
            "<!doctype html><meta charset=utf-8><title>NetAssure</title>"
            "<h1>NetAssure</h1><p>The REST API is described at <a href=\"/docs\">/docs</a> "
            "(<a href=\"/openapi.json\">OpenAPI document</a>). Live events: WebSocket "
            "<code>/stream</code>.</p>";
        send_text(&c, 200, "text/html; charset=utf-8", page, sizeof(page) - 1);
    }
}
