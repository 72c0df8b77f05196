/*
 * event.c: event type names and the event's fields, as JSON and as expression values. Both
 * come from one table, so a custom rule sees exactly the object /stream and NATS carry.
 */
#include "alert/event.h"

#include <math.h>
#include <string.h>

static const char *const type_names[] = {
#define NA__EV_NAME(e, s) s,
    NA_EVENT_TYPES(NA__EV_NAME)
#undef NA__EV_NAME
};

const char *na__event_type_name(na__event_type t)
{
    return (unsigned)t < NA_EV_COUNT ? type_names[t] : "unknown";
}

int na__event_type_parse(const char *s)
{
    for (int i = 0; s && i < NA_EV_COUNT; i++)
        if (strcmp(s, type_names[i]) == 0)
            return i;
    return -1;
}

enum { F_TYPE, F_NODE, F_LINK, F_SOURCE, F_TARGET, F_SITE, F_METRIC, F_DETECTOR, F_ANOMALY,
       F_REASON, F_ORIGIN, F_VALUE, F_PREVIOUS, F_TEXT, F_VERSION, F_AT, F_RECEIVED, F_COUNT };

const char *const na__event_fields[] = {
    "type", "node_id", "link_id", "source", "target", "site", "metric", "detector",
    "anomaly_id", "reason", "origin", "value", "previous", "text", "version", "at",
    "received_ns", NULL};

static void str_value(const char *s, na__expr_value *out)
{
    if (s) {
        out->type = NA_XV_STR;
        out->s = s;
    }
}

void na__event_field(const na__event *e, size_t i, na__expr_value *out, char *buf, size_t len)
{
    *out = (na__expr_value){.type = NA_XV_NULL};
    switch (i) {
    case F_TYPE: str_value(na__event_type_name(e->type), out); break;
    case F_NODE: str_value(e->node_id, out); break;
    case F_LINK: str_value(e->link_id, out); break;
    case F_SOURCE: str_value(e->source, out); break;
    case F_TARGET: str_value(e->target, out); break;
    case F_SITE: str_value(e->site, out); break;
    case F_METRIC: str_value(e->metric, out); break;
    case F_DETECTOR: str_value(e->detector, out); break;
    case F_ANOMALY: str_value(e->anomaly_id, out); break;
    case F_REASON: str_value(e->reason, out); break;
    case F_ORIGIN: str_value(e->origin, out); break;
    case F_TEXT: str_value(e->text, out); break;
    case F_VALUE:
    case F_PREVIOUS: {
        double x = i == F_VALUE ? e->value : e->previous;
        if (isfinite(x)) {
            out->type = NA_XV_NUM;
            out->n = x;
        }
        break;
    }
    case F_VERSION:
        if (e->version) {
            out->type = NA_XV_NUM;
            out->n = (double)e->version;
        }
        break;
    case F_AT:
        /* Every event has a time; 0 is the epoch, not "none". */
        str_value(na_time_format(e->at, buf, len), out);
        break;
    case F_RECEIVED:
        if (e->received_ns) {
            out->type = NA_XV_NUM;
            out->n = (double)e->received_ns;
        }
        break;
    default:
        break;
    }
}

json_t *na__event_json(const na__event *e)
{
    json_t *o = json_object();
    char buf[48];

    if (!o)
        return NULL;
    for (size_t i = 0; i < F_COUNT; i++) {
        na__expr_value v;
        json_t *j = NULL;
        na__event_field(e, i, &v, buf, sizeof(buf));
        if (v.type == NA_XV_STR)
            j = json_string(v.s);
        else if (v.type == NA_XV_NUM && i == F_VERSION)
            j = json_integer((json_int_t)e->version);
        else if (v.type == NA_XV_NUM && i == F_RECEIVED)
            j = json_integer((json_int_t)e->received_ns);
        else if (v.type == NA_XV_NUM)
            j = json_real(v.n);
        else
            continue;
        /* A string that is not UTF-8 (json_string refuses it) is left out, not fatal. */
        if (j && json_object_set_new(o, na__event_fields[i], j)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* The lookup of na__event_matches: the event and room for a made text ("at"). */
typedef struct match_ctx {
    const na__event *ev;
    char buf[48];
} match_ctx;

static void match_lookup(void *ud, size_t i, na__expr_value *out)
{
    match_ctx *m = ud;

    na__event_field(m->ev, i, out, m->buf, sizeof(m->buf));
}

bool na__event_matches(const na__expr *x, const na__event *e)
{
    match_ctx m = {.ev = e};

    return na__expr_eval(x, match_lookup, &m);
}
