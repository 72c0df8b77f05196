/*
 * http_client.c: one HTTP request on libwebsockets, for the CLI (see na__http_fetch in
 * server/http.h). Each call makes its own lws context and services it until the reply is complete,
 * the connection fails or the deadline passes; nothing is shared between calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "server/http.h"

#define DEFAULT_MAX_REPLY ((size_t)64 << 20)
#define DEFAULT_TIMEOUT_MS 30000
#define MAX_URL 8192
#define BODY_CHUNK ((size_t)16 << 10)
#define TICK_US (50 * LWS_US_PER_MS)

typedef struct fetch {
    struct lws_context *ctx;
    lws_sorted_usec_list_t tick; /* wakes lws_service so the deadline is checked */
    const char *method;
    const char *token;
    const char *body;
    size_t body_len, body_sent;
    char *reply;
    size_t reply_len, reply_cap, max_reply;
    int status;
    char content_type[128];
    bool done, failed, too_big;
    char host[256];
    int port;
    char why[512];
    unsigned char wbuf[LWS_PRE + BODY_CHUNK];
} fetch;

static int append_reply(fetch *f, const void *in, size_t len)
{
    if (len > f->max_reply - f->reply_len) {
        f->too_big = true;
        return -1;
    }
    if (f->reply_len + len + 1 > f->reply_cap) {
        size_t cap = f->reply_cap ? f->reply_cap : 16384;
        char *p;
        while (cap < f->reply_len + len + 1)
            cap *= 2;
        p = realloc(f->reply, cap);
        if (!p)
            return -1;
        f->reply = p;
        f->reply_cap = cap;
    }
    memcpy(f->reply + f->reply_len, in, len);
    f->reply_len += len;
    f->reply[f->reply_len] = '\0';
    return 0;
}

static int add_headers(fetch *f, struct lws *wsi, unsigned char **p, unsigned char *end)
{
    char num[32];

    if (f->token && f->token[0]) {
        char auth[1100];
        int n = snprintf(auth, sizeof(auth), "Bearer %s", f->token);
        if (n < 0 || (size_t)n >= sizeof(auth) ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                         (unsigned char *)auth, n, p, end))
            return -1;
    }
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_ACCEPT,
                                     (unsigned char *)"application/json", 16, p, end))
        return -1;
    if (strcmp(f->method, "GET") == 0 && !f->body_len)
        return 0;
    if (f->body_len &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (unsigned char *)"application/json", 16, p, end))
        return -1;
    snprintf(num, sizeof(num), "%zu", f->body_len);
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, (unsigned char *)num,
                                     (int)strlen(num), p, end))
        return -1;
    if (f->body_len) {
        lws_client_http_body_pending(wsi, 1);
        lws_callback_on_writable(wsi);
    }
    return 0;
}

static int write_body(fetch *f, struct lws *wsi)
{
    size_t n = f->body_len - f->body_sent;
    bool last = n <= BODY_CHUNK;

    if (!last)
        n = BODY_CHUNK;
    memcpy(f->wbuf + LWS_PRE, f->body + f->body_sent, n);
    if (lws_write(wsi, f->wbuf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
        (int)n)
        return -1;
    f->body_sent += n;
    if (last)
        lws_client_http_body_pending(wsi, 0);
    else
        lws_callback_on_writable(wsi);
    return 0;
}

static int client_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    fetch *f = user;

    if (!f)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        snprintf(f->why, sizeof(f->why), "cannot connect to %s:%d: %.200s", f->host, f->port,
                 in ? (const char *)in : "connection failed");
        f->failed = f->done = true;
        return 0;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **p = in, *end = *p + len;
        return add_headers(f, wsi, p, end);
    }
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
        if (f->body_sent < f->body_len)
            return write_body(f, wsi);
        return 0;
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        f->status = (int)lws_http_client_http_response(wsi);
        if (lws_hdr_copy(wsi, f->content_type, sizeof(f->content_type),
                         WSI_TOKEN_HTTP_CONTENT_TYPE) < 0)
            f->content_type[0] = '\0';
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buf[LWS_PRE + 16384];
        char *px = buf + LWS_PRE;
        int lenx = (int)sizeof(buf) - LWS_PRE;
        return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (append_reply(f, in, len)) {
            if (!f->too_big)
                snprintf(f->why, sizeof(f->why), "out of memory reading the reply");
            f->failed = f->done = true;
            return -1;
        }
        return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        f->done = true;
        lws_cancel_service(lws_get_context(wsi));
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (!f->done) {
            snprintf(f->why, sizeof(f->why), "%s:%d closed the connection before the reply "
                                             "was complete", f->host, f->port);
            f->failed = f->done = true;
        }
        return 0;
    default:
        return 0;
    }
}

static void tick_cb(lws_sorted_usec_list_t *sul)
{
    fetch *f = (fetch *)(void *)((char *)sul - offsetof(fetch, tick));
    lws_sul_schedule(f->ctx, 0, &f->tick, tick_cb, TICK_US);
}

int na__http_fetch(const char *method, const char *url, const char *token, const char *body,
                   size_t body_len, int timeout_ms, size_t max_reply, na__http_reply *reply,
                   na_error *err)
{
    static const struct lws_protocols protocols[] = {
        {"netassure-client", client_cb, 0, 0, 0, NULL, 0},
        {NULL, NULL, 0, 0, 0, NULL, 0}};
    struct lws_context_creation_info info;
    struct lws_client_connect_info ci;
    const char *prot = NULL, *ads = NULL, *path = NULL;
    char urlbuf[MAX_URL], pathbuf[MAX_URL + 1];
    fetch *f = NULL;
    bool tls;
    lws_usec_t deadline;
    int rc;

    if (reply)
        memset(reply, 0, sizeof(*reply));
    if (!method || !url || !reply)
        return na_error_set(err, NA_EINVAL, "http fetch: method, url and reply are required");
    if (strlen(url) >= sizeof(urlbuf))
        return na_error_set(err, NA_EINVAL, "URL too long (%zu bytes)", strlen(url));
    snprintf(urlbuf, sizeof(urlbuf), "%s", url);
    if (lws_parse_uri(urlbuf, &prot, &ads, &rc, &path) || !ads || !ads[0])
        return na_error_set(err, NA_EINVAL, "malformed URL: %s", url);
    tls = strcmp(prot, "https") == 0;
    if (!tls && strcmp(prot, "http") != 0)
        return na_error_set(err, NA_EINVAL, "unsupported URL scheme %s (http or https)", prot);
    f = calloc(1, sizeof(*f));
    if (!f)
        return na_error_set(err, NA_ENOMEM, "out of memory");
    f->method = method;
    f->token = token;
    f->body = body;
    f->body_len = body ? body_len : 0;
    f->max_reply = max_reply ? max_reply : DEFAULT_MAX_REPLY;
    f->port = rc;
    snprintf(f->host, sizeof(f->host), "%s", ads);
    snprintf(pathbuf, sizeof(pathbuf), "/%s", path ? path : "");
    if (timeout_ms <= 0)
        timeout_ms = DEFAULT_TIMEOUT_MS;

    lws_set_log_level(LLL_ERR, NULL);
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
    info.timeout_secs = (unsigned)(timeout_ms / 1000 + 1);
    info.connect_timeout_secs = info.timeout_secs;
    f->ctx = lws_create_context(&info);
    if (!f->ctx) {
        rc = na_error_set(err, NA_EIO, "cannot create the libwebsockets client context");
        goto out_free;
    }
    memset(&ci, 0, sizeof(ci));
    ci.context = f->ctx;
    ci.address = f->host;
    ci.port = f->port;
    ci.path = pathbuf;
    ci.host = f->host;
    ci.origin = f->host;
    ci.method = method;
    ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
    ci.alpn = "http/1.1";
    ci.local_protocol_name = "netassure-client";
    ci.userdata = f;
    if (!lws_client_connect_via_info(&ci)) {
        /* The connection-error callback may already have said why. */
        if (!f->why[0])
            snprintf(f->why, sizeof(f->why), "cannot connect to %s:%d", f->host, f->port);
        rc = na_error_set(err, NA_EIO, "%s", f->why);
        goto out_destroy;
    }
    deadline = lws_now_usecs() + (lws_usec_t)timeout_ms * LWS_US_PER_MS;
    lws_sul_schedule(f->ctx, 0, &f->tick, tick_cb, TICK_US);
    while (!f->done && lws_now_usecs() < deadline)
        if (lws_service(f->ctx, 0) < 0)
            break;
    lws_sul_cancel(&f->tick);
    if (f->too_big) {
        rc = na_error_set(err, NA_ETOOBIG, "the reply from %s:%d is over %zu bytes", f->host,
                          f->port, f->max_reply);
        goto out_destroy;
    }
    if (f->failed) {
        rc = na_error_set(err, NA_EIO, "%s", f->why);
        goto out_destroy;
    }
    if (!f->done) {
        rc = na_error_set(err, NA_EIO, "no complete reply from %s:%d within %d ms", f->host,
                          f->port, timeout_ms);
        goto out_destroy;
    }
    if (!f->reply) {
        f->reply = malloc(1);
        if (!f->reply) {
            rc = na_error_set(err, NA_ENOMEM, "out of memory");
            goto out_destroy;
        }
        f->reply[0] = '\0';
    }
    reply->status = f->status;
    reply->body = f->reply;
    reply->body_len = f->reply_len;
    snprintf(reply->content_type, sizeof(reply->content_type), "%s", f->content_type);
    f->reply = NULL;
    rc = 0;
out_destroy:
    lws_context_destroy(f->ctx);
out_free:
    free(f->reply);
    free(f);
    return rc;
}
