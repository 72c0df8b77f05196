/*
 * test_robustness.c: redundancy and importance (efficiency loss) of every vertex.
 *
 * Three implementations must agree: the dominator-tree kernel (na_robustness_compute), the
 * igraph loop (na_robustness_compute_naive) and a Floyd-Warshall written here from the
 * definition, on many graph families where the kernel's shortcuts (no dominated vertex, a cut
 * off subtree, a one-vertex subtree, a seeded BFS) all get exercised.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netassure/robustness.h"
#include "harness.h"

#define TOL 1e-12

/* Deterministic PRNG (splitmix64) so failures reproduce. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double rng_unit(void) { return (double)(rng_next() >> 11) / 9007199254740992.0; }
static uint32_t rng_below(uint32_t k) { return (uint32_t)(rng_next() % k); }

/* A growable edge list. */
struct edges {
    size_t m, cap;
    uint32_t *e;
};

static void add_edge(struct edges *l, uint32_t u, uint32_t v)
{
    if (l->m == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->e = realloc(l->e, 2 * l->cap * sizeof(uint32_t));
        assert_non_null(l->e);
    }
    l->e[2 * l->m] = u;
    l->e[2 * l->m + 1] = v;
    l->m++;
}

static na_graph *make_graph(size_t n, struct edges *l)
{
    na_graph *g = NULL;
    na_error err;

    assert_int_equal(na_graph_from_edges(n, l->e, l->m, &g, &err), 0);
    free(l->e);
    memset(l, 0, sizeof(*l));
    return g;
}

static na_graph *gen_erdos_renyi(size_t n, double p)
{
    struct edges l = {0};

    for (uint32_t u = 0; u < n; u++)
        for (uint32_t v = u + 1; v < n; v++)
            if (rng_unit() < p)
                add_edge(&l, u, v);
    return make_graph(n, &l);
}

static na_graph *gen_tree(size_t n)
{
    struct edges l = {0};

    for (uint32_t v = 1; v < n; v++)
        add_edge(&l, rng_below(v), v);
    return make_graph(n, &l);
}

static na_graph *gen_star(size_t n)
{
    struct edges l = {0};

    for (uint32_t v = 1; v < n; v++)
        add_edge(&l, 0, v);
    return make_graph(n, &l);
}

static na_graph *gen_path(size_t n, bool ring)
{
    struct edges l = {0};

    for (uint32_t v = 1; v < n; v++)
        add_edge(&l, v - 1, v);
    if (ring && n > 2)
        add_edge(&l, (uint32_t)n - 1, 0);
    return make_graph(n, &l);
}

static na_graph *gen_complete(size_t n)
{
    return gen_erdos_renyi(n, 2.0);
}

/* Rings with a few chords and pendant chains: deep dominator trees with partial escapes. */
static na_graph *gen_ring_with_chords_and_tails(size_t ring, size_t chords, size_t tails)
{
    struct edges l = {0};
    size_t n = ring;

    for (uint32_t v = 0; v < ring; v++)
        add_edge(&l, v, (uint32_t)((v + 1) % ring));
    for (size_t k = 0; k < chords; k++)
        add_edge(&l, rng_below((uint32_t)ring), rng_below((uint32_t)ring));
    for (size_t k = 0; k < tails; k++) {
        uint32_t at = rng_below((uint32_t)n), len = 1 + rng_below(4);
        for (uint32_t i = 0; i < len; i++) {
            add_edge(&l, at, (uint32_t)n);
            at = (uint32_t)n++;
        }
    }
    return make_graph(n, &l);
}

static na_graph *gen_grid(size_t w, size_t h)
{
    struct edges l = {0};

    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint32_t v = y * (uint32_t)w + x;
            if (x + 1 < w)
                add_edge(&l, v, v + 1);
            if (y + 1 < h)
                add_edge(&l, v, v + (uint32_t)w);
        }
    return make_graph(w * h, &l);
}

/* Preferential attachment (two links per new vertex), like the benchmark's graphs. */
static na_graph *gen_preferential(size_t n)
{
    struct edges l = {0};
    uint32_t *ends = malloc(4 * n * sizeof(uint32_t));
    size_t ne = 0;

    assert_non_null(ends);
    for (uint32_t v = 1; v < n; v++) {
        for (int k = 0; k < 2; k++) {
            uint32_t u = ne ? ends[rng_below((uint32_t)ne)] : 0;
            add_edge(&l, u, v);
            ends[ne++] = u;
            ends[ne++] = v;
        }
    }
    free(ends);
    return make_graph(n, &l);
}

/*
 * Efficiency of g without vertex `skip` (skip == n: the whole graph) by Floyd-Warshall, from
 * the definition: mean of 1/d over ordered pairs of the remaining vertices.
 */
static double fw_efficiency(const na_graph *g, size_t skip)
{
    size_t n = na_graph_vertex_count(g), k = skip < n ? n - 1 : n;
    const uint32_t *off = na_graph_offsets(g), *adj = na_graph_adjacency(g);
    unsigned *d = malloc(n * n * sizeof(unsigned));
    const unsigned inf = 1u << 30;
    double sum = 0;

    assert_non_null(d);
    if (k < 2) {
        free(d);
        return 0;
    }
    for (size_t i = 0; i < n * n; i++)
        d[i] = inf;
    for (size_t u = 0; u < n; u++) {
        d[u * n + u] = 0;
        for (uint32_t e = off[u]; e < off[u + 1]; e++)
            if (u != skip && adj[e] != skip)
                d[u * n + adj[e]] = 1;
    }
    for (size_t w = 0; w < n; w++)
        for (size_t u = 0; u < n; u++)
            for (size_t v = 0; v < n; v++)
                if (d[u * n + w] + d[w * n + v] < d[u * n + v])
                    d[u * n + v] = d[u * n + w] + d[w * n + v];
    for (size_t u = 0; u < n; u++)
        for (size_t v = 0; v < n; v++)
            if (u != v && u != skip && v != skip && d[u * n + v] < inf)
                sum += 1.0 / d[u * n + v];
    free(d);
    return sum / ((double)k * (double)(k - 1));
}

static void expect_close(const char *what, const char *family, size_t v, double got,
                         double want)
{
    if (fabs(got - want) > TOL) {
        fail_msg("%s: %s of vertex %zu: got %.17g, want %.17g (diff %.3g)", family, what, v, got,
                 want, got - want);
    }
}

/* cmocka 1.1 has no assert_double_equal; this one prints both sides. */
#define assert_near(got, want, tol)                                                            \
    do {                                                                                       \
        double got_ = (got), want_ = (want);                                                   \
        if (fabs(got_ - want_) > (tol))                                                        \
            fail_msg("%s = %.17g, want %s = %.17g", #got, got_, #want, want_);                 \
    } while (0)

/*
 * Checks the fast kernel (1 and 2 threads) against the naive loop, and, when with_fw, both
 * against Floyd-Warshall. Frees g.
 */
static void check_graph(na_graph *g, const char *family, bool with_fw)
{
    size_t n = na_graph_vertex_count(g);
    na_robustness fast, fast2, naive;
    na_robustness_opts one = {.threads = 1}, two = {.threads = 2};
    na_error err;
    double e_fw = with_fw ? fw_efficiency(g, n) : 0;

    assert_int_equal(na_robustness_compute(g, &one, &fast, &err), 0);
    assert_int_equal(na_robustness_compute(g, &two, &fast2, &err), 0);
    assert_int_equal(na_robustness_compute_naive(g, &naive, &err), 0);
    assert_int_equal(fast.n, n);
    assert_int_equal(naive.n, n);
    expect_close("efficiency (fast vs naive)", family, n, fast.efficiency, naive.efficiency);
    expect_close("efficiency (ours vs fast)", family, n, na_global_efficiency(g),
                 fast.efficiency);
    if (with_fw)
        expect_close("efficiency (fast vs Floyd-Warshall)", family, n, fast.efficiency, e_fw);
    for (size_t v = 0; v < n; v++) {
        assert_int_equal(fast.redundancy[v], na_graph_degree(g, (uint32_t)v));
        assert_int_equal(naive.redundancy[v], fast.redundancy[v]);
        expect_close("importance (fast vs naive)", family, v, fast.importance[v],
                     naive.importance[v]);
        expect_close("relative loss (fast vs naive)", family, v, fast.relative_loss[v],
                     naive.relative_loss[v]);
        if (with_fw)
            expect_close("importance (fast vs Floyd-Warshall)", family, v, fast.importance[v],
                         e_fw - fw_efficiency(g, v));
    }
    /* Exact fixed-point sums: the thread count must not change a single bit. */
    assert_true(fast2.efficiency == fast.efficiency);
    assert_memory_equal(fast2.importance, fast.importance, n * sizeof(double));
    na_robustness_free(&fast);
    na_robustness_free(&fast2);
    na_robustness_free(&naive);
    na_graph_free(g);
}

static void test_path_of_three_by_hand(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(3, "0-1,1-2");
    na_robustness r;

    assert_int_equal(na_robustness_compute(g, NULL, &r, NULL), 0);
    /* E = (4 * 1 + 2 * 1/2) / 6; without the middle nothing is connected; without an end the
     * remaining pair has E = 1. */
    assert_near(r.efficiency, 5.0 / 6.0, TOL);
    assert_near(r.importance[1], 5.0 / 6.0, TOL);
    assert_near(r.importance[0], 5.0 / 6.0 - 1.0, TOL);
    assert_near(r.importance[2], 5.0 / 6.0 - 1.0, TOL);
    assert_near(r.relative_loss[1], 1.0, TOL);
    assert_near(r.relative_loss[0], -0.2, TOL);
    assert_int_equal(r.redundancy[0], 1);
    assert_int_equal(r.redundancy[1], 2);
    assert_int_equal(r.redundancy[2], 1);
    na_robustness_free(&r);
    na_graph_free(g);
}

static void test_star_by_hand(void **state)
{
    (void)state;
    /* Centre 0 and k = 4 leaves: E = (2k + k(k-1)/2) / ((k+1)k) = (k+3) / (2(k+1)) = 0.7;
     * without the centre E = 0; without a leaf, the star with 3 leaves has E = 6/8. */
    na_graph *g = test_graph_from_edges(5, "0-1,0-2,0-3,0-4");
    na_robustness r;

    assert_int_equal(na_robustness_compute(g, NULL, &r, NULL), 0);
    assert_near(r.efficiency, 0.7, TOL);
    assert_near(r.importance[0], 0.7, TOL);
    for (size_t v = 1; v < 5; v++) {
        assert_near(r.importance[v], 0.7 - 0.75, TOL);
        assert_int_equal(r.redundancy[v], 1);
    }
    assert_int_equal(r.redundancy[0], 4);
    na_robustness_free(&r);
    na_graph_free(g);
}

static void test_tiny_graphs(void **state)
{
    (void)state;
    na_graph *g;
    na_robustness r;

    /* n = 0 and n = 1: everything is 0. */
    for (size_t n = 0; n < 2; n++) {
        g = test_graph_from_edges(n, "");
        assert_int_equal(na_robustness_compute(g, NULL, &r, NULL), 0);
        assert_int_equal(r.n, n);
        assert_true(r.efficiency == 0);
        if (n == 1)
            assert_true(r.importance[0] == 0 && r.relative_loss[0] == 0);
        na_robustness_free(&r);
        assert_true(na_global_efficiency(g) == 0);
        check_graph(g, "tiny", true);
    }
    /* n = 2 connected: E = 1, and G - v has one vertex (E = 0). */
    g = test_graph_from_edges(2, "0-1");
    assert_int_equal(na_robustness_compute(g, NULL, &r, NULL), 0);
    assert_near(r.efficiency, 1.0, TOL);
    assert_near(r.importance[0], 1.0, TOL);
    assert_near(r.relative_loss[1], 1.0, TOL);
    na_robustness_free(&r);
    check_graph(g, "n=2 edge", true);
    /* n = 2 with no edge: E = 0, relative loss defined as 0. */
    g = test_graph_from_edges(2, "");
    assert_int_equal(na_robustness_compute(g, NULL, &r, NULL), 0);
    assert_true(r.efficiency == 0 && r.importance[0] == 0 && r.relative_loss[0] == 0);
    na_robustness_free(&r);
    check_graph(g, "n=2 empty", true);
    /* All graphs on 3 vertices. */
    static const char *const three[] = {"", "0-1", "0-1,1-2", "0-1,1-2,0-2"};
    for (size_t i = 0; i < 4; i++)
        check_graph(test_graph_from_edges(3, three[i]), three[i], true);
}

static void test_families_against_floyd_warshall(void **state)
{
    (void)state;
    char name[64];

    rng_state = 42;
    for (size_t n = 4; n <= 24; n += 4) {
        check_graph(gen_tree(n), "tree", true);
        check_graph(gen_star(n), "star", true);
        check_graph(gen_path(n, false), "path", true);
        check_graph(gen_path(n, true), "ring", true);
        check_graph(gen_complete(n), "complete", true);
        check_graph(gen_grid(n / 4 + 1, 4), "grid", true);
        check_graph(gen_ring_with_chords_and_tails(n, n / 8, n / 4), "ring+chords+tails", true);
        check_graph(gen_preferential(n), "preferential", true);
    }
    for (int rep = 0; rep < 60; rep++) {
        size_t n = 2 + rng_below(30);
        double p = rep % 3 == 0 ? 1.2 / (double)n : rep % 3 == 1 ? 2.5 / (double)n : 0.5;
        snprintf(name, sizeof(name), "erdos-renyi n=%zu p=%.3f rep=%d", n, p, rep);
        check_graph(gen_erdos_renyi(n, p), name, true);
    }
}

/* Larger graphs (Floyd-Warshall would be slow, the naive loop is the oracle). */
static void test_larger_graphs_against_naive(void **state)
{
    (void)state;

    rng_state = 7;
    check_graph(gen_erdos_renyi(150, 1.0 / 150), "sparse disconnected 150", false);
    check_graph(gen_erdos_renyi(150, 3.0 / 150), "sparse 150", false);
    check_graph(gen_erdos_renyi(80, 0.3), "dense 80", false);
    check_graph(gen_tree(200), "tree 200", false);
    check_graph(gen_path(120, false), "path 120", false);
    check_graph(gen_path(121, true), "ring 121", false);
    check_graph(gen_grid(12, 10), "grid 12x10", false);
    check_graph(gen_ring_with_chords_and_tails(100, 6, 30), "ring+chords+tails 100", false);
    check_graph(gen_preferential(250), "preferential 250", false);
}

/* Progress: from the calling thread only, non-decreasing, ending at (n, n). */
struct progress_log {
    pthread_t caller;
    size_t calls, last, total;
    bool wrong_thread, decreasing;
};

static void on_progress(void *ctx, size_t done, size_t total)
{
    struct progress_log *log = ctx;

    if (!pthread_equal(pthread_self(), log->caller))
        log->wrong_thread = true;
    if (done < log->last)
        log->decreasing = true;
    log->last = done;
    log->total = total;
    log->calls++;
}

static void test_threads_and_progress(void **state)
{
    (void)state;
    na_graph *g;
    na_robustness r1, rk;
    struct progress_log log = {.caller = pthread_self()};
    na_robustness_opts one = {.threads = 1};
    na_robustness_opts many = {.threads = 5, .progress = on_progress, .progress_ctx = &log};

    rng_state = 99;
    g = gen_preferential(600);
    assert_int_equal(na_robustness_compute(g, &one, &r1, NULL), 0);
    assert_int_equal(na_robustness_compute(g, &many, &rk, NULL), 0);
    assert_true(r1.efficiency == rk.efficiency);
    assert_memory_equal(r1.importance, rk.importance, 600 * sizeof(double));
    assert_memory_equal(r1.relative_loss, rk.relative_loss, 600 * sizeof(double));
    assert_false(log.wrong_thread);
    assert_false(log.decreasing);
    assert_true(log.calls >= 2);
    assert_int_equal(log.last, 600);
    assert_int_equal(log.total, 600);
    na_robustness_free(&r1);
    na_robustness_free(&rk);
    /* More threads than vertices, and the default (all CPUs). */
    na_graph_free(g);
    check_graph(gen_path(3, false), "3 vertices", true);
    g = gen_erdos_renyi(40, 0.1);
    assert_int_equal(na_robustness_compute(g, &(na_robustness_opts){.threads = 64}, &r1, NULL),
                     0);
    assert_int_equal(na_robustness_compute(g, &(na_robustness_opts){.threads = 0}, &rk, NULL), 0);
    assert_memory_equal(r1.importance, rk.importance, 40 * sizeof(double));
    na_robustness_free(&r1);
    na_robustness_free(&rk);
    na_graph_free(g);
    na_robustness_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_of_three_by_hand),
        cmocka_unit_test(test_star_by_hand),
        cmocka_unit_test(test_tiny_graphs),
        cmocka_unit_test(test_families_against_floyd_warshall),
        cmocka_unit_test(test_larger_graphs_against_naive),
        cmocka_unit_test(test_threads_and_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
