/*
 * io/json_writer.h (internal): a small JSON text writer. We want the shortest decimal that reads
 * back as the same double (jansson prints 0.1 as 0.10000000000000001), replacement characters
 * for invalid UTF-8 that GML or GraphML sources may carry, and no tree of objects in between
 * when the text is large (a 10,000-node topology). Used by the JSON exporter and the daemon.
 *
 * Zero-initialise (pretty as wanted); every call appends; `failed` is set on ENOMEM and
 * further calls do nothing. The caller frees `buf`.
 */
#ifndef NA_IO_JSON_WRITER_H
#define NA_IO_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NA__JW_MAX_DEPTH 16

typedef struct na__jw {
    char *buf;
    size_t len, cap;
    bool failed, pretty;
    int depth;
    bool first[NA__JW_MAX_DEPTH];
} na__jw;

void na__jw_put(na__jw *w, const char *s, size_t n);
void na__jw_puts(na__jw *w, const char *s);
/* Structure: `open`/`close` take '{' / '[' and '}' / ']'; `next` goes before an element of
 * an array; `key` writes the comma (when needed) and "key": in an object. */
void na__jw_newline(na__jw *w);
void na__jw_next(na__jw *w);
void na__jw_open(na__jw *w, char ch);
void na__jw_close(na__jw *w, char ch);
/* Values. */
void na__jw_string(na__jw *w, const char *s);
void na__jw_int(na__jw *w, int64_t v);
/* Shortest of %.15g..%.17g that reads back exactly; `real` keeps a ".0" so it stays a real. */
void na__jw_double(na__jw *w, double d, bool real);
void na__jw_key(na__jw *w, const char *key);
/* "key": "s" when s is not NULL; "key": d when d is finite. */
void na__jw_kv_str(na__jw *w, const char *key, const char *s);
void na__jw_kv_num(na__jw *w, const char *key, double d);
/* The text (the caller frees it) and its length; NULL when something failed (buffer freed). */
char *na__jw_finish(na__jw *w, size_t *len);

#endif
