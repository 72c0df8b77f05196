/*
 * cmd_ingest.c: `netassure ingest --ws URL`: consumes a topology stream
 * (docs/topology-stream.md). With --dry-run it keeps its own copy of the topology, prints what
 * each message would change and writes nothing; without, the daemon's engine ingests it into
 * the warehouse (na__daemon_run_ingest).
 *
 * Dry run threads: the WebSocket client's thread consumes and applies (on_message, on_state);
 * the main thread waits for SIGINT / SIGTERM or for --max-messages, then stops the client
 * (joined, so nothing runs after) and prints the counters.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "ingest/stream.h"
#include "netassure/diff.h"

typedef struct dry_run {
    const char *url;
    na__stream_consumer sc;
    pthread_mutex_t src_lock;  /* held while the source starts, so callbacks see src set */
    na__ws_source *src;
    na_topology *cur;          /* the dry run's state; client thread only */
    uint64_t max_messages;     /* 0: until stopped */
    uint64_t handled;          /* client thread only */
    atomic_bool done;
} dry_run;

static void resync(dry_run *dr)
{
    na__ws_source *src;

    pthread_mutex_lock(&dr->src_lock);
    src = dr->src;
    pthread_mutex_unlock(&dr->src_lock);
    na__ws_source_resync(src);
}

/* ---- what a message would change ------------------------------------------------------- */

/* "label, capacity, status=down" for an update; empty otherwise. */
static void op_fields(const na_delta_op *op, char *buf, size_t len)
{
    static const struct { unsigned bit; const char *name; } fields[] = {
        {NA_FIELD_LABEL, "label"},       {NA_FIELD_ROLE, "role"},
        {NA_FIELD_SITE, "site"},         {NA_FIELD_ASN, "asn"},
        {NA_FIELD_LATITUDE, "latitude"}, {NA_FIELD_LONGITUDE, "longitude"},
        {NA_FIELD_CAPACITY, "capacity"}, {NA_FIELD_STATUS, "status"},
        {NA_FIELD_ATTRS, "attributes"},
    };
    bool node = op->kind == NA_DELTA_NODE_UPDATE;
    size_t used = 0;

    buf[0] = '\0';
    if ((op->kind != NA_DELTA_NODE_UPDATE && op->kind != NA_DELTA_LINK_UPDATE) ||
        op->fields == NA_FIELD_STATUS)
        return;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && used < len; i++) {
        int w;
        if (!(op->fields & fields[i].bit))
            continue;
        if (fields[i].bit == NA_FIELD_STATUS)
            w = snprintf(buf + used, len - used, "%sstatus=%s", used ? ", " : " ",
                         na_status_name(node ? op->node.status : op->link.status));
        else
            w = snprintf(buf + used, len - used, "%s%s", used ? ", " : " ", fields[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static void print_delta(const na__stream_msg *m)
{
    size_t n = na_delta_count(m->delta);

    if (!n)
        printf("seq %" PRIu64 ": no operations\n", m->seq);
    for (size_t i = 0; i < n; i++) {
        const na_delta_op *op = na_delta_get(m->delta, i);
        const char *name = na__stream_op_name(op);
        char fields[200];
        op_fields(op, fields, sizeof(fields));
        if (op->kind <= NA_DELTA_NODE_UPDATE)
            printf("seq %" PRIu64 ": %s %s%s\n", m->seq, name, op->node.id, fields);
        else if (op->link.id)
            printf("seq %" PRIu64 ": %s %s%s\n", m->seq, name, op->link.id, fields);
        else
            printf("seq %" PRIu64 ": %s %s--%s%s\n", m->seq, name, op->link.source,
                   op->link.target, fields);
    }
}

static void print_snapshot(dry_run *dr, const na__stream_msg *m)
{
    const na_topology *t = m->snapshot;
    na_diff_result diff;
    na_error err;

    printf("seq %" PRIu64 ": snapshot %zu nodes, %zu links", m->seq, na_topology_node_count(t),
           na_topology_link_count(t));
    if (!dr->cur) {
        printf("\n");
        return;
    }
    na_error_clear(&err);
    if (na_diff_topologies(dr->cur, t, &diff, &err)) {
        printf("; cannot compare with the current state: %s\n", err.message);
        return;
    }
    if (!diff.count)
        printf("; no change\n");
    else
        printf("; against the current state: nodes +%zu -%zu ~%zu, links +%zu -%zu ~%zu\n",
               diff.nodes_added, diff.nodes_removed, diff.nodes_changed, diff.links_added,
               diff.links_removed, diff.links_changed);
    na_diff_result_free(&diff);
}

/* Prints an applied message and keeps the dry run's state up to date. */
static void dry_apply(dry_run *dr, na__stream_msg *m)
{
    na_topology *next = NULL;
    na_error err;

    switch (m->type) {
    case NA_STREAM_SNAPSHOT:
        print_snapshot(dr, m);
        na_topology_unref(dr->cur);
        dr->cur = m->snapshot;
        m->snapshot = NULL;
        break;
    case NA_STREAM_DELTA:
        print_delta(m);
        na_error_clear(&err);
        if (!dr->cur || na_topology_apply_delta(dr->cur, m->delta, &next, &err)) {
            printf("seq %" PRIu64 ": does not apply (%s): resync\n", m->seq,
                   dr->cur ? err.message : "no snapshot");
            na__stream_consumer_desync(&dr->sc, false, true);
            resync(dr);
            break;
        }
        na_topology_unref(dr->cur);
        dr->cur = next;
        break;
    case NA_STREAM_METRICS:
        printf("metrics: %zu sample%s\n", m->n_samples, m->n_samples == 1 ? "" : "s");
        break;
    case NA_STREAM_UNKNOWN:
        break;
    }
}

static void on_message(const char *text, size_t len, void *ud)
{
    dry_run *dr = ud;
    na__stream_msg m;

    if (atomic_load(&dr->done))
        return; /* past --max-messages: not counted */
    switch (na__stream_consume(&dr->sc, text, len, &m)) {
    case NA_STREAM_APPLY:
        dry_apply(dr, &m);
        na__stream_msg_free(&m);
        break;
    case NA_STREAM_RESYNC:
        printf("gap after seq %" PRIu64 ": resync\n", dr->sc.last_seq);
        resync(dr);
        break;
    case NA_STREAM_SKIP:
        break;
    }
    fflush(stdout);
    if (dr->max_messages && ++dr->handled >= dr->max_messages) {
        atomic_store(&dr->done, true);
        na__stop_raise(0);
    }
}

static void on_state(bool connected, const char *reason, void *ud)
{
    dry_run *dr = ud;

    if (connected) {
        na_log(NA_LOG_INFO, "ingest: connected to %s", dr->url);
        return;
    }
    na_log(NA_LOG_WARN, "ingest: disconnected from %s (%s); reconnecting", dr->url, reason);
    na__stream_consumer_desync(&dr->sc, true, false);
}

/* ---- counters ---------------------------------------------------------------------------- */

#define COUNTERS(X) \
    X(messages) X(bytes) X(applied) X(snapshots) X(deltas) X(metrics) X(samples) X(stale) \
    X(waiting) X(unknown_types) X(malformed) X(unknown_fields) X(gaps) X(resyncs) \
    X(reconnects) X(apply_failures)

static int print_counters(const dry_run *dr, const na__stream_counters *c,
                          const na__ws_source_stats *s, bool json)
{
    json_t *doc, *cj, *sj;

    if (!json) {
#define ROW(f) printf("%-16s %" PRIu64 "\n", #f, c->f);
        COUNTERS(ROW)
#undef ROW
        printf("%-16s %" PRIu64 "\n%-16s %" PRIu64 "\n%-16s %" PRIu64 "\n", "connects",
               s->connects, "disconnects", s->disconnects, "oversized", s->oversized);
        if (s->last_error[0])
            printf("%-16s %s\n", "last_error", s->last_error);
        return fflush(stdout) ? NA_EXIT_ERROR : NA_EXIT_OK;
    }
    cj = json_object();
    sj = json_object();
    doc = json_object();
#define FIELD(f) json_object_set_new(cj, #f, json_integer((json_int_t)c->f));
    COUNTERS(FIELD)
#undef FIELD
    json_object_set_new(sj, "connected", json_boolean(s->connected));
    json_object_set_new(sj, "connects", json_integer((json_int_t)s->connects));
    json_object_set_new(sj, "disconnects", json_integer((json_int_t)s->disconnects));
    json_object_set_new(sj, "messages", json_integer((json_int_t)s->messages));
    json_object_set_new(sj, "bytes", json_integer((json_int_t)s->bytes));
    json_object_set_new(sj, "oversized", json_integer((json_int_t)s->oversized));
    json_object_set_new(sj, "last_error", s->last_error[0] ? json_string(s->last_error)
                                                           : json_null());
    json_object_set_new(doc, "url", json_string(dr->url));
    json_object_set_new(doc, "counters", cj);
    json_object_set_new(doc, "connection", sj);
    return na_cli_print_json(doc);
}

static int dry_run_main(const char *url, const char *token, uint64_t max_messages, bool json)
{
    na__ws_source_opts o;
    na__ws_source_stats stats;
    na__stream_counters c;
    na_error err;
    dry_run dr;
    int fd, rc;

    memset(&dr, 0, sizeof(dr));
    dr.url = url;
    dr.max_messages = max_messages;
    atomic_init(&dr.done, false);
    fd = na__stop_fd();
    if (fd < 0) {
        fprintf(stderr, "netassure ingest: cannot install signal handlers: %s\n",
                strerror(errno));
        return NA_EXIT_ERROR;
    }
    na__stream_consumer_init(&dr.sc, "ingest");
    pthread_mutex_init(&dr.src_lock, NULL);
    memset(&o, 0, sizeof(o));
    o.url = url;
    o.token = token;
    o.on_message = on_message;
    o.on_state = on_state;
    o.ud = &dr;
    na_error_clear(&err);
    pthread_mutex_lock(&dr.src_lock);
    rc = na__ws_source_start(&o, &dr.src, &err);
    pthread_mutex_unlock(&dr.src_lock);
    if (rc) {
        rc = rc == NA_EINVAL ? na_cli_usage_error("ingest", "%s", err.message)
                             : na_cli_fail(&err);
        goto out;
    }
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        unsigned char sig;
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            break;
        if ((p.revents & POLLIN) && read(fd, &sig, 1) == 1)
            break;
    }
    na__ws_source_stats_get(dr.src, &stats);
    na__ws_source_stop(dr.src); /* joined: no callback runs after this */
    na__stream_consumer_counters(&dr.sc, &c);
    rc = print_counters(&dr, &c, &stats, json);
out:
    na_topology_unref(dr.cur);
    pthread_mutex_destroy(&dr.src_lock);
    na__stream_consumer_destroy(&dr.sc);
    return rc;
}

static void ingest_usage(FILE *out)
{
    fprintf(out,
            "usage: netassure ingest --ws URL [--token T] [--dry-run] [-c CONFIG]\n"
            "                        [--max-messages N] [--json]\n\n"
            "Consumes a topology stream (docs/topology-stream.md) from ws://HOST:PORT/PATH (path\n"
            "default /topology/stream): a `netassure replay`, another daemon's /topology/stream,\n"
            "or any producer of the format. Reconnects with backoff and resyncs from a fresh\n"
            "snapshot after a gap.\n\n"
            "Without --dry-run, the daemon's engine ingests the stream: every version goes to the\n"
            "warehouse, analytics and alerts run as for `netassure serve` (-c CONFIG, else the\n"
            "bundled default configuration).\n\n"
            "With --dry-run nothing is written: for every applied message it prints what it\n"
            "would change against its own copy of the topology (\"seq 42: link_down\n"
            "spine-04--leaf-02\"; a snapshot's differences; metrics' sample counts). A delta\n"
            "that does not apply counts as an apply failure and triggers a resync.\n"
            "On SIGINT / SIGTERM, or after --max-messages, it prints the counters and exits 0.\n\n"
            "  --ws URL             the stream (ws:// or wss://)\n"
            "  --token T            sent as 'Authorization: Bearer T'\n"
            "  --dry-run            print the changes, write nothing\n"
            "  -c, --config FILE    daemon configuration (without --dry-run)\n"
            "  --max-messages N     stop after N stream messages (of any kind)\n"
            "  --json               the counters as JSON (--dry-run)\n"
            "  -h, --help           this help\n");
}

int na_cli_ingest(int argc, char **argv)
{
    enum { O_WS = 256, O_TOKEN, O_DRY, O_MAX, O_JSON };
    static const struct option opts[] = {
        {"ws", required_argument, NULL, O_WS},
        {"token", required_argument, NULL, O_TOKEN},
        {"dry-run", no_argument, NULL, O_DRY},
        {"config", required_argument, NULL, 'c'},
        {"max-messages", required_argument, NULL, O_MAX},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *token = NULL, *config = NULL;
    bool dry = false, json = false;
    unsigned long max = 0;
    na__daemon_config cfg;
    na_error err;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case O_WS: url = optarg; break;
        case O_TOKEN:
            if (!optarg[0])
                return na_cli_usage_error("ingest", "--token needs a value");
            token = optarg;
            break;
        case O_DRY: dry = true; break;
        case 'c': config = optarg; break;
        case O_MAX:
            if (!na_cli_parse_uint(optarg, &max) || max == 0)
                return na_cli_usage_error("ingest", "--max-messages needs a positive integer");
            break;
        case O_JSON: json = true; break;
        case 'h': ingest_usage(stdout); return NA_EXIT_OK;
        default: return na_cli_usage_error("ingest", "bad option");
        }
    }
    if (optind != argc)
        return na_cli_usage_error("ingest", "unexpected argument '%s'", argv[optind]);
    if (!url)
        return na_cli_usage_error("ingest", "--ws URL is required");
    if (strncmp(url, "ws://", 5) != 0 && strncmp(url, "wss://", 6) != 0)
        return na_cli_usage_error("ingest", "--ws needs a ws:// or wss:// URL (got '%s')", url);
    if (dry) {
        if (config)
            return na_cli_usage_error("ingest", "-c applies without --dry-run only");
        return dry_run_main(url, token, max, json);
    }
    if (json)
        return na_cli_usage_error("ingest", "--json applies to --dry-run only");
    na_error_clear(&err);
    if ((config ? na__config_load(config, &cfg, &err) : na__config_default(&cfg, &err)))
        return na_cli_fail(&err);
    rc = na__daemon_run_ingest(&cfg, url, token, max);
    na__config_free(&cfg); /* the engine may have taken it over (then it is zeroed) */
    return rc;
}
