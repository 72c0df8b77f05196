/*
 * test_warehouse_time.c: the time parser and formatters every `?at=` and every stored time goes
 * through (src/warehouse/time.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netassure/warehouse.h"

static na_time_ms parse_ok(const char *s)
{
    na_time_ms t = -2;
    int rc = na_time_parse(s, strlen(s), &t);
    if (rc != NA_OK)
        fail_msg("na_time_parse(\"%s\") = %d, expected success", s, rc);
    return t;
}

static void parse_bad(const char *s)
{
    na_time_ms t = 12345;
    int rc = na_time_parse(s, strlen(s), &t);
    if (rc != NA_EPARSE)
        fail_msg("na_time_parse(\"%s\") = %d (t %lld), expected NA_EPARSE", s, rc, (long long)t);
    assert_int_equal(t, 12345); /* nothing written on failure */
}

static void test_parse_forms(void **state)
{
    const na_time_ms base = 1772971200000LL; /* 2026-03-08T12:00:00Z */
    (void)state;

    assert_int_equal(parse_ok("2026-03-08T12:00:00Z"), base);
    assert_int_equal(parse_ok("2026-03-08t12:00:00z"), base);
    assert_int_equal(parse_ok("2026-03-08 12:00:00Z"), base);
    assert_int_equal(parse_ok("2026-03-08 12:00:00.000"), base);      /* warehouse form: UTC */
    assert_int_equal(parse_ok("2026-03-08T12:00:00"), base);          /* no offset: UTC */
    assert_int_equal(parse_ok("2026-03-08T14:00:00+02:00"), base);
    assert_int_equal(parse_ok("2026-03-08T10:30:00-01:30"), base);
    assert_int_equal(parse_ok("2026-03-08T12:00:00.5Z"), base + 500);
    assert_int_equal(parse_ok("2026-03-08T12:00:00.123456Z"), base + 123); /* truncated */
    /* The seed's client: isoformat() with microseconds and a Z. */
    assert_int_equal(parse_ok("2026-03-08T11:00:00.999999Z"), base - 3600000 + 999);
    assert_int_equal(parse_ok("2028-02-29T00:00:00Z"), 1835395200000LL); /* leap day */
    assert_int_equal(parse_ok("1970-01-01 00:00:00.000"), NA_TIME_FIRST);
    assert_int_equal(parse_ok("9999-12-31 23:59:00.000"), NA_TIME_OPEN);
}

static void test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "", "yesterday", "now", "1", "-1", "2026-03-08", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-02-30T00:00:00Z", "2026-03-08T24:00:00Z",
        "2026-03-08T12:60:00Z", "2026-03-08T12:00:00+25:00", "2026-03-08T12:00:00Z junk",
        "2026-03-08T12:00:00.Z", "2026-3-8T12:00:00Z", "+2026-03-08T12:00:00Z",
        /* outside the warehouse's range: before 1970 (and -1 would mean "now"), after the end */
        "1969-12-31T23:59:59.999Z", "1013-11-23T12:00:00Z", "1970-01-01T00:00:00+00:01",
        "9999-12-31T23:59:59Z",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_bad(bad[i]);
    {
        /* (ptr, len): no reliance on a terminating NUL. */
        const char s[] = "2026-03-08T12:00:00Zgarbage";
        na_time_ms t;
        assert_int_equal(na_time_parse(s, 20, &t), NA_OK);
        assert_int_equal(t, 1772971200000LL);
    }
}

static void test_format(void **state)
{
    char buf[40];
    (void)state;

    assert_string_equal(na_time_format(1772971200123LL, buf, sizeof(buf)),
                        "2026-03-08T12:00:00.123Z");
    assert_string_equal(na_time_format_db(1772971200123LL, buf, sizeof(buf)),
                        "2026-03-08 12:00:00.123");
    assert_string_equal(na_time_format_db(NA_TIME_FIRST, buf, sizeof(buf)),
                        "1970-01-01 00:00:00.000");
    assert_string_equal(na_time_format_db(NA_TIME_OPEN, buf, sizeof(buf)),
                        "9999-12-31 23:59:00.000");
    /* Round trips over a spread of times. */
    for (na_time_ms t = 0; t < NA_TIME_OPEN; t += 12345678901LL) {
        na_time_ms back;
        na_time_format(t, buf, sizeof(buf));
        assert_int_equal(na_time_parse(buf, strlen(buf), &back), NA_OK);
        assert_int_equal(back, t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
