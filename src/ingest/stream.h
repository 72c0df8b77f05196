/*
 * ingest/stream.h (internal): the topology stream (docs/topology-stream.md).
 *
 * Messages are JSON texts, one per WebSocket message:
 *  - "snapshot": the whole topology (our topology schema, docs/topology-schema.md) with `seq`;
 *  - "delta":    ops (node/link add/remove/update/down/up) with `seq` = the snapshot's seq + 1
 *                for the first delta after it, + 1 for each further delta;
 *  - "metrics":  samples [{node|link, name, value, timestamp}], no seq.
 * `seq` numbers topology states: a snapshot with seq S is the state after delta S. A consumer
 * applies delta S + 1 next; an older seq is stale (skipped), a newer one is a gap (resync: the
 * client reconnects and the server starts every connection with a snapshot). Unknown message
 * types and fields are counted and skipped; malformed messages are counted, logged truncated
 * and skipped. Nothing here is fatal.
 *
 * Producers: the daemon's /topology/stream (seq = topology version) and `netassure replay`.
 * Consumers: the daemon's "ws" sources and `netassure ingest --ws`.
 */
#ifndef NA_INGEST_STREAM_H
#define NA_INGEST_STREAM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netassure/common.h"
#include "netassure/topology.h"
#include "netassure/warehouse.h"

/* Largest message accepted (a 10,000-node snapshot is about 5 MB). */
#define NA_STREAM_MAX_MESSAGE ((size_t)64 << 20)

typedef enum na__stream_type {
    NA_STREAM_SNAPSHOT = 0,
    NA_STREAM_DELTA,
    NA_STREAM_METRICS,
    NA_STREAM_UNKNOWN           /* a well-formed message of a type we do not know */
} na__stream_type;

typedef struct na__stream_sample {
    char *node_id;              /* one of node_id / link_id, or neither for network-wide */
    char *link_id;
    char *name;                 /* "utilisation", "in_bps", "errors", ... */
    double value;
    na_time_ms at;              /* the sample's timestamp, else the message's, else receive time */
} na__stream_sample;

typedef struct na__stream_msg {
    na__stream_type type;
    char type_name[32];         /* as received (truncated), for logs of unknown types */
    uint64_t seq;               /* snapshot and delta: required */
    na_time_ms timestamp;       /* the message's "timestamp", or -1 when absent */
    na_topology *snapshot;      /* SNAPSHOT: owned by the message */
    na_delta *delta;            /* DELTA: owned by the message */
    na__stream_sample *samples; /* METRICS: owned by the message */
    size_t n_samples;
    size_t unknown_fields;      /* top-level and per-sample fields we ignored */
    /* Set by the consumer, for latency measurements: when the text arrived (CLOCK_REALTIME). */
    na_time_ms received_at;
    int64_t received_ns;
} na__stream_msg;

void na__stream_msg_free(na__stream_msg *m);

/*
 * Parses one message text (ptr, len, no NUL needed). Returns 0 with *out filled (type may be
 * NA_STREAM_UNKNOWN), or NA_EPARSE / NA_EINVAL / NA_ETOOBIG with the reason in err (malformed:
 * bad JSON, missing or wrong-typed seq, a bad op, ...). *out needs na__stream_msg_free in
 * every case.
 */
int na__stream_parse(const char *text, size_t len, na__stream_msg *out, na_error *err);

/*
 * Writers: malloc'd message texts (NULL on ENOMEM), *len set when len is not NULL.
 * The snapshot is our topology JSON with "type": "snapshot" and "seq"; the delta writes every
 * op of d with the fields its `fields` mask names (what na_json_parse_deltas reads back to the
 * same delta), with `seq` and the delta's timestamp.
 */
char *na__stream_snapshot_text(const na_topology *t, uint64_t seq, size_t *len);
char *na__stream_delta_text(const na_delta *d, uint64_t seq, size_t *len);
/* The op name the stream writes for op: the node_down / node_up / link_down / link_up
 * shorthand for an update of the status alone, else node_add ... link_update. Static text. */
const char *na__stream_op_name(const na_delta_op *op);
char *na__stream_metrics_text(const na__stream_sample *s, size_t n, na_time_ms at, size_t *len);

/* What a consumer saw; every message lands in exactly one of the outcome counters
 * (applied + stale + waiting + unknown_types + malformed == messages). */
typedef struct na__stream_counters {
    uint64_t messages, bytes;
    uint64_t applied;           /* snapshots + deltas + metrics handed on (filled in by
                                   na__stream_consumer_counters, not kept) */
    uint64_t snapshots, deltas, metrics, samples;
    uint64_t stale;             /* delta with seq <= the last applied */
    uint64_t waiting;           /* deltas before the first snapshot, or while resyncing */
    uint64_t unknown_types, malformed;
    uint64_t unknown_fields;    /* fields ignored inside accepted messages */
    uint64_t gaps;              /* delta seq > last + 1 */
    uint64_t resyncs;           /* gaps, failed deltas and reconnects that asked for a snapshot */
    uint64_t reconnects;
    uint64_t apply_failures;    /* deltas the engine could not apply (unknown node, ...) */
} na__stream_counters;

typedef enum na__stream_verdict {
    NA_STREAM_APPLY = 0,        /* hand the message on (snapshot, next delta, metrics) */
    NA_STREAM_SKIP,             /* counted, nothing to do */
    NA_STREAM_RESYNC            /* a gap: counted; ask the server for a snapshot (reconnect) */
} na__stream_verdict;

/*
 * The consumer's state: parse, seq tracking and counters in one place, used the same way by
 * the daemon and by `netassure ingest`. Not thread-safe by itself: one thread consumes; use
 * na__stream_consumer_counters for a consistent copy from other threads.
 */
typedef struct na__stream_consumer {
    pthread_mutex_t lock;       /* guards `c` for readers on other threads */
    na__stream_counters c;
    bool synced;                /* a snapshot was applied since the last (re)connect / resync */
    uint64_t last_seq;
    const char *name;           /* for logs ("source upstream") */
    uint64_t logged;            /* malformed / unknown messages logged so far (rate limit) */
} na__stream_consumer;

void na__stream_consumer_init(na__stream_consumer *sc, const char *name);
void na__stream_consumer_destroy(na__stream_consumer *sc);

/*
 * Parses one received text and decides. On NA_STREAM_APPLY *out holds the message (the caller
 * frees it with na__stream_msg_free); otherwise *out is empty. Malformed messages and unknown
 * types are logged (WARN, text truncated to 200 bytes, at most the first 20 and then every
 * 1000th) and counted.
 */
na__stream_verdict na__stream_consume(na__stream_consumer *sc, const char *text, size_t len,
                                      na__stream_msg *out);
/* The connection dropped or a delta could not be applied: wait for a fresh snapshot. */
void na__stream_consumer_desync(na__stream_consumer *sc, bool reconnect, bool apply_failure);
/* Deltas applied by the caller past the consumer (keeps last_seq right when it applies a
 * delta it got with APPLY): nothing to call, na__stream_consume already advanced last_seq. */
void na__stream_consumer_counters(na__stream_consumer *sc, na__stream_counters *out);

/* ---- the WebSocket client (libwebsockets, its own thread) --------------------------------- */

typedef struct na__ws_source na__ws_source;

typedef struct na__ws_source_opts {
    const char *url;            /* "ws://host:port/path" (path default "/topology/stream") */
    const char *token;          /* bearer token sent as Authorization, or NULL */
    size_t max_message;         /* default NA_STREAM_MAX_MESSAGE */
    int backoff_min_ms;         /* first retry delay, default 250 */
    int backoff_max_ms;         /* cap, default 30000; doubles per failed attempt, +-20% jitter */
    /* On the client's thread, for each complete text message (fragments joined). */
    void (*on_message)(const char *text, size_t len, void *ud);
    /* On the client's thread: connected (reason NULL) or disconnected (reason says why):
     * an established connection dropped. Failed attempts only update the stats. */
    void (*on_state)(bool connected, const char *reason, void *ud);
    void *ud;
} na__ws_source_opts;

typedef struct na__ws_source_stats {
    bool connected;
    uint64_t connects, disconnects, messages, bytes, oversized;
    int next_retry_ms;          /* current backoff delay */
    char last_error[200];
} na__ws_source_stats;

/* Parses and checks the URL, starts the client thread (it connects in the background). */
int na__ws_source_start(const na__ws_source_opts *o, na__ws_source **out, na_error *err);
/* Thread-safe: drop the connection and reconnect at once (the new connection starts with a
 * snapshot); backoff is not increased for this. */
void na__ws_source_resync(na__ws_source *s);
void na__ws_source_stats_get(na__ws_source *s, na__ws_source_stats *out);
/* Stops the thread (joins) and frees; NULL is a no-op. */
void na__ws_source_stop(na__ws_source *s);

#endif
