/*
 * daemon/config.h (internal): the daemon's YAML configuration (docs/daemon.md).
 */
#ifndef NA_DAEMON_CONFIG_H
#define NA_DAEMON_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "io/json_conf.h"
#include "netassure/common.h"
#include "netassure/warehouse.h"
#include "snmp/poller.h"

typedef struct na__source_config {
    char *name;
    char *type;          /* "file" or "ws" (a topology stream, docs/topology-stream.md) */
    char *path;          /* file: absolute, or relative to the config file's directory (resolved) */
    char *url;           /* ws: "ws://host:port/path" */
    char *token;         /* ws: bearer token for the stream server, or NULL */
    bool watch;
    int64_t interval_ms; /* how often a watched file is checked */
} na__source_config;

typedef enum na__rule_type {
    /* condition rules: evaluated on every analysis (alert/alert.c) */
    NA_RULE_ARTICULATION_POINT = 0,
    NA_RULE_NODE_DOWN,
    NA_RULE_LINK_DOWN,
    NA_RULE_IMPORTANCE,
    NA_RULE_REDUNDANCY,
    /* event rules: the alert manager (alert/manager.c, docs/alerts.md) */
    NA_RULE_ANOMALY_SCORE,
    NA_RULE_TOPOLOGY_CHANGE,
    NA_RULE_METRIC_THRESHOLD,
    NA_RULE_CUSTOM
} na__rule_type;

/* metric_threshold comparisons */
typedef enum na__rule_op { NA_OP_GT = 0, NA_OP_GE, NA_OP_LT, NA_OP_LE } na__rule_op;

struct na__expr;

typedef struct na__rule_config {
    char *name;          /* unique among the rules */
    na__rule_type type;
    char *severity;      /* critical, major, minor, warning, info */
    double threshold;    /* importance, anomaly_score: >= threshold; redundancy: <= threshold;
                            metric_threshold: value `op` threshold */
    /* event rules */
    uint32_t on;         /* topology_change: bits (1u << na__event_type) of the events it takes */
    char *metric;        /* metric_threshold: the sample name */
    na__rule_op op;      /* metric_threshold */
    int64_t for_ms;      /* metric_threshold: how long the condition must hold */
    char *expr_text;     /* custom */
    struct na__expr *expr; /* custom: parsed once (alert/expr.h) */
    int64_t resolve_after_ms; /* event alerts without a clearing event resolve after this quiet
                                 time (alerting.resolve_after unless the rule sets it) */
    /* operator feedback (alerting.feedback), copied into each rule */
    double raise_factor;
    int64_t suppress_for_ms;  /* 0: a suppression lasts until it is removed */
} na__rule_config;

/* The alerting: section (docs/alerts.md). */
enum { NA_GROUP_BY_NODE = 1u, NA_GROUP_BY_SITE = 2u };
typedef struct na__alerting_config {
    int64_t resolve_after_ms;   /* default 10m */
    size_t max_history;         /* resolved alerts kept in memory, default 10000 */
    double importance_jump;     /* default 0.1 */
    double raise_factor;        /* feedback.raise_factor, default 1.5 */
    int64_t suppress_for_ms;    /* feedback.suppress_for, default 24h */
    unsigned group_by;          /* NA_GROUP_BY_* bits, default both */
} na__alerting_config;

typedef struct na__detector_config {
    char *type;          /* "importance_outlier" */
    double threshold;
} na__detector_config;

/* NATS publishing (docs/nats.md); url NULL: off. */
typedef struct na__nats_config {
    char *url;           /* "nats://127.0.0.1:4222" */
    char *jetstream;     /* "auto" (default), "on", "off" */
    char *stream;        /* JetStream stream name, default "NETASSURE" */
    size_t outbox;       /* messages held while the broker is away, default 100000 */
    char *subject_prefix;/* prepended to every subject, default "" */
} na__nats_config;

typedef struct na__daemon_config {
    char *origin;        /* the file it came from, or "<bundled default>" */
    char listen_host[64];
    int listen_port;
    char *data_dir;
    char *warehouse;     /* URL as given ("sqlite", "sqlite:PATH", "postgresql://...") */
    na_log_level log_level;
    char *api_token;     /* NULL: none */
    bool protect_reads;
    size_t max_body;
    unsigned analytics_threads;
    unsigned analytics_kinds;   /* NA_ANALYSIS_* bits, default all */
    int64_t analytics_min_interval_ms; /* between two analyses' starts (a stream of deltas
                                          is analysed at its newest version at most this
                                          often), default 2 s */
    na__source_config *sources;
    size_t n_sources;
    na__rule_config *rules;
    size_t n_rules;
    na__alerting_config alerting;
    na__detector_config *detectors;
    size_t n_detectors;
    na_wh_retention retention;
    na__nats_config nats;
    size_t ingest_queue; /* stream messages waiting for the engine, default 65536 */
    na_snmp_config snmp; /* snmp: and sites: (docs/snmp.md); no devices: no poller */
    json_t *branding;    /* object, validated */
    json_t *banners;     /* array, validated */
} na__daemon_config;

/*
 * Parses YAML text (ptr, len) from `origin`; relative source paths resolve against `base_dir`.
 * Errors name origin:line:column. Free with na__config_free.
 */
int na__config_parse(const char *text, size_t len, const char *origin, const char *base_dir,
                     na__daemon_config *out, na_error *err);
/* Reads and parses a file. */
int na__config_load(const char *path, na__daemon_config *out, na_error *err);
/* The bundled default (examples/netassure.yaml, compiled in, paths under NA_EXAMPLES_DIR). */
int na__config_default(na__daemon_config *out, na_error *err);
void na__config_free(na__daemon_config *cfg);
/* Frees the sources only (cfg->sources NULL, n_sources 0), e.g. to replace them. */
void na__config_free_sources(na__daemon_config *cfg);

/* "127.0.0.1:8080", "[::1]:8080", ":8080", "8080" -> host, port. Returns 0 or NA_EINVAL. */
int na__parse_listen(const char *s, char *host, size_t host_len, int *port);
/* True for 127.0.0.0/8, ::1 and "localhost". */
bool na__host_is_loopback(const char *host);

/*
 * Validates a branding object / banners array (from config or PUT /config). On success returns
 * a new normalised value (defaults filled in); on failure NULL with the reason in err
 * ("branding.primary_color: expected #rrggbb").
 */
json_t *na__config_check_branding(const json_t *in, const json_t *base, na_error *err);
json_t *na__config_check_banners(const json_t *in, na_error *err);

#endif
