#!/usr/bin/env python3
"""Example client of the NetAssure daemon's REST API (docs/api.md, /openapi.json, /docs).

Does what ../shared/seeds/query_api.py does (status, active alerts, recent anomalies, feedback)
and more: acknowledge an alert, summarise the topology, look at the topology as it was at an
earlier time, diff two times, and follow the /stream WebSocket for a while.

    python3 examples/api_client.py demo                       # the seed's tour, and more
    python3 examples/api_client.py status
    python3 examples/api_client.py alerts --status active
    python3 examples/api_client.py ack ALERT_ID --by alice --notes "on it"
    python3 examples/api_client.py feedback ALERT_ID --false-positive --notes "planned work"
    python3 examples/api_client.py topology --at 2026-11-23T12:00:00Z
    python3 examples/api_client.py diff --from 2026-11-23T12:00:00Z [--to ...]
    python3 examples/api_client.py stream --seconds 30 --kinds topology,alerts

--api (default $NETASSURE_API or http://127.0.0.1:8080) and --token (default $NETASSURE_TOKEN)
go before the command. --json prints the API's JSON instead of text. Exit status: 0 ok, 1 the
API said no (the error is printed), 2 usage.

Needs python3 and requests; the WebSocket part uses only the standard library.
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import time
import urllib.parse
from collections import Counter
from datetime import datetime, timedelta, timezone

import requests


class ApiError(Exception):
    """An HTTP error answer of the API ({"error": {"status", "code", "message"}})."""

    def __init__(self, status, code, message):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class Api:
    def __init__(self, base, token=None, timeout=30):
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()

    def request(self, method, path, params=None, body=None):
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        params = {k: v for k, v in (params or {}).items() if v is not None}
        resp = self.session.request(method, self.base + path, params=params, headers=headers,
                                    json=body, timeout=self.timeout)
        if resp.status_code >= 400:
            try:
                err = resp.json()["error"]
                raise ApiError(err.get("status", resp.status_code), err.get("code", "?"),
                               err.get("message", ""))
            except (ValueError, KeyError, TypeError):
                raise ApiError(resp.status_code, "http_error", resp.text[:200]) from None
        return resp.json() if resp.content else None

    def get(self, path, **params):
        return self.request("GET", path, params=params)

    def post(self, path, body=None):
        return self.request("POST", path, body=body)

    def put(self, path, body):
        return self.request("PUT", path, body=body)


# ------------------------------------------------------------------------- text output

def show_status(st):
    topo, counts = st["topology"], st["counts"]
    print(f"{st['name']} {st['version']}, up {st['uptime_s']:.0f} s, warehouse "
          f"{st['warehouse']['backend']} (schema {st['warehouse']['schema_version']})")
    print(f"topology version {topo['version']}: {topo['nodes']} nodes, {topo['links']} links, "
          f"updated {topo['updated_at']}")
    print(f"alerts: {counts['alerts_active']} active of {counts['alerts_total']}; "
          f"anomalies: {counts['anomalies']}; analytics {st['analytics']['state']} "
          f"(version {st['analytics']['version']})")
    for s in st["sources"]:
        print(f"  source {s['name']}: {s['state']}, {s['nodes']} nodes, {s['links']} links"
              + (f", error: {s['last_error']}" if s.get("last_error") else ""))


def show_alerts(alerts):
    print(f"Found {len(alerts)} alerts.")
    for a in alerts:
        print(f"[{a['status'].upper()}] {a['alert_id'][:8]} {a['severity']:<8} {a['rule']:<20} "
              f"{a['node_id'] or '-'}: {a['message']}")


def show_anomalies(anomalies):
    print(f"Found {len(anomalies)} anomalies.")
    for a in anomalies:
        print(f"ID: {a['anomaly_id'][:8]}, {a['detector']}, score {a['score']:.3f}, "
              f"nodes {', '.join(a['contributing_node_ids'])}")


def show_topology(t):
    nodes, links = t["nodes"], t["links"]
    when = f"as of {t['at']}" if t.get("at") else "live"
    print(f"Topology {t.get('name') or '-'} version {t['version']} ({when}): "
          f"{len(nodes)} nodes, {len(links)} links")
    st = Counter(n.get("status") or "unknown" for n in nodes)
    print("  nodes by status: " + ", ".join(f"{k} {v}" for k, v in sorted(st.items())))
    roles = Counter(n.get("role") or "-" for n in nodes)
    print("  nodes by role: " + ", ".join(f"{k} {v}" for k, v in sorted(roles.items())))
    sites = Counter(n.get("site") or "-" for n in nodes)
    print("  nodes by site: " + ", ".join(f"{k} {v}" for k, v in sorted(sites.items())))
    down = [lk["id"] for lk in links if lk.get("status") == "down"]
    print(f"  links down: {len(down)}" + (f" ({', '.join(down[:10])})" if down else ""))


def show_diff(df):
    s = df["summary"]
    print(f"Diff {df['from']} -> {df['to']}: nodes +{s['nodes_added']} -{s['nodes_removed']} "
          f"~{s['nodes_changed']}, links +{s['links_added']} -{s['links_removed']} ~{s['links_changed']}")
    for it in df["items"]:
        line = f"  {it['kind']} {it['object']} {it['id']}"
        for ch in it.get("changes", []):
            line += f"; {ch['field']}: {json.dumps(ch['before'])} -> {json.dumps(ch['after'])}"
        print(line)


# ------------------------------------------------------------------------- WebSocket (stdlib)

def ws_connect(base, token, path="/stream", timeout=10):
    u = urllib.parse.urlsplit(base)
    host, port = u.hostname, u.port or 80
    sock = socket.create_connection((host, port), timeout=timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    req = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
           "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if token:
        req.append(f"Authorization: Bearer {token}")
    sock.sendall(("\r\n".join(req) + "\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the WebSocket handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    head = head.decode("latin-1")
    if " 101 " not in head.split("\r\n")[0] + " ":
        raise ConnectionError("WebSocket refused: " + head.split("\r\n")[0])
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                              .digest()).decode()
    if accept not in head:
        raise ConnectionError("bad Sec-WebSocket-Accept")
    return sock, rest


def ws_send(sock, text):
    data = text.encode()
    n = len(data)
    hdr = bytes([0x81])
    hdr += bytes([0x80 | n]) if n < 126 else (bytes([0x80 | 126]) + struct.pack("!H", n)
                                              if n < 65536 else bytes([0x80 | 127]) + struct.pack("!Q", n))
    mask = os.urandom(4)
    sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def ws_messages(sock, buf, deadline):
    """Yields text messages until the deadline (monotonic) or the server closes."""
    def need(n):
        nonlocal buf
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
        out, buf = buf[:n], buf[n:]
        return out
    parts = []
    while True:
        try:
            b0, b1 = need(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", need(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", need(8))[0]
            payload = need(n)
        except (TimeoutError, socket.timeout):
            return
        op = b0 & 0x0F
        if op == 0x8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            print(f"stream closed by the server: {code} {payload[2:].decode('utf-8', 'replace')}")
            return
        if op == 0x9:
            mask = os.urandom(4)
            sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask +
                         bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
            continue
        if op in (0x0, 0x1):
            parts.append(payload)
            if b0 & 0x80:
                yield b"".join(parts).decode("utf-8")
                parts = []


def follow_stream(args, out_json):
    sock, rest = ws_connect(args.api, args.token)
    sub = {"subscribe": [k for k in args.kinds.split(",") if k]} if args.kinds else {}
    if args.node:
        sub["filter"] = {"node_id": args.node}
    if args.severity:
        sub.setdefault("filter", {})["severity"] = args.severity
    ws_send(sock, json.dumps(sub))
    deadline = time.monotonic() + args.seconds
    count = 0
    for text in ws_messages(sock, rest, deadline):
        msg = json.loads(text)
        if out_json:
            print(json.dumps(msg), flush=True)
        elif msg.get("type") == "subscribed":
            print(f"subscribed to {', '.join(msg.get('kinds', []))} for {args.seconds:g} s", flush=True)
        elif msg.get("type") == "error":
            print(f"stream error: {msg.get('message')}", flush=True)
        else:
            data = msg.get("data", {})
            brief = ", ".join(f"{k}={v}" for k, v in data.items()
                              if isinstance(v, (str, int, float, bool)) and k != "details")[:160]
            print(f"event {msg.get('type')} at {msg.get('at')}: {brief}", flush=True)
        if msg.get("type") not in ("subscribed", "error"):
            count += 1
    try:
        sock.close()
    except OSError:
        pass
    if not out_json:
        print(f"{count} events in {args.seconds:g} s")


# ------------------------------------------------------------------------- commands

def iso(dt):
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cmd_demo(api, args, out_json):
    """The seed's tour (status, active alerts, anomalies of the last hour, feedback), then an
    acknowledgement, the topology now and a minute ago, and the diff between the two."""
    print("--- System Status ---")
    st = api.get("/status")
    print(json.dumps(st, indent=2)) if out_json else show_status(st)
    print("\n--- Alerts (filter: status=active) ---")
    alerts = api.get("/alerts", status="active")
    show_alerts(alerts)
    since = iso(datetime.now(timezone.utc) - timedelta(hours=1))
    print(f"\n--- Recent Anomalies (since={since}) ---")
    show_anomalies(api.get("/anomalies", since=since))
    if alerts:
        target = alerts[0]
        print(f"\n--- Posting Feedback for Alert {target['alert_id']} ---")
        fb = api.post(f"/alerts/{target['alert_id']}/feedback",
                      {"is_false_positive": False, "notes": args.notes})
        print(f"Feedback submitted successfully ({fb['feedback_id']}).")
        print(f"\n--- Acknowledging Alert {target['alert_id']} ---")
        a = api.post(f"/alerts/{target['alert_id']}/ack", {"by": args.by, "notes": args.notes})
        print(f"Alert {a['alert_id'][:8]} is now {a['status']} (by {a['acknowledged_by']}).")
    print("\n--- Topology now ---")
    show_topology(api.get("/topology"))
    earlier = iso(datetime.now(timezone.utc) - timedelta(seconds=args.ago))
    print(f"\n--- Topology as of {earlier} ---")
    try:
        show_topology(api.get("/topology", at=earlier))
        print(f"\n--- Changes since {earlier} ---")
        show_diff(api.get("/analytics/diff", **{"from": earlier}))
    except ApiError as e:
        print(f"(no history that far back: {e})")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="api_client.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Commands: demo, status, alerts, alert, anomalies, ack, feedback, "
                                       "topology, nodes, diff, whatif, config, stream. "
                                       "`COMMAND --help` for each.")
    p.add_argument("--api", default=os.environ.get("NETASSURE_API", "http://127.0.0.1:8080"),
                   help="base URL of the daemon (default: $NETASSURE_API or http://127.0.0.1:8080)")
    p.add_argument("--token", default=os.environ.get("NETASSURE_TOKEN"),
                   help="bearer token (api.token of the daemon; default: $NETASSURE_TOKEN)")
    p.add_argument("--json", action="store_true", help="print the API's JSON instead of text")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("demo", help="the seed's tour and more (default command)")
    d.add_argument("--notes", default="Confirmed via the example client.", help="feedback/ack notes")
    d.add_argument("--by", default="api_client.py", help="who acknowledges")
    d.add_argument("--ago", type=float, default=60, help="seconds back for the time-travel part")
    sub.add_parser("status", help="daemon, topology and warehouse state")
    a = sub.add_parser("alerts", help="list alerts, newest first")
    a.add_argument("--status", choices=["active", "acknowledged", "resolved"])
    a.add_argument("--severity", choices=["critical", "major", "minor", "warning", "info"])
    a.add_argument("--node", help="only alerts about this node")
    a.add_argument("--since", help="RFC 3339 time")
    a.add_argument("--limit", type=int)
    a.add_argument("--at", help="as of this RFC 3339 time")
    a1 = sub.add_parser("alert", help="one alert with its feedback and history")
    a1.add_argument("alert_id")
    a1.add_argument("--at")
    an = sub.add_parser("anomalies", help="list anomalies, newest first")
    an.add_argument("--since")
    an.add_argument("--detector")
    an.add_argument("--at")
    k = sub.add_parser("ack", help="acknowledge an alert")
    k.add_argument("alert_id")
    k.add_argument("--by")
    k.add_argument("--notes")
    f = sub.add_parser("feedback", help="tell whether an alert was a false positive")
    f.add_argument("alert_id")
    g = f.add_mutually_exclusive_group(required=True)
    g.add_argument("--false-positive", dest="fp", action="store_true")
    g.add_argument("--confirmed", dest="fp", action="store_false")
    f.add_argument("--notes")
    t = sub.add_parser("topology", help="topology summary (now, or --at an earlier time)")
    t.add_argument("--at")
    n = sub.add_parser("nodes", help="list nodes (filters: --role, --site, --status)")
    n.add_argument("--role")
    n.add_argument("--site")
    n.add_argument("--status", choices=["up", "down", "unknown"])
    n.add_argument("--at")
    df = sub.add_parser("diff", help="changes between the topology at two times")
    df.add_argument("--from", dest="from_", required=True, help="RFC 3339 time")
    df.add_argument("--to", help="RFC 3339 time (default now)")
    w = sub.add_parser("whatif", help="what if these nodes / links failed")
    w.add_argument("fail", nargs="+", help="node ids, link ids or A-B")
    c = sub.add_parser("config", help="show branding and banners")
    c.add_argument("--at")
    s = sub.add_parser("stream", help="print /stream events for a while")
    s.add_argument("--seconds", type=float, default=10)
    s.add_argument("--kinds", default="", help="comma list of topology,analytics,alerts,anomalies "
                                               "(default: all)")
    s.add_argument("--node", action="append", help="only events about this node (repeatable)")
    s.add_argument("--severity", action="append", help="only alerts of this severity (repeatable)")

    args = p.parse_args(argv)
    cmd = args.command or "demo"
    if args.command is None:
        args = p.parse_args((argv or sys.argv[1:]) + ["demo"])
    api = Api(args.api, args.token)
    out_json = args.json

    def emit(doc, text_fn):
        if out_json:
            print(json.dumps(doc, indent=2))
        else:
            text_fn(doc)

    try:
        if cmd == "demo":
            return cmd_demo(api, args, out_json)
        if cmd == "status":
            emit(api.get("/status"), show_status)
        elif cmd == "alerts":
            emit(api.get("/alerts", status=args.status, severity=args.severity, node_id=args.node,
                         since=args.since, limit=args.limit, at=args.at), show_alerts)
        elif cmd == "alert":
            a = api.get(f"/alerts/{args.alert_id}", at=args.at)
            def text(a):
                show_alerts([a])
                for h in a["history"]:
                    print(f"  {h['status']:<13} {h['valid_from']} .. {h['valid_to'] or 'now'}")
                for fb in a["feedback"]:
                    print(f"  feedback {fb['created_at']}: "
                          f"{'false positive' if fb['is_false_positive'] else 'confirmed'}"
                          + (f" - {fb['notes']}" if fb.get("notes") else ""))
            emit(a, text)
        elif cmd == "anomalies":
            emit(api.get("/anomalies", since=args.since, detector=args.detector, at=args.at),
                 show_anomalies)
        elif cmd == "ack":
            emit(api.post(f"/alerts/{args.alert_id}/ack", {"by": args.by, "notes": args.notes}),
                 lambda a: print(f"Alert {a['alert_id']} is now {a['status']}"
                                 f" (by {a['acknowledged_by'] or '-'})."))
        elif cmd == "feedback":
            emit(api.post(f"/alerts/{args.alert_id}/feedback",
                          {"is_false_positive": args.fp, "notes": args.notes}),
                 lambda fb: print(f"Feedback {fb['feedback_id']} stored on alert {fb['alert_id']}."))
        elif cmd == "topology":
            emit(api.get("/topology", at=args.at), show_topology)
        elif cmd == "nodes":
            emit(api.get("/nodes", role=args.role, site=args.site, status=args.status, at=args.at),
                 lambda ns: [print(f"{x['id']:<24} {x.get('status') or 'unknown':<7} {x.get('role') or '-':<10} "
                                   f"{x.get('site') or '-':<8} {x.get('label') or ''}") for x in ns])
        elif cmd == "diff":
            emit(api.get("/analytics/diff", **{"from": args.from_, "to": args.to}), show_diff)
        elif cmd == "whatif":
            emit(api.post("/analytics/whatif", {"fail": args.fail}),
                 lambda r: print(f"failing {', '.join(r['failed']['nodes'] + [lk['source'] + '-' + lk['target'] for lk in r['failed']['links']])}: "
                                 f"components {r['components_before']} -> {r['components_after']}, "
                                 f"giant {r['giant_before']} -> {r['giant_after']}, efficiency "
                                 f"{r['efficiency_before']:.4f} -> {r['efficiency_after']:.4f}, "
                                 f"{r['pairs_disconnected']} pairs disconnected"))
        elif cmd == "config":
            emit(api.get("/config", at=args.at),
                 lambda c: (print(f"{c['branding']['product_name']} (primary "
                                  f"{c['branding']['primary_color']}, accent {c['branding']['accent_color']})"),
                            [print(f"banner {b['id']} [{b['level']}]: {b['text']}") for b in c["banners"]]))
        elif cmd == "stream":
            follow_stream(args, out_json)
    except ApiError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (requests.RequestException, OSError) as e:
        print(f"error: cannot reach {args.api}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
