/*
 * graph_file.h (internal): the half that the GML and GraphML importers share.
 *
 * A parser records each node and edge of its file as it reads it: the ids it names, where it
 * stands in the file, and its typed key/value fields, in file order. na__gfile_build() then
 * maps the fields onto the model with one set of rules for both formats (so a Zoo graph reads
 * the same from GML as from GraphML), counts what it handled in the import report and makes the
 * snapshot. Keeping the records until the end lets edges name nodes that come later in the file,
 * which both formats allow.
 *
 * Mapping (keys are case-sensitive unless noted):
 *   node  label                    -> label (numbers are written out as text)
 *         Latitude / latitude      -> latitude  (number or numeric string, else wrong_type)
 *         Longitude / longitude    -> longitude (same)
 *         role, site               -> role, site (strings; numbers written out)
 *         asn                      -> asn (1 .. 4294967295, number or "65001" / "AS65001")
 *         status                   -> status ("up", "down", "unknown")
 *   edge  LinkLabel                -> label; a plain `label` fills the label when no LinkLabel
 *         LinkSpeedRaw             -> capacity (bit/s, number or numeric string)
 *         LinkSpeed x LinkSpeedUnits (T/G/M/K, first letter) -> capacity when no LinkSpeedRaw;
 *                                     both stay free attributes
 *         status                   -> status
 *   anything else is a free attribute with its type. A value of the wrong type for a mapped
 *   field counts in wrong_type, leaves the field unknown and is kept as a free attribute. A key
 *   repeated in one node or edge keeps its first value (warned).
 */
#ifndef NA_IO_GRAPH_FILE_H
#define NA_IO_GRAPH_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "netassure/io.h"

/*
 * Fields kept per node or edge. Real files have a dozen; the cap keeps the per-item key checks
 * (quadratic here and in the builder) cheap on hostile input.
 */
#define NA__GFILE_MAX_FIELDS 1024

typedef enum na__gfile_kind {
    NA__GFILE_NODE = 0,
    NA__GFILE_EDGE = 1
} na__gfile_kind;

typedef struct na__gfile_field {
    const char *key;
    na_value value;
    long line;
    bool counted_wrong;  /* the parser already counted this value in wrong_type */
} na__gfile_field;

/* One node or edge as the file gave it. Strings live in the gfile's arena. */
typedef struct na__gfile_item {
    const char *id;      /* node: required before build; edge: optional */
    const char *source;  /* edges: node ids */
    const char *target;
    long line;
    long column;         /* 0 when the format gives none */
    size_t first_field;
    size_t n_fields;
    bool too_many_fields;  /* warned that fields were dropped */
} na__gfile_item;

typedef struct na__gfile {
    na__arena arena;           /* every key, string value and id of the records */
    const char *source;        /* input name used in messages */
    na_import_report *rep;     /* may be NULL */
    const char *name;          /* graph name (arena) or NULL */
    na__gfile_item *items[2];  /* by na__gfile_kind */
    size_t n_items[2];
    size_t cap_items[2];
    na__gfile_field *fields;
    size_t n_fields;
    size_t cap_fields;
    na__gfile_item *current;   /* the item fields are added to; NULL before the first */
} na__gfile;

void na__gfile_init(na__gfile *g, const char *source, na_import_report *rep);
void na__gfile_free(na__gfile *g);

/*
 * Starts a new node or edge; later fields belong to it. The returned item (for setting id,
 * source, target) stays valid until the next na__gfile_begin. NULL on ENOMEM.
 */
na__gfile_item *na__gfile_begin(na__gfile *g, na__gfile_kind kind, long line, long column);

/*
 * Adds a field to the current item. `key` and a string value must live in g->arena (they are
 * borrowed, not copied). Fields beyond NA__GFILE_MAX_FIELDS in one item are dropped and counted
 * in unknown_fields. 0 or NA_ENOMEM.
 */
int na__gfile_add_field(na__gfile *g, const char *key, const na_value *value, long line,
                        bool counted_wrong);

/* A report warning prefixed with "source:line: " (line 0: no line). */
void na__gfile_warn(na__gfile *g, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Maps every record onto a new snapshot (*out, refcount 1, the caller unrefs it) and fills the
 * report. Fatal problems (a node without an id, a duplicate node id, an edge naming an unknown
 * node) give NA_EPARSE with the record's position. The gfile still needs na__gfile_free.
 */
int na__gfile_build(na__gfile *g, na_topology **out, na_error *err);

#endif
