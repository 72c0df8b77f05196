/*
 * test_snmp_mib.c: interpretation of SNMP stores (snmp/mib.c) and the device JSON.
 *
 * The 21 real recordings are held to what LibreNMS found in them (shared data, checked the way
 * tools/snmp-vs-librenms checks a live poll: through the JSON object); small hand-written
 * fixtures in tests/fixtures/snmp/ pin the exact interpretation of each quirk.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "snmp/snmp.h"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = 0;
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static na_snmp_store *load_store(const char *path)
{
    na_snmp_store *st = NULL;
    na_error err;
    size_t len = 0;
    char *text = read_file(path, &len);

    if (!text)
        fail_msg("cannot read %s", path);
    assert_int_equal(na__snmp_store_new(&st, &err), 0);
    assert_int_equal(na__snmprec_load(text, len, st, NULL, &err), 0);
    free(text);
    return st;
}

static na_snmp_device *interpret(const na_snmp_store *st, const char *target)
{
    na_snmp_device *dev = NULL;
    na_error err;

    assert_int_equal(na__snmp_device_new(&dev, &err), 0);
    if (na__snmp_interpret(st, NULL, target, dev, &err) != 0)
        fail_msg("interpret %s: %s", target, err.message);
    return dev;
}

static na_snmp_device *interpret_file(const char *path, const char *target)
{
    na_snmp_store *st = load_store(path);
    na_snmp_device *dev = interpret(st, target);

    na__snmp_store_free(st);
    return dev;
}

/* ---- the real recordings against LibreNMS ---------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Text without surrounding whitespace, as Python's str.strip() (the checker's comparison). */
static bool same_stripped(const char *a, const char *b)
{
    size_t al, bl;

    a = a ? a : "";
    b = b ? b : "";
    while (*a == ' ' || *a == '\t' || *a == '\n' || *a == '\r')
        a++;
    while (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')
        b++;
    al = strlen(a);
    bl = strlen(b);
    while (al && strchr(" \t\r\n", a[al - 1]))
        al--;
    while (bl && strchr(" \t\r\n", b[bl - 1]))
        bl--;
    return al == bl && memcmp(a, b, al) == 0;
}

/* Rows of lldpRemTable that carry anything (a chassis id, port id, name or description). */
static size_t lldp_rows_in_store(const na_snmp_store *st)
{
    static const uint32_t rem[] = {1, 0, 8802, 1, 1, 2, 1, 4, 1, 1};
    size_t first, n = na__snmp_store_subtree(st, rem, 10, &first), rows = 0;
    const uint32_t **seen = calloc(n ? n : 1, sizeof(*seen));
    uint32_t *seen_len = calloc(n ? n : 1, sizeof(*seen_len));

    assert_non_null(seen);
    assert_non_null(seen_len);
    for (size_t k = first; k < first + n; k++) {
        const na_snmp_vb *vb = &st->vbs[k];
        uint32_t col = vb->oid[10];
        bool dup = false;
        if (vb->oid_len < 12 || (col != 5 && col != 7 && col != 9 && col != 10) ||
            vb->type != NA_SNMP_OCTETS || vb->len == 0)
            continue;
        for (size_t j = 0; j < rows && !dup; j++)
            dup = seen_len[j] == vb->oid_len - 11 &&
                  memcmp(seen[j], vb->oid + 11, seen_len[j] * sizeof(uint32_t)) == 0;
        if (!dup) {
            seen[rows] = vb->oid + 11;
            seen_len[rows++] = vb->oid_len - 11;
        }
    }
    free(seen);
    free(seen_len);
    return rows;
}

static void test_recordings_match_librenms(void **state)
{
    char dir[1024], path[1400];
    DIR *d;
    struct dirent *e;
    char *names[64];
    size_t n = 0, exact = 0, ports_ok = 0, ports_all = 0, links_ok = 0, links_all = 0;
    bool lldp_counts_ok = true;

    (void)state;
    if (!test_shared_data("snmprec", dir, sizeof(dir))) {
        printf("SKIP: shared data snmprec/ absent (the whole program exits 77)\n");
        skip();
    }
    assert_non_null(d = opendir(dir));
    while ((e = readdir(d)) && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 8 && strcmp(e->d_name + l - 8, ".snmprec") == 0)
            names[n++] = strndup(e->d_name, l - 8);
    }
    closedir(d);
    assert_int_equal(n, 21);
    qsort(names, n, sizeof(*names), name_cmp);

    printf("%-32s %9s %9s %6s\n", "recording", "ports", "links", "lldp");
    for (size_t k = 0; k < n; k++) {
        na_snmp_store *st;
        na_snmp_device *dev;
        json_t *exp, *got, *gports, *gnbs, *v;
        json_error_t jerr;
        size_t pk = 0, lk = 0, i, np, nl, want_rows = 0, have_rows = 0;
        char lldp[24] = "-";

        snprintf(path, sizeof(path), "%s/%s.snmprec", dir, names[k]);
        st = load_store(path);
        dev = interpret(st, names[k]);
        snprintf(path, sizeof(path), "%s/expected/%s.json", dir, names[k]);
        if (!(exp = json_load_file(path, 0, &jerr)))
            fail_msg("%s: %s", path, jerr.text);
        assert_non_null(got = na__snmp_device_json(dev));
        gports = json_object_get(got, "ports");
        gnbs = json_object_get(got, "neighbors");

        np = json_array_size(json_object_get(exp, "ports"));
        json_array_foreach(json_object_get(exp, "ports"), i, v) {
            json_int_t idx = json_integer_value(json_object_get(v, "ifIndex"));
            const json_t *gp = NULL, *x;
            size_t j;
            bool good;
            json_array_foreach(gports, j, x)
                if (json_integer_value(json_object_get(x, "ifIndex")) == idx)
                    gp = x;
            good = gp && same(jstr(gp, "ifOperStatus"), jstr(v, "ifOperStatus")) &&
                   same(jstr(gp, "ifAdminStatus"), jstr(v, "ifAdminStatus")) &&
                   (json_is_null(json_object_get(v, "ifName")) ||
                    same(jstr(v, "ifName"), jstr(gp, "ifName")) ||
                    same(jstr(v, "ifName"), jstr(gp, "ifDescr")));
            if (!good)
                printf("  %s: port %lld (%s admin %s oper %s) -> %s\n", names[k], (long long)idx,
                       jstr(v, "ifName"), jstr(v, "ifAdminStatus"), jstr(v, "ifOperStatus"),
                       gp ? json_dumps(gp, JSON_COMPACT) : "missing");
            pk += good;
        }
        nl = json_array_size(json_object_get(exp, "links"));
        json_array_foreach(json_object_get(exp, "links"), i, v) {
            const json_t *x;
            size_t j;
            bool good = false;
            json_array_foreach(gnbs, j, x) {
                const char *ln = jstr(x, "local_ifName");
                if ((same(ln, jstr(v, "local_ifName")) || same(ln, jstr(v, "local_ifDescr"))) &&
                    same_stripped(jstr(x, "remote_sysname"), jstr(v, "remote_hostname")))
                    good = true;
            }
            if (!good)
                printf("  %s: link %s -> %s missing\n", names[k], jstr(v, "local_ifName"),
                       jstr(v, "remote_hostname"));
            lk += good;
        }
        /* LLDP rows LibreNMS did not turn into links must still be found */
        if (nl == 0) {
            want_rows = lldp_rows_in_store(st);
            for (i = 0; i < dev->n_neighbors; i++)
                have_rows += strcmp(dev->neighbors[i].protocol, "lldp") == 0;
            snprintf(lldp, sizeof(lldp), "%zu/%zu", have_rows, want_rows);
            if (have_rows != want_rows)
                lldp_counts_ok = false;
            for (i = 0; i < dev->n_neighbors; i++)
                if (dev->neighbors[i].local_if_index < 0) {
                    printf("  %s: neighbour %s has no local port\n", names[k],
                           dev->neighbors[i].remote_sysname);
                    lldp_counts_ok = false;
                }
        }
        printf("%-32s %4zu/%-4zu %4zu/%-4zu %6s%s\n", names[k], pk, np, lk, nl, lldp,
               pk == np && lk == nl ? "" : "   MISMATCH");
        exact += pk == np && lk == nl;
        ports_ok += pk;
        ports_all += np;
        links_ok += lk;
        links_all += nl;
        json_decref(exp);
        json_decref(got);
        na__snmp_device_free(dev);
        na__snmp_store_free(st);
        free(names[k]);
    }
    printf("devices %zu/%zu exact; ports %zu/%zu; links %zu/%zu\n", exact, n, ports_ok,
           ports_all, links_ok, links_all);
    assert_int_equal(exact, n);
    assert_true(lldp_counts_ok);
}

/* ---- hand-written fixtures: exact interpretation --------------------------------------------- */

static na_snmp_device *fixture(const char *name)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/tests/fixtures/snmp/%s", test_source_dir(), name);
    return interpret_file(path, "192.0.2.1:1161");
}

static void assert_str(const char *got, const char *want)
{
    if (!want) {
        if (got)
            fail_msg("expected NULL, got \"%s\"", got);
        return;
    }
    if (!got || strcmp(got, want) != 0)
        fail_msg("expected \"%s\", got %s%s%s", want, got ? "\"" : "", got ? got : "NULL",
                 got ? "\"" : "");
}

static void assert_problems(const na_snmp_device *dev, const char *const *want, size_t n)
{
    for (size_t k = 0; k < dev->n_problems; k++)
        printf("  problem: %s\n", dev->problems[k]);
    assert_int_equal(dev->n_problems, n);
    for (size_t k = 0; k < n; k++)
        assert_str(dev->problems[k], want[k]);
}

static void assert_mac(const uint8_t *got, const char *want)
{
    char buf[18];

    snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", got[0], got[1], got[2], got[3],
             got[4], got[5]);
    assert_str(buf, want);
}

static void test_ports_wrong_types_and_inconsistent_rows(void **state)
{
    na_snmp_device *dev = fixture("ports_quirks.snmprec");
    const na_snmp_port *p;
    static const char *const problems[] = {
        "ifTable/ifXTable: 1 entry with a malformed index skipped",
        "ifAdminStatus: 1 value out of range (first 9)",
        "ifOperStatus: 2 values of wrong type (OCTET STRING)",
        "ifAlias: 1 value of wrong type (INTEGER)",
        "ifIndex: 1 row whose ifIndex value differs from the index (first: 7)",
    };

    (void)state;
    assert_true(dev->reachable);
    assert_null(dev->reason);
    assert_str(dev->mgmt_ip, "192.0.2.1");
    assert_str(dev->sys.object_id, "1.3.6.1.4.1.9.1.1");
    assert_true(dev->sys.has_uptime);
    assert_int_equal(dev->sys.uptime, 123456);
    assert_problems(dev, problems, 5);

    /* rows from either table, sorted; the ifXTable-only row 10 is a port too */
    assert_int_equal(dev->n_ports, 5);
    assert_int_equal(dev->ports[0].if_index, 1);
    assert_int_equal(dev->ports[1].if_index, 2);
    assert_int_equal(dev->ports[2].if_index, 3);
    assert_int_equal(dev->ports[3].if_index, 10);
    assert_int_equal(dev->ports[4].if_index, 99);

    p = &dev->ports[0];
    assert_str(p->name, "Gi0/1");
    assert_str(p->descr, "GigabitEthernet0/1");
    assert_str(p->alias, "K\xc3\xbcro"); /* Latin-1 0xfc read as U+00FC */
    assert_int_equal(p->if_type, 6);
    assert_int_equal(p->mtu, 1500);
    assert_int_equal(p->speed_bps, 1000000000ull);
    assert_true(p->has_mac);
    assert_mac(p->mac, "00:11:22:33:44:01");
    assert_int_equal(p->admin_status, NA_IF_UP);
    assert_int_equal(p->oper_status, NA_IF_UP);
    assert_true(p->has_octets);
    assert_true(p->counters_64);
    assert_int_equal(p->in_octets, 123456789012ull);
    assert_int_equal(p->out_octets, 223456789012ull);
    assert_int_equal(p->in_ucast, 1000);
    assert_int_equal(p->out_ucast, 2000);
    assert_false(p->has_errors);

    p = &dev->ports[1]; /* ifHighSpeed beats the saturated ifSpeed; bad oper / alias skipped */
    assert_int_equal(p->speed_bps, 25000000000ull);
    assert_int_equal(p->oper_status, 0);
    assert_null(p->alias);
    assert_int_equal(p->mtu, -1);
    assert_false(p->has_octets);

    p = &dev->ports[2]; /* same description as port 2, index mismatch: still read */
    assert_str(p->descr, "GigabitEthernet0/2");
    assert_null(p->name);
    assert_false(p->has_mac); /* 5-byte ifPhysAddress */
    assert_int_equal(p->admin_status, NA_IF_DOWN);
    assert_int_equal(p->last_change, 4400);
    assert_int_equal(p->speed_bps, 100000000ull);
    assert_true(p->has_octets);
    assert_false(p->counters_64);
    assert_int_equal(p->in_octets, 4000);
    assert_int_equal(p->out_octets, 5000);
    assert_int_equal(p->in_ucast, 40);
    assert_int_equal(p->out_ucast, 50);
    assert_true(p->has_errors);
    assert_int_equal(p->in_errors, 3);
    assert_int_equal(p->out_errors, 4);
    assert_int_equal(p->in_discards, 1);
    assert_int_equal(p->out_discards, 2);

    p = &dev->ports[3];
    assert_str(p->name, "Vlan10");
    assert_null(p->descr);
    assert_int_equal(p->admin_status, 0);

    p = &dev->ports[4];
    assert_int_equal(p->admin_status, 0); /* 9 is out of range */
    assert_int_equal(p->oper_status, NA_IF_LOWERLAYERDOWN);
    na__snmp_device_free(dev);
}

static void test_neighbors_lldp_cdp_and_addresses(void **state)
{
    na_snmp_device *dev = fixture("neighbors.snmprec");
    const na_snmp_neighbor *n;

    (void)state;
    assert_int_equal(dev->n_problems, 0);
    assert_int_equal(dev->sys.chassis_subtype, 4);
    assert_str(dev->sys.chassis_id, "0a:0b:0c:0d:0e:0f");
    assert_non_null(dev->sys.chassis_mac);
    assert_int_equal(dev->n_neighbors, 3);

    /* local port 2: lldpLocPortId is a MAC, the port with that ifPhysAddress (ifIndex 5) */
    n = &dev->neighbors[0];
    assert_str(n->protocol, "lldp");
    assert_int_equal(n->local_if_index, 5);
    assert_str(n->local_if_name, "Te1/1");
    assert_str(n->local_port_id, "0a:0b:0c:0d:0e:01");
    assert_str(n->remote_sysname, "Linux server"); /* empty sysName: known by its description */
    assert_int_equal(n->chassis_subtype, 5);
    assert_str(n->remote_chassis_id, "192.168.0.1");
    assert_int_equal(n->port_subtype, 5);
    assert_str(n->remote_port, "eth0");
    assert_null(n->remote_port_descr);
    assert_null(n->remote_mgmt_ip);

    /* local port 1: lldpLocPortId "Te1/2" is ifIndex 6's name (ifIndex 1 does not exist) */
    n = &dev->neighbors[1];
    assert_int_equal(n->local_if_index, 6);
    assert_str(n->local_if_name, "Te1/2");
    assert_str(n->local_port_id, "Te1/2");
    assert_str(n->remote_sysname, "dist1");
    assert_int_equal(n->chassis_subtype, 4);
    assert_str(n->remote_chassis_id, "00:11:22:aa:bb:cc");
    assert_int_equal(n->port_subtype, 3);
    assert_str(n->remote_port, "00:11:22:aa:bb:cd");
    assert_str(n->remote_port_descr, "Gi1/0/1");
    assert_str(n->remote_mgmt_ip, "10.0.0.1"); /* IPv4 over the IPv6 one */
    assert_str(n->remote_platform, "Cisco IOS Software");

    n = &dev->neighbors[2];
    assert_str(n->protocol, "cdp");
    assert_int_equal(n->local_if_index, 7);
    assert_str(n->local_if_name, "Gi0/1");
    assert_str(n->local_port_id, "7");
    assert_str(n->remote_sysname, "edge-rtr");
    assert_null(n->remote_chassis_id);
    assert_int_equal(n->chassis_subtype, 0);
    assert_str(n->remote_port, "GigabitEthernet0/0/0");
    assert_str(n->remote_mgmt_ip, "10.0.0.2");
    assert_str(n->remote_platform, "cisco ISR4331");
    assert_str(n->remote_sysdescr, "Cisco IOS XE Software, Version 17.3");

    for (size_t k = 0; k < dev->n_ports; k++) {
        assert_true(dev->ports[k].uplink);
        assert_false(dev->ports[k].edge);
    }
    /* loopback, link-local and the broadcast address are not the device's addresses */
    assert_int_equal(dev->n_addresses, 2);
    assert_str(dev->addresses[0], "10.0.0.5");
    assert_str(dev->addresses[1], "2001:db8::5");
    na__snmp_device_free(dev);
}

static void test_lldp_nonstandard_indexes(void **state)
{
    na_snmp_device *dev = fixture("lldp_nonstandard.snmprec");
    static const char *const problems[] = {
        "lldpRemTable: 2 rows indexed without timeMark.localPortNum.index (non-standard agent)",
    };
    const na_snmp_neighbor *n;

    (void)state;
    assert_problems(dev, problems, 1);
    assert_int_equal(dev->n_neighbors, 2);
    n = &dev->neighbors[0];
    assert_int_equal(n->local_if_index, 15);
    assert_str(n->local_if_name, "sfp-sfpplus15");
    assert_str(n->remote_sysname, "router.example");
    assert_str(n->remote_chassis_id, "64:d1:54:f2:a4:16");
    assert_str(n->remote_port, "ether2");
    /* port number 18: no such ifIndex or bridge port; the one port whose name ends in 18 */
    n = &dev->neighbors[1];
    assert_int_equal(n->local_if_index, 49170);
    assert_str(n->local_if_name, "gigabitEthernet 1/0/18 : fiber");
    assert_str(n->remote_sysname, "sw-27");
    assert_str(n->remote_chassis_id, "e4:8d:8c:53:f1:00");
    na__snmp_device_free(dev);
}

static void assert_host(const na_snmp_host *h, const char *mac, const char *ip, int64_t if_index,
                        const char *port, int vlan, const char *source)
{
    assert_mac(h->mac, mac);
    assert_str(h->ip, ip);
    assert_int_equal(h->if_index, if_index);
    assert_str(h->port_name, port);
    assert_int_equal(h->vlan, vlan);
    assert_str(h->source, source);
}

static void test_hosts_from_fdb_and_arp_mark_edge_and_uplink(void **state)
{
    na_snmp_device *dev = fixture("hosts.snmprec");

    (void)state;
    assert_int_equal(dev->n_problems, 0);
    assert_int_equal(dev->n_hosts, 5);
    /* sorted by port, VLAN, MAC; IPv4 wins over the host's IPv6 address */
    assert_host(&dev->hosts[0], "00:16:3e:00:00:01", "10.0.0.11", 1, "Gi1", 10, "qfdb");
    assert_host(&dev->hosts[1], "02:00:00:00:00:0a", NULL, 1, "Gi1", 10, "qfdb");
    assert_host(&dev->hosts[2], "00:16:3e:00:00:03", NULL, 2, "Gi2", 0, "fdb");
    assert_host(&dev->hosts[3], "00:16:3e:00:00:02", NULL, 3, "Gi3", 10, "qfdb");
    assert_host(&dev->hosts[4], "00:16:3e:00:00:09", "10.0.0.12", 100, "Vlan10", 0, "arp");

    assert_int_equal(dev->n_ports, 4);
    assert_int_equal(dev->ports[0].n_hosts, 2);
    assert_true(dev->ports[0].edge);
    assert_false(dev->ports[0].uplink);
    assert_int_equal(dev->ports[1].n_hosts, 1);
    assert_true(dev->ports[1].edge);
    assert_int_equal(dev->ports[2].n_hosts, 1); /* a host behind the LLDP neighbour */
    assert_true(dev->ports[2].uplink);
    assert_false(dev->ports[2].edge);
    assert_int_equal(dev->ports[3].n_hosts, 0); /* ARP-only hosts are not counted on ports */
    assert_false(dev->ports[3].edge);
    na__snmp_device_free(dev);
}

static void assert_sensor(const na_snmp_sensor *s, const char *id, const char *kind,
                          const char *descr, bool has_value, double value, const char *unit,
                          const char *status)
{
    assert_str(s->id, id);
    assert_str(s->kind, kind);
    assert_str(s->descr, descr);
    assert_int_equal(s->has_value, has_value);
    if (has_value)
        test_assert_near(s->value, value);
    assert_str(s->unit, unit);
    assert_str(s->status, status);
}

static void test_sensors_scale_precision_and_host_resources(void **state)
{
    na_snmp_device *dev = fixture("sensors.snmprec");
    static const char *const problems[] = {"hrProcessorLoad: 1 value out of range (first 150)"};

    (void)state;
    assert_problems(dev, problems, 1);
    assert_int_equal(dev->n_sensors, 11);
    assert_sensor(&dev->sensors[0], "ent.20", "temperature", "CPU temp", true, 41.5, "C", "ok");
    assert_sensor(&dev->sensors[1], "ent.21", "optical_rx", "Xcvr 1 Rx Power", true, -3.45, "dBm",
                  "ok");
    /* 5000 at milli scale, precision 4: 0.5 mW = 10 log10(0.5) dBm */
    assert_sensor(&dev->sensors[2], "ent.22", "optical_tx", "Xcvr 1 Tx Power", true,
                  10.0 * log10(0.5), "dBm", "ok");
    assert_sensor(&dev->sensors[3], "ent.23", "voltage", "Input voltage", true, 12.05, "V",
                  "nonoperational");
    assert_sensor(&dev->sensors[4], "ent.24", "current", "Bias current", true, 0.0065, "A",
                  "unavailable");
    /* the Cisco row for entity 20 is not a second sensor */
    assert_sensor(&dev->sensors[5], "ent.30", "temperature", "sensor 30", true, 55, "C", NULL);
    assert_sensor(&dev->sensors[6], "ent.10", "psu", "PSU 1", false, 0, NULL, "ok");
    assert_sensor(&dev->sensors[7], "ent.11", "fan", "Fan 1", false, 0, NULL, "nonoperational");
    assert_sensor(&dev->sensors[8], "hr.cpu.768", "cpu", "Intel CPU", true, 37, "%", NULL);
    assert_sensor(&dev->sensors[9], "hr.mem.1", "memory", "Physical memory", true, 25, "%", NULL);
    assert_sensor(&dev->sensors[10], "hr.storage.2", "storage", "/", true, 25, "%", NULL);
    for (size_t k = 0; k < 8; k++)
        assert_true(dev->sensors[k].ent_index >= 0);
    assert_int_equal(dev->sensors[8].ent_index, -1);
    na__snmp_device_free(dev);
}

/* Debian's snmpsim ships a Cisco 3750 recording with a CDP neighbour (gzip). */
static void test_cdp_in_a_real_recording(void **state)
{
    static const char *gz = "/usr/share/doc/snmpsim/examples/data/cisco_16_switch.snmprec.gz";
    char cmd[256], *text = NULL;
    size_t len = 0, cap = 0, got;
    FILE *f;
    na_snmp_store *st = NULL;
    na_snmp_device *dev;
    na_error err;
    const na_snmp_neighbor *n;

    (void)state;
    if (access(gz, R_OK) != 0) {
        printf("SKIP: %s is not installed\n", gz);
        skip();
    }
    snprintf(cmd, sizeof(cmd), "gzip -dc '%s'", gz);
    assert_non_null(f = popen(cmd, "r"));
    do {
        if (len + 65536 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            assert_non_null(text = realloc(text, cap));
        }
        got = fread(text + len, 1, 65536, f);
        len += got;
    } while (got > 0);
    if (pclose(f) != 0 || len == 0) {
        free(text);
        printf("SKIP: gzip could not read %s\n", gz);
        skip();
    }
    assert_int_equal(na__snmp_store_new(&st, &err), 0);
    assert_int_equal(na__snmprec_load(text, len, st, NULL, &err), 0);
    free(text);
    dev = interpret(st, "cisco_16_switch");
    assert_str(dev->sys.name, "Profiler3750");
    assert_int_equal(dev->n_neighbors, 1);
    n = &dev->neighbors[0];
    assert_str(n->protocol, "cdp");
    assert_int_equal(n->local_if_index, 11048);
    assert_str(n->local_if_name, "Fa3/0/48");
    assert_str(n->remote_sysname, "C2960X.uac.local");
    assert_str(n->remote_port, "GigabitEthernet1/0/8");
    assert_str(n->remote_mgmt_ip, "10.204.88.10");
    assert_str(n->remote_platform, "cisco WS-C2960X-24PD-L");
    na__snmp_device_free(dev);
    na__snmp_store_free(st);
}

static void add_octets(na_snmp_store *st, const char *oid, const char *value, size_t len)
{
    uint32_t o[NA_SNMP_MAX_OID];
    int n = na__snmp_oid_parse(oid, strlen(oid), o, NA_SNMP_MAX_OID);

    assert_true(n > 0);
    assert_int_equal(na__snmp_store_add(st, o, (size_t)n, NA_SNMP_OCTETS, value, len, 0, 0), 0);
}

static void test_text_is_always_valid_utf8(void **state)
{
    na_snmp_store *st = NULL;
    na_snmp_device *dev;
    na_error err;
    json_t *j;
    char *dump;

    (void)state;
    assert_int_equal(na__snmp_store_new(&st, &err), 0);
    /* invalid byte, valid 2-byte sequence, embedded NUL, trailing NULs */
    add_octets(st, "1.3.6.1.2.1.1.5.0", "a\xff" "b\xc3\xa9\0c\0\0", 9);
    add_octets(st, "1.3.6.1.2.1.1.1.0", "\xed\xa0\x80", 3); /* a UTF-16 surrogate: not UTF-8 */
    add_octets(st, "1.0.8802.1.1.2.1.3.2.0", "\x01\x02\x7f", 3);
    na__snmp_store_finish(st);
    dev = interpret(st, "switch.example:161");
    assert_str(dev->sys.name, "a\xc3\xbf" "b\xc3\xa9" "c");
    assert_str(dev->sys.descr, "\xc3\xad\xc2\xa0\xc2\x80");
    assert_str(dev->sys.chassis_id, "01:02:7f");
    assert_null(dev->mgmt_ip); /* a name, not an address */
    assert_non_null(j = na__snmp_device_json(dev));
    assert_non_null(dump = json_dumps(j, JSON_COMPACT));
    assert_non_null(strstr(dump, "\"sysName\":\"a\xc3\xbf" "b\xc3\xa9" "c\""));
    free(dump);
    json_decref(j);
    na__snmp_device_free(dev);
    na__snmp_store_free(st);
}

static void test_reachability_info_and_targets(void **state)
{
    static const char *const info_problems[] = {"ifXTable: non-increasing OID"};
    na_snmp_collect_info info = {.reachable = false, .reason = "timeout",
                                 .problems = (const char **)info_problems, .n_problems = 1,
                                 .requests = 7, .varbinds = 0, .started_at = 1000,
                                 .finished_at = 3500};
    na_snmp_store *st = NULL;
    na_snmp_device *dev;
    na_error err;
    json_t *j;

    (void)state;
    assert_int_equal(na__snmp_store_new(&st, &err), 0);
    dev = interpret(st, "[2001:db8::7]:1161");
    assert_false(dev->reachable); /* a recording without the system group */
    assert_str(dev->reason, "no system group in the recording");
    assert_str(dev->mgmt_ip, "2001:db8::7");
    assert_int_equal(dev->n_ports, 0);
    na__snmp_device_free(dev);

    assert_int_equal(na__snmp_device_new(&dev, &err), 0);
    assert_int_equal(na__snmp_interpret(st, &info, "udp6:[2001:db8::8]:161", dev, &err), 0);
    assert_false(dev->reachable);
    assert_str(dev->reason, "timeout");
    assert_int_equal(dev->n_problems, 1);
    assert_str(dev->problems[0], "ifXTable: non-increasing OID");
    assert_str(dev->mgmt_ip, "2001:db8::8");
    assert_int_equal(dev->requests, 7);
    assert_int_equal(dev->polled_at, 3500);
    test_assert_near(dev->duration_ms, 2500);
    assert_non_null(j = na__snmp_device_json(dev));
    assert_string_equal(json_string_value(json_object_get(j, "polled_at")),
                        "1970-01-01T00:00:03.500Z");
    assert_true(json_is_null(json_object_get(j, "node_id")));
    assert_true(json_is_null(json_object_get(json_object_get(j, "system"), "sysName")));
    assert_int_equal(json_array_size(json_object_get(j, "problems")), 1);
    json_decref(j);
    na__snmp_device_free(dev);

    assert_int_equal(na__snmp_device_new(&dev, &err), 0);
    assert_int_equal(na__snmp_interpret(st, NULL, "10.1.2.3", dev, &err), 0);
    assert_str(dev->mgmt_ip, "10.1.2.3");
    na__snmp_device_free(dev);
    na__snmp_store_free(st);
}

static void test_if_status_names(void **state)
{
    (void)state;
    assert_null(na__if_status_name(0));
    assert_str(na__if_status_name(1), "up");
    assert_str(na__if_status_name(2), "down");
    assert_str(na__if_status_name(3), "testing");
    assert_str(na__if_status_name(4), "unknown");
    assert_str(na__if_status_name(5), "dormant");
    assert_str(na__if_status_name(6), "notPresent");
    assert_str(na__if_status_name(7), "lowerLayerDown");
    assert_null(na__if_status_name(8));
    assert_null(na__if_status_name(-1));
}

static void test_port_json_shape(void **state)
{
    na_snmp_device *dev = fixture("ports_quirks.snmprec");
    json_t *j, *p;

    (void)state;
    assert_non_null(j = na__snmp_device_json(dev));
    p = json_array_get(json_object_get(j, "ports"), 0);
    assert_int_equal(json_integer_value(json_object_get(p, "ifIndex")), 1);
    assert_string_equal(json_string_value(json_object_get(p, "ifOperStatus")), "up");
    assert_string_equal(json_string_value(json_object_get(p, "mac")), "00:11:22:33:44:01");
    assert_int_equal(json_integer_value(json_object_get(p, "ifSpeed")), 1000000000);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "counters"),
                                                        "in_octets")), 123456789012ll);
    assert_true(json_is_null(json_object_get(p, "rates")));
    p = json_array_get(json_object_get(j, "ports"), 4);
    assert_string_equal(json_string_value(json_object_get(p, "ifOperStatus")), "lowerLayerDown");
    assert_true(json_is_null(json_object_get(p, "ifAdminStatus")));
    assert_true(json_is_null(json_object_get(p, "counters")));
    assert_true(json_is_null(json_object_get(p, "ifMtu")));
    json_decref(j);
    na__snmp_device_free(dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recordings_match_librenms),
        cmocka_unit_test(test_ports_wrong_types_and_inconsistent_rows),
        cmocka_unit_test(test_neighbors_lldp_cdp_and_addresses),
        cmocka_unit_test(test_lldp_nonstandard_indexes),
        cmocka_unit_test(test_hosts_from_fdb_and_arp_mark_edge_and_uplink),
        cmocka_unit_test(test_sensors_scale_precision_and_host_resources),
        cmocka_unit_test(test_cdp_in_a_real_recording),
        cmocka_unit_test(test_text_is_always_valid_utf8),
        cmocka_unit_test(test_reachability_info_and_targets),
        cmocka_unit_test(test_if_status_names),
        cmocka_unit_test(test_port_json_shape),
    };
    char dir[1024];
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    /* the fixtures ran either way; without the real recordings the program counts as skipped */
    if (rc == 0 && !test_shared_data("snmprec", dir, sizeof(dir)))
        test_skip("shared data snmprec/ absent: the 21 recordings were not checked");
    return rc;
}
