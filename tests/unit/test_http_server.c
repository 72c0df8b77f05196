/*
 * test_http_server.c: the HTTP + WebSocket server (src/server/http.c) and client
 * (src/server/http_client.c) over real sockets. Each test starts a server on 127.0.0.1, port 0,
 * in a thread with a test handler, and talks to it with na__http_fetch and with raw sockets
 * (hand-written HTTP requests and a minimal WebSocket client).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "server/http.h"

#define SOCK_TIMEOUT_S 60

/* ------------------------------------------------------------------ test handler ---- */

/* The last request the handler saw (copies), for the field checks. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char method[16], path[256], query[512], auth[128], ctype[128], accept[128], remote[64];
    bool has_auth;
    size_t body_len;
} seen;
static atomic_int handler_done;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static unsigned char pattern_byte(size_t i)
{
    return (unsigned char)((i * 31u) ^ (i >> 9));
}

static char *dup_text(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static void test_handler(const na__http_request *req, na__http_response *resp, void *ud)
{
    char buf[256];
    (void)ud;

    pthread_mutex_lock(&seen_lock);
    snprintf(seen.method, sizeof(seen.method), "%s", req->method);
    snprintf(seen.path, sizeof(seen.path), "%s", req->path);
    snprintf(seen.query, sizeof(seen.query), "%s", req->query);
    seen.has_auth = req->authorization != NULL;
    snprintf(seen.auth, sizeof(seen.auth), "%s", req->authorization ? req->authorization : "");
    snprintf(seen.ctype, sizeof(seen.ctype), "%s", req->content_type ? req->content_type : "");
    snprintf(seen.accept, sizeof(seen.accept), "%s", req->accept ? req->accept : "");
    snprintf(seen.remote, sizeof(seen.remote), "%s", req->remote_addr);
    seen.body_len = req->body_len;
    pthread_mutex_unlock(&seen_lock);

    if (strcmp(req->path, "/body") == 0) {
        /* Echo the body back byte for byte. */
        char *copy = malloc(req->body_len + 1);
        assert_non_null(copy);
        memcpy(copy, req->body, req->body_len);
        na__http_respond(resp, 200, "application/octet-stream", copy, req->body_len);
    } else if (strcmp(req->path, "/big") == 0) {
        size_t n;
        char *body;
        assert_true(na__http_query_get(req->query, "n", buf, sizeof(buf)) > 0);
        n = strtoul(buf, NULL, 10);
        body = malloc(n ? n : 1);
        assert_non_null(body);
        for (size_t i = 0; i < n; i++)
            body[i] = (char)pattern_byte(i);
        na__http_respond(resp, 200, "application/octet-stream", body, n);
    } else if (strcmp(req->path, "/sleep") == 0) {
        long ms = 100;
        if (na__http_query_get(req->query, "ms", buf, sizeof(buf)) > 0)
            ms = strtol(buf, NULL, 10);
        sleep_ms(ms);
        na__http_respond(resp, 200, "text/plain", dup_text("slept"), 5);
    } else if (strcmp(req->path, "/only-get") == 0 && strcmp(req->method, "GET") != 0) {
        snprintf(resp->allow, sizeof(resp->allow), "GET");
        na__http_error(resp, 405, "method_not_allowed", "%s is not allowed", req->method);
    } else if (strncmp(req->path, "/echo", 5) == 0) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "method", req->method, "path", req->path,
                              "query", req->query);
        char *text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        snprintf(resp->extra_header_name, sizeof(resp->extra_header_name), "X-Test");
        snprintf(resp->extra_header_value, sizeof(resp->extra_header_value), "yes");
        na__http_respond(resp, 200, "application/json", text, strlen(text));
    } else {
        na__http_error(resp, 404, "not_found", "no such resource: %s", req->path);
    }
    atomic_fetch_add(&handler_done, 1);
}

/* ------------------------------------------------------------ WebSocket callbacks ---- */

typedef struct ws_state {
    char topic[32];
} ws_state;

static atomic_int ws_closes;

static char *ws_open_cb(na__ws_client *client, const char *path, void **state, void *ud)
{
    char buf[300];
    ws_state *s = calloc(1, sizeof(*s));
    (void)client;
    (void)ud;
    assert_non_null(s);
    snprintf(s->topic, sizeof(s->topic), "none");
    *state = s;
    snprintf(buf, sizeof(buf), "hello %s", path);
    return dup_text(buf);
}

static char *ws_message_cb(na__ws_client *client, void *state, const char *text, size_t len,
                           void *ud)
{
    ws_state *s = state;
    char *out;
    (void)client;
    (void)ud;
    if (len > 4 && strncmp(text, "sub:", 4) == 0) {
        char buf[64];
        snprintf(s->topic, sizeof(s->topic), "%.*s", (int)(len - 4), text + 4);
        snprintf(buf, sizeof(buf), "subscribed:%s", s->topic);
        return dup_text(buf);
    }
    out = malloc(len + 6);
    assert_non_null(out);
    memcpy(out, "echo:", 5);
    memcpy(out + 5, text, len);
    out[len + 5] = '\0';
    return out;
}

static void ws_close_cb(na__ws_client *client, void *state, void *ud)
{
    (void)client;
    (void)ud;
    free(state);
    atomic_fetch_add(&ws_closes, 1);
}

static bool ws_accept_cb(void *state, const void *event, void *ud)
{
    const ws_state *s = state;
    (void)ud;
    return strcmp(s->topic, "all") == 0 || strcmp(s->topic, (const char *)event) == 0;
}

/* ------------------------------------------------------------------ server fixture ---- */

typedef struct test_server {
    na__http_server *srv;
    pthread_t thread;
    int port;
    int run_rc;
} test_server;

static void *run_main(void *arg)
{
    test_server *ts = arg;
    ts->run_rc = na__http_server_run(ts->srv);
    return NULL;
}

static const char *const ws_paths[] = {"/ws", NULL};

static void default_opts(na__http_server_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->host = "127.0.0.1";
    o->port = 0;
    o->workers = 4;
    o->handler = test_handler;
    o->ws_paths = ws_paths;
    o->ws.open = ws_open_cb;
    o->ws.message = ws_message_cb;
    o->ws.close = ws_close_cb;
    o->ws.accept = ws_accept_cb;
}

static void server_start(test_server *ts, const na__http_server_opts *o)
{
    na_error err;
    na_error_clear(&err);
    memset(ts, 0, sizeof(*ts));
    if (na__http_server_new(o, &ts->srv, &err))
        fail_msg("server_new: %s", err.message);
    ts->port = na__http_server_port(ts->srv);
    assert_true(ts->port > 0);
    assert_int_equal(pthread_create(&ts->thread, NULL, run_main, ts), 0);
}

static void server_stop(test_server *ts)
{
    na__http_server_stop(ts->srv);
    pthread_join(ts->thread, NULL);
    assert_int_equal(ts->run_rc, 0);
    na__http_server_free(ts->srv);
    ts->srv = NULL;
}

/* --------------------------------------------------------------- raw HTTP client ---- */

static int connect_port(int port, int rcvbuf)
{
    struct sockaddr_in sa;
    struct timeval tv = {SOCK_TIMEOUT_S, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    assert_true(fd >= 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static bool send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Buffered reader over a socket. */
typedef struct reader {
    int fd;
    char buf[65536];
    size_t start, end;
} reader;

static void reader_init(reader *r, int fd)
{
    r->fd = fd;
    r->start = r->end = 0;
}

/* Reads up to len bytes; 0 at EOF, -1 on error or timeout. */
static ssize_t reader_read(reader *r, void *out, size_t len)
{
    if (r->start == r->end) {
        ssize_t n = recv(r->fd, r->buf, sizeof(r->buf), 0);
        if (n <= 0)
            return n;
        r->start = 0;
        r->end = (size_t)n;
    }
    if (len > r->end - r->start)
        len = r->end - r->start;
    memcpy(out, r->buf + r->start, len);
    r->start += len;
    return (ssize_t)len;
}

static bool reader_exact(reader *r, void *out, size_t len)
{
    char *p = out;
    while (len > 0) {
        ssize_t n = reader_read(r, p, len);
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

typedef struct http_resp {
    int status;
    char headers[8192]; /* lower-cased */
    char *body;
    size_t body_len;
} http_resp;

/* Reads one response (status line, headers, Content-Length body). false at EOF/error. */
static bool read_response(reader *r, http_resp *out)
{
    size_t n = 0;
    const char *cl;

    memset(out, 0, sizeof(*out));
    while (n < 4 || memcmp(out->headers + n - 4, "\r\n\r\n", 4) != 0) {
        char ch;
        if (n + 1 >= sizeof(out->headers) || reader_read(r, &ch, 1) != 1)
            return false;
        out->headers[n++] = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
    }
    out->headers[n] = '\0';
    if (sscanf(out->headers, "http/1.%*d %d", &out->status) != 1)
        return false;
    cl = strstr(out->headers, "content-length:");
    out->body_len = cl ? strtoul(cl + 15, NULL, 10) : 0;
    out->body = malloc(out->body_len + 1);
    assert_non_null(out->body);
    if (!reader_exact(r, out->body, out->body_len))
        return false;
    out->body[out->body_len] = '\0';
    return true;
}

/* One request on a fresh connection; returns the status (0 when no response came). */
static int raw_request(int port, const char *request, size_t len, http_resp *resp)
{
    reader *r = malloc(sizeof(*r));
    int fd = connect_port(port, 0), status = 0;

    assert_non_null(r);
    reader_init(r, fd);
    if (send_all(fd, request, len) && read_response(r, resp))
        status = resp->status;
    close(fd);
    free(r);
    return status;
}

static void check_error_json(const http_resp *resp, int status, const char *code)
{
    json_error_t jerr;
    json_t *doc = json_loadb(resp->body, resp->body_len, 0, &jerr);
    json_t *e = json_object_get(doc, "error");

    if (!doc)
        fail_msg("not JSON (%s): %.200s", jerr.text, resp->body);
    assert_int_equal(json_integer_value(json_object_get(e, "status")), status);
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_non_null(json_string_value(json_object_get(e, "message")));
    json_decref(doc);
}

static void get_ok(int port)
{
    http_resp resp;
    static const char req[] = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(raw_request(port, req, sizeof(req) - 1, &resp), 200);
    free(resp.body);
}

/* ------------------------------------------------------------------------- tests ---- */

static void test_query_get(void **unused)
{
    char buf[16];
    (void)unused;

    assert_int_equal(na__http_query_get("", "a", buf, sizeof(buf)), -1);
    assert_int_equal(na__http_query_get("b=1&c=2", "a", buf, sizeof(buf)), -1);
    assert_int_equal(na__http_query_get("ab=1", "a", buf, sizeof(buf)), -1);
    assert_int_equal(na__http_query_get("a=", "a", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    assert_int_equal(na__http_query_get("x=1&a", "a", buf, sizeof(buf)), 0);
    assert_int_equal(na__http_query_get("x=1&a=b+c&a=z", "a", buf, sizeof(buf)), 3);
    assert_string_equal(buf, "b c");
    assert_int_equal(na__http_query_get("a=%41%2b%3D%c3%a9", "a", buf, sizeof(buf)), 5);
    assert_string_equal(buf, "A+=\xc3\xa9");
    assert_int_equal(na__http_query_get("%61=v", "a", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "v");
    assert_int_equal(na__http_query_get("a=%zz", "a", buf, sizeof(buf)), -2);
    assert_int_equal(na__http_query_get("a=%4", "a", buf, sizeof(buf)), -2);
    assert_int_equal(na__http_query_get("a=%", "a", buf, sizeof(buf)), -2);
    assert_int_equal(na__http_query_get("a=x%00y", "a", buf, sizeof(buf)), -2);
    /* 15 characters fit in 16 bytes, 16 do not. */
    assert_int_equal(na__http_query_get("a=123456789012345", "a", buf, sizeof(buf)), 15);
    assert_int_equal(na__http_query_get("a=1234567890123456", "a", buf, sizeof(buf)), -2);
    assert_int_equal(na__http_query_get("a=%41", "a", buf, 1), -2);
    /* A malformed name elsewhere does not hide a later match. */
    assert_int_equal(na__http_query_get("%zz=1&a=2", "a", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "2");
}

static void test_error_json(void **unused)
{
    na__http_response resp;
    json_t *doc, *e;
    (void)unused;

    memset(&resp, 0, sizeof(resp));
    resp.body = dup_text("replaced");
    na__http_error(&resp, 404, "not_found", "no node %s", "r\"1");
    assert_int_equal(resp.status, 404);
    assert_string_equal(resp.content_type, "application/json");
    doc = json_loadb(resp.body, resp.body_len, 0, NULL);
    assert_non_null(doc);
    e = json_object_get(doc, "error");
    assert_int_equal(json_integer_value(json_object_get(e, "status")), 404);
    assert_string_equal(json_string_value(json_object_get(e, "code")), "not_found");
    assert_string_equal(json_string_value(json_object_get(e, "message")), "no node r\"1");
    json_decref(doc);
    free(resp.body);
}

static void test_get_fields(void **unused)
{
    na__http_server_opts o;
    test_server ts;
    na__http_reply reply;
    na_error err;
    char url[256], buf[64];
    json_t *doc;
    (void)unused;

    default_opts(&o);
    server_start(&ts, &o);
    snprintf(url, sizeof(url),
             "http://127.0.0.1:%d/echo/a%%20b?x=1&y=h%%C3%%A9llo+w&z=%%26%%3D", ts.port);
    na_error_clear(&err);
    if (na__http_fetch("GET", url, "tok", NULL, 0, 10000, 0, &reply, &err))
        fail_msg("fetch: %s", err.message);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.content_type, "application/json");
    doc = json_loadb(reply.body, reply.body_len, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "method")), "GET");
    assert_string_equal(json_string_value(json_object_get(doc, "path")), "/echo/a b");
    json_decref(doc);
    free(reply.body);
    pthread_mutex_lock(&seen_lock);
    assert_string_equal(seen.method, "GET");
    assert_string_equal(seen.auth, "Bearer tok");
    assert_string_equal(seen.accept, "application/json");
    assert_string_equal(seen.remote, "127.0.0.1");
    assert_int_equal(seen.body_len, 0);
    assert_int_equal(na__http_query_get(seen.query, "x", buf, sizeof(buf)), 1);
    assert_string_equal(buf, "1");
    assert_int_equal(na__http_query_get(seen.query, "y", buf, sizeof(buf)), 8);
    assert_string_equal(buf, "h\xc3\xa9llo w");
    assert_int_equal(na__http_query_get(seen.query, "z", buf, sizeof(buf)), 2);
    assert_string_equal(buf, "&=");
    pthread_mutex_unlock(&seen_lock);

    /* No query, no token: query is "", authorization NULL; the extra header and no-store. */
    {
        http_resp resp;
        static const char req[] = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_int_equal(raw_request(ts.port, req, sizeof(req) - 1, &resp), 200);
        assert_non_null(strstr(resp.headers, "x-test: yes"));
        assert_non_null(strstr(resp.headers, "cache-control: no-store"));
        free(resp.body);
        pthread_mutex_lock(&seen_lock);
        assert_string_equal(seen.query, "");
        assert_false(seen.has_auth);
        pthread_mutex_unlock(&seen_lock);
    }
    /* 404 JSON, 405 with Allow, DELETE reaches the handler. */
    {
        http_resp resp;
        static const char r404[] = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
        static const char r405[] = "DELETE /only-get HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_int_equal(raw_request(ts.port, r404, sizeof(r404) - 1, &resp), 404);
        check_error_json(&resp, 404, "not_found");
        free(resp.body);
        assert_int_equal(raw_request(ts.port, r405, sizeof(r405) - 1, &resp), 405);
        check_error_json(&resp, 405, "method_not_allowed");
        assert_non_null(strstr(resp.headers, "allow: get"));
        free(resp.body);
    }
    server_stop(&ts);
}

static void test_post_body(void **unused)
{
    na__http_server_opts o;
    test_server ts;
    size_t n = 1 << 20;
    char *body = malloc(n), head[256];
    http_resp resp;
    reader *r = malloc(sizeof(*r));
    na__http_reply reply;
    na_error err;
    char url[128];
    int fd;
    (void)unused;

    assert_non_null(body);
    assert_non_null(r);
    for (size_t i = 0; i < n; i++)
        body[i] = (char)pattern_byte(i * 7 + 3); /* includes NUL bytes */
    default_opts(&o);
    o.max_body = 2 << 20;
    server_start(&ts, &o);

    fd = connect_port(ts.port, 0);
    reader_init(r, fd);
    snprintf(head, sizeof(head),
             "POST /body HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
             "Content-Length: %zu\r\n\r\n", n);
    assert_true(send_all(fd, head, strlen(head)));
    assert_true(send_all(fd, body, n));
    assert_true(read_response(r, &resp));
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body_len, n);
    assert_memory_equal(resp.body, body, n);
    free(resp.body);
    /* Same connection, a second (small) POST: the body framing kept the stream in sync. */
    snprintf(head, sizeof(head), "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    assert_true(send_all(fd, head, strlen(head)));
    assert_true(read_response(r, &resp));
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "hello");
    free(resp.body);
    close(fd);
    pthread_mutex_lock(&seen_lock);
    assert_string_equal(seen.method, "POST");
    pthread_mutex_unlock(&seen_lock);

    /* The client sends a body too. */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/body", ts.port);
    na_error_clear(&err);
    if (na__http_fetch("PUT", url, NULL, body, n, 20000, 0, &reply, &err))
        fail_msg("fetch: %s", err.message);
    assert_int_equal(reply.status, 200);
    assert_int_equal(reply.body_len, n);
    assert_memory_equal(reply.body, body, n);
    free(reply.body);
    pthread_mutex_lock(&seen_lock);
    assert_string_equal(seen.method, "PUT");
    assert_string_equal(seen.ctype, "application/json");
    pthread_mutex_unlock(&seen_lock);

    server_stop(&ts);
    free(body);
    free(r);
}

static void test_body_too_large(void **unused)
{
    na__http_server_opts o;
    test_server ts;
    na__http_stats st;
    char head[256], *chunk = calloc(1, 65536);
    http_resp resp;
    reader *r = malloc(sizeof(*r));
    int fd;
    (void)unused;

    assert_non_null(chunk);
    assert_non_null(r);
    default_opts(&o);
    o.max_body = 1000;
    server_start(&ts, &o);
    atomic_store(&handler_done, 0);
    fd = connect_port(ts.port, 0);
    reader_init(r, fd);
    snprintf(head, sizeof(head),
             "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 3000000\r\n\r\n");
    assert_true(send_all(fd, head, strlen(head)));
    assert_true(send_all(fd, chunk, 65536)); /* part of the body only: never needed */
    assert_true(read_response(r, &resp));
    assert_int_equal(resp.status, 413);
    check_error_json(&resp, 413, "payload_too_large");
    free(resp.body);
    close(fd);
    assert_int_equal(atomic_load(&handler_done), 0);
    na__http_server_stats(ts.srv, &st);
    assert_int_equal(st.bodies_too_large, 1);
    assert_true(st.responses_4xx >= 1);
    /* At the limit is fine. */
    fd = connect_port(ts.port, 0);
    reader_init(r, fd);
    snprintf(head, sizeof(head), "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
    assert_true(send_all(fd, head, strlen(head)));
    assert_true(send_all(fd, chunk, 1000));
    assert_true(read_response(r, &resp));
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body_len, 1000);
    free(resp.body);
    close(fd);
    server_stop(&ts);
    free(chunk);
    free(r);
}

static void test_keepalive_100(void **unused)
{
    na__http_server_opts o;
    test_server ts;
    reader *r = malloc(sizeof(*r));
    int fd;
    (void)unused;

    assert_non_null(r);
    default_opts(&o);
    server_start(&ts, &o);
    fd = connect_port(ts.port, 0);
    reader_init(r, fd);
    for (int i = 0; i < 100; i++) {
        char req[128], want[64];
        http_resp resp;
        snprintf(req, sizeof(req), "GET /echo?i=%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
        assert_true(send_all(fd, req, strlen(req)));
        if (!read_response(r, &resp))
            fail_msg("keep-alive request %d: no response", i);
        assert_int_equal(resp.status, 200);
        snprintf(want, sizeof(want), "\"query\":\"i=%d\"", i);
        if (!strstr(resp.body, want))
            fail_msg("request %d: body %s lacks %s", i, resp.body, want);
        free(resp.body);
    }
    close(fd);
    server_stop(&ts);
    free(r);
}

typedef struct conc_arg {
    int port, id, ok;
    bool use_fetch;
} conc_arg;

static void *conc_main(void *p)
{
    conc_arg *a = p;
    reader *r = malloc(sizeof(*r));
    int fd = -1;

    if (!r)
        return NULL;
    if (!a->use_fetch) {
        fd = connect_port(a->port, 0);
        reader_init(r, fd);
    }
    for (int k = 0; k < 50; k++) {
        char want[64];
        snprintf(want, sizeof(want), "t%d-%d", a->id, k);
        if (a->use_fetch) {
            char url[128];
            na__http_reply reply;
            na_error err;
            snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo?v=%s", a->port, want);
            if (na__http_fetch("GET", url, NULL, NULL, 0, 20000, 0, &reply, &err) == 0) {
                if (reply.status == 200 && strstr(reply.body, want))
                    a->ok++;
                free(reply.body);
            }
        } else {
            char req[128];
            http_resp resp;
            snprintf(req, sizeof(req), "GET /echo?v=%s HTTP/1.1\r\nHost: x\r\n\r\n", want);
            if (!send_all(fd, req, strlen(req)) || !read_response(r, &resp))
                break;
            if (resp.status == 200 && strstr(resp.body, want))
                a->ok++;
            free(resp.body);
        }
    }
    if (fd >= 0)
        close(fd);
    free(r);
    return NULL;
}

static void test_concurrent(void **unused)
{
    na__http_server_opts o;
    test_server ts;
    pthread_t t[8];
    conc_arg a[8];
    na__http_stats st;
    (void)unused;

    default_opts(&o);
    server_start(&ts, &o);
    for (int i = 0; i < 8; i++) {
        a[i] = (conc_arg){.port = ts.port, .id = i, .ok = 0, .use_fetch = i % 2 == 1};
        assert_int_equal(pthread_create(&t[i], NULL, conc_main, &a[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        if (a[i].ok != 50)
            fail_msg("client %d (%s): %d of 50 answers right", i,
                     a[i].use_fetch ? "fetch" : "raw keep-alive", a[i].ok);
    }
    na__http_server_stats(ts.srv, &st);
    assert_true(st.requests >= 400);
    server_stop(&ts);
}

static void test_large_response(void **unused)
{
    na__http_server_opts o;
    test_server ts;
    http_resp resp;
    na__http_reply reply;
    na_error err;
    char url[128];
    static const char req[] = "GET /big?n=20000000 HTTP/1.1\r\nHost: x\r\n\r\n";
    size_t n = 20000000, bad = 0;
    (void)unused;

    default_opts(&o);
    server_start(&ts, &o);
    assert_int_equal(raw_request(ts.port, req, sizeof(req) - 1, &resp), 200);
    assert_int_equal(resp.body_len, n);
    for (size_t i = 0; i < n; i++)
        bad += (unsigned char)resp.body[i] != pattern_byte(i);
    assert_int_equal(bad, 0);
    free(resp.body);

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/big?n=20000000", ts.port);
    na_error_clear(&err);
    if (na__http_fetch("GET", url, NULL, NULL, 0, 60000, 32 << 20, &reply, &err))
        fail_msg("fetch: %s", err.message);
    assert_int_equal(reply.status, 200);
    assert_int_equal(reply.body_len, n);
    for (size_t i = 0; i < n; i++)
        bad += (unsigned char)reply.body[i] != pattern_byte(i);
    assert_int_equal(bad, 0);
    free(reply.body);
    /* Over max_reply: NA_ETOOBIG. */
    assert_int_equal(na__http_fetch("GET", url, NULL, NULL, 0, 60000, 1 << 20, &reply, &err),
                     NA_ETOOBIG);
    assert_null(reply.body);
    /* The client goes away in the middle of a large response: the server frees it and goes on. */
    for (int i = 0; i < 3; i++) {
        char part[65536];
        size_t got = 0;
        int fd = connect_port(ts.port, 0);
        assert_true(send_all(fd, req, sizeof(req) - 1));
        while (got < (1u << 20)) {
            ssize_t k = recv(fd, part, sizeof(part), 0);
            assert_true(k > 0);
            got += (size_t)k;
        }
        close(fd);
    }
    get_ok(ts.port);
    server_stop(&ts);
}

static void test_close_while_handling(void **unused)
{
    na__http_server_opts o;
    test_server ts;
    static const char req[] = "GET /sleep?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n";
    (void)unused;

    default_opts(&o);
    server_start(&ts, &o);
    atomic_store(&handler_done, 0);
    for (int i = 0; i < 3; i++) {
        int fd = connect_port(ts.port, 0);
        assert_true(send_all(fd, req, sizeof(req) - 1));
        sleep_ms(50); /* the request reaches a worker */
        close(fd);
    }
    get_ok(ts.port);
    /* Let the sleeping handlers finish on their orphaned jobs, then serve again. */
    for (int i = 0; i < 200 && atomic_load(&handler_done) < 4; i++)
        sleep_ms(20);
    assert_int_equal(atomic_load(&handler_done), 4);
    get_ok(ts.port);
    /* Stop while a handler still runs: the in-flight job is dropped or written, no leak. */
    {
        int fd = connect_port(ts.port, 0);
        assert_true(send_all(fd, req, sizeof(req) - 1));
        sleep_ms(50);
        server_stop(&ts);
        close(fd);
    }
}

static void test_bad_requests(void **unused)
{
    na__http_server_opts o;
    test_server ts;
    http_resp resp;
    char *big;
    int st;
    static const char garbage[] = "GARBAGE\r\n\r\n";
    static const char nul_path[] = "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char bad_esc[] = "GET /a%zzb HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char chunked[] = "POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                                  "\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    (void)unused;

    default_opts(&o);
    o.max_header = 4096;
    server_start(&ts, &o);

    /* libwebsockets' parser answers these itself, before our callback: 403 (its page) or a
     * plain close. What matters here: a client error, and the server keeps serving. */
    st = raw_request(ts.port, garbage, sizeof(garbage) - 1, &resp);
    print_message("garbage request line: %d\n", st);
    assert_true(st == 400 || st == 403 || st == 0);
    if (st)
        free(resp.body);
    get_ok(ts.port);

    st = raw_request(ts.port, nul_path, sizeof(nul_path) - 1, &resp);
    print_message("NUL in path: %d\n", st);
    assert_true(st == 400 || st == 403 || st == 0);
    if (st == 400)
        check_error_json(&resp, 400, "bad_request");
    if (st)
        free(resp.body);
    get_ok(ts.port);

    st = raw_request(ts.port, bad_esc, sizeof(bad_esc) - 1, &resp);
    print_message("bad escape in path: %d\n", st);
    assert_true(st == 400 || st == 403 || st == 0);
    if (st)
        free(resp.body);
    get_ok(ts.port);

    /* HEAD: the headers of the GET, no body (the next response on the connection parses). */
    {
        static const char two[] = "HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n"
                                  "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
        reader *rh = malloc(sizeof(*rh));
        unsigned last4 = 0;
        int fd = connect_port(ts.port, 0);
        assert_non_null(rh);
        reader_init(rh, fd);
        assert_true(send_all(fd, two, sizeof(two) - 1));
        /* Skip the HEAD answer's header block: its Content-Length announces no body. */
        while (last4 != 0x0d0a0d0au) {
            unsigned char ch;
            assert_int_equal(reader_read(rh, &ch, 1), 1);
            last4 = (last4 << 8) | ch;
        }
        assert_true(read_response(rh, &resp));
        assert_int_equal(resp.status, 200);
        assert_non_null(strstr(resp.body, "\"method\":\"GET\""));
        free(resp.body);
        close(fd);
        free(rh);
    }

    st = raw_request(ts.port, chunked, sizeof(chunked) - 1, &resp);
    assert_int_equal(st, 411);
    check_error_json(&resp, 411, "length_required");
    free(resp.body);

    big = malloc(20000);
    assert_non_null(big);
    memcpy(big, "GET /echo HTTP/1.1\r\nX-Big: ", 27);
    memset(big + 27, 'a', 20000 - 27 - 4);
    memcpy(big + 20000 - 4, "\r\n\r\n", 4);
    st = raw_request(ts.port, big, 20000, &resp);
    print_message("header over max_header: %d\n", st);
    assert_true(st == 431 || st == 400 || st == 0); /* lws closes without an answer */
    if (st)
        free(resp.body);
    free(big);
    get_ok(ts.port);
    server_stop(&ts);
}

static void test_fetch_refused(void **unused)
{
    na__http_reply reply;
    na_error err;
    char url[128], want[64];
    /* A port that was free a moment ago and has no listener. */
    int port = test_free_port(SOCK_STREAM);
    (void)unused;

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
    na_error_clear(&err);
    assert_int_equal(na__http_fetch("GET", url, NULL, NULL, 0, 5000, 0, &reply, &err), NA_EIO);
    snprintf(want, sizeof(want), "cannot connect to 127.0.0.1:%d", port);
    if (strncmp(err.message, want, strlen(want)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\"", err.message, want);
    assert_int_equal(na__http_fetch("GET", "ftp://x/", NULL, NULL, 0, 5000, 0, &reply, &err),
                     NA_EINVAL);
}

/* ---------------------------------------------------------- raw WebSocket client ---- */

static int ws_connect(int port, const char *path, int rcvbuf, reader *r)
{
    char req[512];
    http_resp resp;
    int fd = connect_port(port, rcvbuf);

    reader_init(r, fd);
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
             path);
    assert_true(send_all(fd, req, strlen(req)));
    if (!read_response(r, &resp))
        fail_msg("no WebSocket handshake answer");
    assert_int_equal(resp.status, 101);
    /* RFC 6455's example key has this accept value. */
    assert_non_null(strstr(resp.headers, "s3pplmbitxaq9kygzzhzrbk+xoo="));
    free(resp.body);
    return fd;
}

static void ws_send(int fd, int opcode, const char *text, size_t len)
{
    unsigned char hdr[14];
    size_t h = 0;
    static const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    char *masked = malloc(len + 1);

    assert_non_null(masked);
    hdr[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (unsigned char)(len >> 8);
        hdr[h++] = (unsigned char)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    memcpy(hdr + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        masked[i] = (char)(text[i] ^ mask[i & 3]);
    assert_true(send_all(fd, hdr, h));
    assert_true(send_all(fd, masked, len));
    free(masked);
}

/*
 * Reads one message (continuations assembled). Returns its opcode (1 text, 8 close) or -1 at
 * EOF / error. *out is malloc'd (NUL-terminated), caller frees.
 */
static int ws_read(reader *r, char **out, size_t *out_len)
{
    int opcode = -1;
    size_t len = 0, cap = 0;
    char *buf = NULL;

    *out = NULL;
    *out_len = 0;
    for (;;) {
        unsigned char h[2], ext[8];
        uint64_t n;
        if (!reader_exact(r, h, 2))
            goto fail;
        n = h[1] & 0x7f;
        if (n == 126) {
            if (!reader_exact(r, ext, 2))
                goto fail;
            n = ((uint64_t)ext[0] << 8) | ext[1];
        } else if (n == 127) {
            if (!reader_exact(r, ext, 8))
                goto fail;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = (n << 8) | ext[i];
        }
        if (opcode < 0)
            opcode = h[0] & 0x0f;
        if (len + n + 1 > cap) {
            cap = len + n + 1;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        if (!reader_exact(r, buf + len, n))
            goto fail;
        len += n;
        if (h[0] & 0x80)
            break;
    }
    if (!buf)
        buf = calloc(1, 1);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return opcode;
fail:
    free(buf);
    return -1;
}

static void ws_expect(reader *r, const char *want)
{
    char *msg;
    size_t len;
    int op = ws_read(r, &msg, &len);
    if (op != 1 || strcmp(msg, want) != 0)
        fail_msg("expected text \"%s\", got opcode %d \"%.100s\"", want, op, msg ? msg : "");
    free(msg);
}

static void wait_clients(na__http_server *srv, size_t n)
{
    for (int i = 0; i < 1000 && na__http_ws_clients(srv, "/ws") != n; i++)
        sleep_ms(10);
    assert_int_equal(na__http_ws_clients(srv, "/ws"), n);
}

static void test_ws_basic(void **unused)
{
    na__http_server_opts o;
    test_server ts;
    reader *ra = malloc(sizeof(*ra)), *rb = malloc(sizeof(*rb));
    int a, b;
    char *msg, *big;
    size_t len;
    na__http_stats st;
    (void)unused;

    assert_non_null(ra);
    assert_non_null(rb);
    default_opts(&o);
    o.max_ws_message = 1000;
    server_start(&ts, &o);
    atomic_store(&ws_closes, 0);
    a = ws_connect(ts.port, "/ws", 0, ra);
    ws_expect(ra, "hello /ws");
    b = ws_connect(ts.port, "/ws", 0, rb);
    ws_expect(rb, "hello /ws");
    wait_clients(ts.srv, 2);

    /* Echo, including a message in fragments (text frame without FIN + continuation). */
    ws_send(a, 1, "ping-1", 6);
    ws_expect(ra, "echo:ping-1");
    {
        unsigned char f1[] = {0x01, 0x80 | 3, 0, 0, 0, 0, 'a', 'b', 'c'};
        unsigned char f2[] = {0x80, 0x80 | 2, 0, 0, 0, 0, 'd', 'e'};
        assert_true(send_all(a, f1, sizeof(f1)));
        assert_true(send_all(a, f2, sizeof(f2)));
        ws_expect(ra, "echo:abcde");
    }

    /* Publish with the accept filter. */
    ws_send(a, 1, "sub:red", 7);
    ws_expect(ra, "subscribed:red");
    ws_send(b, 1, "sub:blue", 8);
    ws_expect(rb, "subscribed:blue");
    na__http_ws_publish(ts.srv, "/ws", "red", "r1", 2);
    na__http_ws_publish(ts.srv, "/ws", "blue", "b1", 2);
    na__http_ws_publish(ts.srv, "/other", "red", "x", 1);
    na__http_ws_publish(ts.srv, "/ws", "red", "r2", 2);
    ws_expect(ra, "r1");
    ws_expect(ra, "r2");
    ws_expect(rb, "b1");
    /* b got nothing else: the next thing it reads is the echo it asks for now. */
    ws_send(b, 1, "after", 5);
    ws_expect(rb, "echo:after");

    /* Over max_ws_message: closed with 1009. */
    big = malloc(1500);
    assert_non_null(big);
    memset(big, 'x', 1500);
    ws_send(b, 1, big, 1500);
    free(big);
    assert_int_equal(ws_read(rb, &msg, &len), 8);
    assert_true(len >= 2);
    assert_int_equal(((unsigned char)msg[0] << 8) | (unsigned char)msg[1], 1009);
    free(msg);
    close(b);
    wait_clients(ts.srv, 1);

    /* A non-WebSocket path is not upgraded. */
    {
        reader *rc = malloc(sizeof(*rc));
        char req[300];
        http_resp resp;
        int fd = connect_port(ts.port, 0);
        assert_non_null(rc);
        reader_init(rc, fd);
        snprintf(req, sizeof(req), "GET /nows HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                   "Sec-WebSocket-Version: 13\r\n\r\n");
        assert_true(send_all(fd, req, strlen(req)));
        if (read_response(rc, &resp)) {
            assert_int_not_equal(resp.status, 101);
            free(resp.body);
        }
        close(fd);
        free(rc);
    }
    na__http_server_stats(ts.srv, &st);
    assert_int_equal(st.ws_clients, 2);
    assert_int_equal(st.ws_messages_in, 5);
    close(a);
    wait_clients(ts.srv, 0);
    server_stop(&ts);
    assert_int_equal(atomic_load(&ws_closes), 2);
    free(ra);
    free(rb);
}

#define SLOW_MSGS 400
#define SLOW_SIZE 65536

typedef struct good_reader {
    reader *r;
    atomic_int received;
    int errors;
} good_reader;

static void *good_main(void *p)
{
    good_reader *g = p;
    for (int i = 0; i < SLOW_MSGS; i++) {
        char *msg, want[32];
        size_t len;
        int op = ws_read(g->r, &msg, &len);
        snprintf(want, sizeof(want), "seq=%06d;", i);
        if (op != 1 || len != SLOW_SIZE || memcmp(msg, want, strlen(want)) != 0 ||
            msg[len - 1] != (char)('a' + i % 26)) {
            g->errors++;
            free(msg);
            break;
        }
        free(msg);
        atomic_store(&g->received, i + 1);
    }
    return NULL;
}

static void test_ws_slow_consumer(void **unused)
{
    na__http_server_opts o;
    test_server ts;
    reader *rs = malloc(sizeof(*rs)), *rg = malloc(sizeof(*rg));
    good_reader g;
    pthread_t gt;
    int s, gfd, op, closed_how = 0;
    char *msg = malloc(SLOW_SIZE);
    size_t len;
    na__http_stats st;
    (void)unused;

    assert_non_null(rs);
    assert_non_null(rg);
    assert_non_null(msg);
    default_opts(&o);
    o.ws_queue_messages = 64;
    o.ws_queue_bytes = 2 << 20;
    server_start(&ts, &o);

    s = ws_connect(ts.port, "/ws", 4096, rs);
    ws_expect(rs, "hello /ws");
    ws_send(s, 1, "sub:all", 7);
    ws_expect(rs, "subscribed:all");
    gfd = ws_connect(ts.port, "/ws", 0, rg);
    ws_expect(rg, "hello /ws");
    ws_send(gfd, 1, "sub:all", 7);
    ws_expect(rg, "subscribed:all");
    wait_clients(ts.srv, 2);

    memset(&g, 0, sizeof(g));
    g.r = rg;
    assert_int_equal(pthread_create(&gt, NULL, good_main, &g), 0);
    /* s never reads from here on. The good client is kept within its queue by pacing. */
    for (int i = 0; i < SLOW_MSGS; i++) {
        int n = snprintf(msg, SLOW_SIZE, "seq=%06d;", i);
        memset(msg + n, 'a' + i % 26, SLOW_SIZE - (size_t)n);
        na__http_ws_publish(ts.srv, "/ws", "tick", msg, SLOW_SIZE);
        for (int k = 0; k < 3000 && i - atomic_load(&g.received) > 16 && !g.errors; k++)
            sleep_ms(10);
        if (g.errors)
            break;
    }
    pthread_join(gt, NULL);
    assert_int_equal(g.errors, 0);
    assert_int_equal(atomic_load(&g.received), SLOW_MSGS);
    na__http_server_stats(ts.srv, &st);
    assert_int_equal(st.ws_dropped_slow, 1);
    wait_clients(ts.srv, 1);

    /* The slow client now reads: queued data, then a 1008 close frame or the end of the
     * connection; never a hang (the socket has a receive timeout). */
    for (;;) {
        char *m;
        op = ws_read(rs, &m, &len);
        if (op == 8) {
            assert_true(len >= 2);
            assert_int_equal(((unsigned char)m[0] << 8) | (unsigned char)m[1], 1008);
            print_message("slow consumer close reason: %.*s\n", (int)len - 2, m + 2);
            assert_non_null(strstr(m + 2, "slow consumer"));
            closed_how = 1;
            free(m);
            break;
        }
        free(m);
        if (op < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                fail_msg("slow consumer still connected after %d s", SOCK_TIMEOUT_S);
            closed_how = 2;
            break;
        }
    }
    print_message("slow consumer ended by %s\n", closed_how == 1 ? "close frame" : "EOF/reset");
    close(s);
    close(gfd);
    server_stop(&ts);
    free(msg);
    free(rs);
    free(rg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_get),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_get_fields),
        cmocka_unit_test(test_post_body),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_keepalive_100),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_large_response),
        cmocka_unit_test(test_close_while_handling),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_fetch_refused),
        cmocka_unit_test(test_ws_basic),
        cmocka_unit_test(test_ws_slow_consumer),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
