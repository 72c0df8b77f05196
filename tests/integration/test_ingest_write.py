#!/usr/bin/python3
"""`netassure ingest --ws URL -c CONFIG` without --dry-run (issue 4): the daemon's engine with no
HTTP server writes what the stream says into the configured warehouse.

`netassure replay` serves examples/clos-fabric.json and the 20 deltas of
examples/temporal-events.json; ingest stops by itself after --max-messages 21 (the snapshot and
the deltas) with exit code 0. Then, in its SQLite warehouse: 21 topology versions, numbered
1..21; the link that the events take down and up three times, then re-rate, has its 8 versions
(first seen, 6 status changes, the capacity change) in order; the node removed by the events is closed; the
alert rule of the config raised the alerts the events call for, and resolved those that the
events cleared. On SQLite, and again on a fresh PostgreSQL database when NETASSURE_PG_URL is
set (CI's throwaway cluster).
"""
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


def sql_rows(backend, target, sql, maxsplit=-1):
    """Rows (tuples of text) of one query on the SQLite file or the PostgreSQL URL (psql
    separates columns with '|': only the last column may contain one, with maxsplit)."""
    if backend == "sqlite":
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            return [tuple("" if v is None else str(v) for v in r) for r in conn.execute(sql)]
        finally:
            conn.close()
    return [tuple(ln.split("|", maxsplit)) for ln in napi.psql(target, sql)]


def scenario(tmp, backend, pg_url=None):
    """One ingest run into a fresh warehouse of `backend` and the checks on what it wrote."""
    rep = None
    try:
        rep = lt.Replay(tmp, os.path.join(EXAMPLES, "clos-fabric.json"),
                        [os.path.join(EXAMPLES, "temporal-events.json")], rate=50)
        rep.start()
        cfg = os.path.join(tmp, f"ingest-{backend}.yaml")
        data = os.path.join(tmp, f"data-{backend}")
        doc = {"data_dir": data, "log_level": "info",
               "analytics": {"kinds": ["structure"]},
               "alert_rules": [{"name": "down", "type": "topology_change",
                                "on": ["node_down", "link_down"], "severity": "major"}]}
        if pg_url:
            doc["warehouse"] = pg_url
        with open(cfg, "w") as f:
            f.write(napi.yaml_dump(doc))
        p = subprocess.run([napi.BIN, "ingest", "--ws", rep.url, "-c", cfg,
                            "--max-messages", "21"], capture_output=True, text=True,
                           timeout=120)
        tag = f"[{backend}]"
        check(p.returncode == 0, f"{tag} ingest exits 0 after --max-messages", p.stderr[-2000:])
        check(" error " not in p.stderr, f"{tag} ingest logged no error", p.stderr[-2000:])
        target = pg_url or os.path.join(data, "netassure.db")
        q = lambda sql, m=-1: sql_rows(backend, target, sql, m)  # noqa: E731
        vs = [int(r[0]) for r in q("SELECT topology_version FROM analytics WHERE id = 'topology' "
                                   "ORDER BY meta_valid_from, topology_version")]
        check(vs == list(range(1, 22)), f"{tag} 21 topology versions, 1..21, one per message",
              vs)
        hist = [(r[0], float(r[1])) for r in q(
            "SELECT status, capacity FROM links WHERE id = 'spine-01--leaf-03' ORDER BY "
            "meta_valid_from, meta_valid_to")]
        check([h[0] for h in hist] == ["up", "down", "up", "down", "up", "down", "up", "up"] and
              hist[-1][1] == 100000000000 and hist[-2][1] != hist[-1][1],
              f"{tag} spine-01--leaf-03: first seen, down/up three times, then its capacity "
              "update", hist)
        cur = {r[0] for r in q("SELECT id FROM nodes WHERE meta_is_current = TRUE")}
        check("leaf-08" not in cur and "leaf-09" in cur and len(cur) == 12,
              f"{tag} leaf-08 removed (closed), leaf-09 added (current), 12 nodes", sorted(cur))
        status = {r[1]: r[0] for r in q(
            "SELECT status, fingerprint FROM alerts WHERE meta_is_current = TRUE", 1)}
        # The events: spine-01--leaf-03 down/up three times (last: up), leaf-07 down then up,
        # spine-04--leaf-02 down at the end (stays down).
        check(status.get("down|spine-01--leaf-03") == "resolved",
              f"{tag} the flapping link's alert is resolved (it ended up)", status)
        check(status.get("down|leaf-07") == "resolved", f"{tag} leaf-07's alert is resolved",
              status)
        check(status.get("down|spine-04--leaf-02") == "active",
              f"{tag} spine-04--leaf-02 is down at the end: its alert is active", status)
    except Exception:
        check(False, f"[{backend}] no exception", traceback.format_exc())
    finally:
        if rep is not None:
            rep.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="netassure-ingest-write-")
    keep = os.environ.get("NETASSURE_KEEP_TMP") == "1"
    try:
        scenario(tmp, "sqlite")
        pg = os.environ.get("NETASSURE_PG_URL")
        if not pg:
            note("SKIP (part): NETASSURE_PG_URL is not set; the PostgreSQL run did not run")
        else:
            try:
                db_url, drop = napi.fresh_pg_database(pg, "netassure_iw_")
            except (RuntimeError, OSError) as e:
                check(False, "CREATE DATABASE on NETASSURE_PG_URL", str(e))
            else:
                try:
                    scenario(tmp, "postgresql", db_url)
                finally:
                    drop()
    finally:
        if keep:
            note(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return napi.finish("test_ingest_write")


if __name__ == "__main__":
    sys.exit(main())
