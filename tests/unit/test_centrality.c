/*
 * test_centrality.c: centrality and structure (articulation points, bridges, cores,
 * components) on small graphs with hand-checked values.
 *
 * Cross-checks were computed once with python-igraph 0.10.2 and NetworkX 2.8.8 (Debian's
 * /usr/bin/python3): g.betweenness(directed=False), g.closeness(), g.pagerank(damping=0.85),
 * eigenvector_centrality(scale=True) on the induced component, nx.articulation_points,
 * nx.bridges, nx.core_number.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "netassure/centrality.h"
#include "harness.h"

#define assert_near(a, b, eps)                                                              \
    do {                                                                                    \
        double a_ = (a), b_ = (b);                                                          \
        if (!(fabs(a_ - b_) <= (eps)))                                                      \
            fail_msg("%s = %.12g, expected %.12g (+- %g)", #a, a_, b_, (double)(eps));      \
    } while (0)

/* Star: centre 0, leaves 1..4. */
static void test_star_centrality(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(5, "0-1,0-2,0-3,0-4");
    na_centrality c;
    na_error err;

    assert_int_equal(na_centrality_compute(g, &c, &err), 0);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.degree[0], 4);
    assert_int_equal(c.degree[3], 1);
    /* The centre lies on every leaf-leaf path: C(4, 2) = 6 pairs, each counted once. */
    assert_near(c.betweenness[0], 6.0, 1e-12);
    assert_near(c.betweenness[1], 0.0, 1e-12);
    /* Closeness = reachable / sum of distances: centre 4/4, leaf 4/(1 + 2 + 2 + 2). */
    assert_near(c.closeness[0], 1.0, 1e-12);
    assert_near(c.closeness[2], 4.0 / 7.0, 1e-12);
    /* PageRank: p_leaf = 0.15/5 + 0.85 p_c / 4 and p_c + 4 p_leaf = 1 give
     * p_c = 0.88 / 1.85 = 0.4756756757 (python-igraph agrees). */
    assert_near(c.pagerank[0], 0.88 / 1.85, 1e-9);
    assert_near(c.pagerank[4], (1.0 - 0.88 / 1.85) / 4.0, 1e-9);
    /* Eigenvector: lambda = sqrt(4) = 2, leaf = centre / 2. */
    assert_near(c.eigenvector[0], 1.0, 1e-9);
    assert_near(c.eigenvector[1], 0.5, 1e-9);
    na_centrality_free(&c);
    na_centrality_free(&c);   /* a zeroed struct is accepted */
    na_graph_free(g);
}

/* Two triangles joined by 2-3, a pendant 6 on 5, and an isolated vertex 7. */
#define BOWTIE "0-1,1-2,0-2,2-3,3-4,4-5,3-5,5-6"

static void test_bowtie_centrality_matches_igraph(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(8, BOWTIE);
    na_centrality c;
    /* python-igraph 0.10.2 values (see the header comment). */
    static const double btw[8] = {0, 0, 8, 9, 0, 5, 0, 0};
    static const double clo[8] = {0.42857142857142855, 0.42857142857142855, 0.6,
                                  0.6666666666666666, 0.5, 0.5454545454545454, 0.375, 0.0};
    static const double pr[8] = {0.12276586109166468, 0.12276586109166468, 0.17509887934830423,
                                 0.1756548580283587, 0.12337711250599358, 0.185750170890368,
                                 0.07360823606462526, 0.020979020979020983};
    static const double ev[8] = {0.6038845042180977, 0.6038845042180976, 0.8915428197273184, 1.0,
                                 0.7435402942728998, 0.8412634613795845, 0.33971959730659185, 0.0};

    assert_int_equal(na_centrality_compute(g, &c, NULL), 0);
    for (int v = 0; v < 8; v++) {
        assert_near(c.betweenness[v], btw[v], 1e-9);
        assert_near(c.closeness[v], clo[v], 1e-9);   /* igraph's NaN for 7 is reported as 0 */
        assert_near(c.pagerank[v], pr[v], 1e-7);
        assert_near(c.eigenvector[v], ev[v], 1e-6);
    }
    assert_int_equal(c.degree[7], 0);
    na_centrality_free(&c);
    na_graph_free(g);
}

/* Path 0-1-2, edge 3-4, isolated 5: each component gets its own eigenvector, max 1. */
static void test_eigenvector_per_component(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(6, "0-1,1-2,3-4");
    na_centrality c;

    assert_int_equal(na_centrality_compute(g, &c, NULL), 0);
    assert_near(c.eigenvector[0], sqrt(0.5), 1e-6);
    assert_near(c.eigenvector[1], 1.0, 1e-9);
    assert_near(c.eigenvector[2], sqrt(0.5), 1e-6);
    assert_near(c.eigenvector[3], 1.0, 1e-9);
    assert_near(c.eigenvector[4], 1.0, 1e-9);
    assert_near(c.eigenvector[5], 0.0, 0);
    /* Closeness only over reachable vertices: an end of the path 2/(1+2), the edge 1/1. */
    assert_near(c.closeness[0], 2.0 / 3.0, 1e-12);
    assert_near(c.closeness[3], 1.0, 1e-12);
    assert_near(c.closeness[5], 0.0, 0);
    na_centrality_free(&c);
    na_graph_free(g);
}

static void test_empty_and_edgeless_graphs(void **state)
{
    (void)state;
    na_graph *g = NULL;
    na_centrality c;
    na_structure s;

    assert_int_equal(na_graph_from_edges(0, NULL, 0, &g, NULL), 0);
    assert_int_equal(na_centrality_compute(g, &c, NULL), 0);
    assert_int_equal(c.n, 0);
    na_centrality_free(&c);
    assert_int_equal(na_structure_compute(g, &s, NULL), 0);
    assert_int_equal(s.n_components, 0);
    assert_int_equal(s.n_bridges, 0);
    na_structure_free(&s);
    na_graph_free(g);

    g = test_graph_from_edges(3, "");
    assert_int_equal(na_centrality_compute(g, &c, NULL), 0);
    for (int v = 0; v < 3; v++) {
        assert_near(c.betweenness[v], 0.0, 0);
        assert_near(c.closeness[v], 0.0, 0);
        assert_near(c.pagerank[v], 1.0 / 3.0, 1e-12);
        assert_near(c.eigenvector[v], 0.0, 0);
    }
    na_centrality_free(&c);
    assert_int_equal(na_structure_compute(g, &s, NULL), 0);
    assert_int_equal(s.n_components, 3);
    assert_int_equal(s.component[2], 2);
    assert_int_equal(s.max_core, 0);
    na_structure_free(&s);
    na_graph_free(g);
}

static void test_bowtie_structure(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(8, BOWTIE);
    na_structure s;
    /* nx.core_number: both triangles are 2-cores, the pendant 1, the isolated vertex 0. */
    static const uint32_t core[8] = {2, 2, 2, 2, 2, 2, 1, 0};

    assert_int_equal(na_structure_compute(g, &s, NULL), 0);
    assert_int_equal(s.n_articulation, 3);
    for (int v = 0; v < 8; v++) {
        bool expect = v == 2 || v == 3 || v == 5;
        if (s.articulation[v] != expect)
            fail_msg("articulation[%d] = %d, expected %d", v, s.articulation[v], expect);
        assert_int_equal(s.coreness[v], core[v]);
    }
    assert_int_equal(s.n_bridges, 2);
    assert_int_equal(s.bridges[0], 2);
    assert_int_equal(s.bridges[1], 3);
    assert_int_equal(s.bridges[2], 5);
    assert_int_equal(s.bridges[3], 6);
    assert_int_equal(s.max_core, 2);
    assert_int_equal(s.n_components, 2);
    for (int v = 0; v < 7; v++)
        assert_int_equal(s.component[v], 0);
    assert_int_equal(s.component[7], 1);
    na_structure_free(&s);
    na_graph_free(g);
}

/* Components are numbered by their smallest vertex, whatever the edge order. */
static void test_component_numbering(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(7, "5-6,3-4,1-2,0-6");
    na_structure s;
    static const uint32_t expect[7] = {0, 1, 1, 2, 2, 0, 0};

    assert_int_equal(na_structure_compute(g, &s, NULL), 0);
    assert_int_equal(s.n_components, 3);
    for (int v = 0; v < 7; v++)
        assert_int_equal(s.component[v], expect[v]);
    /* A path 5-6-0 and two single edges: all links are bridges, sorted (u < v). */
    assert_int_equal(s.n_bridges, 4);
    static const uint32_t br[8] = {0, 6, 1, 2, 3, 4, 5, 6};
    for (int i = 0; i < 8; i++)
        assert_int_equal(s.bridges[i], br[i]);
    na_structure_free(&s);
    na_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_star_centrality),
        cmocka_unit_test(test_bowtie_centrality_matches_igraph),
        cmocka_unit_test(test_eigenvector_per_component),
        cmocka_unit_test(test_empty_and_edgeless_graphs),
        cmocka_unit_test(test_bowtie_structure),
        cmocka_unit_test(test_component_numbering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
