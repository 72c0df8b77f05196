/*
 * http_util.c: helpers for request handlers: query parameters, JSON error bodies, responses.
 * Pure functions of their arguments; no server state (safe on any worker thread).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "server/http.h"
#include "core/text.h"

/* Longest parameter name compared; longer names in the query never match. */
#define MAX_QUERY_NAME 256

/*
 * Percent-decodes src[0..n) ('+' is a space) into out (cap bytes, NUL-terminated).
 * Returns the decoded length, -1 on a malformed escape or a decoded NUL, -2 when it does not fit.
 */
static long decode_part(const char *src, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char ch = src[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%') {
            int hi, lo;
            if (n - i < 3)
                return -1;
            hi = na__hex_digit(src[i + 1]);
            lo = na__hex_digit(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            ch = (char)((hi << 4) | lo);
            i += 2;
            if (ch == '\0')
                return -1; /* callers treat values as C strings */
        }
        if (o + 1 >= cap)
            return -2;
        out[o++] = ch;
    }
    if (cap == 0)
        return -2;
    out[o] = '\0';
    return (long)o;
}

long na__http_query_get(const char *query, const char *name, char *buf, size_t len)
{
    char key[MAX_QUERY_NAME + 1];
    const char *p = query;

    if (!query || !name)
        return -1;
    while (*p) {
        const char *end = strchr(p, '&');
        const char *eq;
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        size_t klen;
        long k;

        eq = memchr(p, '=', plen);
        klen = eq ? (size_t)(eq - p) : plen;
        /* A name that does not decode (or is too long to be ours) cannot match: skip it. */
        k = decode_part(p, klen, key, sizeof(key));
        if (klen > 0 && k >= 0 && strcmp(key, name) == 0) {
            long v;
            if (!eq) {
                if (len == 0)
                    return -2;
                buf[0] = '\0';
                return 0;
            }
            v = decode_part(eq + 1, plen - klen - 1, buf, len);
            return v < 0 ? -2 : v;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return -1;
}

void na__http_respond(na__http_response *resp, int status, const char *content_type, char *body,
                      size_t len)
{
    if (resp->body != body)
        free(resp->body);
    resp->status = status;
    resp->content_type = content_type ? content_type : "application/json";
    resp->body = body;
    resp->body_len = body ? len : 0;
}

void na__http_error(na__http_response *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_t *doc;
    char *text = NULL;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* json_string would refuse invalid UTF-8 coming from a request echoed in the message. */
    doc = json_pack("{s:{s:i, s:s, s:s%}}", "error", "status", status, "code", code ? code : "error",
                    "message", msg, strlen(msg));
    if (doc)
        text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text) {
        /* Out of memory or a message that is not UTF-8: the status and code still go out. */
        json_t *bare = json_pack("{s:{s:i, s:s, s:s}}", "error", "status", status, "code",
                                 code ? code : "error", "message", "(unprintable message)");
        if (bare)
            text = json_dumps(bare, JSON_COMPACT);
        json_decref(bare);
    }
    na__http_respond(resp, status, "application/json", text, text ? strlen(text) : 0);
}
