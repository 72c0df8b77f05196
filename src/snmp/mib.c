/*
 * mib.c: one device's finished varbind store -> na_snmp_device: the system group, ports
 * (IF-MIB ifTable + ifXTable), LLDP and CDP neighbours, hosts (BRIDGE / Q-BRIDGE forwarding
 * tables joined with ipNetToPhysical / ipNetToMedia), sensors (ENTITY-SENSOR-MIB,
 * CISCO-ENTITY-SENSOR-MIB, ENTITY-MIB classes with ENTITY-STATE-MIB, HOST-RESOURCES-MIB) and the
 * device's own addresses (ipAddrTable / ipAddressTable).
 *
 * Agents send whatever they like: a value of the wrong type, a row whose ifIndex column
 * disagrees with its index, an index with too few components, text that is not UTF-8. None of
 * it is fatal: the cell is skipped and the trouble is counted once per column in dev->problems.
 * The only error is NA_ENOMEM; allocation failures are sticky in the context (c->nomem) so the
 * stages can run to the end and report once.
 */
#include "snmp/snmp.h"
#include "core/text.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- OIDs ------------------------------------------------------------------------------------ */

static const uint32_t OID_SYS_DESCR[] = {1, 3, 6, 1, 2, 1, 1, 1, 0};
static const uint32_t OID_SYS_OBJECTID[] = {1, 3, 6, 1, 2, 1, 1, 2, 0};
static const uint32_t OID_SYS_UPTIME[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
static const uint32_t OID_SYS_CONTACT[] = {1, 3, 6, 1, 2, 1, 1, 4, 0};
static const uint32_t OID_SYS_NAME[] = {1, 3, 6, 1, 2, 1, 1, 5, 0};
static const uint32_t OID_SYS_LOCATION[] = {1, 3, 6, 1, 2, 1, 1, 6, 0};
static const uint32_t OID_LLDP_LOC_CHASSIS_SUBTYPE[] = {1, 0, 8802, 1, 1, 2, 1, 3, 1, 0};
static const uint32_t OID_LLDP_LOC_CHASSIS_ID[] = {1, 0, 8802, 1, 1, 2, 1, 3, 2, 0};

static const uint32_t T_IF[] = {1, 3, 6, 1, 2, 1, 2, 2, 1};               /* ifEntry */
static const uint32_t T_IFX[] = {1, 3, 6, 1, 2, 1, 31, 1, 1, 1};          /* ifXEntry */
static const uint32_t T_LLDP_LOC_PORT[] = {1, 0, 8802, 1, 1, 2, 1, 3, 7, 1};
static const uint32_t T_LLDP_REM[] = {1, 0, 8802, 1, 1, 2, 1, 4, 1, 1};
static const uint32_t T_LLDP_MAN[] = {1, 0, 8802, 1, 1, 2, 1, 4, 2, 1};
/* MIKROTIK-MIB mtxrNeighborInterfaceID: RouterOS indexes lldpRemTable by this table's index */
static const uint32_t T_MTXR_NEIGHBOR[] = {1, 3, 6, 1, 4, 1, 14988, 1, 1, 11, 1, 1};
static const uint32_t T_CDP_CACHE[] = {1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1};
static const uint32_t T_BASE_PORT[] = {1, 3, 6, 1, 2, 1, 17, 1, 4, 1};    /* dot1dBasePortEntry */
static const uint32_t T_TP_FDB[] = {1, 3, 6, 1, 2, 1, 17, 4, 3, 1};       /* dot1dTpFdbEntry */
static const uint32_t T_Q_FDB[] = {1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1};  /* dot1qTpFdbEntry */
static const uint32_t T_Q_VLAN_CUR[] = {1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1};
static const uint32_t T_NET_TO_PHYS[] = {1, 3, 6, 1, 2, 1, 4, 35, 1};
static const uint32_t T_NET_TO_MEDIA[] = {1, 3, 6, 1, 2, 1, 4, 22, 1};
static const uint32_t T_IP_ADDR[] = {1, 3, 6, 1, 2, 1, 4, 20, 1};
static const uint32_t T_IP_ADDRESS[] = {1, 3, 6, 1, 2, 1, 4, 34, 1};
static const uint32_t T_ENT_PHYS[] = {1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1};
static const uint32_t T_ENT_SENSOR[] = {1, 3, 6, 1, 2, 1, 99, 1, 1, 1};
static const uint32_t T_CISCO_SENSOR[] = {1, 3, 6, 1, 4, 1, 9, 9, 91, 1, 1, 1, 1};
static const uint32_t T_ENT_STATE[] = {1, 3, 6, 1, 2, 1, 131, 1, 1, 1};
static const uint32_t T_HR_PROCESSOR[] = {1, 3, 6, 1, 2, 1, 25, 3, 3, 1};
static const uint32_t T_HR_DEVICE[] = {1, 3, 6, 1, 2, 1, 25, 3, 2, 1};
static const uint32_t T_HR_STORAGE[] = {1, 3, 6, 1, 2, 1, 25, 2, 3, 1};
static const uint32_t OID_HR_STORAGE_TYPES[] = {1, 3, 6, 1, 2, 1, 25, 2, 1};

/* ---- growable arrays (malloc'd while interpreting, copied into the device's arena) ----------- */

typedef struct vec {
    void *v;
    size_t n, cap, size;
} vec;

typedef struct ctx {
    const na_snmp_store *st;
    na_snmp_device *dev;
    bool nomem;
} ctx;

static void *vec_push(ctx *c, vec *a)
{
    char *slot;

    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        void *grown = realloc(a->v, cap * a->size);
        if (!grown) {
            c->nomem = true;
            return NULL;
        }
        a->v = grown;
        a->cap = cap;
    }
    slot = (char *)a->v + a->n * a->size;
    memset(slot, 0, a->size);
    a->n++;
    return slot;
}

/* Copies the array into the device's arena (NULL when empty) and frees the vec. */
static void *vec_to_arena(ctx *c, vec *a)
{
    void *out = NULL;

    if (a->n && !c->nomem) {
        out = na__arena_alloc(&c->dev->arena, a->n * a->size);
        if (out)
            memcpy(out, a->v, a->n * a->size);
        else
            c->nomem = true;
    }
    free(a->v);
    a->v = NULL;
    a->cap = 0;
    return out;
}

/* ---- device ---------------------------------------------------------------------------------- */

int na__snmp_device_new(na_snmp_device **out, na_error *err)
{
    na_snmp_device *dev = calloc(1, sizeof(*dev));

    if (!dev)
        return na_error_set(err, NA_ENOMEM, "snmp: out of memory");
    na__arena_init(&dev->arena);
    *out = dev;
    return NA_OK;
}

void na__snmp_device_free(na_snmp_device *dev)
{
    if (!dev)
        return;
    na__arena_free(&dev->arena);
    free(dev);
}

int na__snmp_device_problem(na_snmp_device *dev, const char *fmt, ...)
{
    char buf[512];
    const char *text;
    va_list ap;
    size_t n = dev->n_problems;

    if (n >= NA_SNMP_MAX_PROBLEMS)
        return NA_OK;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (!(text = na__arena_strdup(&dev->arena, buf)))
        return NA_ENOMEM;
    /* capacity is implied by n: 4, then doubling at every power of two from 4 on */
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        size_t cap = n ? n * 2 : 4;
        const char **grown = na__arena_alloc(&dev->arena, cap * sizeof(*grown));
        if (!grown)
            return NA_ENOMEM;
        if (n)
            memcpy(grown, dev->problems, n * sizeof(*grown));
        dev->problems = grown;
    }
    dev->problems[n] = text;
    dev->n_problems = n + 1;
    return NA_OK;
}

static void problem(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(ctx *c, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (na__snmp_device_problem(c->dev, "%s", buf))
        c->nomem = true;
}

const char *na__if_status_name(int status)
{
    static const char *const names[] = {NULL,      "up",      "down",       "testing",
                                        "unknown", "dormant", "notPresent", "lowerLayerDown"};

    return status >= 1 && status <= 7 ? names[status] : NULL;
}

/* ---- store access ---------------------------------------------------------------------------- */

typedef struct row {
    const uint32_t *idx;
    uint32_t len;
} row;

static int row_cmp(const void *x, const void *y)
{
    const row *a = x, *b = y;

    return na__snmp_oid_cmp(a->idx, a->len, b->idx, b->len);
}

/*
 * The distinct row indexes of the conceptual table at prefix (varbinds prefix.column.index...),
 * sorted. Entries without an index are ignored. Caller frees *out (NULL when none).
 */
static size_t table_rows(ctx *c, const uint32_t *prefix, size_t plen, row **out)
{
    size_t first, n = na__snmp_store_subtree(c->st, prefix, plen, &first), w = 0;
    row *rows;

    *out = NULL;
    if (n == 0)
        return 0;
    if (!(rows = malloc(n * sizeof(*rows)))) {
        c->nomem = true;
        return 0;
    }
    for (size_t k = first; k < first + n; k++) {
        const na_snmp_vb *vb = &c->st->vbs[k];
        if (vb->oid_len < plen + 2)
            continue;
        rows[w].idx = vb->oid + plen + 1;
        rows[w].len = vb->oid_len - (uint32_t)plen - 1;
        w++;
    }
    qsort(rows, w, sizeof(*rows), row_cmp);
    n = 0;
    for (size_t k = 0; k < w; k++)
        if (n == 0 || row_cmp(&rows[n - 1], &rows[k]) != 0)
            rows[n++] = rows[k];
    if (n == 0) {
        free(rows);
        rows = NULL;
    }
    *out = rows;
    return n;
}

/* The value at prefix.col.idx, NULL when absent. */
static const na_snmp_vb *cell(const ctx *c, const uint32_t *prefix, size_t plen, uint32_t col,
                              const uint32_t *idx, size_t ilen)
{
    uint32_t oid[NA_SNMP_MAX_OID];

    if (plen + 1 + ilen > NA_SNMP_MAX_OID)
        return NULL;
    memcpy(oid, prefix, plen * sizeof(*oid));
    oid[plen] = col;
    if (ilen)
        memcpy(oid + plen + 1, idx, ilen * sizeof(*oid));
    return na__snmp_store_get(c->st, oid, plen + 1 + ilen);
}

static const na_snmp_vb *cell1(const ctx *c, const uint32_t *prefix, size_t plen, uint32_t col,
                               uint32_t idx)
{
    return cell(c, prefix, plen, col, &idx, 1);
}

static const char *type_name(na_snmp_type t)
{
    switch (t) {
    case NA_SNMP_INTEGER: return "INTEGER";
    case NA_SNMP_OCTETS: return "OCTET STRING";
    case NA_SNMP_OBJECTID: return "OBJECT IDENTIFIER";
    case NA_SNMP_IPADDRESS: return "IpAddress";
    case NA_SNMP_COUNTER32: return "Counter32";
    case NA_SNMP_GAUGE32: return "Gauge32";
    case NA_SNMP_TIMETICKS: return "TimeTicks";
    case NA_SNMP_COUNTER64: return "Counter64";
    case NA_SNMP_OPAQUE: return "Opaque";
    case NA_SNMP_NULL: return "NULL";
    default: return "exception";
    }
}

/* Per-column trouble, reported once per column after the table is read. */
typedef struct colstat {
    const char *name;
    size_t bad;           /* wrong type */
    na_snmp_type type;    /* of the first wrong one */
    size_t range;         /* right type, value out of its range */
    int64_t range_value;
} colstat;

static void col_report(ctx *c, const colstat *cs)
{
    if (cs->bad)
        problem(c, "%s: %zu value%s of wrong type (%s)", cs->name, cs->bad,
                cs->bad == 1 ? "" : "s", type_name(cs->type));
    if (cs->range)
        problem(c, "%s: %zu value%s out of range (first %lld)", cs->name, cs->range,
                cs->range == 1 ? "" : "s", (long long)cs->range_value);
}

static void col_bad(colstat *cs, const na_snmp_vb *vb)
{
    if (cs && !cs->bad++)
        cs->type = vb->type;
}

static void col_range(colstat *cs, int64_t v)
{
    if (cs && !cs->range++)
        cs->range_value = v;
}

/* Any numeric type; false (and counted) otherwise. Negative INTEGERs are out of range. */
static bool get_uint(const na_snmp_vb *vb, colstat *cs, uint64_t *out)
{
    if (!vb)
        return false;
    switch (vb->type) {
    case NA_SNMP_INTEGER:
        if (vb->v.i < 0) {
            col_range(cs, vb->v.i);
            return false;
        }
        *out = (uint64_t)vb->v.i;
        return true;
    case NA_SNMP_COUNTER32:
    case NA_SNMP_GAUGE32:
    case NA_SNMP_TIMETICKS:
    case NA_SNMP_COUNTER64:
        *out = vb->v.u;
        return true;
    default:
        col_bad(cs, vb);
        return false;
    }
}

static bool get_int(const na_snmp_vb *vb, colstat *cs, int64_t *out)
{
    if (!vb)
        return false;
    switch (vb->type) {
    case NA_SNMP_INTEGER:
        *out = vb->v.i;
        return true;
    case NA_SNMP_COUNTER32:
    case NA_SNMP_GAUGE32:
    case NA_SNMP_TIMETICKS:
    case NA_SNMP_COUNTER64:
        if (vb->v.u > INT64_MAX) {
            col_range(cs, INT64_MAX);
            return false;
        }
        *out = (int64_t)vb->v.u;
        return true;
    default:
        col_bad(cs, vb);
        return false;
    }
}

/* An INTEGER enumeration in [lo, hi]. */
static bool get_enum(const na_snmp_vb *vb, colstat *cs, int lo, int hi, int *out)
{
    int64_t v;

    if (!get_int(vb, cs, &v))
        return false;
    if (v < lo || v > hi) {
        col_range(cs, v);
        return false;
    }
    *out = (int)v;
    return true;
}

static bool get_octets(const na_snmp_vb *vb, colstat *cs, const uint8_t **p, size_t *len)
{
    if (!vb)
        return false;
    if (vb->type != NA_SNMP_OCTETS) {
        col_bad(cs, vb);
        return false;
    }
    *p = vb->v.s;
    *len = vb->len;
    return true;
}

/* ---- text ------------------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at p (1..4), 0 when not valid (same rules as jansson). */
static size_t utf8_seq(const uint8_t *p, size_t len)
{
    uint8_t b = p[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf;

    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        if (b == 0xe0)
            lo = 0xa0;
        else if (b == 0xed)
            hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (len < need + 1 || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if (p[k] < 0x80 || p[k] > 0xbf)
            return 0;
    return need + 1;
}

static size_t trim_nuls(const uint8_t *p, size_t len)
{
    while (len > 0 && p[len - 1] == 0)
        len--;
    return len;
}

/*
 * Display text (sysDescr, ifAlias, lldpRemSysName, ...) in the device's arena: trailing NULs
 * dropped, embedded NULs dropped, bytes that are not UTF-8 read as Latin-1, so the result is
 * always valid UTF-8 for JSON. NULL when empty.
 */
static const char *text_dup(ctx *c, const uint8_t *p, size_t len)
{
    char *out;
    size_t w = 0;

    len = trim_nuls(p, len);
    if (len == 0)
        return NULL;
    if (!(out = na__arena_alloc(&c->dev->arena, 2 * len + 1))) {
        c->nomem = true;
        return NULL;
    }
    for (size_t k = 0; k < len;) {
        size_t s = utf8_seq(p + k, len - k);
        if (s == 0) {
            out[w++] = (char)(0xc0 | p[k] >> 6);
            out[w++] = (char)(0x80 | (p[k] & 0x3f));
            k++;
        } else {
            if (!(s == 1 && p[k] == 0)) {
                memcpy(out + w, p + k, s);
                w += s;
            }
            k += s;
        }
    }
    out[w] = 0;
    return w ? out : NULL;
}

static const char *vb_text(ctx *c, const na_snmp_vb *vb, colstat *cs)
{
    const uint8_t *p;
    size_t len;

    return get_octets(vb, cs, &p, &len) ? text_dup(c, p, len) : NULL;
}

static bool printable(const uint8_t *p, size_t len)
{
    for (size_t k = 0; k < len; k++)
        if (p[k] < 0x20 || p[k] > 0x7e)
            return false;
    return true;
}

static const char *hex_colon(ctx *c, const uint8_t *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *out;

    if (len == 0)
        return NULL;
    if (!(out = na__arena_alloc(&c->dev->arena, len * 3))) {
        c->nomem = true;
        return NULL;
    }
    for (size_t k = 0; k < len; k++) {
        out[3 * k] = hex[p[k] >> 4];
        out[3 * k + 1] = hex[p[k] & 15];
        out[3 * k + 2] = k + 1 < len ? ':' : 0;
    }
    return out;
}

/* An identifier (chassis id, port id): printable ASCII as is, anything else as hex. */
static const char *id_text(ctx *c, const uint8_t *p, size_t len)
{
    size_t t = trim_nuls(p, len);

    const char *s;

    if (t == 0 || !printable(p, t))
        return hex_colon(c, p, len);
    if (!(s = na__arena_strndup(&c->dev->arena, (const char *)p, t)))
        c->nomem = true;
    return s;
}

/* "aa:bb:cc:dd:ee:ff", "aa-bb-...", "aabb.ccdd.eeff", "aabbccddeeff" (any case) -> 6 bytes. */
static bool parse_mac_text(const uint8_t *p, size_t len, uint8_t mac[6])
{
    int digits = 0;

    len = trim_nuls(p, len);
    if (len < 12 || len > 17)
        return false;
    for (size_t k = 0; k < len; k++) {
        int h = na__hex_digit(p[k]);
        if (h < 0) {
            if (p[k] != ':' && p[k] != '-' && p[k] != '.')
                return false;
            continue;
        }
        if (digits >= 12)
            return false;
        if (digits % 2 == 0)
            mac[digits / 2] = (uint8_t)(h << 4);
        else
            mac[digits / 2] |= (uint8_t)h;
        digits++;
    }
    if (digits != 12)
        return false;
    /* separators must be regular: 17 chars with 5, 14 with 2 dots, or none */
    return len == 12 || len == 17 || (len == 14 && p[4] == '.' && p[9] == '.');
}

static const char *mac_text(ctx *c, const uint8_t mac[6])
{
    char *out = na__arena_alloc(&c->dev->arena, 18);

    if (!out) {
        c->nomem = true;
        return NULL;
    }
    return na__snmp_mac_format(mac, out);
}

static const char *ip_text(ctx *c, int family, const uint8_t *addr)
{
    char buf[INET6_ADDRSTRLEN];
    const char *s;

    if (!inet_ntop(family, addr, buf, sizeof(buf)))
        return NULL;
    if (!(s = na__arena_strdup(&c->dev->arena, buf)))
        c->nomem = true;
    return s;
}

static const char *u64_text(ctx *c, uint64_t v)
{
    char buf[24];
    const char *s;

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    if (!(s = na__arena_strdup(&c->dev->arena, buf)))
        c->nomem = true;
    return s;
}

static bool mac_zero(const uint8_t m[6])
{
    return !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

/*
 * LLDP chassis / port id by subtype: MAC subtypes (chassis 4, port 3) as "aa:bb:...", network
 * addresses (chassis 5, port 4: IANA family byte + address) as IP text, else printable text or
 * hex. *mac is set when the id is a MAC.
 */
static const char *lldp_id(ctx *c, int subtype, bool chassis, const uint8_t *p, size_t len,
                           uint8_t mac[6], bool *is_mac)
{
    int mac_sub = chassis ? 4 : 3, addr_sub = chassis ? 5 : 4;

    *is_mac = false;
    if (subtype == mac_sub) {
        if (len == 6) {
            memcpy(mac, p, 6);
            *is_mac = true;
            return mac_text(c, mac);
        }
        /* some agents (RouterOS) send the MAC as text */
        if (parse_mac_text(p, len, mac)) {
            *is_mac = true;
            return mac_text(c, mac);
        }
    } else if (subtype == addr_sub) {
        if (len == 5 && p[0] == 1)
            return ip_text(c, AF_INET, p + 1);
        if (len == 17 && p[0] == 2)
            return ip_text(c, AF_INET6, p + 1);
        if (len == 4)
            return ip_text(c, AF_INET, p);
        if (len == 16)
            return ip_text(c, AF_INET6, p);
    }
    return id_text(c, p, len);
}

/* ---- system ---------------------------------------------------------------------------------- */

static const na_snmp_vb *scalar(const ctx *c, const uint32_t *oid, size_t len)
{
    return na__snmp_store_get(c->st, oid, len);
}

static void interpret_system(ctx *c)
{
    na_snmp_system *sys = &c->dev->sys;
    colstat cs_descr = {"sysDescr"}, cs_oid = {"sysObjectID"}, cs_up = {"sysUpTime"},
            cs_contact = {"sysContact"}, cs_name = {"sysName"}, cs_loc = {"sysLocation"},
            cs_csub = {"lldpLocChassisIdSubtype"}, cs_cid = {"lldpLocChassisId"};
    const na_snmp_vb *vb;
    const uint8_t *p;
    size_t len;
    uint64_t u;

    sys->descr = vb_text(c, scalar(c, OID_SYS_DESCR, N_OF(OID_SYS_DESCR)), &cs_descr);
    vb = scalar(c, OID_SYS_OBJECTID, N_OF(OID_SYS_OBJECTID));
    if (vb && vb->type == NA_SNMP_OBJECTID) {
        char buf[NA_SNMP_MAX_OID * 11 + 1];
        na__snmp_oid_format(vb->v.oid, vb->len, buf, sizeof(buf));
        if (buf[0] && !(sys->object_id = na__arena_strdup(&c->dev->arena, buf)))
            c->nomem = true;
    } else if (vb) {
        col_bad(&cs_oid, vb);
    }
    vb = scalar(c, OID_SYS_UPTIME, N_OF(OID_SYS_UPTIME));
    if (get_uint(vb, &cs_up, &u)) {
        if (u > UINT32_MAX)
            col_range(&cs_up, (int64_t)u);
        else {
            sys->has_uptime = true;
            sys->uptime = (uint32_t)u;
        }
    }
    sys->contact = vb_text(c, scalar(c, OID_SYS_CONTACT, N_OF(OID_SYS_CONTACT)), &cs_contact);
    sys->name = vb_text(c, scalar(c, OID_SYS_NAME, N_OF(OID_SYS_NAME)), &cs_name);
    sys->location = vb_text(c, scalar(c, OID_SYS_LOCATION, N_OF(OID_SYS_LOCATION)), &cs_loc);

    get_enum(scalar(c, OID_LLDP_LOC_CHASSIS_SUBTYPE, N_OF(OID_LLDP_LOC_CHASSIS_SUBTYPE)),
             &cs_csub, 1, 7, &sys->chassis_subtype);
    if (get_octets(scalar(c, OID_LLDP_LOC_CHASSIS_ID, N_OF(OID_LLDP_LOC_CHASSIS_ID)), &cs_cid, &p,
                   &len)) {
        uint8_t mac[6];
        bool is_mac;
        sys->chassis_id = lldp_id(c, sys->chassis_subtype, true, p, len, mac, &is_mac);
        if (is_mac) {
            uint8_t *m = na__arena_alloc(&c->dev->arena, 6);
            if (m) {
                memcpy(m, mac, 6);
                sys->chassis_mac = m;
            } else {
                c->nomem = true;
            }
        }
    }
    col_report(c, &cs_descr);
    col_report(c, &cs_oid);
    col_report(c, &cs_up);
    col_report(c, &cs_contact);
    col_report(c, &cs_name);
    col_report(c, &cs_loc);
    col_report(c, &cs_csub);
    col_report(c, &cs_cid);
}

/* ---- ports ----------------------------------------------------------------------------------- */

enum {
    C_IFINDEX, C_DESCR, C_TYPE, C_MTU, C_SPEED, C_PHYS, C_ADMIN, C_OPER, C_LASTCHANGE,
    C_IN_OCT, C_IN_UCAST, C_IN_DISC, C_IN_ERR, C_OUT_OCT, C_OUT_UCAST, C_OUT_DISC, C_OUT_ERR,
    C_NAME, C_HC_IN_OCT, C_HC_IN_UCAST, C_HC_OUT_OCT, C_HC_OUT_UCAST, C_HIGHSPEED, C_ALIAS,
    C_COUNT
};

static const struct {
    const char *name;
    bool ifx;
    uint32_t col;
} if_cols[C_COUNT] = {
    [C_IFINDEX] = {"ifIndex", false, 1},        [C_DESCR] = {"ifDescr", false, 2},
    [C_TYPE] = {"ifType", false, 3},            [C_MTU] = {"ifMtu", false, 4},
    [C_SPEED] = {"ifSpeed", false, 5},          [C_PHYS] = {"ifPhysAddress", false, 6},
    [C_ADMIN] = {"ifAdminStatus", false, 7},    [C_OPER] = {"ifOperStatus", false, 8},
    [C_LASTCHANGE] = {"ifLastChange", false, 9},
    [C_IN_OCT] = {"ifInOctets", false, 10},     [C_IN_UCAST] = {"ifInUcastPkts", false, 11},
    [C_IN_DISC] = {"ifInDiscards", false, 13},  [C_IN_ERR] = {"ifInErrors", false, 14},
    [C_OUT_OCT] = {"ifOutOctets", false, 16},   [C_OUT_UCAST] = {"ifOutUcastPkts", false, 17},
    [C_OUT_DISC] = {"ifOutDiscards", false, 19}, [C_OUT_ERR] = {"ifOutErrors", false, 20},
    [C_NAME] = {"ifName", true, 1},             [C_HC_IN_OCT] = {"ifHCInOctets", true, 6},
    [C_HC_IN_UCAST] = {"ifHCInUcastPkts", true, 7},
    [C_HC_OUT_OCT] = {"ifHCOutOctets", true, 10},
    [C_HC_OUT_UCAST] = {"ifHCOutUcastPkts", true, 11},
    [C_HIGHSPEED] = {"ifHighSpeed", true, 15},  [C_ALIAS] = {"ifAlias", true, 18},
};

typedef struct port_reader {
    ctx *c;
    uint32_t index;
    colstat cs[C_COUNT];
} port_reader;

static const na_snmp_vb *pcell(port_reader *r, int col)
{
    if (if_cols[col].ifx)
        return cell1(r->c, T_IFX, N_OF(T_IFX), if_cols[col].col, r->index);
    return cell1(r->c, T_IF, N_OF(T_IF), if_cols[col].col, r->index);
}

static bool pget_uint(port_reader *r, int col, uint64_t *out)
{
    return get_uint(pcell(r, col), &r->cs[col], out);
}

/* A Counter32 / Gauge32 column: values past 32 bits are out of range. */
static bool pget_u32(port_reader *r, int col, uint64_t *out)
{
    if (!pget_uint(r, col, out))
        return false;
    if (*out > UINT32_MAX) {
        col_range(&r->cs[col], (int64_t)*out);
        return false;
    }
    return true;
}

static void read_port(port_reader *r, na_snmp_port *p, size_t *mismatch, int64_t *first_bad)
{
    ctx *c = r->c;
    const uint8_t *s;
    size_t len;
    int64_t i;
    uint64_t u, hs, in8, out8, in_u, out_u, in_e = 0, out_e = 0, in_d = 0, out_d = 0;
    bool hc_oct, hc_ucast, have_e, got_in, got_out;

    p->if_index = r->index;
    p->mtu = -1;
    if (get_int(pcell(r, C_IFINDEX), &r->cs[C_IFINDEX], &i) && i != (int64_t)r->index) {
        if (!(*mismatch)++)
            *first_bad = i;
    }
    p->descr = vb_text(c, pcell(r, C_DESCR), &r->cs[C_DESCR]);
    p->name = vb_text(c, pcell(r, C_NAME), &r->cs[C_NAME]);
    p->alias = vb_text(c, pcell(r, C_ALIAS), &r->cs[C_ALIAS]);
    if (get_int(pcell(r, C_TYPE), &r->cs[C_TYPE], &i)) {
        if (i < 0 || i > INT32_MAX)
            col_range(&r->cs[C_TYPE], i);
        else
            p->if_type = (int)i;
    }
    if (get_int(pcell(r, C_MTU), &r->cs[C_MTU], &i))
        p->mtu = i;
    if (pget_uint(r, C_HIGHSPEED, &hs) && hs > 0 && hs <= UINT64_MAX / 1000000u)
        p->speed_bps = hs * 1000000u;
    else if (pget_uint(r, C_SPEED, &u))
        p->speed_bps = u;
    if (get_octets(pcell(r, C_PHYS), &r->cs[C_PHYS], &s, &len) && len == 6 && !mac_zero(s)) {
        memcpy(p->mac, s, 6);
        p->has_mac = true;
    }
    get_enum(pcell(r, C_ADMIN), &r->cs[C_ADMIN], 1, 7, &p->admin_status);
    get_enum(pcell(r, C_OPER), &r->cs[C_OPER], 1, 7, &p->oper_status);
    if (pget_u32(r, C_LASTCHANGE, &u))
        p->last_change = (uint32_t)u;

    /* 64-bit counters when the agent has them. Both columns of a pair are read either way, so
     * a wrong type in either is counted. */
    got_in = pget_uint(r, C_HC_IN_OCT, &in8);
    got_out = pget_uint(r, C_HC_OUT_OCT, &out8);
    hc_oct = got_in && got_out;
    got_in = pget_uint(r, C_HC_IN_UCAST, &in_u);
    got_out = pget_uint(r, C_HC_OUT_UCAST, &out_u);
    hc_ucast = got_in && got_out;
    if (hc_oct) {
        p->has_octets = p->counters_64 = true;
        p->in_octets = in8;
        p->out_octets = out8;
        if (hc_ucast) {
            p->in_ucast = in_u;
            p->out_ucast = out_u;
        }
    } else {
        got_in = pget_u32(r, C_IN_OCT, &in8);
        got_out = pget_u32(r, C_OUT_OCT, &out8);
        if (got_in && got_out) {
            p->has_octets = true;
            p->in_octets = in8;
            p->out_octets = out8;
            if (pget_u32(r, C_IN_UCAST, &in_u))
                p->in_ucast = in_u;
            if (pget_u32(r, C_OUT_UCAST, &out_u))
                p->out_ucast = out_u;
        }
    }
    have_e = pget_u32(r, C_IN_ERR, &in_e);
    have_e |= pget_u32(r, C_OUT_ERR, &out_e);
    have_e |= pget_u32(r, C_IN_DISC, &in_d);
    have_e |= pget_u32(r, C_OUT_DISC, &out_d);
    if (have_e) {
        p->has_errors = true;
        p->in_errors = in_e;
        p->out_errors = out_e;
        p->in_discards = in_d;
        p->out_discards = out_d;
    }
}

/*
 * ZyNOS (Zyxel, enterprise 890) names its ports swp00, swp01, ...; the CLI, the front panel and
 * LibreNMS say slot/port: swp0..49 are 1/01..1/50, swp64.. slot 2, swp128.. slot 3, swp192..
 * slot 4. The agent's name stays in ifDescr.
 */
static void zynos_port_names(ctx *c)
{
    static const char zyxel[] = "1.3.6.1.4.1.890.";
    const char *oid = c->dev->sys.object_id;

    if (!oid || strncmp(oid, zyxel, sizeof(zyxel) - 1) != 0)
        return;
    for (size_t k = 0; k < c->dev->n_ports; k++) {
        na_snmp_port *p = &c->dev->ports[k];
        char buf[48];
        long num, slot;
        char *s;

        if (!p->name || strncmp(p->name, "swp", 3) != 0 || !p->name[3] ||
            strspn(p->name + 3, "0123456789") != strlen(p->name + 3) || strlen(p->name) > 8)
            continue;
        num = strtol(p->name + 3, NULL, 10);
        if (num < 50)
            slot = 1, num += 1;
        else if (num > 63 && num < 128)
            slot = 2, num -= 63;
        else if (num > 127 && num < 192)
            slot = 3, num -= 127;
        else if (num > 191)
            slot = 4, num -= 191;
        else
            continue;
        snprintf(buf, sizeof(buf), "%ld/%02ld", slot, num);
        if (!p->descr)
            p->descr = p->name;
        if (!(s = na__arena_strdup(&c->dev->arena, buf))) {
            c->nomem = true;
            return;
        }
        p->name = s;
    }
}

static void interpret_ports(ctx *c)
{
    port_reader r = {.c = c};
    row *a = NULL, *b = NULL;
    size_t na = table_rows(c, T_IF, N_OF(T_IF), &a);
    size_t nb = table_rows(c, T_IFX, N_OF(T_IFX), &b);
    uint32_t *idx = NULL;
    size_t n = 0, bad_index = 0, mismatch = 0;
    int64_t first_bad = 0;
    na_snmp_port *ports = NULL;

    if (c->nomem || na + nb == 0)
        goto out;
    if (!(idx = malloc((na + nb) * sizeof(*idx)))) {
        c->nomem = true;
        goto out;
    }
    /* both lists are sorted: merge the single-component indexes */
    for (size_t i = 0, j = 0; i < na || j < nb;) {
        const row *pick;
        if (j >= nb || (i < na && row_cmp(&a[i], &b[j]) <= 0))
            pick = &a[i++];
        else
            pick = &b[j++];
        if (pick->len != 1) {
            bad_index++;
            continue;
        }
        if (n == 0 || idx[n - 1] != pick->idx[0])
            idx[n++] = pick->idx[0];
    }
    if (bad_index)
        problem(c, "ifTable/ifXTable: %zu entr%s with a malformed index skipped", bad_index,
                bad_index == 1 ? "y" : "ies");
    if (n == 0)
        goto out;
    if (!(ports = na__arena_alloc(&c->dev->arena, n * sizeof(*ports)))) {
        c->nomem = true;
        goto out;
    }
    memset(ports, 0, n * sizeof(*ports));
    for (int k = 0; k < C_COUNT; k++)
        r.cs[k].name = if_cols[k].name;
    for (size_t k = 0; k < n; k++) {
        r.index = idx[k];
        read_port(&r, &ports[k], &mismatch, &first_bad);
    }
    c->dev->ports = ports;
    c->dev->n_ports = n;
    zynos_port_names(c);
    for (int k = 0; k < C_COUNT; k++)
        col_report(c, &r.cs[k]);
    if (mismatch)
        problem(c, "ifIndex: %zu row%s whose ifIndex value differs from the index (first: %lld)",
                mismatch, mismatch == 1 ? "" : "s", (long long)first_bad);
out:
    free(idx);
    free(a);
    free(b);
}

/* Ports are sorted by ifIndex. */
na_snmp_port *na__snmp_port_find(const na_snmp_device *dev, int64_t if_index)
{
    size_t lo = 0, hi = dev->n_ports;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dev->ports[mid].if_index < if_index)
            lo = mid + 1;
        else if (dev->ports[mid].if_index > if_index)
            hi = mid;
        else
            return &dev->ports[mid];
    }
    return NULL;
}

static const char *port_label(const na_snmp_port *p)
{
    return p ? (p->name ? p->name : p->descr) : NULL;
}

/* The only port whose name (0), descr (1) or alias (2) is s; NULL when none or several. */
static const na_snmp_port *port_unique_by_text(const na_snmp_device *dev, int field, const char *s)
{
    const na_snmp_port *hit = NULL;

    for (size_t k = 0; k < dev->n_ports; k++) {
        const na_snmp_port *p = &dev->ports[k];
        const char *v = field == 0 ? p->name : field == 1 ? p->descr : p->alias;
        if (v && strcmp(v, s) == 0) {
            if (hit)
                return NULL;
            hit = p;
        }
    }
    return hit;
}

static const na_snmp_port *port_unique_by_mac(const na_snmp_device *dev, const uint8_t mac[6])
{
    const na_snmp_port *hit = NULL;

    for (size_t k = 0; k < dev->n_ports; k++) {
        const na_snmp_port *p = &dev->ports[k];
        if (p->has_mac && memcmp(p->mac, mac, 6) == 0) {
            if (hit)
                return NULL;
            hit = p;
        }
    }
    return hit;
}

/* The last number in a port's name ("gigabitEthernet 1/0/18 : fiber" -> 18), -1 if none. */
static long last_number(const char *s)
{
    long v = -1;

    for (const char *p = s; p && *p; p++) {
        if (*p < '0' || *p > '9')
            continue;
        v = 0;
        while (*p >= '0' && *p <= '9' && v < 100000000)
            v = v * 10 + (*p++ - '0');
        while (*p >= '0' && *p <= '9')
            p++;
        if (!*p)
            break;
    }
    return v;
}

/*
 * The only port whose name (else description) ends in number num: a last resort for LLDP local
 * port numbers that name no ifIndex, no bridge port and no lldpLocPortTable entry we can read.
 */
static const na_snmp_port *port_unique_by_number(const na_snmp_device *dev, uint32_t num)
{
    const na_snmp_port *hit = NULL;

    for (size_t k = 0; k < dev->n_ports; k++) {
        const na_snmp_port *p = &dev->ports[k];
        if (last_number(p->name ? p->name : p->descr) != (long)num)
            continue;
        if (hit)
            return NULL;
        hit = p;
    }
    return hit;
}

/* ---- LLDP / CDP ------------------------------------------------------------------------------ */

typedef struct loc_port {
    uint32_t num;
    const uint8_t *id;
    size_t id_len;
    int subtype;
    int64_t if_index;        /* -1 unmapped */
    const char *id_text;
} loc_port;

/* Which port an lldpLocPortId / lldpLocPortDesc names: ifName, ifDescr, ifAlias, MAC, ifIndex. */
static const na_snmp_port *match_port_text(ctx *c, const char *s)
{
    const na_snmp_port *p = NULL;
    uint8_t mac[6];

    for (int field = 0; field < 3 && !p; field++)
        p = port_unique_by_text(c->dev, field, s);
    if (!p && parse_mac_text((const uint8_t *)s, strlen(s), mac))
        p = port_unique_by_mac(c->dev, mac);
    if (!p && s[0] && strlen(s) <= 10 && strspn(s, "0123456789") == strlen(s))
        p = na__snmp_port_find(c->dev, strtoll(s, NULL, 10));
    return p;
}

/* lldpLocPortTable: local port number -> ifIndex. Caller frees *out. */
static size_t read_loc_ports(ctx *c, loc_port **out)
{
    row *rows = NULL;
    size_t n = table_rows(c, T_LLDP_LOC_PORT, N_OF(T_LLDP_LOC_PORT), &rows), w = 0;
    colstat cs_sub = {"lldpLocPortIdSubtype"}, cs_id = {"lldpLocPortId"},
            cs_desc = {"lldpLocPortDesc"};
    loc_port *lp = NULL;

    *out = NULL;
    if (n && !(lp = calloc(n, sizeof(*lp)))) {
        c->nomem = true;
        n = 0;
    }
    for (size_t k = 0; k < n; k++) {
        loc_port *l = &lp[w];
        if (rows[k].len != 1)
            continue;
        l->num = rows[k].idx[0];
        l->if_index = -1;
        get_enum(cell1(c, T_LLDP_LOC_PORT, N_OF(T_LLDP_LOC_PORT), 2, l->num), &cs_sub, 1, 7,
                 &l->subtype);
        get_octets(cell1(c, T_LLDP_LOC_PORT, N_OF(T_LLDP_LOC_PORT), 3, l->num), &cs_id, &l->id,
                   &l->id_len);
        w++;
    }
    for (size_t k = 0; k < w; k++) {
        loc_port *l = &lp[k];
        const na_snmp_port *p = NULL;
        bool unique = l->id_len > 0;
        const uint8_t *d;
        size_t dlen;

        /* an id that several local ports share (some agents send the chassis MAC) says nothing */
        for (size_t j = 0; j < w && unique; j++)
            if (j != k && lp[j].id_len == l->id_len && memcmp(lp[j].id, l->id, l->id_len) == 0)
                unique = false;
        if (l->id_len)
            l->id_text = id_text(c, l->id, l->id_len);
        if (unique) {
            size_t t = trim_nuls(l->id, l->id_len);
            if (l->id_len == 6 && (l->subtype == 3 || !printable(l->id, t)))
                p = port_unique_by_mac(c->dev, l->id);
            else if (t > 0 && printable(l->id, t)) {
                const char *s = text_dup(c, l->id, l->id_len);
                if (s)
                    p = match_port_text(c, s);
            }
        }
        if (!p && get_octets(cell1(c, T_LLDP_LOC_PORT, N_OF(T_LLDP_LOC_PORT), 4, l->num),
                             &cs_desc, &d, &dlen)) {
            const char *s = text_dup(c, d, dlen);
            for (int field = 0; s && field < 3 && !p; field++)
                p = port_unique_by_text(c->dev, field, s);
        }
        if (p)
            l->if_index = p->if_index;
    }
    col_report(c, &cs_sub);
    col_report(c, &cs_id);
    col_report(c, &cs_desc);
    free(rows);
    *out = lp;
    return w;
}

static loc_port *loc_port_find(loc_port *lp, size_t n, uint32_t num)
{
    for (size_t k = 0; k < n; k++)
        if (lp[k].num == num)
            return &lp[k];
    return NULL;
}

/* The neighbour's row key, for joining lldpRemManAddrTable. */
typedef struct nb_key {
    bool has_port;
    uint32_t port, index;
    int mgmt_rank;           /* of the address chosen so far, -1 none */
} nb_key;

/* Maps an LLDP local port number to a port: lldpLocPortTable, else ifIndex, else bridge port. */
static void map_local_port(ctx *c, loc_port *lp, size_t nlp, uint32_t num, na_snmp_neighbor *nb)
{
    loc_port *l = loc_port_find(lp, nlp, num);
    const na_snmp_port *p = NULL;
    uint64_t u;

    if (l && l->if_index >= 0)
        p = na__snmp_port_find(c->dev, l->if_index);
    if (!p)
        p = na__snmp_port_find(c->dev, num);
    if (!p && get_uint(cell1(c, T_BASE_PORT, N_OF(T_BASE_PORT), 2, num), NULL, &u))
        p = na__snmp_port_find(c->dev, (int64_t)u);
    if (!p)
        p = port_unique_by_number(c->dev, num);
    nb->local_if_index = p ? p->if_index : -1;
    nb->local_if_name = port_label(p);
    nb->local_port_id = l && l->id_text ? l->id_text : u64_text(c, num);
}

static void read_lldp_row(ctx *c, const row *r, loc_port *lp, size_t nlp, colstat *cs,
                          vec *nbs, vec *keys, size_t *empty)
{
    const size_t pl = N_OF(T_LLDP_REM);
    na_snmp_neighbor nb = {.protocol = "lldp", .local_if_index = -1};
    nb_key key = {.mgmt_rank = -1};
    const uint8_t *p;
    size_t len;
    uint8_t mac[6];
    bool is_mac;
    const char *sysname, *sysdesc;
    na_snmp_neighbor *slot;
    nb_key *kslot;

    get_enum(cell(c, T_LLDP_REM, pl, 4, r->idx, r->len), &cs[0], 1, 7, &nb.chassis_subtype);
    if (get_octets(cell(c, T_LLDP_REM, pl, 5, r->idx, r->len), &cs[1], &p, &len) && len)
        nb.remote_chassis_id = lldp_id(c, nb.chassis_subtype, true, p, len, mac, &is_mac);
    get_enum(cell(c, T_LLDP_REM, pl, 6, r->idx, r->len), &cs[2], 1, 7, &nb.port_subtype);
    if (get_octets(cell(c, T_LLDP_REM, pl, 7, r->idx, r->len), &cs[3], &p, &len) && len)
        nb.remote_port = lldp_id(c, nb.port_subtype, false, p, len, mac, &is_mac);
    nb.remote_port_descr = vb_text(c, cell(c, T_LLDP_REM, pl, 8, r->idx, r->len), &cs[4]);
    sysname = vb_text(c, cell(c, T_LLDP_REM, pl, 9, r->idx, r->len), &cs[5]);
    sysdesc = vb_text(c, cell(c, T_LLDP_REM, pl, 10, r->idx, r->len), &cs[6]);
    if (!nb.remote_chassis_id && !nb.remote_port && !sysname && !sysdesc) {
        (*empty)++;
        return;
    }
    /* like LibreNMS: a neighbour that sends no name is known by its description */
    nb.remote_sysname = sysname ? sysname : sysdesc;
    nb.remote_sysdescr = sysdesc;
    nb.remote_platform = sysdesc;

    /* standard index: timeMark.localPortNum.index; without the time mark: localPortNum.index;
     * RouterOS: one component, the MIKROTIK-MIB neighbour index (which names the ifIndex) */
    if (r->len >= 3 || r->len == 2) {
        key.has_port = true;
        key.port = r->idx[r->len >= 3 ? 1 : 0];
        key.index = r->idx[r->len >= 3 ? 2 : 1];
        map_local_port(c, lp, nlp, key.port, &nb);
    } else {
        int64_t i;
        key.index = r->idx[0];
        if (get_int(cell1(c, T_MTXR_NEIGHBOR, N_OF(T_MTXR_NEIGHBOR), 8, r->idx[0]), NULL, &i)) {
            const na_snmp_port *lport = na__snmp_port_find(c->dev, i);
            if (lport) {
                nb.local_if_index = lport->if_index;
                nb.local_if_name = port_label(lport);
                nb.local_port_id = u64_text(c, (uint64_t)lport->if_index);
            }
        }
    }
    if (!(slot = vec_push(c, nbs)) || !(kslot = vec_push(c, keys)))
        return;
    *slot = nb;
    *kslot = key;
}

/* lldpRemManAddrTable: timeMark.localPortNum.index.addrSubtype.addrLen.addr... */
static void read_lldp_mgmt(ctx *c, vec *nbs, vec *keys)
{
    row *rows = NULL;
    size_t n = table_rows(c, T_LLDP_MAN, N_OF(T_LLDP_MAN), &rows);

    for (size_t k = 0; k < n; k++) {
        const uint32_t *x = rows[k].idx;
        size_t len = rows[k].len, off;
        uint8_t addr[16];
        int family, rank;

        if (len < 5)
            continue;
        off = 5;
        if (x[3] == 1 && x[4] == 4 && len == off + 4)
            family = AF_INET;
        else if (x[3] == 2 && x[4] == 16 && len == off + 16)
            family = AF_INET6;
        else
            continue;
        for (size_t b = 0; b < x[4]; b++) {
            if (x[off + b] > 255)
                goto next;
            addr[b] = (uint8_t)x[off + b];
        }
        /* IPv4 first; link-local addresses only when nothing better was sent */
        if (family == AF_INET)
            rank = addr[0] == 169 && addr[1] == 254 ? 1 : 3;
        else
            rank = addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80 ? 0 : 2;
        for (size_t j = 0; j < nbs->n; j++) {
            na_snmp_neighbor *nb = (na_snmp_neighbor *)nbs->v + j;
            nb_key *key = (nb_key *)keys->v + j;
            if (!key->has_port || key->port != x[1] || key->index != x[2] ||
                key->mgmt_rank >= rank)
                continue;
            nb->remote_mgmt_ip = ip_text(c, family, addr);
            key->mgmt_rank = rank;
        }
    next:;
    }
    free(rows);
}

static void read_cdp(ctx *c, vec *nbs, vec *keys)
{
    const size_t pl = N_OF(T_CDP_CACHE);
    row *rows = NULL;
    size_t n = table_rows(c, T_CDP_CACHE, pl, &rows), bad_index = 0;
    colstat cs_atype = {"cdpCacheAddressType"}, cs_addr = {"cdpCacheAddress"},
            cs_ver = {"cdpCacheVersion"}, cs_dev = {"cdpCacheDeviceId"},
            cs_port = {"cdpCacheDevicePort"}, cs_plat = {"cdpCachePlatform"};

    for (size_t k = 0; k < n; k++) {
        const row *r = &rows[k];
        na_snmp_neighbor nb = {.protocol = "cdp", .local_if_index = -1};
        const na_snmp_port *lport;
        const uint8_t *p;
        size_t len;
        int atype = 0;
        na_snmp_neighbor *slot;
        nb_key *kslot;

        if (r->len != 2) {
            bad_index++;
            continue;
        }
        lport = na__snmp_port_find(c->dev, r->idx[0]);
        if (lport) {
            nb.local_if_index = lport->if_index;
            nb.local_if_name = port_label(lport);
        }
        nb.local_port_id = u64_text(c, r->idx[0]);
        nb.remote_sysname = vb_text(c, cell(c, T_CDP_CACHE, pl, 6, r->idx, 2), &cs_dev);
        nb.remote_port = vb_text(c, cell(c, T_CDP_CACHE, pl, 7, r->idx, 2), &cs_port);
        nb.remote_platform = vb_text(c, cell(c, T_CDP_CACHE, pl, 8, r->idx, 2), &cs_plat);
        nb.remote_sysdescr = vb_text(c, cell(c, T_CDP_CACHE, pl, 5, r->idx, 2), &cs_ver);
        get_enum(cell(c, T_CDP_CACHE, pl, 3, r->idx, 2), &cs_atype, 0, 65535, &atype);
        if (get_octets(cell(c, T_CDP_CACHE, pl, 4, r->idx, 2), &cs_addr, &p, &len)) {
            /* CiscoNetworkProtocol ip(1) / ipv6(20); an untyped 4-byte address is IPv4 */
            if (len == 4 && (atype == 1 || atype == 0))
                nb.remote_mgmt_ip = ip_text(c, AF_INET, p);
            else if (len == 16 && atype == 20)
                nb.remote_mgmt_ip = ip_text(c, AF_INET6, p);
        }
        if (!nb.remote_sysname && !nb.remote_port && !nb.remote_mgmt_ip)
            continue;
        if (!(slot = vec_push(c, nbs)) || !(kslot = vec_push(c, keys)))
            break;
        *slot = nb;
        kslot->mgmt_rank = -1;
    }
    if (bad_index)
        problem(c, "cdpCacheTable: %zu entr%s with a malformed index skipped", bad_index,
                bad_index == 1 ? "y" : "ies");
    col_report(c, &cs_atype);
    col_report(c, &cs_addr);
    col_report(c, &cs_ver);
    col_report(c, &cs_dev);
    col_report(c, &cs_port);
    col_report(c, &cs_plat);
    free(rows);
}

typedef struct nb_sort {
    na_snmp_neighbor nb;
    size_t ord;
} nb_sort;

static int nb_sort_cmp(const void *x, const void *y)
{
    const nb_sort *a = x, *b = y;

    if (a->nb.local_if_index != b->nb.local_if_index)
        return a->nb.local_if_index < b->nb.local_if_index ? -1 : 1;
    return a->ord < b->ord ? -1 : a->ord > b->ord;
}

static void interpret_neighbors(ctx *c)
{
    vec nbs = {.size = sizeof(na_snmp_neighbor)}, keys = {.size = sizeof(nb_key)};
    loc_port *lp = NULL;
    size_t nlp = read_loc_ports(c, &lp), n, empty = 0, short_index = 0;
    row *rows = NULL;
    colstat cs[7] = {{"lldpRemChassisIdSubtype"}, {"lldpRemChassisId"},
                     {"lldpRemPortIdSubtype"},    {"lldpRemPortId"},
                     {"lldpRemPortDesc"},         {"lldpRemSysName"},
                     {"lldpRemSysDesc"}};
    nb_sort *sorted = NULL;

    n = table_rows(c, T_LLDP_REM, N_OF(T_LLDP_REM), &rows);
    for (size_t k = 0; k < n && !c->nomem; k++) {
        if (rows[k].len < 3)
            short_index++;
        read_lldp_row(c, &rows[k], lp, nlp, cs, &nbs, &keys, &empty);
    }
    if (short_index)
        problem(c, "lldpRemTable: %zu row%s indexed without timeMark.localPortNum.index "
                   "(non-standard agent)", short_index, short_index == 1 ? "" : "s");
    if (empty)
        problem(c, "lldpRemTable: %zu empty row%s skipped", empty, empty == 1 ? "" : "s");
    for (int k = 0; k < 7; k++)
        col_report(c, &cs[k]);
    read_lldp_mgmt(c, &nbs, &keys);
    read_cdp(c, &nbs, &keys);

    /* sorted by local port, table order within one */
    if (nbs.n && !c->nomem) {
        if (!(sorted = malloc(nbs.n * sizeof(*sorted)))) {
            c->nomem = true;
        } else {
            for (size_t k = 0; k < nbs.n; k++) {
                sorted[k].nb = ((na_snmp_neighbor *)nbs.v)[k];
                sorted[k].ord = k;
            }
            qsort(sorted, nbs.n, sizeof(*sorted), nb_sort_cmp);
            for (size_t k = 0; k < nbs.n; k++)
                ((na_snmp_neighbor *)nbs.v)[k] = sorted[k].nb;
        }
    }
    c->dev->n_neighbors = nbs.n;
    c->dev->neighbors = vec_to_arena(c, &nbs);
    if (!c->dev->neighbors)
        c->dev->n_neighbors = 0;
    for (size_t k = 0; k < c->dev->n_neighbors; k++) {
        na_snmp_port *p = na__snmp_port_find(c->dev, c->dev->neighbors[k].local_if_index);
        if (p && c->dev->neighbors[k].local_if_index >= 0)
            p->uplink = true;
    }
    free(sorted);
    free(keys.v);
    free(rows);
    free(lp);
}

/* ---- hosts ----------------------------------------------------------------------------------- */

/* Core switches learn tens of thousands of MACs: everything here is sort + binary search. */

typedef struct arp_entry {
    uint8_t mac[6];
    int family;
    uint8_t addr[16];
    int64_t if_index;
    bool used;
} arp_entry;

/* The device's own MACs: its ports' and its LLDP chassis id. */
static bool own_mac(const na_snmp_device *dev, const uint8_t mac[6])
{
    if (dev->sys.chassis_mac && memcmp(dev->sys.chassis_mac, mac, 6) == 0)
        return true;
    for (size_t k = 0; k < dev->n_ports; k++)
        if (dev->ports[k].has_mac && memcmp(dev->ports[k].mac, mac, 6) == 0)
            return true;
    return false;
}

/* Unicast and not all zero. */
static bool host_mac(const uint8_t mac[6])
{
    return !(mac[0] & 1) && !mac_zero(mac);
}

static int arp_cmp(const void *x, const void *y)
{
    const arp_entry *a = x, *b = y;
    int c = memcmp(a->mac, b->mac, 6);

    if (c)
        return c;
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->addr, b->addr, 16);
}

/* The first entry of mac in a sorted array of `size`-byte elements starting with a MAC. */
static size_t mac_lower_bound(const void *v, size_t n, size_t size, const uint8_t mac[6])
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp((const char *)v + mid * size, mac, 6) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ipNetToPhysicalTable (ifIndex.addrType.addrLen.addr) and ipNetToMediaTable (ifIndex.a.b.c.d),
 * sorted by MAC, each (MAC, address) once. */
static void read_arp(ctx *c, vec *arp)
{
    row *rows = NULL;
    size_t n, w = 0;
    colstat cs_phys = {"ipNetToPhysicalPhysAddress"}, cs_ptype = {"ipNetToPhysicalType"},
            cs_media = {"ipNetToMediaPhysAddress"}, cs_mtype = {"ipNetToMediaType"};

    n = table_rows(c, T_NET_TO_PHYS, N_OF(T_NET_TO_PHYS), &rows);
    for (size_t k = 0; k < n; k++) {
        const row *r = &rows[k];
        const uint8_t *p;
        size_t len, alen;
        int type = 0;
        arp_entry e = {.if_index = -1}, *slot;
        bool ok = true;

        if (r->len < 3 || (r->idx[1] != 1 && r->idx[1] != 2))
            continue;
        alen = r->idx[1] == 1 ? 4 : 16;
        if (r->idx[2] != alen || r->len != 3 + alen)
            continue;
        e.if_index = r->idx[0];
        e.family = alen == 4 ? AF_INET : AF_INET6;
        for (size_t b = 0; ok && b < alen; b++) {
            ok = r->idx[3 + b] <= 255;
            e.addr[b] = (uint8_t)r->idx[3 + b];
        }
        get_enum(cell(c, T_NET_TO_PHYS, N_OF(T_NET_TO_PHYS), 6, r->idx, r->len), &cs_ptype, 1,
                 5, &type);
        if (!ok || type == 2 || type == 5) /* invalid, local */
            continue;
        if (!get_octets(cell(c, T_NET_TO_PHYS, N_OF(T_NET_TO_PHYS), 4, r->idx, r->len), &cs_phys,
                        &p, &len) || len != 6 || !host_mac(p))
            continue;
        memcpy(e.mac, p, 6);
        if ((slot = vec_push(c, arp)))
            *slot = e;
    }
    free(rows);

    n = table_rows(c, T_NET_TO_MEDIA, N_OF(T_NET_TO_MEDIA), &rows);
    for (size_t k = 0; k < n; k++) {
        const row *r = &rows[k];
        const uint8_t *p;
        size_t len;
        int type = 0;
        arp_entry e = {.family = AF_INET}, *slot;
        bool ok = r->len == 5;

        for (size_t b = 0; ok && b < 4; b++) {
            ok = r->idx[1 + b] <= 255;
            e.addr[b] = (uint8_t)r->idx[1 + b];
        }
        if (!ok)
            continue;
        e.if_index = r->idx[0];
        get_enum(cell(c, T_NET_TO_MEDIA, N_OF(T_NET_TO_MEDIA), 4, r->idx, r->len), &cs_mtype, 1,
                 4, &type);
        if (type == 2) /* invalid */
            continue;
        if (!get_octets(cell(c, T_NET_TO_MEDIA, N_OF(T_NET_TO_MEDIA), 2, r->idx, r->len),
                        &cs_media, &p, &len) || len != 6 || !host_mac(p))
            continue;
        memcpy(e.mac, p, 6);
        if ((slot = vec_push(c, arp)))
            *slot = e;
    }
    free(rows);
    if (arp->n)
        qsort(arp->v, arp->n, sizeof(arp_entry), arp_cmp);
    /* the same entry from both tables once (the first, ipNetToPhysical's, kept) */
    for (size_t k = 0; k < arp->n; k++)
        if (w == 0 || arp_cmp((arp_entry *)arp->v + w - 1, (arp_entry *)arp->v + k) != 0)
            ((arp_entry *)arp->v)[w++] = ((arp_entry *)arp->v)[k];
    arp->n = w;
    col_report(c, &cs_phys);
    col_report(c, &cs_ptype);
    col_report(c, &cs_media);
    col_report(c, &cs_mtype);
}

/* The best entry for mac: IPv4, then a global IPv6, then any. Marks mac's entries used. */
static arp_entry *arp_best(vec *arp, const uint8_t mac[6])
{
    arp_entry *best = NULL, *v = arp->v;
    int best_rank = -1;

    for (size_t k = mac_lower_bound(v, arp->n, sizeof(*v), mac);
         k < arp->n && memcmp(v[k].mac, mac, 6) == 0; k++) {
        int rank;
        v[k].used = true;
        if (v[k].family == AF_INET)
            rank = 2;
        else
            rank = v[k].addr[0] == 0xfe && (v[k].addr[1] & 0xc0) == 0x80 ? 0 : 1;
        if (rank > best_rank) {
            best = &v[k];
            best_rank = rank;
        }
    }
    return best;
}

typedef struct fdb_map {
    uint32_t key, value;
} fdb_map;

static int fdb_map_cmp(const void *x, const void *y)
{
    const fdb_map *a = x, *b = y;

    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->value < b->value ? -1 : a->value > b->value;
}

/* The lowest VLAN that uses filtering database fid; -1 when none does. */
static int fdb_vlan(const vec *vlans, uint32_t fid)
{
    const fdb_map *m = vlans->v;
    size_t lo = 0, hi = vlans->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m[mid].key < fid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < vlans->n && m[lo].key == fid ? (int)m[lo].value : -1;
}

/* MAC first, then VLAN: the order hosts are de-duplicated in. */
static int host_mac_cmp(const void *x, const void *y)
{
    const na_snmp_host *a = x, *b = y;
    int c = memcmp(a->mac, b->mac, 6);

    if (c)
        return c;
    return a->vlan < b->vlan ? -1 : a->vlan > b->vlan;
}

/* Port, VLAN, MAC: the order hosts are reported in. */
static int host_cmp(const void *x, const void *y)
{
    const na_snmp_host *a = x, *b = y;

    if (a->if_index != b->if_index)
        return a->if_index < b->if_index ? -1 : 1;
    if (a->vlan != b->vlan)
        return a->vlan < b->vlan ? -1 : 1;
    return memcmp(a->mac, b->mac, 6);
}

/* Resolves a bridge port to an ifIndex: dot1dBasePortIfIndex, else the number itself. */
static int64_t bridge_port_if(ctx *c, uint32_t base_port)
{
    const na_snmp_port *p;
    uint64_t u;

    if (get_uint(cell1(c, T_BASE_PORT, N_OF(T_BASE_PORT), 2, base_port), NULL, &u) &&
        na__snmp_port_find(c->dev, (int64_t)u))
        return (int64_t)u;
    if (na__snmp_port_find(c->dev, base_port))
        return base_port;
    /* JetStream counts bridge ports from 1 like its front panel, beside ifIndex 49153.. */
    p = port_unique_by_number(c->dev, base_port);
    return p ? p->if_index : -1;
}

static void add_fdb_host(ctx *c, vec *hosts, const uint8_t mac[6], uint32_t base_port, int vlan,
                         const char *source)
{
    na_snmp_host *h;

    if (!host_mac(mac) || own_mac(c->dev, mac) || base_port == 0)
        return;
    if (!(h = vec_push(c, hosts)))
        return;
    memcpy(h->mac, mac, 6);
    h->if_index = bridge_port_if(c, base_port);
    h->vlan = vlan;
    h->source = source;
}

/* A forwarding-table row's MAC from its index (6 components, each a byte). */
static bool index_mac(const uint32_t *idx, uint8_t mac[6])
{
    for (int b = 0; b < 6; b++) {
        if (idx[b] > 255)
            return false;
        mac[b] = (uint8_t)idx[b];
    }
    return true;
}

/* dot1qVlanCurrentTable's dot1qVlanFdbId: timeMark.vlan -> fdbId (shared VLAN learning). */
static void read_vlan_fdb_ids(ctx *c, vec *vlans)
{
    row *rows = NULL;
    size_t n = table_rows(c, T_Q_VLAN_CUR, N_OF(T_Q_VLAN_CUR), &rows);

    for (size_t k = 0; k < n; k++) {
        uint64_t fid;
        fdb_map *m;
        if (rows[k].len != 2 || rows[k].idx[1] > 4095 ||
            !get_uint(cell(c, T_Q_VLAN_CUR, N_OF(T_Q_VLAN_CUR), 3, rows[k].idx, 2), NULL, &fid) ||
            fid > UINT32_MAX)
            continue;
        if ((m = vec_push(c, vlans))) {
            m->key = (uint32_t)fid;
            m->value = rows[k].idx[1];
        }
    }
    free(rows);
    if (vlans->n)
        qsort(vlans->v, vlans->n, sizeof(fdb_map), fdb_map_cmp);
}

/* dot1qTpFdbTable (fdbId.mac) then dot1dTpFdbTable (mac) for MACs the first did not have. */
static void read_fdb(ctx *c, vec *hosts)
{
    vec vlans = {.size = sizeof(fdb_map)};
    row *rows = NULL;
    size_t n, w = 0, n_q;
    colstat cs_qport = {"dot1qTpFdbPort"}, cs_qstatus = {"dot1qTpFdbStatus"},
            cs_port = {"dot1dTpFdbPort"}, cs_status = {"dot1dTpFdbStatus"};

    read_vlan_fdb_ids(c, &vlans);
    n = table_rows(c, T_Q_FDB, N_OF(T_Q_FDB), &rows);
    for (size_t k = 0; k < n && !c->nomem; k++) {
        const row *r = &rows[k];
        uint8_t mac[6];
        uint64_t port;
        int status = 0, vlan;

        if (r->len != 7 || !index_mac(r->idx + 1, mac))
            continue;
        /* dot1qTpFdbStatus: other(1) invalid(2) learned(3) self(4) mgmt(5) */
        get_enum(cell(c, T_Q_FDB, N_OF(T_Q_FDB), 3, r->idx, 7), &cs_qstatus, 1, 5, &status);
        if (status == 2 || status == 4)
            continue;
        if (!get_uint(cell(c, T_Q_FDB, N_OF(T_Q_FDB), 2, r->idx, 7), &cs_qport, &port) ||
            port > UINT32_MAX)
            continue;
        if ((vlan = fdb_vlan(&vlans, r->idx[0])) < 0)
            vlan = r->idx[0] <= 4095 ? (int)r->idx[0] : 0;
        add_fdb_host(c, hosts, mac, (uint32_t)port, vlan, "qfdb");
    }
    free(rows);
    free(vlans.v);
    /* two filtering databases mapped to one VLAN give the same (MAC, VLAN) twice */
    if (hosts->n)
        qsort(hosts->v, hosts->n, sizeof(na_snmp_host), host_mac_cmp);
    for (size_t k = 0; k < hosts->n; k++)
        if (w == 0 || host_mac_cmp((na_snmp_host *)hosts->v + w - 1,
                                   (na_snmp_host *)hosts->v + k) != 0)
            ((na_snmp_host *)hosts->v)[w++] = ((na_snmp_host *)hosts->v)[k];
    hosts->n = n_q = w;

    n = table_rows(c, T_TP_FDB, N_OF(T_TP_FDB), &rows);
    for (size_t k = 0; k < n && !c->nomem; k++) {
        const row *r = &rows[k];
        uint8_t mac[6];
        uint64_t port;
        int status = 0;
        size_t at;

        if (r->len != 6 || !index_mac(r->idx, mac))
            continue;
        at = mac_lower_bound(hosts->v, n_q, sizeof(na_snmp_host), mac);
        if (at < n_q && memcmp(((na_snmp_host *)hosts->v)[at].mac, mac, 6) == 0)
            continue;
        get_enum(cell(c, T_TP_FDB, N_OF(T_TP_FDB), 3, r->idx, 6), &cs_status, 1, 5, &status);
        if (status == 2 || status == 4)
            continue;
        if (!get_uint(cell(c, T_TP_FDB, N_OF(T_TP_FDB), 2, r->idx, 6), &cs_port, &port) ||
            port > UINT32_MAX)
            continue;
        add_fdb_host(c, hosts, mac, (uint32_t)port, 0, "fdb");
    }
    free(rows);
    col_report(c, &cs_qport);
    col_report(c, &cs_qstatus);
    col_report(c, &cs_port);
    col_report(c, &cs_status);
}

static void interpret_hosts(ctx *c)
{
    vec hosts = {.size = sizeof(na_snmp_host)}, arp = {.size = sizeof(arp_entry)};
    size_t n_fdb;

    read_fdb(c, &hosts);
    n_fdb = hosts.n;
    read_arp(c, &arp);
    for (size_t k = 0; k < n_fdb && !c->nomem; k++) {
        na_snmp_host *h = (na_snmp_host *)hosts.v + k;
        const arp_entry *e = arp_best(&arp, h->mac);
        if (e)
            h->ip = ip_text(c, e->family, e->addr);
        h->port_name = port_label(na__snmp_port_find(c->dev, h->if_index));
    }
    /* addresses the device reaches without a forwarding entry (routed ports, aged FDB) */
    for (size_t k = 0; k < arp.n && !c->nomem; k++) {
        arp_entry *e = (arp_entry *)arp.v + k, *best;
        na_snmp_host *h;
        const na_snmp_port *p;
        if (e->used || own_mac(c->dev, e->mac))
            continue;
        best = arp_best(&arp, e->mac);
        if (!(h = vec_push(c, &hosts)))
            break;
        memcpy(h->mac, best->mac, 6);
        h->ip = ip_text(c, best->family, best->addr);
        p = na__snmp_port_find(c->dev, best->if_index);
        h->if_index = p ? p->if_index : -1;
        h->port_name = port_label(p);
        h->source = "arp";
    }
    if (hosts.n)
        qsort(hosts.v, hosts.n, sizeof(na_snmp_host), host_cmp);
    for (size_t k = 0; k < hosts.n; k++) {
        const na_snmp_host *h = (const na_snmp_host *)hosts.v + k;
        na_snmp_port *p;
        if (strcmp(h->source, "arp") != 0 && h->if_index >= 0 &&
            (p = na__snmp_port_find(c->dev, h->if_index)))
            p->n_hosts++;
    }
    for (size_t k = 0; k < c->dev->n_ports; k++) {
        na_snmp_port *p = &c->dev->ports[k];
        p->edge = p->n_hosts > 0 && !p->uplink;
    }
    c->dev->n_hosts = hosts.n;
    c->dev->hosts = vec_to_arena(c, &hosts);
    if (!c->dev->hosts)
        c->dev->n_hosts = 0;
    free(arp.v);
}

/* ---- sensors --------------------------------------------------------------------------------- */

static bool contains_word_ci(const char *s, const char *w)
{
    size_t wl = strlen(w);

    for (const char *p = s; s && *p; p++) {
        bool start = p == s || !((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z'));
        size_t k = 0;
        if (!start)
            continue;
        while (k < wl && p[k] && (p[k] | 0x20) == w[k])
            k++;
        if (k == wl && !((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z')))
            return true;
    }
    return false;
}

/* "rx" / "tx" (or receive / transmit) in an optical sensor's name: +1 rx, -1 tx, 0 neither. */
static int optical_dir(const char *a, const char *b)
{
    const char *s[2] = {a, b};

    for (int k = 0; k < 2; k++) {
        if (!s[k])
            continue;
        if (contains_word_ci(s[k], "rx") || contains_word_ci(s[k], "receive"))
            return 1;
        if (contains_word_ci(s[k], "tx") || contains_word_ci(s[k], "transmit"))
            return -1;
    }
    return 0;
}

/* EntitySensorDataScale (RFC 3433) -> power of ten; exa(14) and peta(15) are in that order. */
static int scale_exp(int scale)
{
    static const int exps[] = {0,  -24, -21, -18, -15, -12, -9, -6, -3,
                               0,  3,   6,   9,   12,  18,  15, 21, 24};

    return scale >= 1 && scale <= 17 ? exps[scale] : 0;
}

static const char *sensor_status(int st)
{
    return st == 1 ? "ok" : st == 2 ? "unavailable" : st == 3 ? "nonoperational" : NULL;
}

/* One ENTITY-SENSOR-MIB style row (the Cisco table has the same first five columns). */
static void sensor_from_row(na_snmp_sensor *s, int type, int scale, int precision,
                            bool has_raw, int64_t raw, const char *name, const char *descr)
{
    int e = scale_exp(scale) - precision;
    /* dividing by an exact power of ten keeps 418 / 10 at 41.8, not 41.800000000000004 */
    double v = e >= 0 ? (double)raw * pow(10.0, e) : (double)raw / pow(10.0, -e);
    int dir = optical_dir(name, descr);

    s->has_value = has_raw;
    s->value = v;
    switch (type) {
    case 3:
    case 4: s->kind = "voltage"; s->unit = "V"; break;
    case 5: s->kind = "current"; s->unit = "A"; break;
    case 6:
        /* transceiver power is reported in watts by some agents: shown in dBm */
        if (dir && (contains_word_ci(name, "power") || contains_word_ci(descr, "power"))) {
            s->kind = dir > 0 ? "optical_rx" : "optical_tx";
            s->unit = "dBm";
            if (has_raw && v > 0)
                s->value = 10.0 * log10(v * 1000.0);
            else
                s->has_value = false;
        } else {
            s->kind = "power";
            s->unit = "W";
        }
        break;
    case 7: s->kind = "other"; s->unit = "Hz"; break;
    case 8: s->kind = "temperature"; s->unit = "C"; break;
    case 9: s->kind = "other"; s->unit = "%"; break;
    case 10: s->kind = "fan"; s->unit = "rpm"; break;
    case 14:
        s->kind = dir > 0 ? "optical_rx" : dir < 0 ? "optical_tx" : "other";
        s->unit = "dBm";
        break;
    case 15: s->kind = "other"; s->unit = "dB"; break;
    default: s->kind = "other"; s->unit = NULL; break;
    }
}

static const char *ent_text(ctx *c, uint32_t idx, uint32_t col)
{
    return vb_text(c, cell1(c, T_ENT_PHYS, N_OF(T_ENT_PHYS), col, idx), NULL);
}

/* "prefix.idx" (sep '.') or "prefix idx" (sep ' ') in the device's arena. */
static const char *indexed_text(ctx *c, const char *prefix, char sep, uint32_t idx)
{
    char buf[48];
    const char *s;

    snprintf(buf, sizeof(buf), "%s%c%u", prefix, sep, (unsigned)idx);
    if (!(s = na__arena_strdup(&c->dev->arena, buf)))
        c->nomem = true;
    return s;
}

static const char *sensor_id(ctx *c, const char *prefix, uint32_t idx)
{
    return indexed_text(c, prefix, '.', idx);
}

static bool sensor_has_ent(const vec *sensors, int64_t idx)
{
    for (size_t k = 0; k < sensors->n; k++)
        if (((const na_snmp_sensor *)sensors->v)[k].ent_index == idx)
            return true;
    return false;
}

/* ENTITY-SENSOR-MIB entPhySensorTable or CISCO-ENTITY-SENSOR-MIB entSensorValueTable. */
static void read_sensor_table(ctx *c, const uint32_t *t, size_t tl, const char *what,
                              vec *sensors)
{
    row *rows = NULL;
    size_t n = table_rows(c, t, tl, &rows);
    colstat cs[5] = {{"SensorType"}, {"SensorScale"}, {"SensorPrecision"}, {"SensorValue"},
                     {"SensorStatus"}};
    char names[5][48];

    for (int k = 0; k < 5; k++) {
        snprintf(names[k], sizeof(names[k]), "%s%s", what, cs[k].name);
        cs[k].name = names[k];
    }
    for (size_t k = 0; k < n && !c->nomem; k++) {
        uint32_t idx;
        int type = 0, scale = 9, precision = 0, status = 0;
        int64_t raw = 0;
        bool has_raw;
        const char *name, *descr;
        na_snmp_sensor *s;

        if (rows[k].len != 1)
            continue;
        idx = rows[k].idx[0];
        if (sensor_has_ent(sensors, idx))
            continue;
        get_enum(cell1(c, t, tl, 1, idx), &cs[0], 1, 15, &type);
        get_enum(cell1(c, t, tl, 2, idx), &cs[1], 1, 17, &scale);
        get_enum(cell1(c, t, tl, 3, idx), &cs[2], -8, 9, &precision);
        has_raw = get_int(cell1(c, t, tl, 4, idx), &cs[3], &raw);
        get_enum(cell1(c, t, tl, 5, idx), &cs[4], 1, 3, &status);
        name = ent_text(c, idx, 7);
        descr = ent_text(c, idx, 2);
        if (!(s = vec_push(c, sensors)))
            break;
        s->id = sensor_id(c, "ent", idx);
        s->ent_index = idx;
        s->descr = name ? name : descr;
        s->status = sensor_status(status);
        sensor_from_row(s, type, scale, precision, has_raw, raw, name, descr);
        if (!s->descr)
            s->descr = indexed_text(c, "sensor", ' ', idx);
    }
    for (int k = 0; k < 5; k++)
        col_report(c, &cs[k]);
    free(rows);
}

/* Power supplies and fans from entPhysicalClass, with ENTITY-STATE-MIB's entStateOper. */
static void read_entity_classes(ctx *c, vec *sensors)
{
    row *rows = NULL;
    size_t n = table_rows(c, T_ENT_PHYS, N_OF(T_ENT_PHYS), &rows);

    for (size_t k = 0; k < n && !c->nomem; k++) {
        uint32_t idx;
        int cls = 0, oper = 0;
        na_snmp_sensor *s;
        const char *name, *descr;

        if (rows[k].len != 1)
            continue;
        idx = rows[k].idx[0];
        if (!get_enum(cell1(c, T_ENT_PHYS, N_OF(T_ENT_PHYS), 5, idx), NULL, 1, 12, &cls) ||
            (cls != 6 && cls != 7) || sensor_has_ent(sensors, idx))
            continue;
        name = ent_text(c, idx, 7);
        descr = ent_text(c, idx, 2);
        if (!(s = vec_push(c, sensors)))
            break;
        s->id = sensor_id(c, "ent", idx);
        s->ent_index = idx;
        s->kind = cls == 6 ? "psu" : "fan";
        s->descr = name ? name : descr ? descr : s->kind;
        /* entStateOper: unknown(1) disabled(2) enabled(3) testing(4) */
        if (get_enum(cell1(c, T_ENT_STATE, N_OF(T_ENT_STATE), 3, idx), NULL, 1, 4, &oper))
            s->status = oper == 3 ? "ok" : oper == 2 ? "nonoperational" : NULL;
    }
    free(rows);
}

/*
 * Mounts that are not storage anyone fills: /dev, /proc, /sys, /run and JunOS's read-only
 * /packages images (always 100% "used"). JunOS writes "..., mounted on: /path".
 */
static bool pseudo_filesystem(const char *descr)
{
    static const char *const skip[] = {"/dev", "/proc", "/sys", "/run", "/packages"};
    const char *m;

    if (!descr)
        return false;
    m = strstr(descr, "mounted on: ");
    m = m ? m + strlen("mounted on: ") : descr;
    for (size_t k = 0; k < N_OF(skip); k++) {
        size_t l = strlen(skip[k]);
        if (strncmp(m, skip[k], l) == 0 && (m[l] == 0 || m[l] == '/'))
            return true;
    }
    return false;
}

static void read_host_resources(ctx *c, vec *sensors)
{
    row *rows = NULL;
    size_t n = table_rows(c, T_HR_PROCESSOR, N_OF(T_HR_PROCESSOR), &rows);
    colstat cs_load = {"hrProcessorLoad"}, cs_size = {"hrStorageSize"},
            cs_used = {"hrStorageUsed"};

    for (size_t k = 0; k < n && !c->nomem; k++) {
        int64_t load;
        na_snmp_sensor *s;
        const char *descr;
        uint32_t idx;

        if (rows[k].len != 1)
            continue;
        idx = rows[k].idx[0];
        if (!get_int(cell1(c, T_HR_PROCESSOR, N_OF(T_HR_PROCESSOR), 2, idx), &cs_load, &load))
            continue;
        if (load < 0 || load > 100) {
            col_range(&cs_load, load);
            continue;
        }
        descr = vb_text(c, cell1(c, T_HR_DEVICE, N_OF(T_HR_DEVICE), 3, idx), NULL);
        if (!(s = vec_push(c, sensors)))
            break;
        s->id = sensor_id(c, "hr.cpu", idx);
        s->kind = "cpu";
        s->descr = descr ? descr : indexed_text(c, "CPU", ' ', idx);
        s->has_value = true;
        s->value = (double)load;
        s->unit = "%";
        s->ent_index = -1;
    }
    free(rows);

    /* hrStorageTable: RAM -> memory; fixed disks and flash -> storage; as % used */
    n = table_rows(c, T_HR_STORAGE, N_OF(T_HR_STORAGE), &rows);
    for (size_t k = 0; k < n && !c->nomem; k++) {
        const na_snmp_vb *type;
        const char *descr;
        uint64_t size, used;
        uint32_t idx, kind;
        na_snmp_sensor *s;

        if (rows[k].len != 1)
            continue;
        idx = rows[k].idx[0];
        type = cell1(c, T_HR_STORAGE, N_OF(T_HR_STORAGE), 2, idx);
        if (!type || type->type != NA_SNMP_OBJECTID ||
            type->len != N_OF(OID_HR_STORAGE_TYPES) + 1 ||
            memcmp(type->v.oid, OID_HR_STORAGE_TYPES, sizeof(OID_HR_STORAGE_TYPES)) != 0)
            continue;
        kind = type->v.oid[N_OF(OID_HR_STORAGE_TYPES)];
        if (kind != 2 && kind != 4 && kind != 9) /* ram, fixedDisk, flashMemory */
            continue;
        if (!get_uint(cell1(c, T_HR_STORAGE, N_OF(T_HR_STORAGE), 5, idx), &cs_size, &size) ||
            !get_uint(cell1(c, T_HR_STORAGE, N_OF(T_HR_STORAGE), 6, idx), &cs_used, &used) ||
            size == 0)
            continue;
        descr = vb_text(c, cell1(c, T_HR_STORAGE, N_OF(T_HR_STORAGE), 3, idx), NULL);
        if (kind != 2 && pseudo_filesystem(descr))
            continue;
        if (!(s = vec_push(c, sensors)))
            break;
        s->id = sensor_id(c, kind == 2 ? "hr.mem" : "hr.storage", idx);
        s->kind = kind == 2 ? "memory" : "storage";
        s->descr = descr;
        if (!s->descr)
            s->descr = s->id;
        s->has_value = true;
        s->value = 100.0 * (double)used / (double)size;
        s->unit = "%";
        s->ent_index = -1;
    }
    free(rows);
    col_report(c, &cs_load);
    col_report(c, &cs_size);
    col_report(c, &cs_used);
}

static void interpret_sensors(ctx *c)
{
    vec sensors = {.size = sizeof(na_snmp_sensor)};

    read_sensor_table(c, T_ENT_SENSOR, N_OF(T_ENT_SENSOR), "entPhy", &sensors);
    read_sensor_table(c, T_CISCO_SENSOR, N_OF(T_CISCO_SENSOR), "ent", &sensors);
    read_entity_classes(c, &sensors);
    read_host_resources(c, &sensors);
    c->dev->n_sensors = sensors.n;
    c->dev->sensors = vec_to_arena(c, &sensors);
    if (!c->dev->sensors)
        c->dev->n_sensors = 0;
}

/* ---- addresses ------------------------------------------------------------------------------- */

static void add_address(ctx *c, vec *addrs, int family, const uint8_t *a)
{
    const char *s, **slot;

    if (family == AF_INET) {
        if (a[0] == 127 || a[0] == 0 || (a[0] == 169 && a[1] == 254) || a[0] >= 224)
            return;
    } else {
        static const uint8_t zero[15];
        if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) /* :: and ::1 */
            return;
        if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* link-local */
            return;
    }
    if (!(s = ip_text(c, family, a)))
        return;
    for (size_t k = 0; k < addrs->n; k++)
        if (strcmp(((const char **)addrs->v)[k], s) == 0)
            return;
    if ((slot = vec_push(c, addrs)))
        *slot = s;
}

static void interpret_addresses(ctx *c)
{
    vec addrs = {.size = sizeof(const char *)};
    row *rows = NULL;
    size_t n = table_rows(c, T_IP_ADDR, N_OF(T_IP_ADDR), &rows);

    for (size_t k = 0; k < n && !c->nomem; k++) {
        uint8_t a[4];
        bool ok = rows[k].len == 4;
        for (size_t b = 0; ok && b < 4; b++) {
            ok = rows[k].idx[b] <= 255;
            a[b] = (uint8_t)rows[k].idx[b];
        }
        if (ok)
            add_address(c, &addrs, AF_INET, a);
    }
    free(rows);

    /* ipAddressTable: addrType.addrLen.addr (some agents leave the length out) */
    n = table_rows(c, T_IP_ADDRESS, N_OF(T_IP_ADDRESS), &rows);
    for (size_t k = 0; k < n && !c->nomem; k++) {
        const row *r = &rows[k];
        uint8_t a[16];
        size_t alen, off;
        int type = 0;
        bool ok = true;

        if (r->len < 5 || (r->idx[0] != 1 && r->idx[0] != 2))
            continue;
        alen = r->idx[0] == 1 ? 4 : 16;
        if (r->len == 2 + alen && r->idx[1] == alen)
            off = 2;
        else if (r->len == 1 + alen)
            off = 1;
        else
            continue;
        for (size_t b = 0; ok && b < alen; b++) {
            ok = r->idx[off + b] <= 255;
            a[b] = (uint8_t)r->idx[off + b];
        }
        /* ipAddressType: unicast(1) anycast(2) broadcast(3) */
        if (get_enum(cell(c, T_IP_ADDRESS, N_OF(T_IP_ADDRESS), 4, r->idx, r->len), NULL, 1, 3,
                     &type) && type == 3)
            continue;
        if (ok)
            add_address(c, &addrs, alen == 4 ? AF_INET : AF_INET6, a);
    }
    free(rows);
    c->dev->n_addresses = addrs.n;
    c->dev->addresses = vec_to_arena(c, &addrs);
    if (!c->dev->addresses)
        c->dev->n_addresses = 0;
}

/* ---- the device ------------------------------------------------------------------------------ */

/* The host part of "host", "host:port", "[v6]:port", "udp:host:port", "udp6:[v6]:port" when it
 * is an IP literal, as canonical text; NULL otherwise. */
static const char *target_ip(ctx *c, const char *target)
{
    char buf[128];
    const char *h = target, *end;
    size_t len;
    uint8_t a[16];

    static const char *const transports[] = {"udp6:", "udp:", "tcp6:", "tcp:"};

    for (size_t k = 0; k < N_OF(transports); k++)
        if (strncmp(h, transports[k], strlen(transports[k])) == 0) {
            h += strlen(transports[k]);
            break;
        }
    if (h[0] == '[') {
        h++;
        end = strchr(h, ']');
        if (!end)
            return NULL;
    } else {
        end = strchr(h, ':');
        /* more than one colon: a bare IPv6 address */
        if (end && strchr(end + 1, ':'))
            end = h + strlen(h);
        if (!end)
            end = h + strlen(h);
    }
    len = (size_t)(end - h);
    if (len == 0 || len >= sizeof(buf))
        return NULL;
    memcpy(buf, h, len);
    buf[len] = 0;
    if (inet_pton(AF_INET, buf, a) == 1)
        return ip_text(c, AF_INET, a);
    if (inet_pton(AF_INET6, buf, a) == 1)
        return ip_text(c, AF_INET6, a);
    return NULL;
}

int na__snmp_interpret(const na_snmp_store *st, const na_snmp_collect_info *info,
                       const char *target, na_snmp_device *dev, na_error *err)
{
    ctx c = {.st = st, .dev = dev};

    if (target) {
        if (!(dev->target = na__arena_strdup(&dev->arena, target)))
            c.nomem = true;
        else
            dev->mgmt_ip = target_ip(&c, target);
    }
    if (info) {
        dev->reachable = info->reachable;
        if (info->reason && !(dev->reason = na__arena_strdup(&dev->arena, info->reason)))
            c.nomem = true;
        for (size_t k = 0; k < info->n_problems; k++)
            if (info->problems[k])
                problem(&c, "%s", info->problems[k]);
        dev->polled_at = info->finished_at;
        dev->duration_ms = info->finished_at >= info->started_at
                               ? (double)(info->finished_at - info->started_at)
                               : 0.0;
        dev->requests = info->requests;
        dev->varbinds = info->varbinds;
    } else {
        dev->varbinds = st->n;
    }
    if (st->dropped)
        problem(&c, "%zu varbind%s dropped (malformed or OID too long)", st->dropped,
                st->dropped == 1 ? "" : "s");
    if (st->duplicates)
        problem(&c, "%zu duplicate OID%s (the first value kept)", st->duplicates,
                st->duplicates == 1 ? "" : "s");

    interpret_system(&c);
    if (!info) {
        dev->reachable = dev->sys.name || dev->sys.descr;
        if (!dev->reachable)
            dev->reason = "no system group in the recording";
    }
    interpret_ports(&c);
    interpret_neighbors(&c);
    interpret_hosts(&c);
    interpret_sensors(&c);
    interpret_addresses(&c);
    if (c.nomem)
        return na_error_set(err, NA_ENOMEM, "snmp: out of memory interpreting %s",
                            target ? target : "a device");
    return NA_OK;
}
