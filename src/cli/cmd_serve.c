/* cmd_serve.c: `netassure serve`: the daemon (docs/daemon.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"

static void serve_usage(FILE *out)
{
    fprintf(out,
            "usage: netassure serve [-c CONFIG] [--listen ADDR:PORT] [--data-dir DIR]\n"
            "                       [--log-level LEVEL] [--check]\n\n"
            "Runs the daemon: loads the configured topology sources (and reloads watched files\n"
            "when they change), keeps every version in the warehouse (SQLite by default,\n"
            "PostgreSQL when configured), recomputes the analytics on each change, raises alerts\n"
            "and anomalies, and serves the REST API (/docs, /openapi.json) and the /stream\n"
            "WebSocket. Stops cleanly on SIGINT or SIGTERM.\n\n"
            "With no -c it uses the bundled default configuration (examples/netassure.yaml):\n"
            "the example topologies, alert rules that fire on them, SQLite in ./netassure-data\n"
            "(or $NETASSURE_DATA_DIR), listening on 127.0.0.1:8080.\n\n"
            "  -c, --config FILE    YAML configuration (docs/daemon.md)\n"
            "  --listen ADDR:PORT   overrides `listen` (e.g. 127.0.0.1:9090, [::1]:8080, :0)\n"
            "  --data-dir DIR       overrides `data_dir`\n"
            "  --log-level LEVEL    error, warn, info (default) or debug; overrides `log_level`\n"
            "  --check              validate the configuration, print a summary and exit\n"
            "  -h, --help           this help\n");
}

int na_cli_serve(int argc, char **argv)
{
    enum { O_LISTEN = 256, O_DATA, O_LEVEL, O_CHECK };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, O_LISTEN},
        {"data-dir", required_argument, NULL, O_DATA},
        {"log-level", required_argument, NULL, O_LEVEL},
        {"check", no_argument, NULL, O_CHECK},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *listen = NULL, *data_dir = NULL, *level = NULL;
    bool check = false;
    na__daemon_config cfg;
    na_log_level lvl = NA_LOG_INFO;
    na_error err;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case O_LISTEN: listen = optarg; break;
        case O_DATA: data_dir = optarg; break;
        case O_LEVEL:
            level = optarg;
            if (na_log_parse_level(level, &lvl))
                return na_cli_usage_error("serve", "--log-level needs error, warn, info or "
                                                   "debug");
            break;
        case O_CHECK: check = true; break;
        case 'h': serve_usage(stdout); return NA_EXIT_OK;
        default: return na_cli_usage_error("serve", "bad option");
        }
    }
    if (optind != argc)
        return na_cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    na_error_clear(&err);
    if ((config ? na__config_load(config, &cfg, &err) : na__config_default(&cfg, &err)))
        return na_cli_fail(&err);
    if (level)
        cfg.log_level = lvl;
    if (data_dir) {
        char *copy = strdup(data_dir);
        if (!copy) {
            na__config_free(&cfg);
            return NA_EXIT_ERROR;
        }
        free(cfg.data_dir);
        cfg.data_dir = copy;
    }
    if (check) {
        printf("%s: ok\n  listen %s:%d, data_dir %s, warehouse %s\n  %zu source%s, %zu alert "
               "rule%s, %zu detector%s, token %s\n",
               cfg.origin, cfg.listen_host, cfg.listen_port, cfg.data_dir, cfg.warehouse,
               cfg.n_sources, cfg.n_sources == 1 ? "" : "s", cfg.n_rules,
               cfg.n_rules == 1 ? "" : "s", cfg.n_detectors, cfg.n_detectors == 1 ? "" : "s",
               cfg.api_token ? "set" : "not set");
        for (size_t i = 0; i < cfg.n_sources; i++) {
            const na__source_config *sc = &cfg.sources[i];
            if (sc->path)
                printf("  source %s: %s %s%s\n", sc->name, sc->type, sc->path,
                       sc->watch ? " (watched)" : "");
            else if (sc->url)
                printf("  source %s: %s %s\n", sc->name, sc->type, sc->url);
            else
                printf("  source %s: %s, %zu devices every %llds (topology every %llds)%s\n",
                       sc->name, sc->type, cfg.snmp.n_devices,
                       (long long)(cfg.snmp.interval_ms / 1000),
                       (long long)(cfg.snmp.topology_interval_ms / 1000),
                       cfg.snmp.crawl ? ", crawling" : "");
        }
        if (cfg.snmp.n_sites)
            printf("  %zu site%s\n", cfg.snmp.n_sites, cfg.snmp.n_sites == 1 ? "" : "s");
        na__config_free(&cfg);
        return NA_EXIT_OK;
    }
    return na__daemon_run(&cfg, listen, false);
}
