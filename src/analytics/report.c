/*
 * report.c: the analytics of one snapshot run together, and the JSON documents of docs/cli.md
 * that the CLI and the daemon's API both print.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netassure/report.h"

static const struct {
    const char *name;
    unsigned bit;
} kind_table[] = {
    {"centrality", NA_ANALYSIS_CENTRALITY}, {"structure", NA_ANALYSIS_STRUCTURE},
    {"communities", NA_ANALYSIS_COMMUNITIES}, {"spectral", NA_ANALYSIS_SPECTRAL},
    {"motifs", NA_ANALYSIS_MOTIFS},         {"clusters", NA_ANALYSIS_CLUSTERS},
    {"robustness", NA_ANALYSIS_ROBUSTNESS}, {"all", NA_ANALYSIS_ALL},
};

const char *na_analysis_kind_name(unsigned kind)
{
    for (size_t i = 0; i + 1 < sizeof(kind_table) / sizeof(kind_table[0]); i++)
        if (kind_table[i].bit == kind)
            return kind_table[i].name;
    return NULL;
}

unsigned na_analysis_kind_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(kind_table) / sizeof(kind_table[0]); i++)
        if (strcmp(kind_table[i].name, name) == 0)
            return kind_table[i].bit;
    return 0;
}

json_t *na_json_real(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

json_t *na_json_str(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;

    /* jansson refuses invalid UTF-8 (NULL): null then, never a missing member */
    return j ? j : json_null();
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Runs what was asked (and what it needs); NA_OK or the first error. */
static int run_kinds(na_analysis *a, const na_analysis_opts *o, na_error *err)
{
    struct timespec t0;
    int rc = NA_OK;

    if (a->kinds & NA_ANALYSIS_CLUSTERS)
        a->kinds |= NA_ANALYSIS_STRUCTURE | NA_ANALYSIS_COMMUNITIES;
    double resolution = o->resolution > 0 ? o->resolution : 1.0;
    uint64_t seed = o->seed;
#define TIMED(name, bit, call)                                                                   \
    do {                                                                                    \
        clock_gettime(CLOCK_MONOTONIC, &t0);                                                \
        rc = (call);                                                                        \
        if (rc)                                                                             \
            return rc;                                                                      \
        a->seconds[bit] += seconds_since(&t0);                                             \
        na_log(NA_LOG_DEBUG, "%s: %.3f s", name, seconds_since(&t0));                       \
    } while (0)
    if (a->kinds & NA_ANALYSIS_CENTRALITY)
        TIMED("centrality", 0, na_centrality_compute(a->g, &a->cent, err));
    if (a->kinds & NA_ANALYSIS_STRUCTURE)
        TIMED("structure", 1, na_structure_compute(a->g, &a->st, err));
    if (a->kinds & NA_ANALYSIS_COMMUNITIES) {
        TIMED("leiden", 2, na_communities_detect(a->g, NA_COMMUNITY_LEIDEN, resolution, seed,
                                              &a->leiden, err));
        TIMED("louvain", 2, na_communities_detect(a->g, NA_COMMUNITY_LOUVAIN, resolution, seed,
                                               &a->louvain, err));
    }
    if (a->kinds & NA_ANALYSIS_SPECTRAL)
        TIMED("spectral", 3, na_spectral_cluster(a->g, o->k, seed, &a->spec, err));
    if (a->kinds & NA_ANALYSIS_MOTIFS)
        TIMED("motifs", 4, na_motifs_census(a->g, &a->motifs, err));
    if (a->kinds & NA_ANALYSIS_CLUSTERS)
        TIMED("clusters", 5, na_clusters_compute(a->g, &a->st, &a->leiden, &a->clusters, err));
    if (a->kinds & NA_ANALYSIS_ROBUSTNESS) {
        na_robustness_opts ro = {.threads = o->threads, .progress = o->progress,
                                 .progress_ctx = o->progress_ctx};
        TIMED("robustness", 6, na_robustness_compute(a->g, &ro, &a->rob, err));
    }
#undef TIMED
    return rc;
}

int na_analysis_run(na_topology *topo, const na_analysis_opts *opts, na_analysis *out,
                    na_error *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    out->kinds = opts->kinds;
    out->topo = na_topology_ref(topo);
    rc = na_graph_from_topology(topo, &out->g, err);
    if (rc == NA_OK)
        rc = run_kinds(out, opts, err);
    if (rc)
        na_analysis_free(out);
    return rc;
}

void na_analysis_free(na_analysis *a)
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
    memset(a, 0, sizeof(*a));
}

static const char *vid(const na_analysis *a, uint32_t v)
{
    return na_topology_node(a->topo, v)->id;
}

static json_t *json_members(const na_analysis *a, const uint32_t *m, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(vid(a, m[i])));
    return arr;
}

static json_t *json_communities(const na_communities *c)
{
    return json_pack("{s:s, s:I, s:o}", "method", na_community_method_name(c->method),
                     "count", (json_int_t)c->count, "modularity", na_json_real(c->modularity));
}

json_t *na_analysis_json(const na_analysis *a, unsigned kinds, const char *file)
{
    size_t n = na_graph_vertex_count(a->g);
    json_t *doc = json_object(), *nodes = json_array();

    kinds &= a->kinds;
    json_object_set_new(doc, "topology",
                        json_pack("{s:o, s:o, s:I, s:I, s:I, s:I}", "file", na_json_str(file), "name",
                                  na_json_str(na_topology_name(a->topo)), "version",
                                  (json_int_t)na_topology_version(a->topo), "nodes",
                                  (json_int_t)na_topology_node_count(a->topo), "links",
                                  (json_int_t)na_topology_link_count(a->topo), "graph_edges",
                                  (json_int_t)na_graph_edge_count(a->g)));
    for (size_t v = 0; v < n; v++) {
        const na_node *nd = na_topology_node(a->topo, v);
        json_t *o = json_pack("{s:s, s:o, s:o}", "id", nd->id, "label", na_json_str(nd->label),
                              "role", na_json_str(nd->role));
        if (kinds & NA_ANALYSIS_CENTRALITY) {
            json_object_set_new(o, "degree", json_integer(a->cent.degree[v]));
            json_object_set_new(o, "betweenness", na_json_real(a->cent.betweenness[v]));
            json_object_set_new(o, "closeness", na_json_real(a->cent.closeness[v]));
            json_object_set_new(o, "pagerank", na_json_real(a->cent.pagerank[v]));
            json_object_set_new(o, "eigenvector", na_json_real(a->cent.eigenvector[v]));
        }
        if (kinds & NA_ANALYSIS_STRUCTURE) {
            json_object_set_new(o, "articulation_point", json_boolean(a->st.articulation[v]));
            json_object_set_new(o, "coreness", json_integer(a->st.coreness[v]));
            json_object_set_new(o, "component", json_integer(a->st.component[v]));
        }
        if (kinds & NA_ANALYSIS_COMMUNITIES) {
            json_object_set_new(o, "community", json_integer(a->leiden.membership[v]));
            json_object_set_new(o, "community_louvain", json_integer(a->louvain.membership[v]));
        }
        if (kinds & NA_ANALYSIS_SPECTRAL)
            json_object_set_new(o, "spectral_cluster", json_integer(a->spec.membership[v]));
        if (kinds & NA_ANALYSIS_ROBUSTNESS) {
            json_object_set_new(o, "redundancy", json_integer(a->rob.redundancy[v]));
            json_object_set_new(o, "importance", na_json_real(a->rob.importance[v]));
            json_object_set_new(o, "relative_loss", na_json_real(a->rob.relative_loss[v]));
        }
        json_array_append_new(nodes, o);
    }
    json_object_set_new(doc, "nodes", nodes);
    if (kinds & NA_ANALYSIS_STRUCTURE) {
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
    if (kinds & NA_ANALYSIS_COMMUNITIES)
        json_object_set_new(doc, "communities",
                            json_pack("{s:o, s:o}", "leiden", json_communities(&a->leiden),
                                      "louvain", json_communities(&a->louvain)));
    if (kinds & NA_ANALYSIS_SPECTRAL) {
        json_t *ev = json_array();
        for (size_t i = 0; i < a->spec.n_eigenvalues; i++)
            json_array_append_new(ev, na_json_real(a->spec.eigenvalues[i]));
        json_object_set_new(doc, "spectral",
                            json_pack("{s:I, s:b, s:o}", "k", (json_int_t)a->spec.k,
                                      "k_from_eigengap", a->spec.k_from_eigengap, "eigenvalues",
                                      ev));
    }
    if (kinds & NA_ANALYSIS_MOTIFS) {
        json_t *m3 = json_object(), *m4 = json_object();
        for (size_t i = 0; i < sizeof(a->motifs.size3) / sizeof(a->motifs.size3[0]); i++)
            json_object_set_new(m3, a->motifs.size3[i].name, na_json_real(a->motifs.size3[i].count));
        for (size_t i = 0; i < sizeof(a->motifs.size4) / sizeof(a->motifs.size4[0]); i++)
            json_object_set_new(m4, a->motifs.size4[i].name, na_json_real(a->motifs.size4[i].count));
        json_object_set_new(doc, "motifs", json_pack("{s:o, s:o}", "size3", m3, "size4", m4));
    }
    if (kinds & NA_ANALYSIS_CLUSTERS) {
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
    if (kinds & NA_ANALYSIS_ROBUSTNESS)
        json_object_set_new(doc, "efficiency", na_json_real(a->rob.efficiency));
    return doc;
}

static const char *vname(const na_graph *g, uint32_t v)
{
    return na_topology_node(na_graph_topology(g), v)->id;
}

static json_t *json_vertices(const na_graph *g, const uint32_t *vs, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(vname(g, vs[i])));
    return arr;
}

static json_t *json_failures(const na_graph *g, const na_failure_set *set)
{
    json_t *links = json_array();

    for (size_t i = 0; i < set->n_edges; i++) {
        uint32_t u, v;
        na_graph_edge(g, set->edges[i], &u, &v);
        json_array_append_new(links, json_pack("{s:s, s:s}", "source", vname(g, u), "target",
                                               vname(g, v)));
    }
    return json_pack("{s:o, s:o}", "nodes", json_vertices(g, set->vertices, set->n_vertices),
                     "links", links);
}

json_t *na_whatif_json(const na_graph *g, const na_failure_set *set, const na_whatif_result *r)
{
        json_t *roles = json_array();
        for (size_t i = 0; i < r->n_role_loss; i++)
            json_array_append_new(
                roles, json_pack("{s:s, s:s, s:I, s:I}", "from_role", r->role_loss[i].from_role,
                                 "to_role", r->role_loss[i].to_role, "nodes_cut_off",
                                 (json_int_t)r->role_loss[i].nodes_cut_off, "nodes_total",
                                 (json_int_t)r->role_loss[i].nodes_total));
    return json_pack(
            "{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:o, s:o}", "failed",
            json_failures(g, set), "components_before", (json_int_t)r->components_before,
            "components_after", (json_int_t)r->components_after, "giant_before",
            (json_int_t)r->giant_before, "giant_after", (json_int_t)r->giant_after,
            "pairs_connected_before", (json_int_t)r->pairs_connected_before,
            "pairs_disconnected", (json_int_t)r->pairs_disconnected, "efficiency_before",
            na_json_real(r->efficiency_before), "efficiency_after",
            na_json_real(r->efficiency_after), "efficiency_change",
            na_json_real(r->efficiency_after - r->efficiency_before), "avg_stretch",
            na_json_real(r->avg_stretch), "pairs_stretched", (json_int_t)r->pairs_stretched,
            "reachability_lost_by_role", roles, "cut_off_from_giant",
            json_vertices(g, r->isolated, r->n_isolated));
}

json_t *na_cascade_json(const na_graph *g, const na_failure_set *set, const na_cascade_result *r)
{
        json_t *steps = json_array();
        for (size_t i = 0; i < r->n_steps; i++)
            json_array_append_new(
                steps, json_pack("{s:I, s:o, s:I}", "step", (json_int_t)i, "failed",
                                 json_vertices(g, r->steps[i].failed, r->steps[i].n_failed),
                                 "giant", (json_int_t)r->steps[i].giant));
    return json_pack(
            "{s:o, s:o, s:o, s:I, s:I, s:I, s:o}", "initial", json_failures(g, set), "alpha",
            na_json_real(r->alpha), "steps", steps, "total_failed",
            (json_int_t)r->total_failed, "giant_before", (json_int_t)r->giant_before,
            "giant_after", (json_int_t)r->giant_after, "giant_fraction",
            na_json_real(r->giant_fraction));
}

static const char *const kind_names[] = {"added", "removed", "changed"};

json_t *na_diff_json(const na_diff_result *r, const char *a, const char *b)
{
    json_t *items = json_array();

    for (size_t i = 0; i < r->count; i++) {
        const na_diff_item *it = &r->items[i];
        json_t *o = json_pack("{s:s, s:s, s:s}", "kind", kind_names[it->kind], "object",
                              it->is_link ? "link" : "node", "id", it->id);
        if (it->kind == NA_DIFF_CHANGED) {
            json_t *ch = json_array();
            for (size_t j = 0; j < it->n_changes; j++)
                json_array_append_new(ch, json_pack("{s:s, s:s, s:s}", "field",
                                                    it->changes[j].field, "before",
                                                    it->changes[j].before, "after",
                                                    it->changes[j].after));
            json_object_set_new(o, "changes", ch);
        }
        json_array_append_new(items, o);
    }
    return json_pack("{s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:o}", "from", a, "to", b,
                     "summary", "nodes_added", (json_int_t)r->nodes_added, "nodes_removed",
                     (json_int_t)r->nodes_removed, "nodes_changed", (json_int_t)r->nodes_changed,
                     "links_added", (json_int_t)r->links_added, "links_removed",
                     (json_int_t)r->links_removed, "links_changed", (json_int_t)r->links_changed,
                     "items", items);
}

