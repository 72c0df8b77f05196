/*
 * fuzz_import_check.h: the body shared by the importer fuzz targets. Feeds the bytes as they
 * are (no NUL after them) to one importer, walks whatever comes back and frees everything;
 * aborts when the importer breaks its contract (a result together with an error, an error
 * without a message, a report that disagrees with the snapshot).
 */
#ifndef NA_FUZZ_IMPORT_CHECK_H
#define NA_FUZZ_IMPORT_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netassure/io.h"

typedef int (*import_fn)(const char *, size_t, const char *, na_topology **, na_import_report *,
                         na_error *);

static inline int fuzz_import_check(import_fn import, const uint8_t *data, size_t size)
{
    na_topology *t = NULL;
    na_import_report rep;
    na_error err;
    size_t sum = 0;
    int rc;

    na_error_clear(&err);
    rc = import((const char *)data, size, "<fuzz>", &t, &rep, &err);
    if (rc != NA_OK) {
        if (t || err.code != rc || !err.message[0])
            abort();
        return 0;
    }
    if (!t || rep.nodes != na_topology_node_count(t) || rep.links != na_topology_link_count(t) ||
        rep.multi_links > rep.links || rep.self_loops > rep.links ||
        rep.missing_coordinates > rep.nodes || rep.isolated_nodes > rep.nodes)
        abort();
    /* touch every string so ASan checks what the snapshot points at */
    for (size_t i = 0; i < na_topology_node_count(t); i++) {
        const na_node *n = na_topology_node(t, i);
        sum += strlen(n->id) + (n->label ? strlen(n->label) : 0);
        for (size_t k = 0; k < n->n_attrs; k++) {
            sum += strlen(n->attrs[k].key);
            if (n->attrs[k].value.type == NA_VAL_STRING)
                sum += strlen(n->attrs[k].value.u.s);
        }
    }
    for (size_t i = 0; i < na_topology_link_count(t); i++) {
        const na_link *l = na_topology_link(t, i);
        if (l->source_index >= na_topology_node_count(t) ||
            l->target_index >= na_topology_node_count(t))
            abort();
        sum += strlen(l->id) + strlen(l->source) + strlen(l->target);
        for (size_t k = 0; k < l->n_attrs; k++) {
            if (l->attrs[k].value.type == NA_VAL_STRING)
                sum += strlen(l->attrs[k].value.u.s);
        }
    }
    na_topology_unref(t);
    return sum == (size_t)-1;
}

#endif
