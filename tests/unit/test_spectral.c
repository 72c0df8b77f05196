/*
 * test_spectral.c: spectral clustering (normalised Laplacian, eigengap, k-means).
 *
 * Reference eigenvalues were computed once with numpy.linalg.eigvalsh on
 * nx.normalized_laplacian_matrix(G) (NetworkX 2.8.8, numpy, Debian's /usr/bin/python3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netassure/community.h"
#include "harness.h"

#define assert_near(a, b, eps)                                                              \
    do {                                                                                    \
        double a_ = (a), b_ = (b);                                                          \
        if (!(fabs(a_ - b_) <= (eps)))                                                      \
            fail_msg("%s = %.12g, expected %.12g (+- %g)", #a, a_, b_, (double)(eps));      \
    } while (0)

#define TWO_K5                                                                              \
    "0-1,0-2,0-3,0-4,1-2,1-3,1-4,2-3,2-4,3-4,"                                              \
    "5-6,5-7,5-8,5-9,6-7,6-8,6-9,7-8,7-9,8-9,4-5"

/* Whether two labellings describe the same partition (labels may differ). */
static void assert_same_partition(const uint32_t *got, const uint32_t *want, size_t n)
{
    for (size_t u = 0; u < n; u++)
        for (size_t v = u + 1; v < n; v++)
            if ((got[u] == got[v]) != (want[u] == want[v]))
                fail_msg("vertices %zu and %zu: together %d in the result, %d expected", u, v,
                         got[u] == got[v], want[u] == want[v]);
}

static void test_two_cliques_split_with_eigengap_2(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(10, TWO_K5);
    na_spectral s;
    na_error err;
    /* numpy: the spectrum of this graph. */
    static const double eig[10] = {0.0, 0.072601, 1.05, 1.25, 1.25, 1.25, 1.25, 1.25, 1.25,
                                   1.377399};

    assert_int_equal(na_spectral_cluster(g, 0, 1, &s, &err), 0);
    assert_true(s.k_from_eigengap);
    assert_int_equal(s.k, 2);
    assert_int_equal(s.n_eigenvalues, 10);
    for (size_t i = 0; i < 10; i++)
        assert_near(s.eigenvalues[i], eig[i], 1e-6);
    for (uint32_t v = 0; v < 10; v++)
        assert_int_equal(s.membership[v], v < 5 ? 0 : 1);
    na_spectral_free(&s);
    na_spectral_free(&s);
    na_graph_free(g);
}

/*
 * Three disjoint triangles: eigenvalues 0, 0, 0, then 1.5 six times, so the gap says 3.
 * (With the standard largest-gap rule, longer rings are split further: three C5 have
 * 0 x3, 0.691 x6, 1.809 x6, and the largest gap is after the ninth; see docs/analytics.md.)
 */
static void test_three_rings_give_k3(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(9, "0-1,1-2,2-0,3-4,4-5,5-3,6-7,7-8,8-6");
    na_spectral s;
    static const uint32_t want[9] = {0, 0, 0, 1, 1, 1, 2, 2, 2};

    assert_int_equal(na_spectral_cluster(g, 0, 3, &s, NULL), 0);
    assert_int_equal(s.k, 3);
    assert_near(s.eigenvalues[2], 0.0, 1e-9);
    assert_near(s.eigenvalues[3], 1.5, 1e-9);
    assert_memory_equal(s.membership, want, sizeof(want));
    na_spectral_free(&s);
    na_graph_free(g);

    /* Three C4: gaps of 1 after the third and after the ninth eigenvalue: the tie goes to 3. */
    g = test_graph_from_edges(12, "0-1,1-2,2-3,3-0,4-5,5-6,6-7,7-4,8-9,9-10,10-11,11-8");
    assert_int_equal(na_spectral_cluster(g, 0, 3, &s, NULL), 0);
    assert_int_equal(s.k, 3);
    for (uint32_t v = 0; v < 12; v++)
        assert_int_equal(s.membership[v], v / 4);
    na_spectral_free(&s);
    na_graph_free(g);
}

static void test_given_k_and_caps(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(10, TWO_K5);
    na_spectral s;

    assert_int_equal(na_spectral_cluster(g, 3, 1, &s, NULL), 0);
    assert_false(s.k_from_eigengap);
    assert_int_equal(s.k, 3);
    for (size_t v = 0; v < 10; v++)
        assert_true(s.membership[v] < 3);
    na_spectral_free(&s);

    /* k = 1: everything together. */
    assert_int_equal(na_spectral_cluster(g, 1, 1, &s, NULL), 0);
    assert_int_equal(s.k, 1);
    for (size_t v = 0; v < 10; v++)
        assert_int_equal(s.membership[v], 0);
    na_spectral_free(&s);
    na_graph_free(g);

    /* k above n is capped at n: a path of 3 in 3 singletons. */
    g = test_graph_from_edges(3, "0-1,1-2");
    assert_int_equal(na_spectral_cluster(g, 10, 1, &s, NULL), 0);
    assert_int_equal(s.k, 3);
    assert_int_equal(s.n_eigenvalues, 3);
    /* Path P3: 0, 1, 2. */
    assert_near(s.eigenvalues[0], 0.0, 1e-9);
    assert_near(s.eigenvalues[1], 1.0, 1e-9);
    assert_near(s.eigenvalues[2], 2.0, 1e-9);
    for (uint32_t v = 0; v < 3; v++)
        assert_int_equal(s.membership[v], v);
    na_spectral_free(&s);
    na_graph_free(g);
}

static void test_degenerate_graphs(void **state)
{
    (void)state;
    na_graph *g = NULL;
    na_spectral s;

    assert_int_equal(na_graph_from_edges(0, NULL, 0, &g, NULL), 0);
    assert_int_equal(na_spectral_cluster(g, 0, 1, &s, NULL), 0);
    assert_int_equal(s.k, 0);
    assert_int_equal(s.n_eigenvalues, 0);
    na_spectral_free(&s);
    na_graph_free(g);

    g = test_graph_from_edges(1, "");
    assert_int_equal(na_spectral_cluster(g, 0, 1, &s, NULL), 0);
    assert_int_equal(s.k, 1);
    assert_int_equal(s.membership[0], 0);
    na_spectral_free(&s);
    na_graph_free(g);

    /* Isolated vertices only: the window has no gap, so each vertex is its own cluster. */
    g = test_graph_from_edges(4, "");
    assert_int_equal(na_spectral_cluster(g, 0, 1, &s, NULL), 0);
    assert_int_equal(s.k, 4);
    for (uint32_t v = 0; v < 4; v++)
        assert_int_equal(s.membership[v], v);
    na_spectral_free(&s);
    na_graph_free(g);

    /* 25 isolated vertices: the 20 eigenvalues seen are all 0, so k is the window, 20. */
    g = test_graph_from_edges(25, "");
    assert_int_equal(na_spectral_cluster(g, 0, 1, &s, NULL), 0);
    assert_int_equal(s.n_eigenvalues, 20);
    assert_int_equal(s.k, 20);
    na_spectral_free(&s);
    na_graph_free(g);

    /* A triangle with two isolated vertices: the isolated ones have zero rows in L. */
    g = test_graph_from_edges(5, "0-1,1-2,2-0");
    assert_int_equal(na_spectral_cluster(g, 3, 1, &s, NULL), 0);
    assert_int_equal(s.k, 3);
    assert_int_equal(s.n_eigenvalues, 5);
    assert_near(s.eigenvalues[2], 0.0, 1e-9);
    assert_near(s.eigenvalues[3], 1.5, 1e-9);
    static const uint32_t want[5] = {0, 0, 0, 1, 2};
    assert_same_partition(s.membership, want, 5);
    na_spectral_free(&s);
    na_graph_free(g);
}

/* The same seed gives the same clustering. */
static void test_reproducible(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(
        12, "0-1,1-2,2-3,3-4,4-5,5-6,6-7,7-8,8-9,9-10,10-11,11-0,0-6,3-9");
    na_spectral a, b;

    assert_int_equal(na_spectral_cluster(g, 4, 11, &a, NULL), 0);
    assert_int_equal(na_spectral_cluster(g, 4, 11, &b, NULL), 0);
    assert_int_equal(a.k, b.k);
    assert_memory_equal(a.membership, b.membership, 12 * sizeof(uint32_t));
    na_spectral_free(&a);
    na_spectral_free(&b);
    na_graph_free(g);
}

/*
 * A component over the dense limit goes through ARPACK: four random groups of 900 vertices
 * (each vertex linked to 5 random others of its group) chained by single links. The 20
 * smallest eigenvalues were computed once with numpy.linalg.eigvalsh on the same graph,
 * generated by the same LCG in Python.
 */
static void test_large_graph_uses_sparse_solver(void **state)
{
    (void)state;
    enum { GROUPS = 4, SIZE = 900, LINKS = 5 };
    size_t m = GROUPS * SIZE * LINKS + GROUPS - 1, k = 0;
    uint32_t *edges = malloc(2 * m * sizeof(uint32_t));
    uint64_t x = 12345;
    na_graph *g = NULL;
    na_spectral s;
    na_error err;
    static const double eig[20] = {
        0.0,          5.23857526e-05, 1.79698619e-04, 3.05480508e-04, 4.04730019e-01,
        4.07084826e-01, 4.09609416e-01, 4.09680136e-01, 4.14448251e-01, 4.14623824e-01,
        4.15437963e-01, 4.15459696e-01, 4.15593770e-01, 4.17050428e-01, 4.17522903e-01,
        4.18200975e-01, 4.18838181e-01, 4.20105037e-01, 4.20528090e-01, 4.20925031e-01};

    assert_non_null(edges);
    for (uint32_t grp = 0; grp < GROUPS; grp++) {
        for (uint32_t i = 0; i < SIZE; i++) {
            for (int r = 0; r < LINKS; r++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                edges[2 * k] = grp * SIZE + i;
                edges[2 * k + 1] = grp * SIZE + (uint32_t)((x >> 33) % SIZE);
                k++;
            }
        }
    }
    for (uint32_t grp = 0; grp + 1 < GROUPS; grp++) {
        edges[2 * k] = grp * SIZE;
        edges[2 * k + 1] = (grp + 1) * SIZE + 1;
        k++;
    }
    assert_int_equal(na_graph_from_edges(GROUPS * SIZE, edges, m, &g, NULL), 0);
    free(edges);
    if (na_spectral_cluster(g, 0, 1, &s, &err) != 0)
        fail_msg("spectral clustering failed: %s", err.message);
    assert_int_equal(s.n_eigenvalues, 20);
    for (size_t i = 0; i < 20; i++)
        assert_near(s.eigenvalues[i], eig[i], 1e-7);
    assert_int_equal(s.k, 4);
    for (uint32_t v = 0; v < GROUPS * SIZE; v++)
        if (s.membership[v] != v / SIZE)
            fail_msg("vertex %u in cluster %u, expected %u", v, (unsigned)s.membership[v],
                     v / SIZE);
    na_spectral_free(&s);
    na_graph_free(g);
}

/*
 * A ring of 10 routers with 5 leaves each: eigenvalue 1 of the normalised Laplacian has
 * multiplicity 40, which made LAPACK's dsyevr (range 'I') return fewer pairs than asked.
 * Every one of the 20 smallest must come back, ascending, the first 0.
 */
static void test_many_repeated_eigenvalues(void **state)
{
    (void)state;
    uint32_t edges[2 * 60];
    size_t m = 0;
    na_graph *g = NULL;
    na_spectral sp;

    for (uint32_t r = 0; r < 10; r++) {
        edges[2 * m] = r;
        edges[2 * m + 1] = (r + 1) % 10;
        m++;
        for (uint32_t l = 0; l < 5; l++) {
            edges[2 * m] = r;
            edges[2 * m + 1] = 10 + 5 * r + l;
            m++;
        }
    }
    assert_int_equal(na_graph_from_edges(60, edges, m, &g, NULL), 0);
    memset(&sp, 0, sizeof(sp));
    assert_int_equal(na_spectral_cluster(g, 0, 1, &sp, NULL), 0);
    assert_int_equal(sp.n_eigenvalues, 20);
    assert_true(fabs(sp.eigenvalues[0]) < 1e-9);
    for (size_t i = 1; i < sp.n_eigenvalues; i++)
        assert_true(sp.eigenvalues[i] >= sp.eigenvalues[i - 1] - 1e-12);
    /* 10 eigenvalues below 1 come from the ring part; the rest up to 20 are exactly 1. */
    assert_true(fabs(sp.eigenvalues[19] - 1.0) < 1e-9);
    na_spectral_free(&sp);
    na_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_cliques_split_with_eigengap_2),
        cmocka_unit_test(test_three_rings_give_k3),
        cmocka_unit_test(test_given_k_and_caps),
        cmocka_unit_test(test_degenerate_graphs),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_large_graph_uses_sparse_solver),
        cmocka_unit_test(test_many_repeated_eigenvalues),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
