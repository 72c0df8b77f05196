/*
 * manager.c: the alert manager (docs/alerts.md): event rules (anomaly_score, topology_change,
 * metric_threshold, custom), dedup by fingerprint with a repeat count, clearing events and the
 * quiet-time resolve, metric conditions held for a duration, silences, feedback effects
 * ("tunings"), groups by node and site, and their persistence in the config table.
 *
 * Everything here runs on the engine thread (the store's owner); API readers take the
 * daemon's state lock. Strings of events are borrowed only for the duration of a call.
 */
#include "alert/alert.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SILENCES 1000
#define MAX_TUNINGS 10000
#define MAX_HOLDS 100000
#define MAX_MATCHER 200
#define MAX_COMMENT 1000

/* A metric_threshold condition that holds now (value beyond the threshold), raised or not. */
struct na__metric_hold {
    char *fingerprint;        /* "rule|metric|subject": the key */
    char *rule, *metric, *subject, *node_id, *site;
    double value;             /* the last sample */
    na_time_ms since;         /* when the condition began to hold */
    json_t *event;            /* the last sample's event object */
    size_t pos;               /* index in s->holds */
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Both NULL or equal. */
static bool same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* ---- freeing ------------------------------------------------------------------------------- */

static void silence_clear(na__silence *x)
{
    free(x->rule);
    free(x->node_id);
    free(x->site);
    free(x->severity);
    free(x->comment);
    free(x->created_by);
    memset(x, 0, sizeof(*x));
}

static void tuning_clear(na__tuning *t)
{
    free(t->rule);
    free(t->node_id);
    free(t->alert_id);
    free(t->notes);
    memset(t, 0, sizeof(*t));
}

static void hold_free(struct na__metric_hold *h)
{
    if (!h)
        return;
    free(h->fingerprint);
    free(h->rule);
    free(h->metric);
    free(h->subject);
    free(h->node_id);
    free(h->site);
    json_decref(h->event);
    free(h);
}

void na__alert_manager_free(na__alert_store *s)
{
    for (size_t i = 0; i < s->n_silences; i++)
        silence_clear(&s->silences[i]);
    free(s->silences);
    s->silences = NULL;
    s->n_silences = s->cap_silences = 0;
    for (size_t i = 0; i < s->n_tunings; i++)
        tuning_clear(&s->tunings[i]);
    free(s->tunings);
    s->tunings = NULL;
    s->n_tunings = s->cap_tunings = 0;
    for (size_t i = 0; i < s->n_holds; i++)
        hold_free(s->holds[i]);
    free(s->holds);
    s->holds = NULL;
    s->n_holds = s->cap_holds = 0;
    na__idmap_free(&s->hold_index);
}

/* Trims the history, but never an alert the caller's change list still points to. */
static void trim_keeping(na__alert_store *s, na__alert **keep, size_t n_keep)
{
    size_t resolved = 0, drop, w = 0;

    if (n_keep == 0) {
        na__alert_store_trim(s);
        return;
    }
    for (size_t i = 0; i < s->count; i++)
        resolved += s->items[i]->status == NA_ALERT_RESOLVED;
    if (resolved <= s->max_resolved)
        return;
    drop = resolved - s->max_resolved;
    for (size_t i = 0; i < s->count; i++) {
        na__alert *a = s->items[i];
        bool kept = false;
        for (size_t k = 0; drop && a->status == NA_ALERT_RESOLVED && k < n_keep && !kept; k++)
            kept = keep[k] == a;
        if (drop && a->status == NA_ALERT_RESOLVED && !kept) {
            if (na__alert_find_live(s, a->fingerprint) == a)
                na__idmap_del(&s->live, a->fingerprint);
            na__alert_free(a);
            drop--;
            continue;
        }
        s->items[w++] = a;
    }
    s->count = w;
}

/* ---- tunings (feedback effects) ------------------------------------------------------------ */

static bool tuning_in_force(const na__tuning *t, na_time_ms now)
{
    return t->expires_at == 0 || now < t->expires_at;
}

static na__tuning *find_tuning(const na__alert_store *s, const char *rule, const char *node_id,
                               na_time_ms now)
{
    for (size_t i = 0; i < s->n_tunings; i++) {
        na__tuning *t = &s->tunings[i];
        if (strcmp(t->rule, rule) == 0 && same(t->node_id, node_id) && tuning_in_force(t, now))
            return t;
    }
    return NULL;
}

na__tuning *na__alert_suppression(const na__alert_store *s, const char *rule,
                                  const char *node_id, na_time_ms now)
{
    na__tuning *t = find_tuning(s, rule, node_id, now);

    return t && t->kind == NA_TUNING_SUPPRESSION ? t : NULL;
}

void na__alert_tuning_held_back(na__alert_store *s, const char *rule, const char *node_id,
                                na_time_ms now)
{
    na__tuning *t = find_tuning(s, rule, node_id, now);

    if (t)
        t->held_back++;
}

/* Rules whose threshold feedback can raise; the others are suppressed instead. */
static bool has_threshold(const na__rule_config *r)
{
    return (r->type == NA_RULE_ANOMALY_SCORE || r->type == NA_RULE_METRIC_THRESHOLD ||
            r->type == NA_RULE_IMPORTANCE || r->type == NA_RULE_REDUNDANCY) &&
           r->threshold != 0;
}

/* +1 when a larger value fires the rule (>=, >), -1 when a smaller one does (<=, <). */
static int direction(const na__rule_config *r)
{
    if (r->type == NA_RULE_REDUNDANCY)
        return -1;
    if (r->type == NA_RULE_METRIC_THRESHOLD && (r->op == NA_OP_LT || r->op == NA_OP_LE))
        return -1;
    return 1;
}

/* A threshold moved by `factor` towards "harder to fire": t + |t|(f-1) or t - |t|(f-1). */
static double raised(const na__rule_config *r, double factor)
{
    return r->threshold + direction(r) * fabs(r->threshold) * (factor - 1.0);
}

double na__alert_threshold_for(const na__alert_store *s, const na__rule_config *r,
                               const char *node_id, na_time_ms now)
{
    na__tuning *t = s->n_tunings ? find_tuning(s, r->name, node_id, now) : NULL;

    if (!t || t->kind != NA_TUNING_RAISED_THRESHOLD || !has_threshold(r))
        return r->threshold;
    return raised(r, t->factor);
}

static const char *tuning_kind_name(na__tuning_kind k)
{
    return k == NA_TUNING_SUPPRESSION ? "suppression" : "raised_threshold";
}

/* The API object of a tuning (its threshold: the effective one, NaN when none). */
static json_t *tuning_json(const na__tuning *t)
{
    return json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I}",
                     "tuning_id", t->id, "rule", t->rule, "node_id", na_json_str(t->node_id),
                     "kind", tuning_kind_name(t->kind), "factor",
                     t->kind == NA_TUNING_RAISED_THRESHOLD ? json_real(t->factor) : json_null(),
                     "threshold",
                     t->kind == NA_TUNING_RAISED_THRESHOLD ? na_json_real(t->threshold)
                                                           : json_null(),
                     "created_at", na__time_json(t->created_at), "updated_at",
                     na__time_json(t->updated_at), "expires_at",
                     t->expires_at ? na__time_json(t->expires_at) : json_null(), "alert_id",
                     na_json_str(t->alert_id), "notes", na_json_str(t->notes), "reports",
                     (json_int_t)t->reports, "held_back", (json_int_t)t->held_back);
}

json_t *na__alert_tunings_json(const na__alert_store *s, na_time_ms now)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < s->n_tunings; i++) {
        const na__tuning *t = &s->tunings[i];
        if (!tuning_in_force(t, now))
            continue;
        if (json_array_append_new(arr, tuning_json(t))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static void tuning_remove_at(na__alert_store *s, size_t i)
{
    tuning_clear(&s->tunings[i]);
    memmove(&s->tunings[i], &s->tunings[i + 1], (s->n_tunings - i - 1) * sizeof(*s->tunings));
    s->n_tunings--;
}

/* Every tuning of (rule, node): undone. */
static void tunings_remove(na__alert_store *s, const char *rule, const char *node_id)
{
    for (size_t i = s->n_tunings; i-- > 0;)
        if (strcmp(s->tunings[i].rule, rule) == 0 && same(s->tunings[i].node_id, node_id))
            tuning_remove_at(s, i);
}

static na__tuning *tuning_add(na__alert_store *s)
{
    if (s->n_tunings == MAX_TUNINGS)
        return NULL;
    if (s->n_tunings == s->cap_tunings) {
        size_t cap = s->cap_tunings ? 2 * s->cap_tunings : 16;
        na__tuning *t = realloc(s->tunings, cap * sizeof(*t));
        if (!t)
            return NULL;
        s->tunings = t;
        s->cap_tunings = cap;
    }
    memset(&s->tunings[s->n_tunings], 0, sizeof(*s->tunings));
    return &s->tunings[s->n_tunings++];
}

json_t *na__alert_feedback(na__alert_store *s, const na__rule_config *rules, size_t n_rules,
                           const na__alert *a, bool is_false_positive, const char *notes,
                           na_time_ms now)
{
    const na__rule_config *r = na__rule_find(rules, n_rules, a->rule);
    double factor = r ? r->raise_factor : 1.5;
    int64_t suppress_for = r ? r->suppress_for_ms : 86400000;
    na__tuning *t;
    char *nn, *aid;

    if (!is_false_positive) {
        /* Confirmed: whatever earlier false positives did to (rule, node) is undone. */
        tunings_remove(s, a->rule, a->node_id);
        return NULL;
    }
    nn = dup_or_null(notes);
    aid = strdup(a->id);
    if ((notes && !nn) || !aid) {
        free(nn);
        free(aid);
        return NULL;
    }
    t = find_tuning(s, a->rule, a->node_id, now);
    if (!t) {
        /* An expired one of the same (rule, node) gives way to the new one. */
        tunings_remove(s, a->rule, a->node_id);
        t = tuning_add(s);
        if (!t) {
            free(nn);
            free(aid);
            return NULL;
        }
        na__random_id(t->id);
        t->rule = strdup(a->rule);
        t->node_id = dup_or_null(a->node_id);
        if (!t->rule || (a->node_id && !t->node_id)) {
            s->n_tunings--;
            tuning_clear(t);
            free(nn);
            free(aid);
            return NULL;
        }
        t->created_at = now;
        t->kind = r && has_threshold(r) ? NA_TUNING_RAISED_THRESHOLD : NA_TUNING_SUPPRESSION;
        t->factor = 1.0;
    }
    if (t->kind == NA_TUNING_RAISED_THRESHOLD) {
        /* Each report raises it again: factors multiply. */
        t->factor *= factor;
        t->threshold = r ? raised(r, t->factor) : NAN;
        t->expires_at = 0;
    } else {
        t->threshold = NAN;
        t->expires_at = suppress_for > 0 ? now + suppress_for : 0;
    }
    t->updated_at = now;
    t->reports++;
    free(t->notes);
    t->notes = nn;
    free(t->alert_id);
    t->alert_id = aid;
    return tuning_json(t);
}

int na__alert_tuning_delete(na__alert_store *s, const char *id, na_time_ms now, json_t **out,
                            na_error *err)
{
    (void)now;
    *out = NULL;
    for (size_t i = 0; i < s->n_tunings; i++) {
        if (strcmp(s->tunings[i].id, id) != 0)
            continue;
        *out = tuning_json(&s->tunings[i]);
        if (!*out)
            return na_error_set(err, NA_ENOMEM, "out of memory");
        tuning_remove_at(s, i);
        return NA_OK;
    }
    return na_error_set(err, NA_ENOTFOUND, "no tuning %s", id);
}

/* ---- silences ------------------------------------------------------------------------------- */

static bool silence_in_force(const na__silence *x, na_time_ms now)
{
    return x->starts_at <= now && now < x->ends_at;
}

static bool silence_matches(const na__silence *x, const na__alert *a, na_time_ms now)
{
    return silence_in_force(x, now) && (!x->rule || strcmp(x->rule, a->rule) == 0) &&
           (!x->node_id || (a->node_id && strcmp(x->node_id, a->node_id) == 0)) &&
           (!x->site || (a->site && strcmp(x->site, a->site) == 0)) &&
           (!x->severity || strcmp(x->severity, a->severity) == 0);
}

/* Replaces the alert's details by a copy with `key` set (v, stolen) or removed (v NULL): the
 * old object may be shared with JSON already handed to publishers. */
static int details_set(na__alert *a, const char *key, json_t *v)
{
    json_t *d = json_copy(a->details);

    if (!d) {
        json_decref(v);
        return NA_ENOMEM;
    }
    if (v)
        json_object_set_new(d, key, v);
    else
        json_object_del(d, key);
    json_decref(a->details);
    a->details = d;
    return NA_OK;
}

bool na__alert_apply_silences(const na__alert_store *s, na__alert *a, na_time_ms now)
{
    const char *by = NULL;
    const char *had = json_string_value(json_object_get(a->details, "silenced_by"));

    if (a->status == NA_ALERT_RESOLVED)
        return false;
    for (size_t i = 0; i < s->n_silences && !by; i++)
        if (silence_matches(&s->silences[i], a, now))
            by = s->silences[i].id;
    if (same(by, had) && a->silenced == (by != NULL))
        return false;
    if (details_set(a, "silenced_by", by ? json_string(by) : NULL))
        return false;
    a->silenced = by != NULL;
    return true;
}

/* Every live alert's silenced state against the silences in force at `now`; alerts that
 * changed go to c (may be NULL). */
static int reconcile_silences(na__alert_store *s, na_time_ms now, na__alert_changes *c)
{
    int rc = NA_OK;

    for (size_t i = 0; i < s->count && rc == NA_OK; i++) {
        na__alert *a = s->items[i];
        if (a->status != NA_ALERT_RESOLVED && na__alert_apply_silences(s, a, now) && c)
            rc = na__alert_note_change(c, a);
    }
    return rc;
}

static const char *silence_state(const na__silence *x, na_time_ms now)
{
    return now < x->starts_at ? "pending" : now < x->ends_at ? "active" : "expired";
}

/* The stored form (config row "silence/<id>"): what was given, nothing derived. */
static json_t *silence_stored_json(const na__silence *x)
{
    json_t *m = json_object(), *o;

    if (!m)
        return NULL;
    if (x->rule)
        json_object_set_new(m, "rule", json_string(x->rule));
    if (x->node_id)
        json_object_set_new(m, "node_id", json_string(x->node_id));
    if (x->site)
        json_object_set_new(m, "site", json_string(x->site));
    if (x->severity)
        json_object_set_new(m, "severity", json_string(x->severity));
    o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "silence_id", x->id, "matchers", m,
                  "starts_at", na__time_json(x->starts_at), "ends_at", na__time_json(x->ends_at),
                  "comment", na_json_str(x->comment), "created_by", na_json_str(x->created_by),
                  "created_at", na__time_json(x->created_at));
    return o;
}

/* The API object: the stored form, its state at `now`, and (live reads) the alerts it
 * silences now. */
static json_t *silence_json(const na__alert_store *s, const na__silence *x, na_time_ms now)
{
    json_t *o = silence_stored_json(x), *ids;

    if (!o)
        return NULL;
    json_object_set_new(o, "state", json_string(silence_state(x, now)));
    if (!s)
        return o;
    ids = json_array();
    for (size_t i = 0; ids && i < s->count; i++) {
        const na__alert *a = s->items[i];
        if (a->status != NA_ALERT_RESOLVED && a->silenced &&
            same(json_string_value(json_object_get(a->details, "silenced_by")), x->id))
            json_array_append_new(ids, json_string(a->id));
    }
    if (!ids || json_object_set_new(o, "alert_ids", ids)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *na__alert_silences_json(const na__alert_store *s, na_time_ms now)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < s->n_silences; i++) {
        if (json_array_append_new(arr, silence_json(s, &s->silences[i], now))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static const char *const severity_names[] = {"critical", "major", "minor", "warning", "info",
                                             NULL};

static int severity_rank(const char *sev)
{
    for (int i = 0; severity_names[i]; i++)
        if (strcmp(sev, severity_names[i]) == 0)
            return i;
    return 5;
}

/* A time member: absent (-> def, when def >= 0) or RFC 3339 text. */
static int time_member(const json_t *o, const char *key, na_time_ms def, na_time_ms *out,
                       const char *what, na_error *err)
{
    const json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v)) {
        if (def < 0)
            return na_error_set(err, NA_EINVAL, "%s: \"%s\" is required (an RFC 3339 time)",
                                what, key);
        *out = def;
        return NA_OK;
    }
    if (!json_is_string(v) ||
        na_time_parse(json_string_value(v), json_string_length(v), out) != NA_OK)
        return na_error_set(err, NA_EINVAL, "%s: \"%s\" must be an RFC 3339 time such as "
                                            "2026-03-08T12:00:00Z", what, key);
    return NA_OK;
}

/* A string member: absent or null -> NULL; else 1..max characters. */
static int str_member(const json_t *o, const char *key, size_t max, char **out, const char *what,
                      na_error *err)
{
    const json_t *v = json_object_get(o, key);

    *out = NULL;
    if (!v || json_is_null(v))
        return NA_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v))
        return na_error_set(err, NA_EINVAL, "%s: \"%s\" must be a string of 1 to %zu characters",
                            what, key, max);
    *out = strdup(json_string_value(v));
    return *out ? NA_OK : na_error_set(err, NA_ENOMEM, "out of memory");
}

/* Fills x from a silence object (the POST body or the stored form). `now` < 0: stored form
 * (no check against the clock). */
static int silence_from_json(const json_t *body, na__silence *x, na_time_ms now, na_error *err)
{
    static const char *const known[] = {"matchers", "starts_at", "ends_at", "comment",
                                        "created_by", "silence_id", "created_at", NULL};
    static const char *const mknown[] = {"rule", "node_id", "site", "severity", NULL};
    const json_t *m = json_object_get(body, "matchers");
    const char *key;
    json_t *v;
    int rc;

    memset(x, 0, sizeof(*x));
    if (!json_is_object(body))
        return na_error_set(err, NA_EINVAL, "silence: the body must be a JSON object");
    json_object_foreach((json_t *)body, key, v) {
        size_t k;
        for (k = 0; known[k]; k++)
            if (strcmp(key, known[k]) == 0)
                break;
        /* ids and creation times are the daemon's to give */
        if (!known[k] || (now >= 0 && k >= 5))
            return na_error_set(err, NA_EINVAL, "silence: unknown member \"%.60s\" (expected "
                                                "matchers, starts_at, ends_at, comment, "
                                                "created_by)", key);
    }
    if (!json_is_object(m))
        return na_error_set(err, NA_EINVAL, "silence: \"matchers\" is required: an object with "
                                            "at least one of rule, node_id, site, severity");
    json_object_foreach((json_t *)m, key, v) {
        size_t k;
        for (k = 0; mknown[k]; k++)
            if (strcmp(key, mknown[k]) == 0)
                break;
        if (!mknown[k])
            return na_error_set(err, NA_EINVAL, "silence: unknown matcher \"%.60s\" (expected "
                                                "rule, node_id, site, severity)", key);
    }
    if ((rc = str_member(m, "rule", MAX_MATCHER, &x->rule, "silence matchers", err)) ||
        (rc = str_member(m, "node_id", MAX_MATCHER, &x->node_id, "silence matchers", err)) ||
        (rc = str_member(m, "site", MAX_MATCHER, &x->site, "silence matchers", err)) ||
        (rc = str_member(m, "severity", MAX_MATCHER, &x->severity, "silence matchers", err)) ||
        (rc = str_member(body, "comment", MAX_COMMENT, &x->comment, "silence", err)) ||
        (rc = str_member(body, "created_by", MAX_MATCHER, &x->created_by, "silence", err)) ||
        (rc = time_member(body, "starts_at", now >= 0 ? now : 0, &x->starts_at, "silence",
                          err)) ||
        (rc = time_member(body, "ends_at", -1, &x->ends_at, "silence", err)))
        goto fail;
    if (!x->rule && !x->node_id && !x->site && !x->severity) {
        rc = na_error_set(err, NA_EINVAL, "silence: \"matchers\" needs at least one of rule, "
                                          "node_id, site, severity");
        goto fail;
    }
    if (x->severity && severity_rank(x->severity) > 4) {
        rc = na_error_set(err, NA_EINVAL, "silence matchers: \"severity\" must be critical, "
                                          "major, minor, warning or info");
        goto fail;
    }
    if (now >= 0 && x->ends_at <= now) {
        rc = na_error_set(err, NA_EINVAL, "silence: \"ends_at\" must be in the future");
        goto fail;
    }
    if (x->ends_at <= x->starts_at) {
        rc = na_error_set(err, NA_EINVAL, "silence: \"ends_at\" must be after \"starts_at\"");
        goto fail;
    }
    if (now < 0) {
        const char *id = json_string_value(json_object_get(body, "silence_id"));
        if (!id || strlen(id) != 32 ||
            time_member(body, "created_at", 0, &x->created_at, "silence", err)) {
            rc = na_error_set(err, NA_EINVAL, "silence: stored form without id");
            goto fail;
        }
        memcpy(x->id, id, 33);
    }
    return NA_OK;
fail:
    silence_clear(x);
    return rc;
}

static int silence_push(na__alert_store *s, na__silence *x, na_error *err)
{
    if (s->n_silences == MAX_SILENCES)
        return na_error_set(err, NA_ETOOBIG, "there are already %d silences: delete some first",
                            MAX_SILENCES);
    if (s->n_silences == s->cap_silences) {
        size_t cap = s->cap_silences ? 2 * s->cap_silences : 8;
        na__silence *v = realloc(s->silences, cap * sizeof(*v));
        if (!v)
            return na_error_set(err, NA_ENOMEM, "out of memory");
        s->silences = v;
        s->cap_silences = cap;
    }
    s->silences[s->n_silences++] = *x;
    memset(x, 0, sizeof(*x));
    return NA_OK;
}

int na__alert_silence_add(na__alert_store *s, const json_t *body, na_time_ms now, json_t **out,
                          na__alert ***changed, size_t *n_changed, na_error *err)
{
    na__alert_changes c = {.list = changed, .n = n_changed, .cap = 0};
    na__silence x;
    int rc;

    *out = NULL;
    if ((rc = silence_from_json(body, &x, now, err)))
        return rc;
    na__random_id(x.id);
    x.created_at = now;
    if ((rc = silence_push(s, &x, err))) {
        silence_clear(&x);
        return rc;
    }
    if ((rc = reconcile_silences(s, now, &c)))
        return na_error_set(err, rc, "out of memory");
    *out = silence_json(s, &s->silences[s->n_silences - 1], now);
    return *out ? NA_OK : na_error_set(err, NA_ENOMEM, "out of memory");
}

int na__alert_silence_delete(na__alert_store *s, const char *id, na_time_ms now, json_t **out,
                             na__alert ***changed, size_t *n_changed, na_error *err)
{
    na__alert_changes c = {.list = changed, .n = n_changed, .cap = 0};

    *out = NULL;
    for (size_t i = 0; i < s->n_silences; i++) {
        if (strcmp(s->silences[i].id, id) != 0)
            continue;
        *out = silence_json(s, &s->silences[i], now);
        if (!*out)
            return na_error_set(err, NA_ENOMEM, "out of memory");
        silence_clear(&s->silences[i]);
        memmove(&s->silences[i], &s->silences[i + 1],
                (s->n_silences - i - 1) * sizeof(*s->silences));
        s->n_silences--;
        return reconcile_silences(s, now, &c) ? na_error_set(err, NA_ENOMEM, "out of memory")
                                              : NA_OK;
    }
    return na_error_set(err, NA_ENOTFOUND, "no silence %s", id);
}

/* ---- events ---------------------------------------------------------------------------------- */

static bool is_link_event(na__event_type t)
{
    return t == NA_EV_LINK_DOWN || t == NA_EV_LINK_UP || t == NA_EV_LINK_ADDED ||
           t == NA_EV_LINK_REMOVED || t == NA_EV_LINK_CHANGED;
}

/* The alert type an event clears (topology_change alerts raised by it), or -1. */
static int clears(na__event_type t)
{
    switch (t) {
    case NA_EV_NODE_UP: return NA_EV_NODE_DOWN;
    case NA_EV_LINK_UP: return NA_EV_LINK_DOWN;
    case NA_EV_NODE_ADDED: return NA_EV_NODE_REMOVED;
    case NA_EV_NODE_REMOVED: return NA_EV_NODE_ADDED;
    case NA_EV_LINK_ADDED: return NA_EV_LINK_REMOVED;
    case NA_EV_LINK_REMOVED: return NA_EV_LINK_ADDED;
    case NA_EV_ARTICULATION_POINT_CLEARED: return NA_EV_ARTICULATION_POINT;
    default: return -1;
    }
}

/* Whether some event clears an alert raised by t (else it resolves after a quiet time). */
static bool has_clearing_event(int t)
{
    return t == NA_EV_NODE_DOWN || t == NA_EV_LINK_DOWN || t == NA_EV_NODE_REMOVED ||
           t == NA_EV_NODE_ADDED || t == NA_EV_LINK_REMOVED || t == NA_EV_LINK_ADDED ||
           t == NA_EV_ARTICULATION_POINT;
}

static const char *event_evidence(na__event_type t)
{
    switch (t) {
    case NA_EV_ANOMALY: return "anomaly";
    case NA_EV_METRIC: return "metric";
    case NA_EV_ARTICULATION_POINT:
    case NA_EV_ARTICULATION_POINT_CLEARED:
    case NA_EV_IMPORTANCE_JUMP:
    case NA_EV_CLUSTER_TYPE_CHANGE: return "analytics";
    default: return "topology";
    }
}

/* What an alert is about: a link for link events, else the node, else something stable. */
static const char *event_subject(const na__event *e)
{
    if (is_link_event(e->type) && e->link_id)
        return e->link_id;
    if (e->node_id)
        return e->node_id;
    if (e->link_id)
        return e->link_id;
    if (e->type == NA_EV_ANOMALY && e->detector)
        return e->detector;
    return "network";
}

static const char *event_node(const na__event *e)
{
    return e->node_id ? e->node_id : e->source;
}

/* A sentence about the event (for the alert's message). */
static void describe(const na__event *e, char *buf, size_t len)
{
    const char *subj = event_subject(e);
    char what[300];

    switch (e->type) {
    case NA_EV_NODE_DOWN: snprintf(what, sizeof(what), "node %s is down", subj); break;
    case NA_EV_NODE_UP: snprintf(what, sizeof(what), "node %s is up", subj); break;
    case NA_EV_NODE_ADDED: snprintf(what, sizeof(what), "node %s was added", subj); break;
    case NA_EV_NODE_REMOVED: snprintf(what, sizeof(what), "node %s was removed", subj); break;
    case NA_EV_NODE_CHANGED: snprintf(what, sizeof(what), "node %s changed", subj); break;
    case NA_EV_LINK_DOWN:
    case NA_EV_LINK_UP:
    case NA_EV_LINK_ADDED:
    case NA_EV_LINK_REMOVED:
    case NA_EV_LINK_CHANGED: {
        static const char *const verb[] = {"is down", "is up", "was added", "was removed",
                                           "changed"};
        const char *v = verb[e->type - NA_EV_LINK_DOWN];
        if (e->source && e->target)
            snprintf(what, sizeof(what), "link %s (%s - %s) %s", subj, e->source, e->target, v);
        else
            snprintf(what, sizeof(what), "link %s %s", subj, v);
        break;
    }
    case NA_EV_ARTICULATION_POINT:
        snprintf(what, sizeof(what), "%s became a single point of failure", subj);
        break;
    case NA_EV_ARTICULATION_POINT_CLEARED:
        snprintf(what, sizeof(what), "%s is no longer a single point of failure", subj);
        break;
    case NA_EV_IMPORTANCE_JUMP:
        snprintf(what, sizeof(what), "importance of %s changed from %.4g to %.4g", subj,
                 e->previous, e->value);
        break;
    case NA_EV_CLUSTER_TYPE_CHANGE:
        snprintf(what, sizeof(what), "the cluster of %s changed type: %s", subj,
                 e->text ? e->text : "?");
        break;
    case NA_EV_ANOMALY:
        snprintf(what, sizeof(what), "anomaly on %s: score %.4g%s%s", subj, e->value,
                 e->detector ? " from " : "", e->detector ? e->detector : "");
        break;
    case NA_EV_METRIC:
        snprintf(what, sizeof(what), "%s of %s is %.4g", e->metric ? e->metric : "metric", subj,
                 e->value);
        break;
    default:
        snprintf(what, sizeof(what), "%s on %s", na__event_type_name(e->type), subj);
    }
    if (e->reason)
        snprintf(buf, len, "%s (%.200s)", what, e->reason);
    else
        snprintf(buf, len, "%s", what);
}

/* An event rule's alert for one fingerprint: raised, or repeated while it lives. */
typedef struct raise_req {
    const na__rule_config *r;
    const char *fingerprint;
    const na__event *ev;
    json_t *event_json;       /* borrowed: the event's object */
    const char *node_id, *site;
    const char *message;
    const char *evidence;
    double threshold;         /* effective; NaN: none */
} raise_req;

static json_t *event_details(const raise_req *q, const na__alert *old)
{
    json_t *d = json_pack("{s:O, s:s}", "event", q->event_json, "evidence", q->evidence);
    const json_t *by = old ? json_object_get(old->details, "silenced_by") : NULL;

    if (!d)
        return NULL;
    if (isfinite(q->threshold))
        json_object_set_new(d, "threshold", json_real(q->threshold));
    if (q->ev->received_ns)
        json_object_set_new(d, "received_ns", json_integer((json_int_t)q->ev->received_ns));
    if (by)
        json_object_set(d, "silenced_by", (json_t *)by);
    return d;
}

static int raise_event(na__alert_store *s, const raise_req *q, na_time_ms now,
                       na__alert_changes *c)
{
    na__alert *a;
    json_t *d;
    char *msg;

    if (s->n_tunings && na__alert_suppression(s, q->r->name, q->node_id, now)) {
        na__alert_tuning_held_back(s, q->r->name, q->node_id, now);
        return NA_OK;
    }
    a = na__alert_find_live(s, q->fingerprint);
    if (a) {
        /* A repeat: one alert per fingerprint while it lives, counted. */
        d = event_details(q, a);
        msg = strdup(q->message);
        if (!d || !msg) {
            json_decref(d);
            free(msg);
            return NA_ENOMEM;
        }
        json_decref(a->details);
        a->details = d;
        free(a->message);
        a->message = msg;
        a->count++;
        a->updated_at = a->last_seen = now;
        a->event_type = (int)q->ev->type;
        return na__alert_note_change(c, a);
    }
    d = event_details(q, NULL);
    if (!d)
        return NA_ENOMEM;
    return na__alert_open(s, q->r, q->fingerprint, q->node_id, q->site, q->message, q->evidence,
                          (int)q->ev->type, d, now, c);
}

static int resolve_live(na__alert_store *s, na__alert *a, na_time_ms now, na__alert_changes *c)
{
    na__alert_resolve(s, a, now);
    return na__alert_note_change(c, a);
}

/* ---- metric conditions ------------------------------------------------------------------- */

static struct na__metric_hold *find_hold(const na__alert_store *s, const char *fp)
{
    size_t v;

    return na__idmap_get(&s->hold_index, fp, &v) ? (struct na__metric_hold *)(uintptr_t)v : NULL;
}

static void hold_remove(na__alert_store *s, struct na__metric_hold *h)
{
    size_t pos = h->pos;

    na__idmap_del(&s->hold_index, h->fingerprint);
    s->holds[pos] = s->holds[--s->n_holds];
    s->holds[pos]->pos = pos;
    hold_free(h);
}

static bool beyond(double v, na__rule_op op, double t)
{
    switch (op) {
    case NA_OP_GT: return v > t;
    case NA_OP_GE: return v >= t;
    case NA_OP_LT: return v < t;
    default: return v <= t;
    }
}

static const char *op_text(na__rule_op op)
{
    static const char *const t[] = {">", ">=", "<", "<="};
    return t[op];
}

static void format_duration(int64_t ms, char *buf, size_t len)
{
    if (ms % 86400000 == 0 && ms)
        snprintf(buf, len, "%" PRId64 "d", ms / 86400000);
    else if (ms % 3600000 == 0 && ms)
        snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
    else if (ms % 60000 == 0 && ms)
        snprintf(buf, len, "%" PRId64 "m", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(buf, len, "%" PRId64 "s", ms / 1000);
    else
        snprintf(buf, len, "%" PRId64 "ms", ms);
}

/* Raises the alert of a hold that has held for the rule's `for`. */
static int raise_hold(na__alert_store *s, const na__rule_config *r,
                      const struct na__metric_hold *h, const na__event *ev, na_time_ms now,
                      na__alert_changes *c)
{
    char msg[600], dur[32];
    double thr = na__alert_threshold_for(s, r, h->node_id, now);
    raise_req q = {.r = r, .fingerprint = h->fingerprint, .ev = ev, .event_json = h->event,
                   .node_id = h->node_id, .site = h->site, .message = msg,
                   .evidence = "metric", .threshold = thr};

    format_duration(r->for_ms, dur, sizeof(dur));
    if (r->for_ms)
        snprintf(msg, sizeof(msg), "%s of %s %s %.4g for %s (now %.4g)", h->metric, h->subject,
                 op_text(r->op), thr, dur, h->value);
    else
        snprintf(msg, sizeof(msg), "%s of %s %s %.4g (now %.4g)", h->metric, h->subject,
                 op_text(r->op), thr, h->value);
    return raise_event(s, &q, now, c);
}

static int metric_sample(na__alert_store *s, const na__rule_config *r, const na__event *ev,
                         json_t *ej, na_time_ms now, na__alert_changes *c)
{
    const char *subject = ev->link_id ? ev->link_id : ev->node_id ? ev->node_id : "network";
    const char *node = event_node(ev);
    char fp[800];
    struct na__metric_hold *h;
    na__alert *a;
    double thr;

    if (!isfinite(ev->value))
        return NA_OK;
    snprintf(fp, sizeof(fp), "%s|%s|%s", r->name, ev->metric, subject);
    thr = na__alert_threshold_for(s, r, node, now);
    h = find_hold(s, fp);
    a = na__alert_find_live(s, fp);
    if (!beyond(ev->value, r->op, thr)) {
        /* Back on the right side of the threshold: the condition clears. */
        if (beyond(ev->value, r->op, r->threshold))
            na__alert_tuning_held_back(s, r->name, node, now);
        if (h)
            hold_remove(s, h);
        if (a) {
            json_t *d = json_copy(a->details);
            if (d) {
                json_object_set_new(d, "cleared_value", json_real(ev->value));
                json_decref(a->details);
                a->details = d;
            }
            return resolve_live(s, a, now, c);
        }
        return NA_OK;
    }
    if (!h) {
        if (s->n_holds == MAX_HOLDS)
            return NA_OK; /* bounded: the newest conditions wait for room */
        if (s->n_holds == s->cap_holds) {
            size_t cap = s->cap_holds ? 2 * s->cap_holds : 64;
            struct na__metric_hold **v = realloc(s->holds, cap * sizeof(*v));
            if (!v)
                return NA_ENOMEM;
            s->holds = v;
            s->cap_holds = cap;
        }
        h = calloc(1, sizeof(*h));
        if (!h)
            return NA_ENOMEM;
        h->fingerprint = strdup(fp);
        h->rule = strdup(r->name);
        h->metric = strdup(ev->metric);
        h->subject = strdup(subject);
        h->node_id = dup_or_null(node);
        h->site = dup_or_null(ev->site);
        h->since = now;
        if (!h->fingerprint || !h->rule || !h->metric || !h->subject || (node && !h->node_id) ||
            (ev->site && !h->site) ||
            na__idmap_put(&s->hold_index, h->fingerprint, (size_t)(uintptr_t)h)) {
            hold_free(h);
            return NA_ENOMEM;
        }
        h->pos = s->n_holds;
        s->holds[s->n_holds++] = h;
    }
    h->value = ev->value;
    json_decref(h->event);
    h->event = json_incref(ej);
    /* Already raised: further samples beyond the threshold change nothing. */
    if (a || now - h->since < r->for_ms)
        return NA_OK;
    return raise_hold(s, r, h, ev, now, c);
}

int na__alert_on_event(na__alert_store *s, const na__rule_config *rules, size_t n_rules,
                       const na__event *ev, na_time_ms now, na__alert ***changed,
                       size_t *n_changed)
{
    na__alert_changes c = {.list = changed, .n = n_changed, .cap = 0};
    json_t *ej = NULL;
    const char *subject = event_subject(ev), *node = event_node(ev);
    char msg[600];
    int rc = NA_OK;

    if (!*changed)
        *n_changed = 0;
    trim_keeping(s, *changed, *n_changed);
    describe(ev, msg, sizeof(msg));
    for (size_t i = 0; i < n_rules && rc == NA_OK; i++) {
        const na__rule_config *r = &rules[i];
        raise_req q = {.r = r, .ev = ev, .node_id = node, .site = ev->site, .message = msg,
                       .evidence = event_evidence(ev->type), .threshold = NAN};
        char fp[600], amsg[700];
        bool fire = false;

        if (!na__rule_is_event(r->type))
            continue;
        snprintf(fp, sizeof(fp), "%s|%s", r->name, subject);
        q.fingerprint = fp;
        switch (r->type) {
        case NA_RULE_ANOMALY_SCORE:
            if (ev->type != NA_EV_ANOMALY || !isfinite(ev->value) || !(ev->value >= r->threshold))
                break;
            q.threshold = na__alert_threshold_for(s, r, node, now);
            if (!(ev->value >= q.threshold)) {
                na__alert_tuning_held_back(s, r->name, node, now);
                break;
            }
            snprintf(amsg, sizeof(amsg), "%s (threshold %.4g)", msg, q.threshold);
            q.message = amsg;
            fire = true;
            break;
        case NA_RULE_TOPOLOGY_CHANGE: {
            int cleared = clears(ev->type);
            if (cleared >= 0) {
                na__alert *a = na__alert_find_live(s, fp);
                if (a && a->event_type == cleared)
                    rc = resolve_live(s, a, now, &c);
            }
            fire = (r->on >> ev->type) & 1u;
            break;
        }
        case NA_RULE_METRIC_THRESHOLD:
            if (ev->type == NA_EV_METRIC && ev->metric && strcmp(ev->metric, r->metric) == 0) {
                if (!ej && !(ej = na__event_json(ev)))
                    rc = NA_ENOMEM;
                else
                    rc = metric_sample(s, r, ev, ej, now, &c);
            }
            break;
        case NA_RULE_CUSTOM: {
            if (r->expr && na__event_matches(r->expr, ev)) {
                snprintf(amsg, sizeof(amsg), "%s: %s", r->name, msg);
                q.message = amsg;
                q.evidence = "custom";
                fire = true;
            }
            break;
        }
        default:
            break;
        }
        if (!fire || rc)
            continue;
        if (!ej && !(ej = na__event_json(ev))) {
            rc = NA_ENOMEM;
            break;
        }
        q.event_json = ej;
        rc = raise_event(s, &q, now, &c);
    }
    json_decref(ej);
    return rc;
}

/* Whether an event alert waits for a clearing event (else it resolves after a quiet time). */
static bool waits_for_clearing(const na__rule_config *r, const na__alert *a)
{
    return r->type == NA_RULE_METRIC_THRESHOLD ||
           (r->type == NA_RULE_TOPOLOGY_CHANGE && has_clearing_event(a->event_type));
}

int na__alert_tick(na__alert_store *s, const na__rule_config *rules, size_t n_rules,
                   na_time_ms now, na__alert ***changed, size_t *n_changed)
{
    na__alert_changes c = {.list = changed, .n = n_changed, .cap = 0};
    bool silences_moved = false;
    int rc = NA_OK;

    if (!*changed)
        *n_changed = 0;
    trim_keeping(s, *changed, *n_changed);
    /* Feedback effects and silences that ended. */
    for (size_t i = s->n_tunings; i-- > 0;)
        if (!tuning_in_force(&s->tunings[i], now))
            tuning_remove_at(s, i);
    for (size_t i = s->n_silences; i-- > 0;) {
        na__silence *x = &s->silences[i];
        if (now >= x->ends_at) {
            silence_clear(x);
            memmove(x, x + 1, (s->n_silences - i - 1) * sizeof(*x));
            s->n_silences--;
            silences_moved = true;
        } else if (x->starts_at <= now && x->starts_at > s->silences_checked_at) {
            silences_moved = true;
        }
    }
    s->silences_checked_at = now;
    if (silences_moved)
        rc = reconcile_silences(s, now, &c);
    /* Metric conditions held long enough. */
    for (size_t i = s->n_holds; i-- > 0 && rc == NA_OK;) {
        struct na__metric_hold *h = s->holds[i];
        const na__rule_config *r = na__rule_find(rules, n_rules, h->rule);
        if (!r || r->type != NA_RULE_METRIC_THRESHOLD) {
            hold_remove(s, h);
            continue;
        }
        if (!na__alert_find_live(s, h->fingerprint) && now - h->since >= r->for_ms) {
            na__event ev = {.type = NA_EV_METRIC, .node_id = h->node_id, .site = h->site,
                            .metric = h->metric, .value = h->value, .previous = NAN, .at = now};
            rc = raise_hold(s, r, h, &ev, now, &c);
        }
    }
    /* Event alerts without a clearing event resolve after a quiet time; event alerts of
     * rules no longer configured resolve. */
    for (size_t i = 0; i < s->count && rc == NA_OK; i++) {
        na__alert *a = s->items[i];
        const na__rule_config *r;
        if (a->status == NA_ALERT_RESOLVED || a->event_type < 0)
            continue;
        r = na__rule_find(rules, n_rules, a->rule);
        if (r && na__rule_is_event(r->type) &&
            (waits_for_clearing(r, a) || now - a->last_seen < r->resolve_after_ms))
            continue;
        rc = resolve_live(s, a, now, &c);
    }
    return rc;
}

/* ---- events from two analyses ---------------------------------------------------------------- */

typedef struct ev_list {
    na__event *v;
    size_t n, cap;
} ev_list;

static na__event *ev_push(ev_list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        na__event *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    memset(&l->v[l->n], 0, sizeof(*l->v));
    l->v[l->n].value = l->v[l->n].previous = NAN;
    return &l->v[l->n++];
}

static const char *const cluster_change_text[4][4] = {
    {"snake->snake", "snake->circle", "snake->hub-and-spoke", "snake->mesh"},
    {"circle->snake", "circle->circle", "circle->hub-and-spoke", "circle->mesh"},
    {"hub-and-spoke->snake", "hub-and-spoke->circle", "hub-and-spoke->hub-and-spoke",
     "hub-and-spoke->mesh"},
    {"mesh->snake", "mesh->circle", "mesh->hub-and-spoke", "mesh->mesh"},
};

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* The clusters that carry a type per node: communities when there are any, else components. */
static na_cluster_kind typed_kind(const na_analysis *a)
{
    for (size_t i = 0; i < a->clusters.count; i++)
        if (a->clusters.items[i].kind == NA_CLUSTER_COMMUNITY)
            return NA_CLUSTER_COMMUNITY;
    return NA_CLUSTER_COMPONENT;
}

static const na_cluster *cluster_of(const na_analysis *a, na_cluster_kind kind, uint32_t v)
{
    for (size_t i = 0; i < a->clusters.count; i++) {
        const na_cluster *c = &a->clusters.items[i];
        if (c->kind == kind && bsearch(&v, c->members, c->n_members, sizeof(v), cmp_u32))
            return c;
    }
    return NULL;
}

static void node_event(na__event *e, na__event_type t, const na_node *nd, uint64_t version,
                       na_time_ms at)
{
    e->type = t;
    e->node_id = nd->id;
    e->site = nd->site;
    e->origin = "analytics";
    e->version = version;
    e->at = at;
}

int na__alert_analysis_events(const na_analysis *prev, const na_analysis *cur,
                              double importance_jump, na_time_ms at, na__event **out,
                              size_t *n)
{
    ev_list l = {0};
    const na_topology *pt, *ct;
    uint64_t version;
    na__event *e;

    *out = NULL;
    *n = 0;
    if (!prev || !cur || !prev->topo || !cur->topo)
        return NA_OK;
    pt = prev->topo;
    ct = cur->topo;
    version = na_topology_version(ct);
    if ((prev->kinds & cur->kinds & NA_ANALYSIS_STRUCTURE) && prev->st.articulation &&
        cur->st.articulation) {
        for (size_t v = 0; v < na_topology_node_count(ct); v++) {
            const na_node *nd = na_topology_node(ct, v);
            size_t pv;
            bool was = na_topology_find_node(pt, nd->id, &pv) == NA_OK && prev->st.articulation[pv];
            if (!cur->st.articulation[v] || was)
                continue;
            if (!(e = ev_push(&l)))
                goto nomem;
            node_event(e, NA_EV_ARTICULATION_POINT, nd, version, at);
        }
        for (size_t pv = 0; pv < na_topology_node_count(pt); pv++) {
            const na_node *nd = na_topology_node(pt, pv);
            size_t v;
            bool is = na_topology_find_node(ct, nd->id, &v) == NA_OK && cur->st.articulation[v];
            if (!prev->st.articulation[pv] || is)
                continue;
            if (!(e = ev_push(&l)))
                goto nomem;
            node_event(e, NA_EV_ARTICULATION_POINT_CLEARED, nd, version, at);
        }
    }
    if ((prev->kinds & cur->kinds & NA_ANALYSIS_ROBUSTNESS) && prev->rob.importance &&
        cur->rob.importance) {
        for (size_t v = 0; v < na_topology_node_count(ct); v++) {
            const na_node *nd = na_topology_node(ct, v);
            size_t pv;
            double x = cur->rob.importance[v], y;
            if (na_topology_find_node(pt, nd->id, &pv) != NA_OK)
                continue;
            y = prev->rob.importance[pv];
            if (!isfinite(x) || !isfinite(y) || !(fabs(x - y) >= importance_jump))
                continue;
            if (!(e = ev_push(&l)))
                goto nomem;
            node_event(e, NA_EV_IMPORTANCE_JUMP, nd, version, at);
            e->value = x;
            e->previous = y;
        }
    }
    if ((prev->kinds & cur->kinds & NA_ANALYSIS_CLUSTERS) && cur->g) {
        /* One event per cluster whose type changed, about its most connected member; its
         * type before is the type of the cluster that member was in. */
        na_cluster_kind kind = typed_kind(cur), pkind = typed_kind(prev);
        for (size_t i = 0; i < cur->clusters.count; i++) {
            const na_cluster *c = &cur->clusters.items[i], *pc;
            uint32_t rep = 0;
            size_t best = 0, pv;
            if (c->kind != kind || c->n_members == 0)
                continue;
            for (size_t k = 0; k < c->n_members; k++) {
                size_t d = na_graph_degree(cur->g, c->members[k]);
                if (k == 0 || d > best) {
                    best = d;
                    rep = c->members[k];
                }
            }
            if (na_topology_find_node(pt, na_topology_node(ct, rep)->id, &pv) != NA_OK ||
                !(pc = cluster_of(prev, pkind, (uint32_t)pv)) || pc->type == c->type ||
                (unsigned)pc->type > 3 || (unsigned)c->type > 3)
                continue;
            if (!(e = ev_push(&l)))
                goto nomem;
            node_event(e, NA_EV_CLUSTER_TYPE_CHANGE, na_topology_node(ct, rep), version, at);
            e->text = cluster_change_text[pc->type][c->type];
        }
    }
    *out = l.v;
    *n = l.n;
    return NA_OK;
nomem:
    free(l.v);
    return NA_ENOMEM;
}

/* ---- groups ---------------------------------------------------------------------------------- */

static const char *const evidence_names[] = {"topology", "anomaly", "metric", "analytics",
                                             "custom"};

static unsigned evidence_bit(const char *ev)
{
    for (unsigned i = 0; i < 5; i++)
        if (strcmp(ev, evidence_names[i]) == 0)
            return 1u << i;
    return 0;
}

static unsigned popcount5(unsigned x)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 5; i++)
        n += (x >> i) & 1u;
    return n;
}

typedef struct group {
    char *key;                /* "node:<id>" or "site:<site>" */
    const char *by;           /* "node" or "site" */
    const char *value;        /* points into an alert */
    json_t *ids;
    unsigned evidence;
    int worst;
    na_time_ms updated_at;
    size_t count;
} group;

static json_t *group_json(const group *g)
{
    json_t *ev = json_array();

    for (unsigned i = 0; ev && i < 5; i++)
        if (g->evidence & (1u << i))
            json_array_append_new(ev, json_string(evidence_names[i]));
    if (!ev)
        return NULL;
    return json_pack("{s:s, s:s, s:s, s:O, s:o, s:s, s:b, s:I, s:o}", "group", g->key, "by",
                     g->by, "key", g->value, "alert_ids", g->ids, "evidence", ev, "severity",
                     g->worst < 5 ? severity_names[g->worst] : "info", "multi_modal",
                     popcount5(g->evidence) > 1, "count", (json_int_t)g->count, "updated_at",
                     na__time_json(g->updated_at));
}

static void group_add(group *g, const na__alert *a)
{
    int rank = severity_rank(a->severity);

    json_array_append_new(g->ids, json_string(a->id));
    g->evidence |= evidence_bit(a->evidence);
    if (rank < g->worst)
        g->worst = rank;
    if (a->updated_at > g->updated_at)
        g->updated_at = a->updated_at;
    g->count++;
}

static int cmp_group(const void *x, const void *y)
{
    return strcmp(((const group *)x)->key, ((const group *)y)->key);
}

json_t *na__alert_groups_json(const na__alert_store *s)
{
    group *gs = NULL;
    size_t n = 0, cap = 0;
    na__idmap index;
    json_t *arr = NULL;
    int rc = NA_OK;

    na__idmap_init(&index);
    for (size_t i = 0; i < s->count && rc == NA_OK; i++) {
        const na__alert *a = s->items[i];
        for (int pass = 0; pass < 2 && rc == NA_OK; pass++) {
            const char *by = pass ? "site" : "node", *val = pass ? a->site : a->node_id;
            unsigned bit = pass ? NA_GROUP_BY_SITE : NA_GROUP_BY_NODE;
            char key[600];
            size_t gi;
            if (a->status == NA_ALERT_RESOLVED || !val || !(s->group_by & bit))
                continue;
            snprintf(key, sizeof(key), "%s:%s", by, val);
            if (!na__idmap_get(&index, key, &gi)) {
                if (n == cap) {
                    size_t nc = cap ? 2 * cap : 32;
                    group *v = realloc(gs, nc * sizeof(*v));
                    if (!v) {
                        rc = NA_ENOMEM;
                        break;
                    }
                    gs = v;
                    cap = nc;
                }
                gi = n;
                memset(&gs[gi], 0, sizeof(gs[gi]));
                gs[gi].key = strdup(key);
                gs[gi].by = by;
                gs[gi].value = val;
                gs[gi].ids = json_array();
                gs[gi].worst = 5;
                n++;
                if (!gs[gi].key || !gs[gi].ids || na__idmap_put(&index, gs[gi].key, gi)) {
                    rc = NA_ENOMEM;
                    break;
                }
            }
            group_add(&gs[gi], a);
        }
    }
    na__idmap_free(&index);
    if (rc == NA_OK) {
        if (n > 1)
            qsort(gs, n, sizeof(*gs), cmp_group);
        arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            if (json_array_append_new(arr, group_json(&gs[i]))) {
                json_decref(arr);
                arr = NULL;
            }
    }
    for (size_t i = 0; i < n; i++) {
        free(gs[i].key);
        json_decref(gs[i].ids);
    }
    free(gs);
    return arr;
}

/* One group (by node or by site) of live alerts; NULL when empty or out of memory. */
static json_t *one_group(const na__alert_store *s, bool by_site, const char *value)
{
    char key[600];
    group g = {.key = key, .by = by_site ? "site" : "node", .value = value, .worst = 5};
    json_t *o = NULL;

    /* One alert is one kind of evidence: a group needs two live alerts to be multi-modal. */
    if (na__alert_live_in_group(s, by_site, value) < 2)
        return NULL;
    snprintf(key, sizeof(key), "%s:%s", g.by, value);
    g.ids = json_array();
    /* Live alerts only: walk the fingerprint index of live alerts rather than the whole
     * history in memory (this runs for every alert change that goes to NATS). */
    for (size_t i = 0; g.ids && i < s->live.cap; i++) {
        const na__idmap_slot *slot = &s->live.slots[i];
        const na__alert *a;
        const char *v;
        if (!slot->key || slot->dead)
            continue;
        a = (const na__alert *)(uintptr_t)slot->value;
        v = by_site ? a->site : a->node_id;
        if (a->status != NA_ALERT_RESOLVED && v && strcmp(v, value) == 0)
            group_add(&g, a);
    }
    if (g.ids && g.count && popcount5(g.evidence) > 1)
        o = group_json(&g);
    json_decref(g.ids);
    return o;
}

json_t *na__alert_multi_modal(const na__alert_store *s, const na__alert *a)
{
    json_t *o = NULL;

    if (a->node_id && (s->group_by & NA_GROUP_BY_NODE))
        o = one_group(s, false, a->node_id);
    if (!o && a->site && (s->group_by & NA_GROUP_BY_SITE))
        o = one_group(s, true, a->site);
    if (o)
        json_object_set_new(o, "alert_id", json_string(a->id));
    return o;
}

/* ---- persistence (config table rows "silence/<id>", "tuning/<id>") ----------------------- */

#define SILENCE_PREFIX "silence/"
#define TUNING_PREFIX "tuning/"

static int tuning_from_json(const json_t *o, na__tuning *t)
{
    const char *id = json_string_value(json_object_get(o, "tuning_id"));
    const char *rule = json_string_value(json_object_get(o, "rule"));
    const char *kind = json_string_value(json_object_get(o, "kind"));
    const json_t *thr = json_object_get(o, "threshold");
    na_time_ms tmp;

    memset(t, 0, sizeof(*t));
    if (!id || strlen(id) != 32 || !rule || !kind)
        return NA_EINVAL;
    memcpy(t->id, id, 33);
    t->kind = strcmp(kind, "suppression") == 0 ? NA_TUNING_SUPPRESSION
                                               : NA_TUNING_RAISED_THRESHOLD;
    t->factor = json_is_number(json_object_get(o, "factor"))
                    ? json_number_value(json_object_get(o, "factor"))
                    : 1.0;
    t->threshold = json_is_number(thr) ? json_number_value(thr) : NAN;
    if (time_member(o, "created_at", 0, &t->created_at, "tuning", NULL) ||
        time_member(o, "updated_at", 0, &t->updated_at, "tuning", NULL) ||
        time_member(o, "expires_at", 0, &tmp, "tuning", NULL))
        return NA_EINVAL;
    t->expires_at = tmp;
    t->reports = json_integer_value(json_object_get(o, "reports"));
    t->held_back = json_integer_value(json_object_get(o, "held_back"));
    t->rule = strdup(rule);
    t->node_id = dup_or_null(json_string_value(json_object_get(o, "node_id")));
    t->alert_id = dup_or_null(json_string_value(json_object_get(o, "alert_id")));
    t->notes = dup_or_null(json_string_value(json_object_get(o, "notes")));
    if (!t->rule) {
        tuning_clear(t);
        return NA_ENOMEM;
    }
    return NA_OK;
}

typedef struct row_ids {
    char **ids;
    size_t n, cap;
    int rc;
} row_ids;

static int collect_ids(const na_wh_version *v, void *ud)
{
    row_ids *r = ud;

    if (strncmp(v->row.id, SILENCE_PREFIX, strlen(SILENCE_PREFIX)) != 0 &&
        strncmp(v->row.id, TUNING_PREFIX, strlen(TUNING_PREFIX)) != 0)
        return 0;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        char **ids = realloc(r->ids, cap * sizeof(*ids));
        if (!ids)
            return r->rc = NA_ENOMEM;
        r->ids = ids;
        r->cap = cap;
    }
    if (!(r->ids[r->n] = strdup(v->row.id)))
        return r->rc = NA_ENOMEM;
    r->n++;
    return 0;
}

int na__alert_store_save(const na__alert_store *s, na_warehouse *wh, na_time_ms now,
                         na_error *err)
{
    size_t n = s->n_silences + s->n_tunings, k = 0;
    na_wh_row *rows = calloc(n + 1, sizeof(*rows));
    na_wh_value *vals = calloc(n + 1, sizeof(*vals));
    char **texts = calloc(n + 1, sizeof(*texts)), **ids = calloc(n + 1, sizeof(*ids));
    row_ids cur = {0};
    na_time_ms last;
    int rc = NA_OK;

    if (!rows || !vals || !texts || !ids) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        bool sil = i < s->n_silences;
        json_t *o = sil ? silence_stored_json(&s->silences[i])
                        : tuning_json(&s->tunings[i - s->n_silences]);
        const char *id = sil ? s->silences[i].id : s->tunings[i - s->n_silences].id;
        size_t len = strlen(id) + 16;
        texts[k] = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(o);
        ids[k] = malloc(len);
        if (!texts[k] || !ids[k]) {
            free(texts[k]);
            free(ids[k]);
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out;
        }
        snprintf(ids[k], len, "%s%s", sil ? SILENCE_PREFIX : TUNING_PREFIX, id);
        vals[k].type = NA_WH_TEXT;
        vals[k].v.s = texts[k];
        rows[k].id = ids[k];
        rows[k].values = &vals[k];
        k++;
    }
    /* The table's observations must not go back in time (the clock may have). */
    if (na_wh_last_observation(wh, NA_WH_CONFIG, &last, NULL) == NA_OK && last > now)
        now = last;
    if ((rc = na_wh_begin(wh, err)))
        goto out;
    rc = na_wh_read_at(wh, NA_WH_CONFIG, NA_TIME_NOW, NULL, collect_ids, &cur, err);
    if (!rc && cur.rc)
        rc = na_error_set(err, cur.rc, "out of memory");
    /* Rows of silences and tunings that are gone end now. */
    for (size_t i = 0; i < cur.n && rc == NA_OK; i++) {
        bool kept = false;
        for (size_t j = 0; j < k && !kept; j++)
            kept = strcmp(cur.ids[i], ids[j]) == 0;
        if (!kept)
            rc = na_wh_close_item(wh, NA_WH_CONFIG, cur.ids[i], now, err);
    }
    if (rc == NA_OK && k)
        rc = na_wh_observe(wh, NA_WH_CONFIG, rows, k, now, NA_WH_PARTIAL, NULL, err);
    if (rc) {
        na_wh_rollback(wh);
        goto out;
    }
    rc = na_wh_commit(wh, err);
out:
    for (size_t i = 0; i < cur.n; i++)
        free(cur.ids[i]);
    free(cur.ids);
    for (size_t i = 0; i < k; i++) {
        free(texts[i]);
        free(ids[i]);
    }
    free(texts);
    free(ids);
    free(rows);
    free(vals);
    return rc;
}

/* Reading config rows back: into a store (restore) or into JSON arrays (?at=). */
typedef struct restore_ctx {
    na__alert_store *s;       /* restore */
    json_t *silences, *tunings; /* ?at= */
    na_time_ms now;
    size_t skipped;
    int rc;
} restore_ctx;

static int restore_cb(const na_wh_version *v, void *ud)
{
    restore_ctx *r = ud;
    bool sil = strncmp(v->row.id, SILENCE_PREFIX, strlen(SILENCE_PREFIX)) == 0;
    bool tun = strncmp(v->row.id, TUNING_PREFIX, strlen(TUNING_PREFIX)) == 0;
    json_t *o;

    if ((!sil && !tun) || v->row.values[0].type != NA_WH_TEXT)
        return 0;
    o = json_loads(v->row.values[0].v.s, 0, NULL);
    if (sil) {
        na__silence x;
        if (!o || silence_from_json(o, &x, -1, NULL) != NA_OK) {
            r->skipped++;
        } else if (x.ends_at <= r->now) {
            silence_clear(&x); /* over: not restored, not listed */
        } else if (r->s) {
            if (silence_push(r->s, &x, NULL)) {
                silence_clear(&x);
                r->skipped++;
            }
        } else {
            if (json_array_append_new(r->silences, silence_json(NULL, &x, r->now)))
                r->rc = NA_ENOMEM;
            silence_clear(&x);
        }
    } else {
        na__tuning t;
        if (!o || tuning_from_json(o, &t) != NA_OK) {
            r->skipped++;
        } else if (!tuning_in_force(&t, r->now)) {
            tuning_clear(&t);
        } else if (r->s) {
            na__tuning *slot = tuning_add(r->s);
            if (!slot) {
                tuning_clear(&t);
                r->skipped++;
            } else {
                *slot = t;
            }
        } else {
            if (json_array_append_new(r->tunings, tuning_json(&t)))
                r->rc = NA_ENOMEM;
            tuning_clear(&t);
        }
    }
    json_decref(o);
    return r->rc;
}

int na__alert_store_restore(na__alert_store *s, na_warehouse *wh, na_error *err)
{
    restore_ctx r = {.s = s, .now = na_time_now()};
    int rc;

    for (size_t i = 0; i < s->n_silences; i++)
        silence_clear(&s->silences[i]);
    s->n_silences = 0;
    for (size_t i = 0; i < s->n_tunings; i++)
        tuning_clear(&s->tunings[i]);
    s->n_tunings = 0;
    rc = na_wh_read_at(wh, NA_WH_CONFIG, NA_TIME_NOW, NULL, restore_cb, &r, err);
    if (rc == NA_OK && r.rc)
        rc = na_error_set(err, r.rc, "out of memory");
    if (rc)
        return rc;
    if (r.skipped)
        na_log(NA_LOG_WARN, "alert manager: %zu stored silences or tunings could not be read",
               r.skipped);
    s->silences_checked_at = r.now;
    return reconcile_silences(s, r.now, NULL);
}

int na__alert_silences_tunings_at(na_warehouse *wh, na_time_ms at, json_t **silences,
                                  json_t **tunings, na_error *err)
{
    restore_ctx r = {.now = at, .silences = json_array(), .tunings = json_array()};
    int rc;

    *silences = *tunings = NULL;
    if (!r.silences || !r.tunings) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto fail;
    }
    rc = na_wh_read_at(wh, NA_WH_CONFIG, at, NULL, restore_cb, &r, err);
    if (rc == NA_OK && r.rc)
        rc = na_error_set(err, r.rc, "out of memory");
    if (rc)
        goto fail;
    *silences = r.silences;
    *tunings = r.tunings;
    return NA_OK;
fail:
    json_decref(r.silences);
    json_decref(r.tunings);
    return rc;
}
