/*
 * test_warehouse_metrics.c: metric samples (append, filtered and limited reads), retention
 * (downsampling into count/min/max/mean buckets, merging into an existing bucket, deleting old
 * buckets, topology history untouched) and operator feedback.
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

#define T0 ((na_time_ms)1772971200000LL) /* 2026-03-08 12:00:00, a multiple of one minute */
#define MIN 60000

typedef struct pts {
    int n;
    char desc[40][96];
} pts;

static int keep_point(const na_wh_metric_point *p, void *ud)
{
    pts *s = ud;
    assert_true(s->n < 40);
    snprintf(s->desc[s->n++], 96, "%s/%s@%lld=%g n%lld [%g,%g] s%lld", p->sample.node_id,
             p->sample.name, (long long)((p->sample.at - T0) / 1000), p->sample.value,
             (long long)p->count, p->min, p->max, (long long)p->step_ms);
    return 0;
}

static pts read_pts(na_warehouse *wh, const char *node, const char *name, na_time_ms since,
                    na_time_ms until, size_t limit)
{
    pts s = {0};
    na_error err;
    WT_EXPECT(na_wh_metrics_read(wh, node, name, since, until, limit, keep_point, &s, &err), 0,
              &err);
    return s;
}

static void expect_pts(const pts *s, const char *const *want, int n)
{
    for (int i = 0; i < s->n && i < n; i++)
        if (strcmp(s->desc[i], want[i]) != 0)
            fail_msg("point %d: got '%s', want '%s'", i, s->desc[i], want[i]);
    if (s->n != n)
        fail_msg("got %d points, want %d (first extra/missing: '%s')", s->n, n,
                 s->n > n ? s->desc[n] : want[s->n]);
}

static void test_append_and_read(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    na_error err;
    na_wh_sample s[] = {
        {"r2", "cpu", T0 + 2000, 30}, {"r1", "cpu", T0 + 1000, 10}, {"r1", "cpu", T0 + 3000, 12},
        {"r1", "mem", T0 + 1000, 70}, {NULL, "global_efficiency", T0 + 1000, 0.5},
        {"r1", "cpu", T0 + 5000, NAN}};

    WT_EXPECT(na_wh_metrics_append(wh, s, 6, &err), 0, &err);
    pts p = read_pts(wh, NULL, NULL, T0, T0 + 10000, 0);
    const char *all[] = {"/global_efficiency@1=0.5 n1 [0.5,0.5] s0", "r1/cpu@1=10 n1 [10,10] s0",
                         "r1/cpu@3=12 n1 [12,12] s0", "r1/cpu@5=nan n1 [nan,nan] s0",
                         "r1/mem@1=70 n1 [70,70] s0", "r2/cpu@2=30 n1 [30,30] s0"};
    expect_pts(&p, all, 6);
    p = read_pts(wh, "r1", "cpu", T0 + 1000, T0 + 3000, 0); /* until is exclusive */
    expect_pts(&p, (const char *[]){"r1/cpu@1=10 n1 [10,10] s0"}, 1);
    p = read_pts(wh, NULL, "cpu", T0, T0 + 10000, 2);
    expect_pts(&p, (const char *[]){"r1/cpu@1=10 n1 [10,10] s0", "r1/cpu@3=12 n1 [12,12] s0"},
               2);
    p = read_pts(wh, "", NULL, T0, T0 + 10000, 0);
    expect_pts(&p, (const char *[]){"/global_efficiency@1=0.5 n1 [0.5,0.5] s0"}, 1);
    na_wh_sample bad = {"r1", NULL, T0, 1};
    WT_EXPECT(na_wh_metrics_append(wh, &bad, 1, &err), NA_EINVAL, &err);
    na_wh_close(wh);
}

static void test_retention(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    na_error err;
    na_wh_retention_stats rs;
    char buf[256];

    /* Topology history, to check retention never touches it. */
    na_wh_value nv[9] = {{.type = NA_WH_TEXT, .v.s = "R1"}};
    na_wh_row node = {"r1", nv};
    WT_EXPECT(na_wh_observe(wh, NA_WH_NODES, &node, 1, T0, NA_WH_FULL, NULL, &err), 0, &err);
    char topo_before[512], topo_after[512];
    const char *dump = "SELECT id || meta_valid_from || meta_valid_to || meta_last_checked"
                       " FROM nodes";
    wt_raw(c, dump, topo_before, sizeof(topo_before));

    /* Minute 0: 1, 5, 3 (cpu r1); minute 1: 10, 20; minute 2: 7 (kept raw); r2 minute 0: 4. */
    na_wh_sample s[] = {
        {"r1", "cpu", T0 + 1000, 1}, {"r1", "cpu", T0 + 20000, 5}, {"r1", "cpu", T0 + 59999, 3},
        {"r1", "cpu", T0 + MIN, 10}, {"r1", "cpu", T0 + MIN + 30000, 20},
        {"r1", "cpu", T0 + 2 * MIN + 1000, 7}, {"r2", "cpu", T0 + 5000, 4},
        {"r2", "cpu", T0 + 6000, NAN}};
    WT_EXPECT(na_wh_metrics_append(wh, s, 8, &err), 0, &err);
    /* now = T0 + 3 min, downsample after 1 min: everything before T0 + 2 min folds. */
    na_wh_retention pol = {.downsample_after_ms = MIN, .step_ms = MIN, .keep_ms = 0};
    WT_EXPECT(na_wh_metrics_apply_retention(wh, T0 + 3 * MIN, &pol, &rs, &err), 0, &err);
    assert_int_equal(rs.raw_folded, 6);
    assert_int_equal(rs.buckets_written, 3);
    assert_int_equal(rs.buckets_deleted, 0);
    pts p = read_pts(wh, NULL, NULL, T0, T0 + 10 * MIN, 0);
    const char *want[] = {"r1/cpu@0=3 n3 [1,5] s60000", "r1/cpu@60=15 n2 [10,20] s60000",
                          "r1/cpu@121=7 n1 [7,7] s0", "r2/cpu@0=4 n1 [4,4] s60000"};
    expect_pts(&p, want, 4);
    wt_raw(c, "SELECT count(*) FROM metrics", buf, sizeof(buf));
    assert_string_equal(buf, "1");

    /* A late sample for minute 0 merges into the existing bucket. */
    na_wh_sample late = {"r1", "cpu", T0 + 30000, 11};
    WT_EXPECT(na_wh_metrics_append(wh, &late, 1, &err), 0, &err);
    WT_EXPECT(na_wh_metrics_apply_retention(wh, T0 + 3 * MIN, &pol, &rs, &err), 0, &err);
    assert_int_equal(rs.raw_folded, 1);
    assert_int_equal(rs.buckets_written, 1);
    p = read_pts(wh, "r1", "cpu", T0, T0 + MIN, 0);
    expect_pts(&p, (const char *[]){"r1/cpu@0=5 n4 [1,11] s60000"}, 1);

    /* Keep 3.5 minutes at now = T0 + 4.5 min: buckets of minute 0 (r1, r2) go. */
    pol.keep_ms = 3 * MIN + 30000;
    WT_EXPECT(na_wh_metrics_apply_retention(wh, T0 + 4 * MIN + 30000, &pol, &rs, &err), 0, &err);
    assert_int_equal(rs.buckets_deleted, 2);
    p = read_pts(wh, NULL, NULL, T0, T0 + 10 * MIN, 0);
    const char *want2[] = {"r1/cpu@60=15 n2 [10,20] s60000", "r1/cpu@120=7 n1 [7,7] s60000"};
    expect_pts(&p, want2, 2);

    wt_raw(c, dump, topo_after, sizeof(topo_after));
    assert_string_equal(topo_before, topo_after);
    int64_t total;
    WT_EXPECT(na_wh_count(wh, NA_WH_NODES, &total, NULL, &err), 0, &err);
    assert_int_equal(total, 1);
    na_wh_close(wh);
}

typedef struct fbs {
    int n;
    char d[8][128];
} fbs;

static int keep_fb(const na_wh_feedback *fb, void *ud)
{
    fbs *s = ud;
    assert_true(s->n < 8);
    snprintf(s->d[s->n++], 128, "%s:%s:%d:%s:%s:%lld", fb->feedback_id, fb->alert_id,
             fb->is_false_positive, fb->notes ? fb->notes : "-", fb->author ? fb->author : "-",
             (long long)((fb->created_at - T0) / 1000));
    return 0;
}

static void test_feedback(void **state)
{
    wt_ctx *c = wt_get(state);
    na_warehouse *wh = wt_open(c);
    na_error err;
    na_wh_feedback f[] = {{"f1", "al1", true, "noise", "ops", T0 + 1000},
                          {"f2", "al2", false, NULL, NULL, T0 + 2000},
                          {"f3", "al1", false, "real", "bob", T0 + 3000}};

    for (int i = 0; i < 3; i++)
        WT_EXPECT(na_wh_feedback_add(wh, &f[i], &err), 0, &err);
    WT_EXPECT(na_wh_feedback_add(wh, &f[0], &err), NA_EINVAL, &err);
    fbs s = {0};
    WT_EXPECT(na_wh_feedback_read(wh, NULL, NA_TIME_NOW, keep_fb, &s, &err), 0, &err);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.d[0], "f1:al1:1:noise:ops:1");
    assert_string_equal(s.d[1], "f2:al2:0:-:-:2");
    assert_string_equal(s.d[2], "f3:al1:0:real:bob:3");
    memset(&s, 0, sizeof(s));
    WT_EXPECT(na_wh_feedback_read(wh, "al1", T0 + 2500, keep_fb, &s, &err), 0, &err);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.d[0], "f1:al1:1:noise:ops:1");
    memset(&s, 0, sizeof(s));
    WT_EXPECT(na_wh_feedback_read(wh, "al1", T0 + 3000, keep_fb, &s, &err), 0, &err);
    assert_int_equal(s.n, 2);
    na_wh_close(wh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        WT_TESTS(test_append_and_read),
        WT_TESTS(test_retention),
        WT_TESTS(test_feedback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
