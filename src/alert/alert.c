/*
 * alert.c: rules evaluated on an analysis, alert lifecycle, JSON and warehouse rows.
 */
#include "alert/alert.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const status_names[] = {"active", "acknowledged", "resolved"};

const char *na__alert_status_name(na__alert_status s)
{
    return (unsigned)s < 3 ? status_names[s] : "active";
}

int na__alert_status_parse(const char *s, na__alert_status *out)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (na__alert_status)i;
            return NA_OK;
        }
    }
    return NA_EINVAL;
}

void na__random_id(char out[33])
{
    unsigned char raw[16];
    static const char hex[] = "0123456789abcdef";
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;

    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)sizeof(raw)) {
        /* No urandom: time and address bits still make ids unique within this process. */
        struct timespec ts;
        static unsigned counter;
        clock_gettime(CLOCK_REALTIME, &ts);
        for (size_t i = 0; i < sizeof(raw); i++)
            raw[i] = (unsigned char)((ts.tv_nsec >> (i % 4 * 8)) ^ (ts.tv_sec >> (i % 8)) ^
                                     (++counter * 131u));
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[32] = '\0';
}

json_t *na__time_json(na_time_ms t)
{
    char buf[40];

    return json_string(na_time_format(t, buf, sizeof(buf)));
}

void na__alert_store_init(na__alert_store *s)
{
    memset(s, 0, sizeof(*s));
    s->max_resolved = 10000;
    s->group_by = NA_GROUP_BY_NODE | NA_GROUP_BY_SITE;
    na__idmap_init(&s->live);
    na__idmap_init(&s->live_by_group);
    na__idmap_init(&s->hold_index);
}

void na__alert_store_configure(na__alert_store *s, const na__alerting_config *cfg)
{
    s->max_resolved = cfg->max_history;
    s->group_by = cfg->group_by;
}

void na__alert_free(na__alert *a)
{
    if (!a)
        return;
    free(a->rule);
    free(a->fingerprint);
    free(a->node_id);
    free(a->site);
    free(a->message);
    free(a->acked_by);
    json_decref(a->details);
    free(a);
}

void na__alert_store_free(na__alert_store *s)
{
    for (size_t i = 0; i < s->count; i++)
        na__alert_free(s->items[i]);
    free(s->items);
    na__idmap_free(&s->live);
    na__idmap_free(&s->live_by_group);
    for (size_t i = 0; i < s->n_group_live; i++)
        free(s->group_live[i].key);
    free(s->group_live);
    na__alert_manager_free(s);
    memset(s, 0, sizeof(*s));
}

na__alert *na__alert_find(const na__alert_store *s, const char *id)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i]->id, id) == 0)
            return s->items[i];
    return NULL;
}

static void group_key(char *key, size_t len, bool by_site, const char *value)
{
    snprintf(key, len, "%c:%s", by_site ? 's' : 'n', value);
}

size_t na__alert_live_in_group(const na__alert_store *s, bool by_site, const char *value)
{
    char key[600];
    size_t i;

    if (!value)
        return 0;
    group_key(key, sizeof(key), by_site, value);
    return na__idmap_get(&s->live_by_group, key, &i) ? s->group_live[i].live : 0;
}

/* A live alert came (delta +1) or went (-1): its node's and site's counts. */
static int count_live(na__alert_store *s, const na__alert *a, int delta)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *value = pass ? a->site : a->node_id;
        char key[600];
        size_t i;
        if (!value)
            continue;
        group_key(key, sizeof(key), pass == 1, value);
        if (!na__idmap_get(&s->live_by_group, key, &i)) {
            if (delta < 0)
                continue;
            if (s->n_group_live == s->cap_group_live) {
                size_t cap = s->cap_group_live ? 2 * s->cap_group_live : 64;
                struct na__group_live *g = realloc(s->group_live, cap * sizeof(*g));
                if (!g)
                    return NA_ENOMEM;
                s->group_live = g;
                s->cap_group_live = cap;
            }
            i = s->n_group_live;
            s->group_live[i].key = strdup(key);
            s->group_live[i].live = 0;
            if (!s->group_live[i].key ||
                na__idmap_put(&s->live_by_group, s->group_live[i].key, i)) {
                free(s->group_live[i].key);
                return NA_ENOMEM;
            }
            s->n_group_live++;
        }
        if (delta > 0)
            s->group_live[i].live++;
        else if (s->group_live[i].live > 0)
            s->group_live[i].live--;
    }
    return NA_OK;
}

na__alert *na__alert_find_live(const na__alert_store *s, const char *fp)
{
    size_t v;

    return na__idmap_get(&s->live, fp, &v) ? (na__alert *)(uintptr_t)v : NULL;
}

int na__alert_store_push(na__alert_store *s, na__alert *a)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        na__alert **items = realloc(s->items, cap * sizeof(*items));
        if (!items)
            return NA_ENOMEM;
        s->items = items;
        s->cap = cap;
    }
    /* The index borrows the alert's fingerprint; the alert outlives its entry (resolved
     * alerts leave the index before they can be trimmed). */
    if (a->status != NA_ALERT_RESOLVED &&
        (na__idmap_put(&s->live, a->fingerprint, (size_t)(uintptr_t)a) ||
         count_live(s, a, +1)))
        return NA_ENOMEM;
    s->items[s->count++] = a;
    return NA_OK;
}

void na__alert_resolve(na__alert_store *s, na__alert *a, na_time_ms now)
{
    if (na__alert_find_live(s, a->fingerprint) == a)
        na__idmap_del(&s->live, a->fingerprint);
    if (a->status != NA_ALERT_RESOLVED)
        count_live(s, a, -1);
    a->status = NA_ALERT_RESOLVED;
    a->updated_at = now;
}

bool na__rule_is_event(na__rule_type t)
{
    return t == NA_RULE_ANOMALY_SCORE || t == NA_RULE_TOPOLOGY_CHANGE ||
           t == NA_RULE_METRIC_THRESHOLD || t == NA_RULE_CUSTOM;
}

const na__rule_config *na__rule_find(const na__rule_config *rules, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rules[i].name, name) == 0)
            return &rules[i];
    return NULL;
}

/* Drops the oldest resolved alerts beyond max_resolved (they remain in the warehouse). */
void na__alert_store_trim(na__alert_store *s)
{
    size_t resolved = 0, drop, w = 0;

    /* Counting is O(alerts): do it only when the store grew by a slack since the last count
     * (amortised O(1) per raise; at most max_resolved + slack resolved alerts are held). */
    if (s->count <= s->max_resolved || s->count < s->trim_at)
        return;
    s->trim_at = s->count + NA__ALERT_TRIM_SLACK(s->max_resolved);
    for (size_t i = 0; i < s->count; i++)
        resolved += s->items[i]->status == NA_ALERT_RESOLVED;
    if (resolved <= s->max_resolved)
        return;
    drop = resolved - s->max_resolved;
    for (size_t i = 0; i < s->count; i++) {
        if (drop && s->items[i]->status == NA_ALERT_RESOLVED) {
            /* A resolved alert may still be in the index when a newer live alert with its
             * fingerprint was never indexed (rows loaded out of order): never leave a
             * dangling entry. */
            if (na__alert_find_live(s, s->items[i]->fingerprint) == s->items[i])
                na__idmap_del(&s->live, s->items[i]->fingerprint);
            na__alert_free(s->items[i]);
            drop--;
            continue;
        }
        s->items[w++] = s->items[i];
    }
    s->count = w;
    s->trim_at = w + NA__ALERT_TRIM_SLACK(s->max_resolved);
}

/* A condition found by a rule on one subject. */
typedef struct finding {
    const char *subject;      /* node or link id */
    const char *node_id;      /* the node the alert is about (NULL for links) */
    const char *site;
    char message[300];
    json_t *details;
} finding;

typedef na__alert_changes changes;

int na__alert_note_change(na__alert_changes *c, na__alert *a)
{
    for (size_t i = 0; i < *c->n; i++)
        if ((*c->list)[i] == a)
            return NA_OK;
    /* A list handed in with entries has no known capacity: treat it as full. */
    if (*c->n >= c->cap) {
        size_t cap = *c->n >= 16 ? 2 * *c->n : 32;
        na__alert **l = realloc(*c->list, cap * sizeof(*l));
        if (!l)
            return NA_ENOMEM;
        *c->list = l;
        c->cap = cap;
    }
    (*c->list)[(*c->n)++] = a;
    return NA_OK;
}

/* The kind of evidence a condition rule's alert is (groups, docs/alerts.md). */
static const char *condition_evidence(na__rule_type t)
{
    return t == NA_RULE_NODE_DOWN || t == NA_RULE_LINK_DOWN ? "topology" : "analytics";
}

static int raise_finding(na__alert_store *s, const na__rule_config *r, finding *f,
                         na_time_ms now, changes *c)
{
    char fp[600];
    na__alert *a;
    json_t *details;

    /* A suppression from operator feedback: the condition is not raised (an alert already
     * open for it resolves, as for any condition that no longer holds). */
    if (s->n_tunings && na__alert_suppression(s, r->name, f->node_id, now)) {
        na__alert_tuning_held_back(s, r->name, f->node_id, now);
        json_decref(f->details);
        return NA_OK;
    }
    snprintf(fp, sizeof(fp), "%s|%s", r->name, f->subject);
    a = na__alert_find_live(s, fp);
    if (a) {
        a->seen = true;
        json_decref(f->details);
        return NA_OK;
    }
    details = f->details ? f->details : json_object();
    if (details)
        json_object_set_new(details, "evidence", json_string(condition_evidence(r->type)));
    return na__alert_open(s, r, fp, f->node_id, f->site, f->message,
                          condition_evidence(r->type), -1, details, now, c);
}

int na__alert_open(na__alert_store *s, const na__rule_config *r, const char *fingerprint,
                   const char *node_id, const char *site, const char *message,
                   const char *evidence, int event_type, json_t *details, na_time_ms now,
                   na__alert_changes *c)
{
    na__alert *a = calloc(1, sizeof(*a));

    if (!a) {
        json_decref(details);
        return NA_ENOMEM;
    }
    na__random_id(a->id);
    a->rule = strdup(r->name);
    a->fingerprint = strdup(fingerprint);
    a->node_id = node_id ? strdup(node_id) : NULL;
    a->site = site ? strdup(site) : NULL;
    snprintf(a->severity, sizeof(a->severity), "%s", r->severity);
    a->status = NA_ALERT_ACTIVE;
    a->message = strdup(message);
    a->created_at = a->updated_at = a->last_seen = now;
    a->count = 1;
    a->details = details ? details : json_object();
    a->seen = true;
    a->event_type = event_type;
    snprintf(a->evidence, sizeof(a->evidence), "%s", evidence);
    if (!a->rule || !a->fingerprint || !a->message || (node_id && !a->node_id) ||
        (site && !a->site) || !a->details || na__alert_store_push(s, a)) {
        na__alert_free(a);
        return NA_ENOMEM;
    }
    if (s->n_silences)
        na__alert_apply_silences(s, a, now);
    return na__alert_note_change(c, a);
}

static int eval_rule(na__alert_store *s, const na__rule_config *r, const na_analysis *a,
                     na_time_ms now, changes *c)
{
    const na_topology *t = a->topo;
    size_t n = na_topology_node_count(t);
    int rc = NA_OK;
    finding f;

    for (size_t v = 0; v < n && rc == NA_OK; v++) {
        const na_node *nd = na_topology_node(t, v);
        /* Feedback may have raised the threshold for this node. */
        double threshold = s->n_tunings ? na__alert_threshold_for(s, r, nd->id, now)
                                        : r->threshold;
        memset(&f, 0, sizeof(f));
        f.subject = nd->id;
        f.node_id = nd->id;
        f.site = nd->site;
        switch (r->type) {
        case NA_RULE_ARTICULATION_POINT:
            if (!(a->kinds & NA_ANALYSIS_STRUCTURE) || !a->st.articulation[v])
                continue;
            snprintf(f.message, sizeof(f.message),
                     "single point of failure: losing %s%s%s%s splits the network", nd->id,
                     nd->label ? " (" : "", nd->label ? nd->label : "", nd->label ? ")" : "");
            f.details = json_pack("{s:o, s:o}", "role", na_json_str(nd->role), "importance",
                                  (a->kinds & NA_ANALYSIS_ROBUSTNESS)
                                      ? na_json_real(a->rob.importance[v])
                                      : json_null());
            break;
        case NA_RULE_NODE_DOWN:
            if (nd->status != NA_STATUS_DOWN)
                continue;
            snprintf(f.message, sizeof(f.message), "node %s is down", nd->id);
            f.details = json_pack("{s:o}", "role", na_json_str(nd->role));
            break;
        case NA_RULE_IMPORTANCE:
            if (!(a->kinds & NA_ANALYSIS_ROBUSTNESS) || !(a->rob.importance[v] >= r->threshold))
                continue;
            if (!(a->rob.importance[v] >= threshold)) {
                na__alert_tuning_held_back(s, r->name, nd->id, now);
                continue;
            }
            snprintf(f.message, sizeof(f.message),
                     "critical node: losing %s costs %.1f%% of network efficiency", nd->id,
                     100.0 * a->rob.relative_loss[v]);
            f.details = json_pack("{s:o, s:o, s:f}", "importance",
                                  na_json_real(a->rob.importance[v]), "relative_loss",
                                  na_json_real(a->rob.relative_loss[v]), "threshold",
                                  threshold);
            break;
        case NA_RULE_REDUNDANCY:
            if (!(a->kinds & NA_ANALYSIS_ROBUSTNESS) || nd->status == NA_STATUS_DOWN ||
                !((double)a->rob.redundancy[v] <= r->threshold) || a->rob.redundancy[v] == 0)
                continue;
            if (!((double)a->rob.redundancy[v] <= threshold)) {
                na__alert_tuning_held_back(s, r->name, nd->id, now);
                continue;
            }
            snprintf(f.message, sizeof(f.message), "low redundancy: %s has %u neighbour%s",
                     nd->id, a->rob.redundancy[v], a->rob.redundancy[v] == 1 ? "" : "s");
            f.details = json_pack("{s:I, s:f}", "redundancy", (json_int_t)a->rob.redundancy[v],
                                  "threshold", threshold);
            break;
        default: /* link_down below; event rules are the manager's */
            continue;
        }
        rc = raise_finding(s, r, &f, now, c);
    }
    if (r->type == NA_RULE_LINK_DOWN) {
        for (size_t i = 0; i < na_topology_link_count(t) && rc == NA_OK; i++) {
            const na_link *l = na_topology_link(t, i);
            if (l->status != NA_STATUS_DOWN)
                continue;
            memset(&f, 0, sizeof(f));
            f.subject = l->id;
            f.node_id = l->source;
            f.site = na_topology_node(t, l->source_index)->site;
            snprintf(f.message, sizeof(f.message), "link %s (%s - %s) is down", l->id, l->source,
                     l->target);
            f.details = json_pack("{s:s, s:s, s:s}", "link_id", l->id, "source", l->source,
                                  "target", l->target);
            rc = raise_finding(s, r, &f, now, c);
        }
    }
    return rc;
}

int na__alert_evaluate(na__alert_store *s, const na__rule_config *rules, size_t n_rules,
                       const na_analysis *a, na_time_ms now, na__alert ***changed,
                       size_t *n_changed)
{
    changes c = {.list = changed, .n = n_changed, .cap = 0};
    int rc = NA_OK;

    *changed = NULL;
    *n_changed = 0;
    /* Trim the history of earlier passes first: what this pass changes must stay alive
     * until the caller has written it. */
    na__alert_store_trim(s);
    for (size_t i = 0; i < s->count; i++)
        s->items[i]->seen = false;
    for (size_t r = 0; r < n_rules && rc == NA_OK; r++)
        if (!na__rule_is_event(rules[r].type))
            rc = eval_rule(s, &rules[r], a, now, &c);
    if (rc)
        return rc;
    /* Conditions that no longer hold resolve their alerts; alerts of rules no longer
     * configured resolve too. Alerts of event rules live by their events (manager.c). */
    for (size_t i = 0; i < s->count && rc == NA_OK; i++) {
        na__alert *al = s->items[i];
        const na__rule_config *rc_rule;
        if (al->status == NA_ALERT_RESOLVED || al->seen || al->event_type >= 0)
            continue;
        rc_rule = na__rule_find(rules, n_rules, al->rule);
        if (rc_rule && na__rule_is_event(rc_rule->type))
            continue;
        na__alert_resolve(s, al, now);
        rc = na__alert_note_change(&c, al);
    }
    return rc;
}

int na__alert_ack(na__alert *a, const char *by, na_time_ms now, na_error *err)
{
    if (a->status == NA_ALERT_RESOLVED)
        return na_error_set(err, NA_EINVAL, "alert %s is resolved", a->id);
    if (by) {
        char *copy = strdup(by);
        if (!copy)
            return na_error_set(err, NA_ENOMEM, "out of memory");
        free(a->acked_by);
        a->acked_by = copy;
    }
    a->status = NA_ALERT_ACKNOWLEDGED;
    a->updated_at = now;
    return NA_OK;
}


json_t *na__alert_json(const na__alert *a)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:I, s:o, s:b, s:O}",
                     "alert_id", a->id, "rule", a->rule, "fingerprint", a->fingerprint, "status",
                     na__alert_status_name(a->status), "severity", a->severity, "node_id",
                     na_json_str(a->node_id), "site", na_json_str(a->site), "message", a->message,
                     "created_at", na__time_json(a->created_at), "updated_at",
                     na__time_json(a->updated_at), "count", (json_int_t)a->count, "acknowledged_by",
                     na_json_str(a->acked_by), "silenced", a->silenced, "details", a->details);
}

/*
 * Row layout (NA_WH_ALERTS): rule, fingerprint, node_id, site, severity, status, message,
 * created_at, updated_at, count, details. acknowledged_by travels inside details
 * ("_acknowledged_by") so the schema stays the documented one.
 */
enum { AC_RULE, AC_FP, AC_NODE, AC_SITE, AC_SEV, AC_STATUS, AC_MSG, AC_CREATED, AC_UPDATED,
       AC_COUNT, AC_DETAILS, AC_N };

static na_wh_value text_or_null(const char *s)
{
    na_wh_value v = {.type = s ? NA_WH_TEXT : NA_WH_NULL};
    v.v.s = s;
    return v;
}

int na__alert_row(const na__alert *a, na_wh_value *values, char **scratch)
{
    json_t *d = json_deep_copy(a->details);
    size_t ncols;
    char *created, *updated, *details;

    (void)na_wh_table_columns(NA_WH_ALERTS, &ncols);
    if (ncols != AC_N || !d)
        return json_decref(d), NA_EINVAL;
    if (a->acked_by)
        json_object_set_new(d, "_acknowledged_by", json_string(a->acked_by));
    details = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(d);
    /* One allocation: the two times then the details text. */
    *scratch = malloc(80 + (details ? strlen(details) + 1 : 3));
    if (!*scratch || !details) {
        free(details);
        free(*scratch);
        *scratch = NULL;
        return NA_ENOMEM;
    }
    created = *scratch;
    updated = *scratch + 40;
    na_time_format(a->created_at, created, 40);
    na_time_format(a->updated_at, updated, 40);
    memcpy(*scratch + 80, details, strlen(details) + 1);
    free(details);
    values[AC_RULE] = text_or_null(a->rule);
    values[AC_FP] = text_or_null(a->fingerprint);
    values[AC_NODE] = text_or_null(a->node_id);
    values[AC_SITE] = text_or_null(a->site);
    values[AC_SEV] = text_or_null(a->severity);
    values[AC_STATUS] = text_or_null(na__alert_status_name(a->status));
    values[AC_MSG] = text_or_null(a->message);
    values[AC_CREATED] = text_or_null(created);
    values[AC_UPDATED] = text_or_null(updated);
    values[AC_COUNT].type = NA_WH_INT;
    values[AC_COUNT].v.i = a->count;
    values[AC_DETAILS] = text_or_null(*scratch + 80);
    return NA_OK;
}

static const char *row_text(const na_wh_version *v, int col)
{
    const na_wh_value *x = &v->row.values[col];
    return x->type == NA_WH_TEXT ? x->v.s : NULL;
}

/* The time stored as text in a row column (RFC 3339 or the warehouse form). */
static na_time_ms row_time(const na_wh_version *v, int col)
{
    const char *s = row_text(v, col);
    na_time_ms t = 0;

    if (s)
        na_time_parse(s, strlen(s), &t);
    return t;
}

const char *na__alert_row_status(const na_wh_version *v)
{
    return row_text(v, AC_STATUS);
}

static const char *str_or(const json_t *v, const char *def)
{
    return json_is_string(v) ? json_string_value(v) : def;
}

json_t *na__alert_json_from_row(const na_wh_version *v)
{
    const char *dtext = row_text(v, AC_DETAILS);
    json_t *details = dtext ? json_loads(dtext, 0, NULL) : NULL;
    json_t *by;
    json_t *o;

    if (!json_is_object(details)) {
        json_decref(details);
        details = json_object();
    }
    by = json_incref(json_object_get(details, "_acknowledged_by"));
    json_object_del(details, "_acknowledged_by");
    o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:b, s:o}",
                  "alert_id", v->row.id, "rule", na_json_str(row_text(v, AC_RULE)),
                  "fingerprint", na_json_str(row_text(v, AC_FP)), "status",
                  na_json_str(row_text(v, AC_STATUS)), "severity",
                  na_json_str(row_text(v, AC_SEV)), "node_id",
                  na_json_str(row_text(v, AC_NODE)), "site", na_json_str(row_text(v, AC_SITE)),
                  "message", na_json_str(row_text(v, AC_MSG)), "created_at",
                  na__time_json(row_time(v, AC_CREATED)), "updated_at",
                  na__time_json(row_time(v, AC_UPDATED)), "count",
                  (json_int_t)(v->row.values[AC_COUNT].type == NA_WH_INT
                                   ? v->row.values[AC_COUNT].v.i
                                   : 1),
                  "acknowledged_by", by ? by : json_null(), "silenced",
                  json_is_string(json_object_get(details, "silenced_by")), "details", details);
    return o;
}

int na__alert_store_load_row(na__alert_store *s, const na_wh_version *v)
{
    json_t *o = na__alert_json_from_row(v);
    na__alert *a;
    const char *st;

    if (!o)
        return NA_ENOMEM;
    a = calloc(1, sizeof(*a));
    if (!a) {
        json_decref(o);
        return NA_ENOMEM;
    }
    snprintf(a->id, sizeof(a->id), "%s", v->row.id);
    a->rule = strdup(str_or(json_object_get(o, "rule"), ""));
    a->fingerprint = strdup(str_or(json_object_get(o, "fingerprint"), ""));
    if (json_string_value(json_object_get(o, "node_id")))
        a->node_id = strdup(json_string_value(json_object_get(o, "node_id")));
    if (json_string_value(json_object_get(o, "site")))
        a->site = strdup(json_string_value(json_object_get(o, "site")));
    snprintf(a->severity, sizeof(a->severity), "%s",
             str_or(json_object_get(o, "severity"), "warning"));
    st = json_string_value(json_object_get(o, "status"));
    if (!st || na__alert_status_parse(st, &a->status))
        a->status = NA_ALERT_ACTIVE;
    a->message = strdup(str_or(json_object_get(o, "message"), ""));
    a->created_at = row_time(v, AC_CREATED);
    a->updated_at = row_time(v, AC_UPDATED);
    a->count = json_integer_value(json_object_get(o, "count"));
    if (json_string_value(json_object_get(o, "acknowledged_by")))
        a->acked_by = strdup(json_string_value(json_object_get(o, "acknowledged_by")));
    a->details = json_incref(json_object_get(o, "details"));
    a->silenced = json_is_true(json_object_get(o, "silenced"));
    /* Event alerts carry their event in the details; quiet time counts from the last write. */
    a->event_type = na__event_type_parse(
        json_string_value(json_object_get(json_object_get(a->details, "event"), "type")));
    a->last_seen = a->updated_at;
    snprintf(a->evidence, sizeof(a->evidence), "%s",
             str_or(json_object_get(a->details, "evidence"), ""));
    json_decref(o);
    if (!a->rule || !a->fingerprint || !a->message || na__alert_store_push(s, a)) {
        na__alert_free(a);
        return NA_ENOMEM;
    }
    return NA_OK;
}
