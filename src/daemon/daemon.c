/*
 * daemon.c: `netassure serve`: start-up, the engine thread (sources, warehouse writes, alerts,
 * detectors, API writes), the analytics worker, signals and a clean stop.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/stop.h"
#include "netassure/diff.h"
#include "netassure/io.h"
#include "server/api.h"

/* Resolved alerts and anomalies kept in memory; older ones remain in the warehouse. */
#define MAX_ANOMALIES_IN_MEMORY 10000
#define RETENTION_EVERY_MS (3600 * 1000)
#define TOPOLOGY_EVENT_MAX_ITEMS 200


/* ---- small helpers ------------------------------------------------------------------------ */

na__analysis_bundle *na__bundle_ref(na__analysis_bundle *b)
{
    if (b)
        atomic_fetch_add(&b->refs, 1);
    return b;
}

void na__bundle_unref(na__analysis_bundle *b)
{
    if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    na_analysis_free(&b->a);
    for (size_t i = 0; i < 7; i++)
        free(b->kind_json[i]);
    free(b);
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) && errno != EEXIST)
        return -1;
    return 0;
}

/* The warehouse URL from the config, and a description for /status without any password. */
static int resolve_warehouse(na__daemon *d, na_error *err)
{
    const char *w = d->cfg.warehouse;

    if (strcmp(w, "sqlite") == 0 || *w == '\0') {
        snprintf(d->wh_url, sizeof(d->wh_url), "sqlite:%s/netassure.db", d->cfg.data_dir);
    } else if (strncmp(w, "sqlite:", 7) == 0 || strncmp(w, "postgresql://", 13) == 0 ||
               strncmp(w, "postgres://", 11) == 0) {
        if (strlen(w) >= sizeof(d->wh_url))
            return na_error_set(err, NA_EINVAL, "warehouse: URL too long");
        snprintf(d->wh_url, sizeof(d->wh_url), "%s", w);
    } else {
        return na_error_set(err, NA_EINVAL, "warehouse: expected \"sqlite\", \"sqlite:PATH\" or "
                                            "\"postgresql://...\" (got \"%s\")", w);
    }
    if (strncmp(d->wh_url, "sqlite:", 7) == 0) {
        const char *p = d->wh_url + 7;
        if (strncmp(p, "//", 2) == 0)
            p += 2;
        snprintf(d->wh_location, sizeof(d->wh_location), "%s", p);
    } else {
        /* postgresql://user:password@host:port/db?x -> host:port/db */
        const char *rest = strstr(d->wh_url, "://") + 3, *at = strrchr(rest, '@');
        const char *host = at ? at + 1 : rest;
        size_t n = strcspn(host, "?");
        snprintf(d->wh_location, sizeof(d->wh_location), "%.*s", (int)n, host);
    }
    return NA_OK;
}

void na__daemon_publish(na__daemon *d, const char *type, const char *node_id,
                        const char *severity, json_t *data)
{
    na__stream_event ev = {.type = type, .node_id = node_id, .severity = severity};
    char tb[40];
    json_t *msg;
    char *text;

    if (!d->http) {
        json_decref(data);
        return;
    }
    msg = json_pack("{s:s, s:s, s:o}", "type", type, "at",
                    na_time_format(na_time_now(), tb, sizeof(tb)), "data",
                    data ? data : json_object());
    text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (text)
        na__http_ws_publish(d->http, "/stream", &ev, text, strlen(text));
    free(text);
}

/* ---- sources -------------------------------------------------------------------------------- */

/* Loads one file source if it changed (or `force`); true when its topology was replaced. */
static bool refresh_source(na__daemon *d, size_t i, na_time_ms now, bool force)
{
    const na__source_config *sc = &d->cfg.sources[i];
    na__source_state *st = &d->sources[i];
    na_topology *topo = NULL;
    na_import_report rep;
    na_error err;
    struct stat sb;
    bool changed = false;

    if (!sc->path)
        return false; /* a stream source: its client feeds the engine */
    if (!force && (!sc->watch || now < st->next_check))
        return false;
    st->next_check = now + sc->interval_ms;
    if (stat(sc->path, &sb)) {
        char msg[600];
        snprintf(msg, sizeof(msg), "%s: %s", sc->path, strerror(errno));
        if (!st->last_error || strcmp(st->last_error, msg) != 0) {
            na_log(NA_LOG_ERROR, "source %s: %s", sc->name, msg);
            pthread_mutex_lock(&d->lock);
            free(st->last_error);
            st->last_error = strdup(msg);
            snprintf(st->state, sizeof(st->state), "error");
            pthread_mutex_unlock(&d->lock);
        }
        return false;
    }
    {
        long long mt = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
        if (!force && mt == st->mtime_ns && (long long)sb.st_size == st->size &&
            (long long)sb.st_ino == st->ino)
            return false;
        st->mtime_ns = mt;
        st->size = (long long)sb.st_size;
        st->ino = (long long)sb.st_ino;
    }
    na_import_report_init(&rep);
    na_error_clear(&err);
    if (na_import_file(sc->path, NA_FORMAT_AUTO, &topo, &rep, &err)) {
        char buf[700];
        na_error_format(&err, buf, sizeof(buf));
        na_log(NA_LOG_ERROR, "source %s: %s (keeping the last good version)", sc->name, buf);
        pthread_mutex_lock(&d->lock);
        free(st->last_error);
        st->last_error = strdup(buf);
        snprintf(st->state, sizeof(st->state), "error");
        pthread_mutex_unlock(&d->lock);
        /* A half-written file changes again when the writer finishes; check it soon. */
        st->mtime_ns = 0;
        return false;
    }
    pthread_mutex_lock(&d->lock);
    na_topology_unref(st->topo);
    st->topo = topo;
    st->nodes = na_topology_node_count(topo);
    st->links = na_topology_link_count(topo);
    st->last_loaded_at = now;
    free(st->last_error);
    st->last_error = NULL;
    snprintf(st->state, sizeof(st->state), "ok");
    pthread_mutex_unlock(&d->lock);
    changed = true;
    na_log(NA_LOG_INFO, "source %s: loaded %s (%zu nodes, %zu links)", sc->name, sc->path,
           st->nodes, st->links);
    return changed;
}

/* One topology out of every source's last good version; ids must be unique across sources. */
static int merge_sources(na__daemon *d, uint64_t version, na_time_ms now, na_topology **out,
                         na_error *err)
{
    na_builder *b = na_builder_new();
    size_t skipped = 0, loaded = 0;
    const char *name = NULL;
    int rc = NA_OK;

    if (!b)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    for (size_t s = 0; s < d->cfg.n_sources; s++) {
        const na_topology *t = d->sources[s].topo;
        if (!t)
            continue;
        loaded++;
        if (!name)
            name = na_topology_name(t);
        for (size_t i = 0; i < na_topology_node_count(t); i++) {
            const na_node *n = na_topology_node(t, i);
            if (na_builder_find_node(b, n->id)) {
                if (skipped++ < 10)
                    na_log(NA_LOG_WARN, "source %s: node %s already comes from another source; "
                                        "skipped", d->cfg.sources[s].name, n->id);
                continue;
            }
            if ((rc = na_builder_add_node(b, n, err)))
                goto out;
        }
        for (size_t i = 0; i < na_topology_link_count(t); i++) {
            const na_link *l = na_topology_link(t, i);
            na_link copy = *l;
            if (na_builder_find_link(b, l->id)) {
                if (skipped++ < 10)
                    na_log(NA_LOG_WARN, "source %s: link %s already comes from another source; "
                                        "skipped", d->cfg.sources[s].name, l->id);
                continue;
            }
            if ((rc = na_builder_add_link(b, &copy, NULL, err)))
                goto out;
        }
    }
    if (loaded > 1)
        name = "netassure";
    if (name && (rc = na_builder_set_name(b, name)))
        goto out;
    na_builder_set_version(b, version);
    na_builder_set_timestamp_ms(b, now);
    rc = na_builder_finish(b, out, err);
    b = NULL;
out:
    na_builder_free(b);
    if (skipped > 10)
        na_log(NA_LOG_WARN, "%zu duplicate ids across sources skipped in all", skipped);
    return rc;
}

/* ---- the engine ------------------------------------------------------------------------------ */

static void wh_fail(const char *what, const na_error *err)
{
    char buf[700];

    na_log(NA_LOG_ERROR, "warehouse: %s: %s", what, na_error_format(err, buf, sizeof(buf)));
}

/*
 * One row of the analytics table. Observations of a table must not go back in time: the result
 * of a version that was superseded while it was computed is written at the newer version's time
 * (it was the newest analysis from then on).
 */
static int write_analytics_row(na__daemon *d, na_warehouse *wh, const char *kind,
                               uint64_t version, const char *result, na_time_ms at,
                               na_error *err)
{
    if (at < d->analytics_written_at)
        at = d->analytics_written_at;
    d->analytics_written_at = at;
    return na__wh_observe_analytics(wh, kind, version, result, at, err);
}

int na__daemon_write_version_row(na__daemon *d, na_warehouse *wh, const char *name,
                                 uint64_t version, size_t nodes, size_t links, na_time_ms at,
                                 na_error *err)
{
    json_t *meta = json_pack("{s:o, s:I, s:I}", "name", na_json_str(name), "nodes",
                             (json_int_t)nodes, "links", (json_int_t)links);
    char *text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    int rc;

    json_decref(meta);
    if (!text)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    rc = write_analytics_row(d, wh, "topology", version, text, at, err);
    free(text);
    return rc;
}

na_time_ms na__daemon_topology_written_at(na__daemon *d)
{
    return d->analytics_written_at;
}

void na__daemon_install_topology(na__daemon *d, na_topology *topo, na_time_ms now)
{
    pthread_mutex_lock(&d->lock);
    na_topology_unref(d->topo);
    d->topo = na_topology_ref(topo);
    free(d->topo_json);
    d->topo_json = NULL;
    d->last_update = now;
    na_topology_unref(d->analysis_request);
    d->analysis_request = na_topology_ref(topo);
    pthread_cond_broadcast(&d->wake);
    pthread_mutex_unlock(&d->lock);
}

/* Topology events of a whole-snapshot change (file reload, stream snapshot): the diff's
 * items as the alert manager's events. */
static void diff_events(na__daemon *d, na_warehouse *wh, const na_diff_result *diff,
                        na_topology *topo, const char *origin, na_time_ms now)
{
    static const na__event_type types[2][3] = {
        {NA_EV_NODE_ADDED, NA_EV_NODE_REMOVED, NA_EV_NODE_CHANGED},
        {NA_EV_LINK_ADDED, NA_EV_LINK_REMOVED, NA_EV_LINK_CHANGED}};

    /* At most two events per item: its status change and its other changes. */
    na__event *evs = diff ? calloc(2 * diff->count + 1, sizeof(*evs)) : NULL;
    size_t n = 0;

    if (!evs)
        return;
    for (size_t i = 0; i < diff->count; i++) {
        const na_diff_item *it = &diff->items[i];
        na__event ev;
        size_t idx;
        bool other = it->kind != NA_DIFF_CHANGED;
        memset(&ev, 0, sizeof(ev));
        ev.value = NAN;
        ev.previous = NAN;
        ev.version = na_topology_version(topo);
        ev.at = now;
        ev.origin = origin;
        if (it->is_link) {
            ev.link_id = it->id;
            if (na_topology_find_link(topo, it->id, &idx) == NA_OK) {
                ev.source = na_topology_link(topo, idx)->source;
                ev.target = na_topology_link(topo, idx)->target;
            }
        } else {
            ev.node_id = it->id;
            if (na_topology_find_node(topo, it->id, &idx) == NA_OK)
                ev.site = na_topology_node(topo, idx)->site;
        }
        for (size_t c = 0; c < it->n_changes; c++) {
            const na_diff_change *ch = &it->changes[c];
            if (strcmp(ch->field, "status") != 0) {
                other = true;
                continue;
            }
            /* A status change is its own event (down / up). */
            if (strcmp(ch->after, "down") == 0 || strcmp(ch->after, "up") == 0) {
                bool down = strcmp(ch->after, "down") == 0;
                ev.type = it->is_link ? (down ? NA_EV_LINK_DOWN : NA_EV_LINK_UP)
                                      : (down ? NA_EV_NODE_DOWN : NA_EV_NODE_UP);
                evs[n++] = ev; /* "status" appears once per item */
            }
        }
        if (other) {
            ev.type = types[it->is_link][it->kind];
            evs[n++] = ev;
        }
    }
    na__live_events(d, wh, evs, n, now);
    free(evs);
}

/* A new merged topology: warehouse observation, state, stream events, analysis request. */
static void new_topology(na__daemon *d, na_warehouse *wh, na_topology *topo, na_time_ms now,
                         const na_diff_result *diff, const char *origin)
{
    na_error err;
    json_t *data, *items, *summary = NULL;

    /* The version's rows and its version row: one transaction. */
    na_error_clear(&err);
    if (na_wh_begin(wh, &err) || na__wh_observe_topology(wh, topo, now, &err) ||
        na__daemon_write_version_row(d, wh, na_topology_name(topo), na_topology_version(topo),
                                     na_topology_node_count(topo), na_topology_link_count(topo),
                                     now, &err) ||
        na_wh_commit(wh, &err)) {
        na_wh_rollback(wh);
        wh_fail("topology observation", &err);
    }
    na__daemon_install_topology(d, topo, now);

    items = json_array();
    if (diff) {
        json_t *full = na_diff_json(diff, "previous", "current");
        json_t *all = json_object_get(full, "items");
        size_t i;
        json_t *it;
        json_array_foreach(all, i, it) {
            if (i >= TOPOLOGY_EVENT_MAX_ITEMS)
                break;
            json_array_append(items, it);
        }
        summary = json_incref(json_object_get(full, "summary"));
        data = json_pack("{s:I, s:I, s:I, s:O, s:o, s:b}", "version",
                         (json_int_t)na_topology_version(topo), "nodes",
                         (json_int_t)na_topology_node_count(topo), "links",
                         (json_int_t)na_topology_link_count(topo), "summary", summary, "items",
                         items, "truncated", json_array_size(all) > TOPOLOGY_EVENT_MAX_ITEMS);
        json_decref(full);
    } else {
        data = json_pack("{s:I, s:I, s:I, s:n, s:o, s:b}", "version",
                         (json_int_t)na_topology_version(topo), "nodes",
                         (json_int_t)na_topology_node_count(topo), "links",
                         (json_int_t)na_topology_link_count(topo), "summary", "items", items,
                         "truncated", 0);
    }
    na__live_topology_replaced(d, topo, origin, data);
    na__daemon_publish(d, "topology", NULL, NULL, data);
    json_decref(summary);
    na_log(NA_LOG_INFO, "topology version %llu: %zu nodes, %zu links",
           (unsigned long long)na_topology_version(topo), na_topology_node_count(topo),
           na_topology_link_count(topo));
    diff_events(d, wh, diff, topo, origin, now);
}

/*
 * Merges every source's last good topology; makes a new version when the result differs from
 * the current one (else an observation that only touches meta_last_checked). `force`: the
 * start-up pass, which re-analyses the version the warehouse holds.
 */
void na__daemon_remerge(na__daemon *d, na_warehouse *wh, bool force, const char *origin)
{
    na_time_ms now = na_time_now();
    na_topology *merged = NULL, *cur;
    na_diff_result diff;
    na_error err;
    uint64_t version;

    pthread_mutex_lock(&d->lock);
    cur = d->topo ? na_topology_ref(d->topo) : NULL;
    pthread_mutex_unlock(&d->lock);
    version = cur ? na_topology_version(cur) + 1 : 1;
    /* Observations of a table never go back in time. */
    if (now < d->analytics_written_at)
        now = d->analytics_written_at;
    na_error_clear(&err);
    if (merge_sources(d, version, now, &merged, &err)) {
        char buf[700];
        na_log(NA_LOG_ERROR, "merging sources: %s", na_error_format(&err, buf, sizeof(buf)));
        na_topology_unref(cur);
        return;
    }
    memset(&diff, 0, sizeof(diff));
    if (cur && na_diff_topologies(cur, merged, &diff, &err) == NA_OK && diff.count == 0) {
        if (force) {
            /* A restart on the version the warehouse already holds: it keeps its number and
             * gets analysed again (the analysis lives in memory). */
            na_topology *same = NULL;
            if (merge_sources(d, na_topology_version(cur), now, &same, &err) == NA_OK) {
                new_topology(d, wh, same, now, &diff, origin);
                na_topology_unref(same);
            }
        } else {
            /* Same content: an observation that only touches meta_last_checked. */
            na_error_clear(&err);
            if (na__wh_observe_topology(wh, merged, now, &err))
                wh_fail("topology observation", &err);
            na_log(NA_LOG_DEBUG, "sources reloaded, topology unchanged");
        }
    } else {
        new_topology(d, wh, merged, now, cur ? &diff : NULL, origin);
    }
    na_diff_result_free(&diff);
    na_topology_unref(merged);
    na_topology_unref(cur);
}

/* Reloads changed file sources; re-merges when one changed. */
static void check_sources(na__daemon *d, na_warehouse *wh, bool force)
{
    na_time_ms now = na_time_now();
    bool any = false;

    for (size_t i = 0; i < d->cfg.n_sources; i++)
        any |= refresh_source(d, i, now, force);
    if (any)
        na__daemon_remerge(d, wh, force, "files");
}

/* Fills the row of item i of a list for the table; *scratch is freed after the write. */
typedef int (*row_of_fn)(const void *list, size_t i, const char **id, na_wh_value *values,
                         char **scratch);

/* Writes n items of a list as one partial observation of `table` at `at`; failures logged. */
static void write_rows(na_warehouse *wh, na_wh_table table, const void *list,
                       size_t n, row_of_fn row_of, na_time_ms at)
{
    size_t ncols;
    na_wh_row *rows;
    na_wh_value *vals;
    char **scratch;
    na_error err;

    if (n == 0)
        return;
    (void)na_wh_table_columns(table, &ncols);
    rows = calloc(n, sizeof(*rows));
    vals = calloc(n * ncols, sizeof(*vals));
    scratch = calloc(n, sizeof(*scratch));
    na_error_clear(&err);
    if (!rows || !vals || !scratch) {
        na_error_set(&err, NA_ENOMEM, "out of memory");
        wh_fail(na_wh_table_name(table), &err);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        rows[i].values = vals + i * ncols;
        if (row_of(list, i, &rows[i].id, vals + i * ncols, &scratch[i])) {
            na_error_set(&err, NA_ENOMEM, "%s row", na_wh_table_name(table));
            wh_fail(na_wh_table_name(table), &err);
            goto out;
        }
    }
    if (na_wh_observe(wh, table, rows, n, at, NA_WH_PARTIAL, NULL, &err))
        wh_fail(na_wh_table_name(table), &err);
out:
    for (size_t i = 0; scratch && i < n; i++)
        free(scratch[i]);
    free(scratch);
    free(rows);
    free(vals);
}

static int alert_row_of(const void *list, size_t i, const char **id, na_wh_value *values,
                        char **scratch)
{
    const na__alert *a = ((na__alert *const *)list)[i];

    *id = a->id;
    return na__alert_row(a, values, scratch);
}

static int anomaly_row_of(const void *list, size_t i, const char **id, na_wh_value *values,
                          char **scratch)
{
    const na__anomaly *a = &((const na__anomaly *)list)[i];

    *id = a->id;
    return na__anomaly_row(a, values, scratch);
}

void na__daemon_write_alerts(na_warehouse *wh, na__alert **list, size_t n, na_time_ms at)
{
    write_rows(wh, NA_WH_ALERTS, list, n, alert_row_of, at);
}

/* Per-node samples (importance, betweenness, degree) at most this often: under a stream of
 * deltas an analysis every 2 s of a 2,000-node network would write 3,000 samples a second. */
#define NODE_METRICS_EVERY_MS 10000

static void write_metrics(na_warehouse *wh, const na__analysis_bundle *b, bool per_node)
{
    const na_analysis *a = &b->a;
    size_t n = na_topology_node_count(a->topo), k = 0;
    na_wh_sample *s = calloc(8 + 3 * n, sizeof(*s));
    na_error err;

    if (!s)
        return;
#define NET(nm, val) s[k++] = (na_wh_sample){NULL, nm, na_topology_timestamp_ms(b->a.topo), (double)(val)}
    NET("nodes", n);
    NET("links", na_topology_link_count(a->topo));
    if (a->kinds & NA_ANALYSIS_ROBUSTNESS)
        NET("global_efficiency", a->rob.efficiency);
    if (a->kinds & NA_ANALYSIS_STRUCTURE) {
        NET("articulation_points", a->st.n_articulation);
        NET("components", a->st.n_components);
        NET("bridges", a->st.n_bridges);
    }
#undef NET
    for (size_t v = 0; per_node && v < n; v++) {
        const char *id = na_topology_node(a->topo, v)->id;
        if ((a->kinds & NA_ANALYSIS_ROBUSTNESS) && isfinite(a->rob.importance[v]))
            s[k++] = (na_wh_sample){id, "importance", na_topology_timestamp_ms(b->a.topo), a->rob.importance[v]};
        if (a->kinds & NA_ANALYSIS_CENTRALITY) {
            if (isfinite(a->cent.betweenness[v]))
                s[k++] = (na_wh_sample){id, "betweenness", na_topology_timestamp_ms(b->a.topo), a->cent.betweenness[v]};
            s[k++] = (na_wh_sample){id, "degree", na_topology_timestamp_ms(b->a.topo), (double)a->cent.degree[v]};
        }
    }
    na_error_clear(&err);
    if (na_wh_metrics_append(wh, s, k, &err))
        wh_fail("metrics", &err);
    free(s);
}

static void write_anomalies(na_warehouse *wh, na__anomaly *list, size_t n)
{
    if (n)
        write_rows(wh, NA_WH_ANOMALIES, list, n, anomaly_row_of, list[0].detected_at);
}

static void add_anomalies(na__daemon *d, na__anomaly *list, size_t n)
{
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < n; i++) {
        if (d->n_anomalies == d->max_anomalies) {
            na__anomaly_free(&d->anomalies[0]);
            memmove(d->anomalies, d->anomalies + 1, (d->n_anomalies - 1) * sizeof(*d->anomalies));
            d->n_anomalies--;
        }
        d->anomalies[d->n_anomalies++] = list[i];
        d->anomalies_total++;
        memset(&list[i], 0, sizeof(list[i]));
    }
    pthread_mutex_unlock(&d->lock);
}

/* A finished analysis: warehouse, state, alerts, detectors, events. */
static void process_analysis(na__daemon *d, na_warehouse *wh, na__analysis_bundle *b,
                             na__outlier_state *outliers)
{
    na__alert **changed = NULL;
    na__analysis_bundle *prev;
    size_t n_changed = 0;
    na_time_ms now = na_time_now();
    na_error err;
    json_t *data;

    for (unsigned bit = 0; bit < 7; bit++) {
        const char *kind = na_analysis_kind_name(1u << bit);
        na_error_clear(&err);
        if (b->kind_json[bit] &&
            write_analytics_row(d, wh, kind, na_topology_version(b->a.topo), b->kind_json[bit], na_topology_timestamp_ms(b->a.topo), &err))
            wh_fail(kind, &err);
    }
    {
        bool per_node = now - d->node_metrics_at >= NODE_METRICS_EVERY_MS;
        write_metrics(wh, b, per_node);
        if (per_node)
            d->node_metrics_at = now;
    }

    pthread_mutex_lock(&d->lock);
    prev = d->bundle;                    /* our reference moves to prev */
    d->bundle = na__bundle_ref(b);
    d->last_update = now;
    if (na__alert_evaluate(&d->alerts, d->cfg.rules, d->cfg.n_rules, &b->a, now, &changed,
                           &n_changed))
        na_log(NA_LOG_ERROR, "alert evaluation ran out of memory");
    pthread_mutex_unlock(&d->lock);
    na__live_alerts_changed(d, wh, changed, n_changed, now);
    if (n_changed)
        na_log(NA_LOG_INFO, "alerts: %zu raised or resolved", n_changed);
    free(changed);

    /* What changed between the two analyses, as events for the event rules. */
    {
        na__event *evs = NULL;
        size_t n_evs = 0;
        if (na__alert_analysis_events(prev ? &prev->a : NULL, &b->a,
                                      d->cfg.alerting.importance_jump, now, &evs, &n_evs))
            na_log(NA_LOG_ERROR, "analysis events: out of memory");
        na__live_events(d, wh, evs, n_evs, now);
        free(evs);
    }
    na__bundle_unref(prev);

    for (size_t i = 0; i < d->cfg.n_detectors; i++) {
        na__anomaly *found = NULL;
        size_t n_found = 0;
        if (na__detect_importance_outliers(&b->a, d->cfg.detectors[i].threshold, now, outliers,
                                           &found, &n_found))
            na_log(NA_LOG_ERROR, "detector %s ran out of memory", d->cfg.detectors[i].type);
        if (n_found) {
            write_anomalies(wh, found, n_found);
            na__event *evs = calloc(n_found, sizeof(*evs));
            for (size_t k = 0; k < n_found; k++) {
                const na__anomaly *an = &found[k];
                json_t *aj = na__anomaly_json(an);
                na__event *ev = evs ? &evs[k] : NULL;
                if (d->nats && aj) {
                    json_t *msg = json_pack("{s:O}", "anomaly", aj);
                    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL, id[64];
                    snprintf(id, sizeof(id), "anomaly:%s", an->id);
                    if (text)
                        na__live_nats(d, "bgp.events", id, text, strlen(text));
                    free(text);
                    json_decref(msg);
                }
                na__daemon_publish(d, "anomaly", an->n_node_ids ? an->node_ids[0] : NULL, NULL,
                                   aj);
                if (!ev)
                    continue;
                ev->type = NA_EV_ANOMALY;
                ev->node_id = an->n_node_ids ? an->node_ids[0] : NULL;
                ev->detector = an->detector;
                ev->anomaly_id = an->id;
                ev->value = an->score;
                ev->previous = NAN;
                ev->version = na_topology_version(b->a.topo);
                ev->at = an->detected_at;
                ev->origin = "detector";
                if (ev->node_id) {
                    size_t idx;
                    if (na_topology_find_node(b->a.topo, ev->node_id, &idx) == NA_OK)
                        ev->site = na_topology_node(b->a.topo, idx)->site;
                }
            }
            if (evs)
                na__live_events(d, wh, evs, n_found, now);
            else
                na_log(NA_LOG_ERROR, "detector %s: out of memory for the anomalies' events",
                       d->cfg.detectors[i].type);
            free(evs);
            na_log(NA_LOG_INFO, "detector %s: %zu anomalies", d->cfg.detectors[i].type, n_found);
            add_anomalies(d, found, n_found);
        }
        free(found);
    }

    data = json_pack("{s:I, s:s, s:f, s:o, s:o, s:o}", "topology_version",
                     (json_int_t)na_topology_version(b->a.topo), "computed_at", "", "duration_ms", b->duration_ms,
                     "efficiency",
                     (b->a.kinds & NA_ANALYSIS_ROBUSTNESS) ? na_json_real(b->a.rob.efficiency)
                                                           : json_null(),
                     "articulation_points",
                     (b->a.kinds & NA_ANALYSIS_STRUCTURE)
                         ? json_integer((json_int_t)b->a.st.n_articulation)
                         : json_null(),
                     "components",
                     (b->a.kinds & NA_ANALYSIS_STRUCTURE)
                         ? json_integer((json_int_t)b->a.st.n_components)
                         : json_null());
    if (data) {
        char tb[40];
        json_object_set_new(data, "computed_at",
                            json_string(na_time_format(b->computed_at, tb, sizeof(tb))));
    }
    na__daemon_publish(d, "analytics", NULL, NULL, data);
}

/* The live GET /config object; the caller holds d->lock. */
static json_t *config_json_locked(na__daemon *d)
{
    return json_pack("{s:n, s:O, s:O}", "at", "branding", d->branding, "banners", d->banners);
}

json_t *na__daemon_config_json(na__daemon *d)
{
    json_t *doc;

    pthread_mutex_lock(&d->lock);
    doc = config_json_locked(d);
    pthread_mutex_unlock(&d->lock);
    return doc;
}

static int write_config_rows(na_warehouse *wh, json_t *branding, json_t *banners, na_time_ms at,
                             na_error *err)
{
    char *bt = json_dumps(branding, JSON_COMPACT | JSON_SORT_KEYS);
    char *nt = json_dumps(banners, JSON_COMPACT | JSON_SORT_KEYS);
    na_wh_value v[2];
    na_wh_row rows[2] = {{.id = "banners", .values = &v[0]}, {.id = "branding", .values = &v[1]}};
    int rc;

    if (!bt || !nt) {
        free(bt);
        free(nt);
        return na_error_set(err, NA_ENOMEM, "out of memory");
    }
    v[0].type = NA_WH_TEXT;
    v[0].v.s = nt;
    v[1].type = NA_WH_TEXT;
    v[1].v.s = bt;
    rc = na_wh_observe(wh, NA_WH_CONFIG, rows, 2, at, NA_WH_PARTIAL, NULL, err);
    free(bt);
    free(nt);
    return rc;
}

typedef struct alert_exists {
    bool found;
} alert_exists;

static int exists_cb(const na_wh_version *v, void *ud)
{
    (void)v;
    ((alert_exists *)ud)->found = true;
    return 1;
}

static void run_command(na__daemon *d, na_warehouse *wh, na__command *c)
{
    na_time_ms now = na_time_now();

    na_error_clear(&c->err);
    switch (c->kind) {
    case NA_CMD_ACK: {
        na__alert *a;
        json_t *by = json_object_get(c->input, "by");
        pthread_mutex_lock(&d->lock);
        a = na__alert_find(&d->alerts, c->alert_id);
        if (!a) {
            c->rc = na_error_set(&c->err, NA_ENOTFOUND, "no alert %s", c->alert_id);
        } else if ((c->rc = na__alert_ack(a, json_is_string(by) ? json_string_value(by) : NULL,
                                          now, &c->err)) == NA_OK) {
            na__daemon_write_alerts(wh, &a, 1, now);
            c->output = na__alert_json(a);
            na__daemon_publish(d, "alert", a->node_id, a->severity, na__alert_json(a));
        }
        pthread_mutex_unlock(&d->lock);
        break;
    }
    case NA_CMD_FEEDBACK: {
        alert_exists ex = {false};
        json_t *fb_effect = NULL;
        char id[33], tb[40];
        json_t *fp = json_object_get(c->input, "is_false_positive");
        json_t *notes = json_object_get(c->input, "notes");
        na_wh_feedback fb;
        pthread_mutex_lock(&d->lock);
        ex.found = na__alert_find(&d->alerts, c->alert_id) != NULL;
        pthread_mutex_unlock(&d->lock);
        if (!ex.found)
            na_wh_read_at(wh, NA_WH_ALERTS, NA_TIME_NOW, c->alert_id, exists_cb, &ex, NULL);
        if (!ex.found) {
            c->rc = na_error_set(&c->err, NA_ENOTFOUND, "no alert %s", c->alert_id);
            break;
        }
        na__random_id(id);
        fb = (na_wh_feedback){.feedback_id = id,
                              .alert_id = c->alert_id,
                              .is_false_positive = json_is_true(fp),
                              .notes = json_is_string(notes) ? json_string_value(notes) : NULL,
                              .author = NULL,
                              .created_at = now};
        c->rc = na_wh_feedback_add(wh, &fb, &c->err);
        if (c->rc)
            break;
        {
            /* A false positive tunes future alerting for this rule and node (docs/alerts.md). */
            na__alert *a;
            json_t *effect = NULL;
            na_error serr;
            pthread_mutex_lock(&d->lock);
            a = na__alert_find(&d->alerts, c->alert_id);
            if (a)
                effect = na__alert_feedback(&d->alerts, d->cfg.rules, d->cfg.n_rules, a,
                                            fb.is_false_positive, fb.notes, now);
            na_error_clear(&serr);
            if (a && na__alert_store_save(&d->alerts, wh, now, &serr))
                wh_fail("tunings", &serr);
            pthread_mutex_unlock(&d->lock);
            if (effect)
                na_log(NA_LOG_INFO, "feedback on alert %s changes future alerting: %s",
                       c->alert_id, json_string_value(json_object_get(effect, "kind")));
            fb_effect = effect;
        }
        c->output = json_pack("{s:s, s:s, s:b, s:o, s:s}", "feedback_id", id, "alert_id",
                              c->alert_id, "is_false_positive", fb.is_false_positive, "notes",
                              na_json_str(fb.notes), "created_at",
                              na_time_format(now, tb, sizeof(tb)));
        /* What the feedback changed, if anything (a tuning, docs/alerts.md). */
        if (c->output)
            json_object_set_new(c->output, "effect", fb_effect ? fb_effect : json_null());
        else
            json_decref(fb_effect);
        na_log(NA_LOG_INFO, "feedback on alert %s: %s", c->alert_id,
               fb.is_false_positive ? "false positive" : "confirmed");
        break;
    }
    case NA_CMD_CONFIG: {
        json_t *branding = NULL, *banners = NULL;
        json_t *ib = json_object_get(c->input, "branding"), *in = json_object_get(c->input, "banners");
        pthread_mutex_lock(&d->lock);
        branding = ib ? na__config_check_branding(ib, d->branding, &c->err)
                      : json_incref(d->branding);
        if (branding)
            banners = in ? na__config_check_banners(in, &c->err) : json_incref(d->banners);
        pthread_mutex_unlock(&d->lock);
        if (!branding || !banners) {
            c->rc = NA_EINVAL;
            json_decref(branding);
            json_decref(banners);
            break;
        }
        c->rc = write_config_rows(wh, branding, banners, now, &c->err);
        if (c->rc) {
            json_decref(branding);
            json_decref(banners);
            break;
        }
        pthread_mutex_lock(&d->lock);
        json_decref(d->branding);
        json_decref(d->banners);
        d->branding = branding;
        d->banners = banners;
        c->output = config_json_locked(d);
        pthread_mutex_unlock(&d->lock);
        break;
    }
    case NA_CMD_SILENCE_ADD:
    case NA_CMD_SILENCE_DELETE:
    case NA_CMD_TUNING_DELETE:
        na__daemon_alert_command(d, wh, c);
        break;
    }
}

void na__daemon_command(na__daemon *d, na__command *cmd)
{
    pthread_mutex_lock(&d->lock);
    if (d->stop) {
        cmd->rc = na_error_set(&cmd->err, NA_EIO, "the daemon is stopping");
        pthread_mutex_unlock(&d->lock);
        return;
    }
    cmd->done = false;
    cmd->next = NULL;
    {
        na__command **tail = &d->commands;
        while (*tail)
            tail = &(*tail)->next;
        *tail = cmd;
    }
    pthread_cond_broadcast(&d->wake);
    while (!cmd->done)
        pthread_cond_wait(&d->done, &d->lock);
    pthread_mutex_unlock(&d->lock);
}

typedef struct engine_args {
    na__daemon *d;
    na_warehouse *wh;
} engine_args;

static void *engine_main(void *arg)
{
    engine_args *ea = arg;
    na__daemon *d = ea->d;
    na_warehouse *wh = ea->wh;
    na__outlier_state outliers = {0};
    na_time_ms next_retention = na_time_now() + 60000, next_tick = 0;
    bool first = true;

    for (;;) {
        na__command *cmds;
        na__analysis_bundle *result;
        struct timespec until;
        na_time_ms now;

        check_sources(d, wh, first);
        first = false;
        /* Stream input first: it is what latency is measured on. */
        while (na__live_drain(d, wh))
            ;
        now = na_time_now();
        if (now >= next_tick) {
            na__live_tick(d, wh, now);
            next_tick = now + 1000;
        }

        pthread_mutex_lock(&d->lock);
        cmds = d->commands;
        d->commands = NULL;
        result = d->pending_result;
        d->pending_result = NULL;
        pthread_mutex_unlock(&d->lock);

        for (na__command *c = cmds, *next; c; c = next) {
            next = c->next;
            run_command(d, wh, c);
            pthread_mutex_lock(&d->lock);
            c->done = true;
            pthread_cond_broadcast(&d->done);
            pthread_mutex_unlock(&d->lock);
        }
        if (result) {
            process_analysis(d, wh, result, &outliers);
            na__bundle_unref(result);
        }
        if (na_time_now() >= next_retention) {
            na_wh_retention_stats rs;
            na_error err;
            na_error_clear(&err);
            if (na_wh_metrics_apply_retention(wh, na_time_now(), &d->cfg.retention, &rs, &err))
                wh_fail("metric retention", &err);
            else if (rs.raw_folded || rs.buckets_deleted)
                na_log(NA_LOG_INFO, "metric retention: %zu samples folded into %zu buckets, "
                                    "%zu old buckets deleted",
                       rs.raw_folded, rs.buckets_written, rs.buckets_deleted);
            next_retention = na_time_now() + RETENTION_EVERY_MS;
        }

        pthread_mutex_lock(&d->lock);
        /* Stop once the stream clients are gone and everything they queued was handled. */
        if (d->stop && d->sources_stopped && !d->commands && !d->pending_result &&
            d->ingest_count == 0) {
            d->engine_gone = true;
            pthread_cond_broadcast(&d->ingest_space);
            pthread_mutex_unlock(&d->lock);
            break;
        }
        if (!d->commands && !d->pending_result && d->ingest_count == 0 &&
            !(d->stop && d->sources_stopped)) {
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 200 * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&d->wake, &d->lock, &until);
        }
        pthread_mutex_unlock(&d->lock);
    }
    na__outlier_state_free(&outliers);
    return NULL;
}

/* ---- the analytics worker ----------------------------------------------------------------- */

static na__analysis_bundle *analyse(na__daemon *d, na_topology *topo)
{
    na__analysis_bundle *b = calloc(1, sizeof(*b));
    na_analysis_opts o = {.kinds = d->cfg.analytics_kinds, .threads = d->cfg.analytics_threads,
                          .seed = 1};
    struct timespec t0, t1;
    na_error err;
    int rc;

    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    na_error_clear(&err);
    pthread_mutex_lock(&d->igraph_lock);
    rc = na_analysis_run(topo, &o, &b->a, &err);
    pthread_mutex_unlock(&d->igraph_lock);
    if (rc) {
        char buf[700];
        na_log(NA_LOG_ERROR, "analytics of version %llu failed: %s",
               (unsigned long long)na_topology_version(topo),
               na_error_format(&err, buf, sizeof(buf)));
        free(b);
        return NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    b->computed_at = na_time_now();
    b->duration_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    for (unsigned bit = 0; bit < 7; bit++) {
        json_t *doc = na_analysis_json(&b->a, 1u << bit, NULL);
        json_object_del(doc, "topology");
        b->kind_json[bit] = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
    }
    na_log(NA_LOG_INFO, "analytics of version %llu: %.1f ms", (unsigned long long)na_topology_version(b->a.topo),
           b->duration_ms);
    return b;
}

static void *analytics_main(void *arg)
{
    na__daemon *d = arg;
    na_time_ms next_start = 0;

    pthread_mutex_lock(&d->lock);
    while (!d->stop) {
        na_topology *topo = d->analysis_request;
        na__analysis_bundle *b;
        na_time_ms now = na_time_now();
        if (!topo) {
            pthread_cond_wait(&d->wake, &d->lock);
            continue;
        }
        if (now < next_start) {
            /* Under a stream of deltas: wait, then analyse the newest version only. */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += (next_start - now) / 1000;
            until.tv_nsec += (long)((next_start - now) % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&d->wake, &d->lock, &until);
            continue;
        }
        next_start = now + d->cfg.analytics_min_interval_ms;
        d->analysis_request = NULL;
        d->analysis_running = true;
        pthread_mutex_unlock(&d->lock);
        b = analyse(d, topo);
        na_topology_unref(topo);
        pthread_mutex_lock(&d->lock);
        d->analysis_running = false;
        if (b) {
            na__bundle_unref(d->pending_result);
            d->pending_result = b;
            pthread_cond_broadcast(&d->wake);
        }
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

/* ---- start-up and stop ------------------------------------------------------------------------ */

/* Signals arrive through core/stop.h's pipe; this thread turns them into a clean stop. */
static void *signal_main(void *arg)
{
    na__daemon *d = arg;
    unsigned char sig = 0;

    for (;;) {
        ssize_t n = read(na__stop_fd(), &sig, 1);
        if (n == 1 || (n < 0 && errno != EINTR))
            break;
    }
    if (sig == SIGINT || sig == SIGTERM)
        na_log(NA_LOG_INFO, "%s received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    pthread_mutex_lock(&d->lock);
    d->stop = true;
    pthread_cond_broadcast(&d->wake);
    pthread_mutex_unlock(&d->lock);
    if (d->http)
        na__http_server_stop(d->http);
    return NULL;
}

static void reader_close(void *p)
{
    na_wh_close(p);
}

na_warehouse *na__daemon_reader(na__daemon *d, na_error *err)
{
    na_warehouse *wh = pthread_getspecific(d->reader_key);

    if (wh)
        return wh;
    if (na_wh_open(d->wh_url, &wh, err))
        return NULL;
    pthread_setspecific(d->reader_key, wh);
    return wh;
}

static int load_alert_cb(const na_wh_version *v, void *ud)
{
    return na__alert_store_load_row(ud, v) ? 1 : 0;
}

static int load_anomaly_cb(const na_wh_version *v, void *ud)
{
    na__daemon *d = ud;
    json_t *o = na__anomaly_json_from_row(v);
    na__anomaly an;
    json_t *ids;
    size_t i;
    json_t *x;
    const char *at;

    if (!o)
        return 1;
    memset(&an, 0, sizeof(an));
    snprintf(an.id, sizeof(an.id), "%s", v->row.id);
    snprintf(an.detector, sizeof(an.detector), "%s",
             json_string_value(json_object_get(o, "detector")));
    an.score = json_number_value(json_object_get(o, "score"));
    ids = json_object_get(o, "contributing_node_ids");
    an.node_ids = calloc(json_array_size(ids) + 1, sizeof(char *));
    json_array_foreach(ids, i, x) {
        if (an.node_ids && json_is_string(x))
            an.node_ids[an.n_node_ids++] = strdup(json_string_value(x));
    }
    at = json_string_value(json_object_get(o, "detected_at"));
    if (at)
        na_time_parse(at, strlen(at), &an.detected_at);
    an.details = json_incref(json_object_get(o, "details"));
    json_decref(o);
    add_anomalies(d, &an, 1);
    return 0;
}

static int cmp_anomaly_time(const void *x, const void *y)
{
    const na__anomaly *a = x, *b = y;
    return (a->detected_at > b->detected_at) - (a->detected_at < b->detected_at);
}

static int load_config_cb(const na_wh_version *v, void *ud)
{
    json_t **bb = ud;

    na__config_from_row(v, &bb[0], &bb[1]);
    return 0;
}

/* Alerts, anomalies and the API-set configuration survive restarts through the warehouse. */
static int restore_state(na__daemon *d, na_warehouse *wh, na_error *err)
{
    json_t *cl[2] = {NULL, NULL}; /* branding, banners */
    int rc;

    if ((rc = na_wh_read_at(wh, NA_WH_ALERTS, NA_TIME_NOW, NULL, load_alert_cb, &d->alerts, err)))
        return rc;
    if ((rc = na_wh_read_at(wh, NA_WH_ANOMALIES, NA_TIME_NOW, NULL, load_anomaly_cb, d, err)))
        return rc;
    qsort(d->anomalies, d->n_anomalies, sizeof(*d->anomalies), cmp_anomaly_time);
    if ((rc = na_wh_read_at(wh, NA_WH_CONFIG, NA_TIME_NOW, NULL, load_config_cb, cl, err)))
        return rc;
    /* The current version, so numbering goes on where the last run stopped. */
    {
        int64_t total = 0, current = 0;
        if ((rc = na_wh_count(wh, NA_WH_ANALYTICS, &total, &current, err)))
            return rc;
        if (current > 0 && (rc = na__wh_topology_at(wh, NA_TIME_NOW, &d->topo, err)))
            return rc;
        if (d->topo)
            na_log(NA_LOG_INFO, "warehouse holds topology version %llu (%zu nodes, %zu links)",
                   (unsigned long long)na_topology_version(d->topo),
                   na_topology_node_count(d->topo), na_topology_link_count(d->topo));
    }
    if (cl[0] && cl[1]) {
        json_decref(d->branding);
        json_decref(d->banners);
        d->branding = cl[0];
        d->banners = cl[1];
        na_log(NA_LOG_INFO, "branding and banners from the warehouse (last set through the API)");
        return NA_OK;
    }
    json_decref(cl[0]);
    json_decref(cl[1]);
    return write_config_rows(wh, d->branding, d->banners, na_time_now(), err);
}

/* The WebSocket paths: /stream (events, server/stream.c) and /topology/stream (live.c). */
static int topo_stream_marker;

static char *ws_open_cb(na__ws_client *client, const char *path, void **state, void *ud)
{
    if (strcmp(path, "/topology/stream") == 0) {
        *state = &topo_stream_marker;
        return na__topo_stream_open(ud);
    }
    return na__stream_open(client, path, state, ud);
}

static char *ws_message_cb(na__ws_client *client, void *state, const char *text, size_t len,
                           void *ud)
{
    if (state == &topo_stream_marker)
        return na__topo_stream_message(ud, text, len);
    return na__stream_message(client, state, text, len, ud);
}

static void ws_close_cb(na__ws_client *client, void *state, void *ud)
{
    if (state != &topo_stream_marker)
        na__stream_close(client, state, ud);
}

static bool ws_accept_cb(void *state, const void *event, void *ud)
{
    if (state == &topo_stream_marker)
        return true;
    return na__stream_accept(state, event, ud);
}

/* `serve` (with the HTTP server) and `ingest` (without): one start-up, one stop. */
static int daemon_main(na__daemon_config *cfg, const char *listen_override, bool no_http,
                       uint64_t max_messages)
{
    static const char *const ws_paths[] = {"/stream", "/topology/stream", NULL};
    na__daemon *d = calloc(1, sizeof(*d));
    na_warehouse *wh = NULL;
    na__http_server_opts ho;
    pthread_t engine_t, analytics_t, signal_t;
    bool engine_started = false, analytics_started = false, signal_started = false;
    engine_args ea;
    na_error err;
    int rc = 1;

    if (!d) {
        fprintf(stderr, "netassure serve: out of memory\n");
        return 1;
    }
    d->cfg = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    d->no_http = no_http;
    d->max_messages = max_messages;
    na_log_set_level(d->cfg.log_level);
    na_error_clear(&err);
    if (listen_override &&
        na__parse_listen(listen_override, d->cfg.listen_host, sizeof(d->cfg.listen_host),
                         &d->cfg.listen_port)) {
        fprintf(stderr, "netassure serve: --listen expects HOST:PORT (got %s)\n", listen_override);
        rc = 2;
        goto out_free;
    }
    if (!no_http && !na__host_is_loopback(d->cfg.listen_host) && !d->cfg.api_token) {
        fprintf(stderr, "netassure serve: refusing to listen on %s without an API token: set "
                        "api.token in the configuration (writes would be open to the network)\n",
                d->cfg.listen_host);
        goto out_free;
    }
    if (mkdir_p(d->cfg.data_dir)) {
        fprintf(stderr, "netassure serve: cannot create data directory %s: %s\n",
                d->cfg.data_dir, strerror(errno));
        goto out_free;
    }
    if (resolve_warehouse(d, &err) || na_wh_open(d->wh_url, &wh, &err)) {
        char buf[700];
        fprintf(stderr, "netassure serve: warehouse %s: %s\n", d->wh_location[0] ? d->wh_location : d->cfg.warehouse,
                na_error_format(&err, buf, sizeof(buf)));
        goto out_free;
    }
    snprintf(d->wh_backend, sizeof(d->wh_backend), "%s", na_wh_backend(wh));
    d->wh_schema_version = na_wh_schema_version(wh);
    d->started_at = na_time_now();
    d->branding = json_incref(d->cfg.branding);
    d->banners = json_incref(d->cfg.banners);
    d->max_anomalies = MAX_ANOMALIES_IN_MEMORY;
    d->anomalies = calloc(d->max_anomalies, sizeof(*d->anomalies));
    d->sources = calloc(d->cfg.n_sources + 1, sizeof(*d->sources));
    if (!d->anomalies || !d->sources) {
        fprintf(stderr, "netassure serve: out of memory\n");
        goto out_close;
    }
    for (size_t i = 0; i < d->cfg.n_sources; i++)
        snprintf(d->sources[i].state, sizeof(d->sources[i].state), "pending");
    na__alert_store_init(&d->alerts);
    na__alert_store_configure(&d->alerts, &d->cfg.alerting);
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->igraph_lock, NULL);
    pthread_mutex_init(&d->topo_json_lock, NULL);
    pthread_mutex_init(&d->topo_cache.lock, NULL);
    pthread_mutex_init(&d->stream_lock, NULL);
    pthread_cond_init(&d->wake, NULL);
    pthread_cond_init(&d->done, NULL);
    pthread_cond_init(&d->ingest_space, NULL);
    pthread_key_create(&d->reader_key, reader_close);
    na_error_clear(&err);
    if (restore_state(d, wh, &err) || na__alert_store_restore(&d->alerts, wh, &err)) {
        char buf[700];
        fprintf(stderr, "netassure serve: reading state from the warehouse: %s\n",
                na_error_format(&err, buf, sizeof(buf)));
        goto out_close;
    }

    if (na__stop_fd() < 0) {
        fprintf(stderr, "netassure serve: cannot install signal handlers: %s\n", strerror(errno));
        goto out_close;
    }

    memset(&ho, 0, sizeof(ho));
    ho.host = d->cfg.listen_host;
    ho.port = d->cfg.listen_port;
    ho.workers = 4;
    ho.max_body = d->cfg.max_body;
    ho.ws_paths = ws_paths;
    ho.max_ws_message = 64 * 1024;
    ho.handler = na__api_handle;
    ho.handler_ud = d;
    ho.ws.open = ws_open_cb;
    ho.ws.message = ws_message_cb;
    ho.ws.close = ws_close_cb;
    ho.ws.accept = ws_accept_cb;
    ho.ws.authorize = na__api_authorize_stream;
    ho.ws.ud = d;
    na_error_clear(&err);
    if (!no_http && na__http_server_new(&ho, &d->http, &err)) {
        char buf[700];
        fprintf(stderr, "netassure serve: cannot listen on %s:%d: %s\n", d->cfg.listen_host,
                d->cfg.listen_port, na_error_format(&err, buf, sizeof(buf)));
        goto out_close;
    }
    na_error_clear(&err);
    if (na__live_start(d, &err)) {
        char buf[700];
        fprintf(stderr, "netassure: starting stream sources / NATS: %s\n",
                na_error_format(&err, buf, sizeof(buf)));
        goto out_live;
    }
    ea.d = d;
    ea.wh = wh;
    signal_started = pthread_create(&signal_t, NULL, signal_main, d) == 0;
    engine_started = pthread_create(&engine_t, NULL, engine_main, &ea) == 0;
    analytics_started = pthread_create(&analytics_t, NULL, analytics_main, d) == 0;
    if (!signal_started || !engine_started || !analytics_started) {
        fprintf(stderr, "netassure serve: cannot start threads\n");
        goto out_stop;
    }
    if (no_http) {
        na_log(NA_LOG_INFO, "netassure %s ingesting (warehouse %s %s)", NA_VERSION_STRING,
               d->wh_backend, d->wh_location);
        pthread_mutex_lock(&d->lock);
        while (!d->stop)
            pthread_cond_wait(&d->wake, &d->lock);
        pthread_mutex_unlock(&d->lock);
        rc = 0;
    } else {
        na_log(NA_LOG_INFO, "netassure %s serving http://%s%s%s:%d/ (config %s, warehouse %s %s)",
               NA_VERSION_STRING, strchr(d->cfg.listen_host, ':') ? "[" : "", d->cfg.listen_host,
               strchr(d->cfg.listen_host, ':') ? "]" : "", na__http_server_port(d->http),
               d->cfg.origin, d->wh_backend, d->wh_location);
        rc = na__http_server_run(d->http) ? 1 : 0;
    }

out_stop:
    /* No more input, then the engine drains what was accepted and stops. */
    pthread_mutex_lock(&d->lock);
    d->stop = true;
    if (!engine_started)
        d->engine_gone = true; /* stream clients must not wait for room that never comes */
    pthread_cond_broadcast(&d->wake);
    pthread_cond_broadcast(&d->ingest_space);
    pthread_mutex_unlock(&d->lock);
    na__live_stop_sources(d);
    if (signal_started) {
        na__stop_raise(0);
        pthread_join(signal_t, NULL);
    }
    if (analytics_started)
        pthread_join(analytics_t, NULL);
    if (engine_started)
        pthread_join(engine_t, NULL);
    if (d->http) {
        na__http_server_free(d->http);
        d->http = NULL;
    }
    na_log(NA_LOG_INFO, "stopped");
out_live:
    na__live_stop(d);
out_close:
    na_wh_close(wh);
    na__alert_store_free(&d->alerts);
    for (size_t i = 0; d->anomalies && i < d->n_anomalies; i++)
        na__anomaly_free(&d->anomalies[i]);
    free(d->anomalies);
    for (size_t i = 0; d->sources && i < d->cfg.n_sources; i++) {
        na_topology_unref(d->sources[i].topo);
        free(d->sources[i].last_error);
    }
    free(d->sources);
    na__bundle_unref(d->bundle);
    na__bundle_unref(d->pending_result);
    na_topology_unref(d->analysis_request);
    na_topology_unref(d->topo);
    free(d->topo_json);
    na__text_cache_free(&d->topo_cache);
    json_decref(d->branding);
    json_decref(d->banners);
out_free:
    na__config_free(&d->cfg);
    free(d);
    return rc;
}

int na__daemon_run(na__daemon_config *cfg, const char *listen_override, bool quiet)
{
    (void)quiet;
    return daemon_main(cfg, listen_override, false, 0);
}

int na__daemon_run_ingest(na__daemon_config *cfg, const char *ws_url, const char *token,
                          uint64_t max_messages)
{
    na__source_config *src = calloc(2, sizeof(*src));

    if (!src) {
        fprintf(stderr, "netassure ingest: out of memory\n");
        return 1;
    }
    /* The configuration's other settings stay (warehouse, rules, NATS); its sources give way
     * to the one stream. */
    na__config_free_sources(cfg);
    cfg->sources = src;
    cfg->n_sources = 1;
    src->name = strdup("stream");
    src->type = strdup("ws");
    src->url = strdup(ws_url);
    src->token = token ? strdup(token) : NULL;
    if (!src->name || !src->type || !src->url || (token && !src->token)) {
        fprintf(stderr, "netassure ingest: out of memory\n");
        return 1;
    }
    return daemon_main(cfg, NULL, true, max_messages);
}
