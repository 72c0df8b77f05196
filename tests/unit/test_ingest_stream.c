/*
 * test_ingest_stream.c: the topology stream's messages and consumer (src/ingest/stream.c):
 * parsing each type, malformed variants, unknown types and fields counted, the writers'
 * round trip (and their output against docs/topology-stream.schema.json), and the consumer's
 * sequence rules with exact counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "ingest/stream.h"
#include "netassure/io.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static void parse_ok(const char *text, na__stream_msg *m)
{
    na_error err;
    char buf[800];

    na_error_clear(&err);
    if (na__stream_parse(text, strlen(text), m, &err)) {
        fprintf(stderr, "parse failed: %s\nmessage: %s\n", na_error_format(&err, buf, sizeof(buf)),
                text);
        fail();
    }
}

static void parse_fails(const char *text, int code, const char *needle)
{
    na__stream_msg m;
    na_error err;
    int rc;

    na_error_clear(&err);
    rc = na__stream_parse(text, strlen(text), &m, &err);
    if (rc != code || !strstr(err.message, needle)) {
        fprintf(stderr, "message: %s\nexpected code %d with '%s'\ngot      code %d with '%s'\n",
                text, code, needle, rc, err.message);
        fail();
    }
    assert_null(m.snapshot);
    assert_null(m.delta);
    assert_null(m.samples);
    assert_int_equal(m.n_samples, 0);
    na__stream_msg_free(&m);
}

static bool str_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool num_same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static bool attrs_same(const na_attr *a, size_t na, const na_attr *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        const na_value *x = &a[i].value, *y = &b[i].value;
        if (strcmp(a[i].key, b[i].key) != 0 || x->type != y->type)
            return false;
        switch (x->type) {
        case NA_VAL_NULL: break;
        case NA_VAL_BOOL: if (x->u.b != y->u.b) return false; break;
        case NA_VAL_INT: if (x->u.i != y->u.i) return false; break;
        case NA_VAL_DOUBLE: if (!num_same(x->u.d, y->u.d)) return false; break;
        case NA_VAL_STRING: if (!str_same(x->u.s, y->u.s)) return false; break;
        }
    }
    return true;
}

/* Same kind, mask, identity, and every field the mask names. */
static bool op_same(const na_delta_op *a, const na_delta_op *b)
{
    unsigned f = a->fields;
    bool node = a->kind <= NA_DELTA_NODE_UPDATE;

    if (a->kind != b->kind || a->fields != b->fields)
        return false;
    if (node) {
        const na_node *x = &a->node, *y = &b->node;
        if (a->kind == NA_DELTA_NODE_REMOVE)
            return str_same(x->id, y->id);
        return str_same(x->id, y->id) &&
               (!(f & NA_FIELD_LABEL) || str_same(x->label, y->label)) &&
               (!(f & NA_FIELD_ROLE) || str_same(x->role, y->role)) &&
               (!(f & NA_FIELD_SITE) || str_same(x->site, y->site)) &&
               (!(f & NA_FIELD_ASN) || x->asn == y->asn) &&
               (!(f & NA_FIELD_LATITUDE) || num_same(x->latitude, y->latitude)) &&
               (!(f & NA_FIELD_LONGITUDE) || num_same(x->longitude, y->longitude)) &&
               (!(f & NA_FIELD_CAPACITY) || num_same(x->capacity, y->capacity)) &&
               (!(f & NA_FIELD_STATUS) || x->status == y->status) &&
               (!(f & NA_FIELD_ATTRS) || attrs_same(x->attrs, x->n_attrs, y->attrs, y->n_attrs));
    }
    {
        const na_link *x = &a->link, *y = &b->link;
        if (!str_same(x->id, y->id) || !str_same(x->source, y->source) ||
            !str_same(x->target, y->target))
            return false;
        if (a->kind == NA_DELTA_LINK_REMOVE)
            return true;
        return (!(f & NA_FIELD_LABEL) || str_same(x->label, y->label)) &&
               (!(f & NA_FIELD_CAPACITY) || num_same(x->capacity, y->capacity)) &&
               (!(f & NA_FIELD_STATUS) || x->status == y->status) &&
               (!(f & NA_FIELD_ATTRS) || attrs_same(x->attrs, x->n_attrs, y->attrs, y->n_attrs));
    }
}

/* Writes d as a message with seq, parses it back and checks everything survived. */
static void assert_delta_round_trip(const na_delta *d, uint64_t seq)
{
    size_t len;
    char *text = na__stream_delta_text(d, seq, &len);
    na__stream_msg m;

    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    parse_ok(text, &m);
    assert_int_equal(m.type, NA_STREAM_DELTA);
    assert_int_equal(m.seq, seq);
    assert_int_equal(m.unknown_fields, 0);
    assert_int_equal(na_delta_seq(m.delta), seq);
    assert_int_equal(na_delta_timestamp_ms(m.delta), na_delta_timestamp_ms(d));
    assert_int_equal(na_delta_count(m.delta), na_delta_count(d));
    for (size_t i = 0; i < na_delta_count(d); i++) {
        if (!op_same(na_delta_get(d, i), na_delta_get(m.delta, i))) {
            fprintf(stderr, "op %zu differs after the round trip; text:\n%s\n", i, text);
            fail();
        }
    }
    na__stream_msg_free(&m);
    free(text);
}

static char *read_example(const char *name, size_t *len)
{
    char path[1024];
    char *data = NULL;
    na_error err;

    snprintf(path, sizeof(path), "%s/examples/%s", test_source_dir(), name);
    na_error_clear(&err);
    if (na_read_file(path, NA_IMPORT_MAX_BYTES, &data, len, &err)) {
        fprintf(stderr, "cannot read %s: %s\n", path, err.message);
        fail();
    }
    return data;
}

/* ---- parsing ----------------------------------------------------------------------------- */

static void test_parse_snapshot(void **state)
{
    const char *text =
        "{\"type\":\"snapshot\",\"seq\":7,\"timestamp\":\"2026-03-08T12:00:00Z\",\"name\":\"lab\","
        "\"producer\":\"x\",\"nodes\":[{\"id\":\"a\",\"role\":\"spine\"},{\"id\":\"b\"}],"
        "\"links\":[{\"source\":\"a\",\"target\":\"b\",\"capacity\":1e9}]}";
    na__stream_msg m;
    na_time_ms ts;

    (void)state;
    parse_ok(text, &m);
    assert_int_equal(m.type, NA_STREAM_SNAPSHOT);
    assert_string_equal(m.type_name, "snapshot");
    assert_int_equal(m.seq, 7);
    assert_int_equal(na_time_parse("2026-03-08T12:00:00Z", 20, &ts), 0);
    assert_int_equal(m.timestamp, ts);
    assert_non_null(m.snapshot);
    assert_int_equal(na_topology_node_count(m.snapshot), 2);
    assert_int_equal(na_topology_link_count(m.snapshot), 1);
    assert_string_equal(test_node(m.snapshot, "a")->role, "spine");
    assert_string_equal(na_topology_name(m.snapshot), "lab");
    assert_int_equal(m.unknown_fields, 1); /* "producer" */
    na__stream_msg_free(&m);
    assert_null(m.snapshot);
    na__stream_msg_free(&m); /* twice is fine */
}

static void test_parse_delta(void **state)
{
    /* The example of docs/topology-schema.md, with one unknown top-level field. */
    const char *text =
        "{\"type\":\"delta\",\"seq\":42,\"timestamp\":\"2026-03-08T12:00:01Z\",\"origin\":\"r1\","
        "\"ops\":["
        "{\"op\":\"node_add\",\"node\":{\"id\":\"leaf-09\",\"role\":\"leaf\",\"asn\":65109}},"
        "{\"op\":\"link_add\",\"link\":{\"source\":\"spine-01\",\"target\":\"leaf-09\","
        "\"capacity\":400000000000}},"
        "{\"op\":\"node_update\",\"node\":{\"id\":\"leaf-07\",\"status\":\"down\",\"label\":null}},"
        "{\"op\":\"link_update\",\"link\":{\"source\":\"spine-01\",\"target\":\"leaf-03\","
        "\"attributes\":{\"optic\":\"100G-LR4\",\"old\":null}}},"
        "{\"op\":\"link_down\",\"link\":{\"id\":\"spine-04--leaf-02\"}},"
        "{\"op\":\"link_remove\",\"link\":{\"id\":\"spine-01--leaf-08\"}},"
        "{\"op\":\"node_remove\",\"node\":{\"id\":\"leaf-08\"}}]}";
    na__stream_msg m;
    const na_delta_op *op;

    (void)state;
    parse_ok(text, &m);
    assert_int_equal(m.type, NA_STREAM_DELTA);
    assert_int_equal(m.seq, 42);
    assert_true(m.timestamp > 0);
    assert_int_equal(m.timestamp, na_delta_timestamp_ms(m.delta));
    assert_int_equal(m.unknown_fields, 1);
    assert_int_equal(na_delta_count(m.delta), 7);
    op = na_delta_get(m.delta, 0);
    assert_int_equal(op->kind, NA_DELTA_NODE_ADD);
    assert_int_equal(op->node.asn, 65109);
    op = na_delta_get(m.delta, 2);
    assert_int_equal(op->kind, NA_DELTA_NODE_UPDATE);
    assert_int_equal(op->fields, NA_FIELD_STATUS | NA_FIELD_LABEL);
    op = na_delta_get(m.delta, 4);
    assert_int_equal(op->kind, NA_DELTA_LINK_UPDATE);
    assert_int_equal(op->fields, NA_FIELD_STATUS);
    assert_int_equal(op->link.status, NA_STATUS_DOWN);
    assert_int_equal(na_delta_get(m.delta, 6)->kind, NA_DELTA_NODE_REMOVE);
    na__stream_msg_free(&m);

    /* No timestamp: -1; an empty ops array is a valid (empty) delta. */
    parse_ok("{\"type\":\"delta\",\"seq\":0,\"ops\":[]}", &m);
    assert_int_equal(m.timestamp, -1);
    assert_int_equal(na_delta_count(m.delta), 0);
    na__stream_msg_free(&m);
}

static void test_parse_metrics(void **state)
{
    const char *text =
        "{\"type\":\"metrics\",\"timestamp\":1772971200000,\"samples\":["
        "{\"node\":\"spine-01\",\"name\":\"cpu\",\"value\":0.25},"
        "{\"link\":\"spine-01--leaf-01\",\"name\":\"in_bps\",\"value\":123456789012,"
        "\"timestamp\":\"2026-03-08T12:00:05.250Z\",\"unit\":\"bit/s\"},"
        "{\"name\":\"flows\",\"value\":-3},"
        "{\"node\":17,\"name\":\"temp\",\"value\":41.5,\"timestamp\":null}]}";
    na__stream_msg m;
    na_time_ms t5;
    na_time_ms before = na_time_now(), after;

    (void)state;
    parse_ok(text, &m);
    assert_int_equal(m.type, NA_STREAM_METRICS);
    assert_int_equal(m.timestamp, 1772971200000LL);
    assert_int_equal(m.n_samples, 4);
    assert_int_equal(m.unknown_fields, 1); /* "unit" */
    assert_string_equal(m.samples[0].node_id, "spine-01");
    assert_null(m.samples[0].link_id);
    assert_string_equal(m.samples[0].name, "cpu");
    assert_true(m.samples[0].value == 0.25);
    assert_int_equal(m.samples[0].at, 1772971200000LL); /* the message's time */
    assert_string_equal(m.samples[1].link_id, "spine-01--leaf-01");
    assert_true(m.samples[1].value == 123456789012.0);
    assert_int_equal(na_time_parse("2026-03-08T12:00:05.250Z", 24, &t5), 0);
    assert_int_equal(m.samples[1].at, t5);
    assert_null(m.samples[2].node_id);
    assert_null(m.samples[2].link_id);
    assert_true(m.samples[2].value == -3.0);
    assert_string_equal(m.samples[3].node_id, "17");
    na__stream_msg_free(&m);

    /* Without any timestamp a sample gets the time it was read. */
    parse_ok("{\"type\":\"metrics\",\"samples\":[{\"name\":\"x\",\"value\":1}]}", &m);
    after = na_time_now();
    assert_int_equal(m.timestamp, -1);
    assert_true(m.samples[0].at >= before && m.samples[0].at <= after);
    na__stream_msg_free(&m);
    parse_ok("{\"type\":\"metrics\",\"samples\":[]}", &m);
    assert_int_equal(m.n_samples, 0);
    na__stream_msg_free(&m);
}

static void test_parse_unknown_type(void **state)
{
    na__stream_msg m;

    (void)state;
    parse_ok("{\"type\":\"heartbeat\",\"seq\":\"whatever\",\"x\":[1,2]}", &m);
    assert_int_equal(m.type, NA_STREAM_UNKNOWN);
    assert_string_equal(m.type_name, "heartbeat");
    assert_null(m.snapshot);
    assert_null(m.delta);
    na__stream_msg_free(&m);
    /* A long type name is cut to fit. */
    parse_ok("{\"type\":\"a-very-long-type-name-that-does-not-fit-in-32-bytes\"}", &m);
    assert_int_equal(m.type, NA_STREAM_UNKNOWN);
    assert_int_equal(strlen(m.type_name), sizeof(m.type_name) - 1);
    na__stream_msg_free(&m);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    parse_fails("", NA_EPARSE, "expected near end of file");
    parse_fails("not json", NA_EPARSE, "expected near 'not'");
    parse_fails("{\"type\":\"delta\",\"seq\":1,\"ops\":[]", NA_EPARSE, "'}' expected");
    parse_fails("[{\"type\":\"delta\",\"seq\":1,\"ops\":[]}]", NA_EPARSE, "expected a message object");
    parse_fails("{}", NA_EPARSE, "type: missing");
    parse_fails("{\"type\":3}", NA_EPARSE, "type: expected a string, got an integer");
    parse_fails("{\"type\":\"delta\",\"type\":\"delta\",\"seq\":1,\"ops\":[]}", NA_EPARSE,
                "duplicate object key");
    /* seq */
    parse_fails("{\"type\":\"snapshot\",\"nodes\":[]}", NA_EPARSE, "seq: missing");
    parse_fails("{\"type\":\"delta\",\"ops\":[]}", NA_EPARSE, "seq: missing");
    parse_fails("{\"type\":\"delta\",\"seq\":-1,\"ops\":[]}", NA_EPARSE, "a negative one");
    parse_fails("{\"type\":\"delta\",\"seq\":\"4\",\"ops\":[]}", NA_EPARSE, "got a string");
    parse_fails("{\"type\":\"delta\",\"seq\":4.5,\"ops\":[]}", NA_EPARSE, "got a real number");
    parse_fails("{\"type\":\"snapshot\",\"seq\":null,\"nodes\":[]}", NA_EPARSE, "got null");
    /* bodies: the topology readers' errors come through */
    parse_fails("{\"type\":\"snapshot\",\"seq\":1}", NA_EPARSE, "nodes");
    parse_fails("{\"type\":\"snapshot\",\"seq\":1,\"nodes\":[{\"id\":\"a\"}],"
                "\"links\":[{\"source\":\"a\",\"target\":\"zz\"}]}",
                NA_EPARSE, "unknown node 'zz'");
    parse_fails("{\"type\":\"delta\",\"seq\":1}", NA_EPARSE, "ops");
    parse_fails("{\"type\":\"delta\",\"seq\":1,\"ops\":[{\"op\":\"node_frob\",\"node\":{}}]}",
                NA_EPARSE, "unknown operation 'node_frob'");
    parse_fails("{\"type\":\"delta\",\"seq\":1,\"ops\":[{\"op\":\"node_add\","
                "\"node\":{\"id\":\"a\",\"asn\":\"x\"}}]}",
                NA_EPARSE, "asn");
    parse_fails("{\"type\":\"delta\",\"seq\":1,\"timestamp\":true,\"ops\":[]}", NA_EPARSE,
                "timestamp");
    /* metrics */
    parse_fails("{\"type\":\"metrics\"}", NA_EPARSE, "samples: missing");
    parse_fails("{\"type\":\"metrics\",\"samples\":{}}", NA_EPARSE, "samples: expected an array");
    parse_fails("{\"type\":\"metrics\",\"samples\":[3]}", NA_EPARSE, "samples[0]: expected an object");
    parse_fails("{\"type\":\"metrics\",\"samples\":[{\"value\":1}]}", NA_EPARSE,
                "samples[0].name: missing");
    parse_fails("{\"type\":\"metrics\",\"samples\":[{\"name\":\"\",\"value\":1}]}", NA_EPARSE,
                "samples[0].name");
    parse_fails("{\"type\":\"metrics\",\"samples\":[{\"name\":\"a\",\"value\":1},"
                "{\"name\":\"b\",\"value\":\"1\"}]}",
                NA_EPARSE, "samples[1].value: expected a number, got a string");
    parse_fails("{\"type\":\"metrics\",\"samples\":[{\"name\":\"a\"}]}", NA_EPARSE,
                "samples[0].value: missing");
    parse_fails("{\"type\":\"metrics\",\"samples\":[{\"node\":\"n\",\"link\":\"l\",\"name\":\"a\","
                "\"value\":1}]}",
                NA_EPARSE, "names a node and a link");
    parse_fails("{\"type\":\"metrics\",\"samples\":[{\"node\":\"\",\"name\":\"a\",\"value\":1}]}",
                NA_EPARSE, "samples[0].node");
    parse_fails("{\"type\":\"metrics\",\"samples\":[{\"link\":[],\"name\":\"a\",\"value\":1}]}",
                NA_EPARSE, "samples[0].link");
    parse_fails("{\"type\":\"metrics\",\"timestamp\":\"yesterday\",\"samples\":[]}", NA_EPARSE,
                "timestamp");
    parse_fails("{\"type\":\"metrics\",\"samples\":[{\"name\":\"a\",\"value\":1,"
                "\"timestamp\":-5}]}",
                NA_EPARSE, "sample timestamp");
}

static void test_parse_needs_no_nul_and_caps_size(void **state)
{
    const char text[] = "{\"type\":\"delta\",\"seq\":3,\"ops\":[]}GARBAGE";
    na__stream_msg m;
    na_error err;

    (void)state;
    /* Only the first len bytes are read. */
    assert_int_equal(na__stream_parse(text, sizeof(text) - 1 - 7, &m, &err), 0);
    assert_int_equal(m.seq, 3);
    na__stream_msg_free(&m);
    assert_int_equal(na__stream_parse(text, NA_STREAM_MAX_MESSAGE + 1, &m, &err), NA_ETOOBIG);
    na__stream_msg_free(&m);
}

/* ---- writers ----------------------------------------------------------------------------- */

static na_delta *every_kind_of_op(void)
{
    na_delta *d = na_delta_new();
    na_delta_op op;
    na_attr add_attrs[] = {
        {"tier", {.type = NA_VAL_INT, .u.i = -4}},
        {"weight", {.type = NA_VAL_DOUBLE, .u.d = 2.0}},
        {"ratio", {.type = NA_VAL_DOUBLE, .u.d = 0.1}},
        {"managed", {.type = NA_VAL_BOOL, .u.b = true}},
        {"hall", {.type = NA_VAL_STRING, .u.s = "B \"north\"\n\u00e9"}},
    };
    na_attr upd_attrs[] = {
        {"optic", {.type = NA_VAL_STRING, .u.s = "100G-LR4"}},
        {"old", {.type = NA_VAL_NULL}},
        {"role", {.type = NA_VAL_BOOL, .u.b = false}},
    };

    assert_non_null(d);
    na_delta_set_timestamp_ms(d, 1772971212500LL);
    /* node_add with every field */
    memset(&op, 0, sizeof(op));
    op.kind = NA_DELTA_NODE_ADD;
    op.fields = NA_FIELD_ALL;
    na_node_init(&op.node);
    na_link_init(&op.link);
    op.node.id = "leaf-09";
    op.node.label = "IAD1 leaf 9";
    op.node.role = "leaf";
    op.node.site = "iad1";
    op.node.asn = 4200000000LL;
    op.node.latitude = 39.0438;
    op.node.longitude = -77.4874;
    op.node.capacity = 6.4e12;
    op.node.status = NA_STATUS_UP;
    op.node.attrs = add_attrs;
    op.node.n_attrs = 5;
    assert_int_equal(na_delta_append(d, &op), 0);
    /* node_add with nothing but the id */
    na_node_init(&op.node);
    op.node.id = "bare";
    assert_int_equal(na_delta_append(d, &op), 0);
    /* node_update clearing some fields and setting others */
    na_node_init(&op.node);
    op.kind = NA_DELTA_NODE_UPDATE;
    op.node.id = "leaf-07";
    op.node.role = "border";
    op.node.latitude = -12.5;
    op.fields = NA_FIELD_LABEL | NA_FIELD_ROLE | NA_FIELD_ASN | NA_FIELD_LATITUDE |
                NA_FIELD_CAPACITY | NA_FIELD_ATTRS | NA_FIELD_SITE | NA_FIELD_LONGITUDE;
    op.node.attrs = upd_attrs;
    op.node.n_attrs = 3;
    assert_int_equal(na_delta_append(d, &op), 0);
    /* node_update of the status only (the node_down shorthand), and to unknown */
    na_node_init(&op.node);
    op.node.id = "leaf-07";
    op.node.status = NA_STATUS_DOWN;
    op.fields = NA_FIELD_STATUS;
    assert_int_equal(na_delta_append(d, &op), 0);
    op.node.status = NA_STATUS_UNKNOWN;
    assert_int_equal(na_delta_append(d, &op), 0);
    /* node_update with the status and something else, and with nothing */
    op.node.status = NA_STATUS_UP;
    op.node.asn = 65001;
    op.fields = NA_FIELD_STATUS | NA_FIELD_ASN;
    assert_int_equal(na_delta_append(d, &op), 0);
    op.fields = 0;
    assert_int_equal(na_delta_append(d, &op), 0);
    /* an update with an empty attributes object */
    op.fields = NA_FIELD_ATTRS;
    op.node.attrs = NULL;
    op.node.n_attrs = 0;
    assert_int_equal(na_delta_append(d, &op), 0);
    /* node_remove */
    na_node_init(&op.node);
    op.kind = NA_DELTA_NODE_REMOVE;
    op.fields = 0;
    op.node.id = "leaf-08";
    assert_int_equal(na_delta_append(d, &op), 0);
    /* link_add without and with an id */
    memset(&op, 0, sizeof(op));
    na_node_init(&op.node);
    na_link_init(&op.link);
    op.kind = NA_DELTA_LINK_ADD;
    op.fields = NA_FIELD_ALL;
    op.link.source = "spine-01";
    op.link.target = "leaf-09";
    op.link.capacity = 4e11;
    op.link.label = "uplink";
    op.link.status = NA_STATUS_UP;
    op.link.attrs = add_attrs;
    op.link.n_attrs = 2;
    assert_int_equal(na_delta_append(d, &op), 0);
    op.link.id = "spine-02--leaf-09#x";
    op.link.source = "spine-02";
    op.link.attrs = NULL;
    op.link.n_attrs = 0;
    assert_int_equal(na_delta_append(d, &op), 0);
    /* link_update by ends and by id; link_up / link_down */
    na_link_init(&op.link);
    op.kind = NA_DELTA_LINK_UPDATE;
    op.link.source = "spine-01";
    op.link.target = "leaf-03";
    op.link.attrs = upd_attrs;
    op.link.n_attrs = 3;
    op.fields = NA_FIELD_ATTRS | NA_FIELD_LABEL | NA_FIELD_CAPACITY;
    op.link.capacity = 1e11;
    assert_int_equal(na_delta_append(d, &op), 0);
    na_link_init(&op.link);
    op.link.id = "spine-04--leaf-02";
    op.link.status = NA_STATUS_DOWN;
    op.fields = NA_FIELD_STATUS;
    assert_int_equal(na_delta_append(d, &op), 0);
    op.link.status = NA_STATUS_UP;
    assert_int_equal(na_delta_append(d, &op), 0);
    /* link_remove by id and by ends */
    na_link_init(&op.link);
    op.kind = NA_DELTA_LINK_REMOVE;
    op.fields = 0;
    op.link.id = "spine-01--leaf-08";
    assert_int_equal(na_delta_append(d, &op), 0);
    op.link.id = NULL;
    op.link.source = "spine-02";
    op.link.target = "leaf-08";
    assert_int_equal(na_delta_append(d, &op), 0);
    return d;
}

static void test_delta_writer_round_trip(void **state)
{
    na_delta *d = every_kind_of_op(), *empty = na_delta_new();
    char *text;

    (void)state;
    assert_delta_round_trip(d, 42);
    assert_delta_round_trip(d, UINT64_C(9007199254740993)); /* past 2^53: integers stay exact */
    /* The shorthands are used where they say the same thing. */
    text = na__stream_delta_text(d, 1, NULL);
    assert_non_null(strstr(text, "\"op\":\"node_down\",\"node\":{\"id\":\"leaf-07\"}"));
    assert_non_null(strstr(text, "\"op\":\"link_up\",\"link\":{\"id\":\"spine-04--leaf-02\"}"));
    assert_non_null(strstr(text, "\"weight\":2.0"));
    assert_non_null(strstr(text, "\"timestamp\":\"2026-03-08T12:00:12.500Z\""));
    free(text);
    /* No timestamp: none written; no ops: an empty array. */
    assert_non_null(empty);
    text = na__stream_delta_text(empty, 0, NULL);
    assert_string_equal(text, "{\"type\":\"delta\",\"seq\":0,\"ops\":[]}");
    free(text);
    assert_delta_round_trip(empty, 0);
    na_delta_free(empty);
    na_delta_free(d);
}

static void test_delta_writer_round_trips_the_events_example(void **state)
{
    size_t len, n = 0;
    char *data = read_example("temporal-events.json", &len);
    na_delta **v = NULL;
    na_error err;

    (void)state;
    assert_int_equal(na_json_parse_deltas(data, len, "temporal-events.json", &v, &n, &err), 0);
    assert_int_equal(n, 20);
    for (size_t i = 0; i < n; i++) {
        assert_delta_round_trip(v[i], 100 + i);
        na_delta_free(v[i]);
    }
    free(v);
    free(data);
}

static void test_snapshot_writer_round_trip(void **state)
{
    size_t len, tlen, elen, elen2;
    char *data = read_example("clos-fabric.json", &len);
    na_topology *t = NULL;
    na_error err;
    na__stream_msg m;
    char *text, *exp, *exp2;

    (void)state;
    assert_int_equal(na_import_json(data, len, "clos", &t, NULL, &err), 0);
    text = na__stream_snapshot_text(t, 17, &tlen);
    assert_non_null(text);
    assert_int_equal(tlen, strlen(text));
    assert_memory_equal(text, "{\"type\":\"snapshot\",\"seq\":17,", 28);
    parse_ok(text, &m);
    assert_int_equal(m.type, NA_STREAM_SNAPSHOT);
    assert_int_equal(m.seq, 17);
    assert_int_equal(m.unknown_fields, 0);
    exp = na_export_json(t, 0, &elen);
    exp2 = na_export_json(m.snapshot, 0, &elen2);
    assert_int_equal(elen, elen2);
    assert_memory_equal(exp, exp2, elen); /* every field, in order */
    na__stream_msg_free(&m);
    free(exp);
    free(exp2);
    free(text);
    na_topology_unref(t);
    free(data);
}

static void test_metrics_writer_round_trip(void **state)
{
    na__stream_sample s[] = {
        {.node_id = "spine-01", .name = "cpu", .value = 0.1, .at = 1772971200123LL},
        {.link_id = "spine-01--leaf-01", .name = "in_bps", .value = 4e11, .at = -1},
        {.name = "flows", .value = 12, .at = -1},
        {.name = "bad", .value = NAN, .at = -1},  /* left out */
        {.name = NULL, .value = 1, .at = -1},     /* left out */
    };
    na__stream_msg m;
    size_t len;
    char *text = na__stream_metrics_text(s, 5, 1772971200000LL, &len);

    (void)state;
    assert_non_null(text);
    parse_ok(text, &m);
    assert_int_equal(m.type, NA_STREAM_METRICS);
    assert_int_equal(m.timestamp, 1772971200000LL);
    assert_int_equal(m.n_samples, 3);
    assert_int_equal(m.unknown_fields, 0);
    for (size_t i = 0; i < 3; i++) {
        assert_true(str_same(m.samples[i].node_id, s[i].node_id));
        assert_true(str_same(m.samples[i].link_id, s[i].link_id));
        assert_string_equal(m.samples[i].name, s[i].name);
        assert_true(m.samples[i].value == s[i].value);
        assert_int_equal(m.samples[i].at, s[i].at >= 0 ? s[i].at : 1772971200000LL);
    }
    na__stream_msg_free(&m);
    free(text);
    /* No message time, no samples. */
    text = na__stream_metrics_text(NULL, 0, -1, NULL);
    assert_string_equal(text, "{\"type\":\"metrics\",\"samples\":[]}");
    free(text);
}

/* The writers' output against docs/topology-stream.schema.json (python3-jsonschema). */
static void test_writers_match_schema(void **state)
{
    static const char script[] =
        "import json, sys, jsonschema\n"
        "d = sys.argv[1]\n"
        "topo = json.load(open(d + '/docs/topology.schema.json'))\n"
        "stream = json.load(open(d + '/docs/topology-stream.schema.json'))\n"
        "res = jsonschema.RefResolver.from_schema(stream, store={topo['$id']: topo})\n"
        "v = jsonschema.Draft202012Validator(stream, resolver=res)\n"
        "n = 0\n"
        "for line in open(sys.argv[2]):\n"
        "    v.validate(json.loads(line))\n"
        "    n += 1\n"
        "assert n == int(sys.argv[3]), n\n";
    char path[] = "/tmp/na-stream-writers-XXXXXX", cmd[2048];
    size_t len;
    char *data = read_example("clos-fabric.json", &len), *text;
    na__stream_sample s[] = {{.node_id = "a", .name = "cpu", .value = 1.5, .at = 5},
                             {.link_id = "l", .name = "x", .value = 2, .at = -1},
                             {.name = "y", .value = -1, .at = -1}};
    na_topology *t = NULL;
    na_delta *d = every_kind_of_op();
    na_error err;
    FILE *f, *py;
    int fd, status;

    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0)
        test_skip("no /usr/bin/python3");
    if (system("/usr/bin/python3 -c 'import jsonschema' 2>/dev/null") != 0)
        test_skip("python3-jsonschema is not installed");
    assert_int_equal(na_import_json(data, len, "clos", &t, NULL, &err), 0);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    text = na__stream_snapshot_text(t, 3, NULL);
    fprintf(f, "%s\n", text);
    free(text);
    text = na__stream_delta_text(d, 4, NULL);
    fprintf(f, "%s\n", text);
    free(text);
    text = na__stream_metrics_text(s, 3, 1772971200000LL, NULL);
    fprintf(f, "%s\n", text);
    free(text);
    text = na__stream_metrics_text(s, 3, -1, NULL);
    fprintf(f, "%s\n", text);
    free(text);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 - '%s' '%s' 4", test_source_dir(), path);
    py = popen(cmd, "w");
    assert_non_null(py);
    fputs(script, py);
    status = pclose(py);
    unlink(path);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "the writers' output does not match the schema (status %d)\n", status);
        fail();
    }
    na_delta_free(d);
    na_topology_unref(t);
    free(data);
}

/* ---- consumer ---------------------------------------------------------------------------- */

static na__stream_verdict feed(na__stream_consumer *sc, const char *text)
{
    na__stream_msg m;
    na__stream_verdict v = na__stream_consume(sc, text, strlen(text), &m);

    if (v == NA_STREAM_APPLY) {
        assert_true(m.received_at > 0);
        assert_true(m.received_ns / 1000000 == m.received_at);
    } else {
        assert_null(m.snapshot);
        assert_null(m.delta);
        assert_null(m.samples);
    }
    na__stream_msg_free(&m);
    return v;
}

static void assert_outcomes_add_up(const na__stream_counters *c)
{
    assert_int_equal(c->applied + c->stale + c->waiting + c->unknown_types + c->malformed,
                     c->messages);
}

#define SNAP(seq) "{\"type\":\"snapshot\",\"seq\":" #seq ",\"nodes\":[{\"id\":\"a\"}],\"z\":1}"
#define DELTA(seq) "{\"type\":\"delta\",\"seq\":" #seq ",\"ops\":[]}"

static void test_consumer_sequence_rules(void **state)
{
    na__stream_consumer sc;
    na__stream_counters c;
    size_t bytes = 0;
    const char *const texts[] = {
        DELTA(1),                                   /* before any snapshot: waiting */
        "{\"type\":\"metrics\",\"samples\":[{\"name\":\"a\",\"value\":1,\"q\":0},"
        "{\"name\":\"b\",\"value\":2}]}",           /* metrics apply unsynced */
        SNAP(5),                                    /* syncs at 5 */
        DELTA(6),                                   /* applies */
        DELTA(6),                                   /* stale */
        DELTA(3),                                   /* stale */
        "{\"type\":\"delta\",\"ops\":[]}",          /* malformed: no seq */
        "{\"type\":\"hello\"}",                     /* unknown type */
        DELTA(9),                                   /* gap: resync, waiting */
        DELTA(10),                                  /* waiting while resyncing */
    };

    (void)state;
    na__stream_consumer_init(&sc, "test");
    assert_false(sc.synced);
    assert_int_equal(feed(&sc, texts[0]), NA_STREAM_SKIP);
    assert_int_equal(feed(&sc, texts[1]), NA_STREAM_APPLY);
    assert_int_equal(feed(&sc, texts[2]), NA_STREAM_APPLY);
    assert_true(sc.synced);
    assert_int_equal(sc.last_seq, 5);
    assert_int_equal(feed(&sc, texts[3]), NA_STREAM_APPLY);
    assert_int_equal(sc.last_seq, 6);
    assert_int_equal(feed(&sc, texts[4]), NA_STREAM_SKIP);
    assert_int_equal(feed(&sc, texts[5]), NA_STREAM_SKIP);
    assert_int_equal(feed(&sc, texts[6]), NA_STREAM_SKIP);
    assert_int_equal(feed(&sc, texts[7]), NA_STREAM_SKIP);
    assert_int_equal(feed(&sc, texts[8]), NA_STREAM_RESYNC);
    assert_false(sc.synced);
    assert_int_equal(feed(&sc, texts[9]), NA_STREAM_SKIP);
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        bytes += strlen(texts[i]);

    na__stream_consumer_counters(&sc, &c);
    assert_int_equal(c.messages, 10);
    assert_int_equal(c.bytes, bytes);
    assert_int_equal(c.applied, 3);
    assert_int_equal(c.snapshots, 1);
    assert_int_equal(c.deltas, 1);
    assert_int_equal(c.metrics, 1);
    assert_int_equal(c.samples, 2);
    assert_int_equal(c.stale, 2);
    assert_int_equal(c.waiting, 3);
    assert_int_equal(c.malformed, 1);
    assert_int_equal(c.unknown_types, 1);
    assert_int_equal(c.unknown_fields, 2); /* "q" in a sample, "z" in the snapshot */
    assert_int_equal(c.gaps, 1);
    assert_int_equal(c.resyncs, 1);
    assert_int_equal(c.reconnects, 0);
    assert_int_equal(c.apply_failures, 0);
    assert_outcomes_add_up(&c);

    /* The client reconnects for the resync: already unsynced, so no second resync. */
    na__stream_consumer_desync(&sc, true, false);
    assert_int_equal(feed(&sc, SNAP(10)), NA_STREAM_APPLY);
    assert_int_equal(feed(&sc, DELTA(11)), NA_STREAM_APPLY);
    /* The owner could not apply delta 11: a resync of its own. */
    na__stream_consumer_desync(&sc, false, true);
    assert_int_equal(feed(&sc, DELTA(12)), NA_STREAM_SKIP);
    /* A drop while unsynced, then one while synced. */
    na__stream_consumer_desync(&sc, true, false);
    assert_int_equal(feed(&sc, SNAP(12)), NA_STREAM_APPLY);
    na__stream_consumer_desync(&sc, true, false);
    /* After a snapshot, seq may also go back (a restarted producer): it is the new state. */
    assert_int_equal(feed(&sc, SNAP(2)), NA_STREAM_APPLY);
    assert_int_equal(feed(&sc, DELTA(3)), NA_STREAM_APPLY);

    na__stream_consumer_counters(&sc, &c);
    assert_int_equal(c.messages, 16);
    assert_int_equal(c.applied, 8);
    assert_int_equal(c.snapshots, 4);
    assert_int_equal(c.deltas, 3);
    assert_int_equal(c.waiting, 4);
    assert_int_equal(c.stale, 2);
    assert_int_equal(c.gaps, 1);
    assert_int_equal(c.reconnects, 3);
    assert_int_equal(c.apply_failures, 1);
    assert_int_equal(c.resyncs, 3); /* the gap, the failed delta, the drop while synced */
    assert_int_equal(c.unknown_fields, 5);
    assert_outcomes_add_up(&c);
    na__stream_consumer_destroy(&sc);
}

static void test_consumer_logs_are_rate_limited(void **state)
{
    na__stream_consumer sc;
    na__stream_counters c;
    na_log_level saved = na_log_get_level();

    (void)state;
    na_log_set_level(NA_LOG_ERROR); /* counted either way; keep the output short */
    na__stream_consumer_init(&sc, "test");
    for (int i = 0; i < 25; i++)
        assert_int_equal(feed(&sc, i % 2 ? "{\"type\":\"x\"}" : "\x01\xff garbage"),
                         NA_STREAM_SKIP);
    assert_int_equal(sc.logged, 20);
    for (int i = 25; i < 2000; i++)
        feed(&sc, "garbage");
    assert_int_equal(sc.logged, 22); /* the 1000th and the 2000th */
    na__stream_consumer_counters(&sc, &c);
    assert_int_equal(c.messages, 2000);
    assert_int_equal(c.unknown_types, 12);
    assert_int_equal(c.malformed, 1988);
    assert_outcomes_add_up(&c);
    na__stream_consumer_destroy(&sc);
    na_log_set_level(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_snapshot),
        cmocka_unit_test(test_parse_delta),
        cmocka_unit_test(test_parse_metrics),
        cmocka_unit_test(test_parse_unknown_type),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_needs_no_nul_and_caps_size),
        cmocka_unit_test(test_delta_writer_round_trip),
        cmocka_unit_test(test_delta_writer_round_trips_the_events_example),
        cmocka_unit_test(test_snapshot_writer_round_trip),
        cmocka_unit_test(test_metrics_writer_round_trip),
        cmocka_unit_test(test_writers_match_schema),
        cmocka_unit_test(test_consumer_sequence_rules),
        cmocka_unit_test(test_consumer_logs_are_rate_limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
