/*
 * fuzz_stream_message.c: what a /stream client may send (server/stream.c). Arbitrary bytes as
 * a subscription message: the reply is always a JSON object ("subscribed" or "error"), and the
 * subscription that results filters events without crashing, whatever came before.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "server/api.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const na__stream_event events[] = {
        {"topology", NULL, NULL},       {"analytics", NULL, NULL},
        {"alert", "spine-01", "major"}, {"alert", NULL, NULL},
        {"anomaly", "leaf-02", NULL},   {"unknown-kind", "x", "y"},
    };
    void *state = NULL;
    char *first = na__stream_open(NULL, "/stream", &state, NULL);

    free(first);
    /* Two messages: the second replaces what the first set up. */
    for (int round = 0; round < 2; round++) {
        char *reply = na__stream_message(NULL, state, (const char *)data, size, NULL);
        json_t *doc;
        const char *type;
        if (!reply)
            abort(); /* every message gets an answer */
        doc = json_loads(reply, 0, NULL);
        type = json_string_value(json_object_get(doc, "type"));
        if (!type || (strcmp(type, "subscribed") != 0 && strcmp(type, "error") != 0))
            abort();
        json_decref(doc);
        free(reply);
        for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
            (void)na__stream_accept(state, &events[i], NULL);
    }
    na__stream_close(NULL, state, NULL);
    return 0;
}
