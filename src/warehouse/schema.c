/*
 * schema.c: the warehouse schema and its versioned migrations, per backend.
 *
 * A migration is DDL text generated from the fixed table specs (na_wh_table_columns), never
 * from input. Migrations run in one transaction; each applied one is recorded in
 * schema_migrations(version, applied_at). On PostgreSQL an advisory lock keeps two processes
 * opening the same fresh database from migrating it twice; SQLite's BEGIN IMMEDIATE does the
 * same there.
 */
#include "warehouse/db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STMT_MAX_VERSION = 0, STMT_RECORD_VERSION = 1 };

#define DDL_MAX 8192

typedef struct types {
    const char *id, *text, *integer, *real, *time, *boolean, *boolean_check;
} types;

static const types sqlite_types = {
    "TEXT", "TEXT", "INTEGER", "REAL", "TEXT", "INTEGER",
    " CHECK (meta_is_current IN (0, 1))"};
static const types pg_types = {
    "text COLLATE \"C\"", "text COLLATE \"C\"", "bigint", "double precision",
    "timestamp(3) without time zone", "boolean", ""};

/* Appends printf output to buf (DDL_MAX); sets *overflow when it does not fit. */
__attribute__((format(printf, 4, 5)))
static void append(char *buf, size_t *len, bool *overflow, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf + *len, DDL_MAX - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= DDL_MAX - *len) {
        *overflow = true;
        return;
    }
    *len += (size_t)n;
}

static const char *col_type(const types *ty, na_wh_type t)
{
    switch (t) {
    case NA_WH_INT: return ty->integer;
    case NA_WH_REAL: return ty->real;
    default: return ty->text;
    }
}

/* CREATE TABLE for one history table of warehouse.h, with its meta columns and indexes. */
static int create_history_table(na__db *db, const types *ty, na_wh_table t, char *ddl,
                                na_error *err)
{
    const char *name = na_wh_table_name(t);
    size_t ncols, len = 0;
    const na_wh_column *cols = na_wh_table_columns(t, &ncols);
    bool overflow = false;

    append(ddl, &len, &overflow, "CREATE TABLE %s (id %s NOT NULL", name, ty->id);
    for (size_t c = 0; c < ncols; c++)
        append(ddl, &len, &overflow, ", \"%s\" %s", cols[c].name, col_type(ty, cols[c].type));
    append(ddl, &len, &overflow,
           ", meta_valid_from %s NOT NULL, meta_valid_to %s NOT NULL,"
           " meta_last_checked %s NOT NULL, meta_is_current %s NOT NULL%s);",
           ty->time, ty->time, ty->time, ty->boolean, ty->boolean_check);
    /* Current row by id; point-in-time scans; one item's history. */
    append(ddl, &len, &overflow,
           "CREATE UNIQUE INDEX %s_current ON %s (id) WHERE meta_is_current = TRUE;"
           "CREATE INDEX %s_valid ON %s (meta_valid_to, meta_valid_from);"
           "CREATE INDEX %s_history ON %s (id, meta_valid_from);",
           name, name, name, name, name, name);
    if (overflow)
        return na_error_set(err, NA_ETOOBIG, "warehouse: DDL for %s too long", name);
    return na__db_exec_script(db, ddl, err);
}

/* Migration 1: the history tables up to config, metrics, rollups, feedback, observations. */
static int migration_1(na__db *db, na_error *err)
{
    const types *ty = db->backend == NA__DB_POSTGRES ? &pg_types : &sqlite_types;
    char *ddl = malloc(DDL_MAX);
    int rc = NA_OK;

    if (!ddl)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    for (int t = 0; t <= NA_WH_CONFIG && rc == NA_OK; t++)
        rc = create_history_table(db, ty, (na_wh_table)t, ddl, err);
    if (rc == NA_OK) {
        size_t len = 0;
        bool overflow = false;
        append(ddl, &len, &overflow,
               "CREATE TABLE metrics (node_id %s NOT NULL, name %s NOT NULL, at %s NOT NULL,"
               " value %s);"
               "CREATE INDEX metrics_name_node_at ON metrics (name, node_id, at);"
               "CREATE INDEX metrics_at ON metrics (at);"
               "CREATE TABLE metric_rollups (node_id %s NOT NULL, name %s NOT NULL,"
               " bucket_start %s NOT NULL, step_ms %s NOT NULL, \"count\" %s NOT NULL,"
               " \"min\" %s, \"max\" %s, mean %s);"
               "CREATE UNIQUE INDEX metric_rollups_key ON metric_rollups"
               " (name, node_id, bucket_start, step_ms);"
               "CREATE INDEX metric_rollups_start ON metric_rollups (bucket_start);"
               "CREATE TABLE feedback (feedback_id %s PRIMARY KEY, alert_id %s NOT NULL,"
               " is_false_positive %s NOT NULL, notes %s, author %s, created_at %s NOT NULL);"
               "CREATE INDEX feedback_alert ON feedback (alert_id, created_at);"
               "CREATE TABLE observations (table_name %s NOT NULL, observed_at %s NOT NULL,"
               " counts %s);"
               "CREATE INDEX observations_table_at ON observations (table_name, observed_at);",
               ty->id, ty->text, ty->time, ty->real, ty->id, ty->text, ty->time, ty->integer,
               ty->integer, ty->real, ty->real, ty->real, ty->id, ty->id, ty->boolean,
               ty->text, ty->text, ty->time, ty->text, ty->time, ty->text);
        rc = overflow ? na_error_set(err, NA_ETOOBIG, "warehouse: DDL too long")
                      : na__db_exec_script(db, ddl, err);
    }
    free(ddl);
    return rc;
}

/* Migration 2: what SNMP polling adds (sensors, neighbours). */
static int migration_2(na__db *db, na_error *err)
{
    const types *ty = db->backend == NA__DB_POSTGRES ? &pg_types : &sqlite_types;
    char *ddl = malloc(DDL_MAX);
    int rc;

    if (!ddl)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    rc = create_history_table(db, ty, NA_WH_SENSORS, ddl, err);
    if (rc == NA_OK)
        rc = create_history_table(db, ty, NA_WH_NEIGHBORS, ddl, err);
    free(ddl);
    return rc;
}

typedef int (*migration_fn)(na__db *db, na_error *err);
static const migration_fn migrations[] = {migration_1, migration_2};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int max_version_cb(const na_wh_value *cells, size_t n, void *ud)
{
    if (n >= 1 && cells[0].type == NA_WH_INT)
        *(int *)ud = (int)cells[0].v.i;
    return 0;
}

int na__wh_migrate(na__db *db, int *version, na_error *err)
{
    bool pg = db->backend == NA__DB_POSTGRES;
    char now[32];
    int rc, have = 0;

    if ((rc = na__db_begin(db, err)))
        return rc;
    if (pg && (rc = na__db_exec_script(db, "SELECT pg_advisory_xact_lock(7263540)", err)))
        goto out_rollback;
    rc = na__db_exec_script(db,
                            pg ? "CREATE TABLE IF NOT EXISTS schema_migrations (version integer"
                                 " PRIMARY KEY, applied_at timestamp(3) without time zone NOT NULL)"
                               : "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER"
                                 " PRIMARY KEY, applied_at TEXT NOT NULL)",
                            err);
    if (rc)
        goto out_rollback;
    if ((rc = na__db_prepare(db, STMT_MAX_VERSION,
                             "SELECT max(version) FROM schema_migrations", err)) ||
        (rc = na__db_prepare(db, STMT_RECORD_VERSION,
                             "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                             err)))
        goto out_rollback;
    if ((rc = na__db_exec(db, STMT_MAX_VERSION, NULL, 0, max_version_cb, &have, NULL, err)))
        goto out_rollback;
    if (have > N_MIGRATIONS) {
        rc = na_error_set(err, NA_EUNSUPPORTED,
                          "warehouse: schema version %d is newer than this program (%d)", have,
                          N_MIGRATIONS);
        goto out_rollback;
    }
    na_time_format_db(na_time_now(), now, sizeof(now));
    for (int v = have + 1; v <= N_MIGRATIONS; v++) {
        na_wh_value p[2] = {{.type = NA_WH_INT, .v.i = v}, {.type = NA_WH_TEXT, .v.s = now}};
        if ((rc = migrations[v - 1](db, err)) ||
            (rc = na__db_exec(db, STMT_RECORD_VERSION, p, 2, NULL, NULL, NULL, err)))
            goto out_rollback;
    }
    if ((rc = na__db_commit(db, err)))
        goto out_rollback;
    *version = N_MIGRATIONS;
    return NA_OK;
out_rollback:
    na__db_rollback(db);
    return rc;
}
