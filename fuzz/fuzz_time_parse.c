/*
 * fuzz_time_parse.c: na_time_parse (every `?at=`, `since`, `until` and stored time goes through
 * it) on arbitrary bytes. On success the time is inside the warehouse's range, and formatting it
 * and parsing the text again (RFC 3339 and the warehouse form) gives the same millisecond.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netassure/warehouse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    na_time_ms t, back;
    char buf[40];

    if (na_time_parse((const char *)data, size, &t) != NA_OK)
        return 0;
    if (t < NA_TIME_FIRST || t > NA_TIME_OPEN)
        abort();
    na_time_format(t, buf, sizeof(buf));
    if (na_time_parse(buf, strlen(buf), &back) != NA_OK || back != t)
        abort();
    na_time_format_db(t, buf, sizeof(buf));
    if (na_time_parse(buf, strlen(buf), &back) != NA_OK || back != t)
        abort();
    return 0;
}
