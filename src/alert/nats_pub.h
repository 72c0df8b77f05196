/*
 * alert/nats_pub.h (internal): publishing events to NATS (docs/nats.md), through nats.c.
 *
 * Subjects (with the configured prefix): "anomaly.alerts" (alert lifecycle changes),
 * "alerts.multi_modal" (alert groups with evidence of more than one kind), "bgp.events"
 * (anomaly-detection events, as seed 001 names the subject), "topology.changes" (every new
 * topology version / applied delta).
 *
 * Callers never block: na__nats_pub_publish copies the message into a bounded outbox and a
 * thread of the publisher sends it. With JetStream (nats.jetstream "auto" finds out, "on"
 * requires it) the thread ensures a stream over those subjects and publishes with the message
 * id as Nats-Msg-Id, keeping each message in the outbox until the server acknowledged it, so a
 * broker restart loses nothing and a resend after an unknown outcome is dropped by the
 * server's duplicate window (at-least-once, deduplicated). Without JetStream, messages wait in
 * the outbox while disconnected and are sent once connected (core NATS: at most once after
 * the send). A full outbox drops its oldest message and counts it.
 */
#ifndef NA_ALERT_NATS_PUB_H
#define NA_ALERT_NATS_PUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "netassure/common.h"

typedef struct na__nats_pub na__nats_pub;

typedef struct na__nats_pub_stats {
    bool connected;
    bool jetstream;             /* publishing through JetStream now */
    uint64_t queued;            /* accepted by na__nats_pub_publish */
    uint64_t published;         /* sent (core) or acknowledged (JetStream) */
    uint64_t duplicates;        /* JetStream acks that said "duplicate" (resends) */
    uint64_t retries;           /* resends after a failed or unanswered publish */
    uint64_t dropped;           /* oldest messages dropped because the outbox was full */
    uint64_t reconnects;
    size_t outbox;              /* messages waiting now */
    char last_error[200];
} na__nats_pub_stats;

/*
 * Starts the publisher (its thread connects in the background and keeps retrying, so the
 * daemon starts while the broker is down). Fails only on a bad configuration or ENOMEM.
 */
int na__nats_pub_start(const na__nats_config *cfg, na__nats_pub **out, na_error *err);

/*
 * Thread-safe, never blocks. `subject` without the prefix ("anomaly.alerts"); `msg_id` (at
 * most 128 bytes, unique per event) becomes Nats-Msg-Id; data is copied.
 */
void na__nats_pub_publish(na__nats_pub *p, const char *subject, const char *msg_id,
                          const char *data, size_t len);

void na__nats_pub_stats_get(na__nats_pub *p, na__nats_pub_stats *out);

/* Tries to send what is queued for up to timeout_ms, then stops and frees (NULL: no-op).
 * Returns the number of messages still unsent (logged as lost). */
size_t na__nats_pub_stop(na__nats_pub *p, int timeout_ms);

#endif
