/*
 * main.c: the `netassure` tool: global options and dispatch to the subcommands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "netassure/common.h"

static const na_cli_command commands[] = {
    {"analyze", "graph analytics of a topology file (centrality, communities, robustness, ...)",
     na_cli_analyze},
    {"whatif", "simulate failing nodes and/or links", na_cli_whatif},
    {"cascade", "Motter-Lai cascading failure from an initial failure", na_cli_cascade},
    {"diff", "nodes and links added, removed and changed between two topologies", na_cli_diff},
    {"convert", "import a topology (JSON, GML, GraphML, YAML) and print it as our JSON",
     na_cli_convert},
    {"serve", "run the daemon: warehouse, analytics, alerts, REST API and /stream",
     na_cli_serve},
    {"alerts", "list alerts from a running daemon (--api URL)", na_cli_alerts},
    {"anomalies", "list anomalies from a running daemon (--api URL)", na_cli_anomalies},
    {"silences", "list, add and delete alert silences of a running daemon", na_cli_silences},
    {"tunings", "list and revert feedback effects (tunings) of a running daemon", na_cli_tunings},
    {"ingest", "consume a topology stream (--ws URL); --dry-run prints what it would change",
     na_cli_ingest},
    {"replay", "serve a topology stream from files, for demos and tests", na_cli_replay},
    {"poll", "poll devices over SNMP once: ports, neighbours, hosts, sensors, links",
     na_cli_poll},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: netassure [--log-level LEVEL] [-v] COMMAND [ARGS...]\n"
            "       netassure COMMAND --help\n\n"
            "NetAssure: network analytics engine and temporal data warehouse.\n\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\nGlobal options:\n"
            "  --log-level LEVEL  error, warn (default), info or debug\n"
            "  -v, --verbose      same as --log-level info (twice: debug)\n"
            "  -h, --help         this help\n"
            "  -V, --version      print the version\n\n"
            "Topology files: our JSON schema (docs/topology-schema.md), GML and GraphML (e.g. the\n"
            "Internet Topology Zoo), or the YAML devices / bgp_peers configuration.\n"
            "Exit codes: 0 ok, 1 runtime error, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    int i = 1;
    int verbose = 0;

    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return NA_EXIT_OK;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("netassure %s\n", NA_VERSION_STRING);
            return NA_EXIT_OK;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose++;
        } else if (strcmp(a, "-vv") == 0) {
            verbose += 2;
        } else if (strcmp(a, "--log-level") == 0 || strncmp(a, "--log-level=", 12) == 0) {
            const char *val = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : NULL);
            na_log_level lvl;
            if (!val || na_log_parse_level(val, &lvl)) {
                fprintf(stderr, "netassure: --log-level needs error, warn, info or debug\n");
                return NA_EXIT_USAGE;
            }
            na_log_set_level(lvl);
        } else {
            fprintf(stderr, "netassure: unknown option '%s'\n", a);
            usage(stderr);
            return NA_EXIT_USAGE;
        }
    }
    if (verbose)
        na_log_set_level(verbose >= 2 ? NA_LOG_DEBUG : NA_LOG_INFO);
    if (i >= argc) {
        usage(stderr);
        return NA_EXIT_USAGE;
    }
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].run(argc - i, argv + i);
    }
    fprintf(stderr, "netassure: unknown command '%s' (see netassure --help)\n", argv[i]);
    return NA_EXIT_USAGE;
}
