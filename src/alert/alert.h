/*
 * alert/alert.h (internal): alerts raised by rules on the analysed topology, their lifecycle
 * (active -> acknowledged -> resolved) and their store.
 *
 * A rule fires per subject (a node or a link); the fingerprint "rule|subject" identifies the
 * condition, so re-evaluating an unchanged topology raises nothing new. While the condition
 * holds the alert stays active or acknowledged; when it clears the alert resolves itself; if it
 * comes back later a new alert is opened (a resolved alert is history).
 *
 * The store is not thread-safe: the daemon's engine thread owns it and readers take the
 * daemon's state lock.
 */
#ifndef NA_ALERT_H
#define NA_ALERT_H

#include <jansson.h>
#include <stdbool.h>

#include "alert/event.h"
#include "daemon/config.h"
#include "netassure/report.h"
#include "netassure/warehouse.h"

typedef enum na__alert_status {
    NA_ALERT_ACTIVE = 0,
    NA_ALERT_ACKNOWLEDGED,
    NA_ALERT_RESOLVED
} na__alert_status;

const char *na__alert_status_name(na__alert_status s);
int na__alert_status_parse(const char *s, na__alert_status *out);

typedef struct na__alert {
    char id[40];              /* 32 hex characters */
    char *rule;
    char *fingerprint;
    char *node_id;            /* NULL for link alerts without a single node */
    char *site;
    char severity[12];
    na__alert_status status;
    char *message;
    na_time_ms created_at, updated_at;
    int64_t count;            /* times the condition was raised while this alert lived: 1 for a
                                 condition rule (it holds or it does not); event triggers of
                                 the alert manager count repeats */
    char *acked_by;
    json_t *details;          /* object */
    bool seen;                /* scratch for evaluation */
} na__alert;

typedef struct na__alert_store {
    na__alert **items;        /* newest last */
    size_t count, cap;
    size_t max_resolved;      /* resolved alerts kept in memory (older ones stay in the warehouse) */
} na__alert_store;

void na__alert_store_init(na__alert_store *s);
void na__alert_store_free(na__alert_store *s);
na__alert *na__alert_find(const na__alert_store *s, const char *id);

/*
 * Evaluates every rule on one analysis; raises, bumps and resolves alerts at time `now`.
 * Appends the alerts that changed to *changed (array of pointers into the store, caller frees
 * the array only). Returns 0 or NA_ENOMEM.
 */
int na__alert_evaluate(na__alert_store *s, const na__rule_config *rules, size_t n_rules,
                       const na_analysis *a, na_time_ms now, na__alert ***changed,
                       size_t *n_changed);

/* Acknowledges (by may be NULL). NA_EINVAL if resolved. */
int na__alert_ack(na__alert *a, const char *by, na_time_ms now, na_error *err);

/* The API object (docs/openapi.json "Alert"). */
json_t *na__alert_json(const na__alert *a);

/* The warehouse row (NA_WH_ALERTS). `values` must hold na_wh_table_columns(NA_WH_ALERTS)
 * entries; strings point into `a` and `*scratch` (free it after the write). */
int na__alert_row(const na__alert *a, na_wh_value *values, char **scratch);
/* An API object from a warehouse row (reads as of a past time). */
json_t *na__alert_json_from_row(const na_wh_version *v);
/* The status text of a warehouse row (NULL when absent). */
const char *na__alert_row_status(const na_wh_version *v);
/* Loads a row back into the store (daemon restart). */
int na__alert_store_load_row(na__alert_store *s, const na_wh_version *v);

/* An RFC 3339 UTC string with milliseconds, as the API writes every time. */
json_t *na__time_json(na_time_ms t);

/* 32 random hex characters (for alert, anomaly and feedback ids). */
void na__random_id(char out[33]);

/* ---- the alert manager (issue 4; docs/alerts.md) --------------------------------------------
 * Event rules (anomaly_score, topology_change, metric_threshold, custom) react to events;
 * the condition rules above keep working on each analysis. The store also holds silences,
 * feedback effects ("tunings") and the groups (by node and by site).
 * All of it is owned by the engine thread; readers take the daemon's state lock.
 */

/*
 * Feeds one event: event rules that match raise an alert or repeat it (same fingerprint while
 * it lives: count + 1, updated_at); a clearing event resolves what it clears (node_up resolves
 * node_down of that node, link_up link_down, node_added node_removed, ...). Silences and
 * feedback effects apply: a silenced alert is still recorded (details "silenced_by") but the
 * function reports it in *changed with a->silenced set, so publishers can skip it. Appends
 * every alert that changed to *changed (array of pointers into the store, caller frees the
 * array only; may already hold entries: it is realloc'd). Returns 0 or NA_ENOMEM.
 */
int na__alert_on_event(na__alert_store *s, const na__rule_config *rules, size_t n_rules,
                       const na__event *ev, na_time_ms now, na__alert ***changed,
                       size_t *n_changed);

/*
 * Time passing: metric conditions held long enough raise, event alerts quiet for the rule's
 * resolve_after resolve, expired silences and tunings end. Call every second or so.
 */
int na__alert_tick(na__alert_store *s, const na__rule_config *rules, size_t n_rules,
                   na_time_ms now, na__alert ***changed, size_t *n_changed);

/*
 * Events from two consecutive analyses (prev may be NULL: nothing is derived from the first):
 * articulation points that appear / clear, importance changes of at least `importance_jump`
 * (absolute), cluster type changes (by the node's cluster). *out is malloc'd (strings point
 * into the analyses, which must outlive the events); *n set. 0 or NA_ENOMEM.
 */
int na__alert_analysis_events(const na_analysis *prev, const na_analysis *cur,
                              double importance_jump, na_time_ms at, na__event **out,
                              size_t *n);

/*
 * Operator feedback on an alert (is_false_positive): a false positive adds a feedback effect
 * for (alert's rule, alert's node): a raised threshold for rules that have one, else a
 * suppression for the configured time (docs/alerts.md); feedback that is not a false
 * positive removes the effects of that (rule, node). Returns the effect as its API object
 * (new reference) or NULL when none was added.
 */
json_t *na__alert_feedback(na__alert_store *s, const na__rule_config *rules, size_t n_rules,
                           const na__alert *a, bool is_false_positive, const char *notes,
                           na_time_ms now);

/* The alert's multi-modal group (several kinds of evidence on its node or site) as the
 * alerts.multi_modal message object, or NULL when its group is not multi-modal. */
json_t *na__alert_multi_modal(const na__alert_store *s, const na__alert *a);

/* Silences, tunings and groups for the API (new references). */
json_t *na__alert_silences_json(const na__alert_store *s, na_time_ms now);
json_t *na__alert_tunings_json(const na__alert_store *s, na_time_ms now);
json_t *na__alert_groups_json(const na__alert_store *s);

/* Silences and tunings survive restarts as rows of the config table ("silence/<id>",
 * "tuning/<id>"): save writes the current set as a partial observation and closes removed
 * ones; restore reads them back at start-up. */
int na__alert_store_save(const na__alert_store *s, na_warehouse *wh, na_time_ms now,
                         na_error *err);
int na__alert_store_restore(na__alert_store *s, na_warehouse *wh, na_error *err);

#endif
