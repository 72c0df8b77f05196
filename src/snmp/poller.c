/*
 * poller.c: the `snmp:` configuration and the poller shared by `netassure poll` and the daemon
 * (poller.h). One run: collect the due devices, interpret, rates against the previous state,
 * geolocation, crawl, network, topology.
 */
#include "netassure/report.h"
#include "snmp/poller.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/json_conf.h"

/* ---- configuration ----------------------------------------------------------------------- */

void na__snmp_config_init(na_snmp_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    na__arena_init(&cfg->arena);
    cfg->interval_ms = 300000;
    cfg->topology_interval_ms = 900000;
    cfg->timeout_ms = 2000;
    cfg->retries = 2;
    cfg->max_repetitions = 25;
    cfg->max_in_flight = 64;
    cfg->crawl_max = 256;
}

void na__snmp_config_free(na_snmp_config *cfg)
{
    na__arena_free(&cfg->arena);
    memset(cfg, 0, sizeof(*cfg));
}

/* A string setting copied into the config's arena; absent -> def (not copied: static). */
static int arena_str(na_snmp_config *cfg, const json_t *obj, const char *key, const char *path,
                     const char *def, const char **out, na_error *err)
{
    char *tmp = NULL;
    int rc = na__jconf_str(obj, key, path, NULL, &tmp, err);

    if (rc)
        return rc;
    if (!tmp) {
        *out = def;
        return NA_OK;
    }
    *out = na__arena_strdup(&cfg->arena, tmp);
    free(tmp);
    return *out ? NA_OK : na_error_set(err, NA_ENOMEM, "out of memory");
}

/* A list of strings (subnets) into the arena. */
static int arena_str_list(na_snmp_config *cfg, const json_t *arr, const char *path,
                          const char ***out, size_t *n, na_error *err)
{
    size_t i;
    json_t *v;

    *out = NULL;
    *n = 0;
    if (!arr)
        return NA_OK;
    if (!json_is_array(arr))
        return na_error_set(err, NA_EINVAL, "%s: expected a list", path);
    if (!(*out = na__arena_alloc(&cfg->arena, (json_array_size(arr) + 1) * sizeof(char *))))
        return na_error_set(err, NA_ENOMEM, "out of memory");
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v))
            return na_error_set(err, NA_EINVAL, "%s[%zu]: expected a string", path, i);
        if (!((*out)[(*n)++] = na__arena_strdup(&cfg->arena, json_string_value(v))))
            return na_error_set(err, NA_ENOMEM, "out of memory");
    }
    return NA_OK;
}

/* latitude + longitude, both or neither. */
static int read_coords(const json_t *obj, const char *path, bool *has, double *lat, double *lon,
                       na_error *err)
{
    bool hl = json_object_get(obj, "latitude") != NULL, ho = json_object_get(obj, "longitude");
    int rc;

    *has = false;
    if (hl != ho)
        return na_error_set(err, NA_EINVAL, "%slatitude, longitude: give both or neither", path);
    if (!hl)
        return NA_OK;
    if ((rc = na__jconf_num(obj, "latitude", path, 0, -90, 90, lat, err)) ||
        (rc = na__jconf_num(obj, "longitude", path, 0, -180, 180, lon, err)))
        return rc;
    *has = true;
    return NA_OK;
}

static int read_sites(na_snmp_config *cfg, const json_t *arr, na_error *err)
{
    static const char *const known[] = {"name", "latitude", "longitude", "address", "subnets",
                                        "description", NULL};
    size_t i;
    json_t *s;
    int rc;

    if (!arr)
        return NA_OK;
    if (!json_is_array(arr))
        return na_error_set(err, NA_EINVAL, "sites: expected a list");
    cfg->sites = na__arena_alloc(&cfg->arena, (json_array_size(arr) + 1) * sizeof(*cfg->sites));
    if (!cfg->sites)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    json_array_foreach(arr, i, s) {
        na_geo_site *site = &cfg->sites[cfg->n_sites++];
        char path[48], sub[64];
        memset(site, 0, sizeof(*site));
        snprintf(path, sizeof(path), "sites[%zu].", i);
        snprintf(sub, sizeof(sub), "sites[%zu].subnets", i);
        if (!json_is_object(s))
            return na_error_set(err, NA_EINVAL, "sites[%zu]: expected a mapping", i);
        if ((rc = na__jconf_keys(s, path, known, err)) ||
            (rc = arena_str(cfg, s, "name", path, NULL, &site->name, err)) ||
            (rc = arena_str(cfg, s, "address", path, NULL, &site->address, err)) ||
            (rc = read_coords(s, path, &site->has_coords, &site->latitude, &site->longitude,
                              err)) ||
            (rc = arena_str_list(cfg, json_object_get(s, "subnets"), sub, &site->subnets,
                                 &site->n_subnets, err)))
            return rc;
        if (!site->name || !*site->name)
            return na_error_set(err, NA_EINVAL, "%sname: required", path);
    }
    return NA_OK;
}

static int parse_auth(const char *s)
{
    static const char *const names[] = {"SHA", "SHA1", "SHA-1", "SHA-224", "SHA-256", "SHA-384",
                                        "SHA-512", "MD5", NULL};
    for (size_t i = 0; names[i]; i++)
        if (strcasecmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

static int parse_priv(const char *s)
{
    static const char *const names[] = {"AES", "AES128", "AES-128", "AES-192", "AES-256", "DES",
                                        NULL};
    for (size_t i = 0; names[i]; i++)
        if (strcasecmp(s, names[i]) == 0)
            return (int)i;
    return -1;
}

int na__snmp_credentials_check(const na_snmp_credentials *c, const char *path, na_error *err)
{
    if (c->version == NA_SNMP_V2C) {
        if (!c->community || !*c->community)
            return na_error_set(err, NA_EINVAL, "%scommunity: required for version 2c", path);
        return NA_OK;
    }
    if (!c->user || !*c->user)
        return na_error_set(err, NA_EINVAL, "%suser: required for version 3", path);
    if (c->level >= NA_SNMP_AUTHNOPRIV) {
        if (c->auth_proto && parse_auth(c->auth_proto) < 0)
            return na_error_set(err, NA_EINVAL, "%sauth_protocol: expected SHA, SHA-224, SHA-256, "
                                                "SHA-384, SHA-512 or MD5", path);
        if (!c->auth_pass || strlen(c->auth_pass) < 8)
            return na_error_set(err, NA_EINVAL, "%sauth_password: at least 8 characters "
                                                "(RFC 3414)", path);
    }
    if (c->level == NA_SNMP_AUTHPRIV) {
        if (c->priv_proto && parse_priv(c->priv_proto) < 0)
            return na_error_set(err, NA_EINVAL, "%spriv_protocol: expected AES, AES-192, AES-256 "
                                                "or DES", path);
        if (!c->priv_pass || strlen(c->priv_pass) < 8)
            return na_error_set(err, NA_EINVAL, "%spriv_password: at least 8 characters", path);
    }
    return NA_OK;
}

int na__snmp_parse_level(const char *s, na_snmp_seclevel *out)
{
    if (strcasecmp(s, "noAuthNoPriv") == 0)
        *out = NA_SNMP_NOAUTH;
    else if (strcasecmp(s, "authNoPriv") == 0)
        *out = NA_SNMP_AUTHNOPRIV;
    else if (strcasecmp(s, "authPriv") == 0)
        *out = NA_SNMP_AUTHPRIV;
    else
        return NA_EINVAL;
    return NA_OK;
}

int na__snmp_credentials_level(na_snmp_credentials *c, const char *level)
{
    if (level) {
        if (na__snmp_parse_level(level, &c->level))
            return NA_EINVAL;
    } else {
        c->level = c->priv_pass ? NA_SNMP_AUTHPRIV
                   : c->auth_pass ? NA_SNMP_AUTHNOPRIV : NA_SNMP_NOAUTH;
    }
    if (!c->auth_proto)
        c->auth_proto = "SHA";
    if (!c->priv_proto)
        c->priv_proto = "AES";
    return NA_OK;
}

static int read_credentials(na_snmp_config *cfg, const json_t *arr, na_error *err)
{
    static const char *const known[] = {"name", "version", "community", "user", "level",
                                        "auth_protocol", "auth_password", "priv_protocol",
                                        "priv_password", "context", NULL};
    size_t i;
    json_t *c;
    int rc;

    if (!arr) {
        /* The conventional default, so `devices:` alone works against a lab. */
        if (!(cfg->creds = na__arena_alloc(&cfg->arena, sizeof(*cfg->creds))))
            return na_error_set(err, NA_ENOMEM, "out of memory");
        memset(cfg->creds, 0, sizeof(*cfg->creds));
        cfg->creds->name = "default";
        cfg->creds->version = NA_SNMP_V2C;
        cfg->creds->community = "public";
        cfg->n_creds = 1;
        return NA_OK;
    }
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return na_error_set(err, NA_EINVAL, "snmp.credentials: expected a non-empty list");
    cfg->creds = na__arena_alloc(&cfg->arena, json_array_size(arr) * sizeof(*cfg->creds));
    if (!cfg->creds)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    json_array_foreach(arr, i, c) {
        na_snmp_credentials *cr = &cfg->creds[cfg->n_creds++];
        const char *version = NULL, *level = NULL;
        char path[48];
        memset(cr, 0, sizeof(*cr));
        snprintf(path, sizeof(path), "snmp.credentials[%zu].", i);
        if (!json_is_object(c))
            return na_error_set(err, NA_EINVAL, "snmp.credentials[%zu]: expected a mapping", i);
        if ((rc = na__jconf_keys(c, path, known, err)) ||
            (rc = arena_str(cfg, c, "name", path, NULL, &cr->name, err)) ||
            (rc = arena_str(cfg, c, "version", path, "2c", &version, err)) ||
            (rc = arena_str(cfg, c, "community", path, NULL, &cr->community, err)) ||
            (rc = arena_str(cfg, c, "user", path, NULL, &cr->user, err)) ||
            (rc = arena_str(cfg, c, "level", path, NULL, &level, err)) ||
            (rc = arena_str(cfg, c, "auth_protocol", path, "SHA", &cr->auth_proto, err)) ||
            (rc = arena_str(cfg, c, "auth_password", path, NULL, &cr->auth_pass, err)) ||
            (rc = arena_str(cfg, c, "priv_protocol", path, "AES", &cr->priv_proto, err)) ||
            (rc = arena_str(cfg, c, "priv_password", path, NULL, &cr->priv_pass, err)) ||
            (rc = arena_str(cfg, c, "context", path, NULL, &cr->context, err)))
            return rc;
        if (!cr->name) {
            char def[48];
            snprintf(def, sizeof(def), "credentials-%zu", i + 1);
            if (!(cr->name = na__arena_strdup(&cfg->arena, def)))
                return na_error_set(err, NA_ENOMEM, "out of memory");
        }
        for (size_t j = 0; j + 1 < cfg->n_creds; j++)
            if (strcmp(cfg->creds[j].name, cr->name) == 0)
                return na_error_set(err, NA_EINVAL, "%sname: '%s' is used twice", path,
                                    cr->name);
        if (strcmp(version, "2c") == 0 || strcmp(version, "v2c") == 0 ||
            strcmp(version, "2") == 0)
            cr->version = NA_SNMP_V2C;
        else if (strcmp(version, "3") == 0 || strcmp(version, "v3") == 0)
            cr->version = NA_SNMP_V3;
        else
            return na_error_set(err, NA_EINVAL, "%sversion: expected 2c or 3 (SNMPv1 is not "
                                                "supported)", path);
        if (cr->version == NA_SNMP_V3 && na__snmp_credentials_level(cr, level))
            return na_error_set(err, NA_EINVAL, "%slevel: expected noAuthNoPriv, authNoPriv "
                                                "or authPriv", path);
        if ((rc = na__snmp_credentials_check(cr, path, err)))
            return rc;
    }
    return NA_OK;
}

static int read_devices(na_snmp_config *cfg, const json_t *arr, na_error *err)
{
    static const char *const known[] = {"host", "port", "name", "credentials", "site",
                                        "latitude", "longitude", "role", "interval",
                                        "topology_interval", "timeout", "retries", NULL};
    size_t i;
    json_t *d;
    int rc;

    if (!arr)
        return NA_OK;
    if (!json_is_array(arr))
        return na_error_set(err, NA_EINVAL, "snmp.devices: expected a list");
    cfg->devices = na__arena_alloc(&cfg->arena,
                                   (json_array_size(arr) + 1) * sizeof(*cfg->devices));
    if (!cfg->devices)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    json_array_foreach(arr, i, d) {
        na_snmp_device_config *dc = &cfg->devices[cfg->n_devices++];
        char path[48];
        double port = 0, retries = -1;
        int64_t timeout = 0;
        memset(dc, 0, sizeof(*dc));
        dc->retries = -1;
        snprintf(path, sizeof(path), "snmp.devices[%zu].", i);
        if (json_is_string(d)) { /* "10.0.0.1" shorthand */
            if (!(dc->host = na__arena_strdup(&cfg->arena, json_string_value(d))))
                return na_error_set(err, NA_ENOMEM, "out of memory");
            continue;
        }
        if (!json_is_object(d))
            return na_error_set(err, NA_EINVAL, "snmp.devices[%zu]: expected a mapping or a "
                                                "host name", i);
        if ((rc = na__jconf_keys(d, path, known, err)) ||
            (rc = arena_str(cfg, d, "host", path, NULL, &dc->host, err)) ||
            (rc = na__jconf_num(d, "port", path, 0, 0, 65535, &port, err)) ||
            (rc = arena_str(cfg, d, "name", path, NULL, &dc->name, err)) ||
            (rc = arena_str(cfg, d, "credentials", path, NULL, &dc->credentials, err)) ||
            (rc = arena_str(cfg, d, "site", path, NULL, &dc->site, err)) ||
            (rc = arena_str(cfg, d, "role", path, NULL, &dc->role, err)) ||
            (rc = read_coords(d, path, &dc->has_coords, &dc->latitude, &dc->longitude, err)) ||
            (rc = na__jconf_duration(d, "interval", path, 0, &dc->interval_ms, err)) ||
            (rc = na__jconf_duration(d, "topology_interval", path, 0, &dc->topology_interval_ms,
                                     err)) ||
            (rc = na__jconf_duration(d, "timeout", path, 0, &timeout, err)) ||
            (rc = na__jconf_num(d, "retries", path, -1, -1, 10, &retries, err)))
            return rc;
        if (timeout && (timeout < 10 || timeout > 600000))
            return na_error_set(err, NA_EINVAL, "%stimeout: from 10ms to 10m", path);
        dc->timeout_ms = (int)timeout;
        dc->retries = (int)retries;
        dc->port = (uint16_t)port;
        if (!dc->host || !*dc->host)
            return na_error_set(err, NA_EINVAL, "%shost: required", path);
    }
    return NA_OK;
}

/* The credentials entry a device uses; NULL when the name is unknown. */
const na_snmp_credentials *na__snmp_config_creds(const na_snmp_config *cfg, const char *name)
{
    if (!name)
        return cfg->n_creds ? &cfg->creds[0] : NULL;
    for (size_t i = 0; i < cfg->n_creds; i++)
        if (strcmp(cfg->creds[i].name, name) == 0)
            return &cfg->creds[i];
    return NULL;
}

int na__snmp_config_parse(const json_t *snmp, const json_t *sites, const char *base_dir,
                          na_snmp_config *cfg, na_error *err)
{
    static const char *const known[] = {"interval", "topology_interval", "timeout", "retries",
                                        "max_repetitions", "max_in_flight", "credentials",
                                        "devices", "crawl", "geoip", NULL};
    static const char *const crawl_known[] = {"enabled", "subnets", "max_devices", NULL};
    const json_t *crawl;
    double retries = 0, reps = 0, inflight = 0, cmax = 0;
    int64_t timeout = 0;
    const char *geoip = NULL;
    int rc;

    if ((rc = read_sites(cfg, sites, err)))
        return rc;
    if (!snmp)
        return read_credentials(cfg, NULL, err);
    if (!json_is_object(snmp))
        return na_error_set(err, NA_EINVAL, "snmp: expected a mapping");
    if ((rc = na__jconf_keys(snmp, "snmp.", known, err)) ||
        (rc = na__jconf_duration(snmp, "interval", "snmp.", cfg->interval_ms, &cfg->interval_ms,
                                 err)) ||
        (rc = na__jconf_duration(snmp, "topology_interval", "snmp.", cfg->topology_interval_ms,
                                 &cfg->topology_interval_ms, err)) ||
        (rc = na__jconf_duration(snmp, "timeout", "snmp.", cfg->timeout_ms, &timeout, err)) ||
        (rc = na__jconf_num(snmp, "retries", "snmp.", cfg->retries, 0, 10, &retries, err)) ||
        (rc = na__jconf_num(snmp, "max_repetitions", "snmp.", cfg->max_repetitions, 1, 500,
                            &reps, err)) ||
        (rc = na__jconf_num(snmp, "max_in_flight", "snmp.", (double)cfg->max_in_flight, 1, 4096,
                            &inflight, err)) ||
        (rc = arena_str(cfg, snmp, "geoip", "snmp.", NULL, &geoip, err)) ||
        (rc = read_credentials(cfg, json_object_get(snmp, "credentials"), err)) ||
        (rc = read_devices(cfg, json_object_get(snmp, "devices"), err)))
        return rc;
    if (timeout < 10 || timeout > 600000)
        return na_error_set(err, NA_EINVAL, "snmp.timeout: from 10ms to 10m");
    if (cfg->interval_ms < 1000 || cfg->topology_interval_ms < 1000)
        return na_error_set(err, NA_EINVAL, "snmp.interval, snmp.topology_interval: at least 1s");
    cfg->timeout_ms = (int)timeout;
    cfg->retries = (int)retries;
    cfg->max_repetitions = (int)reps;
    cfg->max_in_flight = (size_t)inflight;
    if (geoip && geoip[0] != '/' && base_dir) {
        size_t n = strlen(base_dir) + strlen(geoip) + 2;
        char *p = na__arena_alloc(&cfg->arena, n);
        if (!p)
            return na_error_set(err, NA_ENOMEM, "out of memory");
        snprintf(p, n, "%s/%s", base_dir, geoip);
        geoip = p;
    }
    cfg->geoip = geoip;
    for (size_t i = 0; i < cfg->n_devices; i++)
        if (cfg->devices[i].credentials &&
            !na__snmp_config_creds(cfg, cfg->devices[i].credentials))
            return na_error_set(err, NA_EINVAL, "snmp.devices[%zu].credentials: no credentials "
                                                "named '%s'", i, cfg->devices[i].credentials);
    if ((crawl = json_object_get(snmp, "crawl"))) {
        if (!json_is_object(crawl))
            return na_error_set(err, NA_EINVAL, "snmp.crawl: expected a mapping");
        if ((rc = na__jconf_keys(crawl, "snmp.crawl.", crawl_known, err)) ||
            (rc = na__jconf_bool(crawl, "enabled", "snmp.crawl.", true, &cfg->crawl, err)) ||
            (rc = na__jconf_num(crawl, "max_devices", "snmp.crawl.", (double)cfg->crawl_max, 1,
                                100000, &cmax, err)) ||
            (rc = arena_str_list(cfg, json_object_get(crawl, "subnets"), "snmp.crawl.subnets",
                                 &cfg->crawl_subnets, &cfg->n_crawl_subnets, err)))
            return rc;
        cfg->crawl_max = (size_t)cmax;
        if (cfg->crawl && cfg->n_crawl_subnets == 0)
            return na_error_set(err, NA_EINVAL, "snmp.crawl.subnets: crawling needs the subnets "
                                                "it may enter");
    }
    return NA_OK;
}

/* ---- the poller -------------------------------------------------------------------------- */

/* Tables of the topology poll: a status-only poll carries these varbinds over. */
static const struct {
    uint32_t oid[12];
    size_t len;
} topo_prefixes[] = {
    {{1, 0, 8802, 1, 1, 2, 1, 3}, 8},       /* lldpLocalSystemData */
    {{1, 0, 8802, 1, 1, 2, 1, 4}, 8},       /* lldpRemoteSystemsData */
    {{1, 3, 6, 1, 4, 1, 9, 9, 23}, 9},      /* CISCO-CDP-MIB */
    {{1, 3, 6, 1, 4, 1, 14988, 1, 1, 11}, 10}, /* MIKROTIK-MIB neighbours */
    {{1, 3, 6, 1, 2, 1, 17}, 7},            /* BRIDGE-MIB, Q-BRIDGE-MIB */
    {{1, 3, 6, 1, 2, 1, 4, 20}, 8},         /* ipAddrTable */
    {{1, 3, 6, 1, 2, 1, 4, 22}, 8},         /* ipNetToMediaTable */
    {{1, 3, 6, 1, 2, 1, 4, 34}, 8},         /* ipAddressTable */
    {{1, 3, 6, 1, 2, 1, 4, 35}, 8},         /* ipNetToPhysicalTable */
};

typedef struct target_state {
    na_snmp_device_config dc;       /* strings in the config's or the poller's arena */
    bool crawled;
    na_snmp_target target;
    na_snmp_device *dev;            /* latest state, NULL before the first poll */
    na_snmp_store *topo_store;      /* topology-table varbinds of the last topology poll */
    na_time_ms next_status, next_topology;
    bool polled_now, topology_now;  /* in the current run */
} target_state;

struct na_snmp_poller {
    const na_snmp_config *cfg;
    na_geo *geo;
    na_geo *crawl_geo;              /* one pseudo-site holding the allowed crawl subnets */
    target_state *t;
    size_t n, cap;
    na__arena arena;                /* crawled hosts */
    na_snmp_network *net;
    na_topology *topo;
    na_snmp_device **view;          /* result->devices */
};

static int add_target(na_snmp_poller *p, const na_snmp_device_config *dc, bool crawled,
                      na_error *err)
{
    const na_snmp_config *cfg = p->cfg;
    target_state *ts;

    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        target_state *grown = realloc(p->t, cap * sizeof(*grown));
        na_snmp_device **view = realloc(p->view, cap * sizeof(*view));
        if (grown)
            p->t = grown;
        if (view)
            p->view = view;
        if (!grown || !view)
            return na_error_set(err, NA_ENOMEM, "out of memory");
        p->cap = cap;
    }
    ts = &p->t[p->n];
    memset(ts, 0, sizeof(*ts));
    ts->dc = *dc;
    ts->crawled = crawled;
    ts->target.host = dc->host;
    ts->target.port = dc->port;
    ts->target.cred = na__snmp_config_creds(cfg, dc->credentials);
    ts->target.timeout_ms = dc->timeout_ms ? dc->timeout_ms : cfg->timeout_ms;
    ts->target.retries = dc->retries >= 0 ? dc->retries : cfg->retries;
    ts->target.max_repetitions = cfg->max_repetitions;
    if (!ts->target.cred)
        return na_error_set(err, NA_EINVAL, "snmp: device %s: no credentials", dc->host);
    p->n++;
    return NA_OK;
}

int na__snmp_poller_new(const na_snmp_config *cfg, na_snmp_poller **out, na_error *err)
{
    na_snmp_poller *p = calloc(1, sizeof(*p));
    int rc;

    if (!p)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    p->cfg = cfg;
    na__arena_init(&p->arena);
    for (size_t i = 0; i < cfg->n_creds; i++) {
        char path[64];
        snprintf(path, sizeof(path), "snmp credentials '%s': ", cfg->creds[i].name);
        if ((rc = na__snmp_credentials_check(&cfg->creds[i], path, err)))
            goto fail;
    }
    if ((rc = na__geo_open(cfg->sites, cfg->n_sites, cfg->geoip, &p->geo, err)))
        goto fail;
    if (cfg->crawl) {
        na_geo_site allowed = {.name = "crawl", .subnets = cfg->crawl_subnets,
                               .n_subnets = cfg->n_crawl_subnets};
        if ((rc = na__geo_open(&allowed, 1, NULL, &p->crawl_geo, err)))
            goto fail;
    }
    for (size_t i = 0; i < cfg->n_devices; i++)
        if ((rc = add_target(p, &cfg->devices[i], false, err)))
            goto fail;
    *out = p;
    return NA_OK;
fail:
    na__snmp_poller_free(p);
    return rc;
}

void na__snmp_poller_free(na_snmp_poller *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        na__snmp_device_free(p->t[i].dev);
        na__snmp_store_free(p->t[i].topo_store);
    }
    free(p->t);
    free(p->view);
    na__geo_free(p->geo);
    na__geo_free(p->crawl_geo);
    na__snmp_network_free(p->net);
    na_topology_unref(p->topo);
    na__arena_free(&p->arena);
    free(p);
}

na_time_ms na__snmp_poller_next_due(const na_snmp_poller *p)
{
    na_time_ms next = INT64_MAX;

    for (size_t i = 0; i < p->n; i++) {
        if (p->t[i].next_status < next)
            next = p->t[i].next_status;
        if (p->t[i].next_topology < next)
            next = p->t[i].next_topology;
    }
    return next;
}

/* Copies one varbind into another store. */
static int copy_vb(na_snmp_store *to, const na_snmp_vb *vb)
{
    const void *val = NULL;

    if (vb->type == NA_SNMP_OCTETS || vb->type == NA_SNMP_IPADDRESS ||
        vb->type == NA_SNMP_OPAQUE)
        val = vb->v.s;
    else if (vb->type == NA_SNMP_OBJECTID)
        val = vb->v.oid;
    return na__snmp_store_add(to, vb->oid, vb->oid_len, vb->type, val, vb->len, vb->v.i,
                              vb->v.u);
}

/*
 * A device that stopped answering keeps what it last said (system, ports, neighbours, hosts,
 * sensors): the warehouse then shows it down with its reason instead of its ports vanishing.
 * One that answered only in part (a walk timed out) keeps the last known state of each group
 * that came back empty. prev's memory moves into dev's arena; prev is left to be freed.
 */
static void keep_last_known(na_snmp_device *dev, na_snmp_device *prev)
{
    bool all = !dev->reachable;

    na__arena_steal(&dev->arena, &prev->arena);
    if (all)
        dev->sys = prev->sys;
    if (all || !dev->n_ports) {
        dev->ports = prev->ports;
        dev->n_ports = prev->n_ports;
        for (size_t i = 0; i < dev->n_ports; i++)
            dev->ports[i].has_rates = false;
    }
    if (all || !dev->n_neighbors) {
        dev->neighbors = prev->neighbors;
        dev->n_neighbors = prev->n_neighbors;
    }
    if (all || !dev->n_hosts) {
        dev->hosts = prev->hosts;
        dev->n_hosts = prev->n_hosts;
    }
    if (all || !dev->n_sensors) {
        dev->sensors = prev->sensors;
        dev->n_sensors = prev->n_sensors;
    }
    if (all || !dev->n_addresses) {
        dev->addresses = prev->addresses;
        dev->n_addresses = prev->n_addresses;
    }
    prev->n_ports = prev->n_neighbors = prev->n_hosts = prev->n_sensors = 0;
    prev->n_addresses = prev->n_problems = 0;
}

typedef struct run_ctx {
    na_snmp_poller *p;
    size_t *map;                    /* collect index -> target index */
    int rc;
    na_error *err;
} run_ctx;

static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* One device done: keep or reuse its topology tables, interpret, rates, replace the state. */
static int on_done(size_t index, na_snmp_store *store, const na_snmp_collect_info *info,
                   void *ud)
{
    run_ctx *ctx = ud;
    target_state *ts = &ctx->p->t[ctx->map[index]];
    na_snmp_device *dev = NULL;
    char tgt[300];
    int rc = NA_OK;

    if (ts->topology_now && info->reachable) {
        na_snmp_store *keep = NULL;
        if ((rc = na__snmp_store_new(&keep, ctx->err)))
            goto out;
        /* the store is sorted: each table is one range of it */
        for (size_t k = 0; k < sizeof(topo_prefixes) / sizeof(topo_prefixes[0]); k++) {
            size_t first, n = na__snmp_store_subtree(store, topo_prefixes[k].oid,
                                                     topo_prefixes[k].len, &first);
            for (size_t i = first; i < first + n && rc == NA_OK; i++)
                rc = copy_vb(keep, &store->vbs[i]) == NA_ENOMEM ? NA_ENOMEM : NA_OK;
        }
        na__snmp_store_finish(keep);
        na__snmp_store_free(ts->topo_store);
        ts->topo_store = keep;
    } else if (ts->topo_store) {
        /* status-only: the last topology tables stand in (the new varbinds come first, so
         * they win over any overlap) */
        for (size_t i = 0; i < ts->topo_store->n && rc == NA_OK; i++)
            rc = copy_vb(store, &ts->topo_store->vbs[i]) == NA_ENOMEM ? NA_ENOMEM : NA_OK;
        na__snmp_store_finish(store);
    }
    if (rc)
        goto out;
    if (ts->target.port && ts->target.port != 161)
        snprintf(tgt, sizeof(tgt), "%s:%u", ts->target.host, (unsigned)ts->target.port);
    else
        snprintf(tgt, sizeof(tgt), "%s", ts->target.host);
    if ((rc = na__snmp_device_new(&dev, ctx->err)) ||
        (rc = na__snmp_interpret(store, info, tgt, dev, ctx->err)))
        goto out;
    if (is_ip_literal(ts->target.host) &&
        !(dev->mgmt_ip = na__arena_strdup(&dev->arena, ts->target.host))) {
        rc = NA_ENOMEM;
        goto out;
    }
    if (ts->dev && dev->reachable)
        na__snmp_rates(ts->dev, dev);
    if (ts->dev && (!dev->reachable || info->reason))
        keep_last_known(dev, ts->dev);
    na__snmp_device_free(ts->dev);
    ts->dev = dev;
    dev = NULL;
out:
    na__snmp_device_free(dev);
    na__snmp_store_free(store);
    if (rc && !ctx->rc) {
        ctx->rc = rc;
        if (rc == NA_ENOMEM)
            na_error_set(ctx->err, NA_ENOMEM, "snmp: out of memory");
    }
    return rc ? 1 : 0;
}

/* Polls the targets marked due (polled_now). */
static int collect_due(na_snmp_poller *p, const volatile int *stop, na_error *err)
{
    na_snmp_collect_opts opts = {.max_in_flight = p->cfg->max_in_flight, .stop = stop};
    na_snmp_target *targets = calloc(p->n ? p->n : 1, sizeof(*targets));
    size_t *map = calloc(p->n ? p->n : 1, sizeof(*map)), n = 0;
    run_ctx ctx = {.p = p, .map = map, .err = err};
    int rc;

    if (!targets || !map) {
        free(targets);
        free(map);
        return na_error_set(err, NA_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < p->n; i++) {
        if (!p->t[i].polled_now)
            continue;
        targets[n] = p->t[i].target;
        targets[n].want = NA_SNMP_WANT_STATUS;
        if (p->t[i].topology_now)
            targets[n].want |= NA_SNMP_WANT_NEIGHBORS | NA_SNMP_WANT_HOSTS |
                               NA_SNMP_WANT_ADDRESSES;
        map[n++] = i;
    }
    rc = n ? na__snmp_collect(targets, n, &opts, on_done, &ctx, err) : NA_OK;
    if (!rc)
        rc = ctx.rc;
    free(targets);
    free(map);
    return rc;
}

int na__snmp_node_id(na_snmp_device *const *devs, size_t i, const char *want,
                     const char *alt, na_error *err)
{
    char buf[600];
    const char *id = want;

    for (unsigned k = 1; k < 100000; k++) {
        bool used = false;
        for (size_t j = 0; j < i && !used; j++)
            used = devs[j]->node_id && strcmp(devs[j]->node_id, id) == 0;
        if (!used)
            break;
        /* clashes: want@alt first (a readable tell-apart), then numbered */
        if (k == 1 && alt)
            snprintf(buf, sizeof(buf), "%s@%s", want, alt);
        else
            snprintf(buf, sizeof(buf), "%s#%u", want, k);
        id = buf;
    }
    if (!(devs[i]->node_id = na__arena_strdup(&devs[i]->arena, id)))
        return na_error_set(err, NA_ENOMEM, "out of memory");
    return NA_OK;
}

/* node ids: configured name, else sysName, else host; a clash gets "@host[:port]", then "#k". */
static int assign_ids(na_snmp_poller *p, na_error *err)
{
    size_t n = 0;

    for (size_t i = 0; i < p->n; i++) {
        target_state *ts = &p->t[i];
        na_snmp_device *dev = ts->dev;
        char alt[300];
        int rc;
        if (!dev)
            continue;
        if (ts->target.port && ts->target.port != 161)
            snprintf(alt, sizeof(alt), "%s:%u", ts->target.host, (unsigned)ts->target.port);
        else
            snprintf(alt, sizeof(alt), "%s", ts->target.host);
        dev->node_id = NULL;
        p->view[n] = dev;
        rc = na__snmp_node_id(p->view, n, ts->dc.name ? ts->dc.name
                                          : dev->sys.name && *dev->sys.name ? dev->sys.name
                                          : ts->target.host, alt, err);
        if (rc)
            return rc;
        n++;
    }
    return NA_OK;
}

static int locate_all(na_snmp_poller *p, na_error *err)
{
    for (size_t i = 0; i < p->n; i++) {
        target_state *ts = &p->t[i];
        na_snmp_device *dev = ts->dev;
        na_geo_result g;
        double coords[2] = {ts->dc.latitude, ts->dc.longitude};
        if (!dev)
            continue;
        na__geo_locate(p->geo, ts->dc.site, ts->dc.has_coords ? coords : NULL, dev->mgmt_ip,
                       dev->sys.location, &g);
        dev->site = g.site ? na__arena_strdup(&dev->arena, g.site) : NULL;
        dev->geo_source = g.source ? na__arena_strdup(&dev->arena, g.source) : NULL;
        dev->has_coords = g.has_coords;
        dev->latitude = g.has_coords ? g.latitude : NAN;
        dev->longitude = g.has_coords ? g.longitude : NAN;
        if ((g.site && !dev->site) || (g.source && !dev->geo_source))
            return na_error_set(err, NA_ENOMEM, "out of memory");
    }
    return NA_OK;
}

/*
 * The network of every device's latest state, compared with `prev` (the previous run's: all
 * crawl rounds of a run compare with it, so a kept link ages by one per run, not per round).
 * Replaces p->net; the old one is freed unless it is prev.
 */
static int build_network(na_snmp_poller *p, const na_snmp_network *prev, na_error *err)
{
    na_snmp_network *net = NULL;
    size_t n = 0;
    int rc;

    if ((rc = assign_ids(p, err)) || (rc = locate_all(p, err)))
        return rc;
    for (size_t i = 0; i < p->n; i++)
        if (p->t[i].dev)
            p->view[n++] = p->t[i].dev;
    if ((rc = na__snmp_network_build(p->view, n, prev, &net, err)))
        return rc;
    if (p->net != prev)
        na__snmp_network_free(p->net);
    p->net = net;
    return NA_OK;
}

/* The topology of the devices and network as they stand after the run's last round. */
static int build_topology(na_snmp_poller *p, na_error *err)
{
    na_topology *topo = NULL;
    size_t n = 0;
    int rc;

    for (size_t i = 0; i < p->n; i++)
        if (p->t[i].dev)
            n++;
    if ((rc = na__snmp_topology(p->view, n, p->net, &topo, err)))
        return rc;
    na_topology_unref(p->topo);
    p->topo = topo;
    return NA_OK;
}

/* Adds neighbours' management addresses inside the allowed subnets as crawled targets. */
static size_t add_crawled(na_snmp_poller *p, na_error *err)
{
    size_t added = 0, crawled = 0;

    for (size_t i = 0; i < p->n; i++)
        crawled += p->t[i].crawled;
    for (size_t c = 0; p->net && c < p->net->n_crawl && crawled < p->cfg->crawl_max; c++) {
        const char *ip = p->net->crawl[c];
        na_snmp_device_config dc;
        na_geo_result g;
        bool known = false;
        for (size_t i = 0; i < p->n && !known; i++)
            known = strcmp(p->t[i].target.host, ip) == 0;
        if (known)
            continue;
        na__geo_locate(p->crawl_geo, NULL, NULL, ip, NULL, &g);
        if (!g.site)
            continue;
        memset(&dc, 0, sizeof(dc));
        dc.retries = -1;
        if (!(dc.host = na__arena_strdup(&p->arena, ip)) || add_target(p, &dc, true, err))
            break;
        p->t[p->n - 1].polled_now = p->t[p->n - 1].topology_now = true;
        na_log(NA_LOG_INFO, "snmp: crawl: adding %s (a neighbour's management address)", ip);
        added++;
        crawled++;
    }
    return added;
}

int na__snmp_poller_run(na_snmp_poller *p, na_time_ms now, bool force, const volatile int *stop,
                        na_snmp_poll_result *out, na_error *err)
{
    const na_snmp_config *cfg = p->cfg;
    na_snmp_network *start;
    int rc;

    memset(out, 0, sizeof(*out));
    out->started_at = na_time_now();
    for (size_t i = 0; i < p->n; i++) {
        target_state *ts = &p->t[i];
        int64_t ival = ts->dc.interval_ms ? ts->dc.interval_ms : cfg->interval_ms;
        int64_t tival = ts->dc.topology_interval_ms ? ts->dc.topology_interval_ms
                                                    : cfg->topology_interval_ms;
        ts->topology_now = force || now >= ts->next_topology;
        ts->polled_now = ts->topology_now || now >= ts->next_status;
        if (ts->polled_now)
            ts->next_status = now + ival;
        if (ts->topology_now)
            ts->next_topology = now + tival;
        out->topology_polled |= ts->topology_now;
    }
    start = p->net;
    rc = collect_due(p, stop, err);
    if (!rc)
        rc = build_network(p, start, err);
    /* Crawling: each round polls what the previous one discovered. */
    while (!rc && cfg->crawl && !(stop && *stop)) {
        size_t before = p->n;
        for (size_t i = 0; i < p->n; i++)
            p->t[i].polled_now = p->t[i].topology_now = false;
        if (add_crawled(p, err) == 0)
            break;
        for (size_t i = before; i < p->n; i++) {
            p->t[i].next_status = now + cfg->interval_ms;
            p->t[i].next_topology = now + cfg->topology_interval_ms;
        }
        if (!(rc = collect_due(p, stop, err)))
            rc = build_network(p, start, err);
    }
    if (!rc)
        rc = build_topology(p, err);
    if (start != p->net)
        na__snmp_network_free(start);
    if (rc)
        return rc;
    for (size_t i = 0; i < p->n; i++) {
        const na_snmp_device *dev = p->t[i].dev;
        if (!dev || dev->polled_at < out->started_at)
            continue;
        out->n_polled++;
        out->n_unreachable += !dev->reachable;
    }
    out->devices = p->view;
    out->n_devices = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->t[i].dev)
            out->n_devices++;
    out->net = p->net;
    out->topo = p->topo;
    out->finished_at = na_time_now();
    return NA_OK;
}

/* ---- JSON of a whole poll ---------------------------------------------------------------- */

json_t *na__snmp_network_json(const na_snmp_network *net, json_t **stubs_out)
{
    json_t *links = json_array(), *stubs = json_array();

    for (size_t i = 0; net && i < net->n_links; i++) {
        const na_snmp_link *l = &net->links[i];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(l->id));
        json_object_set_new(o, "a", json_string(l->a));
        json_object_set_new(o, "b", json_string(l->b));
        json_object_set_new(o, "a_port", na_json_str(l->a_port));
        json_object_set_new(o, "b_port", na_json_str(l->b_port));
        json_object_set_new(o, "a_ifIndex",
                            l->a_if_index >= 0 ? json_integer(l->a_if_index) : json_null());
        json_object_set_new(o, "b_ifIndex",
                            l->b_if_index >= 0 ? json_integer(l->b_if_index) : json_null());
        json_object_set_new(o, "status", json_string(l->up ? "up" : "down"));
        json_object_set_new(o, "speed",
                            l->speed_bps ? json_integer((json_int_t)l->speed_bps) : json_null());
        json_object_set_new(o, "protocol", na_json_str(l->protocol));
        json_object_set_new(o, "stub", json_boolean(l->stub));
        json_array_append_new(links, o);
    }
    for (size_t i = 0; net && i < net->n_stubs; i++) {
        const na_snmp_stub *s = &net->stubs[i];
        json_array_append_new(stubs, json_pack("{s:s, s:o, s:o, s:o, s:o}", "id", s->id,
                                               "sysName", na_json_str(s->sysname),
                                               "chassis_id", na_json_str(s->chassis_id),
                                               "mgmt_ip", na_json_str(s->mgmt_ip),
                                               "platform", na_json_str(s->platform)));
    }
    *stubs_out = stubs;
    return links;
}

json_t *na__snmp_poll_json(na_snmp_device *const *devs, size_t n, const na_snmp_network *net)
{
    json_t *doc = json_object(), *arr = json_array(), *stubs = NULL, *links;
    size_t up = 0, ports = 0, neighbors = 0, hosts = 0, sensors = 0;

    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, na__snmp_device_json(devs[i]));
        up += devs[i]->reachable;
        ports += devs[i]->n_ports;
        neighbors += devs[i]->n_neighbors;
        hosts += devs[i]->n_hosts;
        sensors += devs[i]->n_sensors;
    }
    links = na__snmp_network_json(net, &stubs);
    json_object_set_new(doc, "devices", arr);
    json_object_set_new(doc, "links", links);
    json_object_set_new(doc, "stubs", stubs);
    json_object_set_new(doc, "summary",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "devices",
                                  (json_int_t)n, "reachable", (json_int_t)up, "ports",
                                  (json_int_t)ports, "neighbors", (json_int_t)neighbors, "hosts",
                                  (json_int_t)hosts, "sensors", (json_int_t)sensors, "links",
                                  (json_int_t)(net ? net->n_links : 0), "stubs",
                                  (json_int_t)(net ? net->n_stubs : 0)));
    return doc;
}
