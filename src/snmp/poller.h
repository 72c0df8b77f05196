/*
 * snmp/poller.h (internal): the poller that the CLI (`netassure poll`) and the daemon share.
 *
 * It owns what outlives one poll: the configured targets, the geolocation, each device's last
 * interpreted state (for counter rates), its last topology-table varbinds (a status-only poll
 * reuses them, so neighbours and hosts do not vanish between topology polls), the last network
 * (a link whose neighbour entry is gone but whose port is down stays, down) and the schedule.
 */
#ifndef NA_SNMP_POLLER_H
#define NA_SNMP_POLLER_H

#include "snmp/snmp.h"

/* One configured device (config `snmp.devices[]`, or `poll --device`). */
typedef struct na_snmp_device_config {
    const char *host;
    uint16_t port;                 /* 0: 161 */
    const char *name;              /* node id; NULL: sysName, else host */
    const char *credentials;       /* a credentials entry's name; NULL: the first one */
    const char *site;              /* explicit site, or NULL */
    bool has_coords;
    double latitude, longitude;
    const char *role;
    int timeout_ms;                /* 0: the snmp section's */
    int retries;                   /* -1: the snmp section's */
    int64_t interval_ms;           /* 0: the snmp section's */
    int64_t topology_interval_ms;  /* 0: the snmp section's */
} na_snmp_device_config;

/* The `snmp:` and `sites:` settings. Every string lives in `arena`. */
typedef struct na_snmp_config {
    na__arena arena;
    int64_t interval_ms;           /* status and counters, default 5 min */
    int64_t topology_interval_ms;  /* neighbours, FDB, ARP, addresses; default 15 min */
    int timeout_ms;                /* default 2000 */
    int retries;                   /* default 2 */
    int max_repetitions;           /* default 25 */
    size_t max_in_flight;          /* default 64 */
    na_snmp_credentials *creds;
    size_t n_creds;
    na_snmp_device_config *devices;
    size_t n_devices;
    bool crawl;                    /* poll neighbours' management addresses too */
    const char **crawl_subnets;    /* allowed subnets for crawled addresses (required) */
    size_t n_crawl_subnets;
    size_t crawl_max;              /* most crawled devices, default 256 */
    const char *geoip;             /* MaxMind DB path, or NULL */
    na_geo_site *sites;
    size_t n_sites;
} na_snmp_config;

void na__snmp_config_init(na_snmp_config *cfg);
void na__snmp_config_free(na_snmp_config *cfg);
/*
 * Parses the `snmp` object and the `sites` array (either may be NULL) of a configuration,
 * already converted from YAML to JSON. Relative paths resolve against base_dir. Errors name
 * the setting ("snmp.devices[2].credentials: no credentials named 'lab'").
 */
int na__snmp_config_parse(const json_t *snmp, const json_t *sites, const char *base_dir,
                          na_snmp_config *cfg, na_error *err);

/* The credentials entry named `name` (NULL: the first); NULL when there is none. */
const na_snmp_credentials *na__snmp_config_creds(const na_snmp_config *cfg, const char *name);
/* Checks one credentials entry (community / user, protocol names, password lengths); the error
 * starts with `path`. */
int na__snmp_credentials_check(const na_snmp_credentials *c, const char *path, na_error *err);
/* v3: the security level named (NULL: the strongest the passphrases given allow) and the
 * default protocols (SHA, AES) where none is set. 0, or NA_EINVAL for an unknown level. */
int na__snmp_credentials_level(na_snmp_credentials *c, const char *level);
/* "noAuthNoPriv", "authNoPriv", "authPriv" (any case). 0 or NA_EINVAL. */
int na__snmp_parse_level(const char *s, na_snmp_seclevel *out);

/* Sets devs[i]->node_id to `want`, or when devs[0..i) already use it "want@alt" (alt may be
 * NULL), then "want#k": unique among them. The id is copied into the device's arena. */
int na__snmp_node_id(na_snmp_device *const *devs, size_t i, const char *want, const char *alt,
                     na_error *err);

typedef struct na_snmp_poller na_snmp_poller;

/* Checks credentials, opens the geolocation. `cfg` must outlive the poller. Caller owns *out. */
int na__snmp_poller_new(const na_snmp_config *cfg, na_snmp_poller **out, na_error *err);
void na__snmp_poller_free(na_snmp_poller *p);

/* What one poll produced. Everything belongs to the poller and stays valid until the next
 * na__snmp_poller_run or na__snmp_poller_free. */
typedef struct na_snmp_poll_result {
    na_snmp_device **devices;      /* every known device, configured then crawled, each with its
                                      latest state (polled now or earlier) */
    size_t n_devices;
    size_t n_polled;               /* polled in this run */
    size_t n_unreachable;          /* of those */
    bool topology_polled;          /* some device's topology tables were walked in this run */
    na_snmp_network *net;
    na_topology *topo;             /* nodes, links and stubs (version 0: the caller numbers it) */
    na_time_ms started_at, finished_at;
} na_snmp_poll_result;

/*
 * Polls the devices that are due at `now` (all of them, everything, when `force`), then
 * rebuilds the network and the topology from every device's latest state. With crawl on,
 * neighbours' management addresses inside the allowed subnets join as devices (polled in the
 * same run, up to crawl_max). Returns 0 or NA_ENOMEM / NA_EINVAL.
 */
int na__snmp_poller_run(na_snmp_poller *p, na_time_ms now, bool force, const volatile int *stop,
                        na_snmp_poll_result *out, na_error *err);

/* The `poll --json` document: {"devices": [...], "links": [...], "stubs": [...], "summary"}
 * (docs/snmp.md). net may be NULL. New reference. */
json_t *na__snmp_poll_json(na_snmp_device *const *devs, size_t n, const na_snmp_network *net);
/* The links array of a network (new reference); *stubs gets the stubs array (new reference). */
json_t *na__snmp_network_json(const na_snmp_network *net, json_t **stubs);

/* When the next device is due (for the daemon's sleep). */
na_time_ms na__snmp_poller_next_due(const na_snmp_poller *p);

#endif
