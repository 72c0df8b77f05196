/*
 * test_daemon_config.c: the daemon's YAML configuration (src/daemon/config.c): defaults, the
 * bundled default, path resolution, every kind of error the reader reports, the small parsers
 * (durations, listen addresses, loopback) and the branding / banners checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/config.h"
#include "harness.h"

/* Parses text that must be accepted; fails the test with the reader's message otherwise. */
static void parse_ok(const char *text, const char *base_dir, na__daemon_config *cfg)
{
    na_error err;
    char buf[900];

    na_error_clear(&err);
    if (na__config_parse(text, strlen(text), "test.yaml", base_dir, cfg, &err) != 0)
        fail_msg("config rejected: %s\n--- text ---\n%s", na_error_format(&err, buf, sizeof(buf)),
                 text);
}

/*
 * Parses text that must be rejected with `code`; the formatted message must contain `needle`
 * (NULL: any) and name the origin. The config must come back zeroed (nothing to free).
 */
static void parse_bad(const char *text, int code, const char *needle)
{
    na__daemon_config cfg;
    na_error err;
    char buf[900];
    int rc;

    na_error_clear(&err);
    rc = na__config_parse(text, strlen(text), "bad.yaml", "/base", &cfg, &err);
    na_error_format(&err, buf, sizeof(buf));
    if (rc != code)
        fail_msg("rc %d, want %d (message: %s)\n--- text ---\n%s", rc, code, buf, text);
    if (!strstr(buf, "bad.yaml"))
        fail_msg("message does not name the origin: %s", buf);
    if (needle && !strstr(buf, needle))
        fail_msg("message '%s' lacks '%s'", buf, needle);
    assert_null(cfg.origin);
    assert_null(cfg.sources);
    assert_null(cfg.branding);
}

/* ---- defaults ----------------------------------------------------------------------------- */

static void test_defaults_empty_document(void **state)
{
    na__daemon_config cfg;
    (void)state;

    unsetenv("NETASSURE_DATA_DIR");
    parse_ok("", NULL, &cfg);
    assert_string_equal(cfg.origin, "test.yaml");
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8080);
    assert_string_equal(cfg.warehouse, "sqlite");
    assert_string_equal(cfg.data_dir, "netassure-data");
    assert_int_equal(cfg.log_level, NA_LOG_INFO);
    assert_null(cfg.api_token);
    assert_false(cfg.protect_reads);
    assert_int_equal(cfg.max_body, 1 << 20);
    assert_int_equal(cfg.n_sources, 0);
    assert_int_equal(cfg.n_rules, 0);
    assert_int_equal(cfg.n_detectors, 0);
    assert_int_equal(cfg.retention.step_ms, 300000);
    assert_int_equal(cfg.retention.downsample_after_ms, 7LL * 86400000);
    assert_int_equal(cfg.retention.keep_ms, 400LL * 86400000);
    assert_true(json_is_object(cfg.branding));
    assert_string_equal(json_string_value(json_object_get(cfg.branding, "product_name")),
                        "NetAssure");
    assert_true(json_is_array(cfg.banners));
    assert_int_equal(json_array_size(cfg.banners), 0);
    na__config_free(&cfg);

    /* A document of only comments is empty too. */
    parse_ok("# nothing here\n", NULL, &cfg);
    assert_int_equal(cfg.listen_port, 8080);
    na__config_free(&cfg);
}

static void test_defaults_data_dir_from_env(void **state)
{
    na__daemon_config cfg;
    (void)state;

    assert_int_equal(setenv("NETASSURE_DATA_DIR", "/var/lib/na-test", 1), 0);
    parse_ok("log_level: debug\n", NULL, &cfg);
    assert_string_equal(cfg.data_dir, "/var/lib/na-test");
    assert_int_equal(cfg.log_level, NA_LOG_DEBUG);
    na__config_free(&cfg);

    /* The file's own setting wins over the environment. */
    parse_ok("data_dir: /srv/na\n", NULL, &cfg);
    assert_string_equal(cfg.data_dir, "/srv/na");
    na__config_free(&cfg);

    /* An empty variable counts as unset. */
    assert_int_equal(setenv("NETASSURE_DATA_DIR", "", 1), 0);
    parse_ok("", NULL, &cfg);
    assert_string_equal(cfg.data_dir, "netassure-data");
    na__config_free(&cfg);
    unsetenv("NETASSURE_DATA_DIR");
}

static void test_bundled_default(void **state)
{
    na__daemon_config cfg;
    na_error err;
    char buf[900];
    bool has_ap = false;
    (void)state;

    na_error_clear(&err);
    if (na__config_default(&cfg, &err) != 0)
        fail_msg("bundled default rejected: %s", na_error_format(&err, buf, sizeof(buf)));
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8080);
    assert_true(na__host_is_loopback(cfg.listen_host));
    assert_true(cfg.n_sources >= 1);
    for (size_t i = 0; i < cfg.n_sources; i++) {
        assert_non_null(cfg.sources[i].name);
        assert_string_equal(cfg.sources[i].type, "file");
        /* Relative paths in the bundled text resolve into the source tree's examples/. */
        assert_true(cfg.sources[i].path[0] == '/');
        assert_non_null(strstr(cfg.sources[i].path, "/examples/"));
        if (access(cfg.sources[i].path, R_OK) != 0)
            fail_msg("bundled source %s: %s is not readable", cfg.sources[i].name,
                     cfg.sources[i].path);
        assert_true(cfg.sources[i].interval_ms >= 100);
    }
    assert_true(cfg.n_rules >= 1);
    for (size_t i = 0; i < cfg.n_rules; i++)
        has_ap |= cfg.rules[i].type == NA_RULE_ARTICULATION_POINT;
    assert_true(has_ap);
    assert_int_equal(cfg.n_detectors, 1);
    assert_string_equal(cfg.detectors[0].type, "importance_outlier");
    assert_true(json_array_size(cfg.banners) >= 1);
    na__config_free(&cfg);
}

/* ---- a full document ---------------------------------------------------------------------- */

static void test_full_document(void **state)
{
    static const char text[] =
        "listen: \"[::1]:9000\"\n"
        "warehouse: \"postgresql://u@h:5432/na\"\n"
        "api:\n"
        "  token: \"0123456789abcdef\"\n"
        "  protect_reads: true\n"
        "  max_body: 4096\n"
        "analytics: {threads: 3}\n"
        "sources:\n"
        "  - {name: one, path: rel/topo.json, interval: 5s, watch: false}\n"
        "  - {path: /abs/other.json, interval: 50ms}\n"
        "  - {path: plain.json, interval: 12}\n"
        "alert_rules:\n"
        "  - {type: importance, threshold: 0.2, severity: critical}\n"
        "  - {name: thin, type: redundancy}\n"
        "detectors:\n"
        "  - {type: importance_outlier}\n"
        "retention: {metrics_step: 1m, metrics_keep: 30d, metrics_downsample_after: 2h}\n";
    na__daemon_config cfg;
    (void)state;

    parse_ok(text, "/etc/netassure", &cfg);
    assert_string_equal(cfg.listen_host, "::1");
    assert_int_equal(cfg.listen_port, 9000);
    assert_string_equal(cfg.warehouse, "postgresql://u@h:5432/na");
    assert_string_equal(cfg.api_token, "0123456789abcdef");
    assert_true(cfg.protect_reads);
    assert_int_equal(cfg.max_body, 4096);
    assert_int_equal(cfg.analytics_threads, 3);

    assert_int_equal(cfg.n_sources, 3);
    assert_string_equal(cfg.sources[0].name, "one");
    assert_string_equal(cfg.sources[0].path, "/etc/netassure/rel/topo.json");
    assert_false(cfg.sources[0].watch);
    assert_int_equal(cfg.sources[0].interval_ms, 5000);
    assert_string_equal(cfg.sources[1].name, "source-2");
    assert_string_equal(cfg.sources[1].path, "/abs/other.json");
    assert_true(cfg.sources[1].watch);
    assert_int_equal(cfg.sources[1].interval_ms, 100); /* clamped up from 50ms */
    assert_string_equal(cfg.sources[2].path, "/etc/netassure/plain.json");
    assert_int_equal(cfg.sources[2].interval_ms, 12000); /* plain number: seconds */

    assert_int_equal(cfg.n_rules, 2);
    assert_int_equal(cfg.rules[0].type, NA_RULE_IMPORTANCE);
    assert_string_equal(cfg.rules[0].name, "importance");
    assert_string_equal(cfg.rules[0].severity, "critical");
    assert_true(cfg.rules[0].threshold == 0.2);
    assert_int_equal(cfg.rules[1].type, NA_RULE_REDUNDANCY);
    assert_string_equal(cfg.rules[1].name, "thin");
    assert_string_equal(cfg.rules[1].severity, "warning");
    assert_true(cfg.rules[1].threshold == 1.0);

    assert_int_equal(cfg.n_detectors, 1);
    assert_true(cfg.detectors[0].threshold == 3.5);
    assert_int_equal(cfg.retention.step_ms, 60000);
    assert_int_equal(cfg.retention.keep_ms, 30LL * 86400000);
    assert_int_equal(cfg.retention.downsample_after_ms, 2LL * 3600000);
    na__config_free(&cfg);
}

static void test_relative_paths_without_base(void **state)
{
    na__daemon_config cfg;
    (void)state;

    parse_ok("sources:\n  - path: topo.json\n", NULL, &cfg);
    assert_string_equal(cfg.sources[0].path, "topo.json");
    na__config_free(&cfg);
}

static void test_load_from_file(void **state)
{
    char dir[] = "/tmp/na-config-XXXXXX", path[300], buf[900];
    na__daemon_config cfg;
    na_error err;
    FILE *f;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/na.yaml", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("listen: \":0\"\nsources:\n  - path: t.json\n", f);
    assert_int_equal(fclose(f), 0);
    na_error_clear(&err);
    if (na__config_load(path, &cfg, &err) != 0)
        fail_msg("load: %s", na_error_format(&err, buf, sizeof(buf)));
    assert_string_equal(cfg.origin, path);
    assert_int_equal(cfg.listen_port, 0);
    snprintf(buf, sizeof(buf), "%s/t.json", dir);
    assert_string_equal(cfg.sources[0].path, buf);
    na__config_free(&cfg);
    unlink(path);
    rmdir(dir);
}

/* ---- errors ------------------------------------------------------------------------------- */

static void test_error_unknown_keys(void **state)
{
    (void)state;
    parse_bad("listn: 1\n", NA_EINVAL, "listn: unknown setting");
    parse_bad("api: {tokn: abcdefghij}\n", NA_EINVAL, "api.tokn: unknown setting");
    parse_bad("sources:\n  - {path: a, pth: b}\n", NA_EINVAL, "sources[0].pth");
    parse_bad("alert_rules:\n  - {type: node_down, sevrity: major}\n", NA_EINVAL,
              "alert_rules[0].sevrity");
    parse_bad("retention: {keep: 1d}\n", NA_EINVAL, "retention.keep");
}

static void test_error_wrong_types(void **state)
{
    (void)state;
    parse_bad("- a\n- b\n", NA_EPARSE, "must be a mapping");
    parse_bad("just a string\n", NA_EPARSE, "must be a mapping");
    parse_bad("listen: [1, 2]\n", NA_EINVAL, "listen: expected a string");
    parse_bad("api: [1]\n", NA_EINVAL, "api: expected a mapping");
    parse_bad("api: {protect_reads: 3}\n", NA_EINVAL, "api.protect_reads: expected true or false");
    parse_bad("api: {max_body: big}\n", NA_EINVAL, "api.max_body");
    parse_bad("api: {max_body: 10}\n", NA_EINVAL, "api.max_body");
    parse_bad("analytics: {threads: many}\n", NA_EINVAL, "analytics.threads");
    parse_bad("analytics: {threads: -1}\n", NA_EINVAL, "analytics.threads");
    parse_bad("sources: {path: a}\n", NA_EINVAL, "sources: expected a list");
    parse_bad("sources: [7]\n", NA_EINVAL, "sources[0]: expected a mapping");
    parse_bad("sources:\n  - {name: x}\n", NA_EINVAL, "sources[0].path: required");
    parse_bad("sources:\n  - {path: a, type: snmp}\n", NA_EINVAL, "unknown source type");
    parse_bad("sources:\n  - {path: a, watch: sometimes}\n", NA_EINVAL, "sources[0].watch");
    parse_bad("alert_rules: 3\n", NA_EINVAL, "alert_rules: expected a list");
    parse_bad("alert_rules:\n  - {type: importance, threshold: high}\n", NA_EINVAL,
              "alert_rules[0].threshold");
    parse_bad("detectors:\n  - {type: lstm}\n", NA_EINVAL, "detectors[0].type");
    parse_bad("log_level: chatty\n", NA_EINVAL, "log_level");
    parse_bad("branding: {primary_color: red}\n", NA_EINVAL, "branding.primary_color");
    parse_bad("banners:\n  - {level: info}\n", NA_EINVAL, "banners[0].text");
    /* Mapping keys must be scalars. */
    parse_bad("? [a, b]\n: 1\n", NA_EPARSE, "mapping keys");
}

static void test_error_severity_and_rule_type(void **state)
{
    (void)state;
    parse_bad("alert_rules:\n  - {type: node_down, severity: apocalyptic}\n", NA_EINVAL,
              "alert_rules[0].severity");
    parse_bad("alert_rules:\n  - {type: node_down}\n  - {type: link_down, severity: 5}\n",
              NA_EINVAL, "alert_rules[1].severity");
    parse_bad("alert_rules:\n  - {type: cpu_high}\n", NA_EINVAL, "got cpu_high");
    parse_bad("alert_rules:\n  - {severity: major}\n", NA_EINVAL, "got nothing");
}

static void test_error_duration_listen_token(void **state)
{
    (void)state;
    parse_bad("retention: {metrics_keep: 5 parsecs}\n", NA_EINVAL, "retention.metrics_keep");
    parse_bad("retention: {metrics_step: -1s}\n", NA_EINVAL, "retention.metrics_step");
    parse_bad("retention: {metrics_step: 500ms}\n", NA_EINVAL, "at least 1s");
    parse_bad("sources:\n  - {path: a, interval: soon}\n", NA_EINVAL, "sources[0].interval");
    parse_bad("sources:\n  - {path: a, interval: -3}\n", NA_EINVAL, "sources[0].interval");
    parse_bad("listen: \"host:99999\"\n", NA_EINVAL, "listen: expected HOST:PORT");
    parse_bad("listen: \"::1:80\"\n", NA_EINVAL, "listen");
    parse_bad("listen: \"[::1]80\"\n", NA_EINVAL, "listen");
    parse_bad("api: {token: short}\n", NA_EINVAL, "api.token: use at least 8");
    parse_bad("api: {token: \"1234567\"}\n", NA_EINVAL, "api.token");
}

static void test_token_exactly_eight(void **state)
{
    na__daemon_config cfg;
    (void)state;

    parse_ok("api: {token: \"12345678\"}\n", NULL, &cfg);
    assert_string_equal(cfg.api_token, "12345678");
    na__config_free(&cfg);
    /* A plain number is taken as its text. */
    parse_ok("api: {token: 123456789}\n", NULL, &cfg);
    assert_string_equal(cfg.api_token, "123456789");
    na__config_free(&cfg);
}

static void test_error_yaml_syntax_position(void **state)
{
    static const char text[] = "listen: \"127.0.0.1:8080\"\napi:\n  token: [unclosed\n"
                               "log_level: info\n";
    na__daemon_config cfg;
    na_error err;
    char buf[900];
    (void)state;

    na_error_clear(&err);
    assert_int_equal(na__config_parse(text, strlen(text), "syn.yaml", NULL, &cfg, &err),
                     NA_EPARSE);
    na_error_format(&err, buf, sizeof(buf));
    /* libyaml notices the missing ']' at the next mapping key, line 4. */
    assert_true(err.line >= 3);
    assert_true(err.column >= 1);
    {
        char want[64];
        snprintf(want, sizeof(want), "syn.yaml:%ld:%ld", err.line, err.column);
        if (!strstr(buf, want))
            fail_msg("'%s' lacks '%s'", buf, want);
    }

    /* A tab where indentation is expected: line 2. */
    na_error_clear(&err);
    {
        static const char tab[] = "api:\n\ttoken: x\n";
        assert_int_equal(na__config_parse(tab, strlen(tab), "tab.yaml", NULL, &cfg, &err),
                         NA_EPARSE);
    }
    assert_int_equal(err.line, 2);
    assert_string_equal(err.source, "tab.yaml");
}

static void test_error_alias_bomb(void **state)
{
    /* Billion laughs: 9 levels of 10 aliases each, 10^9 leaves once expanded. */
    static const char bomb[] =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    na__daemon_config cfg;
    na_error err;
    (void)state;

    na_error_clear(&err);
    assert_int_equal(na__config_parse(bomb, strlen(bomb), "bomb.yaml", NULL, &cfg, &err),
                     NA_ETOOBIG);
    assert_non_null(strstr(err.message, "alias"));
    assert_null(cfg.origin);

    /* A self-referencing alias (libyaml registers the anchor before the children) must stop
     * at the depth limit rather than recurse forever. */
    na_error_clear(&err);
    {
        static const char loop[] = "a: &x [1, *x]\n";
        int rc = na__config_parse(loop, strlen(loop), "loop.yaml", NULL, &cfg, &err);
        assert_true(rc == NA_ETOOBIG || rc == NA_EPARSE || rc == NA_EINVAL);
        assert_null(cfg.origin);
    }

    /* Over the 1 MiB size cap. */
    {
        size_t n = ((size_t)1 << 20) + 10;
        char *big = malloc(n);
        assert_non_null(big);
        memset(big, '#', n);
        na_error_clear(&err);
        assert_int_equal(na__config_parse(big, n, "big.yaml", NULL, &cfg, &err), NA_ETOOBIG);
        free(big);
    }
}

/* Unknown keys in a deep document and a NULL err must not crash. */
static void test_null_err(void **state)
{
    na__daemon_config cfg;
    (void)state;

    assert_int_equal(na__config_parse("x: 1\n", 5, "n.yaml", NULL, &cfg, NULL), NA_EINVAL);
    assert_int_equal(na__config_parse("a: [\n", 5, "n.yaml", NULL, &cfg, NULL), NA_EPARSE);
}

/* ---- small parsers ------------------------------------------------------------------------ */

static void expect_duration(const char *s, int64_t want)
{
    int64_t ms = -12345;
    int rc = na__parse_duration(s, &ms);
    if (rc != 0 || ms != want)
        fail_msg("duration '%s': rc %d, %lld ms; want %lld ms", s, rc, (long long)ms,
                 (long long)want);
}

static void expect_bad_duration(const char *s)
{
    int64_t ms = -12345;
    if (na__parse_duration(s, &ms) != NA_EINVAL)
        fail_msg("duration '%s' accepted as %lld ms", s, (long long)ms);
    assert_int_equal(ms, -12345); /* untouched on error */
}

static void test_durations(void **state)
{
    (void)state;
    expect_duration("500ms", 500);
    expect_duration("30s", 30000);
    expect_duration("5m", 300000);
    expect_duration("2h", 7200000);
    expect_duration("7d", 604800000);
    expect_duration("12", 12000);
    expect_duration("0", 0);
    expect_duration("1.5s", 1500);
    expect_duration("0.5m", 30000);
    expect_bad_duration("x");
    expect_bad_duration("");
    expect_bad_duration("-1s");
    expect_bad_duration("5 m");
    expect_bad_duration("5w");
    expect_bad_duration("5sec");
    expect_bad_duration("ms");
    expect_bad_duration("nan");
    expect_bad_duration("inf");
    expect_bad_duration("1e300d");
}

static void expect_listen(const char *s, const char *host, int port)
{
    char h[64] = "unset";
    int p = -7;
    int rc = na__parse_listen(s, h, sizeof(h), &p);
    if (rc != 0 || strcmp(h, host) != 0 || p != port)
        fail_msg("listen '%s': rc %d, host '%s', port %d; want '%s' %d", s, rc, h, p, host, port);
}

static void expect_bad_listen(const char *s)
{
    char h[64];
    int p = -7;
    if (na__parse_listen(s, h, sizeof(h), &p) != NA_EINVAL)
        fail_msg("listen '%s' accepted (port %d)", s, p);
}

static void test_listen_forms(void **state)
{
    char tiny[4];
    int p;
    (void)state;

    expect_listen("127.0.0.1:8080", "127.0.0.1", 8080);
    expect_listen("[::1]:9000", "::1", 9000);
    expect_listen("[fe80::1]:65535", "fe80::1", 65535);
    expect_listen(":0", "127.0.0.1", 0);
    expect_listen("8080", "127.0.0.1", 8080);
    expect_listen("0.0.0.0:80", "0.0.0.0", 80);
    expect_listen("example.org:443", "example.org", 443);
    expect_bad_listen("host:99999");
    expect_bad_listen("host:65536");
    expect_bad_listen("host:-1");
    expect_bad_listen("host:");
    expect_bad_listen("host:80x");
    expect_bad_listen("");
    expect_bad_listen("::1:80");
    expect_bad_listen("[::1]");
    expect_bad_listen("[::1]80");
    expect_bad_listen("[]:80");
    expect_bad_listen("[::1:80");
    expect_bad_listen("99999999999999999999");
    /* Host longer than the buffer. */
    assert_int_equal(na__parse_listen("abcd:80", tiny, sizeof(tiny), &p), NA_EINVAL);
    assert_int_equal(na__parse_listen("[abcd]:80", tiny, sizeof(tiny), &p), NA_EINVAL);
    assert_int_equal(na__parse_listen("abc:80", tiny, sizeof(tiny), &p), 0);
    assert_string_equal(tiny, "abc");
}

static void test_loopback(void **state)
{
    (void)state;
    assert_true(na__host_is_loopback("127.0.0.1"));
    assert_true(na__host_is_loopback("127.1.2.3"));
    assert_true(na__host_is_loopback("127.255.255.254"));
    assert_true(na__host_is_loopback("::1"));
    assert_true(na__host_is_loopback("localhost"));
    assert_false(na__host_is_loopback("0.0.0.0"));
    assert_false(na__host_is_loopback("::"));
    assert_false(na__host_is_loopback(""));
    assert_false(na__host_is_loopback("10.0.0.1"));
    assert_false(na__host_is_loopback("128.0.0.1"));
    assert_false(na__host_is_loopback("1.127.0.0"));
    assert_false(na__host_is_loopback("example.org"));
    /* A host NAME that merely starts with "127." is not in 127.0.0.0/8: it can resolve to any
     * address, and the daemon lets a loopback listener run without an api.token. */
    assert_false(na__host_is_loopback("127.attacker.example"));
    assert_false(na__host_is_loopback("127.0.0.1.nip.example"));
}

/* ---- branding and banners ----------------------------------------------------------------- */

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);
    if (!v)
        fail_msg("test JSON '%s': %s", text, je.text);
    return v;
}

static void expect_branding_error(const char *in_text, const char *needle)
{
    json_t *in = load(in_text);
    na_error err;
    json_t *out;

    na_error_clear(&err);
    out = na__config_check_branding(in, NULL, &err);
    if (out)
        fail_msg("branding %s accepted", in_text);
    assert_int_equal(err.code, NA_EINVAL);
    if (!strstr(err.message, needle))
        fail_msg("branding %s: message '%s' lacks '%s'", in_text, err.message, needle);
    json_decref(in);
}

static void test_branding(void **state)
{
    json_t *in, *out, *base, *merged;
    na_error err;
    (void)state;

    /* Defaults filled in. */
    in = load("{}");
    out = na__config_check_branding(in, NULL, &err);
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "product_name")), "NetAssure");
    assert_true(json_is_null(json_object_get(out, "logo_url")));
    assert_string_equal(json_string_value(json_object_get(out, "primary_color")), "#0b5fff");
    assert_string_equal(json_string_value(json_object_get(out, "accent_color")), "#ff7a00");
    assert_int_equal(json_object_size(out), 4);
    json_decref(in);

    /* Base merge: the base's values stay unless the input sets them; base is not changed. */
    base = out;
    in = load("{\"product_name\": \"Acme NOC\", \"accent_color\": \"#00AA11\"}");
    merged = na__config_check_branding(in, base, &err);
    assert_non_null(merged);
    assert_string_equal(json_string_value(json_object_get(merged, "product_name")), "Acme NOC");
    assert_string_equal(json_string_value(json_object_get(merged, "accent_color")), "#00AA11");
    assert_string_equal(json_string_value(json_object_get(merged, "primary_color")), "#0b5fff");
    assert_string_equal(json_string_value(json_object_get(base, "product_name")), "NetAssure");
    assert_string_equal(json_string_value(json_object_get(base, "accent_color")), "#ff7a00");
    json_decref(in);

    /* logo_url: a string or null. */
    in = load("{\"logo_url\": \"https://example.org/logo.svg\"}");
    out = na__config_check_branding(in, merged, &err);
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "logo_url")),
                        "https://example.org/logo.svg");
    assert_string_equal(json_string_value(json_object_get(out, "product_name")), "Acme NOC");
    json_decref(in);
    json_decref(out);
    json_decref(merged);
    json_decref(base);

    expect_branding_error("{\"primary_color\": \"blue\"}", "branding.primary_color");
    expect_branding_error("{\"primary_color\": \"#12345\"}", "#rrggbb");
    expect_branding_error("{\"primary_color\": \"#1234567\"}", "#rrggbb");
    expect_branding_error("{\"accent_color\": \"#12345g\"}", "branding.accent_color");
    expect_branding_error("{\"accent_color\": 255}", "branding.accent_color");
    expect_branding_error("{\"font\": \"Comic Sans\"}", "branding.font: unknown setting");
    expect_branding_error("{\"product_name\": \"\"}", "branding.product_name");
    expect_branding_error("{\"product_name\": 3}", "branding.product_name");
    expect_branding_error("{\"logo_url\": 3}", "branding.logo_url");
    expect_branding_error("[]", "expected an object");
    {
        char big[200];
        memset(big, 'x', 81);
        big[81] = '\0';
        json_t *o = json_pack("{s:s}", "product_name", big);
        assert_null(na__config_check_branding(o, NULL, &err));
        json_decref(o);
    }
}

static void expect_banners_error(const char *in_text, const char *needle)
{
    json_t *in = load(in_text);
    na_error err;
    json_t *out;

    na_error_clear(&err);
    out = na__config_check_banners(in, &err);
    if (out)
        fail_msg("banners %s accepted", in_text);
    assert_int_equal(err.code, NA_EINVAL);
    if (!strstr(err.message, needle))
        fail_msg("banners %s: message '%s' lacks '%s'", in_text, err.message, needle);
    json_decref(in);
}

static void test_banners(void **state)
{
    json_t *in, *out, *b;
    na_error err;
    (void)state;

    in = load("[{\"text\": \"hello\"},"
              " {\"id\": \"mw\", \"level\": \"critical\", \"text\": \"maintenance\","
              "  \"starts_at\": \"2026-03-08T12:00:00+02:00\", \"ends_at\": null}]");
    out = na__config_check_banners(in, &err);
    assert_non_null(out);
    assert_int_equal(json_array_size(out), 2);
    b = json_array_get(out, 0);
    assert_string_equal(json_string_value(json_object_get(b, "id")), "banner-1");
    assert_string_equal(json_string_value(json_object_get(b, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(b, "text")), "hello");
    assert_true(json_is_null(json_object_get(b, "starts_at")));
    assert_true(json_is_null(json_object_get(b, "ends_at")));
    b = json_array_get(out, 1);
    assert_string_equal(json_string_value(json_object_get(b, "id")), "mw");
    assert_string_equal(json_string_value(json_object_get(b, "level")), "critical");
    /* Times are normalised to UTC with milliseconds. */
    assert_string_equal(json_string_value(json_object_get(b, "starts_at")),
                        "2026-03-08T10:00:00.000Z");
    assert_true(json_is_null(json_object_get(b, "ends_at")));
    json_decref(in);
    json_decref(out);

    /* Empty list is fine; exactly 20 is fine; 21 is not. */
    in = json_array();
    out = na__config_check_banners(in, &err);
    assert_non_null(out);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
    for (int i = 0; i < 20; i++)
        json_array_append_new(in, json_pack("{s:s}", "text", "x"));
    out = na__config_check_banners(in, &err);
    assert_non_null(out);
    assert_int_equal(json_array_size(out), 20);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 19), "id")),
                        "banner-20");
    json_decref(out);
    json_array_append_new(in, json_pack("{s:s}", "text", "x"));
    na_error_clear(&err);
    assert_null(na__config_check_banners(in, &err));
    assert_non_null(strstr(err.message, "at most 20"));
    json_decref(in);

    expect_banners_error("[{\"level\": \"info\"}]", "banners[0].text");
    expect_banners_error("[{\"text\": \"\"}]", "banners[0].text");
    expect_banners_error("[{\"text\": 5}]", "banners[0].text");
    expect_banners_error("[{\"text\": \"a\"}, {\"text\": \"b\", \"level\": \"severe\"}]",
                         "banners[1].level");
    expect_banners_error("[{\"text\": \"a\", \"level\": 2}]", "banners[0].level");
    expect_banners_error("[{\"text\": \"a\", \"starts_at\": \"tomorrow\"}]",
                         "banners[0].starts_at");
    expect_banners_error("[{\"text\": \"a\", \"ends_at\": 1700000000}]", "banners[0].ends_at");
    expect_banners_error("[{\"text\": \"a\", \"id\": \"\"}]", "banners[0].id");
    expect_banners_error("[{\"text\": \"a\", \"colour\": \"red\"}]", "banners[0].colour");
    expect_banners_error("[\"just text\"]", "banners[0]");
    expect_banners_error("{\"text\": \"a\"}", "expected a list");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_empty_document),
        cmocka_unit_test(test_defaults_data_dir_from_env),
        cmocka_unit_test(test_bundled_default),
        cmocka_unit_test(test_full_document),
        cmocka_unit_test(test_relative_paths_without_base),
        cmocka_unit_test(test_load_from_file),
        cmocka_unit_test(test_error_unknown_keys),
        cmocka_unit_test(test_error_wrong_types),
        cmocka_unit_test(test_error_severity_and_rule_type),
        cmocka_unit_test(test_error_duration_listen_token),
        cmocka_unit_test(test_token_exactly_eight),
        cmocka_unit_test(test_error_yaml_syntax_position),
        cmocka_unit_test(test_error_alias_bomb),
        cmocka_unit_test(test_null_err),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_listen_forms),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_branding),
        cmocka_unit_test(test_banners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
