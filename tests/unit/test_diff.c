/*
 * test_diff.c: topology diffs: added / removed / changed nodes and links, attribute changes,
 * links matched by endpoints when their ids differ, ordering and value rendering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "netassure/diff.h"
#include "harness.h"

static void add_node(na_builder *b, const char *id, const char *role, int64_t asn, double lat,
                     const na_attr *attrs, size_t n_attrs)
{
    na_node n;

    na_node_init(&n);
    n.id = id;
    n.role = role;
    n.asn = asn;
    n.latitude = lat;
    n.attrs = attrs;
    n.n_attrs = n_attrs;
    assert_int_equal(na_builder_add_node(b, &n, NULL), 0);
}

static void add_link(na_builder *b, const char *id, const char *src, const char *dst,
                     double capacity)
{
    na_link l;

    na_link_init(&l);
    l.id = id;
    l.source = src;
    l.target = dst;
    l.capacity = capacity;
    assert_int_equal(na_builder_add_link(b, &l, NULL, NULL), 0);
}

static na_topology *finish(na_builder *b)
{
    na_topology *t = NULL;

    assert_int_equal(na_builder_finish(b, &t, NULL), 0);
    return t;
}

static const na_diff_item *find_item(const na_diff_result *r, bool is_link, const char *id)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i].is_link == is_link && strcmp(r->items[i].id, id) == 0)
            return &r->items[i];
    fail_msg("no diff item for %s '%s'", is_link ? "link" : "node", id);
    return NULL;
}

static void expect_kind(const na_diff_item *it, na_diff_kind kind)
{
    if (it->kind != kind)
        fail_msg("'%s': kind %d, want %d", it->id, (int)it->kind, (int)kind);
}

static void expect_change(const na_diff_item *it, const char *field, const char *before,
                          const char *after)
{
    for (size_t i = 0; i < it->n_changes; i++) {
        const na_diff_change *c = &it->changes[i];
        if (strcmp(c->field, field) != 0)
            continue;
        if (strcmp(c->before, before) != 0 || strcmp(c->after, after) != 0)
            fail_msg("'%s' %s: got '%s' -> '%s', want '%s' -> '%s'", it->id, field, c->before,
                     c->after, before, after);
        return;
    }
    fail_msg("'%s': no change of field %s (%zu changes)", it->id, field, it->n_changes);
}

static void test_identical_topologies(void **state)
{
    (void)state;
    na_topology *t = test_topology_from_edges("a-b,b-c,c-a,a-b");
    na_topology *u = test_topology_from_edges("a-b,b-c,c-a,a-b");
    na_diff_result r;

    assert_int_equal(na_diff_topologies(t, t, &r, NULL), 0);
    assert_int_equal(r.count, 0);
    na_diff_result_free(&r);
    assert_int_equal(na_diff_topologies(t, u, &r, NULL), 0);
    if (r.count != 0)
        fail_msg("equal topologies differ: %zu items, first '%s'", r.count, r.items[0].id);
    assert_int_equal(r.nodes_added + r.nodes_removed + r.nodes_changed, 0);
    assert_int_equal(r.links_added + r.links_removed + r.links_changed, 0);
    na_diff_result_free(&r);
    na_diff_result_free(&r);  /* zeroed: accepted */
    na_topology_unref(u);
    na_topology_unref(t);
}

static void test_nodes_added_removed_changed(void **state)
{
    (void)state;
    const na_attr attrs_a[] = {
        {.key = "vendor", .value = {.type = NA_VAL_STRING, .u.s = "acme"}},
        {.key = "rack", .value = {.type = NA_VAL_INT, .u.i = 7}},
        {.key = "gone", .value = {.type = NA_VAL_BOOL, .u.b = true}},
    };
    const na_attr attrs_b[] = {
        {.key = "rack", .value = {.type = NA_VAL_INT, .u.i = 8}},
        {.key = "vendor", .value = {.type = NA_VAL_STRING, .u.s = "acme"}},
        {.key = "weight", .value = {.type = NA_VAL_DOUBLE, .u.d = 0.1}},
    };
    na_builder *ba = na_builder_new(), *bb = na_builder_new();
    na_topology *a, *b;
    na_diff_result r;
    const na_diff_item *it;

    add_node(ba, "r1", "core", 65001, 52.5, attrs_a, 3);
    add_node(ba, "r2", "edge", 0, NAN, NULL, 0);
    add_node(ba, "old", NULL, 0, NAN, NULL, 0);
    add_node(bb, "r2", "edge", 0, NAN, NULL, 0);
    add_node(bb, "r1", "spine", 0, 52.25, attrs_b, 3);
    add_node(bb, "new", NULL, 0, NAN, NULL, 0);
    a = finish(ba);
    b = finish(bb);

    assert_int_equal(na_diff_topologies(a, b, &r, NULL), 0);
    assert_int_equal(r.count, 3);
    assert_int_equal(r.nodes_added, 1);
    assert_int_equal(r.nodes_removed, 1);
    assert_int_equal(r.nodes_changed, 1);
    /* Sorted by id: new, old, r1 (r2 did not change). */
    assert_string_equal(r.items[0].id, "new");
    expect_kind(&r.items[0], NA_DIFF_ADDED);
    assert_false(r.items[0].is_link);
    assert_string_equal(r.items[1].id, "old");
    expect_kind(&r.items[1], NA_DIFF_REMOVED);
    it = find_item(&r, false, "r1");
    expect_kind(it, NA_DIFF_CHANGED);
    /* role, asn (gone: ""), latitude, then attributes by key: gone, rack, weight. */
    assert_int_equal(it->n_changes, 6);
    expect_change(it, "role", "core", "spine");
    expect_change(it, "asn", "65001", "");
    expect_change(it, "latitude", "52.5", "52.25");
    expect_change(it, "attributes.gone", "true", "");
    expect_change(it, "attributes.rack", "7", "8");
    expect_change(it, "attributes.weight", "", "0.1");
    /* Field order: node fields first, attributes by key. */
    assert_string_equal(it->changes[0].field, "role");
    assert_string_equal(it->changes[3].field, "attributes.gone");
    assert_string_equal(it->changes[5].field, "attributes.weight");
    na_diff_result_free(&r);

    /* Reversed: added and removed swap, changes swap sides. */
    assert_int_equal(na_diff_topologies(b, a, &r, NULL), 0);
    expect_kind(find_item(&r, false, "new"), NA_DIFF_REMOVED);
    expect_kind(find_item(&r, false, "old"), NA_DIFF_ADDED);
    expect_change(find_item(&r, false, "r1"), "role", "spine", "core");
    na_diff_result_free(&r);
    na_topology_unref(a);
    na_topology_unref(b);
}

static void test_links_added_removed_changed(void **state)
{
    (void)state;
    na_builder *ba = na_builder_new(), *bb = na_builder_new();
    na_topology *a, *b;
    na_diff_result r;
    const na_diff_item *it;

    for (int i = 0; i < 2; i++) {
        na_builder *x = i ? bb : ba;
        add_node(x, "x", NULL, 0, NAN, NULL, 0);
        add_node(x, "y", NULL, 0, NAN, NULL, 0);
        add_node(x, "z", NULL, 0, NAN, NULL, 0);
    }
    add_link(ba, "keep", "x", "y", 1e9);
    add_link(ba, "speed", "y", "z", 1e9);
    add_link(ba, "moved", "x", "y", NAN);
    add_link(ba, "dropped", "x", "z", NAN);
    add_link(bb, "keep", "y", "x", 1e9);     /* reversed: the same undirected link */
    add_link(bb, "speed", "y", "z", 1e10);
    add_link(bb, "moved", "x", "z", NAN);
    add_link(bb, "fresh", "z", "z", NAN);
    a = finish(ba);
    b = finish(bb);

    assert_int_equal(na_diff_topologies(a, b, &r, NULL), 0);
    assert_int_equal(r.links_added, 1);
    assert_int_equal(r.links_removed, 1);
    assert_int_equal(r.links_changed, 2);
    assert_int_equal(r.count, 4);
    /* Sorted by id: dropped, fresh, moved, speed. */
    assert_string_equal(r.items[0].id, "dropped");
    expect_kind(&r.items[0], NA_DIFF_REMOVED);
    assert_true(r.items[0].is_link);
    assert_string_equal(r.items[1].id, "fresh");
    expect_kind(&r.items[1], NA_DIFF_ADDED);
    it = find_item(&r, true, "moved");
    expect_kind(it, NA_DIFF_CHANGED);
    assert_int_equal(it->n_changes, 1);
    expect_change(it, "target", "y", "z");
    it = find_item(&r, true, "speed");
    assert_int_equal(it->n_changes, 1);
    expect_change(it, "capacity", "1000000000", "10000000000");
    na_diff_result_free(&r);
    na_topology_unref(a);
    na_topology_unref(b);
}

/* Ids differ (say, one file named links, the other did not): pair by endpoints, in order. */
static void test_links_matched_by_endpoints(void **state)
{
    (void)state;
    na_builder *ba = na_builder_new(), *bb = na_builder_new();
    na_topology *a, *b;
    na_diff_result r;
    const na_diff_item *it;

    for (int i = 0; i < 2; i++) {
        na_builder *x = i ? bb : ba;
        add_node(x, "x", NULL, 0, NAN, NULL, 0);
        add_node(x, "y", NULL, 0, NAN, NULL, 0);
    }
    add_link(ba, "p1", "x", "y", NAN);
    add_link(ba, "p2", "x", "y", 10);
    add_link(bb, NULL, "y", "x", NAN);   /* "y--x" */
    add_link(bb, NULL, "x", "y", 20);    /* "x--y" */
    add_link(bb, NULL, "x", "y", NAN);   /* "x--y#2" */
    a = finish(ba);
    b = finish(bb);

    assert_int_equal(na_diff_topologies(a, b, &r, NULL), 0);
    assert_int_equal(r.links_changed, 2);
    assert_int_equal(r.links_added, 1);
    assert_int_equal(r.links_removed, 0);
    assert_int_equal(r.nodes_added + r.nodes_removed + r.nodes_changed, 0);
    /* p1 <-> y--x (first with these endpoints in each), p2 <-> x--y, x--y#2 is new. */
    it = find_item(&r, true, "y--x");
    expect_kind(it, NA_DIFF_CHANGED);
    assert_int_equal(it->n_changes, 1);
    expect_change(it, "id", "p1", "y--x");
    it = find_item(&r, true, "x--y");
    assert_int_equal(it->n_changes, 2);
    expect_change(it, "id", "p2", "x--y");
    expect_change(it, "capacity", "10", "20");
    expect_kind(find_item(&r, true, "x--y#2"), NA_DIFF_ADDED);
    /* Links sorted by id: x--y, x--y#2, y--x. */
    assert_string_equal(r.items[0].id, "x--y");
    assert_string_equal(r.items[1].id, "x--y#2");
    assert_string_equal(r.items[2].id, "y--x");
    na_diff_result_free(&r);
    na_topology_unref(a);
    na_topology_unref(b);
}

/* Node and link items together: nodes first, even when a link id sorts earlier. */
static void test_nodes_before_links_and_status(void **state)
{
    (void)state;
    na_topology *a = test_topology_from_edges("m-n"), *b = NULL;
    na_delta *d = na_delta_new();
    na_delta_op op;
    na_diff_result r;
    const na_diff_item *it;

    memset(&op, 0, sizeof(op));
    na_node_init(&op.node);
    na_link_init(&op.link);
    op.kind = NA_DELTA_NODE_ADD;
    op.node.id = "z";
    assert_int_equal(na_delta_append(d, &op), 0);
    op.kind = NA_DELTA_LINK_UPDATE;
    op.link.id = "m--n";
    op.link.status = NA_STATUS_DOWN;
    op.fields = NA_FIELD_STATUS;
    assert_int_equal(na_delta_append(d, &op), 0);
    assert_int_equal(na_topology_apply_delta(a, d, &b, NULL), 0);

    assert_int_equal(na_diff_topologies(a, b, &r, NULL), 0);
    assert_int_equal(r.count, 2);
    assert_false(r.items[0].is_link);
    assert_string_equal(r.items[0].id, "z");
    it = &r.items[1];
    assert_true(it->is_link);
    assert_string_equal(it->id, "m--n");
    expect_change(it, "status", "", "down");
    na_diff_result_free(&r);
    assert_int_equal(na_diff_topologies(a, NULL, &r, NULL), NA_EINVAL);
    assert_int_equal(r.count, 0);
    na_delta_free(d);
    na_topology_unref(a);
    na_topology_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_topologies),
        cmocka_unit_test(test_nodes_added_removed_changed),
        cmocka_unit_test(test_links_added_removed_changed),
        cmocka_unit_test(test_links_matched_by_endpoints),
        cmocka_unit_test(test_nodes_before_links_and_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
