#!/usr/bin/python3
"""test_snmp_daemon.py: `netassure serve` with an snmp: section, against real agents.

snmpsimd serves copies of shared LibreNMS recordings and our small fixture; one device is the
bad agent's 'silent' mode (never answers). The daemon polls every 2 s (topology too, timeout
500 ms, no retries). Checked through the REST API (every answer validated against
docs/openapi.json by napi.Client) and the warehouse file:

- /status.snmp appears with polls >= 1; GET /devices lists every configured device (the silent
  one reachable false, the others with their recordings' port counts); GET /topology has a node
  per device, up or down accordingly; GET /devices/{id} returns the recording's ports; an
  unknown id is 404;
- unchanged polls make no new topology version and no new port row versions (they only touch
  meta_last_checked);
- a change on a device (one port's ifOperStatus goes from up to down in the served recording):
  the live device shows it, the LLDP link on that port goes down in /topology (a new version),
  ?at=T0 still shows the port and link up, ?at=now down; the warehouse holds two versions of
  that port and one of every other;
- GET /metrics?node_id=ID&name=snmp.reachable has samples (1 for a device that answers, 0 for
  the silent one);
- SIGTERM: exit status 0, no ERROR or sanitizer lines (napi.Daemon.stop).

Skips (exit 77, visibly) without snmpsimd or the shared recordings.
"""
import os
import shutil
import sqlite3
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
from napi import check, note, wait_for  # noqa: E402
from test_snmp_poll import (FIXTURE, RECORDINGS, BadAgent, SnmpSim,  # noqa: E402
                            compare_ports, doc_ports, expected_ports, install_signal_cleanup)

# node id -> community (= recording); names given since every shared recording's sysName is
# the same ('<private>')
DEVICES = {"dell": "dell-os10", "arista": "arista_eos_vrf", "small": "small"}
SILENT = "silent"


def now_text():
    return napi.fmt_time(datetime.now(timezone.utc))


def wh_port_versions(db_path):
    """{port row id: number of versions} from the warehouse file (read-only)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return dict(con.execute("SELECT id, count(*) FROM ports GROUP BY id").fetchall())
    finally:
        con.close()


def wh_last_checked(db_path):
    """(max meta_valid_from, max meta_last_checked) of the current port rows (text)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT max(meta_valid_from), max(meta_last_checked) FROM ports "
                           "WHERE meta_is_current = TRUE").fetchone()
    finally:
        con.close()


def snmp_status(c):
    """/status.snmp, read without the contract check (polled often; checked once in body)."""
    r = c.session.get(c.base + "/status", timeout=30)
    return (r.json() if r.status_code == 200 else {}).get("snmp") or {}


def links_on_port(topo, node, if_index):
    """The /topology links with one end on node's ifIndex."""
    out = []
    for lk in (topo or {}).get("links", []):
        a = lk.get("attributes") or {}
        if (lk.get("source") == node and a.get("a_if_index") == if_index) or \
           (lk.get("target") == node and a.get("b_if_index") == if_index):
            out.append(lk)
    return out


def body(d, sim, rec_paths):
    c = d.client()
    want_ids = sorted(list(DEVICES) + [SILENT])

    st = wait_for(lambda: (snmp_status(c).get("polls") or 0) >= 1 and snmp_status(c),
                  timeout=120, what="/status.snmp.polls >= 1")
    if not st:
        return
    check(st.get("configured_devices") == len(want_ids) and st.get("devices") == len(want_ids),
          "/status.snmp: configured_devices == devices == the configured count", st)
    check(st.get("unreachable") == 1, "/status.snmp: one device unreachable (silent)", st)
    check(st.get("interval_s") == 2 and st.get("topology_interval_s") == 2,
          "/status.snmp: the configured intervals", st)
    full = c.doc("/status") or {}  # validated against docs/openapi.json
    src = [x for x in full.get("sources", []) if x.get("type") == "snmp"]
    check(len(src) == 1 and src[0].get("state") == "ok",
          "/status.sources: the snmp source, state ok after a poll", full.get("sources"))

    # ---- the devices
    devs = c.doc("/devices") or []
    by = {x.get("node_id"): x for x in devs}
    check(sorted(by) == want_ids, "GET /devices lists every configured device", sorted(by))
    s = by.get(SILENT, {})
    check(s.get("reachable") is False and "timeout" in (s.get("reason") or ""),
          "GET /devices: the silent device is unreachable with reason timeout",
          (s.get("reachable"), s.get("reason")))
    for nid, community in DEVICES.items():
        x = by.get(nid, {})
        want = expected_ports(rec_paths[community])
        check(x.get("reachable") is True, f"GET /devices: {nid} reachable", x.get("reason"))
        check(x.get("ports") == len(want) and
              x.get("ports_up") == sum(1 for _, _, o in want if o == "up"),
              f"GET /devices: {nid} ports / ports_up as in its recording",
              (x.get("ports"), x.get("ports_up"), len(want)))
    topo = c.doc("/topology") or {}
    nodes = {n.get("id"): n for n in topo.get("nodes", [])}
    for nid in want_ids:
        want = "down" if nid == SILENT else "up"
        check(nodes.get(nid, {}).get("status") == want, f"GET /topology: node {nid} is {want}",
              nodes.get(nid))
    check("timeout" in str((nodes.get(SILENT, {}).get("attributes") or {}).get("reason")),
          "GET /topology: the silent node carries its reason", nodes.get(SILENT))
    for nid, community in DEVICES.items():
        dev = c.doc(f"/devices/{nid}") or {}
        compare_ports(doc_ports(dev), expected_ports(rec_paths[community]),
                      f"GET /devices/{nid}")
    c.get("/devices/no-such-device", expect=404)
    c.get(f"/devices/{SILENT}x", expect=404)

    # ---- unchanged polls: no new topology version, no new port rows
    polls0, version0 = snmp_status(c).get("polls") or 0, topo.get("version")
    versions0 = wh_port_versions(d.db_path)
    check(isinstance(version0, int) and version0 >= 1, "GET /topology: a version after a poll",
          version0)
    got = wait_for(lambda: (snmp_status(c).get("polls") or 0) >= polls0 + 3, timeout=90,
                   what="three more polls")
    if not got:
        return
    topo = c.doc("/topology") or {}
    check(topo.get("version") == version0,
          "unchanged polls: /topology version stays the same across 3 polls",
          f"{version0} -> {topo.get('version')}")
    versions = wh_port_versions(d.db_path)
    n_ports = sum(len(expected_ports(rec_paths[cm])) for cm in DEVICES.values())
    check(len(versions) == n_ports and set(versions.values()) == {1},
          "unchanged polls: one stored version per port",
          f"{len(versions)} ids (want {n_ports}); versions {sorted(set(versions.values()))}")
    check(versions == versions0, "unchanged polls: no port row added")
    vf, lc = wh_last_checked(d.db_path)
    check(vf is not None and lc is not None and lc > vf,
          "unchanged polls: meta_last_checked moves past meta_valid_from", (vf, lc))

    # ---- metrics
    for nid, value in (("dell", 1.0), (SILENT, 0.0)):
        pts = wait_for(lambda: (c.doc("/metrics", params={"node_id": nid,
                                                          "name": "snmp.reachable"})
                                or {}).get("points"),
                       timeout=30, what=f"/metrics snmp.reachable of {nid}")
        if pts:
            check(all(p.get("node_id") == nid and p.get("name") == "snmp.reachable"
                      for p in pts), f"/metrics: only {nid}'s snmp.reachable", pts[:3])
            check(len(pts) >= 2 and all(p.get("value") == value for p in pts),
                  f"/metrics: {nid} snmp.reachable samples are {value} (one per poll)",
                  [p.get("value") for p in pts][:10])

    # ---- a change: one up port of dell with an LLDP link goes down
    dev = c.doc("/devices/dell") or {}
    topo0 = c.doc("/topology") or {}
    pick = None
    for p in dev.get("ports", []):
        if p.get("ifOperStatus") == "up" and links_on_port(topo0, "dell", p.get("ifIndex")):
            pick = p
            break
    if not check(pick is not None, "dell has an up port with a link in /topology",
                 [lk.get("id") for lk in topo0.get("links", [])][:10]):
        return
    idx = pick["ifIndex"]
    link_ids = [lk["id"] for lk in links_on_port(topo0, "dell", idx)]
    check(all(lk.get("status") == "up" for lk in links_on_port(topo0, "dell", idx)),
          f"before: the links on dell:{idx} are up", link_ids)
    path = sim.data_path(DEVICES["dell"])
    with open(path, encoding="latin-1", newline="") as f:
        text = f.read()
    line = f"1.3.6.1.2.1.2.2.1.8.{idx}|2|1\n"
    if not check(text.count(line) == 1, f"the recording has ifOperStatus.{idx} = up once"):
        return
    t0 = now_text()
    time.sleep(1.1)  # T0 strictly before the change
    sim.replace(DEVICES["dell"], text.replace(line, f"1.3.6.1.2.1.2.2.1.8.{idx}|2|2\n"))
    note(f"dell ifIndex {idx} ({pick.get('ifName')}) set down at about {now_text()}; "
         f"T0 = {t0}")

    def port_of(doc):
        return next((p for p in (doc or {}).get("ports", []) if p.get("ifIndex") == idx), {})
    got = wait_for(lambda: port_of(c.doc("/devices/dell")).get("ifOperStatus") == "down",
                   timeout=90, what=f"GET /devices/dell shows ifIndex {idx} down")
    if not got:
        return
    # the engine applies the snapshot before the device tables: both are in once the live
    # document (set with the tables) shows it; wait for the stored rows all the same
    wait_for(lambda: wh_port_versions(d.db_path).get(f"dell:{idx}") == 2, timeout=30,
             what=f"the warehouse has a second version of dell:{idx}")
    topo1 = c.doc("/topology") or {}
    now_links = {lk["id"]: lk for lk in topo1.get("links", [])}
    check(all(now_links.get(i, {}).get("status") == "down" for i in link_ids),
          f"after: /topology links on dell:{idx} are down",
          [(i, now_links.get(i, {}).get("status")) for i in link_ids])
    check((topo1.get("version") or 0) > (topo0.get("version") or 0),
          "after: a new topology version", (topo0.get("version"), topo1.get("version")))
    then = c.doc("/devices/dell", params={"at": t0}) or {}
    check(port_of(then).get("ifOperStatus") == "up", f"/devices/dell?at=T0: ifIndex {idx} up",
          port_of(then))
    check(sorted(doc_ports(then)) == sorted(doc_ports(dev)),
          "/devices/dell?at=T0: the ports as polled before the change")
    now = c.doc("/devices/dell", params={"at": now_text()}) or {}
    check(port_of(now).get("ifOperStatus") == "down", f"/devices/dell?at=now: ifIndex {idx} down",
          port_of(now))
    check(sorted((i, n, "down" if i == idx else o) for i, n, o in doc_ports(dev)) ==
          sorted(doc_ports(now)), "/devices/dell?at=now: only that port changed")
    ups = sum(1 for _, _, o in doc_ports(dev) if o == "up")
    for at, want in ((t0, ups), (now_text(), ups - 1)):
        lst = {x.get("node_id"): x for x in c.doc("/devices", params={"at": at}) or []}
        check(lst.get("dell", {}).get("ports_up") == want and
              lst.get("dell", {}).get("ports") == len(doc_ports(dev)),
              f"GET /devices?at={'T0' if at == t0 else 'now'}: dell has {want} ports up",
              lst.get("dell"))
    old = {lk["id"]: lk for lk in (c.doc("/topology", params={"at": t0}) or {}).get("links", [])}
    check(all(old.get(i, {}).get("status") == "up" for i in link_ids),
          "/topology?at=T0: the links on that port were up",
          [(i, old.get(i, {}).get("status")) for i in link_ids])
    versions = wh_port_versions(d.db_path)
    check(versions.get(f"dell:{idx}") == 2, f"warehouse: dell:{idx} has 2 versions",
          versions.get(f"dell:{idx}"))
    others = {k: v for k, v in versions.items() if k != f"dell:{idx}"}
    check(len(others) == n_ports - 1 and set(others.values()) == {1},
          "warehouse: every other port has exactly 1 version",
          {k: v for k, v in others.items() if v != 1})


def main():
    install_signal_cleanup()
    if not shutil.which("snmpsimd"):
        napi.skip("snmpsimd is not installed (Debian: snmpsim)")
    rec_paths = {cm: os.path.join(RECORDINGS, cm + ".snmprec")
                 for cm in DEVICES.values() if cm != "small"}
    if not all(os.path.isfile(p) for p in rec_paths.values()):
        napi.skip(f"shared recordings {', '.join(rec_paths)} not found under {RECORDINGS}")
    rec_paths["small"] = FIXTURE
    sim = SnmpSim(rec_paths)
    agent = BadAgent()
    try:
        sim.start()
        agent.start()
        note(f"snmpsimd on udp/{sim.port}, bad agent on udp/{agent.port}")
        creds = [{"name": cm, "community": cm} for cm in DEVICES.values()]
        creds.append({"name": SILENT, "community": "silent"})
        devices = [{"host": "127.0.0.1", "port": sim.port, "credentials": cm, "name": nid}
                   for nid, cm in DEVICES.items()]
        devices.append({"host": "127.0.0.1", "port": agent.port, "credentials": SILENT,
                        "name": SILENT})
        cfg = napi.make_config([], extra={"snmp": {
            "interval": "2s", "topology_interval": "2s", "timeout": "500ms", "retries": 0,
            "credentials": creds, "devices": devices}})
        d = napi.Daemon(cfg)
        napi.run_with_daemon(d, lambda dd: body(dd, sim, rec_paths))
    except RuntimeError as e:
        check(False, "agents start", str(e))
    finally:
        agent.stop()
        sim.stop()
    return napi.finish("test_snmp_daemon")


if __name__ == "__main__":
    sys.exit(main())
