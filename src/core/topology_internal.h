/*
 * core/topology_internal.h (internal): builder access the library's own modules need beyond
 * the public API (delta application op by op, as the daemon's live engine does it).
 */
#ifndef NA_CORE_TOPOLOGY_INTERNAL_H
#define NA_CORE_TOPOLOGY_INTERNAL_H

#include "netassure/topology.h"

/* The first live link between s and t (either direction), or NULL. O(links). */
const na_link *na__builder_link_between(const na_builder *b, const char *s, const char *t);

/* Calls fn for every live link touching node `id` (before a node_remove, to know which links
 * go with it). Pointers are valid until the builder changes. O(links). */
void na__builder_links_of(const na_builder *b, const char *id,
                          void (*fn)(const na_link *l, void *ud), void *ud);

/* Applies one delta operation to a builder (what na_topology_apply_delta does per op). */
int na__delta_apply_op(na_builder *b, const na_delta_op *op, na_error *err);

/* The id of the link an op names (op->link.id, or the link between its ends); NULL if none. */
const char *na__delta_op_link_id(const na_builder *b, const na_delta_op *op);

#endif
