/*
 * live_latency.c: end-to-end latency of the daemon's live path (issue 4), delta sent -> alert
 * received, on both outputs (NATS anomaly.alerts and the /stream WebSocket), side by side with
 * the floor: the same rate of messages published straight to the same nats-server and received
 * by the same subscriber.
 *
 * This program is the topology stream the daemon follows: it serves ws://127.0.0.1:PORT/
 * topology/stream with the library's server (a snapshot of the current state on connect, then
 * every delta). The topology is a 2,000-node preferential-attachment graph (m = 2, fixed seed)
 * or --topology FILE. At each rate R it sends R deltas/s for --seconds, paced by absolute
 * deadlines (start + i / R, so a late send does not shift the ones after it), each one
 * node_down or node_up of the next node round-robin: toggle t is node t mod N, and node X's
 * k-th toggle is a node_down for odd k, a node_up for even k. With a topology_change rule on
 * node_down the daemon raises an alert on each node_down and resolves it on the node_up, so
 * node X's k-th alert change (raised, resolved) on either path answers X's k-th toggle. Each
 * send time is taken just before the text is queued for the daemon; receive times are taken
 * when the message reaches our callback (one process, CLOCK_MONOTONIC on both sides). /stream
 * sends every kind of event to a client that has not subscribed (server/stream.c), so the
 * client (the library's na__ws_source) sends nothing and skips what is not an alert.
 *
 * After each rate's deltas it waits for the answers (until all arrived, --drain seconds, or
 * 15 s without progress), then runs the floor for --floor-seconds at the same rate, payloads the
 * mean size of the alert messages just received, and asks the daemon's /status for its counters.
 *
 * usage: live_latency --daemon HOST:PORT --nats URL [--port P] [--rates 100,1000,10000]
 *                     [--seconds 10] [--floor-seconds S] [--drain 60] [--nodes 2000]
 *                     [--topology FILE]
 *
 * The daemon must run with a ws source at ws://127.0.0.1:P/topology/stream, a topology_change
 * rule on node_down, and NATS at the same URL (bench/live_bench.sh sets all of this up). Exit
 * status 0 when the run completed (whatever the latencies and losses: they are reported, not
 * judged), 1 on a setup failure, 2 on bad arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <nats/nats.h>

#include "ingest/stream.h"
#include "netassure/common.h"
#include "netassure/io.h"
#include "netassure/topology.h"
#include "server/http.h"

#define MAX_RATES 8
#define STALL_NS (15 * 1000000000LL)

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_until(int64_t deadline_ns)
{
    struct timespec ts = {.tv_sec = deadline_ns / 1000000000LL,
                          .tv_nsec = deadline_ns % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void sleep_ms(int ms)
{
    sleep_until(mono_ns() + (int64_t)ms * 1000000LL);
}

/* ---- receiving paths ------------------------------------------------------------------------ */

enum change_kind { CH_RAISED, CH_RESOLVED, CH_OTHER };

/* One receiving path (NATS or /stream): per node, the alert changes seen so far; per toggle,
 * when its answer arrived (0: not yet). Written by that path's callback thread only; the main
 * thread reads recv_ns while waiting (a racy read of a 64-bit slot, atomic by type). */
typedef struct path_rx {
    const char *name;
    uint32_t *k;                 /* per node */
    _Atomic int64_t *recv_ns;    /* per toggle */
    atomic_ulong messages;       /* every message the path delivered */
    atomic_ulong changes;        /* alert changes matched to a toggle */
    atomic_ulong other;          /* repeated / acknowledged alerts, other nodes (not ours) */
    atomic_ulong out_of_order;   /* a change whose kind does not fit the toggle it answers */
    atomic_ulong beyond;         /* a change for a toggle never sent */
    atomic_ulong bad;            /* not parseable */
    atomic_ulong bytes;          /* bytes of the alert messages matched (for the floor size) */
} path_rx;

typedef struct bench {
    na_topology *base;           /* all nodes up */
    size_t n;
    pthread_mutex_t state_lock;  /* down[] and seq: what a new stream client's snapshot says */
    unsigned char *down;
    uint64_t seq;
    na__http_server *srv;
    size_t cap;                  /* toggles that fit */
    _Atomic int64_t *send_ns;
    atomic_size_t sent;
    path_rx nats, ws;
    atomic_bool ws_connected;
    /* the floor of the current rate */
    _Atomic int64_t *floor_send, *floor_recv;
    size_t floor_cap;
    atomic_ulong floor_msgs, floor_bad;
} bench;

static int path_init(path_rx *p, const char *name, size_t n_nodes, size_t cap)
{
    memset(p, 0, sizeof(*p));
    p->name = name;
    p->k = calloc(n_nodes, sizeof(*p->k));
    p->recv_ns = calloc(cap, sizeof(*p->recv_ns));
    return p->k && p->recv_ns ? 0 : NA_ENOMEM;
}

static void path_free(path_rx *p)
{
    free(p->k);
    free((void *)p->recv_ns);
}

/* One alert change of `node_id` seen on path p at time `now`. */
static void record_change(bench *b, path_rx *p, const char *node_id, enum change_kind kind,
                          size_t bytes, int64_t now)
{
    size_t x;
    uint32_t k;
    size_t t;

    if (kind == CH_OTHER || !node_id || na_topology_find_node(b->base, node_id, &x) != NA_OK) {
        atomic_fetch_add(&p->other, 1);
        return;
    }
    k = ++p->k[x];
    t = (size_t)(k - 1) * b->n + x;
    if (t >= atomic_load(&b->sent) || t >= b->cap) {
        atomic_fetch_add(&p->beyond, 1);
        return;
    }
    /* k odd answers a node_down (raised), k even a node_up (resolved). */
    if ((k % 2 == 1) != (kind == CH_RAISED)) {
        atomic_fetch_add(&p->out_of_order, 1);
        return;
    }
    atomic_store(&p->recv_ns[t], now);
    atomic_fetch_add(&p->changes, 1);
    atomic_fetch_add(&p->bytes, bytes);
}

/* The alert object's kind of change: "active" with count 1 = raised, "resolved". */
static enum change_kind alert_kind(const json_t *alert, const char *event)
{
    const char *status = json_string_value(json_object_get(alert, "status"));
    json_int_t count = json_integer_value(json_object_get(alert, "count"));

    if (event && strcmp(event, "raised") == 0)
        return CH_RAISED;
    if (event && strcmp(event, "resolved") == 0)
        return CH_RESOLVED;
    if (event)
        return CH_OTHER;
    if (status && strcmp(status, "resolved") == 0)
        return CH_RESOLVED;
    if (status && strcmp(status, "active") == 0 && count <= 1)
        return CH_RAISED;
    return CH_OTHER;
}

static void on_nats_alert(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    int64_t now = mono_ns();
    bench *b = closure;
    json_t *doc = json_loadb(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), 0, NULL);
    json_t *alert = json_object_get(doc, "alert");

    (void)nc;
    (void)sub;
    atomic_fetch_add(&b->nats.messages, 1);
    if (!json_is_object(alert))
        atomic_fetch_add(&b->nats.bad, 1);
    else
        record_change(b, &b->nats, json_string_value(json_object_get(alert, "node_id")),
                      alert_kind(alert, json_string_value(json_object_get(doc, "event"))),
                      (size_t)natsMsg_GetDataLength(msg), now);
    json_decref(doc);
    natsMsg_Destroy(msg);
}

/* /stream: {"type": "alert", "at": ..., "data": <alert>}; other types are counted only. */
static void on_ws_message(const char *text, size_t len, void *ud)
{
    int64_t now = mono_ns();
    bench *b = ud;
    json_t *doc = json_loadb(text, len, 0, NULL);
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *alert = json_object_get(doc, "data");

    atomic_fetch_add(&b->ws.messages, 1);
    if (!type)
        atomic_fetch_add(&b->ws.bad, 1);
    else if (strcmp(type, "alert") == 0 && json_is_object(alert))
        record_change(b, &b->ws, json_string_value(json_object_get(alert, "node_id")),
                      alert_kind(alert, NULL), len, now);
    json_decref(doc);
}

static void on_ws_state(bool connected, const char *reason, void *ud)
{
    bench *b = ud;

    atomic_store(&b->ws_connected, connected);
    if (!connected)
        fprintf(stderr, "live_latency: /stream disconnected: %s\n", reason ? reason : "?");
}

static void on_floor(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    int64_t now = mono_ns();
    bench *b = closure;
    const char *data = natsMsg_GetData(msg);
    char num[24];
    int len = natsMsg_GetDataLength(msg), i;
    unsigned long long idx;
    char *end;

    (void)nc;
    (void)sub;
    atomic_fetch_add(&b->floor_msgs, 1);
    for (i = 0; i < len && i < (int)sizeof(num) - 1 && data[i] >= '0' && data[i] <= '9'; i++)
        num[i] = data[i];
    num[i] = '\0';
    errno = 0;
    idx = strtoull(num, &end, 10);
    if (i == 0 || errno || idx >= b->floor_cap)
        atomic_fetch_add(&b->floor_bad, 1);
    else
        atomic_store(&b->floor_recv[idx], now);
    natsMsg_Destroy(msg);
}

/* ---- the stream server ---------------------------------------------------------------------- */

/* The snapshot of the current state with its seq; malloc'd text (the server frees it). Runs on
 * the event-loop thread under the server's ws lock, which also serializes it with publishing:
 * a client that connects after a toggle was recorded but before its delta went out gets a
 * snapshot that already has it and sees the delta as stale, never a gap. */
static char *snapshot_text(bench *b)
{
    na_builder *bl = na_builder_from(b->base);
    na_topology *t = NULL;
    na_error err;
    char *text = NULL;
    uint64_t seq;
    int rc = bl ? NA_OK : NA_ENOMEM;

    na_error_clear(&err);
    pthread_mutex_lock(&b->state_lock);
    seq = b->seq;
    for (size_t i = 0; rc == NA_OK && i < b->n; i++) {
        na_node tmpl;
        if (!b->down[i])
            continue;
        na_node_init(&tmpl);
        tmpl.id = na_topology_node(b->base, i)->id;
        tmpl.status = NA_STATUS_DOWN;
        rc = na_builder_update_node(bl, &tmpl, NA_FIELD_STATUS, &err);
    }
    pthread_mutex_unlock(&b->state_lock);
    if (rc == NA_OK)
        rc = na_builder_finish(bl, &t, &err);
    else
        na_builder_free(bl);
    if (rc == NA_OK)
        text = na__stream_snapshot_text(t, seq, NULL);
    if (!text)
        fprintf(stderr, "live_latency: cannot build the snapshot: %s\n", err.message);
    na_topology_unref(t);
    return text;
}

static char *ws_open(na__ws_client *client, const char *path, void **state, void *ud)
{
    (void)client;
    (void)path;
    *state = NULL;
    fprintf(stderr, "live_latency: a client connected to /topology/stream\n");
    return snapshot_text(ud);
}

/* {"type": "resync"} asks for a snapshot; anything else is ignored. */
static char *ws_message(na__ws_client *client, void *state, const char *text, size_t len,
                        void *ud)
{
    char small[64];

    (void)client;
    (void)state;
    if (len >= sizeof(small))
        return NULL;
    memcpy(small, text, len);
    small[len] = '\0';
    return strstr(small, "\"resync\"") ? snapshot_text(ud) : NULL;
}

static void http_404(const na__http_request *req, na__http_response *resp, void *ud)
{
    (void)ud;
    na__http_error(resp, 404, "not_found", "%s: only /topology/stream here", req->path);
}

static void *server_thread(void *arg)
{
    na__http_server_run(arg);
    return NULL;
}

/* Toggle t: records the state change, then sends its delta. Returns 0 or NA_ENOMEM. */
static int send_toggle(bench *b, size_t t)
{
    size_t x = t % b->n;
    na_delta *d = na_delta_new();
    na_delta_op op;
    uint64_t seq;
    char *text = NULL;
    size_t len = 0;
    int rc = NA_ENOMEM;

    if (!d)
        return NA_ENOMEM;
    memset(&op, 0, sizeof(op));
    op.kind = NA_DELTA_NODE_UPDATE;
    op.fields = NA_FIELD_STATUS;
    na_node_init(&op.node);
    na_link_init(&op.link);
    op.node.id = na_topology_node(b->base, x)->id;
    pthread_mutex_lock(&b->state_lock);
    b->down[x] = !b->down[x];
    op.node.status = b->down[x] ? NA_STATUS_DOWN : NA_STATUS_UP;
    seq = ++b->seq;
    pthread_mutex_unlock(&b->state_lock);
    if (na_delta_append(d, &op) == NA_OK) {
        na_delta_set_timestamp_ms(d, wall_ms());
        text = na__stream_delta_text(d, seq, &len);
    }
    if (text) {
        atomic_store(&b->send_ns[t], mono_ns());
        atomic_store(&b->sent, t + 1);
        na__http_ws_publish(b->srv, "/topology/stream", NULL, text, len);
        rc = NA_OK;
    }
    free(text);
    na_delta_free(d);
    return rc;
}

/* ---- the topology --------------------------------------------------------------------------- */

/* xorshift64*: a fixed sequence on every machine. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Preferential attachment, m = 2: node i links to 2 distinct earlier nodes, each picked with
 * probability proportional to its degree (a uniformly chosen end of an existing link). */
static int make_topology(size_t n, na_topology **out, na_error *err)
{
    na_builder *bl = na_builder_new();
    size_t *ends = NULL, n_ends = 0;
    uint64_t rng = 42;
    char id[32];
    int rc = NA_OK;

    if (!bl || !(ends = malloc(4 * n * sizeof(*ends)))) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out;
    }
    if (n < 3) {
        rc = na_error_set(err, NA_EINVAL, "--nodes: at least 3");
        goto out;
    }
    na_builder_set_name(bl, "live-bench");
    na_builder_set_timestamp_ms(bl, wall_ms());
    for (size_t i = 0; i < n && rc == NA_OK; i++) {
        na_node nd;
        na_node_init(&nd);
        snprintf(id, sizeof(id), "r%04zu", i);
        nd.id = id;
        nd.role = i < 16 ? "core" : "edge";
        nd.status = NA_STATUS_UP;
        rc = na_builder_add_node(bl, &nd, err);
    }
    for (size_t i = 1; i < n && rc == NA_OK; i++) {
        size_t picked[2] = {SIZE_MAX, SIZE_MAX};
        size_t want = i == 1 ? 1 : 2;
        for (size_t j = 0; j < want; j++) {
            size_t v;
            do
                v = n_ends ? ends[rng_next(&rng) % n_ends] : 0;
            while (j == 1 && v == picked[0]);
            picked[j] = v;
        }
        for (size_t j = 0; j < want && rc == NA_OK; j++) {
            char src[32], dst[32];
            na_link l;
            na_link_init(&l);
            snprintf(src, sizeof(src), "r%04zu", i);
            snprintf(dst, sizeof(dst), "r%04zu", picked[j]);
            l.source = src;
            l.target = dst;
            l.status = NA_STATUS_UP;
            l.capacity = 1e11;
            rc = na_builder_add_link(bl, &l, NULL, err);
            ends[n_ends++] = i;
            ends[n_ends++] = picked[j];
        }
    }
    if (rc == NA_OK) {
        rc = na_builder_finish(bl, out, err);
        bl = NULL;
    }
out:
    na_builder_free(bl);
    free(ends);
    return rc;
}

/* ---- statistics ----------------------------------------------------------------------------- */

typedef struct lat_stats {
    size_t expected, received;
    double p50, p99, max;        /* ms; NAN when nothing arrived */
    double span_s;               /* first send -> last answer, s; NAN when nothing arrived */
} lat_stats;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Latencies recv - send over [from, to) where both are set. */
static lat_stats latency(_Atomic int64_t *send, _Atomic int64_t *recv, size_t from, size_t to)
{
    lat_stats s = {.expected = to - from, .p50 = NAN, .p99 = NAN, .max = NAN, .span_s = NAN};
    double *v = malloc((to - from + 1) * sizeof(*v));
    int64_t last = 0;

    if (!v)
        return s;
    for (size_t i = from; i < to; i++) {
        int64_t a = atomic_load(&send[i]), r = atomic_load(&recv[i]);
        if (a && r) {
            v[s.received++] = (double)(r - a) / 1e6;
            if (r > last)
                last = r;
        }
    }
    if (s.received && to > from)
        s.span_s = (double)(last - atomic_load(&send[from])) / 1e9;
    if (s.received) {
        qsort(v, s.received, sizeof(*v), cmp_double);
        s.p50 = v[(size_t)(0.50 * (double)(s.received - 1) + 0.5)];
        s.p99 = v[(size_t)(0.99 * (double)(s.received - 1) + 0.5)];
        s.max = v[s.received - 1];
    }
    free(v);
    return s;
}

static size_t count_received(_Atomic int64_t *recv, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t i = from; i < to; i++)
        n += atomic_load(&recv[i]) != 0;
    return n;
}

/* Waits until every answer of [from, to) arrived on every path given, `drain_s` passed, or
 * nothing new came for 15 s. */
static void wait_answers(_Atomic int64_t **recv, size_t n_paths, size_t from, size_t to,
                         int drain_s)
{
    int64_t end = mono_ns() + (int64_t)drain_s * 1000000000LL, last_change = mono_ns();
    size_t last = 0;

    for (;;) {
        size_t got = 0;
        for (size_t p = 0; p < n_paths; p++)
            got += count_received(recv[p], from, to);
        if (got == n_paths * (to - from))
            return;
        if (got != last) {
            last = got;
            last_change = mono_ns();
        }
        if (mono_ns() > end || mono_ns() - last_change > STALL_NS)
            return;
        sleep_ms(100);
    }
}

/* ---- the daemon's /status ------------------------------------------------------------------- */

static json_t *daemon_status(const char *daemon)
{
    char url[300];
    na__http_reply r;
    na_error err;
    json_t *doc = NULL;

    memset(&r, 0, sizeof(r));
    na_error_clear(&err);
    snprintf(url, sizeof(url), "http://%s/status", daemon);
    if (na__http_fetch("GET", url, NULL, NULL, 0, 10000, 0, &r, &err) == NA_OK &&
        r.status == 200)
        doc = json_loadb(r.body, r.body_len, 0, NULL);
    free(r.body);
    return doc;
}

static json_int_t jint(json_t *o, const char *a, const char *b2, const char *c)
{
    json_t *v = json_object_get(o, a);
    if (b2)
        v = json_object_get(v, b2);
    if (c)
        v = json_object_get(v, c);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

static json_t *first_stream_counters(json_t *st)
{
    return json_object_get(json_array_get(json_object_get(json_object_get(st, "ingest"),
                                                          "streams"), 0), "counters");
}

/* Waits until the daemon follows our stream (a snapshot applied), has NATS up, and its
 * analytics are idle (so the first rate does not compete with the first analysis). */
static int wait_daemon(const char *daemon, int timeout_s)
{
    int64_t end = mono_ns() + (int64_t)timeout_s * 1000000000LL;

    while (mono_ns() < end) {
        json_t *st = daemon_status(daemon);
        json_t *nats = json_object_get(st, "nats");
        const char *an = json_string_value(json_object_get(json_object_get(st, "analytics"),
                                                           "state"));
        bool ok = st && jint(first_stream_counters(st), "snapshots", NULL, NULL) >= 1 &&
                  json_is_true(json_object_get(nats, "connected")) &&
                  (!an || strcmp(an, "idle") == 0) &&
                  jint(st, "ingest", "queue", NULL) == 0;
        json_decref(st);
        if (ok)
            return 0;
        sleep_ms(200);
    }
    return -1;
}

/* ---- main ----------------------------------------------------------------------------------- */

typedef struct rate_result {
    double rate, achieved;
    size_t sent;
    lat_stats nats, ws, floor;
    size_t floor_payload;
    unsigned long nats_ooo, ws_ooo;
    json_int_t deltas_applied, queue_hw, gaps, resyncs, reconnects, stale, nats_dropped,
        nats_published, nats_retries;
} rate_result;

static void usage(void)
{
    fprintf(stderr,
            "usage: live_latency --daemon HOST:PORT --nats URL [--port P] [--rates "
            "100,1000,10000]\n"
            "                    [--seconds 10] [--floor-seconds S] [--drain 60] [--nodes 2000] "
            "[--topology FILE]\n");
    exit(2);
}

static double parse_num(const char *s, const char *what)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0)) {
        fprintf(stderr, "live_latency: %s: expected a positive number, got '%s'\n", what, s);
        exit(2);
    }
    return v;
}

static void print_ms(double v)
{
    if (isnan(v))
        printf(" %9s", "-");
    else
        printf(" %9.2f", v);
}

static void print_ratio(double a, double b)
{
    if (isnan(a) || isnan(b) || b <= 0)
        printf(" | %9s", "-");
    else
        printf(" | %8.1fx", a / b);
}

int main(int argc, char **argv)
{
    const char *daemon = NULL, *nats_url = NULL, *topo_file = NULL;
    double rates[MAX_RATES] = {100, 1000, 10000}, seconds = 10, floor_seconds = -1;
    size_t n_rates = 3, n_nodes = 2000;
    int port = 0, drain_s = 60, status = 1;
    bench b;
    rate_result res[MAX_RATES];
    na_error err;
    pthread_t srv_thread;
    bool srv_running = false;
    natsConnection *nc = NULL, *pc = NULL;
    natsOptions *popts = NULL;
    natsSubscription *alerts_sub = NULL, *floor_sub = NULL;
    na__ws_source *ws = NULL;
    char floor_subject[64], ws_url[300];
    size_t total = 0;

    memset(&b, 0, sizeof(b));
    memset(res, 0, sizeof(res));
    na_error_clear(&err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        i++;
        if (strcmp(a, "--daemon") == 0) {
            daemon = v;
        } else if (strcmp(a, "--nats") == 0) {
            nats_url = v;
        } else if (strcmp(a, "--port") == 0) {
            port = (int)parse_num(v, a);
        } else if (strcmp(a, "--seconds") == 0) {
            seconds = parse_num(v, a);
        } else if (strcmp(a, "--floor-seconds") == 0) {
            floor_seconds = parse_num(v, a);
        } else if (strcmp(a, "--drain") == 0) {
            drain_s = (int)parse_num(v, a);
        } else if (strcmp(a, "--nodes") == 0) {
            n_nodes = (size_t)parse_num(v, a);
        } else if (strcmp(a, "--topology") == 0) {
            topo_file = v;
        } else if (strcmp(a, "--rates") == 0) {
            char buf[200];
            const char *p = v;
            n_rates = 0;
            while (*p) {
                size_t l = strcspn(p, ",");
                if (n_rates == MAX_RATES || l == 0 || l >= sizeof(buf))
                    usage();
                memcpy(buf, p, l);
                buf[l] = '\0';
                rates[n_rates++] = parse_num(buf, a);
                p += l + (p[l] == ',');
            }
            if (!n_rates)
                usage();
        } else {
            usage();
        }
    }
    if (!daemon || !nats_url)
        usage();
    if (floor_seconds < 0)
        floor_seconds = seconds;
    na_log_set_level(NA_LOG_WARN);

    /* The topology: loaded, or generated. */
    if (topo_file) {
        if (na_import_file(topo_file, NA_FORMAT_AUTO, &b.base, NULL, &err)) {
            fprintf(stderr, "live_latency: %s: %s\n", topo_file, err.message);
            goto out;
        }
    } else if (make_topology(n_nodes, &b.base, &err)) {
        fprintf(stderr, "live_latency: topology: %s\n", err.message);
        goto out;
    }
    b.n = na_topology_node_count(b.base);
    for (size_t r = 0; r < n_rates; r++)
        total += (size_t)(rates[r] * seconds + 0.5);
    b.cap = total;
    b.down = calloc(b.n, 1);
    b.send_ns = calloc(total + 1, sizeof(*b.send_ns));
    pthread_mutex_init(&b.state_lock, NULL);
    b.seq = 1;
    if (!b.down || !b.send_ns || path_init(&b.nats, "NATS", b.n, total + 1) ||
        path_init(&b.ws, "/stream", b.n, total + 1)) {
        fprintf(stderr, "live_latency: out of memory\n");
        goto out;
    }

    /* The stream server. Its queue for the daemon is large enough for every delta of a run:
     * dropping the daemon as a slow consumer would measure our server, not the daemon. */
    {
        static const char *const paths[] = {"/topology/stream", NULL};
        na__http_server_opts o;
        memset(&o, 0, sizeof(o));
        o.host = "127.0.0.1";
        o.port = port;
        o.workers = 1;
        o.ws_paths = paths;
        o.ws_queue_messages = total + 16;
        o.ws_queue_bytes = (size_t)1 << 30;
        o.handler = http_404;
        o.ws.open = ws_open;
        o.ws.message = ws_message;
        o.ws.ud = &b;
        if (na__http_server_new(&o, &b.srv, &err)) {
            fprintf(stderr, "live_latency: server: %s\n", err.message);
            goto out;
        }
        if (pthread_create(&srv_thread, NULL, server_thread, b.srv)) {
            fprintf(stderr, "live_latency: cannot start the server thread\n");
            goto out;
        }
        srv_running = true;
        printf("live_latency: %zu nodes, %zu links; serving ws://127.0.0.1:%d/topology/stream\n",
               b.n, na_topology_link_count(b.base), na__http_server_port(b.srv));
        fflush(stdout);
    }

    /* NATS: one subscriber connection for both subjects, one publisher for the floor (send as
     * soon as published: the floor is core NATS at its quickest). */
    snprintf(floor_subject, sizeof(floor_subject), "live_latency.floor.%ld", (long)getpid());
    if (natsConnection_ConnectTo(&nc, nats_url) != NATS_OK ||
        natsConnection_Subscribe(&alerts_sub, nc, "anomaly.alerts", on_nats_alert, &b) !=
            NATS_OK ||
        natsSubscription_SetPendingLimits(alerts_sub, -1, -1) != NATS_OK ||
        natsConnection_Subscribe(&floor_sub, nc, floor_subject, on_floor, &b) != NATS_OK ||
        natsSubscription_SetPendingLimits(floor_sub, -1, -1) != NATS_OK ||
        natsConnection_FlushTimeout(nc, 5000) != NATS_OK ||
        natsOptions_Create(&popts) != NATS_OK || natsOptions_SetURL(popts, nats_url) != NATS_OK ||
        natsOptions_SetSendAsap(popts, true) != NATS_OK ||
        natsConnection_Connect(&pc, popts) != NATS_OK) {
        fprintf(stderr, "live_latency: NATS %s: %s\n", nats_url,
                nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "cannot connect");
        goto out;
    }

    /* The daemon's /stream. */
    {
        na__ws_source_opts o;
        memset(&o, 0, sizeof(o));
        snprintf(ws_url, sizeof(ws_url), "ws://%s/stream", daemon);
        o.url = ws_url;
        o.on_message = on_ws_message;
        o.on_state = on_ws_state;
        o.ud = &b;
        if (na__ws_source_start(&o, &ws, &err)) {
            fprintf(stderr, "live_latency: %s: %s\n", ws_url, err.message);
            goto out;
        }
    }

    printf("live_latency: waiting for the daemon at %s (stream followed, NATS up, analytics "
           "idle)\n", daemon);
    fflush(stdout);
    if (wait_daemon(daemon, 180)) {
        fprintf(stderr, "live_latency: the daemon did not follow the stream with NATS up within "
                        "180 s\n");
        goto out;
    }
    for (int i = 0; i < 100 && !atomic_load(&b.ws_connected); i++)
        sleep_ms(100);
    if (!atomic_load(&b.ws_connected)) {
        fprintf(stderr, "live_latency: %s did not connect\n", ws_url);
        goto out;
    }

    for (size_t r = 0; r < n_rates; r++) {
        rate_result *rr = &res[r];
        size_t from = atomic_load(&b.sent), count = (size_t)(rates[r] * seconds + 0.5);
        double period = 1e9 / rates[r];
        int64_t start, first = 0, last = 0;
        _Atomic int64_t *paths[2] = {b.nats.recv_ns, b.ws.recv_ns};
        unsigned long bytes0 = atomic_load(&b.nats.bytes), changes0 = atomic_load(&b.nats.changes);
        unsigned long ooo_n = atomic_load(&b.nats.out_of_order),
                      ooo_w = atomic_load(&b.ws.out_of_order);
        json_t *st;

        rr->rate = rates[r];
        printf("rate %.0f/s: sending %zu deltas...\n", rates[r], count);
        fflush(stdout);
        start = mono_ns() + 1000000;
        for (size_t i = 0; i < count; i++) {
            sleep_until(start + (int64_t)((double)i * period));
            if (send_toggle(&b, from + i)) {
                fprintf(stderr, "live_latency: out of memory\n");
                goto out;
            }
        }
        first = atomic_load(&b.send_ns[from]);
        last = atomic_load(&b.send_ns[from + count - 1]);
        rr->sent = count;
        rr->achieved = count > 1 && last > first ? (double)(count - 1) * 1e9 / (double)(last - first)
                                                 : rates[r];
        wait_answers(paths, 2, from, from + count, drain_s);
        rr->nats = latency(b.send_ns, b.nats.recv_ns, from, from + count);
        rr->ws = latency(b.send_ns, b.ws.recv_ns, from, from + count);
        rr->nats_ooo = atomic_load(&b.nats.out_of_order) - ooo_n;
        rr->ws_ooo = atomic_load(&b.ws.out_of_order) - ooo_w;

        st = daemon_status(daemon);
        rr->deltas_applied = jint(st, "ingest", "deltas_applied", NULL);
        rr->queue_hw = jint(st, "ingest", "queue_high_water", NULL);
        rr->gaps = jint(first_stream_counters(st), "gaps", NULL, NULL);
        rr->resyncs = jint(first_stream_counters(st), "resyncs", NULL, NULL);
        rr->reconnects = jint(first_stream_counters(st), "reconnects", NULL, NULL);
        rr->stale = jint(first_stream_counters(st), "stale", NULL, NULL);
        rr->nats_dropped = jint(st, "nats", "dropped", NULL);
        rr->nats_published = jint(st, "nats", "published", NULL);
        rr->nats_retries = jint(st, "nats", "retries", NULL);
        json_decref(st);

        /* The floor: the same rate, payloads of the alert messages' mean size. */
        {
            size_t fcount = (size_t)(rates[r] * floor_seconds + 0.5);
            unsigned long nb = atomic_load(&b.nats.bytes) - bytes0,
                          nm = atomic_load(&b.nats.changes) - changes0;
            size_t psize = nm ? nb / nm : 600;
            char *payload;
            _Atomic int64_t *fr[1];

            if (psize < 24)
                psize = 24;
            rr->floor_payload = psize;
            free((void *)b.floor_send);
            free((void *)b.floor_recv);
            b.floor_cap = fcount;
            b.floor_send = calloc(fcount + 1, sizeof(*b.floor_send));
            b.floor_recv = calloc(fcount + 1, sizeof(*b.floor_recv));
            payload = malloc(psize);
            if (!b.floor_send || !b.floor_recv || !payload) {
                free(payload);
                fprintf(stderr, "live_latency: out of memory\n");
                goto out;
            }
            memset(payload, 'x', psize);
            printf("rate %.0f/s: floor, %zu messages of %zu bytes...\n", rates[r], fcount,
                   psize);
            fflush(stdout);
            start = mono_ns() + 1000000;
            for (size_t i = 0; i < fcount; i++) {
                char num[24];
                int nl = snprintf(num, sizeof(num), "%020zu", i);
                memcpy(payload, num, (size_t)nl);
                payload[nl] = ' ';
                sleep_until(start + (int64_t)((double)i * period));
                atomic_store(&b.floor_send[i], mono_ns());
                natsConnection_Publish(pc, floor_subject, payload, (int)psize);
            }
            free(payload);
            natsConnection_FlushTimeout(pc, 10000);
            fr[0] = b.floor_recv;
            wait_answers(fr, 1, 0, fcount, drain_s);
            rr->floor = latency(b.floor_send, b.floor_recv, 0, fcount);
        }
        sleep_ms(2000);
    }

    /* The report. */
    {
        int64_t dropped = 0;
        natsSubscription_GetDropped(alerts_sub, &dropped);
        printf("\nlive_latency: delta sent -> alert change received (ms); floor = the same rate "
               "published straight to the same nats-server, same subscriber\n");
        printf("%9s %9s %8s | %8s %7s %9s %9s %9s | %8s %7s %9s %9s %9s | %8s %9s %9s %9s | "
               "%9s | %9s\n",
               "rate/s", "achieved", "sent", "NATS rx", "missing", "p50", "p99", "max",
               "/stream", "missing", "p50", "p99", "max", "floor rx", "p50", "p99", "max",
               "p50 ratio", "p99 ratio");
        for (size_t r = 0; r < n_rates; r++) {
            rate_result *rr = &res[r];
            printf("%9.0f %9.0f %8zu | %8zu %7zu", rr->rate, rr->achieved, rr->sent,
                   rr->nats.received, rr->nats.expected - rr->nats.received);
            print_ms(rr->nats.p50);
            print_ms(rr->nats.p99);
            print_ms(rr->nats.max);
            printf(" | %8zu %7zu", rr->ws.received, rr->ws.expected - rr->ws.received);
            print_ms(rr->ws.p50);
            print_ms(rr->ws.p99);
            print_ms(rr->ws.max);
            printf(" | %8zu", rr->floor.received);
            print_ms(rr->floor.p50);
            print_ms(rr->floor.p99);
            print_ms(rr->floor.max);
            print_ratio(rr->nats.p50, rr->floor.p50);
            print_ratio(rr->nats.p99, rr->floor.p99);
            printf("\n");
        }
        printf("\n(ratio = NATS path / floor. Floor payload = mean alert message size.)\n");
        printf("%9s | %10s %10s | %14s %9s %6s %8s %10s %6s | %14s %9s %8s | %11s %11s\n",
               "rate/s", "NATS ans/s", "strm ans/s", "deltas_applied", "queue_hw", "gaps",
               "resyncs", "reconnects", "stale", "nats published", "dropped", "retries",
               "NATS ooo", "/stream ooo");
        for (size_t r = 0; r < n_rates; r++) {
            rate_result *rr = &res[r];
            printf("%9.0f | %10.0f %10.0f | %14lld %9lld %6lld %8lld %10lld %6lld | %14lld %9lld "
                   "%8lld | %11lu %11lu\n",
                   rr->rate, rr->nats.span_s > 0 ? (double)rr->nats.received / rr->nats.span_s : NAN,
                   rr->ws.span_s > 0 ? (double)rr->ws.received / rr->ws.span_s : NAN,
                   (long long)rr->deltas_applied, (long long)rr->queue_hw,
                   (long long)rr->gaps, (long long)rr->resyncs, (long long)rr->reconnects,
                   (long long)rr->stale, (long long)rr->nats_published,
                   (long long)rr->nats_dropped, (long long)rr->nats_retries, rr->nats_ooo,
                   rr->ws_ooo);
        }
        printf("(ans/s = answers received / (last answer - first send): the rate the daemon "
               "sustained end to end; daemon counters from /status after each rate, cumulative; "
               "ooo = alert changes that did not fit the toggle they answer)\n");
        printf("totals: NATS %lu messages (%lu not about a toggle, %lu beyond, %lu unparsable, "
               "%lld dropped by the client), /stream %lu messages (%lu alert changes)\n",
               atomic_load(&b.nats.messages), atomic_load(&b.nats.other),
               atomic_load(&b.nats.beyond), atomic_load(&b.nats.bad), (long long)dropped,
               atomic_load(&b.ws.messages), atomic_load(&b.ws.changes));
    }
    status = 0;

out:
    na__ws_source_stop(ws);
    natsSubscription_Destroy(alerts_sub);
    natsSubscription_Destroy(floor_sub);
    natsConnection_Destroy(nc);
    natsConnection_Destroy(pc);
    natsOptions_Destroy(popts);
    nats_Close();
    if (srv_running) {
        na__http_server_stop(b.srv);
        pthread_join(srv_thread, NULL);
    }
    na__http_server_free(b.srv);
    path_free(&b.nats);
    path_free(&b.ws);
    free((void *)b.send_ns);
    free((void *)b.floor_send);
    free((void *)b.floor_recv);
    free(b.down);
    na_topology_unref(b.base);
    return status;
}
