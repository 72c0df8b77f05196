#!/usr/bin/python3
"""`netassure alerts` and `netassure anomalies` against a real daemon: tables, --json, filters,
time travel, tokens and errors; and `netassure serve` refusing bad set-ups (exit codes 1/2)."""
import json
import os
import re
import subprocess
import shutil
import sys
import tempfile
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
from napi import check  # noqa: E402

TOKEN = "cli-client-token-1"


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("NETASSURE_API", None)
    e.pop("NETASSURE_API_TOKEN", None)
    if env:
        e.update(env)
    p = subprocess.run([napi.BIN, *args], capture_output=True, text=True, timeout=120, env=e)
    return p.returncode, p.stdout, p.stderr


def main():
    d = napi.Daemon(token=TOKEN)
    d.copy_example("clos-fabric.json")
    d.copy_example("topology-snapshot.json")
    d.write_config(napi.make_config(
        [{"name": "fabric", "type": "file", "path": "clos-fabric.json"},
         {"name": "europe", "type": "file", "path": "topology-snapshot.json"}],
        token=TOKEN, protect_reads=True))
    d.start()
    try:
        c = d.client()
        napi.wait_analysed(c, 1)
        api_alerts = c.get("/alerts", params={"status": "active"}).json()
        check(len(api_alerts) >= 1, "the daemon has active alerts", api_alerts)

        # Reads are protected: no token -> 401 reported, exit 1.
        rc, out, err = run("alerts", "--api", d.base, "--status", "active")
        check(rc == 1 and "401" in err, "alerts without a token: exit 1 and the 401", (rc, err))

        # Table: one row per alert, the count line.
        rc, out, err = run("alerts", "--api", d.base, "--status", "active", "--token", TOKEN)
        check(rc == 0, "alerts --status active exits 0", (rc, err))
        check(f"{len(api_alerts)} alert" in out, "the table counts the alerts", out[-300:])
        for a in api_alerts:
            check(a["alert_id"][:8] in out, f"alert {a['alert_id'][:8]} in the table", out[:500])

        # --json is the API's array; the token also comes from the environment.
        rc, out, err = run("alerts", "--api", d.base + "/", "--status", "active", "--json",
                           env={"NETASSURE_API_TOKEN": TOKEN})
        check(rc == 0, "alerts --json exits 0", (rc, err))
        got = json.loads(out) if rc == 0 else []
        check(sorted(a["alert_id"] for a in got) == sorted(a["alert_id"] for a in api_alerts),
              "alerts --json lists the same alerts as GET /alerts", (got, api_alerts))

        # Filters reach the API: a severity nobody has gives none; a bad one is a usage error.
        rc, out, err = run("alerts", "--api", d.base, "--severity", "critical", "--json",
                           "--token", TOKEN)
        want = [a for a in c.get("/alerts", params={"severity": "critical"}).json()]
        check(rc == 0 and len(json.loads(out)) == len(want), "--severity filters", (rc, out, err))
        rc, out, err = run("alerts", "--api", d.base, "--severity", "apocalyptic", "--token", TOKEN)
        check(rc == 2 and "400" in err, "a bad severity: exit 2 with the API's 400", (rc, err))

        # Acknowledge one through the API; --status acknowledged shows it.
        target = api_alerts[0]["alert_id"]
        check(c.post(f"/alerts/{target}/ack", {"by": "cli-test"}).status_code == 200, "ack")
        rc, out, err = run("alerts", "--api", d.base, "--status", "acknowledged", "--json",
                           "--token", TOKEN)
        check(rc == 0 and [a["alert_id"] for a in json.loads(out)] == [target],
              "--status acknowledged lists the acknowledged alert", (rc, out, err))

        # Time travel: as of before the ack, it was active.
        created = api_alerts[0]["created_at"]
        hist = c.get(f"/alerts/{target}").json()["history"]
        t_before = hist[0]["valid_to"]
        before = napi.fmt_time(napi.parse_time(t_before) - timedelta(milliseconds=1))
        rc, out, err = run("alerts", "--api", d.base, "--at", before, "--json", "--token", TOKEN)
        past = {a["alert_id"]: a["status"] for a in json.loads(out)} if rc == 0 else {}
        check(past.get(target) == "active", "alerts --at before the ack shows it active",
              (created, before, past.get(target), err))

        # Anomalies: table and JSON agree with the API.
        api_an = c.get("/anomalies").json()
        rc, out, err = run("anomalies", "--api", d.base, "--json", "--token", TOKEN)
        check(rc == 0 and len(json.loads(out)) == len(api_an), "anomalies --json = GET /anomalies",
              (rc, out[:300], err))
        rc, out, err = run("anomalies", "--api", d.base, "--since", "2026-01-01T00:00:00.123456Z",
                           "--token", TOKEN)
        check(rc == 0 and re.search(r"^\d+ anomal(y|ies)$", out, re.M), "anomalies table",
              (rc, out, err))
        rc, out, err = run("anomalies", "--api", d.base, "--since", "yesterday", "--token", TOKEN)
        check(rc == 2 and "400" in err, "a bad --since: exit 2 with the 400", (rc, err))
        rc, out, err = run("anomalies", "--api", d.base, "--status", "active")
        check(rc == 2, "an alerts-only option on anomalies is a usage error", (rc, err))
    finally:
        d.stop()

    # Nothing listening: exit 1 with a clear message.
    port = napi.free_port()
    rc, out, err = run("alerts", "--api", f"http://127.0.0.1:{port}", "--timeout", "3000")
    check(rc == 1 and "cannot connect" in err, "no daemon: exit 1, cannot connect", (rc, err))
    rc, out, err = run("alerts", "--api", "ftp://x")
    check(rc == 2, "a non-http --api is a usage error", (rc, err))

    # serve: usage errors exit 2, set-up errors exit 1 with the reason.
    rc, out, err = run("serve", "--bogus")
    check(rc == 2, "serve --bogus: exit 2", (rc, err))
    rc, out, err = run("serve", "--help")
    check(rc == 0 and "--listen" in out, "serve --help", (rc, out))
    rc, out, err = run("serve", "--check")
    check(rc == 0 and "bundled default" in out and "source" in out,
          "serve --check validates the bundled default", (rc, out, err))
    tmp = tempfile.mkdtemp(prefix="netassure-cli-")
    cfg = os.path.join(tmp, "beyond.yaml")
    with open(cfg, "w") as f:
        f.write("listen: 0.0.0.0:0\nsources: []\n")
    rc, out, err = run("serve", "-c", cfg, "--data-dir", os.path.join(tmp, "d2"))
    check(rc == 1 and "token" in err, "beyond loopback without a token: refused, exit 1", (rc, err))
    with open(cfg, "w") as f:
        f.write("listen: 127.0.0.1:0\nalert_rules:\n  - {type: spof}\n")
    rc, out, err = run("serve", "-c", cfg)
    check(rc == 1 and "alert_rules[0].type" in err, "a bad rule type names the setting", (rc, err))
    with open(cfg, "w") as f:
        f.write("listen: [unclosed\n")
    rc, out, err = run("serve", "-c", cfg)
    check(rc == 1 and re.search(r"beyond.yaml:\d+:\d+", err), "YAML syntax error with line:column",
          (rc, err))
    rc, out, err = run("serve", "--listen", "nonsense")
    check(rc == 2, "a bad --listen is a usage error", (rc, err))
    shutil.rmtree(tmp, ignore_errors=True)
    return napi.finish("test_cli_api_clients")


if __name__ == "__main__":
    sys.exit(main())
