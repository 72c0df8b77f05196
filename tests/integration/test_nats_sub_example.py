"""examples/nats_sub.py against a real nats-server (scripts/nats-tmp.sh): live messages on the
four subjects (with a prefix; other subjects left out), then the JetStream history from the
start of a stream laid out like the daemon's (NETASSURE, duplicate window: a resent id is
stored once). Messages are published here with the same stdlib protocol code the example
uses, as the daemon would: HPUB with a Nats-Msg-Id header. Skipped (77) without nats-server.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("NETASSURE_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRIPT = os.path.join(SRC, "scripts", "nats-tmp.sh")
EXAMPLE = os.path.join(SRC, "examples", "nats_sub.py")
sys.dont_write_bytecode = True  # no __pycache__ in examples/
sys.path.insert(0, os.path.join(SRC, "examples"))
import nats_sub  # noqa: E402  (the example's own client, reused to publish)

SUBJECTS = ["anomaly.alerts", "alerts.multi_modal", "bgp.events", "topology.changes"]

ALERT = {"event": "raised",
         "alert": {"id": "a-1", "rule": "spof", "status": "active", "severity": "critical",
                   "node_id": "core1", "count": 1}}
TOPO = {"version": 8, "seq": 3, "at": "2026-03-08T12:00:00Z", "origin": "stream",
        "nodes": 10, "links": 12, "ops": [{"op": "upsert_node", "node": {"id": "n9"}}]}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def start_example(*args):
    """Starts nats_sub.py and waits for its 'subscribed' line on stderr."""
    p = subprocess.Popen([sys.executable, EXAMPLE] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    if "subscribed to" not in line:
        p.kill()
        fail("nats_sub.py did not subscribe: %r %s" % (line, p.stderr.read()))
    return p


def finish(p, want_rc=0):
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("nats_sub.py did not finish")
    if p.returncode != want_rc:
        fail("nats_sub.py exit %d (want %d): %s" % (p.returncode, want_rc, err))
    return [json.loads(line) for line in out.splitlines()]


def check_live(url):
    p = start_example("--url", url, "--prefix", "lab", "--count", "3", "--json",
                      "--timeout", "60")
    pub = nats_sub.Connection(url, name="test-publisher")
    pub.publish("other.subject", b'{"not": "ours"}', headers={"Nats-Msg-Id": "x"})
    pub.publish("lab.anomaly.alerts", json.dumps(ALERT).encode(),
                headers={"Nats-Msg-Id": "alert:a-1:1:active"})
    pub.publish("lab.topology.changes", json.dumps(TOPO).encode(),
                headers={"Nats-Msg-Id": "topology:8"})
    pub.publish("lab.bgp.events", b"not json", headers={"Nats-Msg-Id": "anomaly:5"})
    pub.ping()
    pub.close()
    got = finish(p)
    want = [{"subject": "lab.anomaly.alerts", "id": "alert:a-1:1:active", "data": ALERT},
            {"subject": "lab.topology.changes", "id": "topology:8", "data": TOPO},
            {"subject": "lab.bgp.events", "id": "anomaly:5", "data": "not json"}]
    if got != want:
        fail("live: got %s\nwant %s" % (got, want))


def js_publish(conn, inbox, subject, data, msg_id):
    """A JetStream publish (HPUB with a reply subject); returns the server's ack."""
    conn.publish(subject, json.dumps(data).encode(), reply=inbox,
                 headers={"Nats-Msg-Id": msg_id})
    while True:
        subj, _, _, status, payload = conn.next()
        if subj == inbox:
            if status:
                fail("publish on %s: status %s" % (subject, status))
            return json.loads(payload)


def check_history(url):
    conn = nats_sub.Connection(url, name="test-publisher")
    inbox = "_INBOX.test.%d" % os.getpid()
    conn.subscribe(inbox)
    # The stream as the daemon creates it (docs/nats.md).
    nats_sub.request(conn, "$JS.API.STREAM.CREATE.NETASSURE",
                     {"name": "NETASSURE", "subjects": SUBJECTS, "storage": "file",
                      "duplicate_window": 120 * 10**9}, inbox)
    acks = [js_publish(conn, inbox, "anomaly.alerts", ALERT, "alert:a-1:1:active"),
            js_publish(conn, inbox, "anomaly.alerts", ALERT, "alert:a-1:1:active"),
            js_publish(conn, inbox, "bgp.events", {"anomaly": {"id": "an-7"}}, "anomaly:an-7"),
            js_publish(conn, inbox, "topology.changes", TOPO, "topology:8")]
    if [a.get("seq") for a in acks] != [1, 1, 2, 3] or not acks[1].get("duplicate"):
        fail("acks: %s" % acks)
    conn.close()

    p = start_example("--url", url, "--from-start", "--count", "3", "--json", "--timeout", "60")
    got = finish(p)
    if [(m["subject"], m["id"]) for m in got] != [("anomaly.alerts", "alert:a-1:1:active"),
                                                 ("bgp.events", "anomaly:an-7"),
                                                 ("topology.changes", "topology:8")]:
        fail("history: %s" % got)
    if got[0]["data"] != ALERT or got[2]["data"] != TOPO:
        fail("history payloads: %s" % got)

    # One subject only, and --count not reached within --timeout: exit 1 after what there is.
    p = start_example("--url", url, "--from-start", "--subject", "topology.changes",
                      "--count", "2", "--json", "--timeout", "2")
    got = finish(p, want_rc=1)
    if [m["id"] for m in got] != ["topology:8"]:
        fail("filtered history: %s" % got)


def main():
    tmp = tempfile.mkdtemp(prefix="na_nats_sub_")
    r = subprocess.run(["sh", SCRIPT, "start", tmp], capture_output=True, text=True)
    if r.returncode == 77:
        shutil.rmtree(tmp, ignore_errors=True)
        print("SKIP: nats-server is not installed")
        sys.exit(77)
    if r.returncode != 0:
        fail("nats-tmp.sh start: %s" % r.stderr)
    url = r.stdout.strip()
    try:
        check_live(url)
        check_history(url)
        # No server: a clear error, exit 2.
        r = subprocess.run([sys.executable, EXAMPLE, "--url", "nats://127.0.0.1:1"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 2 or "nats_sub.py:" not in r.stderr:
            fail("no server: exit %d, %r" % (r.returncode, r.stderr))
    finally:
        subprocess.run(["sh", SCRIPT, "stop", tmp])
    print("ok")


if __name__ == "__main__":
    main()
