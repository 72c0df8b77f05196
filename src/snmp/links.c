/*
 * links.c: from polled devices to a network. Every LLDP / CDP neighbour entry of a reachable
 * device is resolved to the device at the other end and the port there; the two ends' reports
 * of one cable become one link; neighbours nobody polled become stubs (and their management
 * addresses the crawl list); the previous network keeps a link whose neighbour entry vanished
 * because its port went down. na__snmp_topology turns devices and network into a snapshot.
 */
#include "snmp/snmp.h"
#include "core/text.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/idmap.h"

#define AMBIGUOUS SIZE_MAX /* a key two devices claim: useless for resolving */
#define NONE SIZE_MAX

enum {
    MAX_KEY = 512,          /* identifiers longer than this are not indexed (nor matched) */
    F_NAME = 1, F_DESCR = 2, F_ALIAS = 4,
};

/* One end of a candidate link. Strings are borrowed from the devices, prev or the network. */
typedef struct lend {
    const char *node;   /* node id: a device's, or a stub's ("stub:...") */
    size_t dev;         /* device index; NONE for a stub */
    int64_t if_index;   /* -1 unresolved */
    const char *name;   /* the resolved port's name, else the neighbour's text; NULL none */
    const char *pid;    /* the LLDP port id this port was seen with; NULL none or CDP (whose
                           local id is an ifIndex and remote id a name: not comparable) */
} lend;

typedef struct cand {
    lend e[2];
    const char *protocol;
    bool stub;          /* e[1] is a stub */
    bool kept;          /* from prev: neighbour gone, port down */
    uint64_t kept_speed;
    unsigned missing;   /* kept: polls in a row nobody reported it */
    size_t next;        /* next candidate between the same two nodes, NONE */
} cand;

typedef struct build {
    na_snmp_device *const *devs;
    size_t n;
    na_snmp_network *net;   /* strings that outlive the build go to net->arena */
    na__arena scratch;      /* keys */
    na__idmap devkeys;      /* "m:mac" "c:chassis" "i:ip" "n:name" "s:short" -> device */
    na__idmap nodes;        /* node id -> device */
    na__idmap pairs;        /* "a\x1fb" (a <= b) -> first candidate */
    na__idmap stubkeys;     /* "n:name" "c:chassis" "id:stub:..." -> stub */
    na__idmap crawled;      /* canonical IP -> 1 */
    cand *cands;
    size_t n_cands, cap_cands;
    na_snmp_stub *stubs;
    size_t n_stubs, cap_stubs;
    const char **crawl;
    size_t n_crawl, cap_crawl;
    na_error *err;
} build;

/* ---- small helpers -------------------------------------------------------------------------- */

static bool blank(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * A MAC address as agents and our formatter write it: six groups of 1-2 hex digits separated
 * by ':' '-' or ' ', Cisco's three groups of four ("aabb.ccdd.eeff"), or twelve hex digits.
 */
static bool mac_parse(const char *s, uint8_t mac[6])
{
    unsigned groups[12], widths[12];
    size_t n = 0, len = s ? strnlen(s, 32) : 0;
    unsigned v = 0, w = 0;

    if (len == 0 || len >= 32)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? s[i] : ':';
        int h = na__hex_digit(c);
        if (h >= 0) {
            if (++w > 12)
                return false;
            v = w <= 4 ? (v << 4) | (unsigned)h : v;
            continue;
        }
        if (c != ':' && c != '-' && c != '.' && c != ' ')
            return false;
        if (w == 0 || n == 12)
            return false;
        groups[n] = v;
        widths[n++] = w;
        v = w = 0;
    }
    if (n == 6) {
        for (size_t k = 0; k < 6; k++) {
            if (widths[k] > 2)
                return false;
            mac[k] = (uint8_t)groups[k];
        }
        return true;
    }
    if (n == 3) {
        for (size_t k = 0; k < 3; k++) {
            if (widths[k] != 4)
                return false;
            mac[2 * k] = (uint8_t)(groups[k] >> 8);
            mac[2 * k + 1] = (uint8_t)groups[k];
        }
        return true;
    }
    if (n == 1 && widths[0] == 12) {
        for (size_t k = 0; k < 6; k++)
            mac[k] = (uint8_t)(na__hex_digit(s[2 * k]) << 4 | na__hex_digit(s[2 * k + 1]));
        return true;
    }
    return false;
}

/* Whether a MAC identifies one station: not all-zero, not multicast / broadcast. */
static bool mac_usable(const uint8_t *mac)
{
    static const uint8_t zero[6];
    return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

/* "k:" + lowercased s into buf; false when s is blank or too long to index. */
static bool key_make(char *buf, const char *kind, const char *s)
{
    size_t kl = strlen(kind), len;

    if (blank(s))
        return false;
    len = strnlen(s, MAX_KEY);
    if (kl + len + 1 >= MAX_KEY)
        return false;
    memcpy(buf, kind, kl);
    for (size_t i = 0; i < len; i++)
        buf[kl + i] = lower(s[i]);
    buf[kl + len] = '\0';
    return true;
}

static void mac_key(char *buf, const uint8_t *mac)
{
    char text[18];

    snprintf(buf, MAX_KEY, "m:%s", na__snmp_mac_format(mac, text));
}

static bool ip_key(char *buf, const char *ip, na_ip_scope *scope)
{
    char canon[64];

    if (!na__ip_canon(ip, canon, sizeof(canon), scope))
        return false;
    snprintf(buf, MAX_KEY, "i:%s", canon);
    return true;
}

/* Maps key to dev; a key another device already has becomes AMBIGUOUS. */
static int claim(build *b, na__idmap *m, const char *key, size_t dev)
{
    size_t v;
    char *copy;

    if (na__idmap_get(m, key, &v)) {
        if (v != dev && v != AMBIGUOUS)
            return na__idmap_put(m, key, AMBIGUOUS); /* the stored key is kept */
        return NA_OK;
    }
    if (!(copy = na__arena_strdup(&b->scratch, key)))
        return NA_ENOMEM;
    return na__idmap_put(m, copy, dev);
}

static size_t lookup(const na__idmap *m, const char *key)
{
    size_t v;
    return na__idmap_get(m, key, &v) && v != AMBIGUOUS ? v : NONE;
}

/* The host part of a DNS name ("sw1" of "sw1.example.net") when it could be a name: not for
 * IP literals and not when all digits ("10" of "10.1.1.1"). NULL otherwise. */
static const char *short_name(const char *name, char *buf, size_t cap)
{
    char ip[64];
    const char *dot = strchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : 0;
    bool digits = true;

    if (!dot || len == 0 || len >= cap || na__ip_canon(name, ip, sizeof(ip), NULL))
        return NULL;
    for (size_t i = 0; i < len; i++)
        digits = digits && name[i] >= '0' && name[i] <= '9';
    if (digits)
        return NULL;
    memcpy(buf, name, len);
    buf[len] = '\0';
    return buf;
}

/* ---- device index ----------------------------------------------------------------------------- */

static int index_name(build *b, const char *name, size_t dev)
{
    char key[MAX_KEY], sbuf[MAX_KEY];
    const char *s;
    int rc = NA_OK;

    if (key_make(key, "n:", name))
        rc = claim(b, &b->devkeys, key, dev);
    if (rc == NA_OK && name && (s = short_name(name, sbuf, sizeof(sbuf))) && key_make(key, "s:", s))
        rc = claim(b, &b->devkeys, key, dev);
    return rc;
}

static int index_ip(build *b, const char *ip, size_t dev)
{
    char key[MAX_KEY];
    return ip && ip_key(key, ip, NULL) ? claim(b, &b->devkeys, key, dev) : NA_OK;
}

static int index_mac(build *b, const uint8_t *mac, size_t dev)
{
    char key[MAX_KEY];

    if (!mac || !mac_usable(mac))
        return NA_OK;
    mac_key(key, mac);
    return claim(b, &b->devkeys, key, dev);
}

static int index_device(build *b, size_t i)
{
    const na_snmp_device *d = b->devs[i];
    char key[MAX_KEY];
    size_t other;
    int rc;

    if (!d->node_id || !d->node_id[0])
        return na_error_set(b->err, NA_EINVAL, "snmp: device %zu (%s) has no node id", i,
                            d->target ? d->target : "?");
    if (na__idmap_get(&b->nodes, d->node_id, &other))
        return na_error_set(b->err, NA_EINVAL, "snmp: node id '%s' is used by two devices",
                            d->node_id);
    if ((rc = na__idmap_put(&b->nodes, d->node_id, i)) != NA_OK)
        return rc;
    if ((rc = index_name(b, d->node_id, i)) != NA_OK || (rc = index_name(b, d->sys.name, i)) ||
        (rc = index_mac(b, d->sys.chassis_mac, i)) || (rc = index_ip(b, d->mgmt_ip, i)))
        return rc;
    if (key_make(key, "c:", d->sys.chassis_id) && (rc = claim(b, &b->devkeys, key, i)))
        return rc;
    for (size_t k = 0; k < d->n_ports; k++)
        if (d->ports[k].has_mac && (rc = index_mac(b, d->ports[k].mac, i)))
            return rc;
    for (size_t k = 0; k < d->n_addresses; k++)
        if ((rc = index_ip(b, d->addresses[k], i)))
            return rc;
    return NA_OK;
}

/* A neighbour's name against device names: as sent, then without CDP's "(serial)" suffix,
 * then by host part (unique ones only). */
static size_t device_by_name(const build *b, const char *name)
{
    char key[MAX_KEY], buf[MAX_KEY], sbuf[MAX_KEY];
    const char *paren, *s;
    size_t d;

    if (blank(name))
        return NONE;
    if (key_make(key, "n:", name) && (d = lookup(&b->devkeys, key)) != NONE)
        return d;
    paren = strchr(name, '(');
    if (paren && paren > name && name[strlen(name) - 1] == ')' &&
        (size_t)(paren - name) < sizeof(buf)) {
        memcpy(buf, name, (size_t)(paren - name));
        buf[paren - name] = '\0';
        return device_by_name(b, buf);
    }
    s = short_name(name, sbuf, sizeof(sbuf));
    if (s && key_make(key, "n:", s) && (d = lookup(&b->devkeys, key)) != NONE)
        return d;
    if (key_make(key, "s:", s ? s : name))
        return lookup(&b->devkeys, key);
    return NONE;
}

/*
 * The polled device a neighbour entry describes: by chassis id as its subtype says (4: a MAC,
 * the chassis' or any port's; 5: a network address, the polled or any own address; others:
 * the chassis id text), then the advertised management address, then the name.
 */
static size_t device_of(const build *b, const na_snmp_neighbor *nb)
{
    char key[MAX_KEY];
    uint8_t mac[6];
    size_t d;

    if (!blank(nb->remote_chassis_id)) {
        if (nb->chassis_subtype == 4 && mac_parse(nb->remote_chassis_id, mac)) {
            mac_key(key, mac);
            if ((d = lookup(&b->devkeys, key)) != NONE)
                return d;
        }
        if (nb->chassis_subtype == 5 && ip_key(key, nb->remote_chassis_id, NULL) &&
            (d = lookup(&b->devkeys, key)) != NONE)
            return d;
        if (key_make(key, "c:", nb->remote_chassis_id) && (d = lookup(&b->devkeys, key)) != NONE)
            return d;
    }
    if (nb->remote_mgmt_ip && ip_key(key, nb->remote_mgmt_ip, NULL) &&
        (d = lookup(&b->devkeys, key)) != NONE)
        return d;
    if ((d = device_by_name(b, nb->remote_sysname)) != NONE)
        return d;
    /* CDP's device id is the name; sysName may not have been filled from it */
    if (nb->chassis_subtype == 0 && blank(nb->remote_sysname))
        return device_by_name(b, nb->remote_chassis_id);
    return NONE;
}

/* ---- ports ------------------------------------------------------------------------------------ */

/* The index of the port with this ifIndex in d->ports, or -1 (na__snmp_port_find). */
static long port_by_ifindex(const na_snmp_device *d, int64_t if_index)
{
    const na_snmp_port *p = if_index >= 0 ? na__snmp_port_find(d, if_index) : NULL;

    return p ? (long)(p - d->ports) : -1;
}

/* The one port whose `field` equals t (ignoring case); -1 when none or several. */
static long port_by_text(const na_snmp_device *d, const char *t, unsigned field)
{
    long found = -1;

    if (blank(t))
        return -1;
    for (size_t k = 0; k < d->n_ports; k++) {
        const na_snmp_port *p = &d->ports[k];
        const char *v = field == F_NAME ? p->name : field == F_DESCR ? p->descr : p->alias;
        if (!v || strcasecmp(v, t) != 0)
            continue;
        if (found >= 0)
            return -1;
        found = (long)k;
    }
    return found;
}

/* Tries each field in order; the first with exactly one match wins. */
static long port_by_fields(const na_snmp_device *d, const char *t, const unsigned *fields,
                           size_t n)
{
    long p = -1;
    for (size_t k = 0; k < n && p < 0; k++)
        p = port_by_text(d, t, fields[k]);
    return p;
}

static long port_by_mac(const na_snmp_device *d, const char *t)
{
    uint8_t mac[6];
    long found = -1;

    if (!t || !mac_parse(t, mac))
        return -1;
    for (size_t k = 0; k < d->n_ports; k++) {
        if (!d->ports[k].has_mac || memcmp(d->ports[k].mac, mac, 6) != 0)
            continue;
        if (found >= 0)
            return -1; /* routers often share one MAC over all ports */
        found = (long)k;
    }
    return found;
}

/*
 * Splits an interface name into its type word and the rest from the first digit, spaces
 * dropped and lowercased: "GigabitEthernet 1/0/1" -> "gigabitethernet", "1/0/1".
 */
static bool if_split(const char *s, char *type, size_t tcap, char *rest, size_t rcap)
{
    size_t t = 0, r = 0;
    bool in_rest = false;

    for (; *s; s++) {
        char c = lower(*s);
        if (c == ' ')
            continue;
        if (c >= '0' && c <= '9')
            in_rest = true;
        if (in_rest) {
            if (r + 1 >= rcap)
                return false;
            rest[r++] = c;
        } else {
            if (t + 1 >= tcap)
                return false;
            type[t++] = c;
        }
    }
    type[t] = rest[r] = '\0';
    return t > 0 && r > 0;
}

/*
 * Whether two interface names are the same interface written long and short, as CDP and IOS
 * do ("GigabitEthernet1/0/1", "Gi1/0/1", "Gig1/0/1"): same numbers, and one type word a prefix
 * (of two letters or more) of the other, or a known irregular short form.
 */
static bool if_abbrev_equal(const char *x, const char *y)
{
    static const char *const irregular[][2] = {
        {"be", "bundle-ether"}, {"twe", "twentyfivegige"}, {"tf", "twentyfivegige"},
        {"fh", "fourhundredgige"}, {"mgmt", "management"},
    };
    char xt[48], xr[64], yt[48], yr[64];
    size_t xl, yl;

    if (!x || !y || !if_split(x, xt, sizeof(xt), xr, sizeof(xr)) ||
        !if_split(y, yt, sizeof(yt), yr, sizeof(yr)) || strcmp(xr, yr) != 0)
        return false;
    xl = strlen(xt);
    yl = strlen(yt);
    if (xl > yl)
        return if_abbrev_equal(y, x); /* x: the shorter type word */
    if (strcmp(xt, yt) == 0)
        return true;
    for (size_t k = 0; k < sizeof(irregular) / sizeof(irregular[0]); k++)
        if (strcmp(xt, irregular[k][0]) == 0 && strcmp(yt, irregular[k][1]) == 0)
            return true;
    return xl >= 2 && strncmp(xt, yt, xl) == 0;
}

static long port_by_abbrev(const na_snmp_device *d, const char *t)
{
    long found = -1;

    if (blank(t))
        return -1;
    for (size_t k = 0; k < d->n_ports; k++) {
        const na_snmp_port *p = &d->ports[k];
        if (!if_abbrev_equal(p->name, t) && !if_abbrev_equal(p->descr, t))
            continue;
        if (found >= 0)
            return -1;
        found = (long)k;
    }
    return found;
}

static bool all_digits(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/*
 * The port of device d a neighbour entry names: by port id subtype (5 interfaceName: ifName;
 * 1 interfaceAlias: ifAlias; 3 macAddress: the port's MAC; 7 local: an ifIndex when numeric,
 * else a name; others and CDP: ifName / ifDescr), then lldpRemPortDesc against ifDescr, ifName,
 * ifAlias, then the port id as a MAC, then long / short interface names. -1 when unresolved.
 */
static long remote_port(const na_snmp_device *d, const na_snmp_neighbor *nb)
{
    static const unsigned name_descr[] = {F_NAME, F_DESCR};
    static const unsigned alias[] = {F_ALIAS};
    static const unsigned by_descr[] = {F_DESCR, F_NAME, F_ALIAS};
    const char *t = nb->remote_port;
    long p = -1;

    switch (nb->port_subtype) {
    case 1:
        p = port_by_fields(d, t, alias, 1);
        break;
    case 3:
        p = port_by_mac(d, t);
        break;
    case 7:
        if (all_digits(t) && strlen(t) <= 10)
            p = port_by_ifindex(d, strtoll(t, NULL, 10));
        if (p < 0)
            p = port_by_fields(d, t, name_descr, 2);
        break;
    default: /* 5 interfaceName, 2 portComponent, 4 networkAddress, 6 circuit id, CDP */
        p = port_by_fields(d, t, name_descr, 2);
        break;
    }
    if (p < 0)
        p = port_by_fields(d, nb->remote_port_descr, by_descr, 3);
    if (p < 0 && nb->port_subtype != 3)
        p = port_by_mac(d, t);
    if (p < 0)
        p = port_by_abbrev(d, t);
    if (p < 0)
        p = port_by_abbrev(d, nb->remote_port_descr);
    return p;
}

/* A port's display name: ifName, else ifDescr, else ifAlias, else "ifIndex N" (in scratch). */
static const char *port_label(build *b, const na_snmp_port *p)
{
    char buf[40];

    if (!blank(p->name))
        return p->name;
    if (!blank(p->descr))
        return p->descr;
    if (!blank(p->alias))
        return p->alias;
    snprintf(buf, sizeof(buf), "ifIndex %" PRId64, p->if_index);
    return na__arena_strdup(&b->scratch, buf);
}

static const char *first_text(const char *a, const char *b)
{
    return !blank(a) ? a : !blank(b) ? b : NULL;
}

/* ---- stubs and crawl -------------------------------------------------------------------------- */

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    void *p;
    size_t c;

    if (n < *cap)
        return NA_OK;
    c = *cap ? *cap * 2 : 16;
    if (!(p = realloc(*arr, c * size)))
        return NA_ENOMEM;
    *arr = p;
    *cap = c;
    return NA_OK;
}

static int set_text(build *b, const char **dst, const char *src)
{
    if (*dst || blank(src))
        return NA_OK;
    return (*dst = na__arena_strdup(&b->net->arena, src)) ? NA_OK : NA_ENOMEM;
}

static int stub_keys(build *b, size_t s)
{
    const na_snmp_stub *st = &b->stubs[s];
    char key[MAX_KEY];
    size_t other;
    int rc = NA_OK;

    /* a name or chassis id two stubs share names neither */
    if (key_make(key, "n:", st->sysname))
        rc = claim(b, &b->stubkeys, key, s);
    if (rc == NA_OK && key_make(key, "c:", st->chassis_id))
        rc = claim(b, &b->stubkeys, key, s);
    if (rc == NA_OK && !na__idmap_get(&b->stubkeys, st->id, &other))
        rc = na__idmap_put(&b->stubkeys, st->id, s);
    return rc;
}

/* Adds a stub with the given id and fields (copied); *out its index. An existing id is reused. */
static int stub_add(build *b, const char *id, const char *sysname, const char *chassis,
                    const char *mgmt, const char *platform, size_t *out)
{
    na_snmp_stub *st;
    int rc;

    if (na__idmap_get(&b->stubkeys, id, out))
        goto fill;
    if ((rc = grow((void **)&b->stubs, &b->cap_stubs, b->n_stubs, sizeof(*b->stubs))))
        return rc;
    st = &b->stubs[b->n_stubs];
    memset(st, 0, sizeof(*st));
    if (!(st->id = na__arena_strdup(&b->net->arena, id)))
        return NA_ENOMEM;
    *out = b->n_stubs++;
fill:
    st = &b->stubs[*out];
    if ((rc = set_text(b, &st->sysname, sysname)) || (rc = set_text(b, &st->chassis_id, chassis)) ||
        (rc = set_text(b, &st->mgmt_ip, mgmt)) || (rc = set_text(b, &st->platform, platform)))
        return rc;
    return stub_keys(b, *out);
}

/*
 * The stub for an unmatched neighbour: the one already seen with this chassis id, else with this
 * name (unless the two chassis ids differ: default names like "switch" are common), else a new
 * "stub:<sysName>" (else chassis id, else management address; "stub:<sysName>@<chassis id>"
 * when another device has the name). *out = NONE when the entry names nothing at all.
 */
static int stub_for(build *b, const na_snmp_neighbor *nb, size_t *out)
{
    char key[MAX_KEY], ip[64];
    const char *what, *chassis = nb->remote_chassis_id;
    char *id;
    size_t s = NONE, t, len, base, dup;

    /* CDP's device id is usually the name: not a chassis id for a later LLDP sighting to fill */
    if (nb->chassis_subtype == 0 && chassis && nb->remote_sysname &&
        strcasecmp(chassis, nb->remote_sysname) == 0)
        chassis = NULL;
    if (blank(chassis))
        chassis = NULL;
    if (chassis && key_make(key, "c:", chassis))
        s = lookup(&b->stubkeys, key);
    if (s == NONE && key_make(key, "n:", nb->remote_sysname) &&
        (t = lookup(&b->stubkeys, key)) != NONE && (!chassis || !b->stubs[t].chassis_id))
        s = t;
    if (s != NONE)
        return stub_add(b, b->stubs[s].id, nb->remote_sysname, chassis, nb->remote_mgmt_ip,
                        nb->remote_platform, out);
    what = first_text(nb->remote_sysname, chassis);
    if (!what)
        what = na__ip_canon(nb->remote_mgmt_ip, ip, sizeof(ip), NULL);
    if (!what) {
        *out = NONE;
        return NA_OK;
    }
    len = strnlen(what, MAX_KEY) + (chassis ? strnlen(chassis, MAX_KEY) : 0) + 32;
    if (!(id = na__arena_alloc(&b->scratch, len)))
        return NA_ENOMEM;
    snprintf(id, len, "stub:%.*s", MAX_KEY, what);
    if (na__idmap_get(&b->stubkeys, id, &dup) && chassis && what != chassis)
        snprintf(id, len, "stub:%.*s@%.*s", MAX_KEY, what, MAX_KEY, chassis);
    base = strlen(id);
    for (size_t n = 2; na__idmap_get(&b->stubkeys, id, &dup); n++)
        snprintf(id + base, len - base, "#%zu", n);
    return stub_add(b, id, nb->remote_sysname, chassis, nb->remote_mgmt_ip, nb->remote_platform,
                    out);
}

/* An unmatched neighbour's management address, when usable and new, goes on the crawl list. */
static int crawl_add(build *b, const char *ip)
{
    char key[MAX_KEY];
    na_ip_scope scope;
    const char *copy;
    size_t v;
    int rc;

    if (!ip || !ip_key(key, ip, &scope) || (scope != NA_IP_PUBLIC && scope != NA_IP_PRIVATE))
        return NA_OK;
    if (na__idmap_get(&b->devkeys, key, &v) || na__idmap_get(&b->crawled, key + 2, &v))
        return NA_OK;
    if ((rc = grow((void **)&b->crawl, &b->cap_crawl, b->n_crawl, sizeof(*b->crawl))))
        return rc;
    if (!(copy = na__arena_strdup(&b->net->arena, key + 2)))
        return NA_ENOMEM;
    b->crawl[b->n_crawl++] = copy;
    return na__idmap_put(&b->crawled, copy, 1);
}

/* ---- candidates and merging ------------------------------------------------------------------- */

/*
 * 1: the same port for sure, 0: cannot tell, -1: different ports. LLDP port ids decide when
 * both are there: the id a port sends (lldpLocPortId) is the id its neighbour reports
 * (lldpRemPortId), so two different ids are two ports.
 */
static int end_cmp(const lend *x, const lend *y)
{
    if (x->if_index >= 0 && y->if_index >= 0)
        return x->if_index == y->if_index ? 1 : -1;
    if (x->pid && y->pid)
        return strcasecmp(x->pid, y->pid) == 0 ? 1 : -1;
    if (x->name && y->name && strcasecmp(x->name, y->name) == 0)
        return 1;
    return 0;
}

/*
 * Whether candidate c is the link x0-x1 seen before (from the other end, or by the other
 * protocol): same two nodes, no end known to differ, and one end known to be the same port.
 * *swap says x1 is c's first end.
 */
static bool same_link(const cand *c, const lend *x0, const lend *x1, bool *swap)
{
    for (int o = 0; o < 2; o++) {
        const lend *y0 = o ? x1 : x0, *y1 = o ? x0 : x1;
        int r0, r1;

        if (strcmp(c->e[0].node, y0->node) != 0 || strcmp(c->e[1].node, y1->node) != 0)
            continue;
        r0 = end_cmp(&c->e[0], y0);
        r1 = end_cmp(&c->e[1], y1);
        if (r0 < 0 || r1 < 0 || (r0 == 0 && r1 == 0))
            continue;
        *swap = o == 1;
        return true;
    }
    return false;
}

/* Keeps the better-known port of an end seen twice. */
static void merge_end(lend *dst, const lend *src)
{
    const char *pid = dst->pid ? dst->pid : src->pid;

    if (dst->if_index < 0 && src->if_index >= 0) {
        *dst = *src;
    } else if (!dst->name) {
        dst->name = src->name;
    }
    dst->pid = pid;
}

static int pair_key(build *b, const char *x, const char *y, char **out)
{
    size_t lx = strlen(x), ly = strlen(y);
    char *k;

    if (strcmp(x, y) > 0) {
        const char *t = x;
        size_t tl = lx;
        x = y;
        y = t;
        lx = ly;
        ly = tl;
    }
    if (!(k = na__arena_alloc(&b->scratch, lx + ly + 2)))
        return NA_ENOMEM;
    memcpy(k, x, lx);
    k[lx] = '\x1f';
    memcpy(k + lx + 1, y, ly);
    k[lx + ly + 1] = '\0';
    *out = k;
    return NA_OK;
}

/* The candidate already holding x0-x1, or NONE. */
static size_t find_same(build *b, const char *key, const lend *x0, const lend *x1, bool *swap)
{
    size_t c;

    if (!na__idmap_get(&b->pairs, key, &c))
        return NONE;
    for (; c != NONE; c = b->cands[c].next)
        if (same_link(&b->cands[c], x0, x1, swap))
            return c;
    return NONE;
}

static int cand_add(build *b, const lend *x0, const lend *x1, const char *protocol, bool stub,
                    bool kept, uint64_t kept_speed)
{
    char *key;
    bool swap = false;
    size_t c, first;
    cand *nc;
    int rc;

    if ((rc = pair_key(b, x0->node, x1->node, &key)))
        return rc;
    if ((c = find_same(b, key, x0, x1, &swap)) != NONE) {
        cand *old = &b->cands[c];
        merge_end(&old->e[0], swap ? x1 : x0);
        merge_end(&old->e[1], swap ? x0 : x1);
        if (protocol && strcmp(protocol, "lldp") == 0)
            old->protocol = protocol; /* LLDP is the standard one: name the link by it */
        return NA_OK;
    }
    if ((rc = grow((void **)&b->cands, &b->cap_cands, b->n_cands, sizeof(*b->cands))))
        return rc;
    nc = &b->cands[b->n_cands];
    memset(nc, 0, sizeof(*nc));
    nc->e[0] = *x0;
    nc->e[1] = *x1;
    nc->protocol = protocol;
    nc->stub = stub;
    nc->kept = kept;
    nc->kept_speed = kept_speed;
    nc->next = na__idmap_get(&b->pairs, key, &first) ? first : NONE;
    return na__idmap_put(&b->pairs, key, b->n_cands++);
}

/* One neighbour entry of device i. */
static int neighbor_add(build *b, size_t i, const na_snmp_neighbor *nb)
{
    const na_snmp_device *d = b->devs[i];
    lend x0 = {.node = d->node_id, .dev = i, .if_index = -1}, x1 = {.if_index = -1};
    long p = port_by_ifindex(d, nb->local_if_index);
    size_t r;
    int rc;

    if (p < 0 && nb->local_if_index < 0)
        p = port_by_text(d, nb->local_if_name, F_NAME);
    if (p >= 0) {
        x0.if_index = d->ports[p].if_index;
        if (!(x0.name = port_label(b, &d->ports[p])))
            return NA_ENOMEM;
    } else {
        x0.if_index = nb->local_if_index;
        x0.name = first_text(nb->local_if_name, nb->local_port_id);
    }
    if (nb->protocol && strcmp(nb->protocol, "lldp") == 0) {
        x0.pid = first_text(nb->local_port_id, NULL);
        x1.pid = first_text(nb->remote_port, NULL);
    }
    x1.name = first_text(nb->remote_port, nb->remote_port_descr);

    if ((r = device_of(b, nb)) != NONE) {
        const na_snmp_device *rd = b->devs[r];
        long rp = remote_port(rd, nb);
        x1.node = rd->node_id;
        x1.dev = r;
        if (rp >= 0) {
            x1.if_index = rd->ports[rp].if_index;
            if (!(x1.name = port_label(b, &rd->ports[rp])))
                return NA_ENOMEM;
        }
        return cand_add(b, &x0, &x1, nb->protocol, false, false, 0);
    }
    if ((rc = stub_for(b, nb, &r)) || (rc = crawl_add(b, nb->remote_mgmt_ip)))
        return rc;
    if (r == NONE)
        return NA_OK;
    x1.node = b->stubs[r].id;
    x1.dev = NONE;
    return cand_add(b, &x0, &x1, nb->protocol, true, false, 0);
}

/* Whether a known port of this end is now oper not-up (unknown status is not "down"). */
static bool end_down(const build *b, const lend *e)
{
    const na_snmp_device *d;
    long p;

    if (e->dev == NONE || e->if_index < 0)
        return false;
    d = b->devs[e->dev];
    if (!d->reachable || (p = port_by_ifindex(d, e->if_index)) < 0)
        return false;
    return d->ports[p].oper_status != 0 && d->ports[p].oper_status != NA_IF_UP;
}

/* Whether a link reported now already uses this end's port (the previous link through it,
 * e.g. to a stub that is now a polled device, is superseded). */
static bool port_taken(const build *b, const lend *e)
{
    if (e->dev == NONE || e->if_index < 0)
        return false;
    for (size_t c = 0; c < b->n_cands; c++)
        for (int k = 0; k < 2; k++)
            if (b->cands[c].e[k].dev == e->dev && b->cands[c].e[k].if_index == e->if_index)
                return true;
    return false;
}

/* Whether this end's device no longer answers (its neighbours are unknown, not gone). */
static bool end_unreachable(const build *b, const lend *e)
{
    return e->dev != NONE && !b->devs[e->dev]->reachable;
}

/*
 * A link of the previous network that nobody reports now stays, down, when one of its ports
 * is now oper down (or for one poll when it is not): agents drop the LLDP entry of a port that went down, so without this a
 * failed cable would look like a removed one. With both ports up it was re-cabled: gone.
 * It also stays, down, while one of its devices does not answer: what that device would say
 * is unknown, and a silent device is no evidence that its cables were removed.
 */
static int prev_add(build *b, const na_snmp_network *prev, const na_snmp_link *l)
{
    lend x0 = {.node = l->a, .if_index = l->a_if_index, .name = l->a_port};
    lend x1 = {.node = l->b, .if_index = l->b_if_index, .name = l->b_port};
    char *key;
    bool swap;
    int rc;

    if (!na__idmap_get(&b->nodes, l->a, &x0.dev))
        return NA_OK;
    if (l->stub) {
        x1.dev = NONE;
    } else if (!na__idmap_get(&b->nodes, l->b, &x1.dev)) {
        return NA_OK;
    }
    if ((rc = pair_key(b, l->a, l->b, &key)))
        return rc;
    /* Both ports up and both devices answering: re-cabled, or the neighbour entry went a
     * moment before the port's status did (agents forget a neighbour ~1 s after the cable goes,
     * and snmpd's cached ifTable shows the port down ~2-3 s later). One poll's grace, down,
     * tells the two apart; a second poll without it and with the ports up drops it. */
    if (find_same(b, key, &x0, &x1, &swap) != NONE || port_taken(b, &x0) ||
        port_taken(b, &x1) ||
        (!end_down(b, &x0) && !end_down(b, &x1) && !end_unreachable(b, &x0) &&
         !end_unreachable(b, &x1) && l->missing > 0))
        return NA_OK;
    if (l->stub) {
        /* the stub is gone with its neighbour entry: bring it back from prev */
        const na_snmp_stub *ps = NULL;
        size_t s;
        for (size_t k = 0; k < prev->n_stubs && !ps; k++)
            if (strcmp(prev->stubs[k].id, l->b) == 0)
                ps = &prev->stubs[k];
        if (!ps)
            return NA_OK;
        if ((rc = stub_add(b, ps->id, ps->sysname, ps->chassis_id, ps->mgmt_ip, ps->platform, &s)))
            return rc;
        x1.node = b->stubs[s].id;
    }
    if ((rc = cand_add(b, &x0, &x1, l->protocol, l->stub, true, l->speed_bps)))
        return rc;
    b->cands[b->n_cands - 1].missing = l->missing + 1;
    return NA_OK;
}

/* ---- the network ------------------------------------------------------------------------------ */

static int end_order(const lend *x, const lend *y)
{
    int c = strcmp(x->node, y->node);
    return c ? c : strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

static void link_state(const build *b, const cand *c, na_snmp_link *l)
{
    l->up = !c->kept;
    l->speed_bps = c->kept ? c->kept_speed : 0;
    l->missing = c->missing;
    if (c->kept)
        return;
    for (int k = 0; k < 2; k++) {
        const lend *e = &c->e[k];
        const na_snmp_device *d;
        long p;
        if (e->dev == NONE || e->if_index < 0)
            continue;
        d = b->devs[e->dev];
        if ((p = port_by_ifindex(d, e->if_index)) < 0)
            continue;
        if (d->ports[p].oper_status != 0 && d->ports[p].oper_status != NA_IF_UP)
            l->up = false;
        if (d->ports[p].speed_bps && (!l->speed_bps || d->ports[p].speed_bps < l->speed_bps))
            l->speed_bps = d->ports[p].speed_bps;
    }
}

/* Freezes candidate c into link l: ends ordered (stub last), strings copied, id unique. */
static int link_make(build *b, const cand *c, na__idmap *ids, na_snmp_link *l)
{
    na__arena *a = &b->net->arena;
    const lend *x = &c->e[0], *y = &c->e[1];
    size_t len, dup;
    char *id;

    if (!c->stub && end_order(x, y) > 0) {
        x = &c->e[1];
        y = &c->e[0];
    }
    memset(l, 0, sizeof(*l));
    l->a = na__arena_strdup(a, x->node);
    l->b = na__arena_strdup(a, y->node);
    l->a_port = na__arena_strdup(a, x->name);
    l->b_port = na__arena_strdup(a, y->name);
    l->protocol = na__arena_strdup(a, c->protocol ? c->protocol : "lldp");
    if (!l->a || !l->b || !l->protocol || (x->name && !l->a_port) || (y->name && !l->b_port))
        return NA_ENOMEM;
    l->a_if_index = x->if_index;
    l->b_if_index = y->if_index;
    l->stub = c->stub;
    link_state(b, c, l);
    len = strlen(l->a) + strlen(l->b) + (l->a_port ? strlen(l->a_port) : 1) +
          (l->b_port ? strlen(l->b_port) : 1) + 24;
    if (!(id = na__arena_alloc(a, len)))
        return NA_ENOMEM;
    snprintf(id, len, "%s:%s|%s:%s", l->a, l->a_port ? l->a_port : "?", l->b,
             l->b_port ? l->b_port : "?");
    /* two links only the resolved names tell apart, both unresolved: keep both, distinct */
    for (size_t n = 2, base = strlen(id); na__idmap_get(ids, id, &dup); n++)
        snprintf(id + base, len - base, "#%zu", n);
    l->id = id;
    return na__idmap_put(ids, id, 0);
}

static int network_finish(build *b)
{
    na_snmp_network *net = b->net;
    na__idmap ids;
    int rc = NA_OK;

    na__idmap_init(&ids);
    if ((b->n_cands && !(net->links = na__arena_alloc(&net->arena, b->n_cands * sizeof(*net->links)))) ||
        (b->n_stubs && !(net->stubs = na__arena_alloc(&net->arena, b->n_stubs * sizeof(*net->stubs)))) ||
        (b->n_crawl && !(net->crawl = na__arena_alloc(&net->arena, b->n_crawl * sizeof(*net->crawl))))) {
        rc = NA_ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < b->n_cands; k++) {
        if ((rc = link_make(b, &b->cands[k], &ids, &net->links[k])))
            goto out;
        net->n_links++;
    }
    if (b->n_stubs)
        memcpy(net->stubs, b->stubs, b->n_stubs * sizeof(*net->stubs));
    net->n_stubs = b->n_stubs;
    if (b->n_crawl)
        memcpy(net->crawl, b->crawl, b->n_crawl * sizeof(*net->crawl));
    net->n_crawl = b->n_crawl;
out:
    na__idmap_free(&ids);
    return rc;
}

int na__snmp_network_build(na_snmp_device *const *devs, size_t n, const na_snmp_network *prev,
                           na_snmp_network **out, na_error *err)
{
    build b;
    int rc = NA_OK;

    *out = NULL;
    memset(&b, 0, sizeof(b));
    b.devs = devs;
    b.n = n;
    b.err = err;
    na__arena_init(&b.scratch);
    na__idmap_init(&b.devkeys);
    na__idmap_init(&b.nodes);
    na__idmap_init(&b.pairs);
    na__idmap_init(&b.stubkeys);
    na__idmap_init(&b.crawled);
    if (!(b.net = calloc(1, sizeof(*b.net)))) {
        rc = NA_ENOMEM;
        goto out;
    }
    na__arena_init(&b.net->arena);
    for (size_t i = 0; i < n; i++)
        if ((rc = index_device(&b, i)))
            goto out;
    for (size_t i = 0; i < n; i++) {
        if (!devs[i]->reachable)
            continue;
        for (size_t k = 0; k < devs[i]->n_neighbors; k++)
            if ((rc = neighbor_add(&b, i, &devs[i]->neighbors[k])))
                goto out;
    }
    for (size_t k = 0; prev && k < prev->n_links; k++)
        if ((rc = prev_add(&b, prev, &prev->links[k])))
            goto out;
    if ((rc = network_finish(&b)))
        goto out;
    *out = b.net;
    b.net = NULL;
out:
    if (rc == NA_ENOMEM)
        na_error_set(err, rc, "snmp: out of memory building the network");
    na__snmp_network_free(b.net);
    free(b.cands);
    free(b.stubs);
    free(b.crawl);
    na__idmap_free(&b.devkeys);
    na__idmap_free(&b.nodes);
    na__idmap_free(&b.pairs);
    na__idmap_free(&b.stubkeys);
    na__idmap_free(&b.crawled);
    na__arena_free(&b.scratch);
    return rc;
}

void na__snmp_network_free(na_snmp_network *net)
{
    if (!net)
        return;
    na__arena_free(&net->arena);
    free(net);
}

/* ---- topology --------------------------------------------------------------------------------- */

static void attr_str(na_attr *attrs, size_t *n, const char *key, const char *v)
{
    if (blank(v))
        return;
    attrs[*n].key = key;
    attrs[*n].value.type = NA_VAL_STRING;
    attrs[(*n)++].value.u.s = v;
}

static void attr_int(na_attr *attrs, size_t *n, const char *key, int64_t v)
{
    attrs[*n].key = key;
    attrs[*n].value.type = NA_VAL_INT;
    attrs[(*n)++].value.u.i = v;
}

static int device_node(na_builder *bld, const na_snmp_device *d, na_error *err)
{
    na_attr attrs[8];
    size_t na = 0;
    na_node node;

    na_node_init(&node);
    node.id = d->node_id;
    node.label = !blank(d->sys.name) ? d->sys.name : d->node_id;
    node.site = d->site;
    if (d->has_coords) {
        node.latitude = d->latitude;
        node.longitude = d->longitude;
    }
    node.status = d->reachable ? NA_STATUS_UP : NA_STATUS_DOWN;
    attr_str(attrs, &na, "mgmt_ip", d->mgmt_ip);
    attr_str(attrs, &na, "sys_descr", d->sys.descr);
    attr_str(attrs, &na, "sys_object_id", d->sys.object_id);
    attr_str(attrs, &na, "sys_location", d->sys.location);
    if (!d->reachable)
        attr_str(attrs, &na, "reason", d->reason);
    attr_str(attrs, &na, "geo_source", d->geo_source);
    attr_int(attrs, &na, "ports", (int64_t)d->n_ports);
    node.attrs = attrs;
    node.n_attrs = na;
    return na_builder_add_node(bld, &node, err);
}

static int stub_node(na_builder *bld, const na_snmp_stub *s, na_error *err)
{
    na_attr attrs[4] = {{.key = "discovered", .value = {.type = NA_VAL_BOOL, .u.b = true}}};
    size_t na = 1;
    na_node node;

    na_node_init(&node);
    node.id = s->id;
    node.label = first_text(s->sysname, s->chassis_id);
    if (!node.label)
        node.label = s->id;
    node.status = NA_STATUS_UNKNOWN;
    attr_str(attrs, &na, "chassis_id", s->chassis_id);
    attr_str(attrs, &na, "mgmt_ip", s->mgmt_ip);
    attr_str(attrs, &na, "platform", s->platform);
    node.attrs = attrs;
    node.n_attrs = na;
    return na_builder_add_node(bld, &node, err);
}

static int link_edge(na_builder *bld, const na_snmp_link *l, na_error *err)
{
    const char *ap = l->a_port ? l->a_port : "?", *bp = l->b_port ? l->b_port : "?";
    size_t len = strlen(ap) + strlen(bp) + 4;
    char *label = malloc(len);
    na_attr attrs[5];
    size_t na = 0;
    na_link link;
    int rc;

    if (!label)
        return na_error_set(err, NA_ENOMEM, "snmp: out of memory");
    snprintf(label, len, "%s - %s", ap, bp);
    na_link_init(&link);
    link.id = l->id;
    link.source = l->a;
    link.target = l->b;
    link.label = label;
    link.capacity = l->speed_bps ? (double)l->speed_bps : NAN;
    link.status = l->up ? NA_STATUS_UP : NA_STATUS_DOWN;
    attr_str(attrs, &na, "protocol", l->protocol);
    attr_str(attrs, &na, "a_port", l->a_port);
    attr_str(attrs, &na, "b_port", l->b_port);
    if (l->a_if_index >= 0)
        attr_int(attrs, &na, "a_if_index", l->a_if_index);
    if (l->b_if_index >= 0)
        attr_int(attrs, &na, "b_if_index", l->b_if_index);
    link.attrs = attrs;
    link.n_attrs = na;
    rc = na_builder_add_link(bld, &link, NULL, err);
    free(label);
    return rc;
}

int na__snmp_topology(na_snmp_device *const *devs, size_t n, const na_snmp_network *net,
                      na_topology **out, na_error *err)
{
    na_builder *bld = na_builder_new();
    na_time_ms newest = 0;
    int rc = NA_OK;

    *out = NULL;
    if (!bld)
        return na_error_set(err, NA_ENOMEM, "snmp: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!devs[i]->node_id) {
            rc = na_error_set(err, NA_EINVAL, "snmp: device %zu has no node id", i);
            goto out;
        }
        if ((rc = device_node(bld, devs[i], err)))
            goto out;
        if (devs[i]->polled_at > newest)
            newest = devs[i]->polled_at;
    }
    for (size_t k = 0; net && k < net->n_stubs; k++)
        if ((rc = stub_node(bld, &net->stubs[k], err)))
            goto out;
    for (size_t k = 0; net && k < net->n_links; k++)
        if ((rc = link_edge(bld, &net->links[k], err)))
            goto out;
    if (newest > 0)
        na_builder_set_timestamp_ms(bld, newest);
    rc = na_builder_finish(bld, out, err);
    bld = NULL;
out:
    na_builder_free(bld);
    return rc;
}
