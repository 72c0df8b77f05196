/*
 * alert/nats_pub.c: the NATS publisher (see nats_pub.h, docs/nats.md).
 *
 * One thread owns the nats.c connection. Callers append copies to a ring (the outbox) under a
 * short mutex; the thread takes batches of unsent messages, sends them outside the mutex and
 * updates their state under it again. Each message is UNSENT, SENT (waiting for its JetStream
 * ack) or DONE; DONE messages at the head leave the ring. A message the thread is sending
 * outside the mutex is `busy`: whoever removes it from the ring meanwhile only marks it `dead`
 * and the thread frees it.
 *
 * JetStream publishing does what js_PublishMsgAsync does (publish with a reply subject, match
 * the ack) but with our own reply subjects: "<inbox>.<outbox seq>". An ack then names its
 * outbox entry directly (the ring holds consecutive seqs), and any ack for a seq, from the
 * first send or a resend, means the message is stored. nats.c's own pending map would hand us
 * back natsMsg objects without a link to the entry and cannot resend a window after a
 * reconnect with the original reply subjects.
 */
#include "alert/nats_pub.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <nats/nats.h>

enum {
    MAX_MSG_ID = 128,
    MAX_INFLIGHT = 4096,        /* JetStream publishes waiting for their ack */
    BATCH = 256,                /* messages sent per trip outside the mutex */
    ACK_WAIT_MS = 5000,         /* no ack after this: resend the window */
    PAUSE_AFTER_ERROR_MS = 500, /* after an error ack, before sending again */
    MAX_ERROR_ACKS = 3,         /* a message the server refuses this often is dropped */
    CONNECT_WAIT_MIN_MS = 100,
    CONNECT_WAIT_MAX_MS = 2000,
    SETUP_RETRY_MS = 2000,
    CORE_FLUSH_MS = 1000,
    WARN_EVERY_MS = 10000,      /* rate limit of repeated warnings */
    CLOSE_WAIT_MS = 5000        /* for nats.c's last callbacks when closing */
};
#define MAX_DATA ((size_t)64 << 20) /* NATS' own hard limit on max_payload */
#define DUP_WINDOW_NS ((int64_t)120 * 1000 * 1000 * 1000)

enum { JS_AUTO, JS_ON, JS_OFF };
enum { MSG_UNSENT, MSG_SENT, MSG_DONE };

static const char *const subject_names[] = {"anomaly.alerts", "alerts.multi_modal", "bgp.events",
                                            "topology.changes"};
#define N_SUBJECTS (sizeof(subject_names) / sizeof(subject_names[0]))

/* One outbox entry: id and data follow the struct in the same allocation. */
typedef struct pub_msg {
    uint64_t seq;
    int64_t sent_at;
    size_t len;
    unsigned char subject;
    unsigned char state;
    unsigned char error_acks;
    bool busy;
    bool dead;
    char *data;
    char id[];
} pub_msg;

/* A warning that repeats: logged at most every WARN_EVERY_MS with the count in between. */
typedef struct rate_limit {
    int64_t last;
    uint64_t suppressed;
} rate_limit;

struct na__nats_pub {
    char *url;
    char *stream;
    char *subject[N_SUBJECTS]; /* with the prefix */
    int js_mode;
    size_t capacity;
    natsOptions *opts;
    pthread_t thread;
    bool thread_started;

    pthread_mutex_t mu;
    pthread_cond_t cond;    /* work for the thread */
    pthread_cond_t cb_cond; /* nats.c's closed / subscription-complete callbacks ran */

    /* Under mu: the ring (entry i of the outbox is ring[(head + i) % ring_cap], seq head_seq + i). */
    pub_msg **ring;
    size_t ring_cap, head, count;
    uint64_t head_seq;
    size_t cursor;   /* entries before it are SENT or DONE */
    size_t sent_hi;  /* entries from it on were not sent since the window was last reset */
    size_t inflight; /* entries SENT */

    /* Under mu: state shared with callers and nats.c's callbacks. */
    bool stopping;
    int64_t deadline;
    bool connected;
    bool jetstream;
    bool reconnected;     /* resend the window before anything else */
    unsigned setup_gen;   /* bumped when the stream must be checked (again) */
    unsigned setup_done;
    bool closed_cb, sub_cb;
    bool closing; /* we close the connection: its disconnect is no news */
    int64_t pause_until;
    na__nats_pub_stats st;
    rate_limit drop_warn, reject_warn, error_warn;

    /* The thread's own. */
    unsigned js_missing; /* setups in a row without JetStream after it had been there */
    bool js_seen;
    natsConnection *nc;
    natsSubscription *sub;
    jsCtx *js;
    natsInbox *inbox;
    bool leak; /* nats.c did not confirm a close: p must outlive its callbacks */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits on c for at most ms (mu held). */
static void timed_wait(pthread_cond_t *c, pthread_mutex_t *mu, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ms < 0)
        ms = 0;
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(c, mu, &ts);
}

/* Whether to log a repeated warning now (mu held); *suppressed gets how many were skipped. */
static bool rate_ok(rate_limit *r, uint64_t *suppressed)
{
    int64_t t = now_ms();
    if (r->last && t - r->last < WARN_EVERY_MS) {
        r->suppressed++;
        return false;
    }
    r->last = t;
    *suppressed = r->suppressed;
    r->suppressed = 0;
    return true;
}

static void set_error_locked(na__nats_pub *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_error_locked(na__nats_pub *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->st.last_error, sizeof(p->st.last_error), fmt, ap);
    va_end(ap);
}

static pub_msg *ring_at(const na__nats_pub *p, size_t i)
{
    return p->ring[(p->head + i) % p->ring_cap];
}

/* Frees m, or leaves it to the thread that is sending it. */
static void release_locked(pub_msg *m)
{
    if (m->busy)
        m->dead = true;
    else
        free(m);
}

/* Removes the head entry, keeping cursor and inflight right (mu held). Returns it. */
static pub_msg *pop_head_locked(na__nats_pub *p)
{
    pub_msg *m = p->ring[p->head];
    p->ring[p->head] = NULL;
    p->head = (p->head + 1) % p->ring_cap;
    p->count--;
    p->head_seq++;
    if (p->cursor > 0)
        p->cursor--;
    if (p->sent_hi > 0)
        p->sent_hi--;
    if (m->state == MSG_SENT)
        p->inflight--;
    return m;
}

static void pop_done_locked(na__nats_pub *p)
{
    while (p->count > 0 && p->ring[p->head]->state == MSG_DONE)
        release_locked(pop_head_locked(p));
}

/* The entry of an outbox seq, or NULL when it already left (mu held). */
static pub_msg *find_locked(const na__nats_pub *p, uint64_t seq, size_t *idx)
{
    if (seq < p->head_seq || seq - p->head_seq >= p->count)
        return NULL;
    *idx = (size_t)(seq - p->head_seq);
    return ring_at(p, *idx);
}

/* Makes entry idx unsent again so the thread resends it (mu held). */
static void resend_locked(na__nats_pub *p, pub_msg *m, size_t idx, bool retry)
{
    if (m->state == MSG_DONE)
        return;
    if (m->state == MSG_SENT) {
        m->state = MSG_UNSENT;
        p->inflight--;
        p->st.retries += retry;
    }
    if (idx < p->cursor)
        p->cursor = idx;
}

/*
 * Every message sent but not acknowledged is sent again, in order (mu held). SENT messages
 * can lie beyond the cursor (it moves back to a single message the server refused).
 */
static void resend_window_locked(na__nats_pub *p)
{
    for (size_t i = 0; i < p->sent_hi; i++)
        resend_locked(p, ring_at(p, i), i, true);
    p->cursor = 0;
}

/* The message left the outbox's work (acknowledged, sent on core NATS, or dropped): its
 * in-flight slot is free (mu held). */
static void mark_done_locked(na__nats_pub *p, pub_msg *m)
{
    if (m->state == MSG_SENT)
        p->inflight--;
    m->state = MSG_DONE;
}

/* Doubles the ring, up to capacity (mu held). Returns false on ENOMEM or at capacity. */
static bool grow_locked(na__nats_pub *p)
{
    size_t cap = p->ring_cap * 2;
    if (p->ring_cap >= p->capacity)
        return false;
    if (cap > p->capacity)
        cap = p->capacity;
    pub_msg **ring = malloc(cap * sizeof(*ring));
    if (!ring)
        return false;
    for (size_t i = 0; i < p->count; i++)
        ring[i] = ring_at(p, i);
    free(p->ring);
    p->ring = ring;
    p->ring_cap = cap;
    p->head = 0;
    return true;
}

static int subject_index(const char *s)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < N_SUBJECTS; i++)
        if (strcmp(s, subject_names[i]) == 0)
            return (int)i;
    return -1;
}

/* Why a publish is refused, or NULL. */
static const char *check_publish(const char *subject, const char *msg_id, const char *data,
                                 size_t len)
{
    if (subject_index(subject) < 0)
        return "unknown subject";
    if (!msg_id || !msg_id[0])
        return "empty message id";
    for (size_t i = 0; msg_id[i]; i++) {
        unsigned char c = (unsigned char)msg_id[i];
        if (i >= MAX_MSG_ID)
            return "message id longer than 128 bytes";
        if (c < 0x21 || c == 0x7f)
            return "message id with spaces or control characters";
    }
    if (len > 0 && !data)
        return "no data";
    if (len > MAX_DATA)
        return "data over 64 MiB";
    return NULL;
}

void na__nats_pub_publish(na__nats_pub *p, const char *subject, const char *msg_id,
                          const char *data, size_t len)
{
    const char *why;
    pub_msg *m = NULL, *victim = NULL;
    bool warn = false;
    uint64_t suppressed = 0, dropped = 0;
    size_t id_len;

    if (!p)
        return;
    why = check_publish(subject, msg_id, data, len);
    if (why)
        goto out_refuse;
    id_len = strlen(msg_id);
    /* The copy is made before taking the mutex: callers only wait for pointer moves. */
    m = malloc(sizeof(*m) + id_len + 1 + len + 1);
    if (!m) {
        why = "out of memory";
        goto out_refuse;
    }
    memset(m, 0, sizeof(*m));
    m->subject = (unsigned char)subject_index(subject);
    m->len = len;
    memcpy(m->id, msg_id, id_len + 1);
    m->data = m->id + id_len + 1;
    if (len)
        memcpy(m->data, data, len);
    m->data[len] = '\0';

    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        free(m);
        why = "publisher stopping";
        goto out_refuse;
    }
    if (p->count == p->ring_cap && !grow_locked(p)) {
        /* Full: the oldest message goes (unless it is already through). */
        victim = pop_head_locked(p);
        if (victim->state == MSG_DONE) {
            release_locked(victim);
            victim = NULL;
        } else {
            p->st.dropped++;
            dropped = p->st.dropped;
            warn = rate_ok(&p->drop_warn, &suppressed);
            set_error_locked(p, "outbox full (%zu): dropped the oldest message", p->capacity);
            if (victim->busy) {
                victim->dead = true;
                victim = NULL;
            }
        }
    }
    p->ring[(p->head + p->count) % p->ring_cap] = m;
    m->seq = p->head_seq + p->count;
    p->count++;
    p->st.queued++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
    free(victim);
    if (warn)
        na_log(NA_LOG_WARN, "nats: outbox full (%zu messages): dropped the oldest, %" PRIu64
               " dropped so far (%" PRIu64 " warnings suppressed)", p->capacity, dropped,
               suppressed);
    return;

out_refuse:
    pthread_mutex_lock(&p->mu);
    p->st.dropped++;
    set_error_locked(p, "publish refused: %s", why);
    warn = rate_ok(&p->reject_warn, &suppressed);
    pthread_mutex_unlock(&p->mu);
    if (warn)
        na_log(NA_LOG_WARN, "nats: publish on '%s' refused: %s (%" PRIu64
               " warnings suppressed)", subject ? subject : "(null)", why, suppressed);
}

void na__nats_pub_stats_get(na__nats_pub *p, na__nats_pub_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    out->connected = p->connected;
    out->jetstream = p->jetstream;
    out->outbox = p->count;
    pthread_mutex_unlock(&p->mu);
}

/* ---- nats.c callbacks (their threads) ---- */

static void on_disconnected(natsConnection *nc, void *closure)
{
    na__nats_pub *p = closure;
    (void)nc;
    bool news;
    pthread_mutex_lock(&p->mu);
    p->connected = false;
    news = !p->closing;
    if (news)
        set_error_locked(p, "disconnected from %s", p->url);
    pthread_mutex_unlock(&p->mu);
    if (news)
        na_log(NA_LOG_WARN, "nats: disconnected from %s, reconnecting", p->url);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    na__nats_pub *p = closure;
    (void)nc;
    pthread_mutex_lock(&p->mu);
    p->connected = true;
    p->reconnected = true;
    p->setup_gen++; /* it may be another server, or the same one without the stream */
    p->st.reconnects++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
    na_log(NA_LOG_INFO, "nats: reconnected to %s", p->url);
}

static void on_closed(natsConnection *nc, void *closure)
{
    na__nats_pub *p = closure;
    (void)nc;
    pthread_mutex_lock(&p->mu);
    p->connected = false;
    p->closed_cb = true;
    pthread_cond_broadcast(&p->cb_cond);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

static void on_sub_complete(void *closure)
{
    na__nats_pub *p = closure;
    pthread_mutex_lock(&p->mu);
    p->sub_cb = true;
    pthread_cond_broadcast(&p->cb_cond);
    pthread_mutex_unlock(&p->mu);
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus s, void *closure)
{
    na__nats_pub *p = closure;
    bool warn;
    uint64_t suppressed = 0;
    (void)nc;
    (void)sub;
    pthread_mutex_lock(&p->mu);
    set_error_locked(p, "nats: %s", natsStatus_GetText(s));
    warn = rate_ok(&p->error_warn, &suppressed);
    pthread_mutex_unlock(&p->mu);
    if (warn)
        na_log(NA_LOG_WARN, "nats: asynchronous error: %s", natsStatus_GetText(s));
}

/*
 * A JetStream ack on "<inbox>.<seq>": {"stream":..,"seq":..[,"duplicate":true]} when stored,
 * {"error":{"code":..,"description":..}} when refused, or a bare 503 status when nothing
 * listens on the subject (no stream).
 */
static void on_ack(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    na__nats_pub *p = closure;
    const char *subj = natsMsg_GetSubject(msg), *dot = strrchr(subj, '.');
    const char *data = natsMsg_GetData(msg);
    int len = natsMsg_GetDataLength(msg);
    char *end = NULL;
    uint64_t seq;
    bool ok = false, dup = false, transient = true, warn = false;
    char why[160] = "";
    json_t *root = NULL;
    pub_msg *m;
    size_t idx = 0;
    uint64_t suppressed = 0;
    (void)nc;
    (void)sub;

    if (!dot)
        goto out;
    errno = 0;
    seq = strtoull(dot + 1, &end, 10);
    if (errno || end == dot + 1 || *end)
        goto out;
    if (len <= 0) {
        const char *status = NULL;
        if (natsMsgHeader_Get(msg, "Status", &status) != NATS_OK)
            status = "?";
        snprintf(why, sizeof(why), "status %s%s", status,
                 strcmp(status, "503") == 0 ? " (no stream takes the subject)" : "");
    } else {
        root = json_loadb(data, (size_t)len, 0, NULL);
        json_t *e = json_object_get(root, "error");
        if (e) {
            json_int_t code = json_integer_value(json_object_get(e, "code"));
            const char *desc = json_string_value(json_object_get(e, "description"));
            snprintf(why, sizeof(why), "%d %s", (int)code, desc ? desc : "");
            transient = code == 503; /* JetStream unavailable for now */
        } else if (json_integer_value(json_object_get(root, "seq")) > 0) {
            ok = true;
            dup = json_is_true(json_object_get(root, "duplicate"));
        } else {
            snprintf(why, sizeof(why), "unreadable ack");
        }
    }

    pthread_mutex_lock(&p->mu);
    if (dup)
        p->st.duplicates++;
    m = find_locked(p, seq, &idx);
    if (!m || m->state == MSG_DONE) {
        /* An ack for a message acknowledged before (a resend) or dropped meanwhile. */
    } else if (ok) {
        mark_done_locked(p, m);
        p->st.published++;
        pop_done_locked(p);
    } else {
        set_error_locked(p, "JetStream refused %s: %s", m->id, why);
        warn = rate_ok(&p->error_warn, &suppressed);
        p->pause_until = now_ms() + PAUSE_AFTER_ERROR_MS;
        if (transient) {
            resend_locked(p, m, idx, true);
            p->setup_gen++; /* the stream may be gone: check it before sending again */
        } else if (++m->error_acks >= MAX_ERROR_ACKS) {
            mark_done_locked(p, m);
            p->st.dropped++;
            pop_done_locked(p);
        } else {
            resend_locked(p, m, idx, true);
        }
    }
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
    if (warn)
        na_log(NA_LOG_WARN, "nats: JetStream refused a message on %s: %s (%" PRIu64
               " warnings suppressed)", p->stream, why, suppressed);
out:
    json_decref(root);
    natsMsg_Destroy(msg);
}

/* ---- the thread ---- */

/* nats.c's detailed text of this thread's last error, else the status' text. */
static const char *last_error_text(natsStatus s)
{
    const char *t = nats_GetLastError(NULL);
    return t && t[0] ? t : natsStatus_GetText(s);
}

/* Closes the connection and waits until nats.c will not call us for it any more. */
static void teardown_connection(na__nats_pub *p)
{
    int64_t until = now_ms() + CLOSE_WAIT_MS;
    bool confirmed;

    if (!p->nc)
        return;
    if (p->js) {
        jsCtx_Destroy(p->js);
        p->js = NULL;
    }
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    pthread_mutex_unlock(&p->mu);
    natsConnection_Close(p->nc); /* closes the subscription too */
    pthread_mutex_lock(&p->mu);
    while ((!p->closed_cb || (p->sub && !p->sub_cb)) && now_ms() < until)
        timed_wait(&p->cb_cond, &p->mu, until - now_ms());
    confirmed = p->closed_cb && (!p->sub || p->sub_cb);
    p->connected = false;
    p->jetstream = false;
    pthread_mutex_unlock(&p->mu);
    if (!confirmed) {
        na_log(NA_LOG_ERROR, "nats: the client library did not confirm closing the connection");
        p->leak = true;
    }
    natsSubscription_Destroy(p->sub);
    p->sub = NULL;
    natsConnection_Destroy(p->nc);
    p->nc = NULL;
}

/* One connection attempt (thread). Returns 0 when connected. */
static int connect_once(na__nats_pub *p, bool *first_failure)
{
    natsConnection *nc = NULL;
    natsSubscription *sub = NULL;
    char subj[128];
    natsStatus s;

    pthread_mutex_lock(&p->mu);
    p->closed_cb = false;
    p->sub_cb = false;
    p->closing = false;
    pthread_mutex_unlock(&p->mu);
    s = natsConnection_Connect(&nc, p->opts);
    if (s != NATS_OK)
        goto out_fail;
    snprintf(subj, sizeof(subj), "%s.*", p->inbox);
    s = natsConnection_Subscribe(&sub, nc, subj, on_ack, p);
    if (s == NATS_OK)
        s = natsSubscription_SetOnCompleteCB(sub, on_sub_complete, p);
    if (s == NATS_OK)
        s = natsSubscription_SetPendingLimits(sub, -1, -1); /* at most MAX_INFLIGHT anyway */
    p->nc = nc;
    p->sub = sub;
    if (s != NATS_OK) {
        teardown_connection(p);
        goto out_fail;
    }
    pthread_mutex_lock(&p->mu);
    p->connected = true;
    p->reconnected = true; /* anything marked sent belongs to an old connection */
    p->setup_gen++;
    pthread_mutex_unlock(&p->mu);
    na_log(NA_LOG_INFO, "nats: connected to %s", p->url);
    *first_failure = true;
    return 0;

out_fail:
    pthread_mutex_lock(&p->mu);
    set_error_locked(p, "connect to %s: %s", p->url, natsStatus_GetText(s));
    pthread_mutex_unlock(&p->mu);
    if (*first_failure)
        na_log(NA_LOG_WARN, "nats: cannot connect to %s (%s); retrying in the background",
               p->url, natsStatus_GetText(s));
    *first_failure = false;
    return -1;
}

static bool same_subjects(const na__nats_pub *p, const jsStreamConfig *c)
{
    if (!c || c->SubjectsLen != (int)N_SUBJECTS)
        return false;
    for (size_t i = 0; i < N_SUBJECTS; i++) {
        bool found = false;
        for (int j = 0; j < c->SubjectsLen && !found; j++)
            found = c->Subjects[j] && strcmp(c->Subjects[j], p->subject[i]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* Creates the stream, or updates its subjects / duplicate window (thread). 0 or -1 + why. */
static int ensure_stream(na__nats_pub *p, char *why, size_t why_len)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    int rc = -1;

    s = js_GetStreamInfo(&si, p->js, p->stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        jsStreamConfig sc;
        jsStreamConfig_Init(&sc);
        sc.Name = p->stream;
        sc.Subjects = (const char **)p->subject;
        sc.SubjectsLen = (int)N_SUBJECTS;
        sc.Storage = js_FileStorage;
        sc.Duplicates = DUP_WINDOW_NS;
        jerr = 0;
        s = js_AddStream(NULL, p->js, &sc, NULL, &jerr);
        if (s != NATS_OK) {
            snprintf(why, why_len, "creating stream %s: %s (%d)", p->stream,
                     last_error_text(s), (int)jerr);
            goto out;
        }
        na_log(NA_LOG_INFO, "nats: created JetStream stream %s", p->stream);
    } else if (s != NATS_OK) {
        snprintf(why, why_len, "stream %s: %s (%d)", p->stream, last_error_text(s), (int)jerr);
        goto out;
    } else if (!same_subjects(p, si->Config) || si->Config->Duplicates < DUP_WINDOW_NS) {
        /* Keep the operator's other settings (limits, replicas); ours replace the subjects. */
        const char **old_subjects = si->Config->Subjects;
        int old_len = si->Config->SubjectsLen;
        int64_t old_dup = si->Config->Duplicates;
        si->Config->Subjects = (const char **)p->subject;
        si->Config->SubjectsLen = (int)N_SUBJECTS;
        if (si->Config->Duplicates < DUP_WINDOW_NS)
            si->Config->Duplicates = DUP_WINDOW_NS;
        jerr = 0;
        s = js_UpdateStream(NULL, p->js, si->Config, NULL, &jerr);
        si->Config->Subjects = old_subjects;
        si->Config->SubjectsLen = old_len;
        si->Config->Duplicates = old_dup;
        if (s != NATS_OK) {
            snprintf(why, why_len, "updating stream %s: %s (%d)", p->stream,
                     last_error_text(s), (int)jerr);
            goto out;
        }
        na_log(NA_LOG_INFO, "nats: updated the subjects of JetStream stream %s", p->stream);
    }
    rc = 0;
out:
    jsStreamInfo_Destroy(si);
    return rc;
}

/*
 * Finds out whether to publish through JetStream and ensures the stream (thread, after each
 * (re)connect). Returns 0 when publishing can go on.
 */
static int setup_mode(na__nats_pub *p, unsigned gen)
{
    jsAccountInfo *ai = NULL;
    jsErrCode jerr = 0;
    jsOptions jo;
    natsStatus s;
    char why[sizeof(p->st.last_error)] = "";
    bool js = false, log_core = false, warn = false;
    uint64_t suppressed = 0;
    int rc = -1;

    if (p->js_mode != JS_OFF) {
        if (!p->js) {
            jsOptions_Init(&jo);
            jo.Wait = 5000;
            s = natsConnection_JetStream(&p->js, p->nc, &jo);
            if (s != NATS_OK) {
                snprintf(why, sizeof(why), "JetStream context: %s", natsStatus_GetText(s));
                goto out;
            }
        }
        s = js_GetAccountInfo(&ai, p->js, NULL, &jerr);
        jsAccountInfo_Destroy(ai);
        if (s == NATS_OK) {
            js = true;
        } else if (s == NATS_NO_RESPONDERS || jerr == JSNotEnabledErr ||
                   jerr == JSNotEnabledForAccountErr) {
            if (p->js_mode == JS_ON) {
                snprintf(why, sizeof(why), "JetStream required (nats.jetstream: on) but the "
                         "server at %s has none", p->url);
                goto out;
            }
            /* A server that had JetStream and comes back without it may be starting up:
             * "auto" gives it a few tries before it settles for core NATS. */
            if (p->js_seen && ++p->js_missing < 3) {
                snprintf(why, sizeof(why), "JetStream gone from %s", p->url);
                goto out;
            }
        } else {
            snprintf(why, sizeof(why), "JetStream account info: %s (status %d, code %d)",
                     last_error_text(s), (int)s, (int)jerr);
            goto out;
        }
        if (js && ensure_stream(p, why, sizeof(why)) != 0)
            goto out;
        p->js_seen = js;
        p->js_missing = 0;
    }
    rc = 0;
out:
    pthread_mutex_lock(&p->mu);
    if (rc == 0) {
        log_core = !js && p->js_mode == JS_AUTO && (p->jetstream || p->setup_done == 0);
        if (p->jetstream != js)
            p->reconnected = true; /* acks of the other mode will not come */
        p->jetstream = js;
        p->setup_done = gen;
    } else {
        p->jetstream = false;
        set_error_locked(p, "%s", why);
        warn = rate_ok(&p->error_warn, &suppressed);
    }
    pthread_mutex_unlock(&p->mu);
    if (warn)
        na_log(NA_LOG_WARN, "nats: %s; retrying (%" PRIu64 " warnings suppressed)", why,
               suppressed);
    else if (log_core)
        na_log(NA_LOG_INFO, "nats: no JetStream at %s: publishing with core NATS", p->url);
    return rc;
}

/* Sends one message (thread, outside the mutex). */
static natsStatus send_one(na__nats_pub *p, const pub_msg *m, bool js)
{
    natsMsg *msg = NULL;
    char reply[128];
    natsStatus s;

    if (js)
        snprintf(reply, sizeof(reply), "%s.%" PRIu64, p->inbox, m->seq);
    s = natsMsg_Create(&msg, p->subject[m->subject], js ? reply : NULL, m->data, (int)m->len);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, "Nats-Msg-Id", m->id);
    if (s == NATS_OK)
        s = natsConnection_PublishMsg(p->nc, msg);
    natsMsg_Destroy(msg);
    return s;
}

/* Whether a failed publish can never succeed for this message. */
static bool permanent_failure(natsStatus s)
{
    return s == NATS_MAX_PAYLOAD || s == NATS_INVALID_SUBJECT || s == NATS_INVALID_ARG;
}

/* Takes up to BATCH unsent messages, marking them sent and busy (mu held). */
static size_t take_batch_locked(na__nats_pub *p, pub_msg **batch, int64_t t)
{
    size_t n = 0;
    while (n < BATCH && p->cursor < p->count && (!p->jetstream || p->inflight < MAX_INFLIGHT)) {
        pub_msg *m = ring_at(p, p->cursor++);
        if (m->state != MSG_UNSENT)
            continue;
        m->state = MSG_SENT;
        m->sent_at = t;
        m->busy = true;
        p->inflight++;
        batch[n++] = m;
    }
    if (p->cursor > p->sent_hi)
        p->sent_hi = p->cursor;
    return n;
}

/*
 * Records the outcome of a batch (mu held). Returns how many messages can never be sent (the
 * last one's id and reason in `why`, for the log).
 */
static size_t finish_batch_locked(na__nats_pub *p, pub_msg **batch, const natsStatus *status,
                                  size_t n, bool js, char *why, size_t why_len)
{
    size_t lost = 0;

    for (size_t i = 0; i < n; i++) {
        pub_msg *m = batch[i];
        size_t idx = 0;
        m->busy = false;
        if (m->dead) {
            free(m);
            continue;
        }
        if (status[i] == NATS_OK && js)
            continue; /* the ack will tell */
        if (find_locked(p, m->seq, &idx) != m || m->state == MSG_DONE)
            continue;
        if (status[i] == NATS_OK || permanent_failure(status[i])) {
            mark_done_locked(p, m);
            if (status[i] == NATS_OK) {
                p->st.published++;
            } else {
                p->st.dropped++;
                lost++;
                snprintf(why, why_len, "cannot send %s: %s", m->id,
                         natsStatus_GetText(status[i]));
                set_error_locked(p, "%s", why);
            }
        } else {
            bool sent = status[i] != NATS_NOT_YET_CONNECTED; /* else never tried */
            if (sent)
                set_error_locked(p, "publish: %s", natsStatus_GetText(status[i]));
            resend_locked(p, m, idx, sent);
        }
    }
    pop_done_locked(p);
    return lost;
}

/* A SENT message waited for its ack too long (mu held). */
static bool ack_overdue_locked(const na__nats_pub *p, int64_t t)
{
    for (size_t i = 0; i < p->sent_hi; i++) {
        const pub_msg *m = ring_at(p, i);
        if (m->state == MSG_SENT && !m->busy && t - m->sent_at > ACK_WAIT_MS)
            return true;
    }
    return false;
}

/* The thread waits for work for at most ms; once stopping, never past the deadline. */
static void wait_locked(na__nats_pub *p, int64_t ms)
{
    if (p->stopping) {
        int64_t left = p->deadline - now_ms();
        if (p->count == 0 || left <= 0)
            return;
        if (left < ms)
            ms = left;
    }
    timed_wait(&p->cond, &p->mu, ms);
}

static void *pub_thread(void *arg)
{
    na__nats_pub *p = arg;
    pub_msg *batch[BATCH];
    natsStatus status[BATCH];
    int64_t connect_wait = CONNECT_WAIT_MIN_MS, next_scan = 0, next_flush = 0;
    bool first_failure = true, unflushed = false;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        int64_t t = now_ms();
        if (p->stopping && (p->count == 0 || t >= p->deadline))
            break;
        if (p->nc && p->closed_cb) { /* closed for good (not by us): start afresh */
            pthread_mutex_unlock(&p->mu);
            teardown_connection(p);
            pthread_mutex_lock(&p->mu);
            if (p->leak)
                break;
            continue;
        }
        if (!p->nc) {
            pthread_mutex_unlock(&p->mu);
            int rc = connect_once(p, &first_failure);
            pthread_mutex_lock(&p->mu);
            if (rc != 0) {
                wait_locked(p, connect_wait);
                connect_wait = connect_wait * 2 > CONNECT_WAIT_MAX_MS ? CONNECT_WAIT_MAX_MS
                                                                      : connect_wait * 2;
            } else {
                connect_wait = CONNECT_WAIT_MIN_MS;
            }
            continue;
        }
        if (p->reconnected) {
            p->reconnected = false;
            resend_window_locked(p);
        }
        if (!p->connected) {
            wait_locked(p, 250);
            continue;
        }
        if (p->setup_done != p->setup_gen) {
            unsigned gen = p->setup_gen;
            pthread_mutex_unlock(&p->mu);
            int rc = setup_mode(p, gen);
            pthread_mutex_lock(&p->mu);
            if (rc != 0)
                wait_locked(p, SETUP_RETRY_MS);
            continue;
        }
        if (p->jetstream && t >= next_scan) {
            next_scan = t + 250;
            if (ack_overdue_locked(p, t)) {
                size_t n_sent = p->inflight;
                set_error_locked(p, "no JetStream ack within %d ms: resending", ACK_WAIT_MS);
                resend_window_locked(p);
                pthread_mutex_unlock(&p->mu);
                na_log(NA_LOG_WARN, "nats: no JetStream ack within %d ms: resending %zu messages",
                       ACK_WAIT_MS, n_sent);
                pthread_mutex_lock(&p->mu);
                continue;
            }
        }
        size_t n = 0;
        if (t >= p->pause_until)
            n = take_batch_locked(p, batch, t);
        if (n == 0) {
            if (!p->jetstream && unflushed && (t >= next_flush || p->count == 0)) {
                /* Core NATS: a PING round trip, so that "published" was seen by the server. */
                pthread_mutex_unlock(&p->mu);
                natsStatus s = natsConnection_FlushTimeout(p->nc, CORE_FLUSH_MS);
                pthread_mutex_lock(&p->mu);
                unflushed = false;
                next_flush = now_ms() + CORE_FLUSH_MS;
                if (s != NATS_OK)
                    set_error_locked(p, "flush: %s", natsStatus_GetText(s));
                continue;
            }
            int64_t w = 250;
            if (p->pause_until > t && p->pause_until - t < w)
                w = p->pause_until - t;
            wait_locked(p, w);
            continue;
        }
        bool js = p->jetstream, up = true;
        pthread_mutex_unlock(&p->mu);
        for (size_t i = 0; i < n; i++) {
            /* A publish accepted during a reconnect sits in nats.c's reconnect buffer and
             * reaches the server before the window we resend: checking each time leaves
             * only a publish racing the disconnect itself out of order. */
            up = up && natsConnection_Status(p->nc) == NATS_CONN_STATUS_CONNECTED;
            status[i] = up ? send_one(p, batch[i], js) : NATS_NOT_YET_CONNECTED;
        }
        pthread_mutex_lock(&p->mu);
        char why[sizeof(p->st.last_error)];
        size_t lost = finish_batch_locked(p, batch, status, n, js, why, sizeof(why));
        if (lost) {
            pthread_mutex_unlock(&p->mu);
            na_log(NA_LOG_ERROR, "nats: %s; dropped (%zu in this batch)", why, lost);
            pthread_mutex_lock(&p->mu);
        }
        if (!up)
            wait_locked(p, 50);
        if (!js)
            unflushed = true;
    }
    pthread_mutex_unlock(&p->mu);
    if (p->nc && unflushed)
        natsConnection_FlushTimeout(p->nc, CORE_FLUSH_MS);
    teardown_connection(p);
    return NULL;
}

/* ---- start / stop ---- */

static bool valid_prefix(const char *s)
{
    size_t len = strlen(s);
    if (len > 200 || s[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c == 0x7f || c == '*' || c == '>')
            return false;
        if (c == '.' && i + 1 < len && s[i + 1] == '.')
            return false;
    }
    return true;
}

static int check_config(const na__nats_config *cfg, na_error *err)
{
    const char *stream = cfg->stream ? cfg->stream : "NETASSURE";
    const char *js = cfg->jetstream ? cfg->jetstream : "auto";

    if (!cfg->url || !cfg->url[0])
        return na_error_set(err, NA_EINVAL, "nats.url: missing");
    if ((strncmp(cfg->url, "nats://", 7) != 0 && strncmp(cfg->url, "tls://", 6) != 0) ||
        strlen(cfg->url) > 1024)
        return na_error_set(err, NA_EINVAL, "nats.url: expected nats://HOST:PORT");
    if (strcmp(js, "auto") != 0 && strcmp(js, "on") != 0 && strcmp(js, "off") != 0)
        return na_error_set(err, NA_EINVAL, "nats.jetstream: expected auto, on or off");
    if (!stream[0] || strlen(stream) > 255)
        return na_error_set(err, NA_EINVAL, "nats.stream: 1 to 255 characters");
    for (const char *c = stream; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-'))
            return na_error_set(err, NA_EINVAL, "nats.stream: letters, digits, - and _ only");
    if (cfg->outbox < 1 || cfg->outbox > 100000000)
        return na_error_set(err, NA_EINVAL, "nats.outbox: 1 to 100000000 messages");
    if (cfg->subject_prefix && !valid_prefix(cfg->subject_prefix))
        return na_error_set(err, NA_EINVAL, "nats.subject_prefix: subject tokens separated by "
                            "dots, without spaces or wildcards");
    return NA_OK;
}

static natsStatus make_options(na__nats_pub *p)
{
    natsStatus s = natsOptions_Create(&p->opts);
    if (s == NATS_OK)
        s = natsOptions_SetURL(p->opts, p->url);
    if (s == NATS_OK)
        s = natsOptions_SetName(p->opts, "netassure");
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(p->opts, 2000);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(p->opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(p->opts, 250);
    if (s == NATS_OK)
        s = natsOptions_SetPingInterval(p->opts, 10000);
    /* Nothing should wait in nats.c's reconnect buffer: it would reach the server before the
     * window we resend and change the order. (0 means the 8 MB default; with 1 a publish racing
     * a disconnect is refused and stays in the outbox.) */
    if (s == NATS_OK)
        s = natsOptions_SetReconnectBufSize(p->opts, 1);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(p->opts, on_disconnected, p);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(p->opts, on_reconnected, p);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(p->opts, on_closed, p);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(p->opts, on_async_error, p);
    return s;
}

static void free_pub(na__nats_pub *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->ring && i < p->count; i++)
        free(ring_at(p, i));
    free(p->ring);
    natsOptions_Destroy(p->opts);
    natsInbox_Destroy(p->inbox);
    free(p->url);
    free(p->stream);
    for (size_t i = 0; i < N_SUBJECTS; i++)
        free(p->subject[i]);
    pthread_cond_destroy(&p->cond);
    pthread_cond_destroy(&p->cb_cond);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int na__nats_pub_start(const na__nats_config *cfg, na__nats_pub **out, na_error *err)
{
    na__nats_pub *p = NULL;
    pthread_condattr_t ca;
    const char *prefix, *js;
    natsStatus s;
    int rc;

    *out = NULL;
    if (!cfg)
        return na_error_set(err, NA_EINVAL, "nats: no configuration");
    rc = check_config(cfg, err);
    if (rc)
        return rc;
    p = calloc(1, sizeof(*p));
    if (!p)
        return na_error_set(err, NA_ENOMEM, "nats: out of memory");
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_cond_init(&p->cb_cond, &ca);
    pthread_condattr_destroy(&ca);

    js = cfg->jetstream ? cfg->jetstream : "auto";
    p->js_mode = strcmp(js, "on") == 0 ? JS_ON : strcmp(js, "off") == 0 ? JS_OFF : JS_AUTO;
    p->capacity = cfg->outbox;
    p->ring_cap = cfg->outbox < 1024 ? cfg->outbox : 1024;
    p->ring = calloc(p->ring_cap, sizeof(*p->ring));
    p->url = strdup(cfg->url);
    p->stream = strdup(cfg->stream ? cfg->stream : "NETASSURE");
    prefix = cfg->subject_prefix ? cfg->subject_prefix : "";
    rc = !p->ring || !p->url || !p->stream;
    for (size_t i = 0; i < N_SUBJECTS && !rc; i++) {
        /* "site1" and "site1." both give "site1.anomaly.alerts". */
        bool dot = prefix[0] && prefix[strlen(prefix) - 1] != '.';
        size_t len = strlen(prefix) + 1 + strlen(subject_names[i]) + 1;
        p->subject[i] = malloc(len);
        rc = !p->subject[i];
        if (!rc)
            snprintf(p->subject[i], len, "%s%s%s", prefix, dot ? "." : "", subject_names[i]);
    }
    if (rc) {
        rc = na_error_set(err, NA_ENOMEM, "nats: out of memory");
        goto out_free;
    }
    s = natsInbox_Create(&p->inbox);
    if (s == NATS_OK)
        s = make_options(p);
    if (s != NATS_OK) {
        rc = na_error_set(err, s == NATS_NO_MEMORY ? NA_ENOMEM : NA_EINVAL,
                          "nats: client options: %s", natsStatus_GetText(s));
        goto out_free;
    }
    if (pthread_create(&p->thread, NULL, pub_thread, p) != 0) {
        rc = na_error_set(err, NA_ENOMEM, "nats: cannot start the publisher thread");
        goto out_free;
    }
    p->thread_started = true;
    *out = p;
    return NA_OK;

out_free:
    free_pub(p);
    return rc;
}

size_t na__nats_pub_stop(na__nats_pub *p, int timeout_ms)
{
    size_t left;

    if (!p)
        return 0;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    p->deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
    if (p->thread_started)
        pthread_join(p->thread, NULL);
    left = p->count;
    if (left)
        na_log(NA_LOG_WARN, "nats: stopping with %zu messages unsent: they are lost", left);
    if (p->leak)
        return left; /* nats.c may still call into p: better a leak than a crash */
    free_pub(p);
    return left;
}
