"""The SNMP poller against real agents: snmpd + lldpd in five network namespaces (snmplab.py).

Needs root, `ip netns`, snmpd and lldpd; skipped visibly (exit 77) without them.

1. The lab itself: every switch answers SNMP from the root namespace, its LLDP-MIB lists its
   cabled neighbours by sysName, and the switches that send ifName port ids name the veths.
2. `netassure poll --device ... --community public --json`: every device reachable with
   system.sysName = swN and its veths ifOperStatus "up"; the links, as endpoint pairs
   {(a, a_port), (b, b_port)}, are exactly the veth wiring (no stubs: mgmt0 speaks no LLDP).
   The same over SNMPv3 authPriv; a wrong auth password: unreachable, with an auth reason.
3. `netassure serve` with an snmp section polling the lab every 2 s: GET /topology gets the
   five switches up (site lab-site, the site's coordinates) and the wiring up. Then sw1's end
   of sw1-sw2 goes down: the link turns "down" in /topology, GET /devices/sw1 has to-sw2
   ifOperStatus "down", /topology?at=T0 (before) still has it up, and the topology version
   grew. Back up: the link is up again.

Every answer of the daemon is checked against docs/openapi.json (napi.Client).
"""
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import napi  # noqa: E402
import snmplab  # noqa: E402
from napi import check, note  # noqa: E402

NAME = "test_snmp_lab"
BIN = napi.BIN
SITE = {"name": "lab-site", "latitude": 52.37, "longitude": 4.89}


# ---------------------------------------------------------------- helpers

def endpoints(a, a_port, b, b_port):
    """A link as the lab writes it: its two (node, port) ends, sorted."""
    return tuple(sorted(((a, a_port), (b, b_port))))


def port_name(p):
    for key in ("ifName", "name", "ifDescr", "descr"):
        if isinstance(p.get(key), str) and p.get(key):
            return p[key]
    return None


def ports_by_name(dev):
    out = {}
    for p in dev.get("ports") or []:
        if isinstance(p, dict) and port_name(p):
            out[port_name(p)] = p
    return out


def sysname(dev):
    sys_ = dev.get("system") if isinstance(dev, dict) else None
    return sys_.get("sysName") if isinstance(sys_, dict) else None


def run_poll(lab, args, what, devices=None, want_rc=0):
    """Runs netassure poll on the lab's devices (or `devices`); returns the parsed JSON or None.
    Exit status 0: every device answered, 1: some did not."""
    cmd = [BIN, "poll"]
    for ip in (devices if devices is not None else lab.ips()):
        cmd += ["--device", ip]
    cmd += args + ["--json"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        check(False, f"{what}: netassure poll finishes within 180 s", " ".join(cmd))
        return None
    if not check(p.returncode == want_rc, f"{what}: netassure poll exits {want_rc}",
                 f"status {p.returncode}; stderr:\n{p.stderr[-2000:]}"):
        return None
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        check(False, f"{what}: poll --json prints JSON", f"{e}: {p.stdout[:500]!r}")
        return None
    if not check(isinstance(doc, dict) and isinstance(doc.get("devices"), list)
                 and isinstance(doc.get("links"), list) and isinstance(doc.get("stubs"), list),
                 f"{what}: poll --json has devices, links and stubs arrays", p.stdout[:500]):
        return None
    return doc


def poll_links(doc):
    return [lk for lk in doc.get("links") or [] if isinstance(lk, dict)]


def check_poll_devices(lab, doc, what):
    devs = [d for d in doc["devices"] if isinstance(d, dict)]
    check(len(devs) == len(lab.switches()), f"{what}: one device per --device",
          f"{len(devs)} devices")
    names = sorted(n for n in (sysname(d) for d in devs) if n)
    check(names == lab.switches(), f"{what}: system.sysName of the devices are sw1..sw5", names)
    for d in devs:
        sw = sysname(d) or "?"
        check(d.get("reachable") is True, f"{what}: {sw} reachable",
              f"reachable {d.get('reachable')!r}, reason {d.get('reason')!r}")
        if sw not in lab.switches():
            continue
        ports = ports_by_name(d)
        for peer in lab.neighbours(sw):
            ifname = lab.port(sw, peer)
            p = ports.get(ifname)
            if check(p is not None, f"{what}: {sw} has port {ifname}", sorted(ports)):
                check(p.get("ifOperStatus") == "up", f"{what}: {sw} {ifname} ifOperStatus up",
                      json.dumps(p)[:300])


def check_poll_links(lab, doc, what):
    links = poll_links(doc)
    got = []
    for lk in links:
        got.append(endpoints(lk.get("a"), lk.get("a_port"), lk.get("b"), lk.get("b_port")))
        for key in ("id", "a", "b", "a_port", "b_port", "status", "speed", "protocol", "stub"):
            check(key in lk, f"{what}: link has {key}", json.dumps(lk)[:300])
        check(lk.get("status") == "up", f"{what}: link {lk.get('id')} up", json.dumps(lk)[:300])
        check(lk.get("protocol") == "lldp", f"{what}: link {lk.get('id')} found by lldp",
              json.dumps(lk)[:300])
        check(lk.get("stub") is False, f"{what}: link {lk.get('id')} is not a stub",
              json.dumps(lk)[:300])
    want = lab.expected_links()
    check(len(got) == len(set(got)), f"{what}: no link reported twice", sorted(got))
    check(set(got) == want, f"{what}: links are exactly the veth wiring",
          f"missing {sorted(want - set(got))}, extra {sorted(set(got) - want)}")
    check(doc.get("stubs") == [], f"{what}: no stubs (mgmt0 speaks no LLDP)",
          json.dumps(doc.get("stubs"))[:500])


# ---------------------------------------------------------------- 1. the lab

def lab_checks(lab):
    for sw in lab.switches():
        check(lab.snmpget(sw, snmplab.OID_SYSNAME) == sw, f"lab: {sw} answers sysName")
        check(lab.snmpget(sw, snmplab.OID_SYSNAME, v3=True) == sw,
              f"lab: {sw} answers sysName over SNMPv3 authPriv")
        check(lab.lldp_neighbours(sw) == lab.neighbours(sw), f"lab: {sw} LLDP neighbours",
              lab.lldp_neighbours(sw))
        rows = lab.snmpwalk(sw, snmplab.OID_LLDP_REM_TABLE + ".1") or {}  # lldpRemEntry
        # lldpRemPortIdSubtype (.6) and lldpRemPortId (.7) by index, with the sender's name (.9)
        by_index = {}
        for suffix, value in rows.items():
            col, _, index = suffix.partition(".")
            by_index.setdefault(index, {})[col] = value
        senders = sorted(cols.get("9") for cols in by_index.values())
        check(senders == lab.neighbours(sw), f"lab: {sw} lldpRemTable has a row per neighbour",
              senders)
        for index, cols in by_index.items():
            peer = cols.get("9")
            if peer not in lab.switches():
                continue
            if lab.port_id_subtype(peer) == "ifname":
                check(cols.get("6") == "5" and cols.get("7") == lab.port(peer, sw),
                      f"lab: {sw} sees {peer}'s port as ifName {lab.port(peer, sw)}", cols)
            check(cols.get("8") == lab.port(peer, sw),
                  f"lab: {sw} sees {peer}'s port description {lab.port(peer, sw)}", cols)


# ---------------------------------------------------------------- 2. netassure poll

def poll_checks(lab):
    p = subprocess.run([BIN, "poll", "--help"], capture_output=True, text=True, timeout=30)
    if not check(p.returncode == 0, "netassure poll --help works",
                 f"status {p.returncode}: {(p.stdout + p.stderr)[-500:]}"):
        return False
    doc = run_poll(lab, ["--community", snmplab.COMMUNITY], "poll v2c")
    if doc is not None:
        check_poll_devices(lab, doc, "poll v2c")
        check_poll_links(lab, doc, "poll v2c")
    # Crawl: only sw1 is given; the others are found through the neighbours' management
    # addresses (lldpRemManAddrTable), inside the allowed subnet, round after round.
    doc = run_poll(lab, ["--community", snmplab.COMMUNITY, "--crawl", lab.subnet],
                   "poll --crawl from sw1", devices=[lab.ip("sw1")])
    if doc is not None:
        check_poll_devices(lab, doc, "poll --crawl from sw1")
        check_poll_links(lab, doc, "poll --crawl from sw1")
    # Crawling is limited to the allowed subnets: none here, so sw1 alone, its peers as stubs.
    doc = run_poll(lab, ["--community", snmplab.COMMUNITY, "--crawl", "192.0.2.0/24"],
                   "poll --crawl outside the lab's subnet", devices=[lab.ip("sw1")])
    if doc is not None:
        check(len(doc["devices"]) == 1, "poll --crawl outside the subnet polls sw1 only",
              len(doc["devices"]))
        check(len(doc["stubs"]) == len(lab.neighbours("sw1")),
              "poll --crawl outside the subnet: sw1's neighbours are stubs",
              json.dumps(doc["stubs"])[:300])
    if lab.v3:
        v3 = ["--v3-user", snmplab.V3_USER, "--v3-level", "authPriv",
              "--v3-auth-proto", snmplab.V3_AUTH_PROTO, "--v3-auth-pass", snmplab.V3_AUTH_PASS,
              "--v3-priv-proto", snmplab.V3_PRIV_PROTO, "--v3-priv-pass", snmplab.V3_PRIV_PASS]
        doc = run_poll(lab, v3, "poll v3")
        if doc is not None:
            check_poll_devices(lab, doc, "poll v3")
            check_poll_links(lab, doc, "poll v3")
        wrong = list(v3)
        wrong[wrong.index(snmplab.V3_AUTH_PASS)] = "wrongauthpass"
        doc = run_poll(lab, wrong, "poll v3 wrong auth password", devices=[lab.ip("sw1")],
                       want_rc=1)
        if doc is not None:
            devs = doc["devices"]
            if check(len(devs) == 1 and isinstance(devs[0], dict),
                     "poll v3 wrong auth password: one device", json.dumps(devs)[:300]):
                d = devs[0]
                check(d.get("reachable") is False, "poll v3 wrong auth password: unreachable",
                      json.dumps(d)[:300])
                check("auth" in str(d.get("reason") or "").lower(),
                      "poll v3 wrong auth password: the reason names authentication",
                      repr(d.get("reason")))
        # The table (no --json) keeps the documented exit status too: 1, a device did not answer.
        p = subprocess.run([BIN, "poll", "--device", lab.ip("sw1")] + wrong, capture_output=True,
                           text=True, timeout=180)
        check(p.returncode == 1, "poll v3 wrong auth password, table: exit status 1",
              f"status {p.returncode}; stdout:\n{p.stdout[-500:]}")
    return True


# ---------------------------------------------------------------- 3. the daemon

def topo_link_ends(lk):
    """((node, port), (node, port)) of a /topology link, from its attributes when they name the
    ports, else from the poller's link id "A:portA|B:portB"."""
    attrs = lk.get("attributes") or {}
    for ka, kb in (("source_port", "target_port"), ("a_port", "b_port")):
        if isinstance(attrs.get(ka), str) and isinstance(attrs.get(kb), str):
            src, dst = (lk.get("source"), lk.get("target")) if ka == "source_port" \
                else (attrs.get("a", lk.get("source")), attrs.get("b", lk.get("target")))
            return endpoints(src, attrs[ka], dst, attrs[kb])
    parts = str(lk.get("id", "")).split("|")
    if len(parts) == 2 and all(":" in x for x in parts):
        (a, ap), (b, bp) = (x.split(":", 1) for x in parts)
        return endpoints(a, ap, b, bp)
    return None


def topo_state(doc):
    """{endpoints: status} of /topology's links and {id: node} of its nodes."""
    links = {}
    for lk in doc.get("links") or []:
        ends = topo_link_ends(lk)
        if ends is not None:
            links[ends] = lk.get("status")
    return links, {n.get("id"): n for n in doc.get("nodes") or []}


def daemon_config(lab, workdir):
    return {
        "log_level": "info",
        "warehouse": f"sqlite:{os.path.join(workdir, 'wh.db')}",
        "sources": [],
        "snmp": {
            "interval": "2s",
            "topology_interval": "2s",
            "timeout": "1s",
            "retries": 1,
            "credentials": [{"name": "lab", "version": "2c", "community": snmplab.COMMUNITY}],
            "devices": [{"host": ip, "credentials": "lab"} for ip in lab.ips()],
        },
        "sites": [{"name": SITE["name"], "latitude": SITE["latitude"],
                   "longitude": SITE["longitude"], "subnets": [lab.subnet]}],
    }


def daemon_checks(lab):
    d = napi.Daemon()
    d.config = daemon_config(lab, d.workdir)
    _daemons.append(d)
    want = lab.expected_links()
    cut = endpoints("sw1", lab.port("sw1", "sw2"), "sw2", lab.port("sw2", "sw1"))

    def body(d):
        c = d.client()

        def topology(params=None):
            r = c.get("/topology", params=params, expect=200)
            return r.doc if r.status_code == 200 and isinstance(r.doc, dict) else None

        def all_up():
            doc = topology()
            if doc is None:
                return None
            links, nodes = topo_state(doc)
            if sorted(nodes) != lab.switches() or any(n.get("status") != "up"
                                                        for n in nodes.values()):
                return None
            if set(links) != want or any(s != "up" for s in links.values()):
                return None
            return doc

        doc0 = napi.wait_for(all_up, timeout=90, step=0.5,
                             what="/topology with sw1..sw5 up and the veth wiring up")
        if doc0 is None:
            last = topology()
            note("last /topology: " + json.dumps(last)[:3000])
            return
        for n in doc0["nodes"]:
            check(n.get("site") == SITE["name"], f"daemon: {n['id']} in site lab-site",
                  json.dumps(n)[:300])
            check(napi.close(n.get("latitude"), SITE["latitude"], rel=1e-6)
                  and napi.close(n.get("longitude"), SITE["longitude"], rel=1e-6),
                  f"daemon: {n['id']} has the site's coordinates", json.dumps(n)[:300])
        devs = c.get("/devices", expect=200).doc
        ids = sorted(str(x.get("node_id")) for x in devs if isinstance(x, dict)) \
            if isinstance(devs, list) else None
        check(ids == lab.switches(), "daemon: GET /devices lists sw1..sw5", ids)
        for sw in lab.switches():
            dev = c.get(f"/devices/{sw}", expect=200).doc
            check(isinstance(dev, dict) and sysname(dev) == sw and dev.get("reachable") is True,
                  f"daemon: GET /devices/{sw} is the reachable device {sw}",
                  json.dumps(dev)[:300])
        v0 = doc0["version"]
        time.sleep(0.05)  # T0 strictly after the all-up version was observed
        t0 = datetime.now(timezone.utc)

        lab.set_link("sw1", "sw2", False)

        def cut_down():
            doc = topology()
            if doc is None:
                return None
            links, _ = topo_state(doc)
            return doc if links.get(cut) == "down" else None

        doc1 = napi.wait_for(cut_down, timeout=60, step=0.5,
                             what="/topology with sw1-sw2 down after sw1's to-sw2 went down")
        if doc1 is None:
            last = topology() or {}
            if cut not in topo_state(last)[0]:
                note("sw1-sw2 is absent, not down: lldpd drops the neighbour about 1 s after the "
                     "veth goes down, snmpd's cached ifTable shows the port down only 2-3 s "
                     "after; a poll between the two sees neither the neighbour nor a down port")
            note("last /topology: " + json.dumps(last)[:3000])
        else:
            links, _ = topo_state(doc1)
            check(all(s == "up" for e, s in links.items() if e != cut),
                  "daemon: the other links stay up", links)
        now = topology() or {}
        check(isinstance(now.get("version"), int) and now["version"] > v0,
              "daemon: the topology version grew", f"{v0} -> {now.get('version')}")

        def port_down(sw, ifname):
            r = c.get(f"/devices/{sw}", expect=200)
            p = ports_by_name(r.doc if isinstance(r.doc, dict) else {}).get(ifname)
            return p if p is not None and p.get("ifOperStatus") == "down" else None

        napi.wait_for(lambda: port_down("sw1", "to-sw2"), timeout=30, step=0.5,
                      what="GET /devices/sw1: to-sw2 ifOperStatus down")
        napi.wait_for(lambda: port_down("sw2", "to-sw1"), timeout=30, step=0.5,
                      what="GET /devices/sw2: to-sw1 ifOperStatus down (the veth's far end)")

        past = topology({"at": napi.fmt_time(t0)})
        if check(past is not None, "daemon: GET /topology?at=T0 answers"):
            links, nodes = topo_state(past)
            check(links.get(cut) == "up", "daemon: /topology?at=T0 still has sw1-sw2 up",
                  links)
            check(set(links) == want and all(s == "up" for s in links.values()),
                  "daemon: /topology?at=T0 has the whole wiring up", links)
            check(past.get("version") == v0, "daemon: /topology?at=T0 is the version seen then",
                  f"{past.get('version')} vs {v0}")
        dev_past = c.get("/devices/sw1", params={"at": napi.fmt_time(t0)}, expect=200).doc
        p = ports_by_name(dev_past if isinstance(dev_past, dict) else {}).get("to-sw2")
        check(p is not None and p.get("ifOperStatus") == "up",
              "daemon: GET /devices/sw1?at=T0 has to-sw2 up", json.dumps(p)[:300])

        lab.set_link("sw1", "sw2", True)
        napi.wait_for(all_up, timeout=60, step=0.5,
                      what="/topology with sw1-sw2 up again")
        napi.wait_for(lambda: ports_by_name(c.get("/devices/sw1", expect=200).doc or {})
                      .get("to-sw2", {}).get("ifOperStatus") == "up", timeout=30, step=0.5,
                      what="GET /devices/sw1: to-sw2 ifOperStatus up again")

    napi.run_with_daemon(d, body)


_daemons = []


def _stop_daemons():
    for d in _daemons:
        if d.proc is not None and d.proc.poll() is None:
            d.proc.kill()


def main():
    why = snmplab.missing_tools()
    if why:
        napi.skip("the SNMP lab needs " + "; ".join(why))
    if not os.path.exists(BIN):
        check(False, "NETASSURE_BIN exists", BIN)
        return napi.finish(NAME)
    snmplab.add_cleanup(_stop_daemons)
    try:
        with snmplab.Lab() as lab:
            lab_checks(lab)
            if poll_checks(lab):
                daemon_checks(lab)
            else:
                note("netassure poll does not work: the daemon part is not run")
    except snmplab.LabError as e:
        check(False, "the lab comes up", str(e))
    return napi.finish(NAME)


if __name__ == "__main__":
    sys.exit(main())
