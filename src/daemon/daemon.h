/*
 * daemon/daemon.h (internal): `netassure serve`: state shared between the daemon's threads.
 *
 * Threads (docs/ARCHITECTURE.md, "The daemon"):
 *  - the HTTP event loop (server/http.c) and its workers, which run the API handlers
 *    (server/api.c) and only read: the current state under `lock` (short critical sections:
 *    take references, copy strings), past states from the warehouse through a read-only
 *    handle of their own;
 *  - the engine (daemon.c): the single warehouse writer; watches the sources, builds each new
 *    topology version, evaluates alert rules and detectors on each analysis, carries out the
 *    API's writes (ack, feedback, config) sent to it as commands, publishes events;
 *  - the analytics worker (daemon.c): runs the graph analytics of the newest version (igraph is
 *    not thread-safe: every igraph call in the daemon holds `igraph_lock`);
 *  - a signal thread that turns SIGINT / SIGTERM into a clean stop.
 */
#ifndef NA_DAEMON_H
#define NA_DAEMON_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "alert/alert.h"
#include "daemon/config.h"
#include "detect/detect.h"
#include "ingest/stream.h"
#include "alert/nats_pub.h"
#include "netassure/report.h"
#include "netassure/topology.h"
#include "netassure/warehouse.h"
#include "server/http.h"

/* One analysis of one topology version, immutable once published; shared by reference. */
typedef struct na__analysis_bundle {
    atomic_int refs;
    na_analysis a;                       /* a.topo: the analysed version, its number and
                                            observation time (na_topology_timestamp_ms) */
    na_time_ms computed_at;
    double duration_ms;
    char *kind_json[7];                  /* GET /analytics/{kind} "result" texts, by kind bit */
} na__analysis_bundle;

na__analysis_bundle *na__bundle_ref(na__analysis_bundle *b);
void na__bundle_unref(na__analysis_bundle *b);

struct na__daemon;
struct na__ws_source;

/* A stream source's client and its consumer (daemon/live.c). */
typedef struct na__live_source {
    struct na__daemon *d;
    size_t index;                        /* into cfg.sources / sources */
    struct na__ws_source *ws;
    na__stream_consumer consumer;
} na__live_source;

typedef struct na__source_state {
    char state[16];                      /* "pending", "ok", "error"; streams: "connecting",
                                            "connected", "disconnected" */
    na__live_source *live;               /* stream sources only */
    char *last_error;
    na_time_ms last_loaded_at;
    size_t nodes, links;
    na_topology *topo;                   /* last good load */
    /* change detection for watched files */
    long long mtime_ns, size, ino;
    na_time_ms next_check;
} na__source_state;

/* Texts of past topology versions for GET /topology?at= (daemon/wh_map.c). */
#define NA__TEXT_CACHE_SIZE 4
typedef struct na__text_cache {
    pthread_mutex_t lock;
    struct {
        int64_t version;
        na_time_ms from;
        char *tail;
        size_t len;
        uint64_t used;
    } e[NA__TEXT_CACHE_SIZE];
    uint64_t clock, hits, misses;
} na__text_cache;

void na__text_cache_free(na__text_cache *c);

/* A write the API asks of the engine; the worker thread waits for it. */
typedef enum na__cmd_kind {
    NA_CMD_ACK = 0,
    NA_CMD_FEEDBACK,
    NA_CMD_CONFIG,
    NA_CMD_SILENCE_ADD,      /* input: the POST /silences body */
    NA_CMD_SILENCE_DELETE,   /* alert_id: the silence id */
    NA_CMD_TUNING_DELETE     /* alert_id: the tuning (feedback effect) id */
} na__cmd_kind;

typedef struct na__command {
    na__cmd_kind kind;
    const char *alert_id;
    json_t *input;                       /* borrowed */
    /* results */
    int rc;                              /* 0 or NA_E*; NA_ENOTFOUND: unknown alert */
    na_error err;
    json_t *output;                      /* new reference for the caller */
    bool done;
    struct na__command *next;
} na__command;

typedef struct na__daemon {
    na__daemon_config cfg;
    char wh_url[4200];                   /* resolved warehouse URL */
    char wh_location[512];               /* for /status: path or host/db, no password */
    char wh_backend[16];
    int wh_schema_version;
    na_time_ms started_at;

    pthread_mutex_t lock;                /* guards everything below up to `stop` */
    pthread_cond_t wake;                 /* engine: commands, analysis results, stop */
    pthread_cond_t done;                 /* workers: command completion */
    na_topology *topo;                   /* current merged version (NULL before the first);
                                            observed at na_topology_timestamp_ms(topo) */
    char *topo_json;                     /* cached GET /topology text of `topo` (lazily) */
    size_t topo_json_len;
    na__analysis_bundle *bundle;         /* newest analysis */
    na__analysis_bundle *pending_result; /* from the analytics worker to the engine */
    na_topology *analysis_request;       /* from the engine to the analytics worker */
    bool analysis_running;
    na__alert_store alerts;
    na__anomaly *anomalies;              /* newest last, at most max_anomalies */
    size_t n_anomalies, max_anomalies;
    size_t anomalies_total;
    json_t *branding, *banners;
    na__source_state *sources;
    na__command *commands;
    na_time_ms last_update;
    bool stop;

    pthread_mutex_t igraph_lock;
    pthread_mutex_t topo_json_lock;      /* builds the cached /topology text once */
    na__http_server *http;
    pthread_key_t reader_key;            /* per-worker read-only warehouse handle */
    na_time_ms analytics_written_at;     /* engine only: newest observation of the analytics table */
    na_time_ms node_metrics_at;          /* engine only: last per-node metric samples */
    na__text_cache topo_cache;           /* GET /topology?at= texts by version */

    /* Live ingest (daemon/live.c). The queue is guarded by `lock`: stream client threads
     * push parsed messages and wait on ingest_space when it is full (back-pressure onto the
     * TCP connection); the engine drains it. */
    struct na__ingest_item *ingest;
    size_t ingest_cap, ingest_head, ingest_count, ingest_high_water;
    uint64_t ingest_waits, ingest_handled, deltas_applied, deltas_failed, snapshots_applied;
    uint64_t samples_stored;
    pthread_cond_t ingest_space;
    na__nats_pub *nats;
    /* What /topology/stream serves on connect: set before the deltas that lead to it are
     * published, so a client that connects in between sees stale deltas (skipped), never a gap.
     * Lock order: the HTTP server's ws lock, then this one; never the other way round. */
    pthread_mutex_t stream_lock;
    na_topology *stream_topo;
    char *stream_text;
    size_t stream_text_len;
    uint64_t stream_text_version;
    bool sources_stopped;                /* stream clients joined: no more input (lock) */
    bool engine_gone;                    /* the engine thread ended (lock) */
    bool no_http;                        /* `netassure ingest`: the engine without a server */
    uint64_t max_messages;               /* ingest: stop after this many (0: never) */
    struct na__analysis_bundle *prev_bundle; /* engine: the analysis before the newest */

    /* SNMP polling (daemon/snmp_source.c): the poller thread feeds the ingest queue. */
    struct na__snmp_source *snmp;        /* NULL without snmp devices */
    json_t *snmp_docs;                   /* lock: node id -> latest device document */
    json_t *snmp_status;                 /* lock: the last run's summary */
    uint64_t snmp_polls;                 /* lock */
} na__daemon;

/* ---- live ingest, events and publishing (daemon/live.c) ---- */

struct na__snmp_batch;
typedef struct na__ingest_item {
    size_t source;                       /* index into cfg.sources */
    na__stream_msg msg;
    struct na__snmp_batch *snmp;         /* an SNMP poll's device tables (msg unused), owned */
} na__ingest_item;

/* Pushes one item into the ingest queue, waiting while it is full. Takes over the item's
 * message and batch; false (both freed) when the engine has stopped. */
bool na__live_enqueue(na__daemon *d, na__ingest_item *it);

/* ---- SNMP polling (daemon/snmp_source.c) ---- */

#define NA__SNMP_TABLES 4                /* ports, hosts, sensors, neighbors */
typedef struct na__snmp_source na__snmp_source;
typedef struct na__snmp_batch na__snmp_batch;
/* Starts the poller thread when the configuration has an "snmp" source (snmp: devices). */
int na__snmp_source_start(na__daemon *d, na_error *err);
/* Stops and joins the thread (no more items after it returns). */
void na__snmp_source_stop(na__daemon *d);
void na__snmp_source_free(na__daemon *d);
/* Engine: writes a batch's device tables and installs its documents. Does not free it. */
void na__snmp_apply(na__daemon *d, na_warehouse *wh, na__snmp_batch *b);
void na__snmp_batch_free(na__snmp_batch *b);
/* /status "snmp" (null without a poller). New reference. */
json_t *na__snmp_status_json(na__daemon *d);
/* The latest device documents (object by node id), or NULL before the first poll. New
 * reference; never modified after it is installed. */
json_t *na__snmp_live_docs(na__daemon *d);

/* Starts the stream sources and the NATS publisher (before the engine). */
int na__live_start(na__daemon *d, na_error *err);
/* Stops the stream clients (no more input). */
void na__live_stop_sources(na__daemon *d);
/* After the engine stopped: flushes and stops NATS, frees what is left in the queue. */
void na__live_stop(na__daemon *d);
/* Engine: handles every queued stream message; true when there were any. */
bool na__live_drain(na__daemon *d, na_warehouse *wh);
/* Engine: several events in order, their alert writes in one transaction. */
void na__live_events(na__daemon *d, na_warehouse *wh, const na__event *evs, size_t n,
                     na_time_ms now);
/* Engine: alerts that changed (from any rule): warehouse rows, /stream, NATS. Takes d->lock. */
void na__live_alerts_changed(na__daemon *d, na_warehouse *wh, na__alert **changed, size_t n,
                             na_time_ms now);
/* Engine: time-based alert work (durations, quiet resolves, expiries). */
void na__live_tick(na__daemon *d, na_warehouse *wh, na_time_ms now);
/* Engine: a new current topology (from files or a stream snapshot): what /topology/stream
 * serves to new clients, a full-state message to the ones connected, and NATS
 * topology.changes with the change (the /stream topology event's summary, items, truncated). */
void na__live_topology_replaced(na__daemon *d, na_topology *topo, const char *origin,
                                const json_t *change);
/* Engine: publishes on NATS (no-op without NATS). */
void na__live_nats(na__daemon *d, const char *subject, const char *msg_id, const char *text,
                   size_t len);
/* /topology/stream callbacks (event-loop thread). */
char *na__topo_stream_open(na__daemon *d);
char *na__topo_stream_message(na__daemon *d, const char *text, size_t len);
/* /status "ingest" and "nats" objects (new references). */
json_t *na__live_status_json(na__daemon *d);

/* Runs `netassure serve` with a loaded configuration until SIGINT / SIGTERM; exit code. */
int na__daemon_run(na__daemon_config *cfg, const char *listen_override, bool quiet);

/*
 * `netassure ingest --ws URL` without --dry-run: the engine alone (no HTTP server) with one
 * stream source, writing the warehouse (and NATS when configured) until SIGINT / SIGTERM or,
 * with max_messages > 0, until that many stream messages were handled. Exit code.
 */
int na__daemon_run_ingest(na__daemon_config *cfg, const char *ws_url, const char *token,
                          uint64_t max_messages);

/* Alert-manager commands (silences, tunings), run on the engine thread (daemon/alert_cmds.c):
 * fills c->rc, c->err, c->output. */
void na__daemon_alert_command(na__daemon *d, na_warehouse *wh, na__command *c);

/* Sends a command to the engine and waits for it (called from API workers). */
void na__daemon_command(na__daemon *d, na__command *cmd);

/* The worker's read-only warehouse handle (opened on first use); NULL on failure (err set). */
na_warehouse *na__daemon_reader(na__daemon *d, na_error *err);

/* An event as /stream subscribers filter it (server/stream.c). */
typedef struct na__stream_event {
    const char *type;
    const char *node_id;
    const char *severity;
} na__stream_event;

/* The live configuration as GET /config answers it ({"at": null, "branding", "banners"}). */
json_t *na__daemon_config_json(na__daemon *d);

/* Publishes an event on /stream: type "topology", "analytics", "alert", "anomaly". */
void na__daemon_publish(na__daemon *d, const char *type, const char *node_id,
                        const char *severity, json_t *data);

/* ---- topology <-> warehouse rows (daemon/wh_map.c) ---- */

/* Writes the nodes, links and sites of `topo` as one observation each at `at`. */
int na__wh_observe_topology(na_warehouse *wh, const na_topology *topo, na_time_ms at,
                            na_error *err);
/* The sites table from the topology's nodes (one full observation). */
int na__daemon_write_sites(na_warehouse *wh, const na_topology *topo, na_time_ms at,
                           na_error *err);
/* A delta's rows: nodes and links (added or changed) as partial observations at `at`, and the
 * items it removed closed. Call inside a transaction with the version row. */
int na__wh_observe_items(na_warehouse *wh, const na_node *const *nodes, size_t nn,
                         const na_link *const *links, size_t nl, const char *const *gone_nodes,
                         size_t ngn, const char *const *gone_links, size_t ngl, na_time_ms at,
                         na_error *err);
/* One row of the analytics table (id = the result kind), as a partial observation at `at`;
 * and what a row read back holds (result NULL when absent). */
int na__wh_observe_analytics(na_warehouse *wh, const char *kind, uint64_t version,
                             const char *result, na_time_ms at, na_error *err);
void na__analytics_from_row(const na_wh_version *v, int64_t *version, const char **result);
/* A config table row: sets *branding or *banners (replacing what was there) by the row's id;
 * other ids and malformed values are ignored. */
void na__config_from_row(const na_wh_version *v, json_t **branding, json_t **banners);
/* A column = value condition on rows (status "unknown" also matches NULL). */
typedef struct na__row_filter {
    const char *column;
    const char *value;
} na__row_filter;
/* The Node or Link objects valid at `at` (only `id` when not NULL) that pass every filter, as
 * a JSON array text; malloc'd, NULL on error. */
char *na__wh_rows_text(na_warehouse *wh, na_wh_table table, na_time_ms at, const char *id,
                       const na__row_filter *filter, size_t nfilter, size_t *len, na_error *err);
/* GET /topology?at= as text (members "at", "type", "name", "version", "timestamp", "nodes",
 * "links"); malloc'd, NULL on error. */
char *na__wh_topology_text(na_warehouse *wh, na_time_ms at, na__text_cache *cache, size_t *len,
                           na_error *err);
/* The topology as of `at` as a snapshot (for diff). */
int na__wh_topology_at(na_warehouse *wh, na_time_ms at, na_topology **out, na_error *err);

#endif
