/*
 * netassure/diff.h: differences between two topology snapshots (nodes and links added,
 * removed or changed, field by field). See docs/whatif-cascade-diff.md.
 */
#ifndef NETASSURE_DIFF_H
#define NETASSURE_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "netassure/common.h"
#include "netassure/topology.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum na_diff_kind { NA_DIFF_ADDED = 0, NA_DIFF_REMOVED, NA_DIFF_CHANGED } na_diff_kind;

typedef struct na_diff_change { const char *field; char *before; char *after; } na_diff_change;  /* values rendered as text ("" = absent); strings owned by the result */

typedef struct na_diff_item {
    na_diff_kind kind;
    bool is_link;
    const char *id;       /* owned by the result (copied) */
    na_diff_change *changes; size_t n_changes;     /* for NA_DIFF_CHANGED */
} na_diff_item;

typedef struct na_diff_result {
    na_diff_item *items; size_t count;
    size_t nodes_added, nodes_removed, nodes_changed, links_added, links_removed, links_changed;
} na_diff_result;

/* Nodes matched by id; links by id, or, when ids differ, by endpoints {source,target} (unordered) with
   parallel links paired in order. Compares label, role, asn, site, latitude, longitude, capacity, status,
   source/target of links, and free attributes (each key its own field "attributes.KEY"). Items sorted: nodes
   then links, by id. */
/*
 * Details: a link matched by endpoints is reported under b's id, with a change of field "id"
 * (before = a's id). Links matched by id whose endpoints differ report "source"/"target"
 * changes. Values: numbers with %.17g (doubles) or %lld, NAN / asn 0 / NULL / status unknown
 * render as "" (absent), strings as-is, booleans "true"/"false", status by na_status_name.
 * Node fields, in order: label, role, asn, site, latitude, longitude, capacity, status, then
 * attributes by key; link fields: id, source, target, label, capacity, status, attributes.
 * Ids compare with strcmp. O((N + L) log(N + L)). *out owns everything: free with
 * na_diff_result_free; on error *out is zeroed.
 */
int na_diff_topologies(const na_topology *a, const na_topology *b, na_diff_result *out, na_error *err);
/* Frees everything and zeroes *r (a zeroed result is accepted). */
void na_diff_result_free(na_diff_result *r);

#ifdef __cplusplus
}
#endif
#endif
