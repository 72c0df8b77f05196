/*
 * test_ingest_ws_source.c: the topology stream's WebSocket client (src/ingest/ws_source.c)
 * against the real server (src/server/http.c) in the same process, over loopback: the default
 * path and the bearer token, fragments joined into one message, order, resync (close and
 * reconnect at once), the size cap (oversized: dropped and retried), a producer that goes away,
 * stopping while connected and while backing off, and bad URLs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "harness.h"
#include "ingest/stream.h"
#include "server/http.h"

#define WAIT_S 30 /* generous: a failure, not a timing, when it runs out */
#define MAX_SEEN 64

/* ---- a producer: the server, whose open callback sends `first` --------------------------- */

typedef struct producer {
    na__http_server *srv;
    pthread_t thread;
    int port;
    pthread_mutex_t lock;
    char *first;                 /* what every connection gets first (copied per open) */
    int opens;
    char auth[256], path[256], query_token[64]; /* as the last upgrade saw them */
} producer;

static const char *const ws_paths[] = {"/topology/stream", "/custom", NULL};

static char *open_cb(na__ws_client *c, const char *path, void **state, void *ud)
{
    producer *p = ud;
    char *text = NULL;

    (void)c;
    (void)state;
    pthread_mutex_lock(&p->lock);
    p->opens++;
    snprintf(p->path, sizeof(p->path), "%s", path);
    if (p->first)
        text = strdup(p->first);
    pthread_mutex_unlock(&p->lock);
    return text;
}

static bool authorize_cb(const char *path, const char *authorization, const char *token,
                         void *ud)
{
    producer *p = ud;

    (void)path;
    pthread_mutex_lock(&p->lock);
    snprintf(p->auth, sizeof(p->auth), "%s", authorization ? authorization : "");
    snprintf(p->query_token, sizeof(p->query_token), "%s", token ? token : "");
    pthread_mutex_unlock(&p->lock);
    return true;
}

static void not_found(const na__http_request *req, na__http_response *resp, void *ud)
{
    (void)req;
    (void)ud;
    na__http_error(resp, 404, "not_found", "nothing here");
}

static void *server_main(void *arg)
{
    producer *p = arg;
    (void)na__http_server_run(p->srv);
    return NULL;
}

static void producer_start(producer *p, int port, const char *first)
{
    na__http_server_opts o;
    na_error err;

    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    p->first = first ? strdup(first) : NULL;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = port;
    o.workers = 1;
    o.handler = not_found;
    o.ws_paths = ws_paths;
    o.ws.open = open_cb;
    o.ws.authorize = authorize_cb;
    o.ws.ud = p;
    na_error_clear(&err);
    if (na__http_server_new(&o, &p->srv, &err))
        fail_msg("server: %s", err.message);
    p->port = na__http_server_port(p->srv);
    assert_int_equal(pthread_create(&p->thread, NULL, server_main, p), 0);
}

static void producer_stop(producer *p)
{
    na__http_server_stop(p->srv);
    pthread_join(p->thread, NULL);
    na__http_server_free(p->srv);
    free(p->first);
    pthread_mutex_destroy(&p->lock);
}

static void publish(producer *p, const char *path, const char *text)
{
    na__http_ws_publish(p->srv, path, NULL, text, strlen(text));
}

/* ---- a consumer: what the callbacks saw ---------------------------------------------------- */

typedef struct seen {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char *msgs[MAX_SEEN];
    size_t lens[MAX_SEEN];
    size_t n_msgs;
    int ups, downs;
    char last_reason[200];
    na__ws_source *resync_on_first; /* resync from inside on_message, once */
} seen;

static void on_message(const char *text, size_t len, void *ud)
{
    seen *s = ud;

    /* On the client's thread: cmocka's asserts belong to the test's thread. */
    if (text[len] != '\0')
        abort(); /* handed over NUL-terminated */
    pthread_mutex_lock(&s->lock);
    if (s->n_msgs < MAX_SEEN) {
        s->msgs[s->n_msgs] = malloc(len + 1);
        memcpy(s->msgs[s->n_msgs], text, len + 1);
        s->lens[s->n_msgs] = len;
    }
    s->n_msgs++;
    if (s->resync_on_first) {
        na__ws_source_resync(s->resync_on_first);
        s->resync_on_first = NULL;
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void on_state(bool connected, const char *reason, void *ud)
{
    seen *s = ud;

    pthread_mutex_lock(&s->lock);
    if (connected != (reason == NULL))
        abort(); /* a reason exactly when disconnected */
    if (connected) {
        s->ups++;
    } else {
        s->downs++;
        snprintf(s->last_reason, sizeof(s->last_reason), "%s", reason);
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void seen_init(seen *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
}

static void seen_free(seen *s)
{
    for (size_t i = 0; i < s->n_msgs && i < MAX_SEEN; i++)
        free(s->msgs[i]);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}

/* Waits until *counter >= want (under s->lock); fails the test after WAIT_S. */
static void wait_count(seen *s, const void *counter, bool is_size, size_t want, const char *what)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_S;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        size_t have = is_size ? *(const size_t *)counter : (size_t)*(const int *)counter;
        if (have >= want)
            break;
        if (pthread_cond_timedwait(&s->cond, &s->lock, &until)) {
            pthread_mutex_unlock(&s->lock);
            fail_msg("timed out waiting for %s (%zu of %zu)", what, have, want);
        }
    }
    pthread_mutex_unlock(&s->lock);
}

static na__ws_source *source_start(const char *url, const char *token, size_t max_message,
                                   seen *s)
{
    na__ws_source_opts o;
    na__ws_source *src = NULL;
    na_error err;

    memset(&o, 0, sizeof(o));
    o.url = url;
    o.token = token;
    o.max_message = max_message;
    o.backoff_min_ms = 20;
    o.backoff_max_ms = 200;
    o.on_message = on_message;
    o.on_state = on_state;
    o.ud = s;
    na_error_clear(&err);
    if (na__ws_source_start(&o, &src, &err))
        fail_msg("ws source: %s", err.message);
    return src;
}

static char *big_text(size_t n)
{
    char *t = malloc(n + 1);

    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        t[i] = (char)('a' + (i * 7 + i / 1000) % 26);
    t[n] = '\0';
    return t;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_default_path_token_fragments_and_order(void **state)
{
    /* 300 KB: the server sends it in 64 KiB fragments; the client hands over one message. */
    char *first = big_text(300000), url[64];
    producer p;
    seen s;
    na__ws_source *src;
    na__ws_source_stats st;

    (void)state;
    producer_start(&p, 0, first);
    seen_init(&s);
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d", p.port);
    src = source_start(url, "s3cret-token", 0, &s);
    wait_count(&s, &s.n_msgs, true, 1, "the first message");
    assert_int_equal(s.lens[0], 300000);
    assert_memory_equal(s.msgs[0], first, 300000);
    pthread_mutex_lock(&p.lock);
    assert_string_equal(p.path, "/topology/stream");
    assert_string_equal(p.auth, "Bearer s3cret-token");
    pthread_mutex_unlock(&p.lock);
    for (int i = 0; i < 20; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "{\"n\":%d}", i);
        publish(&p, "/topology/stream", msg);
        publish(&p, "/custom", "not for this client");
    }
    wait_count(&s, &s.n_msgs, true, 21, "20 published messages");
    for (int i = 0; i < 20; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "{\"n\":%d}", i);
        assert_string_equal(s.msgs[1 + i], msg);
    }
    na__ws_source_stats_get(src, &st);
    assert_true(st.connected);
    assert_int_equal(st.connects, 1);
    assert_int_equal(st.disconnects, 0);
    assert_int_equal(st.messages, 21);
    assert_int_equal(st.oversized, 0);
    assert_int_equal(s.ups, 1);
    na__ws_source_stop(src); /* while connected */
    assert_int_equal(s.downs, 0); /* no callbacks while stopping */
    producer_stop(&p);
    seen_free(&s);
    free(first);
}

static void test_resync_reconnects_at_once(void **state)
{
    producer p;
    seen s;
    char url[64];
    na__ws_source *src;
    na__ws_source_stats st;

    (void)state;
    producer_start(&p, 0, "{\"type\":\"snapshot\"}");
    seen_init(&s);
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/custom", p.port);
    src = source_start(url, NULL, 0, &s);
    wait_count(&s, &s.n_msgs, true, 1, "the first snapshot");
    pthread_mutex_lock(&p.lock);
    assert_string_equal(p.path, "/custom");
    assert_string_equal(p.auth, ""); /* no token, no header */
    pthread_mutex_unlock(&p.lock);
    /* From another thread. */
    na__ws_source_resync(src);
    wait_count(&s, &s.n_msgs, true, 2, "the snapshot of the new connection");
    assert_int_equal(s.downs, 1);
    assert_string_equal(s.last_reason, "resync");
    /* From inside on_message: closes before reading on. */
    pthread_mutex_lock(&s.lock);
    s.resync_on_first = src;
    pthread_mutex_unlock(&s.lock);
    publish(&p, "/custom", "{\"type\":\"delta\"}");
    wait_count(&s, &s.n_msgs, true, 4, "the delta and the next snapshot");
    assert_string_equal(s.msgs[2], "{\"type\":\"delta\"}");
    assert_string_equal(s.msgs[3], "{\"type\":\"snapshot\"}");
    wait_count(&s, &s.ups, false, 3, "three connections");
    na__ws_source_stats_get(src, &st);
    assert_int_equal(st.connects, 3);
    assert_int_equal(st.disconnects, 2);
    assert_int_equal(st.next_retry_ms, 0);
    pthread_mutex_lock(&p.lock);
    assert_int_equal(p.opens, 3);
    pthread_mutex_unlock(&p.lock);
    na__ws_source_stop(src);
    producer_stop(&p);
    seen_free(&s);
}

static void test_oversized_messages_drop_the_connection(void **state)
{
    char *first = big_text(5000), url[64];
    producer p;
    seen s;
    na__ws_source *src;
    na__ws_source_stats st;

    (void)state;
    producer_start(&p, 0, first);
    seen_init(&s);
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/topology/stream", p.port);
    src = source_start(url, NULL, 1000, &s);
    /* Every connection gets the same 5000 bytes: refused each time, retried with backoff. */
    wait_count(&s, &s.downs, false, 2, "two dropped connections");
    na__ws_source_stats_get(src, &st);
    assert_true(st.oversized >= 2);
    assert_true(st.connects >= 2);
    assert_non_null(strstr(st.last_error, "message over 1000 bytes"));
    assert_true(st.next_retry_ms > 0);
    assert_int_equal(s.n_msgs, 0);
    na__ws_source_stop(src);
    producer_stop(&p);
    seen_free(&s);
    free(first);
}

static void test_producer_goes_away_and_comes_back(void **state)
{
    producer p;
    seen s;
    char url[64];
    int port;
    na__ws_source *src;
    na__ws_source_stats st;

    (void)state;
    producer_start(&p, 0, "hello");
    port = p.port;
    seen_init(&s);
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d", port);
    src = source_start(url, NULL, 0, &s);
    wait_count(&s, &s.n_msgs, true, 1, "hello");
    producer_stop(&p);
    wait_count(&s, &s.downs, false, 1, "the drop");
    producer_start(&p, port, "hello again");
    wait_count(&s, &s.n_msgs, true, 2, "hello again");
    assert_string_equal(s.msgs[1], "hello again");
    na__ws_source_stats_get(src, &st);
    assert_int_equal(st.disconnects, 1);
    assert_int_equal(s.ups, 2);
    na__ws_source_stop(src);
    producer_stop(&p);
    seen_free(&s);
}

static void test_stop_while_backing_off(void **state)
{
    producer p;
    seen s;
    char url[64];
    na__ws_source *src;
    na__ws_source_stats st;
    struct timespec ts = {0, 20 * 1000000L};

    (void)state;
    /* A free port: take one from the server, then close it. */
    producer_start(&p, 0, NULL);
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d", p.port);
    producer_stop(&p);
    seen_init(&s);
    src = source_start(url, NULL, 0, &s);
    for (int i = 0; i < WAIT_S * 50; i++) {
        na__ws_source_stats_get(src, &st);
        if (st.last_error[0])
            break;
        nanosleep(&ts, NULL);
    }
    assert_non_null(strstr(st.last_error, "cannot connect"));
    assert_int_equal(st.connects, 0);
    na__ws_source_resync(src); /* try now: harmless while nothing listens */
    na__ws_source_stop(src);
    assert_int_equal(s.ups, 0);
    assert_int_equal(s.downs, 0); /* failed attempts are not drops */
    seen_free(&s);
    na__ws_source_stop(NULL);
}

/* A query without a path keeps the query on the default path. */
static void test_query_without_path(void **state)
{
    producer p;
    seen s;
    char url[96];
    na__ws_source *src;

    (void)state;
    producer_start(&p, 0, "x");
    seen_init(&s);
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d?access_token=abc123", p.port);
    src = source_start(url, NULL, 0, &s);
    wait_count(&s, &s.n_msgs, true, 1, "the first message");
    pthread_mutex_lock(&p.lock);
    assert_string_equal(p.path, "/topology/stream");
    assert_string_equal(p.query_token, "abc123");
    pthread_mutex_unlock(&p.lock);
    na__ws_source_stop(src);
    producer_stop(&p);
    seen_free(&s);
}

static void test_bad_urls(void **state)
{
    static const char *const bad[] = {"http://127.0.0.1:1/", "ws://", "127.0.0.1:80",
                                      "ws://127.0.0.1:99999/", "ftp://h/x", ""};
    na__ws_source_opts o;
    na__ws_source *src = (na__ws_source *)1;
    na_error err;

    (void)state;
    memset(&o, 0, sizeof(o));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o.url = bad[i];
        na_error_clear(&err);
        if (na__ws_source_start(&o, &src, &err) != NA_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_null(src);
        assert_true(err.message[0] != '\0');
    }
    o.url = NULL;
    assert_int_equal(na__ws_source_start(&o, &src, &err), NA_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_path_token_fragments_and_order),
        cmocka_unit_test(test_resync_reconnects_at_once),
        cmocka_unit_test(test_oversized_messages_drop_the_connection),
        cmocka_unit_test(test_producer_goes_away_and_comes_back),
        cmocka_unit_test(test_stop_while_backing_off),
        cmocka_unit_test(test_query_without_path),
        cmocka_unit_test(test_bad_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
