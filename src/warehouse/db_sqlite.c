/*
 * db_sqlite.c: the SQLite backend of db.h.
 *
 * WAL journal (readers on other handles never wait for the writer), synchronous=NORMAL (a
 * commit is durable at the next checkpoint; the database never corrupts) and a busy timeout so
 * a second writer waits instead of failing at once.
 */
#include "warehouse/db.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 10000

typedef struct sqlite_db {
    na__db base;
    sqlite3 *conn;
    sqlite3_stmt *stmts[NA__DB_MAX_STMTS];
} sqlite_db;

static int fail(sqlite_db *s, na_error *err, const char *what)
{
    int code = sqlite3_errcode(s->conn);
    return na_error_set(err, code == SQLITE_NOMEM ? NA_ENOMEM : NA_EIO, "sqlite: %s: %s", what,
                        sqlite3_errmsg(s->conn));
}

static void sqlite_close(na__db *db)
{
    sqlite_db *s = (sqlite_db *)db;

    for (int i = 0; i < NA__DB_MAX_STMTS; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_close(s->conn);
    free(s);
}

static int sqlite_exec_script(na__db *db, const char *sql, na_error *err)
{
    sqlite_db *s = (sqlite_db *)db;
    char *msg = NULL;

    if (sqlite3_exec(s->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = na_error_set(err, NA_EIO, "sqlite: %s", msg ? msg : sqlite3_errmsg(s->conn));
        sqlite3_free(msg);
        return rc;
    }
    return NA_OK;
}

static int sqlite_prepare(na__db *db, int id, const char *sql, na_error *err)
{
    sqlite_db *s = (sqlite_db *)db;
    size_t n = strlen(sql);
    char *text = malloc(n + 1);
    int rc = NA_OK;

    if (!text)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    /* $N -> ?N: SQLite numbers "?N" parameters by N exactly ("$N" would be a named one). */
    for (size_t i = 0; i <= n; i++)
        text[i] = sql[i] == '$' ? '?' : sql[i];
    sqlite3_finalize(s->stmts[id]);
    s->stmts[id] = NULL;
    if (sqlite3_prepare_v3(s->conn, text, -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[id], NULL) !=
        SQLITE_OK)
        rc = fail(s, err, "prepare");
    free(text);
    return rc;
}

static int sqlite_exec(na__db *db, int id, const na_wh_value *params, size_t nparams,
                       na__db_row_cb cb, void *ud, int64_t *changes, na_error *err)
{
    sqlite_db *s = (sqlite_db *)db;
    sqlite3_stmt *st = s->stmts[id];
    na_wh_value cells[64];
    int rc = NA_OK, step;

    if (!st)
        return na_error_set(err, NA_EINVAL, "sqlite: statement %d not prepared", id);
    for (size_t i = 0; i < nparams; i++) {
        int b, k = (int)i + 1;
        switch (params[i].type) {
        case NA_WH_TEXT:
            b = params[i].v.s ? sqlite3_bind_text(st, k, params[i].v.s, -1, SQLITE_STATIC)
                              : sqlite3_bind_null(st, k);
            break;
        case NA_WH_INT: b = sqlite3_bind_int64(st, k, params[i].v.i); break;
        case NA_WH_REAL:
            /* NaN is "unknown": NULL, never a value that compares unequal to itself. */
            b = params[i].v.r != params[i].v.r ? sqlite3_bind_null(st, k)
                                               : sqlite3_bind_double(st, k, params[i].v.r + 0.0);
            break;
        default: b = sqlite3_bind_null(st, k); break;
        }
        if (b != SQLITE_OK) {
            rc = fail(s, err, "bind");
            goto out_reset;
        }
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);
        if (!cb)
            continue;
        if (n > (int)(sizeof(cells) / sizeof(cells[0])))
            n = (int)(sizeof(cells) / sizeof(cells[0]));
        for (int c = 0; c < n; c++) {
            switch (sqlite3_column_type(st, c)) {
            case SQLITE_INTEGER:
                cells[c].type = NA_WH_INT;
                cells[c].v.i = sqlite3_column_int64(st, c);
                break;
            case SQLITE_FLOAT:
                cells[c].type = NA_WH_REAL;
                cells[c].v.r = sqlite3_column_double(st, c);
                break;
            case SQLITE_NULL: cells[c].type = NA_WH_NULL; break;
            default:
                cells[c].type = NA_WH_TEXT;
                cells[c].v.s = (const char *)sqlite3_column_text(st, c);
                if (!cells[c].v.s)
                    cells[c].type = NA_WH_NULL;
                break;
            }
        }
        rc = cb(cells, (size_t)n, ud);
        if (rc)
            goto out_reset;
    }
    if (step != SQLITE_DONE) {
        rc = fail(s, err, "step");
        goto out_reset;
    }
    if (changes)
        *changes = sqlite3_changes64(s->conn);
out_reset:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int sqlite_begin(na__db *db, na_error *err)
{
    /* IMMEDIATE: take the write lock now (waiting up to the busy timeout), so a transaction
     * never fails half-way on a lock upgrade. */
    return sqlite_exec_script(db, "BEGIN IMMEDIATE", err);
}

static int sqlite_begin_read(na__db *db, na_error *err)
{
    /* DEFERRED: the first SELECT fixes the snapshot (WAL), the writer is never blocked. */
    return sqlite_exec_script(db, "BEGIN DEFERRED", err);
}

static int sqlite_commit(na__db *db, na_error *err)
{
    return sqlite_exec_script(db, "COMMIT", err);
}

static int sqlite_rollback(na__db *db)
{
    return sqlite_exec_script(db, "ROLLBACK", NULL);
}

static const na__db_ops sqlite_ops = {
    .close = sqlite_close,
    .exec_script = sqlite_exec_script,
    .prepare = sqlite_prepare,
    .exec = sqlite_exec,
    .begin = sqlite_begin,
    .begin_read = sqlite_begin_read,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
};

int na__db_open_sqlite(const char *path, na__db **out, na_error *err)
{
    sqlite_db *s = calloc(1, sizeof(*s));
    int rc;

    *out = NULL;
    if (!s)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    s->base.ops = &sqlite_ops;
    s->base.backend = NA__DB_SQLITE;
    if (sqlite3_open_v2(path, &s->conn,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = na_error_set(err, NA_EIO, "sqlite: cannot open '%s': %s", path,
                          s->conn ? sqlite3_errmsg(s->conn) : "out of memory");
        goto out_close;
    }
    sqlite3_busy_timeout(s->conn, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->conn, 0);
    rc = sqlite_exec_script(&s->base,
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                            " PRAGMA foreign_keys=OFF;",
                            err);
    if (rc)
        goto out_close;
    *out = &s->base;
    return NA_OK;
out_close:
    sqlite_close(&s->base);
    return rc;
}
