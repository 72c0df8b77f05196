/*
 * fuzz_http_query.c: na__http_query_get on arbitrary query strings. Input: the parameter name,
 * a newline, then the raw query. Checks the contract for several buffer sizes: -1 absent,
 * -2 malformed or too long, else the decoded length, NUL-terminated, never longer than the raw
 * query, and the same answer whenever the value fits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t sizes[] = {0, 1, 2, 8, 64, 4096};
    const uint8_t *nl = memchr(data, '\n', size);
    size_t name_len = nl ? (size_t)(nl - data) : 0;
    char *name, *query, *buf;
    long full;

    if (!nl || name_len > 64)
        return 0;
    name = malloc(name_len + 1);
    query = malloc(size - name_len);
    buf = malloc(4096);
    if (!name || !query || !buf)
        abort();
    memcpy(name, data, name_len);
    name[name_len] = '\0';
    /* C strings: the server never hands the handler a query with a NUL in it. */
    memcpy(query, nl + 1, size - name_len - 1);
    query[size - name_len - 1] = '\0';

    full = na__http_query_get(query, name, buf, 4096);
    if (full < -2 || (full >= 0 && (size_t)full >= 4096))
        abort();
    if (full >= 0 && (buf[full] != '\0' || strlen(buf) != (size_t)full ||
                      (size_t)full > strlen(query)))
        abort();
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        long r = na__http_query_get(query, name, sizes[i] ? buf : NULL, sizes[i]);
        if (full == -1 && r != -1)
            abort(); /* absence does not depend on the buffer */
        if (full >= 0 && (size_t)full < sizes[i] && r != full)
            abort(); /* fits: same answer */
        if (full >= 0 && (size_t)full >= sizes[i] && r != -2)
            abort(); /* does not fit: -2 */
        if (full == -2 && r != -2)
            abort();
    }
    free(name);
    free(query);
    free(buf);
    return 0;
}
