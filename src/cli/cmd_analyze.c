/*
 * cmd_analyze.c: `netassure analyze FILE`: every graph analysis of one topology, as a table or
 * as one JSON object (the contract in docs/cli.md).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "netassure/centrality.h"
#include "netassure/clusters.h"
#include "netassure/community.h"
#include "netassure/motifs.h"
#include "netassure/report.h"
#include "netassure/robustness.h"

typedef na_analysis analysis;

static void analyze_usage(FILE *out)
{
    fprintf(out,
            "usage: netassure analyze FILE [--only KINDS] [--json] [options]\n\n"
            "Runs the graph analytics on the topology in FILE (JSON, GML, GraphML or YAML) and prints\n"
            "a table, or with --json one JSON object (docs/cli.md). Analytics use the simple graph:\n"
            "parallel links collapse into one, self-loops and down links are left out.\n\n"
            "  --only KINDS       comma-separated subset of: centrality, structure (articulation\n"
            "                     points, bridges, k-core, components), communities (Leiden and\n"
            "                     Louvain), spectral, motifs, clusters (cluster types of components\n"
            "                     and communities), robustness (redundancy, importance); default all\n"
            "  --json             one JSON object on stdout\n"
            "  -f, --format FMT   input format: json, gml, graphml, yaml (default: guessed)\n"
            "  --threads N        threads for robustness (default: all CPUs)\n"
            "  --seed N           seed for the randomised algorithms (default 1)\n"
            "  --resolution R     modularity resolution for communities (default 1.0)\n"
            "  --k K              number of spectral clusters (default: by eigengap)\n"
            "  --top N            table rows for nodes (default 20, 0 = all)\n"
            "  --progress         progress of robustness on stderr (default when stderr is a tty)\n"
            "  -h, --help         this help\n");
}

static int parse_kinds(const char *arg, unsigned *out)
{
    char buf[256];
    char *save = NULL;

    if (strlen(arg) >= sizeof(buf))
        return -1;
    memcpy(buf, arg, strlen(arg) + 1);
    *out = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        unsigned bit = na_analysis_kind_parse(tok);
        if (!bit)
            return -1;
        *out |= bit;
    }
    return *out ? 0 : -1;
}

static void show_progress(void *ctx, size_t done, size_t total)
{
    (void)ctx;
    fprintf(stderr, "\rrobustness: %zu/%zu sources", done, total);
    if (done == total)
        fputc('\n', stderr);
}

static const char *vid(const analysis *a, uint32_t v)
{
    return na_topology_node(a->topo, v)->id;
}

static const analysis *sort_ctx;

static int cmp_rank(const void *x, const void *y)
{
    uint32_t u = *(const uint32_t *)x, v = *(const uint32_t *)y;
    const analysis *a = sort_ctx;
    double ku = 0, kv = 0;

    if (a->kinds & NA_ANALYSIS_ROBUSTNESS) {
        ku = a->rob.importance[u];
        kv = a->rob.importance[v];
    } else if (a->kinds & NA_ANALYSIS_CENTRALITY) {
        ku = a->cent.betweenness[u];
        kv = a->cent.betweenness[v];
    }
    if (ku != kv)
        return ku > kv ? -1 : 1;
    return u < v ? -1 : (u > v);
}

static void print_cell(const char *s, int width)
{
    int len = (int)strlen(s);

    if (len <= width)
        printf("%-*s ", width, s);
    else
        printf("%.*s~ ", width - 1, s);
}

static void print_members(const analysis *a, const na_cluster *c)
{
    size_t show = c->n_members < 8 ? c->n_members : 8;

    for (size_t i = 0; i < show; i++)
        printf("%s%s", i ? "," : "", vid(a, c->members[i]));
    if (show < c->n_members)
        printf(",... (+%zu)", c->n_members - show);
}

static int analysis_table(const analysis *a, const char *path, size_t top)
{
    size_t n = na_graph_vertex_count(a->g);
    uint32_t *order = malloc((n ? n : 1) * sizeof(*order));
    const char *name = na_topology_name(a->topo);

    if (!order) {
        fprintf(stderr, "netassure: error: out of memory\n");
        return NA_EXIT_ERROR;
    }
    printf("Topology %s (%s), version %llu\n", name ? name : "(unnamed)", path,
           (unsigned long long)na_topology_version(a->topo));
    printf("  %zu nodes, %zu links, %zu edges in the analytics graph", n,
           na_topology_link_count(a->topo), na_graph_edge_count(a->g));
    if (a->kinds & NA_ANALYSIS_STRUCTURE)
        printf(", %zu component%s, %zu articulation points, %zu bridges, max core %u",
               a->st.n_components, a->st.n_components == 1 ? "" : "s", a->st.n_articulation,
               a->st.n_bridges, a->st.max_core);
    printf("\n");
    if (a->kinds & NA_ANALYSIS_ROBUSTNESS)
        printf("  global efficiency %.6f\n", a->rob.efficiency);
    if (a->kinds & NA_ANALYSIS_COMMUNITIES)
        printf("  communities: leiden %zu (modularity %.4f), louvain %zu (modularity %.4f)\n",
               a->leiden.count, a->leiden.modularity, a->louvain.count, a->louvain.modularity);
    if (a->kinds & NA_ANALYSIS_SPECTRAL) {
        printf("  spectral clustering: k = %zu (%s); smallest eigenvalues:", a->spec.k,
               a->spec.k_from_eigengap ? "largest eigengap" : "given");
        for (size_t i = 0; i < a->spec.n_eigenvalues && i < 8; i++)
            printf(" %.4f", a->spec.eigenvalues[i]);
        printf("\n");
    }
    if (a->kinds & NA_ANALYSIS_MOTIFS) {
        printf("  motifs size 3:");
        for (size_t i = 0; i < sizeof(a->motifs.size3) / sizeof(a->motifs.size3[0]); i++)
            printf(" %s %.0f", a->motifs.size3[i].name, a->motifs.size3[i].count);
        printf("\n  motifs size 4:");
        for (size_t i = 0; i < sizeof(a->motifs.size4) / sizeof(a->motifs.size4[0]); i++)
            printf(" %s %.0f", a->motifs.size4[i].name, a->motifs.size4[i].count);
        printf("\n");
    }

    for (size_t v = 0; v < n; v++)
        order[v] = (uint32_t)v;
    sort_ctx = a;
    qsort(order, n, sizeof(*order), cmp_rank);
    if (top == 0 || top > n)
        top = n;
    printf("\nNodes (%zu of %zu%s)\n", top, n,
           (a->kinds & NA_ANALYSIS_ROBUSTNESS) ? ", by importance"
           : (a->kinds & NA_ANALYSIS_CENTRALITY) ? ", by betweenness" : "");
    printf("%-16s %-18s %-8s", "ID", "LABEL", "ROLE");
    if (a->kinds & NA_ANALYSIS_CENTRALITY)
        printf(" %4s %12s %9s %9s", "DEG", "BETWEENNESS", "CLOSENESS", "PAGERANK");
    if (a->kinds & NA_ANALYSIS_STRUCTURE)
        printf(" %4s %3s", "CORE", "AP");
    if (a->kinds & NA_ANALYSIS_COMMUNITIES)
        printf(" %5s", "COMM");
    if (a->kinds & NA_ANALYSIS_ROBUSTNESS)
        printf(" %4s %11s %7s", "RED", "IMPORTANCE", "LOSS%");
    printf("\n");
    for (size_t i = 0; i < top; i++) {
        uint32_t v = order[i];
        const na_node *nd = na_topology_node(a->topo, v);
        print_cell(nd->id, 16);
        print_cell(nd->label ? nd->label : "-", 18);
        print_cell(nd->role ? nd->role : "-", 8);
        if (a->kinds & NA_ANALYSIS_CENTRALITY)
            printf("%4u %12.2f %9.5f %9.6f", a->cent.degree[v], a->cent.betweenness[v],
                   a->cent.closeness[v], a->cent.pagerank[v]);
        if (a->kinds & NA_ANALYSIS_STRUCTURE)
            printf(" %4u %3s", a->st.coreness[v], a->st.articulation[v] ? "yes" : "-");
        if (a->kinds & NA_ANALYSIS_COMMUNITIES)
            printf(" %5u", a->leiden.membership[v]);
        if (a->kinds & NA_ANALYSIS_ROBUSTNESS)
            printf(" %4u %11.6f %7.2f", a->rob.redundancy[v], a->rob.importance[v],
                   100.0 * a->rob.relative_loss[v]);
        printf("\n");
    }
    if (a->kinds & NA_ANALYSIS_CLUSTERS) {
        printf("\nClusters (components, then Leiden communities)\n");
        printf("%-14s %-14s %6s %6s  %s\n", "CLUSTER", "TYPE", "NODES", "LINKS", "MEMBERS");
        for (size_t i = 0; i < a->clusters.count; i++) {
            const na_cluster *c = &a->clusters.items[i];
            char id[48];
            snprintf(id, sizeof(id), "%s-%zu",
                     c->kind == NA_CLUSTER_COMPONENT ? "component" : "community", c->index);
            printf("%-14s %-14s %6zu %6zu  ", id, na_cluster_type_name(c->type), c->n_members,
                   c->internal_links);
            print_members(a, c);
            printf("\n");
        }
    }
    free(order);
    return fflush(stdout) ? NA_EXIT_ERROR : NA_EXIT_OK;
}

int na_cli_analyze(int argc, char **argv)
{
    enum { O_ONLY = 256, O_JSON, O_THREADS, O_SEED, O_RES, O_K, O_TOP, O_PROGRESS };
    static const struct option opts[] = {
        {"only", required_argument, NULL, O_ONLY},
        {"json", no_argument, NULL, O_JSON},
        {"format", required_argument, NULL, 'f'},
        {"threads", required_argument, NULL, O_THREADS},
        {"seed", required_argument, NULL, O_SEED},
        {"resolution", required_argument, NULL, O_RES},
        {"k", required_argument, NULL, O_K},
        {"top", required_argument, NULL, O_TOP},
        {"progress", no_argument, NULL, O_PROGRESS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    analysis a;
    na_analysis_opts ao;
    na_topology *topo = NULL;
    unsigned kinds = NA_ANALYSIS_ALL;
    na_format fmt = NA_FORMAT_AUTO;
    bool json = false, progress = isatty(STDERR_FILENO);
    unsigned long threads = 0, seed = 1, k = 0, top = 20;
    double resolution = 1.0;
    na_error err;
    int c, rc;

    memset(&a, 0, sizeof(a));
    memset(&ao, 0, sizeof(ao));
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case O_ONLY:
            if (parse_kinds(optarg, &kinds))
                return na_cli_usage_error("analyze", "--only takes a comma-separated list of: "
                                          "centrality, structure, communities, spectral, motifs, "
                                          "clusters, robustness, all (got '%s')", optarg);
            break;
        case O_JSON: json = true; break;
        case O_PROGRESS: progress = true; break;
        case 'f':
            if (na_format_parse(optarg, &fmt))
                return na_cli_usage_error("analyze", "unknown format '%s'", optarg);
            break;
        case O_THREADS:
            if (!na_cli_parse_uint(optarg, &threads) || threads > 1024)
                return na_cli_usage_error("analyze", "--threads needs a number 0..1024");
            break;
        case O_SEED:
            if (!na_cli_parse_uint(optarg, &seed))
                return na_cli_usage_error("analyze", "--seed needs a non-negative integer");
            break;
        case O_RES:
            if (!na_cli_parse_double(optarg, &resolution) || resolution <= 0)
                return na_cli_usage_error("analyze", "--resolution needs a positive number");
            break;
        case O_K:
            if (!na_cli_parse_uint(optarg, &k) || k > 1000000)
                return na_cli_usage_error("analyze", "--k needs a non-negative integer");
            break;
        case O_TOP:
            if (!na_cli_parse_uint(optarg, &top))
                return na_cli_usage_error("analyze", "--top needs a non-negative integer");
            break;
        case 'h':
            analyze_usage(stdout);
            return NA_EXIT_OK;
        default:
            return na_cli_usage_error("analyze", "bad option");
        }
    }
    if (optind + 1 != argc)
        return na_cli_usage_error("analyze", "expected exactly one FILE");
    rc = na_cli_load(argv[optind], fmt, &topo);
    if (rc)
        return rc;
    na_error_clear(&err);
    ao.kinds = kinds;
    ao.threads = (unsigned)threads;
    ao.seed = seed;
    ao.resolution = resolution;
    ao.k = k;
    ao.progress = progress ? show_progress : NULL;
    if (na_analysis_run(topo, &ao, &a, &err)) {
        rc = na_cli_fail(&err);
        goto out;
    }
    rc = json ? na_cli_print_json(na_analysis_json(&a, a.kinds, argv[optind]))
              : analysis_table(&a, argv[optind], top);
out:
    na_analysis_free(&a);
    na_topology_unref(topo);
    return rc;
}
