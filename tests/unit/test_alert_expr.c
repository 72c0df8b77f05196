/*
 * test_alert_expr.c: the expression language of custom alert rules (src/alert/expr.c) on real
 * events through na__event_field (what custom rules see), and the event's JSON object
 * (src/alert/event.c) member by member: operators, precedence, truthiness, null handling,
 * `in` lists, literals, and every kind of parse error with its column and the bounds.
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

#include "alert/event.h"
#include "alert/expr.h"

#define T0 ((na_time_ms)1772971200000LL) /* 2026-03-08T12:00:00.000Z */

typedef struct lookup_ctx {
    const na__event *ev;
    char buf[48];
    size_t calls[32];
} lookup_ctx;

static void lookup(void *ud, size_t i, na__expr_value *out)
{
    lookup_ctx *c = ud;

    assert_true(i < 32);
    c->calls[i]++;
    na__event_field(c->ev, i, out, c->buf, sizeof(c->buf));
}

static na__event link_down(void)
{
    na__event e = {.type = NA_EV_LINK_DOWN, .link_id = "L7", .source = "iad1-leaf1",
                   .target = "iad1-spine2", .site = "iad1", .reason = "fiber cut",
                   .origin = "stream:upstream", .value = NAN, .previous = NAN, .version = 42,
                   .at = T0};
    return e;
}

/* Parses (failing the test with the message on error) and evaluates on ev. */
static bool eval_on(const char *text, const na__event *ev)
{
    na__expr *e = NULL;
    na_error err;
    lookup_ctx c = {.ev = ev};
    bool r;

    na_error_clear(&err);
    if (na__expr_parse(text, strlen(text), na__event_fields, &e, &err) != 0)
        fail_msg("parse '%s': %s", text, err.message);
    r = na__expr_eval(e, lookup, &c);
    na__expr_free(e);
    return r;
}

#define HOLDS(text, ev) do { if (!eval_on(text, ev)) fail_msg("expected true: %s", text); } while (0)
#define FAILS(text, ev) do { if (eval_on(text, ev)) fail_msg("expected false: %s", text); } while (0)

static void test_comparisons(void **state)
{
    na__event e = link_down();
    (void)state;

    HOLDS("type == \"link_down\"", &e);
    HOLDS("type == 'link_down'", &e);
    FAILS("type == \"node_down\"", &e);
    HOLDS("type != \"node_down\"", &e);
    HOLDS("site == \"iad1\" && link_id == \"L7\"", &e);
    HOLDS("version == 42", &e);
    HOLDS("version >= 42 && version <= 42 && version > 41.5 && version < 42.5", &e);
    FAILS("version > 42", &e);
    FAILS("version < 42", &e);
    HOLDS("version > -1", &e);
    HOLDS("version == 4.2e1", &e);
    /* Strings order byte-wise; mixed types never order. */
    HOLDS("source < target", &e);
    HOLDS("site >= \"iad1\" && site < \"iad2\"", &e);
    FAILS("site > 3", &e);
    FAILS("site < 3", &e);
    FAILS("version == \"42\"", &e);
    HOLDS("version != \"42\"", &e);
    /* Times are RFC 3339 strings, so they compare as text. */
    HOLDS("at == \"2026-03-08T12:00:00.000Z\"", &e);
    HOLDS("at >= \"2026-03-08\" && at < \"2026-03-09\"", &e);
    /* Field against field. */
    HOLDS("source != target", &e);
}

static void test_null_and_truthiness(void **state)
{
    na__event e = link_down();
    (void)state;

    /* Members na__event_json leaves out are null. */
    HOLDS("node_id == null", &e);
    HOLDS("value == null && previous == null && metric == null", &e);
    FAILS("value > 0", &e);
    FAILS("value <= 0", &e);
    HOLDS("!(value > 0)", &e);
    FAILS("node_id", &e);
    HOLDS("site", &e);
    HOLDS("version", &e);
    HOLDS("true", &e);
    FAILS("false", &e);
    FAILS("null", &e);
    HOLDS("!null", &e);
    FAILS("0", &e);
    HOLDS("1", &e);
    FAILS("\"\"", &e);
    HOLDS("\"x\"", &e);
    HOLDS("null == null", &e);
    FAILS("null == false", &e);
    HOLDS("true == (site == \"iad1\")", &e);
    e.received_ns = 5;
    HOLDS("received_ns == 5", &e);
    e.value = 0.25;
    HOLDS("value == 0.25", &e);
}

static void test_logic_precedence(void **state)
{
    na__event e = link_down();
    (void)state;

    /* && binds tighter than ||. */
    HOLDS("false && false || true", &e);
    HOLDS("true || false && false", &e);
    FAILS("(true || false) && false", &e);
    FAILS("!true || false", &e);
    HOLDS("!(true && false)", &e);
    HOLDS("!!true", &e);
    HOLDS("!!!false", &e);
    HOLDS("((((type == \"link_down\"))))", &e);
    HOLDS("type == \"node_down\" || type == \"link_down\" || type == \"link_up\"", &e);
    FAILS("type == \"link_down\" && site == \"iad1\" && reason == \"planned\"", &e);
    HOLDS("type==\"link_down\"&&site==\"iad1\"", &e);
    HOLDS("  type\t==\n\"link_down\"  ", &e);
}

static void test_in_lists_and_literals(void **state)
{
    na__event e = link_down();
    (void)state;

    HOLDS("site in [\"iad1\", \"iad2\"]", &e);
    FAILS("site in [\"lhr1\"]", &e);
    FAILS("site in []", &e);
    HOLDS("version in [1, 42, \"x\", null]", &e);
    HOLDS("node_id in [null]", &e);
    HOLDS("!(site in ['lhr1', 'fra1'])", &e);
    HOLDS("reason == \"fiber cut\"", &e);
    e.reason = "say \"hi\"\\\n";
    HOLDS("reason == \"say \\\"hi\\\"\\\\\\n\"", &e);
    HOLDS("reason == 'say \"hi\"\\\\\\n'", &e);
    e.reason = "it's";
    HOLDS("reason == 'it\\'s'", &e);
}

/* The error of a bad expression: its code, and a message containing want. */
static void bad(const char *text, int code, const char *want)
{
    na__expr *e = NULL;
    na_error err;
    int rc;

    na_error_clear(&err);
    rc = na__expr_parse(text, strlen(text), na__event_fields, &e, &err);
    if (rc != code || !strstr(err.message, want))
        fail_msg("'%s': got %d '%s', want %d with '%s'", text, rc, err.message, code, want);
    assert_null(e);
}

static void test_errors_name_the_column(void **state)
{
    (void)state;
    bad("", NA_EPARSE, "column 1: empty expression");
    bad("   ", NA_EPARSE, "column 1: empty expression");
    bad("sitee == \"x\"", NA_EPARSE, "column 1: unknown field 'sitee' (known: type, node_id");
    bad("type = \"x\"", NA_EPARSE, "column 6: '=' is not an operator (did you mean '=='?)");
    bad("a & b", NA_EPARSE, "column 1: unknown field 'a'");
    bad("site & site", NA_EPARSE, "column 6: '&' is not an operator (did you mean '&&'?)");
    bad("site | site", NA_EPARSE, "column 6: '|' is not an operator (did you mean '||'?)");
    bad("type == \"x", NA_EPARSE, "column 9: string not closed");
    bad("(type == \"x\"", NA_EPARSE, "column 13: expected ')' to close the '(' at column 1");
    bad("type == \"x\")", NA_EPARSE, "column 12: unexpected ')'");
    bad("type == ", NA_EPARSE, "column 9: expected a value");
    bad("type == \"a\" site", NA_EPARSE, "column 13: unexpected 'site'");
    bad("type ==", NA_EPARSE, "at the end");
    bad("site in \"iad1\"", NA_EPARSE, "column 9: expected '[' after 'in'");
    bad("site in [\"a\" \"b\"]", NA_EPARSE, "column 14: expected ',' or ']' in the list");
    bad("site in [site]", NA_EPARSE, "column 10: expected a string, a number");
    bad("site in [\"a\",]", NA_EPARSE, "column 14: expected a string, a number");
    bad("version == 1.", NA_EPARSE, "column 14: expected digits after the decimal point");
    bad("version == 1e", NA_EPARSE, "column 14: expected digits in the exponent");
    bad("version == 1e999", NA_EPARSE, "column 12: number out of range");
    bad("version == 12abc", NA_EPARSE, "column 14: unexpected character after a number");
    bad("version == -x", NA_EPARSE, "column 12: expected a number after '-'");
    bad("site == \"a\\qb\"", NA_EPARSE, "column 11: unknown escape");
    bad("site == #", NA_EPARSE, "column 9: unexpected character '#'");
    bad("in", NA_EPARSE, "column 1: expected a value");
    bad("!", NA_EPARSE, "column 2: expected a value");
    {
        const char text[] = "site == \"a\0b\"";
        na__expr *e = NULL;
        na_error err;
        na_error_clear(&err);
        assert_int_equal(na__expr_parse(text, sizeof(text) - 1, na__event_fields, &e, &err),
                         NA_EPARSE);
        assert_non_null(strstr(err.message, "column 11: NUL byte"));
    }
}

static void test_bounds(void **state)
{
    char buf[NA_EXPR_MAX_LEN + 64];
    size_t n = 0;
    na__event e = link_down();
    (void)state;

    /* 32 levels of nesting parse; 33 do not. */
    for (int i = 0; i < 32; i++)
        buf[n++] = '(';
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "true");
    for (int i = 0; i < 32; i++)
        buf[n++] = ')';
    buf[n] = '\0';
    HOLDS(buf, &e);
    n = 0;
    for (int i = 0; i < 33; i++)
        buf[n++] = '(';
    snprintf(buf + n, sizeof(buf) - n, "true");
    bad(buf, NA_ETOOBIG, "nested too deeply (more than 32 levels)");
    n = 0;
    for (int i = 0; i < 33; i++)
        buf[n++] = '!';
    snprintf(buf + n, sizeof(buf) - n, "true");
    bad(buf, NA_ETOOBIG, "nested too deeply");
    /* A long && chain is flat: no depth, only the node budget. */
    n = (size_t)snprintf(buf, sizeof(buf), "true");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "&&true");
    HOLDS(buf, &e);
    n = (size_t)snprintf(buf, sizeof(buf), "1");
    for (int i = 0; i < 600; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "||1");
    bad(buf, NA_ETOOBIG, "expression too complex (more than 512");
    /* 64 values in a list parse; 65 do not. */
    n = (size_t)snprintf(buf, sizeof(buf), "version in [");
    for (int i = 0; i < 64; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%d", i ? "," : "", i + 1);
    snprintf(buf + n, sizeof(buf) - n, "]");
    HOLDS(buf, &e);
    n = (size_t)snprintf(buf, sizeof(buf), "version in [");
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%d", i ? "," : "", i + 1);
    snprintf(buf + n, sizeof(buf) - n, "]");
    bad(buf, NA_ETOOBIG, "more than 64 values in one list");
    /* Text length. */
    memset(buf, ' ', NA_EXPR_MAX_LEN + 1);
    buf[0] = '1';
    buf[NA_EXPR_MAX_LEN + 1] = '\0';
    bad(buf, NA_ETOOBIG, "longer than 4096");
    buf[NA_EXPR_MAX_LEN] = '\0';
    HOLDS(buf, &e);
}

static void test_each_field_looked_up_once(void **state)
{
    na__event e = link_down();
    const char *text = "site == \"x\" || site == \"y\" || site == \"iad1\" && site != \"\"";
    na__expr *x = NULL;
    na_error err;
    lookup_ctx c = {.ev = &e};
    (void)state;

    na_error_clear(&err);
    assert_int_equal(na__expr_parse(text, strlen(text), na__event_fields, &x, &err), 0);
    assert_true(na__expr_eval(x, lookup, &c));
    assert_int_equal(c.calls[5], 1); /* "site" */
    assert_int_equal(c.calls[0], 0); /* "type" never asked */
    na__expr_free(x);
}

/* na__event_json and na__event_field agree member by member, for every event type. */
static void test_event_json_is_the_fields(void **state)
{
    na__event e = link_down();
    char buf[48];
    (void)state;

    e.node_id = "n1";
    e.metric = "utilisation";
    e.detector = "importance_outlier";
    e.anomaly_id = "0123456789abcdef0123456789abcdef";
    e.value = 0.93;
    e.previous = 0.5;
    e.text = "mesh->snake";
    e.received_ns = 1772971200123456789LL;
    for (int t = 0; t < NA_EV_COUNT; t++) {
        json_t *o;
        size_t members = 0;
        e.type = (na__event_type)t;
        assert_int_equal(na__event_type_parse(na__event_type_name(e.type)), t);
        o = na__event_json(&e);
        assert_non_null(o);
        for (size_t i = 0; na__event_fields[i]; i++) {
            na__expr_value v;
            json_t *j = json_object_get(o, na__event_fields[i]);
            na__event_field(&e, i, &v, buf, sizeof(buf));
            if (v.type == NA_XV_NULL) {
                assert_null(j);
                continue;
            }
            members++;
            if (v.type == NA_XV_STR)
                assert_string_equal(json_string_value(j), v.s);
            else if (json_is_integer(j))
                assert_true((double)json_integer_value(j) == v.n);
            else
                assert_true(json_real_value(j) == v.n);
        }
        assert_int_equal(json_object_size(o), members);
        assert_int_equal(members, 17);
        json_decref(o);
    }
    assert_string_equal(na__event_type_name(NA_EV_CLUSTER_TYPE_CHANGE), "cluster_type_change");
    assert_int_equal(na__event_type_parse("link_up"), NA_EV_LINK_UP);
    assert_int_equal(na__event_type_parse("link_upp"), -1);
    assert_int_equal(na__event_type_parse(NULL), -1);
    /* Absent members are left out, not null. */
    {
        na__event m = {.type = NA_EV_METRIC, .node_id = "r1", .metric = "cpu", .value = 0.5,
                       .previous = NAN, .at = T0};
        json_t *o = na__event_json(&m);
        char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(text, "{\"at\":\"2026-03-08T12:00:00.000Z\",\"metric\":\"cpu\","
                                  "\"node_id\":\"r1\",\"type\":\"metric\",\"value\":0.5}");
        free(text);
        json_decref(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_null_and_truthiness),
        cmocka_unit_test(test_logic_precedence),
        cmocka_unit_test(test_in_lists_and_literals),
        cmocka_unit_test(test_errors_name_the_column),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_each_field_looked_up_once),
        cmocka_unit_test(test_event_json_is_the_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
