/*
 * test_cluster_types.c: snake, circle, hub-and-spoke and mesh (docs/cluster-types.md), and the
 * cluster list built from components and communities.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netassure/clusters.h"
#include "harness.h"

static void assert_type(na_cluster_type got, na_cluster_type want, const char *what)
{
    if (got != want)
        fail_msg("%s: %s, expected %s", what, na_cluster_type_name(got),
                 na_cluster_type_name(want));
}

/* Type of the whole graph n / spec. */
static na_cluster_type whole(size_t n, const char *spec)
{
    na_graph *g = test_graph_from_edges(n, spec);
    uint32_t members[64];
    na_cluster_type t;

    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++)
        members[i] = (uint32_t)i;
    t = na_cluster_type_classify(g, members, n);
    na_graph_free(g);
    return t;
}

/* "0-1,1-2,...,(n-2)-(n-1)" plus, if ring, "(n-1)-0". */
static void chain_spec(size_t n, bool ring, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i + 1 < n; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%zu-%zu", i ? "," : "", i, i + 1);
    if (ring)
        snprintf(buf + used, len - used, ",%zu-0", n - 1);
}

static void test_paths_are_snakes(void **state)
{
    (void)state;
    char spec[512];

    for (size_t n = 2; n <= 12; n++) {
        chain_spec(n, false, spec, sizeof(spec));
        assert_type(whole(n, spec), NA_CLUSTER_SNAKE, spec);
    }
    /* Vertex order does not matter: 3-0-2-1. */
    assert_type(whole(4, "3-0,0-2,2-1"), NA_CLUSTER_SNAKE, "shuffled path");
}

static void test_rings_are_circles(void **state)
{
    (void)state;
    char spec[512];

    for (size_t n = 3; n <= 12; n++) {
        chain_spec(n, true, spec, sizeof(spec));
        assert_type(whole(n, spec), NA_CLUSTER_CIRCLE, spec);
    }
}

static void test_stars_and_wheels_are_hubs(void **state)
{
    (void)state;
    assert_type(whole(4, "0-1,0-2,0-3"), NA_CLUSTER_HUB_AND_SPOKE, "star of 4");
    assert_type(whole(7, "3-0,3-1,3-2,3-4,3-5,3-6"), NA_CLUSTER_HUB_AND_SPOKE, "star of 7");
    /* A star is a tree with n - 1 links: the seed's snake formula would call it a snake. */
    /* Wheel: hub 0 plus a rim of 5; spokes touching each other still have one hub. */
    assert_type(whole(6, "0-1,0-2,0-3,0-4,0-5,1-2,2-3,3-4,4-5,5-1"), NA_CLUSTER_HUB_AND_SPOKE,
                "wheel of 6");
    /* Star with one extra spoke-spoke link. */
    assert_type(whole(5, "0-1,0-2,0-3,0-4,1-2"), NA_CLUSTER_HUB_AND_SPOKE, "star + chord");
}

static void test_complete_graphs_and_trees_are_meshes(void **state)
{
    (void)state;
    /* K4, K5: every node is adjacent to all others, so no single hub. */
    assert_type(whole(4, "0-1,0-2,0-3,1-2,1-3,2-3"), NA_CLUSTER_MESH, "K4");
    assert_type(whole(5, "0-1,0-2,0-3,0-4,1-2,1-3,1-4,2-3,2-4,3-4"), NA_CLUSTER_MESH, "K5");
    /* K4 minus one link: two nodes adjacent to all others. */
    assert_type(whole(4, "0-1,0-2,1-2,1-3,2-3"), NA_CLUSTER_MESH, "diamond");
    /* A tree that is neither a path nor a star (a spider with legs of 2). */
    assert_type(whole(7, "0-1,1-2,0-3,3-4,0-5,5-6"), NA_CLUSTER_MESH, "spider");
    /* A binary tree of 7. */
    assert_type(whole(7, "0-1,0-2,1-3,1-4,2-5,2-6"), NA_CLUSTER_MESH, "binary tree");
    /* Two stars joined centre to centre. */
    assert_type(whole(8, "0-1,0-2,0-3,4-5,4-6,4-7,0-4"), NA_CLUSTER_MESH, "two stars");
    /* Ring with a chord, and a ring with a tail. */
    assert_type(whole(6, "0-1,1-2,2-3,3-4,4-5,5-0,0-3"), NA_CLUSTER_MESH, "ring + chord");
    assert_type(whole(5, "0-1,1-2,2-3,3-0,3-4"), NA_CLUSTER_MESH, "ring + tail");
}

static void test_smallest_clusters(void **state)
{
    (void)state;
    /* n = 1: connected, 0 = n - 1 links, max degree 0: the trivial chain. */
    assert_type(whole(1, ""), NA_CLUSTER_SNAKE, "single node");
    /* n = 2 with its link: a chain of one link. */
    assert_type(whole(2, "0-1"), NA_CLUSTER_SNAKE, "one link");
    /* n = 2 without: disconnected. */
    assert_type(whole(2, ""), NA_CLUSTER_MESH, "two apart");
    /* n = 3 path: a snake, even though its middle node is also a hub. */
    assert_type(whole(3, "0-1,1-2"), NA_CLUSTER_SNAKE, "path of 3");
    assert_type(whole(3, "0-1,1-2,2-0"), NA_CLUSTER_CIRCLE, "triangle");
    assert_type(whole(3, "0-1"), NA_CLUSTER_MESH, "link + lone node");
}

static void test_disconnected_member_sets_are_meshes(void **state)
{
    (void)state;
    /* A path 0-1-2 and a link 3-4: n - 1 = 4 links would need one more; max degree 2. */
    assert_type(whole(5, "0-1,1-2,3-4"), NA_CLUSTER_MESH, "path + link");
    /* Triangle + link: 5 nodes, 4 = n - 1 links, max degree 2, but not one chain. */
    assert_type(whole(5, "0-1,1-2,2-0,3-4"), NA_CLUSTER_MESH, "triangle + link");
    /* Two triangles: every degree is 2, but two circles are not one circle. */
    assert_type(whole(6, "0-1,1-2,2-0,3-4,4-5,5-3"), NA_CLUSTER_MESH, "two triangles");
    /* Empty member set. */
    na_graph *g = test_graph_from_edges(2, "0-1");
    assert_type(na_cluster_type_classify(g, NULL, 0), NA_CLUSTER_MESH, "no members");
    na_graph_free(g);
}

/* Degrees are counted inside the member set, not in the whole graph. */
static void test_induced_subgraph_of_a_larger_graph(void **state)
{
    (void)state;
    /* Wheel: hub 0, rim 1..6. */
    na_graph *g = test_graph_from_edges(7, "0-1,0-2,0-3,0-4,0-5,0-6,1-2,2-3,3-4,4-5,5-6,6-1");
    uint32_t rim[6] = {1, 2, 3, 4, 5, 6};
    uint32_t arc[4] = {2, 3, 4, 5};
    uint32_t fan[4] = {0, 2, 4, 6};
    uint32_t messy[9] = {5, 3, 99, 4, 2, 3, 7, 2, 5};   /* = {2, 3, 4, 5}, with junk */

    assert_type(na_cluster_type_classify(g, rim, 6), NA_CLUSTER_CIRCLE, "rim");
    assert_type(na_cluster_type_classify(g, arc, 4), NA_CLUSTER_SNAKE, "arc");
    assert_type(na_cluster_type_classify(g, fan, 4), NA_CLUSTER_HUB_AND_SPOKE, "hub + 3 spokes");
    assert_type(na_cluster_type_classify(g, messy, 9), NA_CLUSTER_SNAKE, "unsorted arc");
    na_graph_free(g);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(na_cluster_type_name(NA_CLUSTER_SNAKE), "snake");
    assert_string_equal(na_cluster_type_name(NA_CLUSTER_CIRCLE), "circle");
    assert_string_equal(na_cluster_type_name(NA_CLUSTER_HUB_AND_SPOKE), "hub-and-spoke");
    assert_string_equal(na_cluster_type_name(NA_CLUSTER_MESH), "mesh");
}

/*
 * Components: a star 0..3, a ring 4..7, a path 8-9, an isolated 10. Communities (given by
 * hand): {0,1,4,5} (disconnected: two links), the rest by component.
 */
static void test_cluster_list(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(11, "0-1,0-2,0-3,4-5,5-6,6-7,7-4,8-9");
    na_structure s;
    na_cluster_list l;
    uint32_t memb[11] = {0, 0, 1, 1, 0, 0, 2, 2, 3, 3, 4};
    na_communities comm = {.n = 11, .membership = memb, .count = 5};
    static const na_cluster_type comp_types[4] = {NA_CLUSTER_HUB_AND_SPOKE, NA_CLUSTER_CIRCLE,
                                                  NA_CLUSTER_SNAKE, NA_CLUSTER_SNAKE};
    static const size_t comp_links[4] = {3, 4, 1, 0};
    static const na_cluster_type comm_types[5] = {NA_CLUSTER_MESH, NA_CLUSTER_MESH,
                                                  NA_CLUSTER_SNAKE, NA_CLUSTER_SNAKE,
                                                  NA_CLUSTER_SNAKE};
    na_error err;

    assert_int_equal(na_structure_compute(g, &s, NULL), 0);
    assert_int_equal(na_clusters_compute(g, &s, NULL, &l, &err), 0);
    assert_int_equal(l.count, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(l.items[i].kind, NA_CLUSTER_COMPONENT);
        assert_int_equal(l.items[i].index, i);
        assert_int_equal(l.items[i].internal_links, comp_links[i]);
        assert_type(l.items[i].type, comp_types[i], "component");
    }
    assert_int_equal(l.items[1].n_members, 4);
    assert_int_equal(l.items[1].members[0], 4);
    assert_int_equal(l.items[1].members[3], 7);
    na_cluster_list_free(&l);
    na_cluster_list_free(&l);

    assert_int_equal(na_clusters_compute(g, &s, &comm, &l, &err), 0);
    assert_int_equal(l.count, 9);
    for (size_t i = 0; i < 5; i++) {
        const na_cluster *c = &l.items[4 + i];
        assert_int_equal(c->kind, NA_CLUSTER_COMMUNITY);
        assert_int_equal(c->index, i);
        assert_type(c->type, comm_types[i], "community");
    }
    /* Community 0 = {0, 1, 4, 5}: links 0-1 and 4-5, two pieces. */
    assert_int_equal(l.items[4].n_members, 4);
    assert_int_equal(l.items[4].internal_links, 2);
    assert_int_equal(l.items[4].members[2], 4);
    na_cluster_list_free(&l);

    /* Mismatched sizes and labels are refused. */
    comm.n = 10;
    assert_int_equal(na_clusters_compute(g, &s, &comm, &l, &err), NA_EINVAL);
    assert_null(l.items);
    comm.n = 11;
    memb[3] = 9;
    assert_int_equal(na_clusters_compute(g, &s, &comm, &l, &err), NA_EINVAL);
    assert_null(l.items);
    na_structure_free(&s);
    na_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_are_snakes),
        cmocka_unit_test(test_rings_are_circles),
        cmocka_unit_test(test_stars_and_wheels_are_hubs),
        cmocka_unit_test(test_complete_graphs_and_trees_are_meshes),
        cmocka_unit_test(test_smallest_clusters),
        cmocka_unit_test(test_disconnected_member_sets_are_meshes),
        cmocka_unit_test(test_induced_subgraph_of_a_larger_graph),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_cluster_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
