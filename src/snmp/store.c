/*
 * store.c: the raw varbinds of one device, sorted by OID, and the .snmprec loader that fills a
 * store from a snmpsim recording (tests, fuzzing and `poll --snmprec`).
 */
#include "snmp/snmp.h"
#include "core/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int na__snmp_store_new(na_snmp_store **out, na_error *err)
{
    na_snmp_store *st = calloc(1, sizeof(*st));

    if (!st)
        return na_error_set(err, NA_ENOMEM, "snmp: out of memory");
    na__arena_init(&st->arena);
    st->sorted = true;
    *out = st;
    return NA_OK;
}

void na__snmp_store_free(na_snmp_store *st)
{
    if (!st)
        return;
    na__arena_free(&st->arena);
    free(st->vbs);
    free(st);
}

int na__snmp_store_add(na_snmp_store *st, const uint32_t *oid, size_t oid_len, na_snmp_type type,
                       const void *value, size_t len, int64_t i, uint64_t u)
{
    na_snmp_vb *vb;
    uint32_t *o;

    if (oid_len == 0 || oid_len > NA_SNMP_MAX_OID) {
        st->dropped++;
        return NA_EINVAL;
    }
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 256;
        na_snmp_vb *grown = realloc(st->vbs, cap * sizeof(*grown));
        if (!grown)
            return NA_ENOMEM;
        st->vbs = grown;
        st->cap = cap;
    }
    if (!(o = na__arena_alloc(&st->arena, oid_len * sizeof(*o))))
        return NA_ENOMEM;
    memcpy(o, oid, oid_len * sizeof(*o));
    vb = &st->vbs[st->n];
    memset(vb, 0, sizeof(*vb));
    vb->oid = o;
    vb->oid_len = (uint32_t)oid_len;
    vb->seq = (uint32_t)st->n;
    vb->type = type;
    switch (type) {
    case NA_SNMP_OCTETS:
    case NA_SNMP_IPADDRESS:
    case NA_SNMP_OPAQUE: {
        uint8_t *s;
        if (len > NA_SNMP_MAX_VALUE)
            len = NA_SNMP_MAX_VALUE;
        /* one spare NUL so printable strings can be used as C strings by the interpreter */
        if (!(s = na__arena_alloc(&st->arena, len + 1)))
            return NA_ENOMEM;
        if (len)
            memcpy(s, value, len);
        s[len] = 0;
        vb->v.s = s;
        vb->len = (uint32_t)len;
        break;
    }
    case NA_SNMP_OBJECTID: {
        uint32_t *v;
        if (len > NA_SNMP_MAX_OID)
            len = NA_SNMP_MAX_OID;
        if (!(v = na__arena_alloc(&st->arena, (len ? len : 1) * sizeof(*v))))
            return NA_ENOMEM;
        if (len)
            memcpy(v, value, len * sizeof(*v));
        vb->v.oid = v;
        vb->len = (uint32_t)len;
        break;
    }
    case NA_SNMP_INTEGER:
        vb->v.i = i;
        break;
    case NA_SNMP_COUNTER32:
    case NA_SNMP_GAUGE32:
    case NA_SNMP_TIMETICKS:
    case NA_SNMP_COUNTER64:
        vb->v.u = u;
        break;
    default:
        break;
    }
    if (st->n > 0 && st->sorted) {
        const na_snmp_vb *prev = &st->vbs[st->n - 1];
        if (na__snmp_oid_cmp(prev->oid, prev->oid_len, o, oid_len) >= 0)
            st->sorted = false;
    }
    st->n++;
    return NA_OK;
}

int na__snmp_oid_cmp(const uint32_t *a, size_t alen, const uint32_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;

    for (size_t k = 0; k < n; k++)
        if (a[k] != b[k])
            return a[k] < b[k] ? -1 : 1;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int vb_cmp(const void *x, const void *y)
{
    const na_snmp_vb *a = x, *b = y;
    int c = na__snmp_oid_cmp(a->oid, a->oid_len, b->oid, b->oid_len);

    if (c)
        return c;
    /* earlier-added first, so the first value of a duplicate OID is kept (qsort is not
     * stable: the order of adding is recorded, not inferred from addresses) */
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void na__snmp_store_finish(na_snmp_store *st)
{
    size_t w = 0;

    if (st->sorted)
        return;
    qsort(st->vbs, st->n, sizeof(*st->vbs), vb_cmp);
    for (size_t r = 0; r < st->n; r++) {
        if (w > 0 && na__snmp_oid_cmp(st->vbs[w - 1].oid, st->vbs[w - 1].oid_len,
                                      st->vbs[r].oid, st->vbs[r].oid_len) == 0) {
            st->duplicates++;
            continue;
        }
        st->vbs[w++] = st->vbs[r];
    }
    st->n = w;
    /* renumber, so what is added after this sorts after everything already here */
    for (size_t k = 0; k < w; k++)
        st->vbs[k].seq = (uint32_t)k;
    st->sorted = true;
}

/* First index whose OID is >= oid. */
static size_t lower_bound(const na_snmp_store *st, const uint32_t *oid, size_t len)
{
    size_t lo = 0, hi = st->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (na__snmp_oid_cmp(st->vbs[mid].oid, st->vbs[mid].oid_len, oid, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const na_snmp_vb *na__snmp_store_get(const na_snmp_store *st, const uint32_t *oid, size_t len)
{
    size_t k = lower_bound(st, oid, len);
    const na_snmp_vb *vb;

    if (k >= st->n)
        return NULL;
    vb = &st->vbs[k];
    if (na__snmp_oid_cmp(vb->oid, vb->oid_len, oid, len) != 0)
        return NULL;
    if (vb->type == NA_SNMP_NOSUCHOBJECT || vb->type == NA_SNMP_NOSUCHINSTANCE ||
        vb->type == NA_SNMP_ENDOFMIBVIEW)
        return NULL;
    return vb;
}

size_t na__snmp_store_subtree(const na_snmp_store *st, const uint32_t *prefix, size_t len,
                              size_t *first)
{
    size_t k = lower_bound(st, prefix, len), end;

    /* the prefix itself (an exact match) is not part of its subtree */
    if (k < st->n && na__snmp_oid_cmp(st->vbs[k].oid, st->vbs[k].oid_len, prefix, len) == 0)
        k++;
    end = k;
    while (end < st->n && st->vbs[end].oid_len > len &&
           memcmp(st->vbs[end].oid, prefix, len * sizeof(*prefix)) == 0)
        end++;
    *first = k;
    return end - k;
}

int na__snmp_oid_parse(const char *s, size_t slen, uint32_t *oid, size_t max)
{
    size_t n = 0, k = 0;

    if (slen > 0 && s[0] == '.')
        k = 1;
    if (k >= slen)
        return -1;
    while (k < slen) {
        uint64_t v = 0;
        size_t start = k;
        while (k < slen && s[k] >= '0' && s[k] <= '9') {
            v = v * 10 + (uint64_t)(s[k] - '0');
            if (v > UINT32_MAX)
                return -1;
            k++;
        }
        if (k == start || n >= max)
            return -1;
        oid[n++] = (uint32_t)v;
        if (k < slen) {
            if (s[k] != '.' || k + 1 == slen)
                return -1;
            k++;
        }
    }
    return (int)n;
}

const char *na__snmp_oid_format(const uint32_t *oid, size_t len, char *buf, size_t buflen)
{
    size_t used = 0;

    if (buflen == 0)
        return buf;
    buf[0] = 0;
    for (size_t k = 0; k < len; k++) {
        int w = snprintf(buf + used, buflen - used, k ? ".%u" : "%u", (unsigned)oid[k]);
        if (w < 0 || (size_t)w >= buflen - used) {
            /* truncated: end with "..." where it fits */
            if (buflen >= 4)
                memcpy(buf + buflen - 4, "...", 4);
            break;
        }
        used += (size_t)w;
    }
    return buf;
}

const char *na__snmp_mac_format(const uint8_t *mac, char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
    return buf;
}

/* ---- .snmprec --------------------------------------------------------------------------- */

/* Parses a decimal integer of the whole field; false when malformed. */
static bool parse_i64(const char *s, size_t len, int64_t *out)
{
    char buf[32];
    char *end;

    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = 0;
    errno = 0;
    *out = strtoll(buf, &end, 10);
    return errno == 0 && *end == 0;
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    char buf[32];
    char *end;

    if (len == 0 || len >= sizeof(buf) || s[0] == '-')
        return false;
    memcpy(buf, s, len);
    buf[len] = 0;
    errno = 0;
    *out = strtoull(buf, &end, 10);
    return errno == 0 && *end == 0;
}

static void bad_line(na_snmprec_report *rep, size_t line, const char *why)
{
    rep->skipped++;
    if (!rep->first_bad_line) {
        rep->first_bad_line = line;
        snprintf(rep->first_bad_reason, sizeof(rep->first_bad_reason), "%s", why);
    }
}

/* One `OID|type|value` line (without the newline). Returns NA_OK, NA_ENOMEM, or 1 = skipped. */
static int load_line(const char *p, size_t len, na_snmp_store *st, na_snmprec_report *rep,
                     size_t line)
{
    const char *bar1 = memchr(p, '|', len), *bar2, *val, *tag;
    uint32_t oid[NA_SNMP_MAX_OID];
    size_t taglen, vlen;
    int n, rc;

    if (!bar1 || !(bar2 = memchr(bar1 + 1, '|', len - (size_t)(bar1 + 1 - p)))) {
        bad_line(rep, line, "expected OID|type|value");
        return 1;
    }
    if ((n = na__snmp_oid_parse(p, (size_t)(bar1 - p), oid, NA_SNMP_MAX_OID)) <= 0) {
        bad_line(rep, line, "malformed OID");
        return 1;
    }
    tag = bar1 + 1;
    taglen = (size_t)(bar2 - tag);
    val = bar2 + 1;
    vlen = len - (size_t)(val - p);

    if (taglen == 2 && tag[0] == '4' && tag[1] == 'x') { /* hex string */
        uint8_t *buf;
        if (vlen % 2) {
            bad_line(rep, line, "odd hex string length");
            return 1;
        }
        if (!(buf = malloc(vlen / 2 + 1)))
            return NA_ENOMEM;
        for (size_t k = 0; k < vlen / 2; k++) {
            int hi = na__hex_digit(val[2 * k]), lo = na__hex_digit(val[2 * k + 1]);
            if (hi < 0 || lo < 0) {
                free(buf);
                bad_line(rep, line, "bad hex digit");
                return 1;
            }
            buf[k] = (uint8_t)(hi << 4 | lo);
        }
        rc = na__snmp_store_add(st, oid, (size_t)n, NA_SNMP_OCTETS, buf, vlen / 2, 0, 0);
        free(buf);
        return rc == NA_ENOMEM ? NA_ENOMEM : NA_OK;
    }
    if (taglen == 1 && tag[0] == '2') {
        int64_t i;
        if (!parse_i64(val, vlen, &i) || i < INT32_MIN || i > INT32_MAX) {
            bad_line(rep, line, "bad INTEGER");
            return 1;
        }
        rc = na__snmp_store_add(st, oid, (size_t)n, NA_SNMP_INTEGER, NULL, 0, i, 0);
    } else if (taglen == 1 && tag[0] == '4') {
        rc = na__snmp_store_add(st, oid, (size_t)n, NA_SNMP_OCTETS, val, vlen, 0, 0);
    } else if (taglen == 1 && tag[0] == '5') {
        rc = na__snmp_store_add(st, oid, (size_t)n, NA_SNMP_NULL, NULL, 0, 0, 0);
    } else if (taglen == 1 && tag[0] == '6') {
        uint32_t v[NA_SNMP_MAX_OID];
        int m = na__snmp_oid_parse(val, vlen, v, NA_SNMP_MAX_OID);
        if (m <= 0) {
            bad_line(rep, line, "bad OBJECT IDENTIFIER value");
            return 1;
        }
        rc = na__snmp_store_add(st, oid, (size_t)n, NA_SNMP_OBJECTID, v, (size_t)m, 0, 0);
    } else if (taglen == 2 && tag[0] == '6' && tag[1] == '4') {
        uint8_t a[4];
        size_t k = 0, part = 0;
        unsigned cur = 0;
        bool digit = false;
        for (; k <= vlen; k++) {
            if (k == vlen || val[k] == '.') {
                if (!digit || part >= 4 || cur > 255)
                    break;
                a[part++] = (uint8_t)cur;
                cur = 0;
                digit = false;
            } else if (val[k] >= '0' && val[k] <= '9' && cur <= 255) {
                cur = cur * 10 + (unsigned)(val[k] - '0');
                digit = true;
            } else {
                break;
            }
        }
        if (k <= vlen || part != 4) {
            bad_line(rep, line, "bad IpAddress");
            return 1;
        }
        rc = na__snmp_store_add(st, oid, (size_t)n, NA_SNMP_IPADDRESS, a, 4, 0, 0);
    } else if (taglen == 2 && tag[0] == '6' && tag[1] >= '5' && tag[1] <= '7') {
        static const na_snmp_type types[] = {NA_SNMP_COUNTER32, NA_SNMP_GAUGE32,
                                             NA_SNMP_TIMETICKS};
        uint64_t u;
        if (!parse_u64(val, vlen, &u) || u > UINT32_MAX) {
            bad_line(rep, line, "bad 32-bit unsigned value");
            return 1;
        }
        rc = na__snmp_store_add(st, oid, (size_t)n, types[tag[1] - '5'], NULL, 0, 0, u);
    } else if (taglen == 2 && tag[0] == '7' && tag[1] == '0') {
        uint64_t u;
        if (!parse_u64(val, vlen, &u)) {
            bad_line(rep, line, "bad Counter64");
            return 1;
        }
        rc = na__snmp_store_add(st, oid, (size_t)n, NA_SNMP_COUNTER64, NULL, 0, 0, u);
    } else {
        bad_line(rep, line, "unsupported type tag");
        return 1;
    }
    return rc == NA_ENOMEM ? NA_ENOMEM : NA_OK;
}

int na__snmprec_load(const char *text, size_t len, na_snmp_store *st, na_snmprec_report *rep,
                     na_error *err)
{
    na_snmprec_report local;
    size_t pos = 0;

    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof(*rep));
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len, l = end - pos;
        int rc;

        rep->lines++;
        if (l > 0 && text[pos + l - 1] == '\r')
            l--;
        if (l > 0 && text[pos] != '#') {
            rc = load_line(text + pos, l, st, rep, rep->lines);
            if (rc == NA_ENOMEM)
                return na_error_set(err, NA_ENOMEM, "snmprec: out of memory");
            if (rc == NA_OK)
                rep->loaded++;
        }
        pos = end + 1;
    }
    na__snmp_store_finish(st);
    return NA_OK;
}
