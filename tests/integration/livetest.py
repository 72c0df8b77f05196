"""Helpers of the live-ingest integration tests (test_live_*.py).

- Files: a topology snapshot (our schema) and toggle deltas with the state after each of them.
- Processes: `netassure replay` (Replay) and a throwaway nats-server (NatsServer, through
  scripts/nats-tmp.sh); each is started by the test, stopped by PID in a finally block.
- The daemon: its /status ingest counters, waiting until what it was sent is handled.
- The warehouse: read-only queries on the daemon's SQLite file (topology versions, node rows,
  alert history).
- NATS: what the JetStream stream holds (natsproto.py, stdlib only).

Only the standard library and what napi.py uses.
"""
import collections
import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time

import requests

import napi
import natsproto
from napi import check

NATS_TMP = os.path.join(napi.SRC, "scripts", "nats-tmp.sh")
NODE_DOWN_RULE = {"name": "node-down", "type": "topology_change", "on": ["node_down"],
                  "severity": "major"}
JS_STREAM = "NETASSURE"


# ---------------------------------------------------------------- files

def make_topology(n, name="live-test", seed=5):
    """n nodes n000.. (all up) on a ring with n // 3 chords; link ids l000..."""
    rng = random.Random(seed)
    nodes = [{"id": f"n{i:03d}", "label": f"node {i}", "role": "core" if i < 3 else "edge",
              "site": f"s{i % 4}", "status": "up"} for i in range(n)]
    pairs = [(i, (i + 1) % n) for i in range(n)]
    have = {tuple(sorted(p)) for p in pairs}
    while len(pairs) < n + n // 3:
        a, b = rng.randrange(n), rng.randrange(n)
        if a != b and tuple(sorted((a, b))) not in have:
            have.add(tuple(sorted((a, b))))
            pairs.append((a, b))
    links = [{"id": f"l{k:03d}", "source": f"n{a:03d}", "target": f"n{b:03d}",
              "capacity": 100000000000, "status": "up"} for k, (a, b) in enumerate(pairs)]
    return {"type": "snapshot", "name": name, "nodes": nodes, "links": links}


def with_down(topo, down):
    """A copy of topo with exactly the nodes in `down` down (others up)."""
    t = json.loads(json.dumps(topo))
    for nd in t["nodes"]:
        nd["status"] = "down" if nd["id"] in down else "up"
    return t


def toggle_deltas(topo, count, seed):
    """count deltas, each one node_down or node_up of a random node (always a change).
    Returns (deltas, states): states[k] = frozenset of down nodes after k deltas."""
    rng = random.Random(seed)
    ids = [nd["id"] for nd in topo["nodes"]]
    down = {nd["id"] for nd in topo["nodes"] if nd.get("status") == "down"}
    deltas, states = [], [frozenset(down)]
    for _ in range(count):
        x = rng.choice(ids)
        op = "node_up" if x in down else "node_down"
        down.symmetric_difference_update({x})
        deltas.append({"type": "delta", "ops": [{"op": op, "node": {"id": x}}]})
        states.append(frozenset(down))
    return deltas, states


def write_json(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


# ---------------------------------------------------------------- processes

def have_nats_server():
    return bool(os.environ.get("NATS_SERVER") or shutil.which("nats-server")
                or os.access("/usr/sbin/nats-server", os.X_OK))


class NatsServer:
    """scripts/nats-tmp.sh in DIR: start / restart / stop (the script keeps the PID file)."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "nats")
        self.url = None
        self.started = False

    def _run(self, *args):
        p = subprocess.run([NATS_TMP, *args], capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(f"nats-tmp.sh {' '.join(args)}: exit {p.returncode}: {p.stderr}")
        return p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""

    def start(self):
        self.url = self._run("start", self.dir)
        self.started = True
        return self.url

    def restart(self):
        self.url = self._run("restart", self.dir)
        return self.url

    def stop(self):
        if self.started:
            self.started = False
            try:
                self._run("stop", self.dir)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                check(False, "nats-tmp.sh stop", str(e))

    def log(self):
        try:
            with open(os.path.join(self.dir, "nats.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class Replay:
    """`netassure replay SNAP [DELTAS...] --listen 127.0.0.1:PORT --rate R [--raw F]
    [--wait-client]`, its output in WORKDIR/replay-N.{out,err}."""

    count = 0

    def __init__(self, workdir, snap, deltas=(), port=None, rate=200, raw=None, wait_client=True):
        Replay.count += 1
        self.workdir = workdir
        self.args = [napi.BIN, "replay", snap, *deltas, "--listen",
                     f"127.0.0.1:{port or napi.free_port()}", "--rate", str(rate)]
        self.port = int(self.args[self.args.index("--listen") + 1].rsplit(":", 1)[1])
        if raw:
            self.args += ["--raw", raw]
        if wait_client:
            self.args.append("--wait-client")
        self.out_path = os.path.join(workdir, f"replay-{Replay.count}.out")
        self.err_path = os.path.join(workdir, f"replay-{Replay.count}.err")
        self.proc = None

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/topology/stream"

    def start(self, timeout=30):
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=err)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"replay exited with {self.proc.returncode}: {self.stderr()}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/status", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"replay did not answer on port {self.port}: {self.stderr()}")

    def status(self):
        return requests.get(f"http://127.0.0.1:{self.port}/status", timeout=5).json()

    def stderr(self):
        try:
            with open(self.err_path, errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def kill(self, sig=signal.SIGKILL):
        """Sends sig to our replay process (by its PID) and reaps it; returns its exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def stop(self):
        return self.kill(signal.SIGTERM)


def daemon_config(stream_url, nats_url=None, rules=None, kinds=("structure",), extra=None):
    cfg = {"log_level": "info",
           "sources": [{"name": "up", "type": "ws", "url": stream_url}],
           "alert_rules": [NODE_DOWN_RULE] if rules is None else rules,
           "analytics": {"kinds": list(kinds)}}
    if nats_url:
        cfg["nats"] = {"url": nats_url, "jetstream": "auto"}
    if extra:
        cfg.update(extra)
    return cfg


# ---------------------------------------------------------------- the daemon

def status(d):
    """GET /status without the schema check (polled many times; one checked call is enough)."""
    r = requests.get(d.base + "/status", timeout=10)
    r.raise_for_status()
    return r.json()


def stream_entry(st, name="up"):
    for s in (st.get("ingest") or {}).get("streams") or []:
        if s.get("name") == name:
            return s
    return {}


def counters(st, name="up"):
    return stream_entry(st, name).get("counters") or {}


def wait_status(d, pred, timeout=90, what="daemon status"):
    """Polls /status until pred(status) is true; returns that status (None on timeout)."""
    return napi.wait_for(lambda: (lambda st: st if pred(st) else None)(status(d)),
                         timeout=timeout, step=0.1, what=what)


def wait_quiet(d, timeout=60, still=1.0):
    """Waits until the ingest queue is empty and `handled` did not move for `still` seconds;
    returns the last status."""
    end = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < end:
        st = status(d)
        ing = st.get("ingest") or {}
        key = (ing.get("handled"), ing.get("deltas_applied"), ing.get("queue"),
               counters(st).get("messages"))
        if key != last:
            last, since = key, time.monotonic()
        elif ing.get("queue") == 0 and time.monotonic() - since >= still:
            return st
        time.sleep(0.1)
    check(False, f"the daemon's ingest settles within {timeout} s", str(last))
    return status(d)


def topology_down(d):
    """GET /topology (live): the set of down nodes, and the node and link lists."""
    doc = requests.get(d.base + "/topology", timeout=30).json()
    return ({nd["id"] for nd in doc["nodes"] if nd.get("status") == "down"}, doc["nodes"],
            doc["links"])


# ---------------------------------------------------------------- the warehouse

def db(d):
    """A read-only connection to the daemon's SQLite warehouse, closed by `with`."""
    return contextlib.closing(sqlite3.connect(f"file:{d.db_path}?mode=ro", uri=True, timeout=30))


def versions(conn):
    """topology_version of every version row (analytics id 'topology'), in version order."""
    return [r[0] for r in conn.execute(
        "SELECT topology_version FROM analytics WHERE id = 'topology' ORDER BY topology_version")]


def duplicate_current(conn, table):
    return conn.execute(f"SELECT id, COUNT(*) FROM {table} WHERE meta_is_current = 1 "
                        "GROUP BY id HAVING COUNT(*) > 1").fetchall()


def current_down(conn):
    return {r[0] for r in conn.execute(
        "SELECT id FROM nodes WHERE meta_is_current = 1 AND status = 'down'")}


def row_counts(conn, table):
    return dict(conn.execute(f"SELECT id, COUNT(*) FROM {table} GROUP BY id").fetchall())


def alert_changes(conn):
    """Every alert state the warehouse recorded: Counter of (alert_id, status, count)."""
    return collections.Counter(conn.execute("SELECT id, status, count FROM alerts").fetchall())


def check_versions(vs, what):
    """Version numbers 1..n, each once."""
    return check(vs == list(range(1, len(vs) + 1)), f"{what}: topology versions are 1..n, each "
                 "once (no duplicate and no missing version)",
                 f"{len(vs)} rows; first {vs[:10]}; repeated "
                 f"{[v for v, c in collections.Counter(vs).items() if c > 1][:10]}")


# ---------------------------------------------------------------- NATS / JetStream

def js_messages(url, stream=JS_STREAM):
    nc = natsproto.Nats(url)
    try:
        return natsproto.stream_messages(nc, stream)
    finally:
        nc.close()


def js_alert_changes(msgs):
    """anomaly.alerts messages: Counter of (alert_id, status, count), and the bad ones."""
    out, bad = collections.Counter(), []
    for m in msgs:
        if m["subject"] != "anomaly.alerts":
            continue
        try:
            doc = json.loads(m["data"])
            a = doc["alert"]
            out[(a["alert_id"], a["status"], a["count"])] += 1
        except (ValueError, KeyError, TypeError):
            bad.append(m["data"][:200])
    return out, bad


def js_delta_versions(msgs):
    """topology.changes messages of applied deltas: Counter of their version."""
    out = collections.Counter()
    for m in msgs:
        if m["subject"] != "topology.changes":
            continue
        try:
            doc = json.loads(m["data"])
        except ValueError:
            continue
        if isinstance(doc, dict) and "delta" in doc:
            out[doc.get("version")] += 1
    return out


def check_msg_ids_unique(msgs, what):
    ids = collections.Counter(m["headers"].get("Nats-Msg-Id") for m in msgs)
    dup = [(k, c) for k, c in ids.items() if c > 1]
    check(None not in ids, f"{what}: every JetStream message has a Nats-Msg-Id header",
          f"{ids.get(None)} without")
    return check(not dup, f"{what}: no Nats-Msg-Id twice in the stream", str(dup[:10]))


def diff_counters(want, got):
    """What is missing from got, what is extra, what came more than once (for messages)."""
    missing = [k for k in want if got.get(k, 0) == 0]
    extra = [k for k in got if want.get(k, 0) == 0]
    twice = [(k, c) for k, c in got.items() if c > want.get(k, 0) and want.get(k, 0) > 0]
    return missing, extra, twice
