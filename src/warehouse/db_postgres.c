/*
 * db_postgres.c: the PostgreSQL backend of db.h on libpq.
 *
 * Statements are prepared server-side (PQprepare, named "na<id>") and run with
 * PQexecPrepared; parameters travel as text and their types are inferred by the server from
 * where they are used. The session is pinned to UTC and ISO dates so timestamps come back in
 * the form na_time_parse reads, and to extra_float_digits = 3 so doubles round-trip exactly.
 */
#include "warehouse/db.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs from pg_type.h (server headers are not a dependency). */
enum { OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_OID = 26,
       OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_NUMERIC = 1700 };

typedef struct pg_db {
    na__db base;
    PGconn *conn;
    bool prepared[NA__DB_MAX_STMTS];
} pg_db;

static int fail_conn(pg_db *p, na_error *err, const char *what)
{
    char msg[400];
    size_t n;

    snprintf(msg, sizeof(msg), "%s", PQerrorMessage(p->conn));
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    return na_error_set(err, NA_EIO, "postgresql: %s: %s", what, msg);
}

/* Checks a result; clears it on failure. */
static int check(pg_db *p, PGresult *res, na_error *err, const char *what)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return NA_OK;
    if (!res)
        return fail_conn(p, err, what);
    char msg[400];
    size_t n;
    snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    PQclear(res);
    return na_error_set(err, NA_EIO, "postgresql: %s: %s", what, msg);
}

static void pg_close(na__db *db)
{
    pg_db *p = (pg_db *)db;

    PQfinish(p->conn);
    free(p);
}

static int pg_exec_script(na__db *db, const char *sql, na_error *err)
{
    pg_db *p = (pg_db *)db;
    PGresult *res = PQexec(p->conn, sql);
    int rc = check(p, res, err, "exec");

    if (rc == NA_OK)
        PQclear(res);
    return rc;
}

static int pg_prepare(na__db *db, int id, const char *sql, na_error *err)
{
    pg_db *p = (pg_db *)db;
    char name[16];
    PGresult *res;
    int rc;

    snprintf(name, sizeof(name), "na%d", id);
    if (p->prepared[id]) {
        char dealloc[40];
        snprintf(dealloc, sizeof(dealloc), "DEALLOCATE na%d", id);
        if ((rc = pg_exec_script(db, dealloc, err)))
            return rc;
        p->prepared[id] = false;
    }
    res = PQprepare(p->conn, name, sql, 0, NULL);
    if ((rc = check(p, res, err, "prepare")))
        return rc;
    PQclear(res);
    p->prepared[id] = true;
    return NA_OK;
}

static void to_cell(PGresult *res, int r, int c, na_wh_value *cell)
{
    const char *s = PQgetvalue(res, r, c);

    if (PQgetisnull(res, r, c)) {
        cell->type = NA_WH_NULL;
        return;
    }
    switch (PQftype(res, c)) {
    case OID_BOOL:
        cell->type = NA_WH_INT;
        cell->v.i = s[0] == 't';
        break;
    case OID_INT8:
    case OID_INT4:
    case OID_INT2:
    case OID_OID:
        cell->type = NA_WH_INT;
        cell->v.i = strtoll(s, NULL, 10);
        break;
    case OID_NUMERIC:
        /* sum() of bigint: integral unless it has a fraction. */
        if (strchr(s, '.') || strchr(s, 'e') || strchr(s, 'N')) {
            cell->type = NA_WH_REAL;
            cell->v.r = strtod(s, NULL);
        } else {
            cell->type = NA_WH_INT;
            cell->v.i = strtoll(s, NULL, 10);
        }
        break;
    case OID_FLOAT4:
    case OID_FLOAT8:
        cell->type = NA_WH_REAL;
        cell->v.r = strtod(s, NULL);
        break;
    default:
        cell->type = NA_WH_TEXT;
        cell->v.s = s;
        break;
    }
}

static int pg_exec(na__db *db, int id, const na_wh_value *params, size_t nparams,
                   na__db_row_cb cb, void *ud, int64_t *changes, na_error *err)
{
    pg_db *p = (pg_db *)db;
    char name[16], nums[NA__DB_MAX_PARAMS][32];
    const char *vals[NA__DB_MAX_PARAMS];
    na_wh_value cells[64];
    PGresult *res;
    int rc;

    if (!p->prepared[id])
        return na_error_set(err, NA_EINVAL, "postgresql: statement %d not prepared", id);
    for (size_t i = 0; i < nparams; i++) {
        switch (params[i].type) {
        case NA_WH_TEXT: vals[i] = params[i].v.s; break;
        case NA_WH_INT:
            snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)params[i].v.i);
            vals[i] = nums[i];
            break;
        case NA_WH_REAL:
            /* NaN is "unknown": NULL. */
            if (params[i].v.r != params[i].v.r) {
                vals[i] = NULL;
            } else {
                snprintf(nums[i], sizeof(nums[i]), "%.17g", params[i].v.r + 0.0);
                vals[i] = nums[i];
            }
            break;
        default: vals[i] = NULL; break;
        }
    }
    snprintf(name, sizeof(name), "na%d", id);
    res = PQexecPrepared(p->conn, name, (int)nparams, vals, NULL, NULL, 0);
    if ((rc = check(p, res, err, "exec")))
        return rc;
    if (cb) {
        int nrows = PQntuples(res), ncols = PQnfields(res);
        if (ncols > (int)(sizeof(cells) / sizeof(cells[0])))
            ncols = (int)(sizeof(cells) / sizeof(cells[0]));
        for (int r = 0; r < nrows && rc == 0; r++) {
            for (int c = 0; c < ncols; c++)
                to_cell(res, r, c, &cells[c]);
            rc = cb(cells, (size_t)ncols, ud);
        }
    }
    if (changes) {
        const char *t = PQcmdTuples(res);
        *changes = t && t[0] ? strtoll(t, NULL, 10) : 0;
    }
    PQclear(res);
    return rc;
}

static int pg_begin(na__db *db, na_error *err)
{
    return pg_exec_script(db, "BEGIN", err);
}

static int pg_begin_read(na__db *db, na_error *err)
{
    /* READ COMMITTED would take a new snapshot per statement; reads that belong together
     * (a version row, then its nodes and links) need one. */
    return pg_exec_script(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
}

static int pg_commit(na__db *db, na_error *err)
{
    return pg_exec_script(db, "COMMIT", err);
}

static int pg_rollback(na__db *db)
{
    return pg_exec_script(db, "ROLLBACK", NULL);
}

static const na__db_ops pg_ops = {
    .close = pg_close,
    .exec_script = pg_exec_script,
    .prepare = pg_prepare,
    .exec = pg_exec,
    .begin = pg_begin,
    .begin_read = pg_begin_read,
    .commit = pg_commit,
    .rollback = pg_rollback,
};

/* Server notices ("relation already exists, skipping") are not errors: drop them. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int na__db_open_postgres(const char *uri, na__db **out, na_error *err)
{
    pg_db *p = calloc(1, sizeof(*p));
    int rc;

    *out = NULL;
    if (!p)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    p->base.ops = &pg_ops;
    p->base.backend = NA__DB_POSTGRES;
    p->conn = PQconnectdb(uri);
    if (!p->conn) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out_close;
    }
    if (PQstatus(p->conn) != CONNECTION_OK) {
        rc = fail_conn(p, err, "connect");
        goto out_close;
    }
    PQsetNoticeProcessor(p->conn, ignore_notice, NULL);
    rc = pg_exec_script(&p->base,
                        "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD';"
                        " SET extra_float_digits = 3; SET client_min_messages = warning;",
                        err);
    if (rc)
        goto out_close;
    *out = &p->base;
    return NA_OK;
out_close:
    pg_close(&p->base);
    return rc;
}
