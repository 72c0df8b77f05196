/*
 * test_snmp_links.c: neighbours to links (snmp/links.c) on hand-built devices: a ring of four
 * routers with a parallel pair, a spur switch, an unreachable router, unpolled neighbours
 * (stubs, crawl list); every way of naming the remote chassis and port; one link per cable
 * whichever ends and protocols report it; links kept down from the previous poll; and the
 * topology snapshot made of it all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "snmp/snmp.h"

enum { MAX_PORTS = 16, MAX_NB = 16 };

/* ---- hand-built devices (interpretation is tested elsewhere; arrays in the device's arena) -- */

static na_snmp_device *dev_new(const char *node_id, const char *sysname, const char *mgmt)
{
    na_snmp_device *d = NULL;

    assert_int_equal(na__snmp_device_new(&d, NULL), NA_OK);
    d->ports = na__arena_alloc(&d->arena, MAX_PORTS * sizeof(*d->ports));
    d->neighbors = na__arena_alloc(&d->arena, MAX_NB * sizeof(*d->neighbors));
    d->addresses = na__arena_alloc(&d->arena, 4 * sizeof(*d->addresses));
    assert_non_null(d->ports);
    assert_non_null(d->neighbors);
    assert_non_null(d->addresses);
    d->node_id = node_id;
    d->target = mgmt;
    d->mgmt_ip = mgmt;
    d->sys.name = sysname;
    d->reachable = true;
    d->polled_at = 1700000000000;
    return d;
}

static void dev_free(na_snmp_device *d)
{
    na__snmp_device_free(d);
}

static void mac_set(uint8_t *dst, const char *text)
{
    unsigned m[6];
    assert_int_equal(sscanf(text, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]),
                     6);
    for (int k = 0; k < 6; k++)
        dst[k] = (uint8_t)m[k];
}

static void chassis_mac(na_snmp_device *d, const char *mac)
{
    uint8_t *m = na__arena_alloc(&d->arena, 6);
    assert_non_null(m);
    mac_set(m, mac);
    d->sys.chassis_subtype = 4;
    d->sys.chassis_id = mac;
    d->sys.chassis_mac = m;
}

static na_snmp_port *port_add(na_snmp_device *d, int64_t if_index, const char *name,
                              const char *descr, const char *mac, int oper, uint64_t speed)
{
    na_snmp_port *p;

    assert_true(d->n_ports < MAX_PORTS);
    p = &d->ports[d->n_ports++];
    memset(p, 0, sizeof(*p));
    p->if_index = if_index;
    p->name = name;
    p->descr = descr;
    p->oper_status = oper;
    p->admin_status = NA_IF_UP;
    p->speed_bps = speed;
    p->mtu = -1;
    if (mac) {
        p->has_mac = true;
        mac_set(p->mac, mac);
    }
    return p;
}

static const char *port_name_of(const na_snmp_device *d, int64_t if_index)
{
    for (size_t k = 0; k < d->n_ports; k++)
        if (d->ports[k].if_index == if_index)
            return d->ports[k].name;
    return NULL;
}

/* A neighbour seen on local port if_index; lldpLocPortId is the port's name, as most agents do. */
static na_snmp_neighbor *nb_add(na_snmp_device *d, const char *proto, int64_t if_index,
                                int chassis_subtype, const char *chassis, int port_subtype,
                                const char *port, const char *sysname, const char *mgmt)
{
    na_snmp_neighbor *nb;

    assert_true(d->n_neighbors < MAX_NB);
    nb = &d->neighbors[d->n_neighbors++];
    memset(nb, 0, sizeof(*nb));
    nb->protocol = proto;
    nb->local_if_index = if_index;
    nb->local_if_name = port_name_of(d, if_index);
    nb->local_port_id = strcmp(proto, "cdp") == 0 ? NULL : nb->local_if_name;
    nb->chassis_subtype = chassis_subtype;
    nb->remote_chassis_id = chassis;
    nb->port_subtype = port_subtype;
    nb->remote_port = port;
    nb->remote_sysname = sysname;
    nb->remote_mgmt_ip = mgmt;
    return nb;
}

/* ---- the network under test ------------------------------------------------------------------ */

enum { R1, R2, R3, R4, S1, R5, N_DEVS };

typedef struct lab {
    na_snmp_device *d[N_DEVS];
} lab;

/*
 *        r1 ---(lldp: chassis local text / port MAC; back: chassis MAC / ifName)--- r2
 *        |  \                                                                       ||  two
 *   (cdp both ways, long / short names)  r5 (unreachable, by mgmt IP)               ||  cables
 *        |                                                                          ||
 *        r4 ---(r3: lldp by mgmt IP in r4's addresses; r4: cdp by name)------------ r3
 *        |                                                 (r2: chassis = a port MAC of r3,
 *        s1 (spur, by short name) --- phone-1 (not polled)  port local ifIndex; r3: chassis
 *                                 --- de:ad:be:ef:00:01      network address, port ifName)
 */
static void lab_build(lab *l)
{
    na_snmp_device *r1, *r2, *r3, *r4, *s1, *r5;
    na_snmp_neighbor *nb;

    r1 = l->d[R1] = dev_new("r1", "r1.example.net", "10.0.0.1");
    chassis_mac(r1, "00:11:00:00:00:01");
    port_add(r1, 1, "Gi0/1", "GigabitEthernet0/1", "00:11:00:00:01:01", NA_IF_UP, 1000000000);
    port_add(r1, 3, "Gi0/3", "GigabitEthernet0/3", NULL, NA_IF_UP, 1000000000);
    port_add(r1, 4, "Gi0/4", "GigabitEthernet0/4", NULL, NA_IF_UP, 10000000000);
    r1->has_coords = true;
    r1->latitude = 52.37;
    r1->longitude = 4.89;
    r1->site = "ams";
    r1->geo_source = "sysLocation";
    r1->sys.descr = "Cisco IOS Software";
    r1->sys.object_id = "1.3.6.1.4.1.9.1.1";

    r2 = l->d[R2] = dev_new("r2", "r2", "10.0.0.2");
    r2->sys.chassis_subtype = 7;
    r2->sys.chassis_id = "R2-CHASSIS";
    port_add(r2, 10, "eth0", "eth0", "00:22:00:00:00:10", NA_IF_UP, 100000000);
    port_add(r2, 11, "eth1", "eth1", "00:22:00:00:00:11", NA_IF_UP, 1000000000);
    port_add(r2, 12, "eth2", "eth2", "00:22:00:00:00:12", NA_IF_DOWN, 1000000000);

    r3 = l->d[R3] = dev_new("r3", "r3", "10.0.0.3");
    chassis_mac(r3, "00:33:00:00:00:01");
    port_add(r3, 1, "Ethernet1", "Ethernet1", "00:33:00:00:01:01", NA_IF_UP, 1000000000);
    port_add(r3, 2, "Ethernet2", "Ethernet2", "00:33:00:00:01:02", NA_IF_UP, 1000000000);
    port_add(r3, 3, "Ethernet3", "Ethernet3", "00:33:00:00:01:03", NA_IF_UP, 0);

    r4 = l->d[R4] = dev_new("r4", "r4", "192.168.0.4");
    r4->addresses[r4->n_addresses++] = "10.9.9.4";
    port_add(r4, 101, "GigabitEthernet1/0/1", "GigabitEthernet1/0/1", NULL, NA_IF_UP, 0);
    port_add(r4, 102, "GigabitEthernet1/0/2", "GigabitEthernet1/0/2", NULL, NA_IF_UP, 0);
    port_add(r4, 103, "GigabitEthernet1/0/3", "GigabitEthernet1/0/3", NULL, NA_IF_UP, 0);
    port_add(r4, 104, "GigabitEthernet1/0/4", "GigabitEthernet1/0/4", NULL, NA_IF_UP, 0);

    s1 = l->d[S1] = dev_new("s1.lab", "s1.lab", "10.0.1.1");
    port_add(s1, 1, "port1", "Port 1", NULL, NA_IF_UP, 1000000000);
    port_add(s1, 2, "port2", "Port 2", NULL, NA_IF_UP, 100000000);
    port_add(s1, 3, "port3", "Port 3", NULL, NA_IF_UP, 100000000);

    r5 = l->d[R5] = dev_new("r5", NULL, "10.0.0.5");
    r5->reachable = false;
    r5->reason = "timeout";

    /* r1 Gi0/1 <-> r2 eth0: chassis subtype local (text), port subtype MAC; back: MAC, ifName */
    nb_add(r1, "lldp", 1, 7, "R2-CHASSIS", 3, "00:22:00:00:00:10", "r2", NULL);
    nb_add(r2, "lldp", 10, 4, "00:11:00:00:00:01", 5, "Gi0/1", "r1.example.net", NULL);
    /* r2 eth1/eth2 <-> r3 Ethernet1/Ethernet2: chassis = one of r3's *port* MACs, port subtype
     * local (r3's ifIndex); back: chassis network address, port ifName; no sysNames at all */
    nb_add(r2, "lldp", 11, 4, "00:33:00:00:01:02", 7, "1", NULL, NULL);
    nb_add(r2, "lldp", 12, 4, "00:33:00:00:01:02", 7, "2", NULL, NULL);
    nb_add(r3, "lldp", 1, 5, "10.0.0.2", 5, "eth1", NULL, NULL);
    nb_add(r3, "lldp", 2, 5, "10.0.0.2", 5, "eth2", NULL, NULL);
    /* r3 Ethernet3 <-> r4 Gi1/0/1: unknown chassis text, found by the management address among
     * r4's own addresses; r4 reports it by CDP, found by name */
    nb_add(r3, "lldp", 3, 7, "no-such-chassis", 5, "GigabitEthernet1/0/1", NULL, "10.9.9.4");
    nb_add(r4, "cdp", 101, 0, "r3", 0, "Ethernet3", "r3", NULL);
    /* r4 Gi1/0/2 <-> r1 Gi0/4: CDP both ways, device id with a serial, long and short names */
    nb_add(r4, "cdp", 102, 0, "r1.example.net(FOC1234X)", 0, "GigabitEthernet0/4", NULL, NULL);
    nb_add(r1, "cdp", 4, 0, "r4", 0, "Gi1/0/2", "r4", NULL);
    /* r4 Gi1/0/3 <-> s1.lab port1: CDP names it "s1" (the host part of s1.lab), port ifName */
    nb_add(r4, "cdp", 103, 0, "s1", 0, "port1", "s1", NULL);
    /* r1 Gi0/3 -> r5 (unreachable): only its management address is known */
    nb_add(r1, "lldp", 3, 7, "r5-chassis", 5, "ge-0/0/0", NULL, "10.0.0.5");
    /* not polled: phone-1 seen by s1 (LLDP) and r4 (CDP) -> one stub; a nameless one */
    nb = nb_add(s1, "lldp", 2, 4, "aa:bb:cc:00:00:01", 3, "aa:bb:cc:00:00:01", "phone-1",
                "10.50.0.9");
    nb->remote_port_descr = "eth0";
    nb = nb_add(r4, "cdp", 104, 0, "phone-1", 0, "Port 1", "phone-1", "10.50.0.9");
    nb->remote_platform = "Cisco IP Phone 8841";
    nb_add(s1, "lldp", 3, 4, "de:ad:be:ef:00:01", 3, "de:ad:be:ef:00:01", NULL, "fe80::1");
}

static void lab_free(lab *l)
{
    for (int k = 0; k < N_DEVS; k++)
        if (l->d[k])
            dev_free(l->d[k]);
}

static na_snmp_network *build_ok(na_snmp_device *const *devs, size_t n,
                                 const na_snmp_network *prev)
{
    na_snmp_network *net = NULL;
    na_error err;

    na_error_clear(&err);
    if (na__snmp_network_build(devs, n, prev, &net, &err) != NA_OK)
        fail_msg("na__snmp_network_build: %s", err.message);
    assert_non_null(net);
    return net;
}

static void print_net(const na_snmp_network *net)
{
    for (size_t k = 0; k < net->n_links; k++)
        fprintf(stderr, "  link %s (%s) up=%d speed=%llu\n", net->links[k].id,
                net->links[k].protocol, net->links[k].up,
                (unsigned long long)net->links[k].speed_bps);
}

static const na_snmp_link *link_get(const na_snmp_network *net, const char *id)
{
    for (size_t k = 0; k < net->n_links; k++)
        if (strcmp(net->links[k].id, id) == 0)
            return &net->links[k];
    print_net(net);
    fail_msg("no link %s", id);
    return NULL;
}

static void link_check(const na_snmp_network *net, const char *id, int64_t a_if, int64_t b_if,
                       bool up, uint64_t speed, const char *proto, bool stub)
{
    const na_snmp_link *l = link_get(net, id);

    if (l->a_if_index != a_if || l->b_if_index != b_if || l->up != up ||
        l->speed_bps != speed || strcmp(l->protocol, proto) != 0 || l->stub != stub)
        fail_msg("%s: got ifIndex %lld/%lld up %d speed %llu %s stub %d", id,
                 (long long)l->a_if_index, (long long)l->b_if_index, l->up,
                 (unsigned long long)l->speed_bps, l->protocol, l->stub);
}

static const na_snmp_stub *stub_get(const na_snmp_network *net, const char *id)
{
    for (size_t k = 0; k < net->n_stubs; k++)
        if (strcmp(net->stubs[k].id, id) == 0)
            return &net->stubs[k];
    fail_msg("no stub %s", id);
    return NULL;
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_ring_spur_and_stubs_resolve(void **state)
{
    (void)state;
    lab l;
    na_snmp_network *net;
    const na_snmp_stub *st;

    lab_build(&l);
    net = build_ok(l.d, N_DEVS, NULL);
    if (net->n_links != 10)
        print_net(net);
    assert_int_equal(net->n_links, 10);
    /* both ends reported each of these: still one link, speed the slower end */
    link_check(net, "r1:Gi0/1|r2:eth0", 1, 10, true, 100000000, "lldp", false);
    /* the parallel pair stays two links; eth2 is oper down */
    link_check(net, "r2:eth1|r3:Ethernet1", 11, 1, true, 1000000000, "lldp", false);
    link_check(net, "r2:eth2|r3:Ethernet2", 12, 2, false, 1000000000, "lldp", false);
    /* LLDP from one end, CDP from the other: one link, named by LLDP; no speed known */
    link_check(net, "r3:Ethernet3|r4:GigabitEthernet1/0/1", 3, 101, true, 0, "lldp", false);
    /* CDP's long and short interface names, both ways */
    link_check(net, "r1:Gi0/4|r4:GigabitEthernet1/0/2", 4, 102, true, 10000000000, "cdp", false);
    link_check(net, "r4:GigabitEthernet1/0/3|s1.lab:port1", 103, 1, true, 1000000000, "cdp",
               false);
    /* an unreachable device: its port is unknown (the neighbour's text), counted as up */
    link_check(net, "r1:Gi0/3|r5:ge-0/0/0", 3, -1, true, 1000000000, "lldp", false);
    /* stubs: one for phone-1 whoever saw it, linked from both; the device is always a */
    link_check(net, "s1.lab:port2|stub:phone-1:aa:bb:cc:00:00:01", 2, -1, true, 100000000,
               "lldp", true);
    link_check(net, "r4:GigabitEthernet1/0/4|stub:phone-1:Port 1", 104, -1, true, 0, "cdp", true);
    link_check(net, "s1.lab:port3|stub:de:ad:be:ef:00:01:de:ad:be:ef:00:01", 3, -1, true,
               100000000, "lldp", true);
    assert_int_equal(net->n_stubs, 2);
    st = stub_get(net, "stub:phone-1");
    assert_string_equal(st->sysname, "phone-1");
    assert_string_equal(st->chassis_id, "aa:bb:cc:00:00:01");
    assert_string_equal(st->mgmt_ip, "10.50.0.9");
    assert_string_equal(st->platform, "Cisco IP Phone 8841"); /* filled in by the second sight */
    st = stub_get(net, "stub:de:ad:be:ef:00:01");
    assert_null(st->sysname);
    /* crawl: phone-1's address once; not r5's (a device), not link-local fe80::1 */
    assert_int_equal(net->n_crawl, 1);
    assert_string_equal(net->crawl[0], "10.50.0.9");
    na__snmp_network_free(net);
    lab_free(&l);
}

static void test_resolution_failures_do_not_guess(void **state)
{
    (void)state;
    na_snmp_device *a = dev_new("a", "sw.one.example", "10.1.0.1");
    na_snmp_device *b = dev_new("b", "sw.two.example", "10.1.0.2");
    na_snmp_device *c = dev_new("c", "10.rack.example", "10.1.0.3");
    na_snmp_device *devs[3] = {a, b, c};
    na_snmp_network *net;

    /* routers often put one MAC on every port: that MAC names the device, not a port */
    port_add(a, 1, "ge-0/0/1", NULL, "00:aa:00:00:00:01", NA_IF_UP, 0);
    port_add(a, 2, "ge-0/0/2", NULL, "00:aa:00:00:00:01", NA_IF_UP, 0);
    port_add(c, 1, "e1", NULL, NULL, NA_IF_UP, 0);
    port_add(c, 2, "e2", NULL, NULL, NA_IF_UP, 0);
    port_add(c, 3, "e3", NULL, NULL, NA_IF_UP, 0);
    port_add(c, 4, "e4", NULL, NULL, NA_IF_UP, 0);
    /* chassis = a's shared port MAC (unique to a): a; port by that MAC: ambiguous, so the text */
    nb_add(c, "lldp", 1, 4, "00:aa:00:00:00:01", 3, "00:aa:00:00:00:01", NULL, NULL);
    /* "sw" is the host part of both a and b: not unique, so a stub */
    nb_add(c, "lldp", 2, 7, "x", 5, "ge-0/0/1", "sw", NULL);
    /* a number as a name is not a host part ("10" of 10.1.0.1) */
    nb_add(c, "lldp", 3, 7, "y", 5, "p1", "10.1.0.99", NULL);
    /* the same MAC on two devices' ports: ambiguous, falls to the stub */
    port_add(b, 1, "xe-0/0/0", NULL, "00:bb:00:00:00:01", NA_IF_UP, 0);
    port_add(c, 5, "e5", NULL, "00:bb:00:00:00:01", NA_IF_UP, 0);
    nb_add(c, "lldp", 4, 4, "00:bb:00:00:00:01", 7, "1", "unknown-box", NULL);

    net = build_ok(devs, 3, NULL);
    if (net->n_links != 4)
        print_net(net);
    assert_int_equal(net->n_links, 4);
    link_check(net, "a:00:aa:00:00:00:01|c:e1", -1, 1, true, 0, "lldp", false);
    link_check(net, "c:e2|stub:sw:ge-0/0/1", 2, -1, true, 0, "lldp", true);
    link_check(net, "c:e3|stub:10.1.0.99:p1", 3, -1, true, 0, "lldp", true);
    link_check(net, "c:e4|stub:unknown-box:1", 4, -1, true, 0, "lldp", true);
    assert_int_equal(net->n_crawl, 0);
    na__snmp_network_free(net);
    for (int k = 0; k < 3; k++)
        dev_free(devs[k]);
}

static void test_stubs_with_one_name_and_two_chassis_are_two(void **state)
{
    (void)state;
    na_snmp_device *a = dev_new("a", "a", "10.4.0.1");
    na_snmp_network *net;

    port_add(a, 1, "p1", NULL, NULL, NA_IF_UP, 0);
    port_add(a, 2, "p2", NULL, NULL, NA_IF_UP, 0);
    port_add(a, 3, "p3", NULL, NULL, NA_IF_UP, 0);
    port_add(a, 4, "p4", NULL, NULL, NA_IF_UP, 0);
    /* two factory-default "switch"es, the first seen twice, and a CDP "switch" (no chassis) */
    nb_add(a, "lldp", 1, 4, "00:00:5e:00:53:01", 5, "ge1", "switch", NULL);
    nb_add(a, "lldp", 2, 4, "00:00:5e:00:53:02", 5, "ge1", "switch", NULL);
    nb_add(a, "lldp", 3, 4, "00:00:5e:00:53:01", 5, "ge2", "switch", NULL);
    nb_add(a, "cdp", 4, 0, "switch", 0, "Gi0/1", "switch", NULL);
    net = build_ok(&a, 1, NULL);
    assert_int_equal(net->n_links, 4);
    assert_int_equal(net->n_stubs, 3);
    link_check(net, "a:p1|stub:switch:ge1", 1, -1, true, 0, "lldp", true);
    link_check(net, "a:p2|stub:switch@00:00:5e:00:53:02:ge1", 2, -1, true, 0, "lldp", true);
    link_check(net, "a:p3|stub:switch:ge2", 3, -1, true, 0, "lldp", true);
    /* which "switch" CDP saw is unknown: a third stub rather than a guess */
    link_check(net, "a:p4|stub:switch#2:Gi0/1", 4, -1, true, 0, "cdp", true);
    assert_string_equal(stub_get(net, "stub:switch")->chassis_id, "00:00:5e:00:53:01");
    assert_null(stub_get(net, "stub:switch#2")->chassis_id);
    na__snmp_network_free(net);
    dev_free(a);
}

static void test_ends_merge_on_port_ids_and_prefer_resolved_names(void **state)
{
    (void)state;
    na_snmp_device *a = dev_new("a", "a", "10.2.0.1");
    na_snmp_device *b = dev_new("b", "b", "10.2.0.2");
    na_snmp_device *devs[2] = {a, b};
    na_snmp_network *net;
    na_snmp_neighbor *nb;

    port_add(a, 5, "xe-0/0/0", NULL, NULL, NA_IF_UP, 10000000000);
    port_add(a, 6, "xe-0/0/1", NULL, NULL, NA_IF_UP, 10000000000);
    port_add(b, 1, "Te1/1", "TenGigabitEthernet1/1", NULL, NA_IF_UP, 10000000000);
    port_add(b, 2, "Te1/2", "TenGigabitEthernet1/2", NULL, NA_IF_UP, 10000000000);
    /* a sees b's ports under port ids b's ifTable does not know ("517", "518": b's
     * lldpLocPortId), b sees a's by ifName: each cable is still one link, with b's real names */
    nb_add(a, "lldp", 5, 7, "b", 7, "517", "b", NULL);
    nb_add(a, "lldp", 6, 7, "b", 7, "518", "b", NULL);
    nb = nb_add(b, "lldp", 1, 7, "a", 5, "xe-0/0/0", "a", NULL);
    nb->local_port_id = "517";
    nb = nb_add(b, "lldp", 2, 7, "a", 5, "xe-0/0/1", "a", NULL);
    nb->local_port_id = "518";
    /* b's second report of cable 1, by CDP, with a's port unresolvable: merges on b's port */
    nb_add(b, "cdp", 1, 0, "a", 0, "xe-0/0/0.0", "a", NULL);

    net = build_ok(devs, 2, NULL);
    if (net->n_links != 2)
        print_net(net);
    assert_int_equal(net->n_links, 2);
    link_check(net, "a:xe-0/0/0|b:Te1/1", 5, 1, true, 10000000000, "lldp", false);
    link_check(net, "a:xe-0/0/1|b:Te1/2", 6, 2, true, 10000000000, "lldp", false);
    na__snmp_network_free(net);

    /* both ends unresolved and nothing to tell them apart: kept apart, ids unique */
    a->n_neighbors = b->n_neighbors = 0;
    a->ports[0].if_index = a->ports[1].if_index = 99; /* the local ports cannot be mapped */
    nb = nb_add(a, "lldp", -1, 7, "b", 7, "x", "b", NULL);
    nb->local_port_id = "p";
    nb = nb_add(a, "lldp", -1, 7, "b", 7, "x", "b", NULL);
    nb->local_port_id = "q";
    net = build_ok(devs, 2, NULL);
    assert_int_equal(net->n_links, 2);
    link_check(net, "a:p|b:x", -1, -1, true, 0, "lldp", false);
    link_check(net, "a:q|b:x", -1, -1, true, 0, "lldp", false);
    na__snmp_network_free(net);
    for (int k = 0; k < 2; k++)
        dev_free(devs[k]);
}

static void test_previous_poll_keeps_down_links(void **state)
{
    (void)state;
    lab l1, l2;
    na_snmp_network *n1, *n2;

    lab_build(&l1);
    n1 = build_ok(l1.d, N_DEVS, NULL);
    /* the previous poll's devices are gone before the next network is built */
    lab_free(&l1);

    lab_build(&l2);
    /* r1 Gi0/1 went down and both ends forgot the neighbour (LLDP ages out on a down port) */
    l2.d[R1]->ports[0].oper_status = NA_IF_DOWN;
    l2.d[R1]->neighbors[0] = l2.d[R1]->neighbors[--l2.d[R1]->n_neighbors];
    l2.d[R2]->neighbors[0] = l2.d[R2]->neighbors[--l2.d[R2]->n_neighbors];
    /* r3 Ethernet3 <-> r4 re-cabled elsewhere: entries gone, ports still up */
    for (int k = R3; k <= R4; k++) {
        na_snmp_device *d = l2.d[k];
        size_t w = 0;
        for (size_t i = 0; i < d->n_neighbors; i++)
            if (!(d->neighbors[i].local_if_index == 3 && k == R3) &&
                !(d->neighbors[i].local_if_index == 101 && k == R4))
                d->neighbors[w++] = d->neighbors[i];
        d->n_neighbors = w;
    }
    /* s1 port3 down, its nameless neighbour forgotten: the stub comes back with the link */
    l2.d[S1]->ports[2].oper_status = NA_IF_LOWERLAYERDOWN;
    l2.d[S1]->n_neighbors--;

    n2 = build_ok(l2.d, N_DEVS, n1);
    /* the re-cabled one gets one poll's grace, down: its entries may just have gone before the
     * port's status did */
    {
        const na_snmp_link *g = link_get(n2, "r3:Ethernet3|r4:GigabitEthernet1/0/1");
        assert_false(g->up);
        assert_int_equal(g->missing, 1);
        na_snmp_network *n2b = build_ok(l2.d, N_DEVS, n2);
        if (n2b->n_links != 9)
            print_net(n2b);
        assert_int_equal(n2b->n_links, 9);
        for (size_t k = 0; k < n2b->n_links; k++)
            assert_null(strstr(n2b->links[k].id, "Ethernet3"));
        /* the cut cable stays down as long as its port is */
        assert_int_equal(link_get(n2b, "r1:Gi0/1|r2:eth0")->missing, 2);
        na__snmp_network_free(n2);
        n2 = n2b;
    }
    if (n2->n_links != 9)
        print_net(n2);
    assert_int_equal(n2->n_links, 9);
    link_check(n2, "r1:Gi0/1|r2:eth0", 1, 10, false, 100000000, "lldp", false);
    link_check(n2, "s1.lab:port3|stub:de:ad:be:ef:00:01:de:ad:be:ef:00:01", 3, -1, false,
               100000000, "lldp", true);
    assert_int_equal(n2->n_stubs, 2);
    assert_non_null(stub_get(n2, "stub:de:ad:be:ef:00:01"));
    for (size_t k = 0; k < n2->n_links; k++)
        assert_null(strstr(n2->links[k].id, "Ethernet3"));
    /* links still reported are not doubled by prev */
    link_check(n2, "r2:eth2|r3:Ethernet2", 12, 2, false, 1000000000, "lldp", false);

    /* a device gone from the poll takes its old links with it */
    na_snmp_network *n3 = build_ok(l2.d, R5, n2); /* without r5 */
    for (size_t k = 0; k < n3->n_links; k++)
        assert_true(strcmp(n3->links[k].a, "r5") != 0 && strcmp(n3->links[k].b, "r5") != 0);
    /* r1 still sees it: now an unpolled neighbour, its address to crawl */
    link_check(n3, "r1:Gi0/3|stub:r5-chassis:ge-0/0/0", 3, -1, true, 1000000000, "lldp", true);
    assert_int_equal(n3->n_crawl, 2);
    assert_string_equal(n3->crawl[0], "10.0.0.5");
    na__snmp_network_free(n3);
    na__snmp_network_free(n1);
    na__snmp_network_free(n2);
    lab_free(&l2);
}

/* A device that stops answering keeps its links, down, and its stubs: silence is not removal. */
static void test_unreachable_device_keeps_its_links_down(void **state)
{
    (void)state;
    lab l1, l2;
    na_snmp_network *n1, *n2;
    size_t r1_links = 0, kept = 0, up_before = 0;

    lab_build(&l1);
    n1 = build_ok(l1.d, N_DEVS, NULL);
    for (size_t k = 0; k < n1->n_links; k++)
        if (strcmp(n1->links[k].a, "r1") == 0 || strcmp(n1->links[k].b, "r1") == 0) {
            r1_links++;
            up_before += n1->links[k].up;
        }
    lab_free(&l1);
    assert_true(r1_links >= 2);
    assert_int_equal(up_before, r1_links);

    lab_build(&l2);
    /* r1 times out: the interpreter leaves it with no neighbours, and its peers forget it too
     * (the worst case: r1 really lost power and LLDP aged out everywhere) */
    l2.d[R1]->reachable = false;
    l2.d[R1]->n_neighbors = 0;
    for (int k = 0; k < N_DEVS; k++) {
        na_snmp_device *d = l2.d[k];
        size_t w = 0;
        const char *r1_chassis = l2.d[R1]->sys.chassis_id;
        for (size_t i = 0; i < d->n_neighbors; i++) {
            const na_snmp_neighbor *nb = &d->neighbors[i];
            bool to_r1 = (nb->remote_sysname && strncmp(nb->remote_sysname, "r1", 2) == 0) ||
                         (nb->remote_mgmt_ip && strcmp(nb->remote_mgmt_ip, "10.0.0.1") == 0) ||
                         (nb->remote_chassis_id && r1_chassis &&
                          strcmp(nb->remote_chassis_id, r1_chassis) == 0);
            if (!to_r1)
                d->neighbors[w++] = *nb;
        }
        d->n_neighbors = w;
    }
    n2 = build_ok(l2.d, N_DEVS, n1);
    for (size_t k = 0; k < n2->n_links; k++)
        if (strcmp(n2->links[k].a, "r1") == 0 || strcmp(n2->links[k].b, "r1") == 0)
            kept++;
    if (kept != r1_links)
        print_net(n2);
    assert_int_equal(kept, r1_links);
    /* nobody reports these any more: kept from the previous poll, down */
    link_check(n2, "r1:Gi0/1|r2:eth0", 1, 10, false, 100000000, "lldp", false);
    link_check(n2, "r1:Gi0/3|r5:ge-0/0/0", 3, -1, false, 1000000000, "lldp", false);
    /* r4's CDP entry (a device id the filter above does not recognise) still reports r1 Gi0/4:
     * a live peer seeing the cable keeps it up */
    link_check(n2, "r1:Gi0/4|r4:GigabitEthernet1/0/2", 4, 102, true, 10000000000, "cdp", false);
    na__snmp_network_free(n1);
    na__snmp_network_free(n2);
    lab_free(&l2);
}

static void test_bad_node_ids_are_refused(void **state)
{
    (void)state;
    na_snmp_device *a = dev_new("x", "a", "10.3.0.1");
    na_snmp_device *b = dev_new("x", "b", "10.3.0.2");
    na_snmp_device *devs[2] = {a, b};
    na_snmp_network *net = (na_snmp_network *)&net;
    na_error err;

    assert_int_equal(na__snmp_network_build(devs, 2, NULL, &net, &err), NA_EINVAL);
    assert_non_null(strstr(err.message, "'x'"));
    assert_null(net);
    b->node_id = NULL;
    assert_int_equal(na__snmp_network_build(devs, 2, NULL, &net, &err), NA_EINVAL);
    dev_free(a);
    dev_free(b);
}

static const na_value *attr(const na_value *v, const char *what)
{
    if (!v)
        fail_msg("attribute %s missing", what);
    return v;
}

static void test_topology_snapshot(void **state)
{
    (void)state;
    lab l;
    na_snmp_network *net;
    na_topology *t = NULL;
    const na_node *n;
    const na_link *e;
    na_error err;

    lab_build(&l);
    net = build_ok(l.d, N_DEVS, NULL);
    if (na__snmp_topology(l.d, N_DEVS, net, &t, &err) != NA_OK)
        fail_msg("na__snmp_topology: %s", err.message);
    assert_int_equal(na_topology_node_count(t), N_DEVS + 2);
    assert_int_equal(na_topology_link_count(t), 10);
    assert_int_equal(na_topology_timestamp_ms(t), 1700000000000);

    n = test_node(t, "r1");
    assert_string_equal(n->label, "r1.example.net");
    assert_string_equal(n->site, "ams");
    test_assert_near(n->latitude, 52.37);
    test_assert_near(n->longitude, 4.89);
    assert_int_equal(n->status, NA_STATUS_UP);
    assert_string_equal(attr(na_node_attr(n, "mgmt_ip"), "mgmt_ip")->u.s, "10.0.0.1");
    assert_string_equal(attr(na_node_attr(n, "sys_descr"), "sys_descr")->u.s,
                        "Cisco IOS Software");
    assert_string_equal(attr(na_node_attr(n, "geo_source"), "geo_source")->u.s, "sysLocation");
    assert_int_equal(attr(na_node_attr(n, "ports"), "ports")->u.i, 3);
    assert_null(na_node_attr(n, "reason"));

    n = test_node(t, "r2");
    assert_true(isnan(n->latitude) && isnan(n->longitude));
    assert_null(n->site);
    assert_null(na_node_attr(n, "geo_source"));

    n = test_node(t, "r5");
    assert_int_equal(n->status, NA_STATUS_DOWN);
    assert_string_equal(n->label, "r5");
    assert_string_equal(attr(na_node_attr(n, "reason"), "reason")->u.s, "timeout");

    n = test_node(t, "stub:phone-1");
    assert_int_equal(n->status, NA_STATUS_UNKNOWN);
    assert_string_equal(n->label, "phone-1");
    assert_true(attr(na_node_attr(n, "discovered"), "discovered")->u.b);
    assert_string_equal(attr(na_node_attr(n, "platform"), "platform")->u.s,
                        "Cisco IP Phone 8841");
    assert_true(isnan(n->latitude));

    e = test_link(t, "r1:Gi0/1|r2:eth0");
    assert_string_equal(e->source, "r1");
    assert_string_equal(e->target, "r2");
    assert_string_equal(e->label, "Gi0/1 - eth0");
    assert_int_equal(e->status, NA_STATUS_UP);
    test_assert_near(e->capacity, 1e8);
    assert_string_equal(attr(na_link_attr(e, "protocol"), "protocol")->u.s, "lldp");
    assert_int_equal(attr(na_link_attr(e, "a_if_index"), "a_if_index")->u.i, 1);
    assert_int_equal(attr(na_link_attr(e, "b_if_index"), "b_if_index")->u.i, 10);
    assert_string_equal(attr(na_link_attr(e, "b_port"), "b_port")->u.s, "eth0");

    e = test_link(t, "r2:eth2|r3:Ethernet2");
    assert_int_equal(e->status, NA_STATUS_DOWN);
    e = test_link(t, "r3:Ethernet3|r4:GigabitEthernet1/0/1");
    assert_true(isnan(e->capacity));
    e = test_link(t, "r1:Gi0/3|r5:ge-0/0/0");
    assert_null(na_link_attr(e, "b_if_index"));
    assert_string_equal(e->target, "r5");
    e = test_link(t, "r4:GigabitEthernet1/0/4|stub:phone-1:Port 1");
    assert_string_equal(e->target, "stub:phone-1");

    na_topology_unref(t);
    /* devices without a network: nodes only */
    assert_int_equal(na__snmp_topology(l.d, N_DEVS, NULL, &t, &err), NA_OK);
    assert_int_equal(na_topology_node_count(t), N_DEVS);
    assert_int_equal(na_topology_link_count(t), 0);
    na_topology_unref(t);
    na__snmp_network_free(net);
    lab_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_spur_and_stubs_resolve),
        cmocka_unit_test(test_resolution_failures_do_not_guess),
        cmocka_unit_test(test_stubs_with_one_name_and_two_chassis_are_two),
        cmocka_unit_test(test_ends_merge_on_port_ids_and_prefer_resolved_names),
        cmocka_unit_test(test_previous_poll_keeps_down_links),
        cmocka_unit_test(test_unreachable_device_keeps_its_links_down),
        cmocka_unit_test(test_bad_node_ids_are_refused),
        cmocka_unit_test(test_topology_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
