/*
 * fuzz_snmprec.c: a .snmprec recording on arbitrary bytes through the whole interpretation:
 * load, interpret (ports, neighbours, hosts, sensors, addresses), the device JSON, and rates
 * between two interpretations of the same store. Besides not crashing or leaking: every text
 * the interpreter hands out is valid UTF-8 (JSON would drop it otherwise), ports are sorted
 * and unique, and every neighbour / host names an existing port or none.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snmp/snmp.h"

static void check_text(const char *s)
{
    json_t *j;

    if (!s)
        return;
    if (!(j = json_string(s))) {
        fprintf(stderr, "not UTF-8: %s\n", s);
        abort();
    }
    json_decref(j);
}

static const na_snmp_port *find_port(const na_snmp_device *dev, int64_t if_index)
{
    for (size_t k = 0; k < dev->n_ports; k++)
        if (dev->ports[k].if_index == if_index)
            return &dev->ports[k];
    return NULL;
}

static void check_device(const na_snmp_device *dev)
{
    const na_snmp_system *s = &dev->sys;

    check_text(s->descr);
    check_text(s->object_id);
    check_text(s->name);
    check_text(s->location);
    check_text(s->contact);
    check_text(s->chassis_id);
    for (size_t k = 0; k < dev->n_ports; k++) {
        const na_snmp_port *p = &dev->ports[k];
        if (k > 0 && dev->ports[k - 1].if_index >= p->if_index)
            abort();
        check_text(p->name);
        check_text(p->descr);
        check_text(p->alias);
        if (p->edge && (p->uplink || p->n_hosts == 0))
            abort();
    }
    for (size_t k = 0; k < dev->n_neighbors; k++) {
        const na_snmp_neighbor *n = &dev->neighbors[k];
        if (n->local_if_index >= 0 && !find_port(dev, n->local_if_index))
            abort();
        check_text(n->local_if_name);
        check_text(n->local_port_id);
        check_text(n->remote_sysname);
        check_text(n->remote_chassis_id);
        check_text(n->remote_port);
        check_text(n->remote_port_descr);
        check_text(n->remote_mgmt_ip);
        check_text(n->remote_platform);
    }
    for (size_t k = 0; k < dev->n_hosts; k++) {
        if (dev->hosts[k].if_index >= 0 && !find_port(dev, dev->hosts[k].if_index))
            abort();
        check_text(dev->hosts[k].ip);
        check_text(dev->hosts[k].port_name);
    }
    for (size_t k = 0; k < dev->n_sensors; k++) {
        check_text(dev->sensors[k].id);
        check_text(dev->sensors[k].descr);
    }
    for (size_t k = 0; k < dev->n_addresses; k++)
        check_text(dev->addresses[k]);
    for (size_t k = 0; k < dev->n_problems; k++)
        check_text(dev->problems[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    na_snmp_store *st = NULL;
    na_snmp_device *a = NULL, *b = NULL;
    na_snmprec_report rep;
    json_t *j;
    char *text;

    if (na__snmp_store_new(&st, NULL))
        return 0;
    if (na__snmprec_load((const char *)data, size, st, &rep, NULL) ||
        na__snmp_device_new(&a, NULL) || na__snmp_device_new(&b, NULL))
        goto out;
    if (na__snmp_interpret(st, NULL, "192.0.2.1:161", a, NULL) ||
        na__snmp_interpret(st, NULL, "fuzz", b, NULL))
        goto out;
    check_device(a);
    /* the same counters twice: no time step, no rates, never a crash */
    if (na__snmp_rates(a, b) != 0)
        abort();
    if (!(j = na__snmp_device_json(b)))
        abort();
    if (!(text = json_dumps(j, JSON_COMPACT)))
        abort();
    free(text);
    json_decref(j);
out:
    na__snmp_device_free(a);
    na__snmp_device_free(b);
    na__snmp_store_free(st);
    return 0;
}
