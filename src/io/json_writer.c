/* json_writer.c: the JSON text writer of io/json_writer.h. */
#include "io/json_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void na__jw_put(na__jw *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->cap - w->len <= n) {
        size_t ncap = w->cap ? w->cap : 4096;
        char *nb;
        while (ncap - w->len <= n)
            ncap *= 2;
        nb = realloc(w->buf, ncap);
        if (!nb) {
            w->failed = true;
            return;
        }
        w->buf = nb;
        w->cap = ncap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

void na__jw_puts(na__jw *w, const char *s)
{
    na__jw_put(w, s, strlen(s));
}

void na__jw_newline(na__jw *w)
{
    if (!w->pretty)
        return;
    na__jw_put(w, "\n", 1);
    for (int i = 0; i < w->depth; i++)
        na__jw_put(w, "  ", 2);
}

/* Before a member or an element: the comma and, when pretty, the line break. */
void na__jw_next(na__jw *w)
{
    if (!w->first[w->depth])
        na__jw_put(w, ",", 1);
    w->first[w->depth] = false;
    na__jw_newline(w);
}

void na__jw_open(na__jw *w, char ch)
{
    na__jw_put(w, &ch, 1);
    w->depth++;
    w->first[w->depth] = true;
}

void na__jw_close(na__jw *w, char ch)
{
    bool empty = w->first[w->depth];

    w->depth--;
    if (!empty)
        na__jw_newline(w);
    na__jw_put(w, &ch, 1);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        unsigned lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        unsigned lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4
                                                                                       : 0;
    }
    return 0;
}

void na__jw_string(na__jw *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    na__jw_put(w, "\"", 1);
    while (*p) {
        size_t n;
        char esc[8];
        /* The common case, a run of plain ASCII, goes in with one copy. */
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            na__jw_put(w, (const char *)run, (size_t)(p - run));
        if (!*p)
            break;
        n = utf8_seq(p);
        if (n == 0) {
            na__jw_puts(w, "\\ufffd");
            p++;
            continue;
        }
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            na__jw_put(w, esc, 2);
        } else if (*p == '\n') {
            na__jw_puts(w, "\\n");
        } else if (*p == '\t') {
            na__jw_puts(w, "\\t");
        } else if (*p == '\r') {
            na__jw_puts(w, "\\r");
        } else if (*p < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
            na__jw_puts(w, esc);
        } else {
            na__jw_put(w, (const char *)p, n);
        }
        p += n;
    }
    na__jw_put(w, "\"", 1);
}

void na__jw_int(na__jw *w, int64_t v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    na__jw_puts(w, buf);
}

/* Shortest of %.15g..%.17g that reads back exactly; `real` keeps a ".0" so it stays a real. */
void na__jw_double(na__jw *w, double d, bool real)
{
    char buf[40];

    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        for (char *p = buf; *p; p++) {
            if (*p == ',')
                *p = '.';  /* a locale with a decimal comma */
        }
        if (strtod(buf, NULL) == d)
            break;
    }
    if (real && !strpbrk(buf, ".eE"))
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".0");
    na__jw_puts(w, buf);
}

void na__jw_key(na__jw *w, const char *key)
{
    na__jw_next(w);
    na__jw_string(w, key);
    na__jw_put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
}

void na__jw_kv_str(na__jw *w, const char *key, const char *s)
{
    if (!s)
        return;
    na__jw_key(w, key);
    na__jw_string(w, s);
}

void na__jw_kv_num(na__jw *w, const char *key, double d)
{
    if (!isfinite(d))
        return;
    na__jw_key(w, key);
    na__jw_double(w, d, false);
}


char *na__jw_finish(na__jw *w, size_t *len)
{
    if (w->failed) {
        free(w->buf);
        w->buf = NULL;
        return NULL;
    }
    if (len)
        *len = w->len;
    return w->buf;
}
