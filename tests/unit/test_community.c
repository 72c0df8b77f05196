/*
 * test_community.c: Leiden and Louvain community detection.
 *
 * Expected modularity is computed here from Newman's formula,
 * Q = sum_c [ L_c / m - (d_c / 2m)^2 ] (L_c links inside c, d_c total degree of c), and was
 * checked once with networkx.algorithms.community.modularity (NetworkX 2.8.8): two K5 joined
 * by one link, 0.452380952; nx.ring_of_cliques(6, 4), 0.690476190.
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

/* nx.ring_of_cliques(6, 4): six K4 (0-3, 4-7, ...) in a ring, one link between neighbours. */
#define RING_OF_CLIQUES                                                                     \
    "0-1,0-2,0-3,0-21,1-2,1-3,1-4,2-3,4-5,4-6,4-7,5-6,5-7,5-8,6-7,8-9,8-10,8-11,9-10,"      \
    "9-11,9-12,10-11,12-13,12-14,12-15,13-14,13-15,13-16,14-15,16-17,16-18,16-19,17-18,"    \
    "17-19,17-20,18-19,20-21,20-22,20-23,21-22,21-23,22-23"

/* Newman modularity of a labelling, straight from the definition. */
static double modularity_by_hand(const na_graph *g, const uint32_t *memb, size_t count)
{
    size_t m = na_graph_edge_count(g), n = na_graph_vertex_count(g);
    double *inside = calloc(count, sizeof(double)), *deg = calloc(count, sizeof(double));
    double q = 0.0;

    assert_non_null(inside);
    assert_non_null(deg);
    for (size_t e = 0; e < m; e++) {
        uint32_t u, v;
        na_graph_edge(g, e, &u, &v);
        if (memb[u] == memb[v])
            inside[memb[u]] += 1.0;
    }
    for (size_t v = 0; v < n; v++)
        deg[memb[v]] += (double)na_graph_degree(g, (uint32_t)v);
    for (size_t c = 0; c < count; c++)
        q += inside[c] / (double)m - (deg[c] / (2.0 * m)) * (deg[c] / (2.0 * m));
    free(inside);
    free(deg);
    return q;
}

/* Labels are 0..count-1, numbered by smallest member. */
static void assert_canonical(const na_communities *c)
{
    uint32_t next = 0;

    for (size_t v = 0; v < c->n; v++) {
        if (c->membership[v] > next)
            fail_msg("vertex %zu has community %u before community %u appeared", v,
                     (unsigned)c->membership[v], (unsigned)next);
        if (c->membership[v] == next)
            next++;
    }
    assert_int_equal(next, c->count);
}

static void check_two_k5(na_community_method method)
{
    na_graph *g = test_graph_from_edges(10, TWO_K5);
    na_communities c;
    na_error err;

    assert_int_equal(na_communities_detect(g, method, 1.0, 42, &c, &err), 0);
    assert_int_equal(c.method, method);
    assert_int_equal(c.count, 2);
    for (uint32_t v = 0; v < 10; v++)
        assert_int_equal(c.membership[v], v < 5 ? 0 : 1);
    /* m = 21, each side has 10 links and degree 21: 2 (10/21 - 1/4) = 19/42. */
    assert_near(c.modularity, 19.0 / 42.0, 1e-12);
    assert_near(c.modularity, modularity_by_hand(g, c.membership, c.count), 1e-12);
    na_communities_free(&c);
    na_communities_free(&c);
    na_graph_free(g);
}

static void test_leiden_two_cliques(void **state)
{
    (void)state;
    check_two_k5(NA_COMMUNITY_LEIDEN);
}

static void test_louvain_two_cliques(void **state)
{
    (void)state;
    check_two_k5(NA_COMMUNITY_LOUVAIN);
}

static void test_ring_of_cliques_both_methods(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(24, RING_OF_CLIQUES);

    for (int method = NA_COMMUNITY_LEIDEN; method <= NA_COMMUNITY_LOUVAIN; method++) {
        na_communities c;
        assert_int_equal(na_communities_detect(g, (na_community_method)method, 1.0, 7, &c, NULL),
                         0);
        assert_canonical(&c);
        assert_int_equal(c.count, 6);
        for (uint32_t v = 0; v < 24; v++)
            assert_int_equal(c.membership[v], v / 4);
        assert_near(c.modularity, 0.6904761904761905, 1e-12);
        assert_near(c.modularity, modularity_by_hand(g, c.membership, c.count), 1e-12);
        na_communities_free(&c);
    }
    na_graph_free(g);
}

/* A graph without clear structure, where the random order matters: same seed, same answer. */
static void test_same_seed_same_partition(void **state)
{
    (void)state;
    uint32_t edges[2 * 600];
    uint64_t x = 99;
    na_graph *g = NULL;

    for (int i = 0; i < 600; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        edges[2 * i] = (uint32_t)((x >> 33) % 200);
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        edges[2 * i + 1] = (uint32_t)((x >> 33) % 200);
    }
    assert_int_equal(na_graph_from_edges(200, edges, 600, &g, NULL), 0);
    for (int method = NA_COMMUNITY_LEIDEN; method <= NA_COMMUNITY_LOUVAIN; method++) {
        na_communities a, b;
        assert_int_equal(na_communities_detect(g, (na_community_method)method, 1.0, 5, &a, NULL),
                         0);
        assert_int_equal(na_communities_detect(g, (na_community_method)method, 1.0, 5, &b, NULL),
                         0);
        assert_int_equal(a.count, b.count);
        assert_memory_equal(a.membership, b.membership, 200 * sizeof(uint32_t));
        assert_canonical(&a);
        assert_true(a.count > 1);
        assert_true(a.modularity > 0.2);
        assert_near(a.modularity, modularity_by_hand(g, a.membership, a.count), 1e-9);
        na_communities_free(&a);
        na_communities_free(&b);
    }
    na_graph_free(g);
}

/* A high resolution favours small communities: the cliques break up. */
static void test_resolution_splits_cliques(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(10, TWO_K5);

    for (int method = NA_COMMUNITY_LEIDEN; method <= NA_COMMUNITY_LOUVAIN; method++) {
        na_communities c;
        assert_int_equal(na_communities_detect(g, (na_community_method)method, 20.0, 1, &c, NULL),
                         0);
        if (c.count <= 2)
            fail_msg("%s at resolution 20 found %zu communities, expected more than 2",
                     na_community_method_name(c.method), c.count);
        /* The reported modularity is still the resolution-1 one. */
        assert_near(c.modularity, modularity_by_hand(g, c.membership, c.count), 1e-12);
        na_communities_free(&c);
    }
    na_graph_free(g);
}

static void test_degenerate_graphs_and_arguments(void **state)
{
    (void)state;
    na_graph *g = NULL;
    na_communities c;
    na_error err;

    assert_int_equal(na_graph_from_edges(0, NULL, 0, &g, NULL), 0);
    assert_int_equal(na_communities_detect(g, NA_COMMUNITY_LEIDEN, 1.0, 1, &c, NULL), 0);
    assert_int_equal(c.count, 0);
    na_communities_free(&c);
    na_graph_free(g);

    /* No links: singletons, modularity reported as 0 (undefined). */
    g = test_graph_from_edges(4, "");
    assert_int_equal(na_communities_detect(g, NA_COMMUNITY_LOUVAIN, 1.0, 1, &c, NULL), 0);
    assert_int_equal(c.count, 4);
    assert_int_equal(c.membership[3], 3);
    assert_near(c.modularity, 0.0, 0);
    na_communities_free(&c);
    na_graph_free(g);

    /* Isolated vertices next to a clique keep their own communities. */
    g = test_graph_from_edges(6, "1-2,1-3,2-3,3-4");
    assert_int_equal(na_communities_detect(g, NA_COMMUNITY_LEIDEN, 1.0, 1, &c, NULL), 0);
    assert_canonical(&c);
    assert_true(c.membership[0] != c.membership[1]);
    assert_true(c.membership[5] != c.membership[1]);
    assert_true(c.membership[0] != c.membership[5]);
    na_communities_free(&c);

    assert_int_equal(na_communities_detect(g, NA_COMMUNITY_LEIDEN, 0.0, 1, &c, &err), NA_EINVAL);
    assert_null(c.membership);
    assert_int_equal(na_communities_detect(g, NA_COMMUNITY_LEIDEN, NAN, 1, &c, &err), NA_EINVAL);
    assert_int_equal(na_communities_detect(g, (na_community_method)7, 1.0, 1, &c, &err),
                     NA_EINVAL);
    na_graph_free(g);

    assert_string_equal(na_community_method_name(NA_COMMUNITY_LEIDEN), "leiden");
    assert_string_equal(na_community_method_name(NA_COMMUNITY_LOUVAIN), "louvain");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leiden_two_cliques),
        cmocka_unit_test(test_louvain_two_cliques),
        cmocka_unit_test(test_ring_of_cliques_both_methods),
        cmocka_unit_test(test_same_seed_same_partition),
        cmocka_unit_test(test_resolution_splits_cliques),
        cmocka_unit_test(test_degenerate_graphs_and_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
