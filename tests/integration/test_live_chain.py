#!/usr/bin/python3
"""Chaining (issue 4): daemon A follows `netassure replay`; daemon B follows A's own
/topology/stream. The replay sends a seeded mix of deltas (node and link down / up, field
updates, nodes and links added and removed); once it is done, A and B serve the same
GET /topology (nodes and links equal, field by field) and B's versions advanced through the
deltas A passed on (not only through snapshots). Needs no NATS.
Set NETASSURE_KEEP_TMP=1 to keep the temp directory.
"""
import json
import os
import random
import shutil
import sys
import tempfile
import traceback

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
import livetest as lt  # noqa: E402
from napi import check, note  # noqa: E402


def mixed_deltas(topo, count, seed):
    """Valid deltas of several kinds against topo (a model of ids and statuses keeps them
    applicable); some deltas carry two ops."""
    rng = random.Random(seed)
    nodes = {nd["id"]: nd["status"] for nd in topo["nodes"]}
    links = {ln["id"]: ln["status"] for ln in topo["links"]}
    base_nodes = list(nodes)
    added = []   # (node id, its link id)
    out = []
    k = 0
    for i in range(count):
        ops = []
        for _ in range(1 if rng.random() < 0.8 else 2):
            r = rng.random()
            if r < 0.35:
                x = rng.choice(base_nodes)
                ops.append({"op": "node_up" if nodes[x] == "down" else "node_down",
                            "node": {"id": x}})
                nodes[x] = "up" if nodes[x] == "down" else "down"
            elif r < 0.55:
                lid = rng.choice(sorted(links))
                ops.append({"op": "link_up" if links[lid] == "down" else "link_down",
                            "link": {"id": lid}})
                links[lid] = "up" if links[lid] == "down" else "down"
            elif r < 0.70:
                x = rng.choice(base_nodes)
                ops.append({"op": "node_update",
                            "node": {"id": x, "label": f"{x} rev {i}", "capacity": 1e9 * (i + 1),
                                     "attributes": {"rev": i, "note": None if i % 3 else "x"}}})
            elif r < 0.80:
                lid = rng.choice(sorted(links))
                ops.append({"op": "link_update", "link": {"id": lid, "capacity": 4e11 + i}})
            elif r < 0.92 or not added:
                k += 1
                nid, lid = f"new{k:03d}", f"newlink{k:03d}"
                peer = rng.choice(base_nodes)
                ops.append({"op": "node_add", "node": {"id": nid, "role": "leaf", "site": "s9",
                                                      "status": "up", "asn": 65000 + k}})
                ops.append({"op": "link_add", "link": {"id": lid, "source": nid, "target": peer,
                                                      "status": "up", "capacity": 1e10}})
                nodes[nid] = "up"
                links[lid] = "up"
                added.append((nid, lid))
            else:
                nid, lid = added.pop(rng.randrange(len(added)))
                ops.append({"op": "node_remove", "node": {"id": nid}})
                del nodes[nid]
                del links[lid]
        out.append({"type": "delta", "ops": ops})
    return out


def topology(d):
    r = requests.get(d.base + "/topology", timeout=30)
    r.raise_for_status()
    return r.json()


def by_id(items):
    return {x["id"]: x for x in items}


def main():
    tmp = tempfile.mkdtemp(prefix="na-live-chain-")
    print(f"== chain A <- replay, B <- A [{tmp}]", flush=True)
    topo = lt.make_topology(40, name="chain")
    n_deltas = 400
    deltas = mixed_deltas(topo, n_deltas, seed=31)
    snap = lt.write_json(os.path.join(tmp, "snap.json"), topo)
    dfile = lt.write_json(os.path.join(tmp, "deltas.json"), deltas)
    rep = lt.Replay(tmp, snap, [dfile], rate=80)
    port_a = napi.free_port()
    wd_a, wd_b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    os.makedirs(wd_a)
    os.makedirs(wd_b)
    a = napi.Daemon(config=lt.daemon_config(rep.url), workdir=wd_a, port=port_a)
    b = napi.Daemon(config=lt.daemon_config(f"ws://127.0.0.1:{port_a}/topology/stream"),
                    workdir=wd_b)
    try:
        rep.start()
        # B first: it follows A as soon as A listens; A's first client is then already there
        # when the replay (waiting for its first client, A) starts sending.
        b.start()
        a.start()
        lt.wait_status(a, lambda st: (st.get("stream") or {}).get("topology_clients", 0) >= 1,
                       60, "B connects to A's /topology/stream")
        if not lt.wait_status(a, lambda st: st["ingest"]["deltas_applied"] >= n_deltas, 120,
                              f"A applies the replay's {n_deltas} deltas"):
            return
        st_a = lt.wait_quiet(a)
        check(st_a["ingest"]["deltas_failed"] == 0, "A: no delta failed",
              json.dumps(st_a["ingest"]))
        check(lt.counters(st_a).get("apply_failures") == 0, "A: no apply failure",
              json.dumps(lt.counters(st_a)))
        want = topology(a)

        # B catches up: poll until its topology equals A's (or time out and report).
        def same():
            got = topology(b)
            return got if (got["nodes"] == want["nodes"] and got["links"] == want["links"]) else None
        got = napi.wait_for(same, timeout=90, step=0.25, what="B serves the same topology as A")
        st_b = lt.wait_quiet(b)
        if got is None:
            got = topology(b)
        na, nb = by_id(want["nodes"]), by_id(got["nodes"])
        la, lb = by_id(want["links"]), by_id(got["links"])
        check(set(na) == set(nb), "A and B have the same node ids",
              f"only A {sorted(set(na) - set(nb))[:10]}, only B {sorted(set(nb) - set(na))[:10]}")
        check(set(la) == set(lb), "A and B have the same link ids",
              f"only A {sorted(set(la) - set(lb))[:10]}, only B {sorted(set(lb) - set(la))[:10]}")
        diff_n = [x for x in na if x in nb and na[x] != nb[x]]
        diff_l = [x for x in la if x in lb and la[x] != lb[x]]
        check(not diff_n, "every node is equal on A and B, field by field",
              f"{len(diff_n)} differ, e.g. A {json.dumps(na[diff_n[0]]) if diff_n else ''} "
              f"B {json.dumps(nb[diff_n[0]]) if diff_n else ''}")
        check(not diff_l, "every link is equal on A and B, field by field",
              f"{len(diff_l)} differ, e.g. A {json.dumps(la[diff_l[0]]) if diff_l else ''} "
              f"B {json.dumps(lb[diff_l[0]]) if diff_l else ''}")
        check(got["nodes"] == want["nodes"] and got["links"] == want["links"],
              "A and B list nodes and links in the same order")
        check(len(na) > len(topo["nodes"]) - 5, "the chain carried the whole topology",
              f"{len(na)} nodes")

        cb = lt.counters(st_b)
        note(f"A: version {st_a['topology']['version']}, deltas applied "
             f"{st_a['ingest']['deltas_applied']}; B: version {st_b['topology']['version']}, "
             f"deltas applied {st_b['ingest']['deltas_applied']}, counters {json.dumps(cb)}")
        check(st_b["ingest"]["deltas_applied"] > 0 and st_b["topology"]["version"] >= 2,
              "B's versions advanced through deltas from A",
              f"version {st_b['topology']['version']}, deltas {st_b['ingest']['deltas_applied']}")
        check(cb.get("gaps") == 0 and cb.get("malformed") == 0 and cb.get("apply_failures") == 0,
              "B: no gap, malformed message or failed delta on A's stream", json.dumps(cb))
        if cb.get("snapshots") == 1:
            # One snapshot from A (at whatever version A had when B connected), then one version
            # per delta A passed on.
            check(st_b["topology"]["version"] == 1 + st_b["ingest"]["deltas_applied"],
                  "B (one snapshot): one version per delta from A after its snapshot",
                  f"version {st_b['topology']['version']}, deltas {st_b['ingest']['deltas_applied']}")
        check(st_b["ingest"]["deltas_applied"] <= st_a["topology"]["version"] - 1,
              "B applied no more deltas than A made versions",
              f"{st_b['ingest']['deltas_applied']} vs {st_a['topology']['version']}")
        with lt.db(b) as conn:
            vs = lt.versions(conn)
            dups = lt.duplicate_current(conn, "nodes") + lt.duplicate_current(conn, "links")
        lt.check_versions(vs, "B's warehouse")
        check(not dups, "B: no node or link has two current rows", str(dups[:5]))
        # A's stream status shows B as its client.
        st_a = lt.status(a)
        check(st_a["stream"].get("topology_clients") == 1, "A counts B on /topology/stream",
              json.dumps(st_a["stream"]))
    except Exception:  # noqa: BLE001 - any crash of the test is a failure with its trace
        check(False, "the chain test ran to the end", traceback.format_exc())
    finally:
        rep.kill()
        b.stop()
        a.stop()
    rc = napi.finish("test_live_chain")
    if rc == 0 and os.environ.get("NETASSURE_KEEP_TMP") != "1":
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        note(f"kept {tmp}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
