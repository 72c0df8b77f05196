/*
 * cmd_poll.c: `netassure poll`: one SNMP poll of the configured and/or given devices
 * (docs/snmp.md), printed as a table or, with --json, as one document with every device, the
 * links found between them and the discovered stubs. `--snmprec FILE` interprets a snmpsim
 * recording instead of asking an agent (no network).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/config.h"
#include "snmp/poller.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: netassure poll [-c CONFIG] [--device HOST[:PORT]]... [credentials] [--json]\n"
            "       netassure poll --snmprec FILE... [--json]\n"
            "\n"
            "Polls devices over SNMP once (v2c or v3, GETBULK, many at a time; never writes to a\n"
            "device): system group, ports (IF-MIB), LLDP and CDP neighbours, forwarding and ARP\n"
            "tables (connected hosts), sensors; then resolves the neighbours into links and\n"
            "locates the devices (sites, sysLocation, MaxMind). Nothing is stored: the daemon's\n"
            "poller (the snmp: section of its configuration) does that.\n"
            "\n"
            "  -c, --config FILE       the devices, credentials, sites and geoip of its snmp: and\n"
            "                          sites: sections (--device adds to them)\n"
            "      --device HOST[:PORT]  a device to poll (repeatable; [IPv6]:PORT)\n"
            "      --name NAME         node id of the last --device (default: its sysName)\n"
            "      --community C       SNMPv2c community (default: public)\n"
            "      --v3-user U         SNMPv3 user (switches to v3)\n"
            "      --v3-level L        noAuthNoPriv, authNoPriv or authPriv (default: from the\n"
            "                          passwords given)\n"
            "      --v3-auth-proto P   SHA (default), SHA-224, SHA-256, SHA-384, SHA-512, MD5\n"
            "      --v3-auth-pass X    authentication passphrase (at least 8 characters)\n"
            "      --v3-priv-proto P   AES (default, AES-128), AES-192, AES-256, DES\n"
            "      --v3-priv-pass X    privacy passphrase\n"
            "      --v3-context C      context name\n"
            "      --timeout DUR       per request (default 2s); --retries N (default 2)\n"
            "      --max-repetitions N GETBULK repetitions (default 25)\n"
            "      --in-flight N       devices polled at once (default 64)\n"
            "      --crawl SUBNET      also poll neighbours whose management address is in\n"
            "                          SUBNET (repeatable)\n"
            "      --snmprec FILE      interpret a snmpsim recording (repeatable), no agent\n"
            "      --json              one JSON document: {devices, links, stubs, summary}\n"
            "  -v, --verbose           debug logging\n"
            "  -h, --help              this text\n"
            "\n"
            "Exit status: 0 every device answered, 1 some did not (or an error), 2 usage.\n");
}

/* "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address. */
static int split_host(const char *s, char *host, size_t hlen, unsigned *port)
{
    const char *colon = strrchr(s, ':');
    unsigned long p;

    *port = 0;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || (size_t)(close - s - 1) >= hlen)
            return -1;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = 0;
        if (close[1] == 0)
            return 0;
        if (close[1] != ':' || !na_cli_parse_uint(close + 2, &p) || p == 0 || p > 65535)
            return -1;
        *port = (unsigned)p;
        return 0;
    }
    if (!colon || strchr(s, ':') != colon) { /* no port, or a bare IPv6 address */
        if (strlen(s) >= hlen || !*s)
            return -1;
        memcpy(host, s, strlen(s) + 1);
        return 0;
    }
    if ((size_t)(colon - s) >= hlen || colon == s || !na_cli_parse_uint(colon + 1, &p) ||
        p == 0 || p > 65535)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    *port = (unsigned)p;
    return 0;
}

static void print_table(na_snmp_device *const *devs, size_t n, const na_snmp_network *net)
{
    printf("%-24s %-22s %-6s %9s %5s %5s %7s %6s\n", "DEVICE", "TARGET", "STATE", "PORTS UP",
           "NBRS", "HOSTS", "SENSORS", "MS");
    for (size_t i = 0; i < n; i++) {
        const na_snmp_device *d = devs[i];
        size_t up = 0;
        char ports[32];
        for (size_t k = 0; k < d->n_ports; k++)
            up += d->ports[k].oper_status == NA_IF_UP;
        snprintf(ports, sizeof(ports), "%zu/%zu", up, d->n_ports);
        printf("%-24.24s %-22.22s %-6s %9s %5zu %5zu %7zu %6.0f\n",
               d->node_id ? d->node_id : "-", d->target ? d->target : "-",
               d->reachable ? "up" : "down", ports, d->n_neighbors, d->n_hosts, d->n_sensors,
               d->duration_ms);
        if (!d->reachable || d->reason)
            printf("    %s\n", d->reason ? d->reason : "unreachable");
        for (size_t k = 0; k < d->n_problems; k++)
            printf("    problem: %s\n", d->problems[k]);
        if (d->site || d->has_coords) {
            printf("    location: %s", d->site ? d->site : "-");
            if (d->has_coords)
                printf(" [%.5f, %.5f]", d->latitude, d->longitude);
            printf(" (%s)\n", d->geo_source ? d->geo_source : "?");
        }
    }
    if (net && net->n_links) {
        printf("\n%-28s %-28s %s\n", "LINK END A", "LINK END B", "STATUS");
        for (size_t i = 0; i < net->n_links; i++) {
            const na_snmp_link *l = &net->links[i];
            char a[128], b[128];
            snprintf(a, sizeof(a), "%s:%s", l->a, l->a_port ? l->a_port : "?");
            snprintf(b, sizeof(b), "%s:%s", l->b, l->b_port ? l->b_port : "?");
            printf("%-28.28s %-28.28s %s%s\n", a, b, l->up ? "up" : "down",
                   l->stub ? " (stub)" : "");
        }
    }
}

/* --snmprec: interpret recordings, then the same network stage. */
static int run_recordings(char **files, size_t n, bool json)
{
    na_snmp_device **devs = calloc(n ? n : 1, sizeof(*devs));
    na_snmp_network *net = NULL;
    na_error err;
    int rc = NA_EXIT_OK;

    na_error_clear(&err);
    if (!devs)
        return NA_EXIT_ERROR;
    for (size_t i = 0; i < n; i++) {
        na_snmp_store *st = NULL;
        na_snmprec_report rep;
        char *text = NULL;
        size_t len = 0;
        const char *base = strrchr(files[i], '/') ? strrchr(files[i], '/') + 1 : files[i];
        if (na_read_file(files[i], 256u << 20, &text, &len, &err) ||
            na__snmp_store_new(&st, &err) || na__snmprec_load(text, len, st, &rep, &err) ||
            na__snmp_device_new(&devs[i], &err) ||
            na__snmp_interpret(st, NULL, base, devs[i], &err)) {
            free(text);
            na__snmp_store_free(st);
            rc = na_cli_fail(&err);
            goto out;
        }
        free(text);
        na__snmp_store_free(st);
        if (rep.skipped)
            fprintf(stderr, "netassure poll: %s: %zu of %zu lines skipped (first: line %zu, %s)\n",
                    files[i], rep.skipped, rep.lines, rep.first_bad_line, rep.first_bad_reason);
        if (na__snmp_node_id(devs, i, devs[i]->sys.name && *devs[i]->sys.name
                                          ? devs[i]->sys.name : base, base, &err)) {
            rc = na_cli_fail(&err);
            goto out;
        }
        devs[i]->latitude = devs[i]->longitude = NAN;
    }
    if (na__snmp_network_build(devs, n, NULL, &net, &err)) {
        rc = na_cli_fail(&err);
        goto out;
    }
    if (json)
        rc = na_cli_print_json(na__snmp_poll_json(devs, n, net));
    else
        print_table(devs, n, net);
    for (size_t i = 0; i < n && rc == NA_EXIT_OK; i++)
        if (!devs[i]->reachable)
            rc = NA_EXIT_ERROR;
out:
    na__snmp_network_free(net);
    for (size_t i = 0; i < n; i++)
        na__snmp_device_free(devs[i]);
    free(devs);
    return rc;
}

enum {
    OPT_DEVICE = 256, OPT_NAME, OPT_COMMUNITY, OPT_V3_USER, OPT_V3_LEVEL, OPT_V3_AUTH_PROTO,
    OPT_V3_AUTH_PASS, OPT_V3_PRIV_PROTO, OPT_V3_PRIV_PASS, OPT_V3_CONTEXT, OPT_TIMEOUT,
    OPT_RETRIES, OPT_REPS, OPT_INFLIGHT, OPT_CRAWL, OPT_SNMPREC, OPT_JSON
};

int na_cli_poll(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"name", required_argument, NULL, OPT_NAME},
        {"community", required_argument, NULL, OPT_COMMUNITY},
        {"v3-user", required_argument, NULL, OPT_V3_USER},
        {"v3-level", required_argument, NULL, OPT_V3_LEVEL},
        {"v3-auth-proto", required_argument, NULL, OPT_V3_AUTH_PROTO},
        {"v3-auth-pass", required_argument, NULL, OPT_V3_AUTH_PASS},
        {"v3-priv-proto", required_argument, NULL, OPT_V3_PRIV_PROTO},
        {"v3-priv-pass", required_argument, NULL, OPT_V3_PRIV_PASS},
        {"v3-context", required_argument, NULL, OPT_V3_CONTEXT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"retries", required_argument, NULL, OPT_RETRIES},
        {"max-repetitions", required_argument, NULL, OPT_REPS},
        {"in-flight", required_argument, NULL, OPT_INFLIGHT},
        {"crawl", required_argument, NULL, OPT_CRAWL},
        {"snmprec", required_argument, NULL, OPT_SNMPREC},
        {"json", no_argument, NULL, OPT_JSON},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    na__daemon_config dcfg;
    bool have_dcfg = false, json = false, cli_creds = false;
    na_snmp_config local;
    na_snmp_config *cfg = &local;
    na_snmp_credentials cred = {.name = "command line", .version = NA_SNMP_V2C,
                                .community = "public"};
    const char *config = NULL, *level = NULL;
    char **devices = NULL, **names = NULL, **recs = NULL, **crawl = NULL;
    size_t n_devices = 0, n_recs = 0, n_crawl = 0;
    int64_t timeout = -1;
    long retries = -1, reps = -1, inflight = -1;
    na_snmp_poller *poller = NULL;
    na_snmp_poll_result res;
    na_error err;
    int c, rc = NA_EXIT_USAGE;

    na__snmp_config_init(&local);
    na_error_clear(&err);
    devices = calloc((size_t)argc + 1, sizeof(char *));
    names = calloc((size_t)argc + 1, sizeof(char *));
    recs = calloc((size_t)argc + 1, sizeof(char *));
    crawl = calloc((size_t)argc + 1, sizeof(char *));
    if (!devices || !names || !recs || !crawl) {
        rc = NA_EXIT_ERROR;
        goto out;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
        unsigned long u;
        switch (c) {
        case 'c': config = optarg; break;
        case OPT_DEVICE: devices[n_devices++] = optarg; break;
        case OPT_NAME:
            if (!n_devices) {
                rc = na_cli_usage_error("poll", "--name goes after the --device it names");
                goto out;
            }
            names[n_devices - 1] = optarg;
            break;
        case OPT_COMMUNITY: cred.community = optarg; cli_creds = true; break;
        case OPT_V3_USER: cred.user = optarg; cred.version = NA_SNMP_V3; cli_creds = true; break;
        case OPT_V3_LEVEL: level = optarg; break;
        case OPT_V3_AUTH_PROTO: cred.auth_proto = optarg; break;
        case OPT_V3_AUTH_PASS: cred.auth_pass = optarg; break;
        case OPT_V3_PRIV_PROTO: cred.priv_proto = optarg; break;
        case OPT_V3_PRIV_PASS: cred.priv_pass = optarg; break;
        case OPT_V3_CONTEXT: cred.context = optarg; break;
        case OPT_TIMEOUT:
            if (na__parse_duration(optarg, &timeout) || timeout < 10 || timeout > 600000) {
                rc = na_cli_usage_error("poll", "--timeout: a duration from 10ms to 10m");
                goto out;
            }
            break;
        case OPT_RETRIES:
        case OPT_REPS:
        case OPT_INFLIGHT:
            if (!na_cli_parse_uint(optarg, &u) || u > 4096 || (c != OPT_RETRIES && u == 0) ||
                (c == OPT_RETRIES && u > 10)) {
                rc = na_cli_usage_error("poll", "--%s: expected a number (%s)",
                                        c == OPT_RETRIES ? "retries" : c == OPT_REPS
                                            ? "max-repetitions" : "in-flight",
                                        c == OPT_RETRIES ? "0-10" : "1-4096");
                goto out;
            }
            if (c == OPT_RETRIES)
                retries = (long)u;
            else if (c == OPT_REPS)
                reps = (long)u;
            else
                inflight = (long)u;
            break;
        case OPT_CRAWL: crawl[n_crawl++] = optarg; break;
        case OPT_SNMPREC: recs[n_recs++] = optarg; break;
        case OPT_JSON: json = true; break;
        case 'v': na_log_set_level(NA_LOG_DEBUG); break;
        case 'h': usage(stdout); rc = NA_EXIT_OK; goto out;
        default: usage(stderr); goto out;
        }
    }
    while (n_recs && optind < argc) /* --snmprec A B C */
        recs[n_recs++] = argv[optind++];
    if (optind < argc) {
        rc = na_cli_usage_error("poll", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (n_recs) {
        if (n_devices || config) {
            rc = na_cli_usage_error("poll", "--snmprec reads recordings; it does not mix with "
                                            "--device or --config");
            goto out;
        }
        rc = run_recordings(recs, n_recs, json);
        goto out;
    }
    if (cred.version == NA_SNMP_V3 && na__snmp_credentials_level(&cred, level)) {
        rc = na_cli_usage_error("poll", "--v3-level: expected noAuthNoPriv, authNoPriv or "
                                        "authPriv");
        goto out;
    }
    if (cred.version != NA_SNMP_V3 && (level || cred.auth_pass || cred.priv_pass ||
                                       cred.auth_proto || cred.priv_proto || cred.context)) {
        rc = na_cli_usage_error("poll", "the --v3-* options need --v3-user");
        goto out;
    }
    if (na__snmp_credentials_check(&cred, "", &err)) {
        /* the check speaks in configuration keys: name the options instead */
        static const char *const keys[][2] = {
            {"community", "--community"},         {"user", "--v3-user"},
            {"auth_protocol", "--v3-auth-proto"}, {"auth_password", "--v3-auth-pass"},
            {"priv_protocol", "--v3-priv-proto"}, {"priv_password", "--v3-priv-pass"}};
        const char *msg = err.message, *colon = strchr(msg, ':');
        for (size_t k = 0; colon && k < sizeof(keys) / sizeof(keys[0]); k++)
            if ((size_t)(colon - msg) == strlen(keys[k][0]) &&
                strncmp(msg, keys[k][0], strlen(keys[k][0])) == 0) {
                rc = na_cli_usage_error("poll", "%s%s", keys[k][1], colon);
                goto out;
            }
        rc = na_cli_usage_error("poll", "%s", msg);
        goto out;
    }
    if (config) {
        if (na__config_load(config, &dcfg, &err)) {
            rc = na_cli_fail(&err);
            goto out;
        }
        have_dcfg = true;
        cfg = &dcfg.snmp;
    }
    /* Command-line devices, with the command-line credentials (or the config's first). */
    if (n_devices) {
        na_snmp_device_config *all;
        na_snmp_credentials *creds;
        all = na__arena_alloc(&cfg->arena, (cfg->n_devices + n_devices) * sizeof(*all));
        creds = na__arena_alloc(&cfg->arena, (cfg->n_creds + 1) * sizeof(*creds));
        if (!all || !creds) {
            rc = NA_EXIT_ERROR;
            goto out;
        }
        if (cfg->n_devices)
            memcpy(all, cfg->devices, cfg->n_devices * sizeof(*all));
        /* ours first when given, so it is the default for command-line devices */
        if (cli_creds || !have_dcfg) {
            creds[0] = cred;
            if (cfg->n_creds)
                memcpy(creds + 1, cfg->creds, cfg->n_creds * sizeof(*creds));
            cfg->n_creds++;
        } else {
            memcpy(creds, cfg->creds, cfg->n_creds * sizeof(*creds));
        }
        cfg->creds = creds;
        for (size_t i = 0; i < n_devices; i++) {
            na_snmp_device_config *dc = &all[cfg->n_devices + i];
            char host[256];
            unsigned port;
            memset(dc, 0, sizeof(*dc));
            dc->retries = -1;
            if (split_host(devices[i], host, sizeof(host), &port)) {
                rc = na_cli_usage_error("poll", "--device '%s': expected HOST, HOST:PORT or "
                                                "[IPv6]:PORT", devices[i]);
                goto out;
            }
            dc->host = na__arena_strdup(&cfg->arena, host);
            dc->port = (uint16_t)port;
            dc->name = names[i];
            dc->credentials = cfg->creds[0].name;
            if (!dc->host) {
                rc = NA_EXIT_ERROR;
                goto out;
            }
        }
        cfg->devices = all;
        cfg->n_devices += n_devices;
    }
    if (!cfg->n_devices) {
        rc = na_cli_usage_error("poll", "no devices: give --device HOST or a --config with "
                                        "snmp.devices");
        goto out;
    }
    if (timeout >= 0)
        cfg->timeout_ms = (int)timeout;
    if (retries >= 0)
        cfg->retries = (int)retries;
    if (reps > 0)
        cfg->max_repetitions = (int)reps;
    if (inflight > 0)
        cfg->max_in_flight = (size_t)inflight;
    if (n_crawl) {
        cfg->crawl = true;
        cfg->crawl_subnets = (const char **)crawl;
        cfg->n_crawl_subnets = n_crawl;
    }
    if (na__snmp_poller_new(cfg, &poller, &err) ||
        na__snmp_poller_run(poller, na_time_now(), true, NULL, &res, &err)) {
        rc = na_cli_fail(&err);
        goto out;
    }
    rc = NA_EXIT_OK;
    if (json)
        rc = na_cli_print_json(na__snmp_poll_json(res.devices, res.n_devices, res.net));
    else
        print_table(res.devices, res.n_devices, res.net);
    fprintf(stderr, "netassure poll: %zu devices, %zu unreachable, %zu links, %.0f ms\n",
            res.n_devices, res.n_unreachable, res.net ? res.net->n_links : 0,
            (double)(res.finished_at - res.started_at));
    if (rc == NA_EXIT_OK && res.n_unreachable)
        rc = NA_EXIT_ERROR;
out:
    na__snmp_poller_free(poller);
    if (have_dcfg)
        na__config_free(&dcfg);
    na__snmp_config_free(&local);
    free(devices);
    free(names);
    free(recs);
    free(crawl);
    return rc;
}
