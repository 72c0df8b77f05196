#!/usr/bin/python3
"""The seed's own API client, ../shared/seeds/query_api.py, run UNCHANGED against a daemon started
with no configuration arguments (`netassure serve`, the bundled default config, on
127.0.0.1:8080, which the script hardcodes). Its output must show the status JSON, at least one
active alert, the anomaly count and a stored feedback, and no error line; the feedback must
then be visible on that alert through the API."""
import json
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
from napi import check  # noqa: E402

SEED = os.path.normpath(os.path.join(napi.SHARED, "..", "seeds", "query_api.py"))
NOTE = "Confirmed BGP leak via manual inspection."


def port_taken(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def main():
    if not os.path.isfile(SEED):
        napi.skip(f"the seed script {SEED} is absent (NETASSURE_SHARED_DATA={napi.SHARED})")
    if port_taken(8080):
        check(False, "port 8080 is free",
              "127.0.0.1:8080 is already in use; the seed script hardcodes http://localhost:8080, "
              "so this test needs that port (stop whatever listens there)")
        return napi.finish("test_seed_query_api")
    d = napi.Daemon(no_config=True)
    d.env = {"NETASSURE_DATA_DIR": d.data_dir}
    napi.run_with_daemon(d, run, starts="`netassure serve` with no arguments starts and "
                                        "answers on 127.0.0.1:8080")
    return napi.finish("test_seed_query_api")


def run(d):
    c = d.client()
    st = napi.wait_analysed(c, 1)
    if not st:
        return
    check(os.path.realpath(st["warehouse"]["location"]) == os.path.realpath(d.db_path),
          "NETASSURE_DATA_DIR picks the warehouse directory", st["warehouse"]["location"])
    check(all(s["state"] == "ok" for s in st["sources"]) and st["sources"],
          "the bundled config's sources load", st["sources"])
    active_before = c.doc("/alerts", {"status": "active"}) or []
    anomalies = c.doc("/anomalies") or []

    p = subprocess.run(["/usr/bin/python3", SEED], capture_output=True, text=True, timeout=300,
                       cwd=d.workdir)
    out = p.stdout
    print("---- seed output (first 60 lines) ----")
    print("\n".join(out.splitlines()[:60]))
    print("---- end ----", flush=True)
    check(p.returncode == 0, "the seed script exits 0", f"{p.returncode}: {p.stderr[-1000:]}")
    lines = out.splitlines()
    errors = [ln for ln in lines if ln.startswith("Error")]
    check(not errors, "no line of the seed's output starts with Error", errors)

    # The status JSON printed between the first two headings.
    try:
        i = lines.index("--- System Status ---")
        j = next(k for k in range(i + 1, len(lines)) if lines[k].startswith("--- Alerts"))
        status = json.loads("\n".join(lines[i + 1:j]))
        check(status.get("name") == "netassure" and "topology" in status, "status JSON printed",
              list(status)[:10])
    except (ValueError, StopIteration) as e:
        check(False, "the seed printed the status JSON", repr(e))

    m = re.search(r"^Found (\d+) alerts\.$", out, re.M)
    if check(m is not None, "'Found N alerts.' printed"):
        n = int(m.group(1))
        check(n >= 1, "at least one active alert", n)
        check(n == len(active_before), "N = active alerts of the API", (n, len(active_before)))
        shown = [ln for ln in lines if re.match(r"^\[ACTIVE\] [0-9a-fA-F-]{8}: ", ln)]
        check(len(shown) == n, "one [ACTIVE] line per alert", len(shown))
    m = re.search(r"^Found (\d+) anomalies\.$", out, re.M)
    if check(m is not None, "'Found M anomalies.' printed"):
        check(int(m.group(1)) == len(anomalies), "M = anomalies of the last hour (all of them)",
              (m.group(1), len(anomalies)))
    check("Feedback submitted successfully." in lines, "'Feedback submitted successfully.' printed")

    # The feedback is stored on the first active alert the script saw.
    if active_before:
        target = active_before[0]["alert_id"]
        pm = re.search(r"^--- Posting Feedback for Alert (\S+) ---$", out, re.M)
        check(pm is not None and pm.group(1) == target, "the seed posted on the newest active alert",
              (pm.group(1) if pm else None, target))
        one = c.doc(f"/alerts/{target}") or {}
        fbs = one.get("feedback", [])
        check(len(fbs) == 1 and fbs[0]["is_false_positive"] is False and fbs[0]["notes"] == NOTE
              and fbs[0]["alert_id"] == target, "the seed's feedback is stored on the alert", fbs)
        others = [a["alert_id"] for a in c.doc("/alerts") or [] if a["alert_id"] != target]
        for aid in others[:20]:
            check((c.doc(f"/alerts/{aid}") or {}).get("feedback") == [], f"no feedback on {aid}")


if __name__ == "__main__":
    sys.exit(main())
