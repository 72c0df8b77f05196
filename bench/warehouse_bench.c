/*
 * warehouse_bench.c: SCD2 observation rate and point-in-time read latency of the warehouse,
 * on SQLite and (when NETASSURE_PG_URL is set, or --pg URL) PostgreSQL.
 *
 *  1. observe: a snapshot of N nodes + 2N links, then K observations with 1% of the nodes
 *     changed each time (links unchanged). Side by side with the straightforward SCD2 merge
 *     (per item: SELECT the current row, compare, UPDATE last_checked or UPDATE + INSERT; then
 *     SELECT the current ids to close the missing ones) on its own database, same schema,
 *     one transaction per observation too. Reported as ms per observation, rows/s and the ratio.
 *  2. point-in-time: about H history rows in nodes (H/N versions per node), then R reads of all
 *     nodes as of a random time.
 *
 * usage: warehouse_bench [--nodes N] [--obs K] [--history-rows H] [--reads R] [--pg URL]
 *                        [--no-sqlite]
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netassure/warehouse.h"
#include "warehouse/db.h"

#define T0 ((na_time_ms)1772971200000LL)
#define NODE_COLS 9
#define LINK_COLS 6

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const na_error *err)
{
    fprintf(stderr, "warehouse_bench: %s: %s\n", what, err ? err->message : "");
    exit(1);
}

/* ---- the data set ---- */

typedef struct dataset {
    size_t nn, nl;
    char (*node_id)[24], (*link_id)[24], (*label)[48];
    na_wh_value *nv, *lv;
    na_wh_row *nodes, *links;
} dataset;

static void make_dataset(dataset *d, size_t nn)
{
    d->nn = nn;
    d->nl = 2 * nn;
    d->node_id = calloc(nn, sizeof(*d->node_id));
    d->label = calloc(nn, sizeof(*d->label));
    d->link_id = calloc(d->nl, sizeof(*d->link_id));
    d->nv = calloc(nn * NODE_COLS, sizeof(*d->nv));
    d->lv = calloc(d->nl * LINK_COLS, sizeof(*d->lv));
    d->nodes = calloc(nn, sizeof(*d->nodes));
    d->links = calloc(d->nl, sizeof(*d->links));
    if (!d->node_id || !d->label || !d->link_id || !d->nv || !d->lv || !d->nodes || !d->links)
        die("out of memory", NULL);
    for (size_t i = 0; i < nn; i++) {
        na_wh_value *v = d->nv + i * NODE_COLS;
        snprintf(d->node_id[i], 24, "n%06zu", i);
        snprintf(d->label[i], 48, "router-%zu", i);
        v[0] = (na_wh_value){.type = NA_WH_TEXT, .v.s = d->label[i]};
        v[1] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "core"};
        v[2] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "site-1"};
        v[3] = (na_wh_value){.type = NA_WH_INT, .v.i = 65000 + (int64_t)(i % 100)};
        v[4] = (na_wh_value){.type = NA_WH_REAL, .v.r = 40.0 + (double)(i % 1000) * 0.01};
        v[5] = (na_wh_value){.type = NA_WH_REAL, .v.r = -3.0 + (double)(i % 777) * 0.01};
        v[6] = (na_wh_value){.type = NA_WH_REAL, .v.r = 1e10};
        v[7] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "up"};
        v[8] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "{\"vendor\":\"x\"}"};
        d->nodes[i] = (na_wh_row){d->node_id[i], v};
    }
    for (size_t i = 0; i < d->nl; i++) {
        na_wh_value *v = d->lv + i * LINK_COLS;
        snprintf(d->link_id[i], 24, "l%07zu", i);
        v[0] = (na_wh_value){.type = NA_WH_TEXT, .v.s = d->node_id[i % nn]};
        v[1] = (na_wh_value){.type = NA_WH_TEXT, .v.s = d->node_id[(i * 7 + 1) % nn]};
        v[2] = (na_wh_value){.type = NA_WH_NULL};
        v[3] = (na_wh_value){.type = NA_WH_REAL, .v.r = 1e9};
        v[4] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "up"};
        v[5] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "{}"};
        d->links[i] = (na_wh_row){d->link_id[i], v};
    }
}

/* Observation k changes the labels of 1% of the nodes (a different 1% each time). */
static void change_one_percent(dataset *d, int k)
{
    size_t n = d->nn / 100 ? d->nn / 100 : 1;
    for (size_t j = 0; j < n; j++) {
        size_t i = ((size_t)k * n + j) % d->nn;
        snprintf(d->label[i], 48, "router-%zu-v%d", i, k);
    }
}

/* ---- the straightforward merge, on the internal db interface ---- */

enum { N_SEL, N_CLOSE, N_INSERT, N_TOUCH, N_CURRENT_IDS, N_PER_TABLE };

typedef struct naive {
    na__db *db;
} naive;

static void naive_prepare(naive *nv, na_wh_table t, int base)
{
    size_t nc;
    const na_wh_column *cols = na_wh_table_columns(t, &nc);
    const char *name = na_wh_table_name(t);
    char list[512] = "id", sql[2048], params[256] = "";
    na_error err;

    for (size_t c = 0; c < nc; c++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof(list) - l, ", \"%s\"", cols[c].name);
    }
    for (size_t c = 0; c < nc + 4; c++) {
        size_t l = strlen(params);
        snprintf(params + l, sizeof(params) - l, "$%zu, ", c + 1);
    }
    snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE id = $1 AND meta_is_current = TRUE", list,
             name);
    if (na__db_prepare(nv->db, base + N_SEL, sql, &err))
        die("prepare", &err);
    snprintf(sql, sizeof(sql), "UPDATE %s SET meta_valid_to = $1, meta_is_current = FALSE"
             " WHERE id = $2 AND meta_is_current = TRUE", name);
    if (na__db_prepare(nv->db, base + N_CLOSE, sql, &err))
        die("prepare", &err);
    snprintf(sql, sizeof(sql), "INSERT INTO %s (%s, meta_valid_from, meta_valid_to,"
             " meta_last_checked, meta_is_current) VALUES (%sTRUE)", name, list, params);
    if (na__db_prepare(nv->db, base + N_INSERT, sql, &err))
        die("prepare", &err);
    snprintf(sql, sizeof(sql), "UPDATE %s SET meta_last_checked = $1 WHERE id = $2 AND"
             " meta_is_current = TRUE", name);
    if (na__db_prepare(nv->db, base + N_TOUCH, sql, &err))
        die("prepare", &err);
    snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE meta_is_current = TRUE", name);
    if (na__db_prepare(nv->db, base + N_CURRENT_IDS, sql, &err))
        die("prepare", &err);
}

typedef struct cmp_ctx {
    const na_wh_row *row;
    size_t nc;
    int found, equal;
} cmp_ctx;

static int same(const na_wh_value *a, const na_wh_value *b)
{
    bool an = a->type == NA_WH_NULL || (a->type == NA_WH_REAL && a->v.r != a->v.r);
    bool bn = b->type == NA_WH_NULL || (b->type == NA_WH_REAL && b->v.r != b->v.r);
    if (an || bn)
        return an && bn;
    if (a->type == NA_WH_TEXT || b->type == NA_WH_TEXT)
        return a->type == b->type && strcmp(a->v.s, b->v.s) == 0;
    double x = a->type == NA_WH_INT ? (double)a->v.i : a->v.r;
    double y = b->type == NA_WH_INT ? (double)b->v.i : b->v.r;
    return x == y;
}

static int cmp_cb(const na_wh_value *cells, size_t n, void *ud)
{
    cmp_ctx *c = ud;
    c->found = 1;
    c->equal = n == c->nc + 1;
    for (size_t i = 0; i < c->nc && c->equal; i++)
        c->equal = same(&cells[i + 1], &c->row->values[i]);
    return 0;
}

typedef struct ids_ctx {
    char **ids;
    size_t n, cap;
} ids_ctx;

static int ids_cb(const na_wh_value *cells, size_t n, void *ud)
{
    ids_ctx *c = ud;
    (void)n;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->ids = realloc(c->ids, c->cap * sizeof(*c->ids));
        if (!c->ids)
            die("out of memory", NULL);
    }
    c->ids[c->n++] = strdup(cells[0].v.s);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void naive_observe(naive *nv, na_wh_table t, int base, const na_wh_row *rows, size_t n,
                          na_time_ms at, bool first)
{
    size_t nc;
    na_error err;
    char at_s[32], from_s[32], open_s[32];
    na_wh_value p[32];

    na_wh_table_columns(t, &nc);
    na_time_format_db(at, at_s, sizeof(at_s));
    na_time_format_db(first ? NA_TIME_FIRST : at, from_s, sizeof(from_s));
    na_time_format_db(NA_TIME_OPEN, open_s, sizeof(open_s));
    for (size_t i = 0; i < n; i++) {
        cmp_ctx c = {&rows[i], nc, 0, 0};
        p[0] = (na_wh_value){.type = NA_WH_TEXT, .v.s = rows[i].id};
        if (na__db_exec(nv->db, base + N_SEL, p, 1, cmp_cb, &c, NULL, &err))
            die("naive select", &err);
        na_wh_value key[2] = {{.type = NA_WH_TEXT, .v.s = at_s},
                              {.type = NA_WH_TEXT, .v.s = rows[i].id}};
        if (c.found && c.equal) {
            if (na__db_exec(nv->db, base + N_TOUCH, key, 2, NULL, NULL, NULL, &err))
                die("naive touch", &err);
            continue;
        }
        if (c.found && na__db_exec(nv->db, base + N_CLOSE, key, 2, NULL, NULL, NULL, &err))
            die("naive close", &err);
        size_t k = 0;
        p[k++] = (na_wh_value){.type = NA_WH_TEXT, .v.s = rows[i].id};
        for (size_t col = 0; col < nc; col++)
            p[k++] = rows[i].values[col];
        p[k++] = (na_wh_value){.type = NA_WH_TEXT, .v.s = c.found ? at_s : from_s};
        p[k++] = (na_wh_value){.type = NA_WH_TEXT, .v.s = open_s};
        p[k++] = (na_wh_value){.type = NA_WH_TEXT, .v.s = at_s};
        if (na__db_exec(nv->db, base + N_INSERT, p, k, NULL, NULL, NULL, &err))
            die("naive insert", &err);
    }
    /* Gone: current ids not in the observation. */
    ids_ctx cur = {0};
    if (na__db_exec(nv->db, base + N_CURRENT_IDS, NULL, 0, ids_cb, &cur, NULL, &err))
        die("naive ids", &err);
    const char **seen = malloc((n + 1) * sizeof(*seen));
    if (!seen)
        die("out of memory", NULL);
    for (size_t i = 0; i < n; i++)
        seen[i] = rows[i].id;
    qsort(seen, n, sizeof(*seen), cmp_str);
    for (size_t i = 0; i < cur.n; i++) {
        if (!bsearch(&cur.ids[i], seen, n, sizeof(*seen), cmp_str)) {
            na_wh_value key[2] = {{.type = NA_WH_TEXT, .v.s = at_s},
                                  {.type = NA_WH_TEXT, .v.s = cur.ids[i]}};
            if (na__db_exec(nv->db, base + N_CLOSE, key, 2, NULL, NULL, NULL, &err))
                die("naive close", &err);
        }
        free(cur.ids[i]);
    }
    free(cur.ids);
    free(seen);
}

/* ---- databases ---- */

typedef struct target {
    const char *backend;
    char url[3][1024];  /* ours, naive, history */
    char names[3][64];  /* PostgreSQL databases to drop */
    char dir[256];
} target;

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void pg_admin(const char *base, const char *sql)
{
    PGconn *c = PQconnectdb(base);
    PQsetNoticeProcessor(c, quiet, NULL);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "warehouse_bench: %s\n", PQerrorMessage(c));
        exit(1);
    }
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "warehouse_bench: %s: %s\n", sql, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
    PQfinish(c);
}

static void make_targets_pg(target *t, const char *base)
{
    const char *h = strstr(base, "://");
    const char *slash = h ? strchr(h + 3, '/') : NULL, *q = strchr(base, '?');
    size_t keep = slash ? (size_t)(slash - base) : q ? (size_t)(q - base) : strlen(base);
    char sql[160];

    t->backend = "postgresql";
    for (int i = 0; i < 3; i++) {
        snprintf(t->names[i], sizeof(t->names[i]), "na_bench_%ld_%d", (long)getpid(), i);
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->names[i]);
        pg_admin(base, sql);
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", t->names[i]);
        pg_admin(base, sql);
        snprintf(t->url[i], sizeof(t->url[i]), "%.*s/%s%s", (int)keep, base, t->names[i],
                 q ? q : "");
    }
}

static void drop_targets(target *t, const char *base)
{
    char buf[400];
    for (int i = 0; i < 3; i++) {
        if (t->names[i][0]) {
            snprintf(buf, sizeof(buf), "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->names[i]);
            pg_admin(base, buf);
        } else if (t->dir[0]) {
            static const char *const sfx[] = {"", "-wal", "-shm"};
            for (int s = 0; s < 3; s++) {
                snprintf(buf, sizeof(buf), "%s%s", t->url[i] + strlen("sqlite:"), sfx[s]);
                unlink(buf);
            }
        }
    }
    if (t->dir[0])
        rmdir(t->dir);
}

/* ---- the runs ---- */

typedef struct opts {
    size_t nodes, history_rows;
    int obs, reads;
} opts;

static void bench_observe(const target *t, const opts *o)
{
    dataset d;
    na_warehouse *wh;
    naive nv;
    na_error err;
    double ours = 0, ref = 0, t0;

    make_dataset(&d, o->nodes);
    if (na_wh_open(t->url[0], &wh, &err))
        die("open", &err);
    t0 = now_s();
    if (na_wh_observe(wh, NA_WH_NODES, d.nodes, d.nn, T0, NA_WH_FULL, NULL, &err) ||
        na_wh_observe(wh, NA_WH_LINKS, d.links, d.nl, T0, NA_WH_FULL, NULL, &err))
        die("observe", &err);
    double first_ours = now_s() - t0;

    /* The reference gets the schema from na_wh_open, then runs on its own connection. */
    na_warehouse *schema;
    if (na_wh_open(t->url[1], &schema, &err))
        die("open", &err);
    na_wh_close(schema);
    if (na__db_open(t->url[1], &nv.db, &err))
        die("open", &err);
    naive_prepare(&nv, NA_WH_NODES, 0);
    naive_prepare(&nv, NA_WH_LINKS, N_PER_TABLE);
    t0 = now_s();
    if (na__db_begin(nv.db, &err))
        die("begin", &err);
    naive_observe(&nv, NA_WH_NODES, 0, d.nodes, d.nn, T0, true);
    naive_observe(&nv, NA_WH_LINKS, N_PER_TABLE, d.links, d.nl, T0, true);
    if (na__db_commit(nv.db, &err))
        die("commit", &err);
    double first_ref = now_s() - t0;

    for (int k = 1; k <= o->obs; k++) {
        na_time_ms at = T0 + (na_time_ms)k * 60000;
        change_one_percent(&d, k);
        t0 = now_s();
        if (na_wh_observe(wh, NA_WH_NODES, d.nodes, d.nn, at, NA_WH_FULL, NULL, &err) ||
            na_wh_observe(wh, NA_WH_LINKS, d.links, d.nl, at, NA_WH_FULL, NULL, &err))
            die("observe", &err);
        ours += now_s() - t0;
        t0 = now_s();
        /* The reference commits nodes and links separately too (one transaction each). */
        if (na__db_begin(nv.db, &err))
            die("begin", &err);
        naive_observe(&nv, NA_WH_NODES, 0, d.nodes, d.nn, at, false);
        if (na__db_commit(nv.db, &err) || na__db_begin(nv.db, &err))
            die("commit", &err);
        naive_observe(&nv, NA_WH_LINKS, N_PER_TABLE, d.links, d.nl, at, false);
        if (na__db_commit(nv.db, &err))
            die("commit", &err);
        ref += now_s() - t0;
    }
    /* Both must have written the same history. */
    int64_t a_total, b_total;
    if (na_wh_count(wh, NA_WH_NODES, &a_total, NULL, &err))
        die("count", &err);
    na_wh_close(wh);
    if (na_wh_open(t->url[1], &schema, &err) || na_wh_count(schema, NA_WH_NODES, &b_total, NULL, &err))
        die("count", &err);
    na_wh_close(schema);
    if (a_total != b_total) {
        fprintf(stderr, "warehouse_bench: histories differ: %lld vs %lld node versions\n",
                (long long)a_total, (long long)b_total);
        exit(1);
    }
    na__db_close(nv.db);
    double rows = (double)(d.nn + d.nl) * o->obs;
    printf("%-10s first snapshot (%zu nodes + %zu links)  ours %8.1f ms   reference %8.1f ms"
           "   ratio %.1fx\n", t->backend, d.nn, d.nl, first_ours * 1e3, first_ref * 1e3,
           first_ref / first_ours);
    printf("%-10s observe, 1%% of nodes changed (%d obs)   ours %8.2f ms/obs %10.0f rows/s"
           "   reference %8.2f ms/obs %10.0f rows/s   ratio %.1fx   (%lld node versions)\n",
           t->backend, o->obs, ours * 1e3 / o->obs, rows / ours, ref * 1e3 / o->obs, rows / ref,
           ref / ours, (long long)a_total);
}

static int count_cb(const na_wh_version *v, void *ud)
{
    (void)v;
    (*(size_t *)ud)++;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench_point_in_time(const target *t, const opts *o)
{
    dataset d;
    na_warehouse *wh;
    na__db *db;
    na_error err;
    size_t versions = o->history_rows / o->nodes ? o->history_rows / o->nodes : 1;
    char from_s[32], to_s[32], checked_s[32], sql[1024];
    double *lat = calloc((size_t)o->reads, sizeof(*lat));

    if (!lat)
        die("out of memory", NULL);
    make_dataset(&d, o->nodes);
    if (na_wh_open(t->url[2], &wh, &err) || na__db_open(t->url[2], &db, &err))
        die("open", &err);
    /* Bulk-load the history directly (the shape SCD2 produces: contiguous versions). */
    snprintf(sql, sizeof(sql), "INSERT INTO nodes (id, label, role, site, asn, latitude,"
             " longitude, capacity, status, attrs, meta_valid_from, meta_valid_to,"
             " meta_last_checked, meta_is_current) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
             " $10, $11, $12, $13, $14)");
    if (na__db_prepare(db, 0, sql, &err) || na__db_begin(db, &err))
        die("prepare", &err);
    double t0 = now_s();
    for (size_t v = 0; v < versions; v++) {
        na_time_ms from = v == 0 ? NA_TIME_FIRST : T0 + (na_time_ms)v * 60000;
        na_time_ms to = v + 1 == versions ? NA_TIME_OPEN : T0 + (na_time_ms)(v + 1) * 60000;
        na_time_format_db(from, from_s, sizeof(from_s));
        na_time_format_db(to, to_s, sizeof(to_s));
        na_time_format_db(T0 + (na_time_ms)v * 60000, checked_s, sizeof(checked_s));
        for (size_t i = 0; i < d.nn; i++) {
            na_wh_value p[14];
            char label[48];
            snprintf(label, sizeof(label), "r%zu-v%zu", i, v);
            p[0] = (na_wh_value){.type = NA_WH_TEXT, .v.s = d.node_id[i]};
            memcpy(p + 1, d.nodes[i].values, NODE_COLS * sizeof(*p));
            p[1] = (na_wh_value){.type = NA_WH_TEXT, .v.s = label};
            p[10] = (na_wh_value){.type = NA_WH_TEXT, .v.s = from_s};
            p[11] = (na_wh_value){.type = NA_WH_TEXT, .v.s = to_s};
            p[12] = (na_wh_value){.type = NA_WH_TEXT, .v.s = checked_s};
            p[13] = (na_wh_value){.type = NA_WH_INT, .v.i = v + 1 == versions};
            if (na__db_exec(db, 0, p, 14, NULL, NULL, NULL, &err))
                die("load", &err);
        }
    }
    if (na__db_commit(db, &err) || na__db_exec_script(db, "ANALYZE", &err))
        die("commit", &err);
    double load = now_s() - t0;
    na__db_close(db);

    srand(42);
    size_t got = 0;
    for (int r = 0; r < o->reads; r++) {
        na_time_ms at = T0 + (na_time_ms)((double)rand() / RAND_MAX * (double)versions * 60000);
        size_t n = 0;
        t0 = now_s();
        if (na_wh_read_at(wh, NA_WH_NODES, at, NULL, count_cb, &n, &err))
            die("read", &err);
        lat[r] = now_s() - t0;
        if (n != d.nn) {
            fprintf(stderr, "warehouse_bench: read as of a time returned %zu nodes, want %zu\n",
                    n, d.nn);
            exit(1);
        }
        got += n;
    }
    qsort(lat, (size_t)o->reads, sizeof(*lat), cmp_double);
    int64_t total;
    if (na_wh_count(wh, NA_WH_NODES, &total, NULL, &err))
        die("count", &err);
    printf("%-10s point-in-time read of %zu nodes, %lld history rows (loaded in %.1f s):"
           " median %.2f ms, max %.2f ms over %d reads\n", t->backend, d.nn, (long long)total,
           load, lat[o->reads / 2] * 1e3, lat[o->reads - 1] * 1e3, o->reads);
    na_wh_close(wh);
    free(lat);
}

int main(int argc, char **argv)
{
    opts o = {10000, 1000000, 20, 20};
    const char *pg = getenv("NETASSURE_PG_URL");
    bool sqlite = true;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--nodes") && i + 1 < argc)
            o.nodes = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--obs") && i + 1 < argc)
            o.obs = (int)strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--history-rows") && i + 1 < argc)
            o.history_rows = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--reads") && i + 1 < argc)
            o.reads = (int)strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--pg") && i + 1 < argc)
            pg = argv[++i];
        else if (!strcmp(argv[i], "--no-sqlite"))
            sqlite = false;
        else {
            fprintf(stderr, "usage: %s [--nodes N] [--obs K] [--history-rows H] [--reads R]"
                    " [--pg URL] [--no-sqlite]\n", argv[0]);
            return 2;
        }
    }
    if (o.nodes < 1 || o.obs < 1 || o.reads < 1)
        return 2;
    if (sqlite) {
        target t = {.backend = "sqlite"};
        snprintf(t.dir, sizeof(t.dir), "/tmp/na_wh_bench_XXXXXX");
        if (!mkdtemp(t.dir))
            die("mkdtemp", NULL);
        for (int i = 0; i < 3; i++)
            snprintf(t.url[i], sizeof(t.url[i]), "sqlite:%s/wh%d.db", t.dir, i);
        bench_observe(&t, &o);
        bench_point_in_time(&t, &o);
        drop_targets(&t, NULL);
    }
    if (pg && pg[0]) {
        target t = {0};
        make_targets_pg(&t, pg);
        bench_observe(&t, &o);
        bench_point_in_time(&t, &o);
        drop_targets(&t, pg);
    } else {
        printf("postgresql skipped: NETASSURE_PG_URL not set\n");
    }
    return 0;
}
