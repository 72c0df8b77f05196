#!/usr/bin/python3
"""`netassure ingest --ws URL -c CONFIG` without --dry-run (issue 4): the daemon's engine with no
HTTP server writes what the stream says into the configured warehouse.

`netassure replay` serves examples/clos-fabric.json and the 20 deltas of
examples/temporal-events.json; ingest stops by itself after --max-messages 21 (the snapshot and
the deltas) with exit code 0. Then, in its SQLite warehouse: 21 topology versions, numbered
1..21; the link that the events take down and up three times, then re-rate, has its 8 versions
(first seen, 6 status changes, the capacity change) in order; the node removed by the events is closed; the
alert rule of the config raised the alerts the events call for, and resolved those that the
events cleared.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
import livetest as lt  # noqa: E402
from napi import check, note  # noqa: E402

EXAMPLES = os.path.join(napi.SRC, "examples")


def main():
    tmp = tempfile.mkdtemp(prefix="netassure-ingest-write-")
    keep = os.environ.get("NETASSURE_KEEP_TMP") == "1"
    rep = None
    try:
        rep = lt.Replay(tmp, os.path.join(EXAMPLES, "clos-fabric.json"),
                        [os.path.join(EXAMPLES, "temporal-events.json")], rate=50)
        rep.start()
        cfg = os.path.join(tmp, "ingest.yaml")
        data = os.path.join(tmp, "data")
        with open(cfg, "w") as f:
            f.write(napi.yaml_dump({
                "data_dir": data, "log_level": "info",
                "analytics": {"kinds": ["structure"]},
                "alert_rules": [{"name": "down", "type": "topology_change",
                                 "on": ["node_down", "link_down"], "severity": "major"}]}))
        p = subprocess.run([napi.BIN, "ingest", "--ws", rep.url, "-c", cfg,
                            "--max-messages", "21"], capture_output=True, text=True,
                           timeout=120)
        check(p.returncode == 0, "ingest exits 0 after --max-messages", p.stderr[-2000:])
        check("ERROR" not in p.stderr.upper().replace("ERRORS", ""),
              "ingest logged no error", p.stderr[-2000:])
        conn = sqlite3.connect(f"file:{os.path.join(data, 'netassure.db')}?mode=ro", uri=True)
        vs = [r[0] for r in conn.execute(
            "SELECT topology_version FROM analytics WHERE id = 'topology' ORDER BY meta_valid_from, topology_version")]
        check(vs == list(range(1, 22)), "21 topology versions, 1..21, one per message", vs)
        hist = [tuple(r) for r in conn.execute(
            "SELECT status, capacity FROM links WHERE id = 'spine-01--leaf-03' ORDER BY "
            "meta_valid_from, meta_valid_to")]
        check([h[0] for h in hist] == ["up", "down", "up", "down", "up", "down", "up", "up"] and
              hist[-1][1] == 100000000000 and hist[-2][1] != hist[-1][1],
              "spine-01--leaf-03: first seen, down/up three times, then its capacity update",
              hist)
        gone = conn.execute("SELECT count(*) FROM nodes WHERE id = 'leaf-08' AND "
                            "meta_is_current = 1").fetchone()[0]
        added = conn.execute("SELECT count(*) FROM nodes WHERE id = 'leaf-09' AND "
                             "meta_is_current = 1").fetchone()[0]
        check(gone == 0 and added == 1, "leaf-08 removed (closed), leaf-09 added (current)",
              (gone, added))
        status = {r[0]: r[1] for r in conn.execute(
            "SELECT fingerprint, status FROM alerts WHERE meta_is_current = 1")}
        conn.close()
        # The events: spine-01--leaf-03 down/up three times (last: up), leaf-07 down then up,
        # spine-04--leaf-02 down at the end (stays down).
        check(status.get("down|spine-01--leaf-03") == "resolved",
              "the flapping link's alert is resolved (it ended up)", status)
        check(status.get("down|leaf-07") == "resolved", "leaf-07's alert is resolved", status)
        check(status.get("down|spine-04--leaf-02") == "active",
              "spine-04--leaf-02 is down at the end: its alert is active", status)
    except Exception:
        check(False, "no exception", traceback.format_exc())
    finally:
        if rep is not None:
            rep.stop()
        if keep:
            note(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return napi.finish("test_ingest_write")


if __name__ == "__main__":
    sys.exit(main())
