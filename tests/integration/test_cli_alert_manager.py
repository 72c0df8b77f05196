#!/usr/bin/python3
"""`netassure silences`, `netassure tunings` and `netassure alerts --groups` against a real daemon
(docs/cli.md, docs/alerts.md): silences added, listed (table, --json, --at) and deleted through
the CLI, with their effect checked through GET /alerts; a false positive posted through the API
shows up in `netassure tunings` and is reverted by `tunings delete`; groups as the API has them;
usage errors exit 2, unknown ids and refused writes exit 1 with the API's message. Every JSON
document the CLI prints is checked against docs/openapi.json."""
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
from napi import check  # noqa: E402

TOKEN = "cli-alert-manager-token"
HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def cli(*args, env=None, token_env=None):
    """Runs the tool with a clean environment for the API settings; (rc, stdout, stderr)."""
    e = dict(os.environ)
    for k in ("NETASSURE_API", "NETASSURE_TOKEN", "NETASSURE_API_TOKEN", "USER"):
        e.pop(k, None)
    if token_env:
        e["NETASSURE_TOKEN"] = token_env
    if env:
        e.update(env)
    p = subprocess.run([napi.BIN, *args], capture_output=True, text=True, timeout=120, env=e)
    return p.returncode, p.stdout, p.stderr


def cli_json(what, *args, **kw):
    """Runs a --json command that must succeed; the parsed document or None."""
    rc, out, err = cli(*args, "--json", **kw)
    if not check(rc == 0, f"{what}: exit 0", (rc, err[-500:])):
        return None
    try:
        return json.loads(out)
    except ValueError as e:
        check(False, f"{what}: stdout is JSON", (repr(e), out[:300]))
        return None


def valid(doc, schema, what):
    """Checks a printed document against a schema of docs/openapi.json."""
    problems = napi.spec().validate_schema(napi.spec().schema(schema), doc)
    check(not problems, f"{what} matches the {schema} schema", "; ".join(problems))


def valid_list(docs, schema, what):
    if check(isinstance(docs, list), f"{what} is a JSON array", docs):
        for d in docs:
            valid(d, schema, what)


def table_rows(out):
    """The lines of a table between its header and its count line."""
    lines = out.rstrip("\n").split("\n")
    return lines[1:-1]


def main():
    d = napi.Daemon(token=TOKEN)
    # The fabric with one link down: its source spine gets a link_down alert (topology
    # evidence) beside its importance alerts (analytics), which makes a multi-modal group.
    fabric = napi.load_json(os.path.join(napi.EXAMPLES, "clos-fabric.json"))
    down = next(lk for lk in fabric["links"] if lk["source"] == "spine-01")
    down["status"] = "down"
    napi.write_json_atomic(d.path("fabric.json"), fabric)
    d.config = napi.make_config([{"name": "fabric", "type": "file", "path": "fabric.json"}],
                                token=TOKEN)
    if napi.run_with_daemon(d, run):
        usage_errors()
    return napi.finish("test_cli_alert_manager")


def run(d):
    c = d.client()
    api = d.base
    if not napi.wait_analysed(c, 1):
        return
    alerts = c.doc("/alerts", params={"status": "active"}) or []
    with_node = [a for a in alerts if a.get("node_id")]
    if not check(with_node, "the fabric raises alerts about nodes", alerts[:3]):
        return

    # ------------------------------------------------------------ groups
    groups = c.doc("/alerts/groups") or []
    printed = cli_json("alerts --groups --json", "alerts", "--api", api, "--groups")
    check(printed == groups, "alerts --groups --json = GET /alerts/groups", (printed, groups))
    valid_list(printed, "AlertGroup", "alerts --groups --json")
    check(any(g["multi_modal"] for g in groups), "a multi-modal group (link down + importance)",
          groups)
    rc, out, err = cli("alerts", "--api", api, "--groups")
    check(rc == 0, "alerts --groups exits 0", (rc, err))
    rows = {ln.split()[0]: ln for ln in table_rows(out)}
    check(out.rstrip().endswith(f"{len(groups)} group" + ("" if len(groups) == 1 else "s")),
          "the groups table counts them", out[-200:])
    for g in groups:
        row = rows.get(g["group"], "")
        cols = row.split()
        check(len(cols) >= 6 and cols[1] == ",".join(g["evidence"]) and cols[2] == g["severity"]
              and cols[3] == ("yes" if g["multi_modal"] else "no") and cols[4] == str(g["count"]),
              f"table row of {g['group']}: evidence, severity, multi-modal, count", (row, g))
        check(all(a[:8] in row for a in g["alert_ids"]), f"table row of {g['group']}: alert ids",
              (row, g["alert_ids"]))
    rc, out, err = cli("alerts", "--api", api, "--groups", "--at", "1999-01-01T00:00:00Z",
                       "--json")
    check(rc == 0 and json.loads(out or "null") == [], "alerts --groups --at before any alert: []",
          (rc, out, err))

    # ------------------------------------------------------------ silences: empty, refused
    rc, out, err = cli("silences", "--api", api)
    check(rc == 0 and out.strip().splitlines()[-1:] == ["0 silences"], "no silences at first",
          (rc, out, err))
    check(cli_json("silences --json", "silences", "--api", api) == [], "silences --json: []")
    node = "spine-01"
    of_node = {a["alert_id"] for a in alerts if a.get("node_id") == node}
    check(of_node, f"{node} has open alerts", alerts)
    rc, out, err = cli("silences", "add", "--api", api, "--node", node, "--duration", "2h")
    check(rc == 1 and "401" in err and "token" in err,
          "silences add without a token: exit 1 with the API's 401 message", (rc, err))
    rc, out, err = cli("silences", "add", "--api", api, "--node", node, "--duration", "2h",
                       "--token", "wrong-token-123")
    check(rc == 1 and "401" in err, "silences add with a wrong token: exit 1", (rc, err))
    rc, out, err = cli("silences", "add", "--api", api, "--severity", "loud", "--duration", "2h",
                       token_env=TOKEN)
    check(rc == 2 and "400" in err and "severity" in err,
          "a severity the API refuses: exit 2 with its message", (rc, err))
    rc, out, err = cli("silences", "add", "--api", api, "--node", node, "--until",
                       "2001-01-01T00:00:00Z", token_env=TOKEN)
    check(rc == 2 and "future" in err, "an end in the past: exit 2 with the API's message",
          (rc, err))
    check(c.doc("/silences") == [], "refused silences are not stored")

    # ------------------------------------------------------------ silences add (token from env)
    t0 = datetime.now(timezone.utc)
    rc, out, err = cli("silences", "add", "--api", api, "--node", node, "--duration", "2h",
                       "--comment", "fabric upgrade", token_env=TOKEN, env={"USER": "ops-cli"})
    sid = out.strip()
    check(rc == 0 and HEX_ID.match(sid), "silences add prints the new id", (rc, out, err))
    check("active" in err, "silences add says the silence is active", err)
    t1 = datetime.now(timezone.utc)
    listed = c.doc("/silences") or []
    sil = next((s for s in listed if s["silence_id"] == sid), {})
    check(sil.get("matchers") == {"node_id": node}, "the silence's matchers", sil)
    check(sil.get("comment") == "fabric upgrade", "--comment kept", sil)
    check(sil.get("created_by") == "ops-cli", "created_by defaults to $USER", sil)
    check(sil.get("state") == "active", "a silence starting now is active", sil)
    if sil:
        span = napi.parse_time(sil["ends_at"]) - napi.parse_time(sil["starts_at"])
        # ends = the CLI's now + 2h, starts = the daemon's now: both between t0 and t1.
        check(abs(span - timedelta(hours=2)) <= (t1 - t0) + timedelta(seconds=1),
              "--duration 2h: ends two hours after it starts", (sil["starts_at"], sil["ends_at"]))
        check(set(sil.get("alert_ids", [])) == of_node, "it silences the node's open alerts",
              (sil.get("alert_ids"), of_node))

    # A pending one with --starts (an offset, normalised to UTC) and --duration counted from
    # it; two matchers; --by.
    starts = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
    until = starts + timedelta(hours=4)
    rc, out, err = cli("silences", "add", "--api", api, "--site", "iad1", "--severity", "minor",
                       "--starts", starts.astimezone(timezone(timedelta(hours=2))).isoformat(),
                       "--duration", "4h", "--by", "night-shift", "--token", TOKEN)
    sid2 = out.strip()
    check(rc == 0 and HEX_ID.match(sid2), "silences add --starts --duration prints the id",
          (rc, out, err))
    sil2 = next((s for s in c.doc("/silences") or [] if s["silence_id"] == sid2), {})
    check(sil2.get("state") == "pending", "a silence starting later is pending", sil2)
    check(sil2.get("matchers") == {"site": "iad1", "severity": "minor"}, "two matchers", sil2)
    check(sil2.get("starts_at") == napi.fmt_time(starts) and
          sil2.get("ends_at") == napi.fmt_time(until), "--starts as given (UTC), --duration "
          "counted from it", sil2)
    check(sil2.get("created_by") == "night-shift" and sil2.get("comment") is None,
          "--by; no comment is null", sil2)

    # --until; --json prints the created silence.
    until3 = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=90)
    rc, out, err = cli("silences", "add", "--api", api, "--rule", "link-down", "--until",
                       napi.fmt_time(until3), "--json", token_env=TOKEN)
    created = json.loads(out) if rc == 0 else {}
    check(rc == 0 and HEX_ID.match(created.get("silence_id", "")),
          "silences add --json prints the silence", (rc, out, err))
    check(created.get("ends_at") == napi.fmt_time(until3) and created.get("created_by") is None,
          "--until as given; without $USER or --by no created_by", created)
    valid(created, "Silence", "silences add --json")
    sid3 = created.get("silence_id", "")

    # ------------------------------------------------------------ silences: listed
    api_list = c.doc("/silences") or []
    printed = cli_json("silences --json", "silences", "--api", api)
    check(printed == api_list, "silences --json = GET /silences", (printed, api_list))
    valid_list(printed, "Silence", "silences --json")
    rc, out, err = cli("silences", "list", "--api", api)
    check(rc == 0 and out.strip().splitlines()[-1:] == ["3 silences"],
          "the silences table counts them", (rc, out, err))
    rows = {ln.split()[0]: ln for ln in table_rows(out)}
    for s in api_list:
        row = rows.get(s["silence_id"], "")
        cols = row.split()
        check(cols[1:4] == [s["state"], s["starts_at"], s["ends_at"]],
              f"table row of {s['silence_id'][:8]}: state, starts, ends", (row, s))
        m = ",".join(f"{k}={v}" for k, v in s["matchers"].items())
        check(len(cols) > 4 and cols[4] == m, "table row: the matchers", (row, m))
        check(row.rstrip().endswith(s["comment"] or "-"), "table row: the comment", (row, s))

    # ------------------------------------------------------------ the effect on GET /alerts
    for a in c.doc("/alerts", params={"status": "active"}) or []:
        want = a["alert_id"] in of_node or (a.get("rule") == "link-down")
        check(a.get("silenced") is want, "an open alert is silenced exactly when a silence "
              "matches it", a)
        if a["alert_id"] in of_node:
            check((a.get("details") or {}).get("silenced_by") in (sid, sid3),
                  "details.silenced_by names a matching silence", a.get("details"))
    shown = cli_json("alerts --json", "alerts", "--api", api, "--node", node)
    check(shown and all(a.get("silenced") is True for a in shown),
          "alerts --node --json shows them silenced", shown)
    rc, out, err = cli("alerts", "--api", api, "--node", node)
    rows = table_rows(out)
    check(rc == 0 and rows and all(r.split()[2] == "yes" for r in rows),
          "the alerts table marks them silenced", (rc, out, err))

    # ------------------------------------------------------------ silences delete
    t_all = datetime.now(timezone.utc)
    time.sleep(0.01)
    rc, out, err = cli("silences", "delete", "--api", api, sid, token_env=TOKEN)
    check(rc == 0 and sid in out, "silences delete exits 0 and names it", (rc, out, err))
    rc, out, err = cli("silences", "delete", "--api", api, sid3, "--json", token_env=TOKEN)
    check(rc == 0 and json.loads(out or "{}").get("silence_id") == sid3,
          "silences delete --json prints the removed silence", (rc, out, err))
    check([s["silence_id"] for s in c.doc("/silences") or []] == [sid2],
          "only the pending silence is left")
    for aid in of_node:
        a = c.doc(f"/alerts/{aid}") or {}
        check(a.get("silenced") is False, "unsilenced after silences delete", a)
    rc, out, err = cli("silences", "delete", "--api", api, sid, token_env=TOKEN)
    check(rc == 1 and "404" in err and "no silence" in err,
          "deleting it again: exit 1 with the API's message", (rc, err))
    rc, out, err = cli("silences", "delete", "--api", api, "0" * 32, token_env=TOKEN)
    check(rc == 1 and "404" in err, "an unknown silence id: exit 1", (rc, err))
    rc, out, err = cli("silences", "delete", "--api", api, sid2)
    check(rc == 1 and "401" in err, "silences delete without a token: exit 1", (rc, err))
    # Time travel: as of before the deletes, all three were there.
    past = cli_json("silences --at", "silences", "--api", api, "--at", napi.fmt_time(t_all))
    check(sorted(s["silence_id"] for s in past or []) == sorted([sid, sid2, sid3]),
          "silences --at before the deletes lists all three", past)
    valid_list(past, "Silence", "silences --at --json")
    rc, out, err = cli("silences", "--api", api, "--at", "yesterday")
    check(rc == 2 and "400" in err, "a bad --at: exit 2 with the API's 400", (rc, err))
    cli("silences", "delete", "--api", api, sid2, token_env=TOKEN)

    # ------------------------------------------------------------ tunings
    check(cli_json("tunings --json", "tunings", "--api", api) == [], "no tunings at first")
    target = sorted(of_node)[0]
    r = c.post(f"/alerts/{target}/feedback", {"is_false_positive": True, "notes": "lab noise"},
               expect=201)
    effect = (r.doc or {}).get("effect")
    if not check(effect, "a false positive makes a feedback effect", r.doc):
        return
    tid = effect["tuning_id"]
    api_tun = c.doc("/tunings") or []
    printed = cli_json("tunings --json", "tunings", "--api", api)
    check(printed == api_tun, "tunings --json = GET /tunings", (printed, api_tun))
    valid_list(printed, "Tuning", "tunings --json")
    rc, out, err = cli("tunings", "--api", api)
    rows = table_rows(out)
    check(rc == 0 and out.strip().splitlines()[-1:] == ["1 tuning"] and len(rows) == 1,
          "the tunings table has the one effect", (rc, out, err))
    cols = rows[0].split() if rows else []
    check(cols[:4] == [tid, effect["rule"], node, effect["kind"]],
          "tunings row: id, rule, node, kind", (cols, effect))
    if effect["kind"] == "raised_threshold" and len(cols) >= 9:
        check(abs(float(cols[4]) - effect["threshold"]) <= 1e-5 * abs(effect["threshold"]) and
              float(cols[5]) == effect["factor"] and cols[6] == "1",
              "tunings row: threshold, factor, reports", (cols, effect))
    rc, out, err = cli("tunings", "delete", "--api", api, tid, token_env=TOKEN)
    check(rc == 0 and tid in out, "tunings delete exits 0 and names it", (rc, out, err))
    check(c.doc("/tunings") == [], "the tuning is gone from GET /tunings")
    rc, out, err = cli("tunings", "delete", "--api", api, tid, token_env=TOKEN)
    check(rc == 1 and "404" in err and "no tuning" in err,
          "an unknown tuning id: exit 1 with the API's message", (rc, err))
    rc, out, err = cli("tunings", "delete", "--api", api, tid)
    check(rc == 1 and "401" in err, "tunings delete without a token: exit 1", (rc, err))
    # The older variable name still carries the token.
    rc, out, err = cli("tunings", "delete", "--api", api, "f" * 32,
                       env={"NETASSURE_API_TOKEN": TOKEN})
    check(rc == 1 and "404" in err, "$NETASSURE_API_TOKEN works too (404, not 401)", (rc, err))


def usage_errors():
    """Exit 2 before any request (the port has no daemon: a request would exit 1)."""
    api = f"http://127.0.0.1:{napi.free_port()}"
    cases = [
        (["silences", "add", "--api", api, "--duration", "1h"], "at least one matcher"),
        (["silences", "add", "--api", api, "--node", "n1"], "--duration or --until"),
        (["silences", "add", "--api", api, "--node", "n1", "--duration", "1h", "--until",
          "2030-01-01T00:00:00Z"], "one of them"),
        (["silences", "add", "--api", api, "--node", "n1", "--duration", "soon"], "--duration"),
        (["silences", "add", "--api", api, "--node", "n1", "--duration", "0"], "--duration"),
        (["silences", "add", "--api", api, "--node", "n1", "--until", "tomorrow"], "--until"),
        (["silences", "add", "--api", api, "--node", "n1", "--duration", "1h", "--starts", "x"],
         "--starts"),
        (["silences", "add", "--api", api, "--node", "n1", "--duration", "1h", "extra"],
         "unexpected"),
        (["silences", "add", "--api", api, "--node", "n1", "--duration", "1h", "--at", "x"], ""),
        (["silences", "delete", "--api", api], "id"),
        (["silences", "delete", "--api", api, "a", "b"], "one id"),
        (["silences", "frobnicate", "--api", api], "unknown subcommand"),
        (["silences", "--api", api, "add"], "subcommand"),
        (["silences", "--bogus"], ""),
        (["silences", "--api", "ftp://x"], "http://"),
        (["tunings", "add", "--api", api], "unknown subcommand"),
        (["tunings", "delete", "--api", api], "id"),
        (["tunings", "--api", api, "--timeout", "0"], "--timeout"),
        (["alerts", "--api", api, "--groups", "--status", "active"], "--groups"),
        (["anomalies", "--api", api, "--groups"], "--groups"),
    ]
    for args, words in cases:
        rc, out, err = cli(*args)
        check(rc == 2 and words in err and "--help" in err,
              f"netassure {' '.join(args[:2])} ... {args[-1]}: usage error (exit 2)",
              (args, rc, err))
    for cmd in (["silences"], ["silences", "add"], ["silences", "delete"], ["tunings"],
                ["tunings", "delete"]):
        rc, out, err = cli(*cmd, "--help")
        check(rc == 0 and out.startswith("usage: netassure " + cmd[0]), f"{' '.join(cmd)} --help",
              (rc, out[:200], err))
    rc, out, err = cli("alerts", "--help")
    check(rc == 0 and "--groups" in out, "alerts --help mentions --groups", (rc, out[:300]))
    rc, out, err = cli("--help")
    check(rc == 0 and "silences" in out and "tunings" in out, "netassure --help lists them",
          out)
    # Nothing listening: a runtime error, exit 1.
    rc, out, err = cli("silences", "--api", api, "--timeout", "3000")
    check(rc == 1 and "cannot connect" in err, "no daemon: exit 1, cannot connect", (rc, err))


if __name__ == "__main__":
    sys.exit(main())
