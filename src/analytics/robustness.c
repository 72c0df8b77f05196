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

/*
 * Articulation structure of the whole graph (one iterative DFS, Hopcroft-Tarjan low points),
 * so that "does removing v cut the source off from all of v's dominator subtree?" is answered
 * without looking at the subtree: trees and pendant chains then cost O(1) per (source, v).
 */
struct cuts {
    uint32_t *disc;       /* DFS preorder number; the DFS subtree of v is [disc, disc + size) */
    uint32_t *low;        /* smallest disc reachable from the DFS subtree by one back edge */
    uint32_t *size;       /* DFS subtree size */
    uint32_t *comp;       /* size of v's connected component */
    uint32_t *sepsum;     /* total size of v's DFS child subtrees that v separates */
    uint32_t *child_off;  /* DFS children of v: child[child_off[v] .. child_off[v + 1]) */
    uint32_t *child;      /* in increasing disc */
};

static void cuts_free(struct cuts *c)
{
    free(c->disc);
    free(c->low);
    free(c->size);
    free(c->comp);
    free(c->sepsum);
    free(c->child_off);
    free(c->child);
    memset(c, 0, sizeof(*c));
}

static int cuts_build(const na_graph *g, struct cuts *c)
{
    size_t n = g->n;
    uint32_t *parent = malloc((n + 1) * sizeof(uint32_t));
    uint32_t *iter = malloc((n + 1) * sizeof(uint32_t));
    uint32_t *stack = malloc((n + 1) * sizeof(uint32_t));
    uint32_t *bydisc = malloc((n + 1) * sizeof(uint32_t));
    uint32_t time = 0;
    int rc = NA_ENOMEM;

    memset(c, 0, sizeof(*c));
    c->disc = malloc((n + 1) * sizeof(uint32_t));
    c->low = malloc((n + 1) * sizeof(uint32_t));
    c->size = malloc((n + 1) * sizeof(uint32_t));
    c->comp = malloc((n + 1) * sizeof(uint32_t));
    c->sepsum = calloc(n + 1, sizeof(uint32_t));
    c->child_off = calloc(n + 2, sizeof(uint32_t));
    c->child = malloc((n + 1) * sizeof(uint32_t));
    if (!parent || !iter || !stack || !bydisc || !c->disc || !c->low || !c->size || !c->comp ||
        !c->sepsum || !c->child_off || !c->child)
        goto out_free;
    for (size_t v = 0; v < n; v++)
        c->disc[v] = NONE;
    for (uint32_t root = 0; root < n; root++) {
        uint32_t top = 0, first = time;
        if (c->disc[root] != NONE)
            continue;
        parent[root] = NONE;
        c->disc[root] = c->low[root] = time;
        bydisc[time++] = root;
        iter[root] = g->offsets[root];
        stack[top++] = root;
        while (top > 0) {
            uint32_t v = stack[top - 1];
            if (iter[v] < g->offsets[v + 1]) {
                uint32_t x = g->adj[iter[v]++];
                if (c->disc[x] == NONE) {
                    parent[x] = v;
                    c->disc[x] = c->low[x] = time;
                    bydisc[time++] = x;
                    iter[x] = g->offsets[x];
                    stack[top++] = x;
                } else if (x != parent[v] && c->disc[x] < c->low[v]) {
                    c->low[v] = c->disc[x];
                }
                continue;
            }
            top--;
            c->size[v] = time - c->disc[v];
            if (parent[v] != NONE) {
                uint32_t u = parent[v];
                if (c->low[v] < c->low[u])
                    c->low[u] = c->low[v];
                if (c->low[v] >= c->disc[u])
                    c->sepsum[u] += c->size[v];
                c->child_off[u + 1]++;
            }
        }
        for (uint32_t k = first; k < time; k++)
            c->comp[bydisc[k]] = time - first;
    }
    for (size_t v = 0; v < n; v++)
        c->child_off[v + 1] += c->child_off[v];
    memcpy(iter, c->child_off, n * sizeof(uint32_t));
    for (uint32_t k = 0; k < n; k++) {
        uint32_t v = bydisc[k];
        if (parent[v] != NONE)
            c->child[iter[parent[v]]++] = v;
    }
    rc = NA_OK;
out_free:
    free(parent);
    free(iter);
    free(stack);
    free(bydisc);
    if (rc)
        cuts_free(c);
    return rc;
}

/*
 * Number of vertices that lose every path to s when v (!= s, same component) is removed: the
 * DFS child subtrees that v separates, or, when s lies in one of them, everything else.
 */
static uint32_t cut_size(const struct cuts *c, uint32_t s, uint32_t v)
{
    uint32_t ds = c->disc[s], dv = c->disc[v];

    if (ds > dv && ds < dv + c->size[v]) {
        uint32_t lo = c->child_off[v], hi = c->child_off[v + 1], ch;
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (c->disc[c->child[mid]] <= ds)
                lo = mid;
            else
                hi = mid;
        }
        ch = c->child[lo];
        if (c->low[ch] >= dv)
            return c->comp[v] - 1 - c->size[ch];
    }
    return c->sepsum[v];
}

/* What all workers share; read-only during the run except the atomics and S[own sources]. */
struct shared {
    const uint32_t *off, *adj;
    uint32_t n;
    const uint64_t *rec;
    const struct cuts *cuts;
    fix *S;                       /* S[s] = sum_t 1/d(s,t), written by the worker owning s */
    size_t chunk;
    atomic_size_t next;           /* next source to hand out */
    atomic_size_t done;           /* sources finished */
};

/*
 * What the kernel reads about a neighbour, together so that one cache line serves (16 bytes).
 * sd is the distance from the current source plus the worker's base, which grows by n + 1 per
 * source: sd < base means "not reached yet", so nothing is cleared between sources.
 */
struct vinfo {
    uint32_t sd;                  /* base + d(s, v) */
    uint32_t pos;                 /* BFS position */
    uint32_t pre;                 /* dominator-tree preorder number */
    uint32_t nd;                  /* d'(s, v) in G - (the vertex being removed) */
};

/*
 * One worker's scratch. order, idom, lev, size and pre are indexed by BFS
 * position p (0 = the source), which keeps the dominator tree compact and makes "is an
 * ancestor" a comparison; qvert and qlev by preorder number, so a dominator subtree
 * is a contiguous slice of them (prefix too, built only for sources that need it).
 */
struct worker {
    struct shared *sh;
    pthread_t thread;
    bool started;
    uint32_t base;
    struct vinfo *vi;             /* per vertex */
    uint32_t *order, *idom, *lev, *size, *pre, *qvert, *qlev;
    uint32_t *rl, *hl, *sorted, *sval, *fifo, *count;
    fix *prefix;                  /* prefix[q] = sum of rec[qlev[q']] for q' < q */
    fix *loss;                    /* per vertex v: sum over sources of the 1/d lost in G - v */
};

#define WORKER_ARRAYS(w)                                                                       \
    {&(w)->order, &(w)->idom, &(w)->lev, &(w)->size, &(w)->pre, &(w)->qvert, &(w)->qlev,       \
     &(w)->rl, &(w)->hl, &(w)->sorted, &(w)->sval, &(w)->fifo, &(w)->count}

static void worker_free(struct worker *w)
{
    uint32_t **arrays[] = WORKER_ARRAYS(w);

    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        free(*arrays[i]);
        *arrays[i] = NULL;
    }
    free(w->vi);
    free(w->prefix);
    free(w->loss);
    w->vi = NULL;
    w->prefix = w->loss = NULL;
}

static int worker_init(struct worker *w, struct shared *sh)
{
    size_t n = sh->n;
    uint32_t **arrays[] = WORKER_ARRAYS(w);

    memset(w, 0, sizeof(*w));
    w->sh = sh;
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        /* count[] is indexed by level offsets up to n + 2 and must start all zero. */
        *arrays[i] = calloc(n + 4, sizeof(uint32_t));
        if (!*arrays[i])
            goto out_free;
    }
    w->vi = calloc(n + 1, sizeof(*w->vi));
    w->prefix = calloc(n + 1, sizeof(fix));
    w->loss = calloc(n + 1, sizeof(fix));
    if (!w->vi || !w->prefix || !w->loss)
        goto out_free;
    return NA_OK;

out_free:
    worker_free(w);
    return NA_ENOMEM;
}

/*
 * Distances from the source in G - v to R = the strict dominator subtree of v (preorder range
 * [a, b), v itself is a - 1 at level dv); returns what R loses: the sum over t in R of
 * rec[d(t)] - rec[d'(t)] (rec[infinity] = 0).
 *
 * Every t in R gets longer: d'(t) >= d(t) + 1. It is exactly d(t) + 1 iff t has a neighbour
 * outside R (and != v) on its own level, or a neighbour in R one level up that is itself at
 * d + 1; one pass over R in level order settles those (usually most of R). The rest, H, get
 * seeds (1 + the distance of a settled neighbour or of one outside R) and a BFS inside H;
 * seeds differ, so they are counting-sorted and merged with the FIFO (unit-weight Dijkstra).
 */
static fix replace_paths(struct worker *w, uint32_t a, uint32_t b, uint32_t dv)
{
    const uint32_t *off = w->sh->off, *adj = w->sh->adj, *qvert = w->qvert, *qlev = w->qlev;
    const uint64_t *rec = w->sh->rec;
    struct vinfo *vi = w->vi;
    uint32_t *count = w->count, *rl = w->rl, *hl = w->hl;
    uint32_t base = w->base, prev = a - 1, nr = b - a, nh = 0;
    fix before = {0, 0}, gained = {0, 0};

    /* R in level order. R has a vertex on every level from dv + 1 to its deepest (each lies
     * on a shortest path from v to the deepest), so the counting sort is O(|R|). */
    if (nr == 1) {
        rl[0] = a;
        fix_add64(&before, rec[qlev[a]]);
    } else {
        uint32_t span = 0, sum = 0;
        for (uint32_t q = a; q < b; q++) {
            uint32_t k = qlev[q] - dv;
            count[k]++;
            span = k > span ? k : span;
            fix_add64(&before, rec[qlev[q]]);
        }
        for (uint32_t k = 1; k <= span; k++) {
            uint32_t c = count[k];
            count[k] = sum;
            sum += c;
        }
        for (uint32_t q = a; q < b; q++)
            rl[count[qlev[q] - dv]++] = q;
        memset(count, 0, (size_t)(span + 1) * sizeof(*count));
    }

    for (uint32_t i = 0; i < nr; i++) {
        uint32_t t = qvert[rl[i]], dt = qlev[rl[i]], sdt = base + dt;
        bool plus1 = false, plus2 = false;
        for (uint32_t e = off[t]; e < off[t + 1]; e++) {
            const struct vinfo *x = &vi[adj[e]];
            if (x->pre < prev || x->pre >= b) {
                /* Outside R and not v: its distance is unchanged, and it is not closer than
                 * t (t's predecessors are all in R or v). */
                if (x->sd == sdt) {
                    plus1 = true;
                    break;
                }
                plus2 = true;
            } else if (x->pre >= a && x->sd < sdt && x->nd == dt) {
                plus1 = true;
                break;
            }
        }
        if (plus1) {
            vi[t].nd = dt + 1;
            fix_add64(&gained, rec[dt + 1]);
        } else {
            vi[t].nd = plus2 ? dt + 2 : NONE;
            hl[nh++] = t;
        }
    }
    if (nh == 0)
        return fix_sub(before, gained);

    /* H: vertices at d + 2 or more. Seed from settled neighbours in R (they are on t's level
     * or below it, else t would be settled), then BFS inside H. In H, nd != d + 1. */
    uint32_t *sorted = w->sorted, *sval = w->sval, *fifo = w->fifo;
    uint32_t low = dv + 3, maxval = 0, ns = 0, qh = 0, qt = 0, i = 0;
    for (uint32_t k = 0; k < nh; k++) {
        uint32_t t = hl[k], best = vi[t].nd;
        for (uint32_t e = off[t]; e < off[t + 1]; e++) {
            const struct vinfo *x = &vi[adj[e]];
            if (x->pre >= a && x->pre < b && x->nd == x->sd - base + 1 &&
                x->sd - base + 2 < best)
                best = x->sd - base + 2;
        }
        vi[t].nd = best;
        if (best != NONE) {
            assert(best >= low);
            hl[ns++] = t;   /* keep only the seeded ones, in place */
            maxval = best > maxval ? best : maxval;
        }
    }
    if (ns == 0)
        return fix_sub(before, gained);
    for (uint32_t k = 0; k < ns; k++)
        count[vi[hl[k]].nd - low + 1]++;
    for (uint32_t k = 1; k <= maxval - low + 1; k++)
        count[k] += count[k - 1];
    for (uint32_t k = 0; k < ns; k++) {
        uint32_t slot = count[vi[hl[k]].nd - low]++;
        sorted[slot] = hl[k];
        sval[slot] = vi[hl[k]].nd;
    }
    memset(count, 0, (size_t)(maxval - low + 2) * sizeof(*count));
    for (;;) {
        uint32_t x, val;
        if (qh < qt && (i == ns || vi[fifo[qh]].nd <= sval[i])) {
            x = fifo[qh++];
            val = vi[x].nd;
        } else if (i < ns) {
            x = sorted[i];
            val = sval[i++];
            if (vi[x].nd != val)
                continue;  /* lowered since it was seeded; handled from the FIFO */
        } else {
            break;
        }
        fix_add64(&gained, rec[val]);
        for (uint32_t e = off[x]; e < off[x + 1]; e++) {
            struct vinfo *y = &vi[adj[e]];
            if (y->pre >= a && y->pre < b && y->nd != y->sd - base + 1 && val + 1 < y->nd) {
                y->nd = val + 1;
                fifo[qt++] = adj[e];
            }
        }
    }
    return fix_sub(before, gained);
}

/* Starts a new source: distances below the returned base are stale. */
static uint32_t next_base(struct worker *w)
{
    uint64_t step = (uint64_t)w->sh->n + 1;

    if (w->base == 0 || w->base + 2 * step > UINT32_MAX) {
        for (size_t v = 0; v < w->sh->n; v++)
            w->vi[v].sd = 0;
        w->base = 1;
    } else {
        w->base += (uint32_t)step;
    }
    return w->base;
}

/* Adds source s's share to S[s] and to w->loss[v] for every v that s's paths depend on. */
static void process_source(struct worker *w, uint32_t s)
{
    const uint32_t *off = w->sh->off, *adj = w->sh->adj;
    const uint64_t *rec = w->sh->rec;
    struct vinfo *vi = w->vi;
    uint32_t *order = w->order, *idom = w->idom, *lev = w->lev, *size = w->size, *pre = w->pre;
    uint32_t *cursor = w->fifo;   /* free until replace_paths */
    uint32_t base = next_base(w), r = 1, deep = 0;
    bool prefix_ready = false;
    fix S = {0, 0};

    /* BFS; the immediate dominator of each vertex is the nearest common dominator-tree
     * ancestor of its DAG predecessors, folded in as each predecessor is dequeued (its own
     * idom is final by then, its predecessors being a level closer). Ancestors have smaller
     * positions, so the intersection walks up by comparing positions (Cooper-Harvey-Kennedy). */
    vi[s].sd = base;
    vi[s].pos = 0;
    order[0] = s;
    idom[0] = 0;
    lev[0] = 0;
    for (uint32_t head = 0; head < r; head++) {
        uint32_t u = order[head], d1 = lev[head] + 1;
        for (uint32_t e = off[u]; e < off[u + 1]; e++) {
            struct vinfo *x = &vi[adj[e]];
            if (x->sd < base) {
                x->sd = base + d1;
                x->pos = r;
                order[r] = adj[e];
                idom[r] = head;
                lev[r] = d1;
                r++;
                fix_add64(&S, rec[d1]);
            } else if (x->sd == base + d1) {
                uint32_t ia = idom[x->pos], ib = head;
                while (ia != ib) {
                    while (ia > ib)
                        ia = idom[ia];
                    while (ib > ia)
                        ib = idom[ib];
                }
                idom[x->pos] = ia;
            }
        }
    }
    w->sh->S[s] = S;
    for (uint32_t p = 1; p < r; p++)
        deep += idom[p] != 0;
    if (deep == 0)
        return;  /* every vertex has a path avoiding any given v != s: no loss from s */

    /* Subtree sizes (children have larger positions than their parent). */
    for (uint32_t p = 0; p < r; p++)
        size[p] = 1;
    for (uint32_t p = r - 1; p > 0; p--)
        size[idom[p]] += size[p];
    /* Preorder numbering: the subtree of p is the range [pre[p], pre[p] + size[p]). */
    pre[0] = 0;
    cursor[0] = 1;
    vi[s].pre = 0;
    w->qvert[0] = s;
    w->qlev[0] = 0;
    for (uint32_t p = 1; p < r; p++) {
        uint32_t q = cursor[idom[p]];
        cursor[idom[p]] += size[p];
        pre[p] = q;
        cursor[p] = q + 1;
        vi[order[p]].pre = q;
        w->qvert[q] = order[p];
        w->qlev[q] = lev[p];
    }

    for (uint32_t p = 1; p < r; p++) {
        uint32_t v = order[p], a = pre[p] + 1, b = pre[p] + size[p];
        fix lost = {0, 0};
        if (size[p] == 1)
            continue;
        if (cut_size(w->sh->cuts, s, v) == size[p] - 1) {
            /* All of R is cut off, so all of it is lost: a prefix sum, no search. */
            if (!prefix_ready) {
                w->prefix[0] = (fix){0, 0};
                for (uint32_t q = 0; q < r; q++) {
                    w->prefix[q + 1] = w->prefix[q];
                    fix_add64(&w->prefix[q + 1], rec[w->qlev[q]]);
                }
                prefix_ready = true;
            }
            lost = fix_sub(w->prefix[b], w->prefix[a]);
        } else {
            lost = replace_paths(w, a, b, lev[p]);
        }
        fix_add(&w->loss[v], lost);
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
    struct cuts cuts;
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
    memset(&cuts, 0, sizeof(cuts));
    sh.cuts = &cuts;
    sh.rec = reciprocal_table(n);
    sh.S = calloc(n, sizeof(fix));
    workers = calloc(nt, sizeof(*workers));
    if (!sh.rec || !sh.S || !workers || cuts_build(g, &cuts)) {
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
    cuts_free(&cuts);
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
