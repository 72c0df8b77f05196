/* import.c: format detection, file reading, the import report and dispatch to the parsers. */
#include "netassure/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void na_import_report_init(na_import_report *rep)
{
    if (rep)
        memset(rep, 0, sizeof(*rep));
}

void na_import_report_warn(na_import_report *rep, const char *fmt, ...)
{
    va_list ap;

    if (!rep)
        return;
    rep->n_warnings++;
    if (rep->n_messages >= NA_IMPORT_MAX_MESSAGES)
        return;
    va_start(ap, fmt);
    vsnprintf(rep->messages[rep->n_messages], sizeof(rep->messages[0]), fmt, ap);
    va_end(ap);
    rep->n_messages++;
}

static const char *const format_names[] = {"auto", "json", "gml", "graphml", "yaml"};

const char *na_format_name(na_format fmt)
{
    return (unsigned)fmt < sizeof(format_names) / sizeof(format_names[0]) ? format_names[fmt]
                                                                          : "unknown";
}

int na_format_parse(const char *name, na_format *out)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
        if (strcasecmp(name, format_names[i]) == 0) {
            *out = (na_format)i;
            return NA_OK;
        }
    }
    if (strcasecmp(name, "yml") == 0) {
        *out = NA_FORMAT_YAML;
        return NA_OK;
    }
    return NA_EINVAL;
}

na_format na_format_guess(const char *path, const char *data, size_t len)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    size_t i = 0;

    if (dot) {
        if (strcasecmp(dot, ".json") == 0)
            return NA_FORMAT_JSON;
        if (strcasecmp(dot, ".gml") == 0)
            return NA_FORMAT_GML;
        if (strcasecmp(dot, ".graphml") == 0 || strcasecmp(dot, ".xml") == 0)
            return NA_FORMAT_GRAPHML;
        if (strcasecmp(dot, ".yaml") == 0 || strcasecmp(dot, ".yml") == 0)
            return NA_FORMAT_YAML;
    }
    if (!data)
        return NA_FORMAT_AUTO;
    if (len >= 3 && (unsigned char)data[0] == 0xef && (unsigned char)data[1] == 0xbb &&
        (unsigned char)data[2] == 0xbf)
        i = 3;  /* UTF-8 byte order mark */
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (i >= len)
        return NA_FORMAT_AUTO;
    if (data[i] == '{' || data[i] == '[')
        return NA_FORMAT_JSON;
    if (data[i] == '<')
        return NA_FORMAT_GRAPHML;
    if ((len - i >= 5 && memcmp(data + i, "graph", 5) == 0) ||
        (len - i >= 7 && memcmp(data + i, "Creator", 7) == 0))
        return NA_FORMAT_GML;
    return NA_FORMAT_YAML;
}

int na_import_buffer(na_format fmt, const char *data, size_t len, const char *source,
                     na_topology **out, na_import_report *rep, na_error *err)
{
    *out = NULL;
    if (!source)
        source = "<input>";
    if (len > NA_IMPORT_MAX_BYTES)
        return na_error_set_at(err, NA_ETOOBIG, source, 0, 0, -1,
                               "input is %zu bytes, more than the limit of %zu", len,
                               (size_t)NA_IMPORT_MAX_BYTES);
    if (fmt == NA_FORMAT_AUTO)
        fmt = na_format_guess(source, data, len);
    switch (fmt) {
    case NA_FORMAT_JSON: return na_import_json(data, len, source, out, rep, err);
    case NA_FORMAT_GML: return na_import_gml(data, len, source, out, rep, err);
    case NA_FORMAT_GRAPHML: return na_import_graphml(data, len, source, out, rep, err);
    case NA_FORMAT_YAML: return na_import_yaml(data, len, source, out, rep, err);
    default:
        return na_error_set_at(err, NA_EUNSUPPORTED, source, 0, 0, -1,
                               "cannot tell the format (expected JSON, GML, GraphML or YAML)");
    }
}

int na_read_file(const char *path, size_t max_bytes, char **data, size_t *len, na_error *err)
{
    FILE *f;
    char *buf = NULL;
    size_t cap = 0, used = 0;
    int rc = NA_OK;

    *data = NULL;
    *len = 0;
    f = fopen(path, "rb");
    if (!f)
        return na_error_set_at(err, errno == ENOENT ? NA_ENOTFOUND : NA_EIO, path, 0, 0, -1,
                               "cannot open: %s", strerror(errno));
    for (;;) {
        size_t n;
        if (cap - used < 65536) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb;
            if (ncap > max_bytes + 65537)
                ncap = max_bytes + 65537;
            if (ncap <= cap) {
                rc = na_error_set_at(err, NA_ETOOBIG, path, 0, 0, -1,
                                     "file is larger than the limit of %zu bytes", max_bytes);
                goto out_close;
            }
            nb = realloc(buf, ncap);
            if (!nb) {
                rc = na_error_set(err, NA_ENOMEM, "out of memory reading %s", path);
                goto out_close;
            }
            buf = nb;
            cap = ncap;
        }
        n = fread(buf + used, 1, cap - used - 1, f);
        used += n;
        if (used > max_bytes) {
            rc = na_error_set_at(err, NA_ETOOBIG, path, 0, 0, -1,
                                 "file is larger than the limit of %zu bytes", max_bytes);
            goto out_close;
        }
        if (n == 0) {
            if (ferror(f))
                rc = na_error_set_at(err, NA_EIO, path, 0, 0, -1, "read error");
            break;
        }
    }
out_close:
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    if (!buf) {
        buf = malloc(1);
        if (!buf)
            return na_error_set(err, NA_ENOMEM, "out of memory");
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return NA_OK;
}

int na_import_file(const char *path, na_format fmt, na_topology **out, na_import_report *rep,
                   na_error *err)
{
    char *data;
    size_t len;
    int rc;

    *out = NULL;
    rc = na_read_file(path, NA_IMPORT_MAX_BYTES, &data, &len, err);
    if (rc)
        return rc;
    if (fmt == NA_FORMAT_AUTO)
        fmt = na_format_guess(path, data, len);
    rc = na_import_buffer(fmt, data, len, path, out, rep, err);
    free(data);
    return rc;
}
