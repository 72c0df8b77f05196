/*
 * robustness.c: redundancy and importance (efficiency loss) of every vertex.
 *
 * The fast kernel computes E(G - v) for all v from one BFS per source instead of one all-pairs
 * BFS per removed vertex: removing v only lengthens the paths from s to the vertices that v
 * dominates in s's shortest-path DAG, and only those are recomputed. docs/robustness.md has
 * the derivation and the proof; the comments here point at its steps.
 *
 * Sums of 1/d are kept in 128-bit fixed point (units of 2^-63, see struct fix) rather than in
 * doubles: integer addition is associative, so the result is the same bit for bit whatever the
 * number of threads or the order in which they finish, and the quantisation error (at most
 * 2^-64 per pair) is far below double rounding once divided by n(n-1).
 */
#include "netassure/robustness.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analytics/graph_internal.h"

#define NONE UINT32_MAX            /* "no vertex" / "unreachable" */
#define MAX_THREADS 256u
#define FIX_ONE_SHIFT 63           /* 1.0 == 2^63 units */

/* Unsigned 128-bit fixed-point number: (hi * 2^64 + lo) * 2^-63. */
typedef struct fix {
    uint64_t lo, hi;
} fix;

static inline void fix_add64(fix *a, uint64_t x)
{
    a->lo += x;
    a->hi += a->lo < x;
}

static inline void fix_add(fix *a, fix b)
{
    a->lo += b.lo;
    a->hi += b.hi + (a->lo < b.lo);
}

/* a - b; callers guarantee a >= b. */
static inline fix fix_sub(fix a, fix b)
{
    fix r;

    r.lo = a.lo - b.lo;
    r.hi = a.hi - b.hi - (a.lo < b.lo);
    return r;
}

static inline double fix_to_double(fix a)
{
    return ldexp((double)a.hi, 64 - FIX_ONE_SHIFT) + ldexp((double)a.lo, -FIX_ONE_SHIFT);
}

/*
 * rec[k] = round(2^63 / k) for 1 <= k <= n + 2, rec[0] = 0. Non-increasing in k, so a longer
 * distance never adds more than a shorter one (the loss terms below stay non-negative).
 * Caller frees.
 */
static uint64_t *reciprocal_table(size_t n)
{
    uint64_t *rec = malloc((n + 3) * sizeof(*rec));

    if (!rec)
        return NULL;
    rec[0] = 0;
    for (size_t k = 1; k < n + 3; k++)
        rec[k] = ((UINT64_C(1) << FIX_ONE_SHIFT) + k / 2) / k;
    return rec;
}

/* What all workers share; read-only during the run except the atomics and S[own sources]. */
struct shared {
    const uint32_t *off, *adj;
    uint32_t n;
    const uint64_t *rec;
    fix *S;                       /* S[s] = sum_t 1/d(s,t), written by the worker owning s */
    size_t chunk;
    atomic_size_t next;           /* next source to hand out */
    atomic_size_t done;           /* sources finished */
};

/*
 * One worker's scratch. Arrays named per vertex are indexed by vertex id; the others by BFS
 * position p (0 = the source), which keeps the dominator tree compact and makes "is an
 * ancestor" a comparison of positions.
 */
struct worker {
    struct shared *sh;
    pthread_t thread;
    bool started;
    uint32_t stamp;
    /* per vertex */
    uint32_t *seen, *dist, *pos, *vpre;
    /* per BFS position */
    uint32_t *order, *idom, *size, *pre, *cursor, *bypre, *lo, *hi, *nd;
    uint32_t *seedp, *sorted, *sval, *fifo, *count;
    fix *sub;                     /* sum of rec[d] over the dominator subtree */
    fix *loss;                    /* per vertex v: sum over sources of the 1/d lost in G - v */
};

static void worker_free(struct worker *w)
{
    uint32_t **arrays[] = {&w->seen, &w->dist, &w->pos, &w->vpre, &w->order, &w->idom,
                           &w->size, &w->pre, &w->cursor, &w->bypre, &w->lo, &w->hi,
                           &w->nd, &w->seedp, &w->sorted, &w->sval, &w->fifo, &w->count};

    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        free(*arrays[i]);
        *arrays[i] = NULL;
    }
    free(w->sub);
    free(w->loss);
    w->sub = w->loss = NULL;
}

static int worker_init(struct worker *w, struct shared *sh)
{
    size_t n = sh->n;
    uint32_t **arrays[] = {&w->seen, &w->dist, &w->pos, &w->vpre, &w->order, &w->idom,
                           &w->size, &w->pre, &w->cursor, &w->bypre, &w->lo, &w->hi,
                           &w->nd, &w->seedp, &w->sorted, &w->sval, &w->fifo, &w->count};

    memset(w, 0, sizeof(*w));
    w->sh = sh;
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        /* count[] is indexed by distance offsets up to n + 2. */
        *arrays[i] = calloc(n + 4, sizeof(uint32_t));
        if (!*arrays[i])
            goto out_free;
    }
    w->sub = calloc(n + 1, sizeof(fix));
    w->loss = calloc(n + 1, sizeof(fix));
    if (!w->sub || !w->loss)
        goto out_free;
    return NA_OK;

out_free:
    worker_free(w);
    return NA_ENOMEM;
}

/*
 * New distances from the source to R = the strict dominator subtree of position p (preorder
 * range [a, b)) in G - v: every vertex of R starts at 1 + the smallest distance of a neighbour
 * outside R and other than v (those distances do not change), then a BFS inside R lowers them.
 * Seeds have different values, so they are counting-sorted and merged with the FIFO in
 * increasing order (a unit-weight Dijkstra). Returns sum over reachable t in R of rec[d'(t)].
 */
static fix seeded_bfs(struct worker *w, uint32_t p, uint32_t a, uint32_t b)
{
    const uint32_t *off = w->sh->off, *adj = w->sh->adj;
    const uint64_t *rec = w->sh->rec;
    const uint32_t *dist = w->dist, *pos = w->pos, *vpre = w->vpre, *order = w->order;
    uint32_t *nd = w->nd, *seedp = w->seedp, *sorted = w->sorted, *sval = w->sval;
    uint32_t *fifo = w->fifo, *count = w->count;
    uint32_t prev = w->pre[p], base = dist[order[p]] + 2, maxval = 0, ns = 0;
    uint32_t qh = 0, qt = 0, i = 0;
    fix gained = {0, 0};

    for (uint32_t q = a; q < b; q++) {
        uint32_t pt = w->bypre[q], t = order[pt], best = NONE;
        for (uint32_t e = off[t]; e < off[t + 1]; e++) {
            uint32_t qx = vpre[adj[e]];
            if ((qx < prev || qx >= b) && dist[adj[e]] + 1 < best)
                best = dist[adj[e]] + 1;
        }
        nd[pt] = best;
        if (best != NONE) {
            /* A neighbour outside R is never closer to s than t (t's predecessors are all in
             * R or v), so seeds lie in [d(t) + 1, d(t) + 2] and at least at base. */
            assert(best >= base && best > dist[t]);
            seedp[ns++] = pt;
            if (best > maxval)
                maxval = best;
        }
    }
    if (ns == 0)
        return gained;
    if (b - a == 1) {
        fix_add64(&gained, rec[nd[seedp[0]]]);
        return gained;
    }
    /* R contains a vertex at every level between d(v) + 1 and its deepest, so the value range
     * is at most |R| + 1 and the counting sort is O(|R|). */
    memset(count, 0, (size_t)(maxval - base + 2) * sizeof(*count));
    for (uint32_t k = 0; k < ns; k++)
        count[nd[seedp[k]] - base + 1]++;
    for (uint32_t k = 1; k <= maxval - base + 1; k++)
        count[k] += count[k - 1];
    for (uint32_t k = 0; k < ns; k++) {
        uint32_t slot = count[nd[seedp[k]] - base]++;
        sorted[slot] = seedp[k];
        sval[slot] = nd[seedp[k]];
    }
    for (;;) {
        uint32_t x, val;
        if (qh < qt && (i == ns || nd[fifo[qh]] <= sval[i])) {
            x = fifo[qh++];
            val = nd[x];
        } else if (i < ns) {
            x = sorted[i];
            val = sval[i++];
            if (nd[x] != val)
                continue;  /* lowered since it was seeded; handled from the FIFO */
        } else {
            break;
        }
        fix_add64(&gained, rec[val]);
        for (uint32_t e = off[order[x]]; e < off[order[x] + 1]; e++) {
            uint32_t y = adj[e], qy = vpre[y];
            if (qy >= a && qy < b && val + 1 < nd[pos[y]]) {
                nd[pos[y]] = val + 1;
                fifo[qt++] = pos[y];
            }
        }
    }
    return gained;
}

static uint32_t next_stamp(struct worker *w)
{
    if (w->stamp == UINT32_MAX - 1) {
        memset(w->seen, 0, (size_t)w->sh->n * sizeof(*w->seen));
        w->stamp = 0;
    }
    return ++w->stamp;
}

/* Adds source s's share to S[s] and to w->loss[v] for every v that s's paths depend on. */
static void process_source(struct worker *w, uint32_t s)
{
    const uint32_t *off = w->sh->off, *adj = w->sh->adj;
    const uint64_t *rec = w->sh->rec;
    uint32_t *seen = w->seen, *dist = w->dist, *pos = w->pos, *vpre = w->vpre;
    uint32_t *order = w->order, *idom = w->idom, *size = w->size, *pre = w->pre;
    uint32_t *lo = w->lo, *hi = w->hi;
    uint32_t stamp = next_stamp(w), r = 1, deep = 0;
    fix S = {0, 0};

    /* BFS; the immediate dominator of each vertex is the nearest common dominator-tree
     * ancestor of its DAG predecessors, folded in as each predecessor is dequeued (its own
     * idom is final by then, its predecessors being a level closer). Ancestors have smaller
     * positions, so the intersection walks up by comparing positions (Cooper-Harvey-Kennedy). */
    seen[s] = stamp;
    dist[s] = 0;
    pos[s] = 0;
    order[0] = s;
    idom[0] = 0;
    for (uint32_t head = 0; head < r; head++) {
        uint32_t u = order[head], d1 = dist[u] + 1;
        for (uint32_t e = off[u]; e < off[u + 1]; e++) {
            uint32_t x = adj[e];
            if (seen[x] != stamp) {
                seen[x] = stamp;
                dist[x] = d1;
                pos[x] = r;
                order[r] = x;
                idom[r] = head;
                r++;
                fix_add64(&S, rec[d1]);
            } else if (dist[x] == d1) {
                uint32_t px = pos[x], ia = idom[px], ib = head;
                while (ia != ib) {
                    while (ia > ib)
                        ia = idom[ia];
                    while (ib > ia)
                        ib = idom[ib];
                }
                idom[px] = ia;
            }
        }
    }
    w->sh->S[s] = S;
    for (uint32_t p = 1; p < r; p++)
        deep += idom[p] != 0;
    if (deep == 0)
        return;  /* every vertex has a path avoiding any given v != s: no loss from s */

    /* Subtree sizes and sums (children have larger positions than their parent). */
    for (uint32_t p = 0; p < r; p++) {
        size[p] = 1;
        w->sub[p].lo = rec[dist[order[p]]];
        w->sub[p].hi = 0;
        lo[p] = NONE;
        hi[p] = 0;
    }
    for (uint32_t p = r - 1; p > 0; p--) {
        size[idom[p]] += size[p];
        fix_add(&w->sub[idom[p]], w->sub[p]);
    }
    /* Preorder numbering: the subtree of p is the range [pre[p], pre[p] + size[p]). */
    pre[0] = 0;
    w->cursor[0] = 1;
    vpre[s] = 0;
    w->bypre[0] = 0;
    for (uint32_t p = 1; p < r; p++) {
        uint32_t q = w->cursor[idom[p]];
        w->cursor[idom[p]] += size[p];
        pre[p] = q;
        w->cursor[p] = q + 1;
        vpre[order[p]] = q;
        w->bypre[q] = p;
    }
    /* lo[p] / hi[p]: smallest / largest preorder number among the neighbours of the strict
     * subtree of p. When they stay inside [pre[p], end), nothing of R touches the rest of the
     * graph except through v, so all of R is cut off and no BFS is needed (trees, chains). */
    for (uint32_t p = r - 1; p > 0; p--) {
        uint32_t q = idom[p], l, h, t = order[p];
        if (q == 0)
            continue;  /* in no R: only the source dominates it */
        l = lo[p];
        h = hi[p];
        for (uint32_t e = off[t]; e < off[t + 1]; e++) {
            uint32_t qx = vpre[adj[e]];
            l = qx < l ? qx : l;
            h = qx > h ? qx : h;
        }
        lo[q] = l < lo[q] ? l : lo[q];
        hi[q] = h > hi[q] ? h : hi[q];
    }

    for (uint32_t p = 1; p < r; p++) {
        uint32_t v = order[p], a = pre[p] + 1, b = pre[p] + size[p];
        fix lost;
        if (size[p] == 1)
            continue;
        lost = fix_sub(w->sub[p], (fix){rec[dist[v]], 0});
        if (lo[p] >= pre[p] && hi[p] < b) {
            fix_add(&w->loss[v], lost);
            continue;
        }
        fix_add(&w->loss[v], fix_sub(lost, seeded_bfs(w, p, a, b)));
    }
}

/* Hands out chunks of sources until none are left. */
static void worker_run(struct worker *w, const na_robustness_opts *report)
{
    struct shared *sh = w->sh;

    for (;;) {
        size_t first = atomic_fetch_add(&sh->next, sh->chunk), last;
        if (first >= sh->n)
            break;
        last = first + sh->chunk < sh->n ? first + sh->chunk : sh->n;
        for (size_t s = first; s < last; s++)
            process_source(w, (uint32_t)s);
        atomic_fetch_add(&sh->done, last - first);
        if (report && report->progress)
            report->progress(report->progress_ctx, atomic_load(&sh->done), sh->n);
    }
}

static void *worker_main(void *arg)
{
    worker_run(arg, NULL);
    return NULL;
}

static unsigned thread_count(const na_robustness_opts *opts, size_t n)
{
    long cpus;
    unsigned t = opts ? opts->threads : 0;

    if (t == 0) {
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        t = cpus > 0 ? (unsigned)cpus : 1;
    }
    if (t > MAX_THREADS)
        t = MAX_THREADS;
    if (t > n)
        t = n > 0 ? (unsigned)n : 1;
    return t;
}

/* Allocates out's arrays and fills n and redundancy. */
static int result_init(const na_graph *g, na_robustness *out, na_error *err)
{
    size_t n = g->n;

    memset(out, 0, sizeof(*out));
    out->redundancy = malloc((n + 1) * sizeof(*out->redundancy));
    out->importance = calloc(n + 1, sizeof(*out->importance));
    out->relative_loss = calloc(n + 1, sizeof(*out->relative_loss));
    if (!out->redundancy || !out->importance || !out->relative_loss) {
        na_robustness_free(out);
        return na_error_set(err, NA_ENOMEM, "out of memory for %zu robustness results", n);
    }
    out->n = n;
    for (size_t v = 0; v < n; v++)
        out->redundancy[v] = g->offsets[v + 1] - g->offsets[v];
    return NA_OK;
}

/* relative_loss from importance and efficiency. */
static void result_finish(na_robustness *out)
{
    for (size_t v = 0; v < out->n; v++)
        out->relative_loss[v] = out->efficiency > 0 ? out->importance[v] / out->efficiency : 0;
}

int na_robustness_compute(const na_graph *g, const na_robustness_opts *opts, na_robustness *out,
                          na_error *err)
{
    struct shared sh;
    struct worker *workers = NULL;
    unsigned nt, ready = 0;
    size_t n = g->n;
    fix T = {0, 0};
    int rc;

    rc = result_init(g, out, err);
    if (rc)
        return rc;
    if (n < 2)
        goto out_done;  /* E(G) = E(G - v) = 0 */
    nt = thread_count(opts, n);
    memset(&sh, 0, sizeof(sh));
    sh.off = g->offsets;
    sh.adj = g->adj;
    sh.n = (uint32_t)n;
    /* Small chunks balance the load (sources differ a lot in cost); 64 per thread at least
     * also gives the progress callback something to report. */
    sh.chunk = n / ((size_t)nt * 64);
    sh.chunk = sh.chunk < 1 ? 1 : sh.chunk > 256 ? 256 : sh.chunk;
    atomic_init(&sh.next, 0);
    atomic_init(&sh.done, 0);
    sh.rec = reciprocal_table(n);
    sh.S = calloc(n, sizeof(fix));
    workers = calloc(nt, sizeof(*workers));
    if (!sh.rec || !sh.S || !workers) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory for the robustness kernel");
        goto out_free;
    }
    for (ready = 0; ready < nt; ready++) {
        if (worker_init(&workers[ready], &sh)) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory for %u robustness threads", nt);
            goto out_free;
        }
    }
    /* A thread that cannot be started is not an error: the others take its sources. */
    for (unsigned i = 1; i < nt; i++)
        workers[i].started = pthread_create(&workers[i].thread, NULL, worker_main,
                                            &workers[i]) == 0;
    worker_run(&workers[0], opts);
    for (unsigned i = 1; i < nt; i++)
        if (workers[i].started)
            pthread_join(workers[i].thread, NULL);

    /* E(G - v) = (T - 2 S_v - sum_s loss_s(v)) / ((n-1)(n-2)); all sums exact, so the order
     * of the threads does not matter. */
    for (size_t s = 0; s < n; s++)
        fix_add(&T, sh.S[s]);
    out->efficiency = fix_to_double(T) / ((double)n * (double)(n - 1));
    for (size_t v = 0; v < n; v++) {
        fix num = T, loss = {0, 0};
        double ev = 0;
        for (unsigned i = 0; i < nt; i++)
            fix_add(&loss, workers[i].loss[v]);
        num = fix_sub(num, sh.S[v]);
        num = fix_sub(num, sh.S[v]);
        num = fix_sub(num, loss);
        if (n >= 3)
            ev = fix_to_double(num) / ((double)(n - 1) * (double)(n - 2));
        out->importance[v] = out->efficiency - ev;
    }
    if (opts && opts->progress)
        opts->progress(opts->progress_ctx, n, n);

out_free:
    for (unsigned i = 0; i < ready; i++)
        worker_free(&workers[i]);
    free(workers);
    free(sh.S);
    free((void *)sh.rec);
    if (rc) {
        na_robustness_free(out);
        return rc;
    }
out_done:
    result_finish(out);
    return NA_OK;
}

/* igraph's global efficiency of g without vertex v (n - 1 vertices). */
static int efficiency_without(const na_graph *g, uint32_t v, double *res, na_error *err)
{
    igraph_t h;
    igraph_error_t ie;

    *res = 0;
    if (g->n < 3)
        return NA_OK;  /* igraph gives NaN below 2 vertices; E is 0 by definition */
    ie = igraph_copy(&h, &g->ig);
    if (ie != IGRAPH_SUCCESS)
        return na__igraph_fail(ie, "copying the graph", err);
    ie = igraph_delete_vertices(&h, igraph_vss_1((igraph_integer_t)v));
    if (ie == IGRAPH_SUCCESS)
        ie = igraph_global_efficiency(&h, res, NULL, false);
    igraph_destroy(&h);
    if (ie != IGRAPH_SUCCESS)
        return na__igraph_fail(ie, "global efficiency", err);
    return NA_OK;
}

int na_robustness_compute_naive(const na_graph *g, na_robustness *out, na_error *err)
{
    igraph_error_t ie;
    int rc;

    na__igraph_setup();
    rc = result_init(g, out, err);
    if (rc)
        return rc;
    if (g->n >= 2) {
        ie = igraph_global_efficiency(&g->ig, &out->efficiency, NULL, false);
        if (ie != IGRAPH_SUCCESS) {
            rc = na__igraph_fail(ie, "global efficiency", err);
            goto out_free;
        }
    }
    for (size_t v = 0; v < g->n; v++) {
        double ev;
        rc = efficiency_without(g, (uint32_t)v, &ev, err);
        if (rc)
            goto out_free;
        out->importance[v] = out->efficiency - ev;
    }
    result_finish(out);
    return NA_OK;

out_free:
    na_robustness_free(out);
    return rc;
}

void na_robustness_free(na_robustness *r)
{
    if (!r)
        return;
    free(r->redundancy);
    free(r->importance);
    free(r->relative_loss);
    memset(r, 0, sizeof(*r));
}

double na_global_efficiency(const na_graph *g)
{
    size_t n = g->n;
    uint64_t *rec;
    uint32_t *dist, *queue;
    fix T = {0, 0};

    if (n < 2)
        return 0;
    rec = reciprocal_table(n);
    dist = malloc(n * sizeof(*dist));
    queue = malloc(n * sizeof(*queue));
    if (!rec || !dist || !queue) {
        free(rec);
        free(dist);
        free(queue);
        return NAN;
    }
    for (uint32_t s = 0; s < n; s++) {
        uint32_t r = 1;
        memset(dist, 0xff, n * sizeof(*dist));
        dist[s] = 0;
        queue[0] = s;
        for (uint32_t head = 0; head < r; head++) {
            uint32_t u = queue[head];
            for (uint32_t e = g->offsets[u]; e < g->offsets[u + 1]; e++) {
                uint32_t x = g->adj[e];
                if (dist[x] != NONE)
                    continue;
                dist[x] = dist[u] + 1;
                fix_add64(&T, rec[dist[x]]);
                queue[r++] = x;
            }
        }
    }
    free(rec);
    free(dist);
    free(queue);
    return fix_to_double(T) / ((double)n * (double)(n - 1));
}
