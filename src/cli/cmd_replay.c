/*
 * cmd_replay.c: `netassure replay`: serves a topology stream (docs/topology-stream.md) from
 * files, for demos and tests: a snapshot, then deltas at a steady rate, optionally raw lines
 * (fault injection) and loops.
 *
 * Threads: the server's event loop (the main thread) and its workers; a pacing thread that
 * applies each delta to the replay's state and publishes it; a signal thread. The state
 * (snapshot + seq) changes on the pacing thread only, under `lock`; the WebSocket callbacks
 * run under the server's client lock and take `lock` inside it, so the pacing thread never
 * holds `lock` while it calls the server (publish, client count).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/config.h"
#include "ingest/stream.h"
#include "server/http.h"

#define DEFAULT_RATE 10.0
#define MAX_RATE 1e7
#define PROGRESS_NS (5 * 1000000000LL)
#define NS_PER_S 1000000000LL

static const char *const ws_paths[] = {"/topology/stream", "/", NULL};

typedef struct raw_line {
    const char *text;  /* into replay.raw_data */
    size_t len;
} raw_line;

typedef struct replay {
    na__http_server *srv;
    const char *token;
    double rate;
    bool loop, wait_client;
    na_topology *initial;     /* the first FILE */
    na_delta **deltas;        /* every delta of the further FILEs, in order */
    size_t n_deltas;
    char *raw_data;
    raw_line *raw;
    size_t n_raw;

    pthread_mutex_t lock;
    pthread_cond_t wake;      /* CLOCK_MONOTONIC; stop and client arrivals */
    na_topology *state;       /* written by the pacing thread under lock */
    uint64_t seq;
    uint64_t sent;            /* paced messages published */
    uint64_t opened;          /* WebSocket clients that ever connected */
    bool stop;
} replay;

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* ---- the server's callbacks ---------------------------------------------------------- */

/* The snapshot message of (t, seq), dropping the reference to t; NULL on ENOMEM. Exported
 * outside the lock: a large topology takes a while. */
static char *snapshot_text(na_topology *t, uint64_t seq)
{
    char *text = na__stream_snapshot_text(t, seq, NULL);

    na_topology_unref(t);
    return text;
}

static char *current_snapshot(replay *r)
{
    na_topology *t;
    uint64_t seq;

    pthread_mutex_lock(&r->lock);
    t = na_topology_ref(r->state);
    seq = r->seq;
    pthread_mutex_unlock(&r->lock);
    return snapshot_text(t, seq);
}

/*
 * Every connection starts with the current snapshot. The state is taken before the pacing
 * thread hears of the client (--wait-client), so its first delta comes after this snapshot:
 * the server queues the snapshot before it lets any publisher reach the new client.
 */
static char *ws_open(na__ws_client *client, const char *path, void **state, void *ud)
{
    replay *r = ud;
    na_topology *t;
    uint64_t seq;

    (void)client;
    (void)path;
    *state = NULL;
    pthread_mutex_lock(&r->lock);
    t = na_topology_ref(r->state);
    seq = r->seq;
    r->opened++;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
    return snapshot_text(t, seq);
}

/* {"type": "resync"} is answered with the snapshot; anything else is ignored. */
static char *ws_message(na__ws_client *client, void *state, const char *text, size_t len,
                        void *ud)
{
    json_t *doc = json_loadb(text, len, 0, NULL);
    const char *type = json_string_value(json_object_get(doc, "type"));
    bool resync = type && strcmp(type, "resync") == 0;

    (void)client;
    (void)state;
    json_decref(doc);
    return resync ? current_snapshot(ud) : NULL;
}

static bool token_matches(const char *given, const char *want)
{
    size_t gl = strlen(given), wl = strlen(want);
    unsigned diff = gl != wl;

    /* Same time whatever the first difference. */
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned)((i < gl ? (unsigned char)given[i] : 0) ^ (unsigned char)want[i]);
    return diff == 0;
}

static bool ws_authorize(const char *path, const char *authorization, const char *access_token,
                         void *ud)
{
    replay *r = ud;

    (void)path;
    if (!r->token)
        return true;
    if (authorization && strncmp(authorization, "Bearer ", 7) == 0 &&
        token_matches(authorization + 7, r->token))
        return true;
    return access_token && token_matches(access_token, r->token);
}

/* Plain HTTP: GET /status tells where the replay is; everything else is 404. */
static void http_handler(const na__http_request *req, na__http_response *resp, void *ud)
{
    replay *r = ud;
    uint64_t seq, sent;
    size_t clients;
    char *body;
    int n;

    if (strcmp(req->path, "/status") != 0) {
        na__http_error(resp, 404, "not_found", "no such path; the stream is on "
                                               "/topology/stream (WebSocket)");
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        snprintf(resp->allow, sizeof(resp->allow), "GET");
        na__http_error(resp, 405, "method_not_allowed", "GET only");
        return;
    }
    clients = na__http_ws_clients(r->srv, NULL);
    pthread_mutex_lock(&r->lock);
    seq = r->seq;
    sent = r->sent;
    pthread_mutex_unlock(&r->lock);
    body = malloc(160);
    if (!body) {
        na__http_error(resp, 500, "internal", "out of memory");
        return;
    }
    n = snprintf(body, 160, "{\"service\":\"netassure replay\",\"seq\":%" PRIu64 ",\"sent\":%"
                 PRIu64 ",\"clients\":%zu}", seq, sent, clients);
    na__http_respond(resp, 200, "application/json", body, (size_t)n);
}

/* ---- the pacing thread ----------------------------------------------------------------- */

static void publish(replay *r, const char *text, size_t len)
{
    for (size_t i = 0; ws_paths[i]; i++)
        na__http_ws_publish(r->srv, ws_paths[i], NULL, text, len);
}

static void log_progress(replay *r)
{
    size_t clients = na__http_ws_clients(r->srv, NULL);
    uint64_t sent, seq;

    pthread_mutex_lock(&r->lock);
    sent = r->sent;
    seq = r->seq;
    pthread_mutex_unlock(&r->lock);
    na_log(NA_LOG_INFO, "replay: %" PRIu64 " messages sent, seq %" PRIu64 ", %zu client%s",
           sent, seq, clients, clients == 1 ? "" : "s");
}

/*
 * Waits until the monotonic time `deadline_ns` (absolute, so the rate holds however long each
 * send took), logging progress every 5 s meanwhile. False when stopping.
 */
static bool pace_wait(replay *r, int64_t deadline_ns, int64_t *next_log_ns)
{
    for (;;) {
        int64_t now = mono_ns(), until = deadline_ns;
        bool stop;
        if (now >= *next_log_ns) {
            log_progress(r); /* outside the lock: it asks the server */
            *next_log_ns = now + PROGRESS_NS;
        }
        if (until > *next_log_ns)
            until = *next_log_ns;
        pthread_mutex_lock(&r->lock);
        if (!r->stop && now < until) {
            struct timespec ts = {(time_t)(until / NS_PER_S), (long)(until % NS_PER_S)};
            pthread_cond_timedwait(&r->wake, &r->lock, &ts);
        }
        stop = r->stop;
        pthread_mutex_unlock(&r->lock);
        if (stop)
            return false;
        if (mono_ns() >= deadline_ns)
            return true;
    }
}

/* Makes `next` (a new reference) the state with `seq`. */
static void set_state(replay *r, na_topology *next, uint64_t seq)
{
    na_topology *old;

    pthread_mutex_lock(&r->lock);
    old = r->state;
    r->state = next;
    r->seq = seq;
    r->sent++;
    pthread_mutex_unlock(&r->lock);
    na_topology_unref(old);
}

/* Applies delta i to the state (stamped with the send time) and publishes it. A delta that
 * does not apply is skipped with a warning; false when it was. */
static bool send_delta(replay *r, size_t i)
{
    na_delta *d = r->deltas[i];
    na_topology *next = NULL;
    uint64_t seq = r->seq + 1; /* only this thread writes seq */
    na_error err;
    size_t len;
    char *text;

    na_error_clear(&err);
    na_delta_set_timestamp_ms(d, na_time_now());
    if (na_topology_apply_delta(r->state, d, &next, &err)) {
        na_log(NA_LOG_WARN, "replay: delta %zu does not apply to the replay's state, skipped: "
                            "%s", i + 1, err.message);
        return false;
    }
    text = na__stream_delta_text(d, seq, &len);
    if (!text) {
        na_log(NA_LOG_WARN, "replay: out of memory writing delta %zu; skipped", i + 1);
        na_topology_unref(next);
        return false;
    }
    /* The state first: a client connecting now gets this snapshot and then this delta, which
     * it skips as stale; the other order would leave it with a gap. */
    set_state(r, next, seq);
    publish(r, text, len);
    free(text);
    return true;
}

static void *pace_main(void *arg)
{
    replay *r = arg;
    double interval_ns = r->rate > 0 ? 1e9 / r->rate : 0;
    int64_t t0, next_log;
    uint64_t k = 0; /* paced messages so far: message k is due at t0 + k * interval */
    bool stop = false;

    pthread_mutex_lock(&r->lock);
    while (r->wait_client && !r->stop && r->opened == 0)
        pthread_cond_wait(&r->wake, &r->lock);
    stop = r->stop;
    pthread_mutex_unlock(&r->lock);
    t0 = mono_ns();
    next_log = t0 + PROGRESS_NS;
    while (!stop) {
        for (size_t i = 0; !stop && i < r->n_deltas; i++) {
            stop = !pace_wait(r, t0 + (int64_t)(k * interval_ns), &next_log);
            if (!stop && send_delta(r, i))
                k++;
        }
        for (size_t i = 0; !stop && i < r->n_raw; i++) {
            stop = !pace_wait(r, t0 + (int64_t)(k * interval_ns), &next_log);
            if (stop)
                break;
            publish(r, r->raw[i].text, r->raw[i].len);
            pthread_mutex_lock(&r->lock);
            r->sent++;
            pthread_mutex_unlock(&r->lock);
            k++;
        }
        if (stop || !r->loop)
            break;
        /* Start over: the first snapshot again, as a new state everyone must take. */
        stop = !pace_wait(r, t0 + (int64_t)(k * interval_ns), &next_log);
        if (!stop) {
            char *text;
            set_state(r, na_topology_ref(r->initial), r->seq + 1);
            text = current_snapshot(r);
            if (text)
                publish(r, text, strlen(text));
            free(text);
            k++;
        }
    }
    if (!stop) {
        log_progress(r);
        na_log(NA_LOG_INFO, "replay: done; serving the final state until SIGINT or SIGTERM");
        while (pace_wait(r, INT64_MAX, &next_log)) {
        }
    }
    return NULL;
}

/* ---- set-up ------------------------------------------------------------------------------ */

static void *signal_main(void *arg)
{
    replay *r = arg;
    int fd = na__stop_fd();
    unsigned char sig = 0;

    for (;;) {
        ssize_t n = read(fd, &sig, 1);
        if (n == 1 || (n < 0 && errno != EINTR))
            break;
    }
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
    na__http_server_stop(r->srv);
    return NULL;
}

static int load_deltas(replay *r, const char *path)
{
    na_delta **v = NULL, **grown;
    size_t len, n = 0;
    char *data = NULL;
    na_error err;
    int rc;

    na_error_clear(&err);
    rc = na_read_file(path, NA_IMPORT_MAX_BYTES, &data, &len, &err);
    if (!rc)
        rc = na_json_parse_deltas(data, len, path, &v, &n, &err);
    free(data);
    if (rc)
        return na_cli_fail(&err);
    grown = realloc(r->deltas, (r->n_deltas + n + 1) * sizeof(*grown));
    if (!grown) {
        for (size_t i = 0; i < n; i++)
            na_delta_free(v[i]);
        free(v);
        fprintf(stderr, "netassure replay: out of memory\n");
        return NA_EXIT_ERROR;
    }
    r->deltas = grown;
    memcpy(r->deltas + r->n_deltas, v, n * sizeof(*v));
    r->n_deltas += n;
    free(v);
    na_log(NA_LOG_INFO, "%s: %zu delta%s", path, n, n == 1 ? "" : "s");
    return NA_EXIT_OK;
}

/* Lines of the --raw file, sent verbatim (empty lines are skipped; a trailing CR is cut). */
static int load_raw(replay *r, const char *path)
{
    size_t len, n = 0;
    na_error err;

    na_error_clear(&err);
    if (na_read_file(path, NA_IMPORT_MAX_BYTES, &r->raw_data, &len, &err))
        return na_cli_fail(&err);
    for (size_t i = 0; i < len; i++)
        n += r->raw_data[i] == '\n';
    r->raw = calloc(n + 1, sizeof(*r->raw));
    if (!r->raw) {
        fprintf(stderr, "netassure replay: out of memory\n");
        return NA_EXIT_ERROR;
    }
    for (size_t start = 0; start < len;) {
        const char *nl = memchr(r->raw_data + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - r->raw_data) : len, l = end - start;
        if (l && r->raw_data[start + l - 1] == '\r')
            l--;
        if (l > NA_STREAM_MAX_MESSAGE) {
            fprintf(stderr, "netassure replay: %s: a line over %zu bytes\n", path,
                    (size_t)NA_STREAM_MAX_MESSAGE);
            return NA_EXIT_ERROR;
        }
        if (l)
            r->raw[r->n_raw++] = (raw_line){r->raw_data + start, l};
        start = end + 1;
    }
    return NA_EXIT_OK;
}

static void replay_usage(FILE *out)
{
    fprintf(out,
            "usage: netassure replay SNAPSHOT [DELTAS...] --listen ADDR:PORT [--rate R] [--loop]\n"
            "                        [--raw FILE.jsonl] [--token T] [--wait-client]\n\n"
            "Serves a topology stream (docs/topology-stream.md) on ws://ADDR:PORT/topology/stream\n"
            "(and /) for demos and tests. SNAPSHOT is a topology file (JSON, GML, GraphML, YAML);\n"
            "DELTAS are delta or events documents (docs/topology-schema.md). Every client gets\n"
            "the current snapshot when it connects and when it sends {\"type\":\"resync\"};\n"
            "the deltas are applied to the replay's state and sent to all clients in order,\n"
            "with seq + 1 each and the send time as timestamp. When done it keeps serving the\n"
            "final state until SIGINT or SIGTERM. GET /status answers {seq, sent, clients}.\n\n"
            "  --listen ADDR:PORT   where to listen (127.0.0.1:9000, [::1]:9000, :0 = any port)\n"
            "  --rate R             messages per second (default 10; 0 = as fast as possible)\n"
            "  --loop               start over when done: the snapshot again (seq + 1), then\n"
            "                       the deltas\n"
            "  --raw FILE.jsonl     after the deltas, send each line of FILE verbatim, valid or\n"
            "                       not (fault injection; the state does not change)\n"
            "  --token T            clients must send 'Authorization: Bearer T' (or\n"
            "                       ?access_token=T)\n"
            "  --wait-client        start sending when the first client has connected\n"
            "  -h, --help           this help\n");
}

static void replay_free(replay *r)
{
    for (size_t i = 0; i < r->n_deltas; i++)
        na_delta_free(r->deltas[i]);
    free(r->deltas);
    free(r->raw);
    free(r->raw_data);
    na_topology_unref(r->initial);
    na_topology_unref(r->state);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
}

static int serve(replay *r, const char *host, int port)
{
    na__http_server_opts o;
    pthread_t pace_t, sig_t;
    bool pace_started, sig_started;
    na_error err;
    int rc;

    memset(&o, 0, sizeof(o));
    o.host = host;
    o.port = port;
    o.workers = 1;
    o.ws_paths = ws_paths;
    /* Fast replays queue many messages; a client too slow even for this is dropped. */
    o.ws_queue_messages = (size_t)1 << 18;
    o.ws_queue_bytes = (size_t)256 << 20;
    o.handler = http_handler;
    o.handler_ud = r;
    o.ws.open = ws_open;
    o.ws.message = ws_message;
    o.ws.authorize = ws_authorize;
    o.ws.ud = r;
    na_error_clear(&err);
    if (na__http_server_new(&o, &r->srv, &err))
        return na_cli_fail(&err);
    if (na__stop_fd() < 0) {
        fprintf(stderr, "netassure replay: cannot install signal handlers: %s\n",
                strerror(errno));
        na__http_server_free(r->srv);
        return NA_EXIT_ERROR;
    }
    printf("netassure replay: serving ws://%s%s%s:%d/topology/stream: seq %" PRIu64 ", %zu "
           "delta%s, %zu raw line%s, %g/s%s\n",
           strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
           na__http_server_port(r->srv), r->seq, r->n_deltas, r->n_deltas == 1 ? "" : "s",
           r->n_raw, r->n_raw == 1 ? "" : "s", r->rate, r->loop ? ", looping" : "");
    fflush(stdout);
    sig_started = pthread_create(&sig_t, NULL, signal_main, r) == 0;
    pace_started = pthread_create(&pace_t, NULL, pace_main, r) == 0;
    rc = sig_started && pace_started ? NA_EXIT_OK : NA_EXIT_ERROR;
    if (rc)
        fprintf(stderr, "netassure replay: cannot start its threads\n");
    else if (na__http_server_run(r->srv))
        rc = NA_EXIT_ERROR;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
    if (pace_started)
        pthread_join(pace_t, NULL);
    if (sig_started) {
        na__stop_raise(0); /* wakes it if no signal came */
        pthread_join(sig_t, NULL);
    }
    log_progress(r);
    na__http_server_free(r->srv);
    r->srv = NULL;
    return rc;
}

int na_cli_replay(int argc, char **argv)
{
    enum { O_LISTEN = 256, O_RATE, O_LOOP, O_RAW, O_TOKEN, O_WAIT };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"rate", required_argument, NULL, O_RATE},
        {"loop", no_argument, NULL, O_LOOP},
        {"raw", required_argument, NULL, O_RAW},
        {"token", required_argument, NULL, O_TOKEN},
        {"wait-client", no_argument, NULL, O_WAIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen = NULL, *raw = NULL;
    char host[256];
    int port, c, rc;
    pthread_condattr_t ca;
    replay r;

    memset(&r, 0, sizeof(r));
    r.rate = DEFAULT_RATE;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN: listen = optarg; break;
        case O_RATE:
            if (!na_cli_parse_double(optarg, &r.rate) || r.rate < 0 || r.rate > MAX_RATE)
                return na_cli_usage_error("replay", "--rate needs messages per second, 0 to "
                                                    "%g", MAX_RATE);
            break;
        case O_LOOP: r.loop = true; break;
        case O_RAW: raw = optarg; break;
        case O_TOKEN:
            if (!optarg[0])
                return na_cli_usage_error("replay", "--token needs a value");
            r.token = optarg;
            break;
        case O_WAIT: r.wait_client = true; break;
        case 'h': replay_usage(stdout); return NA_EXIT_OK;
        default: return na_cli_usage_error("replay", "bad option");
        }
    }
    if (optind >= argc)
        return na_cli_usage_error("replay", "a snapshot file is required");
    if (!listen)
        return na_cli_usage_error("replay", "--listen ADDR:PORT is required");
    if (na__parse_listen(listen, host, sizeof(host), &port))
        return na_cli_usage_error("replay", "--listen: expected ADDR:PORT, got '%s'", listen);

    pthread_mutex_init(&r.lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r.wake, &ca);
    pthread_condattr_destroy(&ca);
    rc = na_cli_load(argv[optind], NA_FORMAT_AUTO, &r.initial);
    for (int i = optind + 1; !rc && i < argc; i++)
        rc = load_deltas(&r, argv[i]);
    if (!rc && raw)
        rc = load_raw(&r, raw);
    if (!rc && r.loop && !r.n_deltas && !r.n_raw) {
        na_log(NA_LOG_WARN, "replay: nothing to loop over (no deltas, no raw lines): --loop "
                            "ignored");
        r.loop = false;
    }
    if (!rc) {
        r.state = na_topology_ref(r.initial);
        rc = serve(&r, host, port);
    }
    replay_free(&r);
    return rc;
}
