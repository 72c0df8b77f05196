#!/usr/bin/python3
"""The `netassure` tool over its real interface: exit codes, --help, errors with positions,
analyze / whatif / cascade / diff / convert on small fixtures whose answers are known by hand."""
import json
import os
import re
import subprocess
import sys

BIN = os.environ.get("NETASSURE_BIN", "build/netassure")
SRC = os.environ.get("NETASSURE_SOURCE_DIR", ".")
DATA = os.path.join(SRC, "tests", "data", "cli")
FABRIC = os.path.join(DATA, "fabric.json")
failures = []


def run(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def check(cond, what, detail=""):
    if not cond:
        failures.append(f"{what}: {detail}")
        print(f"FAIL {what}: {detail}")


def run_json(*args):
    rc, out, err = run(*args)
    check(rc == 0, f"{' '.join(args)} exits 0", f"rc={rc} stderr={err[-500:]}")
    return json.loads(out) if rc == 0 else {}


# Usage and help.
rc, out, _ = run("--help")
check(rc == 0 and "analyze" in out, "netassure --help", out[:200])
rc, _, _ = run("--version")
check(rc == 0, "netassure --version")
for cmd in ("analyze", "whatif", "cascade", "diff", "convert"):
    rc, out, _ = run(cmd, "--help")
    check(rc == 0 and out.startswith("usage: netassure " + cmd), f"{cmd} --help", out[:100])
for args in (["bogus"], [], ["analyze"], ["analyze", "--only", "nonsense", FABRIC],
             ["whatif", FABRIC], ["cascade", FABRIC, "--fail", "spine-1"],
             ["cascade", FABRIC, "--fail", "spine-1", "--alpha", "-1"], ["diff", FABRIC],
             ["analyze", "--no-such-option", FABRIC]):
    rc, _, err = run(*args)
    check(rc == 2, f"usage error exit 2 for {args}", f"rc={rc} {err[:200]}")

# Runtime errors: exit 1 with a position.
rc, _, err = run("analyze", os.path.join(DATA, "broken.json"))
check(rc == 1, "malformed JSON exits 1", f"rc={rc}")
check(re.search(r"broken\.json:4:\d+:", err) is not None, "malformed JSON error has line 4", err)
rc, _, err = run("analyze", os.path.join(DATA, "no-such-file.json"))
check(rc == 1 and "no-such-file.json" in err, "missing file exits 1", err)
rc, _, err = run("whatif", FABRIC, "--fail", "nowhere")
check(rc == 1 and "nowhere" in err, "unknown --fail exits 1", f"rc={rc} {err}")

# analyze --json: leaf-1 is the only articulation point, leaf-1--host-a the only bridge.
doc = run_json("analyze", FABRIC, "--json")
nodes = {n["id"]: n for n in doc.get("nodes", [])}
check(len(nodes) == 7, "7 nodes", len(nodes))
for field in ("id", "label", "degree", "betweenness", "closeness", "pagerank", "redundancy",
              "importance", "community", "articulation_point"):
    check(all(field in n for n in nodes.values()), f"every node has {field}")
check([i for i, n in nodes.items() if n.get("articulation_point")] == ["leaf-1"],
      "articulation points", [i for i, n in nodes.items() if n.get("articulation_point")])
check({(b["source"], b["target"]) for b in doc.get("bridges", [])} == {("leaf-1", "host-a")},
      "bridges", doc.get("bridges"))
check(nodes.get("leaf-1", {}).get("redundancy") == 3, "redundancy of leaf-1 is 3")
check(nodes.get("host-a", {}).get("degree") == 1, "degree of host-a is 1")
# Betweenness of leaf-1: host-a's 5 shortest paths to others all pass leaf-1 (5), plus its
# share of spine-1 <-> spine-2 paths (1/4 of 1 pair): 5.25.
check(abs(nodes.get("leaf-1", {}).get("betweenness", -1) - 5.25) < 1e-9, "betweenness leaf-1",
      nodes.get("leaf-1", {}).get("betweenness"))
types = {c["id"]: c["type"] for c in doc.get("clusters", [])}
check(types.get("component-0") == "mesh", "component type", types)
check(all(t in ("snake", "circle", "hub-and-spoke", "mesh") for t in types.values()), "types")
imp = sorted(nodes.values(), key=lambda n: -n["importance"])
check(imp[0]["id"] == "leaf-1", "leaf-1 is the most important node", [n["id"] for n in imp[:3]])

only = run_json("analyze", FABRIC, "--json", "--only", "robustness,clusters")
check(all("importance" in n and "betweenness" not in n for n in only.get("nodes", [])),
      "--only robustness,clusters computes just those")
check("clusters" in only and "motifs" not in only, "--only keeps clusters, not motifs")

rc, out, _ = run("analyze", FABRIC)
check(rc == 0 and "leaf-1" in out and "IMPORTANCE" in out, "analyze table", out[:300])

# whatif: both spines down cuts every leaf off from every spine.
w = run_json("whatif", FABRIC, "--fail", "spine-1", "--fail", "spine-2", "--json")
loss = {(r["from_role"], r["to_role"]): r for r in w.get("reachability_lost_by_role", [])}
check(loss.get(("leaf", "spine"), {}).get("nodes_cut_off") == 4, "leaves cut off from spines",
      loss.get(("leaf", "spine")))
check(w.get("components_after") == 4, "components after losing both spines",
      w.get("components_after"))
# The host link: host-a loses its path to each of the 6 other nodes.
w = run_json("whatif", FABRIC, "--fail", "leaf-1-host-a", "--json")
check(w.get("pairs_disconnected") == 6, "pairs disconnected by the host link",
      w.get("pairs_disconnected"))
w = run_json("whatif", FABRIC, "--fail", "spine-1", "--json")
check(w.get("pairs_disconnected") == 0, "one spine down disconnects nothing",
      w.get("pairs_disconnected"))
loss = {(r["from_role"], r["to_role"]): r for r in w.get("reachability_lost_by_role", [])}
check(loss.get(("leaf", "spine"), {}).get("nodes_cut_off") == 0 and
      loss.get(("leaf", "spine"), {}).get("nodes_total") == 4,
      "one spine down cuts no leaf off the spines", loss.get(("leaf", "spine")))

# cascade: step 0 is the initial failure.
c = run_json("cascade", FABRIC, "--fail", "spine-1", "--alpha", "0.1", "--json")
check(c.get("steps", [{}])[0].get("failed") == ["spine-1"], "cascade step 0", c.get("steps"))
check(c.get("giant_before") == 7, "cascade giant before", c.get("giant_before"))

# diff: one node added, one changed (asn), one link added, one removed.
d = run_json("diff", FABRIC, os.path.join(DATA, "fabric-v2.json"), "--json")
s = d.get("summary", {})
check((s.get("nodes_added"), s.get("nodes_changed"), s.get("links_added"),
       s.get("links_removed")) == (1, 1, 1, 1), "diff summary", s)
changed = [i for i in d.get("items", []) if i["kind"] == "changed"]
check(changed and changed[0]["id"] == "spine-1" and
      changed[0]["changes"][0] == {"field": "asn", "before": "65000", "after": "65100"},
      "diff change detail", changed)

# convert round-trips through our own importer.
rc, out, _ = run("convert", FABRIC)
check(rc == 0 and json.loads(out)["type"] == "snapshot", "convert prints a snapshot")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all CLI checks passed")
