#!/usr/bin/python3
"""test_oracle_networkx.py: `netassure analyze FILE --json` on every Internet Topology Zoo graph,
checked against NetworkX computing the same things from the same file on its own:

  - betweenness: nx.betweenness_centrality(G, normalized=False)
  - articulation points (per-node flag and the top-level count): nx.articulation_points
  - bridges: nx.bridges
  - importance: nx.global_efficiency(G) - nx.global_efficiency(G - v)
  - efficiency: nx.global_efficiency(G); redundancy: G.degree(v)

G is nx.read_gml(path, label='id') collapsed to a simple nx.Graph without self-loops, node ids
as strings (our importer's rule: GML `id 12` is node "12"). Values agree when
|ours - theirs| <= 1e-9 * max(1, |theirs|) (absolute, relative for big values).

NetworkX needs O(n^2 m) for the importance of every node (about 9 CPU-minutes for Kdl alone),
so its work is split into tasks (per file, and per chunk of removed nodes) run on every CPU,
and its answers are cached by file content in $NETASSURE_ORACLE_CACHE (scripts/run-tests.sh
points the release and the sanitizer runs at the same cache, so NetworkX runs once). Every node
of every graph is checked. NETASSURE_ORACLE_FULL_MAX=N (for quick local runs) checks only a
fixed sample on graphs above N nodes and says so.

Skips (exit 77, with a visible reason) when the Zoo data or networkx is missing.
"""
import functools
import glob
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import time

TOL = 1e-9
MAX_REPORTED = 10


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def close(ours, theirs):
    return abs(ours - theirs) <= TOL * max(1.0, abs(theirs))


def nx_graph(nx, path):
    g = nx.read_gml(path, label="id")
    simple = nx.Graph()
    simple.add_nodes_from(str(v) for v in g.nodes())
    simple.add_edges_from((str(u), str(v)) for u, v in g.edges() if u != v)
    return simple


def analyze(binary, path):
    """Our analysis of `path` as parsed JSON, or (None, message)."""
    proc = subprocess.run([binary, "analyze", path, "--json"], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        return None, "exit %d: %s" % (proc.returncode, proc.stderr.strip()[-2000:])
    try:
        return json.loads(proc.stdout), None
    except ValueError as e:
        return None, "stdout is not JSON (%s): %r" % (e, proc.stdout[:300])


CHUNK = 40  # removed nodes per NetworkX task


@functools.lru_cache(maxsize=4)
def nx_graph_cached(path):
    import networkx as nx
    return nx_graph(nx, path)


def oracle_base(path):
    """NetworkX's betweenness, articulation points, bridges and efficiency of one file."""
    import networkx as nx
    g = nx_graph_cached(path)
    return {"betweenness": nx.betweenness_centrality(g, normalized=False),
            "articulation_points": sorted(nx.articulation_points(g)),
            "bridges": [sorted(e) for e in nx.bridges(g)],
            "efficiency": nx.global_efficiency(g)}


def oracle_importance(task):
    """Importance of a chunk of removed nodes: E(G) - E(G - v), both by NetworkX."""
    import networkx as nx
    path, removed = task
    g = nx_graph_cached(path)
    e_all = nx.global_efficiency(g)
    result = {}
    for v in removed:
        # A real copy, not g.subgraph(...): NetworkX filters a view on every neighbour visit,
        # which made this three times slower.
        rest = g.copy()
        rest.remove_node(v)
        result[v] = e_all - nx.global_efficiency(rest)
    return result


def oracles(files, cache_dir, full_max):
    """{path: oracle} for every file, from the cache or computed on every CPU."""
    def key(path):
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        return os.path.join(cache_dir, "%s-%s.json" % (digest[:32], full_max))

    result, todo = {}, []
    for path in files:
        try:
            with open(key(path)) as f:
                result[path] = json.load(f)
        except (OSError, ValueError):
            todo.append(path)
    if not todo:
        return result
    print("computing NetworkX answers for %d files on %d CPUs (cached in %s)" %
          (len(todo), os.cpu_count() or 1, cache_dir), flush=True)
    tasks = []
    for path in todo:
        nodes = sorted(nx_graph_cached(path).nodes())
        if len(nodes) > full_max:
            step = max(1, len(nodes) // 40)
            nodes = nodes[::step]
        tasks += [(path, nodes[i:i + CHUNK]) for i in range(0, len(nodes), CHUNK)]
    # Biggest graphs first so one slow task does not start last.
    tasks.sort(key=lambda t: -len(nx_graph_cached(t[0])))
    with multiprocessing.Pool() as pool:
        bases = pool.map(oracle_base, todo)
        parts = pool.map(oracle_importance, tasks, chunksize=1)
    for path, base in zip(todo, bases):
        base["importance"] = {}
        result[path] = base
    for (path, _), part in zip(tasks, parts):
        result[path]["importance"].update(part)
    os.makedirs(cache_dir, exist_ok=True)
    for path in todo:
        tmp = key(path) + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result[path], f)
        os.replace(tmp, key(path))
    return result


def check_file(nx, binary, path, oracle, problems):
    """Appends (file, what, node, ours, theirs) for each disagreement; returns a note or None."""
    name = os.path.basename(path)
    ours, err = analyze(binary, path)
    if ours is None:
        problems.append((name, "analyze failed", "-", err, "-"))
        return None
    g = nx_graph(nx, path)
    try:
        nodes = {n["id"]: n for n in ours["nodes"]}
    except (KeyError, TypeError) as e:
        problems.append((name, "JSON has no usable \"nodes\" (%s)" % e, "-", "-", "-"))
        return None
    if set(nodes) != set(g.nodes()):
        only_ours = sorted(set(nodes) - set(g.nodes()))[:5]
        only_nx = sorted(set(g.nodes()) - set(nodes))[:5]
        problems.append((name, "node sets differ", "-", "only ours: %s" % only_ours,
                         "only networkx: %s" % only_nx))
        return None

    def compare(what, v, mine, theirs):
        if mine is None or not close(mine, theirs):
            problems.append((name, what, v, mine, theirs))

    bc = oracle["betweenness"]
    for v in g.nodes():
        compare("betweenness", v, nodes[v].get("betweenness"), bc[v])
        if nodes[v].get("redundancy") != g.degree(v):
            problems.append((name, "redundancy", v, nodes[v].get("redundancy"), g.degree(v)))

    aps = set(oracle["articulation_points"])
    flagged = {v for v, n in nodes.items() if n.get("articulation_point") is True}
    if flagged != aps:
        problems.append((name, "articulation points (node flags)", "-",
                         "only ours: %s" % sorted(flagged - aps)[:5],
                         "only networkx: %s" % sorted(aps - flagged)[:5]))
    count = ours.get("articulation_points")
    if count != len(aps):
        problems.append((name, "articulation_points (count)", "-", count, len(aps)))

    bridges = {frozenset(e) for e in oracle["bridges"]}
    ours_bridges = {frozenset((b["source"], b["target"])) for b in ours.get("bridges", [])}
    if ours_bridges != bridges:
        problems.append((name, "bridges", "-",
                         "only ours: %s" % [sorted(b) for b in ours_bridges - bridges][:5],
                         "only networkx: %s" % [sorted(b) for b in bridges - ours_bridges][:5]))

    e_all = oracle["efficiency"]
    if ours.get("efficiency") is None or not close(ours["efficiency"], e_all):
        problems.append((name, "efficiency", "-", ours.get("efficiency"), e_all))
    imp = {v: nodes[v].get("importance") for v in g.nodes()}
    if any(x is None for x in imp.values()):
        problems.append((name, "importance missing", "-", "-", "-"))
        return None
    note = None
    if len(oracle["importance"]) < len(imp):
        note = "%d of %d nodes (NETASSURE_ORACLE_FULL_MAX)" % (len(oracle["importance"]), len(imp))
    for v, theirs in oracle["importance"].items():
        compare("importance", v, imp[v], theirs)
    return note


def main():
    try:
        import networkx as nx
    except ImportError:
        skip("networkx is not installed for " + sys.executable)
    shared = os.environ.get("NETASSURE_SHARED_DATA", "")
    zoo = os.path.join(shared, "topology-zoo")
    files = sorted(glob.glob(os.path.join(zoo, "*.gml")))
    if not shared or not files:
        skip("no Topology Zoo GML files in $NETASSURE_SHARED_DATA/topology-zoo (%r)" % zoo)
    binary = os.environ.get("NETASSURE_BIN")
    if not binary or not os.access(binary, os.X_OK):
        print("FAIL: $NETASSURE_BIN is not an executable: %r" % binary)
        return 1
    full_max = int(os.environ.get("NETASSURE_ORACLE_FULL_MAX", "1000000000"))
    cache_dir = os.environ.get("NETASSURE_ORACLE_CACHE") or os.path.join(
        os.environ.get("NETASSURE_BUILD_DIR", "."), "oracle-cache")

    problems, started = [], time.time()
    answers = oracles(files, cache_dir, full_max)
    print("NetworkX answers ready after %.0f s" % (time.time() - started), flush=True)
    for path in files:
        note = check_file(nx, binary, path, answers[path], problems)
        if note:
            print("%s: importance checked on %s" % (os.path.basename(path), note))
    print("%d Topology Zoo graphs checked against networkx %s in %.0f s" %
          (len(files), nx.__version__, time.time() - started))
    if problems:
        print("FAIL: %d disagreements; the first %d (file, what, node, ours, networkx):" %
              (len(problems), min(len(problems), MAX_REPORTED)))
        for p in problems[:MAX_REPORTED]:
            print("  %s  %s  node %s: ours %r, networkx %r" % p)
        return 1
    print("OK: betweenness, articulation points, bridges, efficiency, redundancy and importance"
          " agree within %g" % TOL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
