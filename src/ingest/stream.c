/*
 * stream.c: the topology stream's messages (docs/topology-stream.md): parsing one message,
 * writing each kind, and the consumer's sequence rules and counters (ingest/stream.h).
 *
 * Snapshots and deltas are read by the topology JSON readers (na_import_json,
 * na_json_parse_deltas) so the stream accepts exactly what files accept; this file only adds
 * the envelope: the type, the required seq, metrics, and the unknown-field count.
 */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/stream.h"
#include "io/json_util.h"
#include "io/json_writer.h"
#include "netassure/io.h"

#define SOURCE_NAME "<stream>"
/* What a log line shows of a bad message, and how often: the first LOG_FIRST, then every
 * LOG_EVERY-th, so a producer gone wrong cannot flood the log. */
#define LOG_TEXT_MAX 200
#define LOG_FIRST 20
#define LOG_EVERY 1000

/* Top-level keys each type knows; anything else is counted in unknown_fields. The snapshot's
 * list is the topology reader's (NetworkX keys included). */
static const char *const snapshot_keys[] = {"type",  "seq",   "version",  "timestamp",
                                            "name",  "nodes", "links",    "edges",
                                            "directed", "multigraph", "graph", NULL};
static const char *const delta_keys[] = {"type", "seq", "timestamp", "ops", NULL};
static const char *const metrics_keys[] = {"type", "timestamp", "samples", NULL};
static const char *const sample_keys[] = {"node", "link", "name", "value", "timestamp", NULL};

/* ---- Messages -------------------------------------------------------------------------- */

static void msg_reset(na__stream_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->timestamp = -1;
}

/* Frees what the message owns and leaves it empty; NULL is a no-op. */
void na__stream_msg_free(na__stream_msg *m)
{
    if (!m)
        return;
    na_topology_unref(m->snapshot);
    na_delta_free(m->delta);
    for (size_t i = 0; i < m->n_samples; i++) {
        free(m->samples[i].node_id);
        free(m->samples[i].link_id);
        free(m->samples[i].name);
    }
    free(m->samples);
    msg_reset(m);
}

static bool in_list(const char *const *list, const char *key)
{
    for (; *list; list++) {
        if (strcmp(*list, key) == 0)
            return true;
    }
    return false;
}

static size_t count_unknown(const json_t *obj, const char *const *known)
{
    const char *key;
    json_t *v;
    size_t n = 0;

    json_object_foreach((json_t *)obj, key, v) {
        (void)v;
        if (!in_list(known, key))
            n++;
    }
    return n;
}

/* `seq`: required, a non-negative integer. */
static int read_seq(const json_t *root, uint64_t *seq, na_error *err)
{
    const json_t *v = json_object_get(root, "seq");

    if (!v)
        return na_error_set(err, NA_EPARSE, "seq: missing (required on snapshots and deltas)");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return na_error_set(err, NA_EPARSE, "seq: expected a non-negative integer, got %s",
                            json_is_integer(v) ? "a negative one" : na__json_type_name(v));
    *seq = (uint64_t)json_integer_value(v);
    return NA_OK;
}

/* A timestamp: RFC 3339 text or integer milliseconds; -1 when absent or null. */
static int read_time(const json_t *v, const char *what, na_time_ms *out, na_error *err)
{
    *out = -1;
    if (!v || json_is_null(v))
        return NA_OK;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = json_integer_value(v);
        return NA_OK;
    }
    if (json_is_string(v) &&
        na_time_parse(json_string_value(v), json_string_length(v), out) == NA_OK)
        return NA_OK;
    *out = -1;
    return na_error_set(err, NA_EPARSE,
                        "%s: expected an RFC 3339 time or milliseconds since 1970, got %s", what,
                        json_is_string(v) ? "a string that is neither" : na__json_type_name(v));
}

/* A node or link id of a sample: a non-empty string, or an integer (its decimal text). */
static int read_sample_id(const json_t *v, size_t i, const char *what, char **out, na_error *err)
{
    char buf[32];

    *out = NULL;
    if (!v || json_is_null(v))
        return NA_OK;
    if (json_is_string(v) && json_string_length(v) > 0) {
        *out = strdup(json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = strdup(buf);
    } else {
        return na_error_set(err, NA_EPARSE,
                            "samples[%zu].%s: expected a non-empty string or an integer, got %s",
                            i, what, json_is_string(v) ? "an empty string" : na__json_type_name(v));
    }
    return *out ? NA_OK : na_error_set(err, NA_ENOMEM, "out of memory");
}

static int read_sample(const json_t *o, size_t i, na_time_ms msg_at, na_time_ms now,
                       na__stream_sample *s, size_t *unknown, na_error *err)
{
    const json_t *name = json_object_get(o, "name"), *value = json_object_get(o, "value");
    na_time_ms at;
    int rc;

    if (!json_is_object(o))
        return na_error_set(err, NA_EPARSE, "samples[%zu]: expected an object, got %s", i,
                            na__json_type_name(o));
    rc = read_sample_id(json_object_get(o, "node"), i, "node", &s->node_id, err);
    if (!rc)
        rc = read_sample_id(json_object_get(o, "link"), i, "link", &s->link_id, err);
    if (rc)
        return rc;
    if (s->node_id && s->link_id)
        return na_error_set(err, NA_EPARSE, "samples[%zu]: names a node and a link; a sample "
                                            "is about one of them (or neither: network-wide)",
                            i);
    if (!json_is_string(name) || json_string_length(name) == 0)
        return na_error_set(err, NA_EPARSE, "samples[%zu].name: %s", i,
                            name ? "expected a non-empty string" : "missing");
    if (!json_is_number(value))
        return na_error_set(err, NA_EPARSE, "samples[%zu].value: %s%s", i,
                            value ? "expected a number, got " : "missing",
                            value ? na__json_type_name(value) : "");
    rc = read_time(json_object_get(o, "timestamp"), "sample timestamp", &at, err);
    if (rc)
        return rc;
    s->name = strdup(json_string_value(name));
    if (!s->name)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    s->value = json_number_value(value);
    s->at = at >= 0 ? at : msg_at >= 0 ? msg_at : now;
    *unknown += count_unknown(o, sample_keys);
    return NA_OK;
}

static int parse_metrics(const json_t *root, na__stream_msg *out, na_error *err)
{
    const json_t *samples = json_object_get(root, "samples");
    na_time_ms now = na_time_now();
    size_t n;
    int rc;

    rc = read_time(json_object_get(root, "timestamp"), "timestamp", &out->timestamp, err);
    if (rc)
        return rc;
    if (!json_is_array(samples))
        return na_error_set(err, NA_EPARSE, "samples: %s%s",
                            samples ? "expected an array, got " : "missing",
                            samples ? na__json_type_name(samples) : "");
    n = json_array_size(samples);
    out->samples = calloc(n ? n : 1, sizeof(*out->samples));
    if (!out->samples)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        /* Counted before reading so a half-read sample is freed too. */
        out->n_samples++;
        rc = read_sample(json_array_get(samples, i), i, out->timestamp, now, &out->samples[i],
                         &out->unknown_fields, err);
        if (rc)
            return rc;
    }
    out->unknown_fields += count_unknown(root, metrics_keys);
    return NA_OK;
}

static int parse_snapshot(const json_t *root, const char *text, size_t len,
                          na__stream_msg *out, na_error *err)
{
    int64_t ts;
    int rc = read_seq(root, &out->seq, err);

    if (rc)
        return rc;
    rc = na_import_json(text, len, SOURCE_NAME, &out->snapshot, NULL, err);
    if (rc)
        return rc;
    ts = na_topology_timestamp_ms(out->snapshot);
    out->timestamp = ts ? ts : -1;
    out->unknown_fields = count_unknown(root, snapshot_keys);
    return NA_OK;
}

static int parse_delta(const json_t *root, const char *text, size_t len, na__stream_msg *out,
                       na_error *err)
{
    na_delta **v = NULL;
    size_t n = 0;
    int64_t ts;
    int rc = read_seq(root, &out->seq, err);

    if (rc)
        return rc;
    rc = na_json_parse_deltas(text, len, SOURCE_NAME, &v, &n, err);
    if (rc)
        return rc;
    if (n != 1) {
        /* The type check above makes this one delta object; kept as a guard. */
        for (size_t i = 0; i < n; i++)
            na_delta_free(v[i]);
        free(v);
        return na_error_set(err, NA_EPARSE, "a delta message holds exactly one delta, got %zu",
                            n);
    }
    out->delta = v[0];
    free(v);
    ts = na_delta_timestamp_ms(out->delta);
    out->timestamp = ts ? ts : -1;
    out->unknown_fields = count_unknown(root, delta_keys);
    return NA_OK;
}

/*
 * Parses one message (see stream.h). On success the caller owns what *out holds; on failure
 * *out is emptied too. Either way na__stream_msg_free(out) is safe. O(message size); snapshots
 * and deltas are parsed twice (envelope, then the topology reader), which costs little next to
 * building the snapshot.
 */
int na__stream_parse(const char *text, size_t len, na__stream_msg *out, na_error *err)
{
    json_error_t je;
    json_t *root = NULL;
    const json_t *type;
    const char *t;
    int rc;

    msg_reset(out);
    if (!text)
        return na_error_set(err, NA_EINVAL, "no message text");
    if (len > NA_STREAM_MAX_MESSAGE)
        return na_error_set(err, NA_ETOOBIG, "message is %zu bytes, over the limit of %zu", len,
                            (size_t)NA_STREAM_MAX_MESSAGE);
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (json_error_code(&je) == json_error_out_of_memory)
            return na_error_set(err, NA_ENOMEM, "out of memory parsing JSON");
        return na_error_set_at(err, NA_EPARSE, SOURCE_NAME, je.line, je.column, je.position,
                               "%s", je.text);
    }
    if (!json_is_object(root)) {
        rc = na_error_set(err, NA_EPARSE, "expected a message object, got %s", na__json_type_name(root));
        goto out_free_root;
    }
    type = json_object_get(root, "type");
    if (!json_is_string(type)) {
        rc = na_error_set(err, NA_EPARSE, "type: %s%s",
                          type ? "expected a string, got " : "missing",
                          type ? na__json_type_name(type) : "");
        goto out_free_root;
    }
    t = json_string_value(type);
    snprintf(out->type_name, sizeof(out->type_name), "%s", t);
    if (strcmp(t, "snapshot") == 0) {
        out->type = NA_STREAM_SNAPSHOT;
        rc = parse_snapshot(root, text, len, out, err);
    } else if (strcmp(t, "delta") == 0) {
        out->type = NA_STREAM_DELTA;
        rc = parse_delta(root, text, len, out, err);
    } else if (strcmp(t, "metrics") == 0) {
        out->type = NA_STREAM_METRICS;
        rc = parse_metrics(root, out, err);
    } else {
        out->type = NA_STREAM_UNKNOWN;
        rc = NA_OK;
    }
    if (rc) {
        char name[sizeof(out->type_name)];
        memcpy(name, out->type_name, sizeof(name));
        na__stream_msg_free(out);
        memcpy(out->type_name, name, sizeof(name));
    }
out_free_root:
    json_decref(root);
    return rc;
}

/* ---- Writers --------------------------------------------------------------------------- */

/*
 * The snapshot message: na_export_json's text with "seq" after "type". malloc'd (the caller
 * frees it), NULL on ENOMEM. O(size of the topology).
 */
char *na__stream_snapshot_text(const na_topology *t, uint64_t seq, size_t *len)
{
    static const char prefix[] = "{\"type\":\"snapshot\",";
    const size_t plen = sizeof(prefix) - 1;
    char num[48], *exp, *out = NULL;
    size_t elen, at;
    int n;

    exp = na_export_json(t, 0, &elen);
    if (!exp)
        return NULL;
    n = snprintf(num, sizeof(num), "\"seq\":%" PRIu64 ",", seq);
    /* The export starts with the type; should that change, seq goes first. */
    at = elen >= plen && memcmp(exp, prefix, plen) == 0 ? plen : 1;
    out = malloc(elen + (size_t)n + 1);
    if (!out)
        goto out_free;
    memcpy(out, exp, at);
    memcpy(out + at, num, (size_t)n);
    memcpy(out + at + n, exp + at, elen - at + 1);
    if (len)
        *len = elen + (size_t)n;
out_free:
    free(exp);
    return out;
}

static void jw_null(na__jw *w, const char *key)
{
    na__jw_key(w, key);
    na__jw_puts(w, "null");
}

/* A time as RFC 3339 when the warehouse formatter covers it, else integer milliseconds. */
static void jw_time(na__jw *w, const char *key, int64_t ms)
{
    char buf[40];

    na__jw_key(w, key);
    if (ms >= 0 && ms <= NA_TIME_OPEN)
        na__jw_string(w, na_time_format(ms, buf, sizeof(buf)));
    else
        na__jw_int(w, ms);
}

/* Text fields: in an update a field named by the mask but unknown (NULL) is cleared (null). */
static void jw_text(na__jw *w, const char *key, const char *s, bool update)
{
    if (s)
        na__jw_kv_str(w, key, s);
    else if (update)
        jw_null(w, key);
}

static void jw_num(na__jw *w, const char *key, double d, bool update)
{
    if (isfinite(d))
        na__jw_kv_num(w, key, d);
    else if (update)
        jw_null(w, key);
}

/* Attributes. Adds drop nulls (they mean nothing there); updates keep them (null removes the
 * key). Non-finite reals have no JSON form and are left out. */
static void jw_attrs(na__jw *w, const na_attr *attrs, size_t n, bool update)
{
    bool open = false;

    if (update) {
        na__jw_key(w, "attributes");
        na__jw_open(w, '{');
        open = true;
    }
    for (size_t i = 0; i < n; i++) {
        const na_value *v = &attrs[i].value;
        if ((v->type == NA_VAL_NULL && !update) || (v->type == NA_VAL_DOUBLE && !isfinite(v->u.d)))
            continue;
        if (!open) {
            na__jw_key(w, "attributes");
            na__jw_open(w, '{');
            open = true;
        }
        na__jw_key(w, attrs[i].key);
        switch (v->type) {
        case NA_VAL_NULL: na__jw_puts(w, "null"); break;
        case NA_VAL_BOOL: na__jw_puts(w, v->u.b ? "true" : "false"); break;
        case NA_VAL_INT: na__jw_int(w, v->u.i); break;
        case NA_VAL_DOUBLE: na__jw_double(w, v->u.d, true); break;
        case NA_VAL_STRING: na__jw_string(w, v->u.s ? v->u.s : ""); break;
        }
    }
    if (open)
        na__jw_close(w, '}');
}

static void jw_status(na__jw *w, na_status st, bool update)
{
    if (st != NA_STATUS_UNKNOWN || update)
        na__jw_kv_str(w, "status", na_status_name(st));
}

static void jw_node_fields(na__jw *w, const na_node *n, unsigned f, bool update)
{
    if (f & NA_FIELD_LABEL)
        jw_text(w, "label", n->label, update);
    if (f & NA_FIELD_ROLE)
        jw_text(w, "role", n->role, update);
    if (f & NA_FIELD_SITE)
        jw_text(w, "site", n->site, update);
    if (f & NA_FIELD_ASN) {
        if (n->asn) {
            na__jw_key(w, "asn");
            na__jw_int(w, n->asn);
        } else if (update) {
            jw_null(w, "asn");
        }
    }
    if (f & NA_FIELD_LATITUDE)
        jw_num(w, "latitude", n->latitude, update);
    if (f & NA_FIELD_LONGITUDE)
        jw_num(w, "longitude", n->longitude, update);
    if (f & NA_FIELD_CAPACITY)
        jw_num(w, "capacity", n->capacity, update);
    if (f & NA_FIELD_STATUS)
        jw_status(w, n->status, update);
    if (f & NA_FIELD_ATTRS)
        jw_attrs(w, n->attrs, n->n_attrs, update);
}

static void jw_link_fields(na__jw *w, const na_link *l, unsigned f, bool update)
{
    if (f & NA_FIELD_LABEL)
        jw_text(w, "label", l->label, update);
    if (f & NA_FIELD_CAPACITY)
        jw_num(w, "capacity", l->capacity, update);
    if (f & NA_FIELD_STATUS)
        jw_status(w, l->status, update);
    if (f & NA_FIELD_ATTRS)
        jw_attrs(w, l->attrs, l->n_attrs, update);
}

/* "node_down" / "link_up" ... when an update only sets the status to up or down. */
static const char *shorthand(const na_delta_op *op)
{
    bool node = op->kind == NA_DELTA_NODE_UPDATE;
    na_status st = node ? op->node.status : op->link.status;

    if ((op->kind != NA_DELTA_NODE_UPDATE && op->kind != NA_DELTA_LINK_UPDATE) ||
        op->fields != NA_FIELD_STATUS || st == NA_STATUS_UNKNOWN)
        return NULL;
    if (node)
        return st == NA_STATUS_DOWN ? "node_down" : "node_up";
    return st == NA_STATUS_DOWN ? "link_down" : "link_up";
}

const char *na__stream_op_name(const na_delta_op *op)
{
    static const char *const names[] = {"node_add", "node_remove", "node_update",
                                        "link_add", "link_remove", "link_update"};
    const char *name = shorthand(op);

    return name ? name : names[op->kind];
}

static void jw_op(na__jw *w, const na_delta_op *op)
{
    bool update = op->kind == NA_DELTA_NODE_UPDATE || op->kind == NA_DELTA_LINK_UPDATE;
    bool node = op->kind <= NA_DELTA_NODE_UPDATE;
    bool identity_only = shorthand(op) != NULL || op->kind == NA_DELTA_NODE_REMOVE ||
                         op->kind == NA_DELTA_LINK_REMOVE;

    na__jw_next(w);
    na__jw_open(w, '{');
    na__jw_kv_str(w, "op", na__stream_op_name(op));
    na__jw_key(w, node ? "node" : "link");
    na__jw_open(w, '{');
    if (node) {
        na__jw_kv_str(w, "id", op->node.id);
        if (!identity_only)
            jw_node_fields(w, &op->node, op->fields, update);
    } else {
        na__jw_kv_str(w, "id", op->link.id);
        na__jw_kv_str(w, "source", op->link.source);
        na__jw_kv_str(w, "target", op->link.target);
        if (!identity_only)
            jw_link_fields(w, &op->link, op->fields, update);
    }
    na__jw_close(w, '}');
    na__jw_close(w, '}');
}

/*
 * The delta message: every op with the fields its mask names (updates write a cleared field
 * as null), so na__stream_parse reads back an equal delta. malloc'd, NULL on ENOMEM.
 * O(size of the delta).
 */
char *na__stream_delta_text(const na_delta *d, uint64_t seq, size_t *len)
{
    na__jw w = {.pretty = false};
    int64_t ts = na_delta_timestamp_ms(d);

    na__jw_open(&w, '{');
    na__jw_kv_str(&w, "type", "delta");
    na__jw_key(&w, "seq");
    na__jw_int(&w, (int64_t)seq);
    if (ts)
        jw_time(&w, "timestamp", ts);
    na__jw_key(&w, "ops");
    na__jw_open(&w, '[');
    for (size_t i = 0; i < na_delta_count(d); i++)
        jw_op(&w, na_delta_get(d, i));
    na__jw_close(&w, ']');
    na__jw_close(&w, '}');
    return na__jw_finish(&w, len);
}

/*
 * The metrics message; `at` (-1: none) is the message's timestamp, each sample's own `at`
 * (when >= 0) is written with it. Samples without a name or with a non-finite value cannot be
 * read back and are left out. malloc'd, NULL on ENOMEM. O(n).
 */
char *na__stream_metrics_text(const na__stream_sample *s, size_t n, na_time_ms at, size_t *len)
{
    na__jw w = {.pretty = false};

    na__jw_open(&w, '{');
    na__jw_kv_str(&w, "type", "metrics");
    if (at >= 0)
        jw_time(&w, "timestamp", at);
    na__jw_key(&w, "samples");
    na__jw_open(&w, '[');
    for (size_t i = 0; i < n; i++) {
        if (!s[i].name || !s[i].name[0] || !isfinite(s[i].value))
            continue;
        na__jw_next(&w);
        na__jw_open(&w, '{');
        na__jw_kv_str(&w, "node", s[i].node_id);
        if (!s[i].node_id)
            na__jw_kv_str(&w, "link", s[i].link_id);
        na__jw_kv_str(&w, "name", s[i].name);
        na__jw_key(&w, "value");
        na__jw_double(&w, s[i].value, false);
        if (s[i].at >= 0)
            jw_time(&w, "timestamp", s[i].at);
        na__jw_close(&w, '}');
    }
    na__jw_close(&w, ']');
    na__jw_close(&w, '}');
    return na__jw_finish(&w, len);
}

/* ---- Consumer -------------------------------------------------------------------------- */

void na__stream_consumer_init(na__stream_consumer *sc, const char *name)
{
    memset(sc, 0, sizeof(*sc));
    pthread_mutex_init(&sc->lock, NULL);
    sc->name = name ? name : "stream";
}

void na__stream_consumer_destroy(na__stream_consumer *sc)
{
    if (sc)
        pthread_mutex_destroy(&sc->lock);
}

/* Logs a skipped message: printable ASCII only (the text is untrusted), at most LOG_TEXT_MAX
 * bytes of it. */
static void log_skipped(const na__stream_consumer *sc, uint64_t nth, const char *what,
                        const char *why, const char *text, size_t len)
{
    char shown[LOG_TEXT_MAX + 1];
    size_t n = len < LOG_TEXT_MAX ? len : LOG_TEXT_MAX;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)text[i];
        shown[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '.';
    }
    shown[n] = '\0';
    na_log(NA_LOG_WARN, "%s: skipped %s message (%" PRIu64 " so far%s): %s: %s%s", sc->name,
           what, nth, nth == LOG_FIRST ? "; from now on every 1000th is logged" : "", why,
           shown, len > n ? "..." : "");
}

/*
 * Parses and decides (see stream.h). Sequence rules: a snapshot always applies and syncs; a
 * delta applies when synced and seq == last + 1, is stale when seq <= last, waits while
 * unsynced, and a gap (seq > last + 1) unsyncs and answers RESYNC (the gap delta itself counts
 * as waiting: it waits for the snapshot that replaces it). Metrics always apply.
 */
na__stream_verdict na__stream_consume(na__stream_consumer *sc, const char *text, size_t len,
                                      na__stream_msg *out)
{
    na__stream_verdict verdict = NA_STREAM_SKIP;
    const char *bad = NULL;
    struct timespec now;
    na__stream_msg m;
    na_error err;
    uint64_t nth = 0;
    int rc;

    clock_gettime(CLOCK_REALTIME, &now);
    na_error_clear(&err);
    rc = na__stream_parse(text, len, &m, &err);
    pthread_mutex_lock(&sc->lock);
    sc->c.messages++;
    sc->c.bytes += len;
    if (rc) {
        sc->c.malformed++;
        bad = "malformed";
    } else {
        switch (m.type) {
        case NA_STREAM_SNAPSHOT:
            sc->c.snapshots++;
            sc->synced = true;
            sc->last_seq = m.seq;
            verdict = NA_STREAM_APPLY;
            break;
        case NA_STREAM_DELTA:
            if (!sc->synced) {
                sc->c.waiting++;
            } else if (m.seq <= sc->last_seq) {
                sc->c.stale++;
            } else if (m.seq == sc->last_seq + 1) {
                sc->c.deltas++;
                sc->last_seq = m.seq;
                verdict = NA_STREAM_APPLY;
            } else {
                sc->c.waiting++;
                sc->c.gaps++;
                sc->c.resyncs++;
                sc->synced = false;
                verdict = NA_STREAM_RESYNC;
            }
            break;
        case NA_STREAM_METRICS:
            sc->c.metrics++;
            sc->c.samples += m.n_samples;
            verdict = NA_STREAM_APPLY;
            break;
        case NA_STREAM_UNKNOWN:
            sc->c.unknown_types++;
            bad = "unknown-type";
            break;
        }
        if (verdict == NA_STREAM_APPLY)
            sc->c.unknown_fields += m.unknown_fields;
    }
    if (bad) {
        nth = sc->c.malformed + sc->c.unknown_types;
        if (nth <= LOG_FIRST || nth % LOG_EVERY == 0)
            sc->logged++;
        else
            bad = NULL;
    }
    pthread_mutex_unlock(&sc->lock);
    if (bad) {
        char why[300];
        if (rc)
            na_error_format(&err, why, sizeof(why));
        else
            snprintf(why, sizeof(why), "type '%s'", m.type_name);
        log_skipped(sc, nth, bad, why, text ? text : "", text ? len : 0);
    }
    if (verdict == NA_STREAM_APPLY) {
        m.received_at = (na_time_ms)now.tv_sec * 1000 + now.tv_nsec / 1000000;
        m.received_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
        if (out)
            *out = m;
        else
            na__stream_msg_free(&m);
    } else {
        na__stream_msg_free(&m);
        if (out)
            msg_reset(out);
    }
    return verdict;
}

/*
 * Forgets the sync: a resync is counted when the consumer was synced (a gap already counted
 * its own), reconnects and apply failures when asked.
 */
void na__stream_consumer_desync(na__stream_consumer *sc, bool reconnect, bool apply_failure)
{
    pthread_mutex_lock(&sc->lock);
    if (reconnect)
        sc->c.reconnects++;
    if (apply_failure)
        sc->c.apply_failures++;
    if (sc->synced) {
        sc->c.resyncs++;
        sc->synced = false;
    }
    pthread_mutex_unlock(&sc->lock);
}

void na__stream_consumer_counters(na__stream_consumer *sc, na__stream_counters *out)
{
    pthread_mutex_lock(&sc->lock);
    *out = sc->c;
    pthread_mutex_unlock(&sc->lock);
    /* Every snapshot, delta and metrics message counted is one that was handed on. */
    out->applied = out->snapshots + out->deltas + out->metrics;
}
