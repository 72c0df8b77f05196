/*
 * fuzz_stream_msg.c: one topology stream message (src/ingest/stream.c) from arbitrary bytes.
 * Besides not crashing: whatever parses is written back by the writers and must parse to the
 * same thing, the writers' text must be stable (written again, the same bytes), and the
 * consumer's outcome counters must add up.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/stream.h"
#include "netassure/io.h"

static void check_snapshot(const na__stream_msg *m)
{
    size_t len, e1, e2;
    char *text = na__stream_snapshot_text(m->snapshot, m->seq, &len), *a, *b;
    na__stream_msg back;

    if (!text)
        return; /* out of memory */
    if (na__stream_parse(text, len, &back, NULL) || back.type != NA_STREAM_SNAPSHOT ||
        back.seq != m->seq) {
        fprintf(stderr, "snapshot text does not read back:\n%s\n", text);
        abort();
    }
    a = na_export_json(m->snapshot, 0, &e1);
    b = na_export_json(back.snapshot, 0, &e2);
    if (a && b && (e1 != e2 || memcmp(a, b, e1) != 0)) {
        fprintf(stderr, "snapshot changed on the way back:\n%s\n%s\n", a, b);
        abort();
    }
    free(a);
    free(b);
    na__stream_msg_free(&back);
    free(text);
}

static void check_delta(const na__stream_msg *m)
{
    size_t len, len2;
    char *text = na__stream_delta_text(m->delta, m->seq, &len), *again;
    na__stream_msg back;

    if (!text)
        return;
    if (na__stream_parse(text, len, &back, NULL) || back.type != NA_STREAM_DELTA ||
        back.seq != m->seq || na_delta_count(back.delta) != na_delta_count(m->delta) ||
        na_delta_timestamp_ms(back.delta) != na_delta_timestamp_ms(m->delta)) {
        fprintf(stderr, "delta text does not read back:\n%s\n", text);
        abort();
    }
    for (size_t i = 0; i < na_delta_count(m->delta); i++) {
        const na_delta_op *x = na_delta_get(m->delta, i), *y = na_delta_get(back.delta, i);
        if (x->kind != y->kind || x->fields != y->fields) {
            fprintf(stderr, "op %zu changed on the way back:\n%s\n", i, text);
            abort();
        }
    }
    /* Everything else about the ops: the text of what came back is the same text. */
    again = na__stream_delta_text(back.delta, back.seq, &len2);
    if (again && (len != len2 || memcmp(text, again, len) != 0)) {
        fprintf(stderr, "delta text is not stable:\n%s\n%s\n", text, again);
        abort();
    }
    free(again);
    na__stream_msg_free(&back);
    free(text);
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_metrics(const na__stream_msg *m)
{
    size_t len;
    char *text = na__stream_metrics_text(m->samples, m->n_samples, m->timestamp, &len);
    na__stream_msg back;

    if (!text)
        return;
    if (na__stream_parse(text, len, &back, NULL) || back.type != NA_STREAM_METRICS ||
        back.n_samples != m->n_samples || back.timestamp != m->timestamp) {
        fprintf(stderr, "metrics text does not read back:\n%s\n", text);
        abort();
    }
    for (size_t i = 0; i < m->n_samples; i++) {
        const na__stream_sample *x = &m->samples[i], *y = &back.samples[i];
        if (!same_str(x->node_id, y->node_id) || !same_str(x->link_id, y->link_id) ||
            !same_str(x->name, y->name) || x->value != y->value || x->at != y->at) {
            fprintf(stderr, "sample %zu changed on the way back:\n%s\n", i, text);
            abort();
        }
    }
    na__stream_msg_free(&back);
    free(text);
}

static const char first_snapshot[] = "{\"type\":\"snapshot\",\"seq\":1,\"nodes\":[]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    na__stream_consumer sc;
    na__stream_counters c;
    na__stream_msg m;

    na_log_set_level(NA_LOG_ERROR);
    if (na__stream_parse(text, size, &m, NULL) == 0) {
        switch (m.type) {
        case NA_STREAM_SNAPSHOT: check_snapshot(&m); break;
        case NA_STREAM_DELTA: check_delta(&m); break;
        case NA_STREAM_METRICS: check_metrics(&m); break;
        case NA_STREAM_UNKNOWN: break;
        }
    } else if (m.snapshot || m.delta || m.samples) {
        abort(); /* a failed parse holds nothing */
    }
    na__stream_msg_free(&m);

    /* The same bytes twice, after a snapshot: every outcome is counted once. */
    na__stream_consumer_init(&sc, "fuzz");
    (void)na__stream_consume(&sc, first_snapshot, sizeof(first_snapshot) - 1, NULL);
    for (int i = 0; i < 2; i++) {
        na__stream_verdict v = na__stream_consume(&sc, text, size, &m);
        if (v != NA_STREAM_APPLY && (m.snapshot || m.delta || m.samples))
            abort();
        na__stream_msg_free(&m);
    }
    na__stream_consumer_counters(&sc, &c);
    if (c.messages != 3 ||
        c.applied + c.stale + c.waiting + c.unknown_types + c.malformed != c.messages)
        abort();
    na__stream_consumer_destroy(&sc);
    return 0;
}
