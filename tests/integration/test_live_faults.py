#!/usr/bin/python3
"""Faults on the live path (issue 4), each against the real binary and real processes:

(a) the stream server is killed (SIGKILL) while it sends and restarted on the same port from the
    same files: the daemon reconnects, resyncs from the fresh snapshot, and the warehouse holds
    one version per applied delta plus one for the resync, nothing twice; a later resync to the
    state it already has writes nothing;
(b) nats-server is restarted while alerts are being published: afterwards every alert change
    the daemon recorded is in the JetStream stream exactly once, and every applied delta's
    topology.changes message too;
(c) SIGTERM while deltas pour in faster than it applies them (a backlog in its ingest queue):
    exit status 0 within 60 s, the log says it stopped, and every delta it had accepted before
    the signal is in the warehouse and on NATS (with its alert changes);
(d) a seeded random mix of garbage, truncated JSON, unknown types, wrong-typed seq and stale
    deltas between valid deltas (`netassure replay --raw`): the daemon keeps running and its
    /status counters are exactly what was sent.

(a) and (d) need no NATS; (b) and (c) need nats-server (scripts/nats-tmp.sh): without it they
are skipped, and the test exits 77 (skipped) once the others passed.
Set NETASSURE_KEEP_TMP=1 to keep the temp directories (logs, databases, stream files).
"""
import collections
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
import livetest as lt  # noqa: E402
from napi import check, note  # noqa: E402

KEEP = os.environ.get("NETASSURE_KEEP_TMP") == "1"


def new_daemon(tmp, config, name="daemon", allow=()):
    wd = os.path.join(tmp, name)
    os.makedirs(wd, exist_ok=True)
    return napi.Daemon(config=config, workdir=wd, allow_stderr=allow)


def row_changes(timeline, node_ids):
    """Rows each node should have: 1, plus 1 per status change along the timeline (a list of
    down-sets)."""
    out = {}
    for x in node_ids:
        n = 1
        for prev, cur in zip(timeline, timeline[1:]):
            n += (x in prev) != (x in cur)
        out[x] = n
    return out


# ---------------------------------------------------------------- (a)

def fault_stream_server_killed(tmp):
    topo = lt.make_topology(30)
    ids = [nd["id"] for nd in topo["nodes"]]
    n_deltas = 1000
    deltas, states = lt.toggle_deltas(topo, n_deltas, seed=11)
    snap = lt.write_json(os.path.join(tmp, "snap.json"), topo)
    dfile = lt.write_json(os.path.join(tmp, "deltas.json"), deltas)
    port = napi.free_port()
    replays = [lt.Replay(tmp, snap, [dfile], port=port, rate=200)]
    d = new_daemon(tmp, lt.daemon_config(replays[0].url))
    try:
        replays[0].start()
        d.start()
        # Phase 1: kill the replay while it sends.
        if not lt.wait_status(d, lambda st: st["ingest"]["deltas_applied"] >= 100, 60,
                              "(a) 100 deltas applied"):
            return
        sent_before = replays[0].status()["sent"]
        replays[0].kill(signal.SIGKILL)
        check(sent_before < n_deltas, "(a) the replay was killed while it was still sending",
              f"it had sent {sent_before} of {n_deltas}")
        lt.wait_status(d, lambda st: not lt.stream_entry(st).get("connected"), 30,
                       "(a) the daemon notices the stream is gone")
        st1 = lt.wait_quiet(d)
        k1 = st1["ingest"]["deltas_applied"]
        c1 = lt.counters(st1)
        check(c1.get("snapshots") == 1 and c1.get("deltas") == k1,
              "(a) before the kill: one snapshot, every accepted delta applied", json.dumps(c1))
        with lt.db(d) as conn:
            v1 = lt.versions(conn)
        note(f"(a) killed the replay after {sent_before} sent; the daemon applied {k1}, "
             f"{len(v1)} versions")
        lt.check_versions(v1, "(a) after the kill")
        check(len(v1) == 1 + k1, "(a) after the kill: one version for the snapshot and one per "
              "applied delta", f"{len(v1)} versions, {k1} deltas applied")
        down, _, _ = lt.topology_down(d)
        check(down == states[k1], "(a) after the kill the daemon holds the state after the "
              f"{k1} deltas it applied", f"{sorted(down ^ states[k1])} differ")

        # Phase 2: the same files on the same port; the daemon reconnects by itself.
        replays.append(lt.Replay(tmp, snap, [dfile], port=port, rate=200))
        if not start_on_port(replays[-1], "(a) the replay restarts on the same port"):
            return
        if not lt.wait_status(d, lambda st: st["ingest"]["deltas_applied"] >= k1 + n_deltas,
                              120, f"(a) all {n_deltas} deltas applied after the restart"):
            return
        st2 = lt.wait_quiet(d)
        c2 = lt.counters(st2)
        check(st2["ingest"]["deltas_applied"] == k1 + n_deltas,
              "(a) after the restart exactly the replay's deltas were applied again",
              f"{st2['ingest']['deltas_applied']} vs {k1} + {n_deltas}")
        check(c2.get("reconnects", 0) >= 1, "(a) the reconnect is counted", json.dumps(c2))
        check(c2.get("snapshots") == 2, "(a) the daemon resynced from the fresh snapshot",
              json.dumps(c2))
        check(c2.get("resyncs", 0) >= 1, "(a) the resync is counted", json.dumps(c2))
        for k in ("gaps", "malformed", "apply_failures", "unknown_types"):
            check(c2.get(k) == 0, f"(a) counters.{k} == 0", json.dumps(c2))
        check(st2["ingest"]["deltas_failed"] == 0, "(a) no delta failed",
              str(st2["ingest"]["deltas_failed"]))
        resync_changes = states[k1] != states[0]
        with lt.db(d) as conn:
            v2 = lt.versions(conn)
            rows2 = lt.row_counts(conn, "nodes")
            links2 = lt.row_counts(conn, "links")
            cur_down = lt.current_down(conn)
            dup_nodes = lt.duplicate_current(conn, "nodes")
            dup_links = lt.duplicate_current(conn, "links")
        note(f"(a) after the restart: {len(v2)} versions; counters {json.dumps(c2)}")
        lt.check_versions(v2, "(a) after the restart")
        want_v2 = len(v1) + (1 if resync_changes else 0) + n_deltas
        check(len(v2) == want_v2, "(a) versions: one per applied delta, one for the resync "
              "(when the snapshot differs from what the daemon had), nothing twice",
              f"{len(v2)} versions, expected {len(v1)} + {int(resync_changes)} + {n_deltas}")
        check(not dup_nodes and not dup_links, "(a) no node or link has two current rows",
              f"{dup_nodes[:5]} {dup_links[:5]}")
        timeline = list(states[:k1 + 1]) + [states[0]] + list(states[1:])
        want_rows = row_changes(timeline, ids)
        wrong = {x: (rows2.get(x), want_rows[x]) for x in ids if rows2.get(x) != want_rows[x]}
        check(not wrong, "(a) each node has exactly one row per status it went through (no "
              "duplicate history)", f"(got, want): {dict(list(wrong.items())[:8])}")
        check(all(c == 1 for c in links2.values()) and len(links2) == len(topo["links"]),
              "(a) links (never changed) have one row each", str(links2)[:300])
        check(cur_down == states[n_deltas], "(a) the warehouse's current rows are the final "
              "state", f"{sorted(cur_down ^ states[n_deltas])} differ")
        down, _, _ = lt.topology_down(d)
        check(down == states[n_deltas], "(a) GET /topology is the final state",
              f"{sorted(down ^ states[n_deltas])} differ")

        # Phase 3: a resync to the state the daemon already has writes nothing.
        replays[-1].stop()
        lt.wait_status(d, lambda st: not lt.stream_entry(st).get("connected"), 30,
                       "(a) the daemon notices the second replay stopped")
        final = lt.write_json(os.path.join(tmp, "final.json"), lt.with_down(topo, states[n_deltas]))
        replays.append(lt.Replay(tmp, final, [], port=port, rate=200))
        if not start_on_port(replays[-1], "(a) the third replay starts on the same port"):
            return
        if not lt.wait_status(d, lambda st: lt.counters(st).get("snapshots") == 3, 60,
                              "(a) the daemon takes the third snapshot"):
            return
        st3 = lt.wait_quiet(d)
        with lt.db(d) as conn:
            v3 = lt.versions(conn)
            rows3 = lt.row_counts(conn, "nodes")
        check(len(v3) == len(v2), "(a) a resync to the state it already has writes no version",
              f"{len(v2)} -> {len(v3)}")
        check(rows3 == rows2, "(a) ... and no node row",
              f"{sum(rows2.values())} -> {sum(rows3.values())}")
        check(st3["ingest"]["deltas_applied"] == k1 + n_deltas, "(a) ... and applies no delta",
              str(st3["ingest"]["deltas_applied"]))
        check(st3["topology"]["version"] == len(v3), "(a) /status topology.version is the "
              "newest version", f"{st3['topology']['version']} vs {len(v3)}")
    finally:
        for r in replays:
            r.kill()
        d.stop()


def start_on_port(rep, what, timeout=60):
    """Starts a replay on the port a killed one held (the kernel may need a moment to free
    it), retrying for `timeout` s; False (a failed check) when it never starts."""
    end = time.monotonic() + timeout
    while True:
        try:
            rep.start()
            return True
        except RuntimeError as e:
            if time.monotonic() > end:
                check(False, what, str(e))
                return False
            note(f"{what}: failed on port {rep.port}, retrying: {str(e)[:200]}")
            time.sleep(1)


# ---------------------------------------------------------------- (b) and (c)

def with_nats(tmp, n_nodes, n_deltas, seed, rate):
    """A topology of n_nodes, n_deltas toggles, a replay of them and a nats-server (not
    started yet); returns (nats, replay, deltas, states)."""
    topo = lt.make_topology(n_nodes)
    deltas, states = lt.toggle_deltas(topo, n_deltas, seed=seed)
    snap = lt.write_json(os.path.join(tmp, "snap.json"), topo)
    dfile = lt.write_json(os.path.join(tmp, "deltas.json"), deltas)
    return lt.NatsServer(tmp), lt.Replay(tmp, snap, [dfile], rate=rate), deltas, states


def start_with_nats(tmp, nats, rep):
    """Starts nats-server, the replay and a daemon following it that publishes to NATS;
    returns (nats url, daemon)."""
    url = nats.start()
    rep.start()
    d = new_daemon(tmp, lt.daemon_config(rep.url, nats_url=url))
    try:
        d.start()
    except Exception:
        d.stop(expect_clean=False)
        raise
    return url, d


def fault_nats_restart(tmp):
    n_deltas = 600
    nats, rep, deltas, states = with_nats(tmp, 30, n_deltas, seed=12, rate=100)
    d = None
    try:
        url, d = start_with_nats(tmp, nats, rep)
        if not lt.wait_status(d, lambda st: st["ingest"]["deltas_applied"] >= 150, 60,
                              "(b) 150 deltas applied"):
            return
        before = lt.status(d)
        t_restart = time.time()
        nats.restart()
        after = lt.status(d)
        note(f"(b) nats-server restarted at delta {before['ingest']['deltas_applied']} "
             f"(daemon NATS before: {json.dumps(before.get('nats'))})")
        check(after["ingest"]["deltas_applied"] < n_deltas,
              "(b) the broker restart happened while deltas (and alerts) kept coming",
              str(after["ingest"]["deltas_applied"]))
        if not lt.wait_status(d, lambda st: st["ingest"]["deltas_applied"] >= n_deltas, 120,
                              f"(b) all {n_deltas} deltas applied"):
            return
        st = lt.wait_status(d, lambda st: (st.get("nats") or {}).get("connected")
                            and st["nats"].get("outbox") == 0 and st["ingest"]["queue"] == 0,
                            120, "(b) the daemon's NATS outbox drains after the restart")
        st = lt.wait_quiet(d)
        ns = st.get("nats") or {}
        note(f"(b) daemon NATS at the end: {json.dumps(ns)}")
        check(ns.get("jetstream") is True, "(b) the daemon publishes through JetStream",
              json.dumps(ns))
        check(ns.get("dropped") == 0, "(b) the outbox dropped nothing", json.dumps(ns))
        check(ns.get("reconnects", 0) >= 1, "(b) the daemon's NATS reconnect is counted",
              json.dumps(ns))
        with lt.db(d) as conn:
            changes = lt.alert_changes(conn)
            vs = lt.versions(conn)
        check(sum(changes.values()) == n_deltas, "(b) one alert change per toggle (raised on "
              "node_down, resolved on node_up)", f"{sum(changes.values())} vs {n_deltas}")
        msgs = lt.js_messages(url)
        got, bad = lt.js_alert_changes(msgs)
        check(not bad, "(b) every anomaly.alerts message is {event, alert}", str(bad[:3]))
        missing, extra, twice = lt.diff_counters(changes, got)
        check(not missing, "(b) every alert change the daemon recorded is in the JetStream "
              "stream", f"{len(missing)} of {len(changes)} missing, e.g. {missing[:5]}")
        check(not twice, "(b) ... exactly once", f"{len(twice)} more than once, e.g. {twice[:5]}")
        check(not extra, "(b) ... and nothing the daemon did not record",
              f"{len(extra)}, e.g. {extra[:5]}")
        lt.check_msg_ids_unique(msgs, "(b)")
        dv = lt.js_delta_versions(msgs)
        want = collections.Counter(vs[1:])
        check(dv == want, "(b) every applied delta's topology.changes message is in the stream "
              "exactly once", f"missing {sorted(set(want) - set(dv))[:10]}, twice "
              f"{[v for v, c in dv.items() if c > 1][:10]}, extra {sorted(set(dv) - set(want))[:10]}")
        alert_msgs = [m for m in msgs if m["subject"] == "anomaly.alerts"]
        note(f"(b) JetStream holds {len(msgs)} messages ({len(alert_msgs)} alert changes); "
             f"restart at {t_restart:.1f}")
    finally:
        rep.kill()
        if d is not None:
            d.stop()
        nats.stop()


# ---------------------------------------------------------------- (c)

def fault_sigterm_under_load(tmp):
    # Faster than the daemon applies them (a few thousand per second here): at the signal its
    # ingest queue holds a backlog, and what it accepted must still be written and published.
    n_deltas = 30000
    nats, rep, deltas, states = with_nats(tmp, 100, n_deltas, seed=13, rate=10000)
    d = None
    try:
        url, d = start_with_nats(tmp, nats, rep)
        if not lt.wait_status(d, lambda st: st["ingest"]["deltas_applied"] >= 3000
                              and (st.get("nats") or {}).get("connected"), 60,
                              "(c) 3000 deltas applied, NATS connected"):
            return
        st = lt.status(d)
        note(f"(c) at SIGTERM: ingest queue {st['ingest']['queue']}, NATS outbox "
             f"{st['nats'].get('outbox')}")
        accepted = lt.counters(st).get("deltas", 0)
        sent = rep.status()["sent"]
        d.proc.send_signal(signal.SIGTERM)
        try:
            rc = d.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            check(False, "(c) the daemon exits within 60 s of SIGTERM under load", "killed")
            d.proc.kill()
            rc = d.proc.wait()
        d.stopped = True
        d.err_f.close()
        d.out_f.close()
        check(sent < n_deltas, "(c) SIGTERM came while the replay was still sending",
              f"{sent} of {n_deltas} sent")
        check(rc == 0, "(c) exit status 0 after SIGTERM under load", f"{rc}: {d.stderr()[-2000:]}")
        err = d.stderr()
        check(re.search(r"SIGTERM received: stopping", err) and re.search(r"\bstopped\b", err),
              "(c) the log says it received SIGTERM and stopped", err[-1500:])
        bad = [ln for ln in err.splitlines() if "ERROR" in ln or "Sanitizer" in ln
               or "runtime error" in ln]
        check(not bad, "(c) no ERROR / sanitizer line in the log", "\n".join(bad[:10]))
        with lt.db(d) as conn:
            vs = lt.versions(conn)
            cur_down = lt.current_down(conn)
            dups = lt.duplicate_current(conn, "nodes")
            changes = lt.alert_changes(conn)
        lt.check_versions(vs, "(c)")
        applied = len(vs) - 1
        note(f"(c) accepted {accepted} deltas at the last /status before SIGTERM; "
             f"{applied} in the warehouse; replay had sent {sent}")
        check(applied >= accepted, "(c) every delta accepted before the stop is in the warehouse",
              f"{applied} versions after the snapshot, {accepted} accepted")
        check(cur_down == states[applied], "(c) the warehouse holds exactly the first "
              f"{applied} deltas, in order", f"{sorted(cur_down ^ states[applied])[:10]} differ")
        check(not dups, "(c) no node has two current rows", str(dups[:5]))
        check(sum(changes.values()) == applied, "(c) one alert change per applied delta",
              f"{sum(changes.values())} vs {applied}")
        msgs = lt.js_messages(url)
        dv = lt.js_delta_versions(msgs)
        want = collections.Counter(vs[1:])
        check(dv == want, "(c) every applied delta is on NATS (topology.changes) exactly once",
              f"missing {len(set(want) - set(dv))} e.g. {sorted(set(want) - set(dv))[:10]}, "
              f"twice {[v for v, c in dv.items() if c > 1][:10]}, "
              f"extra {sorted(set(dv) - set(want))[:10]}")
        got, badm = lt.js_alert_changes(msgs)
        missing, extra, twice = lt.diff_counters(changes, got)
        check(not missing and not twice and not extra and not badm,
              "(c) every alert change recorded before the stop is on NATS exactly once",
              f"missing {len(missing)} {missing[:3]}, twice {twice[:3]}, extra {extra[:3]}, "
              f"unparsable {len(badm)}")
        lt.check_msg_ids_unique(msgs, "(c)")
    finally:
        rep.kill()
        if d is not None:
            d.stop()
        nats.stop()


# ---------------------------------------------------------------- (d)

PRINTABLE = [chr(c) for c in range(0x20, 0x7f)]


def garbage(rng):
    """A line that is not JSON at all, or JSON that is not an object."""
    if rng.random() < 0.3:
        return rng.choice(["42", "[1,2,3]", "null", "\"just a string\"", "true", "[]", "-7.5"])
    while True:
        s = rng.choice("{[<#x") + "".join(rng.choice(PRINTABLE) for _ in range(rng.randint(1, 120)))
        s = s.strip()
        try:
            json.loads(s)
        except ValueError:
            return s


def build_raw(topo, n, seed):
    """Messages after the snapshot (seq 0): returns (lines, expected counters, down-set)."""
    rng = random.Random(seed)
    ids = [nd["id"] for nd in topo["nodes"]]
    down = set()
    last = 0
    want = collections.Counter()
    lines = []

    def delta(seq, x):
        return {"type": "delta", "seq": seq,
                "ops": [{"op": "node_up" if x in down else "node_down", "node": {"id": x}}]}

    for _ in range(n):
        r = rng.random()
        if r < 0.40:
            x = rng.choice(ids)
            last += 1
            lines.append(json.dumps(delta(last, x)))
            down.symmetric_difference_update({x})
            want["deltas"] += 1
        elif r < 0.55:
            lines.append(garbage(rng))
            want["malformed"] += 1
        elif r < 0.70:
            text = json.dumps(delta(last + 1, rng.choice(ids)))
            while True:
                cut = text[:rng.randint(1, len(text) - 2)].rstrip()
                try:
                    json.loads(cut)
                except ValueError:
                    break
            lines.append(cut)
            want["malformed"] += 1
        elif r < 0.80:
            lines.append(json.dumps({"type": rng.choice(["frobnicate", "heartbeat", "Delta",
                                                          "snapshot_v2"]),
                                     "seq": last + 1, "ops": []}))
            want["unknown_types"] += 1
        elif r < 0.90:
            m = delta(last + 1, rng.choice(ids))
            m["seq"] = rng.choice([str(last + 1), last + 1.5, True, None, -1, {"n": last + 1},
                                   [last + 1]])
            lines.append(json.dumps(m))
            want["malformed"] += 1
        elif last >= 1:
            lines.append(json.dumps(delta(rng.randint(1, last), rng.choice(ids))))
            want["stale"] += 1
        else:
            lines.append(garbage(rng))
            want["malformed"] += 1
    return lines, want, down


def fault_malformed(tmp):
    topo = lt.make_topology(20)
    n = 400
    lines, want, down = build_raw(topo, n, seed=2024)
    snap = lt.write_json(os.path.join(tmp, "snap.json"), topo)
    raw = os.path.join(tmp, "raw.jsonl")
    with open(raw, "w") as f:
        f.write("\n".join(lines) + "\n")
    rep = lt.Replay(tmp, snap, [], raw=raw, rate=500)
    d = new_daemon(tmp, lt.daemon_config(rep.url))
    note(f"(d) {n} raw messages after the snapshot: {dict(want)}")
    try:
        rep.start()
        d.start()
        total = 1 + n
        if not lt.wait_status(d, lambda st: lt.counters(st).get("messages", 0) >= total, 60,
                              f"(d) the daemon receives all {total} messages"):
            note(f"(d) replay: {rep.status()}; daemon: {json.dumps(lt.counters(lt.status(d)))}")
            return
        st = lt.wait_quiet(d)
        c = lt.counters(st)
        exp = {"messages": total, "snapshots": 1, "deltas": want["deltas"],
               "applied": 1 + want["deltas"], "malformed": want["malformed"],
               "unknown_types": want["unknown_types"], "stale": want["stale"], "waiting": 0,
               "gaps": 0, "metrics": 0, "apply_failures": 0}
        for k, v in exp.items():
            check(c.get(k) == v, f"(d) counters.{k} == {v} (what was sent)",
                  f"got {c.get(k)}; all: {json.dumps(c)}")
        check(c.get("applied", 0) + c.get("stale", 0) + c.get("waiting", 0)
              + c.get("unknown_types", 0) + c.get("malformed", 0) == c.get("messages"),
              "(d) every message is in exactly one outcome counter", json.dumps(c))
        check(d.alive(), "(d) the daemon keeps running")
        check(st["ingest"]["deltas_applied"] == want["deltas"] and st["ingest"]["deltas_failed"] == 0,
              "(d) the daemon applied exactly the valid deltas",
              f"{st['ingest']['deltas_applied']} applied, {st['ingest']['deltas_failed']} failed, "
              f"{want['deltas']} valid")
        got_down, _, _ = lt.topology_down(d)
        check(got_down == down, "(d) GET /topology is the state after the valid deltas",
              f"{sorted(got_down ^ down)} differ")
        with lt.db(d) as conn:
            vs = lt.versions(conn)
        check(len(vs) == 1 + want["deltas"], "(d) one version per valid delta (plus the snapshot)",
              f"{len(vs)} versions, {want['deltas']} valid deltas")
        # The schema of /status (ingest counters included) holds after all this.
        d.client().get("/status", expect=200)
    finally:
        rep.kill()
        d.stop()


# ---------------------------------------------------------------- main

def main():
    have_nats = lt.have_nats_server()
    tests = [("a", "stream server killed and restarted", fault_stream_server_killed, False),
             ("b", "nats-server restarted while publishing", fault_nats_restart, True),
             ("c", "SIGTERM under load", fault_sigterm_under_load, True),
             ("d", "malformed stream messages", fault_malformed, False)]
    only = set(sys.argv[1:])
    skipped = []
    for key, title, fn, needs_nats in tests:
        if only and key not in only:
            continue
        if needs_nats and not have_nats:
            print(f"SKIP ({key}) {title}: nats-server is not installed", flush=True)
            skipped.append(key)
            continue
        tmp = tempfile.mkdtemp(prefix=f"na-live-faults-{key}-")
        print(f"== ({key}) {title} [{tmp}]", flush=True)
        t0 = time.monotonic()
        failed_before = len(napi.failures)
        try:
            fn(tmp)
        except Exception:  # noqa: BLE001 - any crash of the test is a failure with its trace
            check(False, f"({key}) {title} ran to the end", traceback.format_exc())
        print(f"== ({key}) done in {time.monotonic() - t0:.1f} s", flush=True)
        if KEEP or len(napi.failures) > failed_before:
            note(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    rc = napi.finish("test_live_faults")
    if rc == 0 and skipped:
        print(f"SKIP: ({', '.join(skipped)}) need nats-server; the others passed", flush=True)
        return 77
    return rc


if __name__ == "__main__":
    sys.exit(main())
