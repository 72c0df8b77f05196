/*
 * netassure/io.h: importing topologies (our JSON schema, GML, GraphML, the seed's YAML
 * devices / bgp_peers configuration) and exporting them as JSON.
 *
 * Every parser takes (data, len) and never relies on a terminating NUL; inputs over
 * NA_IMPORT_MAX_BYTES are refused with NA_ETOOBIG. Fatal problems give NA_EPARSE with the
 * position in `err` (line and column, or byte offset); problems that can be handled (parallel
 * links, self-loops, missing coordinates, attributes of the wrong type, unknown fields) are
 * counted in the import report and the import goes on.
 */
#ifndef NETASSURE_IO_H
#define NETASSURE_IO_H

#include <stddef.h>

#include "netassure/common.h"
#include "netassure/topology.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NA_IMPORT_MAX_BYTES ((size_t)256 << 20)
#define NA_IMPORT_MAX_MESSAGES 32

typedef enum na_format {
    NA_FORMAT_AUTO = 0,
    NA_FORMAT_JSON,
    NA_FORMAT_GML,
    NA_FORMAT_GRAPHML,
    NA_FORMAT_YAML
} na_format;

/* "auto", "json", "gml", "graphml", "yaml". */
const char *na_format_name(na_format fmt);
int na_format_parse(const char *name, na_format *out);
/* By file extension, then by content (first non-blank bytes). NA_FORMAT_AUTO if unknown. */
na_format na_format_guess(const char *path, const char *data, size_t len);

/* What an import handled without failing. */
typedef struct na_import_report {
    size_t nodes;
    size_t links;
    size_t multi_links;          /* links parallel to an earlier link between the same nodes */
    size_t self_loops;
    size_t missing_coordinates;  /* nodes without a usable latitude and longitude */
    size_t wrong_type;           /* values of the wrong type (ignored or kept as free attribute) */
    size_t unknown_fields;       /* fields the schema does not know (kept as free attributes) */
    size_t isolated_nodes;       /* nodes without any link */
    size_t n_warnings;           /* every warning, including those beyond the kept messages */
    size_t n_messages;
    char messages[NA_IMPORT_MAX_MESSAGES][200];
} na_import_report;

void na_import_report_init(na_import_report *rep);
/* Adds a warning (kept when there is room; always counted). NULL rep is a no-op. */
void na_import_report_warn(na_import_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Parsers. `source` names the input in messages (file name or "<input>"). On success *out is a
 * new snapshot (refcount 1; the caller unrefs it). `rep` may be NULL.
 */
int na_import_json(const char *data, size_t len, const char *source, na_topology **out,
                   na_import_report *rep, na_error *err);
int na_import_gml(const char *data, size_t len, const char *source, na_topology **out,
                  na_import_report *rep, na_error *err);
int na_import_graphml(const char *data, size_t len, const char *source, na_topology **out,
                      na_import_report *rep, na_error *err);
int na_import_yaml(const char *data, size_t len, const char *source, na_topology **out,
                   na_import_report *rep, na_error *err);

/* Dispatches on fmt (NA_FORMAT_AUTO guesses). */
int na_import_buffer(na_format fmt, const char *data, size_t len, const char *source,
                     na_topology **out, na_import_report *rep, na_error *err);
/* Reads a whole file (at most NA_IMPORT_MAX_BYTES) and imports it. */
int na_import_file(const char *path, na_format fmt, na_topology **out, na_import_report *rep,
                   na_error *err);
/* Reads a whole file into a malloc'd buffer (NUL-terminated for convenience; *len excludes it). */
int na_read_file(const char *path, size_t max_bytes, char **data, size_t *len, na_error *err);

/*
 * Delta messages of our JSON schema (docs/topology-schema.md): one delta object, an array of
 * them, or an events document (examples/temporal-events.json). *out is a malloc'd array of
 * *n_out deltas; free each with na_delta_free and the array with free().
 */
int na_json_parse_deltas(const char *data, size_t len, const char *source, na_delta ***out,
                         size_t *n_out, na_error *err);

/* Our JSON snapshot message for `topo`, malloc'd and NUL-terminated; NULL on ENOMEM. */
/* NA_EXPORT_EXPLICIT: write "status": "unknown" and "name": null instead of leaving them out
 * (the API's Node, Link and Topology objects always carry them). */
enum { NA_EXPORT_PRETTY = 1, NA_EXPORT_EXPLICIT = 2 };
char *na_export_json(const na_topology *topo, unsigned flags, size_t *len);
/* Free attributes as one JSON object text ("{}" when none has a value); malloc'd, NULL on
 * ENOMEM. Numbers, strings and booleans keep their JSON types. */
char *na_export_attrs_json(const na_attr *attrs, size_t n, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
