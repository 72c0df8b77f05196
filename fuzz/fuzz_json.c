/*
 * fuzz_json.c: our JSON schema readers on arbitrary bytes. Besides not crashing, every
 * snapshot that imports must export to text that imports again and exports to the same
 * bytes, and every delta that parses is applied to a small fixed topology (failing is fine,
 * corrupting it is not).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netassure/io.h"

static const char base_doc[] =
    "{\"nodes\":[{\"id\":\"a\"},{\"id\":\"b\",\"asn\":1},{\"id\":\"c\",\"attributes\":{\"k\":1}}],"
    "\"links\":[{\"source\":\"a\",\"target\":\"b\"},{\"id\":\"l\",\"source\":\"b\",\"target\":\"c\"}]}";

static na_topology *base_topology(void)
{
    static na_topology *base;

    if (!base && na_import_json(base_doc, sizeof(base_doc) - 1, "<base>", &base, NULL, NULL))
        abort();
    return base;
}

static void check_round_trip(const na_topology *t)
{
    na_topology *back = NULL;
    na_error err;
    size_t len, len2;
    char *text = na_export_json(t, 0, &len), *again;

    if (!text)
        return;  /* out of memory */
    if (na_import_json(text, len, "<export>", &back, NULL, &err)) {
        fprintf(stderr, "export does not import: %s\n%s\n", err.message, text);
        abort();
    }
    again = na_export_json(back, 0, &len2);
    if (again && (len != len2 || memcmp(text, again, len) != 0)) {
        fprintf(stderr, "export is not stable:\n%s\n%s\n", text, again);
        abort();
    }
    free(again);
    free(text);
    na_topology_unref(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    na_topology *t = NULL;
    na_import_report rep;
    na_delta **deltas = NULL;
    size_t n = 0;

    if (na_import_json((const char *)data, size, "<fuzz>", &t, &rep, NULL) == 0) {
        if (rep.nodes != na_topology_node_count(t) || rep.links != na_topology_link_count(t))
            abort();
        check_round_trip(t);
        na_topology_unref(t);
    }
    if (na_json_parse_deltas((const char *)data, size, "<fuzz>", &deltas, &n, NULL) == 0) {
        na_topology *cur = na_topology_ref(base_topology());
        for (size_t i = 0; i < n; i++) {
            na_topology *next = NULL;
            if (na_topology_apply_delta(cur, deltas[i], &next, NULL) == 0) {
                na_topology_unref(cur);
                cur = next;
            }
            na_delta_free(deltas[i]);
        }
        check_round_trip(cur);
        na_topology_unref(cur);
        free(deltas);
    }
    return 0;
}
