/* cmd_diff.c: `netassure diff A B`: what changed between two topology files. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "netassure/diff.h"
#include "netassure/report.h"

static void diff_usage(FILE *out)
{
    fprintf(out,
            "usage: netassure diff A B [--json]\n\n"
            "Compares two topologies (any supported formats): nodes and links added, removed and\n"
            "changed, with every changed attribute (before -> after). Nodes match by id; links by\n"
            "id, else by their two endpoints. Exit code 0 whether or not they differ.\n\n"
            "  --json            one JSON object on stdout\n"
            "  -f, --format FMT  format of both inputs (default: guessed per file)\n"
            "  -h, --help        this help\n");
}

static void diff_table(const na_diff_result *r, const char *a, const char *b)
{
    static const char marks[] = {'+', '-', '~'};

    printf("%s -> %s\n", a, b);
    printf("nodes: %zu added, %zu removed, %zu changed; links: %zu added, %zu removed, "
           "%zu changed\n",
           r->nodes_added, r->nodes_removed, r->nodes_changed, r->links_added, r->links_removed,
           r->links_changed);
    for (size_t i = 0; i < r->count; i++) {
        const na_diff_item *it = &r->items[i];
        printf("%c %s %s\n", marks[it->kind], it->is_link ? "link" : "node", it->id);
        for (size_t j = 0; j < it->n_changes; j++)
            printf("    %s: '%s' -> '%s'\n", it->changes[j].field, it->changes[j].before,
                   it->changes[j].after);
    }
}

int na_cli_diff(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    na_format fmt = NA_FORMAT_AUTO;
    bool json = false;
    na_topology *ta = NULL, *tb = NULL;
    na_diff_result r;
    na_error err;
    int c, rc;

    memset(&r, 0, sizeof(r));
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'f':
            if (na_format_parse(optarg, &fmt))
                return na_cli_usage_error("diff", "unknown format '%s'", optarg);
            break;
        case 'h':
            diff_usage(stdout);
            return NA_EXIT_OK;
        default:
            return na_cli_usage_error("diff", "bad option");
        }
    }
    if (optind + 2 != argc)
        return na_cli_usage_error("diff", "expected two files A and B");
    rc = na_cli_load(argv[optind], fmt, &ta);
    if (rc)
        goto out;
    rc = na_cli_load(argv[optind + 1], fmt, &tb);
    if (rc)
        goto out;
    na_error_clear(&err);
    if (na_diff_topologies(ta, tb, &r, &err)) {
        rc = na_cli_fail(&err);
        goto out;
    }
    if (json) {
        rc = na_cli_print_json(na_diff_json(&r, argv[optind], argv[optind + 1]));
    } else {
        diff_table(&r, argv[optind], argv[optind + 1]);
        rc = fflush(stdout) ? NA_EXIT_ERROR : NA_EXIT_OK;
    }
out:
    na_diff_result_free(&r);
    na_topology_unref(ta);
    na_topology_unref(tb);
    return rc;
}
