/*
 * test_cascade.c: Motter-Lai cascades checked step by step, by hand on small graphs and
 * against an independent simulation (a Brandes betweenness written here) on a random one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netassure/cascade.h"
#include "harness.h"

static void expect_step(const na_cascade_result *r, size_t step, const uint32_t *want,
                        size_t n_want, size_t giant)
{
    const na_cascade_step *s;

    if (step >= r->n_steps)
        fail_msg("step %zu missing (%zu steps)", step, r->n_steps);
    s = &r->steps[step];
    if (s->n_failed != n_want)
        fail_msg("step %zu: %zu failed, want %zu", step, s->n_failed, n_want);
    for (size_t i = 0; i < n_want; i++)
        if (s->failed[i] != want[i])
            fail_msg("step %zu: failed[%zu] = %u, want %u", step, i, (unsigned)s->failed[i],
                     (unsigned)want[i]);
    if (s->giant != giant)
        fail_msg("step %zu: giant %zu, want %zu", step, s->giant, giant);
}

static void fail_vertex(na_failure_set *fs, const na_graph *g, const char *spec)
{
    assert_int_equal(na_failure_set_add(fs, g, spec, NULL), 0);
}

/* Star: hub 0 with 5 leaves. Leaves carry no load before or after, so nothing propagates. */
static void test_star_hub_removal(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(6, "0-1,0-2,0-3,0-4,0-5");
    na_failure_set fs = {0};
    na_cascade_result r;
    const uint32_t hub[] = {0};

    fail_vertex(&fs, g, "0");
    assert_int_equal(na_cascade_run(g, &fs, 0.01, 0, &r, NULL), 0);
    assert_int_equal(r.n_steps, 1);
    expect_step(&r, 0, hub, 1, 1);
    assert_int_equal(r.total_failed, 1);
    assert_int_equal(r.giant_before, 6);
    assert_int_equal(r.giant_after, 1);
    assert_true(fabs(r.giant_fraction - 1.0 / 6.0) < 1e-15);
    assert_true(r.alpha == 0.01);
    na_cascade_result_free(&r);
    na_cascade_result_free(&r);
    na_failure_set_free(&fs);
    na_graph_free(g);
}

/*
 * 7 vertices: 4-cycle 5-1-3-2-5, path 5-4-6-3, leaf 0 on 5.
 * Intact loads (betweenness): 0:0 1:1 2:1 3:2.5 4:2 5:7.5 6:1; alpha = 0.1.
 * Fail 1: 2 now carries 3-5 and 0-3 alone -> load 2 > 1.1: step 1 fails {2}.
 * Left: path 0-5-4-6-3 with loads 5:3 (cap 8.25), 4:4 (cap 2.2), 6:3 (cap 1.1), 3:0:
 * step 2 fails {4, 6} together. Left: 0-5 and 3: giant 2, no overload.
 */
static const char *const chain_graph = "0-5,1-3,1-5,2-3,2-5,3-6,4-5,4-6";

static void test_multi_step_cascade(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(7, chain_graph);
    na_failure_set fs = {0};
    na_cascade_result r;
    const uint32_t s0[] = {1}, s1[] = {2}, s2[] = {4, 6};

    fail_vertex(&fs, g, "1");
    assert_int_equal(na_cascade_run(g, &fs, 0.1, 0, &r, NULL), 0);
    assert_int_equal(r.n_steps, 3);
    expect_step(&r, 0, s0, 1, 6);
    expect_step(&r, 1, s1, 1, 5);
    expect_step(&r, 2, s2, 2, 2);
    assert_int_equal(r.total_failed, 4);
    assert_int_equal(r.giant_before, 7);
    assert_int_equal(r.giant_after, 2);
    assert_true(fabs(r.giant_fraction - 2.0 / 7.0) < 1e-15);
    na_cascade_result_free(&r);

    /* max_steps = 1 stops after the first propagation step. */
    assert_int_equal(na_cascade_run(g, &fs, 0.1, 1, &r, NULL), 0);
    assert_int_equal(r.n_steps, 2);
    expect_step(&r, 1, s1, 1, 5);
    assert_int_equal(r.giant_after, 5);
    assert_int_equal(r.total_failed, 2);
    na_cascade_result_free(&r);

    /* Large tolerance: 2's load doubles (1 -> 2), under capacity 11; nothing propagates. */
    assert_int_equal(na_cascade_run(g, &fs, 10.0, 0, &r, NULL), 0);
    assert_int_equal(r.n_steps, 1);
    assert_int_equal(r.total_failed, 1);
    assert_int_equal(r.giant_after, 6);
    na_cascade_result_free(&r);

    /* alpha = 1 is the edge: load 2 == capacity 2 does not exceed it. */
    assert_int_equal(na_cascade_run(g, &fs, 1.0, 0, &r, NULL), 0);
    assert_int_equal(r.n_steps, 1);
    na_cascade_result_free(&r);
    na_failure_set_free(&fs);
    na_graph_free(g);
}

/*
 * Same graph, the edge 1-5 fails instead (no vertex): loads become 3:6 (cap 2.75), 2:4
 * (cap 1.1), 6:2 (cap 1.1), 5:6 (cap 8.25), 4:2 (cap 2.2): step 1 fails {2, 3, 6}, leaving
 * 0-5-4 and 1 alone (giant 3), where 5 carries 1 < 8.25.
 */
static void test_cascade_from_edge_failure(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(7, chain_graph);
    na_failure_set fs = {0};
    na_cascade_result r;
    const uint32_t s1[] = {2, 3, 6};

    assert_int_equal(na_failure_set_add(&fs, g, "1-5", NULL), 0);
    assert_int_equal(fs.n_edges, 1);
    assert_int_equal(na_cascade_run(g, &fs, 0.1, 0, &r, NULL), 0);
    assert_int_equal(r.n_steps, 2);
    expect_step(&r, 0, NULL, 0, 7);
    expect_step(&r, 1, s1, 3, 3);
    assert_int_equal(r.total_failed, 3);
    na_cascade_result_free(&r);
    na_failure_set_free(&fs);
    na_graph_free(g);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(3, "0-1,1-2");
    na_failure_set fs = {0};
    na_cascade_result r;
    uint32_t bad = 3;

    assert_int_equal(na_cascade_run(g, &fs, -0.5, 0, &r, NULL), NA_EINVAL);
    assert_int_equal(na_cascade_run(g, &fs, NAN, 0, &r, NULL), NA_EINVAL);
    assert_int_equal(na_cascade_run(g, &fs, INFINITY, 0, &r, NULL), NA_EINVAL);
    fs.vertices = &bad;
    fs.n_vertices = 1;
    assert_int_equal(na_cascade_run(g, &fs, 0.5, 0, &r, NULL), NA_EINVAL);
    assert_null(r.steps);
    /* An empty failure on a path: loads unchanged, one step listing nothing. */
    fs.n_vertices = 0;
    assert_int_equal(na_cascade_run(g, &fs, 0.0, 0, &r, NULL), 0);
    assert_int_equal(r.n_steps, 1);
    assert_int_equal(r.steps[0].n_failed, 0);
    assert_int_equal(r.giant_after, 3);
    na_cascade_result_free(&r);
    na_graph_free(g);
}

/* ---- Independent simulation: Brandes betweenness on an adjacency matrix ---------------- */

enum { RN = 40, RM = 70 };

static void brandes(const bool adj[RN][RN], const bool *dead, double *bc)
{
    for (int v = 0; v < RN; v++)
        bc[v] = 0;
    for (int s = 0; s < RN; s++) {
        int dist[RN], stack[RN], queue[RN], top = 0, head = 0, tail = 0;
        double sigma[RN], delta[RN];
        if (dead[s])
            continue;
        for (int v = 0; v < RN; v++) {
            dist[v] = -1;
            sigma[v] = 0;
            delta[v] = 0;
        }
        dist[s] = 0;
        sigma[s] = 1;
        queue[tail++] = s;
        while (head < tail) {
            int x = queue[head++];
            stack[top++] = x;
            for (int y = 0; y < RN; y++) {
                if (!adj[x][y] || dead[y])
                    continue;
                if (dist[y] < 0) {
                    dist[y] = dist[x] + 1;
                    queue[tail++] = y;
                }
                if (dist[y] == dist[x] + 1)
                    sigma[y] += sigma[x];
            }
        }
        while (top > 0) {
            int w = stack[--top];
            for (int p = 0; p < RN; p++)
                if (adj[p][w] && !dead[p] && dist[p] >= 0 && dist[p] == dist[w] - 1)
                    delta[p] += sigma[p] / sigma[w] * (1 + delta[w]);
            if (w != s)
                bc[w] += delta[w];
        }
    }
    for (int v = 0; v < RN; v++)
        bc[v] /= 2;  /* undirected: each pair was counted from both ends */
}

static void test_matches_independent_simulation(void **state)
{
    (void)state;
    static bool adj[RN][RN];
    uint32_t edges[2 * RM], x = 2024;
    bool dead[RN] = {false};
    double cap[RN], load[RN];
    na_graph *g = NULL;
    na_failure_set fs = {0};
    na_cascade_result r;
    size_t steps_seen = 0;
    const double alphas[] = {0.05, 0.2, 0.5};

    memset(adj, 0, sizeof(adj));
    for (size_t k = 0; k < RM; k++) {
        x = x * 1103515245u + 12345u;
        edges[2 * k] = (x >> 8) % RN;
        x = x * 1103515245u + 12345u;
        edges[2 * k + 1] = (x >> 8) % RN;
        if (edges[2 * k] != edges[2 * k + 1])
            adj[edges[2 * k]][edges[2 * k + 1]] = adj[edges[2 * k + 1]][edges[2 * k]] = true;
    }
    assert_int_equal(na_graph_from_edges(RN, edges, RM, &g, NULL), 0);
    brandes(adj, dead, load);
    /* Start from the most loaded vertex, as the targeted attack of Motter and Lai does. */
    uint32_t start = 0;
    for (uint32_t v = 1; v < RN; v++)
        if (load[v] > load[start])
            start = v;
    fs.vertices = &start;
    fs.n_vertices = 1;
    for (size_t a = 0; a < sizeof(alphas) / sizeof(alphas[0]); a++) {
        double alpha = alphas[a];
        memset(dead, 0, sizeof(dead));
        brandes(adj, dead, load);
        for (int v = 0; v < RN; v++)
            cap[v] = (1 + alpha) * load[v];
        dead[start] = true;
        assert_int_equal(na_cascade_run(g, &fs, alpha, 0, &r, NULL), 0);
        for (size_t step = 1;; step++) {
            uint32_t want[RN];
            size_t nw = 0;
            brandes(adj, dead, load);
            for (uint32_t v = 0; v < RN; v++)
                if (!dead[v] && load[v] > cap[v] * (1 + 1e-9) + 1e-9)
                    want[nw++] = v;
            if (nw == 0) {
                if (r.n_steps != step)
                    fail_msg("alpha %g: %zu steps, independent simulation stops after %zu",
                             alpha, r.n_steps, step);
                break;
            }
            if (step >= r.n_steps)
                fail_msg("alpha %g: stopped after %zu steps, simulation fails %zu more at "
                         "step %zu", alpha, r.n_steps, nw, step);
            const na_cascade_step *s = &r.steps[step];
            if (s->n_failed != nw)
                fail_msg("alpha %g step %zu: %zu failed, simulation %zu", alpha, step,
                         s->n_failed, nw);
            for (size_t i = 0; i < nw; i++) {
                assert_int_equal(s->failed[i], want[i]);
                dead[want[i]] = true;
            }
            steps_seen++;
        }
        na_cascade_result_free(&r);
    }
    /* The graph was picked so that the comparison covers real propagation. */
    if (steps_seen < 2)
        fail_msg("only %zu propagation steps across all alphas: test graph too tame", steps_seen);
    na_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_star_hub_removal),
        cmocka_unit_test(test_multi_step_cascade),
        cmocka_unit_test(test_cascade_from_edge_failure),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_matches_independent_simulation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
