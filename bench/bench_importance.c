/*
 * bench_importance.c: times na_robustness_compute (importance of every node) against the naive
 * loop (one igraph_global_efficiency per removed node), checks that they agree, prints a table.
 *
 *   bench_importance [--sizes 500,2000,10000] [--zoo DIR] [--naive-full-max N]
 *                    [--naive-sample K] [--repeat R] [--seed S]
 *       The table: Barabasi-Albert graphs (igraph_barabasi_game, m = 2, fixed seed) of the
 *       given sizes and the largest Topology Zoo graph (DIR/Kdl.gml, or
 *       $NETASSURE_SHARED_DATA/topology-zoo). Graphs with more than N nodes (default 2000) get
 *       the naive loop on K removed nodes only (default 20, spread evenly) and its total is
 *       extrapolated (marked "est." in the table).
 *   bench_importance --dump-ba N FILE [--seed S]
 *       Writes that Barabasi-Albert graph as an edge list ("n m" then "u v" lines).
 *   bench_importance --edges FILE [--values OUT] [--repeat R]
 *       Times ours on an edge list; prints one JSON line; writes "importance" per node to OUT.
 *
 * Exit status: 0, 1 when ours and the naive loop disagree by more than 1e-9, 2 on errors.
 */
#include <errno.h>
#include <igraph.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netassure/graph.h"
#include "netassure/io.h"
#include "netassure/robustness.h"

#define AGREE_TOL 1e-9
#define MAX_SIZES 16
#define MAX_EDGE_FILE_NODES 10000000u

struct options {
    size_t sizes[MAX_SIZES];
    size_t n_sizes;
    const char *zoo;
    size_t naive_full_max;
    size_t naive_sample;
    unsigned repeat;
    unsigned long seed;
};

struct row {
    char name[64];
    size_t n, m;
    double ours1, oursn;          /* seconds: median of `repeat` runs */
    unsigned threads;
    double naive;                 /* seconds, measured or extrapolated */
    size_t naive_done;            /* removed nodes the naive loop really ran */
    double max_diff;
    bool skipped;
    char why[200];
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v > SIZE_MAX)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* "500,2000,10000" into o->sizes. */
static int parse_sizes(const char *s, struct options *o)
{
    o->n_sizes = 0;
    for (;;) {
        char *end;
        unsigned long long v;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || v > SIZE_MAX || o->n_sizes == MAX_SIZES)
            return -1;
        o->sizes[o->n_sizes++] = (size_t)v;
        if (*end == '\0')
            return 0;
        if (*end != ',')
            return -1;
        s = end + 1;
    }
}

static unsigned online_cpus(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (unsigned)c : 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs ours `repeat` times with `threads`; *seconds = median; *res keeps the last result. */
static int time_ours(const na_graph *g, unsigned threads, unsigned repeat, double *seconds,
                     na_robustness *res)
{
    na_robustness_opts opts = {.threads = threads};
    double t[32];
    na_error err;

    if (repeat > 32)
        repeat = 32;
    for (unsigned i = 0; i < repeat; i++) {
        double t0 = now();
        int rc;
        if (i > 0)
            na_robustness_free(res);
        rc = na_robustness_compute(g, &opts, res, &err);
        t[i] = now() - t0;
        if (rc) {
            fprintf(stderr, "na_robustness_compute: %s\n", err.message);
            return rc;
        }
    }
    qsort(t, repeat, sizeof(double), cmp_double);
    *seconds = t[repeat / 2];
    return 0;
}

/* igraph's efficiency of g without vertex v, the way the naive loop does it. */
static int naive_one(const igraph_t *ig, igraph_integer_t v, double *res)
{
    igraph_t h;
    igraph_error_t ie;

    ie = igraph_copy(&h, ig);
    if (ie != IGRAPH_SUCCESS)
        return -1;
    ie = igraph_delete_vertices(&h, igraph_vss_1(v));
    if (ie == IGRAPH_SUCCESS)
        ie = igraph_global_efficiency(&h, res, NULL, false);
    igraph_destroy(&h);
    return ie == IGRAPH_SUCCESS ? 0 : -1;
}

/* The igraph graph with the same vertices and edges as g. */
static int to_igraph(const na_graph *g, igraph_t *ig)
{
    size_t m = na_graph_edge_count(g);
    igraph_vector_int_t ev;
    int rc = -1;

    if (igraph_vector_int_init(&ev, (igraph_integer_t)(2 * m)) != IGRAPH_SUCCESS)
        return -1;
    for (size_t e = 0; e < m; e++) {
        uint32_t u, v;
        na_graph_edge(g, e, &u, &v);
        VECTOR(ev)[2 * e] = u;
        VECTOR(ev)[2 * e + 1] = v;
    }
    if (igraph_create(ig, &ev, (igraph_integer_t)na_graph_vertex_count(g), IGRAPH_UNDIRECTED) ==
        IGRAPH_SUCCESS)
        rc = 0;
    igraph_vector_int_destroy(&ev);
    return rc;
}

/*
 * Fills row: ours with 1 thread and all threads, and the naive loop, in full (the library's
 * na_robustness_compute_naive) or on `sample` evenly spread vertices, extrapolated.
 */
static int bench_graph(const na_graph *g, const struct options *o, struct row *row)
{
    na_robustness r1, rn, naive;
    size_t n = na_graph_vertex_count(g);
    na_error err;
    int rc;

    row->n = n;
    row->m = na_graph_edge_count(g);
    row->threads = online_cpus();
    rc = time_ours(g, 1, o->repeat, &row->ours1, &r1);
    if (rc)
        return rc;
    rc = time_ours(g, row->threads, o->repeat, &row->oursn, &rn);
    if (rc) {
        na_robustness_free(&r1);
        return rc;
    }
    row->max_diff = 0;
    for (size_t v = 0; v < n; v++)
        row->max_diff = fmax(row->max_diff, fabs(r1.importance[v] - rn.importance[v]));

    if (n <= o->naive_full_max) {
        double t0 = now();
        rc = na_robustness_compute_naive(g, &naive, &err);
        row->naive = now() - t0;
        if (rc) {
            fprintf(stderr, "na_robustness_compute_naive: %s\n", err.message);
            goto out_free;
        }
        row->naive_done = n;
        row->max_diff = fmax(row->max_diff, fabs(naive.efficiency - r1.efficiency));
        for (size_t v = 0; v < n; v++)
            row->max_diff = fmax(row->max_diff, fabs(naive.importance[v] - r1.importance[v]));
        na_robustness_free(&naive);
    } else {
        igraph_t ig;
        double e_all, t0, per;
        size_t k = o->naive_sample < n ? o->naive_sample : n;
        rc = to_igraph(g, &ig) ? 2 : 0;
        if (rc)
            goto out_free;
        t0 = now();
        rc = igraph_global_efficiency(&ig, &e_all, NULL, false) == IGRAPH_SUCCESS ? 0 : 2;
        for (size_t i = 0; i < k && !rc; i++) {
            size_t v = i * n / k;
            double ev;
            rc = naive_one(&ig, (igraph_integer_t)v, &ev) ? 2 : 0;
            if (!rc)
                row->max_diff = fmax(row->max_diff, fabs((e_all - ev) - r1.importance[v]));
        }
        per = (now() - t0) / (double)(k ? k : 1);
        igraph_destroy(&ig);
        if (rc) {
            fprintf(stderr, "naive sample failed on %s\n", row->name);
            goto out_free;
        }
        row->max_diff = fmax(row->max_diff, fabs(e_all - r1.efficiency));
        row->naive = per * (double)n;
        row->naive_done = k;
    }
out_free:
    na_robustness_free(&r1);
    na_robustness_free(&rn);
    return rc;
}

static int make_ba(size_t n, unsigned long seed, na_graph **out)
{
    igraph_t ig;
    uint32_t *edges;
    size_t m;
    int rc;

    igraph_rng_seed(igraph_rng_default(), seed);
    if (igraph_barabasi_game(&ig, (igraph_integer_t)n, 1.0, 2, NULL, false, 1.0, false,
                             IGRAPH_BARABASI_PSUMTREE, NULL) != IGRAPH_SUCCESS)
        return 2;
    m = (size_t)igraph_ecount(&ig);
    edges = malloc((2 * m + 1) * sizeof(*edges));
    if (!edges) {
        igraph_destroy(&ig);
        return 2;
    }
    for (size_t e = 0; e < m; e++) {
        edges[2 * e] = (uint32_t)IGRAPH_FROM(&ig, e);
        edges[2 * e + 1] = (uint32_t)IGRAPH_TO(&ig, e);
    }
    igraph_destroy(&ig);
    rc = na_graph_from_edges(n, edges, m, out, NULL) ? 2 : 0;
    free(edges);
    return rc;
}

/* The largest Topology Zoo graph, through the library's importer. */
static int load_zoo(const char *dir, struct row *row, na_graph **out)
{
    char path[4096], msg[600];
    na_topology *topo = NULL;
    na_error err;
    int rc;

    *out = NULL;
    snprintf(row->name, sizeof(row->name), "Topology Zoo Kdl");
    if (!dir) {
        snprintf(row->why, sizeof(row->why), "no Topology Zoo directory (--zoo or "
                 "$NETASSURE_SHARED_DATA)");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/Kdl.gml", dir);
    na_error_clear(&err);
    rc = na_import_file(path, NA_FORMAT_GML, &topo, NULL, &err);
    if (rc) {
        snprintf(row->why, sizeof(row->why), "cannot import Kdl.gml: %.150s",
                 na_error_format(&err, msg, sizeof(msg)));
        return -1;
    }
    rc = na_graph_from_topology(topo, out, &err);
    na_topology_unref(topo);
    if (rc) {
        snprintf(row->why, sizeof(row->why), "graph: %.150s", err.message);
        return -1;
    }
    return 0;
}

static void print_table(const struct row *rows, size_t n_rows, const struct options *o)
{
    unsigned cpus = online_cpus();

    printf("\nImportance of every node: ours (dominator-tree kernel) vs the naive loop\n"
           "(one igraph_global_efficiency per removed node). Times in seconds; ours is the\n"
           "median of %u runs; the naive loop runs once. %u online CPUs.\n\n",
           o->repeat, cpus);
    printf("%-22s %6s %6s %10s %10s %14s %10s %10s %9s\n", "graph", "n", "m", "ours 1T",
           "ours allT", "naive", "naive/1T", "naive/allT", "max|diff|");
    for (size_t i = 0; i < n_rows; i++) {
        const struct row *r = &rows[i];
        char naive[32];
        if (r->skipped) {
            printf("%-22s skipped: %s\n", r->name, r->why);
            continue;
        }
        if (r->naive_done < r->n)
            snprintf(naive, sizeof(naive), "%.1f est.", r->naive);
        else
            snprintf(naive, sizeof(naive), "%.3f", r->naive);
        printf("%-22s %6zu %6zu %10.4f %10.4f %14s %9.0fx %9.0fx %9.1e\n", r->name, r->n, r->m,
               r->ours1, r->oursn, naive, r->naive / r->ours1, r->naive / r->oursn,
               r->max_diff);
    }
    for (size_t i = 0; i < n_rows; i++)
        if (!rows[i].skipped && rows[i].naive_done < rows[i].n)
            printf("\"est.\" (%s): the naive loop ran on %zu of %zu removed nodes (evenly "
                   "spaced) and its time was extrapolated linearly; max|diff| covers those.\n",
                   rows[i].name, rows[i].naive_done, rows[i].n);
    printf("allT = %u threads. max|diff| = largest |ours - naive| over importance and E(G)"
           " (and 1 vs all threads); must be <= %g.\n", cpus, AGREE_TOL);
}

static int run_table(const struct options *o)
{
    struct row rows[MAX_SIZES + 1];
    size_t n_rows = 0;
    bool disagree = false;
    int rc = 0;

    memset(rows, 0, sizeof(rows));
    for (size_t i = 0; i < o->n_sizes; i++) {
        struct row *r = &rows[n_rows++];
        na_graph *g = NULL;
        snprintf(r->name, sizeof(r->name), "BA m=2 seed=%lu", o->seed);
        if (make_ba(o->sizes[i], o->seed, &g)) {
            fprintf(stderr, "cannot generate a Barabasi-Albert graph of %zu nodes\n",
                    o->sizes[i]);
            return 2;
        }
        fprintf(stderr, "running %s n=%zu ...\n", r->name, o->sizes[i]);
        rc = bench_graph(g, o, r);
        na_graph_free(g);
        if (rc)
            return 2;
        disagree |= r->max_diff > AGREE_TOL;
    }
    {
        struct row *r = &rows[n_rows++];
        na_graph *g = NULL;
        if (load_zoo(o->zoo, r, &g)) {
            r->skipped = true;
            fprintf(stderr, "SKIP row %s: %s\n", r->name, r->why);
        } else {
            fprintf(stderr, "running %s n=%zu ...\n", r->name, na_graph_vertex_count(g));
            rc = bench_graph(g, o, r);
            na_graph_free(g);
            if (rc)
                return 2;
            disagree |= r->max_diff > AGREE_TOL;
        }
    }
    print_table(rows, n_rows, o);
    if (disagree) {
        printf("FAIL: ours and the naive loop disagree by more than %g\n", AGREE_TOL);
        return 1;
    }
    return 0;
}

/* Reads "n m" then m lines "u v". */
static int read_edges(const char *path, na_graph **out)
{
    FILE *f = fopen(path, "r");
    unsigned long n, m;
    uint32_t *edges = NULL;
    int rc = 2;

    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 2;
    }
    if (fscanf(f, "%lu %lu", &n, &m) != 2 || n > MAX_EDGE_FILE_NODES ||
        m > 64 * (unsigned long)MAX_EDGE_FILE_NODES) {
        fprintf(stderr, "%s: expected \"n m\" first (n <= %u)\n", path, MAX_EDGE_FILE_NODES);
        goto out_close;
    }
    edges = malloc((2 * m + 1) * sizeof(*edges));
    if (!edges)
        goto out_close;
    for (unsigned long e = 0; e < m; e++) {
        unsigned long u, v;
        if (fscanf(f, "%lu %lu", &u, &v) != 2 || u >= n || v >= n) {
            fprintf(stderr, "%s: bad edge line %lu\n", path, e + 2);
            goto out_free;
        }
        edges[2 * e] = (uint32_t)u;
        edges[2 * e + 1] = (uint32_t)v;
    }
    rc = na_graph_from_edges(n, edges, m, out, NULL) ? 2 : 0;
out_free:
    free(edges);
out_close:
    fclose(f);
    return rc;
}

static int run_edges(const char *path, const char *values, unsigned repeat)
{
    na_graph *g = NULL;
    na_robustness r1, rn;
    double t1, tn;
    unsigned cpus = online_cpus();
    int rc = read_edges(path, &g);

    if (rc)
        return rc;
    rc = time_ours(g, 1, repeat, &t1, &r1) ? 2 : 0;
    if (rc)
        goto out_graph;
    rc = time_ours(g, cpus, repeat, &tn, &rn) ? 2 : 0;
    if (rc)
        goto out_r1;
    printf("{\"n\": %zu, \"m\": %zu, \"ours_1t_s\": %.6f, \"ours_all_s\": %.6f, "
           "\"threads\": %u, \"efficiency\": %.17g}\n",
           na_graph_vertex_count(g), na_graph_edge_count(g), t1, tn, cpus, r1.efficiency);
    if (values) {
        FILE *f = fopen(values, "w");
        if (!f) {
            fprintf(stderr, "%s: %s\n", values, strerror(errno));
            rc = 2;
        } else {
            for (size_t v = 0; v < r1.n; v++)
                fprintf(f, "%.17g\n", r1.importance[v]);
            rc = fclose(f) ? 2 : 0;
        }
    }
    na_robustness_free(&rn);
out_r1:
    na_robustness_free(&r1);
out_graph:
    na_graph_free(g);
    return rc;
}

static int dump_ba(size_t n, unsigned long seed, const char *path)
{
    na_graph *g = NULL;
    FILE *f;
    int rc = make_ba(n, seed, &g);

    if (rc)
        return rc;
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        na_graph_free(g);
        return 2;
    }
    fprintf(f, "%zu %zu\n", n, na_graph_edge_count(g));
    for (size_t e = 0; e < na_graph_edge_count(g); e++) {
        uint32_t u, v;
        na_graph_edge(g, e, &u, &v);
        fprintf(f, "%u %u\n", (unsigned)u, (unsigned)v);
    }
    rc = fclose(f) ? 2 : 0;
    na_graph_free(g);
    return rc;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bench_importance [--sizes N,N,...] [--zoo DIR] [--naive-full-max N]\n"
            "                        [--naive-sample K] [--repeat R] [--seed S]\n"
            "       bench_importance --dump-ba N FILE [--seed S]\n"
            "       bench_importance --edges FILE [--values OUT] [--repeat R]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static char zoo_buf[4096];
    struct options o = {.sizes = {500, 2000, 10000}, .n_sizes = 3, .naive_full_max = 2000,
                        .naive_sample = 20, .repeat = 3, .seed = 42};
    const char *edges = NULL, *values = NULL, *dump_path = NULL, *shared;
    size_t dump_n = 0, v;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!next)
            return usage();
        if (strcmp(a, "--sizes") == 0) {
            if (parse_sizes(next, &o))
                return usage();
        } else if (strcmp(a, "--zoo") == 0) {
            o.zoo = next;
        } else if (strcmp(a, "--naive-full-max") == 0) {
            if (parse_size(next, &o.naive_full_max))
                return usage();
        } else if (strcmp(a, "--naive-sample") == 0) {
            if (parse_size(next, &o.naive_sample) || o.naive_sample == 0)
                return usage();
        } else if (strcmp(a, "--repeat") == 0) {
            if (parse_size(next, &v) || v == 0 || v > 32)
                return usage();
            o.repeat = (unsigned)v;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_size(next, &v))
                return usage();
            o.seed = (unsigned long)v;
        } else if (strcmp(a, "--edges") == 0) {
            edges = next;
        } else if (strcmp(a, "--values") == 0) {
            values = next;
        } else if (strcmp(a, "--dump-ba") == 0) {
            if (i + 2 >= argc || parse_size(next, &dump_n))
                return usage();
            dump_path = argv[i + 2];
            i++;
        } else {
            return usage();
        }
        i++;
    }
    /* igraph's default handler aborts; this one prints and lets the call return an error. */
    igraph_set_error_handler(igraph_error_handler_printignore);
    if (dump_path)
        return dump_ba(dump_n, o.seed, dump_path);
    if (edges)
        return run_edges(edges, values, o.repeat);
    shared = getenv("NETASSURE_SHARED_DATA");
    if (!o.zoo && shared && shared[0]) {
        snprintf(zoo_buf, sizeof(zoo_buf), "%s/topology-zoo", shared);
        o.zoo = zoo_buf;
    }
    return run_table(&o);
}
