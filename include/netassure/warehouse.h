/*
 * netassure/warehouse.h: the temporal warehouse (SCD type 2 history) on SQLite or PostgreSQL.
 *
 * Every history table has the seed-004 meta columns:
 *   meta_valid_from    when this version became valid; 1970-01-01 00:00:00.000 for the items of
 *                      a table's first observation (nothing is known about them before it),
 *                      except in alerts and anomalies, which begin when the daemon makes them
 *   meta_valid_to      when it stopped being valid; 9999-12-31 23:59:00.000 while current
 *   meta_last_checked  the last observation that saw this version (the only column an
 *                      unchanged observation touches)
 *   meta_is_current    TRUE for the current version, FALSE for older ones
 * so `SELECT * FROM nodes WHERE meta_is_current = TRUE` gives the current state and a read as of
 * time t selects `meta_valid_from <= t AND t < meta_valid_to`.
 *
 * A handle owns one database connection and is used by one thread at a time. The daemon opens
 * one handle for its single writer and one per reader thread (SQLite runs in WAL mode, so
 * readers never wait for the writer). All SQL is fixed text prepared once per handle; values
 * from the outside only ever travel as statement parameters.
 *
 * Times are milliseconds since the Unix epoch, UTC (na_time_ms).
 */
#ifndef NETASSURE_WAREHOUSE_H
#define NETASSURE_WAREHOUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "netassure/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t na_time_ms;

#define NA_TIME_FIRST ((na_time_ms)0)                 /* 1970-01-01 00:00:00.000 */
#define NA_TIME_OPEN ((na_time_ms)253402300740000LL)  /* 9999-12-31 23:59:00.000 */
#define NA_TIME_NOW ((na_time_ms)-1)                  /* "current": read meta_is_current rows */

/* Current wall-clock time in ms. */
na_time_ms na_time_now(void);
/*
 * Parses an RFC 3339 time ("2026-03-08T12:00:00Z", "...12:00:00.123456+02:00", also a space
 * instead of 'T', and the warehouse's own "YYYY-MM-DD HH:MM:SS.mmm" taken as UTC) from (s, len).
 * Fractions beyond milliseconds are truncated. Times before 1970-01-01T00:00:00Z or after the
 * open end (9999-12-31 23:59:00) are NA_EPARSE too. Returns 0 or NA_EPARSE.
 */
int na_time_parse(const char *s, size_t len, na_time_ms *out);
/* Formats as RFC 3339 UTC with milliseconds: "2026-03-08T12:00:00.000Z". buf >= 32 bytes. */
const char *na_time_format(na_time_ms t, char *buf, size_t len);
/* Formats as the warehouse text form "2026-03-08 12:00:00.000". buf >= 32 bytes. */
const char *na_time_format_db(na_time_ms t, char *buf, size_t len);

/*
 * The history tables. Each has a text key `id` and the columns listed in docs/warehouse.md
 * (na_wh_table_columns gives them at run time). `attrs` columns hold a JSON object text.
 */
typedef enum na_wh_table {
    NA_WH_SITES = 0,     /* id, name, latitude, longitude, address, attrs */
    NA_WH_NODES,         /* id, label, role, site, asn, latitude, longitude, capacity, status, attrs */
    NA_WH_PORTS,         /* id, node_id, if_index, name, descr, alias, type, speed, admin_status,
                            oper_status, attrs */
    NA_WH_LINKS,         /* id, source, target, label, capacity, status, attrs */
    NA_WH_HOSTS,         /* id, mac, ip, node_id, port_id, vlan, attrs */
    NA_WH_ALERTS,        /* id, rule, fingerprint, node_id, site, severity, status, message,
                            created_at, updated_at, count, details */
    NA_WH_ANOMALIES,     /* id, detector, score, node_ids, detected_at, details */
    NA_WH_ANALYTICS,     /* id (the result kind: "centrality", "robustness", ...), topology_version,
                            result (JSON text) */
    NA_WH_CONFIG,        /* id (setting name: "branding", "banners"), value (JSON text) */
    NA_WH_SENSORS,       /* id ("NODE:SENSOR"), node_id, kind, descr, unit, status, attrs
                            (schema 2; values go to the metrics table) */
    NA_WH_NEIGHBORS,     /* id ("NODE:IFINDEX:PROTOCOL:REMOTE"), node_id, protocol, local_if_index,
                            local_port, remote_sysname, remote_chassis_id, remote_port,
                            remote_mgmt_ip, attrs (schema 2: what LLDP / CDP report) */
    NA_WH_TABLE_COUNT
} na_wh_table;

typedef enum na_wh_type { NA_WH_NULL = 0, NA_WH_TEXT, NA_WH_INT, NA_WH_REAL } na_wh_type;

/* One column value. Text is borrowed: not copied by the caller of a write, valid during a read
 * callback only. */
typedef struct na_wh_value {
    na_wh_type type;
    union {
        const char *s;
        int64_t i;
        double r;
    } v;
} na_wh_value;

typedef struct na_wh_column {
    const char *name;
    na_wh_type type; /* declared type (values may also be NA_WH_NULL) */
} na_wh_column;

/* The table's name ("nodes") and its data columns after `id`, in order. */
const char *na_wh_table_name(na_wh_table table);
const na_wh_column *na_wh_table_columns(na_wh_table table, size_t *ncolumns);

/* One row to write or read: the key and na_wh_table_columns(table) values, in order. */
typedef struct na_wh_row {
    const char *id;
    const na_wh_value *values;
} na_wh_row;

/* A row as read, with its meta columns. */
typedef struct na_wh_version {
    na_wh_row row;
    na_time_ms valid_from, valid_to, last_checked;
    bool is_current;
} na_wh_version;

typedef struct na_warehouse na_warehouse;

/*
 * Opens a warehouse. `url` is "sqlite:PATH" / "sqlite://PATH" / a plain file path (SQLite), or
 * "postgresql://..." / "postgres://..." (libpq connection URI). Creates the file or schema if
 * needed and applies pending migrations (recorded in `schema_migrations`) in one transaction.
 * Caller owns *out; free with na_wh_close.
 */
int na_wh_open(const char *url, na_warehouse **out, na_error *err);
void na_wh_close(na_warehouse *wh);
/* "sqlite" or "postgresql". */
const char *na_wh_backend(const na_warehouse *wh);
/* Current schema version (the highest applied migration). */
int na_wh_schema_version(const na_warehouse *wh);

typedef enum na_wh_observe_mode {
    NA_WH_FULL = 0, /* the rows are the whole table as observed: current rows not among them close */
    NA_WH_PARTIAL   /* upsert just these rows; other current rows are left alone */
} na_wh_observe_mode;

typedef struct na_wh_observe_stats {
    size_t unchanged; /* rows whose current version was equal: meta_last_checked touched only */
    size_t changed;   /* current version closed, new version opened */
    size_t added;     /* no current version before */
    size_t closed;    /* NA_WH_FULL: current rows absent from the observation */
} na_wh_observe_stats;

/*
 * Records one observation of `table` made at time `at`, in one transaction. Duplicate ids
 * within `rows` are NA_EINVAL (nothing written). An observation older than the newest one
 * recorded for the table is NA_EINVAL; replaying the newest one again changes nothing.
 * Items of the table's first observation get valid_from = NA_TIME_FIRST; later new items get
 * `at`. `stats` may be NULL.
 */
int na_wh_observe(na_warehouse *wh, na_wh_table table, const na_wh_row *rows, size_t nrows,
                  na_time_ms at, na_wh_observe_mode mode, na_wh_observe_stats *stats,
                  na_error *err);

/*
 * Groups what follows, until na_wh_commit, into one transaction (the daemon writes one topology
 * version's nodes, links, sites and version row together). Writes inside keep their own
 * semantics; a failing one rolls everything back, and na_wh_commit then returns NA_EIO.
 * na_wh_rollback discards everything since na_wh_begin. Pairs may nest.
 */
int na_wh_begin(na_warehouse *wh, na_error *err);
/* A read-only transaction: the reads until na_wh_commit see one snapshot of the warehouse
 * (SQLite: deferred transaction in WAL mode; PostgreSQL: REPEATABLE READ), without blocking
 * the writer. */
int na_wh_begin_read(na_warehouse *wh, na_error *err);
int na_wh_commit(na_warehouse *wh, na_error *err);
void na_wh_rollback(na_warehouse *wh);

/* Closes the current version of one item at `at` (an item that is gone). NA_ENOTFOUND if it
 * has no current version. */
int na_wh_close_item(na_warehouse *wh, na_wh_table table, const char *id, na_time_ms at,
                     na_error *err);

/* Called for each version read; return non-zero to stop (that value is returned). */
typedef int (*na_wh_read_cb)(const na_wh_version *version, void *ud);

/*
 * Reads the versions of `table` valid at `at` (NA_TIME_NOW: the current ones), ordered by id;
 * only the one with `id` when id is non-NULL.
 */
int na_wh_read_at(na_warehouse *wh, na_wh_table table, na_time_ms at, const char *id,
                  na_wh_read_cb cb, void *ud, na_error *err);

/* Reads every version of one item, oldest first. */
int na_wh_read_history(na_warehouse *wh, na_wh_table table, const char *id, na_wh_read_cb cb,
                       void *ud, na_error *err);

/* Number of rows (all versions) in a table, and of current ones. */
int na_wh_count(na_warehouse *wh, na_wh_table table, int64_t *total, int64_t *current,
                na_error *err);

/* The time of the newest observation of `table` (NA_ENOTFOUND when there is none). */
int na_wh_last_observation(na_warehouse *wh, na_wh_table table, na_time_ms *at, na_error *err);

/* ---- metric time series (not versioned: samples are facts at a time) ---- */

typedef struct na_wh_sample {
    const char *node_id; /* NULL or "" for network-wide metrics */
    const char *name;    /* "global_efficiency", "ifHCInOctets.rate", ... */
    na_time_ms at;
    double value;
} na_wh_sample;

/* Appends samples in one transaction. */
int na_wh_metrics_append(na_warehouse *wh, const na_wh_sample *samples, size_t n,
                         na_error *err);

/* A read sample; `count` > 1, min/max set, for a downsampled bucket (value = mean). */
typedef struct na_wh_metric_point {
    na_wh_sample sample;
    int64_t count;
    double min, max;
    int64_t step_ms; /* 0 for a raw sample, else the bucket width */
} na_wh_metric_point;

typedef int (*na_wh_metric_cb)(const na_wh_metric_point *point, void *ud);

/*
 * Reads samples with since <= at < until (raw and downsampled, ordered by node, name, time),
 * filtered by node_id and name when non-NULL; at most `limit` points (0: no limit).
 */
int na_wh_metrics_read(na_warehouse *wh, const char *node_id, const char *name,
                       na_time_ms since, na_time_ms until, size_t limit, na_wh_metric_cb cb,
                       void *ud, na_error *err);

/*
 * Retention: raw samples older than now - downsample_after_ms are folded into buckets of
 * step_ms (count, min, max, mean) in metric_rollups; rollups older than now - keep_ms are
 * deleted (keep_ms 0: kept forever). Topology history is never touched by this.
 */
typedef struct na_wh_retention {
    int64_t downsample_after_ms; /* 0: never downsample */
    int64_t step_ms;
    int64_t keep_ms;
} na_wh_retention;

typedef struct na_wh_retention_stats {
    size_t raw_folded, buckets_written, buckets_deleted;
} na_wh_retention_stats;

int na_wh_metrics_apply_retention(na_warehouse *wh, na_time_ms now,
                                  const na_wh_retention *policy, na_wh_retention_stats *stats,
                                  na_error *err);

/* ---- operator feedback (append-only) ---- */

typedef struct na_wh_feedback {
    const char *feedback_id;
    const char *alert_id;
    bool is_false_positive;
    const char *notes; /* may be NULL */
    const char *author; /* may be NULL */
    na_time_ms created_at;
} na_wh_feedback;

int na_wh_feedback_add(na_warehouse *wh, const na_wh_feedback *fb, na_error *err);
typedef int (*na_wh_feedback_cb)(const na_wh_feedback *fb, void *ud);
/* Feedback for one alert (all alerts when NULL) created at or before `at` (NA_TIME_NOW: all). */
int na_wh_feedback_read(na_warehouse *wh, const char *alert_id, na_time_ms at,
                        na_wh_feedback_cb cb, void *ud, na_error *err);

#ifdef __cplusplus
}
#endif

#endif
