/*
 * collect.c: the SNMP collector (stage 1 of snmp.h).
 *
 * Every target gets its own net-snmp session (single-session API); one poll() loop on the
 * calling thread drives them all, at most max_in_flight devices at once, one outstanding
 * request per device. A device goes: [SNMPv3: engine-ID discovery] -> GET of the system
 * scalars -> GETBULK walks of the subtrees its `want` bits ask for, up to
 * MAX_CURSORS_PER_REQUEST subtrees per request. Every varbind lands in the device's store.
 * Only GET and GETBULK are ever built (send_pdu checks it).
 *
 * libnetsnmp as Debian builds it is not reentrant (no NETSNMP_REENTRANT): the USM user list,
 * the engine-time cache, request ids and the statistics are process-wide. So every call into
 * the library holds `lib_lock`; the poll() wait and the caller's callback run without it.
 * Because the USM user table is keyed by (engine ID, user), two devices sharing an engine ID
 * and a user name must share the passphrases while they are polled at the same time (a device
 * polled with new passphrases replaces the entry: see advance).
 *
 * Host names are resolved with getaddrinfo() when the device starts, which blocks the loop
 * for as long as the resolver takes; IP literals cost nothing.
 */
/* net-snmp's headers use the BSD types (u_char, u_long) that glibc hides under plain POSIX */
#define _DEFAULT_SOURCE
#include "snmp/snmp.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>

/* net-snmp #defines these as aliases of the PDU's errstat / errindex (what a GETBULK carries
 * there); they would rename na_snmp_target's own max_repetitions */
#undef non_repeaters
#undef max_repetitions

#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_RETRIES 2
#define DEFAULT_MAX_REPETITIONS 25
#define DEFAULT_MAX_IN_FLIGHT 64
#define DEFAULT_MAX_VARBINDS 500000
/* Subtrees per GETBULK: 4 x 25 repetitions stay around 100 varbinds, which agents answer in
 * one datagram (the ones that cannot say tooBig, and we halve max-repetitions). */
#define MAX_CURSORS_PER_REQUEST 4
#define MAX_PROBLEMS 64
/* How often the loop looks at opts->stop while nothing else happens. */
#define STOP_CHECK_MS 100
#define MAX_HOST 256
#define MAX_ROOT_LEN 16
#define MAX_ENGINE_ID 32

/* ---- what a poll walks -------------------------------------------------------------------- */

/* The subtrees each `want` bit walks, in walk order (tables read together sit together, so
 * one GETBULK advances both). src/snmp/mib.c reads the same OIDs from the store. */
typedef struct walk_def {
    const char *name;
    const char *oid;
    unsigned want;
} walk_def;

static const walk_def walk_defs[] = {
    {"ifTable", "1.3.6.1.2.1.2.2.1", NA_SNMP_WANT_PORTS},
    {"ifXTable", "1.3.6.1.2.1.31.1.1.1", NA_SNMP_WANT_PORTS},
    /* lldpLocalSystemData: lldpLocChassisIdSubtype (.1), lldpLocChassisId (.2), ...,
     * lldpLocPortTable (.7); one small subtree instead of three cursors */
    {"lldpLocalSystemData", "1.0.8802.1.1.2.1.3", NA_SNMP_WANT_NEIGHBORS},
    {"lldpRemTable", "1.0.8802.1.1.2.1.4.1", NA_SNMP_WANT_NEIGHBORS},
    {"lldpRemManAddrTable", "1.0.8802.1.1.2.1.4.2", NA_SNMP_WANT_NEIGHBORS},
    {"cdpCacheTable", "1.3.6.1.4.1.9.9.23.1.2.1", NA_SNMP_WANT_NEIGHBORS},
    /* MIKROTIK-MIB mtxrNeighborTable: RouterOS's own LLDP index needs it to find local ports */
    {"mtxrNeighborTable", "1.3.6.1.4.1.14988.1.1.11.1", NA_SNMP_WANT_NEIGHBORS},
    {"dot1dBasePortIfIndex", "1.3.6.1.2.1.17.1.4.1.2", NA_SNMP_WANT_HOSTS},
    {"dot1dTpFdbTable", "1.3.6.1.2.1.17.4.3", NA_SNMP_WANT_HOSTS},
    {"dot1qTpFdbTable", "1.3.6.1.2.1.17.7.1.2.2", NA_SNMP_WANT_HOSTS},
    /* dot1qVlanCurrentTable: which VLAN each filtering database (fdbId) serves */
    {"dot1qVlanCurrentTable", "1.3.6.1.2.1.17.7.1.4.2", NA_SNMP_WANT_HOSTS},
    {"ipNetToPhysicalTable", "1.3.6.1.2.1.4.35", NA_SNMP_WANT_HOSTS},
    {"ipNetToMediaTable", "1.3.6.1.2.1.4.22", NA_SNMP_WANT_HOSTS},
    {"entPhysicalTable", "1.3.6.1.2.1.47.1.1.1", NA_SNMP_WANT_SENSORS},
    {"entPhySensorTable", "1.3.6.1.2.1.99.1.1", NA_SNMP_WANT_SENSORS},
    {"entStateTable", "1.3.6.1.2.1.131.1.1", NA_SNMP_WANT_SENSORS},
    {"entSensorValueTable", "1.3.6.1.4.1.9.9.91.1.1.1", NA_SNMP_WANT_SENSORS},
    {"hrProcessorLoad", "1.3.6.1.2.1.25.3.3.1.2", NA_SNMP_WANT_SENSORS},
    {"hrStorageTable", "1.3.6.1.2.1.25.2.3", NA_SNMP_WANT_SENSORS},
    {"hrDeviceTable", "1.3.6.1.2.1.25.3.2", NA_SNMP_WANT_SENSORS},
    {"ipAddrTable", "1.3.6.1.2.1.4.20", NA_SNMP_WANT_ADDRESSES},
    {"ipAddressTable", "1.3.6.1.2.1.4.34", NA_SNMP_WANT_ADDRESSES},
};
#define N_WALK_DEFS (sizeof(walk_defs) / sizeof(walk_defs[0]))

/* sysDescr, sysObjectID, sysUpTime, sysContact, sysName, sysLocation (.0 each) */
static const unsigned system_leaves[] = {1, 2, 3, 4, 5, 6};

/* ---- process-wide library state ----------------------------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;

static void lock_lib(void)
{
    pthread_mutex_lock(&lib_lock);
}

static void unlock_lib(void)
{
    pthread_mutex_unlock(&lib_lock);
}

/* net-snmp's own messages go to our log at debug level: the library never prints by itself. */
static int log_from_netsnmp(int major, int minor, void *serverarg, void *clientarg)
{
    const struct snmp_log_message *m = serverarg;
    size_t len;

    (void)major;
    (void)minor;
    (void)clientarg;
    if (!m || !m->msg)
        return 0;
    len = strlen(m->msg);
    if (len > 0 && m->msg[len - 1] == '\n')
        len--;
    na_log(NA_LOG_DEBUG, "net-snmp: %.*s", (int)len, m->msg);
    return 0;
}

static void init_library(void)
{
    /* Before anything can log: with no handler enabled net-snmp falls back to stderr. */
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, log_from_netsnmp, NULL);
    netsnmp_register_loghandler(NETSNMP_LOGHANDLER_CALLBACK, LOG_DEBUG);

    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1);
    /* Debian's build still creates <persistent dir>/cert_indexes for its TLS support (as root:
     * /var/lib/snmp/cert_indexes); under /dev/null nothing can be created or read */
    netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, "/dev/null");
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_ERRORS, 0);
    netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
    /* We only handle numeric OIDs: no MIB directory, so no MIB file is opened or parsed
     * (the environment is left alone: other code in the process may read it). */
    netsnmp_set_mib_directory("");
    init_snmp("netassure");
}

void na__snmp_init(void)
{
    pthread_once(&init_once, init_library);
}

/* ---- credentials ------------------------------------------------------------------------- */

typedef struct usm_keys {
    const na_snmp_credentials *cred;
    int level;                       /* SNMP_SEC_LEVEL_* */
    oid *auth_proto, *priv_proto;    /* net-snmp's protocol OIDs (read-only for us) */
    size_t auth_proto_len, priv_proto_len;
    u_char auth_ku[USM_AUTH_KU_LEN], priv_ku[USM_PRIV_KU_LEN];
    size_t auth_ku_len, priv_ku_len;
} usm_keys;

/* Accepts "SHA-256", "sha256", "SHA256": compares ignoring case and dashes. */
static bool proto_is(const char *given, const char *name)
{
    while (*given || *name) {
        if (*given == '-') {
            given++;
            continue;
        }
        if (*name == '-') {
            name++;
            continue;
        }
        if (!*given || !*name)
            return false;
        if ((*given | 0x20) != (*name | 0x20))
            return false;
        given++;
        name++;
    }
    return true;
}

static bool auth_proto_lookup(const char *s, oid **proto, size_t *len)
{
    if (!s || proto_is(s, "SHA") || proto_is(s, "SHA1")) {
        *proto = usmHMACSHA1AuthProtocol;
        *len = sizeof(usmHMACSHA1AuthProtocol) / sizeof(oid);
    } else if (proto_is(s, "SHA-224")) {
        *proto = usmHMAC128SHA224AuthProtocol;
        *len = sizeof(usmHMAC128SHA224AuthProtocol) / sizeof(oid);
    } else if (proto_is(s, "SHA-256")) {
        *proto = usmHMAC192SHA256AuthProtocol;
        *len = sizeof(usmHMAC192SHA256AuthProtocol) / sizeof(oid);
    } else if (proto_is(s, "SHA-384")) {
        *proto = usmHMAC256SHA384AuthProtocol;
        *len = sizeof(usmHMAC256SHA384AuthProtocol) / sizeof(oid);
    } else if (proto_is(s, "SHA-512")) {
        *proto = usmHMAC384SHA512AuthProtocol;
        *len = sizeof(usmHMAC384SHA512AuthProtocol) / sizeof(oid);
#ifndef NETSNMP_DISABLE_MD5
    } else if (proto_is(s, "MD5")) {
        *proto = usmHMACMD5AuthProtocol;
        *len = sizeof(usmHMACMD5AuthProtocol) / sizeof(oid);
#endif
    } else {
        return false;
    }
    return true;
}

static bool priv_proto_lookup(const char *s, oid **proto, size_t *len)
{
    if (!s || proto_is(s, "AES") || proto_is(s, "AES-128")) {
        *proto = usmAESPrivProtocol;
        *len = sizeof(usmAESPrivProtocol) / sizeof(oid);
#ifdef NETSNMP_DRAFT_BLUMENTHAL_AES_04
    } else if (proto_is(s, "AES-192")) {
        *proto = usmAES192PrivProtocol;
        *len = sizeof(usmAES192PrivProtocol) / sizeof(oid);
    } else if (proto_is(s, "AES-256")) {
        *proto = usmAES256PrivProtocol;
        *len = sizeof(usmAES256PrivProtocol) / sizeof(oid);
#endif
#ifndef NETSNMP_DISABLE_DES
    } else if (proto_is(s, "DES")) {
        *proto = usmDESPrivProtocol;
        *len = sizeof(usmDESPrivProtocol) / sizeof(oid);
#endif
    } else {
        return false;
    }
    return true;
}

/* Checks one target's settings; nothing is sent before every target passed. */
static int check_target(const na_snmp_target *t, size_t i, na_error *err)
{
    const na_snmp_credentials *c = t->cred;
    const char *host = t->host ? t->host : "(null)";
    oid *proto;
    size_t len;

    if (!t->host || !t->host[0] || strlen(t->host) >= MAX_HOST)
        return na_error_set(err, NA_EINVAL, "snmp: target %zu: host missing or too long", i);
    if (t->timeout_ms < 0 || t->timeout_ms > 600000 || t->retries < -1 || t->retries > 20 ||
        t->max_repetitions < 0 || t->max_repetitions > 10000)
        return na_error_set(err, NA_EINVAL,
                            "snmp: target %zu (%s): timeout (0..600000 ms), retries (-1..20) or "
                            "max-repetitions (0..10000) out of range",
                            i, host);
    if (!c)
        return na_error_set(err, NA_EINVAL, "snmp: target %zu (%s): no credentials", i, host);
    if (c->version == NA_SNMP_V2C) {
        if (!c->community)
            return na_error_set(err, NA_EINVAL, "snmp: target %zu (%s): v2c without community",
                                i, host);
        return NA_OK;
    }
    if (c->version != NA_SNMP_V3)
        return na_error_set(err, NA_EINVAL, "snmp: target %zu (%s): SNMP version %d unsupported",
                            i, host, (int)c->version);
    if (!c->user || !c->user[0] || strlen(c->user) > 255)
        return na_error_set(err, NA_EINVAL, "snmp: target %zu (%s): v3 without a user", i, host);
    if (c->level < NA_SNMP_NOAUTH || c->level > NA_SNMP_AUTHPRIV)
        return na_error_set(err, NA_EINVAL, "snmp: target %zu (%s): bad security level", i, host);
    if (c->context && strlen(c->context) > 255)
        return na_error_set(err, NA_EINVAL, "snmp: target %zu (%s): context name too long", i,
                            host);
    if (c->level == NA_SNMP_NOAUTH)
        return NA_OK;
    if (!auth_proto_lookup(c->auth_proto, &proto, &len))
        return na_error_set(err, NA_EINVAL,
                            "snmp: target %zu (%s): unknown auth protocol \"%s\" (SHA, SHA-224, "
                            "SHA-256, SHA-384, SHA-512, MD5)",
                            i, host, c->auth_proto);
    /* RFC 3414 (and net-snmp's generate_Ku) want passphrases of at least 8 characters */
    if (!c->auth_pass || strlen(c->auth_pass) < USM_LENGTH_P_MIN)
        return na_error_set(err, NA_EINVAL,
                            "snmp: target %zu (%s): auth passphrase missing or shorter than %d",
                            i, host, USM_LENGTH_P_MIN);
    if (c->level == NA_SNMP_AUTHNOPRIV)
        return NA_OK;
    if (!priv_proto_lookup(c->priv_proto, &proto, &len))
        return na_error_set(err, NA_EINVAL,
                            "snmp: target %zu (%s): unknown privacy protocol \"%s\" (AES, "
                            "AES-192, AES-256, DES)",
                            i, host, c->priv_proto);
    if (!c->priv_pass || strlen(c->priv_pass) < USM_LENGTH_P_MIN)
        return na_error_set(err, NA_EINVAL,
                            "snmp: target %zu (%s): privacy passphrase missing or shorter than %d",
                            i, host, USM_LENGTH_P_MIN);
    return NA_OK;
}

/* Ku from the passphrases (RFC 3414 A.2); localised per engine by net-snmp once discovered.
 * Call with lib_lock held. */
static int make_keys(usm_keys *k, const na_snmp_credentials *c, na_error *err)
{
    memset(k, 0, sizeof(*k));
    k->cred = c;
    k->level = c->level == NA_SNMP_AUTHPRIV     ? SNMP_SEC_LEVEL_AUTHPRIV
               : c->level == NA_SNMP_AUTHNOPRIV ? SNMP_SEC_LEVEL_AUTHNOPRIV
                                                : SNMP_SEC_LEVEL_NOAUTH;
    if (c->level == NA_SNMP_NOAUTH)
        return NA_OK;
    if (!auth_proto_lookup(c->auth_proto, &k->auth_proto, &k->auth_proto_len))
        return na_error_set(err, NA_EINVAL, "snmp: unknown auth protocol");
    k->auth_ku_len = sizeof(k->auth_ku);
    if (generate_Ku(k->auth_proto, (u_int)k->auth_proto_len, (const u_char *)c->auth_pass,
                    strlen(c->auth_pass), k->auth_ku, &k->auth_ku_len) != SNMPERR_SUCCESS)
        return na_error_set(err, NA_EINVAL, "snmp: credentials %s: cannot derive the auth key",
                            c->name ? c->name : c->user);
    if (c->level == NA_SNMP_AUTHNOPRIV)
        return NA_OK;
    if (!priv_proto_lookup(c->priv_proto, &k->priv_proto, &k->priv_proto_len))
        return na_error_set(err, NA_EINVAL, "snmp: unknown privacy protocol");
    /* the privacy key is derived with the auth protocol's hash (RFC 3414, 3826) */
    k->priv_ku_len = sizeof(k->priv_ku);
    if (generate_Ku(k->auth_proto, (u_int)k->auth_proto_len, (const u_char *)c->priv_pass,
                    strlen(c->priv_pass), k->priv_ku, &k->priv_ku_len) != SNMPERR_SUCCESS)
        return na_error_set(err, NA_EINVAL,
                            "snmp: credentials %s: cannot derive the privacy key",
                            c->name ? c->name : c->user);
    return NA_OK;
}

/* ---- devices ------------------------------------------------------------------------------ */

typedef struct cursor {
    const walk_def *def;
    const oid *root;
    size_t root_len;
    oid last[MAX_OID_LEN];   /* where the next GETBULK starts: the root, then the last OID */
    size_t last_len;
    bool done;
} cursor;

typedef enum dev_state { DEV_QUEUED, DEV_ACTIVE, DEV_DONE } dev_state;
typedef enum req_kind { REQ_NONE, REQ_PROBE, REQ_SYSTEM, REQ_WALK } req_kind;

struct collector;

typedef struct device {
    struct collector *co;
    size_t index;
    const na_snmp_target *t;
    const usm_keys *keys;             /* v3 only */
    void *sess;                       /* net-snmp single session, while active */
    na_snmp_store *st;                /* ours until handed to the callback */
    na_snmp_collect_info info;
    dev_state state;
    int timeout_ms, retries;

    req_kind req;                     /* the one outstanding request */
    long reqid;
    bool answered;                    /* it got an answer, a report or timed out */
    bool timed_out;
    const char *report;               /* reason from an agent's report PDU */
    int64_t watchdog;                 /* monotonic ms: give up even if net-snmp never calls */
    const char *usm_hint;             /* our USM counted bad answers from this agent */
    u_char engine_id[MAX_ENGINE_ID];  /* from the v3 discovery answer */
    size_t engine_id_len;

    cursor *cur;
    size_t n_cur;
    size_t in_req[MAX_CURSORS_PER_REQUEST]; /* cursors carried by the outstanding GETBULK */
    size_t n_in_req;
    int reps;                         /* current max-repetitions (halved on tooBig) */
    bool one_cursor;                  /* one subtree per request after trouble */
    int walk_timeouts;                /* in a row */

    char send_error[160];             /* why the last send failed */
    const char **problems;            /* strings in st->arena; array copied there at the end */
    size_t n_problems, problems_cap, problems_more;
    bool oom;
} device;

typedef struct collector {
    device *devs;
    size_t n;
    size_t max_in_flight, max_varbinds;
    const volatile int *stop;
    na_snmp_done_cb cb;
    void *ud;
    oid roots[N_WALK_DEFS][MAX_ROOT_LEN];
    size_t root_len[N_WALK_DEFS];
    usm_keys *keys;
    size_t n_keys;
    device **active;                  /* max_in_flight slots */
    size_t n_active, next_queued;
    size_t *finished;                 /* done, not yet handed to the callback */
    size_t n_finished;
    bool stopping;
    bool oom;
} collector;

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void dev_problem(device *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records a per-table problem (text in the store's arena). */
static void dev_problem(device *d, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    char *s;

    if (d->n_problems >= MAX_PROBLEMS) {
        d->problems_more++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (d->n_problems == d->problems_cap) {
        size_t cap = d->problems_cap ? d->problems_cap * 2 : 8;
        const char **grown = realloc(d->problems, cap * sizeof(*grown));
        if (!grown) {
            d->oom = true;
            return;
        }
        d->problems = grown;
        d->problems_cap = cap;
    }
    if (!(s = na__arena_strdup(&d->st->arena, buf))) {
        d->oom = true;
        return;
    }
    d->problems[d->n_problems++] = s;
}

static const char *format_oid(const oid *o, size_t len, char *buf, size_t buflen)
{
    uint32_t tmp[MAX_OID_LEN];

    if (len > MAX_OID_LEN)
        len = MAX_OID_LEN;
    for (size_t k = 0; k < len; k++)
        tmp[k] = (uint32_t)o[k];
    return na__snmp_oid_format(tmp, len, buf, buflen);
}

/* One varbind from the wire into the store, typed as it came. */
static void store_vb(device *d, const netsnmp_variable_list *vb)
{
    uint32_t name[MAX_OID_LEN];
    size_t len = vb->name_length;
    int rc = NA_OK;

    d->info.varbinds++;
    if (len == 0 || len > MAX_OID_LEN || len > NA_SNMP_MAX_OID) {
        d->st->dropped++;
        return;
    }
    for (size_t k = 0; k < len; k++)
        name[k] = (uint32_t)vb->name[k];
    switch (vb->type) {
    case ASN_INTEGER:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_INTEGER, NULL, 0,
                                vb->val.integer ? (int64_t)*vb->val.integer : 0, 0);
        break;
    case ASN_OCTET_STR:
    case ASN_BIT_STR: /* no BITS type in the store: the bytes, for the interpreter to judge */
    case ASN_NSAP:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_OCTETS, vb->val.string, vb->val_len, 0,
                                0);
        break;
    case ASN_IPADDRESS:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_IPADDRESS, vb->val.string, vb->val_len,
                                0, 0);
        break;
    case ASN_OPAQUE:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_OPAQUE, vb->val.string, vb->val_len, 0,
                                0);
        break;
    case ASN_OBJECT_ID: {
        uint32_t v[MAX_OID_LEN];
        size_t n = vb->val_len / sizeof(oid);
        if (n > MAX_OID_LEN)
            n = MAX_OID_LEN;
        for (size_t k = 0; k < n; k++)
            v[k] = (uint32_t)vb->val.objid[k];
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_OBJECTID, v, n, 0, 0);
        break;
    }
    case ASN_COUNTER:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_COUNTER32, NULL, 0, 0,
                                (uint64_t)(*vb->val.integer & 0xffffffffUL));
        break;
    case ASN_GAUGE: /* == ASN_UNSIGNED */
    case ASN_UINTEGER:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_GAUGE32, NULL, 0, 0,
                                (uint64_t)(*vb->val.integer & 0xffffffffUL));
        break;
    case ASN_TIMETICKS:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_TIMETICKS, NULL, 0, 0,
                                (uint64_t)(*vb->val.integer & 0xffffffffUL));
        break;
    case ASN_COUNTER64:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_COUNTER64, NULL, 0, 0,
                                (uint64_t)(vb->val.counter64->high & 0xffffffffUL) << 32 |
                                    (vb->val.counter64->low & 0xffffffffUL));
        break;
    case ASN_NULL:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_NULL, NULL, 0, 0, 0);
        break;
    case SNMP_NOSUCHOBJECT:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_NOSUCHOBJECT, NULL, 0, 0, 0);
        break;
    case SNMP_NOSUCHINSTANCE:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_NOSUCHINSTANCE, NULL, 0, 0, 0);
        break;
    case SNMP_ENDOFMIBVIEW:
        rc = na__snmp_store_add(d->st, name, len, NA_SNMP_ENDOFMIBVIEW, NULL, 0, 0, 0);
        break;
    default:
        /* Opaque-wrapped float/int64 and the like: nothing in the store can hold them */
        d->st->dropped++;
        break;
    }
    if (rc == NA_ENOMEM)
        d->oom = true;
}

/* ---- requests ------------------------------------------------------------------------------ */

static int on_pdu(int op, netsnmp_session *session, int reqid, netsnmp_pdu *pdu, void *magic);

/* Sends pdu as the device's one outstanding request; net-snmp owns it on success. We read;
 * we never write: anything but GET / GETBULK is refused here. */
static bool send_pdu(device *d, netsnmp_pdu *pdu, req_kind kind)
{
    int reqid;

    assert(pdu->command == SNMP_MSG_GET || pdu->command == SNMP_MSG_GETBULK);
    if (pdu->command != SNMP_MSG_GET && pdu->command != SNMP_MSG_GETBULK) {
        snmp_free_pdu(pdu);
        return false;
    }
    d->req = kind;
    d->answered = false;
    d->timed_out = false;
    d->report = NULL;
    /* net-snmp retries `retries` times, `timeout` apart; the watchdog only catches a request
     * the library dropped without telling us (e.g. notInTimeWindow after the last retry) */
    d->watchdog = mono_ms() + (int64_t)d->timeout_ms * (d->retries + 2) + 500;
    reqid = snmp_sess_async_send(d->sess, pdu, on_pdu, d);
    if (reqid == 0) {
        int liberr = 0, snmperr = 0;
        char *msg = NULL;
        snmp_sess_error(d->sess, &liberr, &snmperr, &msg);
        snprintf(d->send_error, sizeof(d->send_error), "send failed: %s",
                 msg ? msg : "unknown error");
        free(msg);
        snmp_free_pdu(pdu);
        return false;
    }
    d->reqid = reqid;
    d->info.requests++;
    return true;
}

/* SNMPv3 discovery (RFC 3414 4.): an empty noAuth GET; the agent's report names its engine ID. */
static bool send_probe(device *d)
{
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);

    if (!pdu)
        return false;
    pdu->version = SNMP_VERSION_3;
    pdu->securityModel = SNMP_SEC_MODEL_USM;
    pdu->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
    pdu->securityName = strdup("");
    if (!pdu->securityName) {
        snmp_free_pdu(pdu);
        return false;
    }
    pdu->securityNameLen = 0;
    return send_pdu(d, pdu, REQ_PROBE);
}

static bool send_system(device *d)
{
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
    oid name[9] = {1, 3, 6, 1, 2, 1, 1, 0, 0};

    if (!pdu)
        return false;
    for (size_t k = 0; k < sizeof(system_leaves) / sizeof(system_leaves[0]); k++) {
        name[7] = system_leaves[k];
        if (!snmp_add_null_var(pdu, name, 9)) {
            snmp_free_pdu(pdu);
            return false;
        }
    }
    return send_pdu(d, pdu, REQ_SYSTEM);
}

/* The next GETBULK: one varbind per still-active cursor, in table order. Returns false when
 * nothing is left to walk (*nothing set) or the send failed. */
static bool send_walk(device *d, bool *nothing)
{
    size_t limit = d->one_cursor ? 1 : MAX_CURSORS_PER_REQUEST;
    netsnmp_pdu *pdu;

    *nothing = false;
    d->n_in_req = 0;
    for (size_t k = 0; k < d->n_cur && d->n_in_req < limit; k++)
        if (!d->cur[k].done)
            d->in_req[d->n_in_req++] = k;
    if (d->n_in_req == 0) {
        *nothing = true;
        return false;
    }
    if (!(pdu = snmp_pdu_create(SNMP_MSG_GETBULK)))
        return false;
    pdu->errstat = 0;        /* non-repeaters */
    pdu->errindex = d->reps; /* max-repetitions */
    for (size_t k = 0; k < d->n_in_req; k++) {
        cursor *c = &d->cur[d->in_req[k]];
        if (!snmp_add_null_var(pdu, c->last, c->last_len)) {
            snmp_free_pdu(pdu);
            return false;
        }
    }
    return send_pdu(d, pdu, REQ_WALK);
}

/* ---- answers ----------------------------------------------------------------------------- */

/* The reason an agent's report PDU gives (RFC 3414 usmStats, RFC 3412 snmpMPDStats, RFC 3413
 * contexts; a static string). *time_window: it is notInTimeWindows, which net-snmp handles by
 * resending with the agent's clock. */
static const char *report_reason(const netsnmp_pdu *pdu, bool *time_window)
{
    static const oid usm_stats[] = {1, 3, 6, 1, 6, 3, 15, 1, 1};
    static const oid mpd_stats[] = {1, 3, 6, 1, 6, 3, 11, 2, 1};
    static const oid target_stats[] = {1, 3, 6, 1, 6, 3, 12, 1};
    static const char *const usm_names[] = {
        NULL, "authentication failure (usmStatsUnsupportedSecLevels)",
        "authentication failure (usmStatsNotInTimeWindows)",
        "authentication failure (usmStatsUnknownUserNames)",
        "authentication failure (usmStatsUnknownEngineIDs)",
        "authentication failure (usmStatsWrongDigests)",
        "authentication failure (usmStatsDecryptionErrors)"};
    const netsnmp_variable_list *vb = pdu->variables;

    *time_window = false;
    if (!vb)
        return "agent report without a varbind";
    if (vb->name_length == 11 && memcmp(vb->name, usm_stats, sizeof(usm_stats)) == 0 &&
        vb->name[9] >= 1 && vb->name[9] <= 6) {
        if (vb->name[9] == 2)
            *time_window = true;
        return usm_names[vb->name[9]];
    }
    if (vb->name_length == 11 && memcmp(vb->name, mpd_stats, sizeof(mpd_stats)) == 0) {
        if (vb->name[9] == 1)
            return "agent report (snmpUnknownSecurityModels)";
        if (vb->name[9] == 2)
            return "agent report (snmpInvalidMsgs)";
        if (vb->name[9] == 3)
            return "agent report (snmpUnknownPDUHandlers)";
    }
    if (vb->name_length == 10 && memcmp(vb->name, target_stats, sizeof(target_stats)) == 0) {
        if (vb->name[8] == 4)
            return "unknown context (snmpUnavailableContexts)";
        if (vb->name[8] == 5)
            return "unknown context (snmpUnknownContexts)";
    }
    return "agent report";
}

static bool in_subtree(const netsnmp_variable_list *vb, const cursor *c)
{
    return vb->name_length > c->root_len &&
           memcmp(vb->name, c->root, c->root_len * sizeof(oid)) == 0;
}

static void walk_answer(device *d, const netsnmp_pdu *pdu)
{
    collector *co = d->co;
    size_t n = d->n_in_req, i = 0;
    bool progress = false;
    const netsnmp_variable_list *vb;
    char a[256], b[256];

    if (pdu->errstat == SNMP_ERR_TOOBIG) {
        /* smaller answers: fewer repetitions, then one subtree at a time, then give up */
        if (d->reps > 1) {
            d->reps /= 2;
        } else if (n > 1) {
            d->one_cursor = true;
        } else {
            cursor *c = &d->cur[d->in_req[0]];
            dev_problem(d, "%s: tooBig even at max-repetitions 1", c->def->name);
            c->done = true;
        }
        return;
    }
    if (pdu->errstat != SNMP_ERR_NOERROR) {
        long at = pdu->errindex;
        for (size_t k = 0; k < n; k++) {
            cursor *c = &d->cur[d->in_req[k]];
            if (at >= 1 && (size_t)at <= n && (size_t)at != k + 1)
                continue;
            dev_problem(d, "%s: agent error %s", c->def->name, snmp_errstring((int)pdu->errstat));
            c->done = true;
        }
        return;
    }
    /* non-repeaters is 0: varbind i belongs to cursor i % n, repetition after repetition; an
     * agent may stop early (message size) and the cursors just continue from where they got */
    for (vb = pdu->variables; vb; vb = vb->next_variable, i++) {
        cursor *c;
        if (i >= n * (size_t)d->reps)
            break;
        c = &d->cur[d->in_req[i % n]];
        if (c->done)
            continue;
        progress = true;
        if (vb->type == SNMP_ENDOFMIBVIEW) {
            c->done = true;
            continue;
        }
        if (vb->type == SNMP_NOSUCHOBJECT || vb->type == SNMP_NOSUCHINSTANCE) {
            /* never valid in a GETBULK answer: the agent has nothing sensible for us */
            dev_problem(d, "%s: %s in a GETBULK answer at %s", c->def->name,
                        vb->type == SNMP_NOSUCHOBJECT ? "noSuchObject" : "noSuchInstance",
                        format_oid(vb->name, vb->name_length, a, sizeof(a)));
            c->done = true;
            continue;
        }
        if (!in_subtree(vb, c)) {
            c->done = true;
            continue;
        }
        if (snmp_oid_compare(vb->name, vb->name_length, c->last, c->last_len) <= 0) {
            /* an agent walking in circles: keep what came before, stop this table */
            dev_problem(d, "%s: non-increasing OID %s after %s", c->def->name,
                        format_oid(vb->name, vb->name_length, a, sizeof(a)),
                        format_oid(c->last, c->last_len, b, sizeof(b)));
            c->done = true;
            continue;
        }
        store_vb(d, vb);
        memcpy(c->last, vb->name, vb->name_length * sizeof(oid));
        c->last_len = vb->name_length;
        if (d->info.varbinds >= co->max_varbinds) {
            dev_problem(d, "%s: max_varbinds (%zu) reached, walk stopped", c->def->name,
                        co->max_varbinds);
            for (size_t k = 0; k < d->n_cur; k++)
                d->cur[k].done = true;
            return;
        }
    }
    if (!progress) {
        for (size_t k = 0; k < n; k++) {
            cursor *c = &d->cur[d->in_req[k]];
            dev_problem(d, "%s: empty GETBULK answer", c->def->name);
            c->done = true;
        }
    }
}

/*
 * net-snmp calls this from snmp_sess_read2 / snmp_sess_timeout (lib_lock held). It only
 * records what happened; the loop sends the next request (advance), outside the library's
 * packet handling. Returning 1 lets net-snmp free the request.
 */
static int on_pdu(int op, netsnmp_session *session, int reqid, netsnmp_pdu *pdu, void *magic)
{
    device *d = magic;

    (void)session;
    /* A report about a request the agent could not authenticate carries request-id 0 (it
     * cannot read ours, RFC 3412 7.1.3): with one request outstanding per session, it is
     * about that one. */
    if (!d || d->state != DEV_ACTIVE || d->answered ||
        (reqid != d->reqid && !(pdu && pdu->command == SNMP_MSG_REPORT && d->reqid)))
        return 1; /* a late answer to a request we gave up on */
    if (op == NETSNMP_CALLBACK_OP_TIMED_OUT || op == NETSNMP_CALLBACK_OP_SEND_FAILED) {
        d->info.timeouts++;
        d->answered = true;
        d->timed_out = true;
        return 1;
    }
    if (op == NETSNMP_CALLBACK_OP_SEC_ERROR && !pdu) {
        d->report = "authentication failure (security error)";
        d->answered = true;
        return 1;
    }
    /* A security error is how net-snmp hands over an agent's report about our request (snmpd
     * answers a wrong passphrase with usmStatsWrongDigests): read it like a report. */
    if ((op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE && op != NETSNMP_CALLBACK_OP_SEC_ERROR) ||
        !pdu)
        return 1;
    if ((pdu->command == SNMP_MSG_REPORT || op == NETSNMP_CALLBACK_OP_SEC_ERROR) &&
        d->req != REQ_PROBE) {
        bool time_window;
        const char *why = report_reason(pdu, &time_window);
        if (time_window) {
            /* our clock for this engine was off; net-snmp resends with the agent's time (and
             * if it has no retry left, the watchdog ends the wait) */
            return 1;
        }
        d->report = why;
        d->answered = true;
        return 1;
    }
    d->answered = true;
    switch (d->req) {
    case REQ_PROBE:
        if (pdu->securityEngineIDLen > 0 && pdu->securityEngineIDLen <= MAX_ENGINE_ID) {
            memcpy(d->engine_id, pdu->securityEngineID, pdu->securityEngineIDLen);
            d->engine_id_len = pdu->securityEngineIDLen;
        }
        break;
    case REQ_SYSTEM:
        d->usm_hint = NULL;
        d->info.reachable = true;
        for (const netsnmp_variable_list *vb = pdu->variables; vb; vb = vb->next_variable)
            store_vb(d, vb);
        if (pdu->errstat != SNMP_ERR_NOERROR)
            dev_problem(d, "system: agent error %s (error-index %ld)",
                        snmp_errstring((int)pdu->errstat), pdu->errindex);
        break;
    case REQ_WALK:
        d->usm_hint = NULL;
        d->walk_timeouts = 0;
        walk_answer(d, pdu);
        break;
    case REQ_NONE:
        break;
    }
    return 1;
}

/* ---- device lifecycle -------------------------------------------------------------------- */

static void dev_finish(collector *co, device *d, const char *reason)
{
    if (d->sess) {
        /* net-snmp 5.9 calls the callback of each pending request with TIMED_OUT while
         * closing: no request of ours is outstanding any more */
        d->reqid = 0;
        snmp_sess_close(d->sess);
        d->sess = NULL;
    }
    free(d->cur);
    d->cur = NULL;
    d->n_cur = 0;
    if (reason && !(d->info.reason = na__arena_strdup(&d->st->arena, reason)))
        d->oom = true;
    if (d->problems_more)
        dev_problem(d, "%zu more problems not kept", d->problems_more);
    if (d->n_problems) {
        const char **p = na__arena_alloc(&d->st->arena, d->n_problems * sizeof(*p));
        if (p) {
            memcpy(p, d->problems, d->n_problems * sizeof(*p));
            d->info.problems = p;
            d->info.n_problems = d->n_problems;
        } else {
            d->oom = true;
        }
    }
    free(d->problems);
    d->problems = NULL;
    if (d->oom)
        co->oom = true;
    d->info.finished_at = na_time_now();
    if (d->state == DEV_ACTIVE) {
        for (size_t k = 0; k < co->n_active; k++) {
            if (co->active[k] == d) {
                co->active[k] = co->active[--co->n_active];
                break;
            }
        }
    }
    d->state = DEV_DONE;
    co->finished[co->n_finished++] = d->index;
}

/* "udp:1.2.3.4:161" / "udp6:[::1]:161" for net-snmp. Names are resolved here so that an
 * unknown one gets its own reason (and net-snmp never sees a name it would look up again).
 * Forms with a transport prefix ("udp6:[::1]") go to net-snmp as they are. */
static bool make_peername(const na_snmp_target *t, char *buf, size_t len)
{
    static const char *const prefixes[] = {"udp:", "udp6:", "udpv6:", "udpipv6:", "tcp:",
                                           "tcp6:", "tcpv6:", "tcpipv6:", "ipv6:"};
    unsigned port = t->port ? t->port : 161;
    struct addrinfo hints, *res = NULL;
    char host[NI_MAXHOST];
    int w;

    for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
        size_t pl = strlen(prefixes[k]);
        if (strncasecmp(t->host, prefixes[k], pl) == 0) {
            const char *rest = t->host + pl, *close = strrchr(rest, ']');
            const char *colon = strrchr(close ? close : rest, ':');
            /* add the port unless the form already has one */
            if (colon || !t->port)
                w = snprintf(buf, len, "%s", t->host);
            else
                w = snprintf(buf, len, "%s:%u", t->host, port);
            return w > 0 && (size_t)w < len;
        }
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(t->host, NULL, &hints, &res) != 0 || !res)
        return false;
    w = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
    if (w == 0) {
        if (res->ai_family == AF_INET6)
            w = snprintf(buf, len, "udp6:[%s]:%u", host, port);
        else
            w = snprintf(buf, len, "udp:%s:%u", host, port);
    } else {
        w = -1;
    }
    freeaddrinfo(res);
    return w > 0 && (size_t)w < len;
}

/* Opens the session and sends the first request; a device that cannot start is finished. */
static void dev_start(collector *co, device *d)
{
    const na_snmp_target *t = d->t;
    const na_snmp_credentials *c = t->cred;
    netsnmp_session s;
    char peer[MAX_HOST + 64];
    bool sent;

    d->info.started_at = na_time_now();
    d->timeout_ms = t->timeout_ms ? t->timeout_ms : DEFAULT_TIMEOUT_MS;
    d->retries = t->retries >= 0 ? t->retries : DEFAULT_RETRIES;
    d->reps = t->max_repetitions ? t->max_repetitions : DEFAULT_MAX_REPETITIONS;
    d->state = DEV_ACTIVE;
    co->active[co->n_active++] = d;

    if (!make_peername(t, peer, sizeof(peer))) {
        dev_finish(co, d, "unknown host");
        return;
    }
    snmp_sess_init(&s);
    s.peername = peer;
    s.timeout = (long)d->timeout_ms * 1000L;
    s.retries = d->retries;
    s.callback = on_pdu;
    s.callback_magic = d;
    if (c->version == NA_SNMP_V2C) {
        s.version = SNMP_VERSION_2c;
        s.community = (u_char *)(uintptr_t)c->community; /* copied by snmp_sess_open */
        s.community_len = strlen(c->community);
    } else {
        const usm_keys *k = d->keys;
        s.version = SNMP_VERSION_3;
        s.securityModel = SNMP_SEC_MODEL_USM;
        s.securityName = (char *)(uintptr_t)c->user;
        s.securityNameLen = strlen(c->user);
        s.securityLevel = k->level;
        s.contextName = (char *)(uintptr_t)(c->context ? c->context : "");
        s.contextNameLen = strlen(s.contextName);
        if (k->level != SNMP_SEC_LEVEL_NOAUTH) {
            s.securityAuthProto = k->auth_proto;
            s.securityAuthProtoLen = k->auth_proto_len;
            memcpy(s.securityAuthKey, k->auth_ku, k->auth_ku_len);
            s.securityAuthKeyLen = k->auth_ku_len;
        }
        if (k->level == SNMP_SEC_LEVEL_AUTHPRIV) {
            s.securityPrivProto = k->priv_proto;
            s.securityPrivProtoLen = k->priv_proto_len;
            memcpy(s.securityPrivKey, k->priv_ku, k->priv_ku_len);
            s.securityPrivKeyLen = k->priv_ku_len;
        }
        /* snmp_sess_open would discover the engine ID with a blocking exchange */
        s.flags |= SNMP_FLAGS_DONT_PROBE;
    }
    d->sess = snmp_sess_open(&s);
    memset(s.securityAuthKey, 0, sizeof(s.securityAuthKey));
    memset(s.securityPrivKey, 0, sizeof(s.securityPrivKey));
    if (!d->sess) {
        dev_finish(co, d, s.s_snmp_errno == SNMPERR_BAD_ADDRESS ? "unknown host"
                                                                : "cannot open an SNMP session");
        return;
    }
    if (c->version == NA_SNMP_V3) {
        /* ... and so would the first send (the library clears the flag after opening) */
        snmp_sess_session(d->sess)->flags |= SNMP_FLAGS_DONT_PROBE;
        sent = send_probe(d);
    } else {
        sent = send_system(d);
    }
    if (!sent)
        dev_finish(co, d, d->send_error[0] ? d->send_error : "send failed");
}

static bool start_walks(collector *co, device *d)
{
    size_t n = 0;

    for (size_t k = 0; k < N_WALK_DEFS; k++)
        if (d->t->want & walk_defs[k].want)
            n++;
    if (n == 0)
        return true;
    if (!(d->cur = calloc(n, sizeof(*d->cur)))) {
        d->oom = true;
        return false;
    }
    for (size_t k = 0; k < N_WALK_DEFS; k++) {
        cursor *c;
        if (!(d->t->want & walk_defs[k].want))
            continue;
        c = &d->cur[d->n_cur++];
        c->def = &walk_defs[k];
        c->root = co->roots[k];
        c->root_len = co->root_len[k];
        memcpy(c->last, c->root, c->root_len * sizeof(oid));
        c->last_len = c->root_len;
    }
    return true;
}

/* The outstanding request is over (answer, report or timeout): the next step. */
static void advance(collector *co, device *d)
{
    netsnmp_session *ss;
    struct usmUser *old;
    bool nothing = false;
    char why[128];

    d->answered = false;
    if (d->oom) {
        dev_finish(co, d, "out of memory");
        return;
    }
    switch (d->req) {
    case REQ_PROBE:
        if (d->timed_out) {
            dev_finish(co, d, "timeout");
            return;
        }
        ss = snmp_sess_session(d->sess);
        if (ss->securityEngineIDLen == 0 && d->engine_id_len > 0) {
            /* net-snmp takes the engine ID from a report only; an agent answered otherwise */
            u_char *sec = malloc(d->engine_id_len), *ctx = malloc(d->engine_id_len);
            if (!sec || !ctx) {
                free(sec);
                free(ctx);
                dev_finish(co, d, "out of memory");
                return;
            }
            memcpy(sec, d->engine_id, d->engine_id_len);
            memcpy(ctx, d->engine_id, d->engine_id_len);
            free(ss->securityEngineID);
            ss->securityEngineID = sec;
            ss->securityEngineIDLen = d->engine_id_len;
            if (ss->contextEngineIDLen == 0) {
                free(ss->contextEngineID);
                ss->contextEngineID = ctx;
                ss->contextEngineIDLen = d->engine_id_len;
            } else {
                free(ctx);
            }
        }
        if (ss->securityEngineIDLen == 0) {
            dev_finish(co, d, "no SNMPv3 engine ID in the discovery answer");
            return;
        }
        /* the USM user entry with keys localised to this engine (net-snmp 5.9 only does this
         * itself after its own, blocking, discovery). The table is process-wide and
         * create_user_from_session keeps an existing entry as it is: an entry left by an
         * earlier poll with other passphrases would be used instead of ours, so it goes */
        old = usm_get_user(ss->securityEngineID, ss->securityEngineIDLen, ss->securityName);
        if (old && old->engineIDLen == ss->securityEngineIDLen &&
            memcmp(old->engineID, ss->securityEngineID, old->engineIDLen) == 0 && old->name &&
            strcmp(old->name, ss->securityName) == 0) {
            usm_remove_user(old);
            usm_free_user(old);
        }
        if (create_user_from_session(ss) != SNMPERR_SUCCESS) {
            dev_finish(co, d, "cannot set up the SNMPv3 user");
            return;
        }
        if (!send_system(d))
            dev_finish(co, d, d->send_error[0] ? d->send_error : "send failed");
        return;
    case REQ_SYSTEM:
        if (d->report) {
            dev_finish(co, d, d->report);
            return;
        }
        if (d->timed_out) {
            if (d->usm_hint) {
                /* no answer we could accept, but answers that failed our USM checks: the
                 * agent knows the user with other keys */
                snprintf(why, sizeof(why), "authentication failure (%s)", d->usm_hint);
                dev_finish(co, d, why);
            } else if (d->keys) {
                /* alive (it answered the discovery) but silent to our requests: agents may
                 * drop what they cannot decrypt, unknown users and unknown contexts */
                dev_finish(co, d,
                           "no answer with these credentials (SNMPv3 discovery answered; "
                           "check user, privacy settings and context)");
            } else {
                dev_finish(co, d, "timeout");
            }
            return;
        }
        if (!start_walks(co, d)) {
            dev_finish(co, d, "out of memory");
            return;
        }
        break;
    case REQ_WALK:
        if (d->report) {
            dev_problem(d, "walk: %s", d->report);
            dev_finish(co, d, d->report);
            return;
        }
        if (d->timed_out) {
            const cursor *c = &d->cur[d->in_req[0]];
            if (++d->walk_timeouts >= 2) {
                size_t left = 0;
                for (size_t k = 0; k < d->n_cur; k++)
                    left += !d->cur[k].done;
                dev_problem(d, "%s: timeout, walk abandoned (%zu table%s not walked)",
                            c->def->name, left, left == 1 ? "" : "s");
                dev_finish(co, d, "timeout during walk");
                return;
            }
            /* agents that drop answers too big for them: ask for less, one subtree at a time */
            d->reps = d->reps > 1 ? d->reps / 2 : 1;
            d->one_cursor = true;
        }
        break;
    case REQ_NONE:
        break;
    }
    if (!send_walk(d, &nothing))
        dev_finish(co, d, nothing ? NULL : d->send_error[0] ? d->send_error : "send failed");
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void stop_all(collector *co)
{
    while (co->n_active > 0)
        dev_finish(co, co->active[co->n_active - 1], "stopped");
    while (co->next_queued < co->n) {
        device *d = &co->devs[co->next_queued++];
        d->info.started_at = na_time_now();
        dev_finish(co, d, "stopped");
    }
}

/* Hands finished devices to the callback (lib_lock not held). */
static void deliver(collector *co)
{
    for (size_t k = 0; k < co->n_finished; k++) {
        device *d = &co->devs[co->finished[k]];
        na_snmp_store *st = d->st;
        d->st = NULL;
        na__snmp_store_finish(st);
        if (!co->cb) {
            na__snmp_store_free(st);
        } else if (co->cb(d->index, st, &d->info, co->ud) != 0) {
            co->stopping = true;
        }
    }
    co->n_finished = 0;
}

/* Reads one datagram for d; notes USM failures our engine counted on it. */
static void read_device(device *d, int fd)
{
    netsnmp_large_fd_set fds;
    u_int digests = snmp_get_statistic(STAT_USMSTATSWRONGDIGESTS);
    u_int decrypt = snmp_get_statistic(STAT_USMSTATSDECRYPTIONERRORS);

    netsnmp_large_fd_set_init(&fds, fd + 1);
    NETSNMP_LARGE_FD_SET(fd, &fds);
    snmp_sess_read2(d->sess, &fds);
    netsnmp_large_fd_set_cleanup(&fds);
    /* lib_lock is held: nobody else moved the process-wide counters meanwhile */
    if (snmp_get_statistic(STAT_USMSTATSWRONGDIGESTS) != digests)
        d->usm_hint = "usmStatsWrongDigests";
    else if (snmp_get_statistic(STAT_USMSTATSDECRYPTIONERRORS) != decrypt)
        d->usm_hint = "usmStatsDecryptionErrors";
}

/* How long poll() may sleep for d: until net-snmp's next resend / timeout or our watchdog. */
static int wait_for(const device *d, int64_t now, int wait_ms)
{
    netsnmp_large_fd_set fds;
    struct timeval tv = {0, 0};
    int numfds = 0, block = 1;
    int64_t left = d->watchdog - now;

    if (left < wait_ms)
        wait_ms = left < 0 ? 0 : (int)left;
    netsnmp_large_fd_set_init(&fds, FD_SETSIZE);
    snmp_sess_select_info2_flags(d->sess, &numfds, &fds, &tv, &block, NETSNMP_SELECT_NOALARMS);
    netsnmp_large_fd_set_cleanup(&fds);
    if (!block) {
        int64_t ms = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
        if (ms < wait_ms)
            wait_ms = ms < 0 ? 0 : (int)ms;
    }
    return wait_ms;
}

static int run(collector *co, na_error *err)
{
    struct pollfd *pfd = calloc(co->max_in_flight, sizeof(*pfd));
    device **pdev = calloc(co->max_in_flight, sizeof(*pdev));
    int rc = NA_OK;

    if (!pfd || !pdev) {
        rc = na_error_set(err, NA_ENOMEM, "snmp: out of memory");
        goto out;
    }
    for (;;) {
        size_t np = 0;
        int wait_ms = STOP_CHECK_MS, prc;
        int64_t now;

        lock_lib();
        if (co->stop && *co->stop)
            co->stopping = true;
        if (co->stopping) {
            stop_all(co);
        } else {
            while (co->n_active < co->max_in_flight && co->next_queued < co->n)
                dev_start(co, &co->devs[co->next_queued++]);
        }
        now = mono_ms();
        for (size_t k = 0; k < co->n_active; k++) {
            device *d = co->active[k];
            netsnmp_transport *tr = snmp_sess_transport(d->sess);
            pfd[np].fd = tr ? tr->sock : -1;
            pfd[np].events = POLLIN;
            pfd[np].revents = 0;
            pdev[np++] = d;
            wait_ms = wait_for(d, now, wait_ms);
        }
        unlock_lib();
        deliver(co);
        if (co->n_active == 0 && co->next_queued >= co->n) {
            if (co->n_finished == 0)
                break;
            continue;
        }
        if (np == 0)
            continue;
        prc = poll(pfd, np, wait_ms);
        if (prc < 0 && errno != EINTR) {
            rc = na_error_set(err, NA_EIO, "snmp: poll: %s", strerror(errno));
            co->stopping = true;
        }
        lock_lib();
        now = mono_ms();
        for (size_t k = 0; k < np; k++) {
            device *d = pdev[k];
            if (d->state != DEV_ACTIVE)
                continue;
            if (prc > 0 && (pfd[k].revents & (POLLIN | POLLERR | POLLHUP)))
                read_device(d, pfd[k].fd);
            if (!d->answered)
                snmp_sess_timeout(d->sess);
            if (!d->answered && now >= d->watchdog) {
                d->info.timeouts++;
                d->answered = true;
                d->timed_out = true;
            }
            if (d->answered)
                advance(co, d);
        }
        unlock_lib();
        deliver(co);
    }
out:
    free(pfd);
    free(pdev);
    return rc;
}

int na__snmp_collect(const na_snmp_target *targets, size_t n, const na_snmp_collect_opts *opts,
                     na_snmp_done_cb cb, void *ud, na_error *err)
{
    collector co;
    int rc = NA_OK;

    memset(&co, 0, sizeof(co));
    if (n == 0)
        return NA_OK;
    if (!targets)
        return na_error_set(err, NA_EINVAL, "snmp: no targets");
    for (size_t i = 0; i < n; i++)
        if ((rc = check_target(&targets[i], i, err)) != NA_OK)
            return rc;
    na__snmp_init();

    co.n = n;
    co.cb = cb;
    co.ud = ud;
    co.max_in_flight = opts && opts->max_in_flight ? opts->max_in_flight : DEFAULT_MAX_IN_FLIGHT;
    if (co.max_in_flight > n)
        co.max_in_flight = n;
    co.max_varbinds = opts && opts->max_varbinds ? opts->max_varbinds : DEFAULT_MAX_VARBINDS;
    co.stop = opts ? opts->stop : NULL;
    for (size_t k = 0; k < N_WALK_DEFS; k++) {
        uint32_t tmp[MAX_ROOT_LEN];
        int len = na__snmp_oid_parse(walk_defs[k].oid, strlen(walk_defs[k].oid), tmp,
                                     MAX_ROOT_LEN);
        assert(len > 0);
        for (int j = 0; j < len; j++)
            co.roots[k][j] = tmp[j];
        co.root_len[k] = len > 0 ? (size_t)len : 0;
    }
    co.devs = calloc(n, sizeof(*co.devs));
    co.active = calloc(co.max_in_flight, sizeof(*co.active));
    co.finished = calloc(n, sizeof(*co.finished));
    co.keys = calloc(n, sizeof(*co.keys));
    if (!co.devs || !co.active || !co.finished || !co.keys) {
        rc = na_error_set(err, NA_ENOMEM, "snmp: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        device *d = &co.devs[i];
        d->co = &co;
        d->index = i;
        d->t = &targets[i];
        if ((rc = na__snmp_store_new(&d->st, err)) != NA_OK)
            goto out;
    }

    /* v3 keys once per credentials object (targets usually share them) */
    lock_lib();
    for (size_t i = 0; i < n && rc == NA_OK; i++) {
        const na_snmp_credentials *c = targets[i].cred;
        size_t k;
        if (c->version != NA_SNMP_V3)
            continue;
        for (k = 0; k < co.n_keys && co.keys[k].cred != c; k++)
            ;
        if (k == co.n_keys && (rc = make_keys(&co.keys[k], c, err)) == NA_OK)
            co.n_keys++;
        co.devs[i].keys = &co.keys[k];
    }
    unlock_lib();
    if (rc != NA_OK)
        goto out;

    rc = run(&co, err);
    if (rc == NA_OK && co.oom)
        rc = na_error_set(err, NA_ENOMEM, "snmp: out of memory during the collection");
out:
    if (co.devs) {
        for (size_t i = 0; i < n; i++) {
            /* only before any device started (setup failed): nothing was handed over */
            na__snmp_store_free(co.devs[i].st);
            free(co.devs[i].problems);
            free(co.devs[i].cur);
        }
    }
    if (co.keys)
        memset(co.keys, 0, n * sizeof(*co.keys)); /* no key material left in freed memory */
    free(co.keys);
    free(co.devs);
    free(co.active);
    free(co.finished);
    return rc;
}
