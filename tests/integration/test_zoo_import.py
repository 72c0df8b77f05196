#!/usr/bin/python3
"""test_zoo_import.py: every Internet Topology Zoo GML file through `netassure convert`,
checked against networkx (an independent reader): same node and link counts (parallel links
counted), same labels, same coordinates where the file has them, and the link capacity from
LinkSpeedRaw (or LinkSpeed x LinkSpeedUnits) where the file has it. Then a few Zoo graphs
written as GraphML by networkx go through our GraphML importer and are checked the same way.

`netassure convert FILE` prints our JSON snapshot on stdout and the import report on stderr.
Skips (exit 77, with a visible reason) when the Zoo data, networkx or the convert subcommand
is missing.
"""
import collections
import glob
import json
import math
import os
import subprocess
import sys
import tempfile

UNITS = {"T": 1e12, "G": 1e9, "M": 1e6, "K": 1e3}


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def convert(binary, path):
    """Our snapshot for `path`, or (None, message) when convert fails."""
    proc = subprocess.run([binary, "convert", path], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return None, "exit %d: %s" % (proc.returncode, proc.stderr.strip()[-2000:])
    if not proc.stdout.strip():
        return None, "no output (exit 0)"
    try:
        return json.loads(proc.stdout), None
    except ValueError as e:
        return None, "stdout is not JSON (%s): %r" % (e, proc.stdout[:300])


def number(v):
    """A float from a number or a numeric string, else None (our importer's rule)."""
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def expected_capacity(d):
    raw = number(d.get("LinkSpeedRaw"))
    if raw is not None and raw >= 0:
        return raw
    if "LinkSpeedRaw" in d:
        return None
    speed, units = number(d.get("LinkSpeed")), d.get("LinkSpeedUnits")
    if speed is None or speed < 0 or not isinstance(units, str) or not units.strip():
        return None
    mult = UNITS.get(units.strip()[0].upper())
    return speed * mult if mult else None


def expected_link_label(d):
    label = d.get("LinkLabel", d.get("label"))
    return None if label is None else str(label)


def same_float(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def compare(name, g, snap):
    """Mismatches between networkx's graph `g` and our snapshot, as printable lines."""
    bad = []
    ours = {n["id"]: n for n in snap.get("nodes", [])}
    if len(snap.get("nodes", [])) != g.number_of_nodes():
        bad.append("node count: ours %d, networkx %d" % (len(snap["nodes"]), g.number_of_nodes()))
    for n, d in g.nodes(data=True):
        o = ours.get(str(n))
        if o is None:
            bad.append("node %r: missing in ours" % (n,))
            continue
        want = None if d.get("label") is None else str(d["label"])
        if o.get("label") != want:
            bad.append("node %r label: ours %r, networkx %r" % (n, o.get("label"), want))
        for key, field in (("Latitude", "latitude"), ("Longitude", "longitude")):
            want = number(d.get(key))
            got = o.get(field)
            if not same_float(None if got is None else float(got), want):
                bad.append("node %r %s: ours %r, networkx %r" % (n, field, got, d.get(key)))
    links = snap.get("links", [])
    if len(links) != g.number_of_edges():
        bad.append("link count: ours %d, networkx %d" % (len(links), g.number_of_edges()))

    def key(s, t, cap, label):
        return (min(s, t), max(s, t), None if cap is None else float(cap), label)

    mine = collections.Counter(key(l["source"], l["target"], l.get("capacity"), l.get("label"))
                               for l in links)
    theirs = collections.Counter(key(str(u), str(v), expected_capacity(d), expected_link_label(d))
                                 for u, v, d in g.edges(data=True))
    if mine != theirs:
        for k in sorted((mine - theirs).keys(), key=repr)[:5]:
            bad.append("link only in ours: %r" % (k,))
        for k in sorted((theirs - mine).keys(), key=repr)[:5]:
            bad.append("link only in networkx: %r" % (k,))
    return ["%s: %s" % (name, b) for b in bad]


def totals_of(snap):
    pairs = collections.Counter()
    degree = collections.Counter()
    loops = 0
    for l in snap["links"]:
        pairs[frozenset((l["source"], l["target"]))] += 1
        degree[l["source"]] += 1
        degree[l["target"]] += 1
        loops += l["source"] == l["target"]
    return {
        "nodes": len(snap["nodes"]),
        "links": len(snap["links"]),
        "multi_links": sum(c - 1 for c in pairs.values()),
        "self_loops": loops,
        "missing_coordinates": sum(1 for n in snap["nodes"]
                                   if n.get("latitude") is None or n.get("longitude") is None),
        "isolated_nodes": sum(1 for n in snap["nodes"] if degree[n["id"]] == 0),
    }


def main():
    binary = os.environ.get("NETASSURE_BIN")
    data = os.environ.get("NETASSURE_SHARED_DATA", "")
    source = os.environ.get("NETASSURE_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "..", ".."))
    zoo = sorted(glob.glob(os.path.join(data, "topology-zoo", "*.gml")))
    if not zoo:
        skip("no Topology Zoo files under %s/topology-zoo" % data)
    if not binary or not os.access(binary, os.X_OK):
        skip("NETASSURE_BIN is not set to an executable")
    try:
        import networkx as nx
    except ImportError:
        skip("networkx is not installed for %s" % sys.executable)
    probe = os.path.join(source, "tests", "data", "gml", "zoo_like.gml")
    snap, why = convert(binary, probe)
    if snap is None and any(w in why.lower() for w in ("unknown", "usage", "no output")):
        skip("`%s convert` is not available yet (%s)" % (binary, why))
    if snap is None:
        print("FAIL convert of %s: %s" % (probe, why))
        return 1

    failures = []
    totals = collections.Counter()
    picks = {}
    for path in zoo:
        name = os.path.basename(path)
        g = nx.read_gml(path, label="id")
        snap, why = convert(binary, path)
        if snap is None:
            failures.append("%s: convert failed: %s" % (name, why))
            continue
        failures += compare(name, g, snap)
        t = totals_of(snap)
        totals.update(t)
        totals["files"] += 1
        # GraphML round trips: the largest graph and the first with each kind of mess
        for kind, hit in (("largest", name == "Kdl.gml"), ("multi", t["multi_links"] > 0),
                          ("no coordinates", t["missing_coordinates"] > 0),
                          ("isolated", t["isolated_nodes"] > 0)):
            if hit and kind not in picks:
                picks[kind] = (name, g)

    print("Zoo through GML: %d files, %d nodes, %d links, %d parallel links, %d self-loops, "
          "%d nodes without coordinates, %d isolated nodes" % (
              totals["files"], totals["nodes"], totals["links"], totals["multi_links"],
              totals["self_loops"], totals["missing_coordinates"], totals["isolated_nodes"]))
    if totals["files"] != len(zoo):
        failures.append("loaded %d of %d Zoo files" % (totals["files"], len(zoo)))

    with tempfile.TemporaryDirectory() as tmp:
        for kind, (name, g) in sorted(picks.items()):
            out = os.path.join(tmp, name.replace(".gml", ".graphml"))
            nx.write_graphml(g, out)
            snap, why = convert(binary, out)
            if snap is None:
                failures.append("%s as GraphML: convert failed: %s" % (name, why))
                continue
            back = nx.read_graphml(out, force_multigraph=g.is_multigraph())
            failures += compare(name + " as GraphML", back, snap)
            failures += compare(name + " as GraphML vs GML", g, snap)
            print("GraphML round trip (%s): %s, %d nodes, %d links" % (
                kind, name, len(snap["nodes"]), len(snap["links"])))

    for f in failures:
        print("FAIL " + f)
    if failures:
        print("%d mismatches" % len(failures))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
