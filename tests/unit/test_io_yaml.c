/*
 * test_io_yaml.c: the YAML devices / bgp_peers importer: seed 001's example, field mapping and
 * YAML 1.2 typing, counted mess, fatal errors with positions, aliases and merge keys, the
 * limits (alias expansion, depth, size), examples/devices.yaml.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "netassure/io.h"
#include "harness.h"

static na_topology *load_ok(const char *doc, na_import_report *rep)
{
    na_topology *t = NULL;
    na_error err;
    char buf[800];

    na_error_clear(&err);
    if (na_import_yaml(doc, strlen(doc), "<test>", &t, rep, &err)) {
        fprintf(stderr, "import failed: %s\ndocument:\n%s\n",
                na_error_format(&err, buf, sizeof(buf)), doc);
        fail();
    }
    assert_non_null(t);
    return t;
}

static void load_fails(const char *doc, int code, const char *needle, long line, long col)
{
    na_topology *t = (na_topology *)1;
    na_error err;
    int rc;

    na_error_clear(&err);
    rc = na_import_yaml(doc, strlen(doc), "<test>", &t, NULL, &err);
    if (rc != code || !strstr(err.message, needle) || err.line != line || err.column != col) {
        fprintf(stderr, "document:\n%s\nexpected code %d, '%s' at %ld:%ld\n"
                        "got      code %d, '%s' at %ld:%ld\n",
                doc, code, needle, line, col, rc, err.message, err.line, err.column);
        fail();
    }
    assert_null(t);
    assert_string_equal(err.source, "<test>");
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

static void assert_attr(const na_node *n, const char *key, na_value_type type)
{
    const na_value *v = na_node_attr(n, key);

    if (!v || v->type != type) {
        fprintf(stderr, "%s.%s: %s type %d, expected type %d\n", n->id, key,
                v ? "has" : "missing,", v ? (int)v->type : -1, (int)type);
        fail();
    }
}

/* Seed 001's "Network Topology" block, verbatim. */
static const char *const seed_doc =
    "devices:\n"
    "  spine-01:\n"
    "    role: spine\n"
    "    asn: 65001\n"
    "    priority: critical\n"
    "    blast_radius: 15\n"
    "\n"
    "bgp_peers:\n"
    "  - [spine-01, tor-01]\n"
    "  - [spine-01, edge-01]\n";

static void test_seed_example(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok(seed_doc, &rep);
    const na_node *s = test_node(t, "spine-01");

    assert_int_equal(na_topology_node_count(t), 3);
    assert_int_equal(na_topology_link_count(t), 2);
    assert_string_equal(s->role, "spine");
    assert_int_equal(s->asn, 65001);
    assert_attr(s, "priority", NA_VAL_STRING);
    assert_string_equal(na_node_attr(s, "priority")->u.s, "critical");
    assert_attr(s, "blast_radius", NA_VAL_INT);
    assert_int_equal(na_node_attr(s, "blast_radius")->u.i, 15);
    assert_int_equal(s->n_attrs, 2);
    /* tor-01 and edge-01 are peers only: stub nodes, warned with their line */
    assert_null(test_node(t, "tor-01")->role);
    assert_true(some_message_has(&rep, "line 9", "'tor-01' is not in devices"));
    assert_true(some_message_has(&rep, "line 10", "'edge-01' is not in devices"));
    assert_string_equal(na_topology_link(t, 0)->id, "spine-01--tor-01");
    assert_int_equal(rep.unknown_fields, 0);  /* priority, blast_radius: the seed's own keys */
    assert_int_equal(rep.wrong_type, 0);
    assert_int_equal(rep.nodes, 3);
    assert_int_equal(rep.links, 2);
    na_topology_unref(t);
}

static void test_fields_and_yaml_1_2_typing(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok(
        "devices:\n"
        "  r1:\n"
        "    label: Router one\n"
        "    role: core\n"
        "    site: 001\n"
        "    asn: 0x10\n"
        "    latitude: 50.1109\n"
        "    longitude: -8\n"
        "    capacity: 4.0e+11\n"
        "    status: DOWN\n"
        "    attributes: {yes_flag: yes, octal: 0o17, quoted: \"15\", real: 1.5, t: true,\n"
        "                 gone: ~, neg: -7, inf: .inf, sci: 1e3, lit: '12', empty: \"\"}\n"
        "  \"r2\":\n"
        "  3:\n", &rep);
    const na_node *r1 = test_node(t, "r1");

    assert_string_equal(r1->label, "Router one");
    assert_string_equal(r1->role, "core");
    assert_string_equal(r1->site, "001");  /* text fields keep the text */
    assert_int_equal(r1->asn, 16);
    assert_true(r1->latitude == 50.1109);
    assert_true(r1->longitude == -8.0);
    assert_true(r1->capacity == 4e11);
    assert_int_equal(r1->status, NA_STATUS_DOWN);
    assert_attr(r1, "yes_flag", NA_VAL_STRING);  /* YAML 1.2: not a boolean */
    assert_string_equal(na_node_attr(r1, "yes_flag")->u.s, "yes");
    assert_attr(r1, "octal", NA_VAL_INT);
    assert_int_equal(na_node_attr(r1, "octal")->u.i, 15);
    assert_attr(r1, "quoted", NA_VAL_STRING);
    assert_attr(r1, "real", NA_VAL_DOUBLE);
    assert_attr(r1, "t", NA_VAL_BOOL);
    assert_null(na_node_attr(r1, "gone"));
    assert_int_equal(na_node_attr(r1, "neg")->u.i, -7);
    assert_true(isinf(na_node_attr(r1, "inf")->u.d));
    assert_attr(r1, "sci", NA_VAL_DOUBLE);
    assert_attr(r1, "lit", NA_VAL_STRING);
    assert_attr(r1, "empty", NA_VAL_STRING);
    assert_int_equal(r1->n_attrs, 10);
    assert_int_equal(test_node(t, "r2")->n_attrs, 0);  /* a device without settings */
    assert_int_equal(test_node(t, "3")->asn, 0);
    assert_int_equal(rep.wrong_type, 0);
    assert_int_equal(rep.unknown_fields, 0);
    assert_int_equal(rep.missing_coordinates, 2);
    assert_int_equal(rep.isolated_nodes, 3);
    na_topology_unref(t);
}

static void test_wrong_types_and_unknown_settings_are_counted(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok(
        "devices:\n"
        "  r1:\n"
        "    asn: x\n"
        "    latitude: north\n"
        "    longitude: 200\n"
        "    capacity: 10G\n"
        "    status: sideways\n"
        "    role: [a, b]\n"
        "    priority: {level: 1}\n"
        "    vendor: acme\n"
        "    interfaces: [eth0, eth1]\n"
        "    attributes: {ok: 1, bad: [1]}\n"
        "  r2:\n"
        "    asn: \"65002\"\n"
        "    attributes: 5\n"
        "bgp_peers:\n"
        "  - [r1, r2]\n", &rep);
    const na_node *r1 = test_node(t, "r1"), *r2 = test_node(t, "r2");

    /* asn, latitude, longitude, capacity, status, role, priority, attributes.bad; asn,
       attributes */
    assert_int_equal(rep.wrong_type, 10);
    assert_int_equal(rep.unknown_fields, 2);  /* vendor (kept), interfaces (dropped) */
    assert_int_equal(r1->asn, 0);
    assert_true(isnan(r1->latitude));
    assert_true(isnan(r1->longitude));
    assert_true(isnan(r1->capacity));
    assert_int_equal(r1->status, NA_STATUS_UNKNOWN);
    assert_null(r1->role);
    assert_null(na_node_attr(r1, "priority"));
    assert_string_equal(na_node_attr(r1, "vendor")->u.s, "acme");
    assert_null(na_node_attr(r1, "interfaces"));
    assert_int_equal(na_node_attr(r1, "ok")->u.i, 1);
    assert_int_equal(r1->n_attrs, 2);
    assert_int_equal(r2->asn, 0);  /* quoted: a string, not an AS number */
    assert_true(some_message_has(&rep, "line 3: devices.r1.asn", "got 'x'"));
    assert_true(some_message_has(&rep, "line 8: devices.r1.role", "got a list"));
    assert_true(some_message_has(&rep, "line 11: devices.r1.interfaces", "dropped"));
    assert_true(some_message_has(&rep, "line 14: devices.r2.asn", "'65002'"));
    na_topology_unref(t);
}

static void test_daemon_keys_are_ignored_silently(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok(
        "sources:\n  - {type: snmp, hosts: [a, b]}\n"
        "snmp: {community: public, oids: [[1, 3, 6]]}\n"
        "sites:\n  fra1: {latitude: 50, longitude: 8}\n"
        "alerts: [1, {x: y}]\n"
        "[complex, key]: value\n"
        "devices:\n  r1: {latitude: 1, longitude: 2}\n  r2: {latitude: 3, longitude: 4}\n"
        "bgp_peers: [[r1, r2]]\n", &rep);

    assert_int_equal(na_topology_node_count(t), 2);
    assert_int_equal(rep.unknown_fields, 0);
    assert_int_equal(rep.wrong_type, 0);
    assert_int_equal(rep.n_warnings, 0);
    na_topology_unref(t);
}

static void test_peer_shape_is_counted(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok("devices: {a: , b: , c: , alone: }\n"
                             "bgp_peers:\n  - [a, b]\n  - [b, a]\n  - [a, b]\n  - [c, c]\n",
                             &rep);

    assert_int_equal(rep.links, 4);
    assert_int_equal(rep.multi_links, 2);
    assert_int_equal(rep.self_loops, 1);
    assert_int_equal(rep.isolated_nodes, 1);
    assert_int_equal(rep.missing_coordinates, 4);
    assert_string_equal(na_topology_link(t, 2)->id, "a--b#2");
    assert_true(some_message_has(&rep, "line 4", "listed again"));
    assert_true(some_message_has(&rep, "line 6", "peers with itself"));
    assert_true(some_message_has(&rep, "alone", "no bgp_peers"));
    na_topology_unref(t);
}

static void test_fatal_errors_have_positions(void **state)
{
    (void)state;
    /* syntax errors: libyaml's own position */
    load_fails("devices:\n  a:\n    role: x\n   bad: [\n", NA_EPARSE, "did not find expected key", 4, 4);
    load_fails("devices: {a: [}\n", NA_EPARSE, "did not find expected node content", 1, 15);
    load_fails("devices:\n  a: *nope\n", NA_EPARSE, "undefined alias", 2, 6);
    load_fails("devices:\n  a: {}\n  b: {}\n  a: {}\n", NA_EPARSE,
               "duplicate device 'a' (first at line 2)", 4, 3);
    load_fails("devices:\n  a:\n    role: x\n    role: y\n", NA_EPARSE,
               "devices.a: duplicate setting 'role'", 4, 5);
    load_fails("devices: [a, b]\n", NA_EPARSE, "devices: expected a mapping", 1, 10);
    load_fails("devices:\n  a: spine\n", NA_EPARSE, "devices.a: expected a mapping of settings, got a scalar", 2, 6);
    load_fails("devices:\n  ~: {}\n", NA_EPARSE, "devices: expected a device name, got an empty or null value", 2, 3);
    load_fails("devices:\n  [x]: {}\n", NA_EPARSE, "devices: expected a device name, got a list", 2, 3);
    load_fails("devices:\n  \"a\\0b\": {}\n", NA_EPARSE, "expected a device name", 2, 3);
    load_fails("devices: {a: {}}\nbgp_peers:\n  - [a, b]\n  - [a]\n", NA_EPARSE,
               "bgp_peers[1]: expected a pair [device, device], got a list of another length", 4, 5);
    load_fails("bgp_peers:\n  - a\n", NA_EPARSE, "bgp_peers[0]: expected a pair", 2, 5);
    load_fails("bgp_peers:\n  - [a, \"\"]\n", NA_EPARSE, "bgp_peers: expected a device name", 2, 9);
    load_fails("bgp_peers: {a: b}\n", NA_EPARSE, "bgp_peers: expected a list", 1, 12);
    load_fails("- devices\n", NA_EPARSE, "expected a mapping with devices:", 1, 1);
    load_fails("", NA_EPARSE, "empty YAML document", 0, 0);
    load_fails("# only a comment\n", NA_EPARSE, "empty YAML document", 0, 0);
    load_fails("snmp: {}\n", NA_EPARSE, "no devices: or bgp_peers:", 1, 1);
    load_fails("devices: {}\nbgp_peers: []\ndevices: {}\n", NA_EPARSE,
               "duplicate key 'devices' (first at line 1)", 3, 1);
    load_fails("devices:\n  a:\n    <<: 5\n", NA_EPARSE, "<< merges a mapping or a list of mappings", 3, 9);
    load_fails("x: \xff\n", NA_EPARSE, "invalid", 0, 0);
}

static void test_aliases_and_merge_keys(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok(
        "base: &base {role: leaf, site: fra1, asn: 65100, priority: low}\n"
        "rack: &rack {site: fra2, rack: R1}\n"
        "pair: &pair [l1, l2]\n"
        "devices:\n"
        "  l1:\n"
        "    <<: [*rack, *base]\n"
        "    asn: 65101\n"
        "  l2: *base\n"
        "  l3:\n"
        "    <<: *base\n"
        "    role: spine\n"
        "bgp_peers: [*pair, *pair, [l3, l1]]\n", &rep);
    const na_node *l1 = test_node(t, "l1"), *l2 = test_node(t, "l2"), *l3 = test_node(t, "l3");

    assert_int_equal(l1->asn, 65101);             /* own key beats the merge */
    assert_string_equal(l1->site, "fra2");        /* earlier merge beats later */
    assert_string_equal(l1->role, "leaf");
    assert_string_equal(na_node_attr(l1, "rack")->u.s, "R1");
    assert_string_equal(na_node_attr(l1, "priority")->u.s, "low");
    assert_int_equal(l2->asn, 65100);
    assert_string_equal(l3->role, "spine");
    assert_int_equal(l3->asn, 65100);
    assert_int_equal(na_topology_link_count(t), 3);
    assert_int_equal(rep.multi_links, 1);
    assert_int_equal(rep.unknown_fields, 1);  /* rack */
    na_topology_unref(t);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_alias_expansion_is_bounded(void **state)
{
    (void)state;
    char doc[4096];
    size_t used = 0;
    struct timespec t0;
    na_topology *t = NULL;
    na_import_report rep;
    na_error err;
    int rc;

    /* Merge keys fanning out 30 ways, 6 deep: 30^6 = 7e8 mappings to walk. */
    used += (size_t)snprintf(doc + used, sizeof(doc) - used, "m0: &m0 {role: x}\n");
    for (int level = 1; level <= 6; level++) {
        used += (size_t)snprintf(doc + used, sizeof(doc) - used, "m%d: &m%d {<<: [", level, level);
        for (int k = 0; k < 30; k++)
            used += (size_t)snprintf(doc + used, sizeof(doc) - used, "%s*m%d", k ? ", " : "",
                                     level - 1);
        used += (size_t)snprintf(doc + used, sizeof(doc) - used, "]}\n");
    }
    used += (size_t)snprintf(doc + used, sizeof(doc) - used, "devices:\n  r1: *m6\n");
    assert_true(used < sizeof(doc) - 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = na_import_yaml(doc, used, "<laughs>", &t, NULL, &err);
    if (rc != NA_ETOOBIG || !strstr(err.message, "aliases expand to more than")) {
        fprintf(stderr, "got %d: %s\n", rc, err.message);
        fail();
    }
    assert_null(t);
    assert_true(seconds_since(&t0) < 10.0);

    /* The classic list "billion laughs" under a key we do not read costs nothing. */
    t = load_ok("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
                "devices:\n  r1:\n    lol: *i\n", &rep);
    assert_int_equal(rep.unknown_fields, 1);  /* lol: not a scalar, dropped unwalked */
    na_topology_unref(t);

    load_fails("m: &m {role: x}\n"
               "m1: &m1 {<<: *m}\nm2: &m2 {<<: *m1}\nm3: &m3 {<<: *m2}\nm4: &m4 {<<: *m3}\n"
               "m5: &m5 {<<: *m4}\nm6: &m6 {<<: *m5}\nm7: &m7 {<<: *m6}\nm8: &m8 {<<: *m7}\n"
               "devices:\n  r1: {<<: *m8}\n",
               NA_EPARSE, "merge keys (<<) nested deeper than 8", 1, 4);
}

static void test_depth_and_size_limits(void **state)
{
    (void)state;
    char doc[512];
    size_t used;
    na_topology *t = NULL;
    na_error err;
    char one = 'x';

    used = (size_t)snprintf(doc, sizeof(doc), "devices:\n  r1:\n    x: ");
    for (int i = 0; i < 100; i++)
        doc[used++] = '[';
    for (int i = 0; i < 100; i++)
        doc[used++] = ']';
    doc[used++] = '\n';
    doc[used] = '\0';
    load_fails(doc, NA_ETOOBIG, "nested deeper than 64", 3, 69);
    assert_int_equal(na_import_yaml(&one, (size_t)64 << 20, "big.yaml", &t, NULL, &err),
                     NA_ETOOBIG);
    assert_null(t);
    assert_non_null(strstr(err.message, "limit"));
}

static void test_extra_documents_are_warned_about(void **state)
{
    (void)state;
    na_import_report rep;
    na_topology *t = load_ok("devices: {a: }\n---\ndevices: {b: }\n", &rep);

    assert_int_equal(na_topology_node_count(t), 1);
    assert_true(some_message_has(&rep, "line 2", "only the first YAML document"));
    na_topology_unref(t);
}

static void test_devices_example_and_json_round_trip(void **state)
{
    (void)state;
    char path[1024], *text;
    na_import_report rep;
    na_topology *t = NULL, *back = NULL;
    na_error err;
    const na_node *tor1, *tor4;
    size_t ix;

    snprintf(path, sizeof(path), "%s/examples/devices.yaml", test_source_dir());
    if (na_import_file(path, NA_FORMAT_AUTO, &t, &rep, &err)) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        fail();
    }
    assert_int_equal(rep.nodes, 8);
    assert_int_equal(rep.links, 13);
    assert_int_equal(rep.wrong_type, 0);
    assert_int_equal(rep.unknown_fields, 10);  /* vendor, mgmt_ip x2; rack x4; upstream x2 */
    assert_int_equal(rep.missing_coordinates, 0);
    tor1 = test_node(t, "tor-01");
    tor4 = test_node(t, "tor-04");
    assert_string_equal(tor1->role, "tor");
    assert_int_equal(tor1->asn, 65101);
    assert_true(tor1->capacity == 3.2e12);
    assert_int_equal(na_node_attr(tor1, "blast_radius")->u.i, 2);
    assert_int_equal(tor4->status, NA_STATUS_DOWN);
    assert_int_equal(na_topology_find_node(t, "fra1", &ix), NA_ENOTFOUND);  /* sites: not ours */

    text = na_export_json(t, NA_EXPORT_PRETTY, NULL);
    assert_non_null(text);
    assert_int_equal(na_import_json(text, strlen(text), "<export>", &back, NULL, &err), 0);
    assert_int_equal(na_topology_node_count(back), 8);
    assert_int_equal(na_node_attr(test_node(back, "tor-01"), "blast_radius")->type, NA_VAL_INT);
    assert_string_equal(test_node(back, "spine-01")->site, "fra1");
    free(text);
    na_topology_unref(back);
    na_topology_unref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_example),
        cmocka_unit_test(test_fields_and_yaml_1_2_typing),
        cmocka_unit_test(test_wrong_types_and_unknown_settings_are_counted),
        cmocka_unit_test(test_daemon_keys_are_ignored_silently),
        cmocka_unit_test(test_peer_shape_is_counted),
        cmocka_unit_test(test_fatal_errors_have_positions),
        cmocka_unit_test(test_aliases_and_merge_keys),
        cmocka_unit_test(test_alias_expansion_is_bounded),
        cmocka_unit_test(test_depth_and_size_limits),
        cmocka_unit_test(test_extra_documents_are_warned_about),
        cmocka_unit_test(test_devices_example_and_json_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
