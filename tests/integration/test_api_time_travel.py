#!/usr/bin/python3
"""Time travel through the REST API and straight on the warehouse.

Snapshots A, B and C of a small topology are written to a watched file one after the other;
/status tells when each became the topology (topology.updated_at: t1 < t2 < t3). For a time
inside each interval [t1, t2), [t2, t3), [t3, now], every read endpoint with ?at= must answer
that interval's state (topology, nodes, one node, links, clusters, analytics, alerts, one alert,
metrics, anomalies, config, status), and /analytics/diff between two intervals must equal
`netassure diff` of the two snapshot files. The seed's two SQL queries (docs: seed 004) run on
the warehouse itself: `SELECT * FROM nodes WHERE meta_is_current = TRUE` and the point-in-time
`meta_valid_from <= t AND t < meta_valid_to` give the same node sets.

Runs on SQLite (DATA_DIR/netassure.db) and, when NETASSURE_PG_URL is set (a libpq URI of a
server where we may CREATE DATABASE), again on a fresh PostgreSQL database that is dropped
afterwards."""
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
from napi import check, close  # noqa: E402

import networkx as nx  # noqa: E402

RULES = [
    {"name": "spof", "type": "articulation_point", "severity": "major"},
    {"name": "node-down", "type": "node_down", "severity": "critical"},
    {"name": "link-down", "type": "link_down", "severity": "minor"},
]


def node(i, label=None, status="up", **kw):
    n = {"id": i, "label": label or f"node {i}", "role": "core", "site": "s1", "status": status}
    n.update(kw)
    return n


def link(s, t, status="up"):
    return {"id": f"{s}-{t}", "source": s, "target": t, "status": status}


SNAPSHOTS = {
    # a - b - c: b is the articulation point.
    "A": {"type": "snapshot", "name": "tt", "nodes": [node("a", "alpha"), node("b"), node("c")],
          "links": [link("a", "b"), link("b", "c")]},
    # a relabelled, d added, b-c down: up links a-b, c-a, c-d: a path b-a-c-d (a and c cut).
    "B": {"type": "snapshot", "name": "tt",
          "nodes": [node("a", "alpha-2"), node("b"), node("c"), node("d", role="edge")],
          "links": [link("a", "b"), link("b", "c", "down"), link("c", "a"), link("c", "d")]},
    # b-c up again, c-d gone, d down and alone, e hangs off c: triangle + pendant (c cut).
    "C": {"type": "snapshot", "name": "tt",
          "nodes": [node("a", "alpha-2"), node("b"), node("c"), node("d", status="down", role="edge"),
                    node("e", role="edge")],
          "links": [link("a", "b"), link("b", "c"), link("c", "a"), link("c", "e")]},
}


def expected(snap):
    g = napi.up_graph(snap["nodes"], snap["links"])
    e_all = nx.global_efficiency(g)
    return {
        "ids": sorted(n["id"] for n in snap["nodes"]),
        "links": sorted(lk["id"] for lk in snap["links"]),
        "labels": {n["id"]: n["label"] for n in snap["nodes"]},
        "down": sorted(n["id"] for n in snap["nodes"] if n["status"] == "down"),
        "down_links": sorted(lk["id"] for lk in snap["links"] if lk["status"] == "down"),
        "aps": sorted(nx.articulation_points(g)),
        "components": sorted(sorted(c) for c in nx.connected_components(g)),
        "importance": {v: napi.importance(g, v, e_all) for v in g},
        "efficiency": e_all,
        "degree": dict(g.degree()),
    }


def sql_sets_sqlite(db, point):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cur = sorted(r[0] for r in con.execute("SELECT id FROM nodes WHERE meta_is_current = TRUE"))
        cols = [r[1] for r in con.execute("PRAGMA table_info(nodes)")]
        kinds = {r[0] for r in con.execute("SELECT DISTINCT typeof(meta_valid_from) FROM nodes")}
        check(kinds == {"text"}, "sqlite nodes.meta_valid_from holds text ('YYYY-MM-DD HH:MM:SS.mmm')",
              kinds)
        # The seed's query (its comparison fixed as the seed's English summary says), SELECT *.
        rows = con.execute("SELECT * FROM nodes WHERE meta_valid_from <= ? AND ? < meta_valid_to",
                           (point, point)).fetchall()
        at = sorted(r[cols.index("id")] for r in rows)
        full = con.execute("SELECT * FROM nodes WHERE meta_is_current = TRUE").fetchall()
        return cur, at, cols, full
    finally:
        con.close()


psql = napi.psql


def sql_sets_pg(url, point):
    cur = sorted(psql(url, "SELECT id FROM nodes WHERE meta_is_current = TRUE"))
    at = sorted(psql(url, f"SELECT id FROM nodes WHERE meta_valid_from <= '{point}' "
                          f"AND '{point}' < meta_valid_to"))
    return cur, at


def wait_version(c, v, timeout=60):
    return napi.wait_for(lambda: napi.status(c)["topology"]["version"] >= v, timeout=timeout,
                         what=f"topology version {v}")


def scenario(label, warehouse=None, pg_url=None):
    print(f"=== time travel on {label}", flush=True)
    d = napi.Daemon()
    net = d.path("net.json")
    files = {}
    for k, snap in SNAPSHOTS.items():
        files[k] = d.path(f"snap-{k}.json")
        napi.write_json_atomic(files[k], snap)
    napi.write_json_atomic(net, SNAPSHOTS["A"])
    extra = {"warehouse": warehouse} if warehouse else None
    d.config = napi.make_config([{"name": "net", "type": "file", "path": "net.json", "watch": True,
                                  "interval": "1s"}], rules=RULES, extra=extra)
    try:
        d.start()
    except RuntimeError as e:
        check(False, f"[{label}] daemon starts", str(e))
        return
    try:
        run(d, label, net, files, pg_url)
    finally:
        d.stop()


def run(d, label, net, files, pg_url):
    c = d.client()
    st = napi.wait_analysed(c, 1)
    if not st:
        return
    check(st["warehouse"]["backend"] == ("postgresql" if pg_url else "sqlite"),
          f"[{label}] warehouse backend", st["warehouse"])
    if pg_url:
        pw = urllib.parse.urlsplit(pg_url).password
        check(not pw or pw not in st["warehouse"]["location"], f"[{label}] location without password",
              st["warehouse"]["location"])
    states = []   # (name, version, t_start, computed_at)
    brand = {}

    def record(name, st):
        states.append((name, st["topology"]["version"], napi.parse_time(st["topology"]["updated_at"]),
                       napi.parse_time(st["analytics"]["computed_at"])))

    record("A", st)
    for name in ("B", "C"):
        time.sleep(1.2)  # everything derived from the previous version is written by now
        v = states[-1][1] + 1
        napi.write_json_atomic(net, SNAPSHOTS[name])
        if not wait_version(c, v):
            return
        st = napi.wait_analysed(c, v)
        if not st:
            return
        check(st["topology"]["version"] == v, f"[{label}] one new version per rewrite", st["topology"])
        record(name, st)
        # A config change inside this interval: visible from here on, not before.
        brand[name] = f"brand-{name}"
        r = c.put("/config", {"branding": {"product_name": brand[name], "primary_color": "#123456",
                                           "accent_color": "#654321"}}, expect=200)
        check(napi.as_dict(r.doc).get("branding", {}).get("product_name") == brand[name],
              f"[{label}] PUT /config in interval {name}")
    time.sleep(1.2)
    t_end = napi.parse_time(napi.status(c)["now"])
    ts = [s[2] for s in states]
    check(ts[0] < ts[1] < ts[2], f"[{label}] t1 < t2 < t3", ts)

    # A time inside each interval, late enough that the interval's analytics and alerts exist.
    points = []
    for i, (name, version, t0, ca) in enumerate(states):
        p = (states[i + 1][2] if i + 1 < len(states) else t_end) - timedelta(milliseconds=300)
        check(p > ca and p > t0, f"[{label}] interval {name}: the probe time follows the analysis",
              (t0, ca, p))
        points.append((name, version, p))
    first_brand = "NetAssure Test"
    brand_at = {"A": first_brand, "B": brand["B"], "C": brand["C"]}

    for name, version, p in points:
        exp = expected(SNAPSHOTS[name])
        at = napi.fmt_time(p)
        q = {"at": at}
        tag = f"[{label}] at {name} ({at})"
        topo = c.doc("/topology", q) or {}
        check(topo.get("at") == at, f"{tag} /topology at", topo.get("at"))
        check(topo.get("version") == version, f"{tag} /topology version", topo.get("version"))
        check(sorted(n["id"] for n in topo.get("nodes", [])) == exp["ids"], f"{tag} /topology nodes",
              [n["id"] for n in topo.get("nodes", [])])
        check(sorted(lk["id"] for lk in topo.get("links", [])) == exp["links"], f"{tag} /topology links")
        check({n["id"]: n.get("label") for n in topo.get("nodes", [])} == exp["labels"], f"{tag} labels")
        nodes = c.doc("/nodes", q) or []
        check(sorted(n["id"] for n in nodes) == exp["ids"], f"{tag} /nodes", [n["id"] for n in nodes])
        down = c.doc("/nodes", {"at": at, "status": "down"}) or []
        check(sorted(n["id"] for n in down) == exp["down"], f"{tag} /nodes?status=down")
        na = c.doc("/nodes/a", q) or {}
        check(na.get("label") == exp["labels"]["a"] and na.get("at") == at, f"{tag} /nodes/a label",
              (na.get("label"), na.get("at")))
        check(na.get("analytics", {}).get("degree") == exp["degree"]["a"], f"{tag} /nodes/a degree",
              na.get("analytics"))
        check(sorted(na.get("neighbors", [])) ==
              sorted({lk["target"] if lk["source"] == "a" else lk["source"]
                      for lk in SNAPSHOTS[name]["links"] if "a" in (lk["source"], lk["target"])}),
              f"{tag} /nodes/a neighbors", na.get("neighbors"))
        c.get("/nodes/e", q, expect=200 if "e" in exp["ids"] else 404)
        c.get("/nodes/d", q, expect=200 if "d" in exp["ids"] else 404)
        links = c.doc("/links", q) or []
        check(sorted(lk["id"] for lk in links) == exp["links"], f"{tag} /links")
        dl = c.doc("/links", {"at": at, "status": "down"}) or []
        check(sorted(lk["id"] for lk in dl) == exp["down_links"], f"{tag} /links?status=down")
        cl = c.doc("/clusters", q) or {}
        check(cl.get("topology_version") == version and cl.get("at") == at, f"{tag} /clusters version")
        comps = sorted(sorted(x["nodes"]) for x in cl.get("clusters", []) if x["kind"] == "component")
        check(comps == exp["components"], f"{tag} /clusters components", comps)
        for kind in ("centrality", "communities", "robustness", "motifs", "spectral", "structure"):
            r = c.doc(f"/analytics/{kind}", q) or {}
            check(r.get("topology_version") == version and r.get("at") == at and r.get("kind") == kind,
                  f"{tag} /analytics/{kind} version", (r.get("topology_version"), r.get("at")))
            rn = {n["id"]: n for n in r.get("result", {}).get("nodes", [])}
            check(sorted(rn) == exp["ids"], f"{tag} /analytics/{kind} nodes", sorted(rn))
            if kind == "robustness":
                for v, want in exp["importance"].items():
                    check(close(rn.get(v, {}).get("importance"), want, rel=1e-9, abs_=1e-12),
                          f"{tag} importance of {v}", (rn.get(v, {}).get("importance"), want))
                check(close(r.get("result", {}).get("efficiency"), exp["efficiency"], rel=1e-9),
                      f"{tag} efficiency")
            if kind == "structure":
                check(sorted(v for v, n in rn.items() if n.get("articulation_point")) == exp["aps"],
                      f"{tag} structure articulation points")
        alerts = c.doc("/alerts", {"at": at, "status": "active"}) or []
        spof = sorted(a["node_id"] for a in alerts if a["rule"] == "spof")
        check(spof == exp["aps"], f"{tag} active spof alerts = articulation points", (spof, exp["aps"]))
        nd = sorted(a["node_id"] for a in alerts if a["rule"] == "node-down")
        check(nd == exp["down"], f"{tag} active node-down alerts", nd)
        ld = [a for a in alerts if a["rule"] == "link-down"]
        for lid in exp["down_links"]:
            check(any(lid in json.dumps(a) for a in ld), f"{tag} link-down alert for {lid}", ld)
        if not exp["down_links"]:
            check(not any("b-c" in json.dumps(a) for a in ld), f"{tag} no link-down alert for b-c", ld)
        every = c.doc("/alerts", q) or []
        check(all(napi.parse_time(a["created_at"]) <= p for a in every), f"{tag} no alert from the future",
              [a["created_at"] for a in every])
        anomalies = c.doc("/anomalies", q) or []
        check(all(napi.parse_time(a["detected_at"]) <= p for a in anomalies),
              f"{tag} no anomaly from the future")
        m = c.doc("/metrics", {"at": at, "name": "nodes"}) or {}
        pts = m.get("points", [])
        check(pts and all(napi.parse_time(x["at"]) <= p for x in pts)
              and max(pts, key=lambda x: x["at"])["value"] == len(exp["ids"]),
              f"{tag} /metrics nodes as of then", pts[-3:])
        cfg = c.doc("/config", q) or {}
        check(cfg.get("branding", {}).get("product_name") == brand_at[name] and cfg.get("at") == at,
              f"{tag} /config branding", cfg.get("branding"))
        st = c.doc("/status", q) or {}
        check(st.get("at") == at and st.get("topology", {}).get("version") == version
              and st.get("topology", {}).get("nodes") == len(exp["ids"])
              and st.get("topology", {}).get("links") == len(exp["links"]),
              f"{tag} /status topology", (st.get("at"), st.get("topology")))
        check(st.get("counts", {}).get("nodes") == len(exp["ids"]), f"{tag} /status counts.nodes",
              st.get("counts"))
        check(st.get("counts", {}).get("alerts_active") == len(alerts), f"{tag} /status counts.alerts_active",
              (st.get("counts"), len(alerts)))

        # The warehouse itself, with the seed's queries.
        point = napi.db_time(p)
        try:
            if pg_url:
                cur, at_ids = sql_sets_pg(pg_url, point)
            else:
                cur, at_ids, cols, full = sql_sets_sqlite(d.db_path, point)
                for col in ("meta_valid_from", "meta_valid_to", "meta_last_checked", "meta_is_current"):
                    check(col in cols, f"[{label}] nodes has column {col}", cols)
            check(at_ids == exp["ids"], f"{tag} SQL point-in-time node set", (at_ids, exp["ids"]))
            check(cur == expected(SNAPSHOTS["C"])["ids"], f"[{label}] SQL meta_is_current node set", cur)
        except (sqlite3.Error, RuntimeError) as e:
            check(False, f"{tag} SQL on the warehouse", repr(e))

    # Asked again, in the reverse order and at other times inside the same intervals (the daemon
    # caches the text of past versions): each answer is still that interval's state, and the
    # same bytes as the first answer apart from "at" and "timestamp".
    first = {}
    for name, version, p in points:
        first[name] = c.doc("/topology", {"at": napi.fmt_time(p)}) or {}
    for name, version, p in reversed(points):
        for shift_ms in (1, 150):
            at = napi.fmt_time(p - timedelta(milliseconds=shift_ms))
            again = c.doc("/topology", {"at": at}) or {}
            check(again.get("at") == at and again.get("version") == version,
                  f"[{label}] /topology again at {name} ({at}): at and version",
                  (again.get("at"), again.get("version"), version))
            strip = lambda d: {k: v for k, v in d.items() if k not in ("at", "timestamp")}  # noqa: E731
            check(strip(again) == strip(first[name]),
                  f"[{label}] /topology again at {name}: same state as before")

    # Before t1: the items of the first observation are valid from 1970 (seed 004).
    early = "2000-01-01T00:00:00Z"
    topo = c.doc("/topology", {"at": early}) or {}
    check(sorted(n["id"] for n in topo.get("nodes", [])) == expected(SNAPSHOTS["A"])["ids"],
          f"[{label}] /topology as of 2000: the first observation", topo.get("nodes"))
    try:
        if pg_url:
            _, early_ids = sql_sets_pg(pg_url, "2000-01-01 00:00:00.000")
        else:
            _, early_ids, _, _ = sql_sets_sqlite(d.db_path, "2000-01-01 00:00:00.000")
        check(early_ids == expected(SNAPSHOTS["A"])["ids"], f"[{label}] SQL as of 2000", early_ids)
    except (sqlite3.Error, RuntimeError) as e:
        check(False, f"[{label}] SQL as of 2000", repr(e))

    # The live answer equals the last interval's.
    live = c.doc("/topology") or {}
    check(live.get("at", 0) is None and sorted(n["id"] for n in live.get("nodes", [])) ==
          expected(SNAPSHOTS["C"])["ids"], f"[{label}] live topology = C")

    # One alert through time: b's spof alert is active in A and resolved from B on.
    pa = napi.fmt_time(points[0][2])
    b_alert = next((a for a in c.doc("/alerts", {"at": pa}) or []
                    if a["rule"] == "spof" and a["node_id"] == "b"), None)
    if check(b_alert is not None, f"[{label}] spof alert of b in A"):
        aid = b_alert["alert_id"]
        for (name, _, p), want in zip(points, ("active", "resolved", "resolved")):
            one = c.doc(f"/alerts/{aid}", {"at": napi.fmt_time(p)}) or {}
            check(one.get("status") == want, f"[{label}] b's spof alert at {name}", one.get("status"))
        one = c.doc(f"/alerts/{aid}") or {}
        hist = one.get("history", [])
        check(hist and hist[-1]["status"] == "resolved" and hist[-1]["valid_to"] is None,
              f"[{label}] b's alert history ends resolved", hist)
        # An alert begins when it was raised (not at the 1970 start of the first observation).
        c.get(f"/alerts/{aid}", {"at": early}, expect=404)
        check(c.doc("/alerts", {"at": early}) == [], f"[{label}] no alerts as of 2000")

    # Diffs between intervals = netassure diff of the snapshot files.
    pairs = [("A", "B", points[0][2], points[1][2]), ("B", "C", points[1][2], points[2][2]),
             ("A", "C", points[0][2], None)]
    for fa, fb, ta, tb in pairs:
        params = {"from": napi.fmt_time(ta)}
        if tb is not None:
            params["to"] = napi.fmt_time(tb)
        got = c.doc("/analytics/diff", params) or {}
        p = subprocess.run([napi.BIN, "diff", files[fa], files[fb], "--json"], capture_output=True,
                           text=True, timeout=120)
        if not check(p.returncode == 0, "netassure diff exits 0", p.stderr):
            continue
        want = json.loads(p.stdout)
        check(got.get("summary") == want["summary"], f"[{label}] diff {fa}->{fb} summary",
              (got.get("summary"), want["summary"]))
        norm = lambda items: sorted(json.dumps(i, sort_keys=True) for i in items)
        check(norm(got.get("items", [])) == norm(want["items"]), f"[{label}] diff {fa}->{fb} items",
              f"{got.get('items')} vs {want['items']}")
    # from after to: the reverse diff (B -> A).
    got = c.doc("/analytics/diff", {"from": napi.fmt_time(points[1][2]),
                                    "to": napi.fmt_time(points[0][2])}) or {}
    s = got.get("summary", {})
    check(s.get("nodes_removed") == 1 and s.get("nodes_added") == 0, f"[{label}] diff B->A", s)
    check(c.server_errors == [], f"[{label}] no 5xx answers", c.server_errors)


def main():
    napi.check_document_refs()
    scenario("sqlite")
    pg = os.environ.get("NETASSURE_PG_URL")
    if not pg:
        print("SKIP (part): NETASSURE_PG_URL is not set; the PostgreSQL run of the time-travel "
              "test did not run", flush=True)
    else:
        try:
            db_url, drop = napi.fresh_pg_database(pg, "netassure_tt_")
        except (RuntimeError, OSError) as e:
            check(False, "CREATE DATABASE on NETASSURE_PG_URL", str(e))
        else:
            try:
                scenario("postgresql", warehouse=db_url, pg_url=db_url)
            finally:
                try:
                    drop()
                except (RuntimeError, OSError) as e:
                    check(False, "DROP DATABASE", str(e))
    return napi.finish("test_api_time_travel")


if __name__ == "__main__":
    sys.exit(main())
