/* log.c: levelled logging to stderr with UTC timestamps. */
#include "netassure/common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int log_level = NA_LOG_WARN;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void na_log_set_level(na_log_level level)
{
    atomic_store(&log_level, (int)level);
}

na_log_level na_log_get_level(void)
{
    return (na_log_level)atomic_load(&log_level);
}

int na_log_parse_level(const char *name, na_log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (na_log_level)i;
            return NA_OK;
        }
    }
    if (strcmp(name, "warning") == 0) {
        *out = NA_LOG_WARN;
        return NA_OK;
    }
    return NA_EINVAL;
}

void na_vlog(na_log_level level, const char *fmt, va_list ap)
{
    char line[1024];
    char stamp[32];
    struct timespec ts;
    struct tm tm;

    if ((int)level > atomic_load(&log_level))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    vsnprintf(line, sizeof(line), fmt, ap);
    /* One fprintf per line so that lines from several threads do not interleave. */
    fprintf(stderr, "%s.%03ldZ %-5s %s\n", stamp, ts.tv_nsec / 1000000L,
            level_names[level], line);
}

void na_log(na_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    na_vlog(level, fmt, ap);
    va_end(ap);
}
