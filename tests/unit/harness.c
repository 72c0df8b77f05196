/* test_helpers.c: see harness.h. */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <cmocka.h>

const char *test_source_dir(void)
{
    const char *d = getenv("NETASSURE_SOURCE_DIR");
    return d && d[0] ? d : ".";
}

int test_free_port(int socktype)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, socktype, 0), port;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

const char *test_shared_data(const char *sub, char *buf, size_t len)
{
    const char *d = getenv("NETASSURE_SHARED_DATA");
    struct stat st;

    if (!d || !d[0])
        d = "../shared/data";
    snprintf(buf, len, "%s/%s", d, sub);
    return stat(buf, &st) == 0 ? buf : NULL;
}

void test_skip(const char *why)
{
    fprintf(stderr, "SKIP: %s\n", why);
    exit(77);
}

na_topology *test_topology_from_edges(const char *spec)
{
    na_builder *b = na_builder_new();
    char *copy = strdup(spec), *save = NULL;
    na_topology *t = NULL;

    assert_non_null(b);
    assert_non_null(copy);
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(tok, '-');
        na_node n;
        na_link l;
        na_node_init(&n);
        na_link_init(&l);
        if (dash)
            *dash = '\0';
        n.id = tok;
        if (!na_builder_find_node(b, tok))
            assert_int_equal(na_builder_add_node(b, &n, NULL), 0);
        if (!dash)
            continue;
        n.id = dash + 1;
        if (!na_builder_find_node(b, dash + 1))
            assert_int_equal(na_builder_add_node(b, &n, NULL), 0);
        l.source = tok;
        l.target = dash + 1;
        assert_int_equal(na_builder_add_link(b, &l, NULL, NULL), 0);
    }
    free(copy);
    assert_int_equal(na_builder_finish(b, &t, NULL), 0);
    return t;
}

na_graph *test_graph_from_edges(size_t n, const char *spec)
{
    uint32_t edges[2048];
    size_t m = 0;
    const char *p = spec;
    na_graph *g = NULL;

    while (*p) {
        char *end;
        unsigned long u = strtoul(p, &end, 10), v;
        assert_true(*end == '-');
        v = strtoul(end + 1, &end, 10);
        assert_true(m < 1024);
        edges[2 * m] = (uint32_t)u;
        edges[2 * m + 1] = (uint32_t)v;
        m++;
        p = *end == ',' ? end + 1 : end;
    }
    assert_int_equal(na_graph_from_edges(n, edges, m, &g, NULL), 0);
    return g;
}

const na_node *test_node(const na_topology *t, const char *id)
{
    size_t i;

    if (na_topology_find_node(t, id, &i) != 0)
        fail_msg("no node '%s'", id);
    return na_topology_node(t, i);
}

const na_link *test_link(const na_topology *t, const char *id)
{
    size_t i;

    if (na_topology_find_link(t, id, &i) != 0)
        fail_msg("no link '%s'", id);
    return na_topology_link(t, i);
}

void test_assert_near(double got, double want)
{
    if (!(fabs(got - want) <= 1e-9 * fmax(1.0, fabs(want))))
        fail_msg("got %.17g, want %.17g", got, want);
}

bool test_report_has(const na_import_report *rep, const char *needle)
{
    for (size_t i = 0; i < rep->n_messages; i++) {
        if (strstr(rep->messages[i], needle))
            return true;
    }
    return false;
}

void test_print_report(const na_import_report *rep)
{
    for (size_t i = 0; i < rep->n_messages; i++)
        print_message("  report: %s\n", rep->messages[i]);
}
