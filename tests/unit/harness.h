/*
 * harness.h: shared bits for the cmocka unit tests.
 */
#ifndef NA_TEST_HARNESS_H
#define NA_TEST_HARNESS_H

#include <stddef.h>

#include "netassure/graph.h"
#include "netassure/topology.h"

/* $NETASSURE_SOURCE_DIR (set by CTest) or "." */
const char *test_source_dir(void);
/* $NETASSURE_SHARED_DATA/<sub> if that exists, else NULL (the caller skips visibly). */
const char *test_shared_data(const char *sub, char *buf, size_t len);
/* Prints "SKIP: why" to stderr and exits 77 (CTest's SKIP_RETURN_CODE). */
void test_skip(const char *why) __attribute__((noreturn));
/* A topology from "a-b,b-c,..." (node ids are the names). Aborts the test on error. */
na_topology *test_topology_from_edges(const char *spec);
/* A graph from n and "0-1,1-2,...". */
na_graph *test_graph_from_edges(size_t n, const char *spec);

#endif
