/* test_topology_model.c: snapshots, the builder, deltas and versioning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "netassure/topology.h"
#include "harness.h"

static void test_builder_ids_and_parallel_links(void **state)
{
    (void)state;
    na_topology *t = test_topology_from_edges("a-b,b-c,a-b,c-c");
    size_t i;

    assert_int_equal(na_topology_node_count(t), 3);
    assert_int_equal(na_topology_link_count(t), 4);
    assert_int_equal(na_topology_version(t), 1);
    assert_int_equal(na_topology_find_link(t, "a--b", &i), 0);
    assert_int_equal(na_topology_find_link(t, "a--b#2", &i), 0);
    assert_string_equal(na_topology_link(t, i)->source, "a");
    assert_int_equal(na_topology_find_link(t, "c--c", &i), 0);
    assert_int_equal(na_topology_find_node(t, "zz", &i), NA_ENOTFOUND);
    assert_true(isnan(na_topology_node(t, 0)->latitude));
    na_topology_unref(t);
}

static void test_duplicate_node_is_refused(void **state)
{
    (void)state;
    na_builder *b = na_builder_new();
    na_node n;
    na_error err;

    na_node_init(&n);
    n.id = "x";
    assert_int_equal(na_builder_add_node(b, &n, &err), 0);
    assert_int_equal(na_builder_add_node(b, &n, &err), NA_EINVAL);
    assert_non_null(strstr(err.message, "duplicate"));
    na_builder_free(b);
}

static void test_delta_makes_next_version_and_keeps_base(void **state)
{
    (void)state;
    na_topology *t1 = test_topology_from_edges("a-b,b-c"), *t2 = NULL, *t3 = NULL;
    na_delta *d = na_delta_new();
    na_delta_op op;
    na_attr attr = {.key = "vendor", .value = {.type = NA_VAL_STRING, .u.s = "acme"}};
    size_t i;
    na_error err;

    memset(&op, 0, sizeof(op));
    na_node_init(&op.node);
    na_link_init(&op.link);
    op.kind = NA_DELTA_NODE_ADD;
    op.node.id = "d";
    op.node.role = "leaf";
    assert_int_equal(na_delta_append(d, &op), 0);
    op.kind = NA_DELTA_LINK_ADD;
    op.link.source = "c";
    op.link.target = "d";
    assert_int_equal(na_delta_append(d, &op), 0);
    op.kind = NA_DELTA_NODE_UPDATE;
    op.node.id = "a";
    op.node.attrs = &attr;
    op.node.n_attrs = 1;
    op.node.status = NA_STATUS_DOWN;
    op.fields = NA_FIELD_ATTRS | NA_FIELD_STATUS;
    assert_int_equal(na_delta_append(d, &op), 0);
    op.kind = NA_DELTA_LINK_REMOVE;
    op.link.id = NULL;
    op.link.source = "b";
    op.link.target = "a";
    assert_int_equal(na_delta_append(d, &op), 0);

    assert_int_equal(na_topology_apply_delta(t1, d, &t2, &err), 0);
    assert_int_equal(na_topology_version(t2), 2);
    assert_int_equal(na_topology_node_count(t2), 4);
    assert_int_equal(na_topology_link_count(t2), 2);
    assert_int_equal(na_topology_find_node(t2, "a", &i), 0);
    assert_int_equal(na_topology_node(t2, i)->status, NA_STATUS_DOWN);
    assert_string_equal(na_node_attr(na_topology_node(t2, i), "vendor")->u.s, "acme");
    assert_int_equal(na_topology_find_node(t2, "d", &i), 0);
    assert_string_equal(na_topology_node(t2, i)->role, "leaf");
    /* The base snapshot is untouched. */
    assert_int_equal(na_topology_link_count(t1), 2);
    assert_int_equal(na_topology_find_node(t1, "d", &i), NA_ENOTFOUND);
    na_delta_free(d);

    /* All or nothing: a failing op leaves no new snapshot. */
    d = na_delta_new();
    op.kind = NA_DELTA_NODE_REMOVE;
    op.node.id = "b";
    op.fields = 0;
    assert_int_equal(na_delta_append(d, &op), 0);
    op.node.id = "nope";
    assert_int_equal(na_delta_append(d, &op), 0);
    assert_int_equal(na_topology_apply_delta(t2, d, &t3, &err), NA_ENOTFOUND);
    assert_null(t3);
    assert_non_null(strstr(err.message, "op 1"));
    na_delta_free(d);

    na_topology_unref(t1);
    na_topology_unref(t2);
}

static void test_remove_node_removes_its_links(void **state)
{
    (void)state;
    na_topology *t = test_topology_from_edges("a-b,b-c,c-a");
    na_builder *b = na_builder_from(t);
    na_topology *t2;
    size_t i;

    assert_int_equal(na_builder_remove_node(b, "b", NULL), 0);
    assert_int_equal(na_builder_finish(b, &t2, NULL), 0);
    assert_int_equal(na_topology_node_count(t2), 2);
    assert_int_equal(na_topology_link_count(t2), 1);
    assert_int_equal(na_topology_find_link(t2, "c--a", &i), 0);
    assert_int_equal(na_topology_link(t2, i)->source_index, 1);  /* c moved from 2 to 1 */
    assert_int_equal(na_topology_link(t2, i)->target_index, 0);
    na_topology_unref(t);
    na_topology_unref(t2);
}

static void test_many_parallel_links_get_distinct_ids(void **state)
{
    (void)state;
    na_topology *t = test_topology_from_edges("a-b");
    na_builder *b = na_builder_from(t);
    na_link l;
    const char *id;
    size_t i;

    na_link_init(&l);
    l.source = "a";
    l.target = "b";
    l.id = "a--b#5";  /* a given id that a synthesized one must step over */
    assert_int_equal(na_builder_add_link(b, &l, NULL, NULL), 0);
    l.id = NULL;
    for (int k = 0; k < 5000; k++)
        assert_int_equal(na_builder_add_link(b, &l, &id, NULL), 0);
    assert_string_equal(id, "a--b#5002");
    na_topology_unref(t);
    assert_int_equal(na_builder_finish(b, &t, NULL), 0);
    assert_int_equal(na_topology_link_count(t), 5002);
    assert_int_equal(na_topology_find_link(t, "a--b#4", &i), 0);
    assert_int_equal(na_topology_find_link(t, "a--b#6", &i), 0);
    na_topology_unref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builder_ids_and_parallel_links),
        cmocka_unit_test(test_duplicate_node_is_refused),
        cmocka_unit_test(test_delta_makes_next_version_and_keeps_base),
        cmocka_unit_test(test_remove_node_removes_its_links),
        cmocka_unit_test(test_many_parallel_links_get_distinct_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
