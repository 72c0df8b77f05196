/*
 * test_warehouse_scd2.c: SCD2 history rules of na_wh_observe on SQLite and PostgreSQL:
 * sentinels, unchanged / changed / added / closed, replay, older and duplicate observations,
 * partial upserts, close_item, history order, NaN as NULL, rollback and cache reload, re-open.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "netassure/warehouse.h"
#include "warehouse_test_util.h"

#define T1 ((na_time_ms)1772971200000LL) /* 2026-03-08 12:00:00.000 */
#define T2 (T1 + 60000)
#define T3 (T1 + 120000)
#define T4 (T1 + 180000)
#define T5 (T1 + 240000)

/* A node row: label, role, site, asn, latitude, longitude, capacity, status, attrs. */
typedef struct node_in {
    const char *id, *label;
    int64_t asn;
    double lat;
    na_wh_value v[9];
} node_in;

static void fill(node_in *n, const char *id, const char *label, int64_t asn, double lat)
{
    n->id = id;
    n->label = label;
    n->asn = asn;
    n->lat = lat;
    n->v[0] = (na_wh_value){.type = NA_WH_TEXT, .v.s = label};
    n->v[1] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "router"};
    n->v[2] = (na_wh_value){.type = NA_WH_NULL};
    n->v[3] = (na_wh_value){.type = NA_WH_INT, .v.i = asn};
    n->v[4] = (na_wh_value){.type = NA_WH_REAL, .v.r = lat};
    n->v[5] = (na_wh_value){.type = NA_WH_REAL, .v.r = 4.5};
    n->v[6] = (na_wh_value){.type = NA_WH_REAL, .v.r = 10e9};
    n->v[7] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "up"};
    n->v[8] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "{\"k\":1}"};
}

static void rows_of(const node_in *n, size_t k, na_wh_row *rows)
{
    for (size_t i = 0; i < k; i++) {
        rows[i].id = n[i].id;
        rows[i].values = n[i].v;
    }
}

static na_wh_observe_stats observe(na_warehouse *wh, const node_in *n, size_t k, na_time_ms at,
                                   na_wh_observe_mode mode)
{
    na_wh_row rows[16];
    na_wh_observe_stats st;
    na_error err;

    rows_of(n, k, rows);
    WT_EXPECT(na_wh_observe(wh, NA_WH_NODES, rows, k, at, mode, &st, &err), 0, &err);
    return st;
}

static void expect_stats(na_wh_observe_stats st, size_t unchanged, size_t changed, size_t added,
                         size_t closed)
{
    if (st.unchanged != unchanged || st.changed != changed || st.added != added ||
        st.closed != closed)
        fail_msg("stats unchanged/changed/added/closed = %zu/%zu/%zu/%zu, want %zu/%zu/%zu/%zu",
                 st.unchanged, st.changed, st.added, st.closed, unchanged, changed, added,
                 closed);
}

static void expect_counts(na_warehouse *wh, int64_t total, int64_t current)
{
    int64_t t = -1, c = -1;
    na_error err;

    WT_EXPECT(na_wh_count(wh, NA_WH_NODES, &t, &c, &err), 0, &err);
    if (t != total || c != current)
        fail_msg("versions total/current = %lld/%lld, want %lld/%lld", (long long)t,
                 (long long)c, (long long)total, (long long)current);
}

/* Versions as read. */
typedef struct got {
    size_t n;
    char id[16][32], label[16][32];
    na_time_ms from[16], to[16], checked[16];
    bool current[16], lat_null[16];
    int64_t asn[16];
} got;

static int collect(const na_wh_version *v, void *ud)
{
    got *g = ud;
    assert_true(g->n < 16);
    snprintf(g->id[g->n], 32, "%s", v->row.id);
    snprintf(g->label[g->n], 32, "%s", v->row.values[0].type == NA_WH_TEXT ? v->row.values[0].v.s
                                                                           : "NULL");
    g->from[g->n] = v->valid_from;
    g->to[g->n] = v->valid_to;
    g->checked[g->n] = v->last_checked;
    g->current[g->n] = v->is_current;
    g->lat_null[g->n] = v->row.values[4].type == NA_WH_NULL;
    g->asn[g->n] = v->row.values[3].type == NA_WH_INT ? v->row.values[3].v.i : -1;
    g->n++;
    return 0;
}

static got read_now(na_warehouse *wh)
{
    got g = {0};
    na_error err;
    WT_EXPECT(na_wh_read_at(wh, NA_WH_NODES, NA_TIME_NOW, NULL, collect, &g, &err), 0, &err);
    return g;
}

static got history(na_warehouse *wh, const char *id)
{
    got g = {0};
    na_error err;
    WT_EXPECT(na_wh_read_history(wh, NA_WH_NODES, id, collect, &g, &err), 0, &err);
    return g;
}

static void expect_raw(const wt_ctx *c, const char *sql, const char *want)
{
    char buf[512];
    wt_raw(c, sql, buf, sizeof(buf));
    if (strcmp(buf, want) != 0)
        fail_msg("%s\n  got  '%s'\n  want '%s'", sql, buf, want);
}

static void test_sentinels_and_seed_query(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    node_in n[3];

    fill(&n[0], "a", "A", 65001, 50.1);
    fill(&n[1], "b", "B", 65002, 50.2);
    fill(&n[2], "c", "C", 65003, 50.3);
    expect_stats(observe(wh, n, 3, T1, NA_WH_FULL), 0, 0, 3, 0);
    expect_counts(wh, 3, 3);
    /* The seed's current-state query, verbatim, through the backend's own client. */
    expect_raw(c, "SELECT * FROM nodes WHERE meta_is_current = TRUE", "a|b|c");
    if (c->backend == WT_SQLITE) {
        expect_raw(c, "SELECT meta_valid_from FROM nodes ORDER BY id",
                   "1970-01-01 00:00:00.000|1970-01-01 00:00:00.000|1970-01-01 00:00:00.000");
        expect_raw(c, "SELECT meta_valid_to FROM nodes WHERE id = 'a'",
                   "9999-12-31 23:59:00.000");
        expect_raw(c, "SELECT meta_last_checked FROM nodes WHERE id = 'a'",
                   "2026-03-08 12:00:00.000");
        expect_raw(c, "SELECT typeof(meta_is_current) || meta_is_current FROM nodes WHERE id = 'a'",
                   "integer1");
    } else {
        expect_raw(c, "SELECT (meta_valid_from = TIMESTAMP '1970-01-01 00:00:00.000' AND"
                      " meta_valid_to = TIMESTAMP '9999-12-31 23:59:00.000' AND"
                      " meta_last_checked = TIMESTAMP '2026-03-08 12:00:00.000')::text"
                      " FROM nodes ORDER BY id",
                   "true|true|true");
        expect_raw(c, "SELECT pg_typeof(meta_valid_from)::text || ' ' ||"
                      " pg_typeof(meta_is_current)::text || ' ' || pg_typeof(asn)::text || ' ' ||"
                      " pg_typeof(latitude)::text FROM nodes WHERE id = 'a'",
                   "timestamp without time zone boolean bigint double precision");
    }
    na_wh_close(wh);
}

static void test_observation_rules(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    na_error err;
    node_in n[4];
    na_time_ms last;
    got g;

    fill(&n[0], "a", "A", 65001, 50.1);
    fill(&n[1], "b", "B", 65002, 50.2);
    fill(&n[2], "c", "C", 65003, 50.3);
    WT_EXPECT(na_wh_last_observation(wh, NA_WH_NODES, &last, &err), NA_ENOTFOUND, &err);
    expect_stats(observe(wh, n, 3, T1, NA_WH_FULL), 0, 0, 3, 0);

    /* Unchanged: only meta_last_checked moves. */
    expect_stats(observe(wh, n, 3, T2, NA_WH_FULL), 3, 0, 0, 0);
    expect_counts(wh, 3, 3);
    g = read_now(wh);
    assert_int_equal(g.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(g.from[i], NA_TIME_FIRST);
        assert_int_equal(g.to[i], NA_TIME_OPEN);
        assert_int_equal(g.checked[i], T2);
        assert_true(g.current[i]);
    }

    /* b changed, c gone, d new. */
    node_in m[3];
    fill(&m[0], "a", "A", 65001, 50.1);
    fill(&m[1], "b", "B2", 65002, 50.2);
    fill(&m[2], "d", "D", 65004, 50.4);
    expect_stats(observe(wh, m, 3, T3, NA_WH_FULL), 1, 1, 1, 1);
    expect_counts(wh, 5, 3);
    g = read_now(wh);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.id[0], "a");
    assert_int_equal(g.from[0], NA_TIME_FIRST);
    assert_int_equal(g.checked[0], T3);
    assert_string_equal(g.id[1], "b");
    assert_string_equal(g.label[1], "B2");
    assert_int_equal(g.from[1], T3);
    assert_string_equal(g.id[2], "d");
    assert_int_equal(g.from[2], T3); /* seen absent before: valid from this observation */
    g = history(wh, "c");
    assert_int_equal(g.n, 1);
    assert_int_equal(g.to[0], T3);
    assert_false(g.current[0]);
    assert_int_equal(g.checked[0], T2); /* the last observation that saw it */

    /* History of b, oldest first. */
    g = history(wh, "b");
    assert_int_equal(g.n, 2);
    assert_string_equal(g.label[0], "B");
    assert_int_equal(g.from[0], NA_TIME_FIRST);
    assert_int_equal(g.to[0], T3);
    assert_false(g.current[0]);
    assert_string_equal(g.label[1], "B2");
    assert_int_equal(g.from[1], T3);
    assert_int_equal(g.to[1], NA_TIME_OPEN);
    assert_true(g.current[1]);

    /* Replay of the newest observation changes nothing. */
    char before[2048], after[2048];
    const char *dump = "SELECT id || ' ' || coalesce(label, '') || ' ' || meta_valid_from ||"
                       " ' ' || meta_valid_to || ' ' || meta_last_checked || ' ' ||"
                       " CAST(meta_is_current AS TEXT) FROM nodes ORDER BY id, meta_valid_from";
    wt_raw(c, dump, before, sizeof(before));
    expect_stats(observe(wh, m, 3, T3, NA_WH_FULL), 3, 0, 0, 0);
    wt_raw(c, dump, after, sizeof(after));
    assert_string_equal(before, after);
    expect_raw(c, "SELECT count(*) FROM observations WHERE table_name = 'nodes'", "3");

    /* An older observation is refused, nothing written. */
    WT_EXPECT(na_wh_observe(wh, NA_WH_NODES, NULL, 0, T2, NA_WH_FULL, NULL, &err), NA_EINVAL,
              &err);
    wt_raw(c, dump, after, sizeof(after));
    assert_string_equal(before, after);

    /* Duplicate ids: refused, nothing written (the change of a is not applied either). */
    node_in dup[3];
    na_wh_row rows[3];
    fill(&dup[0], "a", "A-changed", 65001, 50.1);
    fill(&dup[1], "e", "E", 1, 1.0);
    fill(&dup[2], "e", "E", 1, 1.0);
    rows_of(dup, 3, rows);
    WT_EXPECT(na_wh_observe(wh, NA_WH_NODES, rows, 3, T4, NA_WH_FULL, NULL, &err), NA_EINVAL,
              &err);
    wt_raw(c, dump, after, sizeof(after));
    assert_string_equal(before, after);
    WT_EXPECT(na_wh_last_observation(wh, NA_WH_NODES, &last, &err), 0, &err);
    assert_int_equal(last, T3);

    /* Partial upsert: e added, b changed, a and d left alone. */
    node_in p[2];
    fill(&p[0], "e", "E", 1, 1.0);
    fill(&p[1], "b", "B3", 65002, 50.2);
    expect_stats(observe(wh, p, 2, T4, NA_WH_PARTIAL), 0, 1, 1, 0);
    expect_counts(wh, 7, 4);
    g = read_now(wh);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.id[0], "a");
    assert_int_equal(g.checked[0], T3); /* not seen by the partial observation */
    assert_string_equal(g.id[3], "e");
    assert_int_equal(g.from[3], T4);
    assert_int_equal(g.checked[3], T4);

    /* A partial with an unchanged row touches only that row. */
    node_in p2[1];
    fill(&p2[0], "d", "D", 65004, 50.4);
    expect_stats(observe(wh, p2, 1, T5, NA_WH_PARTIAL), 1, 0, 0, 0);
    g = read_now(wh);
    assert_int_equal(g.checked[0], T3);
    assert_string_equal(g.id[2], "d");
    assert_int_equal(g.checked[2], T5);
    expect_counts(wh, 7, 4);

    /* close_item */
    WT_EXPECT(na_wh_close_item(wh, NA_WH_NODES, "d", T5 + 1000, &err), 0, &err);
    WT_EXPECT(na_wh_close_item(wh, NA_WH_NODES, "d", T5 + 2000, &err), NA_ENOTFOUND, &err);
    WT_EXPECT(na_wh_close_item(wh, NA_WH_NODES, "nope", T5 + 2000, &err), NA_ENOTFOUND, &err);
    expect_counts(wh, 7, 3);
    g = history(wh, "d");
    assert_int_equal(g.n, 1);
    assert_int_equal(g.to[0], T5 + 1000);
    assert_false(g.current[0]);
    /* The cache knows d is gone: a full observation without d closes nothing more. */
    node_in f[3];
    fill(&f[0], "a", "A", 65001, 50.1);
    fill(&f[1], "b", "B3", 65002, 50.2);
    fill(&f[2], "e", "E", 1, 1.0);
    expect_stats(observe(wh, f, 3, T5 + 5000, NA_WH_FULL), 3, 0, 0, 0);
    na_wh_close(wh);
}

static void test_nan_is_null(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    node_in n[1];

    fill(&n[0], "a", "A", 65001, NAN);
    observe(wh, n, 1, T1, NA_WH_FULL);
    expect_raw(c, "SELECT CASE WHEN latitude IS NULL THEN 'null' ELSE 'value' END FROM nodes",
               "null");
    got g = read_now(wh);
    assert_true(g.lat_null[0]);
    /* NULL and NaN are the same "unknown": no change. */
    n[0].v[4] = (na_wh_value){.type = NA_WH_NULL};
    expect_stats(observe(wh, n, 1, T2, NA_WH_FULL), 1, 0, 0, 0);
    /* An INT in a REAL column equals the same REAL. */
    n[0].v[5] = (na_wh_value){.type = NA_WH_INT, .v.i = 4};
    expect_stats(observe(wh, n, 1, T3, NA_WH_FULL), 0, 1, 0, 0);
    n[0].v[5] = (na_wh_value){.type = NA_WH_REAL, .v.r = 4.0};
    expect_stats(observe(wh, n, 1, T4, NA_WH_FULL), 1, 0, 0, 0);
    /* A TEXT value in an INT column is refused. */
    na_wh_row r;
    na_error err;
    n[0].v[3] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "65001"};
    rows_of(n, 1, &r);
    WT_EXPECT(na_wh_observe(wh, NA_WH_NODES, &r, 1, T5, NA_WH_FULL, NULL, &err), NA_EINVAL,
              &err);
    na_wh_close(wh);
}

/* A failure inside the transaction rolls everything back and the cache is reloaded. */
static void test_rollback_reloads_cache(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    na_error err;
    node_in n[3];
    na_wh_row rows[3];
    char buf[256];

    fill(&n[0], "a", "A", 1, 1.0);
    fill(&n[1], "b", "B", 2, 2.0);
    observe(wh, n, 2, T1, NA_WH_FULL);
    /* A trigger that refuses id 'boom' fails the observation after b's new version is in. */
    if (c->backend == WT_SQLITE) {
        wt_raw(c, "CREATE TRIGGER boom BEFORE INSERT ON nodes WHEN NEW.id = 'boom'"
                  " BEGIN SELECT RAISE(ABORT, 'boom refused'); END", buf, sizeof(buf));
    } else {
        wt_raw(c, "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                  " IF NEW.id = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF;"
                  " RETURN NEW; END $$", buf, sizeof(buf));
        wt_raw(c, "CREATE TRIGGER boom BEFORE INSERT ON nodes FOR EACH ROW EXECUTE FUNCTION"
                  " boom()", buf, sizeof(buf));
    }
    fill(&n[1], "b", "B-new", 2, 2.0);
    fill(&n[2], "boom", "X", 3, 3.0);
    rows_of(n, 3, rows);
    int rc = na_wh_observe(wh, NA_WH_NODES, rows, 3, T2, NA_WH_FULL, NULL, &err);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err.message, "boom refused"));
    expect_counts(wh, 2, 2);
    expect_raw(c, "SELECT label FROM nodes WHERE meta_is_current = TRUE ORDER BY id", "A|B");
    /* The failed attempt is not remembered: b is still a change, at T2. */
    expect_stats(observe(wh, n, 2, T2, NA_WH_FULL), 1, 1, 0, 0);
    expect_counts(wh, 3, 2);
    na_wh_close(wh);
}

static void test_reopen(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    na_error err;
    node_in n[2];

    assert_int_equal(na_wh_schema_version(wh), 2);
    assert_string_equal(na_wh_backend(wh), c->backend == WT_SQLITE ? "sqlite" : "postgresql");
    fill(&n[0], "a", "A", 1, 1.0);
    fill(&n[1], "b", "B", 2, 2.0);
    observe(wh, n, 2, T1, NA_WH_FULL);
    fill(&n[1], "b", "B2", 2, 2.0);
    observe(wh, n, 2, T2, NA_WH_FULL);
    na_wh_close(wh);

    wh = wt_open(c);
    assert_int_equal(na_wh_schema_version(wh), 2);
    expect_raw(c, "SELECT CAST(count(*) AS TEXT) || ':' || CAST(max(version) AS TEXT)"
                  " FROM schema_migrations", "2:2");
    /* The cache comes back from the database: same rows are unchanged, older refused. */
    expect_stats(observe(wh, n, 2, T3, NA_WH_FULL), 2, 0, 0, 0);
    na_wh_row rows[2];
    rows_of(n, 2, rows);
    WT_EXPECT(na_wh_observe(wh, NA_WH_NODES, rows, 2, T2, NA_WH_FULL, NULL, &err), NA_EINVAL,
              &err);
    fill(&n[0], "a", "A2", 1, 1.0);
    expect_stats(observe(wh, n, 1, T4, NA_WH_FULL), 0, 1, 0, 1);
    expect_counts(wh, 4, 1);
    na_wh_close(wh);
}

static int first_from_cb(const na_wh_version *v, void *ud)
{
    na_time_ms *first = ud;

    if (*first == -2) /* oldest first: keep the first version's */
        *first = v->valid_from;
    return 0;
}

static void test_other_tables(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    na_error err;

    for (int t = 0; t < NA_WH_TABLE_COUNT; t++) {
        size_t nc;
        const na_wh_column *cols = na_wh_table_columns((na_wh_table)t, &nc);
        na_wh_value v[16];
        na_wh_row r = {"x1", v};
        na_wh_observe_stats st;
        assert_non_null(cols);
        assert_true(nc <= 16);
        for (size_t i = 0; i < nc; i++) {
            v[i].type = cols[i].type;
            if (cols[i].type == NA_WH_TEXT)
                v[i].v.s = cols[i].name;
            else if (cols[i].type == NA_WH_INT)
                v[i].v.i = (int64_t)i * 1000000007LL;
            else
                v[i].v.r = (double)i + 0.1;
        }
        WT_EXPECT(na_wh_observe(wh, (na_wh_table)t, &r, 1, T1, NA_WH_FULL, &st, &err), 0, &err);
        assert_int_equal(st.added, 1);
        WT_EXPECT(na_wh_observe(wh, (na_wh_table)t, &r, 1, T2, NA_WH_FULL, &st, &err), 0, &err);
        if (st.unchanged != 1)
            fail_msg("table %s: values did not round-trip", na_wh_table_name((na_wh_table)t));
        /* Observed state opens at the sentinel; alerts and anomalies begin when written. */
        {
            na_time_ms want = (t == NA_WH_ALERTS || t == NA_WH_ANOMALIES) ? T1 : NA_TIME_FIRST;
            na_time_ms first_from = -2;
            WT_EXPECT(na_wh_read_history(wh, (na_wh_table)t, "x1", first_from_cb, &first_from, &err), 0,
                      &err);
            if (first_from != want)
                fail_msg("table %s: first version valid from %lld, expected %lld",
                         na_wh_table_name((na_wh_table)t), (long long)first_from,
                         (long long)want);
        }
    }
    na_wh_close(wh);
}

/* One config row "k" = value, as a full observation of the config table. */
static int observe_config(na_warehouse *wh, const char *value, na_time_ms at, na_error *err)
{
    na_wh_value v = {.type = NA_WH_TEXT, .v.s = value};
    na_wh_row r = {"k", &v};
    return na_wh_observe(wh, NA_WH_CONFIG, &r, 1, at, NA_WH_FULL, NULL, err);
}

static size_t count_config(na_warehouse *wh)
{
    int64_t total = 0, current = 0;
    na_error err;
    WT_EXPECT(na_wh_count(wh, NA_WH_CONFIG, &total, &current, &err), 0, &err);
    return (size_t)total;
}

/* Observations of several tables grouped with na_wh_begin / na_wh_commit land together or not
 * at all. */
static void test_grouped_transaction(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    node_in n[2], dup[2];
    na_error err;

    fill(&n[0], "a", "A", 1, 1.0);
    fill(&n[1], "b", "B", 2, 2.0);
    /* Rolled back: neither table holds anything, and the caches agree. */
    WT_EXPECT(na_wh_begin(wh, &err), 0, &err);
    expect_stats(observe(wh, n, 2, T1, NA_WH_FULL), 0, 0, 2, 0);
    WT_EXPECT(observe_config(wh, "v1", T1, &err), 0, &err);
    na_wh_rollback(wh);
    assert_int_equal(read_now(wh).n, 0);
    assert_int_equal(count_config(wh), 0);

    /* Committed: both. */
    WT_EXPECT(na_wh_begin(wh, &err), 0, &err);
    expect_stats(observe(wh, n, 2, T1, NA_WH_FULL), 0, 0, 2, 0);
    WT_EXPECT(observe_config(wh, "v1", T1, &err), 0, &err);
    WT_EXPECT(na_wh_commit(wh, &err), 0, &err);
    assert_int_equal(read_now(wh).n, 2);
    assert_int_equal(count_config(wh), 1);

    /* A failing write inside (duplicate ids) takes the earlier one of the group with it. */
    fill(&dup[0], "c", "C", 3, 3.0);
    fill(&dup[1], "c", "C", 3, 3.0);
    WT_EXPECT(na_wh_begin(wh, &err), 0, &err);
    WT_EXPECT(observe_config(wh, "v2", T2, &err), 0, &err);
    {
        na_wh_row r[2];
        rows_of(dup, 2, r);
        WT_EXPECT(na_wh_observe(wh, NA_WH_NODES, r, 2, T2, NA_WH_FULL, NULL, &err), NA_EINVAL,
                  &err);
    }
    /* Duplicate ids are refused before anything is written; the group is still usable. */
    WT_EXPECT(na_wh_commit(wh, &err), 0, &err);
    assert_int_equal(count_config(wh), 2);

    /* An older observation inside a group is refused too; rolling the group back discards
     * what it had written. */
    WT_EXPECT(na_wh_begin(wh, &err), 0, &err);
    WT_EXPECT(observe_config(wh, "v3", T3, &err), 0, &err);
    WT_EXPECT(observe_config(wh, "v0", T1, &err), NA_EINVAL, &err);
    na_wh_rollback(wh);
    assert_int_equal(count_config(wh), 2);
    {
        got g = read_now(wh);
        assert_int_equal(g.n, 2);
    }
    na_wh_close(wh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WT_TESTS(test_sentinels_and_seed_query),
        WT_TESTS(test_observation_rules),
        WT_TESTS(test_nan_is_null),
        WT_TESTS(test_rollback_reloads_cache),
        WT_TESTS(test_reopen),
        WT_TESTS(test_other_tables),
        WT_TESTS(test_grouped_transaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
