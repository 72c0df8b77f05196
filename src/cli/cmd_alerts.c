/*
 * cmd_alerts.c: `netassure alerts` and `netassure anomalies`: clients of a running daemon's
 * REST API (GET /alerts, GET /anomalies), printing a table or the JSON as received.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "server/http.h"

#define DEFAULT_API "http://127.0.0.1:8080"
#define MAX_REPLY ((size_t)256 << 20)

typedef struct client_args {
    const char *cmd;
    const char *api;
    const char *token;
    const char *params[6][2]; /* name, value */
    size_t n_params;
    bool json;
    int timeout_ms;
} client_args;

/* Appends name=value to the URL, percent-encoding the value. False when it does not fit. */
static bool add_param(char *url, size_t len, bool first, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t u = strlen(url);
    int w = snprintf(url + u, len - u, "%c%s=", first ? '?' : '&', name);

    if (w < 0 || (size_t)w >= len - u)
        return false;
    u += (size_t)w;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-_.~", *p);
        if (u + 4 >= len)
            return false;
        if (plain) {
            url[u++] = (char)*p;
        } else {
            url[u++] = '%';
            url[u++] = hex[*p >> 4];
            url[u++] = hex[*p & 15];
        }
    }
    url[u] = '\0';
    return true;
}

/* GET api/path with the parameters; the parsed JSON body or NULL (error printed). */
static json_t *api_get(const client_args *a, const char *path, int *exit_code)
{
    char url[4096];
    na__http_reply reply;
    json_error_t jerr;
    na_error err;
    json_t *doc;
    size_t base = strlen(a->api);

    while (base > 0 && a->api[base - 1] == '/')
        base--;
    if (base + strlen(path) + 1 >= sizeof(url)) {
        *exit_code = na_cli_usage_error(a->cmd, "--api URL too long");
        return NULL;
    }
    snprintf(url, sizeof(url), "%.*s%s", (int)base, a->api, path);
    for (size_t i = 0; i < a->n_params; i++) {
        if (!add_param(url, sizeof(url), i == 0, a->params[i][0], a->params[i][1])) {
            *exit_code = na_cli_usage_error(a->cmd, "query too long");
            return NULL;
        }
    }
    memset(&reply, 0, sizeof(reply));
    na_error_clear(&err);
    if (na__http_fetch("GET", url, a->token, NULL, 0, a->timeout_ms, MAX_REPLY, &reply, &err)) {
        fprintf(stderr, "netassure %s: %s\n", a->cmd, err.message);
        *exit_code = NA_EXIT_ERROR;
        return NULL;
    }
    doc = json_loadb(reply.body ? reply.body : "", reply.body_len, 0, &jerr);
    if (reply.status != 200) {
        json_t *e = json_object_get(doc, "error");
        const char *msg = json_string_value(json_object_get(e, "message"));
        fprintf(stderr, "netassure %s: %s answered %d: %s\n", a->cmd, url, reply.status,
                msg ? msg : (reply.body ? reply.body : ""));
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

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "-";
}

static void print_alerts(json_t *arr)
{
    size_t i;
    json_t *a;

    printf("%-10s %-13s %-9s %-20s %-24s %s\n", "ID", "STATUS", "SEVERITY", "NODE", "CREATED",
           "MESSAGE");
    json_array_foreach(arr, i, a) {
        printf("%-10.8s %-13s %-9s %-20.20s %-24.24s %s\n", str(a, "alert_id"), str(a, "status"),
               str(a, "severity"), str(a, "node_id"), str(a, "created_at"), str(a, "message"));
    }
    printf("%zu alert%s\n", json_array_size(arr), json_array_size(arr) == 1 ? "" : "s");
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
    printf("%zu anomal%s\n", json_array_size(arr), json_array_size(arr) == 1 ? "y" : "ies");
}

static void client_usage(FILE *out, bool alerts)
{
    fprintf(out,
            "usage: netassure %s [--api URL] %s[--since TIME] [--at TIME]\n"
            "                         [--limit N] [--token TOKEN] [--json]\n\n"
            "Lists the %s of a running daemon (GET /%s), newest first.\n\n"
            "  --api URL         the daemon (default $NETASSURE_API, else " DEFAULT_API ")\n",
            alerts ? "alerts" : "anomalies",
            alerts ? "[--status S] [--severity S] [--node ID]\n                         " : "",
            alerts ? "alerts" : "anomalies", alerts ? "alerts" : "anomalies");
    if (alerts)
        fprintf(out,
                "  --status S        active, acknowledged or resolved\n"
                "  --severity S      critical, major, minor, warning or info\n"
                "  --node ID         alerts about one node\n"
                "  --since TIME      created at or after TIME (RFC 3339)\n");
    else
        fprintf(out, "  --detector NAME   one detector (e.g. importance_outlier)\n"
                     "  --since TIME      detected at or after TIME (RFC 3339)\n");
    fprintf(out,
            "  --at TIME         as they were at TIME (time travel)\n"
            "  --limit N         at most N (default 1000)\n"
            "  --token TOKEN     API token when reads are protected (default "
            "$NETASSURE_API_TOKEN)\n"
            "  --timeout MS      request timeout (default 10000)\n"
            "  --json            print the JSON array as received\n"
            "  -h, --help        this help\n");
}

static int run_client(int argc, char **argv, bool alerts)
{
    enum { O_API = 256, O_STATUS, O_SEVERITY, O_NODE, O_SINCE, O_AT, O_LIMIT, O_TOKEN, O_JSON,
           O_DETECTOR, O_TIMEOUT };
    static const struct option opts[] = {
        {"api", required_argument, NULL, O_API},
        {"status", required_argument, NULL, O_STATUS},
        {"severity", required_argument, NULL, O_SEVERITY},
        {"node", required_argument, NULL, O_NODE},
        {"detector", required_argument, NULL, O_DETECTOR},
        {"since", required_argument, NULL, O_SINCE},
        {"at", required_argument, NULL, O_AT},
        {"limit", required_argument, NULL, O_LIMIT},
        {"token", required_argument, NULL, O_TOKEN},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    client_args a = {.cmd = alerts ? "alerts" : "anomalies", .timeout_ms = 10000};
    const char *env_api = getenv("NETASSURE_API"), *env_token = getenv("NETASSURE_API_TOKEN");
    unsigned long ul;
    int c, rc = NA_EXIT_OK;
    json_t *doc;

    a.api = env_api && *env_api ? env_api : DEFAULT_API;
    a.token = env_token && *env_token ? env_token : NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        const char *pname = NULL;
        switch (c) {
        case O_API: a.api = optarg; break;
        case O_TOKEN: a.token = optarg; break;
        case O_JSON: a.json = true; break;
        case O_TIMEOUT:
            if (!na_cli_parse_uint(optarg, &ul) || ul == 0 || ul > 3600000)
                return na_cli_usage_error(a.cmd, "--timeout needs milliseconds (1..3600000)");
            a.timeout_ms = (int)ul;
            break;
        case O_STATUS: pname = alerts ? "status" : NULL; break;
        case O_SEVERITY: pname = alerts ? "severity" : NULL; break;
        case O_NODE: pname = alerts ? "node_id" : NULL; break;
        case O_DETECTOR: pname = alerts ? NULL : "detector"; break;
        case O_SINCE: pname = "since"; break;
        case O_AT: pname = "at"; break;
        case O_LIMIT:
            if (!na_cli_parse_uint(optarg, &ul) || ul == 0)
                return na_cli_usage_error(a.cmd, "--limit needs a positive integer");
            pname = "limit";
            break;
        case 'h': client_usage(stdout, alerts); return NA_EXIT_OK;
        default: return na_cli_usage_error(a.cmd, "bad option");
        }
        if (c == O_STATUS || c == O_SEVERITY || c == O_NODE || c == O_DETECTOR ||
            c == O_SINCE || c == O_AT || c == O_LIMIT) {
            if (!pname)
                return na_cli_usage_error(a.cmd, "option %s does not apply to this command",
                                          argv[optind - 1]);
            if (a.n_params == sizeof(a.params) / sizeof(a.params[0]))
                return na_cli_usage_error(a.cmd, "too many filters");
            a.params[a.n_params][0] = pname;
            a.params[a.n_params++][1] = optarg;
        }
    }
    if (optind != argc)
        return na_cli_usage_error(a.cmd, "unexpected argument '%s'", argv[optind]);
    if (strncmp(a.api, "http://", 7) != 0 && strncmp(a.api, "https://", 8) != 0)
        return na_cli_usage_error(a.cmd, "--api needs an http:// URL (got '%s')", a.api);
    doc = api_get(&a, alerts ? "/alerts" : "/anomalies", &rc);
    if (!doc)
        return rc;
    if (!json_is_array(doc)) {
        fprintf(stderr, "netassure %s: expected a JSON array from the API\n", a.cmd);
        json_decref(doc);
        return NA_EXIT_ERROR;
    }
    if (a.json)
        return na_cli_print_json(doc);
    if (alerts)
        print_alerts(doc);
    else
        print_anomalies(doc);
    json_decref(doc);
    return fflush(stdout) ? NA_EXIT_ERROR : NA_EXIT_OK;
}

int na_cli_alerts(int argc, char **argv)
{
    return run_client(argc, argv, true);
}

int na_cli_anomalies(int argc, char **argv)
{
    return run_client(argc, argv, false);
}
