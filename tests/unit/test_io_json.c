/*
 * test_io_json.c: our JSON topology schema: snapshot import (fields, mess counted, fatal errors
 * with path and position), deltas and events, export and the export/import round trip, the
 * example files.
 */
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

/* ---- helpers ----------------------------------------------------------------------------- */

static na_topology *load_ok(const char *doc, na_import_report *rep)
{
    na_topology *t = NULL;
    na_error err;
    char buf[800];
    int rc;

    na_error_clear(&err);
    rc = na_import_json(doc, strlen(doc), "<test>", &t, rep, &err);
    if (rc) {
        fprintf(stderr, "import failed: %s\ndocument: %s\n", na_error_format(&err, buf, sizeof(buf)),
                doc);
        fail();
    }
    assert_non_null(t);
    return t;
}

static void load_fails(const char *doc, int code, const char *needle, long line, long col,
                       na_error *err)
{
    na_topology *t = (na_topology *)1;
    char buf[800];
    int rc;

    na_error_clear(err);
    rc = na_import_json(doc, strlen(doc), "<test>", &t, NULL, err);
    if (rc != code || !strstr(err->message, needle) || err->line != line || err->column != col) {
        fprintf(stderr, "document: %s\nexpected code %d, '%s' at %ld:%ld\n"
                        "got      code %d, '%s' at %ld:%ld\n",
                doc, code, needle, line, col, rc, err->message, err->line, err->column);
        fail();
    }
    assert_null(t);
    assert_string_equal(err->source, "<test>");
    (void)na_error_format(err, buf, sizeof(buf));
}

static void assert_double_same(double got, double want, const char *what)
{
    if ((isnan(got) && isnan(want)) || got == want)
        return;
    fprintf(stderr, "%s: got %.17g, expected %.17g\n", what, got, want);
    fail();
}

static bool some_message_has(const na_import_report *rep, const char *a, const char *b)
{
    for (size_t i = 0; i < rep->n_messages; i++) {
        if (strstr(rep->messages[i], a) && (!b || strstr(rep->messages[i], b)))
            return true;
    }
    for (size_t i = 0; i < rep->n_messages; i++)
        fprintf(stderr, "  warning: %s\n", rep->messages[i]);
    fprintf(stderr, "no warning with '%s'%s%s\n", a, b ? " and " : "", b ? b : "");
    return false;
}

static void assert_str_or_null(const char *got, const char *want, const char *what)
{
    if ((!got && !want) || (got && want && strcmp(got, want) == 0))
        return;
    fprintf(stderr, "%s: got %s%s%s, expected %s%s%s\n", what, got ? "'" : "", got ? got : "NULL",
            got ? "'" : "", want ? "'" : "", want ? want : "NULL", want ? "'" : "");
    fail();
}

static void assert_attrs_equal(const na_attr *a, size_t na, const na_attr *b, size_t nb,
                               const char *owner)
{
    if (na != nb) {
        fprintf(stderr, "%s: %zu attributes, expected %zu\n", owner, na, nb);
        fail();
    }
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(a[i].key, b[i].key);
        if (a[i].value.type != b[i].value.type) {
            fprintf(stderr, "%s.%s: type %d, expected %d\n", owner, a[i].key, a[i].value.type,
                    b[i].value.type);
            fail();
        }
        switch (a[i].value.type) {
        case NA_VAL_BOOL: assert_int_equal(a[i].value.u.b, b[i].value.u.b); break;
        case NA_VAL_INT: assert_int_equal(a[i].value.u.i, b[i].value.u.i); break;
        case NA_VAL_DOUBLE: assert_double_same(a[i].value.u.d, b[i].value.u.d, a[i].key); break;
        case NA_VAL_STRING: assert_string_equal(a[i].value.u.s, b[i].value.u.s); break;
        case NA_VAL_NULL: break;
        }
    }
}

/* Every field of every node and link, in order, plus name, version and timestamp. */
static void assert_topology_equal(const na_topology *a, const na_topology *b)
{
    assert_int_equal(na_topology_version(a), na_topology_version(b));
    assert_int_equal(na_topology_timestamp_ms(a), na_topology_timestamp_ms(b));
    assert_str_or_null(na_topology_name(a), na_topology_name(b), "name");
    assert_int_equal(na_topology_node_count(a), na_topology_node_count(b));
    assert_int_equal(na_topology_link_count(a), na_topology_link_count(b));
    for (size_t i = 0; i < na_topology_node_count(a); i++) {
        const na_node *x = na_topology_node(a, i), *y = na_topology_node(b, i);
        assert_string_equal(x->id, y->id);
        assert_str_or_null(x->label, y->label, "label");
        assert_str_or_null(x->role, y->role, "role");
        assert_str_or_null(x->site, y->site, "site");
        assert_int_equal(x->asn, y->asn);
        assert_double_same(x->latitude, y->latitude, "latitude");
        assert_double_same(x->longitude, y->longitude, "longitude");
        assert_double_same(x->capacity, y->capacity, "capacity");
        assert_int_equal(x->status, y->status);
        assert_attrs_equal(x->attrs, x->n_attrs, y->attrs, y->n_attrs, x->id);
    }
    for (size_t i = 0; i < na_topology_link_count(a); i++) {
        const na_link *x = na_topology_link(a, i), *y = na_topology_link(b, i);
        assert_string_equal(x->id, y->id);
        assert_string_equal(x->source, y->source);
        assert_string_equal(x->target, y->target);
        assert_str_or_null(x->label, y->label, "link label");
        assert_double_same(x->capacity, y->capacity, "link capacity");
        assert_int_equal(x->status, y->status);
        assert_attrs_equal(x->attrs, x->n_attrs, y->attrs, y->n_attrs, x->id);
    }
}

static char *read_example(const char *name, size_t *len)
{
    char path[1024], *data;
    na_error err;

    snprintf(path, sizeof(path), "%s/examples/%s", test_source_dir(), name);
    if (na_read_file(path, NA_IMPORT_MAX_BYTES, &data, len, &err)) {
        fprintf(stderr, "cannot read %s: %s\n", path, err.message);
        fail();
    }
    return data;
}

/* ---- snapshots --------------------------------------------------------------------------- */

static const char *const full_doc =
    "{\"type\":\"snapshot\",\"version\":7,\"seq\":3,\"timestamp\":\"2026-03-08T12:00:00Z\","
    "\"name\":\"lab\",\"nodes\":["
    "{\"id\":\"r1\",\"label\":\"Router 1\",\"role\":\"core\",\"asn\":65001,\"site\":\"fra1\","
    "\"latitude\":50.1109,\"longitude\":8.6821,\"capacity\":4e11,\"status\":\"up\","
    "\"attributes\":{\"vendor\":\"acme\",\"ports\":48,\"load\":0.25,\"managed\":true}},"
    "{\"id\":\"r2\",\"status\":\"DOWN\",\"latitude\":-33.9,\"longitude\":151.2}],"
    "\"links\":[{\"id\":\"l1\",\"source\":\"r1\",\"target\":\"r2\",\"label\":\"backbone\","
    "\"capacity\":100000000000,\"status\":\"down\",\"attributes\":{\"latency_ms\":3.5}}]}";

static void test_snapshot_reads_every_field(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok(full_doc, &rep);
    const na_node *r1 = test_node(t, "r1"), *r2 = test_node(t, "r2");
    const na_link *l = test_link(t, "l1");

    assert_int_equal(na_topology_version(t), 7);
    assert_int_equal(na_topology_timestamp_ms(t), 1772971200000LL);
    assert_string_equal(na_topology_name(t), "lab");
    assert_string_equal(r1->label, "Router 1");
    assert_string_equal(r1->role, "core");
    assert_string_equal(r1->site, "fra1");
    assert_int_equal(r1->asn, 65001);
    assert_double_same(r1->latitude, 50.1109, "latitude");
    assert_double_same(r1->longitude, 8.6821, "longitude");
    assert_double_same(r1->capacity, 4e11, "capacity");
    assert_int_equal(r1->status, NA_STATUS_UP);
    assert_int_equal(r2->status, NA_STATUS_DOWN);  /* case-insensitive */
    assert_null(r2->label);
    assert_int_equal(r2->asn, 0);
    assert_true(isnan(r2->capacity));
    assert_int_equal(r1->n_attrs, 4);
    assert_int_equal(na_node_attr(r1, "vendor")->type, NA_VAL_STRING);
    assert_string_equal(na_node_attr(r1, "vendor")->u.s, "acme");
    assert_int_equal(na_node_attr(r1, "ports")->type, NA_VAL_INT);
    assert_int_equal(na_node_attr(r1, "ports")->u.i, 48);
    assert_int_equal(na_node_attr(r1, "load")->type, NA_VAL_DOUBLE);
    assert_int_equal(na_node_attr(r1, "managed")->type, NA_VAL_BOOL);
    assert_true(na_node_attr(r1, "managed")->u.b);
    assert_string_equal(l->source, "r1");
    assert_string_equal(l->target, "r2");
    assert_string_equal(l->label, "backbone");
    assert_double_same(l->capacity, 1e11, "link capacity");
    assert_int_equal(l->status, NA_STATUS_DOWN);
    assert_double_same(na_link_attr(l, "latency_ms")->u.d, 3.5, "latency_ms");
    assert_int_equal(rep.nodes, 2);
    assert_int_equal(rep.links, 1);
    assert_int_equal(rep.wrong_type, 0);
    assert_int_equal(rep.unknown_fields, 0);
    assert_int_equal(rep.missing_coordinates, 0);
    assert_int_equal(rep.n_warnings, 0);
    na_topology_unref(t);
}

static void test_bare_document_edges_alias_and_integer_ids(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok("{\"nodes\":[{\"id\":1},{\"id\":-2},{\"id\":\"x\"}],"
                             "\"edges\":[{\"source\":1,\"target\":-2},{\"source\":\"x\",\"target\":1}]}",
                             &rep);

    assert_int_equal(na_topology_node_count(t), 3);
    assert_string_equal(na_topology_node(t, 0)->id, "1");
    assert_string_equal(na_topology_node(t, 1)->id, "-2");
    assert_string_equal(test_link(t, "1---2")->target, "-2");
    assert_string_equal(test_link(t, "x--1")->source, "x");
    assert_int_equal(na_topology_version(t), 1);
    assert_int_equal(na_topology_timestamp_ms(t), 0);
    assert_null(na_topology_name(t));
    assert_int_equal(rep.unknown_fields, 0);
    na_topology_unref(t);
}

/* What networkx.readwrite.json_graph.node_link_data(G) writes for a small multigraph. */
static void test_networkx_node_link_data_loads(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok(
        "{\"directed\": false, \"multigraph\": true, \"graph\": {\"name\": \"zoo\"}, "
        "\"nodes\": [{\"Country\": \"DE\", \"id\": 0}, {\"id\": 1}], "
        "\"links\": [{\"weight\": 2.5, \"source\": 0, \"target\": 1, \"key\": 0}, "
        "{\"source\": 0, \"target\": 1, \"key\": 1}]}", &rep);

    assert_string_equal(na_topology_name(t), "zoo");
    assert_int_equal(na_topology_link_count(t), 2);
    assert_string_equal(na_node_attr(test_node(t, "0"), "Country")->u.s, "DE");
    assert_double_same(na_link_attr(test_link(t, "0--1"), "weight")->u.d, 2.5, "weight");
    assert_int_equal(na_link_attr(test_link(t, "0--1#2"), "key")->u.i, 1);
    assert_int_equal(rep.unknown_fields, 4);  /* Country, weight, key, key */
    assert_int_equal(rep.multi_links, 1);
    assert_int_equal(rep.wrong_type, 0);
    na_topology_unref(t);
}

static void test_wrong_types_are_counted_warned_and_ignored(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok(
        "{\"version\":\"v1\",\"timestamp\":\"yesterday\",\"name\":5,\"nodes\":[\n"
        "{\"id\":\"r1\",\"asn\":\"x\",\"latitude\":\"north\",\"longitude\":200,\n"
        " \"capacity\":-5,\"status\":\"sideways\",\"label\":5,\"role\":\"core\"},\n"
        "{\"id\":\"r2\",\"asn\":4294967296,\"attributes\":{\"ok\":1,\"nested\":{\"a\":1}}},\n"
        "{\"id\":\"r3\",\"attributes\":[1,2],\"site\":[\"a\"]}],\n"
        "\"links\":[{\"source\":\"r1\",\"target\":\"r2\",\"capacity\":\"10G\",\"status\":1}]}",
        &rep);
    const na_node *r1 = test_node(t, "r1"), *r2 = test_node(t, "r2"), *r3 = test_node(t, "r3");

    /* version, timestamp, name; asn, latitude, longitude, capacity, status, label; asn,
       attributes.nested; attributes, site; link capacity, link status */
    assert_int_equal(rep.wrong_type, 15);
    assert_int_equal(rep.unknown_fields, 0);
    assert_int_equal(na_topology_version(t), 1);
    assert_int_equal(na_topology_timestamp_ms(t), 0);
    assert_null(na_topology_name(t));
    assert_int_equal(r1->asn, 0);
    assert_true(isnan(r1->latitude));
    assert_true(isnan(r1->longitude));
    assert_true(isnan(r1->capacity));
    assert_int_equal(r1->status, NA_STATUS_UNKNOWN);
    assert_null(r1->label);
    assert_string_equal(r1->role, "core");  /* the good fields of the node stay */
    assert_int_equal(r2->asn, 0);
    assert_int_equal(r2->n_attrs, 1);
    assert_int_equal(na_node_attr(r2, "ok")->u.i, 1);
    assert_int_equal(r3->n_attrs, 0);
    assert_null(r3->site);
    assert_true(isnan(na_topology_link(t, 0)->capacity));
    assert_true(some_message_has(&rep, "nodes[0].asn", "node 'r1'"));
    assert_true(some_message_has(&rep, "nodes[0].latitude", "line 2"));
    assert_true(some_message_has(&rep, "nodes[0].status", "'sideways'"));
    assert_true(some_message_has(&rep, "nodes[1].attributes.nested", "node 'r2'"));
    assert_true(some_message_has(&rep, "links[0].capacity", "line 6"));
    assert_true(some_message_has(&rep, "timestamp", "RFC 3339"));
    na_topology_unref(t);
}

static void test_unknown_fields_become_attributes(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok(
        "{\"comment\":\"hi\",\"nodes\":[{\"id\":\"a\",\"vendor\":\"acme\",\"ports\":48,"
        "\"tags\":[\"x\"],\"attributes\":{\"vendor\":\"other\"}},{\"id\":\"b\"}],"
        "\"links\":[{\"source\":\"a\",\"target\":\"b\",\"mtu\":9000,\"srlg\":null}]}", &rep);
    const na_node *a = test_node(t, "a");

    assert_int_equal(rep.unknown_fields, 6);  /* comment, vendor, ports, tags, mtu, srlg */
    assert_int_equal(rep.wrong_type, 0);
    assert_string_equal(na_node_attr(a, "vendor")->u.s, "other");  /* attributes win */
    assert_int_equal(na_node_attr(a, "ports")->type, NA_VAL_INT);
    assert_null(na_node_attr(a, "tags"));
    assert_int_equal(a->n_attrs, 2);
    assert_int_equal(na_link_attr(na_topology_link(t, 0), "mtu")->u.i, 9000);
    assert_null(na_link_attr(na_topology_link(t, 0), "srlg"));
    assert_true(some_message_has(&rep, "nodes[0].tags", "dropped"));
    assert_true(some_message_has(&rep, "comment", "ignored"));
    na_topology_unref(t);
}

static void test_shape_is_counted(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok(
        "{\"nodes\":[{\"id\":\"a\",\"latitude\":1,\"longitude\":2},{\"id\":\"b\",\"latitude\":1},"
        "{\"id\":\"c\"},{\"id\":\"lonely\",\"latitude\":0,\"longitude\":0}],\"links\":["
        "{\"source\":\"a\",\"target\":\"b\"},{\"source\":\"b\",\"target\":\"a\"},"
        "{\"source\":\"a\",\"target\":\"b\",\"id\":\"third\"},{\"source\":\"c\",\"target\":\"c\"},"
        "{\"source\":\"c\",\"target\":\"c\"}]}", &rep);

    assert_int_equal(rep.nodes, 4);
    assert_int_equal(rep.links, 5);
    assert_int_equal(rep.multi_links, 3);  /* b-a, third, the second c-c */
    assert_int_equal(rep.self_loops, 2);
    assert_int_equal(rep.missing_coordinates, 2);  /* b (no longitude), c */
    assert_int_equal(rep.isolated_nodes, 1);
    assert_int_equal(na_topology_link_count(t), 5);  /* the model keeps all of them */
    assert_string_equal(na_topology_link(t, 1)->id, "b--a");
    assert_string_equal(na_topology_link(t, 4)->id, "c--c#2");
    assert_true(some_message_has(&rep, "links[1]", "parallel"));
    assert_true(some_message_has(&rep, "links[3]", "self-loop"));
    assert_true(some_message_has(&rep, "nodes[3]", "no links"));
    na_topology_unref(t);
}

static void test_timestamps(void **state)
{
    (void)state;
    static const struct {
        const char *ts;
        long long ms;
    } cases[] = {
        {"\"2026-03-08T12:00:00Z\"", 1772971200000LL},
        {"\"2026-03-08T12:00:00.250+01:00\"", 1772967600250LL},
        {"\"2026-03-08t11:00:00.2509999z\"", 1772967600250LL},  /* cut to milliseconds */
        {"\"2026-03-08 06:30:00.25-04:30\"", 1772967600250LL},
        {"\"2024-02-29T00:00:00Z\"", 1709164800000LL},
        {"\"1969-12-31T23:59:59.999Z\"", -1LL},
        {"1772971200000", 1772971200000LL},
    };
    static const char *const bad[] = {
        "\"2025-02-29T00:00:00Z\"", "\"2026-13-01T00:00:00Z\"", "\"2026-03-08T24:00:00Z\"",
        "\"2026-03-08T12:00:00\"", "\"2026-03-08T12:00:00.Z\"", "\"2026-03-08T12:00:00+0100\"",
        "1.5e12", "true", "\"2026-03-08T12:00:00Zjunk\""};
    char doc[200];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        na_topology *t;
        snprintf(doc, sizeof(doc), "{\"timestamp\":%s,\"nodes\":[]}", cases[i].ts);
        t = load_ok(doc, NULL);
        if (na_topology_timestamp_ms(t) != cases[i].ms) {
            fprintf(stderr, "%s: got %lld, expected %lld\n", cases[i].ts,
                    (long long)na_topology_timestamp_ms(t), cases[i].ms);
            fail();
        }
        na_topology_unref(t);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        na_import_report rep;
        na_topology *t;
        snprintf(doc, sizeof(doc), "{\"timestamp\":%s,\"nodes\":[]}", bad[i]);
        t = load_ok(doc, &rep);
        if (rep.wrong_type != 1 || na_topology_timestamp_ms(t) != 0) {
            fprintf(stderr, "%s: wrong_type %zu (expected 1), timestamp %lld (expected 0)\n",
                    bad[i], rep.wrong_type, (long long)na_topology_timestamp_ms(t));
            fail();
        }
        na_topology_unref(t);
    }
}

static void test_fatal_errors_name_path_and_position(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        int code;
        const char *needle;
        long line, col;
    } cases[] = {
        /* the node object when its id is missing */
        {"{\"nodes\":[{\"id\":\"a\"},\n {\"label\":\"b\"}]}", NA_EPARSE, "nodes[1].id: missing node id", 2, 2},
        {"{\"nodes\":[\n  {\"id\":\"\"}]}", NA_EPARSE, "nodes[0].id: empty node id", 2, 9},
        {"{\"nodes\":[{\"id\":true}]}", NA_EPARSE, "nodes[0].id: node id must be a string or an integer, got a boolean", 1, 17},
        {"{\"nodes\":[{\"id\":1.5}]}", NA_EPARSE, "nodes[0].id: node id must be", 1, 17},
        {"{\"nodes\":[{\"id\":\"a\"},\n  {\"id\":\"b\"},\n  {\"label\":\"x\", \"id\":\"a\"}]}", NA_EPARSE, "nodes[2].id: duplicate node id 'a' (first at nodes[0])", 3, 22},
        {"{\"nodes\":[{\"id\":1},{\"id\":\"1\"}]}", NA_EPARSE, "nodes[1].id: duplicate node id '1'", 1, 26},
        {"{\"nodes\":[{\"id\":\"a\"}],\n \"links\":[{\"source\":\"a\", \"target\":\"zz\"}]}", NA_EPARSE, "links[0].target: unknown node 'zz'", 2, 35},
        {"{\"nodes\":[{\"id\":\"a\"}],\n \"edges\":[{\"source\":\"q\",\"target\":\"a\"}]}", NA_EPARSE, "edges[0].source: unknown node 'q'", 2, 21},
        {"{\"nodes\":[{\"id\":\"a\"}],\"links\":[\n{\"target\":\"a\"}]}", NA_EPARSE, "links[0].source: missing link source", 2, 1},
        {"{\"nodes\":[{\"id\":\"a\"}],\"links\":[{\"id\":\"x\",\"source\":\"a\",\"target\":\"a\"},\n"
         "{\"id\":\"x\",\"source\":\"a\",\"target\":\"a\"}]}", NA_EPARSE, "links[1].id: duplicate link id 'x'", 2, 7},
        {"{\"nodes\":[\"a\"]}", NA_EPARSE, "nodes[0]: expected a node object, got a string", 1, 11},
        {"{\"nodes\":[],\"links\":{}}", NA_EPARSE, "links: expected an array of links, got an object", 1, 21},
        {"{\"links\":[]}", NA_EPARSE, "missing \"nodes\" array", 1, 1},
        {"{\"nodes\":[],\"links\":[],\"edges\":[]}", NA_EPARSE, "both \"links\" and \"edges\"", 1, 32},
        {"[{\"nodes\":[]}]", NA_EPARSE, "expected a snapshot object, got an array", 1, 1},
        {"{\"type\":\"delta\",\"ops\":[]}", NA_EPARSE, "type: this is a delta message", 1, 9},
        {"{\"type\":\"graph\",\"nodes\":[]}", NA_EPARSE, "type: expected \"snapshot\", got 'graph'", 1, 9},
        /* jansson's own errors keep its position */
        {"{\"nodes\":[{\"id\":\"a\"},]}", NA_EPARSE, "unexpected token near ']'", 1, 22},
        {"{\"nodes\":[],\n \"nodes\":[]}", NA_EPARSE, "duplicate object key", 2, 8},
        {"{\"nodes\":[{\"id\":\"a\\u0000b\"}]}", NA_EPARSE, "\\u0000 is not allowed", 1, 26},
        {"", NA_EPARSE, "'[' or '{' expected", 1, 0},
        {"{\"nodes\":[]} x", NA_EPARSE, "end of file expected", 1, 14},
    };
    na_error err;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        load_fails(cases[i].doc, cases[i].code, cases[i].needle, cases[i].line, cases[i].col,
                   &err);
}

static void test_position_after_escaped_keys_and_byte_order_mark(void **state)
{
    (void)state;
    na_error err;
    na_topology *t;
    /* "\u006eodes" is "nodes": the locator must decode keys to find the bad link */
    const char *doc = "\xef\xbb\xbf{\"\\u006eodes\":[{\"id\":\"a\"}],\n"
                      "\"links\":[{\"source\":\"a\",\"target\":\"a\"},\n"
                      "  {\"x\":\"}]\\\"\",\"source\":\"a\",\"target\":\"b\"}]}";

    load_fails(doc, NA_EPARSE, "links[1].target: unknown node 'b'", 3, 37, &err);
    assert_int_equal(err.offset, (long)(strstr(doc, "\"b\"") - doc));
    t = load_ok("\xef\xbb\xbf{\"nodes\":[{\"id\":\"a\"}]}", NULL);
    assert_int_equal(na_topology_node_count(t), 1);
    na_topology_unref(t);
}

static void test_input_over_the_limit_is_refused_unread(void **state)
{
    (void)state;
    na_topology *t = NULL;
    na_error err;
    char one = '{';

    assert_int_equal(na_import_json(&one, NA_IMPORT_MAX_BYTES + 1, "big.json", &t, NULL, &err),
                     NA_ETOOBIG);
    assert_null(t);
    assert_non_null(strstr(err.message, "limit"));
}

/* ---- deltas and events ------------------------------------------------------------------- */

static na_delta **parse_deltas_ok(const char *doc, size_t *n)
{
    na_delta **d = NULL;
    na_error err;
    char buf[800];

    na_error_clear(&err);
    if (na_json_parse_deltas(doc, strlen(doc), "<test>", &d, n, &err)) {
        fprintf(stderr, "delta parse failed: %s\n", na_error_format(&err, buf, sizeof(buf)));
        fail();
    }
    return d;
}

static void free_deltas(na_delta **d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        na_delta_free(d[i]);
    free(d);
}

static na_topology *apply_ok(const na_topology *t, const na_delta *d)
{
    na_topology *next = NULL;
    na_error err;

    na_error_clear(&err);
    if (na_topology_apply_delta(t, d, &next, &err)) {
        fprintf(stderr, "apply failed: %s\n", err.message);
        fail();
    }
    return next;
}

static void test_delta_ops_apply_exactly_the_fields_given(void **state)
{
    (void)state;
    na_topology *t1 = load_ok(full_doc, NULL), *t2;
    size_t n;
    na_delta **d = parse_deltas_ok(
        "{\"type\":\"delta\",\"seq\":42,\"timestamp\":\"2026-03-08T12:00:01Z\",\"ops\":["
        "{\"op\":\"node_add\",\"node\":{\"id\":\"r3\",\"role\":\"edge\",\"asn\":65003,\"cabinet\":\"c9\"}},"
        "{\"op\":\"link_add\",\"link\":{\"source\":\"r2\",\"target\":\"r3\",\"capacity\":1e10}},"
        "{\"op\":\"node_update\",\"node\":{\"id\":\"r1\",\"role\":\"spine\",\"label\":null,"
        "\"attributes\":{\"vendor\":null,\"rack\":\"A1\"}}},"
        "{\"op\":\"link_update\",\"link\":{\"source\":\"r2\",\"target\":\"r1\",\"status\":\"up\"}},"
        "{\"op\":\"node_update\",\"node\":{\"id\":\"r2\",\"latitude\":null,\"capacity\":5}},"
        "{\"op\":\"link_remove\",\"link\":{\"id\":\"r2--r3\"}},"
        "{\"op\":\"node_remove\",\"node\":{\"id\":\"r3\"}},"
        "{\"op\":\"link_down\",\"link\":{\"id\":\"l1\",\"capacity\":7}}]}", &n);
    const na_delta_op *op;
    const na_node *r1, *r2;
    const na_link *l;

    assert_int_equal(n, 1);
    assert_int_equal(na_delta_seq(d[0]), 42);
    assert_int_equal(na_delta_timestamp_ms(d[0]), 1772971201000LL);
    assert_int_equal(na_delta_count(d[0]), 8);
    op = na_delta_get(d[0], 0);
    assert_int_equal(op->kind, NA_DELTA_NODE_ADD);
    assert_string_equal(na_node_attr(&op->node, "cabinet")->u.s, "c9");
    op = na_delta_get(d[0], 2);
    assert_int_equal(op->kind, NA_DELTA_NODE_UPDATE);
    assert_int_equal(op->fields, NA_FIELD_ROLE | NA_FIELD_LABEL | NA_FIELD_ATTRS);
    op = na_delta_get(d[0], 3);
    assert_int_equal(op->kind, NA_DELTA_LINK_UPDATE);
    assert_int_equal(op->fields, NA_FIELD_STATUS);
    assert_null(op->link.id);
    op = na_delta_get(d[0], 4);
    assert_int_equal(op->fields, NA_FIELD_LATITUDE | NA_FIELD_CAPACITY);
    op = na_delta_get(d[0], 7);
    assert_int_equal(op->kind, NA_DELTA_LINK_UPDATE);
    assert_int_equal(op->fields, NA_FIELD_STATUS);  /* link_down changes status only */

    t2 = apply_ok(t1, d[0]);
    assert_int_equal(na_topology_version(t2), 8);
    assert_int_equal(na_topology_timestamp_ms(t2), 1772971201000LL);
    assert_int_equal(na_topology_node_count(t2), 2);
    assert_int_equal(na_topology_link_count(t2), 1);
    r1 = test_node(t2, "r1");
    r2 = test_node(t2, "r2");
    l = test_link(t2, "l1");
    assert_string_equal(r1->role, "spine");
    assert_null(r1->label);                           /* null cleared it */
    assert_int_equal(r1->asn, 65001);                 /* absent: untouched */
    assert_null(na_node_attr(r1, "vendor"));          /* null removed the key */
    assert_string_equal(na_node_attr(r1, "rack")->u.s, "A1");
    assert_int_equal(na_node_attr(r1, "ports")->u.i, 48);
    assert_true(isnan(r2->latitude));
    assert_double_same(r2->longitude, 151.2, "longitude");
    assert_double_same(r2->capacity, 5, "capacity");
    assert_int_equal(l->status, NA_STATUS_DOWN);      /* link_update up, then link_down */
    assert_double_same(l->capacity, 1e11, "link capacity");
    /* the base snapshot is untouched */
    assert_string_equal(test_node(t1, "r1")->role, "core");
    free_deltas(d, n);
    na_topology_unref(t1);
    na_topology_unref(t2);
}

static void test_delta_arrays_and_bare_deltas(void **state)
{
    (void)state;
    size_t n;
    na_delta **d = parse_deltas_ok(
        "[{\"seq\":1,\"timestamp\":5,\"ops\":[]},"
        "{\"type\":\"delta\",\"seq\":2,\"future_field\":{\"x\":1},\"ops\":["
        "{\"op\":\"node_add\",\"node\":{\"id\":7,\"new_thing\":[1]}}]}]", &n);

    assert_int_equal(n, 2);
    assert_int_equal(na_delta_seq(d[0]), 1);
    assert_int_equal(na_delta_timestamp_ms(d[0]), 5);
    assert_int_equal(na_delta_count(d[0]), 0);
    assert_int_equal(na_delta_seq(d[1]), 2);
    assert_string_equal(na_delta_get(d[1], 0)->node.id, "7");
    assert_int_equal(na_delta_get(d[1], 0)->node.n_attrs, 0);
    free_deltas(d, n);
    d = parse_deltas_ok("[]", &n);
    assert_int_equal(n, 0);
    assert_non_null(d);
    free_deltas(d, n);
}

static void delta_fails(const char *doc, const char *needle, long line, long col)
{
    na_delta **d = (na_delta **)1;
    size_t n = 99;
    na_error err;
    int rc;

    na_error_clear(&err);
    rc = na_json_parse_deltas(doc, strlen(doc), "<test>", &d, &n, &err);
    if (rc != NA_EPARSE || !strstr(err.message, needle) || err.line != line ||
        err.column != col) {
        fprintf(stderr, "document: %s\nexpected '%s' at %ld:%ld\ngot      %d '%s' at %ld:%ld\n",
                doc, needle, line, col, rc, err.message, err.line, err.column);
        fail();
    }
    assert_null(d);
    assert_int_equal(n, 0);
}

static void test_delta_errors(void **state)
{
    (void)state;
    delta_fails("{\"type\":\"delta\",\"ops\":[{\"op\":\"node_add\",\"node\":{\"id\":\"a\"}},\n"
                "  {\"op\":\"node_frob\",\"node\":{\"id\":\"a\"}}]}",
                "ops[1].op: unknown operation 'node_frob'", 2, 9);
    delta_fails("{\"ops\":[{\"node\":{\"id\":\"a\"}}]}", "ops[0].op: missing operation", 1, 9);
    delta_fails("{\"ops\":[{\"op\":\"node_add\",\"link\":{\"id\":\"a\"}}]}",
                "ops[0].node: node_add needs a \"node\" object", 1, 9);
    delta_fails("{\"ops\":[{\"op\":\"node_update\",\"node\":{\"id\":\"a\",\"asn\":\"x\"}}]}",
                "ops[0].node.asn: expected an AS number", 1, 52);
    delta_fails("{\"ops\":[{\"op\":\"link_add\",\"link\":{\"source\":\"a\"}}]}",
                "ops[0].link.target: missing link target", 1, 33);
    delta_fails("{\"ops\":[{\"op\":\"link_remove\",\"link\":{\"source\":\"a\"}}]}",
                "ops[0].link: a link needs an id or both source and target", 1, 36);
    delta_fails("{\"ops\":[{\"op\":\"node_remove\",\"node\":{}}]}",
                "ops[0].node.id: missing node id", 1, 36);
    delta_fails("[{\"ops\":[]},\n {\"ops\":[{\"op\":\"link_up\",\"link\":{\"id\":\"x\",\"status\":\"bad\"}},\n"
                "  {\"op\":7}]}]", "[1].ops[1].op: expected an operation name, got an integer", 3, 9);
    delta_fails("{\"type\":\"snapshot\",\"nodes\":[]}", "type: expected \"delta\", got a snapshot", 1, 9);
    delta_fails("{\"type\":\"delta\",\"seq\":-1,\"ops\":[]}", "seq: expected a non-negative integer", 1, 23);
    delta_fails("{\"nodes\":[]}", "ops: missing \"ops\" array", 1, 1);
    delta_fails("[1]", "[0]: an array holds delta objects only, got an integer", 1, 2);
    delta_fails("{\"ops\":[}", "unexpected token", 1, 9);
}

static void test_events_map_to_one_op_deltas(void **state)
{
    (void)state;
    size_t n;
    na_delta **d = parse_deltas_ok(
        "{\"type\":\"events\",\"base\":\"x.json\",\"events\":["
        "{\"timestamp\":\"2026-03-08T14:05:12.500Z\",\"op\":\"link_down\",\"source\":\"a\","
        "\"target\":\"b\",\"reason\":\"LOS\"},"
        "{\"timestamp\":\"2026-03-08T14:05:12.500Z\",\"op\":\"node_up\",\"id\":\"c\",\"seq\":99},"
        "{\"timestamp\":1772989920000,\"op\":\"node_add\",\"id\":\"d\",\"role\":\"leaf\",\"pod\":2},"
        "{\"timestamp\":1772989920000,\"op\":\"link_update\",\"id\":\"a--b\",\"capacity\":1}]}",
        &n);
    const na_delta_op *op;

    assert_int_equal(n, 4);
    op = na_delta_get(d[0], 0);
    assert_int_equal(na_delta_count(d[0]), 1);
    assert_int_equal(na_delta_seq(d[0]), 1);  /* its position */
    assert_int_equal(na_delta_timestamp_ms(d[0]), 1772978712500LL);
    assert_int_equal(op->kind, NA_DELTA_LINK_UPDATE);
    assert_int_equal(op->fields, NA_FIELD_STATUS);
    assert_int_equal(op->link.status, NA_STATUS_DOWN);
    assert_string_equal(op->link.source, "a");
    assert_int_equal(op->link.n_attrs, 0);  /* "reason" annotates the event only */
    op = na_delta_get(d[1], 0);
    assert_int_equal(na_delta_seq(d[1]), 99);
    assert_int_equal(op->kind, NA_DELTA_NODE_UPDATE);
    assert_int_equal(op->node.status, NA_STATUS_UP);
    op = na_delta_get(d[2], 0);
    assert_int_equal(op->kind, NA_DELTA_NODE_ADD);
    assert_string_equal(op->node.role, "leaf");
    assert_int_equal(na_node_attr(&op->node, "pod")->u.i, 2);
    assert_null(na_node_attr(&op->node, "timestamp"));
    op = na_delta_get(d[3], 0);
    assert_int_equal(op->fields, NA_FIELD_CAPACITY);
    free_deltas(d, n);

    delta_fails("{\"type\":\"events\",\"events\":[{\"timestamp\":10,\"op\":\"node_up\",\"id\":\"a\"},\n"
                "{\"timestamp\":9,\"op\":\"node_down\",\"id\":\"a\"}]}",
                "events[1].timestamp: events must be in time order", 2, 14);
    delta_fails("{\"events\":[{\"timestamp\":9223372036854775807,\"op\":\"node_up\",\"id\":\"a\"},"
                "{\"timestamp\":-9223372036854775808,\"op\":\"node_up\",\"id\":\"a\"}]}",
                "18446744073709551615 ms before the previous one", 1, 83);
    delta_fails("{\"events\":[{\"op\":\"node_up\",\"id\":\"a\"}]}",
                "events[0].timestamp: missing timestamp", 1, 12);
    delta_fails("{\"events\":[{\"timestamp\":1,\"op\":\"link_flap\",\"id\":\"a\"}]}",
                "events[0].op: unknown operation 'link_flap'", 1, 32);
    delta_fails("{\"type\":\"events\",\"base\":3,\"events\":[]}", "base: expected a file name", 1, 25);
}

static void test_temporal_example_replays_on_the_clos_fabric(void **state)
{
    (void)state;
    size_t len, n;
    char *snap = read_example("clos-fabric.json", &len), *ev;
    na_topology *t = NULL, *next;
    na_delta **d;
    na_error err;
    const na_link *l;

    assert_int_equal(na_import_json(snap, len, "clos-fabric.json", &t, NULL, &err), 0);
    free(snap);
    ev = read_example("temporal-events.json", &len);
    assert_int_equal(na_json_parse_deltas(ev, len, "temporal-events.json", &d, &n, &err), 0);
    free(ev);
    assert_int_equal(n, 20);
    for (size_t i = 0; i < n; i++) {
        next = apply_ok(t, d[i]);
        na_topology_unref(t);
        t = next;
    }
    assert_int_equal(na_topology_version(t), 21);
    assert_int_equal(na_topology_timestamp_ms(t), 1772989920000LL);
    assert_int_equal(na_topology_node_count(t), 12);  /* leaf-08 out, leaf-09 in */
    assert_int_equal(na_topology_link_count(t), 32);
    assert_int_equal(na_topology_find_node(t, "leaf-08", &len), NA_ENOTFOUND);
    assert_int_equal(test_node(t, "leaf-09")->asn, 65109);
    assert_int_equal(test_node(t, "leaf-07")->status, NA_STATUS_UP);
    l = test_link(t, "spine-01--leaf-03");
    assert_int_equal(l->status, NA_STATUS_UP);
    assert_double_same(l->capacity, 1e11, "degraded capacity");
    assert_string_equal(na_link_attr(l, "optic")->u.s, "100G-LR4 (temporary)");
    assert_int_equal(test_link(t, "spine-04--leaf-02")->status, NA_STATUS_DOWN);
    free_deltas(d, n);
    na_topology_unref(t);
}

/* ---- export ------------------------------------------------------------------------------ */

static char *export_ok(const na_topology *t, unsigned flags)
{
    size_t len = 0;
    char *s = na_export_json(t, flags, &len);

    assert_non_null(s);
    assert_int_equal(len, strlen(s));
    return s;
}

static void round_trip(const na_topology *t)
{
    for (unsigned flags = 0; flags <= NA_EXPORT_PRETTY; flags++) {
        char *text = export_ok(t, flags), *again;
        na_topology *back = load_ok(text, NULL);
        assert_topology_equal(back, t);
        again = export_ok(back, flags);
        assert_string_equal(again, text);
        free(again);
        free(text);
        na_topology_unref(back);
    }
}

static void test_export_import_round_trip(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok(
        "{\"version\":9,\"timestamp\":\"2026-03-08T12:00:00.007Z\",\"name\":\"Z\\u00fcrich \\\"lab\\\"\","
        "\"nodes\":[{\"id\":\"a\\\\b\",\"label\":\"tab\\there\\nnew\\u0001ctl \\u2603\","
        "\"asn\":4294967295,\"latitude\":0.1,\"longitude\":-179.99999999999997,"
        "\"capacity\":1e300,\"status\":\"unknown\",\"attributes\":{\"i\":-9223372036854775807,"
        "\"r\":3.0,\"tiny\":5e-324,\"neg0\":-0.0,\"t\":true,\"f\":false,\"s\":\"\"}},"
        "{\"id\":\"b\",\"status\":\"up\",\"capacity\":0},{\"id\":\"c\"}],"
        "\"links\":[{\"source\":\"a\\\\b\",\"target\":\"b\",\"capacity\":2.5e9},"
        "{\"source\":\"b\",\"target\":\"a\\\\b\",\"status\":\"down\"},"
        "{\"id\":\"explicit\",\"source\":\"c\",\"target\":\"c\",\"label\":\"loop\","
        "\"attributes\":{\"x\":1}}]}", &rep);

    assert_int_equal(rep.wrong_type, 0);
    round_trip(t);
    na_topology_unref(t);
}

/* Times outside RFC 3339's years 0000-9999 are written as integer milliseconds. */
static void test_extreme_timestamps_round_trip(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"timestamp\":-9223372036854775808,\"nodes\":[]}",
        "{\"timestamp\":9223372036854775807,\"nodes\":[]}",
        "{\"timestamp\":\"0000-01-01T00:00:00Z\",\"nodes\":[]}",
        "{\"timestamp\":\"9999-12-31T23:59:60.999-23:59\",\"nodes\":[]}",
        "{\"timestamp\":-62167219200001,\"nodes\":[]}",
    };

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        na_topology *t = load_ok(docs[i], NULL);
        round_trip(t);
        na_topology_unref(t);
    }
}

static void test_export_leaves_out_unknown_values(void **state)
{
    (void)state;
    na_builder *b = na_builder_new();
    na_attr attrs[] = {
        {.key = "nan", .value = {.type = NA_VAL_DOUBLE, .u.d = NAN}},
        {.key = "inf", .value = {.type = NA_VAL_DOUBLE, .u.d = INFINITY}},
        {.key = "kept", .value = {.type = NA_VAL_DOUBLE, .u.d = 2.0}},
    };
    na_topology *t = NULL, *back;
    na_node n;
    char *text;

    na_node_init(&n);
    n.id = "bad\xff\xfeutf8";  /* a GML file may carry Latin-1 */
    n.label = "caf\xe9";
    n.attrs = attrs;
    n.n_attrs = 3;
    assert_int_equal(na_builder_add_node(b, &n, NULL), 0);
    assert_int_equal(na_builder_finish(b, &t, NULL), 0);
    text = export_ok(t, 0);
    assert_string_equal(text, "{\"type\":\"snapshot\",\"version\":1,\"nodes\":[{\"id\":"
                              "\"bad\\ufffd\\ufffdutf8\",\"label\":\"caf\\ufffd\","
                              "\"attributes\":{\"kept\":2.0}}],\"links\":[]}");
    back = load_ok(text, NULL);
    assert_string_equal(na_topology_node(back, 0)->id, "bad\xef\xbf\xbd\xef\xbf\xbdutf8");
    free(text);
    na_topology_unref(back);
    na_topology_unref(t);
}

static void test_examples_load_and_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        size_t nodes, links;
    } ex[] = {
        {"topology-snapshot.json", 4, 4},
        {"clos-fabric.json", 12, 32},
        {"bgp-leak-topology.json", 12, 17},
        {"v2.1-test-topology.json", 2000, 3920},
    };

    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        size_t len;
        char *data = read_example(ex[i].file, &len);
        na_import_report rep;
        na_topology *t = NULL;
        na_error err;
        char buf[800];
        if (na_import_json(data, len, ex[i].file, &t, &rep, &err)) {
            fprintf(stderr, "%s\n", na_error_format(&err, buf, sizeof(buf)));
            fail();
        }
        free(data);
        if (rep.nodes != ex[i].nodes || rep.links != ex[i].links || rep.wrong_type ||
            rep.unknown_fields) {
            fprintf(stderr, "%s: %zu nodes, %zu links, %zu wrong, %zu unknown; expected %zu, "
                            "%zu, 0, 0\n", ex[i].file, rep.nodes, rep.links, rep.wrong_type,
                    rep.unknown_fields, ex[i].nodes, ex[i].links);
            fail();
        }
        round_trip(t);
        na_topology_unref(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_reads_every_field),
        cmocka_unit_test(test_bare_document_edges_alias_and_integer_ids),
        cmocka_unit_test(test_networkx_node_link_data_loads),
        cmocka_unit_test(test_wrong_types_are_counted_warned_and_ignored),
        cmocka_unit_test(test_unknown_fields_become_attributes),
        cmocka_unit_test(test_shape_is_counted),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_fatal_errors_name_path_and_position),
        cmocka_unit_test(test_position_after_escaped_keys_and_byte_order_mark),
        cmocka_unit_test(test_input_over_the_limit_is_refused_unread),
        cmocka_unit_test(test_delta_ops_apply_exactly_the_fields_given),
        cmocka_unit_test(test_delta_arrays_and_bare_deltas),
        cmocka_unit_test(test_delta_errors),
        cmocka_unit_test(test_events_map_to_one_op_deltas),
        cmocka_unit_test(test_temporal_example_replays_on_the_clos_fabric),
        cmocka_unit_test(test_export_import_round_trip),
        cmocka_unit_test(test_extreme_timestamps_round_trip),
        cmocka_unit_test(test_export_leaves_out_unknown_values),
        cmocka_unit_test(test_examples_load_and_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
