/*
 * io/json_conf.h (internal): reading settings out of a configuration already turned into JSON
 * (the daemon's YAML, the snmp section). Every reader takes the setting's path prefix for its
 * error message ("snmp.devices[2]." + key) and fills a caller-owned err.
 */
#ifndef NA_IO_JSON_CONF_H
#define NA_IO_JSON_CONF_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "netassure/common.h"

/* strdup that passes NULL through. Caller owns the result. */
char *na__jconf_dup(const char *s);
/* A string setting; absent -> a copy of def (may be NULL). Integers are taken as their text.
 * Caller owns *out (free). */
int na__jconf_str(const json_t *obj, const char *key, const char *path, const char *def,
                  char **out, na_error *err);
int na__jconf_bool(const json_t *obj, const char *key, const char *path, bool def, bool *out,
                   na_error *err);
/* A number in [lo, hi]; absent -> def. */
int na__jconf_num(const json_t *obj, const char *key, const char *path, double def, double lo,
                  double hi, double *out, na_error *err);
/* A duration ("500ms", "30s", "5m", "2h", "7d" or plain seconds); absent -> def. */
int na__jconf_duration(const json_t *obj, const char *key, const char *path, int64_t def,
                       int64_t *out, na_error *err);
/* Rejects members not in `known` (NULL-terminated), so typos do not pass silently. */
int na__jconf_keys(const json_t *obj, const char *path, const char *const *known, na_error *err);

/* "500ms", "1s", "5m", "2h", "7d", or plain seconds -> milliseconds. 0 or NA_EINVAL. */
int na__parse_duration(const char *s, int64_t *ms);

#endif
