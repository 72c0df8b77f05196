/*
 * http.c: the daemon's HTTP + WebSocket server on libwebsockets (see server/http.h).
 *
 * One event-loop thread owns every socket. A request is collected on the loop (headers, then the
 * body up to max_body), copied into a job and queued to the worker pool; a worker runs the
 * handler, marks the job done, links it on the done list and wakes the loop
 * (lws_cancel_service). The loop, on LWS_CALLBACK_EVENT_WAIT_CANCELLED, asks for writable
 * callbacks for finished jobs and writes each response in chunks.
 *
 * Job ownership: a job belongs to its connection (conn.job) while it is read and written. When
 * the connection closes while a worker has it (queued or running), the job is marked orphaned
 * and whoever touches it last frees it: the worker when it finishes, the loop when the job sits
 * on the done list. All job state changes happen under srv->lock.
 *
 * WebSocket clients live on srv->ws_head under srv->ws_lock, which also serializes the open /
 * message callbacks with accept (called by publishers on other threads), so a client's state is
 * never read by accept while message rewrites it. Each client has a bounded queue; a publisher
 * that would overflow it marks the client closing (1008) instead of waiting.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "server/http.h"

#define DEFAULT_PORT 8080
#define DEFAULT_WORKERS 4
#define DEFAULT_MAX_BODY ((size_t)1 << 20)
#define DEFAULT_MAX_HEADER ((size_t)8 << 10)
#define DEFAULT_WS_QUEUE_MESSAGES 1024
#define DEFAULT_WS_QUEUE_BYTES ((size_t)16 << 20)
#define DEFAULT_MAX_WS_MESSAGE ((size_t)64 << 10)
#define MAX_WORKERS 256
/* Bytes written per lws_write: big enough for throughput, small enough to bound lws's copy of
 * a partially sent chunk. */
#define WRITE_CHUNK ((size_t)64 << 10)
#define HEADER_ROOM 4096
#define STOP_GRACE_US (1000 * LWS_US_PER_MS)
#define MAX_WS_PATH 256

enum job_state { JOB_READING, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

typedef struct job {
    struct job *next;         /* work queue or done list (under srv->lock) */
    struct lws *wsi;          /* the connection; valid while not orphaned */
    enum job_state state;     /* under srv->lock */
    bool orphaned;            /* the connection is gone; under srv->lock */
    bool in_done_list;        /* under srv->lock */
    bool head_only;           /* HEAD: headers without the body */
    bool close_after;         /* the request was not read completely: close after writing */
    bool headers_sent;
    na__http_request req;
    na__http_response resp;
    char *strings;            /* path, query and header copies, one allocation */
    char *body;
    size_t body_len, body_expected;
    size_t sent;              /* body bytes written */
} job;

typedef struct ws_msg {
    struct ws_msg *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes for lws, then the text */
} ws_msg;

struct na__ws_client {
    na__http_server *srv;
    struct lws *wsi;
    struct na__ws_client *next, *prev; /* srv->ws_head, under ws_lock */
    char path[MAX_WS_PATH];
    void *state;
    /* Under ws_lock: the queue and the closing decision. */
    ws_msg *q_head, *q_tail;
    size_t q_count, q_bytes;
    bool closing, close_started;
    char close_reason[120];
    /* Loop thread only. */
    ws_msg *cur;              /* message being written */
    size_t cur_off;
    char *in;                 /* incoming message being assembled */
    size_t in_len;
};

/* Per-connection data (lws per_session_data); lws zeroes it for each connection. */
typedef struct conn {
    job *job;
    na__ws_client *ws;
    bool close_pending;       /* close once lws has flushed what it buffered */
} conn;

struct na__http_server {
    na__http_server_opts opts;
    char host[128];
    char **ws_paths;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    struct lws_protocols protocols[2];
    int port;

    pthread_mutex_t lock;     /* jobs, queues, live_jobs, HTTP stats */
    pthread_cond_t work_cv;
    job *work_head, *work_tail, *done_head;
    bool quit_workers, workers_gone;
    size_t live_jobs;         /* jobs still owned by a connection */
    pthread_t *threads;
    unsigned n_threads;

    pthread_mutex_t ws_lock;  /* WebSocket clients, their queues, WS stats */
    na__ws_client *ws_head;

    na__http_stats stats;
    atomic_bool stop;
    lws_sorted_usec_list_t tick; /* wakes the loop during the stop grace */
    unsigned char *wbuf;      /* LWS_PRE + WRITE_CHUNK, loop thread only */
};

/* ---------------------------------------------------------------- jobs and workers ---- */

static void job_free(job *j)
{
    if (!j)
        return;
    free(j->resp.body);
    free(j->body);
    free(j->strings);
    free(j);
}

static void *worker_main(void *arg)
{
    na__http_server *srv = arg;

    for (;;) {
        job *j;
        pthread_mutex_lock(&srv->lock);
        while (!srv->quit_workers && !srv->work_head)
            pthread_cond_wait(&srv->work_cv, &srv->lock);
        if (srv->quit_workers) {
            pthread_mutex_unlock(&srv->lock);
            break;
        }
        j = srv->work_head;
        srv->work_head = j->next;
        if (!srv->work_head)
            srv->work_tail = NULL;
        j->next = NULL;
        if (j->orphaned) {
            pthread_mutex_unlock(&srv->lock);
            job_free(j);
            continue;
        }
        j->state = JOB_RUNNING;
        pthread_mutex_unlock(&srv->lock);

        srv->opts.handler(&j->req, &j->resp, srv->opts.handler_ud);

        pthread_mutex_lock(&srv->lock);
        j->state = JOB_DONE;
        if (j->orphaned) {
            pthread_mutex_unlock(&srv->lock);
            job_free(j);
            continue;
        }
        j->in_done_list = true;
        j->next = srv->done_head;
        srv->done_head = j;
        pthread_mutex_unlock(&srv->lock);
        lws_cancel_service(srv->ctx);
    }
    return NULL;
}

/* Detaches the connection's job when the connection goes away (loop thread). */
static void conn_drop_job(na__http_server *srv, conn *c)
{
    job *j = c->job, *to_free = NULL;

    if (!j)
        return;
    c->job = NULL;
    pthread_mutex_lock(&srv->lock);
    srv->live_jobs--;
    if (j->state == JOB_READING || (j->state == JOB_DONE && !j->in_done_list))
        to_free = j;
    else
        j->orphaned = true; /* freed by the worker, the done-list walk, or (workers gone)
                               na__http_server_free with the work queue */
    pthread_mutex_unlock(&srv->lock);
    job_free(to_free);
}

/* ------------------------------------------------------------------- request intake ---- */

static const char *method_name(int m)
{
    switch (m) {
    case LWSHUMETH_GET: return "GET";
    case LWSHUMETH_POST: return "POST";
    case LWSHUMETH_OPTIONS: return "OPTIONS";
    case LWSHUMETH_PUT: return "PUT";
    case LWSHUMETH_PATCH: return "PATCH";
    case LWSHUMETH_DELETE: return "DELETE";
    case LWSHUMETH_CONNECT: return "CONNECT";
    case LWSHUMETH_HEAD: return "HEAD";
    default: return "UNKNOWN";
    }
}

static bool unreserved(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

static void encode_into(char *out, size_t *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (unreserved(ch)) {
            out[(*o)++] = (char)ch;
        } else {
            out[(*o)++] = '%';
            out[(*o)++] = hex[ch >> 4];
            out[(*o)++] = hex[ch & 15];
        }
    }
}

/*
 * lws hands the query already split at '&' and percent-decoded; the handler wants the raw
 * form. Re-encodes every argument (name=value), which na__http_query_get decodes back to the
 * same values. Returns a malloc'd string (caller frees) or NULL when out of memory.
 */
static char *rebuild_query(struct lws *wsi)
{
    int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    size_t cap, o = 0;
    char *frag, *out;

    if (total <= 0)
        return strdup("");
    /* The fragments hold `total` bytes in all; each encodes to at most 3, plus one '&' per
     * fragment (at most 256) and the NUL. */
    cap = (size_t)total * 3 + 256 + 1;
    frag = malloc((size_t)total + 1);
    out = malloc(cap);
    if (!frag || !out) {
        free(frag);
        free(out);
        return NULL;
    }
    for (int idx = 0; idx < 256; idx++) {
        int n = lws_hdr_copy_fragment(wsi, frag, total + 1, WSI_TOKEN_HTTP_URI_ARGS, idx);
        const char *eq;
        if (n < 0)
            break;
        if (n == 0)
            continue;
        if (o)
            out[o++] = '&';
        eq = memchr(frag, '=', (size_t)n);
        if (eq) {
            encode_into(out, &o, frag, (size_t)(eq - frag));
            out[o++] = '=';
            encode_into(out, &o, eq + 1, (size_t)n - (size_t)(eq - frag) - 1);
        } else {
            encode_into(out, &o, frag, (size_t)n);
        }
    }
    out[o] = '\0';
    free(frag);
    return out;
}

/* Length of a header (0 when absent). */
static size_t hdr_len(struct lws *wsi, enum lws_token_indexes h)
{
    int n = lws_hdr_total_length(wsi, h);
    return n > 0 ? (size_t)n : 0;
}

/* Copies header h into *pos (advanced past its NUL) and returns it, or NULL when absent. */
static const char *hdr_copy(struct lws *wsi, enum lws_token_indexes h, char **pos)
{
    size_t n = hdr_len(wsi, h);
    char *dst = *pos;

    if (!n)
        return NULL;
    if (lws_hdr_copy(wsi, dst, (int)n + 1, h) < 0)
        return NULL;
    *pos += n + 1;
    return dst;
}

static void count_request(na__http_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    srv->stats.requests++;
    pthread_mutex_unlock(&srv->lock);
}

/* Attaches a job to the connection; counts it live. */
static void conn_attach(na__http_server *srv, conn *c, job *j)
{
    c->job = j;
    pthread_mutex_lock(&srv->lock);
    srv->live_jobs++;
    pthread_mutex_unlock(&srv->lock);
}

/* Answers without the handler (too large, malformed); the job is ready to write. */
static int respond_now(struct lws *wsi, job *j, int status, const char *code, const char *msg,
                       bool close_after)
{
    na__http_error(&j->resp, status, code, "%s", msg);
    j->state = JOB_DONE;
    j->close_after = close_after;
    lws_callback_on_writable(wsi);
    return 0;
}

static void dispatch(na__http_server *srv, struct lws *wsi, job *j)
{
    pthread_mutex_lock(&srv->lock);
    j->state = JOB_QUEUED;
    j->next = NULL;
    if (srv->work_tail)
        srv->work_tail->next = j;
    else
        srv->work_head = j;
    srv->work_tail = j;
    pthread_cond_signal(&srv->work_cv);
    pthread_mutex_unlock(&srv->lock);
    /* The handler may take a while; lws must not time the connection out meanwhile. */
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
}

static int on_http(na__http_server *srv, struct lws *wsi, conn *c)
{
    char *uri = NULL, *pos, *query = NULL;
    char clbuf[32];
    int uri_len = 0, m;
    size_t need;
    unsigned long long clen = 0;
    job *j;

    if (c->job) /* a pipelined request before the previous answer: lws should not do this */
        return -1;
    m = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    j = calloc(1, sizeof(*j));
    if (!j)
        return -1;
    j->wsi = wsi;
    j->state = JOB_READING;
    j->resp.status = 200;
    j->resp.content_type = "application/json";
    conn_attach(srv, c, j);
    count_request(srv);
    j->req.method = method_name(m);
    j->head_only = m == LWSHUMETH_HEAD;
    query = rebuild_query(wsi);
    need = (uri ? (size_t)uri_len : 0) + 1 + (query ? strlen(query) : 0) + 1 +
           hdr_len(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) + 1 +
           hdr_len(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE) + 1 + hdr_len(wsi, WSI_TOKEN_HTTP_ACCEPT) +
           1;
    j->strings = malloc(need);
    if (!j->strings || !query) {
        free(query);
        return respond_now(wsi, j, 503, "service_unavailable", "out of memory", true);
    }
    pos = j->strings;
    j->req.path = pos;
    if (uri && uri_len > 0)
        memcpy(pos, uri, (size_t)uri_len);
    pos[uri && uri_len > 0 ? uri_len : 0] = '\0';
    pos += (uri && uri_len > 0 ? (size_t)uri_len : 0) + 1;
    j->req.query = pos;
    memcpy(pos, query, strlen(query) + 1);
    pos += strlen(query) + 1;
    free(query);
    j->req.authorization = hdr_copy(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, &pos);
    j->req.content_type = hdr_copy(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, &pos);
    j->req.accept = hdr_copy(wsi, WSI_TOKEN_HTTP_ACCEPT, &pos);
    j->req.body = "";
    if (lws_get_peer_simple(wsi, j->req.remote_addr, sizeof(j->req.remote_addr)) == NULL)
        j->req.remote_addr[0] = '\0';

    if (m < 0 || !uri)
        return respond_now(wsi, j, 400, "bad_request", "malformed request line", true);
    /* lws decodes %XX in the path; a decoded NUL would silently cut it short. */
    if (strlen(j->req.path) != (size_t)uri_len || j->req.path[0] != '/')
        return respond_now(wsi, j, 400, "bad_request",
                           "malformed path (NUL byte or not starting with /)", true);
    if (hdr_len(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING))
        return respond_now(wsi, j, 411, "length_required",
                           "chunked request bodies are not supported: send Content-Length", true);
    if (hdr_len(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH)) {
        char *end = NULL;
        if (lws_hdr_copy(wsi, clbuf, sizeof(clbuf), WSI_TOKEN_HTTP_CONTENT_LENGTH) < 0)
            return respond_now(wsi, j, 400, "bad_request", "malformed Content-Length",
                               true);
        errno = 0;
        clen = strtoull(clbuf, &end, 10);
        if (errno || end == clbuf || *end || clbuf[0] == '-')
            return respond_now(wsi, j, 400, "bad_request", "malformed Content-Length",
                               true);
    }
    if (clen > srv->opts.max_body) {
        char msg[160];
        pthread_mutex_lock(&srv->lock);
        srv->stats.bodies_too_large++;
        pthread_mutex_unlock(&srv->lock);
        snprintf(msg, sizeof(msg), "request body of %llu bytes is over the limit of %zu bytes",
                 clen, srv->opts.max_body);
        /* The body is never read: the connection closes after the answer. */
        return respond_now(wsi, j, 413, "payload_too_large", msg, true);
    }
    if (clen > 0) {
        j->body = malloc((size_t)clen + 1);
        if (!j->body)
            return respond_now(wsi, j, 503, "service_unavailable", "out of memory", true);
        j->body_expected = (size_t)clen;
        j->body[0] = '\0';
        return 0; /* LWS_CALLBACK_HTTP_BODY follows */
    }
    dispatch(srv, wsi, j);
    return 0;
}

static int on_body(conn *c, const void *in, size_t len)
{
    job *j = c->job;

    if (!j || j->state != JOB_READING || !j->body)
        return 0; /* answered already (or nothing expected): the bytes are dropped */
    if (len > j->body_expected - j->body_len)
        len = j->body_expected - j->body_len;
    memcpy(j->body + j->body_len, in, len);
    j->body_len += len;
    j->body[j->body_len] = '\0';
    return 0;
}

static int on_body_complete(na__http_server *srv, struct lws *wsi, conn *c)
{
    job *j = c->job;

    if (!j || j->state != JOB_READING)
        return 0;
    if (j->body) {
        j->req.body = j->body;
        j->req.body_len = j->body_len;
    }
    dispatch(srv, wsi, j);
    return 0;
}

/* ------------------------------------------------------------------ response output ---- */

static int write_headers(na__http_server *srv, struct lws *wsi, job *j)
{
    unsigned char *start = srv->wbuf + LWS_PRE, *p = start, *end = start + HEADER_ROOM - 1;
    const char *ctype = j->resp.content_type ? j->resp.content_type : "application/json";
    int status = j->resp.status > 0 ? j->resp.status : 500;

    if (lws_add_http_common_headers(wsi, (unsigned)status, ctype, j->resp.body_len, &p, end))
        return -1;
    if (j->resp.allow[0] &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
                                    (const unsigned char *)j->resp.allow,
                                    (int)strnlen(j->resp.allow, sizeof(j->resp.allow)), &p, end))
        return -1;
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end))
        return -1;
    if (j->resp.extra_header_name[0]) {
        char name[sizeof(j->resp.extra_header_name) + 2];
        snprintf(name, sizeof(name), "%.*s:", (int)sizeof(j->resp.extra_header_name) - 1,
                 j->resp.extra_header_name);
        if (lws_add_http_header_by_name(
                wsi, (const unsigned char *)name, (const unsigned char *)j->resp.extra_header_value,
                (int)strnlen(j->resp.extra_header_value, sizeof(j->resp.extra_header_value)), &p,
                end))
            return -1;
    }
    if (j->close_after &&
        lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                    (const unsigned char *)"close", 5, &p, end))
        return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    pthread_mutex_lock(&srv->lock);
    if (status >= 500)
        srv->stats.responses_5xx++;
    else if (status >= 400)
        srv->stats.responses_4xx++;
    pthread_mutex_unlock(&srv->lock);
    j->headers_sent = true;
    return 0;
}

static int on_http_writable(na__http_server *srv, struct lws *wsi, conn *c)
{
    job *j = c->job;
    bool ready;

    if (c->close_pending)
        return -1; /* what we buffered has been flushed */
    if (!j)
        return 0;
    pthread_mutex_lock(&srv->lock);
    ready = j->state == JOB_DONE && !j->in_done_list;
    pthread_mutex_unlock(&srv->lock);
    if (!ready)
        return 0;
    if (!j->headers_sent) {
        if (write_headers(srv, wsi, j))
            return -1;
        if (j->head_only)
            j->sent = j->resp.body_len;
    }
    while (j->sent < j->resp.body_len && !lws_send_pipe_choked(wsi)) {
        size_t n = j->resp.body_len - j->sent;
        bool last = n <= WRITE_CHUNK;
        if (!last)
            n = WRITE_CHUNK;
        memcpy(srv->wbuf + LWS_PRE, j->resp.body + j->sent, n);
        if (lws_write(wsi, srv->wbuf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
            (int)n)
            return -1;
        j->sent += n;
    }
    if (j->sent < j->resp.body_len) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    /* Response complete. */
    c->job = NULL;
    pthread_mutex_lock(&srv->lock);
    srv->live_jobs--;
    pthread_mutex_unlock(&srv->lock);
    if (j->close_after) {
        job_free(j);
        c->close_pending = true;
        lws_callback_on_writable(wsi);
        return 0;
    }
    job_free(j);
    if (lws_http_transaction_completed(wsi))
        return -1;
    return 0;
}

/* ------------------------------------------------------------------------ WebSocket ---- */

static void ws_queue_free(na__ws_client *cl)
{
    ws_msg *m = cl->q_head;
    while (m) {
        ws_msg *next = m->next;
        free(m);
        m = next;
    }
    cl->q_head = cl->q_tail = NULL;
    cl->q_count = cl->q_bytes = 0;
}

/* Appends a copy of text to the client's queue (ws_lock held). Marks the client closing when the
 * queue would exceed its caps. Returns 0 or -1 (dropped). */
static int ws_enqueue(na__http_server *srv, na__ws_client *cl, const char *text, size_t len)
{
    ws_msg *m;

    if (cl->closing)
        return -1;
    if (cl->q_count + 1 > srv->opts.ws_queue_messages ||
        cl->q_bytes + len > srv->opts.ws_queue_bytes) {
        snprintf(cl->close_reason, sizeof(cl->close_reason),
                 "slow consumer: queue full (%zu messages, %zu bytes)", cl->q_count, cl->q_bytes);
        cl->closing = true;
        srv->stats.ws_dropped_slow++;
        ws_queue_free(cl);
        return -1;
    }
    m = malloc(sizeof(*m) + LWS_PRE + len);
    if (!m) {
        snprintf(cl->close_reason, sizeof(cl->close_reason), "server out of memory");
        cl->closing = true;
        ws_queue_free(cl);
        return -1;
    }
    m->next = NULL;
    m->len = len;
    memcpy(m->data + LWS_PRE, text, len);
    if (cl->q_tail)
        cl->q_tail->next = m;
    else
        cl->q_head = m;
    cl->q_tail = m;
    cl->q_count++;
    cl->q_bytes += len;
    return 0;
}

static bool ws_path_ok(na__http_server *srv, struct lws *wsi)
{
    char path[MAX_WS_PATH];

    if (atomic_load(&srv->stop) || !srv->ws_paths)
        return false;
    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0)
        return false;
    for (size_t i = 0; srv->ws_paths[i]; i++) {
        char auth[512], token[256];
        const char *tv;
        bool have_auth;
        if (strcmp(srv->ws_paths[i], path) != 0)
            continue;
        if (!srv->opts.ws.authorize)
            return true;
        have_auth = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) > 0;
        /* Returns a pointer into token past "access_token=". */
        tv = lws_get_urlarg_by_name(wsi, "access_token=", token, (int)sizeof(token));
        return srv->opts.ws.authorize(path, have_auth ? auth : NULL, tv, srv->opts.ws.ud);
    }
    return false;
}

static int ws_open(na__http_server *srv, struct lws *wsi, conn *c)
{
    na__ws_client *cl = calloc(1, sizeof(*cl));
    char *first = NULL;
    bool queued = false;

    if (!cl)
        return -1;
    cl->srv = srv;
    cl->wsi = wsi;
    if (lws_hdr_copy(wsi, cl->path, sizeof(cl->path), WSI_TOKEN_GET_URI) <= 0) {
        free(cl);
        return -1;
    }
    c->ws = cl;
    pthread_mutex_lock(&srv->ws_lock);
    if (srv->opts.ws.open)
        first = srv->opts.ws.open(cl, cl->path, &cl->state, srv->opts.ws.ud);
    cl->next = srv->ws_head;
    if (srv->ws_head)
        srv->ws_head->prev = cl;
    srv->ws_head = cl;
    srv->stats.ws_clients++;
    if (first)
        queued = ws_enqueue(srv, cl, first, strlen(first)) == 0;
    pthread_mutex_unlock(&srv->ws_lock);
    free(first);
    if (queued)
        lws_callback_on_writable(wsi);
    return 0;
}

static void ws_closed(na__http_server *srv, conn *c)
{
    na__ws_client *cl = c->ws;

    if (!cl)
        return;
    c->ws = NULL;
    pthread_mutex_lock(&srv->ws_lock);
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        srv->ws_head = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    ws_queue_free(cl);
    pthread_mutex_unlock(&srv->ws_lock);
    /* Unlinked: no publisher can reach the state any more. */
    if (srv->opts.ws.close)
        srv->opts.ws.close(cl, cl->state, srv->opts.ws.ud);
    free(cl->cur);
    free(cl->in);
    free(cl);
}

static int ws_receive(na__http_server *srv, struct lws *wsi, conn *c, const void *in, size_t len)
{
    na__ws_client *cl = c->ws;
    size_t cap = srv->opts.max_ws_message;
    char *reply = NULL;
    bool queued = false;

    if (!cl)
        return -1;
    if (len > cap - cl->in_len) {
        static const char why[] = "message too large";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why,
                         sizeof(why) - 1);
        return -1;
    }
    if (!cl->in) {
        cl->in = malloc(cap + 1);
        if (!cl->in)
            return -1;
    }
    memcpy(cl->in + cl->in_len, in, len);
    cl->in_len += len;
    if (!lws_is_final_fragment(wsi))
        return 0;
    cl->in[cl->in_len] = '\0';
    pthread_mutex_lock(&srv->ws_lock);
    srv->stats.ws_messages_in++;
    if (srv->opts.ws.message)
        reply = srv->opts.ws.message(cl, cl->state, cl->in, cl->in_len, srv->opts.ws.ud);
    if (reply)
        queued = ws_enqueue(srv, cl, reply, strlen(reply)) == 0;
    pthread_mutex_unlock(&srv->ws_lock);
    free(reply);
    cl->in_len = 0;
    if (queued)
        lws_callback_on_writable(wsi);
    return 0;
}

static int ws_writable(na__http_server *srv, struct lws *wsi, conn *c)
{
    na__ws_client *cl = c->ws;
    bool more;

    if (!cl)
        return -1;
    for (;;) {
        size_t n;
        bool first, last;
        if (!cl->cur) {
            pthread_mutex_lock(&srv->ws_lock);
            if (cl->closing) {
                pthread_mutex_unlock(&srv->ws_lock);
                lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                                 (unsigned char *)cl->close_reason, strlen(cl->close_reason));
                return -1;
            }
            cl->cur = cl->q_head;
            if (cl->cur) {
                cl->q_head = cl->cur->next;
                if (!cl->q_head)
                    cl->q_tail = NULL;
                cl->q_count--;
                cl->q_bytes -= cl->cur->len;
                cl->cur_off = 0;
            }
            pthread_mutex_unlock(&srv->ws_lock);
            if (!cl->cur)
                break;
        }
        /* Large messages go out as fragments so lws never copies more than one chunk. The
         * frame header goes in the LWS_PRE bytes before the chunk: the previous chunk's bytes,
         * already handed to lws. */
        n = cl->cur->len - cl->cur_off;
        first = cl->cur_off == 0;
        last = n <= WRITE_CHUNK;
        if (!last)
            n = WRITE_CHUNK;
        if (lws_write(wsi, cl->cur->data + LWS_PRE + cl->cur_off, n,
                      (enum lws_write_protocol)lws_write_ws_flags(LWS_WRITE_TEXT, first, last)) <
            (int)n)
            return -1;
        cl->cur_off += n;
        if (last) {
            free(cl->cur);
            cl->cur = NULL;
            pthread_mutex_lock(&srv->ws_lock);
            srv->stats.ws_messages_sent++;
            pthread_mutex_unlock(&srv->ws_lock);
        }
        if (lws_send_pipe_choked(wsi))
            break;
    }
    pthread_mutex_lock(&srv->ws_lock);
    more = cl->cur || cl->q_head || cl->closing;
    pthread_mutex_unlock(&srv->ws_lock);
    if (more)
        lws_callback_on_writable(wsi);
    return 0;
}

/* The loop was woken: finished jobs to write, WebSocket queues to drain, clients to drop. */
static void on_wake(na__http_server *srv)
{
    job *done;

    pthread_mutex_lock(&srv->lock);
    done = srv->done_head;
    srv->done_head = NULL;
    for (job *j = done; j; j = j->next)
        j->in_done_list = false;
    pthread_mutex_unlock(&srv->lock);
    while (done) {
        job *j = done;
        done = j->next;
        j->next = NULL;
        /* Only the loop thread orphans a job that is on the done list, so this read is safe. */
        if (j->orphaned)
            job_free(j);
        else
            lws_callback_on_writable(j->wsi);
    }

    pthread_mutex_lock(&srv->ws_lock);
    for (na__ws_client *cl = srv->ws_head; cl; cl = cl->next) {
        if (cl->closing && !cl->close_started) {
            /* A slow consumer's socket may never become writable again: kill it from here. */
            cl->close_started = true;
            lws_close_reason(cl->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                             (unsigned char *)cl->close_reason, strlen(cl->close_reason));
            lws_set_timeout(cl->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        } else if (!cl->closing && cl->q_head) {
            lws_callback_on_writable(cl->wsi);
        }
    }
    pthread_mutex_unlock(&srv->ws_lock);
}

/* ----------------------------------------------------------------------- callback ---- */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    na__http_server *srv = ctx ? lws_context_user(ctx) : NULL;
    conn *c = user;

    if (!srv)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return c ? on_http(srv, wsi, c) : -1;
    case LWS_CALLBACK_HTTP_BODY:
        return c ? on_body(c, in, len) : 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return c ? on_body_complete(srv, wsi, c) : 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return c ? on_http_writable(srv, wsi, c) : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c)
            conn_drop_job(srv, c);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        on_wake(srv);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_path_ok(srv, wsi) ? 0 : 1;
    case LWS_CALLBACK_ESTABLISHED:
        return c ? ws_open(srv, wsi, c) : -1;
    case LWS_CALLBACK_RECEIVE:
        return c ? ws_receive(srv, wsi, c, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c ? ws_writable(srv, wsi, c) : 0;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
        if (c)
            ws_closed(srv, c);
        return 0;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------------ lifecycle ---- */

static void lws_log_to_na(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    /* lws reports per-connection trouble (bad requests, resets) as errors: debug for us. */
    na_log(level & LLL_ERR ? NA_LOG_INFO : NA_LOG_DEBUG, "libwebsockets: %.*s", (int)n, line);
}

/*
 * Binds host:port once ourselves before lws does, only to report why it cannot be done (lws
 * logs the reason but returns just NULL). Returns 0 or NA_EIO with the reason in err.
 */
static int probe_bind(const char *host, int port, na_error *err)
{
    struct addrinfo hints, *ai = NULL;
    char portbuf[16];
    int fd = -1, one = 1, rc, gai;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    gai = getaddrinfo(host, portbuf, &hints, &ai);
    if (gai)
        return na_error_set(err, NA_EIO, "cannot listen on %s:%d: not an IP address (%s)", host,
                            port, gai_strerror(gai));
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        rc = na_error_set(err, NA_EIO, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        goto out_free;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        rc = na_error_set(err, NA_EIO, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        goto out_close;
    }
    rc = 0;
out_close:
    close(fd);
out_free:
    freeaddrinfo(ai);
    return rc;
}

static void free_ws_paths(char **paths)
{
    for (size_t i = 0; paths && paths[i]; i++)
        free(paths[i]);
    free(paths);
}

int na__http_server_new(const na__http_server_opts *opts, na__http_server **out, na_error *err)
{
    struct lws_context_creation_info info;
    na__http_server *srv;
    size_t n_paths = 0;
    bool ipv6;
    int rc = NA_ENOMEM;

    *out = NULL;
    if (!opts || !opts->handler)
        return na_error_set(err, NA_EINVAL, "http server: a handler is required");
    if (opts->port < 0 || opts->port > 65535)
        return na_error_set(err, NA_EINVAL, "http server: port %d out of range", opts->port);
    srv = calloc(1, sizeof(*srv));
    if (!srv)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    srv->opts = *opts;
    if (!opts->host || !opts->host[0] || strcmp(opts->host, "localhost") == 0)
        snprintf(srv->host, sizeof(srv->host), "127.0.0.1");
    else if (strlen(opts->host) >= sizeof(srv->host)) {
        free(srv);
        return na_error_set(err, NA_EINVAL, "http server: host name too long");
    } else
        snprintf(srv->host, sizeof(srv->host), "%s", opts->host);
    srv->opts.host = srv->host;
    if (!srv->opts.workers)
        srv->opts.workers = DEFAULT_WORKERS;
    if (srv->opts.workers > MAX_WORKERS)
        srv->opts.workers = MAX_WORKERS;
    if (!srv->opts.max_body)
        srv->opts.max_body = DEFAULT_MAX_BODY;
    if (!srv->opts.max_header)
        srv->opts.max_header = DEFAULT_MAX_HEADER;
    if (srv->opts.max_header > 65535)
        srv->opts.max_header = 65535; /* lws keeps the header size in an unsigned short */
    if (!srv->opts.ws_queue_messages)
        srv->opts.ws_queue_messages = DEFAULT_WS_QUEUE_MESSAGES;
    if (!srv->opts.ws_queue_bytes)
        srv->opts.ws_queue_bytes = DEFAULT_WS_QUEUE_BYTES;
    if (!srv->opts.max_ws_message)
        srv->opts.max_ws_message = DEFAULT_MAX_WS_MESSAGE;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_mutex_init(&srv->ws_lock, NULL);
    pthread_cond_init(&srv->work_cv, NULL);
    atomic_init(&srv->stop, false);

    for (; opts->ws_paths && opts->ws_paths[n_paths]; n_paths++)
        ;
    srv->ws_paths = calloc(n_paths + 1, sizeof(*srv->ws_paths));
    if (!srv->ws_paths)
        goto out_fail;
    for (size_t i = 0; i < n_paths; i++) {
        srv->ws_paths[i] = strdup(opts->ws_paths[i]);
        if (!srv->ws_paths[i])
            goto out_fail;
    }
    srv->opts.ws_paths = (const char *const *)srv->ws_paths;
    srv->wbuf = malloc(LWS_PRE + WRITE_CHUNK + HEADER_ROOM);
    if (!srv->wbuf)
        goto out_fail;

    rc = probe_bind(srv->host, opts->port, err);
    if (rc)
        goto out_fail;

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_na);
    srv->protocols[0].name = "http";
    srv->protocols[0].callback = callback;
    srv->protocols[0].per_session_data_size = sizeof(conn);
    memset(&info, 0, sizeof(info));
    ipv6 = strchr(srv->host, ':') != NULL;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | (ipv6 ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6);
    info.port = opts->port;
    /* lws binds all addresses when iface is NULL. */
    info.iface = strcmp(srv->host, "0.0.0.0") == 0 || strcmp(srv->host, "::") == 0 ? NULL
                                                                                   : srv->host;
    info.protocols = srv->protocols;
    info.vhost_name = "netassure";
    info.user = srv;
    info.max_http_header_data = (unsigned short)srv->opts.max_header;
    info.max_http_header_pool = 256;
    info.keepalive_timeout = 30;
    info.timeout_secs = 30;
    info.pt_serv_buf_size = 32768;
    srv->ctx = lws_create_context(&info);
    if (!srv->ctx) {
        rc = na_error_set(err, NA_EIO, "cannot create the libwebsockets context");
        goto out_fail;
    }
    srv->vh = lws_create_vhost(srv->ctx, &info);
    if (!srv->vh) {
        rc = na_error_set(err, NA_EIO, "cannot listen on %s:%d", srv->host, opts->port);
        goto out_fail;
    }
    srv->port = lws_get_vhost_listen_port(srv->vh);

    srv->threads = calloc(srv->opts.workers, sizeof(*srv->threads));
    if (!srv->threads) {
        rc = na_error_set(err, NA_ENOMEM, "out of memory");
        goto out_fail;
    }
    for (unsigned i = 0; i < srv->opts.workers; i++) {
        if (pthread_create(&srv->threads[i], NULL, worker_main, srv)) {
            rc = na_error_set(err, NA_EIO, "cannot start HTTP worker threads");
            goto out_fail;
        }
        srv->n_threads++;
    }
    *out = srv;
    return 0;

out_fail:
    if (rc == NA_ENOMEM)
        na_error_set(err, NA_ENOMEM, "out of memory");
    na__http_server_free(srv);
    return rc;
}

int na__http_server_port(const na__http_server *srv)
{
    return srv ? srv->port : -1;
}

static void grace_tick(lws_sorted_usec_list_t *sul)
{
    na__http_server *srv =
        (na__http_server *)(void *)((char *)sul - offsetof(na__http_server, tick));
    /* Nothing to do: waking lws_service is the point. Keep waking during the grace. */
    lws_sul_schedule(srv->ctx, 0, &srv->tick, grace_tick, 50 * LWS_US_PER_MS);
}

static size_t live_jobs(na__http_server *srv)
{
    size_t n;
    pthread_mutex_lock(&srv->lock);
    n = srv->live_jobs;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

int na__http_server_run(na__http_server *srv)
{
    lws_usec_t deadline;
    int rc = 0;

    while (!atomic_load(&srv->stop)) {
        if (lws_service(srv->ctx, 0) < 0) {
            rc = NA_EIO;
            break;
        }
    }
    /* Let in-flight responses finish, up to the grace period. */
    deadline = lws_now_usecs() + STOP_GRACE_US;
    lws_sul_schedule(srv->ctx, 0, &srv->tick, grace_tick, 50 * LWS_US_PER_MS);
    while (rc == 0 && live_jobs(srv) > 0 && lws_now_usecs() < deadline)
        if (lws_service(srv->ctx, 0) < 0)
            break;
    lws_sul_cancel(&srv->tick);
    return rc;
}

void na__http_server_stop(na__http_server *srv)
{
    if (!srv)
        return;
    atomic_store(&srv->stop, true);
    if (srv->ctx)
        lws_cancel_service(srv->ctx);
}

static void free_job_list(job *j)
{
    while (j) {
        job *next = j->next;
        job_free(j);
        j = next;
    }
}

void na__http_server_free(na__http_server *srv)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->lock);
    srv->quit_workers = true;
    pthread_cond_broadcast(&srv->work_cv);
    pthread_mutex_unlock(&srv->lock);
    for (unsigned i = 0; i < srv->n_threads; i++)
        pthread_join(srv->threads[i], NULL);
    pthread_mutex_lock(&srv->lock);
    srv->workers_gone = true;
    pthread_mutex_unlock(&srv->lock);
    /* Closes every connection: their callbacks orphan or free their jobs. */
    if (srv->ctx)
        lws_context_destroy(srv->ctx);
    /* Whatever is still queued or done was orphaned by those closes. */
    free_job_list(srv->work_head);
    free_job_list(srv->done_head);
    free(srv->threads);
    free(srv->wbuf);
    free_ws_paths(srv->ws_paths);
    pthread_cond_destroy(&srv->work_cv);
    pthread_mutex_destroy(&srv->ws_lock);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

void na__http_server_stats(na__http_server *srv, na__http_stats *out)
{
    na__http_stats s;

    memset(out, 0, sizeof(*out));
    if (!srv)
        return;
    pthread_mutex_lock(&srv->lock);
    s = srv->stats;
    pthread_mutex_unlock(&srv->lock);
    out->requests = s.requests;
    out->responses_4xx = s.responses_4xx;
    out->responses_5xx = s.responses_5xx;
    out->bodies_too_large = s.bodies_too_large;
    pthread_mutex_lock(&srv->ws_lock);
    out->ws_clients = srv->stats.ws_clients;
    out->ws_messages_sent = srv->stats.ws_messages_sent;
    out->ws_dropped_slow = srv->stats.ws_dropped_slow;
    out->ws_messages_in = srv->stats.ws_messages_in;
    pthread_mutex_unlock(&srv->ws_lock);
}

void na__http_ws_publish(na__http_server *srv, const char *path, const void *event,
                         const char *text, size_t len)
{
    bool wake = false;

    if (!srv || !path || !text)
        return;
    pthread_mutex_lock(&srv->ws_lock);
    for (na__ws_client *cl = srv->ws_head; cl; cl = cl->next) {
        if (cl->closing || strcmp(cl->path, path) != 0)
            continue;
        if (srv->opts.ws.accept && !srv->opts.ws.accept(cl->state, event, srv->opts.ws.ud))
            continue;
        ws_enqueue(srv, cl, text, len);
        wake = true; /* queued, or marked for closing: the loop has work either way */
    }
    pthread_mutex_unlock(&srv->ws_lock);
    if (wake)
        lws_cancel_service(srv->ctx);
}

size_t na__http_ws_clients(na__http_server *srv, const char *path)
{
    size_t n = 0;

    if (!srv)
        return 0;
    pthread_mutex_lock(&srv->ws_lock);
    for (na__ws_client *cl = srv->ws_head; cl; cl = cl->next)
        if (!cl->closing && (!path || strcmp(cl->path, path) == 0))
            n++;
    pthread_mutex_unlock(&srv->ws_lock);
    return n;
}
