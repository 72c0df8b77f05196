/*
 * alert/expr.h (internal): the expression language of custom alert rules (docs/alerts.md).
 *
 *   type == "link_down" && site in ["iad1", "iad2"] && !(reason == "maintenance")
 *
 * An expression is parsed once (when the configuration is loaded) against a fixed list of
 * field names, then evaluated per event through a callback that gives each field's value.
 * Parsing is bounded (text length, nesting depth, node count, list length) and every error
 * names the 1-based column.
 */
#ifndef NA_ALERT_EXPR_H
#define NA_ALERT_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "netassure/common.h"

#define NA_EXPR_MAX_LEN 4096   /* characters of expression text */
#define NA_EXPR_MAX_DEPTH 32   /* nested parentheses and '!' */
#define NA_EXPR_MAX_NODES 512  /* values, fields and operators together */
#define NA_EXPR_MAX_LIST 64    /* literals in one `in [...]` */

typedef enum na__expr_type {
    NA_XV_NULL = 0,
    NA_XV_BOOL,
    NA_XV_NUM,
    NA_XV_STR
} na__expr_type;

/* A value: the result of a field lookup or a literal. Strings are borrowed. */
typedef struct na__expr_value {
    na__expr_type type;
    bool b;
    double n;
    const char *s;
} na__expr_value;

typedef struct na__expr na__expr;

/*
 * Parses (text, len) (no NUL needed; a NUL byte inside is an error). `fields` is the
 * NULL-terminated list of names the expression may use; a field is referred to by its index in
 * that list. On success *out owns the expression (na__expr_free). On failure NA_EPARSE with
 * "column N: ..." in err (NA_ETOOBIG past the bounds, NA_ENOMEM).
 */
int na__expr_parse(const char *text, size_t len, const char *const *fields, na__expr **out,
                   na_error *err);
void na__expr_free(na__expr *e);

/* Fills *out with the value of field `index` (of the parse's list); NA_XV_NULL when absent. */
typedef void (*na__expr_lookup)(void *ud, size_t index, na__expr_value *out);

/* Evaluates; true when the expression holds (docs/alerts.md: truthiness, comparisons). Each
 * field is looked up at most once per evaluation. Never fails. */
bool na__expr_eval(const na__expr *e, na__expr_lookup lookup, void *ud);

#endif
