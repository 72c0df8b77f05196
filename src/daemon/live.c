/*
 * live.c: the daemon's live side (issue 4): topology stream sources feeding the engine through
 * a bounded queue, deltas applied op by op with one warehouse version each, events for the alert
 * manager, /topology/stream for chained instances, and NATS publishing.
 *
 * Threads: each stream source has a client thread (ingest/ws_source.c) that parses and checks
 * seq (na__stream_consume) and pushes accepted messages; everything else here runs on the
 * engine thread, except the /topology/stream callbacks (event-loop thread, stream_lock only).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/topology_internal.h"
#include "daemon/daemon.h"
#include "io/json_writer.h"
#include "netassure/diff.h"

/* Messages one engine pass takes from the queue (a batch commits as one transaction). */
#define BATCH_MAX 4096
#define TOPOLOGY_EVENT_MAX_OPS 200

/* ---- the queue: client threads -> engine ---------------------------------------------------- */

static void on_ws_message(const char *text, size_t len, void *ud)
{
    na__live_source *ls = ud;
    na__daemon *d = ls->d;
    na__stream_msg msg;
    na__stream_verdict v;

    /* The consumer stamps received_ns / received_at before it parses. */
    v = na__stream_consume(&ls->consumer, text, len, &msg);
    if (v == NA_STREAM_RESYNC) {
        na_log(NA_LOG_WARN, "source %s: seq gap, asking for a fresh snapshot",
               d->cfg.sources[ls->index].name);
        na__ws_source_resync(ls->ws);
        return;
    }
    if (v != NA_STREAM_APPLY)
        return;
    {
        na__ingest_item it = {.source = ls->index, .msg = msg};
        na__live_enqueue(d, &it);
    }
}

bool na__live_enqueue(na__daemon *d, na__ingest_item *item)
{
    pthread_mutex_lock(&d->lock);
    /* Even while stopping: the engine drains the queue until every source has stopped, so an
     * accepted message is never dropped here (only if the engine is gone). */
    while (d->ingest_count == d->ingest_cap && !d->engine_gone) {
        d->ingest_waits++;
        pthread_cond_wait(&d->ingest_space, &d->lock);
    }
    if (d->engine_gone) {
        pthread_mutex_unlock(&d->lock);
        na_log(NA_LOG_WARN, "source %s: message seq %llu dropped: the engine has stopped",
               d->cfg.sources[item->source].name, (unsigned long long)item->msg.seq);
        na__stream_msg_free(&item->msg);
        na__snmp_batch_free(item->snmp);
        return false;
    }
    d->ingest[(d->ingest_head + d->ingest_count) % d->ingest_cap] = *item;
    d->ingest_count++;
    if (d->ingest_count > d->ingest_high_water)
        d->ingest_high_water = d->ingest_count;
    pthread_cond_broadcast(&d->wake);
    pthread_mutex_unlock(&d->lock);
    return true;
}

static void on_ws_state(bool connected, const char *reason, void *ud)
{
    na__live_source *ls = ud;
    na__daemon *d = ls->d;
    na__source_state *st = &d->sources[ls->index];

    if (!connected)
        na__stream_consumer_desync(&ls->consumer, true, false);
    pthread_mutex_lock(&d->lock);
    snprintf(st->state, sizeof(st->state), "%s", connected ? "connected" : "disconnected");
    if (!connected && reason) {
        free(st->last_error);
        st->last_error = strdup(reason);
    }
    pthread_mutex_unlock(&d->lock);
    na_log(connected ? NA_LOG_INFO : NA_LOG_WARN, "source %s: %s%s%s",
           d->cfg.sources[ls->index].name, connected ? "connected to " : "disconnected",
           connected ? d->cfg.sources[ls->index].url : (reason ? ": " : ""),
           connected ? "" : (reason ? reason : ""));
}

int na__live_start(na__daemon *d, na_error *err)
{
    int rc;

    d->ingest_cap = d->cfg.ingest_queue ? d->cfg.ingest_queue : 65536;
    d->ingest = calloc(d->ingest_cap, sizeof(*d->ingest));
    if (!d->ingest)
        return na_error_set(err, NA_ENOMEM, "out of memory (ingest queue)");
    if (d->cfg.nats.url && (rc = na__nats_pub_start(&d->cfg.nats, &d->nats, err)))
        return rc;
    for (size_t i = 0; i < d->cfg.n_sources; i++) {
        const na__source_config *sc = &d->cfg.sources[i];
        na__live_source *ls;
        na__ws_source_opts o;
        if (!sc->url)
            continue;
        ls = calloc(1, sizeof(*ls));
        if (!ls)
            return na_error_set(err, NA_ENOMEM, "out of memory");
        ls->d = d;
        ls->index = i;
        na__stream_consumer_init(&ls->consumer, sc->name);
        d->sources[i].live = ls;
        snprintf(d->sources[i].state, sizeof(d->sources[i].state), "connecting");
        memset(&o, 0, sizeof(o));
        o.url = sc->url;
        o.token = sc->token;
        o.on_message = on_ws_message;
        o.on_state = on_ws_state;
        o.ud = ls;
        if ((rc = na__ws_source_start(&o, &ls->ws, err)))
            return rc;
        na_log(NA_LOG_INFO, "source %s: following the topology stream %s", sc->name, sc->url);
    }
    return na__snmp_source_start(d, err);
}

void na__live_stop_sources(na__daemon *d)
{
    for (size_t i = 0; d->sources && i < d->cfg.n_sources; i++) {
        na__live_source *ls = d->sources[i].live;
        if (ls && ls->ws) {
            na__ws_source_stop(ls->ws);
            ls->ws = NULL;
        }
    }
    na__snmp_source_stop(d);
    /* No more input: the engine may finish once the queue is empty. */
    pthread_mutex_lock(&d->lock);
    d->sources_stopped = true;
    pthread_cond_broadcast(&d->wake);
    pthread_mutex_unlock(&d->lock);
}

void na__live_stop(na__daemon *d)
{
    na__live_stop_sources(d);
    if (d->nats) {
        size_t lost = na__nats_pub_stop(d->nats, 5000);
        if (lost)
            na_log(NA_LOG_ERROR, "nats: %zu events could not be sent before the stop", lost);
        d->nats = NULL;
    }
    while (d->ingest && d->ingest_count) {
        na__stream_msg_free(&d->ingest[d->ingest_head].msg);
        na__snmp_batch_free(d->ingest[d->ingest_head].snmp);
        d->ingest_head = (d->ingest_head + 1) % d->ingest_cap;
        d->ingest_count--;
    }
    free(d->ingest);
    d->ingest = NULL;
    na__snmp_source_free(d);
    for (size_t i = 0; d->sources && i < d->cfg.n_sources; i++) {
        na__live_source *ls = d->sources[i].live;
        if (ls) {
            na__stream_consumer_destroy(&ls->consumer);
            free(ls);
            d->sources[i].live = NULL;
        }
    }
    na_topology_unref(d->stream_topo);
    d->stream_topo = NULL;
    free(d->stream_text);
    d->stream_text = NULL;
    na__bundle_unref(d->prev_bundle);
    d->prev_bundle = NULL;
}

/* ---- publishing ------------------------------------------------------------------------------ */

void na__live_nats(na__daemon *d, const char *subject, const char *msg_id, const char *text,
                   size_t len)
{
    if (d->nats && text)
        na__nats_pub_publish(d->nats, subject, msg_id, text, len);
}

static const char *alert_event_name(const na__alert *a)
{
    switch (a->status) {
    case NA_ALERT_RESOLVED:
        return "resolved";
    case NA_ALERT_ACKNOWLEDGED:
        return "acknowledged";
    default:
        return a->count > 1 ? "repeated" : "raised";
    }
}

/* NATS anomaly.alerts and alerts.multi_modal for one changed alert (aj: its API object);
 * the caller holds d->lock. */
static void nats_alert_locked(na__daemon *d, const na__alert *a, json_t *aj)
{
    json_t *msg, *group;
    char *text, id[160];

    if (!d->nats || a->silenced || !aj)
        return;
    msg = json_pack("{s:s, s:O}", "event", alert_event_name(a), "alert", aj);
    text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    snprintf(id, sizeof(id), "alert:%s:%lld:%s", a->id, (long long)a->count,
             na__alert_status_name(a->status));
    if (text)
        na__live_nats(d, "anomaly.alerts", id, text, strlen(text));
    free(text);
    json_decref(msg);
    group = na__alert_multi_modal(&d->alerts, a);
    if (group) {
        /* {"group": <the AlertGroup object, with the alert_id that changed>} */
        json_t *g = json_pack("{s:O}", "group", group);
        const char *key = json_string_value(json_object_get(group, "group"));
        text = g ? json_dumps(g, JSON_COMPACT) : NULL;
        snprintf(id, sizeof(id), "group:%s:%s:%lld:%s", key ? key : "?", a->id,
                 (long long)a->count, na__alert_status_name(a->status));
        if (text)
            na__live_nats(d, "alerts.multi_modal", id, text, strlen(text));
        free(text);
        json_decref(g);
        json_decref(group);
    }
}

/* Fills the row of changed alert i (the daemon's generic row writer). */
void na__daemon_write_alerts(na_warehouse *wh, na__alert **list, size_t n, na_time_ms at);

void na__live_alerts_changed(na__daemon *d, na_warehouse *wh, na__alert **changed, size_t n,
                             na_time_ms now)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&d->lock);
    /* Rows and events are built under the lock: the alerts may change as soon as it drops. */
    na__daemon_write_alerts(wh, changed, n, now);
    for (size_t i = 0; i < n; i++) {
        json_t *aj = na__alert_json(changed[i]);
        nats_alert_locked(d, changed[i], aj);
        na__daemon_publish(d, "alert", changed[i]->node_id, changed[i]->severity, aj);
    }
    pthread_mutex_unlock(&d->lock);
}

/* One event through the alert manager; changed alerts written and published. */
static void live_event(na__daemon *d, na_warehouse *wh, const na__event *ev, na_time_ms now)
{
    na__alert **changed = NULL;
    size_t n = 0;

    pthread_mutex_lock(&d->lock);
    if (na__alert_on_event(&d->alerts, d->cfg.rules, d->cfg.n_rules, ev, now, &changed, &n))
        na_log(NA_LOG_ERROR, "alert manager ran out of memory");
    pthread_mutex_unlock(&d->lock);
    na__live_alerts_changed(d, wh, changed, n, now);
    free(changed);
}

static void commit_or_log(na_warehouse *wh, bool in_tx, const char *what);

void na__live_events(na__daemon *d, na_warehouse *wh, const na__event *evs, size_t n,
                     na_time_ms now)
{
    na_error err;
    bool in_tx;

    if (n == 0)
        return;
    /* The alerts these events change: one transaction, not one commit per alert. */
    na_error_clear(&err);
    in_tx = na_wh_begin(wh, &err) == NA_OK;
    for (size_t i = 0; i < n; i++)
        live_event(d, wh, &evs[i], now);
    commit_or_log(wh, in_tx, "alerts");
}

void na__live_tick(na__daemon *d, na_warehouse *wh, na_time_ms now)
{
    na__alert **changed = NULL;
    size_t n = 0;

    pthread_mutex_lock(&d->lock);
    if (na__alert_tick(&d->alerts, d->cfg.rules, d->cfg.n_rules, now, &changed, &n))
        na_log(NA_LOG_ERROR, "alert manager ran out of memory");
    pthread_mutex_unlock(&d->lock);
    na__live_alerts_changed(d, wh, changed, n, now);
    free(changed);
}

/* ---- /topology/stream ---------------------------------------------------------------------- */

/* The snapshot text of the stream's current topology, built once per version; caller holds
 * stream_lock. Returns a malloc'd copy for the HTTP layer. */
static char *stream_snapshot_locked(na__daemon *d)
{
    if (!d->stream_topo)
        return NULL;
    if (!d->stream_text || d->stream_text_version != na_topology_version(d->stream_topo)) {
        free(d->stream_text);
        d->stream_text = na__stream_snapshot_text(d->stream_topo,
                                                  na_topology_version(d->stream_topo),
                                                  &d->stream_text_len);
        d->stream_text_version = na_topology_version(d->stream_topo);
    }
    if (!d->stream_text)
        return NULL;
    {
        char *copy = malloc(d->stream_text_len + 1);
        if (copy)
            memcpy(copy, d->stream_text, d->stream_text_len + 1);
        return copy;
    }
}

char *na__topo_stream_open(na__daemon *d)
{
    char *text;

    pthread_mutex_lock(&d->stream_lock);
    text = stream_snapshot_locked(d);
    pthread_mutex_unlock(&d->stream_lock);
    return text;
}

char *na__topo_stream_message(na__daemon *d, const char *text, size_t len)
{
    json_t *m = json_loadb(text, len, 0, NULL);
    const char *type = json_string_value(json_object_get(m, "type"));
    char *reply = NULL;

    if (type && strcmp(type, "resync") == 0)
        reply = na__topo_stream_open(d);
    json_decref(m);
    return reply;
}

/* Sets what new /topology/stream clients get; before the deltas leading to it go out. */
static void stream_set(na__daemon *d, na_topology *topo)
{
    pthread_mutex_lock(&d->stream_lock);
    na_topology_unref(d->stream_topo);
    d->stream_topo = na_topology_ref(topo);
    pthread_mutex_unlock(&d->stream_lock);
}

void na__live_topology_replaced(na__daemon *d, na_topology *topo, const char *origin,
                                const json_t *change)
{
    json_t *summary = json_object_get(change, "summary");
    char *text;
    char id[64];
    json_t *msg;

    stream_set(d, topo);
    if (d->http && na__http_ws_clients(d->http, "/topology/stream") > 0) {
        pthread_mutex_lock(&d->stream_lock);
        text = stream_snapshot_locked(d);
        pthread_mutex_unlock(&d->stream_lock);
        if (text)
            na__http_ws_publish(d->http, "/topology/stream", NULL, text, strlen(text));
        free(text);
    }
    if (!d->nats)
        return;
    {
        char tb[40];
        msg = json_pack("{s:I, s:I, s:s, s:s, s:I, s:I, s:O}", "version",
                        (json_int_t)na_topology_version(topo), "seq",
                        (json_int_t)na_topology_version(topo), "at",
                        na_time_format(na_topology_timestamp_ms(topo), tb, sizeof(tb)),
                        "origin", origin ? origin : "sources", "nodes",
                        (json_int_t)na_topology_node_count(topo), "links",
                        (json_int_t)na_topology_link_count(topo), "summary",
                        summary ? summary : json_null());
        if (msg && json_object_get(change, "items")) {
            json_object_set(msg, "items", json_object_get(change, "items"));
            json_object_set(msg, "truncated", json_object_get(change, "truncated"));
        }
    }
    text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    snprintf(id, sizeof(id), "topology:%llu", (unsigned long long)na_topology_version(topo));
    if (text)
        na__live_nats(d, "topology.changes", id, text, strlen(text));
    free(text);
}

/* ---- deltas --------------------------------------------------------------------------------- */

/* Growable arrays of this file. */
#define PUSH(arr, n, cap, val)                                                       \
    do {                                                                             \
        if ((n) == (cap)) {                                                          \
            size_t ncap_ = (cap) ? (cap) * 2 : 16;                                   \
            void *p_ = realloc((arr), ncap_ * sizeof(*(arr)));                       \
            if (!p_)                                                                 \
                goto oom;                                                            \
            (arr) = p_;                                                              \
            (cap) = ncap_;                                                           \
        }                                                                            \
        (arr)[(n)++] = (val);                                                        \
    } while (0)

/* An event waiting for its delta to be known good; ids are copies. */
typedef struct pending_event {
    na__event_type type;
    char *node_id, *link_id, *source, *target;
    uint64_t version;
    na_time_ms at;
    int64_t received_ns;
    size_t item;                         /* which queue item it came from */
} pending_event;

typedef struct delta_batch {
    pending_event *ev;
    size_t n_ev, cap_ev;
    size_t ev_mark;                      /* events of accepted deltas: [0, ev_mark) */
    /* per delta: touched ids (copies) */
    char **nodes, **links, **gone_nodes, **gone_links;
    size_t n_nodes, cap_nodes, n_links, cap_links, n_gn, cap_gn, n_gl, cap_gl;
    /* published after the commit: /topology/stream delta messages of the accepted deltas */
    struct out_text {
        char *text;
        size_t len;
        size_t item;
        uint64_t version;
        size_t nodes, links;             /* the size of that version */
    } *texts;
    size_t n_texts, cap_texts;
    bool sites_touched;
} delta_batch;

static void free_strs(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
}

static void batch_clear_delta(delta_batch *b)
{
    free_strs(b->nodes, b->n_nodes);
    free_strs(b->links, b->n_links);
    free_strs(b->gone_nodes, b->n_gn);
    free_strs(b->gone_links, b->n_gl);
    b->n_nodes = b->n_links = b->n_gn = b->n_gl = 0;
}

static void event_free(pending_event *e)
{
    free(e->node_id);
    free(e->link_id);
    free(e->source);
    free(e->target);
}

static void batch_free(delta_batch *b)
{
    batch_clear_delta(b);
    free(b->nodes);
    free(b->links);
    free(b->gone_nodes);
    free(b->gone_links);
    for (size_t i = 0; i < b->n_ev; i++)
        event_free(&b->ev[i]);
    free(b->ev);
    for (size_t i = 0; i < b->n_texts; i++)
        free(b->texts[i].text);
    free(b->texts);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int add_event(delta_batch *b, na__event_type type, const char *node, const char *link,
                     const char *src, const char *dst)
{
    pending_event e = {.type = type};

    e.node_id = dup_or_null(node);
    e.link_id = dup_or_null(link);
    e.source = dup_or_null(src);
    e.target = dup_or_null(dst);
    if ((node && !e.node_id) || (link && !e.link_id) || (src && !e.source) ||
        (dst && !e.target)) {
        event_free(&e);
        return NA_ENOMEM;
    }
    PUSH(b->ev, b->n_ev, b->cap_ev, e);
    return NA_OK;
oom:
    event_free(&e);
    return NA_ENOMEM;
}

static int add_id(char ***arr, size_t *n, size_t *cap, const char *id)
{
    char *c;

    for (size_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i], id) == 0)
            return NA_OK;
    if (!(c = strdup(id)))
        return NA_ENOMEM;
    PUSH(*arr, *n, *cap, c);
    return NA_OK;
oom:
    free(c);
    return NA_ENOMEM;
}

typedef struct gone_ctx {
    delta_batch *b;
    int rc;
} gone_ctx;

static void collect_gone_link(const na_link *l, void *ud)
{
    gone_ctx *g = ud;

    if (g->rc == NA_OK)
        g->rc = add_id(&g->b->gone_links, &g->b->n_gl, &g->b->cap_gl, l->id);
    if (g->rc == NA_OK)
        g->rc = add_event(g->b, NA_EV_LINK_REMOVED, NULL, l->id, l->source, l->target);
}

/*
 * Applies one op to the builder and records its events and touched items. Status changes are
 * events of their own (down / up); other field changes are "changed" events.
 */
static int apply_one(na_builder *bl, const na_delta_op *op, delta_batch *b, na_error *err)
{
    int rc;

    switch (op->kind) {
    case NA_DELTA_NODE_ADD:
    case NA_DELTA_NODE_UPDATE: {
        const na_node *old = na_builder_find_node(bl, op->node.id);
        na_status before = old ? old->status : NA_STATUS_UNKNOWN;
        const na_node *now;
        if ((rc = na__delta_apply_op(bl, op, err)))
            return rc;
        now = na_builder_find_node(bl, op->node.id);
        if ((rc = add_id(&b->nodes, &b->n_nodes, &b->cap_nodes, op->node.id)))
            return rc;
        if (op->kind == NA_DELTA_NODE_ADD || (op->fields & (NA_FIELD_SITE | NA_FIELD_LATITUDE |
                                                            NA_FIELD_LONGITUDE)))
            b->sites_touched = true;
        if (op->kind == NA_DELTA_NODE_ADD)
            return add_event(b, NA_EV_NODE_ADDED, op->node.id, NULL, NULL, NULL);
        if (now && now->status != before && now->status != NA_STATUS_UNKNOWN)
            rc = add_event(b, now->status == NA_STATUS_DOWN ? NA_EV_NODE_DOWN : NA_EV_NODE_UP,
                           op->node.id, NULL, NULL, NULL);
        if (rc == NA_OK && (op->fields & ~(unsigned)NA_FIELD_STATUS))
            rc = add_event(b, NA_EV_NODE_CHANGED, op->node.id, NULL, NULL, NULL);
        return rc;
    }
    case NA_DELTA_NODE_REMOVE: {
        gone_ctx g = {b, NA_OK};
        if (!na_builder_find_node(bl, op->node.id))
            return na_error_set(err, NA_ENOTFOUND, "no node '%s' to remove",
                                op->node.id ? op->node.id : "(null)");
        na__builder_links_of(bl, op->node.id, collect_gone_link, &g);
        if (g.rc)
            return g.rc;
        if ((rc = na__delta_apply_op(bl, op, err)))
            return rc;
        b->sites_touched = true;
        if ((rc = add_id(&b->gone_nodes, &b->n_gn, &b->cap_gn, op->node.id)))
            return rc;
        return add_event(b, NA_EV_NODE_REMOVED, op->node.id, NULL, NULL, NULL);
    }
    case NA_DELTA_LINK_ADD: {
        const char *id = NULL;
        const na_link *l;
        if ((rc = na_builder_add_link(bl, &op->link, &id, err)))
            return rc;
        l = na_builder_find_link(bl, id);
        if ((rc = add_id(&b->links, &b->n_links, &b->cap_links, id)))
            return rc;
        return add_event(b, NA_EV_LINK_ADDED, NULL, id, l ? l->source : op->link.source,
                         l ? l->target : op->link.target);
    }
    case NA_DELTA_LINK_REMOVE:
    case NA_DELTA_LINK_UPDATE: {
        const char *lid = na__delta_op_link_id(bl, op);
        const na_link *old = lid ? na_builder_find_link(bl, lid) : NULL;
        na_status before = old ? old->status : NA_STATUS_UNKNOWN;
        char *id = lid ? strdup(lid) : NULL, *src = NULL, *dst = NULL;
        const na_link *now;
        if (lid && !id)
            return NA_ENOMEM;
        if (old) {
            src = strdup(old->source);
            dst = strdup(old->target);
        }
        if ((rc = na__delta_apply_op(bl, op, err)))
            goto link_out;
        if (op->kind == NA_DELTA_LINK_REMOVE) {
            if (!(rc = add_id(&b->gone_links, &b->n_gl, &b->cap_gl, id)))
                rc = add_event(b, NA_EV_LINK_REMOVED, NULL, id, src, dst);
            goto link_out;
        }
        now = na_builder_find_link(bl, id);
        if ((rc = add_id(&b->links, &b->n_links, &b->cap_links, id)))
            goto link_out;
        if (now && now->status != before && now->status != NA_STATUS_UNKNOWN)
            rc = add_event(b, now->status == NA_STATUS_DOWN ? NA_EV_LINK_DOWN : NA_EV_LINK_UP,
                           NULL, id, src, dst);
        if (rc == NA_OK && (op->fields & ~(unsigned)NA_FIELD_STATUS))
            rc = add_event(b, NA_EV_LINK_CHANGED, NULL, id, src, dst);
link_out:
        free(id);
        free(src);
        free(dst);
        return rc;
    }
    }
    return na_error_set(err, NA_EINVAL, "unknown delta operation %d", (int)op->kind);
}

/* The rows of one applied delta, looked up in the builder as it is now. */
static int write_delta_rows(na_warehouse *wh, na_builder *bl, delta_batch *b, na_time_ms at,
                            na_error *err)
{
    const na_node **nodes = calloc(b->n_nodes + 1, sizeof(*nodes));
    const na_link **links = calloc(b->n_links + 1, sizeof(*links));
    size_t nn = 0, nl = 0;
    int rc;

    if (!nodes || !links) {
        free(nodes);
        free(links);
        return na_error_set(err, NA_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < b->n_nodes; i++) {
        const na_node *n = na_builder_find_node(bl, b->nodes[i]);
        if (n)
            nodes[nn++] = n;
    }
    for (size_t i = 0; i < b->n_links; i++) {
        const na_link *l = na_builder_find_link(bl, b->links[i]);
        if (l)
            links[nl++] = l;
    }
    rc = na__wh_observe_items(wh, nodes, nn, links, nl, (const char *const *)b->gone_nodes,
                              b->n_gn, (const char *const *)b->gone_links, b->n_gl, at, err);
    free(nodes);
    free(links);
    return rc;
}

int na__daemon_write_version_row(na__daemon *d, na_warehouse *wh, const char *name,
                                 uint64_t version, size_t nodes, size_t links, na_time_ms at,
                                 na_error *err);

/* Re-applies the accepted deltas of this batch to a fresh builder (after a failed delta). */
static na_builder *rebuild(const na_topology *cur, na__ingest_item *items, const bool *ok,
                           size_t upto)
{
    na_builder *bl = na_builder_from(cur);

    for (size_t i = 0; bl && i < upto; i++) {
        const na_delta *dl = items[i].msg.delta;
        if (!ok[i])
            continue;
        for (size_t k = 0; k < na_delta_count(dl); k++) {
            const na_delta_op *op = na_delta_get(dl, k);
            int rc = op->kind == NA_DELTA_LINK_ADD ? na_builder_add_link(bl, &op->link, NULL, NULL)
                                                   : na__delta_apply_op(bl, op, NULL);
            if (rc) {
                /* It applied a moment ago on the same base: cannot happen; be safe. */
                na_builder_free(bl);
                return NULL;
            }
        }
    }
    return bl;
}

static na_time_ms clamp_time(na_time_ms t, na_time_ms lo, na_time_ms hi)
{
    return t < lo ? lo : (t > hi ? hi : t);
}

void na__daemon_install_topology(na__daemon *d, na_topology *topo, na_time_ms now);
int na__daemon_write_sites(na_warehouse *wh, const na_topology *topo, na_time_ms at,
                           na_error *err);
na_time_ms na__daemon_topology_written_at(na__daemon *d);

/* Ends a transaction the caller began (in_tx); failures are logged (the state in memory goes
 * on, the warehouse misses that pass). */
static void commit_or_log(na_warehouse *wh, bool in_tx, const char *what)
{
    na_error err;

    if (!in_tx)
        return;
    na_error_clear(&err);
    if (na_wh_commit(wh, &err)) {
        char buf[600];
        na_log(NA_LOG_ERROR, "warehouse: %s commit: %s", what,
               na_error_format(&err, buf, sizeof(buf)));
        na_wh_rollback(wh);
    }
}

/* Consecutive deltas: one builder, one version and one warehouse observation each, one commit. */
static void apply_deltas(na__daemon *d, na_warehouse *wh, na__ingest_item *items, size_t n)
{
    na_topology *cur = d->topo ? na_topology_ref(d->topo) : NULL, *next = NULL;
    na__event *evs = NULL;
    delta_batch b;
    bool *ok = calloc(n + 1, sizeof(bool));
    na_builder *bl = NULL;
    uint64_t version;
    na_time_ms now = na_time_now(), last_at;
    size_t accepted = 0;
    bool in_tx = false;
    na_error err;

    memset(&b, 0, sizeof(b));
    if (!ok)
        goto out;
    if (!cur) {
        /* No topology yet (a delta before any snapshot): nothing to apply it to. */
        for (size_t i = 0; i < n; i++) {
            na__live_source *ls = d->sources[items[i].source].live;
            na__stream_consumer_desync(&ls->consumer, false, true);
            na__ws_source_resync(ls->ws);
        }
        d->deltas_failed += n;
        goto out;
    }
    version = na_topology_version(cur);
    last_at = na__daemon_topology_written_at(d);
    bl = na_builder_from(cur);
    if (!bl)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const na_delta *dl = items[i].msg.delta;
        na_time_ms at;
        int rc = NA_OK;
        size_t ev_before = b.n_ev;
        na_error_clear(&err);
        for (size_t k = 0; k < na_delta_count(dl) && rc == NA_OK; k++)
            rc = apply_one(bl, na_delta_get(dl, k), &b, &err);
        if (rc) {
            char buf[600];
            na__live_source *ls = d->sources[items[i].source].live;
            na_log(NA_LOG_WARN, "source %s: delta seq %llu does not apply (%s); resyncing",
                   d->cfg.sources[items[i].source].name,
                   (unsigned long long)items[i].msg.seq, na_error_format(&err, buf, sizeof(buf)));
            for (size_t e = ev_before; e < b.n_ev; e++)
                event_free(&b.ev[e]);
            b.n_ev = ev_before;
            batch_clear_delta(&b);
            d->deltas_failed++;
            if (ls) {
                na__stream_consumer_desync(&ls->consumer, false, true);
                na__ws_source_resync(ls->ws);
            }
            na_builder_free(bl);
            bl = rebuild(cur, items, ok, i);
            if (!bl)
                goto out;
            continue;
        }
        ok[i] = true;
        accepted++;
        version++;
        at = items[i].msg.timestamp >= 0 ? items[i].msg.timestamp : items[i].msg.received_at;
        at = clamp_time(at, last_at, now);
        last_at = at;
        for (size_t e = ev_before; e < b.n_ev; e++) {
            b.ev[e].version = version;
            b.ev[e].at = at;
            b.ev[e].received_ns = items[i].msg.received_ns;
            b.ev[e].item = i;
        }
        na_error_clear(&err);
        if (!in_tx) {
            if (na_wh_begin(wh, &err))
                goto wh_error;
            in_tx = true;
        }
        if (write_delta_rows(wh, bl, &b, at, &err) ||
            na__daemon_write_version_row(d, wh, na_topology_name(cur), version,
                                         na_builder_node_count(bl), na_builder_link_count(bl),
                                         at, &err))
            goto wh_error;
        batch_clear_delta(&b);
        {
            struct out_text ot = {.item = i, .version = version,
                                  .nodes = na_builder_node_count(bl),
                                  .links = na_builder_link_count(bl)};
            ot.text = na__stream_delta_text(dl, version, &ot.len);
            if (ot.text)
                PUSH(b.texts, b.n_texts, b.cap_texts, ot);
        }
        continue;
wh_error: {
            char buf[600];
            na_log(NA_LOG_ERROR, "warehouse: delta rows: %s",
                   na_error_format(&err, buf, sizeof(buf)));
            batch_clear_delta(&b);
        }
    }
    commit_or_log(wh, in_tx, "delta batch");
    in_tx = false;
    if (!accepted)
        goto out;
    na_builder_set_version(bl, version);
    na_builder_set_timestamp_ms(bl, last_at);
    na_error_clear(&err);
    if (na_builder_finish(bl, &next, &err)) {
        bl = NULL;
        goto out;
    }
    bl = NULL;
    if (b.sites_touched) {
        na_error_clear(&err);
        if (na__daemon_write_sites(wh, next, last_at, &err)) {
            char buf[600];
            na_log(NA_LOG_ERROR, "warehouse: sites: %s", na_error_format(&err, buf, sizeof(buf)));
        }
    }
    d->deltas_applied += accepted;
    /* The source's own topology follows too, for the next merge (a file source changing).
     * With one source it is the merged one; with several, each delta is applied to it as well
     * (a copy per delta: slower, and only then). */
    for (size_t i = 0; i < n; i++) {
        na__source_state *st = &d->sources[items[i].source];
        na_topology *own = NULL;
        if (!ok[i] || st->topo == next)
            continue;
        if (d->cfg.n_sources == 1) {
            own = na_topology_ref(next);
        } else if (st->topo) {
            na_error_clear(&err);
            if (na_topology_apply_delta(st->topo, items[i].msg.delta, &own, &err))
                own = NULL; /* its nodes came from another source: keep what it had */
        }
        if (!own)
            continue;
        pthread_mutex_lock(&d->lock);
        na_topology_unref(st->topo);
        st->topo = own;
        st->nodes = na_topology_node_count(own);
        st->links = na_topology_link_count(own);
        st->last_loaded_at = now;
        pthread_mutex_unlock(&d->lock);
    }
    stream_set(d, next);
    na__daemon_install_topology(d, next, now);

    /* Out: /topology/stream and NATS per delta, one /stream summary, then the alert manager. */
    for (size_t t = 0; t < b.n_texts; t++) {
        const struct out_text *ot = &b.texts[t];
        const na__ingest_item *it = &items[ot->item];
        na__jw w;
        char id[64], tb[40], *text;
        size_t len = 0;
        if (d->http)
            na__http_ws_publish(d->http, "/topology/stream", NULL, ot->text, ot->len);
        if (!d->nats)
            continue;
        memset(&w, 0, sizeof(w));
        na__jw_open(&w, '{');
        na__jw_key(&w, "version");
        na__jw_int(&w, (int64_t)ot->version);
        na__jw_key(&w, "seq");
        na__jw_int(&w, (int64_t)ot->version);
        na__jw_kv_str(&w, "at", na_time_format(it->msg.timestamp >= 0 ? it->msg.timestamp
                                                                      : it->msg.received_at,
                                               tb, sizeof(tb)));
        na__jw_kv_str(&w, "origin", d->cfg.sources[it->source].name);
        na__jw_key(&w, "nodes");
        na__jw_int(&w, (int64_t)ot->nodes);
        na__jw_key(&w, "links");
        na__jw_int(&w, (int64_t)ot->links);
        na__jw_key(&w, "delta");
        na__jw_put(&w, ot->text, ot->len);
        na__jw_close(&w, '}');
        text = na__jw_finish(&w, &len);
        snprintf(id, sizeof(id), "topology:%llu", (unsigned long long)ot->version);
        if (text)
            na__live_nats(d, "topology.changes", id, text, len);
        free(text);
    }
    {
        json_t *ops = json_array();
        for (size_t e = 0; e < b.n_ev && e < TOPOLOGY_EVENT_MAX_OPS; e++) {
            const pending_event *pe = &b.ev[e];
            json_t *o = json_pack("{s:s, s:I}", "event", na__event_type_name(pe->type),
                                  "version", (json_int_t)pe->version);
            if (pe->node_id)
                json_object_set_new(o, "node_id", json_string(pe->node_id));
            if (pe->link_id)
                json_object_set_new(o, "link_id", json_string(pe->link_id));
            json_array_append_new(ops, o);
        }
        na__daemon_publish(d, "topology", NULL, NULL,
                           json_pack("{s:I, s:I, s:I, s:I, s:o, s:b}", "version",
                                     (json_int_t)na_topology_version(next), "from_version",
                                     (json_int_t)na_topology_version(cur) + 1, "nodes",
                                     (json_int_t)na_topology_node_count(next), "links",
                                     (json_int_t)na_topology_link_count(next), "events", ops,
                                     "truncated", b.n_ev > TOPOLOGY_EVENT_MAX_OPS));
    }
    evs = calloc(b.n_ev + 1, sizeof(*evs));
    if (!evs)
        goto oom;
    for (size_t e = 0; e < b.n_ev; e++) {
        const pending_event *pe = &b.ev[e];
        na__event *ev = &evs[e];
        size_t idx;
        ev->type = pe->type;
        ev->node_id = pe->node_id;
        ev->link_id = pe->link_id;
        ev->source = pe->source;
        ev->target = pe->target;
        ev->origin = d->cfg.sources[items[pe->item].source].name;
        ev->value = NAN;
        ev->previous = NAN;
        ev->version = pe->version;
        ev->at = pe->at;
        ev->received_ns = pe->received_ns;
        {
            const char *site_of = pe->node_id ? pe->node_id : pe->source;
            if (site_of && na_topology_find_node(next, site_of, &idx) == NA_OK)
                ev->site = na_topology_node(next, idx)->site;
        }
    }
    na__live_events(d, wh, evs, b.n_ev, na_time_now());
    goto out;
oom:
    na_log(NA_LOG_ERROR, "out of memory applying deltas");
out:
    free(evs);
    na_builder_free(bl);
    batch_free(&b);
    free(ok);
    na_topology_unref(next);
    na_topology_unref(cur);
}

/* ---- snapshots and metrics ---------------------------------------------------------------- */

void na__daemon_remerge(na__daemon *d, na_warehouse *wh, bool force, const char *origin);

/* A stream snapshot replaces its source's topology; the merged result becomes a new version
 * only when it differs (a resync to the same state writes no history). */
static void apply_snapshot(na__daemon *d, na_warehouse *wh, na__ingest_item *it)
{
    na__source_state *st = &d->sources[it->source];
    na_topology *t = it->msg.snapshot;

    it->msg.snapshot = NULL;
    pthread_mutex_lock(&d->lock);
    na_topology_unref(st->topo);
    st->topo = t;
    st->nodes = na_topology_node_count(t);
    st->links = na_topology_link_count(t);
    st->last_loaded_at = na_time_now();
    pthread_mutex_unlock(&d->lock);
    d->snapshots_applied++;
    na_log(NA_LOG_INFO, "source %s: snapshot seq %llu (%zu nodes, %zu links)",
           d->cfg.sources[it->source].name, (unsigned long long)it->msg.seq, st->nodes,
           st->links);
    na__daemon_remerge(d, wh, false, d->cfg.sources[it->source].name);
}

static void apply_metrics(na__daemon *d, na_warehouse *wh, na__ingest_item *it)
{
    const na__stream_msg *m = &it->msg;
    na_wh_sample *s = calloc(m->n_samples + 1, sizeof(*s));
    na_time_ms now = na_time_now();
    na__event *evs;
    na_error err;

    if (!s)
        return;
    for (size_t i = 0; i < m->n_samples; i++) {
        const na__stream_sample *x = &m->samples[i];
        /* Link samples are stored under the link's id (the metrics table keys by node_id). */
        s[i] = (na_wh_sample){x->node_id ? x->node_id : x->link_id, x->name, x->at, x->value};
    }
    na_error_clear(&err);
    if (na_wh_metrics_append(wh, s, m->n_samples, &err)) {
        char buf[600];
        na_log(NA_LOG_ERROR, "warehouse: metrics: %s", na_error_format(&err, buf, sizeof(buf)));
    } else {
        d->samples_stored += m->n_samples;
    }
    free(s);
    evs = calloc(m->n_samples + 1, sizeof(*evs));
    if (!evs)
        return;
    for (size_t i = 0; i < m->n_samples; i++) {
        const na__stream_sample *x = &m->samples[i];
        na__event *ev = &evs[i];
        ev->type = NA_EV_METRIC;
        ev->node_id = x->node_id;
        ev->link_id = x->link_id;
        ev->metric = x->name;
        ev->value = x->value;
        ev->previous = NAN;
        ev->at = x->at;
        ev->origin = d->cfg.sources[it->source].name;
        ev->received_ns = m->received_ns;
        if (d->topo) {
            size_t idx;
            if (x->node_id && na_topology_find_node(d->topo, x->node_id, &idx) == NA_OK) {
                ev->site = na_topology_node(d->topo, idx)->site;
            } else if (x->link_id && na_topology_find_link(d->topo, x->link_id, &idx) == NA_OK) {
                const na_link *l = na_topology_link(d->topo, idx);
                ev->source = l->source;
                ev->target = l->target;
            }
        }
    }
    na__live_events(d, wh, evs, m->n_samples, now);
    free(evs);
}

bool na__live_drain(na__daemon *d, na_warehouse *wh)
{
    na__ingest_item *batch;
    size_t n = 0;

    pthread_mutex_lock(&d->lock);
    if (d->ingest_count == 0) {
        pthread_mutex_unlock(&d->lock);
        return false;
    }
    n = d->ingest_count < BATCH_MAX ? d->ingest_count : BATCH_MAX;
    batch = malloc(n * sizeof(*batch));
    if (!batch) {
        pthread_mutex_unlock(&d->lock);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        batch[i] = d->ingest[d->ingest_head];
        d->ingest_head = (d->ingest_head + 1) % d->ingest_cap;
    }
    d->ingest_count -= n;
    pthread_cond_broadcast(&d->ingest_space);
    pthread_mutex_unlock(&d->lock);

    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        if (batch[i].snmp) {
            na__snmp_apply(d, wh, batch[i].snmp);
            i = j;
            continue;
        }
        switch (batch[i].msg.type) {
        case NA_STREAM_DELTA:
            while (j < n && batch[j].msg.type == NA_STREAM_DELTA)
                j++;
            apply_deltas(d, wh, batch + i, j - i);
            break;
        case NA_STREAM_SNAPSHOT:
            apply_snapshot(d, wh, &batch[i]);
            break;
        case NA_STREAM_METRICS:
            apply_metrics(d, wh, &batch[i]);
            break;
        default:
            break;
        }
        i = j;
    }
    for (size_t i = 0; i < n; i++) {
        na__stream_msg_free(&batch[i].msg);
        na__snmp_batch_free(batch[i].snmp);
    }
    free(batch);
    d->ingest_handled += n;
    if (d->max_messages && d->ingest_handled >= d->max_messages) {
        na_log(NA_LOG_INFO, "ingest: %llu messages handled, stopping",
               (unsigned long long)d->ingest_handled);
        pthread_mutex_lock(&d->lock);
        d->stop = true;
        pthread_cond_broadcast(&d->wake);
        pthread_mutex_unlock(&d->lock);
    }
    return true;
}

/* ---- status ------------------------------------------------------------------------------------ */

static json_t *counters_json(const na__stream_counters *c)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                     "s:I, s:I}",
                     "messages", (json_int_t)c->messages, "bytes", (json_int_t)c->bytes,
                     "applied", (json_int_t)c->applied, "snapshots", (json_int_t)c->snapshots,
                     "deltas", (json_int_t)c->deltas, "metrics", (json_int_t)c->metrics,
                     "samples", (json_int_t)c->samples, "stale", (json_int_t)c->stale,
                     "waiting", (json_int_t)c->waiting, "unknown_types",
                     (json_int_t)c->unknown_types, "malformed", (json_int_t)c->malformed,
                     "unknown_fields", (json_int_t)c->unknown_fields, "gaps",
                     (json_int_t)c->gaps, "resyncs", (json_int_t)c->resyncs, "reconnects",
                     (json_int_t)c->reconnects, "apply_failures",
                     (json_int_t)c->apply_failures);
}

json_t *na__live_status_json(na__daemon *d)
{
    json_t *streams = json_array(), *out;

    for (size_t i = 0; d->sources && i < d->cfg.n_sources; i++) {
        na__live_source *ls = d->sources[i].live;
        na__stream_counters c;
        na__ws_source_stats ws;
        if (!ls)
            continue;
        na__stream_consumer_counters(&ls->consumer, &c);
        memset(&ws, 0, sizeof(ws));
        if (ls->ws)
            na__ws_source_stats_get(ls->ws, &ws);
        json_array_append_new(streams,
                              json_pack("{s:s, s:s, s:b, s:I, s:o, s:o}", "name",
                                        d->cfg.sources[i].name, "url", d->cfg.sources[i].url,
                                        "connected", ws.connected, "connects",
                                        (json_int_t)ws.connects, "counters", counters_json(&c),
                                        "last_error",
                                        ws.last_error[0] ? json_string(ws.last_error)
                                                         : json_null()));
    }
    pthread_mutex_lock(&d->lock);
    out = json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "streams", streams,
                    "queue", (json_int_t)d->ingest_count, "queue_capacity",
                    (json_int_t)d->ingest_cap, "queue_high_water",
                    (json_int_t)d->ingest_high_water, "queue_waits", (json_int_t)d->ingest_waits,
                    "handled", (json_int_t)d->ingest_handled, "deltas_applied",
                    (json_int_t)d->deltas_applied, "deltas_failed", (json_int_t)d->deltas_failed,
                    "snapshots_applied", (json_int_t)d->snapshots_applied, "samples_stored",
                    (json_int_t)d->samples_stored);
    pthread_mutex_unlock(&d->lock);
    if (d->nats) {
        na__nats_pub_stats ns;
        na__nats_pub_stats_get(d->nats, &ns);
        json_object_set_new(
            out, "nats",
            json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "connected",
                      ns.connected, "jetstream", ns.jetstream, "queued", (json_int_t)ns.queued,
                      "published", (json_int_t)ns.published, "duplicates",
                      (json_int_t)ns.duplicates, "retries", (json_int_t)ns.retries, "dropped",
                      (json_int_t)ns.dropped, "reconnects", (json_int_t)ns.reconnects, "outbox",
                      (json_int_t)ns.outbox, "last_error",
                      ns.last_error[0] ? json_string(ns.last_error) : json_null()));
    } else {
        json_object_set_new(out, "nats", json_null());
    }
    return out;
}
