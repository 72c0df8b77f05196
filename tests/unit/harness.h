/*
 * harness.h: shared bits for the cmocka unit tests.
 */
#ifndef NA_TEST_HARNESS_H
#define NA_TEST_HARNESS_H

#include <stddef.h>

#include <stdbool.h>

#include "netassure/graph.h"
#include "netassure/io.h"
#include "netassure/topology.h"

/* $NETASSURE_SOURCE_DIR (set by CTest) or "." */
const char *test_source_dir(void);
/* $NETASSURE_SHARED_DATA/<sub> if that exists, else NULL (the caller skips visibly). */
const char *test_shared_data(const char *sub, char *buf, size_t len);
/* A loopback port free a moment ago (SOCK_STREAM or SOCK_DGRAM), for a server that starts
 * later or for a port nobody listens on. Fails the test when no socket can be bound. */
int test_free_port(int socktype);
/* Prints "SKIP: why" to stderr and exits 77 (CTest's SKIP_RETURN_CODE). */
void test_skip(const char *why) __attribute__((noreturn));
/* A topology from "a-b,b-c,..." (node ids are the names). Aborts the test on error. */
na_topology *test_topology_from_edges(const char *spec);
/* A graph from n and "0-1,1-2,...". */
na_graph *test_graph_from_edges(size_t n, const char *spec);

/* Node / link by id; fails the test (naming the id) when absent. */
const na_node *test_node(const na_topology *t, const char *id);
const na_link *test_link(const na_topology *t, const char *id);
/* Fails unless |got - want| <= 1e-9 * max(1, |want|), printing both. */
void test_assert_near(double got, double want);
/* Whether any kept report message contains needle; test_print_report lists them. */
bool test_report_has(const na_import_report *rep, const char *needle);
void test_print_report(const na_import_report *rep);

#endif
