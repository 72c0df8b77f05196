/*
 * json_topology.c: NetAssure's JSON topology schema (docs/topology-schema.md).
 *
 * Snapshot messages in (na_import_json) and out (na_export_json); delta messages and events
 * documents in (na_json_parse_deltas). jansson parses; this file maps its tree onto the model.
 * jansson keeps no positions once a document is accepted, so for errors in a valid document
 * (a duplicate node id, a link to an unknown node) we walk the text to the offending value.
 */
#include "netassure/io.h"
#include "io/json_util.h"
#include "io/json_writer.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/idmap.h"

/* One delta message over this is a producer bug, not a change set. */
#define DELTA_MAX_BYTES ((size_t)64 << 20)
/* Our documents are at most "[i].ops[j].node.attributes.key" deep. */
#define PATH_MAX_SEGS 8
#define ASN_MAX 4294967295LL

/* ---- Context: text, path of the value being read, where problems go ------------------- */

typedef struct jseg {
    const char *key;  /* NULL: an array index */
    size_t index;
} jseg;

typedef enum jmode {
    MODE_SNAPSHOT,  /* lenient: wrong types counted, warned about and ignored; null = absent */
    MODE_ADD,       /* delta add: wrong types are errors; null = absent */
    MODE_UPDATE,    /* delta update: fields present are applied; null clears */
    MODE_IDENTITY   /* remove, up, down: only id / source / target are read */
} jmode;

typedef struct jctx {
    const char *text;        /* what jansson parsed (after a UTF-8 byte order mark) */
    size_t len;
    size_t base;             /* bytes before `text` in the caller's buffer */
    const char *source;
    na_import_report *rep;   /* NULL when parsing deltas */
    na_error *err;
    na__arena arena;         /* decimal ids, attribute arrays */
    jseg path[PATH_MAX_SEGS];
    size_t depth;
    char subject[96];        /* "node 'r1'" for warnings; empty when none */
} jctx;

static void ctx_init(jctx *c, const char *data, size_t len, const char *source,
                     na_import_report *rep, na_error *err)
{
    memset(c, 0, sizeof(*c));
    c->text = data ? data : "";
    c->len = data ? len : 0;
    if (c->len >= 3 && memcmp(c->text, "\xef\xbb\xbf", 3) == 0) {
        c->text += 3;
        c->len -= 3;
        c->base = 3;
    }
    c->source = source ? source : "<input>";
    c->rep = rep;
    c->err = err;
    na__arena_init(&c->arena);
}

static void push_key(jctx *c, const char *key)
{
    if (c->depth < PATH_MAX_SEGS)
        c->path[c->depth] = (jseg){.key = key};
    c->depth++;
}

static void push_index(jctx *c, size_t index)
{
    if (c->depth < PATH_MAX_SEGS)
        c->path[c->depth] = (jseg){.key = NULL, .index = index};
    c->depth++;
}

static void pop(jctx *c)
{
    c->depth--;
}

static void format_path(const jctx *c, char *buf, size_t len)
{
    size_t used = 0, n = c->depth < PATH_MAX_SEGS ? c->depth : PATH_MAX_SEGS;

    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int w;
        if (c->path[i].key)
            w = snprintf(buf + used, len - used, "%s%.60s", used ? "." : "", c->path[i].key);
        else
            w = snprintf(buf + used, len - used, "[%zu]", c->path[i].index);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static size_t skip_ws(const char *d, size_t len, size_t i)
{
    while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r'))
        i++;
    return i;
}

/* d[*i] is the opening quote; moves *i past the closing one. */
static bool skip_string(const char *d, size_t len, size_t *i)
{
    size_t k = *i + 1;

    while (k < len) {
        if (d[k] == '\\') {
            k += 2;
        } else if (d[k] == '"') {
            *i = k + 1;
            return true;
        } else {
            k++;
        }
    }
    return false;
}

static bool is_delim(char ch)
{
    return ch == ',' || ch == '}' || ch == ']' || ch == ' ' || ch == '\t' || ch == '\n' ||
           ch == '\r';
}

/* Moves *i past the value starting at d[*i] (the text is valid JSON: jansson accepted it). */
static bool skip_value(const char *d, size_t len, size_t *i)
{
    size_t k = *i, depth = 0;

    do {
        if (k >= len)
            return false;
        if (d[k] == '"') {
            if (!skip_string(d, len, &k))
                return false;
            continue;
        }
        if (d[k] == '{' || d[k] == '[') {
            depth++;
        } else if (d[k] == '}' || d[k] == ']') {
            if (depth == 0)
                return false;
            depth--;
        } else if (depth == 0) {
            while (k < len && !is_delim(d[k]))
                k++;
            *i = k;
            return true;
        }
        k++;
    } while (depth > 0);
    *i = k;
    return true;
}

/* raw is a JSON string token with its quotes; escapes are rare in keys, so jansson decodes. */
static bool key_equals(const char *raw, size_t n, const char *key)
{
    json_t *s;
    bool eq;

    if (!memchr(raw, '\\', n))
        return n - 2 == strlen(key) && memcmp(raw + 1, key, n - 2) == 0;
    s = json_loadb(raw, n, JSON_DECODE_ANY, NULL);
    eq = s && json_is_string(s) && strcmp(json_string_value(s), key) == 0;
    json_decref(s);
    return eq;
}

/*
 * Offset of the value at `path` in the text, or of its deepest ancestor that exists (a missing
 * "id" is reported at its node). O(text length); used for errors and the first warnings only.
 */
static size_t locate(const char *d, size_t len, const jseg *path, size_t n)
{
    size_t i = skip_ws(d, len, 0), found = i;

    for (size_t k = 0; k < n && i < len; k++) {
        if (path[k].key) {
            bool hit = false;
            if (d[i] != '{')
                break;
            i++;
            for (;;) {
                size_t ks;
                bool match;
                i = skip_ws(d, len, i);
                if (i >= len || d[i] != '"')
                    return found;
                ks = i;
                if (!skip_string(d, len, &i))
                    return found;
                match = key_equals(d + ks, i - ks, path[k].key);
                i = skip_ws(d, len, i);
                if (i >= len || d[i] != ':')
                    return found;
                i = skip_ws(d, len, i + 1);
                if (match) {
                    hit = true;
                    break;
                }
                if (!skip_value(d, len, &i))
                    return found;
                i = skip_ws(d, len, i);
                if (i < len && d[i] == ',')
                    i++;
            }
            if (!hit)
                break;
        } else {
            if (d[i] != '[')
                break;
            i = skip_ws(d, len, i + 1);
            for (size_t e = 0; e < path[k].index; e++) {
                if (!skip_value(d, len, &i))
                    return found;
                i = skip_ws(d, len, i);
                if (i >= len || d[i] != ',')
                    return found;
                i = skip_ws(d, len, i + 1);
            }
            if (i >= len || d[i] == ']')
                break;
        }
        found = i;
    }
    return found;
}

/* 1-based line and column (in characters, as jansson counts) of byte `off`. */
static void line_col(const char *d, size_t off, long *line, long *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (d[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)d[i] & 0xc0) != 0x80) {
            (*col)++;
        }
    }
}

static int ctx_vfail(jctx *c, int code, const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int ctx_vfail(jctx *c, int code, const char *field, const char *fmt, va_list ap)
{
    char path[200], msg[300];
    long line, col;
    size_t off;

    if (field)
        push_key(c, field);
    format_path(c, path, sizeof(path));
    off = locate(c->text, c->len, c->path, c->depth < PATH_MAX_SEGS ? c->depth : PATH_MAX_SEGS);
    if (field)
        pop(c);
    line_col(c->text, off, &line, &col);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    return na_error_set_at(c->err, code, c->source, line, col, (long)(c->base + off), "%s%s%s",
                           path, path[0] ? ": " : "", msg);
}

/* A fatal problem at the current path (plus `field` when not NULL). Returns `code`. */
static int ctx_fail(jctx *c, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int ctx_fail(jctx *c, int code, const char *field, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = ctx_vfail(c, code, field, fmt, ap);
    va_end(ap);
    return rc;
}

static void ctx_vwarn(jctx *c, const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void ctx_vwarn(jctx *c, const char *field, const char *fmt, va_list ap)
{
    char path[200], msg[200];
    long line = 0, col = 0;

    if (!c->rep)
        return;
    if (field)
        push_key(c, field);
    format_path(c, path, sizeof(path));
    /* Positions cost a walk of the text: only for the messages the report keeps. */
    if (c->rep->n_messages < NA_IMPORT_MAX_MESSAGES)
        line_col(c->text,
                 locate(c->text, c->len, c->path,
                        c->depth < PATH_MAX_SEGS ? c->depth : PATH_MAX_SEGS),
                 &line, &col);
    if (field)
        pop(c);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    na_import_report_warn(c->rep, "%s (%s%sline %ld): %s", path, c->subject,
                          c->subject[0] ? ", " : "", line, msg);
}

static void ctx_warn(jctx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ctx_warn(jctx *c, const char *field, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ctx_vwarn(c, field, fmt, ap);
    va_end(ap);
}

/*
 * A value of the wrong type or out of range: counted, warned about and ignored in a snapshot;
 * fatal in a delta (no report to carry it, and half-applying a change is worse than refusing it).
 */
static int ctx_problem(jctx *c, jmode mode, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int ctx_problem(jctx *c, jmode mode, const char *field, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (mode != MODE_SNAPSHOT)
        return ctx_fail(c, NA_EPARSE, field, "%s", msg);
    if (c->rep)
        c->rep->wrong_type++;
    ctx_warn(c, field, "%s; ignored", msg);
    return NA_OK;
}

const char *na__json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "an unknown value";
}

/* Parses the text; syntax errors keep jansson's position. *root is owned by the caller. */
static int ctx_load(jctx *c, json_t **root)
{
    json_error_t je;

    *root = json_loadb(c->text, c->len, JSON_REJECT_DUPLICATES, &je);
    if (*root)
        return NA_OK;
    if (json_error_code(&je) == json_error_out_of_memory)
        return na_error_set(c->err, NA_ENOMEM, "out of memory parsing JSON");
    return na_error_set_at(c->err, NA_EPARSE, c->source, je.line, je.column,
                           je.position >= 0 ? (long)c->base + je.position : -1, "%s", je.text);
}

/* ---- Timestamps: RFC 3339 strings or integer milliseconds since the epoch -------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* "2026-03-08T12:00:00Z", "...T12:00:00.250+01:00" (RFC 3339 section 5.6). */
static bool parse_rfc3339(const char *s, size_t n, int64_t *ms)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned year, mon, day, hh, mm, ss, frac = 0, oh = 0, om = 0;
    size_t i = 19;
    int sign = 0;
    bool leap;

    if (n < 20 || !digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &mon) ||
        s[7] != '-' || !digits(s + 8, 2, &day) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &hh) ||
        s[13] != ':' || !digits(s + 14, 2, &mm) || s[16] != ':' || !digits(s + 17, 2, &ss))
        return false;
    leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
        (mon == 2 && day == 29 && !leap) || hh > 23 || mm > 59 || ss > 60)
        return false;
    if (s[i] == '.') {
        size_t nd = 0;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
            if (nd < 3)
                frac = frac * 10 + (unsigned)(s[i] - '0');
        }
        if (nd == 0)
            return false;
        for (; nd < 3; nd++)
            frac *= 10;
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '+' ? 1 : -1;
        if (n - i < 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
            !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        i += 6;
    } else {
        return false;
    }
    if (i != n)
        return false;
    *ms = ((days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss) -
           sign * (int64_t)(oh * 3600 + om * 60)) * 1000 + frac;
    return true;
}

/* UTC, milliseconds only when there are some; false outside years 0000-9999. */
static bool format_rfc3339(int64_t ms, char *buf, size_t len)
{
    int64_t days = ms / 86400000 - (ms % 86400000 < 0), y;
    int64_t rem = ms % 86400000 + (ms % 86400000 < 0 ? 86400000 : 0);  /* no overflow at INT64_MIN */
    unsigned m, d;

    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return false;
    /* always with milliseconds: the API's times have one shape (a whole second included) */
    snprintf(buf, len, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, m, d, (int)(rem / 3600000),
             (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
    return true;
}

/* A "timestamp" value; *ms untouched when absent or (in a snapshot) wrong. */
static int read_timestamp(jctx *c, jmode mode, const char *field, const json_t *v, int64_t *ms)
{
    if (!v || json_is_null(v))
        return NA_OK;
    if (json_is_integer(v)) {
        *ms = json_integer_value(v);
        return NA_OK;
    }
    if (json_is_string(v) && parse_rfc3339(json_string_value(v), json_string_length(v), ms))
        return NA_OK;
    return ctx_problem(c, mode, field,
                       "expected an RFC 3339 time or integer milliseconds since 1970, got %s",
                       json_is_string(v) ? "a string that is neither" : na__json_type_name(v));
}

/* A non-negative integer ("version", "seq"). */
static int read_count(jctx *c, jmode mode, const char *field, const json_t *v, uint64_t *out,
                      bool *given)
{
    if (given)
        *given = false;
    if (!v || json_is_null(v))
        return NA_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return ctx_problem(c, mode, field, "expected a non-negative integer, got %s",
                           json_is_integer(v) ? "a negative one" : na__json_type_name(v));
    *out = (uint64_t)json_integer_value(v);
    if (given)
        *given = true;
    return NA_OK;
}

/* ---- Nodes and links ------------------------------------------------------------------- */

typedef struct jattrs {
    na_attr *v;
    size_t n, cap;
} jattrs;

static int jattrs_alloc(jctx *c, jattrs *a, size_t cap)
{
    a->n = 0;
    a->cap = cap;
    a->v = NULL;
    if (!cap)
        return NA_OK;
    a->v = na__arena_alloc(&c->arena, cap * sizeof(*a->v));
    return a->v ? NA_OK : na_error_set(c->err, NA_ENOMEM, "out of memory");
}

static bool jattrs_has(const jattrs *a, const char *key)
{
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->v[i].key, key) == 0)
            return true;
    }
    return false;
}

/* A scalar as a free attribute value (strings borrowed from the tree); false for containers. */
static bool scalar_value(const json_t *v, na_value *out)
{
    switch (json_typeof(v)) {
    case JSON_STRING: *out = (na_value){.type = NA_VAL_STRING, .u.s = json_string_value(v)}; return true;
    case JSON_INTEGER: *out = (na_value){.type = NA_VAL_INT, .u.i = json_integer_value(v)}; return true;
    case JSON_REAL: *out = (na_value){.type = NA_VAL_DOUBLE, .u.d = json_real_value(v)}; return true;
    case JSON_TRUE: *out = (na_value){.type = NA_VAL_BOOL, .u.b = true}; return true;
    case JSON_FALSE: *out = (na_value){.type = NA_VAL_BOOL, .u.b = false}; return true;
    case JSON_NULL: *out = (na_value){.type = NA_VAL_NULL}; return true;
    default: return false;
    }
}

/*
 * An id: a non-empty string, or an integer turned into its decimal string (NetworkX numbers
 * its nodes). Ids name things other messages refer to, so a bad one is always fatal.
 */
static int read_id(jctx *c, const json_t *v, const char *field, const char *what, bool required,
                   const char **out)
{
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return ctx_fail(c, NA_EPARSE, field, "missing %s", what);
        return NA_OK;
    }
    if (json_is_string(v)) {
        if (json_string_length(v) == 0)
            return ctx_fail(c, NA_EPARSE, field, "empty %s", what);
        *out = json_string_value(v);
        return NA_OK;
    }
    if (json_is_integer(v)) {
        char buf[32], *s;
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = na__arena_strdup(&c->arena, buf);
        if (!s)
            return na_error_set(c->err, NA_ENOMEM, "out of memory");
        *out = s;
        return NA_OK;
    }
    return ctx_fail(c, NA_EPARSE, field, "%s must be a string or an integer, got %s", what,
                    na__json_type_name(v));
}

static int read_string(jctx *c, jmode mode, const char *field, const json_t *v, const char **dst,
                       unsigned bit, unsigned *fields)
{
    if (json_is_null(v)) {
        if (mode == MODE_UPDATE) {
            *dst = NULL;
            *fields |= bit;
        }
        return NA_OK;
    }
    if (!json_is_string(v))
        return ctx_problem(c, mode, field, "expected a string, got %s", na__json_type_name(v));
    *dst = json_string_value(v);
    *fields |= bit;
    return NA_OK;
}

static int read_number(jctx *c, jmode mode, const char *field, const json_t *v, double lo,
                       double hi, const char *unit, double *dst, unsigned bit, unsigned *fields)
{
    double x;

    if (json_is_null(v)) {
        if (mode == MODE_UPDATE) {
            *dst = NAN;
            *fields |= bit;
        }
        return NA_OK;
    }
    if (!json_is_number(v))
        return ctx_problem(c, mode, field, "expected a number (%s), got %s", unit, na__json_type_name(v));
    x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return ctx_problem(c, mode, field, "%g is out of range [%g, %g]", x, lo, hi);
    *dst = x;
    *fields |= bit;
    return NA_OK;
}

static int read_asn(jctx *c, jmode mode, const json_t *v, int64_t *dst, unsigned *fields)
{
    if (json_is_null(v)) {
        if (mode == MODE_UPDATE) {
            *dst = 0;
            *fields |= NA_FIELD_ASN;
        }
        return NA_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > ASN_MAX)
        return ctx_problem(c, mode, "asn", "expected an AS number 0..4294967295, got %s",
                           json_is_integer(v) ? "one out of range" : na__json_type_name(v));
    *dst = json_integer_value(v);
    *fields |= NA_FIELD_ASN;
    return NA_OK;
}

static int read_status(jctx *c, jmode mode, const json_t *v, na_status *dst, unsigned *fields)
{
    na_status st;

    if (json_is_null(v)) {
        if (mode == MODE_UPDATE) {
            *dst = NA_STATUS_UNKNOWN;
            *fields |= NA_FIELD_STATUS;
        }
        return NA_OK;
    }
    if (!json_is_string(v))
        return ctx_problem(c, mode, "status", "expected \"up\", \"down\" or \"unknown\", got %s",
                           na__json_type_name(v));
    if (na_status_parse(json_string_value(v), &st))
        return ctx_problem(c, mode, "status",
                           "expected \"up\", \"down\" or \"unknown\", got '%.40s'",
                           json_string_value(v));
    *dst = st;
    *fields |= NA_FIELD_STATUS;
    return NA_OK;
}

/* The "attributes" object: key -> scalar. null values are kept only to remove keys in updates. */
static int read_attributes(jctx *c, jmode mode, const json_t *v, jattrs *a, bool *given)
{
    const char *key;
    json_t *x;
    int rc = NA_OK;

    if (json_is_null(v) && mode != MODE_UPDATE)
        return NA_OK;
    if (!json_is_object(v))
        return ctx_problem(c, mode, "attributes", "expected an object, got %s", na__json_type_name(v));
    *given = true;
    push_key(c, "attributes");
    json_object_foreach((json_t *)v, key, x) {
        na_value val;
        if (!scalar_value(x, &val)) {
            rc = ctx_problem(c, mode, key, "expected a string, number or boolean, got %s",
                             na__json_type_name(x));
            if (rc)
                break;
            continue;
        }
        if (val.type == NA_VAL_NULL && mode != MODE_UPDATE)
            continue;
        a->v[a->n++] = (na_attr){.key = key, .value = val};
    }
    pop(c);
    return rc;
}

/* A field the schema does not know: kept as a free attribute when it is a scalar. */
static void read_unknown(jctx *c, jmode mode, const char *key, const json_t *v, jattrs *extra)
{
    na_value val;
    bool scalar = scalar_value(v, &val);

    if (scalar && (val.type != NA_VAL_NULL || mode == MODE_UPDATE))
        extra->v[extra->n++] = (na_attr){.key = key, .value = val};
    if (mode != MODE_SNAPSHOT)
        return;  /* deltas: newer producers may send fields we do not know yet */
    if (c->rep)
        c->rep->unknown_fields++;
    if (scalar)
        ctx_warn(c, key, "unknown field, kept as an attribute");
    else
        ctx_warn(c, key, "unknown field holding %s, dropped", na__json_type_name(v));
}

/*
 * Explicit attributes first; an unknown field of the same name loses. Also settles which
 * fields the object sets: all of them in snapshots and adds, for updates the attributes only
 * when some were given (the other fields were marked by their readers).
 */
static void finish_attrs(jctx *c, jattrs *a, const jattrs *extra, jmode mode, bool attrs_given,
                         const na_attr **out, size_t *n_out, unsigned *fields)
{
    for (size_t i = 0; i < extra->n; i++) {
        if (jattrs_has(a, extra->v[i].key)) {
            if (mode == MODE_SNAPSHOT)
                ctx_warn(c, extra->v[i].key,
                         "field also given in attributes; the attributes value wins");
            continue;
        }
        a->v[a->n++] = extra->v[i];
    }
    *out = a->n ? a->v : NULL;
    *n_out = a->n;
    if (mode != MODE_UPDATE)
        *fields = NA_FIELD_ALL;
    else if (attrs_given || a->n)
        *fields |= NA_FIELD_ATTRS;
}

/* Room for an object's attributes (its own fields plus "attributes") and unknown fields. */
static int alloc_attr_sets(jctx *c, const json_t *obj, jattrs *attrs, jattrs *extra)
{
    const json_t *av = json_object_get(obj, "attributes");
    int rc = jattrs_alloc(c, attrs, json_object_size(obj) +
                                        (json_is_object(av) ? json_object_size(av) : 0));

    return rc ? rc : jattrs_alloc(c, extra, json_object_size(obj));
}

/*
 * The fields nodes and links share: label, capacity, status, attributes; anything else is an
 * unknown field (kept in `extra` when scalar). Returns the reader's rc.
 */
static int read_shared_field(jctx *c, jmode mode, const char *key, json_t *v, const char **label,
                             double *capacity, na_status *status, jattrs *attrs,
                             bool *attrs_given, jattrs *extra, unsigned *fields)
{
    if (strcmp(key, "label") == 0)
        return read_string(c, mode, key, v, label, NA_FIELD_LABEL, fields);
    if (strcmp(key, "capacity") == 0)
        return read_number(c, mode, key, v, 0, HUGE_VAL, "bit/s", capacity, NA_FIELD_CAPACITY,
                           fields);
    if (strcmp(key, "status") == 0)
        return read_status(c, mode, v, status, fields);
    if (strcmp(key, "attributes") == 0)
        return read_attributes(c, mode, v, attrs, attrs_given);
    read_unknown(c, mode, key, v, extra);
    return NA_OK;
}

static bool in_list(const char *const *list, const char *key)
{
    for (; list && *list; list++) {
        if (strcmp(*list, key) == 0)
            return true;
    }
    return false;
}

static void set_subject(jctx *c, const char *what, const char *id)
{
    if (id)
        snprintf(c->subject, sizeof(c->subject), "%s '%.60s'", what, id);
    else
        c->subject[0] = '\0';
}

/*
 * Reads a node object into *n (strings borrowed from the tree or the context arena) and the
 * mask of fields it gives. `skip` lists keys that belong to an enclosing event.
 */
static int read_node(jctx *c, const json_t *obj, jmode mode, const char *const *skip, na_node *n,
                     unsigned *fields)
{
    jattrs attrs, extra;
    bool attrs_given = false;
    const char *key;
    json_t *v;
    int rc;

    na_node_init(n);
    *fields = 0;
    rc = read_id(c, json_object_get(obj, "id"), "id", "node id", true, &n->id);
    if (rc)
        return rc;
    set_subject(c, "node", n->id);
    if (mode == MODE_IDENTITY)
        return NA_OK;
    rc = alloc_attr_sets(c, obj, &attrs, &extra);
    if (rc)
        return rc;
    json_object_foreach((json_t *)obj, key, v) {
        if (strcmp(key, "id") == 0 || in_list(skip, key))
            continue;
        if (strcmp(key, "role") == 0)
            rc = read_string(c, mode, key, v, &n->role, NA_FIELD_ROLE, fields);
        else if (strcmp(key, "site") == 0)
            rc = read_string(c, mode, key, v, &n->site, NA_FIELD_SITE, fields);
        else if (strcmp(key, "asn") == 0)
            rc = read_asn(c, mode, v, &n->asn, fields);
        else if (strcmp(key, "latitude") == 0)
            rc = read_number(c, mode, key, v, -90, 90, "degrees", &n->latitude,
                             NA_FIELD_LATITUDE, fields);
        else if (strcmp(key, "longitude") == 0)
            rc = read_number(c, mode, key, v, -180, 180, "degrees", &n->longitude,
                             NA_FIELD_LONGITUDE, fields);
        else
            rc = read_shared_field(c, mode, key, v, &n->label, &n->capacity, &n->status,
                                   &attrs, &attrs_given, &extra, fields);
        if (rc)
            return rc;
    }
    finish_attrs(c, &attrs, &extra, mode, attrs_given, &n->attrs, &n->n_attrs, fields);
    return NA_OK;
}

/*
 * Reads a link object. In a snapshot and for adds, source and target are required; updates and
 * removes name the link by id or by its two ends.
 */
static int read_link(jctx *c, const json_t *obj, jmode mode, const char *const *skip, na_link *l,
                     unsigned *fields, bool ends_required)
{
    jattrs attrs, extra;
    bool attrs_given = false;
    const char *key;
    json_t *v;
    int rc;

    na_link_init(l);
    *fields = 0;
    rc = read_id(c, json_object_get(obj, "id"), "id", "link id", false, &l->id);
    if (!rc)
        rc = read_id(c, json_object_get(obj, "source"), "source", "link source", ends_required,
                     &l->source);
    if (!rc)
        rc = read_id(c, json_object_get(obj, "target"), "target", "link target", ends_required,
                     &l->target);
    if (rc)
        return rc;
    if (!l->id && (!l->source || !l->target))
        return ctx_fail(c, NA_EPARSE, NULL, "a link needs an id or both source and target");
    if (l->id)
        set_subject(c, "link", l->id);
    else {
        char both[80];
        snprintf(both, sizeof(both), "%.30s--%.30s", l->source, l->target);
        set_subject(c, "link", both);
    }
    if (mode == MODE_IDENTITY)
        return NA_OK;
    rc = alloc_attr_sets(c, obj, &attrs, &extra);
    if (rc)
        return rc;
    json_object_foreach((json_t *)obj, key, v) {
        if (strcmp(key, "id") == 0 || strcmp(key, "source") == 0 ||
            strcmp(key, "target") == 0 || in_list(skip, key))
            continue;
        rc = read_shared_field(c, mode, key, v, &l->label, &l->capacity, &l->status, &attrs,
                               &attrs_given, &extra, fields);
        if (rc)
            return rc;
    }
    finish_attrs(c, &attrs, &extra, mode, attrs_given, &l->attrs, &l->n_attrs, fields);
    return NA_OK;
}

/* ---- Snapshot import ------------------------------------------------------------------- */

static int read_nodes(jctx *c, const json_t *nodes, na_builder *b, na__idmap *ids,
                      const char **idv)
{
    size_t i;
    json_t *obj;
    int rc = NA_OK;

    push_key(c, "nodes");
    json_array_foreach(nodes, i, obj) {
        na_node n;
        unsigned fields;
        size_t first;

        push_index(c, i);
        if (!json_is_object(obj)) {
            rc = ctx_fail(c, NA_EPARSE, NULL, "expected a node object, got %s", na__json_type_name(obj));
            goto out;
        }
        rc = read_id(c, json_object_get(obj, "id"), "id", "node id", true, &n.id);
        if (rc)
            goto out;
        if (na__idmap_get(ids, n.id, &first)) {
            rc = ctx_fail(c, NA_EPARSE, "id", "duplicate node id '%.100s' (first at nodes[%zu])",
                          n.id, first);
            goto out;
        }
        rc = read_node(c, obj, MODE_SNAPSHOT, NULL, &n, &fields);
        if (rc)
            goto out;
        rc = na_builder_add_node(b, &n, c->err);
        if (rc)
            goto out;
        if (isnan(n.latitude) || isnan(n.longitude)) {
            if (c->rep)
                c->rep->missing_coordinates++;
            ctx_warn(c, NULL, "no usable latitude and longitude");
        }
        idv[i] = n.id;
        if (na__idmap_put(ids, n.id, i)) {
            rc = na_error_set(c->err, NA_ENOMEM, "out of memory");
            goto out;
        }
        pop(c);
    }
    pop(c);
    c->subject[0] = '\0';
    return NA_OK;
out:
    c->depth = 0;
    return rc;
}

/*
 * Records the link between node indexes si and ti for the report: self-loops, links parallel
 * to an earlier one (a set of "lo-hi" index pairs), node degrees for isolated nodes.
 */
static int note_link_shape(jctx *c, na__idmap *pairs, size_t *degree, size_t si, size_t ti)
{
    char key[48], *k;

    degree[si]++;
    degree[ti]++;
    if (si == ti) {
        if (c->rep)
            c->rep->self_loops++;
        ctx_warn(c, NULL, "self-loop; kept in the model (analytics drop it)");
    }
    snprintf(key, sizeof(key), "%zu-%zu", si < ti ? si : ti, si < ti ? ti : si);
    if (na__idmap_get(pairs, key, NULL)) {
        if (c->rep)
            c->rep->multi_links++;
        ctx_warn(c, NULL, "parallel to an earlier link between the same nodes; kept in the "
                          "model (analytics collapse them)");
        return NA_OK;
    }
    k = na__arena_strdup(&c->arena, key);
    if (!k || na__idmap_put(pairs, k, 0))
        return na_error_set(c->err, NA_ENOMEM, "out of memory");
    return NA_OK;
}

static int read_links(jctx *c, const char *name, const json_t *links, na_builder *b,
                      const na__idmap *ids, size_t *degree)
{
    na__idmap pairs;
    size_t i;
    json_t *obj;
    int rc = NA_OK;

    na__idmap_init(&pairs);

    push_key(c, name);
    json_array_foreach(links, i, obj) {
        na_link l;
        unsigned fields;
        size_t si, ti;

        push_index(c, i);
        if (!json_is_object(obj)) {
            rc = ctx_fail(c, NA_EPARSE, NULL, "expected a link object, got %s", na__json_type_name(obj));
            goto out;
        }
        rc = read_link(c, obj, MODE_SNAPSHOT, NULL, &l, &fields, true);
        if (rc)
            goto out;
        if (!na__idmap_get(ids, l.source, &si)) {
            rc = ctx_fail(c, NA_EPARSE, "source", "unknown node '%.100s'", l.source);
            goto out;
        }
        if (!na__idmap_get(ids, l.target, &ti)) {
            rc = ctx_fail(c, NA_EPARSE, "target", "unknown node '%.100s'", l.target);
            goto out;
        }
        if (l.id && na_builder_find_link(b, l.id)) {
            rc = ctx_fail(c, NA_EPARSE, "id", "duplicate link id '%.100s'", l.id);
            goto out;
        }
        rc = na_builder_add_link(b, &l, NULL, c->err);
        if (!rc)
            rc = note_link_shape(c, &pairs, degree, si, ti);
        if (rc)
            goto out;
        pop(c);
    }
    pop(c);
    c->subject[0] = '\0';
out:
    if (rc)
        c->depth = 0;
    na__idmap_free(&pairs);
    return rc;
}

/* Top-level keys a snapshot may hold; NetworkX node-link keys are accepted quietly. */
static const char *const snapshot_keys[] = {
    "type", "version", "seq", "timestamp", "name", "nodes", "links", "edges",
    "directed", "multigraph", "graph", NULL};

static int read_snapshot(jctx *c, const json_t *root, na_builder *b, na__idmap *ids)
{
    const json_t *type = json_object_get(root, "type"), *nodes = json_object_get(root, "nodes");
    const json_t *links = json_object_get(root, "links"), *edges = json_object_get(root, "edges");
    const json_t *name = json_object_get(root, "name"), *graph = json_object_get(root, "graph");
    const json_t *directed = json_object_get(root, "directed");
    const char *key, *links_key = "links";
    uint64_t version = 0, seq;
    size_t *degree;
    const char **idv;
    bool version_given;
    int64_t ts = 0;
    json_t *v;
    int rc;

    if (type && (!json_is_string(type) || strcmp(json_string_value(type), "snapshot") != 0)) {
        const char *t = json_is_string(type) ? json_string_value(type) : "";
        if (strcmp(t, "delta") == 0 || strcmp(t, "events") == 0)
            return ctx_fail(c, NA_EPARSE, "type",
                            "this is %s, not a snapshot (it changes one: see deltas in "
                            "docs/topology-schema.md)",
                            t[0] == 'd' ? "a delta message" : "an events document");
        return ctx_fail(c, NA_EPARSE, "type", "expected \"snapshot\", got %s%.40s%s",
                        json_is_string(type) ? "'" : na__json_type_name(type), t,
                        json_is_string(type) ? "'" : "");
    }
    if (!json_is_array(nodes))
        return ctx_fail(c, NA_EPARSE, "nodes", nodes ? "expected an array of nodes, got %s"
                                                     : "missing \"nodes\" array%s",
                        nodes ? na__json_type_name(nodes) : "");
    if (links && edges)
        return ctx_fail(c, NA_EPARSE, "edges",
                        "both \"links\" and \"edges\" given; \"edges\" is an alias of \"links\"");
    if (edges) {
        links = edges;
        links_key = "edges";
    }
    if (links && !json_is_array(links))
        return ctx_fail(c, NA_EPARSE, links_key, "expected an array of links, got %s",
                        na__json_type_name(links));

    json_object_foreach((json_t *)root, key, v) {
        if (!in_list(snapshot_keys, key)) {
            if (c->rep)
                c->rep->unknown_fields++;
            ctx_warn(c, key, "unknown top-level field, ignored");
        }
    }
    rc = read_count(c, MODE_SNAPSHOT, "version", json_object_get(root, "version"), &version,
                    &version_given);
    if (!rc)
        rc = read_count(c, MODE_SNAPSHOT, "seq", json_object_get(root, "seq"), &seq, NULL);
    if (!rc)
        rc = read_timestamp(c, MODE_SNAPSHOT, "timestamp", json_object_get(root, "timestamp"),
                            &ts);
    if (rc)
        return rc;
    if (name && !json_is_null(name) && !json_is_string(name)) {
        if (c->rep)
            c->rep->wrong_type++;
        ctx_warn(c, "name", "expected a string, got %s; ignored", na__json_type_name(name));
        name = NULL;
    }
    if (!json_is_string(name) && json_is_object(graph))
        name = json_object_get(graph, "name");  /* NetworkX keeps graph attributes there */
    if (json_is_string(name) && na_builder_set_name(b, json_string_value(name)))
        return na_error_set(c->err, NA_ENOMEM, "out of memory");
    if (json_is_true(directed))
        ctx_warn(c, "directed", "directed graph: links are read as undirected");
    if (version_given)
        na_builder_set_version(b, version);
    na_builder_set_timestamp_ms(b, ts);

    degree = calloc(json_array_size(nodes) + 1, sizeof(*degree));
    idv = calloc(json_array_size(nodes) + 1, sizeof(*idv));
    if (!degree || !idv) {
        rc = na_error_set(c->err, NA_ENOMEM, "out of memory");
        goto out_free;
    }
    rc = read_nodes(c, nodes, b, ids, idv);
    if (!rc && links)
        rc = read_links(c, links_key, links, b, ids, degree);
    push_key(c, "nodes");
    for (size_t i = 0; !rc && i < json_array_size(nodes); i++) {
        if (degree[i])
            continue;
        if (c->rep)
            c->rep->isolated_nodes++;
        push_index(c, i);
        set_subject(c, "node", idv[i]);
        ctx_warn(c, NULL, "node has no links");
        pop(c);
    }
    pop(c);
out_free:
    free(degree);
    free(idv);
    return rc;
}

/*
 * Reads a snapshot message (or NetworkX node-link JSON). On success *out is a new snapshot with
 * refcount 1 that the caller unrefs; `rep` (may be NULL) is reset and filled. Fatal problems
 * give NA_EPARSE with the JSON path in the message and the position in `err`. O(input size).
 */
int na_import_json(const char *data, size_t len, const char *source, na_topology **out,
                   na_import_report *rep, na_error *err)
{
    jctx c;
    json_t *root = NULL;
    na_builder *b = NULL;
    na__idmap ids;
    int rc;

    *out = NULL;
    na_import_report_init(rep);
    if (len > NA_IMPORT_MAX_BYTES)
        return na_error_set_at(err, NA_ETOOBIG, source ? source : "<input>", 0, 0, -1,
                               "input is %zu bytes, more than the limit of %zu", len,
                               (size_t)NA_IMPORT_MAX_BYTES);
    na__idmap_init(&ids);
    ctx_init(&c, data, len, source, rep, err);
    rc = ctx_load(&c, &root);
    if (rc)
        goto out_free_ctx;
    if (!json_is_object(root)) {
        rc = ctx_fail(&c, NA_EPARSE, NULL, "expected a snapshot object, got %s%s", na__json_type_name(root),
                      json_is_array(root) ? " (deltas are read by na_json_parse_deltas)" : "");
        goto out_free_root;
    }
    b = na_builder_new();
    if (!b) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out_free_root;
    }
    rc = read_snapshot(&c, root, b, &ids);
    if (rc) {
        na_builder_free(b);
        goto out_free_root;
    }
    rc = na_builder_finish(b, out, err);
    if (rc)
        goto out_free_root;
    if (rep) {
        rep->nodes = na_topology_node_count(*out);
        rep->links = na_topology_link_count(*out);
    }
out_free_root:
    json_decref(root);
out_free_ctx:
    na__idmap_free(&ids);
    na__arena_free(&c.arena);
    return rc;
}

/* ---- Deltas and events ----------------------------------------------------------------- */

typedef struct op_name {
    const char *name;
    na_delta_kind kind;
    jmode mode;
    int status;  /* for the up / down shorthands, else -1 */
} op_name;

static const op_name op_names[] = {
    {"node_add", NA_DELTA_NODE_ADD, MODE_ADD, -1},
    {"node_remove", NA_DELTA_NODE_REMOVE, MODE_IDENTITY, -1},
    {"node_update", NA_DELTA_NODE_UPDATE, MODE_UPDATE, -1},
    {"node_down", NA_DELTA_NODE_UPDATE, MODE_IDENTITY, NA_STATUS_DOWN},
    {"node_up", NA_DELTA_NODE_UPDATE, MODE_IDENTITY, NA_STATUS_UP},
    {"link_add", NA_DELTA_LINK_ADD, MODE_ADD, -1},
    {"link_remove", NA_DELTA_LINK_REMOVE, MODE_IDENTITY, -1},
    {"link_update", NA_DELTA_LINK_UPDATE, MODE_UPDATE, -1},
    {"link_down", NA_DELTA_LINK_UPDATE, MODE_IDENTITY, NA_STATUS_DOWN},
    {"link_up", NA_DELTA_LINK_UPDATE, MODE_IDENTITY, NA_STATUS_UP},
};

static bool is_node_op(na_delta_kind k)
{
    return k == NA_DELTA_NODE_ADD || k == NA_DELTA_NODE_REMOVE || k == NA_DELTA_NODE_UPDATE;
}

/* The "op" member of an op or event; NULL after setting the error. */
static const op_name *read_op_name(jctx *c, const json_t *obj)
{
    const json_t *v = json_object_get(obj, "op");

    if (!json_is_string(v)) {
        ctx_fail(c, NA_EPARSE, "op", v ? "expected an operation name, got %s"
                                       : "missing operation%s", v ? na__json_type_name(v) : "");
        return NULL;
    }
    for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
        if (strcmp(json_string_value(v), op_names[i].name) == 0)
            return &op_names[i];
    }
    ctx_fail(c, NA_EPARSE, "op", "unknown operation '%.60s'", json_string_value(v));
    return NULL;
}

/* Fills op from `obj` (a node or link object, or a flat event with `skip` keys). */
static int read_op_body(jctx *c, const op_name *on, const json_t *obj, const char *const *skip,
                        na_delta_op *op)
{
    int rc;

    memset(op, 0, sizeof(*op));
    na_node_init(&op->node);
    na_link_init(&op->link);
    op->kind = on->kind;
    if (is_node_op(on->kind))
        rc = read_node(c, obj, on->mode, skip, &op->node, &op->fields);
    else
        rc = read_link(c, obj, on->mode, skip, &op->link, &op->fields,
                       on->kind == NA_DELTA_LINK_ADD);
    if (rc)
        return rc;
    if (on->status >= 0) {
        op->node.status = op->link.status = (na_status)on->status;
        op->fields = NA_FIELD_STATUS;
    }
    return NA_OK;
}

typedef struct delta_vec {
    na_delta **v;
    size_t n, cap;
} delta_vec;

static int delta_vec_push(jctx *c, delta_vec *dv, na_delta **d)
{
    if (dv->n == dv->cap) {
        size_t ncap = dv->cap ? dv->cap * 2 : 8;
        na_delta **nv = realloc(dv->v, ncap * sizeof(*nv));
        if (!nv)
            return na_error_set(c->err, NA_ENOMEM, "out of memory");
        dv->v = nv;
        dv->cap = ncap;
    }
    *d = na_delta_new();
    if (!*d)
        return na_error_set(c->err, NA_ENOMEM, "out of memory");
    dv->v[dv->n++] = *d;
    return NA_OK;
}

static int read_delta(jctx *c, const json_t *obj, delta_vec *dv)
{
    const json_t *type = json_object_get(obj, "type"), *ops = json_object_get(obj, "ops");
    uint64_t seq = 0;
    int64_t ts = 0;
    na_delta *d;
    size_t i;
    json_t *o;
    int rc;

    if (type && (!json_is_string(type) || strcmp(json_string_value(type), "delta") != 0))
        return ctx_fail(c, NA_EPARSE, "type", "expected \"delta\"%s",
                        json_is_string(type) && strcmp(json_string_value(type), "snapshot") == 0
                            ? ", got a snapshot (read it with na_import_json)" : "");
    if (!json_is_array(ops))
        return ctx_fail(c, NA_EPARSE, "ops", ops ? "expected an array of operations, got %s"
                                                 : "missing \"ops\" array%s",
                        ops ? na__json_type_name(ops) : "");
    rc = read_count(c, MODE_ADD, "seq", json_object_get(obj, "seq"), &seq, NULL);
    if (!rc)
        rc = read_timestamp(c, MODE_ADD, "timestamp", json_object_get(obj, "timestamp"), &ts);
    if (!rc)
        rc = delta_vec_push(c, dv, &d);
    if (rc)
        return rc;
    na_delta_set_seq(d, seq);
    na_delta_set_timestamp_ms(d, ts);
    push_key(c, "ops");
    json_array_foreach(ops, i, o) {
        const op_name *on;
        const json_t *body;
        const char *member;
        na_delta_op op;

        push_index(c, i);
        if (!json_is_object(o))
            return ctx_fail(c, NA_EPARSE, NULL, "expected an operation object, got %s",
                            na__json_type_name(o));
        on = read_op_name(c, o);
        if (!on)
            return NA_EPARSE;
        member = is_node_op(on->kind) ? "node" : "link";
        body = json_object_get(o, member);
        if (!json_is_object(body))
            return ctx_fail(c, NA_EPARSE, member, "%s needs a \"%s\" object%s%s", on->name,
                            member, body ? ", got " : "", body ? na__json_type_name(body) : "");
        push_key(c, member);
        rc = read_op_body(c, on, body, NULL, &op);
        if (rc)
            return rc;
        if (na_delta_append(d, &op))
            return na_error_set(c->err, NA_ENOMEM, "out of memory");
        pop(c);
        pop(c);
    }
    pop(c);
    return NA_OK;
}

/* Keys of an event that are not fields of its node or link. */
static const char *const event_keys[] = {"timestamp", "op", "seq", NULL};

static int read_events(jctx *c, const json_t *obj, delta_vec *dv)
{
    const json_t *events = json_object_get(obj, "events"), *base = json_object_get(obj, "base");
    int64_t last = INT64_MIN;
    size_t i;
    json_t *e;
    int rc;

    if (base && !json_is_string(base))
        return ctx_fail(c, NA_EPARSE, "base", "expected a file name, got %s", na__json_type_name(base));
    if (!json_is_array(events))
        return ctx_fail(c, NA_EPARSE, "events", events ? "expected an array of events, got %s"
                                                       : "missing \"events\" array%s",
                        events ? na__json_type_name(events) : "");
    push_key(c, "events");
    json_array_foreach(events, i, e) {
        const op_name *on;
        uint64_t seq = i + 1;
        int64_t ts = 0;
        na_delta *d;
        na_delta_op op;

        push_index(c, i);
        if (!json_is_object(e))
            return ctx_fail(c, NA_EPARSE, NULL, "expected an event object, got %s", na__json_type_name(e));
        if (!json_object_get(e, "timestamp"))
            return ctx_fail(c, NA_EPARSE, "timestamp", "missing timestamp");
        rc = read_timestamp(c, MODE_ADD, "timestamp", json_object_get(e, "timestamp"), &ts);
        if (!rc)
            rc = read_count(c, MODE_ADD, "seq", json_object_get(e, "seq"), &seq, NULL);
        if (rc)
            return rc;
        if (ts < last)
            return ctx_fail(c, NA_EPARSE, "timestamp",
                            "events must be in time order; this one is %llu ms before the "
                            "previous one", (unsigned long long)last - (unsigned long long)ts);
        last = ts;
        on = read_op_name(c, e);
        if (!on)
            return NA_EPARSE;
        rc = read_op_body(c, on, e, event_keys, &op);
        if (!rc)
            rc = delta_vec_push(c, dv, &d);
        if (rc)
            return rc;
        na_delta_set_seq(d, seq);
        na_delta_set_timestamp_ms(d, ts);
        if (na_delta_append(d, &op))
            return na_error_set(c->err, NA_ENOMEM, "out of memory");
        pop(c);
    }
    pop(c);
    return NA_OK;
}

static int read_message(jctx *c, const json_t *obj, delta_vec *dv)
{
    const json_t *type = json_object_get(obj, "type");
    const char *t = json_is_string(type) ? json_string_value(type) : NULL;

    if (t && strcmp(t, "events") == 0)
        return read_events(c, obj, dv);
    if (!type && !json_object_get(obj, "ops") && json_object_get(obj, "events"))
        return read_events(c, obj, dv);
    return read_delta(c, obj, dv);
}

/*
 * Reads one delta, an array of deltas or an events document (one delta per event). On success
 * *out is a malloc'd array of *n_out deltas (never NULL, even when empty): the caller frees each
 * with na_delta_free and the array with free(). On error nothing is returned. O(input size).
 */
int na_json_parse_deltas(const char *data, size_t len, const char *source, na_delta ***out,
                         size_t *n_out, na_error *err)
{
    delta_vec dv = {0};
    json_t *root = NULL;
    jctx c;
    int rc;

    *out = NULL;
    *n_out = 0;
    if (len > DELTA_MAX_BYTES)
        return na_error_set_at(err, NA_ETOOBIG, source ? source : "<input>", 0, 0, -1,
                               "delta input is %zu bytes, more than the limit of %zu", len,
                               DELTA_MAX_BYTES);
    ctx_init(&c, data, len, source, NULL, err);
    rc = ctx_load(&c, &root);
    if (rc)
        goto out_free_ctx;
    if (json_is_array(root)) {
        size_t i;
        json_t *m;
        json_array_foreach(root, i, m) {
            push_index(&c, i);
            if (!json_is_object(m) || json_object_get(m, "events")) {
                rc = ctx_fail(&c, NA_EPARSE, NULL, "an array holds delta objects only, got %s",
                              json_is_object(m) ? "an events document" : na__json_type_name(m));
                goto out_free_deltas;
            }
            rc = read_delta(&c, m, &dv);
            if (rc)
                goto out_free_deltas;
            pop(&c);
        }
    } else {
        rc = read_message(&c, root, &dv);
        if (rc)
            goto out_free_deltas;
    }
    *out = dv.v;
    *n_out = dv.n;
    if (!dv.v) {
        *out = malloc(sizeof(**out));  /* an empty array: a valid, freeable pointer */
        if (!*out) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out_free_root;
        }
    }
    goto out_free_root;

out_free_deltas:
    for (size_t i = 0; i < dv.n; i++)
        na_delta_free(dv.v[i]);
    free(dv.v);
out_free_root:
    json_decref(root);
out_free_ctx:
    na__arena_free(&c.arena);
    return rc;
}

/* ---- Export ---------------------------------------------------------------------------- */

/* Writes the attributes that have a value as members of an object; false when there are none.
 * With `key`, opens "key": { first, and closes it. */
static bool jw_attr_members(na__jw *w, const char *key, const na_attr *attrs, size_t n)
{
    bool any = false;

    for (size_t i = 0; i < n; i++) {
        const na_value *v = &attrs[i].value;
        if (v->type == NA_VAL_NULL || (v->type == NA_VAL_DOUBLE && !isfinite(v->u.d)))
            continue;
        if (!any && key) {
            na__jw_key(w, key);
            na__jw_open(w, '{');
        }
        any = true;
        na__jw_key(w, attrs[i].key);
        switch (v->type) {
        case NA_VAL_BOOL: na__jw_puts(w, v->u.b ? "true" : "false"); break;
        case NA_VAL_INT: na__jw_int(w, v->u.i); break;
        case NA_VAL_DOUBLE: na__jw_double(w, v->u.d, true); break;
        case NA_VAL_STRING: na__jw_string(w, v->u.s ? v->u.s : ""); break;
        case NA_VAL_NULL: break;
        }
    }
    if (any && key)
        na__jw_close(w, '}');
    return any;
}

static void jw_attrs(na__jw *w, const na_attr *attrs, size_t n)
{
    jw_attr_members(w, "attributes", attrs, n);
}

static void jw_status(na__jw *w, na_status st, bool explicit_unknown)
{
    if (st != NA_STATUS_UNKNOWN || explicit_unknown)
        na__jw_kv_str(w, "status", na_status_name(st));
}

static void jw_node(na__jw *w, const na_node *n, bool explicit_unknown)
{
    na__jw_next(w);
    na__jw_open(w, '{');
    na__jw_kv_str(w, "id", n->id);
    na__jw_kv_str(w, "label", n->label);
    na__jw_kv_str(w, "role", n->role);
    if (n->asn) {
        na__jw_key(w, "asn");
        na__jw_int(w, n->asn);
    }
    na__jw_kv_str(w, "site", n->site);
    na__jw_kv_num(w, "latitude", n->latitude);
    na__jw_kv_num(w, "longitude", n->longitude);
    na__jw_kv_num(w, "capacity", n->capacity);
    jw_status(w, n->status, explicit_unknown);
    jw_attrs(w, n->attrs, n->n_attrs);
    na__jw_close(w, '}');
}

static void jw_link(na__jw *w, const na_link *l, bool explicit_unknown)
{
    na__jw_next(w);
    na__jw_open(w, '{');
    na__jw_kv_str(w, "id", l->id);
    na__jw_kv_str(w, "source", l->source);
    na__jw_kv_str(w, "target", l->target);
    na__jw_kv_str(w, "label", l->label);
    na__jw_kv_num(w, "capacity", l->capacity);
    jw_status(w, l->status, explicit_unknown);
    jw_attrs(w, l->attrs, l->n_attrs);
    na__jw_close(w, '}');
}

/*
 * Writes `topo` as a snapshot message. The caller owns the result (free()). Values the model
 * holds as unknown (NULL, NaN, AS 0, status unknown, null attributes) are left out, so
 * na_import_json reads the text back into an equal snapshot. O(size of the topology).
 */
char *na_export_json(const na_topology *topo, unsigned flags, size_t *len)
{
    na__jw w = {.pretty = (flags & NA_EXPORT_PRETTY) != 0};
    bool expl = (flags & NA_EXPORT_EXPLICIT) != 0;
    int64_t ts = na_topology_timestamp_ms(topo);
    char tbuf[40];

    na__jw_open(&w, '{');
    na__jw_kv_str(&w, "type", "snapshot");
    na__jw_key(&w, "version");
    na__jw_int(&w, (int64_t)na_topology_version(topo));
    if (ts) {
        na__jw_key(&w, "timestamp");
        if (format_rfc3339(ts, tbuf, sizeof(tbuf)))
            na__jw_string(&w, tbuf);
        else
            na__jw_int(&w, ts);
    }
    if (na_topology_name(topo) || !expl) {
        na__jw_kv_str(&w, "name", na_topology_name(topo));
    } else {
        na__jw_key(&w, "name");
        na__jw_puts(&w, "null");
    }
    na__jw_key(&w, "nodes");
    na__jw_open(&w, '[');
    for (size_t i = 0; i < na_topology_node_count(topo); i++)
        jw_node(&w, na_topology_node(topo, i), expl);
    na__jw_close(&w, ']');
    na__jw_key(&w, "links");
    na__jw_open(&w, '[');
    for (size_t i = 0; i < na_topology_link_count(topo); i++)
        jw_link(&w, na_topology_link(topo, i), expl);
    na__jw_close(&w, ']');
    na__jw_close(&w, '}');
    return na__jw_finish(&w, len);
}

/*
 * The attributes as one JSON object text ("{}" when none has a value); the caller frees it.
 * NULL on ENOMEM.
 */
char *na_export_attrs_json(const na_attr *attrs, size_t n, size_t *len)
{
    na__jw w = {.pretty = false};

    na__jw_open(&w, '{');
    jw_attr_members(&w, NULL, attrs, n);
    na__jw_close(&w, '}');
    return na__jw_finish(&w, len);
}
