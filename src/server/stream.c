/*
 * stream.c: GET /stream subscriptions. A client says which event kinds it wants and may filter
 * by node and severity; the HTTP layer asks na__stream_accept for every event it publishes.
 * These callbacks run on the event-loop thread: they only parse small messages and compare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/daemon.h"
#include "server/api.h"

#define MAX_FILTER_VALUES 256

enum { K_TOPOLOGY = 1, K_ANALYTICS = 2, K_ALERT = 4, K_ANOMALY = 8, K_ALL = 15 };

typedef struct stream_sub {
    unsigned kinds;
    char **nodes;
    size_t n_nodes;
    char **severities;
    size_t n_severities;
} stream_sub;


static const struct {
    const char *sub;   /* what a client subscribes to */
    const char *type;  /* the event's type */
    unsigned bit;
} kinds[] = {
    {"topology", "topology", K_TOPOLOGY},
    {"analytics", "analytics", K_ANALYTICS},
    {"alerts", "alert", K_ALERT},
    {"anomalies", "anomaly", K_ANOMALY},
};

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

static void sub_clear(stream_sub *s)
{
    free_list(s->nodes, s->n_nodes);
    free_list(s->severities, s->n_severities);
    s->nodes = s->severities = NULL;
    s->n_nodes = s->n_severities = 0;
}

char *na__stream_open(na__ws_client *client, const char *path, void **state, void *ud)
{
    stream_sub *s = calloc(1, sizeof(*s));

    (void)client;
    (void)path;
    (void)ud;
    if (s)
        s->kinds = K_ALL;
    *state = s;
    return NULL;
}

static char *reply_error(const char *msg)
{
    json_t *o = json_pack("{s:s, s:s}", "type", "error", "message", msg);
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return t;
}

/* A filter list: strings only, at most MAX_FILTER_VALUES. */
static int read_list(json_t *v, char ***out, size_t *n, const char *what, char *msg, size_t len)
{
    size_t i;
    json_t *x;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > MAX_FILTER_VALUES) {
        snprintf(msg, len, "filter.%s: expected a list of at most %d strings", what,
                 MAX_FILTER_VALUES);
        return -1;
    }
    *out = calloc(json_array_size(v) + 1, sizeof(char *));
    if (!*out) {
        snprintf(msg, len, "out of memory");
        return -1;
    }
    json_array_foreach(v, i, x) {
        if (!json_is_string(x)) {
            snprintf(msg, len, "filter.%s: expected strings", what);
            return -1;
        }
        (*out)[(*n)++] = strdup(json_string_value(x));
    }
    return 0;
}

char *na__stream_message(na__ws_client *client, void *state, const char *text, size_t len,
                         void *ud)
{
    stream_sub *s = state, next = {0};
    json_error_t jerr;
    json_t *msg, *sub, *filter, *kl, *reply;
    char err[200], *out;
    size_t i;
    json_t *x;

    (void)client;
    (void)ud;
    if (!s)
        return reply_error("out of memory");
    msg = json_loadb(text, len, 0, &jerr);
    if (!json_is_object(msg)) {
        json_decref(msg);
        snprintf(err, sizeof(err), "expected a JSON object such as {\"subscribe\": [\"alerts\"]}");
        return reply_error(err);
    }
    sub = json_object_get(msg, "subscribe");
    filter = json_object_get(msg, "filter");
    if (!sub && !filter) {
        json_decref(msg);
        return reply_error("unknown message: send {\"subscribe\": [...], \"filter\": {...}}");
    }
    next.kinds = sub ? 0 : K_ALL;
    if (sub) {
        if (!json_is_array(sub)) {
            json_decref(msg);
            return reply_error("subscribe: expected a list of topology, analytics, alerts, "
                               "anomalies");
        }
        json_array_foreach(sub, i, x) {
            size_t k;
            for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
                if (json_is_string(x) && strcmp(json_string_value(x), kinds[k].sub) == 0)
                    break;
            if (k == sizeof(kinds) / sizeof(kinds[0])) {
                json_decref(msg);
                return reply_error("subscribe: unknown kind (known: topology, analytics, "
                                   "alerts, anomalies)");
            }
            next.kinds |= kinds[k].bit;
        }
        if (!next.kinds)
            next.kinds = K_ALL;
    }
    if (filter && !json_is_object(filter)) {
        json_decref(msg);
        return reply_error("filter: expected an object with node_id and/or severity lists");
    }
    if (filter && (read_list(json_object_get(filter, "node_id"), &next.nodes, &next.n_nodes,
                             "node_id", err, sizeof(err)) ||
                   read_list(json_object_get(filter, "severity"), &next.severities,
                             &next.n_severities, "severity", err, sizeof(err)))) {
        sub_clear(&next);
        json_decref(msg);
        return reply_error(err);
    }
    json_decref(msg);
    sub_clear(s);
    *s = next;
    kl = json_array();
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (s->kinds & kinds[k].bit)
            json_array_append_new(kl, json_string(kinds[k].sub));
    reply = json_pack("{s:s, s:o}", "type", "subscribed", "kinds", kl);
    out = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
    json_decref(reply);
    return out;
}

void na__stream_close(na__ws_client *client, void *state, void *ud)
{
    stream_sub *s = state;

    (void)client;
    (void)ud;
    if (s) {
        sub_clear(s);
        free(s);
    }
}

static bool in_list(char **l, size_t n, const char *v)
{
    if (!v)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i], v) == 0)
            return true;
    return false;
}

bool na__stream_accept(void *state, const void *event, void *ud)
{
    const stream_sub *s = state;
    const na__stream_event *ev = event;
    unsigned bit = 0;

    (void)ud;
    if (!s || !ev)
        return false;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (strcmp(ev->type, kinds[k].type) == 0)
            bit = kinds[k].bit;
    if (!(s->kinds & bit))
        return false;
    /* Node and severity filters apply to the events that carry them. */
    if (s->n_nodes && (bit == K_ALERT || bit == K_ANOMALY) &&
        !in_list(s->nodes, s->n_nodes, ev->node_id))
        return false;
    if (s->n_severities && bit == K_ALERT && !in_list(s->severities, s->n_severities, ev->severity))
        return false;
    return true;
}
