/*
 * db.h (internal): the warehouse's database backend interface (SQLite, PostgreSQL).
 *
 * All SQL is fixed text written by the warehouse, prepared once per connection under a small
 * integer id; values travel only as typed parameters ($1..$n in the text: the SQLite backend
 * maps them to ?1..?n). Results are handed row by row to a callback as na_wh_value cells whose
 * text is valid during the callback only. Timestamps travel as text "YYYY-MM-DD HH:MM:SS.mmm"
 * (UTC) in both directions; booleans as INT 0/1.
 */
#ifndef NA_WAREHOUSE_DB_H
#define NA_WAREHOUSE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netassure/common.h"
#include "netassure/warehouse.h"

#define NA__DB_MAX_STMTS 256
#define NA__DB_MAX_PARAMS 32

typedef enum na__db_backend { NA__DB_SQLITE = 0, NA__DB_POSTGRES } na__db_backend;

/* Called per result row; non-zero stops the statement and is returned by na__db_exec. */
typedef int (*na__db_row_cb)(const na_wh_value *cells, size_t ncells, void *ud);

typedef struct na__db na__db;

typedef struct na__db_ops {
    void (*close)(na__db *db);
    int (*exec_script)(na__db *db, const char *sql, na_error *err);
    int (*prepare)(na__db *db, int id, const char *sql, na_error *err);
    int (*exec)(na__db *db, int id, const na_wh_value *params, size_t nparams, na__db_row_cb cb,
                void *ud, int64_t *changes, na_error *err);
    int (*begin)(na__db *db, na_error *err);
    /* A read-only transaction: one consistent snapshot for several statements, no write lock. */
    int (*begin_read)(na__db *db, na_error *err);
    int (*commit)(na__db *db, na_error *err);
    int (*rollback)(na__db *db);
} na__db_ops;

/* The common head of every backend connection. */
struct na__db {
    const na__db_ops *ops;
    na__db_backend backend;
    bool in_tx;
    int depth;        /* nested begin/commit pairs inside one real transaction */
    bool aborted;     /* an inner failure rolled the whole transaction back */
};

/*
 * Opens a connection: "sqlite:PATH", "sqlite://PATH", a plain path, or a "postgresql://" /
 * "postgres://" libpq URI. Caller owns *out; free with na__db_close.
 */
int na__db_open(const char *url, na__db **out, na_error *err);
int na__db_open_sqlite(const char *path, na__db **out, na_error *err);
int na__db_open_postgres(const char *uri, na__db **out, na_error *err);
void na__db_close(na__db *db);

/* Runs fixed SQL without parameters (DDL, several statements allowed). */
int na__db_exec_script(na__db *db, const char *sql, na_error *err);
/* Prepares `sql` under `id` (0 <= id < NA__DB_MAX_STMTS), replacing an earlier one. */
int na__db_prepare(na__db *db, int id, const char *sql, na_error *err);
/*
 * Runs prepared statement `id` with `params`; rows go to cb (may be NULL); *changes (may be
 * NULL) receives the number of rows inserted, updated or deleted.
 */
int na__db_exec(na__db *db, int id, const na_wh_value *params, size_t nparams, na__db_row_cb cb,
                void *ud, int64_t *changes, na_error *err);
/* One transaction at a time; SQLite takes the write lock at begin (BEGIN IMMEDIATE). */
int na__db_begin(na__db *db, na_error *err);
int na__db_begin_read(na__db *db, na_error *err);
int na__db_commit(na__db *db, na_error *err);
/* Rolls back when a transaction is open; safe to call when none is. */
void na__db_rollback(na__db *db);

/* Statement ids 0..NA__DB_STMT_FREE-1 belong to schema.c; the warehouse uses the rest. */
#define NA__DB_STMT_FREE 4

/*
 * schema.c: creates the tables on a fresh database and applies pending migrations, all in one
 * transaction, recording each in schema_migrations. *version receives the schema version.
 */
int na__wh_migrate(na__db *db, int *version, na_error *err);

#endif
