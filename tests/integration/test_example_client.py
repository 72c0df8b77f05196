#!/usr/bin/python3
"""examples/api_client.py against a real daemon (token set): --help, the demo tour (status,
alerts, anomalies, feedback, ack, topology now and earlier, diff), single commands in text and
--json, time travel across a rewritten topology file, following /stream while the file changes,
and the exit status 1 with the API's error when the token is missing."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
from napi import check  # noqa: E402

CLIENT = os.path.join(napi.SRC, "examples", "api_client.py")
TOKEN = "example-token"


def client(d, *args, token=TOKEN, timeout=120):
    cmd = ["/usr/bin/python3", CLIENT, "--api", d.base]
    if token:
        cmd += ["--token", token]
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def main():
    p = subprocess.run(["/usr/bin/python3", CLIENT, "--help"], capture_output=True, text=True)
    check(p.returncode == 0 and "stream" in p.stdout and "--token" in p.stdout, "api_client.py --help",
          p.stdout[:300])
    for cmd in ("demo", "alerts", "stream", "diff", "topology", "ack", "feedback"):
        p = subprocess.run(["/usr/bin/python3", CLIENT, cmd, "--help"], capture_output=True, text=True)
        check(p.returncode == 0 and p.stdout.startswith("usage:"), f"api_client.py {cmd} --help")
    p = subprocess.run(["/usr/bin/python3", CLIENT, "diff"], capture_output=True, text=True)
    check(p.returncode == 2, "missing --from is a usage error (2)", p.returncode)

    d = napi.Daemon(token=TOKEN)
    d.copy_example("clos-fabric.json")
    d.copy_example("topology-snapshot.json")
    d.config = napi.make_config([
        {"name": "fabric", "type": "file", "path": "clos-fabric.json", "watch": True, "interval": "1s"},
        {"name": "europe", "type": "file", "path": "topology-snapshot.json", "watch": True,
         "interval": "1s"}], token=TOKEN)
    napi.run_with_daemon(d, run)
    return napi.finish("test_example_client")


def run(d):
    c = d.client()
    if not napi.wait_analysed(c, 1):
        return
    time.sleep(2.5)   # so that "2 s ago" lies after the first observation
    active = c.doc("/alerts", {"status": "active"}) or []
    rc, out, err = client(d, "demo", "--ago", "2", "--by", "example-test", "--notes", "seen by the test")
    print(out[-3000:])
    check(rc == 0, "demo exits 0", err[-500:])
    check("--- System Status ---" in out and re.search(r"topology version 1: 16 nodes, 36 links", out),
          "demo prints the status summary", out[:400])
    m = re.search(r"^Found (\d+) alerts\.$", out, re.M)
    check(m and int(m.group(1)) == len(active) >= 1, "demo: Found N alerts (N = active alerts)",
          (m.group(1) if m else None, len(active)))
    check(re.search(r"^Found \d+ anomalies\.$", out, re.M), "demo: Found M anomalies")
    check("Feedback submitted successfully" in out, "demo: feedback")
    check(re.search(r"is now acknowledged \(by example-test\)", out), "demo: acknowledged")
    check(re.search(r"^Topology \S+ version 1 \(live\): 16 nodes, 36 links$", out, re.M),
          "demo: topology now")
    check(re.search(r"^Topology \S+ version 1 \(as of \S+\): 16 nodes, 36 links$", out, re.M),
          "demo: topology as of 2 s ago")
    check(re.search(r"^Diff .* nodes \+0 -0 ~0, links \+0 -0 ~0$", out, re.M), "demo: empty diff")
    check("links down: 1 (core-1:edge-2)" in out, "demo: the down link is listed")
    if active:
        one = c.doc(f"/alerts/{active[0]['alert_id']}") or {}
        check(one.get("status") == "acknowledged" and one.get("acknowledged_by") == "example-test",
              "the demo's ack is stored", (one.get("status"), one.get("acknowledged_by")))
        check([f.get("notes") for f in one.get("feedback", [])] == ["seen by the test"],
              "the demo's feedback is stored", one.get("feedback"))
        rc, out, err = client(d, "alert", active[0]["alert_id"])
        check(rc == 0 and "acknowledged" in out and "feedback" in out and "confirmed - seen by the test" in out,
              "alert ID shows history and feedback", out)

    rc, out, err = client(d, "--json", "status")
    try:
        st = json.loads(out)
        check(rc == 0 and st["topology"]["nodes"] == 16, "--json status", st.get("topology"))
    except ValueError:
        check(False, "--json status prints JSON", out[:200])
    rc, out, _ = client(d, "alerts", "--status", "acknowledged")
    check(rc == 0 and re.search(r"^Found 1 alerts\.$", out, re.M) and "[ACKNOWLEDGED]" in out,
          "alerts --status acknowledged", out)
    rc, out, _ = client(d, "nodes", "--status", "down")
    check(rc == 0 and out.split() and out.split()[0] == "edge-2", "nodes --status down", out)
    rc, out, _ = client(d, "whatif", "core-2")
    check(rc == 0 and re.search(r"failing core-2: components \d+ -> \d+", out), "whatif core-2", out)
    rc, out, _ = client(d, "config")
    check(rc == 0 and out.startswith("NetAssure Test") and "banner welcome [info]" in out, "config", out)

    # Errors: no token for a write, an unknown alert.
    rc, out, err = client(d, "ack", active[0]["alert_id"] if active else "x", token=None)
    check(rc == 1 and "401" in err and "unauthorized" in err, "ack without a token: exit 1, the 401 printed",
          (rc, err))
    rc, out, err = client(d, "alert", "0" * 32)
    check(rc == 1 and "404" in err, "unknown alert: exit 1, 404", (rc, err))

    # Time travel and the stream across a rewrite of the watched file.
    t_before = napi.status(c)["now"]
    stream = subprocess.Popen(["/usr/bin/python3", CLIENT, "--api", d.base, "--token", TOKEN, "stream",
                               "--seconds", "20", "--kinds", "topology"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    europe = napi.load_json(d.path("topology-snapshot.json"))
    europe["nodes"].append({"id": "edge-3", "label": "Dublin edge", "role": "edge", "status": "up"})
    europe["links"].append({"id": "edge-1:edge-3", "source": "edge-1", "target": "edge-3"})
    napi.write_json_atomic(d.path("topology-snapshot.json"), europe)
    napi.wait_analysed(c, 2)
    try:
        sout, serr = stream.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        stream.kill()
        sout, serr = stream.communicate()
    print(sout)
    check(stream.returncode == 0 and "subscribed to topology" in sout, "stream subscribes", (sout, serr[-300:]))
    check(re.search(r"^event topology at \S+", sout, re.M), "stream prints the topology event", sout)
    m = re.search(r"^(\d+) events in 20 s$", sout, re.M)
    check(m and int(m.group(1)) >= 1, "stream counts its events", sout[-200:])

    rc, out, _ = client(d, "topology")
    check(rc == 0 and re.search(r"version 2 \(live\): 17 nodes, 37 links", out), "topology after the rewrite", out)
    rc, out, _ = client(d, "topology", "--at", t_before)
    check(rc == 0 and re.search(r"version 1 \(as of \S+\): 16 nodes, 36 links", out),
          "topology --at before the rewrite", out)
    rc, out, _ = client(d, "diff", "--from", t_before)
    check(rc == 0 and "nodes +1 -0 ~0, links +1 -0 ~0" in out and "added node edge-3" in out
          and "added link edge-1:edge-3" in out, "diff --from before the rewrite", out)
    rc, out, _ = client(d, "--json", "diff", "--from", t_before)
    try:
        check(json.loads(out)["summary"]["nodes_added"] == 1, "--json diff")
    except (ValueError, KeyError):
        check(False, "--json diff prints the diff JSON", out[:300])


if __name__ == "__main__":
    sys.exit(main())
