/*
 * snmp_source.c: the daemon's scheduled SNMP poller (docs/snmp.md, docs/daemon.md).
 *
 * One thread runs the poller (snmp/poller.h) whenever a device is due. Each run hands the
 * engine three ingest items, in order, through the same bounded queue as the topology streams:
 *   1. a snapshot of the discovered topology for the "snmp" source: the engine merges it with
 *      the other sources, so an unchanged network only touches meta_last_checked and a change
 *      becomes a new version with its events and alerts;
 *   2. a batch with the device tables (ports, hosts, sensors, neighbours) as full observations
 *      and the device documents GET /devices serves;
 *   3. a metrics message with the rates, sensor values and link utilisation, which goes to the
 *      metrics store and to the alert manager like any stream's metrics.
 * The thread never touches the warehouse or the daemon state itself.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/idmap.h"
#include "daemon/daemon.h"
#include "snmp/poller.h"

/* The device tables a batch carries, in na_wh_table terms. */
static const na_wh_table batch_tables[NA__SNMP_TABLES] = {NA_WH_PORTS, NA_WH_HOSTS,
                                                          NA_WH_SENSORS, NA_WH_NEIGHBORS};

typedef struct na__snmp_batch {
    na_time_ms at;
    na__arena arena;                 /* row ids, texts, value arrays */
    struct {
        na_wh_row *rows;
        size_t n, cap;
    } t[NA__SNMP_TABLES];
    json_t *docs;                    /* node id -> the device's poll document */
    json_t *status;                  /* the run's summary for /status */
} na__snmp_batch;

struct na__snmp_source {
    na__daemon *d;
    size_t index;                    /* the "snmp" entry of cfg.sources */
    na_snmp_poller *poller;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    volatile int stop;
    uint64_t seq, runs;
};

void na__snmp_batch_free(na__snmp_batch *b)
{
    if (!b)
        return;
    for (int k = 0; k < NA__SNMP_TABLES; k++)
        free(b->t[k].rows);
    na__arena_free(&b->arena);
    json_decref(b->docs);
    json_decref(b->status);
    free(b);
}

/* ---- rows ---------------------------------------------------------------------------------- */

/* A new row of table k with `id`; its values are zeroed (NULL) and filled by the caller. */
static na_wh_value *add_row(na__snmp_batch *b, int k, const char *id)
{
    size_t ncols;
    na_wh_value *vals;

    na_wh_table_columns(batch_tables[k], &ncols);
    if (b->t[k].n == b->t[k].cap) {
        size_t cap = b->t[k].cap ? b->t[k].cap * 2 : 64;
        na_wh_row *grown = realloc(b->t[k].rows, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        b->t[k].rows = grown;
        b->t[k].cap = cap;
    }
    vals = na__arena_alloc(&b->arena, ncols * sizeof(*vals));
    if (!vals)
        return NULL;
    memset(vals, 0, ncols * sizeof(*vals));
    if (!(b->t[k].rows[b->t[k].n].id = na__arena_strdup(&b->arena, id)))
        return NULL;
    b->t[k].rows[b->t[k].n].values = vals;
    b->t[k].n++;
    return vals;
}

static void v_text(na__snmp_batch *b, na_wh_value *v, const char *s)
{
    if (s && (v->v.s = na__arena_strdup(&b->arena, s)))
        v->type = NA_WH_TEXT;
}

static void v_int(na_wh_value *v, int64_t i)
{
    v->type = NA_WH_INT;
    v->v.i = i;
}

/* attrs: a JSON object as text, or NULL for an empty one (the reference is dropped). */
static void v_attrs(na__snmp_batch *b, na_wh_value *v, json_t *o)
{
    if (o && json_object_size(o)) {
        char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        v_text(b, v, text);
        free(text);
    }
    json_decref(o);
}

static const char *port_name(const na_snmp_port *p)
{
    return p->name && *p->name ? p->name : p->descr;
}

static void device_rows(na__snmp_batch *b, const na_snmp_device *dev)
{
    const char *node = dev->node_id;
    char id[600];
    na_wh_value *v;

    for (size_t i = 0; i < dev->n_ports; i++) {
        const na_snmp_port *p = &dev->ports[i];
        char type[16], mac[24];
        json_t *attrs = json_object();
        snprintf(id, sizeof(id), "%s:%lld", node, (long long)p->if_index);
        if (!(v = add_row(b, 0, id)))
            return;
        v_text(b, &v[0], node);
        v_int(&v[1], p->if_index);
        v_text(b, &v[2], p->name);
        v_text(b, &v[3], p->descr);
        v_text(b, &v[4], p->alias);
        snprintf(type, sizeof(type), "%d", p->if_type);
        v_text(b, &v[5], p->if_type ? type : NULL);
        if (p->speed_bps)
            v_int(&v[6], (int64_t)(p->speed_bps > INT64_MAX ? INT64_MAX : p->speed_bps));
        v_text(b, &v[7], na__if_status_name(p->admin_status));
        v_text(b, &v[8], na__if_status_name(p->oper_status));
        if (p->mtu >= 0)
            json_object_set_new(attrs, "mtu", json_integer(p->mtu));
        if (p->has_mac) {
            na__snmp_mac_format(p->mac, mac);
            json_object_set_new(attrs, "mac", json_string(mac));
        }
        if (p->uplink)
            json_object_set_new(attrs, "uplink", json_true());
        if (p->edge)
            json_object_set_new(attrs, "edge", json_true());
        v_attrs(b, &v[9], attrs);
    }
    for (size_t i = 0; i < dev->n_sensors; i++) {
        const na_snmp_sensor *s = &dev->sensors[i];
        json_t *attrs = json_object();
        snprintf(id, sizeof(id), "%s:%s", node, s->id);
        if (!(v = add_row(b, 2, id)))
            return;
        v_text(b, &v[0], node);
        v_text(b, &v[1], s->kind);
        v_text(b, &v[2], s->descr);
        v_text(b, &v[3], s->unit);
        v_text(b, &v[4], s->status);
        if (s->ent_index >= 0)
            json_object_set_new(attrs, "ent_index", json_integer(s->ent_index));
        v_attrs(b, &v[5], attrs);
    }
    for (size_t i = 0; i < dev->n_neighbors; i++) {
        const na_snmp_neighbor *nb = &dev->neighbors[i];
        json_t *attrs = json_object();
        snprintf(id, sizeof(id), "%s:%lld:%s:%s:%s", node, (long long)nb->local_if_index,
                 nb->protocol ? nb->protocol : "?",
                 nb->remote_chassis_id ? nb->remote_chassis_id
                 : nb->remote_sysname ? nb->remote_sysname : "?",
                 nb->remote_port ? nb->remote_port : "?");
        if (!(v = add_row(b, 3, id)))
            return;
        v_text(b, &v[0], node);
        v_text(b, &v[1], nb->protocol);
        if (nb->local_if_index >= 0)
            v_int(&v[2], nb->local_if_index);
        v_text(b, &v[3], nb->local_if_name);
        v_text(b, &v[4], nb->remote_sysname);
        v_text(b, &v[5], nb->remote_chassis_id);
        v_text(b, &v[6], nb->remote_port);
        v_text(b, &v[7], nb->remote_mgmt_ip);
        if (nb->remote_platform)
            json_object_set_new(attrs, "platform", json_string(nb->remote_platform));
        if (nb->remote_port_descr)
            json_object_set_new(attrs, "port_descr", json_string(nb->remote_port_descr));
        if (nb->chassis_subtype)
            json_object_set_new(attrs, "chassis_subtype", json_integer(nb->chassis_subtype));
        if (nb->port_subtype)
            json_object_set_new(attrs, "port_subtype", json_integer(nb->port_subtype));
        v_attrs(b, &v[8], attrs);
    }
}

/*
 * Hosts: one row per MAC. A MAC is learnt on every switch between it and the poller, so the
 * row names the edge port that saw it (else the first port that did); the IP comes from any
 * device's ARP / ND table.
 */
static void host_rows(na__snmp_batch *b, na_snmp_device *const *devs, size_t n)
{
    typedef struct pick {
        char mac[24];
        const na_snmp_device *dev;
        const na_snmp_host *h;
        int rank;                     /* 3 edge port, 2 other port, 1 no port (ARP only) */
        const char *ip;
    } pick;
    pick *p = NULL;
    size_t np = 0, cap = 0;
    na__idmap seen; /* MAC text (in b's arena) -> pick */

    na__idmap_init(&seen);
    for (size_t d = 0; d < n; d++) {
        for (size_t i = 0; i < devs[d]->n_hosts; i++) {
            const na_snmp_host *h = &devs[d]->hosts[i];
            const na_snmp_port *port = h->if_index >= 0 ? na__snmp_port_find(devs[d], h->if_index) : NULL;
            int rank = port ? (port->edge ? 3 : 2) : 1;
            char mac[24];
            size_t k;
            na__snmp_mac_format(h->mac, mac);
            if (!na__idmap_get(&seen, mac, &k)) {
                const char *key = na__arena_strdup(&b->arena, mac);
                k = np;
                if (!key || na__idmap_put(&seen, key, k))
                    goto out;
                if (np == cap) {
                    size_t c2 = cap ? cap * 2 : 256;
                    pick *grown = realloc(p, c2 * sizeof(*grown));
                    if (!grown)
                        goto out;
                    p = grown;
                    cap = c2;
                }
                memset(&p[np], 0, sizeof(p[np]));
                snprintf(p[np].mac, sizeof(p[np].mac), "%s", mac);
                np++;
            }
            if (!p[k].ip && h->ip)
                p[k].ip = h->ip;
            if (rank > p[k].rank) {
                p[k].rank = rank;
                p[k].dev = devs[d];
                p[k].h = h;
            }
        }
    }
    for (size_t k = 0; k < np; k++) {
        const na_snmp_host *h = p[k].h;
        const na_snmp_port *port = h->if_index >= 0 ? na__snmp_port_find(p[k].dev, h->if_index) : NULL;
        json_t *attrs = json_object();
        char pid[600];
        na_wh_value *v = add_row(b, 1, p[k].mac);
        if (!v) {
            json_decref(attrs);
            break;
        }
        v_text(b, &v[0], p[k].mac);
        v_text(b, &v[1], p[k].ip);
        v_text(b, &v[2], p[k].dev->node_id);
        if (port) {
            snprintf(pid, sizeof(pid), "%s:%lld", p[k].dev->node_id, (long long)port->if_index);
            v_text(b, &v[3], pid);
            if (port_name(port))
                json_object_set_new(attrs, "port", json_string(port_name(port)));
            json_object_set_new(attrs, "edge", json_boolean(port->edge));
        }
        if (h->vlan)
            v_int(&v[4], h->vlan);
        if (h->source)
            json_object_set_new(attrs, "source", json_string(h->source));
        v_attrs(b, &v[5], attrs);
    }
out:
    na__idmap_free(&seen);
    free(p);
}

static int row_cmp(const void *x, const void *y)
{
    return strcmp(((const na_wh_row *)x)->id, ((const na_wh_row *)y)->id);
}

/* An observation must not name an id twice: sort, keep the first of each. */
static size_t dedup_rows(na_wh_row *rows, size_t n)
{
    size_t w = 0;

    qsort(rows, n, sizeof(*rows), row_cmp);
    for (size_t r = 0; r < n; r++)
        if (w == 0 || strcmp(rows[w - 1].id, rows[r].id) != 0)
            rows[w++] = rows[r];
    return w;
}

/* ---- metrics --------------------------------------------------------------------------------- */

typedef struct samples {
    na__stream_sample *s;
    size_t n, cap;
    bool oom;
} samples;

static void sample(samples *ss, const char *node, const char *link, const char *name,
                   double value, na_time_ms at)
{
    na__stream_sample *x;

    if (ss->oom || !isfinite(value))
        return;
    if (ss->n == ss->cap) {
        size_t cap = ss->cap ? ss->cap * 2 : 256;
        na__stream_sample *grown = realloc(ss->s, cap * sizeof(*grown));
        if (!grown) {
            ss->oom = true;
            return;
        }
        ss->s = grown;
        ss->cap = cap;
    }
    x = &ss->s[ss->n];
    memset(x, 0, sizeof(*x));
    x->node_id = node ? strdup(node) : NULL;
    x->link_id = link ? strdup(link) : NULL;
    x->name = strdup(name);
    x->value = value;
    x->at = at;
    if (!x->name || (node && !x->node_id) || (link && !x->link_id)) {
        free(x->node_id);
        free(x->link_id);
        free(x->name);
        ss->oom = true;
        return;
    }
    ss->n++;
}

/* Samples of the devices polled in this run, and the utilisation of every link with rates. */
static void run_samples(samples *ss, const na_snmp_poll_result *res)
{
    for (size_t d = 0; d < res->n_devices; d++) {
        const na_snmp_device *dev = res->devices[d];
        na_time_ms at = dev->polled_at;
        double cpu = 0;
        size_t ncpu = 0;
        if (dev->polled_at < res->started_at)
            continue;
        sample(ss, dev->node_id, NULL, "snmp.reachable", dev->reachable ? 1 : 0, at);
        if (!dev->reachable)
            continue;
        sample(ss, dev->node_id, NULL, "snmp.poll_ms", dev->duration_ms, at);
        for (size_t i = 0; i < dev->n_ports; i++) {
            const na_snmp_port *p = &dev->ports[i];
            static const char *const names[] = {"in_bps", "out_bps", "in_errors_ps",
                                                "out_errors_ps", "in_discards_ps",
                                                "out_discards_ps", "util_in", "util_out"};
            double vals[8];
            char name[96];
            if (!p->has_rates)
                continue;
            vals[0] = p->in_bps;
            vals[1] = p->out_bps;
            vals[2] = p->in_errors_ps;
            vals[3] = p->out_errors_ps;
            vals[4] = p->in_discards_ps;
            vals[5] = p->out_discards_ps;
            vals[6] = p->util_in;
            vals[7] = p->util_out;
            for (int k = 0; k < 8; k++) {
                snprintf(name, sizeof(name), "if.%lld.%s", (long long)p->if_index, names[k]);
                sample(ss, dev->node_id, NULL, name, vals[k], at);
            }
        }
        for (size_t i = 0; i < dev->n_sensors; i++) {
            const na_snmp_sensor *s = &dev->sensors[i];
            char name[200];
            if (!s->has_value)
                continue;
            snprintf(name, sizeof(name), "sensor.%s", s->id);
            sample(ss, dev->node_id, NULL, name, s->value, at);
            if (s->kind && strcmp(s->kind, "cpu") == 0) {
                cpu += s->value;
                ncpu++;
            } else if (s->kind && strcmp(s->kind, "memory") == 0) {
                sample(ss, dev->node_id, NULL, "memory", s->value, at);
            }
        }
        if (ncpu)
            sample(ss, dev->node_id, NULL, "cpu", cpu / (double)ncpu, at);
    }
    /* A link's utilisation: the busier direction of its busier known end. */
    na__idmap by_id; /* node id -> device */
    na__idmap_init(&by_id);
    for (size_t d = 0; d < res->n_devices; d++)
        if (na__idmap_put(&by_id, res->devices[d]->node_id, d)) {
            ss->oom = true;
            break;
        }
    for (size_t i = 0; !ss->oom && res->net && i < res->net->n_links; i++) {
        const na_snmp_link *l = &res->net->links[i];
        double util = NAN;
        na_time_ms at = 0;
        for (int end = 0; end < 2; end++) {
            size_t d;
            int64_t ifx = end ? l->b_if_index : l->a_if_index;
            const na_snmp_device *dev;
            const na_snmp_port *p;
            if (!na__idmap_get(&by_id, end ? l->b : l->a, &d))
                continue;
            dev = res->devices[d];
            p = ifx >= 0 ? na__snmp_port_find(dev, ifx) : NULL;
            if (!p || !p->has_rates || dev->polled_at < res->started_at)
                continue;
            for (int k = 0; k < 2; k++) {
                double u = k ? p->util_out : p->util_in;
                if (isfinite(u) && (!isfinite(util) || u > util))
                    util = u;
            }
            at = dev->polled_at;
        }
        if (isfinite(util))
            sample(ss, NULL, l->id, "utilisation", util, at);
    }
    na__idmap_free(&by_id);
}

/* ---- the thread ------------------------------------------------------------------------------ */

static na__snmp_batch *make_batch(const na_snmp_poll_result *res)
{
    na__snmp_batch *b = calloc(1, sizeof(*b));

    if (!b)
        return NULL;
    na__arena_init(&b->arena);
    b->at = res->finished_at;
    b->docs = json_object();
    for (size_t d = 0; d < res->n_devices; d++) {
        device_rows(b, res->devices[d]);
        json_object_set_new(b->docs, res->devices[d]->node_id,
                            na__snmp_device_json(res->devices[d]));
    }
    host_rows(b, res->devices, res->n_devices);
    for (int k = 0; k < NA__SNMP_TABLES; k++)
        b->t[k].n = dedup_rows(b->t[k].rows, b->t[k].n);
    b->status = json_pack("{s:I, s:I, s:I, s:b, s:I, s:I, s:f}", "devices",
                          (json_int_t)res->n_devices, "polled", (json_int_t)res->n_polled,
                          "unreachable", (json_int_t)res->n_unreachable, "topology_polled",
                          res->topology_polled, "links",
                          (json_int_t)(res->net ? res->net->n_links : 0), "stubs",
                          (json_int_t)(res->net ? res->net->n_stubs : 0), "duration_ms",
                          (double)(res->finished_at - res->started_at));
    return b;
}

/* Hands one run's items to the engine; false when the engine is gone. */
static bool hand_over(na__snmp_source *s, const na_snmp_poll_result *res)
{
    na__daemon *d = s->d;
    na__ingest_item it;
    samples ss = {0};
    na__snmp_batch *b;

    memset(&it, 0, sizeof(it));
    it.source = s->index;
    it.msg.type = NA_STREAM_SNAPSHOT;
    it.msg.seq = ++s->seq;
    it.msg.timestamp = res->finished_at;
    it.msg.received_at = res->finished_at;
    it.msg.snapshot = na_topology_ref(res->topo);
    if (!na__live_enqueue(d, &it))
        return false;

    if ((b = make_batch(res))) {
        memset(&it, 0, sizeof(it));
        it.source = s->index;
        it.msg.type = NA_STREAM_UNKNOWN;
        it.snmp = b;
        if (!na__live_enqueue(d, &it))
            return false;
    } else {
        na_log(NA_LOG_ERROR, "snmp: out of memory building the device tables");
    }

    run_samples(&ss, res);
    if (ss.n) {
        memset(&it, 0, sizeof(it));
        it.source = s->index;
        it.msg.type = NA_STREAM_METRICS;
        it.msg.timestamp = res->finished_at;
        it.msg.received_at = res->finished_at;
        it.msg.samples = ss.s;
        it.msg.n_samples = ss.n;
        return na__live_enqueue(d, &it);
    }
    free(ss.s);
    return true;
}

static void *poller_main(void *arg)
{
    na__snmp_source *s = arg;
    bool first = true;

    while (!s->stop) {
        na_time_ms now = na_time_now(), due = na__snmp_poller_next_due(s->poller);
        na_snmp_poll_result res;
        na_error err;

        if (!first && due > now) {
            struct timespec until;
            na_time_ms wait = due - now;
            if (wait > 1000)
                wait = 1000; /* re-check the stop flag now and then */
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += wait / 1000;
            until.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_mutex_lock(&s->lock);
            if (!s->stop)
                pthread_cond_timedwait(&s->wake, &s->lock, &until);
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        na_error_clear(&err);
        if (na__snmp_poller_run(s->poller, now, first, &s->stop, &res, &err)) {
            char buf[700];
            na_log(NA_LOG_ERROR, "snmp: poll failed: %s", na_error_format(&err, buf, sizeof(buf)));
            first = false;
            continue;
        }
        first = false;
        s->runs++;
        if (s->stop)
            break; /* a run cut short by the stop is not a state of the network */
        na_log(res.n_unreachable ? NA_LOG_WARN : NA_LOG_INFO,
               "snmp: polled %zu devices (%zu unreachable)%s in %lld ms: %zu links, %zu stubs",
               res.n_polled, res.n_unreachable, res.topology_polled ? " with topology" : "",
               (long long)(res.finished_at - res.started_at), res.net ? res.net->n_links : 0,
               res.net ? res.net->n_stubs : 0);
        if (!hand_over(s, &res))
            break;
    }
    return NULL;
}

int na__snmp_source_start(na__daemon *d, na_error *err)
{
    na__snmp_source *s;
    size_t index = SIZE_MAX;
    int rc;

    for (size_t i = 0; i < d->cfg.n_sources; i++)
        if (d->cfg.sources[i].type && strcmp(d->cfg.sources[i].type, "snmp") == 0)
            index = i;
    if (index == SIZE_MAX)
        return NA_OK;
    if (!(s = calloc(1, sizeof(*s))))
        return na_error_set(err, NA_ENOMEM, "out of memory");
    s->d = d;
    s->index = index;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    d->snmp = s;
    if ((rc = na__snmp_poller_new(&d->cfg.snmp, &s->poller, err)))
        return rc;
    snprintf(d->sources[index].state, sizeof(d->sources[index].state), "polling");
    if (pthread_create(&s->thread, NULL, poller_main, s) != 0)
        return na_error_set(err, NA_EIO, "snmp: cannot start the poller thread");
    s->started = true;
    na_log(NA_LOG_INFO, "snmp: polling %zu devices every %llds (topology every %llds)",
           d->cfg.snmp.n_devices, (long long)(d->cfg.snmp.interval_ms / 1000),
           (long long)(d->cfg.snmp.topology_interval_ms / 1000));
    return NA_OK;
}

void na__snmp_source_stop(na__daemon *d)
{
    na__snmp_source *s = d->snmp;

    if (!s || !s->started)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->started = false;
}

void na__snmp_source_free(na__daemon *d)
{
    na__snmp_source *s = d->snmp;

    if (!s)
        return;
    na__snmp_source_stop(d);
    na__snmp_poller_free(s->poller);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
    d->snmp = NULL;
    json_decref(d->snmp_docs);
    d->snmp_docs = NULL;
    json_decref(d->snmp_status);
    d->snmp_status = NULL;
}

/* ---- the engine's side ----------------------------------------------------------------------- */

void na__snmp_apply(na__daemon *d, na_warehouse *wh, na__snmp_batch *b)
{
    na_error err;
    json_t *old_docs, *old_status;
    char tb[40];

    na_error_clear(&err);
    if (na_wh_begin(wh, &err) == NA_OK) {
        int rc = NA_OK;
        for (int k = 0; k < NA__SNMP_TABLES && rc == NA_OK; k++) {
            na_time_ms last = 0, at = b->at;
            /* Observations of a table never go back in time (clock steps). */
            if (na_wh_last_observation(wh, batch_tables[k], &last, NULL) == NA_OK && last > at)
                at = last;
            rc = na_wh_observe(wh, batch_tables[k], b->t[k].rows, b->t[k].n, at, NA_WH_FULL,
                               NULL, &err);
        }
        if (rc || na_wh_commit(wh, &err)) {
            char buf[700];
            na_wh_rollback(wh);
            na_log(NA_LOG_ERROR, "warehouse: snmp device tables: %s",
                   na_error_format(&err, buf, sizeof(buf)));
        }
    }
    json_object_set_new(b->status, "last_poll", json_string(na_time_format(b->at, tb, sizeof(tb))));
    pthread_mutex_lock(&d->lock);
    old_docs = d->snmp_docs;
    old_status = d->snmp_status;
    d->snmp_docs = b->docs;
    d->snmp_status = b->status;
    b->docs = b->status = NULL;
    if (d->snmp)
        d->snmp_polls++;
    snprintf(d->sources[d->snmp ? d->snmp->index : 0].state,
             sizeof(d->sources[0].state), "ok");
    pthread_mutex_unlock(&d->lock);
    json_decref(old_docs);
    json_decref(old_status);
}

json_t *na__snmp_status_json(na__daemon *d)
{
    json_t *out;

    if (!d->snmp)
        return json_null();
    pthread_mutex_lock(&d->lock);
    out = d->snmp_status ? json_deep_copy(d->snmp_status) : json_object();
    json_object_set_new(out, "polls", json_integer((json_int_t)d->snmp_polls));
    pthread_mutex_unlock(&d->lock);
    json_object_set_new(out, "configured_devices",
                        json_integer((json_int_t)d->cfg.snmp.n_devices));
    json_object_set_new(out, "interval_s", json_integer(d->cfg.snmp.interval_ms / 1000));
    json_object_set_new(out, "topology_interval_s",
                        json_integer(d->cfg.snmp.topology_interval_ms / 1000));
    return out;
}

json_t *na__snmp_live_docs(na__daemon *d)
{
    json_t *out;

    pthread_mutex_lock(&d->lock);
    out = json_incref(d->snmp_docs);
    pthread_mutex_unlock(&d->lock);
    return out;
}
