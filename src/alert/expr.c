/*
 * expr.c: the expression language of custom alert rules (grammar in docs/alerts.md).
 *
 *   or      = and { "||" and }
 *   and     = unary { "&&" unary }
 *   unary   = "!" unary | compare
 *   compare = primary [ ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) primary
 *                     | "in" "[" [ literal { "," literal } ] "]" ]
 *   primary = literal | field | "(" or ")"
 *   literal = string | number | "true" | "false" | "null"
 *
 * A recursive-descent parser builds a small tree in one array; && and || chains become one
 * node with a list of children, so a long chain costs no recursion depth. Nesting is bounded
 * by NA_EXPR_MAX_DEPTH, which bounds the evaluator's recursion too.
 */
#include "alert/expr.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64

enum { X_LIT, X_FIELD, X_NOT, X_AND, X_OR, X_CMP, X_IN };
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

typedef struct xnode {
    uint8_t kind, op;
    int32_t a, b;             /* NOT: a; CMP: a op b; IN: a in (b, b.next, ...); AND/OR: a, a.next.. */
    int32_t next;             /* next sibling in a list, -1 = none */
    size_t field;             /* X_FIELD */
    na__expr_value v;         /* X_LIT */
} xnode;

struct na__expr {
    xnode *nodes;
    size_t n, cap;
    int32_t root;
    char *strings;            /* decoded string literals; never longer than the text */
};

enum tok {
    T_EOF, T_STR, T_NUM, T_IDENT, T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_NOT,
    T_AND, T_OR, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE
};

typedef struct parser {
    const char *text;
    size_t len, pos;
    const char *const *fields;
    na__expr *e;
    size_t str_used;
    na_error *err;
    int rc;
    /* the current token */
    enum tok t;
    size_t t_start, t_len;
    double t_num;
    const char *t_str;        /* T_STR: decoded, in e->strings */
} parser;

/* Records the first error: "column N: message" (col0 is 0-based). Returns the code. */
static int fail(parser *p, int code, size_t col0, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(parser *p, int code, size_t col0, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    if (p->rc)
        return p->rc;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->rc = na_error_set(p->err, code, "column %zu: %s", col0 + 1, msg);
    if (!p->rc)
        p->rc = code;
    return p->rc;
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A string literal from p->pos (at the quote), decoded into e->strings. */
static int lex_string(parser *p)
{
    char quote = p->text[p->pos];
    char *out = p->e->strings + p->str_used;
    size_t i = p->pos + 1, o = 0;

    while (i < p->len && p->text[i] != quote) {
        char c = p->text[i];
        if (c == '\0')
            return fail(p, NA_EPARSE, i, "NUL byte in a string");
        if (c == '\\') {
            if (i + 1 >= p->len)
                break;
            switch (p->text[i + 1]) {
            case '\\': c = '\\'; break;
            case '"': c = '"'; break;
            case '\'': c = '\''; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            default:
                return fail(p, NA_EPARSE, i, "unknown escape in a string (known: \\\\ \\\" "
                                             "\\' \\n \\t \\r)");
            }
            i++;
        }
        out[o++] = c;
        i++;
    }
    if (i >= p->len)
        return fail(p, NA_EPARSE, p->pos, "string not closed (missing %s)", quote == '"' ? "\"" : "'");
    out[o] = '\0';
    p->str_used += o + 1;
    p->t = T_STR;
    p->t_str = out;
    p->t_len = i + 1 - p->pos;
    return 0;
}

static int lex_number(parser *p)
{
    size_t i = p->pos;
    char buf[80], *end;

    if (p->text[i] == '-')
        i++;
    if (i >= p->len || !is_digit(p->text[i]))
        return fail(p, NA_EPARSE, p->pos, "expected a number after '-'");
    while (i < p->len && is_digit(p->text[i]))
        i++;
    if (i < p->len && p->text[i] == '.') {
        i++;
        if (i >= p->len || !is_digit(p->text[i]))
            return fail(p, NA_EPARSE, i, "expected digits after the decimal point");
        while (i < p->len && is_digit(p->text[i]))
            i++;
    }
    if (i < p->len && (p->text[i] == 'e' || p->text[i] == 'E')) {
        i++;
        if (i < p->len && (p->text[i] == '+' || p->text[i] == '-'))
            i++;
        if (i >= p->len || !is_digit(p->text[i]))
            return fail(p, NA_EPARSE, i, "expected digits in the exponent");
        while (i < p->len && is_digit(p->text[i]))
            i++;
    }
    if (i < p->len && (is_ident_start(p->text[i]) || p->text[i] == '.'))
        return fail(p, NA_EPARSE, i, "unexpected character after a number");
    if (i - p->pos >= sizeof(buf))
        return fail(p, NA_EPARSE, p->pos, "number too long");
    memcpy(buf, p->text + p->pos, i - p->pos);
    buf[i - p->pos] = '\0';
    p->t_num = strtod(buf, &end);
    if (*end || !isfinite(p->t_num))
        return fail(p, NA_EPARSE, p->pos, "number out of range");
    p->t = T_NUM;
    p->t_len = i - p->pos;
    return 0;
}

/* Reads the next token into p->t. */
static int next(parser *p)
{
    const char *s = p->text;
    char c, d;

    if (p->rc)
        return p->rc;
    p->pos += p->t_len;
    while (p->pos < p->len && (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' ||
                               s[p->pos] == '\r'))
        p->pos++;
    p->t_start = p->pos;
    p->t_len = 0;
    if (p->pos >= p->len) {
        p->t = T_EOF;
        return 0;
    }
    c = s[p->pos];
    d = p->pos + 1 < p->len ? s[p->pos + 1] : '\0';
    p->t_len = 1;
    switch (c) {
    case '(': p->t = T_LPAREN; return 0;
    case ')': p->t = T_RPAREN; return 0;
    case '[': p->t = T_LBRACK; return 0;
    case ']': p->t = T_RBRACK; return 0;
    case ',': p->t = T_COMMA; return 0;
    case '"':
    case '\'':
        return lex_string(p);
    case '!':
        if (d == '=') {
            p->t = T_NE;
            p->t_len = 2;
        } else {
            p->t = T_NOT;
        }
        return 0;
    case '=':
        if (d != '=')
            return fail(p, NA_EPARSE, p->pos, "'=' is not an operator (did you mean '=='?)");
        p->t = T_EQ;
        p->t_len = 2;
        return 0;
    case '<':
    case '>':
        p->t = c == '<' ? (d == '=' ? T_LE : T_LT) : (d == '=' ? T_GE : T_GT);
        p->t_len = d == '=' ? 2 : 1;
        return 0;
    case '&':
    case '|':
        if (d != c)
            return fail(p, NA_EPARSE, p->pos, "'%c' is not an operator (did you mean '%c%c'?)",
                        c, c, c);
        p->t = c == '&' ? T_AND : T_OR;
        p->t_len = 2;
        return 0;
    default:
        break;
    }
    if (c == '-' || is_digit(c))
        return lex_number(p);
    if (is_ident_start(c)) {
        size_t i = p->pos;
        while (i < p->len && (is_ident_start(s[i]) || is_digit(s[i])))
            i++;
        p->t = T_IDENT;
        p->t_len = i - p->pos;
        return 0;
    }
    if (c == '\0')
        return fail(p, NA_EPARSE, p->pos, "NUL byte in the expression");
    {
        char what[8];
        if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
            snprintf(what, sizeof(what), "'%c'", c);
        else
            snprintf(what, sizeof(what), "0x%02x", (unsigned char)c);
        return fail(p, NA_EPARSE, p->pos, "unexpected character %s", what);
    }
}

static bool ident_is(const parser *p, const char *word)
{
    return p->t == T_IDENT && p->t_len == strlen(word) &&
           memcmp(p->text + p->t_start, word, p->t_len) == 0;
}

static int32_t new_node(parser *p, int kind)
{
    xnode *x;

    if (p->e->n == p->e->cap) {
        fail(p, NA_ETOOBIG, p->t_start, "expression too complex (more than %d values and "
                                        "operators)", NA_EXPR_MAX_NODES);
        return -1;
    }
    x = &p->e->nodes[p->e->n];
    memset(x, 0, sizeof(*x));
    x->kind = (uint8_t)kind;
    x->a = x->b = x->next = -1;
    return (int32_t)p->e->n++;
}

static int32_t parse_or(parser *p, int depth);

/* A literal at the current token (string, number, true, false, null); -1 if it is not one. */
static int32_t parse_literal(parser *p)
{
    na__expr_value v = {.type = NA_XV_NULL};
    int32_t x;

    if (p->t == T_STR) {
        v.type = NA_XV_STR;
        v.s = p->t_str;
    } else if (p->t == T_NUM) {
        v.type = NA_XV_NUM;
        v.n = p->t_num;
    } else if (ident_is(p, "true") || ident_is(p, "false")) {
        v.type = NA_XV_BOOL;
        v.b = ident_is(p, "true");
    } else if (!ident_is(p, "null")) {
        return -1;
    }
    if ((x = new_node(p, X_LIT)) < 0)
        return -1;
    p->e->nodes[x].v = v;
    next(p);
    return p->rc ? -1 : x;
}

static int32_t parse_primary(parser *p, int depth)
{
    int32_t x;

    if (p->t == T_LPAREN) {
        size_t open = p->t_start;
        if (next(p))
            return -1;
        x = parse_or(p, depth + 1);
        if (x < 0)
            return -1;
        if (p->t != T_RPAREN) {
            fail(p, NA_EPARSE, p->t_start, "expected ')' to close the '(' at column %zu",
                 open + 1);
            return -1;
        }
        next(p);
        return p->rc ? -1 : x;
    }
    if (p->t == T_STR || p->t == T_NUM || ident_is(p, "true") || ident_is(p, "false") ||
        ident_is(p, "null"))
        return parse_literal(p);
    if (p->t == T_IDENT && !ident_is(p, "in")) {
        char name[64];
        size_t i;
        for (i = 0; p->fields[i]; i++)
            if (strlen(p->fields[i]) == p->t_len &&
                memcmp(p->fields[i], p->text + p->t_start, p->t_len) == 0)
                break;
        if (!p->fields[i]) {
            char msg[600];
            size_t used = 0;
            snprintf(name, sizeof(name), "%.*s", (int)(p->t_len < 40 ? p->t_len : 40),
                     p->text + p->t_start);
            used = (size_t)snprintf(msg, sizeof(msg), "unknown field '%s' (known:", name);
            for (size_t k = 0; p->fields[k] && used < sizeof(msg); k++)
                used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s %s",
                                         k ? "," : "", p->fields[k]);
            if (used < sizeof(msg))
                snprintf(msg + used, sizeof(msg) - used, ")");
            return fail(p, NA_EPARSE, p->t_start, "%s", msg), -1;
        }
        if ((x = new_node(p, X_FIELD)) < 0)
            return -1;
        p->e->nodes[x].field = i;
        next(p);
        return p->rc ? -1 : x;
    }
    if (p->t == T_EOF)
        return fail(p, NA_EPARSE, p->t_start, "expected a value (a field, a string, a number, "
                                              "true, false, null or '(') at the end"), -1;
    {
        char tok[48];
        snprintf(tok, sizeof(tok), "%.*s", (int)(p->t_len < 40 ? p->t_len : 40),
                 p->text + p->t_start);
        return fail(p, NA_EPARSE, p->t_start, "expected a value (a field, a string, a number, "
                                              "true, false, null or '('), got '%s'", tok), -1;
    }
}

static int32_t parse_compare(parser *p, int depth)
{
    int32_t left = parse_primary(p, depth), x, right, *link;
    size_t count = 0;
    int op;

    if (left < 0)
        return -1;
    switch (p->t) {
    case T_EQ: op = OP_EQ; break;
    case T_NE: op = OP_NE; break;
    case T_LT: op = OP_LT; break;
    case T_LE: op = OP_LE; break;
    case T_GT: op = OP_GT; break;
    case T_GE: op = OP_GE; break;
    default:
        op = -1;
    }
    if (op >= 0) {
        if ((x = new_node(p, X_CMP)) < 0 || next(p))
            return -1;
        if ((right = parse_primary(p, depth)) < 0)
            return -1;
        p->e->nodes[x].op = (uint8_t)op;
        p->e->nodes[x].a = left;
        p->e->nodes[x].b = right;
        return x;
    }
    if (!ident_is(p, "in"))
        return left;
    if ((x = new_node(p, X_IN)) < 0 || next(p))
        return -1;
    p->e->nodes[x].a = left;
    if (p->t != T_LBRACK)
        return fail(p, NA_EPARSE, p->t_start, "expected '[' after 'in'"), -1;
    if (next(p))
        return -1;
    link = &p->e->nodes[x].b;
    while (p->t != T_RBRACK) {
        int32_t lit;
        if (count == NA_EXPR_MAX_LIST) {
            fail(p, NA_ETOOBIG, p->t_start, "more than %d values in one list",
                 NA_EXPR_MAX_LIST);
            return -1;
        }
        if (count && p->t != T_COMMA)
            return fail(p, NA_EPARSE, p->t_start, "expected ',' or ']' in the list"), -1;
        if (count && next(p))
            return -1;
        lit = parse_literal(p);
        if (lit < 0)
            return p->rc ? -1 : (fail(p, NA_EPARSE, p->t_start, "expected a string, a number, "
                                                                "true, false or null in the list"),
                                 -1);
        *link = lit;
        link = &p->e->nodes[lit].next;
        count++;
    }
    next(p);
    return p->rc ? -1 : x;
}

static int32_t parse_unary(parser *p, int depth)
{
    int32_t x, inner;

    if (p->t != T_NOT)
        return parse_compare(p, depth);
    if (depth + 1 > NA_EXPR_MAX_DEPTH) {
        fail(p, NA_ETOOBIG, p->t_start, "nested too deeply (more than %d levels)",
             NA_EXPR_MAX_DEPTH);
        return -1;
    }
    if ((x = new_node(p, X_NOT)) < 0 || next(p))
        return -1;
    if ((inner = parse_unary(p, depth + 1)) < 0)
        return -1;
    p->e->nodes[x].a = inner;
    return x;
}

/* One level of a && or || chain: a single operand stays itself. */
static int32_t parse_chain(parser *p, int depth, bool is_or)
{
    int32_t first = is_or ? parse_chain(p, depth, false) : parse_unary(p, depth);
    int32_t x, last;
    enum tok op = is_or ? T_OR : T_AND;

    if (first < 0 || p->t != op)
        return first;
    if ((x = new_node(p, is_or ? X_OR : X_AND)) < 0)
        return -1;
    p->e->nodes[x].a = first;
    last = first;
    while (p->t == op) {
        int32_t more;
        if (next(p))
            return -1;
        more = is_or ? parse_chain(p, depth, false) : parse_unary(p, depth);
        if (more < 0)
            return -1;
        p->e->nodes[last].next = more;
        last = more;
    }
    return x;
}

static int32_t parse_or(parser *p, int depth)
{
    if (depth > NA_EXPR_MAX_DEPTH) {
        fail(p, NA_ETOOBIG, p->t_start, "nested too deeply (more than %d levels)",
             NA_EXPR_MAX_DEPTH);
        return -1;
    }
    return parse_chain(p, depth, true);
}

void na__expr_free(na__expr *e)
{
    if (!e)
        return;
    free(e->nodes);
    free(e->strings);
    free(e);
}

int na__expr_parse(const char *text, size_t len, const char *const *fields, na__expr **out,
                   na_error *err)
{
    parser p;
    na__expr *e;
    int32_t root = -1;
    size_t nf = 0;

    *out = NULL;
    while (fields[nf])
        nf++;
    if (nf > MAX_FIELDS)
        return na_error_set(err, NA_EINVAL, "expression: too many fields");
    if (len > NA_EXPR_MAX_LEN)
        return na_error_set(err, NA_ETOOBIG, "expression longer than %d characters",
                            NA_EXPR_MAX_LEN);
    e = calloc(1, sizeof(*e));
    if (!e)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    e->cap = len + 1 < NA_EXPR_MAX_NODES ? len + 1 : NA_EXPR_MAX_NODES;
    e->nodes = calloc(e->cap, sizeof(*e->nodes));
    e->strings = malloc(len + 1);
    if (!e->nodes || !e->strings) {
        na__expr_free(e);
        return na_error_set(err, NA_ENOMEM, "out of memory");
    }
    memset(&p, 0, sizeof(p));
    p.text = text;
    p.len = len;
    p.fields = fields;
    p.e = e;
    p.err = err;
    if (next(&p) == 0 && p.t == T_EOF) {
        fail(&p, NA_EPARSE, 0, "empty expression");
    } else if (!p.rc) {
        root = parse_or(&p, 0);
        if (root >= 0 && p.t != T_EOF) {
            char tok[48];
            snprintf(tok, sizeof(tok), "%.*s", (int)(p.t_len < 40 ? p.t_len : 40),
                     p.text + p.t_start);
            fail(&p, NA_EPARSE, p.t_start, "unexpected '%s' (expected an operator: && || == != < <= > >= "
                                "in, or the end)", tok);
        }
        e->root = root;
    }
    if (p.rc) {
        na__expr_free(e);
        return p.rc;
    }
    *out = e;
    return NA_OK;
}

/* ---- evaluation ------------------------------------------------------------------------------ */

typedef struct evalctx {
    const na__expr *e;
    na__expr_lookup lookup;
    void *ud;
    na__expr_value cache[MAX_FIELDS];
    bool cached[MAX_FIELDS];
} evalctx;

static bool truthy(const na__expr_value *v)
{
    switch (v->type) {
    case NA_XV_BOOL: return v->b;
    case NA_XV_NUM: return v->n != 0 && !isnan(v->n);
    case NA_XV_STR: return v->s && v->s[0];
    default: return false;
    }
}

static bool equal(const na__expr_value *x, const na__expr_value *y)
{
    if (x->type != y->type)
        return false;
    switch (x->type) {
    case NA_XV_NULL: return true;
    case NA_XV_BOOL: return x->b == y->b;
    case NA_XV_NUM: return x->n == y->n;
    case NA_XV_STR: return strcmp(x->s ? x->s : "", y->s ? y->s : "") == 0;
    }
    return false;
}

/* <, <=, >, >= on two numbers or two strings; anything else is false. */
static bool ordered(int op, const na__expr_value *x, const na__expr_value *y)
{
    int c;

    if (x->type == NA_XV_NUM && y->type == NA_XV_NUM) {
        if (isnan(x->n) || isnan(y->n))
            return false;
        c = x->n < y->n ? -1 : x->n > y->n ? 1 : 0;
    } else if (x->type == NA_XV_STR && y->type == NA_XV_STR) {
        c = strcmp(x->s ? x->s : "", y->s ? y->s : "");
    } else {
        return false;
    }
    switch (op) {
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    default: return c >= 0;
    }
}

static void value_of(evalctx *c, int32_t i, na__expr_value *out);

static bool holds(evalctx *c, int32_t i)
{
    const xnode *x = &c->e->nodes[i];
    na__expr_value a, b;

    switch (x->kind) {
    case X_NOT:
        return !holds(c, x->a);
    case X_AND:
        for (int32_t k = x->a; k >= 0; k = c->e->nodes[k].next)
            if (!holds(c, k))
                return false;
        return true;
    case X_OR:
        for (int32_t k = x->a; k >= 0; k = c->e->nodes[k].next)
            if (holds(c, k))
                return true;
        return false;
    case X_CMP:
        value_of(c, x->a, &a);
        value_of(c, x->b, &b);
        if (x->op == OP_EQ)
            return equal(&a, &b);
        if (x->op == OP_NE)
            return !equal(&a, &b);
        return ordered(x->op, &a, &b);
    case X_IN:
        value_of(c, x->a, &a);
        for (int32_t k = x->b; k >= 0; k = c->e->nodes[k].next)
            if (equal(&a, &c->e->nodes[k].v))
                return true;
        return false;
    default:
        value_of(c, i, &a);
        return truthy(&a);
    }
}

static void value_of(evalctx *c, int32_t i, na__expr_value *out)
{
    const xnode *x = &c->e->nodes[i];

    if (x->kind == X_LIT) {
        *out = x->v;
    } else if (x->kind == X_FIELD) {
        if (!c->cached[x->field]) {
            c->cache[x->field] = (na__expr_value){.type = NA_XV_NULL};
            c->lookup(c->ud, x->field, &c->cache[x->field]);
            c->cached[x->field] = true;
        }
        *out = c->cache[x->field];
    } else {
        *out = (na__expr_value){.type = NA_XV_BOOL, .b = holds(c, i)};
    }
}

bool na__expr_eval(const na__expr *e, na__expr_lookup lookup, void *ud)
{
    evalctx c;

    if (!e || e->root < 0)
        return false;
    c.e = e;
    c.lookup = lookup;
    c.ud = ud;
    memset(c.cached, 0, sizeof(c.cached));
    return holds(&c, e->root);
}
