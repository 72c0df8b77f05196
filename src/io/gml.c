/*
 * gml.c: the GML importer (Graph Modelling Language, as the Internet Topology Zoo, networkx and
 * igraph write it). A hand-written tokenizer over (data, len), so that ids stay strings, errors
 * carry line and column, and the fuzzer can reach every branch.
 *
 * Accepts: `key value` pairs; keys are [A-Za-z_][A-Za-z0-9_]*; values are integers, reals
 * (a '.', an exponent, or INF / NAN), "strings" (may span lines; &quot; &amp; &lt; &gt; &apos;
 * &#N; &#xH; are decoded; a string that is not UTF-8 is read as ISO-8859-1, GML's own charset)
 * or [ lists ]; '#' comments to the end of the line; a UTF-8 byte order mark.
 * The first top-level `graph [ ... ]` is the topology; more graphs are reported and skipped;
 * other top-level pairs (Creator, Version) are ignored. Inside the graph: `node [ id INT ... ]`,
 * `edge [ source INT target INT id? ... ]` in any order, `label "..."` names the topology,
 * `directed 1` is reported (links are undirected), other pairs (Network, multigraph, ...) are
 * ignored and other lists are skipped (unknown_fields).
 *
 * Mapping: node `id 12` -> node id "12"; edge `id` (integer or string) -> link id, otherwise a
 * generated one; every other field by the rules in graph_file.h (label, Latitude, Longitude,
 * LinkLabel, LinkSpeedRaw, LinkSpeed x LinkSpeedUnits, role, asn, site, status; the rest kept
 * as typed free attributes). Lists inside a node or edge (graphics [ ... ]) are skipped and
 * counted in unknown_fields.
 *
 * Fatal, NA_EPARSE with line and column: an unterminated list or string, no `graph [`, a
 * missing, non-integer or duplicate node id, an edge naming an unknown node, lists nested deeper
 * than GML_MAX_DEPTH, anything that is not a key/value pair (trailing garbage included).
 */
#include "netassure/io.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/graph_file.h"

#define GML_MAX_DEPTH 64
#define GML_MAX_NUMBER 128  /* characters in one number token */
#define QUOTE_MAX 40        /* characters of a token quoted in an error */

typedef enum tok_kind {
    TOK_EOF = 0,
    TOK_KEY,
    TOK_INT,
    TOK_REAL,
    TOK_STRING,
    TOK_OPEN,
    TOK_CLOSE
} tok_kind;

typedef struct token {
    tok_kind kind;
    const char *text;  /* key, string contents (undecoded) or number, not NUL-terminated */
    size_t len;
    long line;
    long column;
    size_t offset;
    int64_t i;
    double d;
} token;

typedef struct gml {
    const char *data;
    size_t len;
    size_t pos;
    long line;
    size_t line_start;
    na__gfile g;
    na_error *err;
    bool warned_latin1;
    bool warned_directed;
    bool seen_graph;
} gml;

/* ---- Errors ----------------------------------------------------------------------------- */

static int fail_at(gml *p, long line, long column, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail_at(gml *p, long line, long column, size_t offset, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return na_error_set_at(p->err, NA_EPARSE, p->g.source, line, column, (long)offset, "%s", msg);
}

#define FAIL_TOK(p, t, ...) fail_at((p), (t)->line, (t)->column, (t)->offset, __VA_ARGS__)

/* What a token is, for "found ..." in messages. */
static const char *describe(const token *t, char *buf, size_t len)
{
    switch (t->kind) {
    case TOK_EOF: return "the end of the input";
    case TOK_OPEN: return "'['";
    case TOK_CLOSE: return "']'";
    case TOK_STRING: return "a string";
    case TOK_KEY: snprintf(buf, len, "'%.*s'", (int)(t->len > QUOTE_MAX ? QUOTE_MAX : t->len),
                           t->text); return buf;
    default: snprintf(buf, len, "the number %.*s", (int)(t->len > QUOTE_MAX ? QUOTE_MAX : t->len),
                      t->text); return buf;
    }
}

static int nomem(gml *p)
{
    return na_error_set(p->err, NA_ENOMEM, "out of memory");
}

/* ---- Tokenizer -------------------------------------------------------------------------- */

static bool is_digit(char c) { return '0' <= c && c <= '9'; }
static bool is_key_start(char c)
{
    return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '_';
}
static bool is_key_char(char c) { return is_key_start(c) || is_digit(c); }
static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/* Whether a number may end before position j (nothing glued to it). */
static bool at_delimiter(const gml *p, size_t j)
{
    if (j >= p->len)
        return true;
    char c = p->data[j];
    return is_blank(c) || c == '\n' || c == '[' || c == ']' || c == '"' || c == '#';
}

static int lex_number(gml *p, token *t)
{
    const char *d = p->data;
    size_t j = p->pos, digits = 0;
    bool real = false, inf = false;
    char buf[GML_MAX_NUMBER + 1];

    if (d[j] == '+' || d[j] == '-')
        j++;
    if (p->len - j >= 3 && memcmp(d + j, "INF", 3) == 0) {
        j += 3;
        real = inf = true;
        digits = 1;
    } else {
        for (; j < p->len && is_digit(d[j]); j++)
            digits++;
        if (j < p->len && d[j] == '.') {
            real = true;
            for (j++; j < p->len && is_digit(d[j]); j++)
                digits++;
        }
        if (digits && j < p->len && (d[j] == 'e' || d[j] == 'E')) {
            size_t k = j + 1;
            if (k < p->len && (d[k] == '+' || d[k] == '-'))
                k++;
            if (k < p->len && is_digit(d[k])) {
                real = true;
                for (j = k; j < p->len && is_digit(d[j]); j++)
                    ;
            }
        }
    }
    if (!digits || !at_delimiter(p, j)) {
        /* show the offending character too, when it prints */
        size_t shown = j - p->pos + (j < p->len && d[j] > ' ' && d[j] < 0x7f);
        return FAIL_TOK(p, t, "malformed number '%.*s' (expected digits, optionally with a "
                        "'.' and an exponent)", (int)(shown > QUOTE_MAX ? QUOTE_MAX : shown),
                        d + p->pos);
    }
    t->text = d + p->pos;
    t->len = j - p->pos;
    if (t->len > GML_MAX_NUMBER)
        return FAIL_TOK(p, t, "number longer than %d characters", GML_MAX_NUMBER);
    memcpy(buf, t->text, t->len);
    buf[t->len] = '\0';
    p->pos = j;
    if (!real) {
        /* integers beyond 64 bits are kept as reals rather than refused */
        int64_t v = 0;
        bool neg = buf[0] == '-';
        const char *q = buf + (buf[0] == '-' || buf[0] == '+');
        for (; *q; q++) {
            int dig = *q - '0';
            if (v > (INT64_MAX - dig) / 10)
                break;
            v = v * 10 + dig;
        }
        if (!*q) {
            t->kind = TOK_INT;
            t->i = neg ? -v : v;
            return NA_OK;
        }
    }
    if (inf)
        t->d = buf[0] == '-' ? -INFINITY : INFINITY;
    else
        t->d = strtod(buf, NULL);
    t->kind = TOK_REAL;
    return NA_OK;
}

static int next_token(gml *p, token *t)
{
    const char *d = p->data;

    memset(t, 0, sizeof(*t));
    for (;;) {
        if (p->pos >= p->len)
            break;
        if (d[p->pos] == '\n') {
            p->pos++;
            p->line++;
            p->line_start = p->pos;
        } else if (is_blank(d[p->pos])) {
            p->pos++;
        } else if (d[p->pos] == '#') {
            while (p->pos < p->len && d[p->pos] != '\n')
                p->pos++;
        } else {
            break;
        }
    }
    t->line = p->line;
    t->column = (long)(p->pos - p->line_start) + 1;
    t->offset = p->pos;
    if (p->pos >= p->len) {
        t->kind = TOK_EOF;
        return NA_OK;
    }
    char c = d[p->pos];
    if (c == '[' || c == ']') {
        t->kind = c == '[' ? TOK_OPEN : TOK_CLOSE;
        t->text = d + p->pos++;
        t->len = 1;
        return NA_OK;
    }
    if (c == '"') {
        size_t j = p->pos + 1;
        for (; j < p->len && d[j] != '"'; j++) {
            if (d[j] == '\n') {
                p->line++;
                p->line_start = j + 1;
            } else if (d[j] == '\0') {
                return fail_at(p, p->line, (long)(j - p->line_start) + 1, j,
                               "NUL byte inside a string (expected text)");
            }
        }
        if (j >= p->len)
            return FAIL_TOK(p, t, "unterminated string (expected a closing '\"' before the "
                            "end of the input)");
        t->kind = TOK_STRING;
        t->text = d + p->pos + 1;
        t->len = j - p->pos - 1;
        p->pos = j + 1;
        return NA_OK;
    }
    if (is_key_start(c)) {
        size_t j = p->pos;
        while (j < p->len && is_key_char(d[j]))
            j++;
        t->kind = TOK_KEY;
        t->text = d + p->pos;
        t->len = j - p->pos;
        p->pos = j;
        return NA_OK;
    }
    if (is_digit(c) || c == '+' || c == '-' || c == '.')
        return lex_number(p, t);
    if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
        return FAIL_TOK(p, t, "unexpected character '%c' (expected a key, a value, '[' or ']')",
                        c);
    return FAIL_TOK(p, t, "unexpected byte 0x%02x (expected a key, a value, '[' or ']')",
                    (unsigned char)c);
}

static bool tok_is(const token *t, const char *word)
{
    size_t n = strlen(word);
    return t->len == n && memcmp(t->text, word, n) == 0;
}

/* ---- Strings ---------------------------------------------------------------------------- */

static bool utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += n + 1;
    }
    return true;
}

static size_t utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * Decodes the entity at s[0] == '&' into out (at most as many bytes as it spans). Returns the
 * bytes written and sets *used, or 0 when it is not an entity we know (the '&' stays as is).
 */
static size_t decode_entity(const char *s, size_t n, char *out, size_t *used)
{
    static const struct { const char *name; char c; } named[] = {
        {"quot", '"'}, {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"apos", '\''},
    };
    size_t semi = 1;
    uint32_t cp = 0;

    while (semi < n && semi < 12 && s[semi] != ';')
        semi++;
    if (semi >= n || s[semi] != ';' || semi == 1)
        return 0;
    *used = semi + 1;
    if (s[1] != '#') {
        for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
            if (strlen(named[k].name) == semi - 1 && memcmp(s + 1, named[k].name, semi - 1) == 0) {
                out[0] = named[k].c;
                return 1;
            }
        }
        return 0;
    }
    if (semi >= 3 && (s[2] == 'x' || s[2] == 'X')) {
        for (size_t k = 3; k < semi; k++) {
            char c = s[k];
            int v = is_digit(c) ? c - '0' : ('a' <= c && c <= 'f') ? c - 'a' + 10
                                          : ('A' <= c && c <= 'F') ? c - 'A' + 10 : -1;
            if (v < 0 || cp > 0x10ffff)
                return 0;
            cp = cp * 16 + (uint32_t)v;
        }
        if (semi == 3)
            return 0;
    } else {
        for (size_t k = 2; k < semi; k++) {
            if (!is_digit(s[k]) || cp > 0x10ffff)
                return 0;
            cp = cp * 10 + (uint32_t)(s[k] - '0');
        }
    }
    if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return utf8_put(cp, out);
}

/* The decoded contents of a string token, in the arena; NULL on ENOMEM. */
static char *decode_string(gml *p, const token *t)
{
    bool latin1 = !utf8_valid((const unsigned char *)t->text, t->len);
    char *out = na__arena_alloc(&p->g.arena, 2 * t->len + 1);
    size_t o = 0;

    if (!out)
        return NULL;
    if (latin1 && !p->warned_latin1) {
        p->warned_latin1 = true;
        na__gfile_warn(&p->g, t->line, "text that is not UTF-8; read as ISO-8859-1");
    }
    for (size_t i = 0; i < t->len;) {
        unsigned char c = (unsigned char)t->text[i];
        size_t used = 0, w = 0;
        if (c == '&')
            w = decode_entity(t->text + i, t->len - i, out + o, &used);
        if (w > 0) {
            o += w;
            i += used;
        } else if (c >= 0x80 && latin1) {
            o += utf8_put(c, out + o);
            i++;
        } else {
            out[o++] = (char)c;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

static char *int_string(gml *p, int64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    return na__arena_strdup(&p->g.arena, buf);
}

/* ---- Parser ----------------------------------------------------------------------------- */

/* Reads the value after `key` into *v: a number, a string or '[' (INF and NAN are reals). */
static int read_value(gml *p, const token *key, token *v)
{
    char what[64];
    int rc = next_token(p, v);

    if (rc)
        return rc;
    if (v->kind == TOK_KEY && (tok_is(v, "INF") || tok_is(v, "NAN"))) {
        v->kind = TOK_REAL;
        v->d = tok_is(v, "INF") ? INFINITY : NAN;
    }
    if (v->kind == TOK_INT || v->kind == TOK_REAL || v->kind == TOK_STRING || v->kind == TOK_OPEN)
        return NA_OK;
    return FAIL_TOK(p, v, "expected a value (number, string or '[') after '%.*s', found %s",
                    (int)(key->len > QUOTE_MAX ? QUOTE_MAX : key->len), key->text,
                    describe(v, what, sizeof(what)));
}

static int unterminated(gml *p, const token *at, const token *open)
{
    return FAIL_TOK(p, at, "unterminated list: expected ']' to close the '[' at line %ld, "
                    "column %ld, found the end of the input", open->line, open->column);
}

static int expected_key(gml *p, const token *t)
{
    char what[64];
    return FAIL_TOK(p, t, "expected a key or ']', found %s", describe(t, what, sizeof(what)));
}

/* Checks the depth of a list about to be read. */
static int check_depth(gml *p, const token *open, int depth)
{
    if (depth > GML_MAX_DEPTH)
        return FAIL_TOK(p, open, "lists nested deeper than %d levels", GML_MAX_DEPTH);
    return NA_OK;
}

/* Reads and drops the list opened by `open` (at nesting `depth`), checking its syntax. */
static int skip_list(gml *p, const token *open, int depth)
{
    token k, v;
    int rc = check_depth(p, open, depth);

    while (!rc) {
        rc = next_token(p, &k);
        if (rc)
            break;
        if (k.kind == TOK_CLOSE)
            return NA_OK;
        if (k.kind == TOK_EOF)
            return unterminated(p, &k, open);
        if (k.kind != TOK_KEY)
            return expected_key(p, &k);
        rc = read_value(p, &k, &v);
        if (!rc && v.kind == TOK_OPEN)
            rc = skip_list(p, &v, depth + 1);
    }
    return rc;
}

/* A scalar token as a field value (strings decoded into the arena). */
static int token_value(gml *p, const token *v, na_value *out)
{
    memset(out, 0, sizeof(*out));
    switch (v->kind) {
    case TOK_INT:
        out->type = NA_VAL_INT;
        out->u.i = v->i;
        return NA_OK;
    case TOK_REAL:
        out->type = NA_VAL_DOUBLE;
        out->u.d = v->d;
        return NA_OK;
    default:
        out->type = NA_VAL_STRING;
        out->u.s = decode_string(p, v);
        return out->u.s ? NA_OK : nomem(p);
    }
}

/* An endpoint or node id: an integer, written out as the id string. */
static int int_id(gml *p, const token *key, const token *v, const char *what, const char **out)
{
    char found[64];

    if (*out)
        return FAIL_TOK(p, key, "%s given twice (expected one)", what);
    if (v->kind != TOK_INT)
        return FAIL_TOK(p, v, "%s must be an integer, found %s", what,
                        describe(v, found, sizeof(found)));
    *out = int_string(p, v->i);
    return *out ? NA_OK : nomem(p);
}

/* Reads `node [ ... ]` or `edge [ ... ]` (the '[' is `open`, the key `key`) into a record. */
static int parse_item(gml *p, na__gfile_kind kind, const token *key, const token *open)
{
    const char *what = kind == NA__GFILE_NODE ? "node" : "edge";
    na__gfile_item *it = na__gfile_begin(&p->g, kind, key->line, key->column);
    token k, v;
    int rc;

    if (!it)
        return nomem(p);
    for (;;) {
        rc = next_token(p, &k);
        if (rc)
            return rc;
        if (k.kind == TOK_CLOSE)
            break;
        if (k.kind == TOK_EOF)
            return unterminated(p, &k, open);
        if (k.kind != TOK_KEY)
            return expected_key(p, &k);
        rc = read_value(p, &k, &v);
        if (rc)
            return rc;
        if (v.kind == TOK_OPEN) {
            rc = skip_list(p, &v, 3);
            if (rc)
                return rc;
            if (p->g.rep)
                p->g.rep->unknown_fields++;
            na__gfile_warn(&p->g, k.line, "%s: nested list '%.*s' skipped", what,
                           (int)(k.len > QUOTE_MAX ? QUOTE_MAX : k.len), k.text);
            continue;
        }
        if (kind == NA__GFILE_NODE && tok_is(&k, "id")) {
            rc = int_id(p, &k, &v, "node id", &it->id);
        } else if (kind == NA__GFILE_EDGE && tok_is(&k, "source")) {
            rc = int_id(p, &k, &v, "edge source", &it->source);
        } else if (kind == NA__GFILE_EDGE && tok_is(&k, "target")) {
            rc = int_id(p, &k, &v, "edge target", &it->target);
        } else if (kind == NA__GFILE_EDGE && tok_is(&k, "id") && !it->id &&
                   (v.kind == TOK_INT || v.kind == TOK_STRING)) {
            it->id = v.kind == TOK_INT ? int_string(p, v.i) : decode_string(p, &v);
            rc = it->id ? NA_OK : nomem(p);
        } else {
            const char *name = na__arena_strndup(&p->g.arena, k.text, k.len);
            na_value val;
            rc = name ? token_value(p, &v, &val) : nomem(p);
            if (!rc && na__gfile_add_field(&p->g, name, &val, k.line, false))
                rc = nomem(p);
        }
        if (rc)
            return rc;
    }
    if (kind == NA__GFILE_NODE && !it->id)
        return FAIL_TOK(p, key, "node without an id (expected 'id INTEGER' in the node)");
    if (kind == NA__GFILE_EDGE && (!it->source || !it->target))
        return FAIL_TOK(p, key, "edge without a %s (expected '%s INTEGER' in the edge)",
                        it->source ? "target" : "source", it->source ? "target" : "source");
    return NA_OK;
}

/* Reads the body of the graph list opened by `open`. */
static int parse_graph(gml *p, const token *open)
{
    token k, v;
    int rc;

    for (;;) {
        rc = next_token(p, &k);
        if (rc)
            return rc;
        if (k.kind == TOK_CLOSE)
            return NA_OK;
        if (k.kind == TOK_EOF)
            return unterminated(p, &k, open);
        if (k.kind != TOK_KEY)
            return expected_key(p, &k);
        rc = read_value(p, &k, &v);
        if (rc)
            return rc;
        if (tok_is(&k, "node") || tok_is(&k, "edge")) {
            if (v.kind != TOK_OPEN)
                return FAIL_TOK(p, &v, "expected '[' after '%s'", tok_is(&k, "node") ? "node"
                                                                                    : "edge");
            rc = parse_item(p, tok_is(&k, "node") ? NA__GFILE_NODE : NA__GFILE_EDGE, &k, &v);
        } else if (v.kind == TOK_OPEN) {
            rc = skip_list(p, &v, 2);
            if (p->g.rep)
                p->g.rep->unknown_fields++;
            na__gfile_warn(&p->g, k.line, "graph: list '%.*s' skipped",
                           (int)(k.len > QUOTE_MAX ? QUOTE_MAX : k.len), k.text);
        } else if (tok_is(&k, "label") && v.kind == TOK_STRING && !p->g.name) {
            p->g.name = decode_string(p, &v);
            rc = p->g.name ? NA_OK : nomem(p);
        } else if (tok_is(&k, "directed") && v.kind == TOK_INT && v.i != 0 &&
                   !p->warned_directed) {
            p->warned_directed = true;
            na__gfile_warn(&p->g, k.line, "directed graph: links are read as undirected");
        }
        if (rc)
            return rc;
    }
}

static int parse_document(gml *p)
{
    token k, v;
    char what[64];
    int rc;

    /* a UTF-8 byte order mark, as Windows tools write */
    if (p->len >= 3 && memcmp(p->data, "\xef\xbb\xbf", 3) == 0)
        p->pos = p->line_start = 3;
    for (;;) {
        rc = next_token(p, &k);
        if (rc)
            return rc;
        if (k.kind == TOK_EOF)
            break;
        if (k.kind != TOK_KEY)
            return FAIL_TOK(p, &k, "expected a key, found %s", describe(&k, what, sizeof(what)));
        rc = read_value(p, &k, &v);
        if (rc)
            return rc;
        if (tok_is(&k, "graph")) {
            if (v.kind != TOK_OPEN)
                return FAIL_TOK(p, &v, "expected '[' after 'graph', found %s",
                                describe(&v, what, sizeof(what)));
            if (p->seen_graph) {
                na__gfile_warn(&p->g, k.line, "more than one graph; only the first is read");
                rc = skip_list(p, &v, 1);
            } else {
                p->seen_graph = true;
                rc = parse_graph(p, &v);
            }
        } else if (v.kind == TOK_OPEN) {
            rc = skip_list(p, &v, 1);
        }
        if (rc)
            return rc;
    }
    if (!p->seen_graph)
        return FAIL_TOK(p, &k, "expected 'graph [' (the input has no graph list)");
    return NA_OK;
}

int na_import_gml(const char *data, size_t len, const char *source, na_topology **out,
                  na_import_report *rep, na_error *err)
{
    gml p;
    int rc;

    *out = NULL;
    if (!source)
        source = "<input>";
    na_import_report_init(rep);
    if (!data && len)
        return na_error_set(err, NA_EINVAL, "no data");
    if (len > NA_IMPORT_MAX_BYTES)
        return na_error_set_at(err, NA_ETOOBIG, source, 0, 0, -1,
                               "input is %zu bytes, more than the limit of %zu", len,
                               (size_t)NA_IMPORT_MAX_BYTES);
    memset(&p, 0, sizeof(p));
    p.data = data ? data : "";
    p.len = len;
    p.line = 1;
    p.err = err;
    na__gfile_init(&p.g, source, rep);
    rc = parse_document(&p);
    if (!rc)
        rc = na__gfile_build(&p.g, out, err);
    na__gfile_free(&p.g);
    return rc;
}
