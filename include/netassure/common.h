/*
 * netassure/common.h: error codes, error details and logging shared by every module.
 *
 * Conventions (see docs/ARCHITECTURE.md): public names start with `na_`, internal names shared
 * between files with `na__`; functions return 0 (NA_OK) or a negative NA_E* code, and put the
 * human-readable detail into a caller-supplied `na_error` (which may be NULL).
 */
#ifndef NETASSURE_COMMON_H
#define NETASSURE_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef NA_VERSION_STRING
#define NA_VERSION_STRING "0.1.0"
#endif

enum {
    NA_OK = 0,
    NA_ENOMEM = -1,       /* allocation failed */
    NA_EINVAL = -2,       /* invalid argument or request (unknown id, duplicate id, ...) */
    NA_EPARSE = -3,       /* malformed input */
    NA_EIO = -4,          /* file or socket error */
    NA_ENOTFOUND = -5,    /* no such node, link, file */
    NA_ETOOBIG = -6,      /* input over a hard size limit */
    NA_EGRAPH = -7,       /* the graph library reported a failure */
    NA_EUNSUPPORTED = -8  /* format or feature not supported */
};

/* Returns a static description of an NA_E* code. */
const char *na_strerror(int code);

/*
 * Where and why something failed. `source` is the file name (or "<input>"), `line`/`column`
 * are 1-based (0 when unknown), `offset` is a byte offset (-1 when unknown).
 */
typedef struct na_error {
    int code;
    long line;
    long column;
    long offset;
    char source[256];
    char message[512];
} na_error;

/* Resets `err` to "no error". NULL is accepted. */
void na_error_clear(na_error *err);

/* Records `code` and a printf-style message in `err` (NULL accepted); returns `code`. */
int na_error_set(na_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like na_error_set, with a position in the input. */
int na_error_set_at(na_error *err, int code, const char *source, long line, long column,
                    long offset, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/*
 * Writes "source:line:column: message" (the parts that are known) into buf (always
 * NUL-terminated when len > 0). Returns buf.
 */
const char *na_error_format(const na_error *err, char *buf, size_t len);

/* Logging with levels, to stderr. Process-wide level; default NA_LOG_WARN. */
typedef enum na_log_level {
    NA_LOG_ERROR = 0,
    NA_LOG_WARN = 1,
    NA_LOG_INFO = 2,
    NA_LOG_DEBUG = 3
} na_log_level;

void na_log_set_level(na_log_level level);
na_log_level na_log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns 0 or NA_EINVAL. */
int na_log_parse_level(const char *name, na_log_level *out);
void na_log(na_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void na_vlog(na_log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#ifdef __cplusplus
}
#endif
#endif
