/*
 * fuzz_alert_expr.c: the expression language of custom alert rules (src/alert/expr.c) on
 * arbitrary bytes. A parse either fails with a "column N: ..." message inside the text (N at
 * most len + 1; over 4096 bytes: NA_ETOOBIG) or gives an expression that evaluates, the same
 * way twice, on an event with every field and on one with none.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert/event.h"
#include "alert/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const na__event full = {
        .type = NA_EV_LINK_DOWN, .node_id = "n1", .link_id = "L1", .source = "n1",
        .target = "n2", .site = "iad1", .metric = "utilisation", .detector = "d",
        .anomaly_id = "a", .reason = "fiber cut", .origin = "stream:x", .value = 0.5,
        .previous = 0.25, .text = "mesh->snake", .version = 7, .at = 1772971200000LL,
        .received_ns = 1};
    static const na__event empty = {.type = NA_EV_NODE_UP, .value = NAN, .previous = NAN};
    na__expr *e = NULL;
    na_error err;
    int rc;

    na_error_clear(&err);
    rc = na__expr_parse((const char *)data, size, na__event_fields, &e, &err);
    if (rc != NA_OK && size > NA_EXPR_MAX_LEN) {
        if (rc != NA_ETOOBIG || e)
            abort();
        return 0;
    }
    if (rc == NA_ENOMEM)
        return 0;
    if (rc != NA_OK) {
        const char *m = err.message;
        char *end;
        unsigned long col;
        if (e || strncmp(m, "column ", 7) != 0)
            abort();
        col = strtoul(m + 7, &end, 10);
        if (*end != ':' || col < 1 || col > size + 1)
            abort();
        return 0;
    }
    for (int i = 0; i < 2; i++) {
        const na__event *ev = i ? &full : &empty;
        bool a = na__event_matches(e, ev), b = na__event_matches(e, ev);
        if (a != b)
            abort();
    }
    na__expr_free(e);
    return 0;
}
