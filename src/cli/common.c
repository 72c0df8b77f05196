/* common.c: helpers shared by the subcommands (loading, errors, JSON output). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

int na_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "netassure %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see netassure %s --help)\n", cmd);
    return NA_EXIT_USAGE;
}

int na_cli_fail(const na_error *err)
{
    char buf[1024];

    fprintf(stderr, "netassure: error: %s\n", na_error_format(err, buf, sizeof(buf)));
    return NA_EXIT_ERROR;
}

int na_cli_load(const char *path, na_format fmt, na_topology **out)
{
    na_import_report rep;
    na_error err;
    int rc;

    na_error_clear(&err);
    na_import_report_init(&rep);
    rc = na_import_file(path, fmt, out, &rep, &err);
    if (rc)
        return na_cli_fail(&err);
    na_log(NA_LOG_INFO, "%s: %zu nodes, %zu links", path, rep.nodes, rep.links);
    if (rep.n_warnings) {
        fprintf(stderr,
                "netassure: %s: %zu warning%s (%zu parallel links, %zu self-loops, %zu nodes "
                "without coordinates, %zu wrong types, %zu unknown fields, %zu isolated nodes)%s\n",
                path, rep.n_warnings, rep.n_warnings == 1 ? "" : "s", rep.multi_links,
                rep.self_loops, rep.missing_coordinates, rep.wrong_type, rep.unknown_fields,
                rep.isolated_nodes, na_log_get_level() >= NA_LOG_INFO ? ":" : "; -v lists them");
        if (na_log_get_level() >= NA_LOG_INFO) {
            for (size_t i = 0; i < rep.n_messages; i++)
                fprintf(stderr, "  %s\n", rep.messages[i]);
            if (rep.n_warnings > rep.n_messages)
                fprintf(stderr, "  ... and %zu more\n", rep.n_warnings - rep.n_messages);
        }
    }
    return NA_EXIT_OK;
}

int na_cli_graph(const na_topology *topo, na_graph **out)
{
    na_error err;

    na_error_clear(&err);
    if (na_graph_from_topology(topo, out, &err))
        return na_cli_fail(&err);
    return NA_EXIT_OK;
}

int na_cli_print_json(json_t *doc)
{
    int rc;

    if (!doc) {
        fprintf(stderr, "netassure: error: out of memory building JSON\n");
        return NA_EXIT_ERROR;
    }
    rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17) | JSON_ENSURE_ASCII);
    fputc('\n', stdout);
    json_decref(doc);
    if (rc || fflush(stdout)) {
        fprintf(stderr, "netassure: error: cannot write output\n");
        return NA_EXIT_ERROR;
    }
    return NA_EXIT_OK;
}

bool na_cli_parse_double(const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return s[0] && !*end && errno == 0 && isfinite(*out);
}

bool na_cli_parse_uint(const char *s, unsigned long *out)
{
    char *end;

    if (!s[0] || s[0] == '-')
        return false;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return !*end && errno == 0;
}
