/*
 * test_warehouse_point_in_time.c: reads as of a time (valid_from <= t < valid_to) across three
 * observations, by id and for the whole table; value types round-trip; a reader handle reads
 * while a writer handle writes (every read sees one whole observation).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "netassure/warehouse.h"
#include "warehouse_test_util.h"

#define T1 ((na_time_ms)1772971200000LL)
#define T2 (T1 + 3600000)
#define T3 (T2 + 3600000)

/* Links: source, target, label, capacity, status, attrs. */
static na_wh_row link_row(na_wh_value *v, const char *id, const char *label, double cap)
{
    v[0] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "n1"};
    v[1] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "n2"};
    v[2] = (na_wh_value){.type = NA_WH_TEXT, .v.s = label};
    v[3] = (na_wh_value){.type = NA_WH_REAL, .v.r = cap};
    v[4] = (na_wh_value){.type = NA_WH_TEXT, .v.s = "up"};
    v[5] = (na_wh_value){.type = NA_WH_NULL};
    return (na_wh_row){id, v};
}

/* "id=label,id=label" of what a read returns, in order. */
typedef struct state_buf {
    char s[512];
} state_buf;

static int append_state(const na_wh_version *v, void *ud)
{
    state_buf *b = ud;
    size_t n = strlen(b->s);
    snprintf(b->s + n, sizeof(b->s) - n, "%s%s=%s", n ? "," : "", v->row.id,
             v->row.values[2].type == NA_WH_TEXT ? v->row.values[2].v.s : "NULL");
    assert_true(v->valid_from <= v->valid_to);
    return 0;
}

static void expect_state(na_warehouse *wh, na_time_ms at, const char *id, const char *want)
{
    state_buf b = {{0}};
    na_error err;
    WT_EXPECT(na_wh_read_at(wh, NA_WH_LINKS, at, id, append_state, &b, &err), 0, &err);
    if (strcmp(b.s, want) != 0) {
        char ts[40];
        fail_msg("as of %s (id %s): got '%s', want '%s'",
                 at == NA_TIME_NOW ? "now" : na_time_format(at, ts, sizeof(ts)),
                 id ? id : "*", b.s, want);
    }
}

static void test_three_observations(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    na_wh_value v[4][6];
    na_wh_row r[4];
    na_error err;

    /* 1: l1=a l2=b l3=c   2: l1=a l2=B (l3 gone) l4=d   3: l1=A l2=B l4=d l3=c (back) */
    r[0] = link_row(v[0], "l1", "a", 1);
    r[1] = link_row(v[1], "l2", "b", 1);
    r[2] = link_row(v[2], "l3", "c", 1);
    WT_EXPECT(na_wh_observe(wh, NA_WH_LINKS, r, 3, T1, NA_WH_FULL, NULL, &err), 0, &err);
    r[1] = link_row(v[1], "l2", "B", 1);
    r[2] = link_row(v[2], "l4", "d", 1);
    WT_EXPECT(na_wh_observe(wh, NA_WH_LINKS, r, 3, T2, NA_WH_FULL, NULL, &err), 0, &err);
    r[0] = link_row(v[0], "l1", "A", 1);
    r[3] = link_row(v[3], "l3", "c", 1);
    WT_EXPECT(na_wh_observe(wh, NA_WH_LINKS, r, 4, T3, NA_WH_FULL, NULL, &err), 0, &err);

    const char *s1 = "l1=a,l2=b,l3=c", *s2 = "l1=a,l2=B,l4=d", *s3 = "l1=A,l2=B,l3=c,l4=d";
    /* The first observation's items are valid since 1970. */
    expect_state(wh, NA_TIME_FIRST, NULL, s1);
    expect_state(wh, T1 - 1, NULL, s1);
    expect_state(wh, T1, NULL, s1);
    expect_state(wh, T2 - 1, NULL, s1);
    expect_state(wh, T2, NULL, s2);
    expect_state(wh, T2 + 1, NULL, s2);
    expect_state(wh, T3 - 1, NULL, s2);
    expect_state(wh, T3, NULL, s3);
    expect_state(wh, NA_TIME_OPEN - 1, NULL, s3);
    expect_state(wh, NA_TIME_OPEN, NULL, ""); /* valid_to is exclusive */
    expect_state(wh, NA_TIME_NOW, NULL, s3);
    /* By id. */
    expect_state(wh, T1, "l3", "l3=c");
    expect_state(wh, T2, "l3", "");
    expect_state(wh, T3, "l3", "l3=c");
    expect_state(wh, T1, "l4", "");
    expect_state(wh, T2 + 5, "l2", "l2=B");
    expect_state(wh, NA_TIME_NOW, "l1", "l1=A");
    expect_state(wh, NA_TIME_NOW, "zz", "");
    WT_EXPECT(na_wh_read_at(wh, NA_WH_LINKS, -5, NULL, append_state, NULL, &err), NA_EINVAL,
              &err);
    na_wh_close(wh);
}

typedef struct typed {
    int n;
    na_wh_type t[10];
    int64_t i[10];
    double r[10];
    char s[10][32];
} typed;

static int keep_types(const na_wh_version *v, void *ud)
{
    typed *t = ud;
    for (int i = 0; i < 9; i++) {
        t->t[i] = v->row.values[i].type;
        if (t->t[i] == NA_WH_INT)
            t->i[i] = v->row.values[i].v.i;
        else if (t->t[i] == NA_WH_REAL)
            t->r[i] = v->row.values[i].v.r;
        else if (t->t[i] == NA_WH_TEXT)
            snprintf(t->s[i], 32, "%s", v->row.values[i].v.s);
    }
    t->n++;
    return 0;
}

static void test_types_round_trip(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    na_error err;
    na_wh_value v[9] = {
        {.type = NA_WH_TEXT, .v.s = "R\xc3\xa9seau 'q' \"x\""}, {.type = NA_WH_NULL},
        {.type = NA_WH_TEXT, .v.s = ""}, {.type = NA_WH_INT, .v.i = 4200000000LL},
        {.type = NA_WH_REAL, .v.r = 0.1}, {.type = NA_WH_REAL, .v.r = -179.123456789012345},
        {.type = NA_WH_REAL, .v.r = 1e300}, {.type = NA_WH_TEXT, .v.s = "up"},
        {.type = NA_WH_TEXT, .v.s = "{}"}};
    na_wh_row r = {"n'1;--", v};
    typed t = {0};

    WT_EXPECT(na_wh_observe(wh, NA_WH_NODES, &r, 1, T1, NA_WH_FULL, NULL, &err), 0, &err);
    WT_EXPECT(na_wh_read_at(wh, NA_WH_NODES, T1, "n'1;--", keep_types, &t, &err), 0, &err);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.t[0], NA_WH_TEXT);
    assert_string_equal(t.s[0], "R\xc3\xa9seau 'q' \"x\"");
    assert_int_equal(t.t[1], NA_WH_NULL);
    assert_int_equal(t.t[2], NA_WH_TEXT);
    assert_string_equal(t.s[2], "");
    assert_int_equal(t.t[3], NA_WH_INT);
    assert_int_equal(t.i[3], 4200000000LL);
    assert_int_equal(t.t[4], NA_WH_REAL);
    assert_true(t.r[4] == 0.1);
    assert_true(t.r[5] == -179.123456789012345);
    assert_true(t.r[6] == 1e300);
    na_wh_close(wh);
}

/* ---- a reader handle while a writer handle writes ---- */

#define N_NODES 200
#define N_GENERATIONS 40

typedef struct writer_arg {
    const char *url;
    int rc;
    char msg[512];
} writer_arg;

static void *writer(void *p)
{
    writer_arg *a = p;
    na_warehouse *wh = NULL;
    na_error err;
    static na_wh_value v[N_NODES][9];
    static na_wh_row rows[N_NODES];
    static char ids[N_NODES][16], labels[16];

    na_error_clear(&err);
    if ((a->rc = na_wh_open(a->url, &wh, &err)))
        goto out;
    for (int g = 0; g < N_GENERATIONS && a->rc == 0; g++) {
        snprintf(labels, sizeof(labels), "gen%d", g);
        for (int i = 0; i < N_NODES; i++) {
            snprintf(ids[i], sizeof(ids[i]), "n%03d", i);
            for (int k = 0; k < 9; k++)
                v[i][k].type = NA_WH_NULL;
            v[i][0] = (na_wh_value){.type = NA_WH_TEXT, .v.s = labels};
            rows[i] = (na_wh_row){ids[i], v[i]};
        }
        a->rc = na_wh_observe(wh, NA_WH_NODES, rows, N_NODES, T1 + g * 1000, NA_WH_FULL, NULL,
                              &err);
    }
out:
    snprintf(a->msg, sizeof(a->msg), "%s", err.message);
    na_wh_close(wh);
    return NULL;
}

typedef struct snap {
    int n;
    char label[16];
    bool mixed;
} snap;

static int check_snap(const na_wh_version *v, void *ud)
{
    snap *s = ud;
    const char *l = v->row.values[0].v.s;
    if (s->n == 0)
        snprintf(s->label, sizeof(s->label), "%s", l);
    else if (strcmp(s->label, l) != 0)
        s->mixed = true;
    s->n++;
    return 0;
}

static void test_reader_while_writer_writes(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *setup = wt_open(c); /* creates the schema before either thread starts */
    na_warehouse *reader;
    writer_arg a = {c->url, 0, ""};
    pthread_t th;
    na_error err;
    int reads = 0, full = 0;

    reader = wt_open(c);
    na_wh_close(setup);
    assert_int_equal(pthread_create(&th, NULL, writer, &a), 0);
    for (;;) {
        snap s = {0};
        na_time_ms last;
        int done = na_wh_last_observation(reader, NA_WH_NODES, &last, &err) == 0 &&
                   last == T1 + (N_GENERATIONS - 1) * 1000;
        WT_EXPECT(na_wh_read_at(reader, NA_WH_NODES, NA_TIME_NOW, NULL, check_snap, &s, &err), 0,
                  &err);
        reads++;
        /* Each read sees one committed observation: none or all nodes, one generation. */
        if (s.n != 0 && s.n != N_NODES)
            fail_msg("read %d saw %d nodes", reads, s.n);
        if (s.mixed)
            fail_msg("read %d saw two generations", reads);
        full += s.n == N_NODES;
        if (done)
            break;
    }
    pthread_join(th, NULL);
    if (a.rc)
        fail_msg("writer: %d %s", a.rc, a.msg);
    assert_true(full > 0);
    int64_t total, cur;
    WT_EXPECT(na_wh_count(reader, NA_WH_NODES, &total, &cur, &err), 0, &err);
    assert_int_equal(total, (int64_t)N_NODES * N_GENERATIONS);
    assert_int_equal(cur, N_NODES);
    na_wh_close(reader);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WT_TESTS(test_three_observations),
        WT_TESTS(test_types_round_trip),
        WT_TESTS(test_reader_while_writer_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
