/*
 * spectral.c: spectral clustering on the normalised Laplacian L = I - D^-1/2 A D^-1/2.
 *
 * The spectrum of a disconnected graph is the union of its components' spectra, so we solve
 * each component on its own and merge: this keeps every solve connected (eigenvalue 0 simple),
 * which ARPACK needs to find the bottom of the spectrum reliably, and keeps dense solves small.
 * Small components use LAPACK (dsyevd: all eigenpairs, keeping the wanted ones); large ones
 * ARPACK on the CSR through the largest eigenvalues of 2I - L. The embedding rows are normalised
 * (Ng, Jordan and Weiss) and clustered by our own k-means with k-means++ seeding.
 */
#include "netassure/community.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/graph_internal.h"

/* Components up to this size are solved densely: 3,000^2 doubles is 72 MB. */
#define DENSE_MAX 3000
/* Dense fallback when many eigenpairs of a large component are asked for; beyond this the
 * matrix (512 MB) is refused. */
#define DENSE_HARD_MAX 8192
/* The eigengap rule looks at this many smallest eigenvalues. */
#define EIGENGAP_WINDOW 20
/* Gaps within this of the best count as ties (resolved to the smaller k). */
#define EIGENGAP_TIE 1e-9
#define KMEANS_RESTARTS 10
#define KMEANS_MAX_ITER 300

void na_spectral_free(na_spectral *s)
{
    if (!s)
        return;
    free(s->membership);
    free(s->eigenvalues);
    memset(s, 0, sizeof(*s));
}

/* splitmix64: small, fast, and fully determined by the seed on every platform. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_uniform(uint64_t *state)
{
    return (double)(rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* One connected component: its vertices (ascending) and their local indexes. */
typedef struct component {
    const na_graph *g;
    const uint32_t *verts;
    size_t s;
    const uint32_t *local;     /* global vertex -> index in verts (valid for members) */
    const double *inv_sqrt_deg; /* global vertex -> 1/sqrt(degree), 0 for isolated */
} component;

/* to = (2I - L) from = from + D^-1/2 A D^-1/2 from, on one component. */
static igraph_error_t shifted_matvec(igraph_real_t *to, const igraph_real_t *from, int n,
                                     void *extra)
{
    const component *c = extra;
    const na_graph *g = c->g;

    for (int i = 0; i < n; i++) {
        uint32_t v = c->verts[i];
        double acc = 0.0;
        for (uint32_t k = g->offsets[v]; k < g->offsets[v + 1]; k++) {
            uint32_t w = g->adj[k];
            acc += c->inv_sqrt_deg[w] * from[c->local[w]];
        }
        to[i] = from[i] + c->inv_sqrt_deg[v] * acc;
    }
    return IGRAPH_SUCCESS;
}

/*
 * The t smallest eigenpairs of the component's Laplacian, densely: values ascending into
 * vals[t], vectors into vecs (t vectors of length s, one after the other).
 */
static int dense_eigen(const component *c, size_t t, double *vals, double *vecs, na_error *err)
{
    const na_graph *g = c->g;
    size_t s = c->s;
    double *a, *z;
    lapack_int info;
    int rc = NA_OK;

    a = calloc(s * s, sizeof(*a));
    z = malloc(s * sizeof(*z));
    if (!a || !z) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory for a %zu x %zu Laplacian", s, s);
        goto out_free;
    }
    for (size_t i = 0; i < s; i++) {
        uint32_t v = c->verts[i];
        if (c->inv_sqrt_deg[v] > 0.0)
            a[i * s + i] = 1.0;
        for (uint32_t k = g->offsets[v]; k < g->offsets[v + 1]; k++) {
            uint32_t w = g->adj[k];
            a[i * s + c->local[w]] = -c->inv_sqrt_deg[v] * c->inv_sqrt_deg[w];
        }
    }
    /*
     * All eigenpairs by divide and conquer, then keep the t smallest. Not dsyevr with range
     * 'I': Debian's LAPACK 3.11 / OpenBLAS 0.3.21 MRRR path returns fewer pairs than asked on
     * Laplacians with many equal eigenvalues (leaves give eigenvalue 1 many times; seen on 30
     * Topology Zoo graphs in release builds), and the cost is O(s^3) either way.
     */
    info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)s, a, (lapack_int)s, z);
    if (info != 0) {
        rc = na_error_set(err, NA_EGRAPH, "LAPACKE_dsyevd failed (info %d) on a %zu x %zu "
                          "Laplacian", (int)info, s, s);
        goto out_free;
    }
    /* Eigenvalues come ascending in z[0..s); a is s x s row-major, column j = vector j. */
    for (size_t j = 0; j < t; j++) {
        vals[j] = z[j];
        for (size_t i = 0; i < s; i++)
            vecs[j * s + i] = a[i * s + j];
    }
out_free:
    free(a);
    free(z);
    return rc;
}

/* Like dense_eigen, with ARPACK on the sparse matrix (needs 0 < t < s). */
static int sparse_eigen(const component *c, size_t t, double *vals, double *vecs,
                        na_error *err)
{
    igraph_arpack_options_t opts;
    igraph_vector_t values;
    igraph_matrix_t vectors;
    igraph_error_t ie;
    size_t s = c->s;
    size_t *rank = NULL;
    int rc = NA_OK;

    ie = igraph_vector_init(&values, 0);
    if (ie != IGRAPH_SUCCESS)
        return na__igraph_fail(ie, "ARPACK", err);
    ie = igraph_matrix_init(&vectors, 0, 0);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "ARPACK", err);
        goto out_values;
    }
    igraph_arpack_options_init(&opts);
    opts.n = (int)s;
    opts.nev = (int)t;
    opts.which[0] = 'L';
    opts.which[1] = 'A';
    opts.ncv = 0;       /* 0: igraph chooses the Lanczos basis size */
    opts.start = 0;     /* random start from igraph's RNG, which the caller seeded */
    opts.mxiter = 10000;
    ie = igraph_arpack_rssolve(shifted_matvec, (void *)c, &opts, NULL, &values, &vectors);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "ARPACK (spectral clustering)", err);
        goto out_vectors;
    }
    if ((size_t)igraph_vector_size(&values) < t) {
        rc = na_error_set(err, NA_EGRAPH, "ARPACK returned %ld of %zu eigenpairs",
                          (long)igraph_vector_size(&values), t);
        goto out_vectors;
    }
    rank = malloc(t * sizeof(*rank));
    if (!rank) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory in spectral clustering");
        goto out_vectors;
    }
    /* Largest of 2I - L first means smallest of L first; insertion sort makes sure. */
    for (size_t j = 0; j < t; j++) {
        size_t i = j;
        while (i > 0 && VECTOR(values)[rank[i - 1]] < VECTOR(values)[j]) {
            rank[i] = rank[i - 1];
            i--;
        }
        rank[i] = j;
    }
    for (size_t j = 0; j < t; j++) {
        vals[j] = 2.0 - VECTOR(values)[rank[j]];
        for (size_t i = 0; i < s; i++)
            vecs[j * s + i] = MATRIX(vectors, i, rank[j]);
    }
    free(rank);
out_vectors:
    igraph_matrix_destroy(&vectors);
out_values:
    igraph_vector_destroy(&values);
    return rc;
}

static int component_eigen(const component *c, size_t t, double *vals, double *vecs,
                           na_error *err)
{
    if (c->s == 1) {
        /* An isolated vertex: its row of L is zero. */
        vals[0] = 0.0;
        vecs[0] = 1.0;
        return NA_OK;
    }
    if (c->s <= DENSE_MAX || 4 * t > c->s) {
        if (c->s > DENSE_HARD_MAX)
            return na_error_set(err, NA_ETOOBIG,
                                "%zu eigenvectors of a %zu-vertex component: ask for fewer "
                                "clusters", t, c->s);
        return dense_eigen(c, t, vals, vecs, err);
    }
    return sparse_eigen(c, t, vals, vecs, err);
}

/* A candidate eigenpair: the value and where its component-local vector lives. */
typedef struct candidate {
    double value;
    size_t comp;     /* component index, for ties */
    size_t rank;     /* rank within the component */
    size_t vec_off;  /* offset into the vector buffer */
} candidate;

static int cmp_candidate(const void *pa, const void *pb)
{
    const candidate *a = pa, *b = pb;

    if (a->value != b->value)
        return a->value < b->value ? -1 : 1;
    if (a->comp != b->comp)
        return a->comp < b->comp ? -1 : 1;
    return a->rank < b->rank ? -1 : a->rank > b->rank;
}

/*
 * Largest gap among the first `w` eigenvalues: k = the number of eigenvalues below it. Ties
 * (within EIGENGAP_TIE) go to the smaller k. When the window holds no gap at all (w or more
 * components, so all w values are 0) the gap lies beyond it and k = w.
 */
static size_t eigengap_k(const double *vals, size_t w)
{
    size_t best_k = w;
    double best = EIGENGAP_TIE;

    for (size_t i = 1; i < w; i++) {
        double gap = vals[i] - vals[i - 1];
        if (gap > best + EIGENGAP_TIE) {
            best = gap;
            best_k = i;
        }
    }
    return best_k;
}

static double sq_dist(const double *x, const double *y, size_t d)
{
    double acc = 0.0;

    for (size_t i = 0; i < d; i++) {
        double t = x[i] - y[i];
        acc += t * t;
    }
    return acc;
}

/* k-means++ seeding: each next centre is a point drawn with probability ~ D(x)^2. */
static void kmeans_seed(const double *x, size_t n, size_t d, size_t k, uint64_t *rng,
                        double *centres, double *dist)
{
    size_t first = (size_t)(rng_uniform(rng) * (double)n);

    if (first >= n)
        first = n - 1;
    memcpy(centres, x + first * d, d * sizeof(double));
    for (size_t i = 0; i < n; i++)
        dist[i] = sq_dist(x + i * d, centres, d);
    for (size_t c = 1; c < k; c++) {
        double total = 0.0, r, acc = 0.0;
        size_t pick = n - 1;
        for (size_t i = 0; i < n; i++)
            total += dist[i];
        if (total <= 0.0) {
            /* Fewer distinct points than clusters: duplicates are all that is left. */
            pick = (size_t)(rng_uniform(rng) * (double)n);
            if (pick >= n)
                pick = n - 1;
        } else {
            r = rng_uniform(rng) * total;
            for (size_t i = 0; i < n; i++) {
                acc += dist[i];
                if (acc > r && dist[i] > 0.0) {
                    pick = i;
                    break;
                }
            }
        }
        memcpy(centres + c * d, x + pick * d, d * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            double dd = sq_dist(x + i * d, centres + c * d, d);
            if (dd < dist[i])
                dist[i] = dd;
        }
    }
}

/*
 * Lloyd's iterations from the seeded centres; returns the inertia (sum of squared distances
 * to the assigned centre). An empty cluster takes the point farthest from its centre.
 */
static double kmeans_lloyd(const double *x, size_t n, size_t d, size_t k, double *centres,
                           uint32_t *assign, size_t *sizes, double *dist)
{
    double inertia = 0.0;

    for (size_t i = 0; i < n; i++)
        assign[i] = UINT32_MAX;
    for (int iter = 0; iter < KMEANS_MAX_ITER; iter++) {
        bool changed = false;
        for (size_t i = 0; i < n; i++) {
            uint32_t best = 0;
            double bd = sq_dist(x + i * d, centres, d);
            for (size_t c = 1; c < k; c++) {
                double dd = sq_dist(x + i * d, centres + c * d, d);
                if (dd < bd) {
                    bd = dd;
                    best = (uint32_t)c;
                }
            }
            dist[i] = bd;
            if (assign[i] != best) {
                assign[i] = best;
                changed = true;
            }
        }
        if (!changed)
            break;
        memset(centres, 0, k * d * sizeof(double));
        memset(sizes, 0, k * sizeof(size_t));
        for (size_t i = 0; i < n; i++) {
            sizes[assign[i]]++;
            for (size_t j = 0; j < d; j++)
                centres[assign[i] * d + j] += x[i * d + j];
        }
        for (size_t c = 0; c < k; c++) {
            if (sizes[c] == 0) {
                size_t far = 0;
                for (size_t i = 1; i < n; i++)
                    if (dist[i] > dist[far])
                        far = i;
                if (dist[far] <= 0.0 || sizes[assign[far]] <= 1)
                    continue;   /* nothing to give: the cluster stays empty */
                /* Move the point now, so the centre sums stay consistent. */
                for (size_t j = 0; j < d; j++)
                    centres[assign[far] * d + j] -= x[far * d + j];
                sizes[assign[far]]--;
                assign[far] = (uint32_t)c;
                sizes[c] = 1;
                dist[far] = 0.0;
                memcpy(centres + c * d, x + far * d, d * sizeof(double));
            }
        }
        for (size_t c = 0; c < k; c++)
            if (sizes[c] > 0)
                for (size_t j = 0; j < d; j++)
                    centres[c * d + j] /= (double)sizes[c];
    }
    for (size_t i = 0; i < n; i++)
        inertia += sq_dist(x + i * d, centres + (size_t)assign[i] * d, d);
    return inertia;
}

/*
 * Best of KMEANS_RESTARTS runs of k-means++ and Lloyd on the n points x (n x d) into k
 * clusters; labels into best_assign.
 */
static int kmeans(const double *x, size_t n, size_t d, size_t k, uint64_t seed,
                  uint32_t *best_assign, na_error *err)
{
    double *centres = malloc(k * d * sizeof(double));
    double *dist = malloc(n * sizeof(double));
    uint32_t *assign = malloc(n * sizeof(uint32_t));
    size_t *sizes = malloc(k * sizeof(size_t));
    double best = INFINITY;
    uint64_t rng = seed;
    int rc = NA_OK;

    if (!centres || !dist || !assign || !sizes) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory in k-means");
        goto out_free;
    }
    for (int r = 0; r < KMEANS_RESTARTS; r++) {
        double inertia;
        kmeans_seed(x, n, d, k, &rng, centres, dist);
        inertia = kmeans_lloyd(x, n, d, k, centres, assign, sizes, dist);
        if (inertia < best) {
            best = inertia;
            memcpy(best_assign, assign, n * sizeof(uint32_t));
        }
    }
out_free:
    free(centres);
    free(dist);
    free(assign);
    free(sizes);
    return rc;
}

/*
 * Eigenpairs of all components, merged: the ne smallest values into vals, and the embedding
 * (n x k, row-major; column j is the j-th eigenvector) into emb, once k is known. k == 0 asks
 * for the eigengap rule over the first `window` values.
 */
typedef struct spectrum {
    candidate *cand;
    size_t n_cand;
    double *vecbuf;
    uint32_t *order;     /* vertices grouped by component, ascending within */
    size_t *start;       /* component c is order[start[c] .. start[c + 1]) */
    size_t n_comp;
} spectrum;

static void spectrum_free(spectrum *sp)
{
    free(sp->cand);
    free(sp->vecbuf);
    free(sp->order);
    free(sp->start);
    memset(sp, 0, sizeof(*sp));
}

/* Solves every component for its min(size, ne) smallest eigenpairs. */
static int spectrum_compute(const na_graph *g, size_t ne, spectrum *sp, na_error *err)
{
    igraph_vector_int_t memb, csize;
    igraph_integer_t ncomp = 0;
    igraph_error_t ie;
    uint32_t *local = NULL;
    double *isd = NULL;
    size_t n = g->n, total = 0, *fill = NULL;
    int rc = NA_OK;

    memset(sp, 0, sizeof(*sp));
    ie = igraph_vector_int_init(&memb, 0);
    if (ie != IGRAPH_SUCCESS)
        return na__igraph_fail(ie, "connected components", err);
    ie = igraph_vector_int_init(&csize, 0);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "connected components", err);
        goto out_memb;
    }
    ie = igraph_connected_components(&g->ig, &memb, &csize, &ncomp, IGRAPH_WEAK);
    if (ie != IGRAPH_SUCCESS) {
        rc = na__igraph_fail(ie, "connected components", err);
        goto out_csize;
    }
    sp->n_comp = (size_t)ncomp;
    sp->start = calloc(sp->n_comp + 1, sizeof(*sp->start));
    fill = malloc((sp->n_comp + 1) * sizeof(*fill));
    sp->order = malloc((n + 1) * sizeof(*sp->order));
    local = malloc((n + 1) * sizeof(*local));
    isd = malloc((n + 1) * sizeof(*isd));
    sp->cand = malloc((n + 1) * sizeof(*sp->cand));
    if (!sp->start || !fill || !sp->order || !local || !isd || !sp->cand)
        goto out_nomem;
    for (size_t c = 0; c < sp->n_comp; c++) {
        size_t s = (size_t)VECTOR(csize)[c];
        sp->start[c + 1] = sp->start[c] + s;
        fill[c] = sp->start[c];
        total += (s < ne ? s : ne) * s;
    }
    for (size_t v = 0; v < n; v++) {
        size_t c = (size_t)VECTOR(memb)[v];
        local[v] = (uint32_t)(fill[c] - sp->start[c]);
        sp->order[fill[c]++] = (uint32_t)v;
        isd[v] = na_graph_degree(g, (uint32_t)v) > 0
                     ? 1.0 / sqrt((double)na_graph_degree(g, (uint32_t)v))
                     : 0.0;
    }
    sp->vecbuf = malloc((total + 1) * sizeof(double));
    if (!sp->vecbuf)
        goto out_nomem;
    total = 0;
    for (size_t c = 0; c < sp->n_comp; c++) {
        component comp = {.g = g, .verts = sp->order + sp->start[c],
                          .s = sp->start[c + 1] - sp->start[c], .local = local,
                          .inv_sqrt_deg = isd};
        size_t t = comp.s < ne ? comp.s : ne;
        double vals[EIGENGAP_WINDOW];
        double *valp = vals, *heap_vals = NULL;
        if (t > EIGENGAP_WINDOW) {
            heap_vals = malloc(t * sizeof(double));
            if (!heap_vals)
                goto out_nomem;
            valp = heap_vals;
        }
        rc = component_eigen(&comp, t, valp, sp->vecbuf + total, err);
        for (size_t j = 0; rc == NA_OK && j < t; j++) {
            candidate *cd = &sp->cand[sp->n_cand++];
            /* Clamp rounding noise: L is positive semidefinite. */
            cd->value = valp[j] < 0.0 ? 0.0 : valp[j];
            cd->comp = c;
            cd->rank = j;
            cd->vec_off = total + j * comp.s;
        }
        free(heap_vals);
        if (rc)
            goto out_arrays;
        total += t * comp.s;
    }
    qsort(sp->cand, sp->n_cand, sizeof(*sp->cand), cmp_candidate);
    goto out_arrays;

out_nomem:
    rc = na_error_set(err, NA_ENOMEM, "out of memory in spectral clustering");
out_arrays:
    free(fill);
    free(local);
    free(isd);
    if (rc)
        spectrum_free(sp);
out_csize:
    igraph_vector_int_destroy(&csize);
out_memb:
    igraph_vector_int_destroy(&memb);
    return rc;
}

/* The embedding of the k smallest eigenvectors, rows normalised to unit length. */
static double *embedding(const spectrum *sp, size_t n, size_t k)
{
    double *x = calloc(n * k + 1, sizeof(double));

    if (!x)
        return NULL;
    for (size_t j = 0; j < k; j++) {
        const candidate *cd = &sp->cand[j];
        const uint32_t *verts = sp->order + sp->start[cd->comp];
        size_t s = sp->start[cd->comp + 1] - sp->start[cd->comp];
        for (size_t i = 0; i < s; i++)
            x[(size_t)verts[i] * k + j] = sp->vecbuf[cd->vec_off + i];
    }
    for (size_t v = 0; v < n; v++) {
        double norm = 0.0;
        for (size_t j = 0; j < k; j++)
            norm += x[v * k + j] * x[v * k + j];
        norm = sqrt(norm);
        if (norm > 0.0)
            for (size_t j = 0; j < k; j++)
                x[v * k + j] /= norm;
    }
    return x;
}

/*
 * The caller owns out's arrays (na_spectral_free). Cost: the eigensolves (O(s^3) per dense
 * component, ARPACK iterations of O(m) each otherwise) plus k-means,
 * O(restarts * iterations * n * k^2).
 */
int na_spectral_cluster(const na_graph *g, size_t k, uint64_t seed, na_spectral *out,
                        na_error *err)
{
    spectrum sp;
    size_t n = g->n, window, ne;
    uint32_t *assign = NULL, *renum = NULL;
    double *x = NULL;
    int rc;

    na__igraph_setup();
    memset(out, 0, sizeof(*out));
    out->n = n;
    out->k_from_eigengap = k == 0;
    out->membership = calloc(n + 1, sizeof(*out->membership));
    if (!out->membership)
        return na_error_set(err, NA_ENOMEM, "out of memory in spectral clustering");
    if (n == 0) {
        out->eigenvalues = calloc(1, sizeof(double));
        if (!out->eigenvalues) {
            na_spectral_free(out);
            return na_error_set(err, NA_ENOMEM, "out of memory in spectral clustering");
        }
        return NA_OK;
    }
    if (k > n)
        k = n;
    window = n < EIGENGAP_WINDOW ? n : EIGENGAP_WINDOW;
    ne = k > window ? k : window;

    /* ARPACK's random start vector comes from igraph's RNG. */
    na__igraph_seed(seed);
    rc = spectrum_compute(g, ne, &sp, err);
    if (rc)
        goto out_result;
    out->n_eigenvalues = ne;
    out->eigenvalues = malloc(ne * sizeof(double));
    if (!out->eigenvalues) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory in spectral clustering");
        goto out_spectrum;
    }
    for (size_t j = 0; j < ne; j++)
        out->eigenvalues[j] = sp.cand[j].value;
    if (k == 0)
        k = eigengap_k(out->eigenvalues, window);

    x = embedding(&sp, n, k);
    assign = malloc(n * sizeof(*assign));
    renum = malloc(k * sizeof(*renum));
    if (!x || !assign || !renum) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory in spectral clustering");
        goto out_buffers;
    }
    rc = kmeans(x, n, k, k, seed, assign, err);
    if (rc)
        goto out_buffers;
    /* Number clusters by smallest member; empty clusters drop out, so k may shrink. */
    for (size_t c = 0; c < k; c++)
        renum[c] = UINT32_MAX;
    out->k = 0;
    for (size_t v = 0; v < n; v++) {
        if (renum[assign[v]] == UINT32_MAX)
            renum[assign[v]] = (uint32_t)out->k++;
        out->membership[v] = renum[assign[v]];
    }
out_buffers:
    free(x);
    free(assign);
    free(renum);
out_spectrum:
    spectrum_free(&sp);
out_result:
    if (rc)
        na_spectral_free(out);
    return rc;
}
