/*
 * cmd_whatif.c: `netassure whatif FILE --fail X ...` and `netassure cascade FILE --fail X
 * --alpha A`: failure simulation on one topology.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "netassure/report.h"
#include "netassure/cascade.h"
#include "netassure/whatif.h"

enum { O_FAIL = 256, O_JSON, O_ALPHA, O_MAX_STEPS };

typedef struct failure_args {
    const char *cmd;
    na_format fmt;
    bool json;
    double alpha;
    bool have_alpha;
    unsigned long max_steps;
    const char **fails;
    size_t n_fails;
} failure_args;

static void whatif_usage(FILE *out)
{
    fprintf(out,
            "usage: netassure whatif FILE --fail SPEC [--fail SPEC ...] [--json]\n\n"
            "Fails the given nodes and/or links and reports what changes: connected components,\n"
            "pairs of nodes disconnected, reachability lost by role (e.g. leaves cut off from every\n"
            "spine), global efficiency before and after, average path stretch.\n\n"
            "  --fail SPEC       a node id, a link id, or A-B for the link(s) between nodes A and B\n"
            "                    (repeatable; an exact node id containing '-' wins)\n"
            "  --json            one JSON object on stdout\n"
            "  -f, --format FMT  input format (default: guessed)\n"
            "  -h, --help        this help\n");
}

static void cascade_usage(FILE *out)
{
    fprintf(out,
            "usage: netassure cascade FILE --fail SPEC [--fail SPEC ...] --alpha A [--json]\n\n"
            "Motter-Lai cascading failure: every node's load is its betweenness in the intact\n"
            "network and its capacity (1 + A) times that; after the initial failure loads are\n"
            "recomputed and every overloaded node fails, until none is. Prints the failure sequence\n"
            "and the final giant component.\n\n"
            "  --fail SPEC       initial failure: node id, link id or A-B (repeatable)\n"
            "  --alpha A         tolerance parameter, A >= 0 (required)\n"
            "  --max-steps N     stop after N steps (default 0 = until stable)\n"
            "  --json            one JSON object on stdout\n"
            "  -f, --format FMT  input format (default: guessed)\n"
            "  -h, --help        this help\n");
}

/* Parses the shared options; returns -1 when the command should go on, or an exit code. */
static int parse_failure_args(int argc, char **argv, failure_args *fa, bool cascade)
{
    static const struct option opts[] = {
        {"fail", required_argument, NULL, O_FAIL},
        {"json", no_argument, NULL, O_JSON},
        {"alpha", required_argument, NULL, O_ALPHA},
        {"max-steps", required_argument, NULL, O_MAX_STEPS},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case O_FAIL:
            fa->fails[fa->n_fails++] = optarg;
            break;
        case O_JSON:
            fa->json = true;
            break;
        case O_ALPHA:
            if (!cascade)
                return na_cli_usage_error(fa->cmd, "--alpha belongs to netassure cascade");
            if (!na_cli_parse_double(optarg, &fa->alpha) || fa->alpha < 0)
                return na_cli_usage_error(fa->cmd, "--alpha needs a number >= 0 (got '%s')",
                                          optarg);
            fa->have_alpha = true;
            break;
        case O_MAX_STEPS:
            if (!cascade || !na_cli_parse_uint(optarg, &fa->max_steps))
                return na_cli_usage_error(fa->cmd, "--max-steps needs a non-negative integer");
            break;
        case 'f':
            if (na_format_parse(optarg, &fa->fmt))
                return na_cli_usage_error(fa->cmd, "unknown format '%s'", optarg);
            break;
        case 'h':
            (cascade ? cascade_usage : whatif_usage)(stdout);
            return NA_EXIT_OK;
        default:
            return na_cli_usage_error(fa->cmd, "bad option");
        }
    }
    if (optind + 1 != argc)
        return na_cli_usage_error(fa->cmd, "expected exactly one FILE");
    if (fa->n_fails == 0)
        return na_cli_usage_error(fa->cmd, "give at least one --fail NODE or --fail A-B");
    if (cascade && !fa->have_alpha)
        return na_cli_usage_error(fa->cmd, "--alpha is required");
    return -1;
}

/* Loads the topology, builds the graph and resolves every --fail; exit code. */
static int prepare(const failure_args *fa, const char *path, na_topology **topo, na_graph **g,
                   na_failure_set *set)
{
    na_error err;
    int rc;

    rc = na_cli_load(path, fa->fmt, topo);
    if (rc)
        return rc;
    rc = na_cli_graph(*topo, g);
    if (rc)
        return rc;
    for (size_t i = 0; i < fa->n_fails; i++) {
        na_error_clear(&err);
        if (na_failure_set_add(set, *g, fa->fails[i], &err))
            return na_cli_fail(&err);
    }
    return NA_EXIT_OK;
}

static const char *vname(const na_graph *g, uint32_t v)
{
    return na_topology_node(na_graph_topology(g), v)->id;
}

static void print_failures(const na_graph *g, const na_failure_set *set)
{
    printf("Failed:");
    for (size_t i = 0; i < set->n_vertices; i++)
        printf(" node %s", vname(g, set->vertices[i]));
    for (size_t i = 0; i < set->n_edges; i++) {
        uint32_t u, v;
        na_graph_edge(g, set->edges[i], &u, &v);
        printf(" link %s-%s", vname(g, u), vname(g, v));
    }
    printf("\n");
}

static int whatif_output(const failure_args *fa, const na_graph *g, const na_failure_set *set,
                         const na_whatif_result *r)
{
    if (fa->json)
        return na_cli_print_json(na_whatif_json(g, set, r));
    print_failures(g, set);
    printf("Components:          %zu -> %zu (giant %zu -> %zu nodes)\n", r->components_before,
           r->components_after, r->giant_before, r->giant_after);
    printf("Pairs disconnected:  %zu of %zu connected before\n", r->pairs_disconnected,
           r->pairs_connected_before);
    printf("Global efficiency:   %.6f -> %.6f (%+.6f)\n", r->efficiency_before,
           r->efficiency_after, r->efficiency_after - r->efficiency_before);
    printf("Average path stretch %.4f over surviving pairs (%zu pairs longer)\n", r->avg_stretch,
           r->pairs_stretched);
    if (r->n_role_loss) {
        printf("Reachability lost by role:\n");
        for (size_t i = 0; i < r->n_role_loss; i++) {
            const na_role_loss *l = &r->role_loss[i];
            if (l->nodes_total)
                printf("  %-12s -> %-12s %zu of %zu cut off from every %s\n", l->from_role,
                       l->to_role, l->nodes_cut_off, l->nodes_total, l->to_role);
        }
    }
    if (r->n_isolated) {
        printf("Cut off from the giant component (%zu):", r->n_isolated);
        for (size_t i = 0; i < r->n_isolated && i < 20; i++)
            printf(" %s", vname(g, r->isolated[i]));
        printf(r->n_isolated > 20 ? " ...\n" : "\n");
    }
    return fflush(stdout) ? NA_EXIT_ERROR : NA_EXIT_OK;
}

static int cascade_output(const failure_args *fa, const na_graph *g, const na_failure_set *set,
                          const na_cascade_result *r)
{
    if (fa->json)
        return na_cli_print_json(na_cascade_json(g, set, r));
    print_failures(g, set);
    printf("Motter-Lai cascade, alpha %.3f: %zu step%s, %zu nodes failed\n", r->alpha,
           r->n_steps, r->n_steps == 1 ? "" : "s", r->total_failed);
    for (size_t i = 0; i < r->n_steps; i++) {
        printf("  step %zu: %zu failed, giant component %zu:", i, r->steps[i].n_failed,
               r->steps[i].giant);
        for (size_t j = 0; j < r->steps[i].n_failed && j < 15; j++)
            printf(" %s", vname(g, r->steps[i].failed[j]));
        printf(r->steps[i].n_failed > 15 ? " ...\n" : "\n");
    }
    printf("Giant component: %zu -> %zu nodes (G = %.4f)\n", r->giant_before, r->giant_after,
           r->giant_fraction);
    return fflush(stdout) ? NA_EXIT_ERROR : NA_EXIT_OK;
}

static int run_failure_command(int argc, char **argv, bool cascade)
{
    failure_args fa = {.cmd = cascade ? "cascade" : "whatif"};
    na_topology *topo = NULL;
    na_graph *g = NULL;
    na_failure_set set;
    na_error err;
    int rc;

    memset(&set, 0, sizeof(set));
    fa.fails = calloc((size_t)argc + 1, sizeof(*fa.fails));
    if (!fa.fails)
        return NA_EXIT_ERROR;
    rc = parse_failure_args(argc, argv, &fa, cascade);
    if (rc >= 0)
        goto out;
    rc = prepare(&fa, argv[optind], &topo, &g, &set);
    if (rc)
        goto out;
    na_error_clear(&err);
    if (cascade) {
        na_cascade_result r;
        memset(&r, 0, sizeof(r));
        if (na_cascade_run(g, &set, fa.alpha, fa.max_steps, &r, &err))
            rc = na_cli_fail(&err);
        else
            rc = cascade_output(&fa, g, &set, &r);
        na_cascade_result_free(&r);
    } else {
        na_whatif_result r;
        memset(&r, 0, sizeof(r));
        if (na_whatif_run(g, &set, &r, &err))
            rc = na_cli_fail(&err);
        else
            rc = whatif_output(&fa, g, &set, &r);
        na_whatif_result_free(&r);
    }
out:
    na_failure_set_free(&set);
    na_graph_free(g);
    na_topology_unref(topo);
    free(fa.fails);
    return rc;
}

int na_cli_whatif(int argc, char **argv)
{
    return run_failure_command(argc, argv, false);
}

int na_cli_cascade(int argc, char **argv)
{
    return run_failure_command(argc, argv, true);
}
