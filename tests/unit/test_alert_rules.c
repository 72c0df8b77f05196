/*
 * test_alert_rules.c: alert rules evaluated on real analyses of small topologies
 * (src/alert/alert.c): which alerts are raised, their fingerprints and messages, the lifecycle
 * (active -> acknowledged -> resolved, a returning condition opens a new alert), and the JSON /
 * warehouse row round trip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alert/alert.h"
#include "harness.h"

#define T0 ((na_time_ms)1772971200000LL) /* 2026-03-08T12:00:00.000Z */

/* Runs the analysis kinds on topo and drops the caller's reference (the analysis keeps one). */
static void analyze(na_topology *topo, unsigned kinds, na_analysis *a)
{
    na_analysis_opts opts = {.kinds = kinds, .threads = 1, .seed = 1};
    na_error err;
    char buf[700];

    na_error_clear(&err);
    if (na_analysis_run(topo, &opts, a, &err) != 0)
        fail_msg("analysis: %s", na_error_format(&err, buf, sizeof(buf)));
    na_topology_unref(topo);
}

static void analyze_edges(const char *spec, na_analysis *a)
{
    analyze(test_topology_from_edges(spec), NA_ANALYSIS_STRUCTURE | NA_ANALYSIS_ROBUSTNESS, a);
}

static na__rule_config rule(const char *name, na__rule_type type, const char *severity,
                            double threshold)
{
    na__rule_config r = {.name = (char *)name, .type = type, .severity = (char *)severity,
                         .threshold = threshold};
    return r;
}

/* Evaluates and returns the number of changed alerts (the list is freed). */
static size_t evaluate(na__alert_store *s, const na__rule_config *rules, size_t n,
                       const na_analysis *a, na_time_ms now)
{
    na__alert **changed = NULL;
    size_t n_changed = 99;

    assert_int_equal(na__alert_evaluate(s, rules, n, a, now, &changed, &n_changed), 0);
    free(changed);
    return n_changed;
}

/* The live (not resolved) alert of a fingerprint, NULL if none. */
static na__alert *live(const na__alert_store *s, const char *fp)
{
    for (size_t i = 0; i < s->count; i++)
        if (s->items[i]->status != NA_ALERT_RESOLVED && strcmp(s->items[i]->fingerprint, fp) == 0)
            return s->items[i];
    return NULL;
}

static size_t count_status(const na__alert_store *s, na__alert_status st)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += s->items[i]->status == st;
    return n;
}

static void assert_hex_id(const char *id)
{
    assert_int_equal(strlen(id), 32);
    for (size_t i = 0; i < 32; i++)
        if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
            fail_msg("id '%s' is not 32 lower-case hex characters", id);
}

/* ---- articulation points ------------------------------------------------------------------ */

static void test_articulation_path(void **state)
{
    na__rule_config r = rule("spof", NA_RULE_ARTICULATION_POINT, "major", 0);
    na__alert_store s;
    na__alert **changed = NULL;
    size_t n_changed = 0;
    na_analysis a;
    const char *want[] = {"b", "c"};
    (void)state;

    na__alert_store_init(&s);
    analyze_edges("a-b,b-c,c-d", &a);
    assert_int_equal(na__alert_evaluate(&s, &r, 1, &a, T0, &changed, &n_changed), 0);
    assert_int_equal(n_changed, 2);
    assert_int_equal(s.count, 2);
    for (size_t i = 0; i < 2; i++) {
        na__alert *al = changed[i];
        char fp[16];
        snprintf(fp, sizeof(fp), "spof|%s", want[i]);
        assert_ptr_equal(al, live(&s, fp));
        assert_hex_id(al->id);
        assert_string_equal(al->rule, "spof");
        assert_string_equal(al->fingerprint, fp);
        assert_string_equal(al->node_id, want[i]);
        assert_null(al->site);
        assert_string_equal(al->severity, "major");
        assert_int_equal(al->status, NA_ALERT_ACTIVE);
        assert_int_equal(al->created_at, T0);
        assert_int_equal(al->updated_at, T0);
        assert_int_equal(al->count, 1);
        assert_null(al->acked_by);
        if (!strstr(al->message, want[i]) || !strstr(al->message, "single point of failure"))
            fail_msg("message '%s' does not name node %s", al->message, want[i]);
        /* Robustness was computed: details carry the node's importance. */
        assert_true(json_is_real(json_object_get(al->details, "importance")));
        assert_true(json_real_value(json_object_get(al->details, "importance")) > 0);
    }
    assert_string_not_equal(changed[0]->id, changed[1]->id);
    assert_ptr_equal(na__alert_find(&s, changed[1]->id), changed[1]);
    assert_null(na__alert_find(&s, "0123456789abcdef0123456789abcdef"));
    free(changed);

    /* The same analysis again: nothing new, nothing changed, same alerts. */
    assert_int_equal(evaluate(&s, &r, 1, &a, T0 + 1000), 0);
    assert_int_equal(s.count, 2);
    assert_int_equal(count_status(&s, NA_ALERT_ACTIVE), 2);
    assert_int_equal(live(&s, "spof|b")->created_at, T0);
    na_analysis_free(&a);
    na__alert_store_free(&s);
}

static void test_articulation_star_and_cycle(void **state)
{
    na__rule_config r = rule("spof", NA_RULE_ARTICULATION_POINT, "critical", 0);
    na__alert_store s;
    na_analysis a;
    (void)state;

    na__alert_store_init(&s);
    analyze_edges("hub-l1,hub-l2,hub-l3,hub-l4,hub-l5", &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0), 1);
    assert_non_null(live(&s, "spof|hub"));
    assert_string_equal(live(&s, "spof|hub")->severity, "critical");
    assert_non_null(strstr(live(&s, "spof|hub")->message, "hub"));
    na_analysis_free(&a);
    na__alert_store_free(&s);

    na__alert_store_init(&s);
    analyze_edges("a-b,b-c,c-d,d-e,e-a", &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0), 0);
    assert_int_equal(s.count, 0);
    na_analysis_free(&a);
    na__alert_store_free(&s);
}

/* Without the structure kind the rule has nothing to look at and raises nothing. */
static void test_articulation_needs_structure(void **state)
{
    na__rule_config r = rule("spof", NA_RULE_ARTICULATION_POINT, "major", 0);
    na__alert_store s;
    na_analysis a;
    (void)state;

    na__alert_store_init(&s);
    analyze(test_topology_from_edges("a-b,b-c,c-d"), NA_ANALYSIS_ROBUSTNESS, &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0), 0);
    na_analysis_free(&a);
    /* Structure only: alerts raised, importance is null in the details. */
    analyze(test_topology_from_edges("a-b,b-c,c-d"), NA_ANALYSIS_STRUCTURE, &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0), 2);
    assert_true(json_is_null(json_object_get(live(&s, "spof|b")->details, "importance")));
    na_analysis_free(&a);
    na__alert_store_free(&s);
}

/* The count counts the evaluations that found the condition while the alert lived (alert.h). */
/* A condition that keeps holding is one alert, raised once: re-evaluations change nothing
 * (so nothing is rewritten in the warehouse), and its count stays 1. */
static void test_count_stays_while_condition_holds(void **state)
{
    na__rule_config r = rule("spof", NA_RULE_ARTICULATION_POINT, "major", 0);
    na__alert_store s;
    na_analysis a;
    size_t second, third;
    (void)state;

    na__alert_store_init(&s);
    analyze_edges("a-b,b-c,c-d", &a);
    evaluate(&s, &r, 1, &a, T0);
    second = evaluate(&s, &r, 1, &a, T0 + 1000);
    third = evaluate(&s, &r, 1, &a, T0 + 2000);
    {
        /* Cleaned up before the assertion so a failure here leaks nothing under ASan. */
        int64_t count = live(&s, "spof|b")->count;
        na_analysis_free(&a);
        na__alert_store_free(&s);
        assert_int_equal(second, 0);
        assert_int_equal(third, 0);
        assert_int_equal(count, 1);
    }
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void test_resolve_and_reopen(void **state)
{
    na__rule_config r = rule("spof", NA_RULE_ARTICULATION_POINT, "major", 0);
    na__alert_store s;
    na__alert **changed = NULL;
    size_t n_changed = 0;
    na_analysis a;
    char old_b[40], old_c[40];
    na__alert *nb;
    (void)state;

    na__alert_store_init(&s);
    analyze_edges("a-b,b-c,c-d", &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0), 2);
    snprintf(old_b, sizeof(old_b), "%s", live(&s, "spof|b")->id);
    snprintf(old_c, sizeof(old_c), "%s", live(&s, "spof|c")->id);
    na_analysis_free(&a);

    /* b-d added: c is no longer an articulation point, b still is. */
    analyze_edges("a-b,b-c,c-d,b-d", &a);
    assert_int_equal(na__alert_evaluate(&s, &r, 1, &a, T0 + 1000, &changed, &n_changed), 0);
    assert_int_equal(n_changed, 1);
    assert_string_equal(changed[0]->id, old_c);
    assert_int_equal(changed[0]->status, NA_ALERT_RESOLVED);
    assert_int_equal(changed[0]->updated_at, T0 + 1000);
    assert_int_equal(changed[0]->created_at, T0);
    free(changed);
    assert_string_equal(live(&s, "spof|b")->id, old_b);
    assert_null(live(&s, "spof|c"));
    na_analysis_free(&a);

    /* A cycle: b resolves too. */
    analyze_edges("a-b,b-c,c-d,d-a", &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0 + 2000), 1);
    assert_int_equal(na__alert_find(&s, old_b)->status, NA_ALERT_RESOLVED);
    assert_int_equal(count_status(&s, NA_ALERT_RESOLVED), 2);
    /* Resolved alerts stay resolved on further evaluations. */
    assert_int_equal(evaluate(&s, &r, 1, &a, T0 + 3000), 0);
    na_analysis_free(&a);

    /* The condition comes back: a new alert with a new id; the old one stays history. */
    analyze_edges("a-b,b-c,c-d", &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0 + 4000), 2);
    assert_int_equal(s.count, 4);
    nb = live(&s, "spof|b");
    assert_non_null(nb);
    assert_string_not_equal(nb->id, old_b);
    assert_int_equal(nb->created_at, T0 + 4000);
    assert_int_equal(nb->status, NA_ALERT_ACTIVE);
    assert_int_equal(na__alert_find(&s, old_b)->status, NA_ALERT_RESOLVED);
    assert_int_equal(na__alert_find(&s, old_b)->updated_at, T0 + 2000);
    na_analysis_free(&a);
    na__alert_store_free(&s);
}

/* Alerts of a rule that is no longer configured resolve. */
static void test_removed_rule_resolves(void **state)
{
    na__rule_config rules[2] = {rule("spof", NA_RULE_ARTICULATION_POINT, "major", 0),
                                rule("thin", NA_RULE_REDUNDANCY, "minor", 1)};
    na__alert_store s;
    na_analysis a;
    (void)state;

    na__alert_store_init(&s);
    analyze_edges("a-b,b-c,c-d", &a);
    /* spof: b, c; thin (exactly one neighbour): a, d. */
    assert_int_equal(evaluate(&s, rules, 2, &a, T0), 4);
    assert_non_null(live(&s, "thin|a"));
    assert_non_null(live(&s, "thin|d"));
    assert_null(live(&s, "thin|b"));
    assert_non_null(strstr(live(&s, "thin|a")->message, "1 neighbour"));
    assert_int_equal(evaluate(&s, rules, 1, &a, T0 + 1), 2);
    assert_null(live(&s, "thin|a"));
    assert_non_null(live(&s, "spof|b"));
    na_analysis_free(&a);
    na__alert_store_free(&s);
}

static void test_ack(void **state)
{
    na__rule_config r = rule("spof", NA_RULE_ARTICULATION_POINT, "major", 0);
    na__alert_store s;
    na__alert *b, *c;
    na_analysis a;
    na_error err;
    (void)state;

    na__alert_store_init(&s);
    analyze_edges("a-b,b-c,c-d", &a);
    evaluate(&s, &r, 1, &a, T0);
    b = live(&s, "spof|b");
    c = live(&s, "spof|c");
    assert_int_equal(na__alert_ack(b, "alice", T0 + 500, &err), 0);
    assert_int_equal(b->status, NA_ALERT_ACKNOWLEDGED);
    assert_string_equal(b->acked_by, "alice");
    assert_int_equal(b->updated_at, T0 + 500);
    assert_int_equal(na__alert_ack(c, NULL, T0 + 600, &err), 0);
    assert_int_equal(c->status, NA_ALERT_ACKNOWLEDGED);
    assert_null(c->acked_by);
    /* A second ack by someone else replaces the name. */
    assert_int_equal(na__alert_ack(b, "bob", T0 + 700, &err), 0);
    assert_string_equal(b->acked_by, "bob");

    /* The condition still holds: the alert stays acknowledged, nothing changes. */
    assert_int_equal(evaluate(&s, &r, 1, &a, T0 + 1000), 0);
    assert_int_equal(b->status, NA_ALERT_ACKNOWLEDGED);
    assert_ptr_equal(live(&s, "spof|b"), b);
    na_analysis_free(&a);

    /* Acknowledged alerts resolve like active ones; a resolved one cannot be acked. */
    analyze_edges("a-b,b-c,c-d,d-a", &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0 + 2000), 2);
    assert_int_equal(b->status, NA_ALERT_RESOLVED);
    na_error_clear(&err);
    assert_int_equal(na__alert_ack(b, "carol", T0 + 3000, &err), NA_EINVAL);
    assert_int_equal(err.code, NA_EINVAL);
    assert_non_null(strstr(err.message, b->id));
    assert_int_equal(b->status, NA_ALERT_RESOLVED);
    assert_string_equal(b->acked_by, "bob");
    assert_int_equal(b->updated_at, T0 + 2000);
    na_analysis_free(&a);
    na__alert_store_free(&s);
}

static void test_status_names(void **state)
{
    na__alert_status st;
    (void)state;

    assert_string_equal(na__alert_status_name(NA_ALERT_ACTIVE), "active");
    assert_string_equal(na__alert_status_name(NA_ALERT_ACKNOWLEDGED), "acknowledged");
    assert_string_equal(na__alert_status_name(NA_ALERT_RESOLVED), "resolved");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(na__alert_status_parse(na__alert_status_name((na__alert_status)i), &st),
                         0);
        assert_int_equal(st, i);
    }
    assert_int_equal(na__alert_status_parse("closed", &st), NA_EINVAL);
    assert_int_equal(na__alert_status_parse("", &st), NA_EINVAL);
}

/*
 * The changed list points into the store (alert.h). With the resolved-history cap reached, an
 * older alert resolving in this evaluation must not be dropped from memory while the caller
 * still holds it in `changed`. Scenario: b and c raised; c resolves (1 resolved, at the cap);
 * then b resolves, the store holds 2 resolved > 1 and trims the oldest: b itself.
 */
static void test_changed_survive_history_trim(void **state)
{
    na__rule_config r = rule("spof", NA_RULE_ARTICULATION_POINT, "major", 0);
    na__alert_store s;
    na__alert **changed = NULL;
    size_t n_changed = 0;
    na_analysis a;
    (void)state;

    na__alert_store_init(&s);
    s.max_resolved = 1;
    analyze_edges("a-b,b-c,c-d", &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0), 2);
    na_analysis_free(&a);
    analyze_edges("a-b,b-c,c-d,b-d", &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0 + 1), 1);
    na_analysis_free(&a);
    analyze_edges("a-b,b-c,c-d,d-a", &a);
    assert_int_equal(na__alert_evaluate(&s, &r, 1, &a, T0 + 2, &changed, &n_changed), 0);
    assert_int_equal(n_changed, 1);
    /* Compare pointers only: dereferencing a dropped alert would be a use after free. */
    {
        bool in_store = false;
        size_t held = s.count;
        for (size_t i = 0; i < s.count; i++)
            in_store |= s.items[i] == changed[0];
        if (in_store)
            assert_int_equal(changed[0]->status, NA_ALERT_RESOLVED);
        free(changed);
        na_analysis_free(&a);
        na__alert_store_free(&s);
        if (!in_store)
            fail_msg("the changed alert was freed by the history trim (store holds %zu)", held);
    }
}

/* ---- node_down, link_down, importance ------------------------------------------------------ */

/* Nodes n0..n4 in a ring (links n0~n1, ..., n4~n0), node `down_node` and link `down_link`
 * (index, -1 none) down, sites "s<i>". */
static na_topology *ring_with_status(int down_node, int down_link)
{
    static const char *const ids[] = {"n0", "n1", "n2", "n3", "n4"};
    static const char *const sites[] = {"s0", "s1", "s2", "s3", "s4"};
    na_builder *b = na_builder_new();
    na_topology *t = NULL;
    na_error err;

    assert_non_null(b);
    for (int i = 0; i < 5; i++) {
        na_node n;
        na_node_init(&n);
        n.id = ids[i];
        n.site = sites[i];
        n.role = "core";
        n.status = i == down_node ? NA_STATUS_DOWN : NA_STATUS_UP;
        assert_int_equal(na_builder_add_node(b, &n, &err), 0);
    }
    for (int i = 0; i < 5; i++) {
        na_link l;
        char id[16];
        na_link_init(&l);
        snprintf(id, sizeof(id), "L%d", i);
        l.id = id;
        l.source = ids[i];
        l.target = ids[(i + 1) % 5];
        l.status = i == down_link ? NA_STATUS_DOWN : NA_STATUS_UP;
        assert_int_equal(na_builder_add_link(b, &l, NULL, &err), 0);
    }
    assert_int_equal(na_builder_finish(b, &t, &err), 0);
    return t;
}

static void test_node_down(void **state)
{
    na__rule_config rules[2] = {rule("node-down", NA_RULE_NODE_DOWN, "critical", 0),
                                rule("spof", NA_RULE_ARTICULATION_POINT, "major", 0)};
    na__alert_store s;
    na__alert *al;
    na_analysis a;
    (void)state;

    na__alert_store_init(&s);
    analyze(ring_with_status(2, -1), NA_ANALYSIS_ALL, &a);
    /* n2 down: its links leave the graph, the ring becomes the path n3-n4-n0-n1, whose inner
     * nodes n4 and n0 are articulation points. */
    assert_int_equal(evaluate(&s, rules, 2, &a, T0), 3);
    al = live(&s, "node-down|n2");
    assert_non_null(al);
    assert_string_equal(al->node_id, "n2");
    assert_string_equal(al->site, "s2");
    assert_string_equal(al->severity, "critical");
    assert_string_equal(al->message, "node n2 is down");
    assert_string_equal(json_string_value(json_object_get(al->details, "role")), "core");
    assert_non_null(live(&s, "spof|n4"));
    assert_non_null(live(&s, "spof|n0"));
    assert_null(live(&s, "spof|n3"));
    na_analysis_free(&a);

    /* n2 comes back up: every alert resolves. */
    analyze(ring_with_status(-1, -1), NA_ANALYSIS_ALL, &a);
    assert_int_equal(evaluate(&s, rules, 2, &a, T0 + 1), 3);
    assert_int_equal(count_status(&s, NA_ALERT_RESOLVED), 3);
    na_analysis_free(&a);
    na__alert_store_free(&s);
}

static void test_link_down(void **state)
{
    na__rule_config r = rule("link-down", NA_RULE_LINK_DOWN, "minor", 0);
    na__alert_store s;
    na__alert *al;
    na_analysis a;
    (void)state;

    na__alert_store_init(&s);
    analyze(ring_with_status(-1, 3), NA_ANALYSIS_STRUCTURE | NA_ANALYSIS_ROBUSTNESS, &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0), 1);
    al = live(&s, "link-down|L3");
    assert_non_null(al);
    assert_string_equal(al->node_id, "n3"); /* the link's source */
    assert_string_equal(al->site, "s3");
    assert_string_equal(al->severity, "minor");
    if (!strstr(al->message, "L3") || !strstr(al->message, "n3") || !strstr(al->message, "n4"))
        fail_msg("message '%s' does not name the link and its ends", al->message);
    assert_string_equal(json_string_value(json_object_get(al->details, "link_id")), "L3");
    assert_string_equal(json_string_value(json_object_get(al->details, "target")), "n4");
    assert_int_equal(evaluate(&s, &r, 1, &a, T0 + 1), 0);
    na_analysis_free(&a);

    /* A different link down: L3's alert resolves, L0's opens. */
    analyze(ring_with_status(-1, 0), NA_ANALYSIS_STRUCTURE, &a);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0 + 2), 2);
    assert_null(live(&s, "link-down|L3"));
    assert_non_null(live(&s, "link-down|L0"));
    na_analysis_free(&a);
    na__alert_store_free(&s);
}

static void test_importance_threshold(void **state)
{
    na__rule_config r;
    na__alert_store s;
    na_analysis a;
    size_t n, hub;
    double th;
    (void)state;

    /* A hub with three leaves and a tail: hub-x-y. */
    analyze_edges("hub-l1,hub-l2,hub-l3,hub-x,x-y", &a);
    n = a.rob.n;
    assert_int_equal(n, 6);
    assert_int_equal(na_topology_find_node(a.topo, "hub", &hub), 0);
    /* The threshold is exactly the hub's importance: >= includes it. */
    th = a.rob.importance[hub];
    assert_true(th > 0);
    r = rule("critical-node", NA_RULE_IMPORTANCE, "warning", th);
    na__alert_store_init(&s);
    {
        size_t want = 0;
        for (size_t v = 0; v < n; v++)
            want += a.rob.importance[v] >= th;
        assert_int_equal(evaluate(&s, &r, 1, &a, T0), want);
    }
    {
        na__alert *al = live(&s, "critical-node|hub");
        char pct[32];
        assert_non_null(al);
        snprintf(pct, sizeof(pct), "%.1f%%", 100.0 * a.rob.relative_loss[hub]);
        if (!strstr(al->message, "hub") || !strstr(al->message, pct))
            fail_msg("message '%s' lacks the node or '%s'", al->message, pct);
        assert_true(json_real_value(json_object_get(al->details, "importance")) == th);
        assert_true(json_real_value(json_object_get(al->details, "threshold")) == th);
    }
    na__alert_store_free(&s);

    /* Just above every importance: nothing. */
    {
        double max = 0;
        for (size_t v = 0; v < n; v++)
            max = fmax(max, a.rob.importance[v]);
        r.threshold = nextafter(max, INFINITY);
        na__alert_store_init(&s);
        assert_int_equal(evaluate(&s, &r, 1, &a, T0), 0);
        na__alert_store_free(&s);
    }
    na_analysis_free(&a);

    /* Without robustness the rule is silent. */
    analyze(test_topology_from_edges("hub-l1,hub-l2,hub-l3"), NA_ANALYSIS_STRUCTURE, &a);
    r.threshold = -1;
    na__alert_store_init(&s);
    assert_int_equal(evaluate(&s, &r, 1, &a, T0), 0);
    na__alert_store_free(&s);
    na_analysis_free(&a);
}

/* ---- JSON and warehouse rows --------------------------------------------------------------- */

static void expect_json_equal(json_t *got, json_t *want)
{
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
        fail_msg("JSON differs\n got: %s\nwant: %s", g ? g : "(null)", w ? w : "(null)");
    }
}

/* The row of `al` read back as a warehouse version must give na__alert_json's object, and load
 * back into `reload` as the same alert. */
static void check_row_round_trip(const na__alert *al, na__alert_store *reload)
{
    size_t ncols = 0;
    na_wh_value *values;
    char *scratch = NULL;
    na_wh_version v;
    json_t *want, *got;

    (void)na_wh_table_columns(NA_WH_ALERTS, &ncols);
    assert_int_equal(ncols, 11);
    values = calloc(ncols, sizeof(*values));
    assert_non_null(values);
    assert_int_equal(na__alert_row(al, values, &scratch), 0);
    assert_non_null(scratch);
    memset(&v, 0, sizeof(v));
    v.row.id = al->id;
    v.row.values = values;
    v.valid_from = al->updated_at;
    v.valid_to = NA_TIME_OPEN;
    v.is_current = true;

    want = na__alert_json(al);
    assert_non_null(want);
    got = na__alert_json_from_row(&v);
    assert_non_null(got);
    expect_json_equal(got, want);
    assert_int_equal(json_object_size(got), json_object_size(want));

    /* Restart: the row loads back into a store as the same alert. */
    assert_int_equal(na__alert_store_load_row(reload, &v), 0);
    {
        na__alert *back = na__alert_find(reload, al->id);
        json_t *again;
        assert_non_null(back);
        assert_int_equal(back->status, al->status);
        assert_int_equal(back->created_at, al->created_at);
        assert_int_equal(back->updated_at, al->updated_at);
        assert_int_equal(back->count, al->count);
        assert_string_equal(back->fingerprint, al->fingerprint);
        if (al->acked_by)
            assert_string_equal(back->acked_by, al->acked_by);
        else
            assert_null(back->acked_by);
        again = na__alert_json(back);
        expect_json_equal(again, want);
        json_decref(again);
    }
    json_decref(want);
    json_decref(got);
    free(scratch);
    free(values);
}

static void test_json_and_row_round_trip(void **state)
{
    na__rule_config rules[3] = {rule("spof", NA_RULE_ARTICULATION_POINT, "major", 0),
                                rule("link-down", NA_RULE_LINK_DOWN, "minor", 0),
                                rule("node-down", NA_RULE_NODE_DOWN, "critical", 0)};
    na__alert_store s, reload;
    na_analysis a;
    na__alert *al;
    json_t *j;
    (void)state;

    na__alert_store_init(&s);
    na__alert_store_init(&reload);
    analyze(ring_with_status(2, 0), NA_ANALYSIS_ALL, &a);
    /* n2 and L0 down: what remains is the path n3-n4-n0, n4 its articulation point. */
    assert_int_equal(evaluate(&s, rules, 3, &a, T0 + 123), 3);

    /* The API object of one alert, member by member. */
    al = live(&s, "spof|n4");
    assert_non_null(al);
    j = na__alert_json(al);
    assert_string_equal(json_string_value(json_object_get(j, "alert_id")), al->id);
    assert_string_equal(json_string_value(json_object_get(j, "rule")), "spof");
    assert_string_equal(json_string_value(json_object_get(j, "fingerprint")), "spof|n4");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "active");
    assert_string_equal(json_string_value(json_object_get(j, "severity")), "major");
    assert_string_equal(json_string_value(json_object_get(j, "node_id")), "n4");
    assert_string_equal(json_string_value(json_object_get(j, "site")), "s4");
    assert_string_equal(json_string_value(json_object_get(j, "created_at")),
                        "2026-03-08T12:00:00.123Z");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
    assert_true(json_is_null(json_object_get(j, "acknowledged_by")));
    assert_true(json_is_object(json_object_get(j, "details")));
    json_decref(j);

    /* Acknowledged with a name, acknowledged without one, resolved, active: all round trip. */
    assert_int_equal(na__alert_ack(al, "noc \"night\" shift", T0 + 999, NULL), 0);
    assert_int_equal(na__alert_ack(live(&s, "node-down|n2"), NULL, T0 + 1000, NULL), 0);
    for (size_t i = 0; i < s.count; i++)
        check_row_round_trip(s.items[i], &reload);
    na_analysis_free(&a);

    analyze(ring_with_status(-1, -1), NA_ANALYSIS_ALL, &a);
    evaluate(&s, rules, 3, &a, T0 + 5000);
    assert_int_equal(count_status(&s, NA_ALERT_RESOLVED), s.count);
    na__alert_store_free(&reload);
    na__alert_store_init(&reload);
    for (size_t i = 0; i < s.count; i++)
        check_row_round_trip(s.items[i], &reload);
    assert_int_equal(reload.count, s.count);
    na_analysis_free(&a);

    /* A reloaded active alert takes part in evaluation: still-true conditions keep it,
     * the rest resolve. */
    {
        na__alert_store fresh;
        na__alert_store_init(&fresh);
        analyze(ring_with_status(2, -1), NA_ANALYSIS_ALL, &a);
        evaluate(&fresh, rules, 3, &a, T0 + 6000);
        {
            na__alert_store restored;
            na__alert *n2 = live(&fresh, "node-down|n2");
            size_t ncols;
            na_wh_value vals[11];
            char *scratch = NULL;
            na_wh_version v;
            na__alert_store_init(&restored);
            (void)na_wh_table_columns(NA_WH_ALERTS, &ncols);
            assert_int_equal(ncols, 11);
            assert_int_equal(na__alert_row(n2, vals, &scratch), 0);
            memset(&v, 0, sizeof(v));
            v.row.id = n2->id;
            v.row.values = vals;
            assert_int_equal(na__alert_store_load_row(&restored, &v), 0);
            free(scratch);
            /* Same condition still true: no new alert, the restored one is kept. */
            evaluate(&restored, rules, 3, &a, T0 + 7000);
            assert_string_equal(live(&restored, "node-down|n2")->id, n2->id);
            na__alert_store_free(&restored);
        }
        na__alert_store_free(&fresh);
        na_analysis_free(&a);
    }
    na__alert_store_free(&reload);
    na__alert_store_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_articulation_path),
        cmocka_unit_test(test_articulation_star_and_cycle),
        cmocka_unit_test(test_articulation_needs_structure),
        cmocka_unit_test(test_count_stays_while_condition_holds),
        cmocka_unit_test(test_resolve_and_reopen),
        cmocka_unit_test(test_removed_rule_resolves),
        cmocka_unit_test(test_ack),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_changed_survive_history_trim),
        cmocka_unit_test(test_node_down),
        cmocka_unit_test(test_link_down),
        cmocka_unit_test(test_importance_threshold),
        cmocka_unit_test(test_json_and_row_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
