/*
 * test_alert_manager.c: the alert manager (src/alert/manager.c) with rules parsed from YAML by
 * the daemon's own configuration reader: dedup with repeat counts, clearing events, the quiet
 * resolve through tick, metric conditions held for a duration, silences (incl. start and
 * expiry), feedback effects (raised threshold, suppression) and their reversal, groups by node
 * and site with multi-modal evidence, events derived from two real analyses, and silences and
 * tunings saved to and restored from a SQLite warehouse in a temp dir.
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

#include "alert/alert.h"
#include "harness.h"

#define T0 ((na_time_ms)1772971200000LL) /* 2026-03-08T12:00:00.000Z */
#define SEC 1000LL
#define MIN (60 * SEC)

static na__daemon_config parse_cfg(const char *yaml)
{
    na__daemon_config cfg;
    na_error err;

    na_error_clear(&err);
    if (na__config_parse(yaml, strlen(yaml), "test.yaml", "/tmp", &cfg, &err) != 0)
        fail_msg("config: %s", err.message);
    return cfg;
}

static void cfg_bad(const char *yaml, const char *want)
{
    na__daemon_config cfg;
    na_error err;

    na_error_clear(&err);
    if (na__config_parse(yaml, strlen(yaml), "test.yaml", "/tmp", &cfg, &err) == 0) {
        na__config_free(&cfg);
        fail_msg("config parsed, expected an error with '%s'", want);
    }
    if (!strstr(err.message, want))
        fail_msg("error '%s' does not contain '%s'", err.message, want);
}

static na__event node_ev(na__event_type t, const char *node, const char *site)
{
    na__event e = {.type = t, .node_id = node, .site = site, .value = NAN, .previous = NAN,
                   .at = T0};
    return e;
}

static na__event link_ev(na__event_type t, const char *link, const char *src, const char *dst,
                         const char *site)
{
    na__event e = {.type = t, .link_id = link, .source = src, .target = dst, .site = site,
                   .value = NAN, .previous = NAN, .at = T0};
    return e;
}

static na__event anomaly_ev(const char *node, const char *site, double score)
{
    na__event e = {.type = NA_EV_ANOMALY, .node_id = node, .site = site,
                   .detector = "importance_outlier", .value = score, .previous = NAN, .at = T0};
    return e;
}

static na__event metric_ev(const char *link, const char *src, const char *metric, double v)
{
    na__event e = {.type = NA_EV_METRIC, .link_id = link, .node_id = src, .site = "iad1",
                   .metric = metric, .value = v, .previous = NAN, .at = T0};
    return e;
}

/* Feeds one event; returns the changed alerts (caller frees) and their number. */
static size_t feed(na__alert_store *s, const na__daemon_config *cfg, na__event e, na_time_ms now,
                   na__alert ***out)
{
    na__alert **changed = NULL;
    size_t n = 0;

    assert_int_equal(na__alert_on_event(s, cfg->rules, cfg->n_rules, &e, now, &changed, &n), 0);
    if (out)
        *out = changed;
    else
        free(changed);
    return n;
}

static size_t feed_n(na__alert_store *s, const na__daemon_config *cfg, na__event e,
                     na_time_ms now)
{
    return feed(s, cfg, e, now, NULL);
}

static size_t tick(na__alert_store *s, const na__daemon_config *cfg, na_time_ms now,
                   na__alert ***out)
{
    na__alert **changed = NULL;
    size_t n = 0;

    assert_int_equal(na__alert_tick(s, cfg->rules, cfg->n_rules, now, &changed, &n), 0);
    if (out)
        *out = changed;
    else
        free(changed);
    return n;
}

static na__alert *live(const na__alert_store *s, const char *fp)
{
    return na__alert_find_live(s, fp);
}

static size_t count_live(const na__alert_store *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += s->items[i]->status != NA_ALERT_RESOLVED;
    return n;
}

/* ---- configuration ---------------------------------------------------------------------------- */

static void test_config_event_rules(void **state)
{
    na__daemon_config cfg = parse_cfg(
        "alerting:\n"
        "  resolve_after: 2m\n"
        "  max_history: 50\n"
        "  importance_jump: 0.2\n"
        "  feedback: {raise_factor: 2, suppress_for: 1h}\n"
        "  group_by: [node]\n"
        "alert_rules:\n"
        "  - {name: node-down, type: topology_change, on: [node_down, link_down], severity: major}\n"
        "  - {name: changes, type: topology_change, resolve_after: 30s}\n"
        "  - {name: high-score, type: anomaly_score, threshold: 4.5}\n"
        "  - {name: hot-link, type: metric_threshold, metric: utilisation, op: \">=\", "
        "threshold: 0.9, for: 5m}\n"
        "  - {name: iad-links, type: custom, expr: 'type == \"link_down\" && site == \"iad1\"'}\n"
        "  - {type: importance}\n");
    (void)state;

    assert_int_equal(cfg.n_rules, 6);
    assert_int_equal(cfg.alerting.resolve_after_ms, 2 * MIN);
    assert_int_equal(cfg.alerting.max_history, 50);
    assert_true(cfg.alerting.importance_jump == 0.2);
    assert_true(cfg.alerting.raise_factor == 2.0);
    assert_int_equal(cfg.alerting.suppress_for_ms, 60 * MIN);
    assert_int_equal(cfg.alerting.group_by, NA_GROUP_BY_NODE);
    assert_int_equal(cfg.rules[0].type, NA_RULE_TOPOLOGY_CHANGE);
    assert_int_equal(cfg.rules[0].on, (1u << NA_EV_NODE_DOWN) | (1u << NA_EV_LINK_DOWN));
    assert_int_equal(cfg.rules[0].resolve_after_ms, 2 * MIN);
    assert_string_equal(cfg.rules[0].severity, "major");
    /* The default `on`: every "something broke" change. */
    assert_true(cfg.rules[1].on & (1u << NA_EV_NODE_REMOVED));
    assert_true(cfg.rules[1].on & (1u << NA_EV_CLUSTER_TYPE_CHANGE));
    assert_false(cfg.rules[1].on & (1u << NA_EV_NODE_UP));
    assert_int_equal(cfg.rules[1].resolve_after_ms, 30 * SEC);
    assert_int_equal(cfg.rules[2].type, NA_RULE_ANOMALY_SCORE);
    assert_true(cfg.rules[2].threshold == 4.5);
    assert_true(cfg.rules[2].raise_factor == 2.0);
    assert_int_equal(cfg.rules[2].suppress_for_ms, 60 * MIN);
    assert_int_equal(cfg.rules[3].type, NA_RULE_METRIC_THRESHOLD);
    assert_string_equal(cfg.rules[3].metric, "utilisation");
    assert_int_equal(cfg.rules[3].op, NA_OP_GE);
    assert_int_equal(cfg.rules[3].for_ms, 5 * MIN);
    assert_int_equal(cfg.rules[4].type, NA_RULE_CUSTOM);
    assert_non_null(cfg.rules[4].expr);
    assert_string_equal(cfg.rules[5].name, "importance");
    na__config_free(&cfg);

    /* Defaults without an alerting: section. */
    cfg = parse_cfg("alert_rules:\n  - {type: anomaly_score}\n");
    assert_int_equal(cfg.alerting.resolve_after_ms, 10 * MIN);
    assert_int_equal(cfg.alerting.max_history, 10000);
    assert_true(cfg.alerting.importance_jump == 0.1);
    assert_true(cfg.alerting.raise_factor == 1.5);
    assert_int_equal(cfg.alerting.suppress_for_ms, 24 * 60 * MIN);
    assert_int_equal(cfg.alerting.group_by, NA_GROUP_BY_NODE | NA_GROUP_BY_SITE);
    assert_true(cfg.rules[0].threshold == 3.5);
    assert_int_equal(cfg.rules[0].resolve_after_ms, 10 * MIN);
    na__config_free(&cfg);
}

static void test_config_errors(void **state)
{
    (void)state;
    cfg_bad("alert_rules:\n  - {type: custom, expr: 'sitee == \"x\"'}\n",
            "alert_rules[0].expr: column 1: unknown field 'sitee'");
    cfg_bad("alert_rules:\n  - {type: custom, expr: 'site = \"x\"'}\n",
            "alert_rules[0].expr: column 6: '=' is not an operator");
    cfg_bad("alert_rules:\n  - {type: custom}\n", "alert_rules[0].expr: required");
    cfg_bad("alert_rules:\n  - {type: metric_threshold, threshold: 1}\n",
            "alert_rules[0].metric: required");
    cfg_bad("alert_rules:\n  - {type: metric_threshold, metric: cpu}\n",
            "alert_rules[0].threshold: required");
    cfg_bad("alert_rules:\n  - {type: metric_threshold, metric: cpu, threshold: 1, op: \"=>\"}\n",
            "alert_rules[0].op: expected");
    cfg_bad("alert_rules:\n  - {type: metric_threshold, metric: cpu, threshold: 1, for: soon}\n",
            "alert_rules[0].for: expected a duration");
    cfg_bad("alert_rules:\n  - {type: topology_change, on: [node_down, anomaly]}\n",
            "alert_rules[0].on[1]: expected one of node_down");
    cfg_bad("alert_rules:\n  - {type: topology_change, on: []}\n",
            "alert_rules[0].on: expected an event type");
    cfg_bad("alert_rules:\n  - {type: node_down, expr: 'true'}\n",
            "alert_rules[0].expr: not a setting of this rule type");
    cfg_bad("alert_rules:\n  - {type: anomaly_score, for: 5m}\n",
            "alert_rules[0].for: not a setting of this rule type");
    cfg_bad("alert_rules:\n  - {type: topology_change, resolve_after: 10ms}\n",
            "alert_rules[0].resolve_after: at least 1s");
    cfg_bad("alert_rules:\n  - {name: a, type: node_down}\n  - {name: a, type: link_down}\n",
            "alert_rules[1].name: 'a' is already the name of alert_rules[0]");
    cfg_bad("alert_rules:\n  - {type: node_down}\n  - {type: node_down}\n",
            "alert_rules[1].name: 'node_down' is already");
    cfg_bad("alert_rules:\n  - {type: cpu_high}\n", "metric_threshold or custom (got cpu_high)");
    cfg_bad("alerting: {resolve_after: 5m, typo: 1}\n", "alerting.typo: unknown setting");
    cfg_bad("alerting: {group_by: [node, rack]}\n", "alerting.group_by[1]: expected node or site");
    cfg_bad("alerting: {feedback: {raise_factor: 1}}\n", "alerting.feedback.raise_factor");
    cfg_bad("alerting: {feedback: {suppress: 1h}}\n", "alerting.feedback.suppress: unknown");
    cfg_bad("alerting: {importance_jump: 0}\n", "alerting.importance_jump");
    cfg_bad("alerting: 3\n", "alerting: expected a mapping");
}

/* ---- dedup, clearing, quiet resolve ---------------------------------------------------------- */

#define EVENT_RULES \
    "alert_rules:\n" \
    "  - {name: down, type: topology_change, on: [node_down, link_down, node_removed, " \
    "articulation_point], severity: major}\n" \
    "  - {name: jumps, type: topology_change, on: [importance_jump, cluster_type_change]}\n" \
    "  - {name: score, type: anomaly_score, threshold: 3.5, severity: minor}\n" \
    "  - {name: iad-links, type: custom, expr: 'type == \"link_down\" && site == \"iad1\"', " \
    "severity: critical}\n" \
    "  - {name: spof, type: articulation_point}\n"
static const char *const cfg_events = "alerting: {resolve_after: 10m}\n" EVENT_RULES;
/* Quiet resolves out of the way (a day). */
static const char *const cfg_events_slow = "alerting: {resolve_after: 1d}\n" EVENT_RULES;

static void test_dedup_counts_repeats(void **state)
{
    na__daemon_config cfg = parse_cfg(cfg_events);
    na__alert_store s;
    na__alert **ch = NULL, *a;
    (void)state;

    na__alert_store_init(&s);
    assert_int_equal(feed(&s, &cfg, anomaly_ev("r1", "lhr1", 5.0), T0, &ch), 1);
    a = ch[0];
    free(ch);
    assert_ptr_equal(a, live(&s, "score|r1"));
    assert_string_equal(a->rule, "score");
    assert_string_equal(a->node_id, "r1");
    assert_string_equal(a->site, "lhr1");
    assert_string_equal(a->severity, "minor");
    assert_int_equal(a->count, 1);
    assert_int_equal(a->status, NA_ALERT_ACTIVE);
    assert_false(a->silenced);
    assert_string_equal(a->evidence, "anomaly");
    assert_int_equal(a->event_type, NA_EV_ANOMALY);
    assert_non_null(strstr(a->message, "anomaly on r1: score 5"));
    assert_true(json_real_value(json_object_get(a->details, "threshold")) == 3.5);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(a->details, "event"), "detector")),
                        "importance_outlier");
    /* The same fingerprint again: the same alert, counted. */
    assert_int_equal(feed(&s, &cfg, anomaly_ev("r1", "lhr1", 7.0), T0 + 5 * SEC, &ch), 1);
    assert_ptr_equal(ch[0], a);
    free(ch);
    assert_int_equal(a->count, 2);
    assert_int_equal(a->created_at, T0);
    assert_int_equal(a->updated_at, T0 + 5 * SEC);
    assert_non_null(strstr(a->message, "score 7"));
    /* Below the threshold: nothing. Another node: its own alert. */
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r1", "lhr1", 3.4), T0 + 6 * SEC), 0);
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r2", "lhr1", 3.5), T0 + 6 * SEC), 1);
    assert_int_equal(s.count, 2);
    assert_int_equal(a->count, 2);
    /* An acknowledged alert keeps counting and stays acknowledged. */
    assert_int_equal(na__alert_ack(a, "ops", T0 + 7 * SEC, NULL), 0);
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r1", "lhr1", 9.0), T0 + 8 * SEC), 1);
    assert_int_equal(a->status, NA_ALERT_ACKNOWLEDGED);
    assert_int_equal(a->count, 3);
    /* One event, two rules: the custom rule and the topology rule both fire. */
    assert_int_equal(feed(&s, &cfg, link_ev(NA_EV_LINK_DOWN, "L1", "r1", "r2", "iad1"),
                          T0 + 9 * SEC, &ch), 2);
    assert_ptr_equal(ch[0], live(&s, "down|L1"));
    assert_ptr_equal(ch[1], live(&s, "iad-links|L1"));
    assert_string_equal(ch[1]->severity, "critical");
    assert_string_equal(ch[1]->evidence, "custom");
    assert_string_equal(ch[0]->node_id, "r1");
    assert_non_null(strstr(ch[0]->message, "link L1 (r1 - r2) is down"));
    free(ch);
    /* Not iad1: only the topology rule. */
    assert_int_equal(feed_n(&s, &cfg, link_ev(NA_EV_LINK_DOWN, "L2", "r3", "r4", "lhr1"),
                            T0 + 9 * SEC), 1);
    /* A list handed in with entries grows (and a repeat is not listed twice). */
    {
        na__alert **list = malloc(sizeof(*list));
        size_t n = 1;
        na__event e = anomaly_ev("r1", "lhr1", 8.0);
        list[0] = a;
        assert_int_equal(na__alert_on_event(&s, cfg.rules, cfg.n_rules, &e, T0 + 10 * SEC,
                                            &list, &n), 0);
        assert_int_equal(n, 1);
        e = anomaly_ev("r9", NULL, 8.0);
        assert_int_equal(na__alert_on_event(&s, cfg.rules, cfg.n_rules, &e, T0 + 10 * SEC,
                                            &list, &n), 0);
        assert_int_equal(n, 2);
        assert_ptr_equal(list[0], a);
        assert_ptr_equal(list[1], live(&s, "score|r9"));
        free(list);
    }
    na__alert_store_free(&s);
    na__config_free(&cfg);
}

static void test_clearing_events_resolve(void **state)
{
    na__daemon_config cfg = parse_cfg(cfg_events);
    na__alert_store s;
    na__alert **ch = NULL, *a;
    (void)state;

    na__alert_store_init(&s);
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_DOWN, "r1", "lhr1"), T0), 1);
    a = live(&s, "down|r1");
    assert_non_null(a);
    assert_string_equal(a->evidence, "topology");
    /* node_up of another node clears nothing; of r1 it resolves the alert. */
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_UP, "r2", "lhr1"), T0 + SEC), 0);
    assert_int_equal(feed(&s, &cfg, node_ev(NA_EV_NODE_UP, "r1", "lhr1"), T0 + 2 * SEC, &ch), 1);
    assert_ptr_equal(ch[0], a);
    free(ch);
    assert_int_equal(a->status, NA_ALERT_RESOLVED);
    assert_int_equal(a->updated_at, T0 + 2 * SEC);
    assert_null(live(&s, "down|r1"));
    /* Down again: a new alert (the old one is history). */
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_DOWN, "r1", "lhr1"), T0 + 3 * SEC), 1);
    assert_ptr_not_equal(live(&s, "down|r1"), a);
    assert_int_equal(live(&s, "down|r1")->count, 1);
    /* Links: link_up clears link_down (both alerts of L1: the custom one waits for quiet). */
    assert_int_equal(feed_n(&s, &cfg, link_ev(NA_EV_LINK_DOWN, "L1", "r1", "r2", "iad1"),
                            T0 + 4 * SEC), 2);
    assert_int_equal(feed_n(&s, &cfg, link_ev(NA_EV_LINK_UP, "L1", "r1", "r2", "iad1"),
                            T0 + 5 * SEC), 1);
    assert_null(live(&s, "down|L1"));
    assert_non_null(live(&s, "iad-links|L1"));
    /* node_added clears node_removed. */
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_REMOVED, "r5", NULL), T0 + 6 * SEC), 1);
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_ADDED, "r5", NULL), T0 + 7 * SEC), 1);
    assert_null(live(&s, "down|r5"));
    /* articulation_point_cleared clears articulation_point. */
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_ARTICULATION_POINT, "r6", NULL), T0), 1);
    assert_string_equal(live(&s, "down|r6")->evidence, "analytics");
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_ARTICULATION_POINT_CLEARED, "r6", NULL), T0),
                     1);
    assert_null(live(&s, "down|r6"));
    /* A clearing event clears only what its counterpart raised: node_up does not resolve
     * the node_removed alert of the same node. */
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_REMOVED, "r7", NULL), T0), 1);
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_UP, "r7", NULL), T0), 0);
    assert_non_null(live(&s, "down|r7"));
    na__alert_store_free(&s);
    na__config_free(&cfg);
}

static void test_quiet_resolve_through_tick(void **state)
{
    na__daemon_config cfg = parse_cfg(cfg_events);
    na__alert_store s;
    na__alert **ch = NULL;
    na__alert *jump, *down, *custom, *score;
    na__event e;
    (void)state;

    na__alert_store_init(&s);
    e = node_ev(NA_EV_IMPORTANCE_JUMP, "r1", "lhr1");
    e.value = 0.4;
    e.previous = 0.1;
    assert_int_equal(feed_n(&s, &cfg, e, T0), 1);
    jump = live(&s, "jumps|r1");
    assert_non_null(strstr(jump->message, "importance of r1 changed from 0.1 to 0.4"));
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_DOWN, "r2", NULL), T0), 1);
    down = live(&s, "down|r2");
    assert_int_equal(feed_n(&s, &cfg, link_ev(NA_EV_LINK_DOWN, "L1", "r1", "r2", "iad1"), T0), 2);
    custom = live(&s, "iad-links|L1");
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r3", NULL, 4), T0), 1);
    score = live(&s, "score|r3");

    /* Just before resolve_after nothing resolves. */
    assert_int_equal(tick(&s, &cfg, T0 + 10 * MIN - 1, NULL), 0);
    /* A repeat restarts the quiet time of that alert only. */
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r3", NULL, 4), T0 + 5 * MIN), 1);
    assert_int_equal(tick(&s, &cfg, T0 + 10 * MIN, &ch), 2);
    assert_ptr_equal(ch[0], jump);
    assert_ptr_equal(ch[1], custom);
    free(ch);
    assert_int_equal(jump->status, NA_ALERT_RESOLVED);
    assert_int_equal(jump->updated_at, T0 + 10 * MIN);
    assert_int_equal(custom->status, NA_ALERT_RESOLVED);
    assert_int_equal(score->status, NA_ALERT_ACTIVE);
    assert_int_equal(tick(&s, &cfg, T0 + 15 * MIN, &ch), 1);
    assert_ptr_equal(ch[0], score);
    free(ch);
    /* The link and node alerts wait for their clearing event, however long it takes. */
    assert_int_equal(tick(&s, &cfg, T0 + 7 * 24 * 60 * MIN, NULL), 0);
    assert_int_equal(down->status, NA_ALERT_ACTIVE);
    assert_non_null(live(&s, "down|L1"));
    /* Condition rules leave event alerts alone: an analysis without down nodes does not
     * resolve the node_down event alert. */
    {
        na_analysis a;
        na_analysis_opts opts = {.kinds = NA_ANALYSIS_STRUCTURE, .threads = 1, .seed = 1};
        na_topology *t = test_topology_from_edges("x-y,y-z");
        na__alert **changed = NULL;
        size_t n = 0;
        assert_int_equal(na_analysis_run(t, &opts, &a, NULL), 0);
        na_topology_unref(t);
        assert_int_equal(na__alert_evaluate(&s, cfg.rules, cfg.n_rules, &a, T0, &changed, &n), 0);
        /* spof|y raised; nothing resolved */
        assert_int_equal(n, 1);
        assert_string_equal(changed[0]->fingerprint, "spof|y");
        assert_string_equal(changed[0]->evidence, "analytics");
        free(changed);
        assert_int_equal(down->status, NA_ALERT_ACTIVE);
        na_analysis_free(&a);
    }
    /* A rule that is no longer configured: its event alerts resolve at the next tick. */
    {
        na__daemon_config fewer = parse_cfg("alert_rules:\n  - {name: spof, type: "
                                            "articulation_point}\n");
        assert_int_equal(tick(&s, &fewer, T0 + 7 * 24 * 60 * MIN + 1, NULL), 2);
        assert_int_equal(down->status, NA_ALERT_RESOLVED);
        assert_null(live(&s, "down|L1"));
        assert_non_null(live(&s, "spof|y"));
        na__config_free(&fewer);
    }
    na__alert_store_free(&s);
    na__config_free(&cfg);
}

/* ---- metric conditions ----------------------------------------------------------------------- */

static void test_metric_held_for_a_duration(void **state)
{
    na__daemon_config cfg = parse_cfg(
        "alert_rules:\n"
        "  - {name: hot-link, type: metric_threshold, metric: utilisation, op: \">\", "
        "threshold: 0.9, for: 5m, severity: major}\n"
        "  - {name: low-light, type: metric_threshold, metric: rx_power, op: \"<\", "
        "threshold: -20}\n");
    na__alert_store s;
    na__alert **ch = NULL, *a;
    (void)state;

    na__alert_store_init(&s);
    /* Above, then back under before 5 minutes: never raised. */
    assert_int_equal(feed_n(&s, &cfg, metric_ev("L1", "r1", "utilisation", 0.95), T0), 0);
    assert_int_equal(tick(&s, &cfg, T0 + 4 * MIN, NULL), 0);
    assert_int_equal(feed_n(&s, &cfg, metric_ev("L1", "r1", "utilisation", 0.5), T0 + 4 * MIN), 0);
    assert_int_equal(tick(&s, &cfg, T0 + 20 * MIN, NULL), 0);
    assert_int_equal(s.count, 0);
    assert_int_equal(s.n_holds, 0);

    /* Above from T1 on: raised by the tick at T1 + 5m, not before. */
    na_time_ms t1 = T0 + 30 * MIN;
    assert_int_equal(feed_n(&s, &cfg, metric_ev("L1", "r1", "utilisation", 0.95), t1), 0);
    assert_int_equal(feed_n(&s, &cfg, metric_ev("L1", "r1", "utilisation", 0.97), t1 + 4 * MIN),
                     0);
    /* 0.9 exactly is not > 0.9, and another metric or link is another condition. */
    assert_int_equal(feed_n(&s, &cfg, metric_ev("L2", "r2", "utilisation", 0.9), t1), 0);
    assert_int_equal(feed_n(&s, &cfg, metric_ev("L1", "r1", "errors", 99), t1), 0);
    assert_int_equal(tick(&s, &cfg, t1 + 5 * MIN - 1, NULL), 0);
    assert_int_equal(tick(&s, &cfg, t1 + 5 * MIN, &ch), 1);
    a = ch[0];
    free(ch);
    assert_ptr_equal(a, live(&s, "hot-link|utilisation|L1"));
    assert_string_equal(a->node_id, "r1");
    assert_string_equal(a->site, "iad1");
    assert_string_equal(a->severity, "major");
    assert_string_equal(a->evidence, "metric");
    assert_int_equal(a->created_at, t1 + 5 * MIN);
    assert_non_null(strstr(a->message, "utilisation of L1 > 0.9 for 5m (now 0.97)"));
    /* Further samples above change nothing; the quiet time does not apply. */
    assert_int_equal(feed_n(&s, &cfg, metric_ev("L1", "r1", "utilisation", 0.99), t1 + 6 * MIN),
                     0);
    assert_int_equal(tick(&s, &cfg, t1 + 60 * MIN, NULL), 0);
    assert_int_equal(a->count, 1);
    /* Back under: resolved, with the value that cleared it. */
    assert_int_equal(feed(&s, &cfg, metric_ev("L1", "r1", "utilisation", 0.4), t1 + 61 * MIN, &ch),
                     1);
    assert_ptr_equal(ch[0], a);
    free(ch);
    assert_int_equal(a->status, NA_ALERT_RESOLVED);
    assert_true(json_real_value(json_object_get(a->details, "cleared_value")) == 0.4);
    assert_int_equal(s.n_holds, 0);
    /* "<" with no duration: raised by the sample itself. */
    assert_int_equal(feed_n(&s, &cfg, metric_ev(NULL, "r3", "rx_power", -25), t1), 1);
    assert_non_null(live(&s, "low-light|rx_power|r3"));
    assert_int_equal(feed_n(&s, &cfg, metric_ev(NULL, "r3", "rx_power", -10), t1), 1);
    assert_null(live(&s, "low-light|rx_power|r3"));
    /* Samples without a value are ignored. */
    assert_int_equal(feed_n(&s, &cfg, metric_ev(NULL, "r3", "rx_power", NAN), t1), 0);
    na__alert_store_free(&s);
    na__config_free(&cfg);
}

/* ---- silences ------------------------------------------------------------------------------------ */

static json_t *silence_body(const char *matchers_json, const char *starts, const char *ends)
{
    json_t *b = json_pack("{s:o, s:s, s:s}", "matchers", json_loads(matchers_json, 0, NULL),
                          "ends_at", ends, "comment", "maintenance");
    if (starts)
        json_object_set_new(b, "starts_at", json_string(starts));
    return b;
}

static void silence_bad(na__alert_store *s, const char *body_json, const char *want)
{
    json_t *b = json_loads(body_json, 0, NULL), *out = NULL;
    na__alert **ch = NULL;
    size_t n = 0;
    na_error err;

    assert_non_null(b);
    na_error_clear(&err);
    assert_int_equal(na__alert_silence_add(s, b, T0, &out, &ch, &n, &err), NA_EINVAL);
    if (!strstr(err.message, want))
        fail_msg("silence error '%s' does not contain '%s'", err.message, want);
    assert_null(out);
    free(ch);
    json_decref(b);
}

static void test_silences(void **state)
{
    na__daemon_config cfg = parse_cfg(cfg_events_slow);
    na__alert_store s;
    na__alert **ch = NULL, *r1, *r2;
    size_t n = 0;
    json_t *body, *out = NULL, *list;
    char sid[33], pending_id[33];
    na_error err;
    (void)state;

    na__alert_store_init(&s);
    na_error_clear(&err);
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_DOWN, "r1", "lhr1"), T0), 1);
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_DOWN, "r2", "lhr1"), T0), 1);
    r1 = live(&s, "down|r1");
    r2 = live(&s, "down|r2");

    /* A silence on r1 until 13:00: the open alert of r1 becomes silenced, r2's does not. */
    body = silence_body("{\"node_id\": \"r1\"}", NULL, "2026-03-08T13:00:00Z");
    assert_int_equal(na__alert_silence_add(&s, body, T0, &out, &ch, &n, &err), 0);
    json_decref(body);
    assert_int_equal(n, 1);
    assert_ptr_equal(ch[0], r1);
    free(ch);
    ch = NULL;
    assert_true(r1->silenced);
    assert_false(r2->silenced);
    snprintf(sid, sizeof(sid), "%s", json_string_value(json_object_get(out, "silence_id")));
    assert_int_equal(strlen(sid), 32);
    assert_string_equal(json_string_value(json_object_get(r1->details, "silenced_by")), sid);
    assert_string_equal(json_string_value(json_object_get(out, "state")), "active");
    assert_string_equal(json_string_value(json_object_get(out, "comment")), "maintenance");
    assert_string_equal(json_string_value(json_object_get(out, "starts_at")),
                        "2026-03-08T12:00:00.000Z");
    assert_int_equal(json_array_size(json_object_get(out, "alert_ids")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "alert_ids"), 0)),
                        r1->id);
    json_decref(out);
    {
        json_t *j = na__alert_json(r1);
        assert_true(json_is_true(json_object_get(j, "silenced")));
        json_decref(j);
    }
    /* A new alert on r1 is recorded, silenced, and still reported as changed. */
    assert_int_equal(feed(&s, &cfg, anomaly_ev("r1", "lhr1", 9), T0 + SEC, &ch), 1);
    assert_true(ch[0]->silenced);
    free(ch);
    ch = NULL;
    n = 0;
    /* A pending silence on the site, from 12:30. */
    body = silence_body("{\"site\": \"lhr1\", \"severity\": \"major\"}", "2026-03-08T12:30:00Z",
                        "2026-03-08T14:00:00Z");
    assert_int_equal(na__alert_silence_add(&s, body, T0 + 2 * SEC, &out, &ch, &n, &err), 0);
    json_decref(body);
    assert_int_equal(n, 0);
    free(ch);
    ch = NULL;
    snprintf(pending_id, sizeof(pending_id), "%s",
             json_string_value(json_object_get(out, "silence_id")));
    assert_string_equal(json_string_value(json_object_get(out, "state")), "pending");
    json_decref(out);
    list = na__alert_silences_json(&s, T0 + 3 * SEC);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    /* It starts: r2 (major, lhr1) becomes silenced at the first tick after 12:30. */
    assert_int_equal(tick(&s, &cfg, T0 + 30 * MIN - 1, NULL), 0);
    assert_false(r2->silenced);
    assert_int_equal(tick(&s, &cfg, T0 + 30 * MIN, &ch), 1);
    assert_ptr_equal(ch[0], r2);
    free(ch);
    assert_true(r2->silenced);
    assert_string_equal(json_string_value(json_object_get(r2->details, "silenced_by")),
                        pending_id);
    /* The first silence ends at 13:00: r1 stays silenced, now by the site one (it is major
     * too); r1's minor anomaly alert is not covered by it and is reported unsilenced. */
    assert_int_equal(tick(&s, &cfg, T0 + 60 * MIN, &ch), 2);
    assert_ptr_equal(ch[0], r1);
    assert_ptr_equal(ch[1], live(&s, "score|r1"));
    free(ch);
    assert_true(r1->silenced);
    assert_string_equal(json_string_value(json_object_get(r1->details, "silenced_by")),
                        pending_id);
    assert_int_equal(s.n_silences, 1);
    assert_false(live(&s, "score|r1")->silenced);
    /* Deleting the silence: everything it held is reported unsilenced. */
    ch = NULL;
    n = 0;
    assert_int_equal(na__alert_silence_delete(&s, pending_id, T0 + 61 * MIN, &out, &ch, &n, &err),
                     0);
    assert_int_equal(n, 2);
    free(ch);
    assert_string_equal(json_string_value(json_object_get(out, "silence_id")), pending_id);
    json_decref(out);
    assert_false(r1->silenced);
    assert_false(r2->silenced);
    assert_null(json_object_get(r1->details, "silenced_by"));
    ch = NULL;
    n = 0;
    assert_int_equal(na__alert_silence_delete(&s, pending_id, T0, &out, &ch, &n, &err),
                     NA_ENOTFOUND);
    free(ch);

    silence_bad(&s, "{\"ends_at\": \"2026-03-08T13:00:00Z\"}", "\"matchers\" is required");
    silence_bad(&s, "{\"matchers\": {}, \"ends_at\": \"2026-03-08T13:00:00Z\"}",
                "needs at least one of rule, node_id, site, severity");
    silence_bad(&s, "{\"matchers\": {\"host\": \"x\"}, \"ends_at\": \"2026-03-08T13:00:00Z\"}",
                "unknown matcher \"host\"");
    silence_bad(&s, "{\"matchers\": {\"rule\": \"x\"}}", "\"ends_at\" is required");
    silence_bad(&s, "{\"matchers\": {\"rule\": \"x\"}, \"ends_at\": \"2026-03-08T11:00:00Z\"}",
                "\"ends_at\" must be in the future");
    silence_bad(&s, "{\"matchers\": {\"rule\": \"x\"}, \"ends_at\": \"tomorrow\"}",
                "\"ends_at\" must be an RFC 3339 time");
    silence_bad(&s, "{\"matchers\": {\"rule\": \"x\"}, \"starts_at\": \"2026-03-08T15:00:00Z\", "
                    "\"ends_at\": \"2026-03-08T14:00:00Z\"}",
                "\"ends_at\" must be after \"starts_at\"");
    silence_bad(&s, "{\"matchers\": {\"severity\": \"loud\"}, \"ends_at\": "
                    "\"2026-03-08T13:00:00Z\"}",
                "\"severity\" must be critical, major, minor, warning or info");
    silence_bad(&s, "{\"matchers\": {\"rule\": 5}, \"ends_at\": \"2026-03-08T13:00:00Z\"}",
                "\"rule\" must be a string");
    silence_bad(&s, "{\"matchers\": {\"rule\": \"x\"}, \"ends_at\": \"2026-03-08T13:00:00Z\", "
                    "\"silence_id\": \"0123456789abcdef0123456789abcdef\"}",
                "unknown member \"silence_id\"");
    assert_int_equal(s.n_silences, 0);
    na__alert_store_free(&s);
    na__config_free(&cfg);
}

/* ---- feedback effects ------------------------------------------------------------------------ */

static void test_feedback_raises_threshold_and_is_reversible(void **state)
{
    na__daemon_config cfg = parse_cfg(cfg_events);
    na__alert_store s;
    na__alert *a;
    json_t *t, *list, *gone = NULL;
    char tid[33];
    na_error err;
    (void)state;

    na__alert_store_init(&s);
    na_error_clear(&err);
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r1", "lhr1", 4.0), T0), 1);
    a = live(&s, "score|r1");
    /* False positive: the anomaly rule has a threshold, so r1's is raised by 1.5. */
    t = na__alert_feedback(&s, cfg.rules, cfg.n_rules, a, true, "backup window", T0 + SEC);
    assert_non_null(t);
    assert_string_equal(json_string_value(json_object_get(t, "kind")), "raised_threshold");
    assert_string_equal(json_string_value(json_object_get(t, "rule")), "score");
    assert_string_equal(json_string_value(json_object_get(t, "node_id")), "r1");
    assert_true(json_real_value(json_object_get(t, "factor")) == 1.5);
    assert_true(json_real_value(json_object_get(t, "threshold")) == 5.25);
    assert_true(json_is_null(json_object_get(t, "expires_at")));
    assert_string_equal(json_string_value(json_object_get(t, "notes")), "backup window");
    assert_string_equal(json_string_value(json_object_get(t, "alert_id")), a->id);
    assert_int_equal(json_integer_value(json_object_get(t, "reports")), 1);
    snprintf(tid, sizeof(tid), "%s", json_string_value(json_object_get(t, "tuning_id")));
    json_decref(t);
    assert_true(na__alert_threshold_for(&s, &cfg.rules[2], "r1", T0) == 5.25);
    assert_true(na__alert_threshold_for(&s, &cfg.rules[2], "r2", T0) == 3.5);
    /* Scores between the old and the new threshold no longer repeat or raise on r1... */
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r1", "lhr1", 5.0), T0 + 2 * SEC), 0);
    assert_int_equal(a->count, 1);
    /* ...but do on other nodes, and a score over the raised threshold does on r1. */
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r2", "lhr1", 4.0), T0 + 2 * SEC), 1);
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r1", "lhr1", 6.0), T0 + 3 * SEC), 1);
    assert_int_equal(a->count, 2);
    list = na__alert_tunings_json(&s, T0 + 4 * SEC);
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "held_back")), 1);
    json_decref(list);
    /* A second report raises it again (factors multiply), same tuning. */
    t = na__alert_feedback(&s, cfg.rules, cfg.n_rules, a, true, NULL, T0 + 5 * SEC);
    assert_string_equal(json_string_value(json_object_get(t, "tuning_id")), tid);
    assert_true(json_real_value(json_object_get(t, "factor")) == 2.25);
    assert_int_equal(json_integer_value(json_object_get(t, "reports")), 2);
    assert_true(json_is_null(json_object_get(t, "notes")));
    json_decref(t);
    assert_int_equal(s.n_tunings, 1);
    /* Reversed by feedback that it was real: the threshold is back. */
    assert_null(na__alert_feedback(&s, cfg.rules, cfg.n_rules, a, false, "was real", T0 + 6 * SEC));
    assert_int_equal(s.n_tunings, 0);
    assert_true(na__alert_threshold_for(&s, &cfg.rules[2], "r1", T0) == 3.5);
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r1", "lhr1", 4.0), T0 + 7 * SEC), 1);
    assert_int_equal(a->count, 3);
    /* Reversed by deleting the tuning. */
    t = na__alert_feedback(&s, cfg.rules, cfg.n_rules, a, true, NULL, T0 + 8 * SEC);
    snprintf(tid, sizeof(tid), "%s", json_string_value(json_object_get(t, "tuning_id")));
    json_decref(t);
    assert_int_equal(na__alert_tuning_delete(&s, "nope", T0, &gone, &err), NA_ENOTFOUND);
    assert_int_equal(na__alert_tuning_delete(&s, tid, T0 + 9 * SEC, &gone, &err), 0);
    assert_string_equal(json_string_value(json_object_get(gone, "tuning_id")), tid);
    json_decref(gone);
    assert_int_equal(s.n_tunings, 0);
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r1", "lhr1", 4.0), T0 + 10 * SEC), 1);
    na__alert_store_free(&s);
    na__config_free(&cfg);
}

static void test_feedback_suppresses_and_expires(void **state)
{
    na__daemon_config cfg = parse_cfg(cfg_events);
    na__alert_store s;
    na__alert *a;
    json_t *t;
    (void)state;

    na__alert_store_init(&s);
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_DOWN, "r1", NULL), T0), 1);
    a = live(&s, "down|r1");
    /* topology_change has no threshold: suppression for suppress_for (24h by default). */
    t = na__alert_feedback(&s, cfg.rules, cfg.n_rules, a, true, "lab box", T0);
    assert_string_equal(json_string_value(json_object_get(t, "kind")), "suppression");
    assert_true(json_is_null(json_object_get(t, "factor")));
    assert_string_equal(json_string_value(json_object_get(t, "expires_at")),
                        "2026-03-09T12:00:00.000Z");
    json_decref(t);
    /* The open alert resolves as usual; while suppressed, node_down of r1 raises nothing. */
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_UP, "r1", NULL), T0 + SEC), 1);
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_DOWN, "r1", NULL), T0 + 2 * SEC), 0);
    assert_null(live(&s, "down|r1"));
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_DOWN, "r2", NULL), T0 + 2 * SEC), 1);
    assert_int_equal(s.tunings[0].held_back, 1);
    /* Expired at the first tick after a day: r1 alerts again. */
    assert_int_equal(tick(&s, &cfg, T0 + 24 * 60 * MIN, NULL), 0);
    assert_int_equal(s.n_tunings, 0);
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_DOWN, "r1", NULL), T0 + 24 * 60 * MIN),
                     1);

    /* A condition rule: articulation_point, suppressed on b by feedback. */
    {
        na_analysis an;
        na_analysis_opts opts = {.kinds = NA_ANALYSIS_STRUCTURE, .threads = 1, .seed = 1};
        na_topology *topo = test_topology_from_edges("a-b,b-c,c-d");
        na__alert **changed = NULL;
        size_t n = 0;
        na__alert *spof_b;
        assert_int_equal(na_analysis_run(topo, &opts, &an, NULL), 0);
        na_topology_unref(topo);
        assert_int_equal(na__alert_evaluate(&s, cfg.rules, cfg.n_rules, &an, T0, &changed, &n),
                         0);
        free(changed);
        assert_int_equal(n, 2);
        spof_b = live(&s, "spof|b");
        t = na__alert_feedback(&s, cfg.rules, cfg.n_rules, spof_b, true, NULL, T0);
        assert_string_equal(json_string_value(json_object_get(t, "kind")), "suppression");
        json_decref(t);
        /* Next analysis: b's condition is held back, so its alert resolves; c's stays. */
        assert_int_equal(na__alert_evaluate(&s, cfg.rules, cfg.n_rules, &an, T0 + SEC, &changed,
                                            &n), 0);
        free(changed);
        assert_int_equal(n, 1);
        assert_int_equal(spof_b->status, NA_ALERT_RESOLVED);
        assert_null(live(&s, "spof|b"));
        assert_non_null(live(&s, "spof|c"));
        /* Confirmed on the resolved alert: the suppression goes, b alerts again. */
        assert_null(na__alert_feedback(&s, cfg.rules, cfg.n_rules, spof_b, false, NULL, T0));
        assert_int_equal(na__alert_evaluate(&s, cfg.rules, cfg.n_rules, &an, T0 + 2 * SEC,
                                            &changed, &n), 0);
        free(changed);
        assert_int_equal(n, 1);
        assert_non_null(live(&s, "spof|b"));
        na_analysis_free(&an);
    }
    na__alert_store_free(&s);
    na__config_free(&cfg);
}

/* ---- groups ---------------------------------------------------------------------------------------- */

static json_t *group_named(json_t *groups, const char *name)
{
    size_t i;
    json_t *g;

    json_array_foreach(groups, i, g)
        if (strcmp(json_string_value(json_object_get(g, "group")), name) == 0)
            return g;
    return NULL;
}

static char *evidence_text(json_t *g)
{
    return json_dumps(json_object_get(g, "evidence"), JSON_COMPACT);
}

static void test_groups_and_multi_modal(void **state)
{
    na__daemon_config cfg = parse_cfg(
        "alert_rules:\n"
        "  - {name: down, type: topology_change, severity: critical}\n"
        "  - {name: score, type: anomaly_score, severity: minor}\n"
        "  - {name: util, type: metric_threshold, metric: utilisation, threshold: 0.9}\n");
    na__alert_store s;
    json_t *groups, *g, *mm;
    char *ev;
    (void)state;

    na__alert_store_init(&s);
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r1", "lhr1", 5), T0), 1);
    /* One kind of evidence: no multi-modal group yet. */
    assert_null(na__alert_multi_modal(&s, live(&s, "score|r1")));
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_DOWN, "r1", "lhr1"), T0 + SEC), 1);
    assert_int_equal(feed_n(&s, &cfg, metric_ev(NULL, "r2", "utilisation", 0.95), T0 + 2 * SEC),
                     1);
    groups = na__alert_groups_json(&s);
    /* node:r1, node:r2, site:iad1 (r2's metric), site:lhr1; sorted by name */
    assert_int_equal(json_array_size(groups), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(groups, 0), "group")),
                        "node:r1");
    g = group_named(groups, "node:r1");
    assert_non_null(g);
    assert_string_equal(json_string_value(json_object_get(g, "by")), "node");
    assert_string_equal(json_string_value(json_object_get(g, "key")), "r1");
    ev = evidence_text(g);
    assert_string_equal(ev, "[\"topology\",\"anomaly\"]");
    free(ev);
    assert_true(json_is_true(json_object_get(g, "multi_modal")));
    assert_string_equal(json_string_value(json_object_get(g, "severity")), "critical");
    assert_int_equal(json_array_size(json_object_get(g, "alert_ids")), 2);
    assert_int_equal(json_integer_value(json_object_get(g, "count")), 2);
    assert_string_equal(json_string_value(json_object_get(g, "updated_at")),
                        "2026-03-08T12:00:01.000Z");
    g = group_named(groups, "node:r2");
    assert_false(json_is_true(json_object_get(g, "multi_modal")));
    ev = evidence_text(g);
    assert_string_equal(ev, "[\"metric\"]");
    free(ev);
    g = group_named(groups, "site:lhr1");
    assert_true(json_is_true(json_object_get(g, "multi_modal")));
    json_decref(groups);

    mm = na__alert_multi_modal(&s, live(&s, "score|r1"));
    assert_non_null(mm);
    assert_string_equal(json_string_value(json_object_get(mm, "group")), "node:r1");
    assert_string_equal(json_string_value(json_object_get(mm, "alert_id")),
                        live(&s, "score|r1")->id);
    json_decref(mm);
    /* r2's metric alert: its node and its site hold one kind each. */
    assert_null(na__alert_multi_modal(&s, live(&s, "util|utilisation|r2")));
    /* r2's site gets an anomaly too: the site group is multi-modal, the node one not. */
    {
        na__event e = anomaly_ev("r3", "iad1", 8);
        assert_int_equal(feed_n(&s, &cfg, e, T0 + 3 * SEC), 1);
        mm = na__alert_multi_modal(&s, live(&s, "util|utilisation|r2"));
        assert_non_null(mm);
        assert_string_equal(json_string_value(json_object_get(mm, "group")), "site:iad1");
        json_decref(mm);
    }
    /* Resolved alerts leave their groups. */
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_ADDED, "r1", "lhr1"), T0 + 4 * SEC), 0);
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_UP, "r1", "lhr1"), T0 + 4 * SEC), 1);
    assert_null(na__alert_multi_modal(&s, live(&s, "score|r1")));
    /* Grouping by node only. */
    {
        na__alerting_config ac = cfg.alerting;
        ac.group_by = NA_GROUP_BY_NODE;
        na__alert_store_configure(&s, &ac);
        groups = na__alert_groups_json(&s);
        assert_null(group_named(groups, "site:iad1"));
        assert_non_null(group_named(groups, "node:r3"));
        json_decref(groups);
        assert_null(na__alert_multi_modal(&s, live(&s, "util|utilisation|r2")));
    }
    na__alert_store_free(&s);
    na__config_free(&cfg);
}

/* ---- events from analyses ------------------------------------------------------------------ */

static void analyze(const char *edges, unsigned kinds, na_analysis *a)
{
    na_analysis_opts opts = {.kinds = kinds, .threads = 1, .seed = 1};
    na_topology *t = test_topology_from_edges(edges);
    na_error err;

    na_error_clear(&err);
    if (na_analysis_run(t, &opts, a, &err) != 0)
        fail_msg("analysis: %s", err.message);
    na_topology_unref(t);
}

static const na__event *find_ev(const na__event *v, size_t n, na__event_type t, const char *node)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].type == t && strcmp(v[i].node_id, node) == 0)
            return &v[i];
    return NULL;
}

static void test_analysis_events(void **state)
{
    const unsigned kinds = NA_ANALYSIS_STRUCTURE | NA_ANALYSIS_ROBUSTNESS;
    na_analysis path, ring, tri, tri_cut;
    na__event *ev = NULL;
    size_t n = 9;
    const na__event *e;
    (void)state;

    analyze("a-b,b-c,c-d,d-e", kinds, &path);
    analyze("a-b,b-c,c-d,d-e,e-a", kinds, &ring);
    /* Nothing from the first analysis. */
    assert_int_equal(na__alert_analysis_events(NULL, &path, 0.1, T0, &ev, &n), 0);
    assert_int_equal(n, 0);
    assert_null(ev);
    /* Path -> ring: b, c, d stop being articulation points; c's importance falls. */
    assert_int_equal(na__alert_analysis_events(&path, &ring, 0.01, T0, &ev, &n), 0);
    for (const char *const *id = (const char *const[]){"b", "c", "d", NULL}; *id; id++) {
        e = find_ev(ev, n, NA_EV_ARTICULATION_POINT_CLEARED, *id);
        if (!e)
            fail_msg("no articulation_point_cleared for %s", *id);
        assert_int_equal(e->at, T0);
        assert_string_equal(e->origin, "analytics");
    }
    assert_null(find_ev(ev, n, NA_EV_ARTICULATION_POINT, "b"));
    assert_null(find_ev(ev, n, NA_EV_ARTICULATION_POINT_CLEARED, "a"));
    e = find_ev(ev, n, NA_EV_IMPORTANCE_JUMP, "c");
    assert_non_null(e);
    assert_true(e->previous > e->value);
    assert_true(fabs(e->previous - e->value) >= 0.01);
    assert_true(e->previous == path.rob.importance[2]);
    free(ev);
    /* Ring -> path: the articulation points appear; a large jump threshold hides the
     * importance changes. */
    assert_int_equal(na__alert_analysis_events(&ring, &path, 10, T0, &ev, &n), 0);
    assert_non_null(find_ev(ev, n, NA_EV_ARTICULATION_POINT, "b"));
    assert_non_null(find_ev(ev, n, NA_EV_ARTICULATION_POINT, "d"));
    assert_null(find_ev(ev, n, NA_EV_ARTICULATION_POINT, "a"));
    assert_int_equal(n, 3);
    free(ev);
    /* The same analysis twice: no events. */
    assert_int_equal(na__alert_analysis_events(&ring, &ring, 0.01, T0, &ev, &n), 0);
    assert_int_equal(n, 0);
    free(ev);

    /* Two triangles joined at c-d; cutting a-b turns {a, b, c} from a circle into a snake.
     * One event, about the community's best-connected member (c). */
    analyze("a-b,b-c,c-a,d-e,e-f,f-d,c-d", NA_ANALYSIS_CLUSTERS, &tri);
    analyze("b-c,c-a,d-e,e-f,f-d,c-d", NA_ANALYSIS_CLUSTERS, &tri_cut);
    assert_int_equal(na__alert_analysis_events(&tri, &tri_cut, 0.1, T0, &ev, &n), 0);
    {
        size_t changes = 0;
        for (size_t i = 0; i < n; i++) {
            if (ev[i].type != NA_EV_CLUSTER_TYPE_CHANGE)
                continue;
            changes++;
            assert_string_equal(ev[i].node_id, "c");
            assert_string_equal(ev[i].text, "circle->snake");
        }
        assert_int_equal(changes, 1);
    }
    free(ev);
    na_analysis_free(&path);
    na_analysis_free(&ring);
    na_analysis_free(&tri);
    na_analysis_free(&tri_cut);
}

/* ---- persistence ------------------------------------------------------------------------------- */

/* The array as an object keyed by each element's `key` (order-free comparison). */
static json_t *by_id(json_t *arr, const char *key)
{
    json_t *o = json_object(), *x;
    size_t i;

    json_array_foreach(arr, i, x)
        json_object_set(o, json_string_value(json_object_get(x, key)), x);
    json_decref(arr);
    return o;
}

static void test_save_restore_sqlite(void **state)
{
    na__daemon_config cfg = parse_cfg(cfg_events);
    na__alert_store s, back;
    char dir[] = "/tmp/na_alert_mgr_XXXXXX", url[340], path[300];
    na_warehouse *wh = NULL;
    na__alert **ch = NULL;
    size_t n = 0;
    json_t *out = NULL, *body, *a_sil, *b_sil, *a_tun, *b_tun, *past_s, *past_t;
    char *x, *y;
    na_error err;
    na_time_ms now = na_time_now();
    char ends[40];
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/wh.db", dir);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    na_error_clear(&err);
    if (na_wh_open(url, &wh, &err))
        fail_msg("open: %s", err.message);
    na__alert_store_init(&s);
    assert_int_equal(feed_n(&s, &cfg, anomaly_ev("r1", "lhr1", 4), now), 1);
    assert_int_equal(feed_n(&s, &cfg, node_ev(NA_EV_NODE_DOWN, "r2", "lhr1"), now), 1);
    body = silence_body("{\"rule\": \"down\"}", NULL,
                        na_time_format(now + 3600 * SEC, ends, sizeof(ends)));
    assert_int_equal(na__alert_silence_add(&s, body, now, &out, &ch, &n, &err), 0);
    json_decref(body);
    json_decref(out);
    free(ch);
    json_decref(na__alert_feedback(&s, cfg.rules, cfg.n_rules, live(&s, "score|r1"), true, "fp",
                                   now));
    json_decref(na__alert_feedback(&s, cfg.rules, cfg.n_rules, live(&s, "down|r2"), true, NULL,
                                   now));
    assert_int_equal(s.n_tunings, 2);
    if (na__alert_store_save(&s, wh, now, &err))
        fail_msg("save: %s", err.message);

    /* A fresh store (a restart) with r2's alert loaded back from its row. */
    na__alert_store_init(&back);
    {
        na__alert *r2 = live(&s, "down|r2");
        na_wh_value vals[16];
        char *scratch = NULL;
        na_wh_version v = {.row = {.id = r2->id, .values = vals}, .is_current = true};
        /* as the daemon stores it before the silence existed */
        json_t *d = json_copy(r2->details);
        json_object_del(d, "silenced_by");
        json_decref(r2->details);
        r2->details = d;
        r2->silenced = false;
        assert_int_equal(na__alert_row(r2, vals, &scratch), 0);
        assert_int_equal(na__alert_store_load_row(&back, &v), 0);
        free(scratch);
        assert_int_equal(back.items[0]->event_type, NA_EV_NODE_DOWN);
        assert_string_equal(back.items[0]->evidence, "topology");
        assert_false(back.items[0]->silenced);
    }
    if (na__alert_store_restore(&back, wh, &err))
        fail_msg("restore: %s", err.message);
    assert_true(back.items[0]->silenced);
    a_sil = na__alert_silences_json(&s, now);
    b_sil = na__alert_silences_json(&back, now);
    json_object_del(json_array_get(a_sil, 0), "alert_ids");
    json_object_del(json_array_get(b_sil, 0), "alert_ids");
    x = json_dumps(a_sil, JSON_SORT_KEYS);
    y = json_dumps(b_sil, JSON_SORT_KEYS);
    assert_string_equal(x, y);
    free(x);
    free(y);
    a_tun = by_id(na__alert_tunings_json(&s, now), "tuning_id");
    b_tun = by_id(na__alert_tunings_json(&back, now), "tuning_id");
    x = json_dumps(a_tun, JSON_SORT_KEYS);
    y = json_dumps(b_tun, JSON_SORT_KEYS);
    assert_string_equal(x, y);
    free(x);
    free(y);
    assert_int_equal(json_object_size(b_tun), 2);
    /* The restored raised threshold works. */
    assert_true(na__alert_threshold_for(&back, &cfg.rules[2], "r1", now) == 5.25);

    /* Remove the silence and one tuning, save later: the rows end, the past still shows them. */
    ch = NULL;
    n = 0;
    assert_int_equal(na__alert_silence_delete(&s, json_string_value(json_object_get(
                                                      json_array_get(a_sil, 0), "silence_id")),
                                              now + SEC, &out, &ch, &n, &err), 0);
    json_decref(out);
    free(ch);
    assert_int_equal(na__alert_tuning_delete(&s, s.tunings[0].id, now + SEC, &out, &err), 0);
    json_decref(out);
    if (na__alert_store_save(&s, wh, now + 2 * SEC, &err))
        fail_msg("save 2: %s", err.message);
    na__alert_store_free(&back);
    na__alert_store_init(&back);
    assert_int_equal(na__alert_store_restore(&back, wh, &err), 0);
    assert_int_equal(back.n_silences, 0);
    assert_int_equal(back.n_tunings, 1);
    assert_int_equal(na__alert_silences_tunings_at(wh, now + SEC, &past_s, &past_t, &err), 0);
    assert_int_equal(json_array_size(past_s), 1);
    assert_int_equal(json_array_size(past_t), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(past_s, 0), "state")),
                        "active");
    json_decref(past_s);
    json_decref(past_t);
    assert_int_equal(na__alert_silences_tunings_at(wh, now + 3 * SEC, &past_s, &past_t, &err), 0);
    assert_int_equal(json_array_size(past_s), 0);
    assert_int_equal(json_array_size(past_t), 1);
    json_decref(past_s);
    json_decref(past_t);
    /* Saving the same set again changes nothing; branding rows are left alone. */
    if (na__alert_store_save(&s, wh, now + 4 * SEC, &err))
        fail_msg("save 3: %s", err.message);
    {
        int64_t total = 0, current = 0;
        assert_int_equal(na_wh_count(wh, NA_WH_CONFIG, &total, &current, &err), 0);
        assert_int_equal(total, 3);   /* silence, two tunings */
        assert_int_equal(current, 1); /* the remaining tuning */
    }

    json_decref(a_sil);
    json_decref(b_sil);
    json_decref(a_tun);
    json_decref(b_tun);
    na__alert_store_free(&back);
    na__alert_store_free(&s);
    na_wh_close(wh);
    {
        static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
        for (size_t i = 0; i < 4; i++) {
            char f[320];
            snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
            unlink(f);
        }
        rmdir(dir);
    }
    na__config_free(&cfg);
}

/* History stays bounded, and trimming never frees an alert the caller's list holds. */
static void test_history_bound(void **state)
{
    na__daemon_config cfg = parse_cfg(cfg_events);
    na__alert_store s;
    na__alert **list = NULL;
    size_t n = 0;
    char node[16];
    (void)state;

    na__alert_store_init(&s);
    cfg.alerting.max_history = 3;
    na__alert_store_configure(&s, &cfg.alerting);
    for (int i = 0; i < 10; i++) {
        na__event e;
        snprintf(node, sizeof(node), "r%d", i);
        e = node_ev(NA_EV_NODE_DOWN, node, NULL);
        assert_int_equal(na__alert_on_event(&s, cfg.rules, cfg.n_rules, &e, T0, &list, &n), 0);
        e = node_ev(NA_EV_NODE_UP, node, NULL);
        assert_int_equal(na__alert_on_event(&s, cfg.rules, cfg.n_rules, &e, T0, &list, &n), 0);
    }
    /* All ten were resolved within one list: none may be freed yet. */
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(list[i]->status, NA_ALERT_RESOLVED);
    free(list);
    list = NULL;
    n = 0;
    assert_int_equal(tick(&s, &cfg, T0 + SEC, NULL), 0);
    assert_int_equal(s.count, 3);
    assert_int_equal(count_live(&s), 0);
    na__alert_store_free(&s);
    na__config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_event_rules),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_dedup_counts_repeats),
        cmocka_unit_test(test_clearing_events_resolve),
        cmocka_unit_test(test_quiet_resolve_through_tick),
        cmocka_unit_test(test_metric_held_for_a_duration),
        cmocka_unit_test(test_silences),
        cmocka_unit_test(test_feedback_raises_threshold_and_is_reversible),
        cmocka_unit_test(test_feedback_suppresses_and_expires),
        cmocka_unit_test(test_groups_and_multi_modal),
        cmocka_unit_test(test_analysis_events),
        cmocka_unit_test(test_save_restore_sqlite),
        cmocka_unit_test(test_history_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
