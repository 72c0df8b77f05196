#!/usr/bin/python3
"""The topology stream end to end: `netassure replay` serving examples/clos-fabric.json and
examples/temporal-events.json, `netassure ingest --ws ... --dry-run` consuming it.

- every delta is printed as its op line, in order, and the counters are exact;
- a --raw file with garbage, an unknown type, a stale delta, metrics and a gap: each lands in
  its counter, the gap resyncs (reconnect + fresh snapshot);
- the replay killed with SIGKILL mid-stream and restarted on the same port: ingest reconnects
  and resyncs from the new snapshot;
- what the replay sends, the docs' examples and {"type": "resync"} against
  docs/topology-stream.schema.json; --token; usage errors (exit 2).
"""
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
from napi import check  # noqa: E402

BIN = napi.BIN
SNAPSHOT = os.path.join(napi.EXAMPLES, "clos-fabric.json")
EVENTS = os.path.join(napi.EXAMPLES, "temporal-events.json")
TIMEOUT = 60
FIELD_ORDER = ["label", "role", "site", "asn", "latitude", "longitude", "capacity", "status",
               "attributes"]
COUNTERS = ["messages", "bytes", "applied", "snapshots", "deltas", "metrics", "samples", "stale",
            "waiting", "unknown_types", "malformed", "unknown_fields", "gaps", "resyncs",
            "reconnects", "apply_failures"]


class Proc:
    """A netassure process whose stdout and stderr lines are collected by threads."""

    def __init__(self, *args):
        self.args = args
        self.p = subprocess.Popen([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.out, self.err = [], []
        self.lines = queue.Queue()
        self.threads = [threading.Thread(target=self._pump, args=(self.p.stdout, self.out, True)),
                        threading.Thread(target=self._pump, args=(self.p.stderr, self.err, False))]
        for t in self.threads:
            t.daemon = True
            t.start()

    def _pump(self, f, into, notify):
        for line in f:
            into.append(line.rstrip("\n"))
            if notify:
                self.lines.put(line.rstrip("\n"))

    def wait_line(self, pred, what, timeout=TIMEOUT):
        """The first new stdout line for which pred is true (None after a failure)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.p.poll() is not None and self.lines.empty():
                    break
                continue
            if pred(line):
                return line
        check(False, f"{' '.join(self.args[:1])}: timed out waiting for {what}",
              "\n".join((self.out + self.err)[-30:]))
        return None

    def finish(self, sig=None, timeout=TIMEOUT):
        if sig is not None and self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
            check(False, f"{self.args[0]} did not stop", "\n".join(self.err[-20:]))
        for t in self.threads:
            t.join(10)
        return rc

    def clean_stderr(self):
        bad = [l for l in self.err if "ERROR" in l or "AddressSanitizer" in l or
               "runtime error" in l or "LeakSanitizer" in l]
        return check(not bad, f"{self.args[0]}: clean stderr", "\n".join(bad[:10]))


def start_replay(*extra, listen="127.0.0.1:0"):
    r = Proc("replay", SNAPSHOT, EVENTS, "--listen", listen, *extra)
    line = r.wait_line(lambda l: l.startswith("netassure replay: serving"), "the serving line")
    m = re.search(r"ws://127\.0\.0\.1:(\d+)/topology/stream", line or "")
    check(m is not None, "the replay says where it serves", line)
    return r, int(m.group(1)) if m else 0


def counters_of(proc):
    """The --json document at the end of an ingest's stdout."""
    try:
        start = proc.out.index("{")
    except ValueError:
        check(False, "ingest printed its counters as JSON", "\n".join(proc.out[-20:]))
        return {}
    doc = json.loads("\n".join(proc.out[start:]))
    return doc


def expected_op_lines():
    """What the dry run should print for each event: 'seq N: op subject[ fields]'."""
    with open(EVENTS) as f:
        events = json.load(f)["events"]
    lines = []
    for i, e in enumerate(events, 1):
        op = e["op"]
        subject = e.get("id") or f"{e['source']}--{e['target']}"
        fields = ""
        if op in ("node_update", "link_update"):
            given = {k for k in e if k not in ("timestamp", "op", "seq", "id", "source", "target")}
            if given - set(FIELD_ORDER):
                given.add("attributes")  # unknown fields of an update become attributes
            fields = " " + ", ".join(f for f in FIELD_ORDER if f in given)
        lines.append(f"seq {i}: {op} {subject}{fields}")
    return lines


def stream_validator():
    with open(os.path.join(napi.SRC, "docs", "topology.schema.json")) as f:
        topo = json.load(f)
    with open(os.path.join(napi.SRC, "docs", "topology-stream.schema.json")) as f:
        stream = json.load(f)
    jsonschema.Draft202012Validator.check_schema(stream)
    resolver = jsonschema.RefResolver.from_schema(stream, store={topo["$id"]: topo})
    return jsonschema.Draft202012Validator(stream, resolver=resolver)


def check_valid(v, msg, what):
    errors = sorted(v.iter_errors(msg), key=lambda e: list(e.path))
    return check(not errors, f"{what} matches topology-stream.schema.json",
                 "; ".join(f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]) +
                 f" -- {json.dumps(msg)[:300]}")


# ------------------------------------------------------------------------------ tests

def test_dry_run_lines_and_counters(events_n, n_nodes, n_links):
    r, port = start_replay("--rate", "200", "--wait-client")
    ing = Proc("ingest", "--ws", f"ws://127.0.0.1:{port}", "--dry-run", "--max-messages",
               str(1 + events_n), "--json")
    rc = ing.finish()
    check(rc == 0, "ingest --max-messages exits 0", (rc, ing.err[-10:]))
    want = [f"seq 0: snapshot {n_nodes} nodes, {n_links} links"] + expected_op_lines()
    got = [l for l in ing.out if l.startswith("seq ")]
    check(got == want, "the dry run prints the snapshot and one line per op, in order",
          "\n".join(f"{g!r} vs {w!r}" for g, w in zip(got + [""] * 30, want) if g != w)[:2000])
    c = counters_of(ing).get("counters", {})
    want_c = dict.fromkeys(COUNTERS, 0)
    want_c.update(messages=1 + events_n, applied=1 + events_n, snapshots=1, deltas=events_n)
    got_c = {k: c.get(k) for k in COUNTERS if k != "bytes"}
    want_c.pop("bytes")
    check(got_c == want_c, "exact counters for a clean stream", (got_c, want_c))
    check(c.get("bytes", 0) > 1000, "bytes are counted", c.get("bytes"))
    ing.clean_stderr()
    rc = r.finish(signal.SIGTERM)
    check(rc == 0, "replay exits 0 on SIGTERM", (rc, r.err[-10:]))
    r.clean_stderr()


def test_faults_are_counted_and_gap_resyncs(tmp, events_n):
    raw = os.path.join(tmp, "faults.jsonl")
    with open(raw, "w") as f:
        f.write("this is not json\n")
        f.write('{"type":"telemetry","seq":3}\n')
        f.write('{"type":"delta","seq":5,"ops":[]}\n')                       # stale
        f.write('{"type":"metrics","samples":[{"node":"spine-01","name":"cpu",'
                '"value":0.5,"unit":"%"},{"name":"flows","value":7}]}\n')     # 1 unknown field
        f.write("\n")                                                         # skipped, not sent
        f.write('{"type":"delta","seq":999,"ops":[]}\r\n')                   # gap
    total = 1 + events_n + 5 + 1  # + the snapshot after the resync
    r, port = start_replay("--rate", "200", "--wait-client", "--raw", raw)
    ing = Proc("ingest", "--ws", f"ws://127.0.0.1:{port}/topology/stream", "--dry-run",
               "--max-messages", str(total), "--json")
    rc = ing.finish()
    check(rc == 0, "ingest exits 0 after the faults", (rc, ing.err[-10:]))
    doc = counters_of(ing)
    c = doc.get("counters", {})
    want_c = {
        "messages": total, "applied": 1 + events_n + 1 + 1, "snapshots": 2,
        "deltas": events_n, "metrics": 1, "samples": 2, "stale": 1, "waiting": 1,
        "unknown_types": 1, "malformed": 1, "unknown_fields": 1, "gaps": 1, "resyncs": 1,
        "reconnects": 1, "apply_failures": 0,
    }
    got_c = {k: c.get(k) for k in want_c}
    check(got_c == want_c, "exact counters: garbage, unknown type, stale, metrics, gap",
          (got_c, want_c))
    conn = doc.get("connection", {})
    check(conn.get("connects") == 2 and conn.get("disconnects") == 1,
          "the gap made the client reconnect once", conn)
    check(f"gap after seq {events_n}: resync" in ing.out, "the gap is reported",
          ing.out[-6:])
    check("metrics: 2 samples" in ing.out, "the metrics line", ing.out[-6:])
    last = [l for l in ing.out if l.startswith("seq ") and "snapshot" in l][-1:]
    check(len(last) == 1 and re.fullmatch(rf"seq {events_n}: snapshot \d+ nodes, \d+ links; "
                                          r"no change", last[0]),
          "the resync snapshot is the replay's state, the same as the dry run's", last)
    warn = "\n".join(ing.err)
    check("skipped malformed message" in warn and "this is not json" in warn,
          "the malformed message is logged with its text", warn[-800:])
    check("type 'telemetry'" in warn, "the unknown type is logged", warn[-800:])
    ing.clean_stderr()
    check(r.finish(signal.SIGINT) == 0, "replay exits 0 on SIGINT", r.err[-10:])
    r.clean_stderr()


def test_loop(events_n):
    """--loop: the snapshot again with the next seq, then the same deltas, seq going on."""
    total = 2 * (1 + events_n)
    r, port = start_replay("--rate", "200", "--wait-client", "--loop")
    ing = Proc("ingest", "--ws", f"ws://127.0.0.1:{port}", "--dry-run", "--max-messages",
               str(total), "--json")
    check(ing.finish() == 0, "ingest of a looping replay exits 0", ing.err[-5:])
    c = counters_of(ing).get("counters", {})
    want_c = {"messages": total, "applied": total, "snapshots": 2, "deltas": 2 * events_n,
              "gaps": 0, "stale": 0, "waiting": 0, "resyncs": 0, "apply_failures": 0}
    got_c = {k: c.get(k) for k in want_c}
    check(got_c == want_c, "a loop is a snapshot and the deltas again", (got_c, want_c))
    snaps = [l for l in ing.out if l.startswith("seq ") and "snapshot" in l]
    check(len(snaps) == 2 and snaps[1].startswith(f"seq {events_n + 1}: snapshot") and
          "against the current state" in snaps[1], "the loop's snapshot takes the next seq",
          snaps)
    check(f"seq {2 * events_n + 1}: " + expected_op_lines()[-1].split(": ", 1)[1] in ing.out,
          "the last delta of the second round", ing.out[-3:])
    ing.clean_stderr()
    check(r.finish(signal.SIGTERM) == 0, "replay exits 0", r.err[-10:])


def test_apply_failure_resyncs(tmp, events_n):
    """A delta with the right seq that does not apply to the dry run's state."""
    raw = os.path.join(tmp, "unappliable.jsonl")
    with open(raw, "w") as f:
        f.write(json.dumps({"type": "delta", "seq": events_n + 1, "ops": [
            {"op": "node_remove", "node": {"id": "no-such-node"}}]}) + "\n")
    total = 1 + events_n + 1 + 1
    r, port = start_replay("--rate", "200", "--wait-client", "--raw", raw)
    ing = Proc("ingest", "--ws", f"ws://127.0.0.1:{port}", "--dry-run", "--max-messages",
               str(total), "--json")
    rc = ing.finish()
    check(rc == 0, "ingest exits 0 after an apply failure", (rc, ing.err[-10:]))
    c = counters_of(ing).get("counters", {})
    want_c = {"messages": total, "applied": total, "snapshots": 2, "deltas": events_n + 1,
              "apply_failures": 1, "resyncs": 1, "reconnects": 1, "gaps": 0, "stale": 0,
              "waiting": 0, "malformed": 0}
    got_c = {k: c.get(k) for k in want_c}
    check(got_c == want_c, "an apply failure is counted and resyncs", (got_c, want_c))
    check(any(l.startswith(f"seq {events_n + 1}: does not apply") and "resync" in l
              for l in ing.out), "the failure is printed", ing.out[-4:])
    ing.clean_stderr()
    check(r.finish(signal.SIGTERM) == 0, "replay exits 0", r.err[-10:])


def test_replay_killed_and_restarted(n_nodes, n_links):
    # --wait-client on both runs: each starts sending once ingest is (re)connected, so the
    # snapshots ingest sees are seq 0 of each run.
    r, port = start_replay("--rate", "20", "--wait-client")
    ing = Proc("ingest", "--ws", f"ws://127.0.0.1:{port}", "--dry-run", "--json")
    check(ing.wait_line(lambda l: l.startswith("seq 0: snapshot"), "the first snapshot") ==
          f"seq 0: snapshot {n_nodes} nodes, {n_links} links", "the first snapshot", ing.out[:1])
    # From seq 7 on (a capacity change) the state differs from the snapshot file for good.
    ing.wait_line(lambda l: l.startswith("seq 8:"), "deltas past seq 7")
    r.p.kill()  # SIGKILL mid-stream: no close frame
    r.p.wait()
    time.sleep(0.5)  # ingest retries meanwhile (connection refused)
    r2, port2 = start_replay("--rate", "20", "--wait-client", listen=f"127.0.0.1:{port}")
    check(port2 == port, "the replay restarts on the same port", (port, port2))
    snap = ing.wait_line(lambda l: l.startswith("seq 0: snapshot"), "the fresh snapshot")
    check(snap is not None and "against the current state" in snap and "links +0 -0 ~1" in snap,
          "the fresh snapshot is compared with the state reached before the kill", snap)
    ing.wait_line(lambda l: l.startswith("seq 2:"), "deltas after the reconnect")
    rc = ing.finish(signal.SIGINT)
    check(rc == 0, "ingest exits 0 on SIGINT", (rc, ing.err[-10:]))
    c = counters_of(ing).get("counters", {})
    check(c.get("reconnects") == 1, "one reconnect", c)
    check(c.get("resyncs") == 1, "one resync (the drop, while synced)", c)
    check(c.get("snapshots") == 2, "two snapshots: the first and the restarted replay's", c)
    check(c.get("gaps") == 0 and c.get("malformed") == 0 and c.get("waiting") == 0 and
          c.get("stale") == 0 and c.get("apply_failures") == 0, "nothing else went wrong", c)
    check(c.get("applied") == c.get("messages") == c.get("snapshots", 0) + c.get("deltas", 0),
          "every message applied", c)
    check(any("disconnected" in l for l in ing.err), "the drop is logged", ing.err[-5:])
    ing.clean_stderr()
    check(r2.finish(signal.SIGTERM) == 0, "the restarted replay exits 0", r2.err[-10:])


def test_schema_resync_and_token(events_n):
    v = stream_validator()
    # The docs' examples: every json block of docs/topology-stream.md is one message.
    with open(os.path.join(napi.SRC, "docs", "topology-stream.md")) as f:
        blocks = re.findall(r"```json\n(.*?)```", f.read(), re.S)
    check(len(blocks) >= 4, "docs/topology-stream.md has examples", len(blocks))
    for i, b in enumerate(blocks):
        check_valid(v, json.loads(b), f"docs example {i + 1}")
    check(not v.is_valid({"type": "delta", "ops": []}), "the schema requires seq on deltas")

    token = "stream-token-1"
    r, port = start_replay("--rate", "0", "--wait-client", "--token", token)
    try:
        napi.WebSocket("127.0.0.1", port, "/topology/stream", timeout=10)
        check(False, "a client without the token is refused")
    except ConnectionError as e:
        check("101" not in str(e).split("\r\n")[0], "a client without the token is refused", e)
    ws = napi.WebSocket("127.0.0.1", port, "/topology/stream", token=token, timeout=10)
    msgs = [ws.recv_json() for _ in range(1 + events_n)]
    check(msgs[0].get("type") == "snapshot" and msgs[0].get("seq") == 0,
          "a connection starts with the snapshot, seq 0", msgs[0].get("type"))
    check([m.get("seq") for m in msgs[1:]] == list(range(1, events_n + 1)),
          "deltas follow with seq 1, 2, ...", [m.get("seq") for m in msgs[1:]])
    kinds = set()
    for m in msgs:
        check_valid(v, m, f"replay message seq {m.get('seq')}")
        for op in m.get("ops", []):
            kinds.add(op["op"])
    check(len(kinds) >= 7, "the replay's deltas cover many kinds of ops", sorted(kinds))
    stamped = [napi.to_ms(napi.parse_time(m["timestamp"])) for m in msgs[1:]]
    now = time.time() * 1000
    check(all(now - 120000 < t <= now + 1000 for t in stamped),
          "the deltas carry their send time, not the events file's", stamped[:3])
    ws.send_json({"type": "resync"})
    again = ws.recv_json()
    check(again.get("type") == "snapshot" and again.get("seq") == events_n,
          "resync is answered with the current snapshot", (again.get("type"), again.get("seq")))
    check_valid(v, again, "the resync snapshot")
    check(len(again.get("nodes", [])) == len(msgs[0].get("nodes", [])),
          "the snapshot has the replay's current nodes", len(again.get("nodes", [])))
    ws.close()
    ing = Proc("ingest", "--ws", f"ws://127.0.0.1:{port}", "--token", token, "--dry-run",
               "--max-messages", "1", "--json")
    check(ing.finish() == 0, "ingest with the token", ing.err[-5:])
    c = counters_of(ing).get("counters", {})
    check(c.get("snapshots") == 1, "ingest with the token gets the snapshot", c)
    check(r.finish(signal.SIGTERM) == 0, "replay exits 0", r.err[-10:])
    r.clean_stderr()


def test_usage():
    def run(*args):
        p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=TIMEOUT)
        return p.returncode, p.stdout, p.stderr

    for args in (["ingest"], ["ingest", "--ws", "http://x:1/"], ["ingest", "--ws", "ws://", "--dry-run"],
                 ["ingest", "--ws", "ws://127.0.0.1:1", "--max-messages", "0", "--dry-run"],
                 ["ingest", "--ws", "ws://127.0.0.1:1", "--json"],
                 ["replay", SNAPSHOT], ["replay", "--listen", "127.0.0.1:0"],
                 ["replay", SNAPSHOT, "--listen", "nope:"],
                 ["replay", SNAPSHOT, "--listen", "127.0.0.1:0", "--rate", "-1"]):
        rc, out, err = run(*args)
        check(rc == 2, f"{' '.join(args)}: usage error, exit 2", (rc, err[-300:]))
    for cmd in ("ingest", "replay"):
        rc, out, err = run(cmd, "--help")
        check(rc == 0 and "usage: netassure " + cmd in out, f"{cmd} --help", (rc, out[:200]))
    rc, out, err = run("replay", os.path.join(napi.EXAMPLES, "no-such-file.json"), "--listen",
                       "127.0.0.1:0")
    check(rc == 1, "replay of a missing file: exit 1", (rc, err[-300:]))
    rc, out, err = run("--help")
    check(" ingest " in out and " replay " in out, "both commands are listed", out[-600:])


def main():
    if not os.path.exists(BIN):
        napi.skip(f"no binary at {BIN}")
    with open(SNAPSHOT) as f:
        snap = json.load(f)
    with open(EVENTS) as f:
        events_n = len(json.load(f)["events"])
    n_nodes, n_links = len(snap["nodes"]), len(snap["links"])
    with tempfile.TemporaryDirectory() as tmp:
        test_usage()
        test_dry_run_lines_and_counters(events_n, n_nodes, n_links)
        test_faults_are_counted_and_gap_resyncs(tmp, events_n)
        test_apply_failure_resyncs(tmp, events_n)
        test_loop(events_n)
        test_replay_killed_and_restarted(n_nodes, n_links)
        test_schema_resync_and_token(events_n)
    return napi.finish("test_ingest_replay")


if __name__ == "__main__":
    sys.exit(main())
