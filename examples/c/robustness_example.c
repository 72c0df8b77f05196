/*
 * robustness_example.c: using libnetassure from C.
 *
 * Loads a topology, ranks nodes by importance (efficiency lost when the node is removed), then
 * takes the most important node down with a delta and shows how the next snapshot version's
 * efficiency compares. Build: part of the CMake build (target `robustness_example`).
 *
 *   ./build/robustness_example examples/clos-fabric.json
 */
#include <stdio.h>
#include <stdlib.h>

#include "netassure/graph.h"
#include "netassure/io.h"
#include "netassure/robustness.h"
#include "netassure/topology.h"

static int rank_nodes(const na_topology *topo, size_t *best, double *efficiency)
{
    na_graph *g = NULL;
    na_robustness rob = {0};
    na_error err;
    int rc;

    na_error_clear(&err);
    rc = na_graph_from_topology(topo, &g, &err);
    if (rc)
        goto out;
    rc = na_robustness_compute(g, NULL, &rob, &err);
    if (rc)
        goto out;
    *best = 0;
    for (size_t v = 1; v < rob.n; v++) {
        if (rob.importance[v] > rob.importance[*best])
            *best = v;
    }
    *efficiency = rob.efficiency;
    printf("version %llu: %zu nodes, global efficiency %.6f; most important: %s "
           "(importance %.6f, %.2f%% of the efficiency)\n",
           (unsigned long long)na_topology_version(topo), rob.n, rob.efficiency,
           rob.n ? na_topology_node(topo, *best)->id : "-", rob.n ? rob.importance[*best] : 0.0,
           rob.n ? 100.0 * rob.relative_loss[*best] : 0.0);
out:
    if (rc) {
        char buf[768];
        fprintf(stderr, "error: %s\n", na_error_format(&err, buf, sizeof(buf)));
    }
    na_robustness_free(&rob);
    na_graph_free(g);
    return rc;
}

int main(int argc, char **argv)
{
    na_topology *v1 = NULL, *v2 = NULL;
    na_delta *delta = NULL;
    na_delta_op op;
    na_error err;
    size_t best = 0;
    double e1 = 0, e2 = 0;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s TOPOLOGY_FILE\n", argv[0]);
        return 2;
    }
    na_error_clear(&err);
    rc = na_import_file(argv[1], NA_FORMAT_AUTO, &v1, NULL, &err);
    if (rc)
        goto out;
    rc = rank_nodes(v1, &best, &e1);
    if (rc || na_topology_node_count(v1) == 0)
        goto out;

    /* A delta: the most important node goes down. v1 stays valid and unchanged. */
    delta = na_delta_new();
    if (!delta) {
        rc = NA_ENOMEM;
        goto out;
    }
    na_node_init(&op.node);
    na_link_init(&op.link);
    op.kind = NA_DELTA_NODE_UPDATE;
    op.fields = NA_FIELD_STATUS;
    op.node.id = na_topology_node(v1, best)->id;
    op.node.status = NA_STATUS_DOWN;
    rc = na_delta_append(delta, &op);
    if (rc)
        goto out;
    rc = na_topology_apply_delta(v1, delta, &v2, &err);
    if (rc)
        goto out;
    printf("after %s goes down:\n", op.node.id);
    rc = rank_nodes(v2, &best, &e2);
    if (rc == 0)
        printf("efficiency %.6f -> %.6f (the down node stays as an isolated vertex)\n", e1, e2);
out:
    if (rc && err.code) {
        char buf[768];
        fprintf(stderr, "error: %s\n", na_error_format(&err, buf, sizeof(buf)));
    }
    na_delta_free(delta);
    na_topology_unref(v1);
    na_topology_unref(v2);
    return rc ? 1 : 0;
}
