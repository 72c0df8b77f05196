/*
 * config.c: the daemon's YAML configuration.
 *
 * libyaml loads the document; we turn it into a jansson tree (plain scalars typed the YAML 1.2
 * core-schema way, quoted ones kept as strings) and read the settings from that, so errors
 * name the setting by its path ("alert_rules[2].severity: ..."). Syntax errors keep libyaml's
 * line and column.
 */
#include "daemon/config.h"
#include "io/json_conf.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "alert/event.h"
#include "alert/expr.h"
#include "netassure/io.h"
#include "netassure/report.h"

#define CONFIG_MAX_BYTES ((size_t)1 << 20)
#define CONFIG_MAX_VISITS 200000
#define CONFIG_MAX_DEPTH 32

extern const unsigned char na_embedded_default_config[];
extern const size_t na_embedded_default_config_len;

typedef struct yconv {
    yaml_document_t *doc;
    size_t visits;
    const char *origin;
    na_error *err;
} yconv;

static json_t *scalar_json(const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    char *end;

    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn(s, len);
    if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
        strcmp(s, "NULL") == 0)
        return json_null();
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
        return json_true();
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
        return json_false();
    if (isdigit((unsigned char)s[0]) || ((s[0] == '-' || s[0] == '+') && len > 1 &&
                                         isdigit((unsigned char)s[1]))) {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno == 0 && end == s + len)
            return json_integer(v);
        errno = 0;
        double d = strtod(s, &end);
        if (errno == 0 && end == s + len && isfinite(d))
            return json_real(d);
    }
    return json_stringn(s, len);
}

static json_t *node_json(yconv *c, int index, int depth)
{
    yaml_node_t *n = yaml_document_get_node(c->doc, index);
    json_t *out = NULL;

    if (!n)
        return json_null();
    if (++c->visits > CONFIG_MAX_VISITS || depth > CONFIG_MAX_DEPTH) {
        na_error_set_at(c->err, NA_ETOOBIG, c->origin, (long)n->start_mark.line + 1,
                        (long)n->start_mark.column + 1, -1,
                        "configuration too deep or too large after alias expansion");
        return NULL;
    }
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return scalar_json(n);
    case YAML_SEQUENCE_NODE:
        out = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             out && it < n->data.sequence.items.top; it++) {
            json_t *v = node_json(c, *it, depth + 1);
            if (!v) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, v);
        }
        return out;
    case YAML_MAPPING_NODE:
        out = json_object();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
             out && p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
            json_t *v;
            if (!k || k->type != YAML_SCALAR_NODE) {
                na_error_set_at(c->err, NA_EPARSE, c->origin,
                                k ? (long)k->start_mark.line + 1 : 0,
                                k ? (long)k->start_mark.column + 1 : 0, -1,
                                "mapping keys must be plain strings");
                json_decref(out);
                return NULL;
            }
            v = node_json(c, p->value, depth + 1);
            if (!v) {
                json_decref(out);
                return NULL;
            }
            json_object_set_new(out, (const char *)k->data.scalar.value, v);
        }
        return out;
    default:
        return json_null();
    }
}

/* YAML text -> JSON tree (an empty document is an empty object). */
static json_t *yaml_to_json(const char *text, size_t len, const char *origin, na_error *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yconv c = {.doc = &doc, .origin = origin, .err = err};
    json_t *root = NULL;

    if (len > CONFIG_MAX_BYTES) {
        na_error_set(err, NA_ETOOBIG, "%s: configuration over %zu bytes", origin,
                     CONFIG_MAX_BYTES);
        return NULL;
    }
    if (!yaml_parser_initialize(&parser)) {
        na_error_set(err, NA_ENOMEM, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        na_error_set_at(err, NA_EPARSE, origin, (long)parser.problem_mark.line + 1,
                        (long)parser.problem_mark.column + 1, (long)parser.problem_mark.index,
                        "%s%s%s", parser.problem ? parser.problem : "YAML syntax error",
                        parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return NULL;
    }
    if (!yaml_document_get_root_node(&doc))
        root = json_object();
    else
        root = node_json(&c, 1, 0);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (root && !json_is_object(root)) {
        json_decref(root);
        na_error_set(err, NA_EPARSE, "%s: the configuration must be a mapping", origin);
        return NULL;
    }
    return root;
}

/* ---- small parsers ------------------------------------------------------------------------ */

int na__parse_listen(const char *s, char *host, size_t host_len, int *port)
{
    const char *colon, *p;
    size_t hl;
    char *end;
    long v;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return NA_EINVAL;
        hl = (size_t)(close - s - 1);
        if (hl == 0 || hl >= host_len)
            return NA_EINVAL;
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        p = close + 2;
    } else if ((colon = strrchr(s, ':')) != NULL) {
        hl = (size_t)(colon - s);
        if (hl >= host_len || memchr(s, ':', hl))
            return NA_EINVAL;
        if (hl == 0)
            snprintf(host, host_len, "127.0.0.1");
        else {
            memcpy(host, s, hl);
            host[hl] = '\0';
        }
        p = colon + 1;
    } else {
        snprintf(host, host_len, "127.0.0.1");
        p = s;
    }
    errno = 0;
    v = strtol(p, &end, 10);
    if (errno || end == p || *end || v < 0 || v > 65535)
        return NA_EINVAL;
    *port = (int)v;
    return NA_OK;
}

/* Only literal addresses count: a name such as "127.example.net" can resolve anywhere. */
bool na__host_is_loopback(const char *host)
{
    struct in_addr v4;
    struct in6_addr v6;

    if (strcmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

static bool is_color(const char *s)
{
    if (strlen(s) != 7 || s[0] != '#')
        return false;
    for (int i = 1; i < 7; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

json_t *na__config_check_branding(const json_t *in, const json_t *base, na_error *err)
{
    json_t *out;
    const char *key;
    json_t *v;

    if (!json_is_object(in)) {
        na_error_set(err, NA_EINVAL, "branding: expected an object");
        return NULL;
    }
    out = base ? json_deep_copy(base)
               : json_pack("{s:s, s:n, s:s, s:s}", "product_name", "NetAssure", "logo_url",
                           "primary_color", "#0b5fff", "accent_color", "#ff7a00");
    if (!out) {
        na_error_set(err, NA_ENOMEM, "out of memory");
        return NULL;
    }
    json_object_foreach((json_t *)in, key, v) {
        if (strcmp(key, "product_name") == 0) {
            if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 80) {
                na_error_set(err, NA_EINVAL, "branding.product_name: expected a string of 1 to "
                                             "80 characters");
                goto fail;
            }
        } else if (strcmp(key, "logo_url") == 0) {
            if (!json_is_null(v) && (!json_is_string(v) || json_string_length(v) > 2048)) {
                na_error_set(err, NA_EINVAL, "branding.logo_url: expected a URL string (at most "
                                             "2048 characters) or null");
                goto fail;
            }
        } else if (strcmp(key, "primary_color") == 0 || strcmp(key, "accent_color") == 0) {
            if (!json_is_string(v) || !is_color(json_string_value(v))) {
                na_error_set(err, NA_EINVAL, "branding.%s: expected a colour as #rrggbb", key);
                goto fail;
            }
        } else {
            na_error_set(err, NA_EINVAL, "branding.%s: unknown setting (known: product_name, "
                                         "logo_url, primary_color, accent_color)", key);
            goto fail;
        }
        json_object_set(out, key, v);
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

json_t *na__config_check_banners(const json_t *in, na_error *err)
{
    static const char *const levels[] = {"info", "warning", "critical"};
    json_t *out, *b;
    size_t i;

    if (!json_is_array(in) || json_array_size(in) > 20) {
        na_error_set(err, NA_EINVAL, "banners: expected a list of at most 20 banners");
        return NULL;
    }
    out = json_array();
    json_array_foreach((json_t *)in, i, b) {
        json_t *id = json_object_get(b, "id"), *text = json_object_get(b, "text");
        json_t *level = json_object_get(b, "level");
        json_t *o;
        const char *key;
        json_t *v;
        bool ok_level = false;
        char idbuf[32];

        if (!json_is_object(b)) {
            na_error_set(err, NA_EINVAL, "banners[%zu]: expected an object", i);
            goto fail;
        }
        json_object_foreach(b, key, v) {
            if (strcmp(key, "id") && strcmp(key, "text") && strcmp(key, "level") &&
                strcmp(key, "starts_at") && strcmp(key, "ends_at")) {
                na_error_set(err, NA_EINVAL, "banners[%zu].%s: unknown member (known: id, level, "
                                             "text, starts_at, ends_at)", i, key);
                goto fail;
            }
        }
        if (!json_is_string(text) || json_string_length(text) == 0 ||
            json_string_length(text) > 500) {
            na_error_set(err, NA_EINVAL, "banners[%zu].text: expected a string of 1 to 500 "
                                         "characters", i);
            goto fail;
        }
        if (id && (!json_is_string(id) || json_string_length(id) == 0 ||
                   json_string_length(id) > 64)) {
            na_error_set(err, NA_EINVAL, "banners[%zu].id: expected a string of 1 to 64 "
                                         "characters", i);
            goto fail;
        }
        if (level) {
            for (size_t l = 0; l < 3; l++)
                ok_level |= json_is_string(level) && strcmp(json_string_value(level), levels[l]) == 0;
            if (!ok_level) {
                na_error_set(err, NA_EINVAL, "banners[%zu].level: expected info, warning or "
                                             "critical", i);
                goto fail;
            }
        }
        snprintf(idbuf, sizeof(idbuf), "banner-%zu", i + 1);
        o = json_pack("{s:s, s:s, s:O}", "id", id ? json_string_value(id) : idbuf, "level",
                      level ? json_string_value(level) : "info", "text", text);
        for (int t = 0; t < 2; t++) {
            const char *name = t ? "ends_at" : "starts_at";
            json_t *tv = json_object_get(b, name);
            na_time_ms ms;
            char tb[40];
            if (!tv || json_is_null(tv)) {
                json_object_set_new(o, name, json_null());
                continue;
            }
            if (!json_is_string(tv) ||
                na_time_parse(json_string_value(tv), json_string_length(tv), &ms)) {
                json_decref(o);
                na_error_set(err, NA_EINVAL, "banners[%zu].%s: expected an RFC 3339 time or "
                                             "null", i, name);
                goto fail;
            }
            json_object_set_new(o, name, json_string(na_time_format(ms, tb, sizeof(tb))));
        }
        json_array_append_new(out, o);
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* ---- reading the tree --------------------------------------------------------------------- */

static const char *const severities[] = {"critical", "major", "minor", "warning", "info", NULL};

static int read_sources(const json_t *arr, const char *base_dir, na__daemon_config *cfg,
                        na_error *err)
{
    static const char *const known[] = {"name", "type", "path", "url", "token", "watch",
                                        "interval", NULL};
    size_t i;
    json_t *s;
    int rc;

    if (!arr)
        return NA_OK;
    if (!json_is_array(arr))
        return na_error_set(err, NA_EINVAL, "sources: expected a list");
    cfg->sources = calloc(json_array_size(arr) + 1, sizeof(*cfg->sources));
    if (!cfg->sources)
        return NA_ENOMEM;
    json_array_foreach(arr, i, s) {
        na__source_config *src = &cfg->sources[cfg->n_sources++];
        char path[64], *rel = NULL;
        snprintf(path, sizeof(path), "sources[%zu].", i);
        if (!json_is_object(s))
            return na_error_set(err, NA_EINVAL, "sources[%zu]: expected a mapping", i);
        if ((rc = na__jconf_keys(s, path, known, err)) ||
            (rc = na__jconf_str(s, "type", path, "file", &src->type, err)) ||
            (rc = na__jconf_str(s, "name", path, NULL, &src->name, err)))
            return rc;
        if (!src->name) {
            char def[32];
            snprintf(def, sizeof(def), "source-%zu", i + 1);
            src->name = strdup(def);
            if (!src->name)
                return NA_ENOMEM;
        }
        if (strcmp(src->type, "ws") == 0) {
            /* A topology stream: the client reconnects by itself, no watching. */
            if ((rc = na__jconf_str(s, "url", path, NULL, &src->url, err)) ||
                (rc = na__jconf_str(s, "token", path, NULL, &src->token, err)))
                return rc;
            if (!src->url || (strncmp(src->url, "ws://", 5) != 0 &&
                              strncmp(src->url, "wss://", 6) != 0))
                return na_error_set(err, NA_EINVAL, "%surl: a ws source needs "
                                                    "ws://HOST:PORT[/PATH]", path);
            if (json_object_get(s, "path"))
                return na_error_set(err, NA_EINVAL, "%spath: not used by a ws source (url)",
                                    path);
            continue;
        }
        if (strcmp(src->type, "file") != 0)
            return na_error_set(err, NA_EINVAL, "%stype: unknown source type '%s' (known: "
                                                "file, ws)", path, src->type);
        if ((rc = na__jconf_str(s, "path", path, NULL, &rel, err)) ||
            (rc = na__jconf_bool(s, "watch", path, true, &src->watch, err)) ||
            (rc = na__jconf_duration(s, "interval", path, 1000, &src->interval_ms, err))) {
            free(rel);
            return rc;
        }
        if (!rel || !*rel) {
            free(rel);
            return na_error_set(err, NA_EINVAL, "%spath: required for a file source", path);
        }
        if (rel[0] == '/' || !base_dir) {
            src->path = rel;
        } else {
            size_t n = strlen(base_dir) + strlen(rel) + 2;
            src->path = malloc(n);
            if (!src->path) {
                free(rel);
                return NA_ENOMEM;
            }
            snprintf(src->path, n, "%s/%s", base_dir, rel);
            free(rel);
        }
        if (src->interval_ms < 100)
            src->interval_ms = 100;
    }
    return NA_OK;
}

/* nats: {url, jetstream, stream, outbox, subject_prefix} (docs/nats.md). */
static int read_nats(const json_t *n, na__nats_config *nc, na_error *err)
{
    static const char *const known[] = {"url", "jetstream", "stream", "outbox", "subject_prefix",
                                        NULL};
    double outbox = 0;
    int rc;

    if (!n)
        return NA_OK;
    if (!json_is_object(n))
        return na_error_set(err, NA_EINVAL, "nats: expected a mapping");
    if ((rc = na__jconf_keys(n, "nats.", known, err)) ||
        (rc = na__jconf_str(n, "url", "nats.", NULL, &nc->url, err)) ||
        (rc = na__jconf_str(n, "jetstream", "nats.", "auto", &nc->jetstream, err)) ||
        (rc = na__jconf_str(n, "stream", "nats.", "NETASSURE", &nc->stream, err)) ||
        (rc = na__jconf_str(n, "subject_prefix", "nats.", "", &nc->subject_prefix, err)) ||
        (rc = na__jconf_num(n, "outbox", "nats.", 100000, 16, 100000000, &outbox, err)))
        return rc;
    nc->outbox = (size_t)outbox;
    if (!nc->url || (strncmp(nc->url, "nats://", 7) != 0 && strncmp(nc->url, "tls://", 6) != 0))
        return na_error_set(err, NA_EINVAL, "nats.url: expected nats://HOST:PORT");
    if (strcmp(nc->jetstream, "auto") != 0 && strcmp(nc->jetstream, "on") != 0 &&
        strcmp(nc->jetstream, "off") != 0)
        return na_error_set(err, NA_EINVAL, "nats.jetstream: expected auto, on or off");
    for (const char *p = nc->stream; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return na_error_set(err, NA_EINVAL, "nats.stream: letters, digits, - and _ only");
    return NA_OK;
}

/* alerting: {resolve_after, max_history, importance_jump, feedback: {raise_factor,
 * suppress_for}, group_by} (docs/alerts.md); defaults when absent. */
static int read_alerting(const json_t *al, na__alerting_config *ac, na_error *err)
{
    static const char *const known[] = {"resolve_after", "max_history", "importance_jump",
                                        "feedback", "group_by", NULL};
    static const char *const fb_known[] = {"raise_factor", "suppress_for", NULL};
    const json_t *fb = json_object_get(al, "feedback"), *gb = json_object_get(al, "group_by");
    double max_history = 10000;
    int rc;

    ac->resolve_after_ms = 600000;
    ac->max_history = 10000;
    ac->importance_jump = 0.1;
    ac->raise_factor = 1.5;
    ac->suppress_for_ms = 86400000;
    ac->group_by = NA_GROUP_BY_NODE | NA_GROUP_BY_SITE;
    if (!al)
        return NA_OK;
    if (!json_is_object(al))
        return na_error_set(err, NA_EINVAL, "alerting: expected a mapping");
    if ((rc = na__jconf_keys(al, "alerting.", known, err)) ||
        (rc = na__jconf_duration(al, "resolve_after", "alerting.", ac->resolve_after_ms,
                           &ac->resolve_after_ms, err)) ||
        (rc = na__jconf_num(al, "max_history", "alerting.", 10000, 0, 10000000, &max_history, err)) ||
        (rc = na__jconf_num(al, "importance_jump", "alerting.", 0.1, 1e-9, 1e6, &ac->importance_jump,
                      err)))
        return rc;
    ac->max_history = (size_t)max_history;
    if (ac->resolve_after_ms < 1000)
        return na_error_set(err, NA_EINVAL, "alerting.resolve_after: at least 1s");
    if (fb) {
        if (!json_is_object(fb))
            return na_error_set(err, NA_EINVAL, "alerting.feedback: expected a mapping");
        if ((rc = na__jconf_keys(fb, "alerting.feedback.", fb_known, err)) ||
            (rc = na__jconf_num(fb, "raise_factor", "alerting.feedback.", 1.5, 1.000001, 1000,
                          &ac->raise_factor, err)) ||
            (rc = na__jconf_duration(fb, "suppress_for", "alerting.feedback.", ac->suppress_for_ms,
                               &ac->suppress_for_ms, err)))
            return rc;
    }
    if (gb) {
        size_t i;
        json_t *g;
        if (!json_is_array(gb))
            return na_error_set(err, NA_EINVAL, "alerting.group_by: expected a list of node, "
                                                "site");
        ac->group_by = 0;
        json_array_foreach(gb, i, g) {
            const char *v = json_string_value(g);
            if (v && strcmp(v, "node") == 0)
                ac->group_by |= NA_GROUP_BY_NODE;
            else if (v && strcmp(v, "site") == 0)
                ac->group_by |= NA_GROUP_BY_SITE;
            else
                return na_error_set(err, NA_EINVAL, "alerting.group_by[%zu]: expected node or "
                                                    "site", i);
        }
    }
    return NA_OK;
}

/* Event types a topology_change rule may list in `on`, and its default set. */
static const uint32_t topology_change_types =
    (1u << NA_EV_NODE_DOWN) | (1u << NA_EV_NODE_UP) | (1u << NA_EV_NODE_ADDED) |
    (1u << NA_EV_NODE_REMOVED) | (1u << NA_EV_NODE_CHANGED) | (1u << NA_EV_LINK_DOWN) |
    (1u << NA_EV_LINK_UP) | (1u << NA_EV_LINK_ADDED) | (1u << NA_EV_LINK_REMOVED) |
    (1u << NA_EV_LINK_CHANGED) | (1u << NA_EV_ARTICULATION_POINT) |
    (1u << NA_EV_ARTICULATION_POINT_CLEARED) | (1u << NA_EV_IMPORTANCE_JUMP) |
    (1u << NA_EV_CLUSTER_TYPE_CHANGE);
static const uint32_t topology_change_default =
    (1u << NA_EV_NODE_DOWN) | (1u << NA_EV_NODE_REMOVED) | (1u << NA_EV_LINK_DOWN) |
    (1u << NA_EV_LINK_REMOVED) | (1u << NA_EV_ARTICULATION_POINT) |
    (1u << NA_EV_IMPORTANCE_JUMP) | (1u << NA_EV_CLUSTER_TYPE_CHANGE);

/* `on:` of a topology_change rule: one event type name or a list of them. */
static int read_on(const json_t *on, const char *path, uint32_t *out, na_error *err)
{
    size_t i;
    json_t *v;

    *out = 0;
    if (json_is_string(on)) {
        int t = na__event_type_parse(json_string_value(on));
        if (t < 0 || !(topology_change_types & (1u << t)))
            goto bad;
        *out = 1u << t;
        return NA_OK;
    }
    if (!json_is_array(on) || json_array_size(on) == 0)
        goto bad;
    json_array_foreach(on, i, v) {
        int t = json_is_string(v) ? na__event_type_parse(json_string_value(v)) : -1;
        if (t < 0 || !(topology_change_types & (1u << t)))
            return na_error_set(err, NA_EINVAL, "%son[%zu]: expected one of node_down, node_up, "
                                                "node_added, node_removed, node_changed, "
                                                "link_down, link_up, link_added, link_removed, "
                                                "link_changed, articulation_point, "
                                                "articulation_point_cleared, importance_jump, "
                                                "cluster_type_change", path, i);
        *out |= 1u << t;
    }
    return NA_OK;
bad:
    return na_error_set(err, NA_EINVAL, "%son: expected an event type or a list of them "
                                        "(node_down, node_up, node_added, node_removed, "
                                        "node_changed, link_down, link_up, link_added, "
                                        "link_removed, link_changed, articulation_point, "
                                        "articulation_point_cleared, importance_jump, "
                                        "cluster_type_change)", path);
}

/* Settings of the event rule types beyond name, type, severity and threshold. */
static int read_event_rule(const json_t *r, const char *path, na__rule_config *rule,
                           const na__alerting_config *ac, na_error *err)
{
    static const char *const extra[] = {"on", "metric", "op", "for", "expr", "resolve_after",
                                        NULL};
    /* which of `extra` each type takes, as bits in that order */
    unsigned takes = rule->type == NA_RULE_TOPOLOGY_CHANGE    ? 0x21u
                     : rule->type == NA_RULE_METRIC_THRESHOLD ? 0x0eu
                     : rule->type == NA_RULE_CUSTOM           ? 0x30u
                     : rule->type == NA_RULE_ANOMALY_SCORE    ? 0x20u
                                                              : 0u;
    char *op = NULL;
    int rc;

    for (unsigned k = 0; extra[k]; k++)
        if (!(takes & (1u << k)) && json_object_get(r, extra[k]))
            return na_error_set(err, NA_EINVAL, "%s%s: not a setting of this rule type",
                                path, extra[k]);
    if (rule->type == NA_RULE_ARTICULATION_POINT || rule->type == NA_RULE_NODE_DOWN ||
        rule->type == NA_RULE_LINK_DOWN || rule->type == NA_RULE_IMPORTANCE ||
        rule->type == NA_RULE_REDUNDANCY)
        return NA_OK;
    if ((rc = na__jconf_duration(r, "resolve_after", path, ac->resolve_after_ms,
                           &rule->resolve_after_ms, err)))
        return rc;
    if (rule->resolve_after_ms < 1000)
        return na_error_set(err, NA_EINVAL, "%sresolve_after: at least 1s", path);
    switch (rule->type) {
    case NA_RULE_TOPOLOGY_CHANGE:
        rule->on = topology_change_default;
        if (json_object_get(r, "on"))
            return read_on(json_object_get(r, "on"), path, &rule->on, err);
        return NA_OK;
    case NA_RULE_METRIC_THRESHOLD:
        if ((rc = na__jconf_str(r, "metric", path, NULL, &rule->metric, err)) ||
            (rc = na__jconf_str(r, "op", path, ">", &op, err)) ||
            (rc = na__jconf_duration(r, "for", path, 0, &rule->for_ms, err)))
            goto out_op;
        if (!rule->metric || !rule->metric[0]) {
            rc = na_error_set(err, NA_EINVAL, "%smetric: required (the sample name, e.g. "
                                              "utilisation)", path);
            goto out_op;
        }
        if (!json_is_number(json_object_get(r, "threshold"))) {
            rc = na_error_set(err, NA_EINVAL, "%sthreshold: required (a number)", path);
            goto out_op;
        }
        if (strcmp(op, ">") == 0)
            rule->op = NA_OP_GT;
        else if (strcmp(op, ">=") == 0)
            rule->op = NA_OP_GE;
        else if (strcmp(op, "<") == 0)
            rule->op = NA_OP_LT;
        else if (strcmp(op, "<=") == 0)
            rule->op = NA_OP_LE;
        else
            rc = na_error_set(err, NA_EINVAL, "%sop: expected \">\", \">=\", \"<\" or \"<=\"",
                              path);
    out_op:
        free(op);
        return rc;
    case NA_RULE_CUSTOM: {
        na_error xerr;
        if ((rc = na__jconf_str(r, "expr", path, NULL, &rule->expr_text, err)))
            return rc;
        if (!rule->expr_text || !rule->expr_text[0])
            return na_error_set(err, NA_EINVAL, "%sexpr: required (an expression over event "
                                                "fields, docs/alerts.md)", path);
        na_error_clear(&xerr);
        rc = na__expr_parse(rule->expr_text, strlen(rule->expr_text), na__event_fields,
                            &rule->expr, &xerr);
        if (rc == NA_ENOMEM)
            return rc;
        if (rc)
            return na_error_set(err, NA_EINVAL, "%sexpr: %s", path, xerr.message);
        return NA_OK;
    }
    default:
        return NA_OK;
    }
}

static int read_rules(const json_t *arr, na__daemon_config *cfg, na_error *err)
{
    static const char *const known[] = {"name", "type", "severity", "threshold", "on", "metric",
                                        "op", "for", "expr", "resolve_after", NULL};
    static const struct {
        const char *name;
        na__rule_type type;
        double def_threshold;
    } types[] = {
        {"articulation_point", NA_RULE_ARTICULATION_POINT, 0},
        {"node_down", NA_RULE_NODE_DOWN, 0},
        {"link_down", NA_RULE_LINK_DOWN, 0},
        {"importance", NA_RULE_IMPORTANCE, 0.05},
        {"redundancy", NA_RULE_REDUNDANCY, 1},
        {"anomaly_score", NA_RULE_ANOMALY_SCORE, 3.5},
        {"topology_change", NA_RULE_TOPOLOGY_CHANGE, 0},
        {"metric_threshold", NA_RULE_METRIC_THRESHOLD, 0},
        {"custom", NA_RULE_CUSTOM, 0},
    };
    size_t i;
    json_t *r;
    int rc;

    if (!arr)
        return NA_OK;
    if (!json_is_array(arr))
        return na_error_set(err, NA_EINVAL, "alert_rules: expected a list");
    cfg->rules = calloc(json_array_size(arr) + 1, sizeof(*cfg->rules));
    if (!cfg->rules)
        return NA_ENOMEM;
    json_array_foreach(arr, i, r) {
        na__rule_config *rule = &cfg->rules[cfg->n_rules++];
        char path[64], *type = NULL;
        size_t t, sv;
        snprintf(path, sizeof(path), "alert_rules[%zu].", i);
        if (!json_is_object(r))
            return na_error_set(err, NA_EINVAL, "alert_rules[%zu]: expected a mapping", i);
        if ((rc = na__jconf_keys(r, path, known, err)) ||
            (rc = na__jconf_str(r, "type", path, NULL, &type, err)))
            return rc;
        for (t = 0; type && t < sizeof(types) / sizeof(types[0]); t++)
            if (strcmp(type, types[t].name) == 0)
                break;
        if (!type || t == sizeof(types) / sizeof(types[0])) {
            rc = na_error_set(err, NA_EINVAL, "%stype: expected articulation_point, node_down, "
                                              "link_down, importance, redundancy, "
                                              "anomaly_score, topology_change, "
                                              "metric_threshold or custom (got %s)",
                              path, type ? type : "nothing");
            free(type);
            return rc;
        }
        free(type);
        rule->type = types[t].type;
        rule->raise_factor = cfg->alerting.raise_factor;
        rule->suppress_for_ms = cfg->alerting.suppress_for_ms;
        rule->resolve_after_ms = cfg->alerting.resolve_after_ms;
        if ((rc = na__jconf_str(r, "name", path, types[t].name, &rule->name, err)) ||
            (rc = na__jconf_str(r, "severity", path, "warning", &rule->severity, err)) ||
            (rc = na__jconf_num(r, "threshold", path, types[t].def_threshold, -1e12, 1e12,
                          &rule->threshold, err)))
            return rc;
        for (sv = 0; severities[sv]; sv++)
            if (strcmp(rule->severity, severities[sv]) == 0)
                break;
        if (!severities[sv])
            return na_error_set(err, NA_EINVAL, "%sseverity: expected critical, major, minor, "
                                                "warning or info", path);
        if (!rule->name[0] || strlen(rule->name) > 200)
            return na_error_set(err, NA_EINVAL, "%sname: 1 to 200 characters", path);
        /* The name is the first half of every fingerprint: two rules must not share one. */
        for (size_t k = 0; k + 1 < cfg->n_rules; k++)
            if (strcmp(cfg->rules[k].name, rule->name) == 0)
                return na_error_set(err, NA_EINVAL, "%sname: '%s' is already the name of "
                                                    "alert_rules[%zu] (names must be unique)",
                                    path, rule->name, k);
        if ((rc = read_event_rule(r, path, rule, &cfg->alerting, err)))
            return rc;
    }
    return NA_OK;
}

static int read_detectors(const json_t *arr, na__daemon_config *cfg, na_error *err)
{
    static const char *const known[] = {"type", "threshold", NULL};
    size_t i;
    json_t *d;
    int rc;

    if (!arr)
        return NA_OK;
    if (!json_is_array(arr))
        return na_error_set(err, NA_EINVAL, "detectors: expected a list");
    cfg->detectors = calloc(json_array_size(arr) + 1, sizeof(*cfg->detectors));
    if (!cfg->detectors)
        return NA_ENOMEM;
    json_array_foreach(arr, i, d) {
        na__detector_config *det = &cfg->detectors[cfg->n_detectors++];
        char path[64];
        snprintf(path, sizeof(path), "detectors[%zu].", i);
        if (!json_is_object(d))
            return na_error_set(err, NA_EINVAL, "detectors[%zu]: expected a mapping", i);
        if ((rc = na__jconf_keys(d, path, known, err)) ||
            (rc = na__jconf_str(d, "type", path, NULL, &det->type, err)) ||
            (rc = na__jconf_num(d, "threshold", path, 3.5, 0, 1e6, &det->threshold, err)))
            return rc;
        if (!det->type || strcmp(det->type, "importance_outlier") != 0)
            return na_error_set(err, NA_EINVAL, "%stype: expected importance_outlier", path);
    }
    return NA_OK;
}

static int read_config(const json_t *root, const char *base_dir, na__daemon_config *cfg,
                       na_error *err)
{
    static const char *const known[] = {"listen", "data_dir", "warehouse", "log_level", "api",
                                        "sources", "analytics", "alert_rules", "detectors",
                                        "retention", "branding", "banners", "sites", "nats",
                                        "alerting", "ingest", "snmp", NULL};
    static const char *const api_known[] = {"token", "protect_reads", "max_body", NULL};
    static const char *const an_known[] = {"threads", "kinds", "min_interval", NULL};
    static const char *const ret_known[] = {"metrics_downsample_after", "metrics_step",
                                            "metrics_keep", NULL};
    json_t *api = json_object_get(root, "api"), *an = json_object_get(root, "analytics");
    json_t *ret = json_object_get(root, "retention");
    char *listen = NULL, *level = NULL;
    const char *env_dir = getenv("NETASSURE_DATA_DIR");
    double threads = 0, max_body = 0;
    int rc;

    if ((rc = na__jconf_keys(root, "", known, err)))
        return rc;
    if ((rc = na__jconf_str(root, "listen", "", "127.0.0.1:8080", &listen, err)))
        return rc;
    rc = na__parse_listen(listen, cfg->listen_host, sizeof(cfg->listen_host), &cfg->listen_port);
    free(listen);
    if (rc)
        return na_error_set(err, NA_EINVAL, "listen: expected HOST:PORT, e.g. 127.0.0.1:8080");
    if ((rc = na__jconf_str(root, "data_dir", "", env_dir && *env_dir ? env_dir : "netassure-data",
                      &cfg->data_dir, err)) ||
        (rc = na__jconf_str(root, "warehouse", "", "sqlite", &cfg->warehouse, err)) ||
        (rc = na__jconf_str(root, "log_level", "", "info", &level, err)))
        return rc;
    rc = na_log_parse_level(level, &cfg->log_level);
    free(level);
    if (rc)
        return na_error_set(err, NA_EINVAL, "log_level: expected error, warn, info or debug");
    if (api) {
        if (!json_is_object(api))
            return na_error_set(err, NA_EINVAL, "api: expected a mapping");
        if ((rc = na__jconf_keys(api, "api.", api_known, err)) ||
            (rc = na__jconf_str(api, "token", "api.", NULL, &cfg->api_token, err)) ||
            (rc = na__jconf_bool(api, "protect_reads", "api.", false, &cfg->protect_reads, err)) ||
            (rc = na__jconf_num(api, "max_body", "api.", 1 << 20, 1024, 256 << 20, &max_body, err)))
            return rc;
        cfg->max_body = (size_t)max_body;
        if (cfg->api_token && strlen(cfg->api_token) < 8)
            return na_error_set(err, NA_EINVAL, "api.token: use at least 8 characters");
    }
    if (an) {
        if (!json_is_object(an))
            return na_error_set(err, NA_EINVAL, "analytics: expected a mapping");
        if ((rc = na__jconf_keys(an, "analytics.", an_known, err)) ||
            (rc = na__jconf_num(an, "threads", "analytics.", 0, 0, 1024, &threads, err)) ||
            (rc = na__jconf_duration(an, "min_interval", "analytics.", cfg->analytics_min_interval_ms,
                               &cfg->analytics_min_interval_ms, err)))
            return rc;
        cfg->analytics_threads = (unsigned)threads;
        if (json_object_get(an, "kinds")) {
            json_t *kl = json_object_get(an, "kinds"), *k;
            size_t i;
            if (!json_is_array(kl) || json_array_size(kl) == 0)
                return na_error_set(err, NA_EINVAL, "analytics.kinds: expected a list of "
                                                    "analyses");
            cfg->analytics_kinds = 0;
            json_array_foreach(kl, i, k) {
                unsigned bit = json_is_string(k) ? na_analysis_kind_parse(json_string_value(k)) : 0;
                if (!bit)
                    return na_error_set(err, NA_EINVAL, "analytics.kinds[%zu]: expected "
                                                        "centrality, structure, communities, "
                                                        "spectral, motifs, clusters, robustness "
                                                        "or all", i);
                cfg->analytics_kinds |= bit;
            }
        }
    }
    if (ret) {
        if (!json_is_object(ret))
            return na_error_set(err, NA_EINVAL, "retention: expected a mapping");
        if ((rc = na__jconf_keys(ret, "retention.", ret_known, err)) ||
            (rc = na__jconf_duration(ret, "metrics_downsample_after", "retention.",
                               cfg->retention.downsample_after_ms,
                               &cfg->retention.downsample_after_ms, err)) ||
            (rc = na__jconf_duration(ret, "metrics_step", "retention.", cfg->retention.step_ms,
                               &cfg->retention.step_ms, err)) ||
            (rc = na__jconf_duration(ret, "metrics_keep", "retention.", cfg->retention.keep_ms,
                               &cfg->retention.keep_ms, err)))
            return rc;
        if (cfg->retention.step_ms < 1000)
            return na_error_set(err, NA_EINVAL, "retention.metrics_step: at least 1s");
    }
    {
        json_t *ing = json_object_get(root, "ingest");
        static const char *const ing_known[] = {"queue", NULL};
        double q = 0;
        if (ing && !json_is_object(ing))
            return na_error_set(err, NA_EINVAL, "ingest: expected a mapping");
        if (ing && ((rc = na__jconf_keys(ing, "ingest.", ing_known, err)) ||
                    (rc = na__jconf_num(ing, "queue", "ingest.", 65536, 16, 16777216, &q, err))))
            return rc;
        cfg->ingest_queue = ing ? (size_t)q : 65536;
    }
    if ((rc = read_sources(json_object_get(root, "sources"), base_dir, cfg, err)) ||
        (rc = read_nats(json_object_get(root, "nats"), &cfg->nats, err)) ||
        (rc = read_alerting(json_object_get(root, "alerting"), &cfg->alerting, err)) ||
        (rc = read_rules(json_object_get(root, "alert_rules"), cfg, err)) ||
        (rc = read_detectors(json_object_get(root, "detectors"), cfg, err)) ||
        (rc = na__snmp_config_parse(json_object_get(root, "snmp"), json_object_get(root, "sites"),
                                    base_dir, &cfg->snmp, err)))
        return rc;
    /* The SNMP poller is one more topology source, merged like the others. */
    if (cfg->snmp.n_devices || cfg->snmp.crawl) {
        na__source_config *grown = realloc(cfg->sources, (cfg->n_sources + 1) * sizeof(*grown));
        if (!grown)
            return NA_ENOMEM;
        cfg->sources = grown;
        memset(&cfg->sources[cfg->n_sources], 0, sizeof(*grown));
        if (!(cfg->sources[cfg->n_sources].name = strdup("snmp")) ||
            !(cfg->sources[cfg->n_sources].type = strdup("snmp"))) {
            cfg->n_sources++;
            return NA_ENOMEM;
        }
        cfg->n_sources++;
    }
    {
        json_t *empty = json_object(), *b = json_object_get(root, "branding");
        cfg->branding = na__config_check_branding(b ? b : empty, NULL, err);
        json_decref(empty);
        if (!cfg->branding)
            return NA_EINVAL;
    }
    {
        json_t *empty = json_array(), *b = json_object_get(root, "banners");
        cfg->banners = na__config_check_banners(b ? b : empty, err);
        json_decref(empty);
        if (!cfg->banners)
            return NA_EINVAL;
    }
    return NA_OK;
}

int na__config_parse(const char *text, size_t len, const char *origin, const char *base_dir,
                     na__daemon_config *out, na_error *err)
{
    json_t *root;
    int rc;

    memset(out, 0, sizeof(*out));
    out->max_body = 1 << 20;
    out->analytics_kinds = NA_ANALYSIS_ALL;
    out->analytics_min_interval_ms = 2000;
    out->retention.downsample_after_ms = 7LL * 86400000;
    out->retention.step_ms = 300000;
    out->retention.keep_ms = 400LL * 86400000;
    na__snmp_config_init(&out->snmp);
    out->origin = strdup(origin);
    if (!out->origin)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    root = yaml_to_json(text, len, origin, err);
    if (!root) {
        na__config_free(out);
        return err && err->code ? err->code : NA_EPARSE;
    }
    rc = read_config(root, base_dir, out, err);
    json_decref(root);
    if (rc) {
        if (err && err->code && !strstr(err->message, origin)) {
            char msg[sizeof(err->message)];
            snprintf(msg, sizeof(msg), "%s", err->message);
            na_error_set(err, rc, "%s: %s", origin, msg);
        } else if (rc == NA_ENOMEM) {
            na_error_set(err, rc, "out of memory");
        }
        na__config_free(out);
    }
    return rc;
}

int na__config_load(const char *path, na__daemon_config *out, na_error *err)
{
    char *text = NULL, *dir;
    size_t len = 0;
    int rc;

    rc = na_read_file(path, CONFIG_MAX_BYTES, &text, &len, err);
    if (rc)
        return rc;
    dir = strdup(path);
    if (!dir) {
        free(text);
        return na_error_set(err, NA_ENOMEM, "out of memory");
    }
    {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, strlen(path) + 1, ".");
    }
    rc = na__config_parse(text, len, path, dir, out, err);
    free(dir);
    free(text);
    return rc;
}

int na__config_default(na__daemon_config *out, na_error *err)
{
    return na__config_parse((const char *)na_embedded_default_config,
                            na_embedded_default_config_len, "<bundled default configuration>",
                            NA_EXAMPLES_DIR, out, err);
}

void na__config_free_sources(na__daemon_config *cfg)
{
    for (size_t i = 0; i < cfg->n_sources; i++) {
        free(cfg->sources[i].name);
        free(cfg->sources[i].type);
        free(cfg->sources[i].path);
        free(cfg->sources[i].url);
        free(cfg->sources[i].token);
    }
    free(cfg->sources);
    cfg->sources = NULL;
    cfg->n_sources = 0;
}

void na__config_free(na__daemon_config *cfg)
{
    na__config_free_sources(cfg);
    free(cfg->nats.url);
    free(cfg->nats.jetstream);
    free(cfg->nats.stream);
    free(cfg->nats.subject_prefix);
    for (size_t i = 0; i < cfg->n_rules; i++) {
        free(cfg->rules[i].name);
        free(cfg->rules[i].severity);
        free(cfg->rules[i].metric);
        free(cfg->rules[i].expr_text);
        na__expr_free(cfg->rules[i].expr);
    }
    free(cfg->rules);
    for (size_t i = 0; i < cfg->n_detectors; i++)
        free(cfg->detectors[i].type);
    free(cfg->detectors);
    free(cfg->origin);
    free(cfg->data_dir);
    free(cfg->warehouse);
    free(cfg->api_token);
    json_decref(cfg->branding);
    json_decref(cfg->banners);
    na__snmp_config_free(&cfg->snmp);
    memset(cfg, 0, sizeof(*cfg));
}
