/*
 * test_nats_pub.c: the NATS publisher (src/alert/nats_pub.c) against a real nats-server
 * started by scripts/nats-tmp.sh: JetStream delivery read back from the stream (every id once,
 * in order), a broker restart while publishing, a broker that is down at start, core NATS
 * with a plain subscriber, outbox overflow, the stream it creates or updates, the fallback
 * without JetStream, and bad configurations. Skipped (exit 77) without nats-server.
 *
 * The waits below are liveness bounds (a test fails instead of hanging), never assertions on
 * speed. The throughput test prints its rate and asserts only that everything arrived.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <nats/nats.h>

#include "alert/nats_pub.h"
#include "harness.h"

#define LIVENESS_MS 120000

static const char *const subjects[] = {"anomaly.alerts", "alerts.multi_modal", "bgp.events",
                                       "topology.changes"};

typedef struct broker {
    char dir[128];
    char url[128];
    int port;
} broker;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/*
 * Runs scripts/nats-tmp.sh VERB DIR [ARG] (a port for start, KILL for restart); for start /
 * restart, keeps the URL it prints.
 */
static void script_arg(broker *b, const char *verb, const char *arg)
{
    char cmd[600], line[256] = "";
    FILE *f;
    int st;

    snprintf(cmd, sizeof(cmd), "sh '%s/scripts/nats-tmp.sh' %s '%s' %s", test_source_dir(),
             verb, b->dir, arg);
    f = popen(cmd, "r");
    assert_non_null(f);
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    st = pclose(f);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("%s: exit status %d", cmd, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    if (strcmp(verb, "stop") == 0)
        return;
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "nats://127.0.0.1:", 17) != 0)
        fail_msg("%s printed '%s'", cmd, line);
    snprintf(b->url, sizeof(b->url), "%.127s", line);
    b->port = (int)strtol(line + 17, NULL, 10);
}

static void script(broker *b, const char *verb, int port)
{
    char arg[16] = "";
    if (port)
        snprintf(arg, sizeof(arg), "%d", port);
    script_arg(b, verb, arg);
}

static void new_dir(broker *b)
{
    snprintf(b->dir, sizeof(b->dir), "/tmp/na_nats_test_XXXXXX");
    assert_non_null(mkdtemp(b->dir));
}

static void broker_start(broker *b, int port)
{
    new_dir(b);
    script(b, "start", port);
}

/* A broker to be started later: only its URL. */
static void broker_plan(broker *b)
{
    new_dir(b);
    b->port = test_free_port(SOCK_STREAM);
    snprintf(b->url, sizeof(b->url), "nats://127.0.0.1:%d", b->port);
}

static void broker_stop(broker *b)
{
    script(b, "stop", 0);
}

static na__nats_config config(const char *url, const char *jetstream, size_t outbox,
                              const char *prefix)
{
    na__nats_config c = {.url = (char *)url, .jetstream = (char *)jetstream,
                         .stream = (char *)"NETASSURE", .outbox = outbox,
                         .subject_prefix = (char *)prefix};
    return c;
}

static na__nats_pub *start(const na__nats_config *c)
{
    na__nats_pub *p = NULL;
    na_error err;
    na_error_clear(&err);
    if (na__nats_pub_start(c, &p, &err) != 0)
        fail_msg("na__nats_pub_start: %s", err.message);
    assert_non_null(p);
    return p;
}

static void print_stats(const char *what, na__nats_pub *p)
{
    na__nats_pub_stats s;
    na__nats_pub_stats_get(p, &s);
    fprintf(stderr, "%s: connected %d jetstream %d queued %" PRIu64 " published %" PRIu64
            " duplicates %" PRIu64 " retries %" PRIu64 " dropped %" PRIu64 " reconnects %"
            PRIu64 " outbox %zu last_error '%s'\n", what, s.connected, s.jetstream, s.queued,
            s.published, s.duplicates, s.retries, s.dropped, s.reconnects, s.outbox,
            s.last_error);
}

/* Waits until `published` reaches n with an empty outbox (fails after LIVENESS_MS). */
static void wait_published(na__nats_pub *p, uint64_t n)
{
    int64_t until = now_ms() + LIVENESS_MS;
    na__nats_pub_stats s;
    for (;;) {
        na__nats_pub_stats_get(p, &s);
        if (s.published >= n && s.outbox == 0)
            return;
        if (now_ms() > until) {
            print_stats("stuck", p);
            fail_msg("published %" PRIu64 " of %" PRIu64, s.published, n);
        }
        sleep_ms(10);
    }
}

static void wait_connected(na__nats_pub *p)
{
    int64_t until = now_ms() + LIVENESS_MS;
    na__nats_pub_stats s;
    for (;;) {
        na__nats_pub_stats_get(p, &s);
        if (s.connected)
            return;
        if (now_ms() > until)
            fail_msg("never connected: %s", s.last_error);
        sleep_ms(10);
    }
}

static void publish_n(na__nats_pub *p, int from, int to)
{
    char id[64], data[128];
    for (int i = from; i < to; i++) {
        snprintf(id, sizeof(id), "test:%06d", i);
        int len = snprintf(data, sizeof(data), "{\"i\": %d}", i);
        na__nats_pub_publish(p, subjects[i % 4], id, data, (size_t)len);
    }
}

/* ---- reading the stream back, through nats.c's JetStream API ---- */

typedef struct stream_msgs {
    size_t n;
    char (*id)[64];
    char (*subject)[64];
    char (*data)[64];
} stream_msgs;

static void stream_msgs_free(stream_msgs *m)
{
    free(m->id);
    free(m->subject);
    free(m->data);
    memset(m, 0, sizeof(*m));
}

static void js_open(const char *url, natsConnection **nc, jsCtx **js)
{
    natsStatus s = natsConnection_ConnectTo(nc, url);
    if (s != NATS_OK)
        fail_msg("connect %s: %s", url, natsStatus_GetText(s));
    assert_int_equal(natsConnection_JetStream(js, *nc, NULL), NATS_OK);
}

/* Every message of stream NETASSURE, in stream order. */
static void read_stream(const char *url, stream_msgs *out)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;

    memset(out, 0, sizeof(*out));
    js_open(url, &nc, &js);
    if (js_GetStreamInfo(&si, js, "NETASSURE", NULL, &jerr) != NATS_OK)
        fail_msg("stream info: %s (%d)", nats_GetLastError(NULL), (int)jerr);
    out->n = (size_t)si->State.Msgs;
    out->id = calloc(out->n + 1, sizeof(*out->id));
    out->subject = calloc(out->n + 1, sizeof(*out->subject));
    out->data = calloc(out->n + 1, sizeof(*out->data));
    assert_true(out->id && out->subject && out->data);
    size_t k = 0;
    for (uint64_t seq = si->State.FirstSeq; seq <= si->State.LastSeq && k < out->n; seq++) {
        natsMsg *m = NULL;
        const char *id = NULL;
        if (js_GetMsg(&m, js, "NETASSURE", seq, NULL, &jerr) != NATS_OK)
            fail_msg("get msg %" PRIu64 ": %s", seq, nats_GetLastError(NULL));
        if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK)
            fail_msg("message %" PRIu64 " has no Nats-Msg-Id", seq);
        snprintf(out->id[k], sizeof(out->id[k]), "%s", id);
        snprintf(out->subject[k], sizeof(out->subject[k]), "%s", natsMsg_GetSubject(m));
        snprintf(out->data[k], sizeof(out->data[k]), "%.*s", natsMsg_GetDataLength(m),
                 natsMsg_GetData(m));
        natsMsg_Destroy(m);
        k++;
    }
    assert_int_equal(k, out->n);
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

/* Checks that the stream holds test:from .. test:to-1 exactly once each, in order. */
static void expect_stream_ids(const char *url, int from, int to)
{
    stream_msgs m;
    read_stream(url, &m);
    if (m.n != (size_t)(to - from))
        fail_msg("stream holds %zu messages, want %d", m.n, to - from);
    for (int i = from; i < to; i++) {
        char want[64], data[64];
        size_t k = (size_t)(i - from);
        snprintf(want, sizeof(want), "test:%06d", i);
        snprintf(data, sizeof(data), "{\"i\": %d}", i);
        if (strcmp(m.id[k], want) != 0)
            fail_msg("stream message %zu: id %s, want %s", k, m.id[k], want);
        assert_string_equal(m.subject[k], subjects[i % 4]);
        assert_string_equal(m.data[k], data);
    }
    stream_msgs_free(&m);
}

/*
 * Checks that the stream holds test:from .. test:to-1 exactly once each (any order), each
 * with its subject and data. Returns how many are out of place: the count minus the longest
 * increasing run of ids (one message that overtook others counts 1).
 */
static size_t expect_stream_ids_once(const char *url, int from, int to)
{
    stream_msgs m;
    int n = to - from;
    size_t lis = 0;
    unsigned char *seen = calloc((size_t)n, 1);
    int *tail = calloc((size_t)n + 1, sizeof(int)); /* tail[j]: least end of a run of j + 1 */

    assert_non_null(seen);
    assert_non_null(tail);
    read_stream(url, &m);
    for (size_t k = 0; k < m.n; k++) {
        char *end = NULL, data[64];
        long i = strncmp(m.id[k], "test:", 5) == 0 ? strtol(m.id[k] + 5, &end, 10) : -1;
        if (i < from || i >= to || !end || *end)
            fail_msg("stream message %zu: unexpected id '%s'", k, m.id[k]);
        if (seen[i - from]++)
            fail_msg("stream message %zu: id %s is there twice", k, m.id[k]);
        snprintf(data, sizeof(data), "{\"i\": %ld}", i);
        assert_string_equal(m.subject[k], subjects[i % 4]);
        assert_string_equal(m.data[k], data);
        size_t lo = 0, hi = lis;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (tail[mid] < (int)i)
                lo = mid + 1;
            else
                hi = mid;
        }
        tail[lo] = (int)i;
        if (lo == lis)
            lis++;
    }
    if (m.n != (size_t)n)
        fail_msg("stream holds %zu messages, want %d", m.n, n);
    free(seen);
    free(tail);
    stream_msgs_free(&m);
    return (size_t)n - lis;
}

/* (a) JetStream: 5,000 messages, read back from the stream: each id once, in order. */
static void test_jetstream_in_order(void **state)
{
    broker b;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    (void)state;

    broker_start(&b, 0);
    na__nats_config c = config(b.url, "auto", 100000, "");
    na__nats_pub *p = start(&c);
    publish_n(p, 0, 5000);
    wait_published(p, 5000);
    na__nats_pub_stats s;
    na__nats_pub_stats_get(p, &s);
    print_stats("jetstream", p);
    assert_true(s.jetstream);
    assert_true(s.connected);
    assert_int_equal(s.queued, 5000);
    assert_int_equal(s.published, 5000);
    assert_int_equal(s.dropped, 0);
    assert_int_equal(na__nats_pub_stop(p, 5000), 0);
    expect_stream_ids(b.url, 0, 5000);

    /* The stream it created: the four subjects, file storage, a 2-minute duplicate window. */
    js_open(b.url, &nc, &js);
    assert_int_equal(js_GetStreamInfo(&si, js, "NETASSURE", NULL, NULL), NATS_OK);
    assert_int_equal(si->Config->SubjectsLen, 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(si->Config->Subjects[i], subjects[i]);
    assert_int_equal(si->Config->Storage, js_FileStorage);
    assert_int_equal(si->Config->Duplicates, (int64_t)120 * 1000 * 1000 * 1000);
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    broker_stop(&b);
}

/* An existing stream with other subjects and a short duplicate window is updated. */
static void test_jetstream_updates_stream(void **state)
{
    broker b;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsStreamConfig sc;
    const char *old_subjects[] = {"site9.anomaly.alerts", "other.stuff"};
    (void)state;

    broker_start(&b, 0);
    js_open(b.url, &nc, &js);
    jsStreamConfig_Init(&sc);
    sc.Name = "NETASSURE";
    sc.Subjects = old_subjects;
    sc.SubjectsLen = 2;
    sc.Storage = js_MemoryStorage;
    sc.Duplicates = (int64_t)10 * 1000 * 1000 * 1000;
    sc.MaxMsgs = 1000; /* the operator's limit stays */
    assert_int_equal(js_AddStream(NULL, js, &sc, NULL, NULL), NATS_OK);

    na__nats_config c = config(b.url, "on", 100, "site9.");
    na__nats_pub *p = start(&c);
    na__nats_pub_publish(p, "topology.changes", "topology:7", "{\"version\": 7}", 14);
    wait_published(p, 1);
    assert_int_equal(na__nats_pub_stop(p, 5000), 0);

    assert_int_equal(js_GetStreamInfo(&si, js, "NETASSURE", NULL, NULL), NATS_OK);
    assert_int_equal(si->Config->SubjectsLen, 4);
    for (int i = 0; i < 4; i++) {
        char want[64];
        snprintf(want, sizeof(want), "site9.%s", subjects[i]);
        assert_string_equal(si->Config->Subjects[i], want);
    }
    assert_int_equal(si->Config->Duplicates, (int64_t)120 * 1000 * 1000 * 1000);
    assert_int_equal(si->Config->MaxMsgs, 1000);
    assert_int_equal(si->State.Msgs, 1);
    jsStreamInfo_Destroy(si);

    natsMsg *m = NULL;
    assert_int_equal(js_GetLastMsg(&m, js, "NETASSURE", "site9.topology.changes", NULL, NULL),
                     NATS_OK);
    assert_int_equal(natsMsg_GetDataLength(m), 14);
    natsMsg_Destroy(m);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    broker_stop(&b);
}

/* A message over the server's max_payload is dropped; the ones around it arrive. */
static void test_oversized_message_dropped(void **state)
{
    broker b;
    na__nats_pub_stats s;
    size_t big = (size_t)2 << 20; /* the server's default max_payload is 1 MB */
    char *data = malloc(big);
    (void)state;

    assert_non_null(data);
    memset(data, 'x', big);
    broker_start(&b, 0);
    na__nats_config c = config(b.url, "on", 100, "");
    na__nats_pub *p = start(&c);
    publish_n(p, 0, 1);
    na__nats_pub_publish(p, "bgp.events", "too:big", data, big);
    wait_published(p, 1);
    publish_n(p, 1, 2);
    wait_published(p, 2);
    na__nats_pub_stats_get(p, &s);
    assert_int_equal(s.queued, 3);
    assert_int_equal(s.dropped, 1);
    assert_non_null(strstr(s.last_error, "too:big"));
    assert_int_equal(na__nats_pub_stop(p, 5000), 0);
    expect_stream_ids(b.url, 0, 2);
    free(data);
    broker_stop(&b);
}

static pid_t broker_pid(const broker *b)
{
    char path[200], line[32] = "";
    snprintf(path, sizeof(path), "%s/nats.pid", b->dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    fclose(f);
    long pid = strtol(line, NULL, 10);
    assert_true(pid > 1);
    return (pid_t)pid;
}

/*
 * No acknowledgement within 5 s (the server frozen with SIGSTOP, the connection still open):
 * the window is sent again; once the server runs again it stores the originals and answers the
 * copies as duplicates. The stream holds every message once.
 */
static void test_ack_timeout_resend(void **state)
{
    broker b;
    na__nats_pub_stats s;
    (void)state;

    broker_start(&b, 0);
    na__nats_config c = config(b.url, "on", 1000, "");
    na__nats_pub *p = start(&c);
    publish_n(p, 0, 1);
    wait_published(p, 1);
    pid_t pid = broker_pid(&b);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    publish_n(p, 1, 101);
    int64_t until = now_ms() + LIVENESS_MS;
    do {
        sleep_ms(50);
        na__nats_pub_stats_get(p, &s);
        if (now_ms() > until) {
            kill(pid, SIGCONT);
            fail_msg("no resend after the ack timeout: %s", s.last_error);
        }
    } while (s.retries < 100);
    assert_int_equal(s.published, 1);
    assert_non_null(strstr(s.last_error, "no JetStream ack"));
    assert_int_equal(kill(pid, SIGCONT), 0);
    wait_published(p, 101);
    print_stats("ack timeout", p);
    na__nats_pub_stats_get(p, &s);
    assert_true(s.duplicates >= 1);
    assert_int_equal(s.published, 101);
    assert_int_equal(s.reconnects, 0);
    assert_int_equal(na__nats_pub_stop(p, 5000), 0);
    expect_stream_ids(b.url, 0, 101);
    broker_stop(&b);
}

typedef struct pub_loop {
    na__nats_pub *p;
    int n;
    volatile int done; /* written by the loop, read after join */
} pub_loop;

/* Publishes test:0 .. n-1, pausing now and then so that the restarts land in the middle. */
static void *publish_loop(void *arg)
{
    pub_loop *l = arg;
    for (int i = 0; i < l->n; i += 200) {
        publish_n(l->p, i, i + 200 < l->n ? i + 200 : l->n);
        l->done = i + 200;
        sleep_ms(4);
    }
    return NULL;
}

/* Waits until the publisher has `published` >= n. */
static void wait_at_least(na__nats_pub *p, uint64_t n)
{
    int64_t until = now_ms() + LIVENESS_MS;
    na__nats_pub_stats s;
    do {
        sleep_ms(2);
        na__nats_pub_stats_get(p, &s);
        if (now_ms() > until)
            fail_msg("published %" PRIu64 " of %" PRIu64 ": %s", s.published, n, s.last_error);
    } while (s.published < n);
}

/*
 * (b) The broker restarts twice while 20,000 messages are published (a shutdown, then a
 * SIGKILL, same port and store): all arrive exactly once.
 */
static void test_jetstream_broker_restart(void **state)
{
    broker b;
    pthread_t t;
    na__nats_pub_stats s;
    (void)state;

    broker_start(&b, 0);
    na__nats_config c = config(b.url, "auto", 100000, "");
    na__nats_pub *p = start(&c);
    pub_loop l = {p, 20000, 0};
    assert_int_equal(pthread_create(&t, NULL, publish_loop, &l), 0);
    wait_at_least(p, 3000);
    fprintf(stderr, "restart (TERM) with %d published by the loop\n", l.done);
    script_arg(&b, "restart", "TERM");
    wait_at_least(p, 10000);
    fprintf(stderr, "restart (KILL) with %d published by the loop\n", l.done);
    script_arg(&b, "restart", "KILL");
    pthread_join(t, NULL);
    wait_published(p, 20000);
    print_stats("after the restarts", p);
    na__nats_pub_stats_get(p, &s);
    assert_true(s.reconnects >= 2);
    assert_int_equal(s.queued, 20000);
    assert_int_equal(s.published, 20000);
    assert_int_equal(s.dropped, 0);
    assert_int_equal(na__nats_pub_stop(p, 5000), 0);
    /* Resends the server had stored are removed by its duplicate window: 20,000 exactly.
     * The order is kept as far as possible: after a reconnect the window is resent in order;
     * only a publish racing the disconnect (taken into nats.c's reconnect buffer, sent first
     * after the reconnect) can land after later ones, at most one per reconnect. */
    size_t late = expect_stream_ids_once(b.url, 0, 20000);
    fprintf(stderr, "restart: %zu messages out of place\n", late);
    assert_in_range(late, 0, s.reconnects);
    broker_stop(&b);
}

/* (c) The broker is down when the publisher starts: messages wait and all arrive. */
static void test_broker_down_at_start(void **state)
{
    broker b;
    na__nats_pub_stats s;
    (void)state;

    broker_plan(&b);
    na__nats_config c = config(b.url, "auto", 1000, "");
    na__nats_pub *p = start(&c);
    publish_n(p, 0, 100);
    sleep_ms(300);
    na__nats_pub_stats_get(p, &s);
    assert_false(s.connected);
    assert_int_equal(s.outbox, 100);
    assert_int_equal(s.published, 0);
    assert_non_null(strstr(s.last_error, "connect"));
    script(&b, "start", b.port);
    wait_published(p, 100);
    assert_int_equal(na__nats_pub_stop(p, 5000), 0);
    expect_stream_ids(b.url, 0, 100);
    broker_stop(&b);
}

/* A plain core NATS subscriber receives n messages on PREFIX.<subject>, in order. */
static void expect_core_messages(natsSubscription *sub, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        natsMsg *m = NULL;
        const char *id = NULL;
        char want_id[64], want_subject[128], want_data[64];
        natsStatus st = natsSubscription_NextMsg(&m, sub, LIVENESS_MS);
        if (st != NATS_OK)
            fail_msg("message %d: %s", i, natsStatus_GetText(st));
        snprintf(want_id, sizeof(want_id), "test:%06d", i);
        snprintf(want_subject, sizeof(want_subject), "%s%s", prefix, subjects[i % 4]);
        snprintf(want_data, sizeof(want_data), "{\"i\": %d}", i);
        assert_int_equal(natsMsgHeader_Get(m, "Nats-Msg-Id", &id), NATS_OK);
        assert_string_equal(id, want_id);
        assert_string_equal(natsMsg_GetSubject(m), want_subject);
        assert_int_equal(natsMsg_GetDataLength(m), (int)strlen(want_data));
        assert_memory_equal(natsMsg_GetData(m), want_data, strlen(want_data));
        natsMsg_Destroy(m);
    }
}

/* (d) Core NATS (jetstream: off): a plain subscriber gets every message; no stream is made. */
static void test_core_mode(void **state)
{
    broker b;
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    na__nats_pub_stats s;
    (void)state;

    broker_start(&b, 0);
    assert_int_equal(natsConnection_ConnectTo(&nc, b.url), NATS_OK);
    assert_int_equal(natsConnection_SubscribeSync(&sub, nc, "lab.>"), NATS_OK);
    assert_int_equal(natsSubscription_SetPendingLimits(sub, -1, -1), NATS_OK);
    assert_int_equal(natsConnection_Flush(nc), NATS_OK);

    na__nats_config c = config(b.url, "off", 100000, "lab");
    na__nats_pub *p = start(&c);
    wait_connected(p);
    publish_n(p, 0, 2000);
    expect_core_messages(sub, "lab.", 2000);
    wait_published(p, 2000);
    na__nats_pub_stats_get(p, &s);
    assert_false(s.jetstream);
    assert_int_equal(s.published, 2000);
    assert_int_equal(na__nats_pub_stop(p, 5000), 0);

    assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
    assert_int_equal(js_GetStreamInfo(&si, js, "NETASSURE", NULL, NULL), NATS_NOT_FOUND);
    jsCtx_Destroy(js);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    broker_stop(&b);
}

/* Core NATS keeps messages while the broker is away and sends them once it is there. */
static void test_core_mode_broker_down(void **state)
{
    broker b;
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    na__nats_pub_stats s;
    (void)state;

    broker_plan(&b);
    na__nats_config c = config(b.url, "off", 1000, "");
    na__nats_pub *p = start(&c);
    publish_n(p, 0, 50);
    /* Once the broker is up, the subscriber must be there before the publisher connects:
     * hold the publisher's messages back by subscribing first on a server started now. */
    script(&b, "start", b.port);
    assert_int_equal(natsConnection_ConnectTo(&nc, b.url), NATS_OK);
    assert_int_equal(natsConnection_SubscribeSync(&sub, nc, "*.*"), NATS_OK);
    assert_int_equal(natsConnection_Flush(nc), NATS_OK);
    /* Ten more once the subscriber is there: whoever connected first, these reach it. */
    publish_n(p, 50, 60);
    wait_published(p, 60);
    na__nats_pub_stats_get(p, &s);
    assert_int_equal(s.published, 60);
    assert_int_equal(na__nats_pub_stop(p, 5000), 0);
    /* How many of the first 50 the subscriber saw depends on who connected first (core NATS
     * keeps nothing); what it saw is in order and complete from its first message on. */
    natsMsg *m = NULL;
    int first = -1, got = 0;
    while (natsSubscription_NextMsg(&m, sub, 500) == NATS_OK) {
        const char *id = NULL;
        assert_int_equal(natsMsgHeader_Get(m, "Nats-Msg-Id", &id), NATS_OK);
        int i = (int)strtol(id + 5, NULL, 10);
        if (first < 0)
            first = i;
        assert_int_equal(i, first + got);
        got++;
        natsMsg_Destroy(m);
    }
    fprintf(stderr, "core after start: subscriber saw %d of 60 (from %d)\n", got, first);
    assert_true(got >= 10);
    assert_int_equal(first + got, 60);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    broker_stop(&b);
}

/* (e) Outbox of 16, broker down, 100 published: 84 dropped, the 16 newest arrive. */
static void test_outbox_overflow(void **state)
{
    broker b;
    na__nats_pub_stats s;
    (void)state;

    broker_plan(&b);
    na__nats_config c = config(b.url, "auto", 16, "");
    na__nats_pub *p = start(&c);
    publish_n(p, 0, 100);
    na__nats_pub_stats_get(p, &s);
    assert_int_equal(s.queued, 100);
    assert_int_equal(s.dropped, 84);
    assert_int_equal(s.outbox, 16);
    assert_non_null(strstr(s.last_error, "outbox full"));
    script(&b, "start", b.port);
    wait_published(p, 16);
    na__nats_pub_stats_get(p, &s);
    assert_int_equal(s.published, 16);
    assert_int_equal(s.dropped, 84);
    assert_int_equal(na__nats_pub_stop(p, 5000), 0);
    expect_stream_ids(b.url, 84, 100);
    broker_stop(&b);
}

/* No JetStream on the server: "auto" publishes with core NATS, "on" keeps everything. */
static void test_without_jetstream(void **state)
{
    broker b;
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    na__nats_pub_stats s;
    (void)state;

    setenv("NATS_TMP_JS", "0", 1);
    broker_start(&b, 0);
    unsetenv("NATS_TMP_JS");
    assert_int_equal(natsConnection_ConnectTo(&nc, b.url), NATS_OK);
    assert_int_equal(natsConnection_SubscribeSync(&sub, nc, "*.*"), NATS_OK);
    assert_int_equal(natsConnection_Flush(nc), NATS_OK);

    na__nats_config c = config(b.url, "auto", 1000, "");
    na__nats_pub *p = start(&c);
    /* Until it knows there is no JetStream, messages wait; then they go out as core NATS. */
    publish_n(p, 0, 100);
    expect_core_messages(sub, "", 100);
    wait_published(p, 100);
    na__nats_pub_stats_get(p, &s);
    assert_true(s.connected);
    assert_false(s.jetstream);
    assert_int_equal(na__nats_pub_stop(p, 5000), 0);

    c = config(b.url, "on", 1000, "");
    p = start(&c);
    publish_n(p, 0, 5);
    int64_t until = now_ms() + LIVENESS_MS;
    do {
        sleep_ms(20);
        na__nats_pub_stats_get(p, &s);
        if (now_ms() > until)
            fail_msg("no JetStream error reported: '%s'", s.last_error);
    } while (!strstr(s.last_error, "JetStream required"));
    assert_true(s.connected);
    assert_false(s.jetstream);
    assert_int_equal(s.published, 0);
    assert_int_equal(s.outbox, 5);
    natsMsg *m = NULL;
    assert_int_equal(natsSubscription_NextMsg(&m, sub, 300), NATS_TIMEOUT);
    assert_int_equal(na__nats_pub_stop(p, 0), 5);

    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    broker_stop(&b);
}

static void expect_bad(na__nats_config c, const char *needle)
{
    na__nats_pub *p = (na__nats_pub *)&c; /* must be reset to NULL */
    na_error err;
    na_error_clear(&err);
    assert_int_equal(na__nats_pub_start(&c, &p, &err), NA_EINVAL);
    assert_null(p);
    if (!strstr(err.message, needle))
        fail_msg("error '%s' does not mention '%s'", err.message, needle);
}

/* (f) Bad configurations, bad publishes, a NULL (stopped) publisher. */
static void test_bad_config_and_publish(void **state)
{
    broker b;
    na__nats_pub_stats s;
    na__nats_pub *p = NULL;
    na_error err;
    char long_id[200];
    (void)state;

    assert_int_equal(na__nats_pub_start(NULL, &p, &err), NA_EINVAL);
    expect_bad(config(NULL, "auto", 10, ""), "nats.url");
    expect_bad(config("http://127.0.0.1:4222", "auto", 10, ""), "nats.url");
    expect_bad(config("nats://127.0.0.1:4222", "maybe", 10, ""), "nats.jetstream");
    expect_bad(config("nats://127.0.0.1:4222", "auto", 0, ""), "nats.outbox");
    expect_bad(config("nats://127.0.0.1:4222", "auto", 10, "a b"), "nats.subject_prefix");
    expect_bad(config("nats://127.0.0.1:4222", "auto", 10, "a.*"), "nats.subject_prefix");
    expect_bad(config("nats://127.0.0.1:4222", "auto", 10, "a..b"), "nats.subject_prefix");
    na__nats_config c = config("nats://127.0.0.1:4222", "auto", 10, "");
    c.stream = (char *)"bad name!";
    expect_bad(c, "nats.stream");

    /* A stopped publisher is NULL for its owner: every call is a no-op. */
    na__nats_pub_publish(NULL, "anomaly.alerts", "x", "{}", 2);
    na__nats_pub_stats_get(NULL, &s);
    assert_int_equal(s.queued, 0);
    assert_int_equal(na__nats_pub_stop(NULL, 0), 0);

    broker_plan(&b); /* never started */
    c = config(b.url, "auto", 10, "");
    p = start(&c);
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    na__nats_pub_publish(p, "no.such.subject", "id:1", "{}", 2);
    na__nats_pub_publish(p, NULL, "id:1", "{}", 2);
    na__nats_pub_publish(p, "anomaly.alerts", "", "{}", 2);
    na__nats_pub_publish(p, "anomaly.alerts", NULL, "{}", 2);
    na__nats_pub_publish(p, "anomaly.alerts", long_id, "{}", 2);
    na__nats_pub_publish(p, "anomaly.alerts", "with space", "{}", 2);
    na__nats_pub_publish(p, "anomaly.alerts", "id:2", NULL, 2);
    na__nats_pub_stats_get(p, &s);
    assert_int_equal(s.queued, 0);
    assert_int_equal(s.dropped, 7);
    assert_int_equal(s.outbox, 0);
    assert_non_null(strstr(s.last_error, "refused"));
    /* 128 bytes is the longest id. */
    long_id[128] = '\0';
    na__nats_pub_publish(p, "anomaly.alerts", long_id, NULL, 0);
    na__nats_pub_publish(p, "bgp.events", "anomaly:1", "{}", 2);
    na__nats_pub_publish(p, "alerts.multi_modal", "group:node:a:1", "{}", 2);
    na__nats_pub_stats_get(p, &s);
    assert_int_equal(s.queued, 3);
    /* Nobody to send them to: stop reports them as lost. */
    assert_int_equal(na__nats_pub_stop(p, 200), 3);
    rmdir(b.dir);
}

/* Throughput on loopback (printed, not asserted) with 200-byte payloads, all stored. */
static void test_jetstream_throughput(void **state)
{
    broker b;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    char id[64], data[256];
    const int n = 100000;
    (void)state;

    broker_start(&b, 0);
    na__nats_config c = config(b.url, "on", (size_t)n, "");
    na__nats_pub *p = start(&c);
    wait_connected(p);
    na__nats_pub_publish(p, "anomaly.alerts", "warmup", "{}", 2);
    wait_published(p, 1);
    memset(data, 'x', sizeof(data));
    int64_t t0 = now_ms();
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "tp:%07d", i);
        na__nats_pub_publish(p, subjects[i % 4], id, data, 200);
    }
    int64_t t1 = now_ms();
    wait_published(p, (uint64_t)n + 1);
    int64_t t2 = now_ms();
    fprintf(stderr, "throughput: %d JetStream messages of 200 bytes: publish calls %.0f ms, "
            "all acknowledged after %.0f ms = %.0f msg/s\n", n, (double)(t1 - t0),
            (double)(t2 - t0), n * 1000.0 / (double)(t2 - t0 > 0 ? t2 - t0 : 1));
    print_stats("throughput", p);
    assert_int_equal(na__nats_pub_stop(p, 5000), 0);
    js_open(b.url, &nc, &js);
    assert_int_equal(js_GetStreamInfo(&si, js, "NETASSURE", NULL, NULL), NATS_OK);
    assert_int_equal(si->State.Msgs, (uint64_t)n + 1);
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    broker_stop(&b);
}

int main(void)
{
    if (system("command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || "
               "[ -n \"${NATS_SERVER:-}\" ]") != 0)
        test_skip("nats-server is not installed");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jetstream_in_order),
        cmocka_unit_test(test_jetstream_updates_stream),
        cmocka_unit_test(test_oversized_message_dropped),
        cmocka_unit_test(test_jetstream_broker_restart),
        cmocka_unit_test(test_ack_timeout_resend),
        cmocka_unit_test(test_broker_down_at_start),
        cmocka_unit_test(test_core_mode),
        cmocka_unit_test(test_core_mode_broker_down),
        cmocka_unit_test(test_outbox_overflow),
        cmocka_unit_test(test_without_jetstream),
        cmocka_unit_test(test_bad_config_and_publish),
        cmocka_unit_test(test_jetstream_throughput),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nats_CloseAndWait(5000);
    return rc;
}
