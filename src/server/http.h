/*
 * server/http.h (internal): the daemon's HTTP + WebSocket server and a small HTTP client, on
 * libwebsockets.
 *
 * Threads: one event-loop thread (na__http_server_run) owns every socket and never blocks on
 * anything else. A complete request (headers + body, body capped at max_body bytes) is handed to
 * a pool of worker threads; the handler runs there and fills a response; the loop is woken
 * (lws_cancel_service) and writes it. A request whose connection closed meanwhile is finished
 * and dropped by the worker.
 *
 * WebSocket: paths listed in ws_paths are upgraded. Each client has a bounded outgoing queue;
 * publishing never blocks: a client whose queue is full is closed with status 1008 and a reason
 * ("slow consumer: ...") and counted.
 */
#ifndef NA_SERVER_HTTP_H
#define NA_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netassure/common.h"

typedef struct na__http_request {
    const char *method;        /* "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", ... */
    const char *path;          /* URL path, percent-decoded, without the query ("/alerts/a1/ack") */
    const char *query;         /* raw query string without '?', "" when none */
    const char *authorization; /* Authorization header value, or NULL */
    const char *content_type;  /* Content-Type header value, or NULL */
    const char *accept;        /* Accept header value, or NULL */
    const char *body;          /* request body (NUL-terminated copy), "" when none */
    size_t body_len;
    char remote_addr[64];      /* peer IP as text */
} na__http_request;

typedef struct na__http_response {
    int status;                /* 200 by default */
    const char *content_type;  /* static string; "application/json" by default */
    char *body;                /* malloc'd by the handler; the server frees it */
    size_t body_len;
    char allow[64];            /* Allow header for 405, "" when none */
    char extra_header_name[64];  /* one more header, e.g. "WWW-Authenticate"; "" when none */
    char extra_header_value[256];
} na__http_response;

/* Runs on a worker thread. Must set resp->status and body (an empty body is fine). */
typedef void (*na__http_handler)(const na__http_request *req, na__http_response *resp, void *ud);

typedef struct na__ws_client na__ws_client;

/*
 * WebSocket callbacks, all on the event-loop thread (keep them short, no blocking):
 *  open:    a client connected on `path`; may set *state (opaque, owned by the callee) and
 *           return a malloc'd first message to send (or NULL).
 *  message: a complete text message from the client (capped at max_ws_message); may return a
 *           malloc'd reply (or NULL).
 *  close:   the client is gone; free state.
 *  accept:  called by na__http_ws_publish for each client on the path: true to queue the event.
 *  authorize: (may be NULL) called before the upgrade with the Authorization header and the
 *           `access_token` query value (browsers cannot set headers on a WebSocket), either
 *           NULL when absent; false refuses the upgrade.
 */
typedef struct na__ws_callbacks {
    char *(*open)(na__ws_client *client, const char *path, void **state, void *ud);
    char *(*message)(na__ws_client *client, void *state, const char *text, size_t len, void *ud);
    void (*close)(na__ws_client *client, void *state, void *ud);
    bool (*accept)(void *state, const void *event, void *ud);
    bool (*authorize)(const char *path, const char *authorization, const char *access_token,
                      void *ud);
    void *ud;
} na__ws_callbacks;

typedef struct na__http_server_opts {
    const char *host;           /* "127.0.0.1" (default), "::1", "0.0.0.0", ... */
    int port;                   /* default 8080; 0 = pick a free port (see na__http_server_port) */
    unsigned workers;           /* handler threads; default 4 */
    size_t max_body;            /* request body cap; default 1 MiB; over it: 413 JSON error */
    size_t max_header;          /* default 8 KiB; the request line + headers */
    const char *const *ws_paths;/* NULL-terminated paths upgraded to WebSocket ("/stream") */
    size_t ws_queue_messages;   /* per-client queue cap, default 1024 messages */
    size_t ws_queue_bytes;      /* per-client queue cap, default 16 MiB */
    size_t max_ws_message;      /* incoming message cap, default 64 KiB */
    na__http_handler handler;
    void *handler_ud;
    na__ws_callbacks ws;
} na__http_server_opts;

typedef struct na__http_server na__http_server;

typedef struct na__http_stats {
    uint64_t requests, responses_4xx, responses_5xx, bodies_too_large;
    uint64_t ws_clients, ws_messages_sent, ws_dropped_slow, ws_messages_in;
} na__http_stats;

/* Creates the server and binds the port (NA_EIO with the reason if it cannot). */
int na__http_server_new(const na__http_server_opts *opts, na__http_server **out, na_error *err);
/* The bound port (useful with port 0). */
int na__http_server_port(const na__http_server *srv);
/* Serves until na__http_server_stop; returns 0 or NA_EIO. */
int na__http_server_run(na__http_server *srv);
/* Thread-safe; makes run() return soon after in-flight responses are written. */
void na__http_server_stop(na__http_server *srv);
/* Frees everything (call after run() returned). */
void na__http_server_free(na__http_server *srv);
void na__http_server_stats(na__http_server *srv, na__http_stats *out);

/*
 * Thread-safe. Offers `text` to every WebSocket client on `path` whose accept(state, event)
 * says yes; copies the text into each client's queue. Never blocks on a client.
 */
void na__http_ws_publish(na__http_server *srv, const char *path, const void *event,
                         const char *text, size_t len);
/* Number of connected WebSocket clients on `path` (all paths when NULL). */
size_t na__http_ws_clients(na__http_server *srv, const char *path);

/* ---- helpers for handlers ---- */

/*
 * Finds `name` in a raw query string and percent-decodes its value ('+' is a space) into buf.
 * Returns the decoded length, -1 when absent, -2 when the value does not fit or is malformed.
 */
long na__http_query_get(const char *query, const char *name, char *buf, size_t len);

/*
 * Sets an error response: status, and a JSON body {"error": {"code": code, "message": msg,
 * "status": status}}. `code` is a stable machine-readable word ("not_found", "bad_request",
 * "unauthorized", "method_not_allowed", "payload_too_large", "unsupported_media_type").
 */
void na__http_error(na__http_response *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sets a 200-type response with a malloc'd body it takes over. */
void na__http_respond(na__http_response *resp, int status, const char *content_type, char *body,
                      size_t len);

/* ---- client (for the CLI) ---- */

typedef struct na__http_reply {
    int status;
    char *body;      /* malloc'd, NUL-terminated; caller frees */
    size_t body_len;
    char content_type[128];
} na__http_reply;

/*
 * One request to `url` ("http://host:port/path?query"; https when libwebsockets has TLS),
 * with an optional bearer token and JSON body (method "GET", "POST", "PUT"). The reply body is
 * capped at max_reply bytes (0: 64 MiB). Returns 0 (any HTTP status) or NA_EIO / NA_EINVAL /
 * NA_ETOOBIG with the reason in err.
 */
int na__http_fetch(const char *method, const char *url, const char *token, const char *body,
                   size_t body_len, int timeout_ms, size_t max_reply, na__http_reply *reply,
                   na_error *err);

#endif
