/*
 * ws_source.c: the topology stream's WebSocket client (ingest/stream.h, na__ws_source_*).
 *
 * One thread per source owns an lws client context and its one connection. Everything lws
 * does happens on that thread: connecting, joining fragments into messages, calling the
 * owner's callbacks, scheduling retries (an lws_sorted_usec_list_t timer, so a retry never
 * blocks the loop). Other threads only set atomic flags (stop, resync) and wake the loop with
 * lws_cancel_service, the one lws call documented as safe from any thread; statistics are
 * copied under a mutex.
 *
 * Retries: exponential backoff from backoff_min_ms to backoff_max_ms with +-20% jitter (so many
 * consumers of one producer do not reconnect in step). A connection that lasted more than
 * 10 s or delivered a message resets it; a resync reconnects at once and leaves it as it is.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "ingest/stream.h"

#define DEFAULT_PATH "/topology/stream"
#define DEFAULT_BACKOFF_MIN_MS 250
#define DEFAULT_BACKOFF_MAX_MS 30000
#define HEALTHY_US (10 * LWS_US_PER_SEC)  /* a connection this long resets the backoff */
#define MAX_URL 2048
#define MAX_TOKEN 1024
#define RX_CHUNK 65536
/* A receive buffer grown past this for one big message is given back afterwards. */
#define RX_KEEP ((size_t)4 << 20)
#define PROTOCOL_NAME "netassure-stream-client"

struct na__ws_source {
    /* Set by start, read-only afterwards. */
    char host[256];
    char host_header[300];
    char path[MAX_URL];
    int port;
    bool tls;
    char *token;
    size_t max_message;
    int backoff_min_ms, backoff_max_ms;
    void (*on_message)(const char *text, size_t len, void *ud);
    void (*on_state)(bool connected, const char *reason, void *ud);
    void *ud;

    struct lws_context *ctx;
    pthread_t thread;
    atomic_bool stop;
    atomic_bool resync;

    /* Client thread only. */
    struct lws *wsi;               /* the connection while connecting or open */
    lws_sorted_usec_list_t retry;  /* the next connection attempt */
    bool attempt_over;             /* this attempt's end was handled (error and close race) */
    bool established;
    bool resync_close;             /* closing on purpose: reconnect at once */
    bool stopping;                 /* context being destroyed: no callbacks, no retries */
    bool got_message;
    lws_usec_t connected_at;
    unsigned failures;             /* consecutive attempts that did not go well */
    uint32_t rng;
    char close_why[160];           /* the peer's close reason, when it gave one */
    char *rx;
    size_t rx_len, rx_cap;

    pthread_mutex_t lock;          /* guards stats */
    na__ws_source_stats stats;
};

/* Idle connections are pinged; one silent for 90 s is dropped (a peer that vanished without
 * closing, e.g. behind a NAT that forgot us). */
static const lws_retry_bo_t idle_policy = {
    .secs_since_valid_ping = 30,
    .secs_since_valid_hangup = 90,
};

static void lws_log_to_na(int level, const char *line)
{
    size_t n = strlen(line);

    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    /* Per-connection trouble is reported by end_attempt; lws's own words are detail. */
    na_log(level & LLL_ERR ? NA_LOG_INFO : NA_LOG_DEBUG, "libwebsockets: %.*s", (int)n, line);
}

static uint32_t next_random(na__ws_source *s)
{
    /* xorshift32: jitter only needs to differ between processes, not to be unpredictable. */
    uint32_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s->rng = x ? x : 0x9e3779b9u;
    return s->rng;
}

/* The delay before attempt number `failures` + 1: min * 2^failures, capped, +-20%. */
static int backoff_ms(na__ws_source *s)
{
    double d = s->backoff_min_ms;

    for (unsigned i = 0; i < s->failures && d < s->backoff_max_ms; i++)
        d *= 2;
    if (d > s->backoff_max_ms)
        d = s->backoff_max_ms;
    d *= 0.8 + 0.4 * (next_random(s) % 10001) / 10000.0;
    return d < 1 ? 1 : (int)d;
}

static void retry_cb(lws_sorted_usec_list_t *sul);

/*
 * The end of a connection attempt, whichever way it ended: records why, tells the owner when
 * an open connection dropped, and schedules the next attempt.
 */
static void end_attempt(na__ws_source *s, const char *why)
{
    bool was_up = s->established;
    int delay;

    if (s->attempt_over)
        return;
    s->attempt_over = true;
    s->wsi = NULL;
    s->established = false;
    if (s->resync_close) {
        delay = 0;
    } else {
        if (was_up && (s->got_message || lws_now_usecs() - s->connected_at > HEALTHY_US))
            s->failures = 0;
        delay = backoff_ms(s);
        s->failures++;
    }
    s->resync_close = false;
    pthread_mutex_lock(&s->lock);
    if (was_up) {
        s->stats.disconnects++;
        s->stats.connected = false;
    }
    s->stats.next_retry_ms = delay;
    if (why)
        snprintf(s->stats.last_error, sizeof(s->stats.last_error), "%s", why);
    pthread_mutex_unlock(&s->lock);
    if (s->stopping)
        return;
    na_log(was_up ? NA_LOG_INFO : NA_LOG_DEBUG, "ws %s:%d%s: %s; next attempt in %d ms",
           s->host, s->port, s->path, why ? why : "disconnected", delay);
    if (was_up && s->on_state)
        s->on_state(false, why ? why : "disconnected", s->ud);
    lws_sul_schedule(s->ctx, 0, &s->retry, retry_cb, (lws_usec_t)delay * LWS_US_PER_MS);
}

static void connect_now(na__ws_source *s)
{
    struct lws_client_connect_info ci;
    struct lws *wsi;

    memset(&ci, 0, sizeof(ci));
    ci.context = s->ctx;
    ci.address = s->host;
    ci.port = s->port;
    ci.path = s->path;
    ci.host = s->host_header;
    ci.origin = s->host_header;
    ci.ssl_connection = s->tls ? LCCSCF_USE_SSL : 0;
    ci.local_protocol_name = PROTOCOL_NAME;
    ci.retry_and_idle_policy = &idle_policy;
    ci.pwsi = &s->wsi;
    s->attempt_over = false;
    s->established = false;
    s->got_message = false;
    s->close_why[0] = '\0';
    s->rx_len = 0;
    wsi = lws_client_connect_via_info(&ci);
    if (!wsi)
        end_attempt(s, "cannot start a connection"); /* no-op if the error callback ran */
}

static void retry_cb(lws_sorted_usec_list_t *sul)
{
    na__ws_source *s = lws_container_of(sul, na__ws_source, retry);

    if (!s->stopping && !atomic_load(&s->stop))
        connect_now(s);
}

/* Resync asked from another thread (or from on_message, when not handled there). */
static void do_resync(na__ws_source *s)
{
    if (s->wsi && s->established) {
        s->resync_close = true;
        lws_callback_on_writable(s->wsi); /* closes from its writable callback */
    } else if (!s->wsi) {
        /* Backing off: try now. While connecting, the coming connection resyncs anyway. */
        lws_sul_cancel(&s->retry);
        connect_now(s);
    }
}

static int append_rx(na__ws_source *s, const void *in, size_t len)
{
    if (len > s->max_message - s->rx_len)
        return 1;
    if (s->rx_len + len + 1 > s->rx_cap) {
        size_t cap = s->rx_cap ? s->rx_cap : RX_CHUNK;
        char *p;
        while (cap < s->rx_len + len + 1)
            cap *= 2;
        if (cap > s->max_message + 1)
            cap = s->max_message + 1;
        p = realloc(s->rx, cap);
        if (!p)
            return -1;
        s->rx = p;
        s->rx_cap = cap;
    }
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    return 0;
}

static int on_receive(na__ws_source *s, struct lws *wsi, const void *in, size_t len)
{
    int rc = append_rx(s, in, len);

    if (rc) {
        char why[96];
        if (rc > 0) {
            snprintf(why, sizeof(why), "message over %zu bytes", s->max_message);
            pthread_mutex_lock(&s->lock);
            s->stats.oversized++;
            pthread_mutex_unlock(&s->lock);
        } else {
            snprintf(why, sizeof(why), "out of memory joining a message");
        }
        snprintf(s->close_why, sizeof(s->close_why), "%s", why);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why,
                         strlen(why));
        return -1;
    }
    if (!lws_is_final_fragment(wsi))
        return 0;
    s->rx[s->rx_len] = '\0';
    s->got_message = true;
    pthread_mutex_lock(&s->lock);
    s->stats.messages++;
    s->stats.bytes += s->rx_len;
    pthread_mutex_unlock(&s->lock);
    if (s->on_message)
        s->on_message(s->rx, s->rx_len, s->ud);
    s->rx_len = 0;
    if (s->rx_cap > RX_KEEP) {
        free(s->rx);
        s->rx = NULL;
        s->rx_cap = 0;
    }
    /* A resync asked by on_message: close before reading anything more from this
     * connection; what it still holds belongs to the state we are leaving. */
    if (atomic_exchange(&s->resync, false)) {
        static const char why[] = "resync";
        s->resync_close = true;
        snprintf(s->close_why, sizeof(s->close_why), "%s", why);
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)why, sizeof(why) - 1);
        return -1;
    }
    return 0;
}

static int add_auth_header(na__ws_source *s, struct lws *wsi, unsigned char **p,
                           unsigned char *end)
{
    char auth[MAX_TOKEN + 16];
    int n;

    if (!s->token)
        return 0;
    n = snprintf(auth, sizeof(auth), "Bearer %s", s->token);
    if (n < 0 || (size_t)n >= sizeof(auth))
        return -1;
    return lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)auth,
                                        n, p, end) ? -1 : 0;
}

static int client_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    na__ws_source *s = lws_context_user(lws_get_context(wsi));
    char why[sizeof(((na__ws_source_stats *)NULL)->last_error)];

    (void)user;
    if (!s)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = in, *end = *p + len;
        return add_auth_header(s, wsi, p, end);
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        s->established = true;
        s->connected_at = lws_now_usecs();
        pthread_mutex_lock(&s->lock);
        s->stats.connected = true;
        s->stats.connects++;
        s->stats.next_retry_ms = 0;
        pthread_mutex_unlock(&s->lock);
        na_log(NA_LOG_INFO, "ws %s:%d%s: connected", s->host, s->port, s->path);
        if (s->on_state && !s->stopping)
            s->on_state(true, NULL, s->ud);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (s->stopping)
            return -1;
        return on_receive(s, wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (s->resync_close) {
            static const char msg[] = "resync";
            snprintf(s->close_why, sizeof(s->close_why), "%s", msg);
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)msg,
                             sizeof(msg) - 1);
            return -1;
        }
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        /* Payload: a 2-byte status, then an optional reason text. */
        if (in && len >= 2) {
            const unsigned char *b = in;
            snprintf(s->close_why, sizeof(s->close_why), "closed by the server (%u%s%.*s)",
                     (unsigned)(b[0] << 8 | b[1]), len > 2 ? ": " : "",
                     (int)(len > 102 ? 100 : len - 2), (const char *)b + 2);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        snprintf(why, sizeof(why), "cannot connect to %.60s:%d%.40s: %.60s", s->host, s->port,
                 s->path, in && len ? (const char *)in : "connection failed");
        end_attempt(s, why);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        snprintf(why, sizeof(why), "%s",
                 s->close_why[0] ? s->close_why : "connection lost (no close frame)");
        end_attempt(s, why);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {PROTOCOL_NAME, client_cb, 0, RX_CHUNK, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static void *client_thread(void *arg)
{
    na__ws_source *s = arg;

    connect_now(s);
    while (!atomic_load(&s->stop)) {
        if (atomic_exchange(&s->resync, false))
            do_resync(s);
        if (lws_service(s->ctx, 0) < 0) {
            na_log(NA_LOG_ERROR, "ws %s:%d%s: the event loop failed; the source stopped",
                   s->host, s->port, s->path);
            break;
        }
    }
    s->stopping = true;
    lws_sul_cancel(&s->retry);
    return NULL;
}

/* Splits ws[s]://host[:port][/path] into the source; 0 or NA_EINVAL with the reason. */
static int parse_url(na__ws_source *s, const char *url, na_error *err)
{
    char buf[MAX_URL];
    const char *prot = NULL, *ads = NULL, *path = NULL, *rest;
    int port = 0;

    if (strlen(url) >= sizeof(buf))
        return na_error_set(err, NA_EINVAL, "stream URL too long (%zu bytes, at most %zu)",
                            strlen(url), sizeof(buf) - 1);
    snprintf(buf, sizeof(buf), "%s", url);
    if (!strstr(buf, "://") || lws_parse_uri(buf, &prot, &ads, &port, &path) || !ads ||
        !ads[0])
        return na_error_set(err, NA_EINVAL, "malformed stream URL '%.200s' (ws://host:port/path)",
                            url);
    if (strcmp(prot, "ws") == 0)
        s->tls = false;
    else if (strcmp(prot, "wss") == 0)
        s->tls = true;
    else
        return na_error_set(err, NA_EINVAL, "stream URL '%.200s': scheme %s is not ws or wss",
                            url, prot);
    if (port <= 0 || port > 65535)
        return na_error_set(err, NA_EINVAL, "stream URL '%.200s': bad port", url);
    if (strlen(ads) >= sizeof(s->host))
        return na_error_set(err, NA_EINVAL, "stream URL '%.200s': host name too long", url);
    snprintf(s->host, sizeof(s->host), "%s", ads);
    s->port = port;
    /* No path at all (not even "/") means the default. lws_parse_uri cannot tell: it gives
     * "/" then, and drops the leading '/' of a real path. */
    rest = strstr(url, "://") + 3;
    if (!strchr(rest, '/'))
        snprintf(s->path, sizeof(s->path), "%s%s", DEFAULT_PATH,
                 strchr(rest, '?') ? strchr(rest, '?') : "");
    else
        snprintf(s->path, sizeof(s->path), "%s%s", path && path[0] == '/' ? "" : "/",
                 path ? path : "");
    if ((s->tls && port == 443) || (!s->tls && port == 80))
        snprintf(s->host_header, sizeof(s->host_header), "%s", s->host);
    else
        snprintf(s->host_header, sizeof(s->host_header), "%s:%d", s->host, port);
    return NA_OK;
}

/*
 * Checks the options, creates the client context and starts the thread, which connects in the
 * background. On success *out is the source (na__ws_source_stop frees it); on failure NULL.
 */
int na__ws_source_start(const na__ws_source_opts *o, na__ws_source **out, na_error *err)
{
    struct lws_context_creation_info info;
    na__ws_source *s;
    struct timespec now;
    int rc;

    *out = NULL;
    if (!o || !o->url)
        return na_error_set(err, NA_EINVAL, "ws source: a URL is required");
    if (o->token && strlen(o->token) > MAX_TOKEN)
        return na_error_set(err, NA_EINVAL, "ws source: token over %d bytes", MAX_TOKEN);
    s = calloc(1, sizeof(*s));
    if (!s)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    rc = parse_url(s, o->url, err);
    if (rc)
        goto out_free;
    if (o->token && o->token[0]) {
        s->token = strdup(o->token);
        if (!s->token) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out_free;
        }
    }
    s->max_message = o->max_message ? o->max_message : NA_STREAM_MAX_MESSAGE;
    s->backoff_min_ms = o->backoff_min_ms > 0 ? o->backoff_min_ms : DEFAULT_BACKOFF_MIN_MS;
    s->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
    if (s->backoff_max_ms < s->backoff_min_ms)
        s->backoff_max_ms = s->backoff_min_ms;
    s->on_message = o->on_message;
    s->on_state = o->on_state;
    s->ud = o->ud;
    clock_gettime(CLOCK_REALTIME, &now);
    s->rng = (uint32_t)now.tv_nsec ^ (uint32_t)now.tv_sec ^ (uint32_t)(uintptr_t)s;
    if (!s->rng)
        s->rng = 1;
    atomic_init(&s->stop, false);
    atomic_init(&s->resync, false);

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_na);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = s;
    info.options = s->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
    info.connect_timeout_secs = 10;
    info.timeout_secs = 20;
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        rc = na_error_set(err, NA_EIO, "ws source: cannot create the libwebsockets context");
        goto out_free;
    }
    rc = pthread_create(&s->thread, NULL, client_thread, s);
    if (rc) {
        rc = na_error_set(err, NA_EIO, "ws source: cannot start its thread: %s", strerror(rc));
        goto out_destroy;
    }
    *out = s;
    return NA_OK;

out_destroy:
    lws_context_destroy(s->ctx);
out_free:
    pthread_mutex_destroy(&s->lock);
    free(s->token);
    free(s);
    return rc;
}

void na__ws_source_resync(na__ws_source *s)
{
    if (!s)
        return;
    atomic_store(&s->resync, true);
    lws_cancel_service(s->ctx);
}

void na__ws_source_stats_get(na__ws_source *s, na__ws_source_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

/*
 * Stops the thread and frees the source. The context is destroyed here, after the join, so a
 * wake-up sent just before cannot reach a destroyed context; its close callbacks see
 * `stopping` and stay quiet.
 */
void na__ws_source_stop(na__ws_source *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    lws_cancel_service(s->ctx);
    pthread_join(s->thread, NULL);
    s->stopping = true;
    lws_context_destroy(s->ctx);
    pthread_mutex_destroy(&s->lock);
    free(s->rx);
    free(s->token);
    free(s);
}
