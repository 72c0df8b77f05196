/*
 * warehouse_test_util.h: shared fixtures of the test_warehouse_*.c programs.
 *
 * Each test runs once on SQLite (a fresh file in a temp dir) and once on PostgreSQL when
 * NETASSURE_PG_URL names a server where we may CREATE DATABASE (scripts/pg-tmp.sh makes one):
 * every PostgreSQL test gets its own database na_test_<pid>_<n>, dropped at the end. Without
 * the variable the PostgreSQL variants are skipped, visibly.
 */
#ifndef NA_TEST_WAREHOUSE_UTIL_H
#define NA_TEST_WAREHOUSE_UTIL_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netassure/warehouse.h"

enum { WT_SQLITE = 0, WT_PG = 1 };
static const int wt_sqlite = WT_SQLITE, wt_pg = WT_PG;

typedef struct wt_ctx {
    int backend;
    bool skip;
    char dir[256];
    char path[300];
    char dbname[64];
    char url[1024];
} wt_ctx;

static inline void wt_check_pg(PGconn *c, PGresult *r, const char *what)
{
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", what, PQerrorMessage(c));
}

/* Runs one fixed admin statement on the server of NETASSURE_PG_URL. */
static inline void wt_pg_admin(const char *sql)
{
    PGconn *c = PQconnectdb(getenv("NETASSURE_PG_URL"));
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to NETASSURE_PG_URL: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    wt_check_pg(c, r, sql);
    PQclear(r);
    PQfinish(c);
}

static inline int wt_setup(void **state)
{
    static int counter;
    wt_ctx *c = calloc(1, sizeof(*c));
    const char *base = getenv("NETASSURE_PG_URL");

    assert_non_null(c);
    c->backend = *(const int *)*state;
    *state = c;
    if (c->backend == WT_SQLITE) {
        snprintf(c->dir, sizeof(c->dir), "/tmp/na_wh_test_XXXXXX");
        assert_non_null(mkdtemp(c->dir));
        snprintf(c->path, sizeof(c->path), "%s/wh.db", c->dir);
        snprintf(c->url, sizeof(c->url), "sqlite:%s", c->path);
        return 0;
    }
    if (!base || !base[0]) {
        c->skip = true;
        return 0;
    }
    /* Same server, our database: swap the URI's path (before any '?'). */
    const char *hostpart = strstr(base, "://");
    assert_non_null(hostpart);
    const char *slash = strchr(hostpart + 3, '/'), *query = strchr(base, '?');
    size_t keep = slash ? (size_t)(slash - base) : query ? (size_t)(query - base) : strlen(base);
    snprintf(c->dbname, sizeof(c->dbname), "na_test_%ld_%d", (long)getpid(), ++counter);
    snprintf(c->url, sizeof(c->url), "%.*s/%s%s", (int)keep, base, c->dbname,
             query ? query : "");
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", c->dbname);
    wt_pg_admin(sql);
    return 0;
}

static inline int wt_teardown(void **state)
{
    wt_ctx *c = *state;
    char buf[400];

    if (c->backend == WT_SQLITE) {
        static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < 4; i++) {
            snprintf(buf, sizeof(buf), "%s%s", c->path, suffix[i]);
            unlink(buf);
        }
        rmdir(c->dir);
    } else if (!c->skip) {
        snprintf(buf, sizeof(buf), "DROP DATABASE IF EXISTS %s WITH (FORCE)", c->dbname);
        wt_pg_admin(buf);
    }
    free(c);
    return 0;
}

/* The context of a test; skips the PostgreSQL variant when no server is configured. */
static inline wt_ctx *wt_get(void **state)
{
    wt_ctx *c = *state;
    if (c->skip) {
        fprintf(stderr, "PostgreSQL tests skipped: NETASSURE_PG_URL not set\n");
        skip();
    }
    return c;
}

static inline na_warehouse *wt_open(const wt_ctx *c)
{
    na_warehouse *wh = NULL;
    na_error err;
    na_error_clear(&err);
    if (na_wh_open(c->url, &wh, &err) != 0)
        fail_msg("na_wh_open(%s): %s", c->url, err.message);
    return wh;
}

/*
 * Raw SQL through the backend's own client (not our code): the first column of each row,
 * joined with '|' into out ("NULL" for NULL). Returns the number of rows.
 */
static inline int wt_raw(const wt_ctx *c, const char *sql, char *out, size_t len)
{
    int rows = 0;
    size_t used = 0;

    out[0] = '\0';
    if (c->backend == WT_SQLITE) {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        if (sqlite3_open(c->path, &db) != SQLITE_OK ||
            sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            fail_msg("raw sqlite '%s': %s", sql, sqlite3_errmsg(db));
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *v = (const char *)sqlite3_column_text(st, 0);
            used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s",
                                     rows ? "|" : "", v ? v : "NULL");
            rows++;
        }
        if (rc != SQLITE_DONE)
            fail_msg("raw sqlite '%s': %s", sql, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return rows;
    }
    PGconn *pc = PQconnectdb(c->url);
    if (PQstatus(pc) != CONNECTION_OK)
        fail_msg("raw pg connect: %s", PQerrorMessage(pc));
    PGresult *r = PQexec(pc, sql);
    wt_check_pg(pc, r, sql);
    for (int i = 0; i < PQntuples(r); i++) {
        const char *v = PQgetisnull(r, i, 0) ? "NULL" : PQgetvalue(r, i, 0);
        used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s",
                                 rows ? "|" : "", v);
        rows++;
    }
    PQclear(r);
    PQfinish(pc);
    return rows;
}

/* Fails unless rc == want, printing the error message. */
#define WT_EXPECT(rc_expr, want, errp)                                                     \
    do {                                                                                   \
        int wt_rc_ = (rc_expr);                                                            \
        if (wt_rc_ != (want))                                                              \
            fail_msg("%s: got %d (%s), want %d", #rc_expr, wt_rc_, (errp)->message, (want)); \
    } while (0)

/* Two cmocka entries per test: "<name>/sqlite" and "<name>/postgresql". */
#define WT_TESTS(fn)                                                                       \
    {#fn "/sqlite", fn, wt_setup, wt_teardown, (void *)&wt_sqlite},                        \
    {#fn "/postgresql", fn, wt_setup, wt_teardown, (void *)&wt_pg}

#endif
