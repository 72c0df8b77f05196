#!/usr/bin/python3
"""The alert manager on the live path (issue 4), end to end: `netassure replay` feeds a daemon
(ws source) with deltas and metrics; its event rules raise, repeat, resolve and silence alerts.

- topology_change on node_down: raised by a node_down delta, resolved by the node_up delta;
- custom expression on link_down at one site: raised for that link only;
- metric_threshold utilisation > 0.9 held for 1 s: stream metrics samples of a link keep it
  above for longer than that (raised), then a sample under the threshold clears it (resolved);
- a silence on a node (POST /silences) made before its node_down: the alert is recorded with
  "silenced": true;
- /status ingest counters add up, GET /alerts/groups and GET /alerts agree with the above.
With nats-server installed (else those checks are skipped visibly): every alert change that
is not silenced is on anomaly.alerts exactly once, the silenced one is not, and the site group
that holds a topology alert and a custom one is published on alerts.multi_modal.
Set NETASSURE_KEEP_TMP=1 to keep the temp directory.
"""
import json
import os
import shutil
import sys
import tempfile
import time
import traceback

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
import livetest as lt  # noqa: E402
from napi import check, note  # noqa: E402

RULES = [
    {"name": "node-down", "type": "topology_change", "on": ["node_down"], "severity": "major"},
    {"name": "s1-links", "type": "custom", "expr": 'type == "link_down" && site == "s1"',
     "severity": "minor"},
    {"name": "hot-link", "type": "metric_threshold", "metric": "utilisation", "op": ">",
     "threshold": 0.9, "for": "1s", "severity": "warning"},
]


def alerts(d, **params):
    r = requests.get(d.base + "/alerts", params=dict(limit=1000, **params), timeout=10)
    r.raise_for_status()
    return r.json()


def by_rule(items, rule, **match):
    return [a for a in items if a.get("rule") == rule and
            all(a.get(k) == v for k, v in match.items())]


def main():
    tmp = tempfile.mkdtemp(prefix="netassure-live-alerting-")
    keep = os.environ.get("NETASSURE_KEEP_TMP") == "1"
    rep = d = ns = None
    try:
        if lt.have_nats_server():
            ns = lt.NatsServer(tmp)
            ns.start()
        else:
            note("SKIP the NATS checks: nats-server is not installed")
        topo = lt.make_topology(12, name="alerting")
        links = {ln["id"]: ln for ln in topo["links"]}
        site = {nd["id"]: nd["site"] for nd in topo["nodes"]}
        # A link whose source is at site s1 (custom rule) and one whose source is not.
        l_s1 = next(i for i, ln in sorted(links.items()) if site[ln["source"]] == "s1")
        l_other = next(i for i, ln in sorted(links.items()) if site[ln["source"]] != "s1")
        hot = sorted(links)[0]
        deltas = [
            {"type": "delta", "ops": [{"op": "node_down", "node": {"id": "n005"}}]},
            {"type": "delta", "ops": [{"op": "link_down", "link": {"id": l_s1}}]},
            {"type": "delta", "ops": [{"op": "link_down", "link": {"id": l_other}}]},
            {"type": "delta", "ops": [{"op": "node_up", "node": {"id": "n005"}}]},
            {"type": "delta", "ops": [{"op": "node_down", "node": {"id": "n007"}}]},
        ]
        # Metrics after the deltas (raw lines, 4 per second): 2.5 s above 0.9, then under.
        raw = [{"type": "metrics", "samples": [{"link": hot, "name": "utilisation",
                                                "value": 0.95 + 0.001 * i}]} for i in range(10)]
        raw.append({"type": "metrics", "samples": [{"link": hot, "name": "utilisation",
                                                    "value": 0.5}]})
        snap = lt.write_json(os.path.join(tmp, "snap.json"), topo)
        dfile = lt.write_json(os.path.join(tmp, "deltas.json"), deltas)
        rawf = os.path.join(tmp, "metrics.jsonl")
        with open(rawf, "w") as f:
            for m in raw:
                f.write(json.dumps(m) + "\n")

        rep = lt.Replay(tmp, snap, [dfile], rate=4, raw=rawf)
        rep.start()
        d = napi.Daemon(config=lt.daemon_config(rep.url, ns.url if ns else None, rules=RULES),
                        workdir=os.path.join(tmp, "d"))
        os.makedirs(d.workdir, exist_ok=True)
        d.start()
        # The silence goes in before n007 goes down (the replay waits for its first client,
        # the daemon, and sends 4 messages a second: n007's delta is the fifth).
        r = requests.post(d.base + "/silences", json={
            "matchers": {"node_id": "n007"}, "ends_at": napi.fmt_time(
                napi.from_ms(int(time.time() * 1000) + 3600 * 1000)),
            "comment": "maintenance of n007", "created_by": "test"}, timeout=10)
        check(r.status_code == 201, "POST /silences before the node_down", r.text[:300])

        st = lt.wait_status(d, lambda s: lt.counters(s).get("metrics", 0) >= len(raw), 60,
                            "every message handled")
        st = lt.wait_quiet(d)
        c = lt.counters(st)
        check(c.get("snapshots") == 1 and c.get("deltas") == len(deltas) and
              c.get("metrics") == len(raw) and c.get("malformed") == 0 and
              c.get("gaps") == 0 and c.get("apply_failures") == 0,
              "stream counters: 1 snapshot, the deltas and metrics, nothing else", json.dumps(c))
        check(st["ingest"]["deltas_applied"] == len(deltas) and
              st["ingest"]["samples_stored"] == len(raw),
              "engine: every delta applied and sample stored", json.dumps(st["ingest"])[:300])

        items = lt.wait_status(d, lambda s: True) and alerts(d)
        nd5 = by_rule(items, "node-down", node_id="n005")
        check(len(nd5) == 1 and nd5[0]["status"] == "resolved",
              "node_down of n005 raised one alert and node_up resolved it",
              json.dumps(nd5)[:400])
        nd7 = by_rule(items, "node-down", node_id="n007")
        check(len(nd7) == 1 and nd7[0]["status"] == "active" and nd7[0].get("silenced") is True,
              "node_down of n007 under a silence: recorded active and silenced",
              json.dumps(nd7)[:400])
        cust = by_rule(items, "s1-links")
        check(len(cust) == 1 and l_s1 in json.dumps(cust[0]),
              f"custom rule: one alert, for {l_s1} (site s1) and not {l_other}",
              json.dumps(cust)[:400])
        # The metric held above 0.9 for more than its 1 s, then a sample under it cleared it.
        hotal = by_rule(items, "hot-link")
        check(len(hotal) == 1 and hotal[0]["status"] == "resolved",
              "metric_threshold held for 1 s raised one alert; the low sample resolved it",
              json.dumps(hotal)[:400])
        if hotal:
            created = napi.parse_time(hotal[0]["created_at"])
            updated = napi.parse_time(hotal[0]["updated_at"])
            check(updated > created, "the metric alert resolved after it was raised",
                  f"{created} {updated}")
        # Groups by node: n007 holds a live alert.
        g = requests.get(d.base + "/alerts/groups", timeout=10).json()
        keys = {(x.get("by"), x.get("key")) for x in g}
        check(("node", "n007") in keys, "GET /alerts/groups has node n007's group",
              sorted(map(str, keys)))
        # The warehouse kept every alert change (raised and resolved are two versions).
        with lt.db(d) as conn:
            n_rows = conn.execute("SELECT count(*) FROM alerts WHERE id = ?",
                                  (nd5[0]["alert_id"] if nd5 else "",)).fetchone()[0]
        check(n_rows >= 2, "n005's alert has its active and resolved versions in the warehouse",
              n_rows)
        if ns:
            msgs = lt.wait_status(d, lambda s: (s.get("nats") or {}).get("outbox") == 0, 30,
                                  "NATS outbox drained") and lt.js_messages(ns.url)
            lt.check_msg_ids_unique(msgs, "live alerting")
            got, bad = lt.js_alert_changes(msgs)
            check(not bad, "anomaly.alerts payloads parse", bad[:3])
            want = {a["alert_id"] for a in items if not a.get("silenced")}
            seen = {k[0] for k in got}
            check(want <= seen, "every alert that is not silenced is on anomaly.alerts",
                  sorted(want - seen))
            check(not any(nd7 and k[0] == nd7[0]["alert_id"] for k in got),
                  "the silenced alert is not on anomaly.alerts")
            check(all(c == 1 for c in got.values()), "each alert change once on NATS",
                  [k for k, c in got.items() if c != 1][:5])
            mm = [json.loads(m["data"]) for m in msgs if m["subject"] == "alerts.multi_modal"]
            check(any((x.get("group") or {}).get("group") == "site:s1" and
                      len((x.get("group") or {}).get("evidence") or []) > 1 for x in mm),
                  "alerts.multi_modal: site s1 with a topology and a custom alert",
                  json.dumps(mm)[:500])
        d.stop()
        d = None
    except Exception:
        check(False, "no exception", traceback.format_exc())
    finally:
        if d is not None:
            try:
                d.stop(expect_clean=False)
            except Exception:
                pass
        if rep is not None:
            rep.stop()
        if ns is not None:
            ns.stop()
        if keep:
            note(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return napi.finish("test_live_alerting")


if __name__ == "__main__":
    sys.exit(main())
