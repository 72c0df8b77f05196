/*
 * test_io_graphml.c: the GraphML importer: mapping, typed values and defaults, each handled mess
 * case, each fatal error's line, and that no entity or DTD is ever loaded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "netassure/io.h"
#include "harness.h"

/* Imports `len` bytes of `text` from an exact-size heap copy (ASan sees any over-read). */
static int import_text(const char *text, size_t len, na_topology **out, na_import_report *rep,
                       na_error *err)
{
    char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, text, len);
    na_error_clear(err);
    rc = na_import_graphml(copy, len, "t.graphml", out, rep, err);
    free(copy);
    return rc;
}

static na_topology *import_ok(const char *text, na_import_report *rep)
{
    na_topology *t = NULL;
    na_error err;
    char buf[700];

    if (import_text(text, strlen(text), &t, rep, &err) != 0)
        fail_msg("import failed: %s\ninput:\n%s", na_error_format(&err, buf, sizeof(buf)), text);
    assert_non_null(t);
    return t;
}

static const na_value *attr_of(const na_node *n, const char *key, na_value_type type)
{
    const na_value *v = na_node_attr(n, key);

    if (!v)
        fail_msg("node '%s' has no attribute '%s'", n->id, key);
    if (v->type != type)
        fail_msg("node '%s' attribute '%s' has type %d, want %d", n->id, key, v->type, type);
    return v;
}

static void test_zoo_like_fixture_maps_fields(void **state)
{
    (void)state;
    char path[1024], buf[700];
    FILE *f;
    long size;
    char *data;
    na_topology *t = NULL;
    na_import_report rep;
    na_error err;
    const na_node *n;
    const na_link *l;

    snprintf(path, sizeof(path), "%s/tests/data/graphml/zoo_like.graphml", test_source_dir());
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    rewind(f);
    data = malloc((size_t)size);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    if (na_import_graphml(data, (size_t)size, "zoo_like.graphml", &t, &rep, &err))
        fail_msg("import failed: %s", na_error_format(&err, buf, sizeof(buf)));
    free(data);
    test_print_report(&rep);

    assert_string_equal(na_topology_name(t), "ZooLike");
    assert_int_equal(na_topology_node_count(t), 5);
    assert_int_equal(na_topology_link_count(t), 4);
    n = test_node(t, "ams");
    assert_string_equal(n->label, "Amsterdam");
    test_assert_near(n->latitude, 52.37403);
    test_assert_near(n->longitude, 4.88969);
    assert_int_equal(n->asn, 1136);
    assert_int_equal(attr_of(n, "Internal", NA_VAL_INT)->u.i, 1);  /* the key's default */
    n = test_node(t, "fra");
    assert_string_equal(n->label, "Frankfurt & Main");
    test_assert_near(n->latitude, 50.11552);  /* blanks around a double are fine */
    assert_int_equal(attr_of(n, "Internal", NA_VAL_INT)->u.i, 0);
    assert_true(attr_of(n, "monitored", NA_VAL_BOOL)->u.b);
    n = test_node(t, "x");
    assert_true(isnan(n->latitude));
    assert_string_equal(attr_of(n, "Latitude", NA_VAL_STRING)->u.s, "north");
    assert_null(na_node_attr(test_node(t, "hyper"), "graphics"));
    assert_string_equal(attr_of(test_node(t, "lonely"), "zz", NA_VAL_STRING)->u.s, "x");
    l = test_link(t, "ams--fra");
    assert_string_equal(l->label, "10G");
    test_assert_near(l->capacity, 1e10);
    l = test_link(t, "e1");  /* LinkSpeed with the default unit G */
    test_assert_near(l->capacity, 2.5e9);
    l = test_link(t, "x--ams");  /* its id "e1" was taken */
    assert_true(isnan(l->capacity));

    assert_int_equal(rep.nodes, 5);
    assert_int_equal(rep.links, 4);
    assert_int_equal(rep.multi_links, 1);
    assert_int_equal(rep.self_loops, 1);
    assert_int_equal(rep.missing_coordinates, 3);
    assert_int_equal(rep.wrong_type, 1);
    assert_int_equal(rep.unknown_fields, 2);
    assert_int_equal(rep.isolated_nodes, 1);
    assert_true(test_report_has(&rep, "zoo_like.graphml:57: more than one graph"));
    assert_true(test_report_has(&rep, "zoo_like.graphml:33: Latitude \"north\" is not a number"));
    assert_true(test_report_has(&rep, "zoo_like.graphml:37: <data> 'graphics' has element content"));
    assert_true(test_report_has(&rep, "zoo_like.graphml:40: <data> for undeclared key 'zz'"));
    assert_true(test_report_has(&rep, "zoo_like.graphml:51: hyperedges are not supported"));
    assert_true(test_report_has(&rep, "zoo_like.graphml:50: edge id 'e1' is already used"));
    assert_true(test_report_has(&rep, "zoo_like.graphml:46: link fra -- ams is parallel"));
    assert_true(test_report_has(&rep, "zoo_like.graphml:49: self-loop on node 'hyper'"));
    na_topology_unref(t);
}

struct bad_case {
    const char *name;
    const char *text;
    long line;
    const char *message;
};

#define HEAD "<?xml version=\"1.0\"?>\n<graphml>\n<graph>\n"

static void test_fatal_errors_say_where_and_what(void **state)
{
    (void)state;
    const struct bad_case cases[] = {
        {"mismatched tag", HEAD "<node id=\"a\">\n</graph>\n</graphml>\n", 5, "malformed XML"},
        {"unclosed document", HEAD "<node id=\"a\"/>\n", 5, "malformed XML"},
        {"not XML", "graph [ ]\n", 1, "malformed XML"},
        {"empty input", "", 1, "found empty input"},
        {"wrong root", "<?xml version=\"1.0\"?>\n<gexf>\n</gexf>\n", 2,
         "expected a <graphml> root element, found <gexf>"},
        {"no graph", "<graphml>\n  <key id=\"d0\"/>\n</graphml>\n", 1,
         "expected a <graph> element in <graphml>"},
        {"node without id", HEAD "<node id=\"a\"/>\n<node/>\n</graph></graphml>\n", 5,
         "<node> without an id"},
        {"duplicate node id", HEAD "<node id=\"a\"/>\n<node id=\"b\"/>\n<node id=\"a\"/>\n"
                              "</graph></graphml>\n", 6,
         "duplicate node id 'a' (first defined at line 4)"},
        {"edge to unknown node", HEAD "<node id=\"a\"/>\n<edge source=\"a\" target=\"zz\"/>\n"
                                 "</graph></graphml>\n", 5, "edge target 'zz' is not a node"},
        {"edge without source", HEAD "<node id=\"a\"/>\n<edge target=\"a\"/>\n</graph></graphml>\n",
         5, "<edge> without a source"},
        {"undeclared entity", "<?xml version=\"1.0\"?>\n<!DOCTYPE graphml [<!ENTITY x \"y\">]>\n"
                              "<graphml><graph><node id=\"&x;\"/></graph></graphml>\n", 3,
         "Entity 'x' not defined"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_case *c = &cases[i];
        na_topology *t = (na_topology *)1;
        na_import_report rep;
        na_error err;
        char buf[700], where[64];
        int rc = import_text(c->text, strlen(c->text), &t, &rep, &err);

        na_error_format(&err, buf, sizeof(buf));
        print_message("%-22s -> %s\n", c->name, buf);
        if (rc != NA_EPARSE || t != NULL)
            fail_msg("%s: rc %d (want %d), topology %p", c->name, rc, NA_EPARSE, (void *)t);
        snprintf(where, sizeof(where), "t.graphml:%ld:", c->line);
        if (err.line != c->line || strncmp(buf, where, strlen(where)) != 0 ||
            !strstr(err.message, c->message))
            fail_msg("%s: got '%s' (line %ld), want prefix '%s' and '%s'", c->name, buf, err.line,
                     where, c->message);
    }
}

static void test_line_numbers_beyond_65535(void **state)
{
    (void)state;
    const char *head = "<graphml><graph>\n", *tail = "<node/></graph></graphml>\n";
    size_t blank = 70000, len = strlen(head) + blank + strlen(tail);
    char *doc = malloc(len);
    na_topology *t = NULL;
    na_error err;

    assert_non_null(doc);
    memcpy(doc, head, strlen(head));
    memset(doc + strlen(head), '\n', blank);
    memcpy(doc + strlen(head) + blank, tail, strlen(tail));
    assert_int_equal(import_text(doc, len, &t, NULL, &err), NA_EPARSE);
    free(doc);
    if (err.line != 70002)
        fail_msg("error at line %ld, want 70002 (%s)", err.line, err.message);
}

static void test_nesting_depth_is_capped(void **state)
{
    (void)state;
    size_t levels = 300, len = 0;
    char *doc = malloc(levels * 8 + 64);
    na_topology *t = NULL;
    na_error err;

    assert_non_null(doc);
    len += (size_t)snprintf(doc, 64, "<graphml><graph><node id=\"a\"><data key=\"k\">");
    for (size_t i = 0; i < levels; i++) {
        memcpy(doc + len, "<x>", 3);
        len += 3;
    }
    assert_int_equal(import_text(doc, len, &t, NULL, &err), NA_EPARSE);
    free(doc);
    assert_null(t);
    print_message("300 levels -> line %ld: %s\n", err.line, err.message);
    if (!strstr(err.message, "depth"))
        fail_msg("want a depth error, got '%s'", err.message);
}

static void test_typed_values_and_defaults(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = import_ok(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n"
        "  <key id=\"b\" for=\"node\" attr.name=\"flag\" attr.type=\"boolean\"/>\n"
        "  <key id=\"i\" for=\"node\" attr.name=\"count\" attr.type=\"int\"/>\n"
        "  <key id=\"l\" for=\"node\" attr.name=\"big\" attr.type=\"long\"/>\n"
        "  <key id=\"f\" for=\"node\" attr.name=\"ratio\" attr.type=\"float\"/>\n"
        "  <key id=\"s\" for=\"all\" attr.name=\"site\"><default>lab</default></key>\n"
        "  <key id=\"v\" for=\"node\" attr.name=\"vec\" attr.type=\"vector\"/>\n"
        "  <key id=\"noname\" for=\"node\"/>\n"
        "  <key id=\"w\" for=\"node\" attr.name=\"weight\" attr.type=\"double\">"
        "<default>heavy</default></key>\n"
        "  <key id=\"w2\" for=\"node\" attr.name=\"weight\" attr.type=\"string\"/>\n"
        "  <key id=\"st\" for=\"edge\" attr.name=\"status\"/>\n"
        "  <key id=\"n\" for=\"graph\" attr.name=\"name\"/>\n"
        "  <graph edgedefault=\"directed\">\n"
        "    <data key=\"n\">lab net</data>\n"
        "    <node id=\"n 1\"><data key=\"b\">TRUE</data><data key=\"i\">-12</data>"
        "<data key=\"l\">9007199254740993</data><data key=\"f\">1e3</data>"
        "<data key=\"v\">1 2 3</data><data key=\"noname\">x</data>"
        "<data key=\"w2\">light</data></node>\n"
        "    <node id=\"caf\xc3\xa9\"><data key=\"b\">yes</data><data key=\"i\">12.5</data>"
        "<data key=\"s\">core-site</data><graph id=\"inner\"><node id=\"z\"/></graph></node>\n"
        "    <node id=\"three\"/>\n"
        "    <edge source=\"n 1\" target=\"caf\xc3\xa9\"><data key=\"st\">down</data></edge>\n"
        "    <edge source=\"three\" target=\"n 1\"><data key=\"st\">sideways</data></edge>\n"
        "  </graph>\n"
        "</graphml>\n",
        &rep);
    const na_node *n1 = test_node(t, "n 1"), *n2 = test_node(t, "caf\xc3\xa9"), *n3 = test_node(t, "three");

    test_print_report(&rep);
    assert_string_equal(na_topology_name(t), "lab net");
    assert_int_equal(na_topology_node_count(t), 3);  /* the nested graph's node is not read */
    assert_true(attr_of(n1, "flag", NA_VAL_BOOL)->u.b);
    assert_int_equal(attr_of(n1, "count", NA_VAL_INT)->u.i, -12);
    assert_int_equal(attr_of(n1, "big", NA_VAL_INT)->u.i, 9007199254740993LL);
    test_assert_near(attr_of(n1, "ratio", NA_VAL_DOUBLE)->u.d, 1000);
    assert_string_equal(attr_of(n1, "vec", NA_VAL_STRING)->u.s, "1 2 3");
    assert_string_equal(attr_of(n1, "noname", NA_VAL_STRING)->u.s, "x");
    assert_string_equal(attr_of(n1, "weight", NA_VAL_STRING)->u.s, "light");  /* no default */
    assert_string_equal(n1->site, "lab");                                      /* default */
    assert_string_equal(attr_of(n2, "flag", NA_VAL_STRING)->u.s, "yes");
    assert_string_equal(attr_of(n2, "count", NA_VAL_STRING)->u.s, "12.5");
    assert_string_equal(n2->site, "core-site");
    assert_string_equal(attr_of(n2, "weight", NA_VAL_STRING)->u.s, "heavy");
    assert_string_equal(attr_of(n3, "weight", NA_VAL_STRING)->u.s, "heavy");
    assert_int_equal(test_link(t, "n 1--caf\xc3\xa9")->status, NA_STATUS_DOWN);
    assert_int_equal(test_link(t, "three--n 1")->status, NA_STATUS_UNKNOWN);
    /* yes, 12.5, the default "heavy" once (not per node), "sideways" */
    assert_int_equal(rep.wrong_type, 4);
    assert_true(test_report_has(&rep, "t.graphml:8: key type 'vector' unknown"));
    assert_true(test_report_has(&rep, "t.graphml:14: directed graph"));
    assert_true(test_report_has(&rep, "t.graphml:17: graph nested in a node skipped"));
    assert_true(test_report_has(&rep, "t.graphml:17: flag \"yes\" is not a boolean"));
    na_topology_unref(t);
}

/* A one-node graph whose label data is `label` (raw XML). */
static void one_node(char *buf, size_t len, const char *label)
{
    snprintf(buf, len, "<graphml><key id=\"d0\" for=\"node\" attr.name=\"label\"/><graph>"
             "<node id=\"a\"><data key=\"d0\">%s</data></node></graph></graphml>\n", label);
}

/* Writes `text` to dir/name; returns the path in buf. */
static const char *write_file(const char *dir, const char *name, const char *text, char *buf,
                              size_t len)
{
    FILE *f;

    snprintf(buf, len, "%s/%s", dir, name);
    f = fopen(buf, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return buf;
}

static void test_no_entity_or_dtd_is_loaded(void **state)
{
    (void)state;
    char dir[] = "/tmp/na_graphml_XXXXXX", secret[600], evil[600], doc[2048], buf[700];
    char data[1024];
    na_topology *t = NULL;
    na_error err;
    int rc;

    assert_non_null(mkdtemp(dir));
    write_file(dir, "secret.txt", "SECRET", secret, sizeof(secret));
    /* if this DTD were ever read, the document would not parse */
    write_file(dir, "evil.dtd", "this is not a DTD <", evil, sizeof(evil));

    /* external general entity: refused, the file never becomes text */
    one_node(data, sizeof(data), "&x;");
    snprintf(doc, sizeof(doc), "<?xml version=\"1.0\"?>\n<!DOCTYPE graphml [<!ENTITY x SYSTEM "
             "\"file://%s\">]>\n%s", secret, data);
    rc = import_text(doc, strlen(doc), &t, NULL, &err);
    print_message("external entity   -> %s\n", na_error_format(&err, buf, sizeof(buf)));
    assert_int_equal(rc, NA_EPARSE);
    assert_null(t);
    assert_null(strstr(err.message, "SECRET"));

    /* external parameter entity: not loaded (a load would fail on the DTD's syntax instead) */
    one_node(data, sizeof(data), "plain");
    snprintf(doc, sizeof(doc), "<?xml version=\"1.0\"?>\n<!DOCTYPE graphml [<!ENTITY %% p SYSTEM "
             "\"file://%s\"> %%p;]>\n%s", evil, data);
    rc = import_text(doc, strlen(doc), &t, NULL, &err);
    print_message("external PE       -> %s\n", na_error_format(&err, buf, sizeof(buf)));
    assert_int_equal(rc, NA_EPARSE);
    assert_non_null(strstr(err.message, "%p"));

    /* external DTD subset, local and remote: never read, the graph imports */
    snprintf(doc, sizeof(doc), "<?xml version=\"1.0\"?>\n<!DOCTYPE graphml SYSTEM \"file://%s\">\n%s",
             evil, data);
    t = import_ok(doc, NULL);
    assert_string_equal(test_node(t, "a")->label, "plain");
    na_topology_unref(t);
    snprintf(doc, sizeof(doc), "<?xml version=\"1.0\"?>\n<!DOCTYPE graphml PUBLIC \"-//x//y\" "
             "\"http://example.invalid/graphml.dtd\">\n%s", data);
    t = import_ok(doc, NULL);
    na_topology_unref(t);

    /* billion laughs: the declarations are dropped, so nothing expands */
    {
        size_t n = (size_t)snprintf(doc, sizeof(doc), "<?xml version=\"1.0\"?>\n<!DOCTYPE graphml "
                                    "[\n<!ENTITY l0 \"lol\">\n");
        for (int i = 1; i <= 9; i++) {
            n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<!ENTITY l%d \"", i);
            for (int k = 0; k < 10; k++)
                n += (size_t)snprintf(doc + n, sizeof(doc) - n, "&l%d;", i - 1);
            n += (size_t)snprintf(doc + n, sizeof(doc) - n, "\">\n");
        }
        one_node(data, sizeof(data), "&l9;");
        snprintf(doc + n, sizeof(doc) - n, "]>\n%s", data);
        assert_true(strlen(doc) < sizeof(doc) - 1);
        rc = import_text(doc, strlen(doc), &t, NULL, &err);
        print_message("billion laughs    -> %s\n", na_error_format(&err, buf, sizeof(buf)));
        assert_int_equal(rc, NA_EPARSE);
        assert_non_null(strstr(err.message, "Entity 'l9' not defined"));
    }
    unlink(secret);
    unlink(evil);
    rmdir(dir);
}

static void test_too_big_is_refused_before_reading(void **state)
{
    (void)state;
    na_topology *t = (na_topology *)1;
    na_error err;

    assert_int_equal(na_import_graphml("<graphml/>", NA_IMPORT_MAX_BYTES + 1, "big.graphml", &t,
                                       NULL, &err),
                     NA_ETOOBIG);
    assert_null(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zoo_like_fixture_maps_fields),
        cmocka_unit_test(test_fatal_errors_say_where_and_what),
        cmocka_unit_test(test_line_numbers_beyond_65535),
        cmocka_unit_test(test_nesting_depth_is_capped),
        cmocka_unit_test(test_typed_values_and_defaults),
        cmocka_unit_test(test_no_entity_or_dtd_is_loaded),
        cmocka_unit_test(test_too_big_is_refused_before_reading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
