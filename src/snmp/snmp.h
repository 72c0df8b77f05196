/*
 * snmp/snmp.h (internal): SNMP collection (docs/snmp.md).
 *
 * Three stages, each testable on its own:
 *   1. collect (collect.c): asynchronous net-snmp sessions, many devices in flight, GETBULK
 *      walks of the tables a poll needs; the raw varbinds of one device land in a
 *      na_snmp_store. Never sends a SET.
 *   2. interpret (mib.c): a store -> na_snmp_device (system, ports, neighbours, hosts, sensors).
 *      The same code reads a store filled from a .snmprec recording (store.c), so the MIB logic
 *      is tested and fuzzed without an agent.
 *   3. network (links.c, geo.c): devices -> links between them (LLDP/CDP resolution), stubs for
 *      neighbours nobody polled, sites and coordinates, and a topology snapshot.
 * rates.c turns two polls' counters into rates. device_json.c writes the `poll --json` objects.
 *
 * Ownership: a na_snmp_store and a na_snmp_device each own one arena; every string and array
 * they point to lives there and dies with na__snmp_store_free / na__snmp_device_free.
 */
#ifndef NA_SNMP_SNMP_H
#define NA_SNMP_SNMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "netassure/common.h"
#include "netassure/topology.h"
#include "netassure/warehouse.h"

/* ---- raw varbinds ------------------------------------------------------------------------- */

#define NA_SNMP_MAX_OID 128      /* sub-identifiers; longer OIDs are counted and dropped */
#define NA_SNMP_MAX_VALUE 65535  /* octet-string bytes kept; longer values are truncated */

typedef enum na_snmp_type {
    NA_SNMP_INTEGER = 0,   /* v.i (INTEGER, signed 32) */
    NA_SNMP_OCTETS,        /* v.s, len (OCTET STRING, any bytes, not NUL-terminated) */
    NA_SNMP_OBJECTID,      /* v.oid, len = sub-identifiers */
    NA_SNMP_IPADDRESS,     /* v.s, len = 4 */
    NA_SNMP_COUNTER32,     /* v.u */
    NA_SNMP_GAUGE32,       /* v.u (also Unsigned32) */
    NA_SNMP_TIMETICKS,     /* v.u, hundredths of a second */
    NA_SNMP_COUNTER64,     /* v.u */
    NA_SNMP_OPAQUE,        /* v.s, len */
    NA_SNMP_NULL,
    NA_SNMP_NOSUCHOBJECT,  /* v2 exceptions: kept so interpretation can tell "absent" */
    NA_SNMP_NOSUCHINSTANCE,
    NA_SNMP_ENDOFMIBVIEW
} na_snmp_type;

typedef struct na_snmp_vb {
    const uint32_t *oid;   /* in the store's arena */
    uint32_t oid_len;
    na_snmp_type type;
    uint32_t len;          /* octets: bytes; objectid: sub-identifiers */
    uint32_t seq;          /* order of adding (ties in na__snmp_store_finish keep the first) */
    union {
        int64_t i;
        uint64_t u;
        const uint8_t *s;
        const uint32_t *oid;
    } v;
} na_snmp_vb;

typedef struct na_snmp_store {
    na__arena arena;
    na_snmp_vb *vbs;       /* sorted by OID after na__snmp_store_finish */
    size_t n, cap;
    size_t dropped;        /* malformed / oversized entries not kept */
    size_t duplicates;     /* same OID seen again: the first value is kept */
    bool sorted;
} na_snmp_store;

/* Caller owns *out; free with na__snmp_store_free. */
int na__snmp_store_new(na_snmp_store **out, na_error *err);
void na__snmp_store_free(na_snmp_store *st);
/* Copies oid and value into the store. Returns 0, NA_ENOMEM, or NA_EINVAL (oid too long or
 * empty: counted in dropped). Values longer than NA_SNMP_MAX_VALUE are truncated. */
int na__snmp_store_add(na_snmp_store *st, const uint32_t *oid, size_t oid_len, na_snmp_type type,
                       const void *value, size_t len, int64_t i, uint64_t u);
/* Sorts by OID and drops later duplicates (counted). Lookups need it; adding after it is fine
 * (call it again). */
void na__snmp_store_finish(na_snmp_store *st);
/* Exact lookup; NULL when absent or an exception type (noSuch*, endOfMibView). */
const na_snmp_vb *na__snmp_store_get(const na_snmp_store *st, const uint32_t *oid, size_t len);
/* The varbinds under prefix (strictly longer OIDs), as [*first, *first + return). */
size_t na__snmp_store_subtree(const na_snmp_store *st, const uint32_t *prefix, size_t len,
                              size_t *first);

/* "1.3.6.1.2.1.1.1.0" (leading dot allowed) -> sub-identifiers. Returns the count, or -1 when
 * malformed or longer than max. */
int na__snmp_oid_parse(const char *s, size_t slen, uint32_t *oid, size_t max);
/* Compares two OIDs lexicographically (SNMP order). */
int na__snmp_oid_cmp(const uint32_t *a, size_t alen, const uint32_t *b, size_t blen);
/* Formats an OID into buf ("1.3.6..."); returns buf. */
const char *na__snmp_oid_format(const uint32_t *oid, size_t len, char *buf, size_t buflen);
/* Six bytes as "aa:bb:cc:dd:ee:ff" (how every MAC is written: JSON, rows, link keys); returns
 * buf. */
const char *na__snmp_mac_format(const uint8_t *mac, char buf[18]);

typedef struct na_snmprec_report {
    size_t lines, loaded, skipped; /* skipped: malformed lines, unknown types, bad values */
    size_t first_bad_line;         /* 0: none */
    char first_bad_reason[128];
} na_snmprec_report;

/*
 * Loads a snmpsim .snmprec text (`OID|type|value` per line; types 2 4 4x 5 6 64 65 66 67 70,
 * also 4e/2e-style variation tags are skipped) into st. Malformed lines are counted and
 * skipped; never fails on content, only on NA_ENOMEM. Calls na__snmp_store_finish.
 */
int na__snmprec_load(const char *text, size_t len, na_snmp_store *st, na_snmprec_report *rep,
                     na_error *err);

/* ---- what to poll ------------------------------------------------------------------------- */

typedef enum na_snmp_version { NA_SNMP_V2C = 2, NA_SNMP_V3 = 3 } na_snmp_version;
typedef enum na_snmp_seclevel {
    NA_SNMP_NOAUTH = 0, NA_SNMP_AUTHNOPRIV, NA_SNMP_AUTHPRIV
} na_snmp_seclevel;

typedef struct na_snmp_credentials {
    const char *name;          /* config name, for logs */
    na_snmp_version version;
    const char *community;     /* v2c */
    const char *user;          /* v3 securityName */
    na_snmp_seclevel level;
    const char *auth_proto;    /* "SHA" (default), "SHA-224", "SHA-256", "SHA-384", "SHA-512", "MD5" */
    const char *auth_pass;
    const char *priv_proto;    /* "AES" (default, AES-128), "AES-192", "AES-256", "DES" */
    const char *priv_pass;
    const char *context;       /* v3 context name, or NULL */
} na_snmp_credentials;

/* Which table groups a poll walks. */
enum {
    NA_SNMP_WANT_SYSTEM = 1u << 0,     /* always done: reachability needs it */
    NA_SNMP_WANT_PORTS = 1u << 1,      /* ifTable + ifXTable */
    NA_SNMP_WANT_NEIGHBORS = 1u << 2,  /* LLDP-MIB + CISCO-CDP-MIB */
    NA_SNMP_WANT_HOSTS = 1u << 3,      /* BRIDGE / Q-BRIDGE FDB + ipNetToPhysical / ipNetToMedia */
    NA_SNMP_WANT_SENSORS = 1u << 4,    /* ENTITY-MIB, ENTITY-SENSOR-MIB, HOST-RESOURCES-MIB */
    NA_SNMP_WANT_ADDRESSES = 1u << 5,  /* ipAddrTable / ipAddressTable: the device's own IPs */
    NA_SNMP_WANT_STATUS = NA_SNMP_WANT_SYSTEM | NA_SNMP_WANT_PORTS | NA_SNMP_WANT_SENSORS,
    NA_SNMP_WANT_ALL = 0x3fu
};

typedef struct na_snmp_target {
    const char *host;          /* IP or name; "udp6:[::1]" forms are passed to net-snmp as is */
    uint16_t port;             /* 0: 161 */
    const na_snmp_credentials *cred;
    int timeout_ms;            /* per request; 0: default 2000 */
    int retries;               /* -1: default 2 */
    int max_repetitions;       /* GETBULK; 0: default 25 */
    unsigned want;             /* NA_SNMP_WANT_* */
} na_snmp_target;

/* What the collector saw of one device, besides the varbinds. Strings are in the store's arena. */
typedef struct na_snmp_collect_info {
    bool reachable;            /* the system group answered */
    const char *reason;        /* NULL when reachable and clean; else "timeout", "authentication
                                  failure (usmStatsWrongDigests)", "unknown host", ... */
    const char **problems;     /* per-table trouble that did not make the device unreachable:
                                  "ifXTable: non-increasing OID 1.3.6... after 1.3.6..." */
    size_t n_problems;
    size_t requests, varbinds, timeouts;
    na_time_ms started_at, finished_at;
} na_snmp_collect_info;

typedef struct na_snmp_collect_opts {
    size_t max_in_flight;      /* devices polled at once; 0: 64 */
    size_t max_varbinds;       /* per device, a guard against endless walks; 0: 500000 */
    const volatile int *stop;  /* when set non-zero, outstanding devices finish as "stopped" */
} na_snmp_collect_opts;

/*
 * Called once per target as soon as it is done (in target order or not), on the thread that
 * called na__snmp_collect. The callback takes ownership of `store` (finished: sorted).
 * A non-zero return stops the collection (other devices finish as "stopped").
 */
typedef int (*na_snmp_done_cb)(size_t index, na_snmp_store *store,
                               const na_snmp_collect_info *info, void *ud);

/*
 * Polls every target, at most opts->max_in_flight at once, each with its own net-snmp session
 * (single-session API) driven from one poll() loop on the calling thread. Returns 0 when every
 * target was attempted (unreachable devices are not errors), NA_EINVAL for bad targets (bad
 * credentials setup: reported before anything is sent), NA_ENOMEM. Thread-safe: several
 * threads may collect at once (na__snmp_init is called once inside).
 */
int na__snmp_collect(const na_snmp_target *targets, size_t n, const na_snmp_collect_opts *opts,
                     na_snmp_done_cb cb, void *ud, na_error *err);

/* Initialises net-snmp once per process (no MIB files loaded, no persistent state written). */
void na__snmp_init(void);

/* ---- one device, interpreted ------------------------------------------------------------- */

typedef enum na_if_status {
    NA_IF_UNKNOWN = 0, NA_IF_UP = 1, NA_IF_DOWN = 2, NA_IF_TESTING = 3, NA_IF_UNKNOWN_ = 4,
    NA_IF_DORMANT = 5, NA_IF_NOTPRESENT = 6, NA_IF_LOWERLAYERDOWN = 7
} na_if_status;
/* IF-MIB names: "up", "down", "testing", "unknown", "dormant", "notPresent", "lowerLayerDown";
 * NULL for 0 / out of range. */
const char *na__if_status_name(int status);

typedef struct na_snmp_port {
    int64_t if_index;
    const char *name, *descr, *alias; /* NULL when absent */
    int if_type;                      /* IANAifType number, 0 unknown */
    uint64_t speed_bps;               /* ifHighSpeed * 1e6 when set, else ifSpeed; 0 unknown */
    int admin_status, oper_status;    /* na_if_status values, 0 when absent */
    int64_t mtu;                      /* -1 absent */
    uint8_t mac[6];
    bool has_mac;
    uint32_t last_change;             /* ifLastChange, TimeTicks */
    /* counters: HC (64-bit) when the ifXTable has them, else the 32-bit ifTable ones */
    bool has_octets, counters_64;
    uint64_t in_octets, out_octets, in_ucast, out_ucast;
    bool has_errors;
    uint64_t in_errors, out_errors, in_discards, out_discards;
    /* rates.c: from the previous poll of the same device */
    bool has_rates;
    double in_bps, out_bps, in_pps, out_pps, in_errors_ps, out_errors_ps, in_discards_ps,
        out_discards_ps;
    double util_in, util_out;         /* 0..1 of speed_bps; NAN when speed unknown */
    /* mib.c: hosts seen on it and no LLDP/CDP neighbour -> edge (access) port */
    size_t n_hosts;
    bool uplink;                      /* has a neighbour */
    bool edge;                        /* hosts and no neighbour */
} na_snmp_port;

typedef struct na_snmp_neighbor {
    const char *protocol;             /* "lldp" or "cdp" */
    int64_t local_if_index;           /* -1 when the local port could not be mapped */
    const char *local_if_name;        /* the port's ifName (else ifDescr), NULL unmapped */
    const char *local_port_id;        /* lldpLocPortId as text, or CDP's ifIndex */
    const char *remote_sysname;       /* NULL when not sent */
    int chassis_subtype;              /* LLDP 1..7, 0 for CDP */
    const char *remote_chassis_id;    /* MAC as "aa:bb:cc:dd:ee:ff", addresses as text, else the
                                         printable string or hex */
    int port_subtype;                 /* LLDP 1..7; CDP 0 */
    const char *remote_port;          /* formatted like chassis id (CDP: cdpCacheDevicePort) */
    const char *remote_port_descr;    /* lldpRemPortDesc, NULL if absent */
    const char *remote_mgmt_ip;       /* lldpRemManAddr (IPv4 preferred) / cdpCacheAddress */
    const char *remote_platform;      /* cdpCachePlatform or lldpRemSysDesc */
    const char *remote_sysdescr;
} na_snmp_neighbor;

typedef struct na_snmp_host {
    uint8_t mac[6];
    const char *ip;                   /* NULL when no ARP / ND entry */
    int64_t if_index;                 /* -1 unknown */
    const char *port_name;
    int vlan;                         /* 0 unknown */
    const char *source;               /* "fdb", "qfdb", "arp" (ip without a forwarding entry) */
} na_snmp_host;

typedef struct na_snmp_sensor {
    const char *id;                   /* stable within the device: "ent.1001", "hr.cpu.196608" */
    const char *kind;                 /* "temperature", "cpu", "memory", "psu", "fan", "voltage",
                                         "current", "power", "optical_rx", "optical_tx",
                                         "storage", "other" */
    const char *descr;
    bool has_value;
    double value;                     /* in unit */
    const char *unit;                 /* "C", "%", "V", "A", "W", "dBm", "rpm", "bytes", NULL */
    const char *status;               /* "ok", "unavailable", "nonoperational", NULL unknown */
    int64_t ent_index;                /* -1 when not from ENTITY-MIB */
} na_snmp_sensor;

typedef struct na_snmp_system {
    const char *descr, *object_id, *name, *location, *contact; /* NULL when absent */
    bool has_uptime;
    uint32_t uptime;                  /* sysUpTime, TimeTicks */
    int chassis_subtype;              /* lldpLocChassisIdSubtype, 0 absent */
    const char *chassis_id;           /* formatted as neighbours' chassis ids */
    const uint8_t *chassis_mac;       /* 6 bytes when the chassis id is a MAC, else NULL */
} na_snmp_system;

typedef struct na_snmp_device {
    na__arena arena;
    const char *target;               /* "host" or "host:port" as polled */
    const char *mgmt_ip;              /* the address polled, when it is an IP literal */
    bool reachable;
    const char *reason;               /* why unreachable / degraded; NULL when fine */
    na_time_ms polled_at;             /* collection finished */
    double duration_ms;
    size_t requests, varbinds;
    na_snmp_system sys;
    na_snmp_port *ports;
    size_t n_ports;
    na_snmp_neighbor *neighbors;
    size_t n_neighbors;
    na_snmp_host *hosts;
    size_t n_hosts;
    na_snmp_sensor *sensors;
    size_t n_sensors;
    const char **addresses;           /* the device's own IPs (ipAddrTable / ipAddressTable) */
    size_t n_addresses;
    const char **problems;            /* from collection and interpretation */
    size_t n_problems;
    /* geo.c / links.c fill these */
    const char *node_id;              /* configured name, else sysName, else target */
    const char *site;
    bool has_coords;
    double latitude, longitude;
    const char *geo_source;           /* "config", "site:config", "subnet", "sysLocation",
                                         "sysLocation:site", "maxmind", NULL unknown */
} na_snmp_device;

/* The port with this ifIndex (ports are sorted by it), or NULL. */
na_snmp_port *na__snmp_port_find(const na_snmp_device *dev, int64_t if_index);
/* Caller owns *out (free with na__snmp_device_free). */
int na__snmp_device_new(na_snmp_device **out, na_error *err);
void na__snmp_device_free(na_snmp_device *dev);
/* Appends a printf-style problem to dev->problems (text and array in dev's arena; the first
 * NA_SNMP_MAX_PROBLEMS are kept, later ones dropped). Every writer of dev->problems goes
 * through it: it owns the array's growth. Returns 0 or NA_ENOMEM. */
#define NA_SNMP_MAX_PROBLEMS 100
int na__snmp_device_problem(na_snmp_device *dev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Interprets a finished store. `info` may be NULL (a recording: reachable when sysName or
 * sysDescr is present). `target` is copied. Wrong value types, missing columns, dangling
 * indexes and duplicate rows are recorded in dev->problems and skipped; never fails on
 * content, only NA_ENOMEM.
 */
int na__snmp_interpret(const na_snmp_store *st, const na_snmp_collect_info *info,
                       const char *target, na_snmp_device *dev, na_error *err);

/*
 * Fills the rate fields of cur's ports from prev (same device, earlier poll). Counter32 wraps
 * are unwrapped once; an agent restart (sysUpTime went back), a counter going back on a 64-bit
 * counter or a time step <= 0 gives no rates for that port (recorded in cur->problems once).
 * Returns the number of ports with rates.
 */
size_t na__snmp_rates(const na_snmp_device *prev, na_snmp_device *cur);

/* The `poll --json` object of one device (docs/snmp.md). New reference. */
json_t *na__snmp_device_json(const na_snmp_device *dev);

/* ---- network: geolocation and links ------------------------------------------------------ */

typedef struct na_geo_site {
    const char *name;
    bool has_coords;
    double latitude, longitude;
    const char *address;
    const char **subnets;             /* "10.1.0.0/16", "2001:db8::/32" */
    size_t n_subnets;
} na_geo_site;

typedef struct na_geo na_geo;

/* Validates the sites (subnets parse; names unique) and opens the MaxMind file when given.
 * Caller owns *out; free with na__geo_free. The sites array is copied. */
int na__geo_open(const na_geo_site *sites, size_t n_sites, const char *mmdb_path, na_geo **out,
                 na_error *err);
void na__geo_free(na_geo *geo);

typedef struct na_geo_result {
    const char *site;                 /* a configured site's name (static in geo), or NULL */
    bool has_coords;
    double latitude, longitude;
    const char *source;               /* as na_snmp_device.geo_source; NULL: unknown */
    char city[64], country[8];        /* from MaxMind, "" when none */
} na_geo_result;

/*
 * Locates one device: explicit site (config), explicit coordinates, the management IP's subnet
 * (longest prefix wins), sysLocation ("[lat, lon]" anywhere in it, or a site's name), then the
 * MaxMind database for public IPs. Never invents: no match -> source NULL, no coordinates.
 */
void na__geo_locate(const na_geo *geo, const char *config_site, const double *config_coords,
                    const char *mgmt_ip, const char *sys_location, na_geo_result *out);
/* The sites as na__geo_open keeps them (subnets normalised: "10.1.0.0/16"); owned by geo. */
const na_geo_site *na__geo_sites(const na_geo *geo, size_t *n);

/* What an address may be used for: geolocation wants PUBLIC, crawling PUBLIC or PRIVATE. */
typedef enum na_ip_scope {
    NA_IP_INVALID = 0, /* not an IP literal */
    NA_IP_PUBLIC,
    NA_IP_PRIVATE,     /* RFC 1918, CGNAT 100.64/10, ULA fc00::/7 */
    NA_IP_LOCAL        /* loopback, link-local, unspecified, 0/8, multicast, 240/4 */
} na_ip_scope;
/* The canonical text of an IP literal (inet_ntop; IPv4-mapped and -compatible IPv6 as IPv4;
 * "%zone" dropped) into buf (46 bytes are enough); NULL when s is none. *scope (may be NULL)
 * gets its scope. */
const char *na__ip_canon(const char *s, char *buf, size_t len, na_ip_scope *scope);

/* A resolved link between two polled devices, or a device and a discovered stub. */
typedef struct na_snmp_link {
    const char *id;                   /* "A:portA|B:portB" with A < B */
    const char *a, *b;                /* node ids */
    const char *a_port, *b_port;      /* port names, NULL unknown */
    int64_t a_if_index, b_if_index;   /* -1 unknown */
    bool up;                          /* both known ports oper up (an unknown side counts as up) */
    uint64_t speed_bps;               /* min of the known ends, 0 unknown */
    const char *protocol;             /* "lldp", "cdp" */
    bool stub;                        /* b is a discovered stub, not a polled device */
    unsigned missing;                 /* polls in a row that nobody reported it (kept from
                                         the previous network, down); 0 when reported */
} na_snmp_link;

typedef struct na_snmp_stub {
    const char *id;                   /* "stub:" + sysName, else chassis id */
    const char *sysname, *chassis_id, *mgmt_ip, *platform;
} na_snmp_stub;

typedef struct na_snmp_network {
    na__arena arena;
    na_snmp_link *links;
    size_t n_links;
    na_snmp_stub *stubs;
    size_t n_stubs;
    const char **crawl;               /* neighbour management IPs not among the devices */
    size_t n_crawl;
} na_snmp_network;

/*
 * Resolves every device's neighbours to links (remote device by chassis id honouring its
 * subtype, then management address, then sysName; remote port by port-id subtype, then
 * lldpRemPortDesc, then MAC), de-duplicated across the two ends. Devices must have node_id set
 * and distinct. `prev` (may be NULL) is the previous network: a link it had whose neighbour
 * entry is gone while one of its ports is now oper down stays, down. Caller owns *out (free with
 * na__snmp_network_free).
 */
int na__snmp_network_build(na_snmp_device *const *devs, size_t n, const na_snmp_network *prev,
                           na_snmp_network **out, na_error *err);
void na__snmp_network_free(na_snmp_network *net);

/*
 * The topology of a poll: one node per device (id node_id; label sysName; site, coordinates,
 * status up/down by reachability; attrs: mgmt_ip, sysDescr, sysObjectID, vendor hints, ports
 * count, reason) plus one per stub (status "unknown", attrs discovered: true), one link per
 * network link (status up/down, capacity = speed). Caller owns *out.
 */
int na__snmp_topology(na_snmp_device *const *devs, size_t n, const na_snmp_network *net,
                      na_topology **out, na_error *err);

#endif
