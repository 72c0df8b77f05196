/*
 * netassure/topology.h: the topology model.
 *
 * A topology snapshot (`na_topology`) is immutable and reference-counted: readers on any
 * thread share it without locks. A new snapshot is made with a builder, either from scratch
 * (importers) or from an existing snapshot (deltas); applying a delta to snapshot version v
 * yields version v + 1 and leaves v untouched.
 *
 * The model keeps everything the source said, including parallel links and self-loops;
 * analytics (netassure/graph.h) collapse parallel links and drop self-loops.
 */
#ifndef NETASSURE_TOPOLOGY_H
#define NETASSURE_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netassure/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Operational status of a node or link. Analytics leave out down links and links of down nodes. */
typedef enum na_status {
    NA_STATUS_UNKNOWN = 0,
    NA_STATUS_UP,
    NA_STATUS_DOWN
} na_status;

/* "unknown", "up", "down". */
const char *na_status_name(na_status status);
/* Accepts "up", "down", "unknown" (case-insensitive); returns 0 or NA_EINVAL. */
int na_status_parse(const char *name, na_status *out);

/* A free attribute value. Strings are owned by the snapshot / builder / delta holding them. */
typedef enum na_value_type {
    NA_VAL_NULL = 0,
    NA_VAL_BOOL,
    NA_VAL_INT,
    NA_VAL_DOUBLE,
    NA_VAL_STRING
} na_value_type;

typedef struct na_value {
    na_value_type type;
    union {
        bool b;
        int64_t i;
        double d;
        const char *s;
    } u;
} na_value;

typedef struct na_attr {
    const char *key;
    na_value value;
} na_attr;

/*
 * A node (device, AS, PoP). `id` is unique in a snapshot; for imported files it is the file's
 * node id as a string. Unknown values: NULL strings, asn 0 (AS 0 is reserved, RFC 7607),
 * NAN latitude / longitude / capacity, NA_STATUS_UNKNOWN.
 */
typedef struct na_node {
    const char *id;
    const char *label;
    const char *role;      /* e.g. "spine", "leaf", "edge", "core" */
    const char *site;
    int64_t asn;
    double latitude;       /* degrees, WGS84 */
    double longitude;
    double capacity;       /* bit/s of switching or uplink capacity, when known */
    na_status status;
    const na_attr *attrs;  /* free attributes, keys unique */
    size_t n_attrs;
} na_node;

/*
 * A link between two nodes (undirected). `id` is unique in a snapshot; when the source gives
 * none it is "SOURCE--TARGET", with "#2", "#3", ... appended for parallel links.
 */
typedef struct na_link {
    const char *id;
    const char *source;    /* node ids */
    const char *target;
    size_t source_index;   /* node indexes in the snapshot (set by the builder) */
    size_t target_index;
    const char *label;
    double capacity;       /* bit/s, NAN when unknown */
    na_status status;
    const na_attr *attrs;
    size_t n_attrs;
} na_link;

/* Sets every field of a template to "unknown" (NULL, 0, NAN). */
void na_node_init(na_node *node);
void na_link_init(na_link *link);

/* Free attribute lookup; NULL when absent. */
const na_value *na_node_attr(const na_node *node, const char *key);
const na_value *na_link_attr(const na_link *link, const char *key);

/* ---- Snapshots ---------------------------------------------------------------------- */

typedef struct na_topology na_topology;

/* Reference counting (atomic). unref on NULL is a no-op; the last unref frees. */
na_topology *na_topology_ref(na_topology *topo);
void na_topology_unref(na_topology *topo);

uint64_t na_topology_version(const na_topology *topo);
/* Milliseconds since the Unix epoch at which this snapshot became valid (0 = not given). */
int64_t na_topology_timestamp_ms(const na_topology *topo);
/* Name given by the source (file's graph label, ...) or NULL. */
const char *na_topology_name(const na_topology *topo);

size_t na_topology_node_count(const na_topology *topo);
size_t na_topology_link_count(const na_topology *topo);
/* Index must be < count. Pointers stay valid while the snapshot is referenced. */
const na_node *na_topology_node(const na_topology *topo, size_t index);
const na_link *na_topology_link(const na_topology *topo, size_t index);
/* Id lookup, O(1). Return 0 and set *index, or NA_ENOTFOUND. */
int na_topology_find_node(const na_topology *topo, const char *id, size_t *index);
int na_topology_find_link(const na_topology *topo, const char *id, size_t *index);

/* ---- Builder -------------------------------------------------------------------------- */

typedef struct na_builder na_builder;

/* A new, empty builder; the snapshot it finishes has version 1. NULL on ENOMEM. */
na_builder *na_builder_new(void);
/* A builder holding a copy of `base`; the snapshot it finishes has base's version + 1. */
na_builder *na_builder_from(const na_topology *base);
void na_builder_free(na_builder *b);

int na_builder_set_name(na_builder *b, const char *name);
void na_builder_set_version(na_builder *b, uint64_t version);
void na_builder_set_timestamp_ms(na_builder *b, int64_t ms);

/* Field masks for updates: which fields of the template to apply. */
enum {
    NA_FIELD_LABEL = 1u << 0,
    NA_FIELD_ROLE = 1u << 1,
    NA_FIELD_SITE = 1u << 2,
    NA_FIELD_ASN = 1u << 3,
    NA_FIELD_LATITUDE = 1u << 4,
    NA_FIELD_LONGITUDE = 1u << 5,
    NA_FIELD_CAPACITY = 1u << 6,
    NA_FIELD_STATUS = 1u << 7,
    NA_FIELD_ATTRS = 1u << 8,  /* merge by key; an NA_VAL_NULL value removes the key */
    NA_FIELD_ALL = 0x1ffu
};

/*
 * Adds a node, copying every string of the template. Fails with NA_EINVAL on a missing or
 * duplicate id (the builder is unchanged).
 */
int na_builder_add_node(na_builder *b, const na_node *tmpl, na_error *err);
/* Applies the `fields` of tmpl to the node with tmpl->id; NA_ENOTFOUND if absent. */
int na_builder_update_node(na_builder *b, const na_node *tmpl, unsigned fields, na_error *err);
/* Removes a node and every link touching it; NA_ENOTFOUND if absent. */
int na_builder_remove_node(na_builder *b, const char *id, na_error *err);
/* Looks a live node up (pointer valid until the next builder call), NULL if absent. */
const na_node *na_builder_find_node(const na_builder *b, const char *id);

/*
 * Adds a link between existing nodes tmpl->source and tmpl->target (NA_ENOTFOUND otherwise).
 * A NULL or empty tmpl->id gets the synthesized id described at na_link; a duplicate given id
 * is NA_EINVAL. If out_id is not NULL it receives the link's id (owned by the builder).
 */
int na_builder_add_link(na_builder *b, const na_link *tmpl, const char **out_id, na_error *err);
int na_builder_update_link(na_builder *b, const na_link *tmpl, unsigned fields, na_error *err);
int na_builder_remove_link(na_builder *b, const char *id, na_error *err);
const na_link *na_builder_find_link(const na_builder *b, const char *id);

size_t na_builder_node_count(const na_builder *b);
size_t na_builder_link_count(const na_builder *b);

/*
 * Freezes the builder into a snapshot with refcount 1 in *out. Consumes the builder in every
 * case (do not free it afterwards).
 */
int na_builder_finish(na_builder *b, na_topology **out, na_error *err);

/* ---- Deltas --------------------------------------------------------------------------- */

typedef enum na_delta_kind {
    NA_DELTA_NODE_ADD = 0,
    NA_DELTA_NODE_REMOVE,
    NA_DELTA_NODE_UPDATE,
    NA_DELTA_LINK_ADD,
    NA_DELTA_LINK_REMOVE,
    NA_DELTA_LINK_UPDATE
} na_delta_kind;

/*
 * One operation. Node ops use `node` (remove: only node.id); link ops use `link` (remove: id,
 * or, when id is NULL, the first link between link.source and link.target). Updates apply
 * the fields named in `fields`.
 */
typedef struct na_delta_op {
    na_delta_kind kind;
    unsigned fields;
    na_node node;
    na_link link;
} na_delta_op;

typedef struct na_delta na_delta;

na_delta *na_delta_new(void);
void na_delta_free(na_delta *d);
/* Appends a copy of `op` (strings and attributes copied). */
int na_delta_append(na_delta *d, const na_delta_op *op);
size_t na_delta_count(const na_delta *d);
const na_delta_op *na_delta_get(const na_delta *d, size_t index);
void na_delta_set_seq(na_delta *d, uint64_t seq);
uint64_t na_delta_seq(const na_delta *d);
void na_delta_set_timestamp_ms(na_delta *d, int64_t ms);
int64_t na_delta_timestamp_ms(const na_delta *d);

/*
 * Applies every op of `d` in order to `base`, giving a new snapshot (version base + 1, the
 * delta's timestamp when it has one). All or nothing: on error *out is NULL and err says which
 * op failed and why. `base` is never modified.
 */
int na_topology_apply_delta(const na_topology *base, const na_delta *d, na_topology **out,
                            na_error *err);

#ifdef __cplusplus
}
#endif
#endif
