/*
 * test_snmp_rates.c: counter rates between two polls (snmp/rates.c): exact values, a Counter32
 * wrap, a Counter64 that went back, an agent restart, a sysUpTime wrap the wall clock confirms,
 * the wall clock when there is no sysUpTime, unknown speed, and the JSON of the result.
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

typedef struct port_spec {
    int64_t if_index;
    bool wide;
    uint64_t speed;
    uint64_t in_oct, out_oct, in_ucast, out_ucast, in_err, out_err, in_disc, out_disc;
} port_spec;

/* A device as the interpreter leaves it: ports sorted by ifIndex, in the device's arena. */
static na_snmp_device *device(bool has_uptime, uint32_t uptime, na_time_ms polled_at,
                              const port_spec *ports, size_t n)
{
    na_snmp_device *dev = NULL;
    na_error err;

    assert_int_equal(na__snmp_device_new(&dev, &err), 0);
    dev->reachable = true;
    dev->sys.has_uptime = has_uptime;
    dev->sys.uptime = uptime;
    dev->polled_at = polled_at;
    assert_non_null(dev->ports = na__arena_alloc(&dev->arena, (n ? n : 1) * sizeof(*dev->ports)));
    memset(dev->ports, 0, (n ? n : 1) * sizeof(*dev->ports));
    dev->n_ports = n;
    for (size_t k = 0; k < n; k++) {
        na_snmp_port *p = &dev->ports[k];
        p->if_index = ports[k].if_index;
        p->speed_bps = ports[k].speed;
        p->has_octets = p->has_errors = true;
        p->counters_64 = ports[k].wide;
        p->in_octets = ports[k].in_oct;
        p->out_octets = ports[k].out_oct;
        p->in_ucast = ports[k].in_ucast;
        p->out_ucast = ports[k].out_ucast;
        p->in_errors = ports[k].in_err;
        p->out_errors = ports[k].out_err;
        p->in_discards = ports[k].in_disc;
        p->out_discards = ports[k].out_disc;
    }
    return dev;
}

static void print_problems(const na_snmp_device *dev)
{
    for (size_t k = 0; k < dev->n_problems; k++)
        printf("  problem: %s\n", dev->problems[k]);
}

static void test_exact_rates_wrap_and_counter_going_back(void **state)
{
    /* 300 s apart by sysUpTime (the wall clock says 310: the agent's clock wins) */
    static const port_spec before[] = {
        {1, true, 1000000000, 1000000000, 2000000000, 100000, 200000, 10, 20, 30, 40},
        {2, false, 100000000, 4294967000u, 100, 4294967295u, 0, 4294967290u, 0, 0, 0},
        {3, true, 1000000000, 5000, 5000, 0, 0, 0, 0, 0, 0},
        {4, true, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    };
    static const port_spec after[] = {
        {1, true, 1000000000, 4750000000ull, 2750000000ull, 130000, 230000, 310, 320, 630, 640},
        {2, false, 100000000, 1000, 100, 29999, 0, 5, 0, 0, 0},
        {3, true, 1000000000, 100, 6000, 0, 0, 0, 0, 0, 0},
        {4, true, 0, 3000, 0, 0, 0, 0, 0, 0, 0},
        {5, true, 1000000, 10, 10, 0, 0, 0, 0, 0, 0},
    };
    na_snmp_device *prev = device(true, 1000, 1000000, before, 4);
    na_snmp_device *cur = device(true, 31000, 1310000, after, 5);
    const na_snmp_port *p;

    (void)state;
    assert_int_equal(na__snmp_rates(prev, cur), 3);
    print_problems(cur);
    assert_int_equal(cur->n_problems, 1);
    assert_string_equal(cur->problems[0],
                        "1 port without rates: a 64-bit counter went back (first ifIndex 3)");

    p = &cur->ports[0];
    assert_true(p->has_rates);
    test_assert_near(p->in_bps, 3750000000.0 * 8 / 300);  /* 1e8 */
    test_assert_near(p->out_bps, 750000000.0 * 8 / 300);  /* 2e7 */
    test_assert_near(p->in_pps, 100);
    test_assert_near(p->out_pps, 100);
    test_assert_near(p->in_errors_ps, 1);
    test_assert_near(p->out_errors_ps, 1);
    test_assert_near(p->in_discards_ps, 2);
    test_assert_near(p->out_discards_ps, 2);
    test_assert_near(p->util_in, 0.1);
    test_assert_near(p->util_out, 0.02);

    p = &cur->ports[1]; /* Counter32 wraps, unwrapped once */
    assert_true(p->has_rates);
    test_assert_near(p->in_bps, (1000.0 + 4294967296.0 - 4294967000.0) * 8 / 300);
    test_assert_near(p->in_pps, (29999.0 + 1) / 300);
    test_assert_near(p->in_errors_ps, 11.0 / 300);
    test_assert_near(p->util_in, (1296.0 * 8 / 300) / 1e8);

    assert_false(cur->ports[2].has_rates); /* HC in-octets went back */
    p = &cur->ports[3];
    assert_true(p->has_rates);
    test_assert_near(p->in_bps, 80);
    assert_true(isnan(p->util_in)); /* speed unknown */
    assert_true(isnan(p->util_out));
    assert_false(cur->ports[4].has_rates); /* new since the last poll */

    na__snmp_device_free(prev);
    na__snmp_device_free(cur);
}

static void test_agent_restart_gives_no_rates(void **state)
{
    static const port_spec ports[] = {{1, false, 1000, 10, 10, 0, 0, 0, 0, 0, 0}};
    static const port_spec later[] = {{1, false, 1000, 20, 20, 0, 0, 0, 0, 0, 0}};
    na_snmp_device *prev = device(true, 99999, 0, ports, 1);
    na_snmp_device *cur = device(true, 1234, 0, later, 1);

    (void)state;
    assert_int_equal(na__snmp_rates(prev, cur), 0);
    print_problems(cur);
    assert_int_equal(cur->n_problems, 1);
    assert_string_equal(cur->problems[0], "agent restarted (sysUpTime 1234 < 99999)");
    assert_false(cur->ports[0].has_rates);
    na__snmp_device_free(prev);
    na__snmp_device_free(cur);

    /* went back, and the wall clock (60 s) does not fit a 497-day wrap either */
    prev = device(true, 4294967000u, 1000000, ports, 1);
    cur = device(true, 500, 1060000, later, 1);
    assert_int_equal(na__snmp_rates(prev, cur), 0);
    assert_int_equal(cur->n_problems, 1);
    assert_string_equal(cur->problems[0],
                        "agent restarted (sysUpTime 500 < 4294967000)");
    na__snmp_device_free(prev);
    na__snmp_device_free(cur);
}

static void test_uptime_wrap_and_wall_clock(void **state)
{
    static const port_spec ports[] = {{1, true, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
    static const port_spec later[] = {{1, true, 0, 3000, 6000, 0, 0, 0, 0, 0, 0}};
    na_snmp_device *prev, *cur;

    (void)state;
    /* sysUpTime wrapped: 30000 ticks = 300 s, and the wall clock agrees */
    prev = device(true, 4294967000u, 1000000, ports, 1);
    cur = device(true, 29704, 1300000, later, 1);
    assert_int_equal(na__snmp_rates(prev, cur), 1);
    assert_int_equal(cur->n_problems, 0);
    test_assert_near(cur->ports[0].in_bps, 80);
    test_assert_near(cur->ports[0].out_bps, 160);
    na__snmp_device_free(prev);
    na__snmp_device_free(cur);

    /* no sysUpTime: the poller's clock, 60 s */
    prev = device(false, 0, 1000000, ports, 1);
    cur = device(false, 0, 1060000, later, 1);
    assert_int_equal(na__snmp_rates(prev, cur), 1);
    test_assert_near(cur->ports[0].in_bps, 400);
    na__snmp_device_free(prev);
    na__snmp_device_free(cur);

    /* no time between the polls */
    prev = device(true, 500, 0, ports, 1);
    cur = device(true, 500, 0, later, 1);
    assert_int_equal(na__snmp_rates(prev, cur), 0);
    assert_int_equal(cur->n_problems, 1);
    assert_string_equal(cur->problems[0], "no rates: sysUpTime did not advance (500)");
    na__snmp_device_free(prev);
    na__snmp_device_free(cur);

    /* no previous poll */
    cur = device(true, 500, 0, later, 1);
    assert_int_equal(na__snmp_rates(NULL, cur), 0);
    assert_int_equal(cur->n_problems, 0);
    na__snmp_device_free(cur);
}

static void test_counter_width_change(void **state)
{
    static const port_spec ports[] = {{1, false, 0, 10, 10, 0, 0, 0, 0, 0, 0}};
    static const port_spec later[] = {{1, true, 0, 20, 20, 0, 0, 0, 0, 0, 0}};
    na_snmp_device *prev = device(true, 100, 0, ports, 1);
    na_snmp_device *cur = device(true, 200, 0, later, 1);

    (void)state;
    assert_int_equal(na__snmp_rates(prev, cur), 0);
    assert_int_equal(cur->n_problems, 1);
    assert_string_equal(cur->problems[0],
                        "1 port without rates: counters changed between 32 and 64 bits");
    na__snmp_device_free(prev);
    na__snmp_device_free(cur);
}

static void test_rates_json(void **state)
{
    static const port_spec ports[] = {{7, true, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
    static const port_spec later[] = {{7, true, 0, 1500, 0, 10, 0, 0, 0, 0, 0}};
    na_snmp_device *prev = device(true, 0, 0, ports, 1);
    na_snmp_device *cur = device(true, 1000, 0, later, 1);
    json_t *j, *r;

    (void)state;
    assert_int_equal(na__snmp_rates(prev, cur), 1);
    assert_non_null(j = na__snmp_device_json(cur));
    r = json_object_get(json_array_get(json_object_get(j, "ports"), 0), "rates");
    assert_true(json_is_object(r));
    test_assert_near(json_real_value(json_object_get(r, "in_bps")), 1200);
    test_assert_near(json_real_value(json_object_get(r, "in_pps")), 1);
    assert_true(json_is_null(json_object_get(r, "util_in"))); /* NaN is null */
    json_decref(j);
    na__snmp_device_free(prev);
    na__snmp_device_free(cur);
}

/* End to end: two interpreted stores, 32-bit counters only. */
static na_snmp_device *interpreted(uint32_t uptime, uint32_t in_octets)
{
    char text[512];
    na_snmp_store *st = NULL;
    na_snmp_device *dev = NULL;
    na_error err;
    int len = snprintf(text, sizeof(text),
                       "1.3.6.1.2.1.1.3.0|67|%u\n1.3.6.1.2.1.1.5.0|4|sw\n"
                       "1.3.6.1.2.1.2.2.1.5.1|66|10000000\n"
                       "1.3.6.1.2.1.2.2.1.10.1|65|%u\n1.3.6.1.2.1.2.2.1.16.1|65|0\n",
                       uptime, in_octets);

    assert_int_equal(na__snmp_store_new(&st, &err), 0);
    assert_int_equal(na__snmprec_load(text, (size_t)len, st, NULL, &err), 0);
    assert_int_equal(na__snmp_device_new(&dev, &err), 0);
    assert_int_equal(na__snmp_interpret(st, NULL, "sw", dev, &err), 0);
    na__snmp_store_free(st);
    return dev;
}

static void test_interpreted_polls(void **state)
{
    na_snmp_device *prev = interpreted(6000, 4294000000u);
    na_snmp_device *cur = interpreted(12000, 7000000);

    (void)state;
    assert_int_equal(na__snmp_rates(prev, cur), 1);
    /* (7000000 + 2^32 - 4294000000) bytes in 60 s */
    test_assert_near(cur->ports[0].in_bps, (7000000.0 + 4294967296.0 - 4294000000.0) * 8 / 60);
    test_assert_near(cur->ports[0].util_in, cur->ports[0].in_bps / 1e7);
    na__snmp_device_free(prev);
    na__snmp_device_free(cur);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_rates_wrap_and_counter_going_back),
        cmocka_unit_test(test_agent_restart_gives_no_rates),
        cmocka_unit_test(test_uptime_wrap_and_wall_clock),
        cmocka_unit_test(test_counter_width_change),
        cmocka_unit_test(test_rates_json),
        cmocka_unit_test(test_interpreted_polls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
