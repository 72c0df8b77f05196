/*
 * netassure/motifs.h: census of connected induced subgraphs of 3 and 4 vertices.
 */
#ifndef NETASSURE_MOTIFS_H
#define NETASSURE_MOTIFS_H

#include <stddef.h>

#include "netassure/common.h"
#include "netassure/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* name like "triangle", "path", "star", "cycle", "paw", "diamond", "clique" */
typedef struct na_motif_class { const char *name; double count; } na_motif_class;

typedef struct na_motifs {
    na_motif_class size3[2];    /* connected undirected classes of size 3: path (open triad), triangle */
    na_motif_class size4[6];    /* connected classes of size 4: star, path, paw (triangle + tail), cycle, diamond, clique */
} na_motifs;

/*
 * Counts the induced copies of each connected class of 3 and 4 vertices in g (igraph's RAND-ESU
 * without sampling, so exact). *out holds only static names and counts; nothing to free.
 */
int na_motifs_census(const na_graph *g, na_motifs *out, na_error *err);

#ifdef __cplusplus
}
#endif
#endif
