/*
 * alert/event.h (internal): what the alert manager reacts to.
 *
 * The engine turns everything that happens into events: stream deltas and snapshot diffs
 * (topology changes), differences between two analyses (articulation points, importance jumps,
 * cluster types), detector anomalies and metric samples. Rules match events by type and by
 * their fields (docs/alerts.md lists them; custom rules see exactly na__event_json's object).
 */
#ifndef NA_ALERT_EVENT_H
#define NA_ALERT_EVENT_H

#include <jansson.h>
#include <stdint.h>

#include "alert/expr.h"
#include "netassure/warehouse.h"

/* Event types; the names are what rules and expressions use. */
#define NA_EVENT_TYPES(X)                                                                    \
    X(NODE_DOWN, "node_down") X(NODE_UP, "node_up") X(NODE_ADDED, "node_added")              \
    X(NODE_REMOVED, "node_removed") X(NODE_CHANGED, "node_changed")                           \
    X(LINK_DOWN, "link_down") X(LINK_UP, "link_up") X(LINK_ADDED, "link_added")              \
    X(LINK_REMOVED, "link_removed") X(LINK_CHANGED, "link_changed")                           \
    X(ARTICULATION_POINT, "articulation_point")                                               \
    X(ARTICULATION_POINT_CLEARED, "articulation_point_cleared")                               \
    X(IMPORTANCE_JUMP, "importance_jump") X(CLUSTER_TYPE_CHANGE, "cluster_type_change")      \
    X(ANOMALY, "anomaly") X(METRIC, "metric")

typedef enum na__event_type {
#define NA__EV_ENUM(e, s) NA_EV_##e,
    NA_EVENT_TYPES(NA__EV_ENUM)
#undef NA__EV_ENUM
    NA_EV_COUNT
} na__event_type;

const char *na__event_type_name(na__event_type t);
/* -1 when unknown. */
int na__event_type_parse(const char *s);

typedef struct na__event {
    na__event_type type;
    const char *node_id;        /* the node it is about; for link events NULL (see source/target) */
    const char *link_id;        /* link events */
    const char *source, *target;/* link events: the link's ends */
    const char *site;           /* the node's site (link events: the source node's), or NULL */
    const char *metric;         /* METRIC: the sample's name */
    const char *detector;       /* ANOMALY: the detector */
    const char *anomaly_id;     /* ANOMALY */
    const char *reason;         /* a "reason" the stream gave with the op, or NULL */
    const char *origin;         /* the source that produced it ("stream:upstream", "file", ...) */
    double value;               /* ANOMALY: score; METRIC: value; IMPORTANCE_JUMP: new
                                   importance; CLUSTER_TYPE_CHANGE: unused; NAN when none */
    double previous;            /* IMPORTANCE_JUMP: old importance; METRIC: NAN */
    const char *text;           /* CLUSTER_TYPE_CHANGE: "old->new"; else NULL */
    uint64_t version;           /* topology version it belongs to (0: none) */
    na_time_ms at;              /* when it happened */
    int64_t received_ns;        /* when the triggering message arrived (CLOCK_REALTIME ns), 0
                                   when not from a stream; carried into alert details for
                                   latency measurements */
} na__event;

/* The event's fields as an object (null members left out); new reference. */
json_t *na__event_json(const na__event *e);

/* The member names na__event_json can write, NULL-terminated (the fields custom rules see:
 * type, node_id, link_id, source, target, site, metric, detector, anomaly_id, reason, origin,
 * value, previous, text, version, at, received_ns). */
extern const char *const na__event_fields[];
/* Member i of na__event_json's object as an expression value (NA_XV_NULL when left out);
 * `buf` (at least 40 bytes) holds text made for it ("at"), strings else point into e. */
void na__event_field(const na__event *e, size_t i, na__expr_value *out, char *buf, size_t len);
/* True when expression x (parsed with na__event_fields) holds for event e. */
bool na__event_matches(const na__expr *x, const na__event *e);

#endif
