/*
 * device_json.c: one interpreted device as the `poll --json` object (docs/snmp.md). Every key
 * is always present; what the device did not give is null, so consumers need no existence
 * checks. Port statuses are IF-MIB names, as LibreNMS and operators write them.
 */
#include "netassure/report.h"
#include "snmp/snmp.h"

#include <math.h>
#include <stdio.h>

static json_t *u64_json(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
}

static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *mac_json(const uint8_t *m)
{
    char buf[18];

    return json_string(na__snmp_mac_format(m, buf));
}

static json_t *system_json(const na_snmp_system *s)
{
    json_t *o = json_object();

    json_object_set_new(o, "sysDescr", na_json_str(s->descr));
    json_object_set_new(o, "sysObjectID", na_json_str(s->object_id));
    json_object_set_new(o, "sysName", na_json_str(s->name));
    json_object_set_new(o, "sysUpTime", s->has_uptime ? json_integer(s->uptime) : json_null());
    json_object_set_new(o, "sysLocation", na_json_str(s->location));
    json_object_set_new(o, "sysContact", na_json_str(s->contact));
    json_object_set_new(o, "chassis_id", na_json_str(s->chassis_id));
    json_object_set_new(o, "chassis_id_subtype",
                        s->chassis_subtype ? json_integer(s->chassis_subtype) : json_null());
    return o;
}

static json_t *port_json(const na_snmp_port *p)
{
    json_t *o = json_object(), *counters = json_null(), *rates = json_null();

    json_object_set_new(o, "ifIndex", json_integer(p->if_index));
    json_object_set_new(o, "ifName", na_json_str(p->name));
    json_object_set_new(o, "ifDescr", na_json_str(p->descr));
    json_object_set_new(o, "ifAlias", na_json_str(p->alias));
    json_object_set_new(o, "ifType", p->if_type ? json_integer(p->if_type) : json_null());
    json_object_set_new(o, "ifAdminStatus", na_json_str(na__if_status_name(p->admin_status)));
    json_object_set_new(o, "ifOperStatus", na_json_str(na__if_status_name(p->oper_status)));
    json_object_set_new(o, "ifSpeed", p->speed_bps ? u64_json(p->speed_bps) : json_null());
    json_object_set_new(o, "ifMtu", p->mtu >= 0 ? json_integer(p->mtu) : json_null());
    json_object_set_new(o, "ifLastChange", json_integer(p->last_change));
    json_object_set_new(o, "mac", p->has_mac ? mac_json(p->mac) : json_null());
    if (p->has_octets || p->has_errors) {
        counters = json_object();
        json_object_set_new(counters, "bits", json_integer(p->counters_64 ? 64 : 32));
        if (p->has_octets) {
            json_object_set_new(counters, "in_octets", u64_json(p->in_octets));
            json_object_set_new(counters, "out_octets", u64_json(p->out_octets));
            json_object_set_new(counters, "in_ucast_pkts", u64_json(p->in_ucast));
            json_object_set_new(counters, "out_ucast_pkts", u64_json(p->out_ucast));
        }
        if (p->has_errors) {
            json_object_set_new(counters, "in_errors", u64_json(p->in_errors));
            json_object_set_new(counters, "out_errors", u64_json(p->out_errors));
            json_object_set_new(counters, "in_discards", u64_json(p->in_discards));
            json_object_set_new(counters, "out_discards", u64_json(p->out_discards));
        }
    }
    json_object_set_new(o, "counters", counters);
    if (p->has_rates) {
        rates = json_object();
        json_object_set_new(rates, "in_bps", real_or_null(p->in_bps));
        json_object_set_new(rates, "out_bps", real_or_null(p->out_bps));
        json_object_set_new(rates, "in_pps", real_or_null(p->in_pps));
        json_object_set_new(rates, "out_pps", real_or_null(p->out_pps));
        json_object_set_new(rates, "in_errors_ps", real_or_null(p->in_errors_ps));
        json_object_set_new(rates, "out_errors_ps", real_or_null(p->out_errors_ps));
        json_object_set_new(rates, "in_discards_ps", real_or_null(p->in_discards_ps));
        json_object_set_new(rates, "out_discards_ps", real_or_null(p->out_discards_ps));
        json_object_set_new(rates, "util_in", real_or_null(p->util_in));
        json_object_set_new(rates, "util_out", real_or_null(p->util_out));
    }
    json_object_set_new(o, "rates", rates);
    json_object_set_new(o, "hosts", json_integer((json_int_t)p->n_hosts));
    json_object_set_new(o, "uplink", json_boolean(p->uplink));
    json_object_set_new(o, "edge", json_boolean(p->edge));
    return o;
}

static json_t *neighbor_json(const na_snmp_neighbor *n)
{
    json_t *o = json_object();

    json_object_set_new(o, "protocol", na_json_str(n->protocol));
    json_object_set_new(o, "local_ifIndex",
                        n->local_if_index >= 0 ? json_integer(n->local_if_index) : json_null());
    json_object_set_new(o, "local_ifName", na_json_str(n->local_if_name));
    json_object_set_new(o, "local_port_id", na_json_str(n->local_port_id));
    json_object_set_new(o, "remote_sysname", na_json_str(n->remote_sysname));
    json_object_set_new(o, "remote_chassis_id", na_json_str(n->remote_chassis_id));
    json_object_set_new(o, "remote_chassis_id_subtype",
                        n->chassis_subtype ? json_integer(n->chassis_subtype) : json_null());
    json_object_set_new(o, "remote_port", na_json_str(n->remote_port));
    json_object_set_new(o, "remote_port_subtype",
                        n->port_subtype ? json_integer(n->port_subtype) : json_null());
    json_object_set_new(o, "remote_port_descr", na_json_str(n->remote_port_descr));
    json_object_set_new(o, "remote_mgmt_ip", na_json_str(n->remote_mgmt_ip));
    json_object_set_new(o, "remote_platform", na_json_str(n->remote_platform));
    return o;
}

static json_t *host_json(const na_snmp_host *h)
{
    json_t *o = json_object();

    json_object_set_new(o, "mac", mac_json(h->mac));
    json_object_set_new(o, "ip", na_json_str(h->ip));
    json_object_set_new(o, "ifIndex", h->if_index >= 0 ? json_integer(h->if_index) : json_null());
    json_object_set_new(o, "port", na_json_str(h->port_name));
    json_object_set_new(o, "vlan", h->vlan ? json_integer(h->vlan) : json_null());
    json_object_set_new(o, "source", na_json_str(h->source));
    return o;
}

static json_t *sensor_json(const na_snmp_sensor *s)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", na_json_str(s->id));
    json_object_set_new(o, "kind", na_json_str(s->kind));
    json_object_set_new(o, "descr", na_json_str(s->descr));
    json_object_set_new(o, "value", s->has_value ? real_or_null(s->value) : json_null());
    json_object_set_new(o, "unit", na_json_str(s->unit));
    json_object_set_new(o, "status", na_json_str(s->status));
    return o;
}

static json_t *strings_json(const char *const *v, size_t n)
{
    json_t *a = json_array();

    for (size_t k = 0; k < n; k++)
        json_array_append_new(a, na_json_str(v[k]));
    return a;
}

json_t *na__snmp_device_json(const na_snmp_device *dev)
{
    json_t *o = json_object(), *a;
    char when[40];

    if (!o)
        return NULL;
    json_object_set_new(o, "target", na_json_str(dev->target));
    json_object_set_new(o, "node_id", na_json_str(dev->node_id));
    json_object_set_new(o, "mgmt_ip", na_json_str(dev->mgmt_ip));
    json_object_set_new(o, "reachable", json_boolean(dev->reachable));
    json_object_set_new(o, "reason", na_json_str(dev->reason));
    json_object_set_new(o, "polled_at", dev->polled_at > 0
                                            ? json_string(na_time_format(dev->polled_at, when,
                                                                         sizeof(when)))
                                            : json_null());
    json_object_set_new(o, "duration_ms", json_real(dev->duration_ms));
    json_object_set_new(o, "requests", json_integer((json_int_t)dev->requests));
    json_object_set_new(o, "varbinds", json_integer((json_int_t)dev->varbinds));
    json_object_set_new(o, "system", system_json(&dev->sys));

    a = json_array();
    for (size_t k = 0; k < dev->n_ports; k++)
        json_array_append_new(a, port_json(&dev->ports[k]));
    json_object_set_new(o, "ports", a);
    a = json_array();
    for (size_t k = 0; k < dev->n_neighbors; k++)
        json_array_append_new(a, neighbor_json(&dev->neighbors[k]));
    json_object_set_new(o, "neighbors", a);
    a = json_array();
    for (size_t k = 0; k < dev->n_hosts; k++)
        json_array_append_new(a, host_json(&dev->hosts[k]));
    json_object_set_new(o, "hosts", a);
    a = json_array();
    for (size_t k = 0; k < dev->n_sensors; k++)
        json_array_append_new(a, sensor_json(&dev->sensors[k]));
    json_object_set_new(o, "sensors", a);
    json_object_set_new(o, "addresses", strings_json(dev->addresses, dev->n_addresses));

    json_object_set_new(o, "site", na_json_str(dev->site));
    json_object_set_new(o, "latitude", dev->has_coords ? real_or_null(dev->latitude) : json_null());
    json_object_set_new(o, "longitude",
                        dev->has_coords ? real_or_null(dev->longitude) : json_null());
    json_object_set_new(o, "geo_source", na_json_str(dev->geo_source));
    json_object_set_new(o, "problems", strings_json(dev->problems, dev->n_problems));
    return o;
}
