#!/usr/bin/python3
"""The example topologies against the JSON schema and the real importer.

Half 1 (needs python3-jsonschema): every examples/*.json validates against
docs/topology.schema.json, NetworkX node-link JSON and other valid messages validate, a set of
broken documents does not, and scripts/gen-topology.py still writes v2.1-test-topology.json
byte for byte.

Half 2 (needs `netassure convert`): each example loads through $NETASSURE_BIN convert, the
printed snapshot says what the file says (every node and link field), validates against the
schema, and converting it again prints the same text. The events document is refused.

A half whose tool is missing is skipped with a visible SKIP line; if both are, exit 77.
"""

import glob
import json
import os
import subprocess
import sys
import tempfile

SRC = os.environ.get("NETASSURE_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXAMPLES = os.path.join(SRC, "examples")
SCHEMA = os.path.join(SRC, "docs", "topology.schema.json")
failures = []



def instant(t):
    """An RFC 3339 text (or epoch milliseconds) as a datetime, for comparing instants."""
    import datetime
    if isinstance(t, (int, float)):
        return datetime.datetime.fromtimestamp(t / 1000, datetime.timezone.utc)
    return datetime.datetime.fromisoformat(str(t).replace("Z", "+00:00"))

def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def example_files():
    files = sorted(glob.glob(os.path.join(EXAMPLES, "*.json")))
    if len(files) < 5:
        fail(f"expected the 5 example JSON files in {EXAMPLES}, found {len(files)}")
    return files


# Documents the schema must refuse, each for one reason.
INVALID = {
    "node without id": {"nodes": [{"label": "x"}]},
    "empty node id": {"nodes": [{"id": ""}]},
    "boolean node id": {"nodes": [{"id": True}]},
    "asn as string": {"nodes": [{"id": "a", "asn": "x"}]},
    "asn too large": {"nodes": [{"id": "a", "asn": 4294967296}]},
    "latitude out of range": {"nodes": [{"id": "a", "latitude": 91}]},
    "latitude as text": {"nodes": [{"id": "a", "latitude": "north"}]},
    "negative capacity": {"nodes": [{"id": "a", "capacity": -1}]},
    "bad status": {"nodes": [{"id": "a", "status": "sideways"}]},
    "nested attribute": {"nodes": [{"id": "a", "attributes": {"x": {"y": 1}}}]},
    "link without target": {"nodes": [{"id": "a"}], "links": [{"source": "a"}]},
    "links and edges": {"nodes": [], "links": [], "edges": []},
    "unknown top-level field": {"nodes": [], "comment": "x"},
    "no nodes": {"links": []},
    "bad timestamp": {"timestamp": "yesterday", "nodes": []},
    "unknown op": {"type": "delta", "ops": [{"op": "node_frob", "node": {"id": "a"}}]},
    "node op without node": {"type": "delta", "ops": [{"op": "node_add", "link": {"id": "a"}}]},
    "link_remove without id or ends": {"ops": [{"op": "link_remove", "link": {"source": "a"}}]},
    "link_add without ends": {"ops": [{"op": "link_add", "link": {"id": "x"}}]},
    "negative seq": {"type": "delta", "seq": -1, "ops": []},
    "event without timestamp": {"type": "events", "events": [{"op": "link_down", "id": "x"}]},
    "event with unknown op": {"events": [{"timestamp": 1, "op": "link_flap", "id": "x"}]},
    "node event without id": {"events": [{"timestamp": 1, "op": "node_down"}]},
    "array of snapshots": [{"nodes": []}],
}

VALID = {
    "bare snapshot with edges and integer ids":
        {"nodes": [{"id": 1}, {"id": "b"}], "edges": [{"source": 1, "target": "b"}]},
    "nulls mean unknown": {"nodes": [{"id": "a", "asn": None, "status": None, "label": None}]},
    "bare delta": {"ops": [{"op": "node_update", "node": {"id": "a", "label": None,
                                                          "attributes": {"x": None}}}]},
    "delta batch": [{"seq": 1, "ops": []},
                    {"seq": 2, "timestamp": 1772971200000,
                     "ops": [{"op": "link_down", "link": {"source": "a", "target": "b"}}]}],
    "events with offsets": {"events": [
        {"timestamp": "2026-03-08T12:00:00.25+01:00", "op": "link_up", "source": 1, "target": 2},
        {"timestamp": "2026-03-08 12:00:00z", "op": "node_add", "id": "n", "role": "leaf"}]},
}


def schema_half():
    try:
        import jsonschema
    except ImportError:
        print("SKIP: schema half: python3-jsonschema is not installed "
              "(scripts/install-deps.sh --test)")
        return False
    schema = load(SCHEMA)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    for path in example_files():
        error = jsonschema.exceptions.best_match(validator.iter_errors(load(path)))
        if error is not None:
            fail(f"{os.path.basename(path)}: {'/'.join(map(str, error.absolute_path))}: "
                 f"{error.message[:300]}")
        else:
            print(f"ok: {os.path.basename(path)} validates")

    for name, doc in VALID.items():
        errors = list(validator.iter_errors(doc))
        if errors:
            fail(f"valid document '{name}' is refused: {errors[0].message}")
    try:
        import networkx as nx
        from networkx.readwrite import json_graph
        g = nx.MultiGraph(name="nx")
        g.add_edge(0, 1, weight=2.5)
        g.add_edge(0, 1)
        g.add_node(2, Country="DE")
        errors = list(validator.iter_errors(json_graph.node_link_data(g)))
        if errors:
            fail(f"NetworkX node_link_data output is refused: {errors[0].message}")
        else:
            print("ok: NetworkX node-link JSON validates")
    except ImportError:
        print("SKIP: NetworkX check: python3-networkx is not installed")

    for name, doc in INVALID.items():
        if validator.is_valid(doc):
            fail(f"invalid document '{name}' passes validation: {json.dumps(doc)}")
    print(f"ok: {len(INVALID)} invalid documents refused, {len(VALID)} valid ones accepted")

    gen = subprocess.run(["/usr/bin/python3", os.path.join(SRC, "scripts", "gen-topology.py"),
                          "--check"], capture_output=True, text=True)
    if gen.returncode != 0:
        fail("scripts/gen-topology.py --check: " + (gen.stdout + gen.stderr).strip())
    else:
        print("ok: " + gen.stdout.strip())
    return True


def expected_snapshot(doc):
    """What `convert` should print for a snapshot file: ids as strings, nulls and unknown
    values left out, status in lower case, link ids generated as the model does."""
    def sid(v):
        return str(v)

    nodes = []
    for n in doc["nodes"]:
        out = {"id": sid(n["id"])}
        for k in ("label", "role", "asn", "site", "latitude", "longitude", "capacity", "status"):
            v = n.get(k)
            if v is None or (k == "asn" and v == 0) or (k == "status" and v.lower() == "unknown"):
                continue
            out[k] = v.lower() if k == "status" else v
        attrs = {k: v for k, v in (n.get("attributes") or {}).items() if v is not None}
        if attrs:
            out["attributes"] = attrs
        nodes.append(out)
    links, used = [], set()
    for link in doc.get("links", doc.get("edges", [])):
        s, t = sid(link["source"]), sid(link["target"])
        lid = sid(link["id"]) if link.get("id") is not None else None
        if lid is None:
            lid, k = f"{s}--{t}", 2
            while lid in used:
                lid, k = f"{s}--{t}#{k}", k + 1
        used.add(lid)
        out = {"id": lid, "source": s, "target": t}
        for k in ("label", "capacity", "status"):
            v = link.get(k)
            if v is None or (k == "status" and v.lower() == "unknown"):
                continue
            out[k] = v.lower() if k == "status" else v
        attrs = {k: v for k, v in (link.get("attributes") or {}).items() if v is not None}
        if attrs:
            out["attributes"] = attrs
        links.append(out)
    return nodes, links


def convert(binary, path):
    return subprocess.run([binary, "convert", path], capture_output=True, text=True, timeout=300)


def convert_half():
    binary = os.environ.get("NETASSURE_BIN", "")
    if not binary or not os.access(binary, os.X_OK):
        print("SKIP: convert half: $NETASSURE_BIN is not set to the netassure binary")
        return False
    probe = subprocess.run([binary, "convert", "--help"], capture_output=True, text=True)
    if probe.returncode != 0 or "convert" not in probe.stdout + probe.stderr:
        print("SKIP: convert half: this netassure has no `convert` subcommand yet")
        return False
    try:
        import jsonschema
        validator = jsonschema.Draft202012Validator(load(SCHEMA))
    except ImportError:
        validator = None

    for path in example_files():
        name = os.path.basename(path)
        doc = load(path)
        r = convert(binary, path)
        if doc.get("type") == "events":
            if r.returncode == 0:
                fail(f"convert {name}: an events document is not a snapshot, yet exit 0")
            else:
                print(f"ok: convert {name} refused (exit {r.returncode})")
            continue
        if r.returncode != 0:
            fail(f"convert {name}: exit {r.returncode}: {r.stderr.strip()[-500:]}")
            continue
        try:
            out = json.loads(r.stdout)
        except ValueError as e:
            fail(f"convert {name}: output is not JSON ({e}): {r.stdout[:200]!r}")
            continue
        nodes, links = expected_snapshot(doc)
        for what, got, want in (("nodes", out.get("nodes"), nodes), ("links", out.get("links"), links)):
            if got != want:
                n_got, n_want = len(got or []), len(want)
                diff = next((i for i, (a, b) in enumerate(zip(got or [], want)) if a != b), None)
                detail = (f"first difference at {what}[{diff}]:\n  got  {got[diff]}\n  want {want[diff]}"
                          if diff is not None else f"{n_got} {what}, expected {n_want}")
                fail(f"convert {name}: {detail}")
        for k in ("name", "version", "timestamp"):
            same = out.get(k) == doc.get(k)
            if k == "timestamp" and k in doc and isinstance(out.get(k), str):
                # the same instant; the export always writes milliseconds
                same = instant(out[k]) == instant(doc[k])
            if k in doc and not same:
                fail(f"convert {name}: {k} is {out.get(k)!r}, expected {doc[k]!r}")
        if validator is not None:
            for e in list(validator.iter_errors(out))[:3]:
                fail(f"convert {name}: output breaks the schema: {e.message}")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as tmp:
            tmp.write(r.stdout)
        try:
            again = convert(binary, tmp.name)
        finally:
            os.unlink(tmp.name)
        if again.returncode != 0 or again.stdout != r.stdout:
            fail(f"convert {name}: converting the output again changes it")
        if not any(m.startswith(f"convert {name}") for m in failures):
            print(f"ok: convert {name}: {len(nodes)} nodes, {len(links)} links, round trip stable")

    yaml_path = os.path.join(EXAMPLES, "devices.yaml")
    r = convert(binary, yaml_path)
    if r.returncode != 0:
        fail(f"convert devices.yaml: exit {r.returncode}: {r.stderr.strip()[-500:]}")
    else:
        out = json.loads(r.stdout)
        ids = [n["id"] for n in out["nodes"]]
        if len(ids) != 8 or len(out["links"]) != 13 or "tor-04" not in ids:
            fail(f"convert devices.yaml: nodes {ids}, {len(out['links'])} links; expected 8 "
                 "devices and 13 peerings")
        elif validator is not None and not validator.is_valid(out):
            fail("convert devices.yaml: output breaks the schema")
        else:
            print("ok: convert devices.yaml: 8 devices, 13 peerings")
    return True


def main():
    ran = [schema_half(), convert_half()]
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    if not any(ran):
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
