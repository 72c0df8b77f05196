/*
 * json_conf.c: typed settings out of a JSON (converted YAML) configuration.
 */
#include "io/json_conf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int na__parse_duration(const char *s, int64_t *ms)
{
    char *end;
    double v, mult = 1000.0;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return NA_EINVAL;
    if (strcmp(end, "ms") == 0)
        mult = 1.0;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        mult = 1000.0;
    else if (strcmp(end, "m") == 0)
        mult = 60e3;
    else if (strcmp(end, "h") == 0)
        mult = 3600e3;
    else if (strcmp(end, "d") == 0)
        mult = 86400e3;
    else
        return NA_EINVAL;
    if (v * mult > 9e15)
        return NA_EINVAL;
    *ms = (int64_t)(v * mult);
    return NA_OK;
}

char *na__jconf_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* A string setting; absent -> def. NA_EINVAL when present and not a string (numbers are
 * accepted as their text, so `port: 8080` style values work). */
int na__jconf_str(const json_t *obj, const char *key, const char *path, const char *def,
                   char **out, na_error *err)
{
    json_t *v = json_object_get(obj, key);
    char num[64];

    if (!v || json_is_null(v)) {
        *out = na__jconf_dup(def);
        return (def && !*out) ? NA_ENOMEM : NA_OK;
    }
    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = strdup(num);
    } else if (json_is_string(v)) {
        *out = strdup(json_string_value(v));
    } else {
        return na_error_set(err, NA_EINVAL, "%s%s: expected a string", path, key);
    }
    return *out ? NA_OK : NA_ENOMEM;
}

int na__jconf_bool(const json_t *obj, const char *key, const char *path, bool def, bool *out,
                    na_error *err)
{
    json_t *v = json_object_get(obj, key);

    if (!v || json_is_null(v)) {
        *out = def;
        return NA_OK;
    }
    if (!json_is_boolean(v))
        return na_error_set(err, NA_EINVAL, "%s%s: expected true or false", path, key);
    *out = json_is_true(v);
    return NA_OK;
}

int na__jconf_num(const json_t *obj, const char *key, const char *path, double def, double lo,
                   double hi, double *out, na_error *err)
{
    json_t *v = json_object_get(obj, key);

    if (!v || json_is_null(v)) {
        *out = def;
        return NA_OK;
    }
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
        return na_error_set(err, NA_EINVAL, "%s%s: expected a number from %g to %g", path, key,
                            lo, hi);
    *out = json_number_value(v);
    return NA_OK;
}

int na__jconf_duration(const json_t *obj, const char *key, const char *path, int64_t def,
                        int64_t *out, na_error *err)
{
    json_t *v = json_object_get(obj, key);
    char buf[64];

    if (!v || json_is_null(v)) {
        *out = def;
        return NA_OK;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (int64_t)json_integer_value(v) * 1000;
        return NA_OK;
    }
    if (json_is_string(v) && json_string_length(v) < sizeof(buf)) {
        snprintf(buf, sizeof(buf), "%s", json_string_value(v));
        if (na__parse_duration(buf, out) == NA_OK)
            return NA_OK;
    }
    return na_error_set(err, NA_EINVAL, "%s%s: expected a duration such as 500ms, 30s, 5m, 2h "
                                        "or 7d", path, key);
}

/* Rejects members not in `known` (a NULL-terminated list), so typos do not pass silently. */
int na__jconf_keys(const json_t *obj, const char *path, const char *const *known,
                      na_error *err)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)obj, key, v) {
        size_t i;
        for (i = 0; known[i]; i++)
            if (strcmp(key, known[i]) == 0)
                break;
        if (!known[i]) {
            char list[400] = "";
            size_t used = 0;
            for (size_t j = 0; known[j] && used < sizeof(list) - 1; j++) {
                int w = snprintf(list + used, sizeof(list) - used, "%s%s", j ? ", " : "",
                                 known[j]);
                if (w < 0)
                    break;
                used += (size_t)w;
            }
            return na_error_set(err, NA_EINVAL, "%s%s: unknown setting (known: %s)", path, key,
                                list);
        }
    }
    return NA_OK;
}

