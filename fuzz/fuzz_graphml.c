/*
 * fuzz_graphml.c: libFuzzer target for the GraphML importer. Feeds the bytes as they are (no NUL
 * after them), walks whatever comes back and frees everything; aborts when the importer breaks
 * its contract (a result together with an error, an error without a message, a report that
 * disagrees with the snapshot).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netassure/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    na_topology *t = NULL;
    na_import_report rep;
    na_error err;
    size_t sum = 0;
    int rc;

    na_error_clear(&err);
    rc = na_import_graphml((const char *)data, size, "<fuzz>", &t, &rep, &err);
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
