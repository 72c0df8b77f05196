/*
 * rates.c: counter rates between two polls of one device.
 *
 * The time step is the agent's own sysUpTime delta when both polls have it (the counters and
 * sysUpTime come from the same clock, so collection delays cancel out), else the poller's wall
 * clock. A Counter32 that went back wrapped once; a Counter64 that went back, or a sysUpTime
 * that went back by more than a wrap explains, means the counters were reset: no rate is
 * better than a wrong one.
 */
#include "snmp/snmp.h"

#include <math.h>

#define WRAP32 4294967296.0

/* cur - prev for a counter; a 32-bit one wraps once. False when it went back. */
static bool counter_delta(uint64_t prev, uint64_t cur, bool wide, double *out)
{
    if (cur >= prev) {
        *out = (double)(cur - prev);
        return true;
    }
    if (wide || prev > UINT32_MAX)
        return false;
    *out = (double)cur + WRAP32 - (double)prev;
    return true;
}

static void clear_rates(na_snmp_port *p)
{
    p->has_rates = false;
    p->in_bps = p->out_bps = p->in_pps = p->out_pps = 0;
    p->in_errors_ps = p->out_errors_ps = p->in_discards_ps = p->out_discards_ps = 0;
    p->util_in = p->util_out = NAN;
}

/*
 * Seconds between the polls, or <= 0 when there are no rates (a problem is recorded in cur).
 * A sysUpTime that went back is a wrap (every 497 days) only when the wall clock agrees.
 */
static double time_step(const na_snmp_device *prev, na_snmp_device *cur)
{
    double wall = -1;

    if (prev->polled_at > 0 && cur->polled_at > 0)
        wall = (double)(cur->polled_at - prev->polled_at) / 1000.0;
    if (prev->sys.has_uptime && cur->sys.has_uptime) {
        double ticks;
        if (cur->sys.uptime >= prev->sys.uptime) {
            ticks = (double)(cur->sys.uptime - prev->sys.uptime);
        } else {
            ticks = (double)cur->sys.uptime + WRAP32 - (double)prev->sys.uptime;
            if (!(wall > 0 && fabs(ticks / 100.0 - wall) <= 0.1 * wall + 10.0)) {
                na__snmp_device_problem(cur, "agent restarted (sysUpTime %u < %u)",
                                        (unsigned)cur->sys.uptime, (unsigned)prev->sys.uptime);
                return 0;
            }
        }
        if (ticks <= 0 && wall > 0) {
            /* A frozen sysUpTime (broken agents, simulators): the poller's clock stands in. */
            na__snmp_device_problem(cur, "sysUpTime did not advance (%u); rates use the "
                                         "poller's clock", (unsigned)cur->sys.uptime);
            return wall;
        }
        if (ticks <= 0)
            na__snmp_device_problem(cur, "no rates: sysUpTime did not advance (%u)",
                                    (unsigned)cur->sys.uptime);
        return ticks / 100.0;
    }
    if (wall <= 0)
        na__snmp_device_problem(cur, "no rates: no time step between the polls");
    return wall;
}

size_t na__snmp_rates(const na_snmp_device *prev, na_snmp_device *cur)
{
    size_t with = 0, back = 0, width = 0;
    int64_t back_if = 0;
    double dt;

    for (size_t k = 0; k < cur->n_ports; k++)
        clear_rates(&cur->ports[k]);
    if (!prev || prev->n_ports == 0 || cur->n_ports == 0)
        return 0;
    if ((dt = time_step(prev, cur)) <= 0)
        return 0;
    for (size_t k = 0; k < cur->n_ports; k++) {
        na_snmp_port *p = &cur->ports[k];
        const na_snmp_port *q = na__snmp_port_find(prev, p->if_index);
        double in_o, out_o, in_u, out_u, in_e = NAN, out_e = NAN, in_d = NAN, out_d = NAN;
        bool wide = p->counters_64;

        if (!q || !p->has_octets || !q->has_octets)
            continue;
        if (p->counters_64 != q->counters_64) {
            width++;
            continue;
        }
        if (!counter_delta(q->in_octets, p->in_octets, wide, &in_o) ||
            !counter_delta(q->out_octets, p->out_octets, wide, &out_o) ||
            !counter_delta(q->in_ucast, p->in_ucast, wide, &in_u) ||
            !counter_delta(q->out_ucast, p->out_ucast, wide, &out_u)) {
            if (!back++)
                back_if = p->if_index;
            continue;
        }
        /* error and discard counters are Counter32 only (IF-MIB has no HC versions) */
        if (p->has_errors && q->has_errors &&
            !(counter_delta(q->in_errors, p->in_errors, false, &in_e) &&
              counter_delta(q->out_errors, p->out_errors, false, &out_e) &&
              counter_delta(q->in_discards, p->in_discards, false, &in_d) &&
              counter_delta(q->out_discards, p->out_discards, false, &out_d)))
            in_e = out_e = in_d = out_d = NAN;
        p->has_rates = true;
        p->in_bps = in_o * 8.0 / dt;
        p->out_bps = out_o * 8.0 / dt;
        p->in_pps = in_u / dt;
        p->out_pps = out_u / dt;
        p->in_errors_ps = in_e / dt;
        p->out_errors_ps = out_e / dt;
        p->in_discards_ps = in_d / dt;
        p->out_discards_ps = out_d / dt;
        p->util_in = p->speed_bps ? p->in_bps / (double)p->speed_bps : NAN;
        p->util_out = p->speed_bps ? p->out_bps / (double)p->speed_bps : NAN;
        with++;
    }
    if (back)
        na__snmp_device_problem(cur, "%zu port%s without rates: a 64-bit counter went back "
                                     "(first ifIndex %lld)",
                                back, back == 1 ? "" : "s", (long long)back_if);
    if (width)
        na__snmp_device_problem(cur, "%zu port%s without rates: counters changed between 32 and "
                                     "64 bits", width, width == 1 ? "" : "s");
    return with;
}
