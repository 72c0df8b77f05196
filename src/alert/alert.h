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
#include "core/idmap.h"
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
    bool silenced;            /* a silence matches it (details "silenced_by" names it): it is
                                 recorded and listed, but not to be notified */
    int event_type;           /* event rules: the na__event_type that raised it (last); -1 for
                                 the condition rules */
    na_time_ms last_seen;     /* event rules: last raise or repeat (quiet resolve counts from
                                 here) */
    char evidence[12];        /* "topology", "anomaly", "metric", "analytics", "custom" or "" */
} na__alert;

/* A silence (docs/alerts.md): live alerts matching every given matcher are silenced while
 * starts_at <= now < ends_at. */
typedef struct na__silence {
    char id[33];
    char *rule, *node_id, *site, *severity;   /* matchers; NULL = any (at least one is set) */
    na_time_ms starts_at, ends_at, created_at;
    char *comment, *created_by;
} na__silence;

typedef enum na__tuning_kind {
    NA_TUNING_RAISED_THRESHOLD = 0,
    NA_TUNING_SUPPRESSION
} na__tuning_kind;

/* A feedback effect ("tuning") for one (rule, node): a false positive raised the rule's
 * threshold for the node, or suppresses the rule on the node until expires_at. */
typedef struct na__tuning {
    char id[33];
    char *rule;
    char *node_id;            /* NULL: the rule's alerts that have no node */
    na__tuning_kind kind;
    double factor;            /* raised_threshold: accumulated factor (raise_factor per report) */
    double threshold;         /* raised_threshold: the rule's threshold for the node now (NaN:
                                 none) */
    na_time_ms created_at, updated_at;
    na_time_ms expires_at;    /* 0: until removed */
    char *alert_id;           /* the alert of the last feedback */
    char *notes;              /* that feedback's notes, or NULL */
    int64_t reports;          /* false-positive reports folded into it */
    int64_t held_back;        /* raises it prevented since it was made (not persisted) */
} na__tuning;

struct na__metric_hold;

/* Resolved alerts held beyond max_resolved before the next trim (an eighth, at least 1). */
#define NA__ALERT_TRIM_SLACK(max) ((max) / 8 > 0 ? (max) / 8 : 1)

typedef struct na__alert_store {
    na__alert **items;        /* newest last */
    size_t count, cap;
    size_t max_resolved;      /* resolved alerts kept in memory (older ones stay in the warehouse) */
    size_t trim_at;           /* na__alert_store_trim counts again once count reaches this
                                 (max_resolved + NA__ALERT_TRIM_SLACK: counting is O(alerts)) */
    na__idmap live;           /* fingerprint -> live (not resolved) alert, as a pointer */
    na__idmap live_by_group;  /* "n:<node>" / "s:<site>" -> index into group_live */
    struct na__group_live {
        char *key;            /* owned; entries are never removed (one per node / site seen) */
        size_t live;          /* live alerts of that node / site */
    } *group_live;
    size_t n_group_live, cap_group_live;
    na__silence *silences;    /* oldest first */
    size_t n_silences, cap_silences;
    na_time_ms silences_checked_at; /* the last tick: silences starting after it start now */
    na__tuning *tunings;      /* oldest first */
    size_t n_tunings, cap_tunings;
    struct na__metric_hold **holds; /* metric conditions that hold now, by fingerprint */
    size_t n_holds, cap_holds;
    na__idmap hold_index;
    unsigned group_by;        /* NA_GROUP_BY_* */
} na__alert_store;

void na__alert_store_init(na__alert_store *s);
void na__alert_store_free(na__alert_store *s);
/* Applies the alerting: section (history bound, grouping); call after init. */
void na__alert_store_configure(na__alert_store *s, const na__alerting_config *cfg);
na__alert *na__alert_find(const na__alert_store *s, const char *id);
/* Live alerts of a node (by_site false) or a site; O(1). */
size_t na__alert_live_in_group(const na__alert_store *s, bool by_site, const char *value);

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

/* ---- silences and feedback effects through the API (daemon/alert_cmds.c) ------------------- */

/*
 * Adds a silence from a POST /silences body: {"matchers": {"rule", "node_id", "site",
 * "severity"} (at least one), "ends_at" (RFC 3339, after now), "starts_at" (default now),
 * "comment", "created_by"}. NA_EINVAL with the reason (naming the member) when the body is
 * wrong; NA_ETOOBIG when 1000 silences exist. Live alerts it silences now are appended to
 * *changed (as in na__alert_on_event). *out: the new silence's API object (new reference).
 */
int na__alert_silence_add(na__alert_store *s, const json_t *body, na_time_ms now, json_t **out,
                          na__alert ***changed, size_t *n_changed, na_error *err);
/* Removes a silence (NA_ENOTFOUND); alerts no longer silenced go to *changed; *out: the
 * removed silence's API object. */
int na__alert_silence_delete(na__alert_store *s, const char *id, na_time_ms now, json_t **out,
                             na__alert ***changed, size_t *n_changed, na_error *err);
/* Removes a feedback effect (NA_ENOTFOUND); *out: the removed tuning's API object. */
int na__alert_tuning_delete(na__alert_store *s, const char *id, na_time_ms now, json_t **out,
                            na_error *err);
/* Silences and tunings valid at `at`, from the warehouse's config rows (GET ?at=): JSON
 * arrays like na__alert_silences_json / na__alert_tunings_json (new references). */
int na__alert_silences_tunings_at(na_warehouse *wh, na_time_ms at, json_t **silences,
                                  json_t **tunings, na_error *err);

/* ---- shared by alert.c and manager.c --------------------------------------------------------- */

typedef struct na__alert_changes {
    na__alert ***list;
    size_t *n, cap;
} na__alert_changes;

/* Adds a to the list once (realloc'd; entries already there are kept). 0 or NA_ENOMEM. */
int na__alert_note_change(na__alert_changes *c, na__alert *a);
/* Opens a new live alert of rule r (active, count 1) and takes `details` (NULL: {}); the
 * silences apply and it is noted as changed. On NA_ENOMEM everything is freed. */
int na__alert_open(na__alert_store *s, const na__rule_config *r, const char *fingerprint,
                   const char *node_id, const char *site, const char *message,
                   const char *evidence, int event_type, json_t *details, na_time_ms now,
                   na__alert_changes *c);
void na__alert_free(na__alert *a);
/* Frees the silences, tunings and metric holds of a store (manager.c; store_free calls it). */
void na__alert_manager_free(na__alert_store *s);
/* Appends a new alert (live ones enter the fingerprint index). 0 or NA_ENOMEM. */
int na__alert_store_push(na__alert_store *s, na__alert *a);
/* The live alert with this fingerprint, or NULL. */
na__alert *na__alert_find_live(const na__alert_store *s, const char *fingerprint);
/* Resolves a live alert at `now` (it leaves the fingerprint index). */
void na__alert_resolve(na__alert_store *s, na__alert *a, na_time_ms now);
/* Drops the oldest resolved alerts beyond max_resolved. */
void na__alert_store_trim(na__alert_store *s);
/* Whether a rule type reacts to events (the manager) rather than to analyses. */
bool na__rule_is_event(na__rule_type t);
const na__rule_config *na__rule_find(const na__rule_config *rules, size_t n, const char *name);
/* The threshold of rule r for a node after feedback effects (r->threshold without one). */
double na__alert_threshold_for(const na__alert_store *s, const na__rule_config *r,
                               const char *node_id, na_time_ms now);
/* A suppression of (rule, node) in force at `now`, or NULL. */
na__tuning *na__alert_suppression(const na__alert_store *s, const char *rule,
                                  const char *node_id, na_time_ms now);
/* Counts a raise a tuning held back (visible as "held_back" in GET /tunings). */
void na__alert_tuning_held_back(na__alert_store *s, const char *rule, const char *node_id,
                                na_time_ms now);
/* Sets a->silenced (and details "silenced_by") from the silences in force at `now`; true when
 * it changed. */
bool na__alert_apply_silences(const na__alert_store *s, na__alert *a, na_time_ms now);

#endif
