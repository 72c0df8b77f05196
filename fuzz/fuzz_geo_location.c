/*
 * fuzz_geo_location.c: the text geo.c reads from configuration and from agents: site subnets
 * (CIDR, IPv4 and IPv6), sysLocation ("[lat, lon]", bare pairs, site names) and management
 * addresses. Input lines: sysLocation, mgmt address, then up to 8 sites "name|subnet subnet...".
 * Checks: open fails with a message and no handle, or succeeds; a located result is
 * consistent (a source when anything is known, coordinates finite and in range, the site one of
 * the configured ones); the normalised sites open again and locate the same; coordinates read
 * from sysLocation read back the same when printed; IP canonical text is a fixed point.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snmp/snmp.h"

enum { MAX_LINES = 10, MAX_SITES = 8, MAX_NETS = 4 };

static bool same_result(const na_geo_result *x, const na_geo_result *y)
{
    if ((x->source == NULL) != (y->source == NULL) || (x->site == NULL) != (y->site == NULL))
        return false;
    if (x->source && strcmp(x->source, y->source) != 0)
        return false;
    if (x->site && strcmp(x->site, y->site) != 0)
        return false;
    return x->has_coords == y->has_coords &&
           (!x->has_coords || (x->latitude == y->latitude && x->longitude == y->longitude));
}

static void check_result(const na_geo *geo, const na_geo_result *r)
{
    static const char *const sources[] = {"config", "site:config", "subnet", "sysLocation",
                                          "sysLocation:site", "maxmind"};
    const na_geo_site *sites;
    size_t n, k;
    bool known = false;

    if (!r->source) {
        if (r->has_coords || r->site)
            abort();
        return;
    }
    for (k = 0; k < sizeof(sources) / sizeof(sources[0]); k++)
        known = known || strcmp(r->source, sources[k]) == 0;
    if (!known)
        abort();
    if (r->has_coords && (!isfinite(r->latitude) || !isfinite(r->longitude) ||
                          fabs(r->latitude) > 90.0 || fabs(r->longitude) > 180.0))
        abort();
    if (!r->site)
        return;
    sites = na__geo_sites(geo, &n);
    for (k = 0; k < n && sites[k].name != r->site; k++)
        ;
    if (k == n)
        abort(); /* no config_site is passed here: the site must be a configured one */
}

static void check_ip(const char *ip)
{
    char a[64], b[64];
    na_ip_scope s1, s2;

    if (!na__ip_canon(ip, a, sizeof(a), &s1)) {
        if (s1 != NA_IP_INVALID)
            abort();
        return;
    }
    if (!na__ip_canon(a, b, sizeof(b), &s2) || strcmp(a, b) != 0 || s1 != s2 ||
        s1 == NA_IP_INVALID)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *lines[MAX_LINES] = {0}, *p;
    const char *nets[MAX_SITES][MAX_NETS];
    na_geo_site sites[MAX_SITES];
    size_t n_lines = 0, n_sites = 0;
    na_geo *geo = NULL, *again = NULL, *plain = NULL;
    na_geo_result r, r2;
    na_error err;
    int rc;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (p = text; p && n_lines < MAX_LINES; n_lines++) {
        lines[n_lines] = p;
        if ((p = strchr(p, '\n')))
            *p++ = '\0';
    }
    memset(sites, 0, sizeof(sites));
    for (size_t l = 2; l < n_lines && n_sites < MAX_SITES; l++) {
        na_geo_site *s = &sites[n_sites];
        char *bar = strchr(lines[l], '|'), *save = NULL;
        s->name = lines[l];
        s->subnets = nets[n_sites];
        /* some sites with coordinates, derived from the index so they are always valid */
        s->has_coords = n_sites % 2 == 0;
        s->latitude = (double)n_sites * 10.0;
        s->longitude = -(double)n_sites * 20.0;
        if (bar) {
            *bar = '\0';
            for (char *t = strtok_r(bar + 1, " ", &save); t && s->n_subnets < MAX_NETS;
                 t = strtok_r(NULL, " ", &save))
                nets[n_sites][s->n_subnets++] = t;
        }
        n_sites++;
    }
    if (n_lines > 1)
        check_ip(lines[1]);

    na_error_clear(&err);
    rc = na__geo_open(sites, n_sites, NULL, &geo, &err);
    if (rc != NA_OK) {
        if (geo || !err.message[0] || err.code != rc)
            abort();
        goto out;
    }
    na__geo_locate(geo, NULL, NULL, n_lines > 1 ? lines[1] : NULL, lines[0], &r);
    check_result(geo, &r);

    /* the normalised sites are valid input and mean the same */
    {
        size_t n;
        const na_geo_site *norm = na__geo_sites(geo, &n);
        if (n != n_sites || na__geo_open(norm, n, NULL, &again, &err) != NA_OK)
            abort();
        na__geo_locate(again, NULL, NULL, n_lines > 1 ? lines[1] : NULL, lines[0], &r2);
        if (!same_result(&r, &r2))
            abort();
    }

    /* coordinates read from sysLocation survive printing and reading back */
    if (r.source && strcmp(r.source, "sysLocation") == 0) {
        char buf[96];
        if (na__geo_open(NULL, 0, NULL, &plain, &err) != NA_OK)
            abort();
        snprintf(buf, sizeof(buf), "[%.12f, %.12f]", r.latitude, r.longitude);
        na__geo_locate(plain, NULL, NULL, NULL, buf, &r2);
        if (!r2.has_coords || fabs(r2.latitude - r.latitude) > 1e-9 ||
            fabs(r2.longitude - r.longitude) > 1e-9)
            abort();
    }
out:
    na__geo_free(plain);
    na__geo_free(again);
    na__geo_free(geo);
    free(text);
    return 0;
}
