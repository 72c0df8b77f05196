/* graph_file.c: records of a GML / GraphML file mapped onto the model (see graph_file.h). */
#include "io/graph_file.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/idmap.h"

/* Longest id or value quoted in a warning; the report keeps 200 bytes per message. */
#define QUOTE_MAX 48

void na__gfile_init(na__gfile *g, const char *source, na_import_report *rep)
{
    memset(g, 0, sizeof(*g));
    na__arena_init(&g->arena);
    g->source = source ? source : "<input>";
    g->rep = rep;
}

void na__gfile_free(na__gfile *g)
{
    na__arena_free(&g->arena);
    free(g->items[NA__GFILE_NODE]);
    free(g->items[NA__GFILE_EDGE]);
    free(g->fields);
    memset(g, 0, sizeof(*g));
}

/* Doubles *cap (from `first`) and reallocs *arr; false on ENOMEM or overflow. */
static bool grow(void **arr, size_t *cap, size_t elem, size_t first)
{
    size_t ncap = *cap ? *cap * 2 : first;
    void *p;

    if (ncap < *cap || ncap > SIZE_MAX / elem)
        return false;
    p = realloc(*arr, ncap * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

na__gfile_item *na__gfile_begin(na__gfile *g, na__gfile_kind kind, long line, long column)
{
    na__gfile_item *it;

    if (g->n_items[kind] == g->cap_items[kind] &&
        !grow((void **)&g->items[kind], &g->cap_items[kind], sizeof(na__gfile_item), 64))
        return NULL;
    it = &g->items[kind][g->n_items[kind]++];
    memset(it, 0, sizeof(*it));
    it->line = line;
    it->column = column;
    it->first_field = g->n_fields;
    g->current = it;
    return it;
}

int na__gfile_add_field(na__gfile *g, const char *key, const na_value *value, long line,
                        bool counted_wrong)
{
    na__gfile_field *f;

    if (!g->current)
        return NA_EINVAL;
    if (g->current->n_fields >= NA__GFILE_MAX_FIELDS) {
        if (g->rep)
            g->rep->unknown_fields++;
        if (!g->current->too_many_fields) {
            g->current->too_many_fields = true;
            na__gfile_warn(g, line, "more than %d fields in one node or edge; the rest are "
                           "skipped", NA__GFILE_MAX_FIELDS);
        }
        return NA_OK;
    }
    if (g->n_fields == g->cap_fields &&
        !grow((void **)&g->fields, &g->cap_fields, sizeof(na__gfile_field), 256))
        return NA_ENOMEM;
    f = &g->fields[g->n_fields++];
    f->key = key;
    f->value = *value;
    f->line = line;
    f->counted_wrong = counted_wrong;
    g->current->n_fields++;
    return NA_OK;
}

void na__gfile_warn(na__gfile *g, long line, const char *fmt, ...)
{
    char buf[sizeof(g->rep->messages[0])];
    int n;
    va_list ap;

    if (!g->rep)
        return;
    if (line > 0)
        n = snprintf(buf, sizeof(buf), "%s:%ld: ", g->source, line);
    else
        n = snprintf(buf, sizeof(buf), "%s: ", g->source);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = 0;  /* a very long source name: the message matters more */
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    va_end(ap);
    na_import_report_warn(g->rep, "%s", buf);
}

/* ---- Value conversions ----------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * A decimal number written as text, with optional surrounding blanks. Hex floats, "inf" and
 * "nan" are refused: coordinates and speeds are finite decimals in every source we know.
 */
static bool parse_decimal(const char *s, double *out)
{
    const char *p = s;
    char *end;
    double d;

    while (is_space(*p))
        p++;
    for (const char *q = p; *q; q++) {
        if (!(('0' <= *q && *q <= '9') || *q == '.' || *q == '-' || *q == '+' || *q == 'e' ||
              *q == 'E' || is_space(*q)))
            return false;
    }
    d = strtod(p, &end);
    if (end == p)
        return false;
    while (is_space(*end))
        end++;
    if (*end || !isfinite(d))
        return false;
    *out = d;
    return true;
}

static bool as_number(const na_value *v, double *out)
{
    switch (v->type) {
    case NA_VAL_INT: *out = (double)v->u.i; return true;
    case NA_VAL_DOUBLE:
        if (!isfinite(v->u.d))
            return false;
        *out = v->u.d;
        return true;
    case NA_VAL_STRING: return parse_decimal(v->u.s, out);
    default: return false;
    }
}

/* The shortest of %.15g .. %.17g that reads back as the same double. */
static void format_double(double d, char *buf, size_t len)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

/* Text for label-like fields: strings as they are, numbers written out. */
static bool as_text(na__gfile *g, const na_value *v, const char **out)
{
    char buf[40];

    switch (v->type) {
    case NA_VAL_STRING: *out = v->u.s; return true;
    case NA_VAL_INT: snprintf(buf, sizeof(buf), "%lld", (long long)v->u.i); break;
    case NA_VAL_DOUBLE: format_double(v->u.d, buf, sizeof(buf)); break;
    default: return false;
    }
    *out = na__arena_strdup(&g->arena, buf);
    return *out != NULL;
}

static bool as_asn(const na_value *v, int64_t *out)
{
    const char *p;
    int64_t n = 0;

    switch (v->type) {
    case NA_VAL_INT: n = v->u.i; break;
    case NA_VAL_DOUBLE:
        if (!(v->u.d >= 1 && v->u.d <= 4294967295.0) || v->u.d != floor(v->u.d))
            return false;
        n = (int64_t)v->u.d;
        break;
    case NA_VAL_STRING:
        p = v->u.s;
        while (is_space(*p))
            p++;
        if ((p[0] == 'A' || p[0] == 'a') && (p[1] == 'S' || p[1] == 's'))
            p += 2;
        if (!('0' <= *p && *p <= '9'))
            return false;
        for (; '0' <= *p && *p <= '9'; p++) {
            n = n * 10 + (*p - '0');
            if (n > 4294967295LL)
                return false;
        }
        while (is_space(*p))
            p++;
        if (*p)
            return false;
        break;
    default: return false;
    }
    if (n < 1 || n > 4294967295LL)
        return false;
    *out = n;
    return true;
}

static double unit_multiplier(const char *units)
{
    const char *p = units;

    while (is_space(*p))
        p++;
    switch (*p) {
    case 'T': case 't': return 1e12;
    case 'G': case 'g': return 1e9;
    case 'M': case 'm': return 1e6;
    case 'K': case 'k': return 1e3;
    default: return 0;
    }
}

static const char *type_name(na_value_type t)
{
    switch (t) {
    case NA_VAL_NULL: return "null";
    case NA_VAL_BOOL: return "a boolean";
    case NA_VAL_INT: return "an integer";
    case NA_VAL_DOUBLE: return "a real";
    default: return "a string";
    }
}

/* Counts and warns about a value of the wrong type for a mapped field. */
static void wrong_type(na__gfile *g, const na__gfile_field *f, const char *what, const char *id,
                       const char *expected)
{
    if (f->counted_wrong)
        return;
    if (g->rep)
        g->rep->wrong_type++;
    if (f->value.type == NA_VAL_STRING)
        na__gfile_warn(g, f->line, "%s '%.*s': %s \"%.*s\" is not %s (kept as an attribute)",
                       what, QUOTE_MAX, id, f->key, QUOTE_MAX, f->value.u.s, expected);
    else
        na__gfile_warn(g, f->line, "%s '%.*s': %s is %s, not %s (kept as an attribute)", what,
                       QUOTE_MAX, id, f->key, type_name(f->value.type), expected);
}

/* Whether field i of `it` repeats the key of an earlier field of the same item. */
static bool repeated_key(const na__gfile *g, const na__gfile_item *it, size_t i)
{
    const char *key = g->fields[it->first_field + i].key;

    for (size_t j = 0; j < i; j++) {
        if (strcmp(g->fields[it->first_field + j].key, key) == 0)
            return true;
    }
    return false;
}

/* ---- Mapping ----------------------------------------------------------------------------- */

enum target {
    T_FREE = 0,
    T_LABEL,
    T_LATITUDE,
    T_LONGITUDE,
    T_ROLE,
    T_SITE,
    T_ASN,
    T_STATUS,
    T_LINK_LABEL,
    T_SPEED_RAW,
    T_SPEED,
    T_SPEED_UNITS
};

static enum target node_target(const char *key)
{
    static const struct { const char *key; enum target t; } map[] = {
        {"label", T_LABEL},         {"Latitude", T_LATITUDE}, {"latitude", T_LATITUDE},
        {"Longitude", T_LONGITUDE}, {"longitude", T_LONGITUDE}, {"role", T_ROLE},
        {"site", T_SITE},           {"asn", T_ASN},           {"status", T_STATUS},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(key, map[i].key) == 0)
            return map[i].t;
    }
    return T_FREE;
}

static enum target link_target(const char *key)
{
    static const struct { const char *key; enum target t; } map[] = {
        {"LinkLabel", T_LINK_LABEL}, {"label", T_LABEL},       {"LinkSpeedRaw", T_SPEED_RAW},
        {"LinkSpeed", T_SPEED},      {"LinkSpeedUnits", T_SPEED_UNITS}, {"status", T_STATUS},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(key, map[i].key) == 0)
            return map[i].t;
    }
    return T_FREE;
}

/*
 * Fills `n` (strings borrowed from the gfile) and the free attributes (into `attrs`, room for
 * it->n_fields) from the fields of node record `it`. 0 or NA_ENOMEM.
 */
static int map_node(na__gfile *g, const na__gfile_item *it, na_node *n, na_attr *attrs)
{
    unsigned seen = 0;

    na_node_init(n);
    n->id = it->id;
    n->attrs = attrs;
    for (size_t i = 0; i < it->n_fields; i++) {
        const na__gfile_field *f = &g->fields[it->first_field + i];
        enum target t = node_target(f->key);
        const char *expected = "a number";
        bool ok = true;

        if (repeated_key(g, it, i) || (t != T_FREE && (seen & (1u << t)))) {
            na__gfile_warn(g, f->line, "node '%.*s': %s given again; keeping the first value",
                           QUOTE_MAX, it->id, f->key);
            continue;
        }
        seen |= 1u << t;
        switch (t) {
        case T_LABEL:
        case T_ROLE:
        case T_SITE:
            expected = "text";
            if (f->value.type == NA_VAL_STRING || f->value.type == NA_VAL_INT ||
                f->value.type == NA_VAL_DOUBLE) {
                const char **dst = t == T_LABEL ? &n->label : t == T_ROLE ? &n->role : &n->site;
                if (!as_text(g, &f->value, dst))
                    return NA_ENOMEM;
            } else {
                ok = false;
            }
            break;
        case T_LATITUDE: ok = as_number(&f->value, &n->latitude); break;
        case T_LONGITUDE: ok = as_number(&f->value, &n->longitude); break;
        case T_ASN:
            expected = "an AS number";
            ok = as_asn(&f->value, &n->asn);
            break;
        case T_STATUS:
            expected = "a status (up, down, unknown)";
            ok = f->value.type == NA_VAL_STRING && na_status_parse(f->value.u.s, &n->status) == 0;
            break;
        default:
            attrs[n->n_attrs].key = f->key;
            attrs[n->n_attrs++].value = f->value;
            continue;
        }
        if (!ok) {
            wrong_type(g, f, "node", it->id, expected);
            attrs[n->n_attrs].key = f->key;
            attrs[n->n_attrs++].value = f->value;
        }
    }
    return NA_OK;
}

/* Same for edge record `it` (link endpoints are set by the caller). */
static int map_link(na__gfile *g, const na__gfile_item *it, na_link *l, na_attr *attrs)
{
    const na__gfile_field *speed = NULL, *units = NULL;
    bool has_link_label = false;
    unsigned seen = 0;
    char where[2 * QUOTE_MAX + 8];

    na_link_init(l);
    l->attrs = attrs;
    /* messages name the link by its id, or by its ends when it has none */
    if (it->id)
        snprintf(where, sizeof(where), "%.*s", QUOTE_MAX, it->id);
    else
        snprintf(where, sizeof(where), "%.*s--%.*s", QUOTE_MAX, it->source, QUOTE_MAX,
                 it->target);
    for (size_t i = 0; i < it->n_fields; i++)
        has_link_label |= strcmp(g->fields[it->first_field + i].key, "LinkLabel") == 0;
    for (size_t i = 0; i < it->n_fields; i++) {
        const na__gfile_field *f = &g->fields[it->first_field + i];
        enum target t = link_target(f->key);
        const char *expected = "a number";
        bool ok = true, keep = false;
        double d;

        if (t == T_LABEL && has_link_label)
            t = T_FREE;  /* the Zoo's LinkLabel is the link's label; `label` stays an attribute */
        if (repeated_key(g, it, i) || (t != T_FREE && (seen & (1u << t)))) {
            na__gfile_warn(g, f->line, "link '%s': %s given again; keeping the first value",
                           where, f->key);
            continue;
        }
        seen |= 1u << t;
        switch (t) {
        case T_LABEL:
        case T_LINK_LABEL:
            expected = "text";
            if (f->value.type == NA_VAL_STRING || f->value.type == NA_VAL_INT ||
                f->value.type == NA_VAL_DOUBLE) {
                if (!as_text(g, &f->value, &l->label))
                    return NA_ENOMEM;
            } else {
                ok = false;
            }
            break;
        case T_SPEED_RAW:
            expected = "a speed in bit/s";
            ok = as_number(&f->value, &d) && d >= 0;
            if (ok)
                l->capacity = d;
            break;
        case T_SPEED:
            speed = f;
            keep = true;
            break;
        case T_SPEED_UNITS:
            units = f;
            keep = true;
            break;
        case T_STATUS:
            expected = "a status (up, down, unknown)";
            ok = f->value.type == NA_VAL_STRING && na_status_parse(f->value.u.s, &l->status) == 0;
            break;
        default:
            keep = true;
            break;
        }
        if (!ok)
            wrong_type(g, f, "link", where, expected);
        if (!ok || keep) {
            attrs[l->n_attrs].key = f->key;
            attrs[l->n_attrs++].value = f->value;
        }
    }
    /* LinkSpeed and its units matter only when the raw speed is missing. */
    if (!(seen & (1u << T_SPEED_RAW)) && speed) {
        double d, mult = 0;
        if (units && units->value.type == NA_VAL_STRING)
            mult = unit_multiplier(units->value.u.s);
        if (!as_number(&speed->value, &d) || d < 0)
            wrong_type(g, speed, "link", where, "a number");
        else if (!units)
            na__gfile_warn(g, speed->line, "link '%s': LinkSpeed without LinkSpeedUnits; "
                           "capacity unknown", where);
        else if (mult == 0)
            wrong_type(g, units, "link", where, "a unit (T, G, M, K)");
        else
            l->capacity = d * mult;
    }
    return NA_OK;
}

/* Unordered node-index pairs seen so far (open addressing; 0 marks an empty slot). */
typedef struct pairset {
    uint64_t *slots;
    size_t cap;
    size_t used;
} pairset;

static size_t pair_hash(uint64_t key, size_t cap)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

/* Adds {a, b}; *had says whether it was there. 0 or NA_ENOMEM. */
static int pairset_add(pairset *s, size_t a, size_t b, bool *had)
{
    uint64_t key = a < b ? ((uint64_t)a << 32 | b) : ((uint64_t)b << 32 | a);
    size_t i;

    key++;  /* indexes stay below 2^32 - 1 (checked by the caller), so 0 stays free */
    if ((s->used + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        uint64_t *ns = calloc(ncap, sizeof(*ns));
        if (!ns)
            return NA_ENOMEM;
        for (size_t j = 0; j < s->cap; j++) {
            if (!s->slots[j])
                continue;
            for (i = pair_hash(s->slots[j], ncap); ns[i]; i = (i + 1) & (ncap - 1))
                ;
            ns[i] = s->slots[j];
        }
        free(s->slots);
        s->slots = ns;
        s->cap = ncap;
    }
    for (i = pair_hash(key, s->cap); s->slots[i]; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i] == key) {
            *had = true;
            return NA_OK;
        }
    }
    s->slots[i] = key;
    s->used++;
    *had = false;
    return NA_OK;
}

int na__gfile_build(na__gfile *g, na_topology **out, na_error *err)
{
    const na__gfile_item *nodes = g->items[NA__GFILE_NODE], *edges = g->items[NA__GFILE_EDGE];
    size_t n_nodes = g->n_items[NA__GFILE_NODE], n_edges = g->n_items[NA__GFILE_EDGE];
    na_import_report *rep = g->rep;
    na_builder *b;
    na__idmap ids;
    pairset pairs = {0};
    size_t *degree = NULL, max_fields = 1;
    na_attr *attrs = NULL;
    int rc = NA_OK;

    *out = NULL;
    na__idmap_init(&ids);
    b = na_builder_new();
    if (!b)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    if (n_nodes >= UINT32_MAX) {
        rc = na_error_set_at(err, NA_ETOOBIG, g->source, 0, 0, -1, "too many nodes");
        goto out_free;
    }
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < g->n_items[k]; i++) {
            if (g->items[k][i].n_fields > max_fields)
                max_fields = g->items[k][i].n_fields;
        }
    }
    degree = calloc(n_nodes ? n_nodes : 1, sizeof(*degree));
    attrs = malloc(max_fields * sizeof(*attrs));
    if (!degree || !attrs || (g->name && na_builder_set_name(b, g->name))) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out_free;
    }

    for (size_t i = 0; i < n_nodes; i++) {
        const na__gfile_item *it = &nodes[i];
        size_t first;
        na_node n;

        if (!it->id || !it->id[0]) {
            rc = na_error_set_at(err, NA_EPARSE, g->source, it->line, it->column, -1,
                                 "node without an id (expected a non-empty node id)");
            goto out_free;
        }
        if (na__idmap_get(&ids, it->id, &first)) {
            rc = na_error_set_at(err, NA_EPARSE, g->source, it->line, it->column, -1,
                                 "duplicate node id '%.*s' (first defined at line %ld); "
                                 "expected unique node ids", QUOTE_MAX, it->id, nodes[first].line);
            goto out_free;
        }
        if (na__idmap_put(&ids, it->id, i) || map_node(g, it, &n, attrs)) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out_free;
        }
        rc = na_builder_add_node(b, &n, err);
        if (rc)
            goto out_free;
        if (isnan(n.latitude) || isnan(n.longitude)) {
            if (rep)
                rep->missing_coordinates++;
            na__gfile_warn(g, it->line, "node '%.*s' has no usable coordinates", QUOTE_MAX,
                           it->id);
        }
    }

    for (size_t i = 0; i < n_edges; i++) {
        const na__gfile_item *it = &edges[i];
        size_t si = 0, ti = 0;
        bool parallel, src_ok, dst_ok;
        na_link l;

        src_ok = it->source && na__idmap_get(&ids, it->source, &si);
        dst_ok = it->target && na__idmap_get(&ids, it->target, &ti);
        if (!src_ok || !dst_ok) {
            const char *id = src_ok ? it->target : it->source;
            rc = na_error_set_at(err, NA_EPARSE, g->source, it->line, it->column, -1,
                                 "edge %s '%.*s' is not a node (expected the id of a node "
                                 "in the graph)", src_ok ? "target" : "source", QUOTE_MAX,
                                 id ? id : "(none)");
            goto out_free;
        }
        if (map_link(g, it, &l, attrs) || pairset_add(&pairs, si, ti, &parallel)) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out_free;
        }
        if (si == ti) {
            if (rep)
                rep->self_loops++;
            na__gfile_warn(g, it->line, "self-loop on node '%.*s'", QUOTE_MAX, it->source);
        }
        if (parallel) {
            if (rep)
                rep->multi_links++;
            na__gfile_warn(g, it->line, "link %.*s -- %.*s is parallel to an earlier one",
                           QUOTE_MAX, it->source, QUOTE_MAX, it->target);
        }
        degree[si]++;
        degree[ti]++;
        l.source = it->source;
        l.target = it->target;
        l.id = it->id;
        if (l.id && na_builder_find_link(b, l.id)) {
            /* networkx writes GraphML multigraph edges with ids "0", "1", ... per node pair */
            na__gfile_warn(g, it->line, "edge id '%.*s' is already used; the link gets a "
                           "generated id", QUOTE_MAX, l.id);
            l.id = NULL;
        }
        rc = na_builder_add_link(b, &l, NULL, err);
        if (rc)
            goto out_free;
    }

    for (size_t i = 0; i < n_nodes; i++) {
        if (degree[i])
            continue;
        if (rep)
            rep->isolated_nodes++;
        na__gfile_warn(g, nodes[i].line, "node '%.*s' has no links", QUOTE_MAX, nodes[i].id);
    }
    if (rep) {
        rep->nodes = n_nodes;
        rep->links = n_edges;
    }
    rc = na_builder_finish(b, out, err);
    b = NULL;

out_free:
    na_builder_free(b);
    na__idmap_free(&ids);
    free(pairs.slots);
    free(degree);
    free(attrs);
    return rc;
}
