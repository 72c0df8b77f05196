#!/usr/bin/python3
"""bench_importance_networkx.py: NetworkX's way of computing node importance,
global_efficiency(G) - global_efficiency(G - v) for every v, timed against ours on the same
graphs (ours is run by this script through `bench_importance --edges`), with the values
checked to agree within 1e-9.

  /usr/bin/python3 bench/bench_importance_networkx.py --bench BUILD/bench/bench_importance
        [--zoo DIR] [--sizes 500] [--kdl-sample K | --full] [--seed 42]

Graphs: the Barabasi-Albert graphs of bench_importance (same generator and seed, written out
by `bench_importance --dump-ba`), and Topology Zoo Kdl.gml (754 nodes) read by networkx.
NetworkX takes about 0.7 s per removed node on Kdl, so by default it runs on K = 60 evenly
spaced removed nodes there and the total is extrapolated ("est."); --full runs them all.
Exit status: 0, 1 when the values disagree, 2 on errors.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TOL = 1e-9


def write_edges(g, path):
    """Writes g (nodes 0..n-1) as "n m" then "u v" lines."""
    with open(path, "w") as f:
        f.write("%d %d\n" % (g.number_of_nodes(), g.number_of_edges()))
        for u, v in g.edges():
            f.write("%d %d\n" % (u, v))


def read_edges(nx, path):
    with open(path) as f:
        n, m = map(int, f.readline().split())
        g = nx.Graph()
        g.add_nodes_from(range(n))
        for _ in range(m):
            u, v = map(int, f.readline().split())
            g.add_edge(u, v)
    return g


def ours(bench, edges_path, tmp):
    values = os.path.join(tmp, "values.txt")
    proc = subprocess.run([bench, "--edges", edges_path, "--values", values, "--repeat", "3"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("bench_importance --edges failed: %s" % proc.stderr.strip())
    timing = json.loads(proc.stdout.strip().splitlines()[-1])
    with open(values) as f:
        imp = [float(x) for x in f]
    return timing, imp


def networkx_importance(nx, g, sample):
    """Times E(G) - E(G - v) for v in sample; returns (seconds, {v: importance})."""
    t0 = time.perf_counter()
    e_all = nx.global_efficiency(g)
    out = {}
    for v in sample:
        rest = g.copy()
        rest.remove_node(v)
        out[v] = e_all - nx.global_efficiency(rest)
    return time.perf_counter() - t0, out


def bench_graph(nx, name, g, bench, tmp, sample_size):
    n = g.number_of_nodes()
    edges_path = os.path.join(tmp, "graph.txt")
    write_edges(g, edges_path)
    timing, imp = ours(bench, edges_path, tmp)
    nodes = list(range(n))
    if sample_size and sample_size < n:
        step = n / sample_size
        sample = sorted({int(i * step) for i in range(sample_size)})
    else:
        sample = nodes
    print("  %s: networkx on %d of %d removed nodes ..." % (name, len(sample), n),
          file=sys.stderr, flush=True)
    seconds, theirs = networkx_importance(nx, g, sample)
    total = seconds * n / len(sample) if len(sample) < n else seconds
    worst = max(abs(imp[v] - theirs[v]) for v in sample) if sample else 0.0
    return {"name": name, "n": n, "m": g.number_of_edges(), "nx": total,
            "estimated": len(sample) < n, "done": len(sample), "ours1": timing["ours_1t_s"],
            "oursn": timing["ours_all_s"], "threads": timing["threads"], "diff": worst}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", required=True, help="the bench_importance binary")
    ap.add_argument("--zoo", help="Topology Zoo directory (default "
                    "$NETASSURE_SHARED_DATA/topology-zoo)")
    ap.add_argument("--sizes", default="500", help="Barabasi-Albert sizes, comma-separated")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--kdl-sample", type=int, default=60)
    ap.add_argument("--full", action="store_true", help="networkx on every node of Kdl too")
    args = ap.parse_args()
    try:
        import networkx as nx
    except ImportError:
        print("networkx is not installed for %s" % sys.executable, file=sys.stderr)
        return 2
    zoo = args.zoo or os.path.join(os.environ.get("NETASSURE_SHARED_DATA", ""), "topology-zoo")
    rows, skipped = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",") if s):
            path = os.path.join(tmp, "ba.txt")
            subprocess.run([args.bench, "--dump-ba", str(size), path, "--seed", str(args.seed)],
                           check=True)
            rows.append(bench_graph(nx, "BA m=2 seed=%d" % args.seed, read_edges(nx, path),
                                    args.bench, tmp, 0))
        kdl = os.path.join(zoo, "Kdl.gml")
        if os.path.exists(kdl):
            g = nx.Graph(nx.read_gml(kdl, label="id"))
            g.remove_edges_from(list(nx.selfloop_edges(g)))
            g = nx.convert_node_labels_to_integers(g)
            rows.append(bench_graph(nx, "Topology Zoo Kdl", g, args.bench, tmp,
                                    0 if args.full else args.kdl_sample))
        else:
            skipped.append("Topology Zoo Kdl: %s not found" % kdl)

    print("\nImportance of every node: NetworkX (global_efficiency(G) - global_efficiency(G - v)"
          "\nfor every v, networkx %s) vs ours (bench_importance, median of 3 runs). Seconds.\n"
          % nx.__version__)
    print("%-20s %6s %6s %14s %9s %9s %10s %10s %9s" % (
        "graph", "n", "m", "networkx", "ours 1T", "ours allT", "nx/1T", "nx/allT", "max|diff|"))
    bad = False
    for r in rows:
        nxs = "%.1f est." % r["nx"] if r["estimated"] else "%.2f" % r["nx"]
        print("%-20s %6d %6d %14s %9.4f %9.4f %9.0fx %9.0fx %9.1e" % (
            r["name"], r["n"], r["m"], nxs, r["ours1"], r["oursn"], r["nx"] / r["ours1"],
            r["nx"] / r["oursn"], r["diff"]))
        bad |= r["diff"] > TOL
    for r in rows:
        if r["estimated"]:
            print("\"est.\" (%s): networkx ran on %d of %d removed nodes (evenly spaced) and its "
                  "time was extrapolated linearly; max|diff| covers those." % (
                      r["name"], r["done"], r["n"]))
    for s in skipped:
        print("skipped: " + s)
    if rows:
        print("allT = %d threads." % rows[0]["threads"])
    if bad:
        print("FAIL: ours and networkx disagree by more than %g" % TOL)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
