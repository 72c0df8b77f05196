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
#include "netassure/robustness.h"

enum {
    K_CENTRALITY = 1u << 0,
    K_STRUCTURE = 1u << 1,
    K_COMMUNITIES = 1u << 2,
    K_SPECTRAL = 1u << 3,
    K_MOTIFS = 1u << 4,
    K_CLUSTERS = 1u << 5,
    K_ROBUSTNESS = 1u << 6,
    K_ALL = 0x7fu
};

static const struct {
    const char *name;
    unsigned bit;
} kinds[] = {
    {"centrality", K_CENTRALITY}, {"structure", K_STRUCTURE}, {"communities", K_COMMUNITIES},
    {"spectral", K_SPECTRAL},     {"motifs", K_MOTIFS},       {"clusters", K_CLUSTERS},
    {"robustness", K_ROBUSTNESS}, {"all", K_ALL},
};

typedef struct analysis {
    unsigned kinds;
    na_topology *topo;
    na_graph *g;
    na_centrality cent;
    na_structure st;
    na_communities leiden, louvain;
    na_spectral spec;
    na_motifs motifs;
    na_cluster_list clusters;
    na_robustness rob;
} analysis;

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
        size_t i;
        for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
            if (strcmp(tok, kinds[i].name) == 0) {
                *out |= kinds[i].bit;
                break;
            }
        }
        if (i == sizeof(kinds) / sizeof(kinds[0]))
            return -1;
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

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Runs what was asked (and what it needs); NA_OK or the first error. */
static int run_analyses(analysis *a, unsigned threads, uint64_t seed, double resolution,
                        size_t k, bool progress, na_error *err)
{
    struct timespec t0;
    int rc = NA_OK;

    if (a->kinds & K_CLUSTERS)
        a->kinds |= K_STRUCTURE | K_COMMUNITIES;
#define TIMED(name, call)                                                                   \
    do {                                                                                    \
        clock_gettime(CLOCK_MONOTONIC, &t0);                                                \
        rc = (call);                                                                        \
        if (rc)                                                                             \
            return rc;                                                                      \
        na_log(NA_LOG_INFO, "%s: %.3f s", name, seconds_since(&t0));                        \
    } while (0)
    if (a->kinds & K_CENTRALITY)
        TIMED("centrality", na_centrality_compute(a->g, &a->cent, err));
    if (a->kinds & K_STRUCTURE)
        TIMED("structure", na_structure_compute(a->g, &a->st, err));
    if (a->kinds & K_COMMUNITIES) {
        TIMED("leiden", na_communities_detect(a->g, NA_COMMUNITY_LEIDEN, resolution, seed,
                                              &a->leiden, err));
        TIMED("louvain", na_communities_detect(a->g, NA_COMMUNITY_LOUVAIN, resolution, seed,
                                               &a->louvain, err));
    }
    if (a->kinds & K_SPECTRAL)
        TIMED("spectral", na_spectral_cluster(a->g, k, seed, &a->spec, err));
    if (a->kinds & K_MOTIFS)
        TIMED("motifs", na_motifs_census(a->g, &a->motifs, err));
    if (a->kinds & K_CLUSTERS)
        TIMED("clusters", na_clusters_compute(a->g, &a->st, &a->leiden, &a->clusters, err));
    if (a->kinds & K_ROBUSTNESS) {
        na_robustness_opts ro = {.threads = threads,
                                 .progress = progress ? show_progress : NULL,
                                 .progress_ctx = NULL};
        TIMED("robustness", na_robustness_compute(a->g, &ro, &a->rob, err));
    }
#undef TIMED
    return rc;
}

static void analysis_free(analysis *a)
{
    na_centrality_free(&a->cent);
    na_structure_free(&a->st);
    na_communities_free(&a->leiden);
    na_communities_free(&a->louvain);
    na_spectral_free(&a->spec);
    na_cluster_list_free(&a->clusters);
    na_robustness_free(&a->rob);
    na_graph_free(a->g);
    na_topology_unref(a->topo);
}

static const char *vid(const analysis *a, uint32_t v)
{
    return na_topology_node(a->topo, v)->id;
}

static json_t *json_members(const analysis *a, const uint32_t *m, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(vid(a, m[i])));
    return arr;
}

static json_t *json_communities(const na_communities *c)
{
    return json_pack("{s:s, s:I, s:o}", "method", na_community_method_name(c->method),
                     "count", (json_int_t)c->count, "modularity", na_cli_json_real(c->modularity));
}

static json_t *analysis_json(const analysis *a, const char *path)
{
    size_t n = na_graph_vertex_count(a->g);
    json_t *doc = json_object(), *nodes = json_array();

    json_object_set_new(doc, "topology",
                        json_pack("{s:s, s:o, s:I, s:I, s:I, s:I}", "file", path, "name",
                                  na_cli_json_str(na_topology_name(a->topo)), "version",
                                  (json_int_t)na_topology_version(a->topo), "nodes",
                                  (json_int_t)na_topology_node_count(a->topo), "links",
                                  (json_int_t)na_topology_link_count(a->topo), "graph_edges",
                                  (json_int_t)na_graph_edge_count(a->g)));
    for (size_t v = 0; v < n; v++) {
        const na_node *nd = na_topology_node(a->topo, v);
        json_t *o = json_pack("{s:s, s:o, s:o}", "id", nd->id, "label", na_cli_json_str(nd->label),
                              "role", na_cli_json_str(nd->role));
        if (a->kinds & K_CENTRALITY) {
            json_object_set_new(o, "degree", json_integer(a->cent.degree[v]));
            json_object_set_new(o, "betweenness", na_cli_json_real(a->cent.betweenness[v]));
            json_object_set_new(o, "closeness", na_cli_json_real(a->cent.closeness[v]));
            json_object_set_new(o, "pagerank", na_cli_json_real(a->cent.pagerank[v]));
            json_object_set_new(o, "eigenvector", na_cli_json_real(a->cent.eigenvector[v]));
        }
        if (a->kinds & K_STRUCTURE) {
            json_object_set_new(o, "articulation_point", json_boolean(a->st.articulation[v]));
            json_object_set_new(o, "coreness", json_integer(a->st.coreness[v]));
            json_object_set_new(o, "component", json_integer(a->st.component[v]));
        }
        if (a->kinds & K_COMMUNITIES) {
            json_object_set_new(o, "community", json_integer(a->leiden.membership[v]));
            json_object_set_new(o, "community_louvain", json_integer(a->louvain.membership[v]));
        }
        if (a->kinds & K_SPECTRAL)
            json_object_set_new(o, "spectral_cluster", json_integer(a->spec.membership[v]));
        if (a->kinds & K_ROBUSTNESS) {
            json_object_set_new(o, "redundancy", json_integer(a->rob.redundancy[v]));
            json_object_set_new(o, "importance", na_cli_json_real(a->rob.importance[v]));
            json_object_set_new(o, "relative_loss", na_cli_json_real(a->rob.relative_loss[v]));
        }
        json_array_append_new(nodes, o);
    }
    json_object_set_new(doc, "nodes", nodes);
    if (a->kinds & K_STRUCTURE) {
        json_t *br = json_array();
        for (size_t i = 0; i < a->st.n_bridges; i++)
            json_array_append_new(br, json_pack("{s:s, s:s}", "source",
                                                vid(a, a->st.bridges[2 * i]), "target",
                                                vid(a, a->st.bridges[2 * i + 1])));
        json_object_set_new(doc, "bridges", br);
        json_object_set_new(doc, "articulation_points",
                            json_integer((json_int_t)a->st.n_articulation));
        json_object_set_new(doc, "components", json_integer((json_int_t)a->st.n_components));
        json_object_set_new(doc, "max_core", json_integer(a->st.max_core));
    }
    if (a->kinds & K_COMMUNITIES)
        json_object_set_new(doc, "communities",
                            json_pack("{s:o, s:o}", "leiden", json_communities(&a->leiden),
                                      "louvain", json_communities(&a->louvain)));
    if (a->kinds & K_SPECTRAL) {
        json_t *ev = json_array();
        for (size_t i = 0; i < a->spec.n_eigenvalues; i++)
            json_array_append_new(ev, na_cli_json_real(a->spec.eigenvalues[i]));
        json_object_set_new(doc, "spectral",
                            json_pack("{s:I, s:b, s:o}", "k", (json_int_t)a->spec.k,
                                      "k_from_eigengap", a->spec.k_from_eigengap, "eigenvalues",
                                      ev));
    }
    if (a->kinds & K_MOTIFS) {
        json_t *m3 = json_object(), *m4 = json_object();
        for (size_t i = 0; i < sizeof(a->motifs.size3) / sizeof(a->motifs.size3[0]); i++)
            json_object_set_new(m3, a->motifs.size3[i].name, na_cli_json_real(a->motifs.size3[i].count));
        for (size_t i = 0; i < sizeof(a->motifs.size4) / sizeof(a->motifs.size4[0]); i++)
            json_object_set_new(m4, a->motifs.size4[i].name, na_cli_json_real(a->motifs.size4[i].count));
        json_object_set_new(doc, "motifs", json_pack("{s:o, s:o}", "size3", m3, "size4", m4));
    }
    if (a->kinds & K_CLUSTERS) {
        json_t *cl = json_array();
        for (size_t i = 0; i < a->clusters.count; i++) {
            const na_cluster *c = &a->clusters.items[i];
            char id[48];
            snprintf(id, sizeof(id), "%s-%zu",
                     c->kind == NA_CLUSTER_COMPONENT ? "component" : "community", c->index);
            json_array_append_new(
                cl, json_pack("{s:s, s:s, s:I, s:s, s:I, s:o}", "id", id, "kind",
                              c->kind == NA_CLUSTER_COMPONENT ? "component" : "community",
                              "index", (json_int_t)c->index, "type",
                              na_cluster_type_name(c->type), "internal_links",
                              (json_int_t)c->internal_links, "nodes",
                              json_members(a, c->members, c->n_members)));
        }
        json_object_set_new(doc, "clusters", cl);
    }
    if (a->kinds & K_ROBUSTNESS)
        json_object_set_new(doc, "efficiency", na_cli_json_real(a->rob.efficiency));
    return doc;
}

static const analysis *sort_ctx;

static int cmp_rank(const void *x, const void *y)
{
    uint32_t u = *(const uint32_t *)x, v = *(const uint32_t *)y;
    const analysis *a = sort_ctx;
    double ku = 0, kv = 0;

    if (a->kinds & K_ROBUSTNESS) {
        ku = a->rob.importance[u];
        kv = a->rob.importance[v];
    } else if (a->kinds & K_CENTRALITY) {
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
    if (a->kinds & K_STRUCTURE)
        printf(", %zu component%s, %zu articulation points, %zu bridges, max core %u",
               a->st.n_components, a->st.n_components == 1 ? "" : "s", a->st.n_articulation,
               a->st.n_bridges, a->st.max_core);
    printf("\n");
    if (a->kinds & K_ROBUSTNESS)
        printf("  global efficiency %.6f\n", a->rob.efficiency);
    if (a->kinds & K_COMMUNITIES)
        printf("  communities: leiden %zu (modularity %.4f), louvain %zu (modularity %.4f)\n",
               a->leiden.count, a->leiden.modularity, a->louvain.count, a->louvain.modularity);
    if (a->kinds & K_SPECTRAL) {
        printf("  spectral clustering: k = %zu (%s); smallest eigenvalues:", a->spec.k,
               a->spec.k_from_eigengap ? "largest eigengap" : "given");
        for (size_t i = 0; i < a->spec.n_eigenvalues && i < 8; i++)
            printf(" %.4f", a->spec.eigenvalues[i]);
        printf("\n");
    }
    if (a->kinds & K_MOTIFS) {
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
           (a->kinds & K_ROBUSTNESS) ? ", by importance"
           : (a->kinds & K_CENTRALITY) ? ", by betweenness" : "");
    printf("%-16s %-18s %-8s", "ID", "LABEL", "ROLE");
    if (a->kinds & K_CENTRALITY)
        printf(" %4s %12s %9s %9s", "DEG", "BETWEENNESS", "CLOSENESS", "PAGERANK");
    if (a->kinds & K_STRUCTURE)
        printf(" %4s %3s", "CORE", "AP");
    if (a->kinds & K_COMMUNITIES)
        printf(" %5s", "COMM");
    if (a->kinds & K_ROBUSTNESS)
        printf(" %4s %11s %7s", "RED", "IMPORTANCE", "LOSS%");
    printf("\n");
    for (size_t i = 0; i < top; i++) {
        uint32_t v = order[i];
        const na_node *nd = na_topology_node(a->topo, v);
        print_cell(nd->id, 16);
        print_cell(nd->label ? nd->label : "-", 18);
        print_cell(nd->role ? nd->role : "-", 8);
        if (a->kinds & K_CENTRALITY)
            printf("%4u %12.2f %9.5f %9.6f", a->cent.degree[v], a->cent.betweenness[v],
                   a->cent.closeness[v], a->cent.pagerank[v]);
        if (a->kinds & K_STRUCTURE)
            printf(" %4u %3s", a->st.coreness[v], a->st.articulation[v] ? "yes" : "-");
        if (a->kinds & K_COMMUNITIES)
            printf(" %5u", a->leiden.membership[v]);
        if (a->kinds & K_ROBUSTNESS)
            printf(" %4u %11.6f %7.2f", a->rob.redundancy[v], a->rob.importance[v],
                   100.0 * a->rob.relative_loss[v]);
        printf("\n");
    }
    if (a->kinds & K_CLUSTERS) {
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
    na_format fmt = NA_FORMAT_AUTO;
    bool json = false, progress = isatty(STDERR_FILENO);
    unsigned long threads = 0, seed = 1, k = 0, top = 20;
    double resolution = 1.0;
    na_error err;
    int c, rc;

    memset(&a, 0, sizeof(a));
    a.kinds = K_ALL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case O_ONLY:
            if (parse_kinds(optarg, &a.kinds))
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
    rc = na_cli_load(argv[optind], fmt, &a.topo);
    if (rc)
        return rc;
    rc = na_cli_graph(a.topo, &a.g);
    if (rc)
        goto out;
    na_error_clear(&err);
    if (run_analyses(&a, (unsigned)threads, seed, resolution, k, progress, &err)) {
        rc = na_cli_fail(&err);
        goto out;
    }
    rc = json ? na_cli_print_json(analysis_json(&a, argv[optind]))
              : analysis_table(&a, argv[optind], top);
out:
    analysis_free(&a);
    return rc;
}
