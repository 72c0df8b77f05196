/*
 * cli.h (internal to the tool): what the `netassure` subcommands share.
 *
 * Exit codes everywhere: 0 ok, 1 runtime error (bad input file, failed analysis), 2 usage error.
 */
#ifndef NA_CLI_H
#define NA_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "netassure/graph.h"
#include "netassure/io.h"
#include "netassure/topology.h"

enum { NA_EXIT_OK = 0, NA_EXIT_ERROR = 1, NA_EXIT_USAGE = 2 };

typedef struct na_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} na_cli_command;

int na_cli_analyze(int argc, char **argv);
int na_cli_whatif(int argc, char **argv);
int na_cli_cascade(int argc, char **argv);
int na_cli_diff(int argc, char **argv);
int na_cli_convert(int argc, char **argv);
int na_cli_serve(int argc, char **argv);
int na_cli_alerts(int argc, char **argv);
int na_cli_anomalies(int argc, char **argv);
int na_cli_silences(int argc, char **argv);
int na_cli_tunings(int argc, char **argv);
int na_cli_ingest(int argc, char **argv);
int na_cli_replay(int argc, char **argv);
int na_cli_poll(int argc, char **argv);

/* Prints "netassure CMD: message" and a hint to --help on stderr; returns NA_EXIT_USAGE. */
int na_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "netassure: <formatted na_error>" on stderr; returns NA_EXIT_ERROR. */
int na_cli_fail(const na_error *err);

/*
 * Loads a topology file (format by --format or guessed), prints a one-line summary of what the
 * import handled to stderr (each kept message too at -v). On error prints it and returns
 * NA_EXIT_ERROR; *out is a new reference on success.
 */
int na_cli_load(const char *path, na_format fmt, na_topology **out);
/* Builds the analytics graph, printing errors; NA_EXIT_OK or NA_EXIT_ERROR. */
int na_cli_graph(const na_topology *topo, na_graph **out);

/* Dumps json to stdout (indented, sorted as built, finite reals only) and drops the reference. */
int na_cli_print_json(json_t *doc);

/* SIGINT / SIGTERM for commands that run until stopped: core/stop.h. */
#include "core/stop.h"

/* Parses a double / unsigned option value strictly; false on garbage. */
bool na_cli_parse_double(const char *s, double *out);
bool na_cli_parse_uint(const char *s, unsigned long *out);

#endif
