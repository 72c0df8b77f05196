/*
 * test_whatif.c: failure specs and the what-if comparison, on graphs small enough that every
 * expected number is worked out by hand in the comments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <igraph.h>

#include "analytics/graph_internal.h"
#include "netassure/whatif.h"
#include "harness.h"

#define EPS 1e-12

static void expect_double(double got, double want, const char *what)
{
    if (fabs(got - want) > EPS)
        fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

/* igraph's global efficiency on g, as an oracle independent of our BFS. */
static double igraph_efficiency(const na_graph *g)
{
    igraph_real_t eff = 0;

    na__igraph_setup();
    assert_int_equal(igraph_global_efficiency(&g->ig, &eff, NULL, false), IGRAPH_SUCCESS);
    return eff;
}

/* Node ids with roles (NULL = none) and links "x~y" pairs, ids may contain '-'. */
static na_topology *topology_with_roles(const char *const *ids, const char *const *roles,
                                        size_t n, const char *const *links, size_t nl)
{
    na_builder *b = na_builder_new();
    na_topology *t = NULL;

    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        na_node node;
        na_node_init(&node);
        node.id = ids[i];
        node.role = roles ? roles[i] : NULL;
        assert_int_equal(na_builder_add_node(b, &node, NULL), 0);
    }
    for (size_t i = 0; i < nl; i++) {
        na_link l;
        na_link_init(&l);
        l.source = links[2 * i];
        l.target = links[2 * i + 1];
        assert_int_equal(na_builder_add_link(b, &l, NULL, NULL), 0);
    }
    assert_int_equal(na_builder_finish(b, &t, NULL), 0);
    return t;
}

static na_graph *graph_of(const na_topology *t)
{
    na_graph *g = NULL;

    assert_int_equal(na_graph_from_topology(t, &g, NULL), 0);
    return g;
}

static void add_ok(na_failure_set *set, const na_graph *g, const char *spec)
{
    na_error err;

    na_error_clear(&err);
    if (na_failure_set_add(set, g, spec, &err) != 0)
        fail_msg("--fail '%s' refused: %s", spec, err.message);
}

/* a - b - c, fail b. */
static void test_path_remove_middle(void **state)
{
    (void)state;
    na_topology *t = test_topology_from_edges("a-b,b-c");
    na_graph *g = graph_of(t);
    na_failure_set fs = {0};
    na_whatif_result r;

    add_ok(&fs, g, "b");
    assert_int_equal(fs.n_vertices, 1);
    assert_int_equal(fs.vertices[0], 1);
    assert_int_equal(na_whatif_run(g, &fs, &r, NULL), 0);
    assert_int_equal(r.components_before, 1);
    assert_int_equal(r.giant_before, 3);
    assert_int_equal(r.components_after, 2);  /* {a}, {c} */
    assert_int_equal(r.giant_after, 1);
    assert_int_equal(r.pairs_connected_before, 1);  /* only a-c survives as a pair */
    assert_int_equal(r.pairs_disconnected, 1);
    /* Before: ordered sum 2 * (1 + 1 + 1/2) = 5 over 3 * 2. After: nothing connected. */
    expect_double(r.efficiency_before, 5.0 / 6.0, "efficiency before");
    expect_double(r.efficiency_before, igraph_efficiency(g), "efficiency before vs igraph");
    expect_double(r.efficiency_after, 0.0, "efficiency after");
    expect_double(r.avg_stretch, 1.0, "stretch with no connected pair");
    assert_int_equal(r.pairs_stretched, 0);
    /* Tie between {a} and {c}: the giant holds the lowest index (a), so c is cut off. */
    assert_int_equal(r.n_isolated, 1);
    assert_int_equal(r.isolated[0], 2);
    assert_int_equal(r.n_role_loss, 0);  /* no roles */
    na_whatif_result_free(&r);
    na_whatif_result_free(&r);  /* a zeroed result is accepted */
    na_failure_set_free(&fs);
    na_graph_free(g);
    na_topology_unref(t);
}

/* 0-1-2-3-4 without a topology: vertex indexes as specs. */
static void test_path5_by_index(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(5, "0-1,1-2,2-3,3-4");
    na_failure_set fs = {0};
    na_whatif_result r;

    add_ok(&fs, g, "2");
    add_ok(&fs, g, "2");  /* duplicates are ignored */
    assert_int_equal(fs.n_vertices, 1);
    assert_int_equal(na_whatif_run(g, &fs, &r, NULL), 0);
    assert_int_equal(r.components_after, 2);
    assert_int_equal(r.giant_after, 2);
    assert_int_equal(r.pairs_connected_before, 6);  /* C(4, 2) */
    assert_int_equal(r.pairs_disconnected, 4);      /* {0,1} x {3,4} */
    /* P5: 4 pairs at 1, 3 at 2, 2 at 3, 1 at 4: 4 + 3/2 + 2/3 + 1/4 = 77/12; x2 / 20. */
    expect_double(r.efficiency_before, 77.0 / 120.0, "efficiency before");
    expect_double(r.efficiency_before, igraph_efficiency(g), "efficiency before vs igraph");
    /* After, n' = 4: pairs 0-1 and 3-4 at distance 1: 2 * 2 / (4 * 3). */
    expect_double(r.efficiency_after, 1.0 / 3.0, "efficiency after");
    expect_double(r.avg_stretch, 1.0, "stretch");
    assert_int_equal(r.n_isolated, 2);
    assert_int_equal(r.isolated[0], 3);
    assert_int_equal(r.isolated[1], 4);
    na_whatif_result_free(&r);
    na_failure_set_free(&fs);
    na_graph_free(g);
}

/* Ring 0..5, fail 0: what is left is the path 1-2-3-4-5. */
static void test_ring_remove_one_stretch(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(6, "0-1,1-2,2-3,3-4,4-5,5-0");
    na_failure_set fs = {0};
    na_whatif_result r;

    add_ok(&fs, g, "0");
    assert_int_equal(na_whatif_run(g, &fs, &r, NULL), 0);
    assert_int_equal(r.components_before, 1);
    assert_int_equal(r.components_after, 1);
    assert_int_equal(r.giant_after, 5);
    assert_int_equal(r.pairs_connected_before, 10);
    assert_int_equal(r.pairs_disconnected, 0);
    /*
     * Pair (i, j), 1 <= i < j <= 5: after = j - i, before = min(j - i, 6 - (j - i)). Only (1, 5)
     * changes: 2 -> 4. Stretch = (9 * 1 + 4/2) / 10 = 1.1.
     */
    assert_int_equal(r.pairs_stretched, 1);
    expect_double(r.avg_stretch, 1.1, "avg stretch");
    /* C6: per vertex 2 * 1 + 2 * 1/2 + 1/3 = 10/3, times 6 over 30 = 2/3. After: P5 = 77/120. */
    expect_double(r.efficiency_before, 2.0 / 3.0, "efficiency before");
    expect_double(r.efficiency_after, 77.0 / 120.0, "efficiency after");
    assert_int_equal(r.n_isolated, 0);
    na_whatif_result_free(&r);
    na_failure_set_free(&fs);

    /* Ring of 8, fail 0: (1,6) and (2,7) go 3 -> 5, (1,7) goes 2 -> 6; 18 pairs unchanged. */
    na_graph *g8 = test_graph_from_edges(8, "0-1,1-2,2-3,3-4,4-5,5-6,6-7,7-0");
    add_ok(&fs, g8, "0");
    assert_int_equal(na_whatif_run(g8, &fs, &r, NULL), 0);
    assert_int_equal(r.pairs_stretched, 3);
    expect_double(r.avg_stretch, (18.0 + 2 * 5.0 / 3.0 + 3.0) / 21.0, "avg stretch C8");
    na_whatif_result_free(&r);
    na_failure_set_free(&fs);
    na_graph_free(g8);
    na_graph_free(g);
}

static const char *const fabric_ids[] = {"s1", "s2", "s3", "l1", "l2", "l3", "l4"};
static const char *const fabric_roles[] = {"spine", "spine", "spine", "leaf", "leaf", "leaf",
                                           "leaf"};

/* Every spine linked to every leaf. */
static na_topology *fabric(size_t spines)
{
    const char *links[2 * 3 * 4];
    const char *ids[7], *roles[7];
    size_t nl = 0, n = 0;

    for (size_t s = 0; s < spines; s++) {
        ids[n] = fabric_ids[s];
        roles[n++] = fabric_roles[s];
    }
    for (size_t l = 3; l < 7; l++) {
        ids[n] = fabric_ids[l];
        roles[n++] = fabric_roles[l];
    }
    for (size_t s = 0; s < spines; s++) {
        for (size_t l = 3; l < 7; l++) {
            links[2 * nl] = fabric_ids[s];
            links[2 * nl + 1] = fabric_ids[l];
            nl++;
        }
    }
    return topology_with_roles(ids, roles, n, links, nl);
}

static const na_role_loss *find_loss(const na_whatif_result *r, const char *from, const char *to)
{
    for (size_t i = 0; i < r->n_role_loss; i++)
        if (strcmp(r->role_loss[i].from_role, from) == 0 && strcmp(r->role_loss[i].to_role, to) == 0)
            return &r->role_loss[i];
    fail_msg("no role loss entry %s -> %s", from, to);
    return NULL;
}

static void expect_loss(const na_whatif_result *r, const char *from, const char *to,
                        size_t cut, size_t total)
{
    const na_role_loss *rl = find_loss(r, from, to);

    if (rl->nodes_cut_off != cut || rl->nodes_total != total)
        fail_msg("%s -> %s: got %zu of %zu cut off, want %zu of %zu", from, to,
                 rl->nodes_cut_off, rl->nodes_total, cut, total);
}

static void test_fabric_lose_all_spines(void **state)
{
    (void)state;
    na_topology *t = fabric(3);
    na_graph *g = graph_of(t);
    na_failure_set fs = {0};
    na_whatif_result r;

    add_ok(&fs, g, "s1");
    add_ok(&fs, g, "s2");
    add_ok(&fs, g, "s3");
    assert_int_equal(na_whatif_run(g, &fs, &r, NULL), 0);
    /* Ordered pairs of roles, sorted: leaf-leaf, leaf-spine, spine-leaf, spine-spine. */
    assert_int_equal(r.n_role_loss, 4);
    assert_string_equal(r.role_loss[0].from_role, "leaf");
    assert_string_equal(r.role_loss[0].to_role, "leaf");
    assert_string_equal(r.role_loss[1].to_role, "spine");
    assert_string_equal(r.role_loss[2].from_role, "spine");
    expect_loss(&r, "leaf", "spine", 4, 4);
    expect_loss(&r, "leaf", "leaf", 4, 4);
    expect_loss(&r, "spine", "leaf", 0, 0);  /* no spine survives */
    expect_loss(&r, "spine", "spine", 0, 0);
    assert_int_equal(r.components_after, 4);
    assert_int_equal(r.giant_after, 1);
    assert_int_equal(r.pairs_connected_before, 6);
    assert_int_equal(r.pairs_disconnected, 6);
    /* Giant = l1 (index 3) by the lowest-index tie rule; l2..l4 are cut off. */
    assert_int_equal(r.n_isolated, 3);
    assert_int_equal(r.isolated[0], 4);
    assert_int_equal(r.isolated[2], 6);
    na_whatif_result_free(&r);
    na_failure_set_free(&fs);
    na_graph_free(g);
    na_topology_unref(t);
}

static void test_fabric_lose_one_spine(void **state)
{
    (void)state;
    na_topology *t = fabric(3);
    na_graph *g = graph_of(t);
    na_failure_set fs = {0};
    na_whatif_result r;

    add_ok(&fs, g, "s2");
    assert_int_equal(na_whatif_run(g, &fs, &r, NULL), 0);
    expect_loss(&r, "leaf", "spine", 0, 4);
    expect_loss(&r, "leaf", "leaf", 0, 4);
    expect_loss(&r, "spine", "leaf", 0, 2);
    expect_loss(&r, "spine", "spine", 0, 2);
    assert_int_equal(r.pairs_disconnected, 0);
    assert_int_equal(r.pairs_stretched, 0);
    expect_double(r.avg_stretch, 1.0, "stretch");
    /*
     * Before (n = 7): 12 spine-leaf pairs at 1, 3 spine-spine + 6 leaf-leaf at 2: 16.5, x2 / 42.
     * After (n' = 6): 8 at 1, 1 + 6 at 2: 11.5, x2 / 30.
     */
    expect_double(r.efficiency_before, 33.0 / 42.0, "efficiency before");
    expect_double(r.efficiency_before, igraph_efficiency(g), "efficiency before vs igraph");
    expect_double(r.efficiency_after, 23.0 / 30.0, "efficiency after");
    assert_int_equal(r.n_isolated, 0);
    na_whatif_result_free(&r);
    na_failure_set_free(&fs);
    na_graph_free(g);
    na_topology_unref(t);

    /* With two spines, the survivor has no other spine left: spine -> spine loses 1 of 1. */
    t = fabric(2);
    g = graph_of(t);
    add_ok(&fs, g, "s1");
    assert_int_equal(na_whatif_run(g, &fs, &r, NULL), 0);
    expect_loss(&r, "spine", "spine", 1, 1);
    expect_loss(&r, "leaf", "spine", 0, 4);
    na_whatif_result_free(&r);
    na_failure_set_free(&fs);
    na_graph_free(g);
    na_topology_unref(t);
}

/* Triangle a, b, c: failing link a-b makes a-b go the long way (2). */
static void test_link_failure_by_endpoints_and_id(void **state)
{
    (void)state;
    na_topology *t = test_topology_from_edges("a-b,b-c,c-a,a-b");
    na_graph *g = graph_of(t);
    na_failure_set fs = {0};
    na_whatif_result r;
    size_t e;

    assert_int_equal(na_graph_find_edge(g, 0, 1, &e), 0);
    add_ok(&fs, g, "a-b");
    assert_int_equal(fs.n_edges, 1);
    assert_int_equal(fs.edges[0], e);
    add_ok(&fs, g, "b-a");
    add_ok(&fs, g, "a--b");   /* link id */
    add_ok(&fs, g, "a--b#2"); /* a parallel link fails the same collapsed edge */
    assert_int_equal(fs.n_edges, 1);
    assert_int_equal(fs.n_vertices, 0);
    assert_int_equal(na_whatif_run(g, &fs, &r, NULL), 0);
    assert_int_equal(r.components_after, 1);
    assert_int_equal(r.pairs_connected_before, 3);
    assert_int_equal(r.pairs_disconnected, 0);
    assert_int_equal(r.pairs_stretched, 1);
    expect_double(r.avg_stretch, 4.0 / 3.0, "stretch");
    /* After: 2 pairs at 1, one at 2: 2.5 x 2 / 6. */
    expect_double(r.efficiency_after, 5.0 / 6.0, "efficiency after");
    na_whatif_result_free(&r);
    na_failure_set_free(&fs);

    /* The same by link id alone. */
    add_ok(&fs, g, "b--c");
    assert_int_equal(na_graph_find_edge(g, 1, 2, &e), 0);
    assert_int_equal(fs.n_edges, 1);
    assert_int_equal(fs.edges[0], e);
    na_failure_set_free(&fs);
    na_graph_free(g);
    na_topology_unref(t);

    /* Without a topology, "U-V" names the edge. */
    g = test_graph_from_edges(3, "0-1,1-2");
    add_ok(&fs, g, "2-1");
    assert_int_equal(na_graph_find_edge(g, 1, 2, &e), 0);
    assert_int_equal(fs.n_edges, 1);
    assert_int_equal(fs.edges[0], e);
    na_failure_set_free(&fs);
    na_graph_free(g);
}

/* Node ids with '-': an exact node id wins, else every split is tried. */
static void test_dashed_node_ids(void **state)
{
    (void)state;
    static const char *const ids[] = {"r", "r-1", "r-2", "1-r"};
    static const char *const links[] = {"r-1", "r-2", "r", "1-r"};
    na_topology *t = topology_with_roles(ids, NULL, 4, links, 2);
    na_graph *g = graph_of(t);
    na_failure_set fs = {0};
    size_t e;

    add_ok(&fs, g, "r-1");
    assert_int_equal(fs.n_vertices, 1);
    assert_int_equal(fs.vertices[0], 1);
    /* Splits: "r" + "1-r-2" (no such node), then "r-1" + "r-2": the link. */
    add_ok(&fs, g, "r-1-r-2");
    assert_int_equal(na_graph_find_edge(g, 1, 2, &e), 0);
    assert_int_equal(fs.n_edges, 1);
    assert_int_equal(fs.edges[0], e);
    /* "r" + "1-r": the second link, found at the first split. */
    add_ok(&fs, g, "r-1-r");
    assert_int_equal(na_graph_find_edge(g, 0, 3, &e), 0);
    assert_int_equal(fs.n_edges, 2);
    assert_int_equal(fs.edges[1], e);
    na_failure_set_free(&fs);
    na_graph_free(g);
    na_topology_unref(t);
}

static void expect_not_found(const na_graph *g, const char *spec)
{
    na_failure_set fs = {0};
    na_error err;
    int rc;

    na_error_clear(&err);
    rc = na_failure_set_add(&fs, g, spec, &err);
    if (rc != NA_ENOTFOUND)
        fail_msg("'%s': got rc %d, want NA_ENOTFOUND (%d)", spec, rc, NA_ENOTFOUND);
    if (!strstr(err.message, spec))
        fail_msg("'%s': message does not name it: %s", spec, err.message);
    assert_int_equal(fs.n_vertices + fs.n_edges, 0);
    na_failure_set_free(&fs);
}

static void test_unknown_specs(void **state)
{
    (void)state;
    na_topology *t = test_topology_from_edges("a-b,b-c");
    na_graph *g = graph_of(t);
    na_graph *plain = test_graph_from_edges(5, "0-1,1-2");
    na_failure_set fs = {0};

    expect_not_found(g, "zz");
    expect_not_found(g, "a-zz");
    expect_not_found(g, "a-c");   /* both nodes exist, no link */
    expect_not_found(g, "a-a");
    expect_not_found(g, "-");
    expect_not_found(plain, "5");  /* out of range */
    expect_not_found(plain, "0-2");
    expect_not_found(plain, "+1");
    expect_not_found(plain, "a");
    assert_int_equal(na_failure_set_add(&fs, g, "", NULL), NA_EINVAL);
    na_failure_set_free(&fs);
    na_graph_free(plain);
    na_graph_free(g);
    na_topology_unref(t);
}

/* A down link is not in the graph: naming it fails nothing and is not an error. */
static void test_down_link_is_a_no_op(void **state)
{
    (void)state;
    na_topology *t = test_topology_from_edges("a-b,b-c"), *t2 = NULL;
    na_delta *d = na_delta_new();
    na_delta_op op;
    na_graph *g;
    na_failure_set fs = {0};

    memset(&op, 0, sizeof(op));
    na_node_init(&op.node);
    na_link_init(&op.link);
    op.kind = NA_DELTA_LINK_UPDATE;
    op.link.id = "a--b";
    op.link.status = NA_STATUS_DOWN;
    op.fields = NA_FIELD_STATUS;
    assert_int_equal(na_delta_append(d, &op), 0);
    assert_int_equal(na_topology_apply_delta(t, d, &t2, NULL), 0);
    g = graph_of(t2);
    assert_int_equal(na_graph_edge_count(g), 1);
    add_ok(&fs, g, "a--b");
    add_ok(&fs, g, "a-b");
    assert_int_equal(fs.n_edges + fs.n_vertices, 0);
    na_failure_set_free(&fs);
    na_graph_free(g);
    na_delta_free(d);
    na_topology_unref(t2);
    na_topology_unref(t);
}

static void test_empty_failure_and_bad_index(void **state)
{
    (void)state;
    na_graph *g = test_graph_from_edges(4, "0-1,2-3");
    na_failure_set fs = {0};
    na_whatif_result r;
    uint32_t bad = 9;

    assert_int_equal(na_whatif_run(g, &fs, &r, NULL), 0);
    assert_int_equal(r.components_before, 2);
    assert_int_equal(r.components_after, 2);
    assert_int_equal(r.pairs_connected_before, 2);
    assert_int_equal(r.pairs_disconnected, 0);
    expect_double(r.efficiency_after, r.efficiency_before, "efficiency unchanged");
    expect_double(r.efficiency_before, igraph_efficiency(g), "efficiency vs igraph");
    /* Already outside the giant ({0,1} by the tie rule) before anything failed: still listed. */
    assert_int_equal(r.n_isolated, 2);
    na_whatif_result_free(&r);

    fs.vertices = &bad;
    fs.n_vertices = 1;
    assert_int_equal(na_whatif_run(g, &fs, &r, NULL), NA_EINVAL);
    assert_null(r.isolated);
    na_graph_free(g);
}

/* Efficiency before/after against igraph on a bigger random graph, after = induced subgraph. */
static void test_efficiency_matches_igraph_on_random_graph(void **state)
{
    (void)state;
    enum { N = 60, M = 110 };
    uint32_t edges[2 * M], x = 12345;
    na_graph *g = NULL, *sub = NULL;
    na_failure_set fs = {0};
    na_whatif_result r;
    uint32_t keep_map[N], kept = 0, sub_edges[2 * M];
    size_t sm = 0;
    bool dead[N] = {false};

    for (size_t k = 0; k < 2 * M; k++) {
        x = x * 1103515245u + 12345u;
        edges[k] = (x >> 8) % N;
    }
    assert_int_equal(na_graph_from_edges(N, edges, M, &g, NULL), 0);
    for (uint32_t v = 0; v < N; v += 7) {
        char spec[16];
        snprintf(spec, sizeof(spec), "%u", (unsigned)v);
        add_ok(&fs, g, spec);
        dead[v] = true;
    }
    assert_int_equal(na_whatif_run(g, &fs, &r, NULL), 0);
    expect_double(r.efficiency_before, igraph_efficiency(g), "efficiency before vs igraph");
    for (uint32_t v = 0; v < N; v++)
        keep_map[v] = dead[v] ? UINT32_MAX : kept++;
    for (size_t e = 0; e < na_graph_edge_count(g); e++) {
        uint32_t u, v;
        na_graph_edge(g, e, &u, &v);
        if (dead[u] || dead[v])
            continue;
        sub_edges[2 * sm] = keep_map[u];
        sub_edges[2 * sm + 1] = keep_map[v];
        sm++;
    }
    assert_int_equal(na_graph_from_edges(kept, sub_edges, sm, &sub, NULL), 0);
    expect_double(r.efficiency_after, igraph_efficiency(sub), "efficiency after vs igraph");
    na_whatif_result_free(&r);
    na_failure_set_free(&fs);
    na_graph_free(sub);
    na_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_remove_middle),
        cmocka_unit_test(test_path5_by_index),
        cmocka_unit_test(test_ring_remove_one_stretch),
        cmocka_unit_test(test_fabric_lose_all_spines),
        cmocka_unit_test(test_fabric_lose_one_spine),
        cmocka_unit_test(test_link_failure_by_endpoints_and_id),
        cmocka_unit_test(test_dashed_node_ids),
        cmocka_unit_test(test_unknown_specs),
        cmocka_unit_test(test_down_link_is_a_no_op),
        cmocka_unit_test(test_empty_failure_and_bad_index),
        cmocka_unit_test(test_efficiency_matches_igraph_on_random_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
