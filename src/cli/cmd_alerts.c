/*
 * cmd_alerts.c: the alert side of a running daemon's REST API, as clients that print a table or
 * the JSON as received (docs/cli.md, docs/alerts.md):
 *   netassure alerts     GET /alerts; --groups: GET /alerts/groups
 *   netassure anomalies  GET /anomalies
 *   netassure silences   GET /silences; `add`: POST /silences; `delete ID`: DELETE /silences/ID
 *   netassure tunings    GET /tunings; `delete ID`: DELETE /tunings/ID
 * They share one request path (URL building, token, error mapping), hence one file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/config.h"
#include "netassure/warehouse.h"
#include "server/http.h"

#define DEFAULT_API "http://127.0.0.1:8080"
#define MAX_REPLY ((size_t)256 << 20)
#define MAX_PARAMS 6

/* Options every client takes; a command's own options are numbered from O_CMD. */
enum { O_API = 256, O_TOKEN, O_TIMEOUT, O_JSON, O_AT, O_CMD };

#define CLIENT_OPTIONS                                                                          \
    {"api", required_argument, NULL, O_API}, {"token", required_argument, NULL, O_TOKEN},       \
        {"timeout", required_argument, NULL, O_TIMEOUT}, {"json", no_argument, NULL, O_JSON}, \
        {"help", no_argument, NULL, 'h'}

#define CLIENT_HELP                                                                        \
    "  --api URL         the daemon (default $NETASSURE_API, else " DEFAULT_API ")\n"    \
    "  --token TOKEN     API token (default $NETASSURE_TOKEN, else $NETASSURE_API_TOKEN)\n" \
    "  --timeout MS      request timeout (default 10000)\n"                               \
    "  --json            print the API's JSON as received\n"                              \
    "  -h, --help        this help\n"

typedef struct client_args {
    const char *cmd; /* for messages: "silences add" */
    const char *api;
    const char *token;
    const char *params[MAX_PARAMS][2]; /* name, value (not owned) */
    size_t n_params;
    bool json;
    int timeout_ms;
} client_args;

/* Defaults from the environment. The token has two names: NETASSURE_TOKEN, which
 * examples/api_client.py reads too, and the older NETASSURE_API_TOKEN. */
static void client_init(client_args *a, const char *cmd)
{
    const char *env_api = getenv("NETASSURE_API"), *env_token = getenv("NETASSURE_TOKEN");

    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    a->timeout_ms = 10000;
    a->api = env_api && *env_api ? env_api : DEFAULT_API;
    if (!env_token || !*env_token)
        env_token = getenv("NETASSURE_API_TOKEN");
    a->token = env_token && *env_token ? env_token : NULL;
}

/* Adds a query parameter; NA_EXIT_OK or a usage error. Both strings are borrowed. */
static int client_param(client_args *a, const char *name, const char *value)
{
    if (a->n_params == MAX_PARAMS)
        return na_cli_usage_error(a->cmd, "too many filters");
    a->params[a->n_params][0] = name;
    a->params[a->n_params++][1] = value;
    return NA_EXIT_OK;
}

/* Handles an option every client takes (and --at where allowed): true when c was one, with
 * *rc = NA_EXIT_OK or a usage error. */
static bool client_option(client_args *a, int c, const char *arg, int *rc)
{
    unsigned long ul;

    *rc = NA_EXIT_OK;
    switch (c) {
    case O_API: a->api = arg; return true;
    case O_TOKEN: a->token = arg; return true;
    case O_JSON: a->json = true; return true;
    case O_AT: *rc = client_param(a, "at", arg); return true;
    case O_TIMEOUT:
        if (!na_cli_parse_uint(arg, &ul) || ul == 0 || ul > 3600000)
            *rc = na_cli_usage_error(a->cmd, "--timeout needs milliseconds (1..3600000)");
        else
            a->timeout_ms = (int)ul;
        return true;
    default: return false;
    }
}

/* What every client checks once its options are read. */
static int client_check(const client_args *a)
{
    if (strncmp(a->api, "http://", 7) != 0 && strncmp(a->api, "https://", 8) != 0)
        return na_cli_usage_error(a->cmd, "--api needs an http:// URL (got '%s')", a->api);
    return NA_EXIT_OK;
}

/* Appends value to url[*u..len) percent-encoded (RFC 3986 unreserved characters stay).
 * False when it does not fit. */
static bool append_encoded(char *url, size_t len, size_t *u, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-_.~", *p);
        if (*u + 4 >= len)
            return false;
        if (plain) {
            url[(*u)++] = (char)*p;
        } else {
            url[(*u)++] = '%';
            url[(*u)++] = hex[*p >> 4];
            url[(*u)++] = hex[*p & 15];
        }
    }
    url[*u] = '\0';
    return true;
}

/* Appends "?name=value" or "&name=value". False when it does not fit. */
static bool add_param(char *url, size_t len, bool first, const char *name, const char *value)
{
    size_t u = strlen(url);
    int w = snprintf(url + u, len - u, "%c%s=", first ? '?' : '&', name);

    if (w < 0 || (size_t)w >= len - u)
        return false;
    u += (size_t)w;
    return append_encoded(url, len, &u, value);
}

/*
 * One request: METHOD on the API's path, then the id as one encoded path segment (when not
 * NULL), then the query parameters; body is JSON text or NULL. Returns the parsed reply (the
 * caller owns it) when the status is `want`. Otherwise NULL, with the error printed (the API's
 * own message when it sent one) and *exit_code set: 400 is a usage error (the API names what it
 * rejected), any other status or a failed connection a runtime error.
 */
static json_t *api_request(const client_args *a, const char *method, const char *path,
                           const char *id, const char *body, int want, int *exit_code)
{
    char url[4096];
    na__http_reply reply;
    json_error_t jerr;
    na_error err;
    json_t *doc;
    size_t base = strlen(a->api), u;

    while (base > 0 && a->api[base - 1] == '/')
        base--;
    if (base + strlen(path) + 2 >= sizeof(url)) {
        *exit_code = na_cli_usage_error(a->cmd, "--api URL too long");
        return NULL;
    }
    snprintf(url, sizeof(url), "%.*s%s", (int)base, a->api, path);
    u = strlen(url);
    if (id) {
        url[u++] = '/'; /* room for it was checked above */
        url[u] = '\0';
        if (!append_encoded(url, sizeof(url), &u, id)) {
            *exit_code = na_cli_usage_error(a->cmd, "id too long");
            return NULL;
        }
    }
    for (size_t i = 0; i < a->n_params; i++) {
        if (!add_param(url, sizeof(url), i == 0, a->params[i][0], a->params[i][1])) {
            *exit_code = na_cli_usage_error(a->cmd, "query too long");
            return NULL;
        }
    }
    memset(&reply, 0, sizeof(reply));
    na_error_clear(&err);
    if (na__http_fetch(method, url, a->token, body, body ? strlen(body) : 0, a->timeout_ms,
                       MAX_REPLY, &reply, &err)) {
        fprintf(stderr, "netassure %s: %s\n", a->cmd, err.message);
        *exit_code = NA_EXIT_ERROR;
        return NULL;
    }
    doc = json_loadb(reply.body ? reply.body : "", reply.body_len, 0, &jerr);
    if (reply.status != want) {
        json_t *e = json_object_get(doc, "error");
        const char *msg = json_string_value(json_object_get(e, "message"));
        fprintf(stderr, "netassure %s: %s %s answered %d: %s\n", a->cmd, method, url,
                reply.status, msg ? msg : (reply.body ? reply.body : ""));
        json_decref(doc);
        free(reply.body);
        *exit_code = reply.status == 400 ? NA_EXIT_USAGE : NA_EXIT_ERROR;
        return NULL;
    }
    free(reply.body);
    if (!doc) {
        fprintf(stderr, "netassure %s: %s did not answer JSON: %s\n", a->cmd, url, jerr.text);
        *exit_code = NA_EXIT_ERROR;
    }
    return doc;
}

/* Checks the reply's top-level type; on a mismatch prints it, drops doc and returns false. */
static bool expect_type(const client_args *a, json_t *doc, bool array)
{
    if (array ? json_is_array(doc) : json_is_object(doc))
        return true;
    fprintf(stderr, "netassure %s: expected a JSON %s from the API\n", a->cmd,
            array ? "array" : "object");
    json_decref(doc);
    return false;
}

/* ---- tables ---------------------------------------------------------------------------------- */

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "-";
}

/* A number member as "%g" into buf, "-" when absent or null. Returns buf. */
static const char *num(json_t *o, const char *key, char *buf, size_t len)
{
    json_t *v = json_object_get(o, key);

    if (json_is_number(v))
        snprintf(buf, len, "%g", json_number_value(v));
    else
        snprintf(buf, len, "-");
    return buf;
}

/* The string members of an object as "k=v,k=v" (in the API's order) into buf; "-" if none.
 * Truncated at len (the API caps matchers well below the callers' buffers). */
static const char *pairs(json_t *o, char *buf, size_t len)
{
    const char *k;
    json_t *v;
    size_t u = 0;

    buf[0] = '\0';
    json_object_foreach(o, k, v) {
        int w = snprintf(buf + u, len - u, "%s%s=%s", u ? "," : "", k,
                         json_string_value(v) ? json_string_value(v) : "?");
        if (w < 0 || (size_t)w >= len - u)
            break;
        u += (size_t)w;
    }
    if (!buf[0])
        snprintf(buf, len, "-");
    return buf;
}

static int finish_table(void)
{
    return fflush(stdout) ? NA_EXIT_ERROR : NA_EXIT_OK;
}

static void print_count(size_t n, const char *one, const char *many)
{
    printf("%zu %s\n", n, n == 1 ? one : many);
}

static void print_alerts(json_t *arr)
{
    size_t i;
    json_t *a;

    printf("%-10s %-13s %-8s %-9s %-20s %-24s %s\n", "ID", "STATUS", "SILENCED", "SEVERITY",
           "NODE", "CREATED", "MESSAGE");
    json_array_foreach(arr, i, a) {
        printf("%-10.8s %-13s %-8s %-9s %-20.20s %-24.24s %s\n", str(a, "alert_id"),
               str(a, "status"), json_is_true(json_object_get(a, "silenced")) ? "yes" : "no",
               str(a, "severity"), str(a, "node_id"), str(a, "created_at"), str(a, "message"));
    }
    print_count(json_array_size(arr), "alert", "alerts");
}

static void print_anomalies(json_t *arr)
{
    size_t i;
    json_t *a;

    printf("%-10s %-20s %8s %-24s %s\n", "ID", "DETECTOR", "SCORE", "DETECTED", "NODES");
    json_array_foreach(arr, i, a) {
        json_t *nodes = json_object_get(a, "contributing_node_ids"), *n;
        size_t j;
        printf("%-10.8s %-20.20s %8.3f %-24.24s ", str(a, "anomaly_id"), str(a, "detector"),
               json_number_value(json_object_get(a, "score")), str(a, "detected_at"));
        json_array_foreach(nodes, j, n) {
            printf("%s%s", j ? "," : "", json_string_value(n) ? json_string_value(n) : "?");
        }
        printf("\n");
    }
    print_count(json_array_size(arr), "anomaly", "anomalies");
}

/* Groups: the alert ids are shortened to 8 characters like the alerts table (--json has them
 * whole). */
static void print_groups(json_t *arr)
{
    char ev[256];
    size_t i;
    json_t *g;

    printf("%-30s %-24s %-9s %-5s %5s %s\n", "GROUP", "EVIDENCE", "SEVERITY", "MULTI", "COUNT",
           "ALERTS");
    json_array_foreach(arr, i, g) {
        json_t *list = json_object_get(g, "evidence"), *x;
        size_t j, u = 0;
        ev[0] = '\0';
        json_array_foreach(list, j, x) {
            int w = snprintf(ev + u, sizeof(ev) - u, "%s%s", j ? "," : "",
                             json_string_value(x) ? json_string_value(x) : "?");
            if (w < 0 || (size_t)w >= sizeof(ev) - u)
                break;
            u += (size_t)w;
        }
        printf("%-30s %-24s %-9s %-5s %5lld ", str(g, "group"), ev[0] ? ev : "-",
               str(g, "severity"), json_is_true(json_object_get(g, "multi_modal")) ? "yes" : "no",
               (long long)json_integer_value(json_object_get(g, "count")));
        list = json_object_get(g, "alert_ids");
        json_array_foreach(list, j, x) {
            printf("%s%.8s", j ? "," : "", json_string_value(x) ? json_string_value(x) : "?");
        }
        printf("\n");
    }
    print_count(json_array_size(arr), "group", "groups");
}

/* Silences and tunings show whole ids: `delete` needs them. */
static void print_silences(json_t *arr)
{
    char m[1024];
    size_t i;
    json_t *s;

    printf("%-32s %-7s %-24s %-24s %-30s %s\n", "ID", "STATE", "STARTS", "ENDS", "MATCHERS",
           "COMMENT");
    json_array_foreach(arr, i, s) {
        printf("%-32s %-7s %-24s %-24s %-30s %s\n", str(s, "silence_id"), str(s, "state"),
               str(s, "starts_at"), str(s, "ends_at"),
               pairs(json_object_get(s, "matchers"), m, sizeof(m)), str(s, "comment"));
    }
    print_count(json_array_size(arr), "silence", "silences");
}

static void print_tunings(json_t *arr)
{
    char t[64], f[64];
    size_t i;
    json_t *x;

    printf("%-32s %-20s %-20s %-16s %10s %7s %7s %9s %s\n", "ID", "RULE", "NODE", "KIND",
           "THRESHOLD", "FACTOR", "REPORTS", "HELD_BACK", "EXPIRES");
    json_array_foreach(arr, i, x) {
        json_t *exp = json_object_get(x, "expires_at");
        const char *expires = json_string_value(exp);
        /* A suppression without an end lasts until removed; a raised threshold never expires. */
        if (!expires)
            expires = strcmp(str(x, "kind"), "suppression") == 0 ? "until removed" : "-";
        printf("%-32s %-20s %-20s %-16s %10s %7s %7lld %9lld %s\n", str(x, "tuning_id"),
               str(x, "rule"), str(x, "node_id"), str(x, "kind"),
               num(x, "threshold", t, sizeof(t)), num(x, "factor", f, sizeof(f)),
               (long long)json_integer_value(json_object_get(x, "reports")),
               (long long)json_integer_value(json_object_get(x, "held_back")), expires);
    }
    print_count(json_array_size(arr), "tuning", "tunings");
}

/* ---- alerts and anomalies -------------------------------------------------------------------- */

static void alerts_usage(FILE *out, bool alerts)
{
    fprintf(out,
            "usage: netassure %s [--api URL] %s[--since TIME] [--at TIME]\n"
            "                         [--limit N] [--token TOKEN] [--json]\n",
            alerts ? "alerts" : "anomalies",
            alerts ? "[--status S] [--severity S] [--node ID]\n                         " : "");
    if (alerts)
        fprintf(out, "       netassure alerts --groups [--api URL] [--at TIME] [--json]\n");
    fprintf(out, "\nLists the %s of a running daemon (GET /%s), newest first.\n\n",
            alerts ? "alerts" : "anomalies", alerts ? "alerts" : "anomalies");
    if (alerts)
        fprintf(out,
                "  --status S        active, acknowledged or resolved\n"
                "  --severity S      critical, major, minor, warning or info\n"
                "  --node ID         alerts about one node\n"
                "  --since TIME      created at or after TIME (RFC 3339)\n"
                "  --groups          the open alerts grouped by node and site, with their kinds\n"
                "                    of evidence (GET /alerts/groups; takes only --at)\n");
    else
        fprintf(out, "  --detector NAME   one detector (e.g. importance_outlier)\n"
                     "  --since TIME      detected at or after TIME (RFC 3339)\n");
    fprintf(out, "  --at TIME         as they were at TIME (time travel)\n"
                 "  --limit N         at most N (default 1000)\n" CLIENT_HELP);
}

static int run_alerts(int argc, char **argv, bool alerts)
{
    enum { O_STATUS = O_CMD, O_SEVERITY, O_NODE, O_SINCE, O_LIMIT, O_DETECTOR, O_GROUPS };
    static const struct option opts[] = {
        CLIENT_OPTIONS,
        {"at", required_argument, NULL, O_AT},
        {"status", required_argument, NULL, O_STATUS},
        {"severity", required_argument, NULL, O_SEVERITY},
        {"node", required_argument, NULL, O_NODE},
        {"detector", required_argument, NULL, O_DETECTOR},
        {"since", required_argument, NULL, O_SINCE},
        {"limit", required_argument, NULL, O_LIMIT},
        {"groups", no_argument, NULL, O_GROUPS},
        {NULL, 0, NULL, 0},
    };
    client_args a;
    unsigned long ul;
    bool groups = false, filtered = false;
    int c, rc = NA_EXIT_OK;
    json_t *doc;

    client_init(&a, alerts ? "alerts" : "anomalies");
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        const char *pname = NULL;
        if (client_option(&a, c, optarg, &rc)) {
            if (rc)
                return rc;
            continue;
        }
        switch (c) {
        case O_STATUS: pname = alerts ? "status" : NULL; break;
        case O_SEVERITY: pname = alerts ? "severity" : NULL; break;
        case O_NODE: pname = alerts ? "node_id" : NULL; break;
        case O_DETECTOR: pname = alerts ? NULL : "detector"; break;
        case O_SINCE: pname = "since"; break;
        case O_LIMIT:
            if (!na_cli_parse_uint(optarg, &ul) || ul == 0)
                return na_cli_usage_error(a.cmd, "--limit needs a positive integer");
            pname = "limit";
            break;
        case O_GROUPS:
            if (!alerts)
                return na_cli_usage_error(a.cmd, "option --groups does not apply to this "
                                                 "command");
            groups = true;
            continue;
        case 'h': alerts_usage(stdout, alerts); return NA_EXIT_OK;
        default: return na_cli_usage_error(a.cmd, "bad option");
        }
        if (!pname)
            return na_cli_usage_error(a.cmd, "option %s does not apply to this command",
                                      argv[optind - 1]);
        filtered = true;
        if ((rc = client_param(&a, pname, optarg)))
            return rc;
    }
    if (optind != argc)
        return na_cli_usage_error(a.cmd, "unexpected argument '%s'", argv[optind]);
    if (groups && filtered)
        return na_cli_usage_error(a.cmd, "--groups takes only --at (groups hold the open "
                                         "alerts)");
    if ((rc = client_check(&a)))
        return rc;
    doc = api_request(&a, "GET", groups ? "/alerts/groups" : alerts ? "/alerts" : "/anomalies",
                      NULL, NULL, 200, &rc);
    if (!doc)
        return rc;
    if (!expect_type(&a, doc, true))
        return NA_EXIT_ERROR;
    if (a.json)
        return na_cli_print_json(doc);
    if (groups)
        print_groups(doc);
    else if (alerts)
        print_alerts(doc);
    else
        print_anomalies(doc);
    json_decref(doc);
    return finish_table();
}

int na_cli_alerts(int argc, char **argv)
{
    return run_alerts(argc, argv, true);
}

int na_cli_anomalies(int argc, char **argv)
{
    return run_alerts(argc, argv, false);
}

/* ---- silences and tunings -------------------------------------------------------------------- */

static void silences_usage(FILE *out)
{
    fprintf(out,
            "usage: netassure silences [--api URL] [--at TIME] [--json]\n"
            "       netassure silences add [--api URL] [--rule R] [--node N] [--site S]\n"
            "                              [--severity SEV] (--duration D | --until TIME)\n"
            "                              [--starts TIME] [--comment TEXT] [--by NAME]\n"
            "       netassure silences delete [--api URL] ID\n\n"
            "Silences of a running daemon's alert manager (docs/alerts.md): while one is active,\n"
            "the open alerts it matches are recorded and listed but not notified.\n\n"
            "  (no subcommand)   list the silences that have not ended (GET /silences)\n"
            "  add               create one (POST /silences) and print its id; an alert matches\n"
            "                    when it equals every matcher given (at least one)\n"
            "  delete ID         end one now (DELETE /silences/ID)\n\n"
            "  --rule R          matcher: the alert's rule name\n"
            "  --node N          matcher: the alert's node id\n"
            "  --site S          matcher: the alert's site\n"
            "  --severity SEV    matcher: critical, major, minor, warning or info\n"
            "  --duration D      ends D after it starts (500ms, 30s, 5m, 2h, 7d, or seconds)\n"
            "  --until TIME      ends at TIME (RFC 3339)\n"
            "  --starts TIME     starts at TIME (RFC 3339; default now)\n"
            "  --comment TEXT    why (at most 1000 characters)\n"
            "  --by NAME         who (default $USER)\n"
            "  --at TIME         list them as they were at TIME (time travel)\n" CLIENT_HELP
            "\nWrites need the API token when the daemon has one. Exit codes: 0 ok, 1 runtime or\n"
            "HTTP error (the API's message on stderr), 2 usage error or a request the API\n"
            "rejected as bad (400).\n");
}

static void tunings_usage(FILE *out)
{
    fprintf(out,
            "usage: netassure tunings [--api URL] [--at TIME] [--json]\n"
            "       netassure tunings delete [--api URL] ID\n\n"
            "Feedback effects of a running daemon's alert manager (docs/alerts.md): each false\n"
            "positive reported on an alert raises its rule's threshold for the alert's node or\n"
            "suppresses the rule there for a while.\n\n"
            "  (no subcommand)   list the effects in force (GET /tunings)\n"
            "  delete ID         revert one (DELETE /tunings/ID)\n\n"
            "  --at TIME         list them as they were at TIME (time travel)\n" CLIENT_HELP
            "\nWrites need the API token when the daemon has one. Exit codes: 0 ok, 1 runtime or\n"
            "HTTP error (the API's message on stderr), 2 usage error or a request the API\n"
            "rejected as bad (400).\n");
}

typedef struct collection {
    const char *name; /* "silences": the command and the path */
    const char *what; /* "silence" */
    const char *id_key;
    void (*print)(json_t *arr);
    void (*usage)(FILE *out);
} collection;

static const collection silences = {"silences", "silence", "silence_id", print_silences,
                                    silences_usage};
static const collection tunings = {"tunings", "tuning", "tuning_id", print_tunings,
                                   tunings_usage};

/* `netassure silences|tunings [--at T]`: GET /NAME. */
static int collection_list(const collection *col, int argc, char **argv)
{
    static const struct option opts[] = {
        CLIENT_OPTIONS,
        {"at", required_argument, NULL, O_AT},
        {NULL, 0, NULL, 0},
    };
    char path[32];
    client_args a;
    int c, rc = NA_EXIT_OK;
    json_t *doc;

    client_init(&a, col->name);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (client_option(&a, c, optarg, &rc)) {
            if (rc)
                return rc;
        } else if (c == 'h') {
            col->usage(stdout);
            return NA_EXIT_OK;
        } else {
            return na_cli_usage_error(a.cmd, "bad option");
        }
    }
    if (optind != argc)
        return na_cli_usage_error(a.cmd, "unexpected argument '%s'%s", argv[optind],
                                  strcmp(argv[optind], "add") == 0 ||
                                          strcmp(argv[optind], "delete") == 0
                                      ? " (a subcommand comes right after the command)"
                                      : "");
    if ((rc = client_check(&a)))
        return rc;
    snprintf(path, sizeof(path), "/%s", col->name);
    doc = api_request(&a, "GET", path, NULL, NULL, 200, &rc);
    if (!doc)
        return rc;
    if (!expect_type(&a, doc, true))
        return NA_EXIT_ERROR;
    if (a.json)
        return na_cli_print_json(doc);
    col->print(doc);
    json_decref(doc);
    return finish_table();
}

/* `netassure silences|tunings delete ID`: DELETE /NAME/ID; prints what the API removed. */
static int collection_delete(const collection *col, int argc, char **argv)
{
    static const struct option opts[] = {
        CLIENT_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char cmd[32], path[32];
    client_args a;
    int c, rc = NA_EXIT_OK;
    json_t *doc;

    snprintf(cmd, sizeof(cmd), "%s delete", col->name);
    client_init(&a, cmd);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (client_option(&a, c, optarg, &rc)) {
            if (rc)
                return rc;
        } else if (c == 'h') {
            col->usage(stdout);
            return NA_EXIT_OK;
        } else {
            return na_cli_usage_error(a.cmd, "bad option");
        }
    }
    if (optind == argc)
        return na_cli_usage_error(a.cmd, "which %s? give its id (netassure %s lists them)",
                                  col->what, col->name);
    if (optind + 1 != argc)
        return na_cli_usage_error(a.cmd, "one id at a time (unexpected '%s')", argv[optind + 1]);
    if (!argv[optind][0])
        return na_cli_usage_error(a.cmd, "the id is empty");
    if ((rc = client_check(&a)))
        return rc;
    snprintf(path, sizeof(path), "/%s", col->name);
    doc = api_request(&a, "DELETE", path, argv[optind], NULL, 200, &rc);
    if (!doc)
        return rc;
    if (!expect_type(&a, doc, false))
        return NA_EXIT_ERROR;
    if (a.json)
        return na_cli_print_json(doc);
    printf("deleted %s %s\n", col->what, str(doc, col->id_key));
    json_decref(doc);
    return finish_table();
}

/* Sets obj[key] = the string; false when it is not UTF-8 (jansson refuses it) or no memory. */
static bool set_string(json_t *obj, const char *key, const char *value)
{
    return json_object_set_new(obj, key, json_string(value)) == 0;
}

/* Parses an RFC 3339 option value; NA_EXIT_OK or a usage error naming the option. */
static int parse_time_opt(const char *cmd, const char *opt, const char *s, na_time_ms *out)
{
    if (na_time_parse(s, strlen(s), out))
        return na_cli_usage_error(cmd, "%s needs an RFC 3339 time like 2026-03-08T22:00:00Z "
                                       "(got '%s')", opt, s);
    return NA_EXIT_OK;
}

/*
 * `netassure silences add`: builds the POST /silences body from the options (times normalised
 * to UTC; --duration counts from --starts, else from now) and prints the new id. The API does
 * the remaining checks (severity names, lengths, an end in the future) and its 400 names them.
 */
static int silences_add(int argc, char **argv)
{
    enum { O_RULE = O_CMD, O_NODE, O_SITE, O_SEVERITY, O_DURATION, O_UNTIL, O_STARTS, O_COMMENT,
           O_BY };
    static const struct option opts[] = {
        CLIENT_OPTIONS,
        {"rule", required_argument, NULL, O_RULE},
        {"node", required_argument, NULL, O_NODE},
        {"site", required_argument, NULL, O_SITE},
        {"severity", required_argument, NULL, O_SEVERITY},
        {"duration", required_argument, NULL, O_DURATION},
        {"until", required_argument, NULL, O_UNTIL},
        {"starts", required_argument, NULL, O_STARTS},
        {"comment", required_argument, NULL, O_COMMENT},
        {"by", required_argument, NULL, O_BY},
        {NULL, 0, NULL, 0},
    };
    /* In the order of docs/alerts.md; indexed by option - O_RULE. */
    static const char *const matcher_names[4] = {"rule", "node_id", "site", "severity"};
    const char *matchers[4] = {NULL, NULL, NULL, NULL};
    const char *duration = NULL, *until = NULL, *starts = NULL, *comment = NULL;
    const char *by = getenv("USER");
    char tbuf[40], *body = NULL;
    na_time_ms t_starts = 0, t_ends = 0;
    int64_t dur_ms = 0;
    json_t *req = NULL, *m = NULL, *doc = NULL;
    client_args a;
    bool any = false;
    int c, rc = NA_EXIT_OK;

    client_init(&a, "silences add");
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (client_option(&a, c, optarg, &rc)) {
            if (rc)
                return rc;
            continue;
        }
        switch (c) {
        case O_RULE:
        case O_NODE:
        case O_SITE:
        case O_SEVERITY: matchers[c - O_RULE] = optarg; break;
        case O_DURATION: duration = optarg; break;
        case O_UNTIL: until = optarg; break;
        case O_STARTS: starts = optarg; break;
        case O_COMMENT: comment = optarg; break;
        case O_BY: by = optarg; break;
        case 'h': silences_usage(stdout); return NA_EXIT_OK;
        default: return na_cli_usage_error(a.cmd, "bad option");
        }
    }
    if (optind != argc)
        return na_cli_usage_error(a.cmd, "unexpected argument '%s'", argv[optind]);
    for (size_t i = 0; i < 4; i++)
        any = any || matchers[i];
    if (!any)
        return na_cli_usage_error(a.cmd, "give at least one matcher: --rule, --node, --site or "
                                         "--severity");
    if (!duration == !until)
        return na_cli_usage_error(a.cmd, "give the end: --duration or --until (one of them)");
    if (starts && (rc = parse_time_opt(a.cmd, "--starts", starts, &t_starts)))
        return rc;
    if (until && (rc = parse_time_opt(a.cmd, "--until", until, &t_ends)))
        return rc;
    if (duration) {
        if (na__parse_duration(duration, &dur_ms) || dur_ms <= 0)
            return na_cli_usage_error(a.cmd, "--duration needs a positive duration like 30m, "
                                             "2h or 7d (got '%s')", duration);
        t_ends = (starts ? t_starts : na_time_now()) + dur_ms;
        if (t_ends >= NA_TIME_OPEN)
            return na_cli_usage_error(a.cmd, "--duration ends after the year 9999");
    }
    if ((rc = client_check(&a)))
        return rc;

    rc = NA_EXIT_ERROR;
    req = json_object();
    m = json_object(); /* our own reference besides req's, dropped at out */
    if (!req || !m || json_object_set(req, "matchers", m)) {
        fprintf(stderr, "netassure %s: out of memory\n", a.cmd);
        goto out;
    }
    for (size_t i = 0; i < 4; i++) {
        if (matchers[i] && !set_string(m, matcher_names[i], matchers[i])) {
            rc = na_cli_usage_error(a.cmd, "the %s matcher is not valid UTF-8", matcher_names[i]);
            goto out;
        }
    }
    if ((starts && !set_string(req, "starts_at", na_time_format(t_starts, tbuf, sizeof(tbuf)))) ||
        !set_string(req, "ends_at", na_time_format(t_ends, tbuf, sizeof(tbuf)))) {
        fprintf(stderr, "netassure %s: out of memory\n", a.cmd);
        goto out;
    }
    if (comment && !set_string(req, "comment", comment)) {
        rc = na_cli_usage_error(a.cmd, "--comment is not valid UTF-8");
        goto out;
    }
    if (by && *by && !set_string(req, "created_by", by)) {
        rc = na_cli_usage_error(a.cmd, "--by is not valid UTF-8");
        goto out;
    }
    body = json_dumps(req, JSON_COMPACT);
    if (!body) {
        fprintf(stderr, "netassure %s: out of memory\n", a.cmd);
        goto out;
    }
    doc = api_request(&a, "POST", "/silences", NULL, body, 201, &rc);
    if (!doc)
        goto out;
    if (!expect_type(&a, doc, false)) {
        doc = NULL;
        rc = NA_EXIT_ERROR;
        goto out;
    }
    if (a.json) {
        rc = na_cli_print_json(doc);
        doc = NULL;
        goto out;
    }
    /* The id alone on stdout, for scripts; what it does now on stderr. */
    printf("%s\n", str(doc, "silence_id"));
    fprintf(stderr, "netassure %s: %s until %s, silencing %zu open alert%s now\n", a.cmd,
            str(doc, "state"), str(doc, "ends_at"),
            json_array_size(json_object_get(doc, "alert_ids")),
            json_array_size(json_object_get(doc, "alert_ids")) == 1 ? "" : "s");
    rc = finish_table();
out:
    json_decref(doc);
    json_decref(m);
    json_decref(req);
    free(body);
    return rc;
}

/* `netassure silences|tunings [SUBCOMMAND]`: the subcommand, when there is one, comes first. */
static int run_collection(const collection *col, int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "add") == 0 && col == &silences)
        return silences_add(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "delete") == 0)
        return collection_delete(col, argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "list") == 0)
        return collection_list(col, argc - 1, argv + 1);
    if (argc > 1 && argv[1][0] != '-')
        return na_cli_usage_error(col->name, "unknown subcommand '%s' (%s)", argv[1],
                                  col == &silences ? "add, delete or list" : "delete or list");
    return collection_list(col, argc, argv);
}

int na_cli_silences(int argc, char **argv)
{
    return run_collection(&silences, argc, argv);
}

int na_cli_tunings(int argc, char **argv)
{
    return run_collection(&tunings, argc, argv);
}
