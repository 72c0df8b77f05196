/*
 * test_detect_importance_outlier.c: the importance-outlier detector (src/detect/
 * importance_outlier.c) on real analyses. The modified z-score is recomputed here from the
 * importance array (median and MAD by hand, with the mean-absolute-deviation fallback), and the
 * detector must flag exactly the nodes at or above the threshold, once per episode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "detect/detect.h"
#include "harness.h"

#define T0 ((na_time_ms)1772971200000LL) /* 2026-03-08T12:00:00.000Z */

static void analyze_kinds(const char *spec, unsigned kinds, na_analysis *a)
{
    na_analysis_opts opts = {.kinds = kinds, .threads = 1, .seed = 1};
    na_topology *t = test_topology_from_edges(spec);
    na_error err;
    char buf[700];

    na_error_clear(&err);
    if (na_analysis_run(t, &opts, a, &err) != 0)
        fail_msg("analysis: %s", na_error_format(&err, buf, sizeof(buf)));
    na_topology_unref(t);
}

static void analyze(const char *spec, na_analysis *a)
{
    analyze_kinds(spec, NA_ANALYSIS_STRUCTURE | NA_ANALYSIS_ROBUSTNESS, a);
}

/* A star hub-l1..hub-l<leaves> and, as a separate component, a ring r1..r<ring>. */
static char *star_and_ring(int leaves, int ring)
{
    size_t cap = 4096, used = 0;
    char *s = malloc(cap);

    assert_non_null(s);
    s[0] = '\0';
    for (int i = 1; i <= leaves; i++)
        used += (size_t)snprintf(s + used, cap - used, "%shub-l%d", used ? "," : "", i);
    for (int i = 1; i <= ring; i++)
        used += (size_t)snprintf(s + used, cap - used, ",r%d-r%d", i, i % ring + 1);
    assert_true(used < cap);
    return s;
}

/* ---- the oracle: written from the definition, not from the detector's code ---------------- */

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b ? 1 : 0;
}

/* Median by sorting a copy: the middle value, or the mean of the two middle ones. */
static double median(const double *x, size_t n)
{
    double *c = malloc(n * sizeof(*c)), m;
    assert_non_null(c);
    memcpy(c, x, n * sizeof(*c));
    qsort(c, n, sizeof(*c), by_value);
    m = (n & 1) ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

typedef struct oracle {
    double med, mad, mean_ad;
    double *z; /* n; NAN when every node is equal */
} oracle;

/* Iglewicz-Hoaglin: z = 0.6745 (x - med) / MAD; MAD 0 -> (x - med) / (1.2533 * meanAD). */
static oracle z_scores(const double *x, size_t n)
{
    oracle o = {0};
    double *dev = malloc(n * sizeof(*dev));

    assert_non_null(dev);
    o.z = malloc(n * sizeof(*o.z));
    assert_non_null(o.z);
    o.med = median(x, n);
    for (size_t i = 0; i < n; i++) {
        dev[i] = fabs(x[i] - o.med);
        o.mean_ad += dev[i] / (double)n;
    }
    o.mad = median(dev, n);
    for (size_t i = 0; i < n; i++) {
        if (o.mad > 0)
            o.z[i] = 0.6745 * (x[i] - o.med) / o.mad;
        else if (o.mean_ad > 0)
            o.z[i] = (x[i] - o.med) / (1.2533 * o.mean_ad);
        else
            o.z[i] = NAN;
    }
    free(dev);
    return o;
}

static void expect_close(double got, double want, const char *what)
{
    if (!(fabs(got - want) <= 1e-9 * fmax(1.0, fabs(want))))
        fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

static void free_anomalies(na__anomaly *an, size_t n)
{
    for (size_t i = 0; i < n; i++)
        na__anomaly_free(&an[i]);
    free(an);
}

/*
 * Runs the detector with an empty previous state and checks it flags exactly the nodes whose
 * oracle z is >= threshold, with the oracle's score. Returns how many were flagged.
 */
static size_t check_against_oracle(const na_analysis *a, double threshold, const oracle *o)
{
    na__outlier_state st = {0};
    na__anomaly *an = NULL;
    size_t n_an = 0, want = 0, n = a->rob.n;

    assert_int_equal(na__detect_importance_outliers(a, threshold, T0, &st, &an, &n_an), 0);
    for (size_t v = 0; v < n; v++)
        want += o->z[v] >= threshold;
    assert_int_equal(n_an, want);
    assert_int_equal(st.n, want);
    for (size_t i = 0; i < n_an; i++) {
        size_t v;
        char what[80];
        assert_int_equal(an[i].n_node_ids, 1);
        assert_int_equal(na_topology_find_node(a->topo, an[i].node_ids[0], &v), 0);
        snprintf(what, sizeof(what), "z of %s", an[i].node_ids[0]);
        expect_close(an[i].score, o->z[v], what);
        assert_true(o->z[v] >= threshold);
        assert_string_equal(st.ids[i], an[i].node_ids[0]);
    }
    free_anomalies(an, n_an);
    na__outlier_state_free(&st);
    return want;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_star_hub_is_outlier(void **state)
{
    char *spec = star_and_ring(20, 6);
    na__outlier_state st = {0};
    na__anomaly *an = NULL;
    size_t n_an = 0, hub;
    na_analysis a;
    oracle o;
    json_t *d;
    (void)state;

    analyze(spec, &a);
    free(spec);
    assert_int_equal(a.rob.n, 27);
    o = z_scores(a.rob.importance, a.rob.n);
    assert_int_equal(na_topology_find_node(a.topo, "hub", &hub), 0);
    /* The 20 leaves share one importance, so the MAD is 0 and the fallback is in play. */
    assert_true(o.mad == 0);
    assert_true(o.mean_ad > 0);
    assert_true(o.z[hub] >= 3.5);

    assert_int_equal(na__detect_importance_outliers(&a, 3.5, T0, &st, &an, &n_an), 0);
    assert_true(n_an >= 1);
    {
        size_t i;
        for (i = 0; i < n_an; i++)
            if (strcmp(an[i].node_ids[0], "hub") == 0)
                break;
        assert_true(i < n_an);
        assert_string_equal(an[i].detector, "importance_outlier");
        assert_int_equal(strlen(an[i].id), 32);
        assert_int_equal(an[i].detected_at, T0);
        assert_true(an[i].score >= 3.5);
        expect_close(an[i].score, o.z[hub], "hub z");
        d = an[i].details;
        expect_close(json_real_value(json_object_get(d, "importance")), a.rob.importance[hub],
                     "details.importance");
        expect_close(json_real_value(json_object_get(d, "median_importance")), o.med,
                     "details.median_importance");
        expect_close(json_real_value(json_object_get(d, "relative_loss")),
                     a.rob.relative_loss[hub], "details.relative_loss");
        expect_close(json_real_value(json_object_get(d, "threshold")), 3.5, "details.threshold");
        assert_int_equal(json_integer_value(json_object_get(d, "topology_version")),
                         (json_int_t)na_topology_version(a.topo));
    }
    free_anomalies(an, n_an);
    assert_true(st.n >= 1);

    /* The same analysis again: the hub is still an outlier, but it is not news. */
    an = (na__anomaly *)&st; /* must be overwritten */
    assert_int_equal(na__detect_importance_outliers(&a, 3.5, T0 + 1000, &st, &an, &n_an), 0);
    assert_int_equal(n_an, 0);
    assert_null(an);
    assert_true(st.n >= 1);

    /* Scores and the flagged set agree with the oracle at several thresholds. */
    assert_true(check_against_oracle(&a, 3.5, &o) >= 1);
    check_against_oracle(&a, 0.5, &o);
    check_against_oracle(&a, 1e6, &o);
    free(o.z);
    na_analysis_free(&a);

    /* The network changes so that nothing stands out: the state empties; when the hub comes
     * back it is reported again. */
    analyze("a-b,b-c,c-d,d-e,e-f,f-a", &a);
    assert_int_equal(na__detect_importance_outliers(&a, 3.5, T0 + 2000, &st, &an, &n_an), 0);
    assert_int_equal(n_an, 0);
    assert_int_equal(st.n, 0);
    na_analysis_free(&a);
    spec = star_and_ring(20, 6);
    analyze(spec, &a);
    free(spec);
    assert_int_equal(na__detect_importance_outliers(&a, 3.5, T0 + 3000, &st, &an, &n_an), 0);
    assert_true(n_an >= 1);
    free_anomalies(an, n_an);
    na_analysis_free(&a);
    na__outlier_state_free(&st);
}

/* A graph whose importances spread out (MAD > 0): the plain modified z-score. */
static void test_z_matches_oracle_with_mad(void **state)
{
    na_analysis a;
    oracle o;
    (void)state;

    /* A spider: legs of different lengths from one centre, plus a triangle on one leg. */
    analyze("c-a1,a1-a2,a2-a3,a3-a4,c-b1,b1-b2,c-d1,d1-d2,d2-d3,d1-d3,c-e1,e1-e2,e2-e3,e3-e4,"
            "e4-e5",
            &a);
    o = z_scores(a.rob.importance, a.rob.n);
    assert_true(o.mad > 0);
    /* Something must be flagged at a low threshold for the comparison to mean anything. */
    assert_true(check_against_oracle(&a, 1.0, &o) >= 1);
    check_against_oracle(&a, 3.5, &o);
    check_against_oracle(&a, 0.0, &o);
    free(o.z);
    na_analysis_free(&a);
}

static void test_equal_nodes_none(void **state)
{
    na__outlier_state st = {0};
    na__anomaly *an = NULL;
    size_t n_an = 7;
    na_analysis a;
    (void)state;

    /* Every node of a cycle is as important as every other. */
    analyze("a-b,b-c,c-d,d-e,e-f,f-g,g-a", &a);
    for (size_t v = 1; v < a.rob.n; v++)
        assert_true(a.rob.importance[v] == a.rob.importance[0]);
    assert_int_equal(na__detect_importance_outliers(&a, 0.0, T0, &st, &an, &n_an), 0);
    assert_int_equal(n_an, 0);
    assert_null(an);
    assert_int_equal(st.n, 0);
    na_analysis_free(&a);

    /* A complete graph K6 too. */
    analyze("a-b,a-c,a-d,a-e,a-f,b-c,b-d,b-e,b-f,c-d,c-e,c-f,d-e,d-f,e-f", &a);
    assert_int_equal(na__detect_importance_outliers(&a, 0.0, T0, &st, &an, &n_an), 0);
    assert_int_equal(n_an, 0);
    na_analysis_free(&a);
    na__outlier_state_free(&st);
}

static void test_small_or_unanalysed_none(void **state)
{
    na__outlier_state st = {0};
    na__anomaly *an = NULL;
    size_t n_an = 7;
    na_analysis a;
    (void)state;

    /* Four nodes: too few for a robust statistic, even with the hub far above. */
    analyze("h-a,h-b,h-c", &a);
    assert_int_equal(a.rob.n, 4);
    assert_int_equal(na__detect_importance_outliers(&a, 0.0, T0, &st, &an, &n_an), 0);
    assert_int_equal(n_an, 0);
    assert_null(an);
    na_analysis_free(&a);

    /* No robustness computed: nothing to judge. */
    {
        char *spec = star_and_ring(20, 6);
        analyze_kinds(spec, NA_ANALYSIS_STRUCTURE, &a);
        free(spec);
    }
    n_an = 7;
    assert_int_equal(na__detect_importance_outliers(&a, 3.5, T0, &st, &an, &n_an), 0);
    assert_int_equal(n_an, 0);
    assert_null(an);
    na_analysis_free(&a);
    na__outlier_state_free(&st);
}

static void expect_json_equal(json_t *got, json_t *want)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
        fail_msg("JSON differs\n got: %s\nwant: %s", g ? g : "(null)", w ? w : "(null)");
    }
}

static void test_row_round_trip(void **state)
{
    char *spec = star_and_ring(20, 6);
    na__outlier_state st = {0};
    na__anomaly *an = NULL;
    size_t n_an = 0, ncols = 0;
    na_analysis a;
    (void)state;

    analyze(spec, &a);
    free(spec);
    assert_int_equal(na__detect_importance_outliers(&a, 0.5, T0 + 42, &st, &an, &n_an), 0);
    assert_true(n_an >= 1);
    (void)na_wh_table_columns(NA_WH_ANOMALIES, &ncols);
    assert_int_equal(ncols, 5);
    for (size_t i = 0; i < n_an; i++) {
        na_wh_value values[5];
        char *scratch = NULL;
        na_wh_version v;
        json_t *want, *got;

        memset(values, 0, sizeof(values));
        assert_int_equal(na__anomaly_row(&an[i], values, &scratch), 0);
        assert_int_equal(values[1].type, NA_WH_REAL);
        assert_true(values[1].v.r == an[i].score);
        memset(&v, 0, sizeof(v));
        v.row.id = an[i].id;
        v.row.values = values;
        v.is_current = true;
        want = na__anomaly_json(&an[i]);
        got = na__anomaly_json_from_row(&v);
        assert_non_null(want);
        assert_non_null(got);
        expect_json_equal(got, want);
        assert_string_equal(json_string_value(json_object_get(got, "detected_at")),
                            "2026-03-08T12:00:00.042Z");
        assert_string_equal(json_string_value(json_array_get(
                                json_object_get(got, "contributing_node_ids"), 0)),
                            an[i].node_ids[0]);
        json_decref(want);
        json_decref(got);
        free(scratch);
    }
    free_anomalies(an, n_an);
    na__outlier_state_free(&st);
    na_analysis_free(&a);
}

/* An anomaly built by another detector may have several nodes and no details. */
static void test_row_round_trip_hand_made(void **state)
{
    char *ids[] = {"x", "y\"z"};
    na__anomaly an;
    na_wh_value values[5];
    char *scratch = NULL;
    na_wh_version v;
    json_t *want, *got;
    (void)state;

    memset(&an, 0, sizeof(an));
    snprintf(an.id, sizeof(an.id), "%s", "00112233445566778899aabbccddeeff");
    snprintf(an.detector, sizeof(an.detector), "%s", "matrix_profile");
    an.score = -0.25;
    an.node_ids = ids;
    an.n_node_ids = 2;
    an.detected_at = T0;
    an.details = NULL;
    assert_int_equal(na__anomaly_row(&an, values, &scratch), 0);
    memset(&v, 0, sizeof(v));
    v.row.id = an.id;
    v.row.values = values;
    want = na__anomaly_json(&an);
    got = na__anomaly_json_from_row(&v);
    expect_json_equal(got, want);
    assert_int_equal(json_array_size(json_object_get(got, "contributing_node_ids")), 2);
    assert_true(json_is_object(json_object_get(got, "details")));
    assert_int_equal(json_object_size(json_object_get(got, "details")), 0);
    json_decref(want);
    json_decref(got);
    free(scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_star_hub_is_outlier),
        cmocka_unit_test(test_z_matches_oracle_with_mad),
        cmocka_unit_test(test_equal_nodes_none),
        cmocka_unit_test(test_small_or_unanalysed_none),
        cmocka_unit_test(test_row_round_trip),
        cmocka_unit_test(test_row_round_trip_hand_made),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
