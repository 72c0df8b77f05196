#!/usr/bin/python3
"""Every endpoint of the daemon's REST API (docs/api.md, docs/openapi.json) against a daemon that
loads examples/clos-fabric.json and examples/topology-snapshot.json, with real values checked:
counts against the files, alerts of the articulation-point and importance rules against
NetworkX, analytics against `netassure analyze --json` on the same merged topology and NetworkX,
acknowledging and feedback, PUT /config, and the /stream WebSocket seeing a rewritten file.
Every response is validated against docs/openapi.json by napi.Client."""
import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
from napi import check, close, note  # noqa: E402

import networkx as nx  # noqa: E402

NODE_FIELDS = ("label", "role", "site", "asn", "latitude", "longitude", "capacity", "status",
               "attributes")
LINK_FIELDS = ("source", "target", "label", "capacity", "status", "attributes")


def cli_json(*args):
    p = subprocess.run([napi.BIN, *args], capture_output=True, text=True, timeout=600)
    if not check(p.returncode == 0, f"netassure {' '.join(args[:3])} exits 0", p.stderr[-500:]):
        return {}
    return json.loads(p.stdout)


def near(a, b, rel=1e-7):
    """Recursive near-equality for JSON values (floats relative, the rest exact)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return close(float(a), float(b), rel=rel, abs_=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(near(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(near(x, y, rel) for x, y in zip(a, b))
    return a == b


def first_diff(a, b, path="", rel=1e-7):
    """Where two JSON values first differ (near() semantics): 'path: a vs b', or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: {'missing in API' if k not in a else 'extra in API'}"
            d = first_diff(a[k], b[k], f"{path}.{k}", rel)
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, f"{path}[{i}]", rel)
            if d:
                return d
        return None
    return None if near(a, b, rel) else f"{path}: {json.dumps(a)[:200]} vs {json.dumps(b)[:200]}"


def expected_fields(obj, fields):
    """What the API should say for a node/link of the file: missing optional fields may be
    absent or null, status defaults to up."""
    out = {}
    for f in fields:
        if f in obj:
            out[f] = obj[f]
    out.setdefault("status", "unknown")   # docs/topology-schema.md: absent status = unknown
    return out


def compare_element(kind, ours, theirs, fields):
    exp = expected_fields(theirs, fields)
    for f in fields:
        want = exp.get(f)
        got = ours.get(f)
        if f == "attributes" and not want:
            ok = not got
        else:
            ok = near(got, want, rel=1e-12) if want is not None else got is None
        check(ok, f"{kind} {theirs['id']}: {f}", f"API {got!r}, file {want!r}")


def statuses(alert):
    """The status sequence of an alert's history, repeats folded (a version may change only
    count / updated_at)."""
    out = []
    for h in alert.get("history", []):
        if not out or out[-1] != h["status"]:
            out.append(h["status"])
    return out


def main():
    napi.check_document_refs()
    d = napi.Daemon()
    d.copy_example("clos-fabric.json")
    d.copy_example("topology-snapshot.json")
    d.config = napi.make_config([
        {"name": "fabric", "type": "file", "path": "clos-fabric.json", "watch": True, "interval": "1s"},
        {"name": "europe", "type": "file", "path": "topology-snapshot.json", "watch": True,
         "interval": "1s"}])
    napi.run_with_daemon(d, run, "daemon still running at the end")
    return napi.finish("test_api_endpoints")


def run(d):
    c = d.client()
    st = napi.wait_analysed(c)
    if st is None:
        return
    fabric = napi.load_json(d.path("clos-fabric.json"))
    europe = napi.load_json(d.path("topology-snapshot.json"))
    file_nodes = fabric["nodes"] + europe["nodes"]
    file_links = fabric["links"] + europe["links"]
    by_id = {n["id"]: n for n in file_nodes}
    links_by_id = {lk["id"]: lk for lk in file_links}

    # ---------------------------------------------------------------- /status
    st = c.doc("/status")
    if st:
        check(st["name"] == "netassure" and st["at"] is None, "status name and at", st.get("at"))
        check(st["topology"]["nodes"] == len(file_nodes) == 16, "status topology.nodes",
              st["topology"]["nodes"])
        check(st["topology"]["links"] == len(file_links) == 36, "status topology.links",
              st["topology"]["links"])
        check(st["counts"]["nodes"] == 16 and st["counts"]["links"] == 36, "status counts",
              st["counts"])
        check(st["warehouse"]["backend"] == "sqlite", "warehouse backend", st["warehouse"])
        check(os.path.realpath(st["warehouse"]["location"]) == os.path.realpath(d.db_path),
              "warehouse location is DATA_DIR/netassure.db", st["warehouse"]["location"])
        check(os.path.exists(d.db_path), "warehouse file exists", d.db_path)
        srcs = {s["name"]: s for s in st["sources"]}
        check(set(srcs) == {"fabric", "europe"}, "sources", list(srcs))
        for name, nn, nl in (("fabric", 12, 32), ("europe", 4, 4)):
            s = srcs.get(name, {})
            check(s.get("state") == "ok" and s.get("nodes") == nn and s.get("links") == nl
                  and s.get("last_error") is None and s.get("last_loaded_at"),
                  f"source {name} loaded", s)
        check(napi.parse_time(st["started_at"]) <= napi.parse_time(st["now"]), "started_at <= now")
        check(st["uptime_s"] >= 0, "uptime")
        check(st["counts"]["alerts_active"] >= 1, "some alerts active", st["counts"])
    version1 = st["topology"]["version"] if st else 1

    # ---------------------------------------------------------------- /topology, /nodes, /links
    topo = c.doc("/topology") or {}
    api_nodes = {n["id"]: n for n in topo.get("nodes", [])}
    api_links = {lk["id"]: lk for lk in topo.get("links", [])}
    check(topo.get("at", 0) is None and topo.get("version") == version1,
          "topology at null and version = status version", (topo.get("at"), topo.get("version")))
    check(set(api_nodes) == set(by_id), "topology node ids = the files' ids",
          sorted(set(api_nodes) ^ set(by_id)))
    check(set(api_links) == set(links_by_id), "topology link ids = the files' ids",
          sorted(set(api_links) ^ set(links_by_id)))
    for nid, n in by_id.items():
        if nid in api_nodes:
            compare_element("node", api_nodes[nid], n, NODE_FIELDS)
    for lid, lk in links_by_id.items():
        if lid in api_links:
            compare_element("link", api_links[lid], lk, LINK_FIELDS)

    nodes = c.doc("/nodes") or []
    check(sorted(n["id"] for n in nodes) == sorted(by_id), "GET /nodes ids", len(nodes))
    for params, pred in (({"role": "spine"}, lambda n: n.get("role") == "spine"),
                         ({"site": "fra1"}, lambda n: n.get("site") == "fra1"),
                         ({"status": "down"}, lambda n: n.get("status") == "down"),
                         ({"role": "spine", "site": "iad1"},
                          lambda n: n.get("role") == "spine" and n.get("site") == "iad1"),
                         ({"role": "no-such-role"}, lambda n: False)):
        got = c.doc("/nodes", params) or []
        want = sorted(i for i, n in by_id.items() if pred(n))
        check(sorted(n["id"] for n in got) == want, f"GET /nodes {params}",
              f"{sorted(n['id'] for n in got)} vs {want}")
    links = c.doc("/links") or []
    check(sorted(lk["id"] for lk in links) == sorted(links_by_id), "GET /links ids", len(links))
    got = c.doc("/links", {"status": "down"}) or []
    check(sorted(lk["id"] for lk in got) == ["core-1:edge-2"], "GET /links?status=down",
          [lk["id"] for lk in got])

    # ---------------------------------------------------------------- oracles
    order_nodes = topo.get("nodes") or file_nodes
    order_links = topo.get("links") or file_links
    merged = {"type": "snapshot", "name": "merged", "nodes": [by_id[n["id"]] for n in order_nodes
                                                              if n["id"] in by_id],
              "links": [links_by_id[lk["id"]] for lk in order_links if lk["id"] in links_by_id]}
    merged_path = d.path("merged.json")
    napi.write_json_atomic(merged_path, merged)
    g = napi.up_graph(file_nodes, file_links)
    e_all = nx.global_efficiency(g)
    imp = {v: napi.importance(g, v, e_all) for v in g}
    aps = set(nx.articulation_points(g))
    check(aps == {"core-2"}, "oracle sanity: core-2 is the only articulation point", aps)
    cli_all = cli_json("analyze", merged_path, "--json")
    cli_nodes = {n["id"]: n for n in cli_all.get("nodes", [])}

    # ---------------------------------------------------------------- /nodes/{id}
    for nid in ("spine-01", "leaf-03", "core-2", "edge-2", "edge-1"):
        nd = c.doc(f"/nodes/{nid}")
        if not nd:
            continue
        compare_element("GET /nodes/{id}", nd, by_id[nid], NODE_FIELDS)
        check(nd["at"] is None, f"/nodes/{nid} at is null")
        inc = sorted(lk["id"] for lk in file_links if nid in (lk["source"], lk["target"]))
        check(sorted(nd["links"]) == inc, f"/nodes/{nid} links", f"{sorted(nd['links'])} vs {inc}")
        nb = sorted({lk["target"] if lk["source"] == nid else lk["source"] for lk in file_links
                     if nid in (lk["source"], lk["target"])} - {nid})
        check(sorted(nd["neighbors"]) == nb, f"/nodes/{nid} neighbors",
              f"{sorted(nd['neighbors'])} vs {nb}")
        a = nd["analytics"]
        check(a["degree"] == g.degree(nid), f"/nodes/{nid} degree (up links)", (a["degree"], g.degree(nid)))
        check(a["articulation_point"] == (nid in aps), f"/nodes/{nid} articulation_point", a)
        check(close(a["importance"], imp[nid], rel=1e-9, abs_=1e-12), f"/nodes/{nid} importance",
              (a["importance"], imp[nid]))
        check(a["redundancy"] == len(set(g.neighbors(nid))), f"/nodes/{nid} redundancy", a)
        cn = cli_nodes.get(nid, {})
        for f in ("betweenness", "closeness", "pagerank", "eigenvector", "relative_loss", "community"):
            check(f in cn and near(a[f], cn[f]), f"/nodes/{nid} {f} = analyze --json",
                  (a[f], cn.get(f)))
        bc = nx.betweenness_centrality(g, normalized=False)[nid]
        check(close(a["betweenness"], bc, rel=1e-9, abs_=1e-9), f"/nodes/{nid} betweenness vs NetworkX",
              (a["betweenness"], bc))
    c.get("/nodes/no-such-node", expect=404)
    c.get("/nodes/" + "x" * 300, expect=404)
    # The live answer is built from memory, an answer as of a time from the warehouse: as of now
    # they must say the same for every node.
    now = napi.status(c)["now"]
    for n in c.doc("/nodes") or []:
        live = c.doc(f"/nodes/{n['id']}") or {}
        past = c.doc(f"/nodes/{n['id']}", {"at": now}) or {}
        live.pop("at", None)
        past.pop("at", None)
        check(live == past, f"/nodes/{n['id']}: live = as of now", (live, past))

    # ---------------------------------------------------------------- /analytics/{kind}
    results = {}
    for kind in ("centrality", "communities", "robustness", "motifs", "spectral", "structure"):
        r = c.doc(f"/analytics/{kind}")
        if not r:
            continue
        results[kind] = r
        check(r["kind"] == kind and r["at"] is None and r["topology_version"] == version1,
              f"/analytics/{kind} kind, at, topology_version", (r["kind"], r["at"], r["topology_version"]))
        res = r["result"]
        ours = {n["id"]: n for n in res.get("nodes", [])}
        check(set(ours) == set(by_id), f"/analytics/{kind} result.nodes covers every node",
              sorted(set(ours) ^ set(by_id)))
        cli = cli_json("analyze", merged_path, "--json", "--only", kind)
        for n in cli.get("nodes", []):
            o = ours.get(n["id"], {})
            for f, v in n.items():
                check(f in o and near(o[f], v), f"/analytics/{kind} node {n['id']} {f} = analyze --json",
                      (o.get(f), v))
        for k, v in cli.items():
            if k in ("topology", "nodes"):
                continue
            if k in res:
                check(near(res[k], v), f"/analytics/{kind} {k} = analyze --json", first_diff(res[k], v))
            elif isinstance(v, dict) and all(sk in res for sk in v):
                note(f"/analytics/{kind}: {k}'s members are flattened into result")
                check(all(near(res[sk], sv) for sk, sv in v.items()), f"/analytics/{kind} {k} (flattened)")
            else:
                check(False, f"/analytics/{kind} result has {k} (as analyze --json --only {kind})",
                      list(res))
    rob = results.get("robustness", {}).get("result", {})
    if rob:
        check(close(rob.get("efficiency"), e_all, rel=1e-9), "robustness efficiency vs NetworkX",
              (rob.get("efficiency"), e_all))
        rn = {n["id"]: n for n in rob.get("nodes", [])}
        for v in ("spine-01", "leaf-05", "core-2", "edge-1", "edge-2", "core-1"):
            check(close(rn.get(v, {}).get("importance"), imp[v], rel=1e-9, abs_=1e-12),
                  f"robustness importance of {v} vs NetworkX", (rn.get(v, {}).get("importance"), imp[v]))
    struct = results.get("structure", {}).get("result", {})
    if struct:
        bridges = {frozenset((b["source"], b["target"])) for b in struct.get("bridges", [])}
        check(bridges == {frozenset(e) for e in nx.bridges(g)}, "structure bridges vs NetworkX", bridges)
        sn = {n["id"]: n for n in struct.get("nodes", [])}
        check({v for v, n in sn.items() if n.get("articulation_point")} == aps,
              "structure articulation points vs NetworkX")
    c.get("/analytics/bogus", expect=404)
    c.get("/analytics/", expect=404)

    # ---------------------------------------------------------------- /clusters
    cl = c.doc("/clusters") or {}
    if cl:
        check(cl["at"] is None and cl["topology_version"] == version1, "clusters at/version")
        comps = sorted(sorted(x["nodes"]) for x in cl["clusters"] if x["kind"] == "component")
        want = sorted(sorted(x) for x in nx.connected_components(g))
        check(comps == want, "component clusters = NetworkX components", comps)
        cli_cl = cli_json("analyze", merged_path, "--json", "--only", "clusters").get("clusters", [])
        norm = lambda xs: sorted((x["id"], x["kind"], x["index"], x["type"], x["internal_links"],
                                  tuple(sorted(x["nodes"]))) for x in xs)
        check(norm(cl["clusters"]) == norm(cli_cl), "/clusters = analyze --json clusters",
              f"{norm(cl['clusters'])[:3]} vs {norm(cli_cl)[:3]}")
        for nid in ("core-2",):
            nd = c.doc(f"/nodes/{nid}") or {}
            types = {x["type"] for x in cl["clusters"] if nid in x["nodes"]}
            check(nd.get("analytics", {}).get("cluster_type") in types, f"{nid} cluster_type", types)

    # ---------------------------------------------------------------- /analytics/whatif
    for fail in (["spine-01"], ["core-2"], ["core-1:core-2", "spine-02"]):
        r = c.post("/analytics/whatif", {"fail": fail}, expect=200)
        args = ["whatif", merged_path, "--json"]
        for f in fail:
            args += ["--fail", f]
        want = cli_json(*args)
        if r.doc is not None and want:
            check(near(r.doc, want), f"whatif {fail} = netassure whatif --json",
                  first_diff(r.doc, want))
    c.post("/analytics/whatif", {"fail": []}, expect=400)
    c.post("/analytics/whatif", {"fail": ["n%d" % i for i in range(1001)]}, expect=400)
    c.post("/analytics/whatif", {"fail": ["no-such-node"]}, expect=400)
    c.post("/analytics/whatif", {}, expect=400)

    # ---------------------------------------------------------------- /alerts
    alerts = c.doc("/alerts") or []
    check(len(alerts) >= 1, "some alerts")
    created = [napi.parse_time(a["created_at"]) for a in alerts]
    check(created == sorted(created, reverse=True), "alerts newest first")
    active = [a for a in alerts if a["status"] == "active"]
    rules = {r["name"]: r for r in napi.default_rules()}
    for a in alerts:
        check(a["rule"] in rules, "alert rule is a configured rule", a["rule"])
        if a["rule"] in rules:
            check(a["severity"] == rules[a["rule"]]["severity"], f"alert {a['rule']} severity",
                  a["severity"])
    by_rule = lambda name: sorted(a["node_id"] for a in active if a["rule"] == name)
    check(by_rule("spof") == sorted(aps), "spof alerts = NetworkX articulation points",
          f"{by_rule('spof')} vs {sorted(aps)}")
    check(by_rule("node-down") == ["edge-2"], "node-down alerts", by_rule("node-down"))
    check(by_rule("important-node") == sorted(v for v, x in imp.items() if x >= 0.05),
          "importance >= 0.05 alerts vs NetworkX", by_rule("important-node"))
    want_low = sorted(v for v, x in imp.items() if x >= 0.02)
    check(by_rule("important-node-low") == want_low and want_low,
          "importance >= 0.02 alerts vs NetworkX", f"{by_rule('important-node-low')} vs {want_low}")
    ld = [a for a in active if a["rule"] == "link-down"]
    check(any("core-1:edge-2" in json.dumps(a) for a in ld), "a link-down alert names core-1:edge-2",
          json.dumps(ld)[:400])
    check(len({a["fingerprint"] for a in alerts}) == len(alerts), "fingerprints unique")
    for a in alerts:
        if a["node_id"] in by_id:
            check(a["site"] == by_id[a["node_id"]].get("site"), f"alert {a['alert_id']} site", a["site"])
    st = napi.status(c)
    check(st["counts"]["alerts_active"] == len(active), "status alerts_active = active alerts",
          (st["counts"]["alerts_active"], len(active)))
    check(st["counts"]["alerts_total"] == len(alerts), "status alerts_total = alerts",
          (st["counts"]["alerts_total"], len(alerts)))

    # filters
    for params, pred in (({"status": "active"}, lambda a: a["status"] == "active"),
                         ({"severity": "critical"}, lambda a: a["severity"] == "critical"),
                         ({"node_id": "core-2"}, lambda a: a["node_id"] == "core-2"),
                         ({"severity": "warning", "status": "active"},
                          lambda a: a["severity"] == "warning" and a["status"] == "active")):
        got = c.doc("/alerts", params) or []
        check(sorted(a["alert_id"] for a in got) == sorted(a["alert_id"] for a in alerts if pred(a)),
              f"GET /alerts {params}", len(got))
    check(len(c.doc("/alerts", {"limit": "1"}) or []) == 1, "limit=1 gives one alert")
    future = napi.fmt_time(datetime.now(timezone.utc) + timedelta(days=1))
    check(c.doc("/alerts", {"since": future}) == [], "since tomorrow: no alerts")
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()  # +00:00, microseconds
    check(len(c.doc("/alerts", {"since": past}) or []) == len(alerts), "since an hour ago: all")

    # one alert, ack, feedback
    spof = next((a for a in active if a["rule"] == "spof"), None)
    down = next((a for a in active if a["rule"] == "node-down"), None)
    linkdown = ld[0] if ld else None
    c.get("/alerts/" + "0" * 32, expect=404)
    c.post("/alerts/" + "0" * 32 + "/ack", {"by": "x"}, expect=404)
    c.post("/alerts/" + "0" * 32 + "/feedback", {"is_false_positive": False}, expect=404)
    if spof:
        one = c.doc(f"/alerts/{spof['alert_id']}") or {}
        check({k: one.get(k) for k in spof} == spof, "GET /alerts/{id} = the list's alert")
        check(one.get("feedback") == [] and statuses(one) == ["active"],
              "new alert: no feedback, history [active]", one.get("history"))
        r = c.post(f"/alerts/{spof['alert_id']}/ack", {"by": "tester", "notes": "looking"}, expect=200)
        if r.doc:
            check(r.doc["status"] == "acknowledged" and r.doc["acknowledged_by"] == "tester",
                  "ack answers the acknowledged alert", r.doc)
            check(napi.parse_time(r.doc["updated_at"]) >= napi.parse_time(spof["updated_at"]),
                  "ack moves updated_at")
        acked = c.doc("/alerts", {"status": "acknowledged"}) or []
        check(spof["alert_id"] in [a["alert_id"] for a in acked], "acked alert in ?status=acknowledged")
        act = c.doc("/alerts", {"status": "active"}) or []
        check(spof["alert_id"] not in [a["alert_id"] for a in act], "acked alert not in ?status=active")
        r = c.post(f"/alerts/{spof['alert_id']}/feedback",
                   {"is_false_positive": True, "notes": "lab node, redundant by design"}, expect=201)
        fb = r.doc or {}
        check(fb.get("alert_id") == spof["alert_id"] and fb.get("is_false_positive") is True
              and fb.get("notes") == "lab node, redundant by design", "feedback answer", fb)
        r2 = c.post(f"/alerts/{spof['alert_id']}/feedback", {"is_false_positive": False}, expect=201)
        one = c.doc(f"/alerts/{spof['alert_id']}") or {}
        fbs = one.get("feedback", [])
        check([f["feedback_id"] for f in fbs if f["feedback_id"] in
               (fb.get("feedback_id"), (r2.doc or {}).get("feedback_id"))].__len__() == 2,
              "both feedbacks appear in GET /alerts/{id}", fbs)
        check(any(f.get("notes") == "lab node, redundant by design" and f["is_false_positive"] is True
                  for f in fbs), "feedback content stored", fbs)
        hist = one.get("history", [])
        check(statuses(one) == ["active", "acknowledged"], "history active -> acknowledged",
              hist)
        if len(hist) == 2:
            check(hist[0]["valid_to"] == hist[1]["valid_from"] and hist[1]["valid_to"] is None,
                  "history intervals meet; the current one is open", hist)
    if down:
        # ack without a body at all (the body is optional)
        r = c.call("POST", f"/alerts/{down['alert_id']}/ack", expect=200)
        check(napi.as_dict(r.doc).get("status") == "acknowledged", "ack without a body", r.doc)

    # ---------------------------------------------------------------- /anomalies
    anomalies = c.doc("/anomalies") or []
    det = [a["detected_at"] for a in anomalies]
    check(det == sorted(det, reverse=True), "anomalies newest first")
    for a in anomalies:
        check(set(a["contributing_node_ids"]) <= set(by_id), "anomaly nodes exist", a)
        check(a["detector"] == "importance_outlier", "anomaly detector is the configured one", a["detector"])
    check(c.doc("/anomalies", {"detector": "no-such-detector"}) == [], "anomalies detector filter")
    check(c.doc("/anomalies", {"since": future}) == [], "anomalies since tomorrow")
    if anomalies:
        check(len(c.doc("/anomalies", {"limit": 1}) or []) == 1, "anomalies limit=1")
    st = napi.status(c)
    check(st["counts"]["anomalies"] == len(anomalies), "status counts.anomalies", st["counts"])

    # ---------------------------------------------------------------- /metrics
    m = c.doc("/metrics", {"name": "nodes"}) or {}
    pts = m.get("points", [])
    check(m.get("at", 0) is None and pts and all(p["name"] == "nodes" and p["node_id"] is None for p in pts),
          "metrics name=nodes: network-wide points", pts[:3])
    if pts:
        last = max(pts, key=lambda p: p["at"])
        check(last["value"] == 16, "latest nodes metric is 16", last)
    for name, want in (("links", 36), ("articulation_points", len(aps)),
                       ("components", nx.number_connected_components(g)), ("global_efficiency", e_all)):
        pts = (c.doc("/metrics", {"name": name}) or {}).get("points", [])
        check(pts and close(max(pts, key=lambda p: p["at"])["value"], want, rel=1e-9),
              f"latest {name} metric", (pts[-1:] if pts else None, want))
    for name, want in (("degree", g.degree("spine-01")), ("importance", imp["spine-01"]),
                       ("betweenness", nx.betweenness_centrality(g, normalized=False)["spine-01"])):
        pts = (c.doc("/metrics", {"node_id": "spine-01", "name": name}) or {}).get("points", [])
        check(pts and all(p["node_id"] == "spine-01" for p in pts)
              and close(max(pts, key=lambda p: p["at"])["value"], want, rel=1e-9),
              f"spine-01 {name} metric", (pts[-1:] if pts else None, want))
    allpts = (c.doc("/metrics") or {}).get("points", [])
    check(len(allpts) >= 5 + 3 * 16, "metrics: network-wide and per-node points", len(allpts))
    check(len((c.doc("/metrics", {"limit": 3}) or {}).get("points", [])) == 3, "metrics limit=3")
    check((c.doc("/metrics", {"since": future}) or {}).get("points") == [], "metrics since tomorrow")

    # ---------------------------------------------------------------- /config
    cfg = c.doc("/config") or {}
    check(cfg.get("at", 0) is None and cfg.get("branding", {}).get("product_name") == "NetAssure Test"
          and cfg["branding"].get("primary_color") == "#0b5fff"
          and cfg["branding"].get("accent_color") == "#ff7a00", "GET /config branding from the file",
          cfg.get("branding"))
    check([b["id"] for b in cfg.get("banners", [])] == ["welcome"] and cfg["banners"][0]["level"] == "info"
          and cfg["banners"][0]["text"] == "integration test", "GET /config banners", cfg.get("banners"))
    new = {"branding": {"product_name": "Acme NOC", "logo_url": "https://example.invalid/logo.svg",
                        "primary_color": "#112233", "accent_color": "#AABBCC"},
           "banners": [{"id": "mw", "level": "warning", "text": "Maintenance tonight",
                        "starts_at": "2026-12-01T22:00:00Z", "ends_at": "2026-12-02T02:00:00+01:00"}]}
    r = c.put("/config", new, expect=200)
    got = c.doc("/config") or {}
    for which in (r.doc or {}, got):
        b = which.get("branding", {})
        check(b.get("product_name") == "Acme NOC" and b.get("logo_url") == new["branding"]["logo_url"]
              and b.get("primary_color", "").lower() == "#112233"
              and b.get("accent_color", "").lower() == "#aabbcc", "PUT /config branding stored", b)
        bn = which.get("banners", [])
        check(len(bn) == 1 and bn[0]["id"] == "mw" and bn[0]["level"] == "warning"
              and bn[0]["starts_at"] == "2026-12-01T22:00:00.000Z"
              and bn[0]["ends_at"] == "2026-12-02T01:00:00.000Z", "PUT /config banners stored (UTC)", bn)
    r = c.put("/config", {"banners": []}, expect=200)
    got = c.doc("/config") or {}
    check(got.get("banners") == [] and got.get("branding", {}).get("product_name") == "Acme NOC",
          "PUT with banners only replaces banners and keeps branding", got)
    for body, field in (({"branding": {"product_name": "X", "primary_color": "blue"}}, "primary_color"),
                        ({"banners": [{"id": "b", "level": "loud", "text": "t"}]}, "level"),
                        ({"banners": [{"id": "b", "level": "info", "text": "t", "starts_at": "soon"}]},
                         "starts_at"),
                        ({"branding": {"product_name": 7}}, "product_name"),
                        ({"banners": "none"}, "banners")):
        r = c.put("/config", body, expect=400)
        msg = (napi.as_dict(r.doc).get("error") or {}).get("message", "")
        check(field in msg, f"PUT /config 400 names the field {field}", msg)
    got = c.doc("/config") or {}
    check(got.get("branding", {}).get("product_name") == "Acme NOC", "rejected PUTs changed nothing")

    # ---------------------------------------------------------------- /openapi.json, /docs
    r = c.get("/openapi.json", expect=200)
    check(r.doc == napi.spec().doc, "GET /openapi.json = docs/openapi.json")
    r = c.get("/docs", expect=200)
    with open(os.path.join(napi.SRC, "web", "api-docs.html"), encoding="utf-8") as f:
        check(r.text == f.read(), "GET /docs = web/api-docs.html", r.text[:200])

    # ---------------------------------------------------------------- ?at= on live data
    now_local = datetime.now(timezone(timedelta(hours=2)))
    t = now_local.isoformat(timespec="microseconds")
    r = c.doc("/topology", {"at": t}) or {}
    want_at = napi.fmt_time(now_local)
    check(r.get("at") == want_at, "?at= with an offset and microseconds is normalised", (t, r.get("at")))
    check(sorted(n["id"] for n in r.get("nodes", [])) == sorted(by_id), "topology ?at=now = live")

    # ---------------------------------------------------------------- /stream + a rewritten file
    before = napi.status(c)
    t_before = before["now"]
    ws = wsf = None
    try:
        ws = napi.WebSocket("127.0.0.1", d.port)
        ws.send_json({"subscribe": ["topology"]})
        msg = ws.recv_json(10)
        napi.check_stream_message(msg, "subscribe reply")
        check(msg.get("type") == "subscribed" and msg.get("kinds") == ["topology"],
              "subscribed to topology", msg)
        wsf = napi.WebSocket("127.0.0.1", d.port)
        wsf.send_json({"subscribe": ["alerts"], "filter": {"severity": ["critical"]}})
        msg = wsf.recv_json(10)
        check(msg.get("type") == "subscribed" and msg.get("kinds") == ["alerts"], "subscribed to alerts", msg)
        st = napi.status(c)
        check(st["stream"]["clients"] >= 2, "status stream.clients counts the WebSocket clients",
              st["stream"])
    except (OSError, ValueError, napi.WSClosed) as e:
        check(False, "WebSocket /stream connects and subscribes", repr(e))

    europe2 = json.loads(json.dumps(europe))
    for n in europe2["nodes"]:
        if n["id"] == "edge-2":
            n["status"] = "up"
    for lk in europe2["links"]:
        if lk["id"] == "core-1:edge-2":
            lk["status"] = "up"
    # No status: unknown (analytics keep it; the API still writes "status": "unknown").
    europe2["nodes"].append({"id": "edge-3", "label": "Dublin edge", "role": "edge", "site": "dub1"})
    europe2["links"].append({"id": "edge-1:edge-3", "source": "edge-1", "target": "edge-3",
                             "status": "up"})
    napi.write_json_atomic(d.path("topology-snapshot.json"), europe2)

    if ws:
        got_topo = None
        end = time.monotonic() + 60
        try:
            while time.monotonic() < end and got_topo is None:
                msg = ws.recv_json(max(0.1, end - time.monotonic()))
                napi.check_stream_message(msg, "topology subscriber")
                check(msg.get("type") == "topology", "only topology events for a topology subscriber", msg)
                if msg.get("type") == "topology":
                    got_topo = msg
        except (OSError, ValueError, napi.WSClosed) as e:
            check(False, "stream: waiting for the topology event", repr(e))
        check(got_topo is not None, "stream delivers a topology event after the file changed")
        if got_topo:
            dv = got_topo["data"].get("version")
            check(dv is None or dv == version1 + 1, "topology event data.version", got_topo["data"])
    st = napi.wait_analysed(c, version1 + 1)
    if wsf:
        got_alert = None
        end = time.monotonic() + 30
        try:
            while time.monotonic() < end:
                msg = wsf.recv_json(max(0.1, end - time.monotonic()))
                napi.check_stream_message(msg, "alert subscriber")
                check(msg.get("type") == "alert", "only alert events for an alerts subscriber", msg)
                sev = msg.get("data", {}).get("severity")
                check(sev in (None, "critical"), "severity filter holds", msg)
                if msg.get("type") == "alert":
                    got_alert = msg
                    break
        except socket.timeout:
            pass
        except (OSError, ValueError, napi.WSClosed) as e:
            check(False, "stream: alerts subscriber", repr(e))
        check(got_alert is not None, "stream delivers the critical node-down alert's resolution")
    try:
        if ws:
            ws.send_text("this is not json")
            msg = ws.recv_json(10)
            while msg.get("type") == "topology":
                msg = ws.recv_json(10)
            napi.check_stream_message(msg, "error reply")
            check(msg.get("type") == "error" and msg.get("message"), "unknown message -> error", msg)
    except (OSError, ValueError, napi.WSClosed) as e:
        check(False, "stream: unknown message gets an error message", repr(e))
    for w in (ws, wsf):
        if w:
            w.close()

    if st:
        check(st["topology"]["version"] == version1 + 1 and st["topology"]["nodes"] == 17
              and st["topology"]["links"] == 37, "new version after the rewrite", st["topology"])
    alerts2 = c.doc("/alerts") or []
    act2 = [a for a in alerts2 if a["status"] in ("active", "acknowledged")]
    g2 = napi.up_graph(fabric["nodes"] + europe2["nodes"], fabric["links"] + europe2["links"])
    aps2 = sorted(nx.articulation_points(g2))
    check(sorted(a["node_id"] for a in act2 if a["rule"] == "spof") == aps2,
          "spof alerts follow the new topology", aps2)
    if spof:
        one = c.doc(f"/alerts/{spof['alert_id']}") or {}
        check(one.get("status") == "resolved", "core-2's spof alert resolved", one.get("status"))
        check(statuses(one) == ["active", "acknowledged", "resolved"],
              "history active -> acknowledged -> resolved", one.get("history"))
    if down:
        one = c.doc(f"/alerts/{down['alert_id']}") or {}
        check(one.get("status") == "resolved", "edge-2's node-down alert resolved", one.get("status"))
    if linkdown:
        r = c.post(f"/alerts/{linkdown['alert_id']}/ack", {"by": "late"}, expect=400)
        check("resolved" in (napi.as_dict(r.doc).get("error") or {}).get("message", ""),
              "acking a resolved alert: 400 'alert is resolved'", r.text[:200])
    df = c.doc("/analytics/diff", {"from": t_before}) or {}
    s = df.get("summary", {})
    check(s.get("nodes_added") == 1 and s.get("links_added") == 1 and s.get("nodes_removed") == 0
          and s.get("links_removed") == 0 and s.get("nodes_changed") == 1 and s.get("links_changed") == 1,
          "diff from before the rewrite to now", s)
    items = {(i["kind"], i["object"], i["id"]) for i in df.get("items", [])}
    check({("added", "node", "edge-3"), ("added", "link", "edge-1:edge-3"), ("changed", "node", "edge-2"),
           ("changed", "link", "core-1:edge-2")} == items, "diff items", items)
    ch = [i for i in df.get("items", []) if i["id"] == "edge-2"]
    if ch:
        check({"field": "status", "before": "down", "after": "up"} in ch[0].get("changes", []),
              "diff names edge-2's status change", ch[0])
    c.get("/analytics/diff", expect=400)
    n3 = c.doc("/nodes/edge-3") or {}
    check(n3.get("status") == "unknown", "a node without status in the file is status unknown", n3.get("status"))
    live = c.doc("/topology") or {}
    e3 = [n for n in live.get("nodes", []) if n["id"] == "edge-3"]
    check(e3 and e3[0].get("status") == "unknown", "/topology writes status unknown too", e3)
    topo_then = c.doc("/topology", {"at": t_before}) or {}
    check(sorted(n["id"] for n in topo_then.get("nodes", [])) == sorted(by_id),
          "topology ?at= before the rewrite has the old nodes")
    check(c.server_errors == [], "no 5xx answers", c.server_errors)


if __name__ == "__main__":
    sys.exit(main())
