/* test_io_gml.c: the GML importer: mapping, each handled mess case, each fatal error's position. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netassure/io.h"
#include "harness.h"

/* Imports `text` from an exact-size heap copy (no NUL after it: ASan sees any over-read). */
static int import_text(const char *text, size_t len, const char *source, na_topology **out,
                       na_import_report *rep, na_error *err)
{
    char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, text, len);
    na_error_clear(err);
    rc = na_import_gml(copy, len, source, out, rep, err);
    free(copy);
    return rc;
}

static na_topology *import_ok(const char *text, na_import_report *rep)
{
    na_topology *t = NULL;
    na_error err;
    char buf[700];

    if (import_text(text, strlen(text), "t.gml", &t, rep, &err) != 0)
        fail_msg("import failed: %s\ninput:\n%s", na_error_format(&err, buf, sizeof(buf)), text);
    assert_non_null(t);
    return t;
}

static na_topology *import_fixture(const char *name, na_import_report *rep)
{
    char path[1024], buf[700];
    FILE *f;
    long size;
    char *data;
    na_topology *t = NULL;
    na_error err;
    int rc;

    snprintf(path, sizeof(path), "%s/tests/data/gml/%s", test_source_dir(), name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    data = malloc((size_t)size);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    na_error_clear(&err);
    rc = na_import_gml(data, (size_t)size, name, &t, rep, &err);
    free(data);
    if (rc)
        fail_msg("import of %s failed: %s", name, na_error_format(&err, buf, sizeof(buf)));
    return t;
}

static void test_zoo_like_fixture_maps_fields(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = import_fixture("zoo_like.gml", &rep);
    const na_node *n;
    const na_link *l;
    const na_value *v;

    assert_string_equal(na_topology_name(t), "ZooLike");
    assert_int_equal(na_topology_node_count(t), 5);
    assert_int_equal(na_topology_link_count(t), 5);

    n = test_node(t, "0");
    assert_string_equal(n->label, "Amsterdam");
    test_assert_near(n->latitude, 52.37403);
    test_assert_near(n->longitude, 4.88969);
    v = na_node_attr(n, "Country");
    assert_non_null(v);
    assert_int_equal(v->type, NA_VAL_STRING);
    assert_string_equal(v->u.s, "Netherlands");
    v = na_node_attr(n, "Internal");
    assert_non_null(v);
    assert_int_equal(v->type, NA_VAL_INT);
    assert_int_equal(v->u.i, 1);
    assert_null(na_node_attr(n, "Latitude"));  /* mapped, not kept twice */

    n = test_node(t, "1");  /* entities decoded, coordinates given as numeric strings */
    assert_string_equal(n->label, "Frankfurt \"FRA\"");
    test_assert_near(n->latitude, 50.11552);
    test_assert_near(n->longitude, 8.68417);

    n = test_node(t, "2");  /* hyperedge node: no coordinates, nested list skipped */
    assert_true(isnan(n->latitude));
    assert_null(na_node_attr(n, "graphics"));
    assert_non_null(na_node_attr(n, "hyperedge"));

    n = test_node(t, "3");  /* wrong-typed Latitude kept as an attribute, the field left unknown */
    assert_true(isnan(n->latitude));
    test_assert_near(n->longitude, 10.5);
    v = na_node_attr(n, "Latitude");
    assert_non_null(v);
    assert_int_equal(v->type, NA_VAL_STRING);
    assert_string_equal(v->u.s, "unknown");
    assert_int_equal(n->asn, 65001);
    assert_string_equal(n->role, "core");
    assert_int_equal(n->status, NA_STATUS_UP);

    l = test_link(t, "0--1");  /* LinkSpeedRaw wins; LinkLabel is the label */
    assert_string_equal(l->label, "10G");
    test_assert_near(l->capacity, 1e10);
    assert_null(na_link_attr(l, "LinkSpeedRaw"));
    assert_non_null(na_link_attr(l, "LinkSpeed"));
    l = test_link(t, "1--0");  /* no raw speed: LinkSpeed x LinkSpeedUnits */
    test_assert_near(l->capacity, 2.5e9);
    l = test_link(t, "e9");    /* the file's edge id; raw speed as a numeric string */
    test_assert_near(l->capacity, 155e6);
    assert_string_equal(l->source, "0");
    assert_string_equal(l->target, "3");
    assert_string_equal(na_link_attr(l, "LinkNote")->u.s, "leased");
    l = test_link(t, "3--1");
    test_assert_near(l->capacity, 34e6);
    l = test_link(t, "2--2");
    assert_true(isnan(l->capacity));

    test_print_report(&rep);
    assert_int_equal(rep.nodes, 5);
    assert_int_equal(rep.links, 5);
    assert_int_equal(rep.multi_links, 1);
    assert_int_equal(rep.self_loops, 1);
    assert_int_equal(rep.missing_coordinates, 3);
    assert_int_equal(rep.wrong_type, 1);
    assert_int_equal(rep.unknown_fields, 1);
    assert_int_equal(rep.isolated_nodes, 1);
    /* warnings carry the line of what they are about */
    assert_true(test_report_has(&rep, "zoo_like.gml:29: node: nested list 'graphics' skipped"));
    assert_true(test_report_has(&rep, "zoo_like.gml:34: node '3': Latitude"));
    assert_true(test_report_has(&rep, "zoo_like.gml:52: link 1 -- 0 is parallel"));
    assert_true(test_report_has(&rep, "zoo_like.gml:58: self-loop on node '2'"));
    assert_true(test_report_has(&rep, "zoo_like.gml:40: node '4' has no links"));
    na_topology_unref(t);
}

struct bad_case {
    const char *name;
    const char *text;
    long line;
    long column;
    const char *message;  /* substring of the error message */
};

static void test_fatal_errors_say_where_and_what(void **state)
{
    (void)state;
    static char deep[1024];
    const struct bad_case cases[] = {
        {"unterminated list", "graph [\n  node [ id 1 ]\n", 3, 1,
         "expected ']' to close the '[' at line 1, column 7"},
        {"unterminated node", "graph [\n  node [\n    id 1\n", 4, 1, "the '[' at line 2, column 8"},
        {"unterminated string", "graph [\n  node [ id 1 label \"abc\n ]\n]\n", 2, 21,
         "unterminated string"},
        {"no graph", "Creator \"x\"\nVersion 2\n", 3, 1, "expected 'graph ['"},
        {"empty input", "", 1, 1, "expected 'graph ['"},
        {"graph is not a list", "graph 5\n", 1, 7, "expected '[' after 'graph'"},
        {"edge to unknown node", "graph [\n  node [ id 1 ]\n  edge [ source 1 target 2 ]\n]\n", 3,
         3, "edge target '2' is not a node"},
        {"edge from unknown node", "graph [\n  edge [ source 7 target 1 ]\n  node [ id 1 ]\n]\n",
         2, 3, "edge source '7' is not a node"},
        {"duplicate node id", "graph [\n  node [ id 1 ]\n  node [ id 1 ]\n]\n", 3, 3,
         "duplicate node id '1' (first defined at line 2)"},
        {"string node id", "graph [\n  node [ id \"a\" ]\n]\n", 2, 13,
         "node id must be an integer, found a string"},
        {"real node id", "graph [\n  node [ id 1.5 ]\n]\n", 2, 13, "node id must be an integer"},
        {"missing node id", "graph [\n  node [ label \"x\" ]\n]\n", 2, 3, "node without an id"},
        {"two node ids", "graph [\n  node [ id 1 id 2 ]\n]\n", 2, 15, "node id given twice"},
        {"edge without target", "graph [\n  node [ id 1 ]\n  edge [ source 1 ]\n]\n", 3, 3,
         "edge without a target"},
        {"trailing garbage", "graph [\n  node [ id 1 ]\n]\n]\n", 4, 1, "expected a key, found ']'"},
        {"trailing value", "graph [ node [ id 1 ] ]\n42\n", 2, 1, "expected a key, found the number 42"},
        {"key without value", "graph [\n  node [ id 1 label ]\n]\n", 2, 21,
         "expected a value (number, string or '[') after 'label', found ']'"},
        {"bad character", "graph [\n  @ 1\n]\n", 2, 3, "unexpected character '@'"},
        {"control byte", "graph [\n  \x01\n]\n", 2, 3, "unexpected byte 0x01"},
        {"malformed number", "graph [\n  x 12abc\n]\n", 2, 5, "malformed number '12a"},
        {"lone sign", "graph [\n  x -\n]\n", 2, 5, "malformed number"},
        {"NUL in string", "graph [ label \"a\0b\" ]", 1, 17, "NUL byte inside a string"},
        {"nesting too deep", deep, 1, 0, "nested deeper than 64"},
    };
    size_t n = strlen("graph [ ");

    memcpy(deep, "graph [ ", n);
    for (int i = 0; i < 70; i++) {
        memcpy(deep + n, "a [ ", 4);
        n += 4;
    }
    deep[n] = '\0';
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_case *c = &cases[i];
        size_t len = strcmp(c->name, "NUL in string") == 0 ? 21 : strlen(c->text);
        na_topology *t = (na_topology *)1;
        na_import_report rep;
        na_error err;
        char buf[700], where[64];
        int rc = import_text(c->text, len, "t.gml", &t, &rep, &err);

        na_error_format(&err, buf, sizeof(buf));
        print_message("%-24s -> %s\n", c->name, buf);
        if (rc != NA_EPARSE || t != NULL)
            fail_msg("%s: rc %d (want %d), topology %p", c->name, rc, NA_EPARSE, (void *)t);
        if (err.line != c->line || (c->column && err.column != c->column))
            fail_msg("%s: error at %ld:%ld, want %ld:%ld", c->name, err.line, err.column, c->line,
                     c->column);
        snprintf(where, sizeof(where), "t.gml:%ld:", c->line);
        if (strncmp(buf, where, strlen(where)) != 0 || !strstr(err.message, c->message))
            fail_msg("%s: message '%s', want prefix '%s' and '%s'", c->name, buf, where,
                     c->message);
    }
}

static void test_too_big_is_refused_before_reading(void **state)
{
    (void)state;
    na_topology *t = (na_topology *)1;
    na_error err;

    /* the length alone decides: the parser must not touch the bytes */
    assert_int_equal(na_import_gml("graph [ ]", NA_IMPORT_MAX_BYTES + 1, "big.gml", &t, NULL, &err),
                     NA_ETOOBIG);
    assert_null(t);
    assert_non_null(strstr(err.message, "limit"));
}

static void test_values_entities_and_charsets(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = import_ok(
        "graph [\n"
        "  directed 1\n"
        "  node [ id 1 label \"caf\xe9\" a INF b -INF c NAN d 1.5E3 e -7 f \"x\ny\" ]\n"
        "  node [ id 2 label \"&lt;&#233;&#x263A;&gt; &bogus; &#0; &amp\" g 99999999999999999999 ]\n"
        "  node [ id 3 label 42 ]\n"
        "  node [ id -4 label 2.5 ]  # a comment ] [ \"\n"
        "  edge [ source 1 target 2 id 17 ]\n"
        "  edge [ source -4 target 3 ]\n"
        "]\n",
        &rep);
    const na_node *n1 = test_node(t, "1"), *n2 = test_node(t, "2");

    assert_string_equal(n1->label, "caf\xc3\xa9");  /* not UTF-8: read as ISO-8859-1 */
    assert_true(isinf(na_node_attr(n1, "a")->u.d) && na_node_attr(n1, "a")->u.d > 0);
    assert_true(isinf(na_node_attr(n1, "b")->u.d) && na_node_attr(n1, "b")->u.d < 0);
    assert_true(isnan(na_node_attr(n1, "c")->u.d));
    test_assert_near(na_node_attr(n1, "d")->u.d, 1500);
    assert_int_equal(na_node_attr(n1, "e")->type, NA_VAL_INT);
    assert_int_equal(na_node_attr(n1, "e")->u.i, -7);
    assert_string_equal(na_node_attr(n1, "f")->u.s, "x\ny");
    assert_string_equal(n2->label, "<\xc3\xa9\xe2\x98\xba> &bogus; &#0; &amp");
    assert_int_equal(na_node_attr(n2, "g")->type, NA_VAL_DOUBLE);  /* beyond 64 bits */
    test_assert_near(na_node_attr(n2, "g")->u.d, 1e20);
    assert_string_equal(test_node(t, "3")->label, "42");
    assert_string_equal(test_node(t, "-4")->label, "2.5");
    assert_string_equal(test_link(t, "17")->source, "1");
    assert_string_equal(test_link(t, "-4--3")->target, "3");
    assert_true(test_report_has(&rep, "t.gml:2: directed graph"));
    assert_true(test_report_has(&rep, "t.gml:3: text that is not UTF-8"));
    na_topology_unref(t);
}

static void test_edge_ids_repeated_keys_and_extra_graphs(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = import_ok(
        "\xef\xbb\xbfgraph [\n"
        "  node [ id 1 label \"first\" label \"second\" Latitude 1 latitude 2 Longitude 3 ]\n"
        "  node [ id 2 ]\n"
        "  edge [ source 1 target 2 id \"e\" ]\n"
        "  edge [ source 2 target 1 id \"e\" label \"plain\" ]\n"
        "  edge [ source 1 target 2 LinkLabel \"L\" label \"kept\" LinkSpeed \"9\" LinkSpeedUnits \"Q\" ]\n"
        "  edge [ source 1 target 2 LinkSpeedRaw -5 ]\n"
        "  design [ colour \"red\" ]\n"
        "]\n"
        "graph [ node [ id 9 ] ]\n",
        &rep);
    const na_node *n1 = test_node(t, "1");
    const na_link *l;

    test_print_report(&rep);
    assert_int_equal(na_topology_node_count(t), 2);  /* the second graph is not read */
    assert_string_equal(n1->label, "first");
    test_assert_near(n1->latitude, 1);
    assert_string_equal(test_link(t, "e")->source, "1");
    l = test_link(t, "2--1");  /* the repeated id "e" gave way to a generated one */
    assert_string_equal(l->label, "plain");
    l = test_link(t, "1--2");
    assert_string_equal(l->label, "L");
    assert_string_equal(na_link_attr(l, "label")->u.s, "kept");
    assert_true(isnan(l->capacity));  /* unknown unit */
    assert_true(isnan(test_link(t, "1--2#2")->capacity));  /* negative speed */
    assert_int_equal(rep.multi_links, 3);
    assert_int_equal(rep.wrong_type, 2);
    assert_int_equal(rep.unknown_fields, 1);
    assert_true(test_report_has(&rep, "t.gml:2: node '1': label given again"));
    assert_true(test_report_has(&rep, "t.gml:2: node '1': latitude given again"));
    assert_true(test_report_has(&rep, "t.gml:5: edge id 'e' is already used"));
    assert_true(test_report_has(&rep, "t.gml:8: graph: list 'design' skipped"));
    assert_true(test_report_has(&rep, "t.gml:10: more than one graph"));
    na_topology_unref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zoo_like_fixture_maps_fields),
        cmocka_unit_test(test_fatal_errors_say_where_and_what),
        cmocka_unit_test(test_too_big_is_refused_before_reading),
        cmocka_unit_test(test_values_entities_and_charsets),
        cmocka_unit_test(test_edge_ids_repeated_keys_and_extra_graphs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
