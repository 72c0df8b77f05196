/*
 * whatif.c: failure sets (parsing --fail specs) and the what-if comparison of a graph before
 * and after a failure. Distances come from our own BFS over the CSR adjacency: one BFS per
 * source on the intact graph and one on the damaged graph, compared side by side, gives
 * pairs, efficiency, stretch and role reachability in a single O(n (n + m)) pass.
 */
#include "netassure/whatif.h"

#include <stdlib.h>
#include <string.h>

#include "analytics/graph_internal.h"

/* A --fail argument longer than this is not an id anyone typed. */
#define SPEC_MAX 4096
/* Role loss has roles^2 entries; beyond this many roles the table says nothing useful. */
#define ROLES_MAX 1024
#define UNREACHED UINT32_MAX

static int set_add_vertex(na_failure_set *set, uint32_t v, na_error *err)
{
    uint32_t *grown;

    for (size_t i = 0; i < set->n_vertices; i++)
        if (set->vertices[i] == v)
            return NA_OK;
    grown = realloc(set->vertices, (set->n_vertices + 1) * sizeof(*grown));
    if (!grown)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    grown[set->n_vertices++] = v;
    set->vertices = grown;
    return NA_OK;
}

static int set_add_edge(na_failure_set *set, size_t e, na_error *err)
{
    size_t *grown;

    for (size_t i = 0; i < set->n_edges; i++)
        if (set->edges[i] == e)
            return NA_OK;
    grown = realloc(set->edges, (set->n_edges + 1) * sizeof(*grown));
    if (!grown)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    grown[set->n_edges++] = e;
    set->edges = grown;
    return NA_OK;
}

/* Strict decimal vertex index (no sign, no spaces) below n. */
static bool parse_index(const char *s, size_t len, size_t n, uint32_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 10)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v >= n)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Node index for the id spec[0..len), which is not NUL-terminated. */
static int find_node_n(const na_topology *topo, const char *s, size_t len, uint32_t *out,
                       na_error *err)
{
    char *id = malloc(len + 1);
    size_t index;
    int rc;

    if (!id)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    memcpy(id, s, len);
    id[len] = '\0';
    rc = na_topology_find_node(topo, id, &index);
    free(id);
    if (rc == NA_OK)
        *out = (uint32_t)index;
    return rc;
}

/* Whether the topology has a link between nodes u and v (down links included). */
static bool topology_has_link(const na_topology *topo, size_t u, size_t v)
{
    size_t nl = na_topology_link_count(topo);

    for (size_t i = 0; i < nl; i++) {
        const na_link *l = na_topology_link(topo, i);
        if ((l->source_index == u && l->target_index == v) ||
            (l->source_index == v && l->target_index == u))
            return true;
    }
    return false;
}

int na_failure_set_add(na_failure_set *set, const na_graph *g, const char *spec, na_error *err)
{
    const na_topology *topo = na_graph_topology(g);
    size_t len = spec ? strnlen(spec, SPEC_MAX + 1) : 0, index, e;
    bool absent_link = false;
    uint32_t u = 0, v = 0;
    int rc;

    if (len == 0)
        return na_error_set(err, NA_EINVAL, "empty failure spec");
    if (len > SPEC_MAX)
        return na_error_set(err, NA_ETOOBIG, "failure spec longer than %d bytes", SPEC_MAX);

    if (topo) {
        if (na_topology_find_node(topo, spec, &index) == NA_OK)
            return set_add_vertex(set, (uint32_t)index, err);
        if (na_topology_find_link(topo, spec, &index) == NA_OK) {
            const na_link *l = na_topology_link(topo, index);
            if (na_graph_find_edge(g, (uint32_t)l->source_index, (uint32_t)l->target_index,
                                   &e) == NA_OK)
                return set_add_edge(set, e, err);
            na_log(NA_LOG_INFO, "link '%s' is not in the analytics graph (down or a loop): "
                   "nothing to fail", spec);
            return NA_OK;
        }
    } else if (parse_index(spec, len, g->n, &u)) {
        return set_add_vertex(set, u, err);
    }

    for (const char *dash = memchr(spec, '-', len); dash;
         dash = memchr(dash + 1, '-', len - (size_t)(dash + 1 - spec))) {
        const char *right = dash + 1;
        size_t left_len = (size_t)(dash - spec), right_len = len - left_len - 1;
        if (topo) {
            rc = find_node_n(topo, spec, left_len, &u, err);
            if (rc == NA_OK)
                rc = find_node_n(topo, right, right_len, &v, err);
            if (rc == NA_ENOMEM)
                return rc;
            if (rc != NA_OK)
                continue;
        } else if (!parse_index(spec, left_len, g->n, &u) ||
                   !parse_index(right, right_len, g->n, &v)) {
            continue;
        }
        if (u != v && na_graph_find_edge(g, u, v, &e) == NA_OK)
            return set_add_edge(set, e, err);
        if (topo && topology_has_link(topo, u, v))
            absent_link = true;
    }
    if (absent_link) {
        na_log(NA_LOG_INFO, "the link '%s' is not in the analytics graph (down): nothing to fail",
               spec);
        return NA_OK;
    }
    return na_error_set(err, NA_ENOTFOUND,
                        topo ? "'%s' is not a node id, a link id, or 'A-B' with nodes A and B "
                               "joined by a link"
                             : "'%s' is not a vertex index or 'U-V' with vertices U and V joined "
                               "by an edge",
                        spec);
}

void na_failure_set_free(na_failure_set *set)
{
    if (!set)
        return;
    free(set->vertices);
    free(set->edges);
    memset(set, 0, sizeof(*set));
}

/* BFS from s over g's CSR; dist[] must hold UNREACHED everywhere on entry. Returns how many
 * vertices were reached (s included); their order is queue[0 .. count). */
static size_t bfs(const na_graph *g, uint32_t s, uint32_t *dist, uint32_t *queue)
{
    size_t head = 0, tail = 0;

    dist[s] = 0;
    queue[tail++] = s;
    while (head < tail) {
        uint32_t x = queue[head++];
        for (uint32_t k = g->offsets[x]; k < g->offsets[x + 1]; k++) {
            uint32_t y = g->adj[k];
            if (dist[y] == UNREACHED) {
                dist[y] = dist[x] + 1;
                queue[tail++] = y;
            }
        }
    }
    return tail;
}

static void bfs_reset(uint32_t *dist, const uint32_t *queue, size_t count)
{
    for (size_t i = 0; i < count; i++)
        dist[queue[i]] = UNREACHED;
}

/*
 * Labels the components of g among vertices not flagged in skip (skipped ones get UNREACHED).
 * The giant is the largest; on a tie, the one holding the lowest vertex index.
 */
static void components(const na_graph *g, const bool *skip, uint32_t *label, uint32_t *queue,
                       size_t *count, size_t *giant_size, uint32_t *giant_label)
{
    size_t c = 0, best = 0;
    uint32_t best_label = UNREACHED;

    for (size_t v = 0; v < g->n; v++)
        label[v] = UNREACHED;
    for (size_t s = 0; s < g->n; s++) {
        size_t head = 0, tail = 0;
        if (label[s] != UNREACHED || (skip && skip[s]))
            continue;
        label[s] = (uint32_t)c;
        queue[tail++] = (uint32_t)s;
        while (head < tail) {
            uint32_t x = queue[head++];
            for (uint32_t k = g->offsets[x]; k < g->offsets[x + 1]; k++) {
                uint32_t y = g->adj[k];
                if (label[y] == UNREACHED) {
                    label[y] = (uint32_t)c;
                    queue[tail++] = y;
                }
            }
        }
        if (tail > best) {
            best = tail;
            best_label = (uint32_t)c;
        }
        c++;
    }
    *count = c;
    *giant_size = best;
    *giant_label = best_label;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The sorted distinct roles of topo in *roles (pointers into topo) and each vertex's role
 * index in role_of (UNREACHED = none). *n_roles = 0 when there are none or too many.
 */
static int collect_roles(const na_topology *topo, size_t n, const char ***roles, size_t *n_roles,
                         uint32_t *role_of, na_error *err)
{
    const char **r = NULL;
    size_t k = 0;

    *roles = NULL;
    *n_roles = 0;
    for (size_t v = 0; v < n; v++)
        role_of[v] = UNREACHED;
    if (!topo || n == 0)
        return NA_OK;
    r = malloc(n * sizeof(*r));
    if (!r)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    for (size_t v = 0; v < n; v++) {
        const char *role = na_topology_node(topo, v)->role;
        if (role)
            r[k++] = role;
    }
    qsort(r, k, sizeof(*r), cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < k; i++)
        if (w == 0 || strcmp(r[w - 1], r[i]) != 0)
            r[w++] = r[i];
    if (w > ROLES_MAX) {
        na_log(NA_LOG_WARN, "what-if: %zu distinct roles (over %d): role loss left empty", w,
               ROLES_MAX);
        free(r);
        return NA_OK;
    }
    for (size_t v = 0; v < n; v++) {
        const char *role = na_topology_node(topo, v)->role;
        const char **hit;
        if (!role)
            continue;
        hit = bsearch(&role, r, w, sizeof(*r), cmp_str);
        role_of[v] = (uint32_t)(hit - r);
    }
    *roles = r;
    *n_roles = w;
    return NA_OK;
}

void na_whatif_result_free(na_whatif_result *r)
{
    if (!r)
        return;
    free(r->role_loss);
    free(r->isolated);
    memset(r, 0, sizeof(*r));
}

int na_whatif_run(const na_graph *g, const na_failure_set *fail, na_whatif_result *out,
                  na_error *err)
{
    size_t n = g->n, n_alive, n_outside = 0, reached_g, reached_h;
    size_t stretch_pairs = 0, n_roles = 0;
    bool *failed_v = NULL, *failed_e = NULL;
    uint32_t *dist_g = NULL, *dist_h = NULL, *queue_g = NULL, *queue_h = NULL, *label = NULL;
    uint32_t *role_of = NULL, *seen_before = NULL, *seen_after = NULL, giant_label;
    const char **roles = NULL;
    double eff_before = 0.0, eff_after = 0.0, stretch_sum = 0.0;
    na_graph *h = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    failed_v = calloc(n + 1, sizeof(bool));
    failed_e = calloc(g->m + 1, sizeof(bool));
    if (!failed_v || !failed_e) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out_free;
    }
    for (size_t i = 0; fail && i < fail->n_vertices; i++) {
        if (fail->vertices[i] >= n) {
            rc = na_error_set(err, NA_EINVAL, "failed vertex %u out of range (n = %zu)",
                              (unsigned)fail->vertices[i], n);
            goto out_free;
        }
        failed_v[fail->vertices[i]] = true;
    }
    for (size_t i = 0; fail && i < fail->n_edges; i++) {
        if (fail->edges[i] >= g->m) {
            rc = na_error_set(err, NA_EINVAL, "failed edge %zu out of range (m = %zu)",
                              fail->edges[i], g->m);
            goto out_free;
        }
        failed_e[fail->edges[i]] = true;
    }
    n_alive = n;
    for (size_t v = 0; v < n; v++)
        n_alive -= failed_v[v];

    rc = na_graph_without(g, failed_v, failed_e, &h, err);
    if (rc != NA_OK)
        goto out_free;

    dist_g = malloc((n + 1) * sizeof(uint32_t));
    dist_h = malloc((n + 1) * sizeof(uint32_t));
    queue_g = malloc((n + 1) * sizeof(uint32_t));
    queue_h = malloc((n + 1) * sizeof(uint32_t));
    label = malloc((n + 1) * sizeof(uint32_t));
    role_of = malloc((n + 1) * sizeof(uint32_t));
    if (!dist_g || !dist_h || !queue_g || !queue_h || !label || !role_of) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out_free;
    }

    components(g, NULL, label, queue_g, &out->components_before, &out->giant_before,
               &giant_label);
    components(h, failed_v, label, queue_g, &out->components_after, &out->giant_after,
               &giant_label);
    for (size_t v = 0; v < n; v++)
        if (!failed_v[v] && label[v] != giant_label)
            n_outside++;
    if (n_outside > 0) {
        out->isolated = malloc(n_outside * sizeof(uint32_t));
        if (!out->isolated) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out_free;
        }
        for (size_t v = 0; v < n; v++)
            if (!failed_v[v] && label[v] != giant_label)
                out->isolated[out->n_isolated++] = (uint32_t)v;
    }

    rc = collect_roles(na_graph_topology(g), n, &roles, &n_roles, role_of, err);
    if (rc != NA_OK)
        goto out_free;
    if (n_roles > 0) {
        out->role_loss = calloc(n_roles * n_roles, sizeof(*out->role_loss));
        /* Stamps (source index + 1) instead of flags, so nothing is cleared per source. */
        seen_before = calloc(n_roles, sizeof(uint32_t));
        seen_after = calloc(n_roles, sizeof(uint32_t));
        if (!out->role_loss || !seen_before || !seen_after) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out_free;
        }
        out->n_role_loss = n_roles * n_roles;
        for (size_t i = 0; i < n_roles; i++) {
            for (size_t j = 0; j < n_roles; j++) {
                out->role_loss[i * n_roles + j].from_role = roles[i];
                out->role_loss[i * n_roles + j].to_role = roles[j];
            }
        }
    }

    for (size_t v = 0; v < n; v++)
        dist_g[v] = dist_h[v] = UNREACHED;
    for (size_t s = 0; s < n; s++) {
        uint32_t stamp = (uint32_t)s + 1, rs = role_of[s];
        reached_g = bfs(g, (uint32_t)s, dist_g, queue_g);
        /* Efficiency before is over all n vertices, failed ones included. */
        for (size_t i = 1; i < reached_g; i++)
            eff_before += 1.0 / dist_g[queue_g[i]];
        if (failed_v[s]) {
            bfs_reset(dist_g, queue_g, reached_g);
            continue;
        }
        reached_h = bfs(h, (uint32_t)s, dist_h, queue_h);
        for (size_t i = 1; i < reached_h; i++)
            eff_after += 1.0 / dist_h[queue_h[i]];
        for (size_t i = 1; i < reached_g; i++) {
            uint32_t t = queue_g[i];
            if (rs != UNREACHED && role_of[t] != UNREACHED)
                seen_before[role_of[t]] = stamp;
            /* Each unordered pair once: from its lower end. */
            if (t < s || failed_v[t])
                continue;
            out->pairs_connected_before++;
            if (dist_h[t] == UNREACHED) {
                out->pairs_disconnected++;
                continue;
            }
            stretch_sum += (double)dist_h[t] / dist_g[t];
            stretch_pairs++;
            if (dist_h[t] > dist_g[t])
                out->pairs_stretched++;
        }
        if (rs != UNREACHED) {
            for (size_t i = 1; i < reached_h; i++)
                if (role_of[queue_h[i]] != UNREACHED)
                    seen_after[role_of[queue_h[i]]] = stamp;
            for (size_t j = 0; j < n_roles; j++) {
                na_role_loss *rl = &out->role_loss[rs * n_roles + j];
                if (seen_before[j] != stamp)
                    continue;
                rl->nodes_total++;
                if (seen_after[j] != stamp)
                    rl->nodes_cut_off++;
            }
        }
        bfs_reset(dist_g, queue_g, reached_g);
        bfs_reset(dist_h, queue_h, reached_h);
    }
    out->efficiency_before = n > 1 ? eff_before / ((double)n * (double)(n - 1)) : 0.0;
    out->efficiency_after =
        n_alive > 1 ? eff_after / ((double)n_alive * (double)(n_alive - 1)) : 0.0;
    out->avg_stretch = stretch_pairs > 0 ? stretch_sum / (double)stretch_pairs : 1.0;
    rc = NA_OK;

out_free:
    if (rc != NA_OK)
        na_whatif_result_free(out);
    na_graph_free(h);
    free(failed_v);
    free(failed_e);
    free(dist_g);
    free(dist_h);
    free(queue_g);
    free(queue_h);
    free(label);
    free(role_of);
    free(roles);
    free(seen_before);
    free(seen_after);
    return rc;
}
