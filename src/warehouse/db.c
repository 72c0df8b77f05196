/* db.c: backend dispatch for db.h (the URL picks the backend). */
#include "warehouse/db.h"

#include <string.h>

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

int na__db_open(const char *url, na__db **out, na_error *err)
{
    if (!url || !url[0] || !out)
        return na_error_set(err, NA_EINVAL, "warehouse: empty database URL");
    if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://"))
        return na__db_open_postgres(url, out, err);
    if (has_prefix(url, "sqlite://"))
        return na__db_open_sqlite(url + strlen("sqlite://"), out, err);
    if (has_prefix(url, "sqlite:"))
        return na__db_open_sqlite(url + strlen("sqlite:"), out, err);
    return na__db_open_sqlite(url, out, err);
}

void na__db_close(na__db *db)
{
    if (db)
        db->ops->close(db);
}

int na__db_exec_script(na__db *db, const char *sql, na_error *err)
{
    return db->ops->exec_script(db, sql, err);
}

int na__db_prepare(na__db *db, int id, const char *sql, na_error *err)
{
    if (id < 0 || id >= NA__DB_MAX_STMTS)
        return na_error_set(err, NA_EINVAL, "warehouse: statement id %d out of range", id);
    return db->ops->prepare(db, id, sql, err);
}

int na__db_exec(na__db *db, int id, const na_wh_value *params, size_t nparams, na__db_row_cb cb,
                void *ud, int64_t *changes, na_error *err)
{
    if (id < 0 || id >= NA__DB_MAX_STMTS || nparams > NA__DB_MAX_PARAMS)
        return na_error_set(err, NA_EINVAL, "warehouse: bad statement %d / %zu parameters", id,
                            nparams);
    if (changes)
        *changes = 0;
    return db->ops->exec(db, id, params, nparams, cb, ud, changes, err);
}

/*
 * Transactions nest: only the outermost begin and commit reach the database, so several
 * observations (nodes, links, sites of one topology version) commit together. A rollback at
 * any depth rolls the whole transaction back; the levels above then fail to commit.
 */
/* Opens a level: the outermost one with `start` (read-write or read-only), inner ones count. */
static int begin_level(na__db *db, int (*start)(na__db *db, na_error *err), na_error *err)
{
    int rc;

    if (db->depth > 0) {
        if (db->aborted)
            return na_error_set(err, NA_EIO, "warehouse: the transaction was rolled back");
        db->depth++;
        return NA_OK;
    }
    rc = start(db, err);
    if (rc == NA_OK) {
        db->in_tx = true;
        db->depth = 1;
        db->aborted = false;
    }
    return rc;
}

int na__db_begin(na__db *db, na_error *err)
{
    return begin_level(db, db->ops->begin, err);
}

/* Inside a transaction the reads already share its snapshot. */
int na__db_begin_read(na__db *db, na_error *err)
{
    return begin_level(db, db->ops->begin_read, err);
}

int na__db_commit(na__db *db, na_error *err)
{
    int rc;

    if (db->depth > 1 || (db->depth == 1 && db->aborted)) {
        bool aborted = db->aborted;
        if (--db->depth == 0)
            db->aborted = false;
        return aborted ? na_error_set(err, NA_EIO, "warehouse: the transaction was rolled back")
                       : NA_OK;
    }
    rc = db->ops->commit(db, err);
    if (rc == NA_OK) {
        db->in_tx = false;
        db->depth = 0;
    }
    return rc;
}

void na__db_rollback(na__db *db)
{
    if (db->depth > 1) {
        /* Roll back now (nothing of it may stay) and let the outer levels unwind. */
        if (db->in_tx)
            db->ops->rollback(db);
        db->in_tx = false;
        db->aborted = true;
        db->depth--;
        return;
    }
    if (db->in_tx)
        db->ops->rollback(db);
    db->in_tx = false;
    db->depth = 0;
    db->aborted = false;
}
