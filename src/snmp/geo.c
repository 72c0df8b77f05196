/*
 * geo.c: where a polled device is. Configured sites (name, coordinates, subnets), the
 * sysLocation string and a MaxMind City database, in that order of trust; see na__geo_locate.
 * Nothing is guessed: a device none of them places stays without coordinates.
 */
#include "snmp/snmp.h"

#include <arpa/inet.h>
#include <math.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

enum {
    GEO_MAX_IP_TEXT = 63,     /* longest IP literal accepted (IPv6 with a zone fits) */
    GEO_MAX_LOCATION = 1024,  /* sysLocation bytes looked at (SnmpAdminString is 255) */
};

typedef struct geo_net {
    uint8_t addr[16];  /* network address, host bits cleared */
    int family;        /* 4 or 6 */
    unsigned prefix;
    size_t site;
} geo_net;

struct na_geo {
    na__arena arena;
    na_geo_site *sites;
    size_t n_sites;
    geo_net *nets;
    size_t n_nets;
    bool has_mmdb;
    MMDB_s mmdb;
};

/* ---- IP literals -------------------------------------------------------------------------- */

/*
 * Parses an IP literal of at most len bytes (not NUL-terminated) into addr (4 or 16 bytes used);
 * returns the family (4, 6) or 0. IPv4-mapped IPv6 (::ffff:a.b.c.d) is IPv4, so an agent
 * reporting its address either way lands in the same subnet; a "%zone" suffix is ignored.
 */
static int ip_parse(const char *s, size_t len, uint8_t addr[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char buf[GEO_MAX_IP_TEXT + 1];
    const char *pct;

    if (!s || len == 0 || len > GEO_MAX_IP_TEXT)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (memchr(buf, '\0', len))
        return 0;
    if ((pct = strchr(buf, '%')))
        buf[pct - buf] = '\0';
    if (strchr(buf, ':')) {
        if (inet_pton(AF_INET6, buf, addr) != 1)
            return 0;
        /* ::ffff:a.b.c.d, and the deprecated IPv4-compatible ::a.b.c.d (RFC 4291) that some
         * agents still encode IPv4 addresses as (:: and ::1 excepted) */
        if (memcmp(addr, mapped, sizeof(mapped)) == 0 ||
            (memcmp(addr, mapped, 10) == 0 && addr[10] == 0 && addr[11] == 0 &&
             (addr[12] | addr[13] | addr[14]) != 0)) {
            memmove(addr, addr + 12, 4);
            return 4;
        }
        return 6;
    }
    return inet_pton(AF_INET, buf, addr) == 1 ? 4 : 0;
}

static bool in_net(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;

    if (memcmp(a, net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

static na_ip_scope ip_scope(const uint8_t *a, int family)
{
    /* network, prefix length, scope: the special-purpose ranges that never geolocate */
    static const struct {
        uint8_t net[4];
        unsigned prefix;
        na_ip_scope scope;
    } v4[] = {
        {{10, 0, 0, 0}, 8, NA_IP_PRIVATE},     {{172, 16, 0, 0}, 12, NA_IP_PRIVATE},
        {{192, 168, 0, 0}, 16, NA_IP_PRIVATE}, {{100, 64, 0, 0}, 10, NA_IP_PRIVATE},
        {{0, 0, 0, 0}, 8, NA_IP_LOCAL},        {{127, 0, 0, 0}, 8, NA_IP_LOCAL},
        {{169, 254, 0, 0}, 16, NA_IP_LOCAL},   {{224, 0, 0, 0}, 4, NA_IP_LOCAL},
        {{240, 0, 0, 0}, 4, NA_IP_LOCAL},
    };
    static const struct {
        uint8_t net[16];
        unsigned prefix;
        na_ip_scope scope;
    } v6[] = {
        {{0}, 128, NA_IP_LOCAL},                             /* :: */
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, NA_IP_LOCAL}, /* ::1 */
        {{0xfe, 0x80}, 10, NA_IP_LOCAL},
        {{0xff}, 8, NA_IP_LOCAL},
        {{0xfc}, 7, NA_IP_PRIVATE},
    };

    if (family == 4) {
        for (size_t k = 0; k < sizeof(v4) / sizeof(v4[0]); k++)
            if (in_net(a, v4[k].net, v4[k].prefix))
                return v4[k].scope;
        return NA_IP_PUBLIC;
    }
    for (size_t k = 0; k < sizeof(v6) / sizeof(v6[0]); k++)
        if (in_net(a, v6[k].net, v6[k].prefix))
            return v6[k].scope;
    return NA_IP_PUBLIC;
}

const char *na__ip_canon(const char *s, char *buf, size_t len, na_ip_scope *scope)
{
    uint8_t a[16];
    int family = s ? ip_parse(s, strnlen(s, GEO_MAX_IP_TEXT + 1), a) : 0;

    if (scope)
        *scope = NA_IP_INVALID;
    if (!family || !inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len))
        return NULL;
    if (scope)
        *scope = ip_scope(a, family);
    return buf;
}

/*
 * "10.1.0.0/16", "2001:db8::/32", or a bare address (a host route). Host bits may be set
 * ("10.1.2.3/16" is 10.1.0.0/16). Returns false when malformed or the prefix is out of range.
 */
static bool cidr_parse(const char *s, geo_net *net)
{
    size_t len = strnlen(s, GEO_MAX_IP_TEXT + 5);
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    unsigned max, prefix = 0;

    memset(net->addr, 0, sizeof(net->addr));
    if (!(net->family = ip_parse(s, alen, net->addr)))
        return false;
    if (memchr(s, '%', alen))
        return false; /* a zone has no place in a subnet */
    max = net->family == 4 ? 32 : 128;
    if (!slash) {
        prefix = max;
    } else {
        const char *p = slash + 1, *end = s + len;
        if (p == end || end - p > 3)
            return false;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return false;
            prefix = prefix * 10 + (unsigned)(*p - '0');
        }
    }
    if (prefix > max)
        return false;
    net->prefix = prefix;
    for (unsigned bit = prefix; bit < max; bit++)
        net->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    return true;
}

/* ---- sysLocation -------------------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * A plain decimal degree at s[*i]: [+-]digits[.digits], at most 3 integer and 12 fraction
 * digits (a micrometre). Both parts fit 15 digits, so the value is an exact integer divided by
 * an exact power of ten: "52.37" gives the double nearest 52.37, whatever the locale (strtod
 * would follow LC_NUMERIC and accept hex, inf and nan).
 */
static bool parse_degree(const char *s, size_t len, size_t *i, double *out)
{
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4,  1e5,  1e6,
                                   1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
    size_t k = *i, int_digits = 0, frac_digits = 0;
    uint64_t mant = 0;
    bool neg = false;

    if (k < len && (s[k] == '-' || s[k] == '+'))
        neg = s[k++] == '-';
    while (k < len && s[k] >= '0' && s[k] <= '9') {
        if (++int_digits > 3)
            return false;
        mant = mant * 10 + (uint64_t)(s[k++] - '0');
    }
    if (int_digits == 0)
        return false;
    if (k < len && s[k] == '.') {
        k++;
        while (k < len && s[k] >= '0' && s[k] <= '9') {
            if (++frac_digits > 12)
                return false;
            mant = mant * 10 + (uint64_t)(s[k++] - '0');
        }
        if (frac_digits == 0)
            return false;
    }
    *out = (double)mant / pow10[frac_digits];
    if (neg)
        *out = -*out;
    *i = k;
    return true;
}

static size_t skip_space(const char *s, size_t len, size_t i)
{
    while (i < len && is_space(s[i]))
        i++;
    return i;
}

/* "lat , lon" at s[*i] (spaces allowed around the comma), in range. */
static bool parse_pair(const char *s, size_t len, size_t *i, double *lat, double *lon)
{
    size_t k = *i;

    if (!parse_degree(s, len, &k, lat))
        return false;
    k = skip_space(s, len, k);
    if (k >= len || s[k] != ',')
        return false;
    k = skip_space(s, len, k + 1);
    if (!parse_degree(s, len, &k, lon))
        return false;
    if (*lat < -90.0 || *lat > 90.0 || *lon < -180.0 || *lon > 180.0)
        return false;
    *i = k;
    return true;
}

/*
 * Coordinates written into sysLocation: "[lat, lon]" anywhere (the first valid one), or the
 * whole (trimmed) string being "lat, lon". Other forms are not taken: a bare pair inside text
 * ("Rack 12, 4") is too easily something else.
 */
static bool location_coords(const char *s, size_t len, double *lat, double *lon)
{
    size_t b = skip_space(s, len, 0), e = len, k;

    for (size_t i = 0; i < len; i++) {
        if (s[i] != '[')
            continue;
        k = skip_space(s, len, i + 1);
        if (!parse_pair(s, len, &k, lat, lon))
            continue;
        k = skip_space(s, len, k);
        if (k < len && s[k] == ']')
            return true;
    }
    while (e > b && is_space(s[e - 1]))
        e--;
    k = b;
    return parse_pair(s, e, &k, lat, lon) && k == e;
}

/* Whether name occurs in s as a whole word, ignoring ASCII case. */
static bool contains_word(const char *s, size_t len, const char *name, size_t nlen)
{
    if (nlen == 0 || nlen > len)
        return false;
    for (size_t i = 0; i + nlen <= len; i++) {
        size_t k = 0;
        while (k < nlen && lower(s[i + k]) == lower(name[k]))
            k++;
        if (k < nlen)
            continue;
        if (i > 0 && is_alnum(s[i - 1]) && is_alnum(name[0]))
            continue;
        if (i + nlen < len && is_alnum(s[i + nlen]) && is_alnum(name[nlen - 1]))
            continue;
        return true;
    }
    return false;
}

/*
 * The site sysLocation names: equal to the trimmed string (ignoring case) first, else the
 * longest site name it contains as a whole word ("Amsterdam DC2" before "Amsterdam"). Two
 * different sites tied for longest name nothing: which one is meant is unknown.
 */
static long location_site(const na_geo *geo, const char *s, size_t len)
{
    size_t b = skip_space(s, len, 0), e = len, best_len = 0;
    long best = -1;
    bool tie = false;

    while (e > b && is_space(s[e - 1]))
        e--;
    for (size_t k = 0; k < geo->n_sites; k++) {
        const char *name = geo->sites[k].name;
        size_t nlen = strlen(name);
        if (nlen == e - b && strncasecmp(s + b, name, nlen) == 0)
            return (long)k;
    }
    for (size_t k = 0; k < geo->n_sites; k++) {
        const char *name = geo->sites[k].name;
        size_t nlen = strlen(name);
        if (!contains_word(s + b, e - b, name, nlen) || nlen < best_len)
            continue;
        tie = nlen == best_len;
        best_len = nlen;
        best = (long)k;
    }
    return tie ? -1 : best;
}

/* ---- MaxMind -------------------------------------------------------------------------------- */

/* Open-addressing set of data-section offsets (stored + 1, 0 = empty). */
typedef struct offset_set {
    uint32_t *slots;
    size_t cap, n;
} offset_set;

/* 1: inserted, 0: already there, NA_ENOMEM. */
static int offset_set_add(offset_set *set, uint32_t off)
{
    uint32_t key = off + 1;
    size_t mask, k;

    if ((set->n + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 1024;
        uint32_t *slots = calloc(cap, sizeof(*slots));
        if (!slots)
            return NA_ENOMEM;
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slots[i])
                continue;
            k = (set->slots[i] * 2654435761u) & (cap - 1);
            while (slots[k])
                k = (k + 1) & (cap - 1);
            slots[k] = set->slots[i];
        }
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    mask = set->cap - 1;
    for (k = (key * 2654435761u) & mask; set->slots[k]; k = (k + 1) & mask)
        if (set->slots[k] == key)
            return 0;
    set->slots[k] = key;
    set->n++;
    return 1;
}

/*
 * libmaxminddb checks only the metadata at open; a damaged search tree or data section shows
 * up later as a failed or wrong lookup for some addresses. So the whole tree is walked once
 * here and every data record it reaches is decoded (each distinct record once): a broken file
 * is refused at start-up, naming the file, instead of silently giving no location.
 */
static int mmdb_verify(const MMDB_s *db, const char *path, na_error *err)
{
    offset_set seen = {0};
    int rc = NA_OK;

    for (uint32_t node = 0; node < db->metadata.node_count; node++) {
        MMDB_search_node_s sn;
        int mr = MMDB_read_node(db, node, &sn);

        if (mr != MMDB_SUCCESS) {
            rc = na_error_set(err, NA_EPARSE, "%s: search tree node %u: %s", path, node,
                              MMDB_strerror(mr));
            goto out;
        }
        for (int side = 0; side < 2; side++) {
            uint8_t type = side ? sn.right_record_type : sn.left_record_type;
            MMDB_entry_s entry = side ? sn.right_record_entry : sn.left_record_entry;
            MMDB_entry_data_list_s *list = NULL;
            int added;

            if (type == MMDB_RECORD_TYPE_INVALID) {
                rc = na_error_set(err, NA_EPARSE, "%s: search tree node %u points outside the "
                                  "file (corrupt search tree)", path, node);
                goto out;
            }
            if (type != MMDB_RECORD_TYPE_DATA)
                continue;
            if ((added = offset_set_add(&seen, entry.offset)) < 0) {
                rc = na_error_set(err, NA_ENOMEM, "%s: out of memory verifying", path);
                goto out;
            }
            if (!added)
                continue;
            mr = MMDB_get_entry_data_list(&entry, &list);
            MMDB_free_entry_data_list(list);
            if (mr != MMDB_SUCCESS) {
                rc = na_error_set(err, mr == MMDB_OUT_OF_MEMORY_ERROR ? NA_ENOMEM : NA_EPARSE,
                                  "%s: data record at offset %u: %s", path, entry.offset,
                                  MMDB_strerror(mr));
                goto out;
            }
        }
    }
out:
    free(seen.slots);
    return rc;
}

static int mmdb_open(na_geo *geo, const char *path, na_error *err)
{
    const char *type;
    int mr = MMDB_open(path, MMDB_MODE_MMAP, &geo->mmdb);
    int rc;

    if (mr != MMDB_SUCCESS) {
        int code = mr == MMDB_FILE_OPEN_ERROR || mr == MMDB_IO_ERROR ? NA_EIO
                   : mr == MMDB_OUT_OF_MEMORY_ERROR                  ? NA_ENOMEM
                                                                     : NA_EPARSE;
        return na_error_set(err, code, "%s: cannot open MaxMind database: %s", path,
                            MMDB_strerror(mr));
    }
    geo->has_mmdb = true;
    if ((rc = mmdb_verify(&geo->mmdb, path, err)) != NA_OK)
        return rc;
    /* An ASN or ISP database opens fine and locates nothing: say so instead. */
    type = geo->mmdb.metadata.database_type ? geo->mmdb.metadata.database_type : "";
    if (!strstr(type, "City") && !strstr(type, "Enterprise"))
        return na_error_set(err, NA_EINVAL, "%s: a '%s' database has no city locations (use a "
                            "GeoIP2 / GeoLite2 City database)", path, type);
    return NA_OK;
}

/* Copies a MaxMind UTF-8 string (not NUL-terminated) into dst, cut at a character boundary. */
static void copy_utf8(char *dst, size_t cap, const MMDB_entry_data_s *d)
{
    size_t n = 0;

    if (d->has_data && d->type == MMDB_DATA_TYPE_UTF8_STRING) {
        n = d->data_size < cap - 1 ? d->data_size : cap - 1;
        while (n > 0 && n < d->data_size && ((uint8_t)d->utf8_string[n] & 0xc0) == 0x80)
            n--;
        memcpy(dst, d->utf8_string, n);
    }
    dst[n] = '\0';
}

static bool mmdb_double(const MMDB_entry_data_s *d, double *out)
{
    if (!d->has_data)
        return false;
    if (d->type == MMDB_DATA_TYPE_DOUBLE)
        *out = d->double_value;
    else if (d->type == MMDB_DATA_TYPE_FLOAT)
        *out = d->float_value;
    else
        return false;
    return isfinite(*out);
}

static void mmdb_locate(const na_geo *geo, const uint8_t *a, int family, na_geo_result *out)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    MMDB_lookup_result_s r;
    MMDB_entry_data_s lat, lon, city, country;
    int mr = MMDB_SUCCESS;

    if (family == 4) {
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, a, 4);
        sa = (const struct sockaddr *)&sin;
    } else {
        memset(&sin6, 0, sizeof(sin6));
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, a, 16);
        sa = (const struct sockaddr *)&sin6;
    }
    r = MMDB_lookup_sockaddr(&geo->mmdb, sa, &mr);
    if (mr != MMDB_SUCCESS || !r.found_entry)
        return;
    if (MMDB_get_value(&r.entry, &city, "city", "names", "en", NULL) == MMDB_SUCCESS)
        copy_utf8(out->city, sizeof(out->city), &city);
    if (MMDB_get_value(&r.entry, &country, "country", "iso_code", NULL) == MMDB_SUCCESS)
        copy_utf8(out->country, sizeof(out->country), &country);
    if (MMDB_get_value(&r.entry, &lat, "location", "latitude", NULL) != MMDB_SUCCESS ||
        MMDB_get_value(&r.entry, &lon, "location", "longitude", NULL) != MMDB_SUCCESS ||
        !mmdb_double(&lat, &out->latitude) || !mmdb_double(&lon, &out->longitude) ||
        fabs(out->latitude) > 90.0 || fabs(out->longitude) > 180.0)
        return;
    out->has_coords = true;
    out->source = "maxmind";
}

/* ---- open / free ---------------------------------------------------------------------------- */

static bool blank(const char *s)
{
    for (; s && *s; s++)
        if (!is_space(*s))
            return false;
    return true;
}

static bool valid_coords(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && fabs(lat) <= 90.0 && fabs(lon) <= 180.0;
}

/* Copies and checks one site into geo->sites[k] and its subnets into geo->nets. */
static int site_add(na_geo *geo, size_t k, const na_geo_site *in, na_error *err)
{
    na_geo_site *s = &geo->sites[k];
    const char **subnets = NULL;

    if (!in->name || blank(in->name))
        return na_error_set(err, NA_EINVAL, "geo: site %zu has no name", k + 1);
    for (size_t j = 0; j < k; j++)
        /* case-insensitively unique: sysLocation matches names ignoring case */
        if (strcasecmp(geo->sites[j].name, in->name) == 0)
            return na_error_set(err, NA_EINVAL, "geo: site '%s' is defined twice", in->name);
    if (in->has_coords && !valid_coords(in->latitude, in->longitude))
        return na_error_set(err, NA_EINVAL, "geo: site '%s': coordinates %g, %g out of range",
                            in->name, in->latitude, in->longitude);
    if (in->n_subnets &&
        !(subnets = na__arena_alloc(&geo->arena, in->n_subnets * sizeof(*subnets))))
        return na_error_set(err, NA_ENOMEM, "geo: out of memory");
    *s = *in;
    s->name = na__arena_strdup(&geo->arena, in->name);
    s->address = na__arena_strdup(&geo->arena, in->address);
    s->subnets = subnets;
    if (!s->name || (in->address && !s->address))
        return na_error_set(err, NA_ENOMEM, "geo: out of memory");
    for (size_t j = 0; j < in->n_subnets; j++) {
        geo_net *net = &geo->nets[geo->n_nets];
        char text[INET6_ADDRSTRLEN + 8];
        char addr[INET6_ADDRSTRLEN];

        if (!in->subnets[j] || !cidr_parse(in->subnets[j], net))
            return na_error_set(err, NA_EINVAL, "geo: site '%s': '%s' is not an IPv4 or IPv6 "
                                "subnet (address/prefix)", in->name,
                                in->subnets[j] ? in->subnets[j] : "(null)");
        net->site = k;
        for (size_t m = 0; m < geo->n_nets; m++) {
            const geo_net *o = &geo->nets[m];
            if (o->family == net->family && o->prefix == net->prefix &&
                memcmp(o->addr, net->addr, 16) == 0)
                return na_error_set(err, NA_EINVAL, "geo: subnet '%s' is in both site '%s' "
                                    "and site '%s'", in->subnets[j],
                                    geo->sites[o->site].name, in->name);
        }
        inet_ntop(net->family == 4 ? AF_INET : AF_INET6, net->addr, addr, sizeof(addr));
        snprintf(text, sizeof(text), "%s/%u", addr, net->prefix);
        if (!(subnets[j] = na__arena_strdup(&geo->arena, text)))
            return na_error_set(err, NA_ENOMEM, "geo: out of memory");
        geo->n_nets++;
    }
    return NA_OK;
}

int na__geo_open(const na_geo_site *sites, size_t n_sites, const char *mmdb_path, na_geo **out,
                 na_error *err)
{
    na_geo *geo = calloc(1, sizeof(*geo));
    size_t n_nets = 0;
    int rc = NA_OK;

    *out = NULL;
    if (!geo)
        return na_error_set(err, NA_ENOMEM, "geo: out of memory");
    na__arena_init(&geo->arena);
    for (size_t k = 0; k < n_sites; k++)
        n_nets += sites[k].n_subnets;
    if ((n_sites && !(geo->sites = na__arena_alloc(&geo->arena, n_sites * sizeof(*geo->sites)))) ||
        (n_nets && !(geo->nets = na__arena_alloc(&geo->arena, n_nets * sizeof(*geo->nets))))) {
        rc = na_error_set(err, NA_ENOMEM, "geo: out of memory");
        goto out;
    }
    for (size_t k = 0; k < n_sites; k++) {
        if ((rc = site_add(geo, k, &sites[k], err)) != NA_OK)
            goto out;
        geo->n_sites++;
    }
    if (mmdb_path && mmdb_path[0] && (rc = mmdb_open(geo, mmdb_path, err)) != NA_OK)
        goto out;
    *out = geo;
out:
    if (rc != NA_OK)
        na__geo_free(geo);
    return rc;
}

void na__geo_free(na_geo *geo)
{
    if (!geo)
        return;
    if (geo->has_mmdb)
        MMDB_close(&geo->mmdb);
    na__arena_free(&geo->arena);
    free(geo);
}

const na_geo_site *na__geo_sites(const na_geo *geo, size_t *n)
{
    *n = geo->n_sites;
    return geo->sites;
}

/* ---- locate --------------------------------------------------------------------------------- */

static void from_site(const na_geo *geo, size_t k, const char *source, na_geo_result *out)
{
    const na_geo_site *s = &geo->sites[k];

    out->site = s->name;
    out->source = source;
    if (s->has_coords) {
        out->has_coords = true;
        out->latitude = s->latitude;
        out->longitude = s->longitude;
    }
}

static long site_by_name(const na_geo *geo, const char *name)
{
    for (size_t k = 0; k < geo->n_sites; k++)
        if (strcasecmp(geo->sites[k].name, name) == 0)
            return (long)k;
    return -1;
}

/*
 * The order, most trusted first; the first step that says anything decides, and later steps
 * never add coordinates to an earlier step's site (a site and coordinates from two different
 * sources could contradict each other):
 *   1. config_site / config_coords (the operator said so). A configured site gives its
 *      coordinates ("site:config"); config_coords override them ("config"). A config_site that
 *      names no configured site is still the device's site (result->site points at
 *      config_site itself then) but has no coordinates unless config_coords gives them: the
 *      operator named it, and a typo should show up as a site without a place, not be replaced
 *      by a guess. Out-of-range config_coords are ignored.
 *   2. the longest configured subnet holding mgmt_ip ("subnet").
 *   3. sysLocation: "[lat, lon]" in it, or a bare "lat, lon" as the whole string
 *      ("sysLocation"; the site it names, if any, is the site); else the site it names
 *      ("sysLocation:site").
 *   4. MaxMind, for public addresses only (not RFC 1918, CGNAT, ULA, loopback, link-local,
 *      multicast, unspecified or reserved): a private address would find some unrelated
 *      network's location or nothing ("maxmind").
 */
void na__geo_locate(const na_geo *geo, const char *config_site, const double *config_coords,
                    const char *mgmt_ip, const char *sys_location, na_geo_result *out)
{
    static const na_geo none; /* geo may be NULL: no sites, no database */
    uint8_t a[16];
    int family = 0;
    long best = -1;
    unsigned best_prefix = 0;

    memset(out, 0, sizeof(*out));
    if (!geo)
        geo = &none;
    if (config_coords && !valid_coords(config_coords[0], config_coords[1]))
        config_coords = NULL;
    if ((config_site && !blank(config_site)) || config_coords) {
        long k = config_site && !blank(config_site) ? site_by_name(geo, config_site) : -1;
        if (k >= 0)
            from_site(geo, (size_t)k, "site:config", out);
        else if (config_site && !blank(config_site)) {
            out->site = config_site;
            out->source = "site:config";
        }
        if (config_coords) {
            out->has_coords = true;
            out->latitude = config_coords[0];
            out->longitude = config_coords[1];
            out->source = "config";
        }
        return;
    }
    if (mgmt_ip)
        family = ip_parse(mgmt_ip, strnlen(mgmt_ip, GEO_MAX_IP_TEXT + 1), a);
    for (size_t k = 0; family && k < geo->n_nets; k++) {
        const geo_net *net = &geo->nets[k];
        if (net->family == family && (best < 0 || net->prefix > best_prefix) &&
            in_net(a, net->addr, net->prefix)) {
            best = (long)net->site;
            best_prefix = net->prefix;
        }
    }
    if (best >= 0) {
        from_site(geo, (size_t)best, "subnet", out);
        return;
    }
    if (sys_location) {
        size_t len = strnlen(sys_location, GEO_MAX_LOCATION);
        long k = location_site(geo, sys_location, len);
        double lat, lon;

        if (location_coords(sys_location, len, &lat, &lon)) {
            out->site = k >= 0 ? geo->sites[k].name : NULL;
            out->has_coords = true;
            out->latitude = lat;
            out->longitude = lon;
            out->source = "sysLocation";
            return;
        }
        if (k >= 0) {
            from_site(geo, (size_t)k, "sysLocation:site", out);
            return;
        }
    }
    if (family && geo->has_mmdb && ip_scope(a, family) == NA_IP_PUBLIC)
        mmdb_locate(geo, a, family, out);
}
