/*
 * yaml_config.c: the topology half of a YAML configuration (seed 001's format): a `devices:`
 * mapping of device name -> settings and a `bgp_peers:` list of [device, device] pairs.
 * docs/topology-schema.md ("YAML device configuration") states the rules.
 *
 * libyaml's document API builds the tree; a first pass over the events bounds its size and
 * depth before that, and a visit budget bounds what aliases can make us walk (a
 * "billion laughs" document is a few hundred bytes that expand to 10^9 nodes).
 */
#include "netassure/io.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/idmap.h"

/* A device configuration is small; these leave room for 100k devices and stop abuse early. */
#define YAML_MAX_BYTES ((size_t)16 << 20)
#define YAML_MAX_EVENTS 2000000
#define YAML_MAX_DEPTH 64
/* Nodes walked, aliases counted each time they are followed. */
#define YAML_MAX_VISITS 4000000
/* `<<` merge keys whose mappings merge further mappings. */
#define YAML_MAX_MERGE_DEPTH 8
#define QUOTE 60

typedef struct yctx {
    yaml_document_t *doc;
    const char *source;
    na_import_report *rep;
    na_error *err;
    int rc;          /* the code of the error y_node reported */
    size_t visits;
    /* the device being read */
    const char *device;
    na_attr *attrs;
    size_t n_attrs, cap_attrs;
} yctx;

/* ---- Errors and warnings --------------------------------------------------------------- */

static int y_fail(yctx *y, const yaml_node_t *at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int y_fail(yctx *y, const yaml_node_t *at, int code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!at)
        return na_error_set_at(y->err, code, y->source, 0, 0, -1, "%s", msg);
    return na_error_set_at(y->err, code, y->source, (long)at->start_mark.line + 1,
                           (long)at->start_mark.column + 1, (long)at->start_mark.index, "%s",
                           msg);
}

static void y_warn(yctx *y, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void y_warn(yctx *y, const yaml_node_t *at, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    if (!y->rep)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    na_import_report_warn(y->rep, "line %ld: %s", at ? (long)at->start_mark.line + 1 : 0L, msg);
}

/* A node of the document, counting the visit against the alias budget. NULL after an error. */
static yaml_node_t *y_node(yctx *y, int index, const yaml_node_t *from)
{
    yaml_node_t *n = yaml_document_get_node(y->doc, index);

    if (!n) {
        y->rc = y_fail(y, from, NA_EPARSE, "broken YAML document (node %d missing)", index);
        return NULL;
    }
    if (++y->visits > YAML_MAX_VISITS) {
        y->rc = y_fail(y, n, NA_ETOOBIG,
               "aliases expand to more than %d nodes; refusing (a \"billion laughs\" document?)",
               YAML_MAX_VISITS);
        return NULL;
    }
    return n;
}

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

/* ---- Scalars: YAML 1.2 core schema resolution ------------------------------------------ */

static const char *s_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A scalar holding "\0" (a double-quoted escape) cannot be a C string. */
static bool s_has_nul(const yaml_node_t *n)
{
    return strlen(s_text(n)) != n->data.scalar.length;
}

static bool s_plain(const yaml_node_t *n)
{
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
           n->data.scalar.style == YAML_ANY_SCALAR_STYLE;
}

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(s, *list) == 0)
            return true;
    }
    return false;
}

static bool parse_int(const char *s, int64_t *out)
{
    const char *p = s;
    int base = 10;
    bool neg = false;
    uint64_t v = 0, lim;

    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o') && s == p) {
        base = p[1] == 'x' ? 16 : 8;
        p += 2;
    }
    if (!*p)
        return false;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *p; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (base == 16 && *p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (base == 16 && *p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            return false;
        if (d >= base || v > (lim - (uint64_t)d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* [-+]? ( . digits | digits ( . digits? )? ) ( [eE] [-+]? digits )? */
static bool is_float_text(const char *s)
{
    size_t lead = 0, frac = 0;

    if (*s == '+' || *s == '-')
        s++;
    for (; *s >= '0' && *s <= '9'; s++)
        lead++;
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++)
            frac++;
    }
    if (!lead && !frac)
        return false;
    if (*s == 'e' || *s == 'E') {
        size_t exp = 0;
        s++;
        if (*s == '+' || *s == '-')
            s++;
        for (; *s >= '0' && *s <= '9'; s++)
            exp++;
        if (!exp)
            return false;
    }
    return *s == '\0';
}

/*
 * A scalar's value: quoted scalars are strings; plain ones resolve as YAML 1.2 core schema
 * null, bool, int, float, else string (so `yes` stays a string, unlike YAML 1.1).
 */
static void s_value(const yaml_node_t *n, na_value *out)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const infs[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const ninfs[] = {"-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    const char *s = s_text(n);
    int64_t i;

    *out = (na_value){.type = NA_VAL_STRING, .u.s = s};
    if (!s_plain(n))
        return;
    if (one_of(s, nulls))
        *out = (na_value){.type = NA_VAL_NULL};
    else if (one_of(s, trues))
        *out = (na_value){.type = NA_VAL_BOOL, .u.b = true};
    else if (one_of(s, falses))
        *out = (na_value){.type = NA_VAL_BOOL, .u.b = false};
    else if (parse_int(s, &i))
        *out = (na_value){.type = NA_VAL_INT, .u.i = i};
    else if (one_of(s, infs))
        *out = (na_value){.type = NA_VAL_DOUBLE, .u.d = HUGE_VAL};
    else if (one_of(s, ninfs))
        *out = (na_value){.type = NA_VAL_DOUBLE, .u.d = -HUGE_VAL};
    else if (one_of(s, nans))
        *out = (na_value){.type = NA_VAL_DOUBLE, .u.d = NAN};
    else if (is_float_text(s))
        *out = (na_value){.type = NA_VAL_DOUBLE, .u.d = strtod(s, NULL)};
}

/* Whether n is a null (absent) value: a plain null scalar. */
static bool is_null(const yaml_node_t *n)
{
    na_value v;

    if (n->type != YAML_SCALAR_NODE)
        return false;
    s_value(n, &v);
    return v.type == NA_VAL_NULL;
}

/* ---- Devices --------------------------------------------------------------------------- */

static int add_attr(yctx *y, const char *key, const na_value *v)
{
    if (y->n_attrs == y->cap_attrs) {
        size_t ncap = y->cap_attrs ? y->cap_attrs * 2 : 16;
        na_attr *na = realloc(y->attrs, ncap * sizeof(*na));
        if (!na)
            return na_error_set(y->err, NA_ENOMEM, "out of memory");
        y->attrs = na;
        y->cap_attrs = ncap;
    }
    y->attrs[y->n_attrs++] = (na_attr){.key = key, .value = *v};
    return NA_OK;
}

static void wrong_type(yctx *y, const yaml_node_t *v, const char *key, const char *expected)
{
    if (y->rep)
        y->rep->wrong_type++;
    if (v->type == YAML_SCALAR_NODE)
        y_warn(y, v, "devices.%.*s.%.*s: expected %s, got '%.*s'; ignored", QUOTE, y->device,
               QUOTE, key, expected, QUOTE, s_text(v));
    else
        y_warn(y, v, "devices.%.*s.%.*s: expected %s, got %s; ignored", QUOTE, y->device, QUOTE,
               key, expected, kind_name(v));
}

/* A number field in [lo, hi]; *dst untouched (unknown) when null or wrong. */
static void read_number(yctx *y, const char *key, const yaml_node_t *v, double lo, double hi,
                        const char *expected, double *dst)
{
    na_value val;

    if (is_null(v))
        return;
    if (v->type == YAML_SCALAR_NODE && !s_has_nul(v)) {
        s_value(v, &val);
        if (val.type == NA_VAL_INT)
            val.u.d = (double)val.u.i;
        if ((val.type == NA_VAL_INT || val.type == NA_VAL_DOUBLE) && isfinite(val.u.d) &&
            val.u.d >= lo && val.u.d <= hi) {
            *dst = val.u.d;
            return;
        }
    }
    wrong_type(y, v, key, expected);
}

/* A string field: any non-null scalar's text (`site: 001` is the site "001"). */
static void read_text(yctx *y, const char *key, const yaml_node_t *v, const char **dst)
{
    if (is_null(v))
        return;
    if (v->type == YAML_SCALAR_NODE && !s_has_nul(v)) {
        *dst = s_text(v);
        return;
    }
    wrong_type(y, v, key, "text");
}

static int read_attributes(yctx *y, const yaml_node_t *map)
{
    if (is_null(map))
        return NA_OK;
    if (map->type != YAML_MAPPING_NODE) {
        wrong_type(y, map, "attributes", "a mapping");
        return NA_OK;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = y_node(y, p->key, map), *v = k ? y_node(y, p->value, map) : NULL;
        na_value val;
        if (!v)
            return y->rc;
        if (k->type != YAML_SCALAR_NODE || s_has_nul(k)) {
            wrong_type(y, k, "attributes", "text keys");
            continue;
        }
        if (v->type != YAML_SCALAR_NODE || s_has_nul(v)) {
            if (y->rep)
                y->rep->wrong_type++;
            y_warn(y, v, "devices.%.*s.attributes.%.*s: expected a scalar, got %s; dropped",
                   QUOTE, y->device, QUOTE, s_text(k), kind_name(v));
            continue;
        }
        s_value(v, &val);
        if (val.type != NA_VAL_NULL && add_attr(y, s_text(k), &val))
            return NA_ENOMEM;
    }
    return NA_OK;
}

/* Keys of the seed's example that are not model fields: free attributes, not "unknown". */
static const char *const attr_keys[] = {"priority", "blast_radius", NULL};

static int apply_field(yctx *y, na_node *n, const char *key, const yaml_node_t *v)
{
    na_value val;

    if (strcmp(key, "role") == 0) {
        read_text(y, key, v, &n->role);
    } else if (strcmp(key, "site") == 0) {
        read_text(y, key, v, &n->site);
    } else if (strcmp(key, "label") == 0) {
        read_text(y, key, v, &n->label);
    } else if (strcmp(key, "asn") == 0) {
        if (is_null(v))
            return NA_OK;
        if (v->type == YAML_SCALAR_NODE) {
            s_value(v, &val);
            if (val.type == NA_VAL_INT && val.u.i >= 0 && val.u.i <= 4294967295LL) {
                n->asn = val.u.i;
                return NA_OK;
            }
        }
        wrong_type(y, v, key, "an AS number 0..4294967295");
    } else if (strcmp(key, "latitude") == 0) {
        read_number(y, key, v, -90, 90, "degrees in [-90, 90]", &n->latitude);
    } else if (strcmp(key, "longitude") == 0) {
        read_number(y, key, v, -180, 180, "degrees in [-180, 180]", &n->longitude);
    } else if (strcmp(key, "capacity") == 0) {
        read_number(y, key, v, 0, HUGE_VAL, "bit/s (a number >= 0)", &n->capacity);
    } else if (strcmp(key, "status") == 0) {
        na_status st;
        if (is_null(v))
            return NA_OK;
        if (v->type == YAML_SCALAR_NODE && !s_has_nul(v) && na_status_parse(s_text(v), &st) == 0)
            n->status = st;
        else
            wrong_type(y, v, key, "up, down or unknown");
    } else if (strcmp(key, "attributes") == 0) {
        return read_attributes(y, v);
    } else {
        bool known = one_of(key, attr_keys);
        if (!known && y->rep)
            y->rep->unknown_fields++;
        if (v->type != YAML_SCALAR_NODE || s_has_nul(v)) {
            if (known) {
                wrong_type(y, v, key, "a scalar");
                return NA_OK;
            }
            y_warn(y, v, "devices.%.*s.%.*s: unknown setting holding %s; dropped", QUOTE,
                   y->device, QUOTE, key, kind_name(v));
            return NA_OK;
        }
        if (!known)
            y_warn(y, v, "devices.%.*s.%.*s: unknown setting, kept as an attribute", QUOTE,
                   y->device, QUOTE, key);
        s_value(v, &val);
        if (val.type != NA_VAL_NULL)
            return add_attr(y, key, &val);
    }
    return NA_OK;
}

/*
 * Applies a device's settings mapping. Keys given here win over keys merged in with `<<`
 * (YAML merge keys: a mapping or a list of mappings, earlier ones winning); `seen` holds the
 * keys applied so far. A key repeated in one mapping is an error, as YAML says.
 */
static int read_settings(yctx *y, na_node *n, const yaml_node_t *map, na__idmap *seen,
                         int merge_depth)
{
    yaml_node_pair_t *p;
    int rc;

    if (merge_depth > YAML_MAX_MERGE_DEPTH)
        return y_fail(y, map, NA_EPARSE, "devices.%.*s: merge keys (<<) nested deeper than %d",
                      QUOTE, y->device, YAML_MAX_MERGE_DEPTH);
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = y_node(y, p->key, map), *v = k ? y_node(y, p->value, map) : NULL;
        const char *key;
        if (!v)
            return y->rc;
        if (k->type != YAML_SCALAR_NODE || s_has_nul(k))
            return y_fail(y, k, NA_EPARSE, "devices.%.*s: setting names must be text, got %s",
                          QUOTE, y->device, kind_name(k));
        key = s_text(k);
        if (strcmp(key, "<<") == 0 && s_plain(k))
            continue;
        if (na__idmap_get(seen, key, NULL)) {
            if (merge_depth == 0)
                return y_fail(y, k, NA_EPARSE, "devices.%.*s: duplicate setting '%.*s'",
                              QUOTE, y->device, QUOTE, key);
            continue;
        }
        if (na__idmap_put(seen, key, 0))
            return na_error_set(y->err, NA_ENOMEM, "out of memory");
        rc = apply_field(y, n, key, v);
        if (rc)
            return rc;
    }
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = y_node(y, p->key, map), *v = k ? y_node(y, p->value, map) : NULL;
        if (!v)
            return y->rc;
        if (strcmp(s_text(k), "<<") != 0 || !s_plain(k))
            continue;
        if (v->type == YAML_MAPPING_NODE) {
            rc = read_settings(y, n, v, seen, merge_depth + 1);
            if (rc)
                return rc;
            continue;
        }
        if (v->type != YAML_SEQUENCE_NODE)
            return y_fail(y, v, NA_EPARSE,
                          "devices.%.*s: << merges a mapping or a list of mappings, got %s",
                          QUOTE, y->device, kind_name(v));
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            yaml_node_t *m = y_node(y, *it, v);
            if (!m)
                return y->rc;
            if (m->type != YAML_MAPPING_NODE)
                return y_fail(y, m, NA_EPARSE,
                              "devices.%.*s: << merges mappings only, got %s", QUOTE, y->device,
                              kind_name(m));
            rc = read_settings(y, n, m, seen, merge_depth + 1);
            if (rc)
                return rc;
        }
    }
    return NA_OK;
}

static int read_device(yctx *y, na_builder *b, const yaml_node_t *name, const yaml_node_t *v)
{
    na__idmap seen;
    na_node n;
    int rc = NA_OK;

    na_node_init(&n);
    n.id = y->device = s_text(name);
    y->n_attrs = 0;
    na__idmap_init(&seen);
    if (v->type == YAML_MAPPING_NODE) {
        rc = read_settings(y, &n, v, &seen, 0);
    } else if (!is_null(v)) {
        rc = y_fail(y, v, NA_EPARSE, "devices.%.*s: expected a mapping of settings, got %s",
                    QUOTE, y->device, kind_name(v));
    }
    na__idmap_free(&seen);
    if (rc)
        return rc;
    n.attrs = y->attrs;
    n.n_attrs = y->n_attrs;
    rc = na_builder_add_node(b, &n, y->err);
    if (rc)
        return rc;
    if (isnan(n.latitude) || isnan(n.longitude)) {
        if (y->rep)
            y->rep->missing_coordinates++;
        y_warn(y, name, "device '%.*s' has no usable latitude and longitude", QUOTE, n.id);
    }
    return NA_OK;
}

/* A device name: non-empty text. */
static int device_name(yctx *y, const yaml_node_t *k, const char *where)
{
    if (k->type != YAML_SCALAR_NODE || s_has_nul(k) || k->data.scalar.length == 0 ||
        is_null(k))
        return y_fail(y, k, NA_EPARSE, "%s: expected a device name, got %s", where,
                      k->type == YAML_SCALAR_NODE ? "an empty or null value" : kind_name(k));
    return NA_OK;
}

static int read_devices(yctx *y, na_builder *b, const yaml_node_t *devs, na__idmap *ids)
{
    if (is_null(devs))
        return NA_OK;
    if (devs->type != YAML_MAPPING_NODE)
        return y_fail(y, devs, NA_EPARSE,
                      "devices: expected a mapping of device name -> settings, got %s",
                      kind_name(devs));
    for (yaml_node_pair_t *p = devs->data.mapping.pairs.start; p < devs->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = y_node(y, p->key, devs), *v = k ? y_node(y, p->value, devs) : NULL;
        size_t first;
        int rc;
        if (!v)
            return y->rc;
        rc = device_name(y, k, "devices");
        if (rc)
            return rc;
        if (na__idmap_get(ids, s_text(k), &first))
            return y_fail(y, k, NA_EPARSE,
                          "devices: duplicate device '%.*s' (first at line %zu)", QUOTE,
                          s_text(k), first);
        rc = read_device(y, b, k, v);
        if (rc)
            return rc;
        if (na__idmap_put(ids, s_text(k), k->start_mark.line + 1))
            return na_error_set(y->err, NA_ENOMEM, "out of memory");
    }
    return NA_OK;
}

/* ---- Peers ----------------------------------------------------------------------------- */

/* The peer's node, added as a stub (id only, warned once) when `devices` does not declare it. */
static int peer_node(yctx *y, na_builder *b, na__idmap *ids, const yaml_node_t *k)
{
    na_node n;
    int rc;

    rc = device_name(y, k, "bgp_peers");
    if (rc || na__idmap_get(ids, s_text(k), NULL))
        return rc;
    na_node_init(&n);
    n.id = s_text(k);
    rc = na_builder_add_node(b, &n, y->err);
    if (rc)
        return rc;
    if (na__idmap_put(ids, n.id, k->start_mark.line + 1))
        return na_error_set(y->err, NA_ENOMEM, "out of memory");
    y_warn(y, k, "bgp_peers: '%.*s' is not in devices; added as a stub node", QUOTE, n.id);
    if (y->rep)
        y->rep->missing_coordinates++;
    return NA_OK;
}

/* Whether source -- target was listed before; records it if not. Keys are "len(lo):lo hi". */
static int seen_pair(yctx *y, na__idmap *pairs, char ***keys, size_t *n_keys, const char *a,
                     const char *z, bool *seen)
{
    const char *lo = strcmp(a, z) < 0 ? a : z, *hi = lo == a ? z : a;
    size_t kl = strlen(lo) + strlen(hi) + 24;
    char **nk, *key;

    *seen = false;
    key = malloc(kl);
    if (!key)
        return na_error_set(y->err, NA_ENOMEM, "out of memory");
    snprintf(key, kl, "%zu:%s%s", strlen(lo), lo, hi);  /* the length keeps "a"+"bc" from "ab"+"c" */
    if (na__idmap_get(pairs, key, NULL)) {
        free(key);
        *seen = true;
        return NA_OK;
    }
    nk = realloc(*keys, (*n_keys + 1) * sizeof(*nk));
    if (!nk) {
        free(key);
        return na_error_set(y->err, NA_ENOMEM, "out of memory");
    }
    *keys = nk;
    nk[(*n_keys)++] = key;
    if (na__idmap_put(pairs, key, 0))
        return na_error_set(y->err, NA_ENOMEM, "out of memory");
    return NA_OK;
}

static int read_peers(yctx *y, na_builder *b, const yaml_node_t *peers, na__idmap *ids)
{
    na__idmap pairs;
    char **keys = NULL;
    size_t n_keys = 0;
    int rc = NA_OK;

    if (is_null(peers))
        return NA_OK;
    if (peers->type != YAML_SEQUENCE_NODE)
        return y_fail(y, peers, NA_EPARSE, "bgp_peers: expected a list of [device, device] "
                                           "pairs, got %s", kind_name(peers));
    na__idmap_init(&pairs);
    for (yaml_node_item_t *it = peers->data.sequence.items.start;
         it < peers->data.sequence.items.top; it++) {
        yaml_node_t *e = y_node(y, *it, peers), *a = NULL, *z = NULL;
        bool again;
        na_link l;

        if (!e) {
            rc = y->rc;
            break;
        }
        if (e->type != YAML_SEQUENCE_NODE ||
            e->data.sequence.items.top - e->data.sequence.items.start != 2) {
            rc = y_fail(y, e, NA_EPARSE, "bgp_peers[%td]: expected a pair [device, device], "
                                         "got %s", it - peers->data.sequence.items.start,
                        e->type == YAML_SEQUENCE_NODE ? "a list of another length"
                                                      : kind_name(e));
            break;
        }
        a = y_node(y, e->data.sequence.items.start[0], e);
        z = a ? y_node(y, e->data.sequence.items.start[1], e) : NULL;
        rc = z ? peer_node(y, b, ids, a) : y->rc;
        if (!rc)
            rc = peer_node(y, b, ids, z);
        if (rc)
            break;
        na_link_init(&l);
        l.source = s_text(a);
        l.target = s_text(z);
        rc = na_builder_add_link(b, &l, NULL, y->err);
        if (!rc)
            rc = seen_pair(y, &pairs, &keys, &n_keys, l.source, l.target, &again);
        if (rc)
            break;
        if (strcmp(l.source, l.target) == 0) {
            if (y->rep)
                y->rep->self_loops++;
            y_warn(y, e, "bgp_peers: '%.*s' peers with itself; kept in the model (analytics "
                         "drop self-loops)", QUOTE, l.source);
        }
        if (again) {
            if (y->rep)
                y->rep->multi_links++;
            y_warn(y, e, "bgp_peers: %.*s -- %.*s is listed again; kept as a parallel link "
                         "(analytics collapse them)", QUOTE, l.source, QUOTE, l.target);
        }
    }
    na__idmap_free(&pairs);
    for (size_t i = 0; i < n_keys; i++)
        free(keys[i]);
    free(keys);
    return rc;
}

/* ---- Document -------------------------------------------------------------------------- */

static int parser_error(const yaml_parser_t *p, const char *source, na_error *err)
{
    if (p->error == YAML_MEMORY_ERROR)
        return na_error_set(err, NA_ENOMEM, "out of memory parsing YAML");
    if (p->error == YAML_READER_ERROR)
        return na_error_set_at(err, NA_EPARSE, source, 0, 0, (long)p->problem_offset,
                               "%s", p->problem ? p->problem : "cannot read the input");
    return na_error_set_at(err, NA_EPARSE, source, (long)p->problem_mark.line + 1,
                           (long)p->problem_mark.column + 1, (long)p->problem_mark.index,
                           "%s%s%s", p->context ? p->context : "", p->context ? " " : "",
                           p->problem ? p->problem : "malformed YAML");
}

/*
 * Walks the events once to refuse, before any tree is built, a document nested deeper than
 * YAML_MAX_DEPTH or with more than YAML_MAX_EVENTS nodes. Warns about extra documents.
 */
static int prescan(const char *data, size_t len, const char *source, na_import_report *rep,
                   na_error *err)
{
    yaml_parser_t p;
    yaml_event_t ev;
    size_t events = 0, depth = 0, docs = 0;
    int rc = NA_OK;

    if (!yaml_parser_initialize(&p))
        return na_error_set(err, NA_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
    for (;;) {
        yaml_event_type_t t;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = parser_error(&p, source, err);
            break;
        }
        t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > YAML_MAX_DEPTH)
                rc = na_error_set_at(err, NA_ETOOBIG, source, (long)ev.start_mark.line + 1,
                                     (long)ev.start_mark.column + 1, (long)ev.start_mark.index,
                                     "YAML nested deeper than %d levels", YAML_MAX_DEPTH);
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        } else if (t == YAML_DOCUMENT_START_EVENT && ++docs == 2) {
            na_import_report_warn(rep, "line %ld: only the first YAML document is read",
                                  (long)ev.start_mark.line + 1);
        }
        if (!rc && ++events > YAML_MAX_EVENTS)
            rc = na_error_set_at(err, NA_ETOOBIG, source, (long)ev.start_mark.line + 1,
                                 (long)ev.start_mark.column + 1, (long)ev.start_mark.index,
                                 "YAML document has more than %d nodes", YAML_MAX_EVENTS);
        yaml_event_delete(&ev);
        if (rc || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

static int read_document(yctx *y, na_builder *b)
{
    yaml_node_t *root = yaml_document_get_root_node(y->doc), *devs = NULL, *peers = NULL;
    yaml_node_t *devs_key = NULL, *peers_key = NULL;
    na__idmap ids;
    int rc;

    if (!root)
        return y_fail(y, NULL, NA_EPARSE, "empty YAML document: expected a mapping with "
                                          "devices: and bgp_peers:");
    if (root->type != YAML_MAPPING_NODE)
        return y_fail(y, root, NA_EPARSE, "expected a mapping with devices: and bgp_peers:, "
                                          "got %s", kind_name(root));
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = y_node(y, p->key, root), *v = k ? y_node(y, p->value, root) : NULL;
        yaml_node_t **slot = NULL, **kslot = NULL;
        if (!v)
            return y->rc;
        if (k->type != YAML_SCALAR_NODE)
            continue;  /* not ours: the daemon's configuration reads the rest */
        if (strcmp(s_text(k), "devices") == 0) {
            slot = &devs;
            kslot = &devs_key;
        } else if (strcmp(s_text(k), "bgp_peers") == 0) {
            slot = &peers;
            kslot = &peers_key;
        } else {
            continue;
        }
        if (*slot)
            return y_fail(y, k, NA_EPARSE, "duplicate key '%s' (first at line %zu)",
                          s_text(k), (*kslot)->start_mark.line + 1);
        *slot = v;
        *kslot = k;
    }
    if (!devs && !peers)
        return y_fail(y, root, NA_EPARSE, "no devices: or bgp_peers: in this YAML document");
    na__idmap_init(&ids);
    rc = devs ? read_devices(y, b, devs, &ids) : NA_OK;
    if (!rc && peers)
        rc = read_peers(y, b, peers, &ids);
    na__idmap_free(&ids);
    return rc;
}

/* Isolated nodes are known only once every peer is read. */
static void count_isolated(yctx *y, const na_topology *t)
{
    size_t n = na_topology_node_count(t), m = na_topology_link_count(t);
    bool *linked;

    if (!y->rep)
        return;
    y->rep->nodes = n;
    y->rep->links = m;
    linked = calloc(n ? n : 1, sizeof(*linked));
    if (!linked)
        return;  /* the counter is a courtesy; the snapshot is fine */
    for (size_t i = 0; i < m; i++) {
        const na_link *l = na_topology_link(t, i);
        linked[l->source_index] = linked[l->target_index] = true;
    }
    for (size_t i = 0; i < n; i++) {
        if (linked[i])
            continue;
        y->rep->isolated_nodes++;
        na_import_report_warn(y->rep, "device '%.*s' has no bgp_peers", QUOTE,
                              na_topology_node(t, i)->id);
    }
    free(linked);
}

/*
 * Reads the devices: / bgp_peers: topology of a YAML configuration. On success *out is a new
 * snapshot with refcount 1 that the caller unrefs; `rep` (may be NULL) is reset and filled.
 * Fatal problems give NA_EPARSE (NA_ETOOBIG past a limit) with line and column in `err`.
 * O(input size), alias expansion bounded by YAML_MAX_VISITS.
 */
int na_import_yaml(const char *data, size_t len, const char *source, na_topology **out,
                   na_import_report *rep, na_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yctx y = {0};
    na_builder *b;
    int rc;

    *out = NULL;
    na_import_report_init(rep);
    if (!source)
        source = "<input>";
    if (!data)
        data = "";
    if (len > YAML_MAX_BYTES)
        return na_error_set_at(err, NA_ETOOBIG, source, 0, 0, -1,
                               "YAML input is %zu bytes, more than the limit of %zu for a "
                               "device configuration", len, YAML_MAX_BYTES);
    rc = prescan(data, len, source, rep, err);
    if (rc)
        return rc;
    if (!yaml_parser_initialize(&parser))
        return na_error_set(err, NA_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = parser_error(&parser, source, err);
        goto out_free_parser;
    }
    y.doc = &doc;
    y.source = source;
    y.rep = rep;
    y.err = err;
    b = na_builder_new();
    if (!b) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out_free_doc;
    }
    rc = read_document(&y, b);
    if (rc) {
        na_builder_free(b);
        goto out_free_doc;
    }
    rc = na_builder_finish(b, out, err);
    if (!rc)
        count_isolated(&y, *out);
out_free_doc:
    free(y.attrs);
    yaml_document_delete(&doc);
out_free_parser:
    yaml_parser_delete(&parser);
    return rc;
}
