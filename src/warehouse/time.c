/*
 * time.c: milliseconds since the Unix epoch (UTC) <-> RFC 3339 and the warehouse text form.
 *
 * The calendar arithmetic is the proleptic Gregorian one (days_from_civil / civil_from_days
 * after H. Hinnant), so no libc time zone state is involved and every thread may call these.
 */
#include "netassure/warehouse.h"

#include <stdio.h>
#include <time.h>

na_time_ms na_time_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (na_time_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* Reads exactly n digits at *p (bounded by end). */
static bool digits(const char **p, const char *end, int n, int *out)
{
    int v = 0;

    if (end - *p < n)
        return false;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return false;
    (*p)++;
    return true;
}

int na_time_parse(const char *s, size_t len, na_time_ms *out)
{
    const char *p = s, *end = s + len;
    int y, mo, d, h, mi, sec, ms = 0, off_min = 0;

    if (!s || !out)
        return NA_EPARSE;
    if (!digits(&p, end, 4, &y) || !expect(&p, end, '-') || !digits(&p, end, 2, &mo) ||
        !expect(&p, end, '-') || !digits(&p, end, 2, &d))
        return NA_EPARSE;
    if (p >= end || (*p != 'T' && *p != 't' && *p != ' '))
        return NA_EPARSE;
    p++;
    if (!digits(&p, end, 2, &h) || !expect(&p, end, ':') || !digits(&p, end, 2, &mi) ||
        !expect(&p, end, ':') || !digits(&p, end, 2, &sec))
        return NA_EPARSE;
    if (p < end && *p == '.') {
        int n = 0;
        p++;
        /* Only the first three digits count; the rest is truncated. */
        while (p < end && *p >= '0' && *p <= '9') {
            if (n < 3)
                ms = ms * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return NA_EPARSE;
        for (; n < 3; n++)
            ms *= 10;
    }
    if (p < end) {
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1, oh, om;
            p++;
            if (!digits(&p, end, 2, &oh) || !expect(&p, end, ':') || !digits(&p, end, 2, &om) ||
                oh > 23 || om > 59)
                return NA_EPARSE;
            off_min = sign * (oh * 60 + om);
        } else {
            return NA_EPARSE;
        }
    }
    if (p != end)
        return NA_EPARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return NA_EPARSE;
    int64_t days = days_from_civil(y, mo, d);
    int64_t t = ((days * 86400 + h * 3600 + mi * 60 + sec) - (int64_t)off_min * 60) * 1000 + ms;
    /* The warehouse's range: nothing is before the first-observation sentinel or after the open
     * end (and -1 would read as NA_TIME_NOW). */
    if (t < NA_TIME_FIRST || t > NA_TIME_OPEN)
        return NA_EPARSE;
    *out = t;
    return NA_OK;
}

static const char *format(na_time_ms t, char *buf, size_t len, bool rfc)
{
    int64_t days = floor_div(t, 86400000), y;
    int64_t rest = t - days * 86400000;
    int m, d;

    if (!buf || len == 0)
        return buf;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, rfc ? "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ" : "%04lld-%02d-%02d %02d:%02d:%02d.%03d",
             (long long)y, m, d, (int)(rest / 3600000), (int)(rest / 60000 % 60),
             (int)(rest / 1000 % 60), (int)(rest % 1000));
    return buf;
}

const char *na_time_format(na_time_ms t, char *buf, size_t len)
{
    return format(t, buf, len, true);
}

const char *na_time_format_db(na_time_ms t, char *buf, size_t len)
{
    return format(t, buf, len, false);
}
