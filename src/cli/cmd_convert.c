/* cmd_convert.c: `netassure convert FILE`: import any supported format, print our JSON. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void convert_usage(FILE *out)
{
    fprintf(out,
            "usage: netassure convert FILE [--format FMT] [--compact]\n\n"
            "Imports FILE (JSON, GML, GraphML or YAML devices/bgp_peers) and prints it as a snapshot\n"
            "message of our JSON schema (docs/topology-schema.md) on stdout. What the import handled\n"
            "(parallel links, self-loops, missing coordinates, wrong types) is summarised on stderr.\n\n"
            "  -f, --format FMT  json, gml, graphml, yaml (default: by extension, then content)\n"
            "      --compact     one line instead of indented output\n"
            "  -h, --help        this help\n");
}

int na_cli_convert(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"compact", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    na_format fmt = NA_FORMAT_AUTO;
    bool compact = false;
    na_topology *topo = NULL;
    char *text;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (na_format_parse(optarg, &fmt))
                return na_cli_usage_error("convert", "unknown format '%s'", optarg);
            break;
        case 'c':
            compact = true;
            break;
        case 'h':
            convert_usage(stdout);
            return NA_EXIT_OK;
        default:
            return na_cli_usage_error("convert", "bad option");
        }
    }
    if (optind + 1 != argc)
        return na_cli_usage_error("convert", "expected exactly one FILE");
    rc = na_cli_load(argv[optind], fmt, &topo);
    if (rc)
        return rc;
    text = na_export_json(topo, compact ? 0 : NA_EXPORT_PRETTY, NULL);
    na_topology_unref(topo);
    if (!text) {
        fprintf(stderr, "netassure: error: out of memory\n");
        return NA_EXIT_ERROR;
    }
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
    return fflush(stdout) ? NA_EXIT_ERROR : NA_EXIT_OK;
}
