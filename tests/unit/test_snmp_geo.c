/*
 * test_snmp_geo.c: where a polled device is (snmp/geo.c): site validation and subnet
 * normalisation, configured site / coordinates, longest-prefix subnets (IPv4 and IPv6), the
 * sysLocation forms, MaxMind lookups checked against the test database's JSON source, broken
 * databases refused at open, and nothing invented when nothing matches.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "harness.h"
#include "snmp/snmp.h"

static na_geo *open_ok(const na_geo_site *sites, size_t n, const char *mmdb)
{
    na_geo *geo = NULL;
    na_error err;

    na_error_clear(&err);
    if (na__geo_open(sites, n, mmdb, &geo, &err) != NA_OK)
        fail_msg("na__geo_open: %s", err.message);
    assert_non_null(geo);
    return geo;
}

/* na__geo_open must fail with code and a message containing needle. */
static void open_fails(const na_geo_site *sites, size_t n, const char *mmdb, int code,
                       const char *needle)
{
    na_geo *geo = (na_geo *)&geo;
    na_error err;
    int rc;

    na_error_clear(&err);
    rc = na__geo_open(sites, n, mmdb, &geo, &err);
    if (rc != code || !strstr(err.message, needle))
        fail_msg("want %d with '%s', got %d: '%s'", code, needle, rc, err.message);
    assert_null(geo);
}

static void locate(const na_geo *geo, const char *csite, const double *ccoords, const char *ip,
                   const char *loc, na_geo_result *r)
{
    /* garbage first: locate must set every field */
    memset(r, 0x5a, sizeof(*r));
    na__geo_locate(geo, csite, ccoords, ip, loc, r);
}

static void assert_unknown(const na_geo_result *r)
{
    assert_null(r->source);
    assert_null(r->site);
    assert_false(r->has_coords);
    assert_string_equal(r->city, "");
    assert_string_equal(r->country, "");
}

static void assert_at(const na_geo_result *r, const char *source, const char *site, double lat,
                      double lon)
{
    if (!r->source || strcmp(r->source, source) != 0)
        fail_msg("source: want %s, got %s", source, r->source ? r->source : "NULL");
    if (site)
        assert_string_equal(r->site, site);
    else
        assert_null(r->site);
    assert_true(r->has_coords);
    test_assert_near(r->latitude, lat);
    test_assert_near(r->longitude, lon);
}

/* ---- sites ------------------------------------------------------------------------------------ */

static void test_sites_are_validated(void **state)
{
    (void)state;
    const char *ok_net[] = {"10.0.0.0/8"};
    na_geo_site s[2];

    memset(s, 0, sizeof(s));
    s[0].name = "AMS";
    s[1].name = "ams"; /* names are compared ignoring case, like sysLocation */
    open_fails(s, 2, NULL, NA_EINVAL, "defined twice");
    s[1].name = "  ";
    open_fails(s, 2, NULL, NA_EINVAL, "no name");
    s[1].name = NULL;
    open_fails(s, 2, NULL, NA_EINVAL, "no name");

    s[1].name = "fra";
    s[1].has_coords = true;
    s[1].latitude = 91.0;
    open_fails(s, 2, NULL, NA_EINVAL, "out of range");
    s[1].latitude = 50.0;
    s[1].longitude = NAN;
    open_fails(s, 2, NULL, NA_EINVAL, "out of range");
    s[1].longitude = 8.0;

    const char *bad[] = {"10.0.0.0/33", "10.0.0/8", "2001:db8::/129", "foo", "10.0.0.0/",
                         "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.0/0008", "", "fe80::/10%eth0",
                         "fe80::1%eth0/64", "10.0.0.0 /8"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        const char *one[] = {bad[k]};
        s[1].subnets = one;
        s[1].n_subnets = 1;
        open_fails(s, 2, NULL, NA_EINVAL, "subnet");
    }
    /* one subnet in two sites: which site a device is in would depend on the order */
    s[0].subnets = ok_net;
    s[0].n_subnets = 1;
    const char *same[] = {"10.9.9.9/8"};
    s[1].subnets = same;
    open_fails(s, 2, NULL, NA_EINVAL, "in both site");
}

static void test_sites_are_copied_and_normalised(void **state)
{
    (void)state;
    char name[] = "Amsterdam DC2", addr[] = "Science Park 1";
    char n1[] = "10.1.2.3/16", n2[] = "2001:db8:0:0::1/32", n3[] = "192.0.2.7";
    const char *nets[] = {n1, n2, n3};
    na_geo_site s = {.name = name, .address = addr, .has_coords = true, .latitude = 52.37,
                     .longitude = 4.89, .subnets = nets, .n_subnets = 3};
    na_geo *geo = open_ok(&s, 1, NULL);
    const na_geo_site *got;
    size_t n;
    na_geo_result r;

    /* the caller's strings may go away */
    memset(name, 'x', sizeof(name) - 1);
    memset(addr, 'x', sizeof(addr) - 1);
    memset(n1, '9', sizeof(n1) - 1);
    got = na__geo_sites(geo, &n);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].name, "Amsterdam DC2");
    assert_string_equal(got[0].address, "Science Park 1");
    assert_int_equal(got[0].n_subnets, 3);
    assert_string_equal(got[0].subnets[0], "10.1.0.0/16");
    assert_string_equal(got[0].subnets[1], "2001:db8::/32");
    assert_string_equal(got[0].subnets[2], "192.0.2.7/32"); /* a bare address: a host route */
    locate(geo, NULL, NULL, "10.1.200.1", NULL, &r);
    assert_at(&r, "subnet", "Amsterdam DC2", 52.37, 4.89);
    locate(geo, NULL, NULL, "192.0.2.8", NULL, &r);
    assert_unknown(&r);
    na__geo_free(geo);
}

static void test_subnet_longest_prefix_wins(void **state)
{
    (void)state;
    const char *dc[] = {"10.0.0.0/8", "2001:db8::/32"};
    const char *ams[] = {"10.1.0.0/16"};
    const char *rack[] = {"10.1.2.0/24", "2001:db8:1::/48"};
    const char *all[] = {"0.0.0.0/0"};
    na_geo_site s[4] = {
        {.name = "dc", .has_coords = true, .latitude = 1, .longitude = 2, .subnets = dc,
         .n_subnets = 2},
        {.name = "ams", .has_coords = true, .latitude = 52.37, .longitude = 4.89, .subnets = ams,
         .n_subnets = 1},
        {.name = "ams-rack7", .subnets = rack, .n_subnets = 2}, /* no coordinates */
        {.name = "world", .has_coords = true, .latitude = 0, .longitude = 0, .subnets = all,
         .n_subnets = 1},
    };
    na_geo *geo = open_ok(s, 4, NULL);
    na_geo_result r;

    locate(geo, NULL, NULL, "10.1.9.9", NULL, &r);
    assert_at(&r, "subnet", "ams", 52.37, 4.89);
    locate(geo, NULL, NULL, "10.200.0.1", NULL, &r);
    assert_at(&r, "subnet", "dc", 1, 2);
    locate(geo, NULL, NULL, "::ffff:10.1.9.9", NULL, &r); /* IPv4-mapped is the IPv4 address */
    assert_at(&r, "subnet", "ams", 52.37, 4.89);
    locate(geo, NULL, NULL, "172.16.0.1", NULL, &r);
    assert_at(&r, "subnet", "world", 0, 0);
    /* a site without coordinates: the site, no coordinates, and no later step adds any */
    locate(geo, NULL, NULL, "10.1.2.3", "[52.0, 5.0]", &r);
    assert_string_equal(r.source, "subnet");
    assert_string_equal(r.site, "ams-rack7");
    assert_false(r.has_coords);
    locate(geo, NULL, NULL, "2001:db8:1:ffff::5", NULL, &r);
    assert_string_equal(r.site, "ams-rack7");
    locate(geo, NULL, NULL, "2001:db8:2::5", NULL, &r);
    assert_at(&r, "subnet", "dc", 1, 2);
    locate(geo, NULL, NULL, "2001:db9::1", NULL, &r); /* IPv6 never matches 0.0.0.0/0 */
    assert_unknown(&r);
    locate(geo, NULL, NULL, "fe80::1%eth0", NULL, &r);
    assert_unknown(&r);
    locate(geo, NULL, NULL, "not-an-ip", NULL, &r);
    assert_unknown(&r);
    na__geo_free(geo);
}

static void test_config_site_and_coordinates_come_first(void **state)
{
    (void)state;
    const char *ams[] = {"10.1.0.0/16"};
    na_geo_site s[2] = {
        {.name = "ams", .has_coords = true, .latitude = 52.37, .longitude = 4.89, .subnets = ams,
         .n_subnets = 1},
        {.name = "lab"},
    };
    na_geo *geo = open_ok(s, 2, NULL);
    const double here[2] = {48.85, 2.35}, bad[2] = {95.0, 2.35};
    na_geo_result r;

    locate(geo, "AMS", NULL, "192.168.1.1", "[1, 1]", &r);
    assert_at(&r, "site:config", "ams", 52.37, 4.89);
    locate(geo, "ams", here, "10.1.1.1", NULL, &r);
    assert_at(&r, "config", "ams", 48.85, 2.35);
    locate(geo, NULL, here, "10.1.1.1", NULL, &r);
    assert_at(&r, "config", NULL, 48.85, 2.35);
    /* a configured site without coordinates: no later step adds coordinates */
    locate(geo, "lab", NULL, "10.1.1.1", "[1, 1]", &r);
    assert_string_equal(r.source, "site:config");
    assert_string_equal(r.site, "lab");
    assert_false(r.has_coords);
    /* a name no site has: still the device's site, as the operator wrote it */
    const char *typo = "amsterdm";
    locate(geo, typo, NULL, "10.1.1.1", NULL, &r);
    assert_string_equal(r.source, "site:config");
    assert_ptr_equal(r.site, typo);
    assert_false(r.has_coords);
    locate(geo, typo, here, NULL, NULL, &r);
    assert_at(&r, "config", "amsterdm", 48.85, 2.35);
    /* out-of-range configured coordinates are ignored */
    locate(geo, NULL, bad, "10.1.1.1", NULL, &r);
    assert_at(&r, "subnet", "ams", 52.37, 4.89);
    locate(geo, "", NULL, "10.1.1.1", NULL, &r);
    assert_at(&r, "subnet", "ams", 52.37, 4.89);
    na__geo_free(geo);
}

static void test_syslocation_coordinates(void **state)
{
    (void)state;
    na_geo *geo = open_ok(NULL, 0, NULL);
    na_geo_result r;
    static const struct {
        const char *loc;
        double lat, lon;
    } good[] = {
        {"Amsterdam DC2 [52.37, 4.89]", 52.37, 4.89},
        {"[52.37,4.89] Amsterdam", 52.37, 4.89},
        {"rack 4 [ -33.8688 ,151.2093 ] row 2", -33.8688, 151.2093},
        {"52.37, 4.89", 52.37, 4.89},
        {"  -90,-180\n", -90, -180},
        {"+45.5, +7", 45.5, 7},
        {"x [200, 1] y [10, 20]", 10, 20}, /* the first valid bracket pair */
        {"[0, 0]", 0, 0},
        {"[12.345678901234, -0.5]", 12.345678901234, -0.5},
    };
    static const char *const bad[] = {
        "[91, 0]", "[0, 181]", "91, 0", "Rack 12, 4 Amsterdam", "[52.37; 4.89]", "[abc, def]",
        "[1e1, 2]", "[0x10, 2]", "[nan, 1]", "[inf, 1]", "[52.37, 4.89", "52.37 4.89", "[52., 4]",
        "[.5, 4]", "[1000, 1]", "[52.37, 4.89, 3]", "52.37, 4.89 Amsterdam", "", "   ", "[",
        "[-, 1]", "[1.0000000000001, 1]", "Sitting on the Dock of the Bay",
    };

    for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
        locate(geo, NULL, NULL, NULL, good[k].loc, &r);
        if (!r.has_coords)
            fail_msg("'%s' gave no coordinates", good[k].loc);
        assert_string_equal(r.source, "sysLocation");
        /* exact: parsed as integer / power of ten, the double nearest the decimal */
        assert_true(r.latitude == good[k].lat);
        assert_true(r.longitude == good[k].lon);
    }
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        locate(geo, NULL, NULL, NULL, bad[k], &r);
        if (r.has_coords || r.source)
            fail_msg("'%s' gave %s %g, %g", bad[k], r.source ? r.source : "-", r.latitude,
                     r.longitude);
        assert_unknown(&r);
    }
    na__geo_free(geo);
}

static void test_syslocation_names_a_site(void **state)
{
    (void)state;
    na_geo_site s[6] = {
        {.name = "Amsterdam", .has_coords = true, .latitude = 52.37, .longitude = 4.89},
        {.name = "Amsterdam DC2", .has_coords = true, .latitude = 52.35, .longitude = 4.95},
        {.name = "Rotterdam", .has_coords = true, .latitude = 51.92, .longitude = 4.48},
        {.name = "Delft", .has_coords = true, .latitude = 52.01, .longitude = 4.36},
        {.name = "Leiden"}, /* no coordinates */
        {.name = "Breda", .has_coords = true, .latitude = 51.59, .longitude = 4.78},
    };
    na_geo *geo = open_ok(s, 6, NULL);
    na_geo_result r;

    locate(geo, NULL, NULL, NULL, "  amsterdam ", &r);
    assert_at(&r, "sysLocation:site", "Amsterdam", 52.37, 4.89);
    locate(geo, NULL, NULL, NULL, "Room 4, AMSTERDAM DC2, NL", &r);
    assert_at(&r, "sysLocation:site", "Amsterdam DC2", 52.35, 4.95); /* longest name */
    locate(geo, NULL, NULL, NULL, "cage 3 (amsterdam)", &r);
    assert_at(&r, "sysLocation:site", "Amsterdam", 52.37, 4.89);
    locate(geo, NULL, NULL, NULL, "AmsterdamX", &r); /* not a whole word */
    assert_unknown(&r);
    locate(geo, NULL, NULL, NULL, "NewAmsterdam", &r);
    assert_unknown(&r);
    /* two sites named, same length: which one is unknown, so neither */
    locate(geo, NULL, NULL, NULL, "Delft/Breda link", &r);
    assert_unknown(&r);
    locate(geo, NULL, NULL, NULL, "Delft/Leiden link", &r); /* the longer name */
    assert_string_equal(r.site, "Leiden");
    locate(geo, NULL, NULL, NULL, "Leiden", &r);
    assert_string_equal(r.source, "sysLocation:site");
    assert_string_equal(r.site, "Leiden");
    assert_false(r.has_coords);
    /* coordinates written in the string win; the site it names is kept as the site */
    locate(geo, NULL, NULL, NULL, "Rotterdam [51.9, 4.5]", &r);
    assert_at(&r, "sysLocation", "Rotterdam", 51.9, 4.5);
    locate(geo, NULL, NULL, NULL, "somewhere [51.9, 4.5]", &r);
    assert_at(&r, "sysLocation", NULL, 51.9, 4.5);
    na__geo_free(geo);
}

static void test_address_scopes(void **state)
{
    (void)state;
    static const struct {
        const char *ip, *canon;
        na_ip_scope scope;
    } cases[] = {
        {"10.1.2.3", "10.1.2.3", NA_IP_PRIVATE},
        {"172.31.255.255", "172.31.255.255", NA_IP_PRIVATE},
        {"172.32.0.1", "172.32.0.1", NA_IP_PUBLIC},
        {"192.168.0.1", "192.168.0.1", NA_IP_PRIVATE},
        {"100.64.0.1", "100.64.0.1", NA_IP_PRIVATE},
        {"100.128.0.1", "100.128.0.1", NA_IP_PUBLIC},
        {"127.0.0.1", "127.0.0.1", NA_IP_LOCAL},
        {"169.254.1.1", "169.254.1.1", NA_IP_LOCAL},
        {"224.0.0.5", "224.0.0.5", NA_IP_LOCAL},
        {"0.0.0.0", "0.0.0.0", NA_IP_LOCAL},
        {"255.255.255.255", "255.255.255.255", NA_IP_LOCAL},
        {"81.2.69.142", "81.2.69.142", NA_IP_PUBLIC},
        {"::ffff:192.168.1.1", "192.168.1.1", NA_IP_PRIVATE},
        {"::1", "::1", NA_IP_LOCAL},
        {"::", "::", NA_IP_LOCAL},
        {"FE80::1%eth0", "fe80::1", NA_IP_LOCAL},
        {"fd00:1::1", "fd00:1::1", NA_IP_PRIVATE},
        {"ff02::1", "ff02::1", NA_IP_LOCAL},
        {"2001:0218:0000::1", "2001:218::1", NA_IP_PUBLIC},
        /* IPv4-compatible (deprecated; some agents encode IPv4 so): the IPv4 address */
        {"::169.254.2.140", "169.254.2.140", NA_IP_LOCAL},
        {"::2", "::2", NA_IP_PUBLIC},
    };
    char buf[64];
    na_ip_scope scope;

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const char *got = na__ip_canon(cases[k].ip, buf, sizeof(buf), &scope);
        if (!got || strcmp(got, cases[k].canon) != 0 || scope != cases[k].scope)
            fail_msg("%s: want %s/%d, got %s/%d", cases[k].ip, cases[k].canon, cases[k].scope,
                     got ? got : "NULL", scope);
    }
    assert_null(na__ip_canon("10.1.2", buf, sizeof(buf), &scope));
    assert_int_equal(scope, NA_IP_INVALID);
    assert_null(na__ip_canon("sw1.example.net", buf, sizeof(buf), NULL));
    assert_null(na__ip_canon(NULL, buf, sizeof(buf), NULL));
}

/* ---- MaxMind ---------------------------------------------------------------------------------- */

static const char *mmdb_file(const char *name, char *buf, size_t len)
{
    char sub[128];
    snprintf(sub, sizeof(sub), "maxmind/%s", name);
    if (!test_shared_data(sub, buf, len))
        test_skip("shared MaxMind test databases absent (NETASSURE_SHARED_DATA/maxmind)");
    return buf;
}

/* The JSON source's record for one network key ("::81.2.69.142/127"). */
static json_t *json_network(json_t *root, const char *network)
{
    size_t i;
    json_t *entry;

    json_array_foreach(root, i, entry) {
        json_t *v = json_object_get(entry, network);
        if (v)
            return v;
    }
    fail_msg("network %s is not in GeoIP2-City-Test.json", network);
    return NULL;
}

static const char *json_str(json_t *v, const char *a, const char *b, const char *c)
{
    json_t *x = json_object_get(v, a);
    x = x && b ? json_object_get(x, b) : x;
    x = x && c ? json_object_get(x, c) : x;
    return json_is_string(x) ? json_string_value(x) : "";
}

static void test_maxmind_matches_its_json_source(void **state)
{
    (void)state;
    /* network in the JSON, an address inside it */
    static const struct {
        const char *network, *ip;
    } picks[] = {
        {"::81.2.69.142/127", "81.2.69.143"},
        {"::2.125.160.216/125", "2.125.160.217"},
        {"::216.160.83.56/125", "216.160.83.60"},
        {"::89.160.20.112/124", "89.160.20.120"},
        {"::175.16.199.0/120", "175.16.199.255"},
        {"::149.101.100.0/124", "149.101.100.1"}, /* country, no city */
        {"2001:218::/32", "2001:218:ffff::1"},
        {"2a02:d180::/29", "2a02:d180::1"},
    };
    char path[512], jpath[512];
    const char *sites_net[] = {"81.2.69.0/24"};
    na_geo_site site = {.name = "london-office", .subnets = sites_net, .n_subnets = 1};
    json_error_t jerr;
    json_t *root;
    na_geo *geo;
    na_geo_result r;

    mmdb_file("GeoIP2-City-Test.mmdb", path, sizeof(path));
    mmdb_file("GeoIP2-City-Test.json", jpath, sizeof(jpath));
    root = json_load_file(jpath, 0, &jerr);
    if (!root)
        fail_msg("%s: %s", jpath, jerr.text);
    geo = open_ok(NULL, 0, path);
    for (size_t k = 0; k < sizeof(picks) / sizeof(picks[0]); k++) {
        json_t *rec = json_network(root, picks[k].network);
        json_t *loc = json_object_get(rec, "location");

        locate(geo, NULL, NULL, picks[k].ip, "no place named here", &r);
        assert_non_null(loc);
        if (!r.has_coords)
            fail_msg("%s gave no coordinates", picks[k].ip);
        assert_string_equal(r.source, "maxmind");
        assert_null(r.site);
        test_assert_near(r.latitude, json_number_value(json_object_get(loc, "latitude")));
        test_assert_near(r.longitude, json_number_value(json_object_get(loc, "longitude")));
        assert_string_equal(r.city, json_str(rec, "city", "names", "en"));
        assert_string_equal(r.country, json_str(rec, "country", "iso_code", NULL));
    }
    /* records without a location: found, but no coordinates and no source */
    assert_null(json_object_get(json_network(root, "214.1.1.0/24"), "location"));
    locate(geo, NULL, NULL, "214.1.1.1", NULL, &r);
    assert_null(r.source);
    assert_false(r.has_coords);
    locate(geo, NULL, NULL, "2.3.3.1", NULL, &r);
    assert_null(r.source);
    /* addresses the database does not hold */
    locate(geo, NULL, NULL, "1.1.1.1", NULL, &r);
    assert_unknown(&r);
    /* private, loopback, link-local, CGNAT, ULA: never looked up */
    static const char *const priv[] = {"10.0.0.1", "192.168.1.1", "172.16.5.5", "127.0.0.1",
                                       "169.254.3.3", "100.64.1.1", "fd00::1", "fe80::1", "::1",
                                       "::ffff:10.0.0.1"};
    for (size_t k = 0; k < sizeof(priv) / sizeof(priv[0]); k++) {
        locate(geo, NULL, NULL, priv[k], NULL, &r);
        assert_unknown(&r);
    }
    /* the earlier steps win over MaxMind */
    na__geo_free(geo);
    geo = open_ok(&site, 1, path);
    locate(geo, NULL, NULL, "81.2.69.142", NULL, &r);
    assert_string_equal(r.source, "subnet");
    assert_string_equal(r.site, "london-office");
    assert_false(r.has_coords);
    locate(geo, NULL, NULL, "2.125.160.216", "[10, 10]", &r);
    assert_at(&r, "sysLocation", NULL, 10, 10);
    na__geo_free(geo);
    json_decref(root);
}

static void test_broken_databases_are_refused(void **state)
{
    (void)state;
    char path[512];

    mmdb_file("GeoIP2-City-Test-Broken-Double-Format.mmdb", path, sizeof(path));
    open_fails(NULL, 0, path, NA_EPARSE, "GeoIP2-City-Test-Broken-Double-Format.mmdb: data record");
    mmdb_file("MaxMind-DB-test-broken-search-tree-24.mmdb", path, sizeof(path));
    open_fails(NULL, 0, path, NA_EPARSE, "broken-search-tree-24.mmdb: search tree");
    mmdb_file("GeoIP2-City-Test.json", path, sizeof(path));
    open_fails(NULL, 0, path, NA_EPARSE, "GeoIP2-City-Test.json: cannot open MaxMind");
    mmdb_file("GeoLite2-ASN-Test.mmdb", path, sizeof(path));
    open_fails(NULL, 0, path, NA_EINVAL, "GeoLite2-ASN");
    open_fails(NULL, 0, "/nonexistent/City.mmdb", NA_EIO, "/nonexistent/City.mmdb");
    /* the good ones open */
    mmdb_file("GeoLite2-City-Test.mmdb", path, sizeof(path));
    na__geo_free(open_ok(NULL, 0, path));
}

static void test_unknown_stays_unknown(void **state)
{
    (void)state;
    const char *nets[] = {"10.0.0.0/8"};
    na_geo_site s = {.name = "Dock", .subnets = nets, .n_subnets = 1};
    na_geo *geo = open_ok(&s, 1, NULL);
    na_geo_result r;

    locate(geo, NULL, NULL, NULL, NULL, &r);
    assert_unknown(&r);
    locate(geo, NULL, NULL, "192.0.2.1", "Sitting on the Dockside of the Bay", &r);
    assert_unknown(&r);
    /* a public address without a database: nothing */
    locate(geo, NULL, NULL, "81.2.69.142", "", &r);
    assert_unknown(&r);
    na__geo_free(geo);
    /* no geo at all (nothing configured): sysLocation still works, nothing else is made up */
    locate(NULL, NULL, NULL, "10.1.1.1", "Dock", &r);
    assert_unknown(&r);
    locate(NULL, NULL, NULL, "10.1.1.1", "[1.5, 2.5]", &r);
    assert_at(&r, "sysLocation", NULL, 1.5, 2.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sites_are_validated),
        cmocka_unit_test(test_sites_are_copied_and_normalised),
        cmocka_unit_test(test_subnet_longest_prefix_wins),
        cmocka_unit_test(test_config_site_and_coordinates_come_first),
        cmocka_unit_test(test_syslocation_coordinates),
        cmocka_unit_test(test_syslocation_names_a_site),
        cmocka_unit_test(test_address_scopes),
        cmocka_unit_test(test_maxmind_matches_its_json_source),
        cmocka_unit_test(test_broken_databases_are_refused),
        cmocka_unit_test(test_unknown_stays_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
