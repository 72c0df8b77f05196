/*
 * warehouse.c: the SCD2 engine and the public API of warehouse.h.
 *
 * Change detection keeps, per history table, a map id -> 64-bit hash of the data columns of the
 * current version (loaded lazily from the database, dropped after any rollback). An
 * observation classifies each row against that map in memory and writes only what changed:
 * O(changes) statements plus one set-based UPDATE of meta_last_checked, in one transaction.
 * The map is only right while this handle is the table's only writer (the daemon has one).
 */
#include "netassure/warehouse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/idmap.h"
#include "warehouse/db.h"

#define MAX_COLS 16
#define SQL_MAX 4096

/* ---- table specs: the only source of table and column names in SQL ---- */

static const na_wh_column sites_cols[] = {
    {"name", NA_WH_TEXT}, {"latitude", NA_WH_REAL}, {"longitude", NA_WH_REAL},
    {"address", NA_WH_TEXT}, {"attrs", NA_WH_TEXT}};
static const na_wh_column nodes_cols[] = {
    {"label", NA_WH_TEXT}, {"role", NA_WH_TEXT}, {"site", NA_WH_TEXT}, {"asn", NA_WH_INT},
    {"latitude", NA_WH_REAL}, {"longitude", NA_WH_REAL}, {"capacity", NA_WH_REAL},
    {"status", NA_WH_TEXT}, {"attrs", NA_WH_TEXT}};
static const na_wh_column ports_cols[] = {
    {"node_id", NA_WH_TEXT}, {"if_index", NA_WH_INT}, {"name", NA_WH_TEXT},
    {"descr", NA_WH_TEXT}, {"alias", NA_WH_TEXT}, {"type", NA_WH_TEXT}, {"speed", NA_WH_INT},
    {"admin_status", NA_WH_TEXT}, {"oper_status", NA_WH_TEXT}, {"attrs", NA_WH_TEXT}};
static const na_wh_column links_cols[] = {
    {"source", NA_WH_TEXT}, {"target", NA_WH_TEXT}, {"label", NA_WH_TEXT},
    {"capacity", NA_WH_REAL}, {"status", NA_WH_TEXT}, {"attrs", NA_WH_TEXT}};
static const na_wh_column hosts_cols[] = {
    {"mac", NA_WH_TEXT}, {"ip", NA_WH_TEXT}, {"node_id", NA_WH_TEXT},
    {"port_id", NA_WH_TEXT}, {"vlan", NA_WH_INT}, {"attrs", NA_WH_TEXT}};
static const na_wh_column alerts_cols[] = {
    {"rule", NA_WH_TEXT}, {"fingerprint", NA_WH_TEXT}, {"node_id", NA_WH_TEXT},
    {"site", NA_WH_TEXT}, {"severity", NA_WH_TEXT}, {"status", NA_WH_TEXT},
    {"message", NA_WH_TEXT}, {"created_at", NA_WH_TEXT}, {"updated_at", NA_WH_TEXT},
    {"count", NA_WH_INT}, {"details", NA_WH_TEXT}};
static const na_wh_column anomalies_cols[] = {
    {"detector", NA_WH_TEXT}, {"score", NA_WH_REAL}, {"node_ids", NA_WH_TEXT},
    {"detected_at", NA_WH_TEXT}, {"details", NA_WH_TEXT}};
static const na_wh_column analytics_cols[] = {
    {"topology_version", NA_WH_INT}, {"result", NA_WH_TEXT}};
static const na_wh_column config_cols[] = {{"value", NA_WH_TEXT}};
static const na_wh_column sensors_cols[] = {
    {"node_id", NA_WH_TEXT}, {"kind", NA_WH_TEXT}, {"descr", NA_WH_TEXT}, {"unit", NA_WH_TEXT},
    {"status", NA_WH_TEXT}, {"attrs", NA_WH_TEXT}};
static const na_wh_column neighbors_cols[] = {
    {"node_id", NA_WH_TEXT}, {"protocol", NA_WH_TEXT}, {"local_if_index", NA_WH_INT},
    {"local_port", NA_WH_TEXT}, {"remote_sysname", NA_WH_TEXT},
    {"remote_chassis_id", NA_WH_TEXT}, {"remote_port", NA_WH_TEXT},
    {"remote_mgmt_ip", NA_WH_TEXT}, {"attrs", NA_WH_TEXT}};

/*
 * `observed_state`: the table records the state of something that existed before we first
 * looked (the network, the configuration), so its first observation opens at the 1970
 * sentinel. Alerts and anomalies are events the daemon creates: they begin when written.
 */
typedef struct table_spec {
    const char *name;
    const na_wh_column *cols;
    size_t ncols;
    bool observed_state;
} table_spec;

#define SPEC(n, c, o) {n, c, sizeof(c) / sizeof(c[0]), o}
static const table_spec specs[NA_WH_TABLE_COUNT] = {
    SPEC("sites", sites_cols, true),
    SPEC("nodes", nodes_cols, true),
    SPEC("ports", ports_cols, true),
    SPEC("links", links_cols, true),
    SPEC("hosts", hosts_cols, true),
    SPEC("alerts", alerts_cols, false),
    SPEC("anomalies", anomalies_cols, false),
    SPEC("analytics", analytics_cols, true),
    SPEC("config", config_cols, true),
    SPEC("sensors", sensors_cols, true),
    SPEC("neighbors", neighbors_cols, true)};

const char *na_wh_table_name(na_wh_table table)
{
    return (unsigned)table < NA_WH_TABLE_COUNT ? specs[table].name : NULL;
}

const na_wh_column *na_wh_table_columns(na_wh_table table, size_t *ncolumns)
{
    if ((unsigned)table >= NA_WH_TABLE_COUNT) {
        if (ncolumns)
            *ncolumns = 0;
        return NULL;
    }
    if (ncolumns)
        *ncolumns = specs[table].ncols;
    return specs[table].cols;
}

/* ---- statement ids ---- */

enum {
    T_LOAD, T_INSERT, T_CLOSE, T_CLOSE_ITEM, T_TOUCH_ALL, T_TOUCH_ONE, T_READ_NOW, T_READ_NOW_ID,
    T_READ_AT, T_READ_AT_ID, T_HISTORY, T_COUNT, T_PER_TABLE
};
#define TSTMT(t, k) (NA__DB_STMT_FREE + (int)(t) * T_PER_TABLE + (k))
enum {
    G_OBS_LAST = NA__DB_STMT_FREE + NA_WH_TABLE_COUNT * T_PER_TABLE, G_OBS_INSERT,
    G_METRIC_INSERT, G_METRICS_READ, G_RET_SELECT, G_RET_UPSERT, G_RET_DELETE_RAW,
    G_RET_DELETE_ROLLUPS, G_FB_EXISTS, G_FB_INSERT, G_FB_READ, G_END
};

/* ---- id -> hash map with owned keys (linear probing, backward-shift deletion) ---- */

typedef struct cur_map {
    char **keys;
    uint64_t *hashes;
    size_t cap, n;
} cur_map;

static void map_free(cur_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->hashes);
    memset(m, 0, sizeof(*m));
}

static size_t map_find(const cur_map *m, const char *key)
{
    size_t i = na__hash_str(key) & (m->cap - 1);

    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static bool map_get(const cur_map *m, const char *key, uint64_t *hash)
{
    if (m->cap == 0)
        return false;
    size_t i = map_find(m, key);
    if (!m->keys[i])
        return false;
    *hash = m->hashes[i];
    return true;
}

static int map_grow(cur_map *m)
{
    cur_map g = {0};

    g.cap = m->cap ? m->cap * 2 : 64;
    g.keys = calloc(g.cap, sizeof(*g.keys));
    g.hashes = calloc(g.cap, sizeof(*g.hashes));
    if (!g.keys || !g.hashes) {
        free(g.keys);
        free(g.hashes);
        return NA_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = map_find(&g, m->keys[i]);
        g.keys[j] = m->keys[i];
        g.hashes[j] = m->hashes[i];
    }
    g.n = m->n;
    free(m->keys);
    free(m->hashes);
    *m = g;
    return NA_OK;
}

static int map_put(cur_map *m, const char *key, uint64_t hash)
{
    if ((m->n + 1) * 2 > m->cap && map_grow(m))
        return NA_ENOMEM;
    size_t i = map_find(m, key);
    if (!m->keys[i]) {
        m->keys[i] = strdup(key);
        if (!m->keys[i])
            return NA_ENOMEM;
        m->n++;
    }
    m->hashes[i] = hash;
    return NA_OK;
}

static void map_del(cur_map *m, const char *key)
{
    if (m->cap == 0)
        return;
    size_t i = map_find(m, key), mask = m->cap - 1;
    if (!m->keys[i])
        return;
    free(m->keys[i]);
    m->keys[i] = NULL;
    m->n--;
    /* Shift later members of the probe run back so lookups never stop early. */
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t home = na__hash_str(m->keys[j]) & mask;
        bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (between)
            continue;
        m->keys[i] = m->keys[j];
        m->hashes[i] = m->hashes[j];
        m->keys[j] = NULL;
        i = j;
    }
}

/* ---- the handle ---- */

typedef struct table_state {
    bool loaded;       /* current map and last observation read from the database */
    cur_map current;
    bool have_last;
    na_time_ms last_obs;
} table_state;

struct na_warehouse {
    na__db *db;
    int schema_version;
    table_state tables[NA_WH_TABLE_COUNT];
};

static void invalidate_all(na_warehouse *wh)
{
    for (int t = 0; t < NA_WH_TABLE_COUNT; t++) {
        map_free(&wh->tables[t].current);
        wh->tables[t].loaded = false;
    }
}

const char *na_wh_backend(const na_warehouse *wh)
{
    return wh->db->backend == NA__DB_POSTGRES ? "postgresql" : "sqlite";
}

int na_wh_schema_version(const na_warehouse *wh)
{
    return wh->schema_version;
}

/* ---- values and row hashes ---- */

/* The value as stored and compared: NaN and NULL text are NULL, INT in a REAL column is REAL,
 * -0.0 is 0.0 (SQLite does not keep the sign of a zero). */
static na_wh_value normalize(na_wh_type declared, na_wh_value v)
{
    if (v.type == NA_WH_TEXT && !v.v.s)
        v.type = NA_WH_NULL;
    if (declared == NA_WH_REAL && v.type == NA_WH_INT) {
        v.type = NA_WH_REAL;
        v.v.r = (double)v.v.i;
    }
    if (v.type == NA_WH_REAL) {
        if (isnan(v.v.r))
            v.type = NA_WH_NULL;
        else if (v.v.r == 0.0)
            v.v.r = 0.0;
    }
    return v;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* 64-bit hash of the data columns (type tag, length and bytes of each), normalized first. */
static uint64_t row_hash(const table_spec *ts, const na_wh_value *vals)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t c = 0; c < ts->ncols; c++) {
        na_wh_value v = normalize(ts->cols[c].type, vals[c]);
        unsigned char tag = (unsigned char)v.type;
        h = fnv(h, &tag, 1);
        if (v.type == NA_WH_TEXT) {
            uint64_t len = strlen(v.v.s);
            h = fnv(h, &len, sizeof(len));
            h = fnv(h, v.v.s, (size_t)len);
        } else if (v.type == NA_WH_INT) {
            h = fnv(h, &v.v.i, sizeof(v.v.i));
        } else if (v.type == NA_WH_REAL) {
            h = fnv(h, &v.v.r, sizeof(v.v.r));
        }
    }
    /* murmur3 finalizer: spreads FNV's weak high bits. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static na_wh_value text_value(const char *s)
{
    na_wh_value v = {.type = s ? NA_WH_TEXT : NA_WH_NULL};
    v.v.s = s;
    return v;
}

static na_wh_value int_value(int64_t i)
{
    na_wh_value v = {.type = NA_WH_INT};
    v.v.i = i;
    return v;
}

static bool valid_time(na_time_ms t)
{
    return t >= NA_TIME_FIRST && t <= NA_TIME_OPEN;
}

/* ---- SQL text (names from specs only) ---- */

typedef struct sqlbuf {
    char text[SQL_MAX];
    size_t len;
    bool overflow;
} sqlbuf;

__attribute__((format(printf, 2, 3)))
static void sql_add(sqlbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b->text + b->len, SQL_MAX - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= SQL_MAX - b->len)
        b->overflow = true;
    else
        b->len += (size_t)n;
}

static void sql_columns(sqlbuf *b, const table_spec *ts, bool meta)
{
    sql_add(b, "id");
    for (size_t c = 0; c < ts->ncols; c++)
        sql_add(b, ", \"%s\"", ts->cols[c].name);
    if (meta)
        sql_add(b, ", meta_valid_from, meta_valid_to, meta_last_checked, meta_is_current");
}

static int prep(na__db *db, int id, sqlbuf *b, na_error *err)
{
    if (b->overflow)
        return na_error_set(err, NA_ETOOBIG, "warehouse: statement %d too long", id);
    int rc = na__db_prepare(db, id, b->text, err);
    b->len = 0;
    b->text[0] = '\0';
    return rc;
}

static int prepare_table(na__db *db, na_wh_table t, sqlbuf *b, na_error *err)
{
    const table_spec *ts = &specs[t];
    const char *n = ts->name;
    int rc;

    sql_add(b, "SELECT ");
    sql_columns(b, ts, false);
    sql_add(b, " FROM %s WHERE meta_is_current = TRUE", n);
    if ((rc = prep(db, TSTMT(t, T_LOAD), b, err)))
        return rc;

    sql_add(b, "INSERT INTO %s (", n);
    sql_columns(b, ts, true);
    sql_add(b, ") VALUES (");
    for (size_t c = 0; c < ts->ncols + 4; c++)
        sql_add(b, "$%zu, ", c + 1);
    sql_add(b, "TRUE)");
    if ((rc = prep(db, TSTMT(t, T_INSERT), b, err)))
        return rc;

    sql_add(b, "UPDATE %s SET meta_valid_to = $1, meta_is_current = FALSE"
               " WHERE id = $2 AND meta_is_current = TRUE", n);
    if ((rc = prep(db, TSTMT(t, T_CLOSE), b, err)))
        return rc;
    sql_add(b, "UPDATE %s SET meta_valid_to = $1, meta_is_current = FALSE"
               " WHERE id = $2 AND meta_is_current = TRUE AND meta_valid_from <= $1", n);
    if ((rc = prep(db, TSTMT(t, T_CLOSE_ITEM), b, err)))
        return rc;
    sql_add(b, "UPDATE %s SET meta_last_checked = $1 WHERE meta_is_current = TRUE", n);
    if ((rc = prep(db, TSTMT(t, T_TOUCH_ALL), b, err)))
        return rc;
    sql_add(b, "UPDATE %s SET meta_last_checked = $1 WHERE id = $2 AND meta_is_current = TRUE",
            n);
    if ((rc = prep(db, TSTMT(t, T_TOUCH_ONE), b, err)))
        return rc;

    static const struct {
        int k;
        const char *where;
    } reads[] = {
        {T_READ_NOW, "meta_is_current = TRUE ORDER BY id"},
        {T_READ_NOW_ID, "meta_is_current = TRUE AND id = $1"},
        {T_READ_AT, "meta_valid_from <= $1 AND $1 < meta_valid_to ORDER BY id"},
        {T_READ_AT_ID, "meta_valid_from <= $1 AND $1 < meta_valid_to AND id = $2"},
        {T_HISTORY, "id = $1 ORDER BY meta_valid_from, meta_valid_to"},
    };
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        sql_add(b, "SELECT ");
        sql_columns(b, ts, true);
        sql_add(b, " FROM %s WHERE %s", n, reads[i].where);
        if ((rc = prep(db, TSTMT(t, reads[i].k), b, err)))
            return rc;
    }
    sql_add(b, "SELECT count(*), sum(CASE WHEN meta_is_current = TRUE THEN 1 ELSE 0 END)"
               " FROM %s", n);
    return prep(db, TSTMT(t, T_COUNT), b, err);
}

static int prepare_all(na__db *db, na_error *err)
{
    bool pg = db->backend == NA__DB_POSTGRES;
    sqlbuf *b = calloc(1, sizeof(*b));
    int rc = NA_OK;

    if (!b)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    for (int t = 0; t < NA_WH_TABLE_COUNT && rc == NA_OK; t++)
        rc = prepare_table(db, (na_wh_table)t, b, err);
    if (rc)
        goto out;
    static const char *const fixed[][2] = {
        {"SELECT max(observed_at) FROM observations WHERE table_name = $1", NULL},
        {"INSERT INTO observations (table_name, observed_at, counts) VALUES ($1, $2, $3)", NULL},
        {"INSERT INTO metrics (node_id, name, at, value) VALUES ($1, $2, $3, $4)", NULL},
        {"SELECT node_id, name, at, value, 1, value, value, 0 FROM metrics"
         " WHERE at >= $1 AND at < $2 AND (CAST($3 AS TEXT) IS NULL OR node_id = $3)"
         " AND (CAST($4 AS TEXT) IS NULL OR name = $4)"
         " UNION ALL SELECT node_id, name, bucket_start, mean, \"count\", \"min\", \"max\","
         " step_ms FROM metric_rollups"
         " WHERE bucket_start >= $1 AND bucket_start < $2"
         " AND (CAST($3 AS TEXT) IS NULL OR node_id = $3)"
         " AND (CAST($4 AS TEXT) IS NULL OR name = $4)"
         " ORDER BY 1, 2, 3, 8 LIMIT $5", NULL},
        {"SELECT node_id, name, at, value FROM metrics WHERE at < $1 AND value IS NOT NULL"
         " ORDER BY node_id, name, at", NULL},
        {"INSERT INTO metric_rollups (node_id, name, bucket_start, step_ms, \"count\", \"min\","
         " \"max\", mean) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
         " ON CONFLICT (name, node_id, bucket_start, step_ms) DO UPDATE SET"
         " mean = (metric_rollups.mean * metric_rollups.\"count\" + excluded.mean *"
         " excluded.\"count\") / (metric_rollups.\"count\" + excluded.\"count\"),"
         " \"count\" = metric_rollups.\"count\" + excluded.\"count\","
         " \"min\" = min(metric_rollups.\"min\", excluded.\"min\"),"
         " \"max\" = max(metric_rollups.\"max\", excluded.\"max\")",
         "INSERT INTO metric_rollups (node_id, name, bucket_start, step_ms, \"count\", \"min\","
         " \"max\", mean) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
         " ON CONFLICT (name, node_id, bucket_start, step_ms) DO UPDATE SET"
         " mean = (metric_rollups.mean * metric_rollups.\"count\" + excluded.mean *"
         " excluded.\"count\") / (metric_rollups.\"count\" + excluded.\"count\"),"
         " \"count\" = metric_rollups.\"count\" + excluded.\"count\","
         " \"min\" = LEAST(metric_rollups.\"min\", excluded.\"min\"),"
         " \"max\" = GREATEST(metric_rollups.\"max\", excluded.\"max\")"},
        {"DELETE FROM metrics WHERE at < $1", NULL},
        {"DELETE FROM metric_rollups WHERE bucket_start < $1", NULL},
        {"SELECT 1 FROM feedback WHERE feedback_id = $1", NULL},
        {"INSERT INTO feedback (feedback_id, alert_id, is_false_positive, notes, author,"
         " created_at) VALUES ($1, $2, $3, $4, $5, $6)", NULL},
        {"SELECT feedback_id, alert_id, is_false_positive, notes, author, created_at"
         " FROM feedback WHERE (CAST($1 AS TEXT) IS NULL OR alert_id = $1)"
         " AND created_at <= $2 ORDER BY created_at, feedback_id", NULL},
    };
    for (int i = 0; i < G_END - G_OBS_LAST && rc == NA_OK; i++) {
        const char *sql = pg && fixed[i][1] ? fixed[i][1] : fixed[i][0];
        rc = na__db_prepare(db, G_OBS_LAST + i, sql, err);
    }
out:
    free(b);
    return rc;
}

/* ---- open / close ---- */

int na_wh_open(const char *url, na_warehouse **out, na_error *err)
{
    na_warehouse *wh = NULL;
    int rc;

    if (!out)
        return na_error_set(err, NA_EINVAL, "warehouse: no output handle");
    *out = NULL;
    wh = calloc(1, sizeof(*wh));
    if (!wh)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    if ((rc = na__db_open(url, &wh->db, err)) ||
        (rc = na__wh_migrate(wh->db, &wh->schema_version, err)) ||
        (rc = prepare_all(wh->db, err)))
        goto out_close;
    *out = wh;
    return NA_OK;
out_close:
    na_wh_close(wh);
    return rc;
}

void na_wh_close(na_warehouse *wh)
{
    if (!wh)
        return;
    invalidate_all(wh);
    na__db_close(wh->db);
    free(wh);
}

/* ---- loading the current-version map ---- */

typedef struct load_ctx {
    const table_spec *ts;
    cur_map *map;
    int rc;
} load_ctx;

static int load_cb(const na_wh_value *cells, size_t n, void *ud)
{
    load_ctx *c = ud;

    if (n != c->ts->ncols + 1 || cells[0].type != NA_WH_TEXT)
        return c->rc = NA_EPARSE;
    if (map_put(c->map, cells[0].v.s, row_hash(c->ts, cells + 1)))
        return c->rc = NA_ENOMEM;
    return 0;
}

static int time_cell(const na_wh_value *cell, na_time_ms *out)
{
    if (cell->type != NA_WH_TEXT)
        return NA_EPARSE;
    return na_time_parse(cell->v.s, strlen(cell->v.s), out);
}

typedef struct last_ctx {
    bool have;
    na_time_ms at;
    int rc;
} last_ctx;

static int last_cb(const na_wh_value *cells, size_t n, void *ud)
{
    last_ctx *c = ud;

    if (n < 1 || cells[0].type == NA_WH_NULL)
        return 0;
    if (time_cell(&cells[0], &c->at))
        return c->rc = NA_EPARSE;
    c->have = true;
    return 0;
}

static int query_last(na_warehouse *wh, na_wh_table table, last_ctx *lc, na_error *err)
{
    na_wh_value p = text_value(specs[table].name);
    int rc;

    memset(lc, 0, sizeof(*lc));
    rc = na__db_exec(wh->db, G_OBS_LAST, &p, 1, last_cb, lc, NULL, err);
    if (rc && rc == lc->rc)
        na_error_set(err, rc, "warehouse: unreadable observation time in %s", specs[table].name);
    return rc;
}

static int ensure_loaded(na_warehouse *wh, na_wh_table table, na_error *err)
{
    table_state *st = &wh->tables[table];
    load_ctx lc = {&specs[table], &st->current, 0};
    last_ctx last;
    int rc;

    if (st->loaded)
        return NA_OK;
    map_free(&st->current);
    rc = na__db_exec(wh->db, TSTMT(table, T_LOAD), NULL, 0, load_cb, &lc, NULL, err);
    if (rc && rc == lc.rc)
        na_error_set(err, rc, "warehouse: cannot load current %s", specs[table].name);
    if (!rc)
        rc = query_last(wh, table, &last, err);
    if (rc) {
        map_free(&st->current);
        return rc;
    }
    st->have_last = last.have;
    st->last_obs = last.at;
    st->loaded = true;
    return NA_OK;
}

/* ---- observe ---- */

enum { K_UNCHANGED, K_CHANGED, K_ADDED };

static int check_row(const table_spec *ts, const na_wh_row *r, size_t i, na_error *err)
{
    if (!r->id || !r->id[0])
        return na_error_set(err, NA_EINVAL, "warehouse: %s row %zu has no id", ts->name, i);
    if (ts->ncols > 0 && !r->values)
        return na_error_set(err, NA_EINVAL, "warehouse: %s row '%s' has no values", ts->name,
                            r->id);
    for (size_t c = 0; c < ts->ncols; c++) {
        na_wh_type want = ts->cols[c].type, got = r->values[c].type;
        if (got == NA_WH_NULL || got == want || (want == NA_WH_REAL && got == NA_WH_INT))
            continue;
        return na_error_set(err, NA_EINVAL, "warehouse: %s row '%s': column %s has type %d,"
                            " want %d", ts->name, r->id, ts->cols[c].name, (int)got, (int)want);
    }
    return NA_OK;
}

static int insert_version(na_warehouse *wh, na_wh_table table, const na_wh_row *r,
                          const char *from, const char *to, const char *checked, na_error *err)
{
    const table_spec *ts = &specs[table];
    na_wh_value p[MAX_COLS + 4];
    size_t n = 0;

    p[n++] = text_value(r->id);
    for (size_t c = 0; c < ts->ncols; c++)
        p[n++] = normalize(ts->cols[c].type, r->values[c]);
    p[n++] = text_value(from);
    p[n++] = text_value(to);
    p[n++] = text_value(checked);
    return na__db_exec(wh->db, TSTMT(table, T_INSERT), p, n, NULL, NULL, NULL, err);
}

static int close_version(na_warehouse *wh, na_wh_table table, const char *id, const char *at,
                         na_error *err)
{
    na_wh_value p[2] = {text_value(at), text_value(id)};
    int64_t changes;
    int rc = na__db_exec(wh->db, TSTMT(table, T_CLOSE), p, 2, NULL, NULL, &changes, err);

    if (rc == NA_OK && changes != 1)
        rc = na_error_set(err, NA_EIO, "warehouse: %s '%s': current version changed underneath"
                          " (another writer?)", specs[table].name, id);
    return rc;
}

int na_wh_observe(na_warehouse *wh, na_wh_table table, const na_wh_row *rows, size_t nrows,
                  na_time_ms at, na_wh_observe_mode mode, na_wh_observe_stats *stats,
                  na_error *err)
{
    na_wh_observe_stats s = {0};
    const table_spec *ts;
    table_state *st;
    na__idmap seen;
    unsigned char *kind = NULL;
    uint64_t *hash = NULL;
    char **gone = NULL;
    size_t ngone = 0;
    char at_s[32], from_s[32], open_s[32], counts[200];
    bool first;
    int rc;

    na__idmap_init(&seen);
    if (stats)
        memset(stats, 0, sizeof(*stats));
    if (!wh || (unsigned)table >= NA_WH_TABLE_COUNT || (nrows && !rows) || !valid_time(at) ||
        (mode != NA_WH_FULL && mode != NA_WH_PARTIAL))
        return na_error_set(err, NA_EINVAL, "warehouse: bad observe arguments");
    ts = &specs[table];
    st = &wh->tables[table];
    kind = malloc(nrows + 1);
    hash = malloc((nrows + 1) * sizeof(*hash));
    if (!kind || !hash) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out;
    }
    /* Everything that can be refused is refused before the first write. */
    for (size_t i = 0; i < nrows; i++) {
        size_t dummy;
        if ((rc = check_row(ts, &rows[i], i, err)))
            goto out;
        if (na__idmap_get(&seen, rows[i].id, &dummy)) {
            rc = na_error_set(err, NA_EINVAL, "warehouse: duplicate id '%s' in %s observation",
                              rows[i].id, ts->name);
            goto out;
        }
        if (na__idmap_put(&seen, rows[i].id, i)) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out;
        }
    }
    if ((rc = ensure_loaded(wh, table, err)))
        goto out;
    if (st->have_last && at < st->last_obs) {
        char a[32], b[32];
        rc = na_error_set(err, NA_EINVAL, "warehouse: %s observation at %s is older than the"
                          " newest one (%s)", ts->name, na_time_format(at, a, sizeof(a)),
                          na_time_format(st->last_obs, b, sizeof(b)));
        goto out;
    }
    first = !st->have_last && ts->observed_state;
    for (size_t i = 0; i < nrows; i++) {
        uint64_t old;
        hash[i] = row_hash(ts, rows[i].values);
        if (!map_get(&st->current, rows[i].id, &old)) {
            kind[i] = K_ADDED;
            s.added++;
        } else if (old == hash[i]) {
            kind[i] = K_UNCHANGED;
            s.unchanged++;
        } else {
            kind[i] = K_CHANGED;
            s.changed++;
        }
    }
    if (mode == NA_WH_FULL) {
        size_t dummy;
        gone = malloc((st->current.n + 1) * sizeof(*gone));
        if (!gone) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < st->current.cap; i++)
            if (st->current.keys[i] && !na__idmap_get(&seen, st->current.keys[i], &dummy))
                gone[ngone++] = st->current.keys[i];
        s.closed = ngone;
    }
    /* Replaying the newest full observation: nothing to write at all. */
    if (st->have_last && at == st->last_obs && mode == NA_WH_FULL && s.changed == 0 &&
        s.added == 0 && s.closed == 0)
        goto out_stats;

    na_time_format_db(at, at_s, sizeof(at_s));
    na_time_format_db(first ? NA_TIME_FIRST : at, from_s, sizeof(from_s));
    na_time_format_db(NA_TIME_OPEN, open_s, sizeof(open_s));
    if ((rc = na__db_begin(wh->db, err)))
        goto out_rollback;
    for (size_t i = 0; i < nrows; i++) {
        if (kind[i] == K_CHANGED) {
            if ((rc = close_version(wh, table, rows[i].id, at_s, err)) ||
                (rc = insert_version(wh, table, &rows[i], at_s, open_s, at_s, err)))
                goto out_rollback;
        } else if (kind[i] == K_ADDED) {
            if ((rc = insert_version(wh, table, &rows[i], from_s, open_s, at_s, err)))
                goto out_rollback;
        } else if (mode == NA_WH_PARTIAL) {
            na_wh_value p[2] = {text_value(at_s), text_value(rows[i].id)};
            if ((rc = na__db_exec(wh->db, TSTMT(table, T_TOUCH_ONE), p, 2, NULL, NULL, NULL,
                                  err)))
                goto out_rollback;
        }
    }
    for (size_t i = 0; i < ngone; i++)
        if ((rc = close_version(wh, table, gone[i], at_s, err)))
            goto out_rollback;
    if (mode == NA_WH_FULL) {
        /* After the closes, "current" is exactly the rows of this observation. */
        na_wh_value p = text_value(at_s);
        if ((rc = na__db_exec(wh->db, TSTMT(table, T_TOUCH_ALL), &p, 1, NULL, NULL, NULL, err)))
            goto out_rollback;
    }
    if (!st->have_last || at != st->last_obs) {
        snprintf(counts, sizeof(counts),
                 "{\"mode\":\"%s\",\"rows\":%zu,\"unchanged\":%zu,\"changed\":%zu,"
                 "\"added\":%zu,\"closed\":%zu}",
                 mode == NA_WH_FULL ? "full" : "partial", nrows, s.unchanged, s.changed, s.added,
                 s.closed);
        na_wh_value p[3] = {text_value(ts->name), text_value(at_s), text_value(counts)};
        if ((rc = na__db_exec(wh->db, G_OBS_INSERT, p, 3, NULL, NULL, NULL, err)))
            goto out_rollback;
    }
    if ((rc = na__db_commit(wh->db, err)))
        goto out_rollback;

    /* Committed: bring the map along (on failure here, reload it next time). */
    for (size_t i = 0; i < nrows && rc == NA_OK; i++)
        if (kind[i] != K_UNCHANGED && map_put(&st->current, rows[i].id, hash[i]))
            rc = NA_ENOMEM;
    for (size_t i = 0; i < ngone; i++)
        map_del(&st->current, gone[i]);  /* gone[] points into the map: copy-free, one each */
    st->have_last = true;
    st->last_obs = at;
    if (rc) {
        invalidate_all(wh);
        rc = NA_OK; /* the data is written; only the cache is lost */
    }
    goto out_stats;

out_rollback:
    na__db_rollback(wh->db);
    invalidate_all(wh);
    goto out;
out_stats:
    if (stats)
        *stats = s;
out:
    na__idmap_free(&seen);
    free(kind);
    free(hash);
    free(gone);
    return rc;
}

int na_wh_close_item(na_warehouse *wh, na_wh_table table, const char *id, na_time_ms at,
                     na_error *err)
{
    char at_s[32];
    int64_t changes = 0;
    int rc;

    if (!wh || (unsigned)table >= NA_WH_TABLE_COUNT || !id || !valid_time(at))
        return na_error_set(err, NA_EINVAL, "warehouse: bad close_item arguments");
    na_time_format_db(at, at_s, sizeof(at_s));
    na_wh_value p[2] = {text_value(at_s), text_value(id)};
    if ((rc = na__db_begin(wh->db, err)) ||
        (rc = na__db_exec(wh->db, TSTMT(table, T_CLOSE_ITEM), p, 2, NULL, NULL, &changes, err)))
        goto out_rollback;
    if (changes == 0) {
        rc = na_error_set(err, NA_ENOTFOUND, "warehouse: %s '%s' has no current version"
                          " valid at %s", specs[table].name, id, at_s);
        goto out_rollback;
    }
    if ((rc = na__db_commit(wh->db, err)))
        goto out_rollback;
    map_del(&wh->tables[table].current, id);
    return NA_OK;
out_rollback:
    na__db_rollback(wh->db);
    invalidate_all(wh);
    return rc;
}

/* ---- reads ---- */

typedef struct read_ctx {
    const table_spec *ts;
    na_wh_read_cb cb;
    void *ud;
    int rc; /* our own failure (vs. the callback's stop value) */
} read_ctx;

static int read_cb(const na_wh_value *cells, size_t n, void *ud)
{
    read_ctx *c = ud;
    const table_spec *ts = c->ts;
    na_wh_value vals[MAX_COLS];
    na_wh_version v;

    if (n != ts->ncols + 5 || cells[0].type != NA_WH_TEXT)
        return c->rc = NA_EPARSE;
    for (size_t i = 0; i < ts->ncols; i++)
        vals[i] = normalize(ts->cols[i].type, cells[1 + i]);
    v.row.id = cells[0].v.s;
    v.row.values = vals;
    if (time_cell(&cells[ts->ncols + 1], &v.valid_from) ||
        time_cell(&cells[ts->ncols + 2], &v.valid_to) ||
        time_cell(&cells[ts->ncols + 3], &v.last_checked) ||
        cells[ts->ncols + 4].type != NA_WH_INT)
        return c->rc = NA_EPARSE;
    v.is_current = cells[ts->ncols + 4].v.i != 0;
    return c->cb(&v, c->ud);
}

static int run_read(na_warehouse *wh, na_wh_table table, int stmt, const na_wh_value *p,
                    size_t np, na_wh_read_cb cb, void *ud, na_error *err)
{
    read_ctx c = {&specs[table], cb, ud, 0};
    int rc = na__db_exec(wh->db, stmt, p, np, read_cb, &c, NULL, err);

    if (rc && rc == c.rc)
        na_error_set(err, rc, "warehouse: unreadable row in %s", specs[table].name);
    return rc;
}

int na_wh_read_at(na_warehouse *wh, na_wh_table table, na_time_ms at, const char *id,
                  na_wh_read_cb cb, void *ud, na_error *err)
{
    char at_s[32];

    if (!wh || (unsigned)table >= NA_WH_TABLE_COUNT || !cb ||
        (at != NA_TIME_NOW && !valid_time(at)))
        return na_error_set(err, NA_EINVAL, "warehouse: bad read_at arguments");
    if (at == NA_TIME_NOW) {
        na_wh_value p = text_value(id);
        return run_read(wh, table, TSTMT(table, id ? T_READ_NOW_ID : T_READ_NOW), &p, id ? 1 : 0,
                        cb, ud, err);
    }
    na_time_format_db(at, at_s, sizeof(at_s));
    na_wh_value p[2] = {text_value(at_s), text_value(id)};
    return run_read(wh, table, TSTMT(table, id ? T_READ_AT_ID : T_READ_AT), p, id ? 2 : 1, cb,
                    ud, err);
}

int na_wh_read_history(na_warehouse *wh, na_wh_table table, const char *id, na_wh_read_cb cb,
                       void *ud, na_error *err)
{
    if (!wh || (unsigned)table >= NA_WH_TABLE_COUNT || !id || !cb)
        return na_error_set(err, NA_EINVAL, "warehouse: bad read_history arguments");
    na_wh_value p = text_value(id);
    return run_read(wh, table, TSTMT(table, T_HISTORY), &p, 1, cb, ud, err);
}

static int count_cb(const na_wh_value *cells, size_t n, void *ud)
{
    int64_t *out = ud;

    for (size_t i = 0; i < 2 && i < n; i++)
        out[i] = cells[i].type == NA_WH_INT ? cells[i].v.i
                 : cells[i].type == NA_WH_REAL ? (int64_t)cells[i].v.r : 0;
    return 0;
}

int na_wh_count(na_warehouse *wh, na_wh_table table, int64_t *total, int64_t *current,
                na_error *err)
{
    int64_t out[2] = {0, 0};
    int rc;

    if (!wh || (unsigned)table >= NA_WH_TABLE_COUNT)
        return na_error_set(err, NA_EINVAL, "warehouse: bad count arguments");
    if ((rc = na__db_exec(wh->db, TSTMT(table, T_COUNT), NULL, 0, count_cb, out, NULL, err)))
        return rc;
    if (total)
        *total = out[0];
    if (current)
        *current = out[1];
    return NA_OK;
}

int na_wh_last_observation(na_warehouse *wh, na_wh_table table, na_time_ms *at, na_error *err)
{
    last_ctx lc;
    int rc;

    if (!wh || (unsigned)table >= NA_WH_TABLE_COUNT || !at)
        return na_error_set(err, NA_EINVAL, "warehouse: bad last_observation arguments");
    if ((rc = query_last(wh, table, &lc, err)))
        return rc;
    if (!lc.have)
        return na_error_set(err, NA_ENOTFOUND, "warehouse: %s was never observed",
                            specs[table].name);
    *at = lc.at;
    return NA_OK;
}

/* ---- metrics ---- */

int na_wh_metrics_append(na_warehouse *wh, const na_wh_sample *samples, size_t n,
                         na_error *err)
{
    char at_s[32];
    int rc;

    if (!wh || (n && !samples))
        return na_error_set(err, NA_EINVAL, "warehouse: bad metrics_append arguments");
    for (size_t i = 0; i < n; i++)
        if (!samples[i].name || !samples[i].name[0] || !valid_time(samples[i].at))
            return na_error_set(err, NA_EINVAL, "warehouse: sample %zu has no name or a bad"
                                " time", i);
    if ((rc = na__db_begin(wh->db, err)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        na_wh_value p[4] = {text_value(samples[i].node_id ? samples[i].node_id : ""),
                            text_value(samples[i].name),
                            text_value(na_time_format_db(samples[i].at, at_s, sizeof(at_s))),
                            {.type = NA_WH_REAL, .v.r = samples[i].value}};
        if ((rc = na__db_exec(wh->db, G_METRIC_INSERT, p, 4, NULL, NULL, NULL, err)))
            goto out_rollback;
    }
    if ((rc = na__db_commit(wh->db, err)))
        goto out_rollback;
    return NA_OK;
out_rollback:
    na__db_rollback(wh->db);
    return rc;
}

typedef struct metric_ctx {
    na_wh_metric_cb cb;
    void *ud;
    int rc;
} metric_ctx;

static double real_cell(const na_wh_value *c)
{
    return c->type == NA_WH_REAL ? c->v.r : c->type == NA_WH_INT ? (double)c->v.i : NAN;
}

static int metric_cb(const na_wh_value *cells, size_t n, void *ud)
{
    metric_ctx *c = ud;
    na_wh_metric_point p;

    if (n != 8 || cells[0].type != NA_WH_TEXT || cells[1].type != NA_WH_TEXT ||
        time_cell(&cells[2], &p.sample.at))
        return c->rc = NA_EPARSE;
    p.sample.node_id = cells[0].v.s;
    p.sample.name = cells[1].v.s;
    p.sample.value = real_cell(&cells[3]);
    p.count = cells[4].type == NA_WH_INT ? cells[4].v.i : 1;
    p.min = real_cell(&cells[5]);
    p.max = real_cell(&cells[6]);
    p.step_ms = cells[7].type == NA_WH_INT ? cells[7].v.i : 0;
    return c->cb(&p, c->ud);
}

int na_wh_metrics_read(na_warehouse *wh, const char *node_id, const char *name,
                       na_time_ms since, na_time_ms until, size_t limit, na_wh_metric_cb cb,
                       void *ud, na_error *err)
{
    char since_s[32], until_s[32];
    metric_ctx c = {cb, ud, 0};
    int rc;

    if (!wh || !cb)
        return na_error_set(err, NA_EINVAL, "warehouse: bad metrics_read arguments");
    /* Clamp to the representable range: the text form must keep its order. */
    since = since < NA_TIME_FIRST ? NA_TIME_FIRST : since > NA_TIME_OPEN ? NA_TIME_OPEN : since;
    until = until < NA_TIME_FIRST ? NA_TIME_FIRST : until > NA_TIME_OPEN ? NA_TIME_OPEN : until;
    na_wh_value p[5] = {text_value(na_time_format_db(since, since_s, sizeof(since_s))),
                        text_value(na_time_format_db(until, until_s, sizeof(until_s))),
                        text_value(node_id), text_value(name),
                        int_value(limit == 0 || limit > INT64_MAX ? INT64_MAX : (int64_t)limit)};
    rc = na__db_exec(wh->db, G_METRICS_READ, p, 5, metric_cb, &c, NULL, err);
    if (rc && rc == c.rc)
        na_error_set(err, rc, "warehouse: unreadable metric row");
    return rc;
}

typedef struct bucket {
    char *node_id, *name;
    int64_t start, count;
    double min, max, sum;
} bucket;

typedef struct fold_ctx {
    int64_t step;
    bucket *b;
    size_t n, cap, raw;
    int rc;
} fold_ctx;

static int64_t floor_to(int64_t t, int64_t step)
{
    int64_t q = t / step;
    if (t % step != 0 && t < 0)
        q--;
    return q * step;
}

static int fold_cb(const na_wh_value *cells, size_t n, void *ud)
{
    fold_ctx *f = ud;
    na_time_ms at;

    if (n != 4 || cells[0].type != NA_WH_TEXT || cells[1].type != NA_WH_TEXT ||
        time_cell(&cells[2], &at))
        return f->rc = NA_EPARSE;
    double v = real_cell(&cells[3]);
    int64_t start = floor_to(at, f->step);
    bucket *last = f->n ? &f->b[f->n - 1] : NULL;
    f->raw++;
    /* Rows come ordered by (node, name, at): a series' buckets are consecutive. */
    if (last && last->start == start && strcmp(last->node_id, cells[0].v.s) == 0 &&
        strcmp(last->name, cells[1].v.s) == 0) {
        last->count++;
        last->sum += v;
        last->min = v < last->min ? v : last->min;
        last->max = v > last->max ? v : last->max;
        return 0;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        bucket *nb = realloc(f->b, cap * sizeof(*nb));
        if (!nb)
            return f->rc = NA_ENOMEM;
        f->b = nb;
        f->cap = cap;
    }
    bucket *b = &f->b[f->n];
    b->node_id = strdup(cells[0].v.s);
    b->name = strdup(cells[1].v.s);
    if (!b->node_id || !b->name) {
        free(b->node_id);
        free(b->name);
        return f->rc = NA_ENOMEM;
    }
    f->n++;
    b->start = start;
    b->count = 1;
    b->sum = b->min = b->max = v;
    return 0;
}

int na_wh_metrics_apply_retention(na_warehouse *wh, na_time_ms now,
                                  const na_wh_retention *policy, na_wh_retention_stats *stats,
                                  na_error *err)
{
    na_wh_retention_stats s = {0};
    fold_ctx f = {0};
    char cut_s[32], keep_s[32], start_s[32];
    int64_t changes;
    int rc;

    if (stats)
        memset(stats, 0, sizeof(*stats));
    if (!wh || !policy || policy->downsample_after_ms < 0 || policy->keep_ms < 0 ||
        (policy->downsample_after_ms > 0 && policy->step_ms <= 0) || !valid_time(now))
        return na_error_set(err, NA_EINVAL, "warehouse: bad retention policy");
    if ((rc = na__db_begin(wh->db, err)))
        return rc;
    if (policy->downsample_after_ms > 0) {
        na_time_ms cut = now - policy->downsample_after_ms;
        f.step = policy->step_ms;
        na_wh_value p = text_value(na_time_format_db(cut < 0 ? 0 : cut, cut_s, sizeof(cut_s)));
        rc = na__db_exec(wh->db, G_RET_SELECT, &p, 1, fold_cb, &f, NULL, err);
        if (rc && rc == f.rc)
            na_error_set(err, rc, "warehouse: cannot fold metrics");
        if (rc)
            goto out_rollback;
        for (size_t i = 0; i < f.n; i++) {
            bucket *b = &f.b[i];
            na_wh_value u[8] = {
                text_value(b->node_id), text_value(b->name),
                text_value(na_time_format_db(b->start, start_s, sizeof(start_s))),
                int_value(f.step), int_value(b->count),
                {.type = NA_WH_REAL, .v.r = b->min}, {.type = NA_WH_REAL, .v.r = b->max},
                {.type = NA_WH_REAL, .v.r = b->sum / (double)b->count}};
            if ((rc = na__db_exec(wh->db, G_RET_UPSERT, u, 8, NULL, NULL, NULL, err)))
                goto out_rollback;
        }
        /* Unknown (NULL) values older than the cut go too: there is nothing to fold. */
        if ((rc = na__db_exec(wh->db, G_RET_DELETE_RAW, &p, 1, NULL, NULL, &changes, err)))
            goto out_rollback;
        s.raw_folded = f.raw;
        s.buckets_written = f.n;
    }
    if (policy->keep_ms > 0) {
        na_time_ms keep = now - policy->keep_ms;
        na_wh_value p = text_value(na_time_format_db(keep < 0 ? 0 : keep, keep_s, sizeof(keep_s)));
        if ((rc = na__db_exec(wh->db, G_RET_DELETE_ROLLUPS, &p, 1, NULL, NULL, &changes, err)))
            goto out_rollback;
        s.buckets_deleted = (size_t)changes;
    }
    if ((rc = na__db_commit(wh->db, err)))
        goto out_rollback;
    if (stats)
        *stats = s;
    goto out;
out_rollback:
    na__db_rollback(wh->db);
out:
    for (size_t i = 0; i < f.n; i++) {
        free(f.b[i].node_id);
        free(f.b[i].name);
    }
    free(f.b);
    return rc;
}

/* ---- feedback ---- */

static int exists_cb(const na_wh_value *cells, size_t n, void *ud)
{
    (void)cells;
    (void)n;
    *(bool *)ud = true;
    return 0;
}

int na_wh_feedback_add(na_warehouse *wh, const na_wh_feedback *fb, na_error *err)
{
    char at_s[32];
    bool exists = false;
    int rc;

    if (!wh || !fb || !fb->feedback_id || !fb->feedback_id[0] || !fb->alert_id ||
        !valid_time(fb->created_at))
        return na_error_set(err, NA_EINVAL, "warehouse: bad feedback");
    na_wh_value id = text_value(fb->feedback_id);
    na_wh_value p[6] = {id, text_value(fb->alert_id), int_value(fb->is_false_positive ? 1 : 0),
                        text_value(fb->notes), text_value(fb->author),
                        text_value(na_time_format_db(fb->created_at, at_s, sizeof(at_s)))};
    if ((rc = na__db_begin(wh->db, err)) ||
        (rc = na__db_exec(wh->db, G_FB_EXISTS, &id, 1, exists_cb, &exists, NULL, err)))
        goto out_rollback;
    if (exists) {
        rc = na_error_set(err, NA_EINVAL, "warehouse: feedback '%s' already exists",
                          fb->feedback_id);
        goto out_rollback;
    }
    if ((rc = na__db_exec(wh->db, G_FB_INSERT, p, 6, NULL, NULL, NULL, err)) ||
        (rc = na__db_commit(wh->db, err)))
        goto out_rollback;
    return NA_OK;
out_rollback:
    na__db_rollback(wh->db);
    return rc;
}

typedef struct fb_ctx {
    na_wh_feedback_cb cb;
    void *ud;
    int rc;
} fb_ctx;

static int fb_cb(const na_wh_value *cells, size_t n, void *ud)
{
    fb_ctx *c = ud;
    na_wh_feedback fb;

    if (n != 6 || cells[0].type != NA_WH_TEXT || cells[1].type != NA_WH_TEXT ||
        cells[2].type != NA_WH_INT || time_cell(&cells[5], &fb.created_at))
        return c->rc = NA_EPARSE;
    fb.feedback_id = cells[0].v.s;
    fb.alert_id = cells[1].v.s;
    fb.is_false_positive = cells[2].v.i != 0;
    fb.notes = cells[3].type == NA_WH_TEXT ? cells[3].v.s : NULL;
    fb.author = cells[4].type == NA_WH_TEXT ? cells[4].v.s : NULL;
    return c->cb(&fb, c->ud);
}

int na_wh_feedback_read(na_warehouse *wh, const char *alert_id, na_time_ms at,
                        na_wh_feedback_cb cb, void *ud, na_error *err)
{
    char at_s[32];
    fb_ctx c = {cb, ud, 0};
    int rc;

    if (!wh || !cb || (at != NA_TIME_NOW && !valid_time(at)))
        return na_error_set(err, NA_EINVAL, "warehouse: bad feedback_read arguments");
    na_wh_value p[2] = {text_value(alert_id),
                        text_value(na_time_format_db(at == NA_TIME_NOW ? NA_TIME_OPEN : at, at_s,
                                                     sizeof(at_s)))};
    rc = na__db_exec(wh->db, G_FB_READ, p, 2, fb_cb, &c, NULL, err);
    if (rc && rc == c.rc)
        na_error_set(err, rc, "warehouse: unreadable feedback row");
    return rc;
}

int na_wh_begin(na_warehouse *wh, na_error *err)
{
    return na__db_begin(wh->db, err);
}

int na_wh_begin_read(na_warehouse *wh, na_error *err)
{
    return na__db_begin_read(wh->db, err);
}

int na_wh_commit(na_warehouse *wh, na_error *err)
{
    int rc = na__db_commit(wh->db, err);

    /* The maps followed the inner commits; if the whole did not commit they are wrong. */
    if (rc) {
        na__db_rollback(wh->db);
        invalidate_all(wh);
    }
    return rc;
}

void na_wh_rollback(na_warehouse *wh)
{
    na__db_rollback(wh->db);
    invalidate_all(wh);
}
