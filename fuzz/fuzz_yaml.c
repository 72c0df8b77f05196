/*
 * fuzz_yaml.c: the YAML devices / bgp_peers importer on arbitrary bytes. A document that
 * imports must also survive export to our JSON and import from it with nothing lost.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netassure/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    na_topology *t = NULL, *back = NULL;
    na_import_report rep;
    na_error err;
    size_t len;
    char *text;

    if (na_import_yaml((const char *)data, size, "<fuzz>", &t, &rep, NULL))
        return 0;
    if (rep.nodes != na_topology_node_count(t) || rep.links != na_topology_link_count(t))
        abort();
    text = na_export_json(t, 0, &len);
    if (text) {
        if (na_import_json(text, len, "<export>", &back, NULL, &err)) {
            fprintf(stderr, "export does not import: %s\n%s\n", err.message, text);
            abort();
        }
        if (na_topology_node_count(back) != na_topology_node_count(t) ||
            na_topology_link_count(back) != na_topology_link_count(t))
            abort();
        na_topology_unref(back);
        free(text);
    }
    na_topology_unref(t);
    return 0;
}
