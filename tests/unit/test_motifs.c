/*
 * test_motifs.c: census of connected induced subgraphs of 3 and 4 vertices.
 *
 * Small cases are counted by hand in the comments. The bowtie, Petersen and wheel counts were
 * obtained once by brute force in Python (every 3- and 4-subset of nodes, the induced subgraph
 * named by its sorted degree sequence, NetworkX 2.8.8), and python-igraph's motifs_randesu
 * agreed on the bowtie.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "netassure/motifs.h"
#include "harness.h"

/* Expected counts, in the order of na_motifs: path3, triangle; star, path, paw, cycle,
 * diamond, clique. */
typedef struct expected {
    double c3[2];
    double c4[6];
} expected;

static void check_census(size_t n, const char *edges, const expected *want)
{
    static const char *names3[2] = {"path", "triangle"};
    static const char *names4[6] = {"star", "path", "paw", "cycle", "diamond", "clique"};
    na_graph *g = test_graph_from_edges(n, edges);
    na_motifs m;
    na_error err;

    if (na_motifs_census(g, &m, &err) != 0)
        fail_msg("census failed: %s", err.message);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(m.size3[i].name, names3[i]);
        if (m.size3[i].count != want->c3[i])
            fail_msg("%s: size-3 %s = %g, expected %g", edges, names3[i], m.size3[i].count,
                     want->c3[i]);
    }
    for (int i = 0; i < 6; i++) {
        assert_string_equal(m.size4[i].name, names4[i]);
        if (m.size4[i].count != want->c4[i])
            fail_msg("%s: size-4 %s = %g, expected %g", edges, names4[i], m.size4[i].count,
                     want->c4[i]);
    }
    na_graph_free(g);
}

static void test_k4(void **state)
{
    (void)state;
    /* Every 3-subset is a triangle (C(4,3) = 4); the only 4-subset is the clique. */
    expected want = {{0, 4}, {0, 0, 0, 0, 0, 1}};
    check_census(4, "0-1,0-2,0-3,1-2,1-3,2-3", &want);
}

static void test_star_of_five(void **state)
{
    (void)state;
    /* Centre + 4 leaves: a 3-path per pair of leaves, C(4,2) = 6; a 4-star per triple of
     * leaves, C(4,3) = 4; subsets without the centre are not connected. */
    expected want = {{6, 0}, {4, 0, 0, 0, 0, 0}};
    check_census(5, "0-1,0-2,0-3,0-4", &want);
}

static void test_four_cycle_and_small_shapes(void **state)
{
    (void)state;
    /* C4: each vertex is the middle of one 3-path; the 4-set is the cycle. */
    expected cycle = {{4, 0}, {0, 0, 0, 1, 0, 0}};
    /* P4: two 3-paths, one 4-path. */
    expected path = {{2, 0}, {0, 1, 0, 0, 0, 0}};
    /* Paw (triangle 0-1-2 + tail 2-3): triangle, 3-paths 0-2-3 and 1-2-3. */
    expected paw = {{2, 1}, {0, 0, 1, 0, 0, 0}};
    /* Diamond (K4 minus 0-3): triangles 012, 123; 3-paths 0-1-3, 0-2-3. */
    expected diamond = {{2, 2}, {0, 0, 0, 0, 1, 0}};

    check_census(4, "0-1,1-2,2-3,3-0", &cycle);
    check_census(4, "0-1,1-2,2-3", &path);
    check_census(4, "0-1,1-2,0-2,2-3", &paw);
    check_census(4, "0-1,0-2,1-2,1-3,2-3", &diamond);
}

static void test_larger_graphs_match_brute_force(void **state)
{
    (void)state;
    expected bowtie = {{6, 2}, {0, 5, 3, 0, 0, 0}};
    expected petersen = {{30, 0}, {10, 60, 0, 0, 0, 0}};
    expected wheel = {{10, 5}, {0, 5, 5, 0, 5, 0}};

    /* Two triangles joined by 2-3, a pendant on 5, isolated 7. */
    check_census(8, "0-1,1-2,0-2,2-3,3-4,4-5,3-5,5-6", &bowtie);
    check_census(10, "0-1,0-4,0-5,1-2,1-6,2-3,2-7,3-4,3-8,4-9,5-7,5-8,6-8,6-9,7-9", &petersen);
    /* nx.wheel_graph(6): hub 0, rim 1..5. */
    check_census(6, "0-1,0-2,0-3,0-4,0-5,1-2,2-3,3-4,4-5,5-1", &wheel);
}

static void test_tiny_and_empty_graphs(void **state)
{
    (void)state;
    expected none = {{0, 0}, {0, 0, 0, 0, 0, 0}};
    expected tri = {{0, 1}, {0, 0, 0, 0, 0, 0}};
    na_graph *g = NULL;
    na_motifs m;

    assert_int_equal(na_graph_from_edges(0, NULL, 0, &g, NULL), 0);
    assert_int_equal(na_motifs_census(g, &m, NULL), 0);
    assert_string_equal(m.size4[5].name, "clique");
    assert_true(m.size3[0].count == 0 && m.size4[0].count == 0);
    na_graph_free(g);
    check_census(2, "0-1", &none);
    check_census(3, "0-1,1-2,2-0", &tri);
    check_census(6, "", &none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_k4),
        cmocka_unit_test(test_star_of_five),
        cmocka_unit_test(test_four_cycle_and_small_shapes),
        cmocka_unit_test(test_larger_graphs_match_brute_force),
        cmocka_unit_test(test_tiny_and_empty_graphs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
