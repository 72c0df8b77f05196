/*
 * server/api.h (internal): what the daemon hands to the HTTP server: the REST handler
 * (api.c) and the /stream callbacks (stream.c). Arguments as in server/http.h.
 */
#ifndef NA_SERVER_API_H
#define NA_SERVER_API_H

#include <stdbool.h>
#include <stddef.h>

#include "server/http.h"

/* Every REST request (ud: the na__daemon). */
void na__api_handle(const na__http_request *req, na__http_response *resp, void *ud);
/* /stream upgrades: the token rule of reads (ud: the na__daemon). */
bool na__api_authorize_stream(const char *path, const char *authorization,
                              const char *access_token, void *ud);

/* /stream subscriptions: na__ws_callbacks open, message, close and accept. */
char *na__stream_open(na__ws_client *client, const char *path, void **state, void *ud);
char *na__stream_message(na__ws_client *client, void *state, const char *text, size_t len,
                         void *ud);
void na__stream_close(na__ws_client *client, void *state, void *ud);
bool na__stream_accept(void *state, const void *event, void *ud);

#endif
