/* error.c: NA_E* codes and na_error details. */
#include "netassure/common.h"

#include <stdio.h>
#include <string.h>

const char *na_strerror(int code)
{
    switch (code) {
    case NA_OK: return "success";
    case NA_ENOMEM: return "out of memory";
    case NA_EINVAL: return "invalid argument";
    case NA_EPARSE: return "malformed input";
    case NA_EIO: return "input/output error";
    case NA_ENOTFOUND: return "not found";
    case NA_ETOOBIG: return "input too large";
    case NA_EGRAPH: return "graph library error";
    case NA_EUNSUPPORTED: return "not supported";
    default: return "unknown error";
    }
}

void na_error_clear(na_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof(*err));
    err->offset = -1;
}

__attribute__((format(printf, 3, 0)))
static void error_vset(na_error *err, int code, const char *fmt, va_list ap)
{
    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

int na_error_set(na_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    va_start(ap, fmt);
    error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int na_error_set_at(na_error *err, int code, const char *source, long line, long column,
                    long offset, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    if (source)
        snprintf(err->source, sizeof(err->source), "%s", source);
    err->line = line;
    err->column = column;
    err->offset = offset;
    va_start(ap, fmt);
    error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

const char *na_error_format(const na_error *err, char *buf, size_t len)
{
    size_t used = 0;
    int n;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    if (!err)
        return buf;
#define APPEND(...)                                                           \
    do {                                                                      \
        n = snprintf(buf + used, len - used, __VA_ARGS__);                    \
        if (n < 0 || (size_t)n >= len - used)                                 \
            return buf;                                                       \
        used += (size_t)n;                                                    \
    } while (0)
    if (err->source[0])
        APPEND("%s:", err->source);
    if (err->line > 0) {
        APPEND("%ld:", err->line);
        if (err->column > 0)
            APPEND("%ld:", err->column);
    } else if (err->offset >= 0) {
        APPEND("offset %ld:", err->offset);
    }
    if (used > 0)
        APPEND(" ");
    APPEND("%s", err->message[0] ? err->message : na_strerror(err->code));
#undef APPEND
    return buf;
}
