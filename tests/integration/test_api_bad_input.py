#!/usr/bin/python3
"""The REST API under bad input: malformed and mistyped JSON bodies, missing members, bodies over
1 MiB (413), wrong Content-Type (415), unknown routes (404), wrong methods (405 + Allow), bad
?at= / limit / since / filter values (400), broken HTTP and WebSocket traffic, and bearer-token
auth (401 + WWW-Authenticate). Every answer is checked against docs/openapi.json; afterwards the
daemon still answers /status, never said 500, and stops cleanly."""
import json
import os
import socket
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
from napi import check  # noqa: E402

TOKEN = "s3cret-token-for-tests"
MIB = 1 << 20


def error_code(r):
    doc = r.doc if isinstance(r.doc, dict) else {}
    err = doc.get("error")
    return err.get("code") if isinstance(err, dict) else None


def main():
    napi.check_document_refs()
    d = napi.Daemon(token=TOKEN)
    d.copy_example("clos-fabric.json")
    d.config = napi.make_config([{"name": "fabric", "type": "file", "path": "clos-fabric.json",
                                  "watch": True, "interval": "1s"}], token=TOKEN,
                                protect_reads=False)
    raw_5xx = []
    if not napi.run_with_daemon(d, lambda dd: run(dd, raw_5xx), "daemon survived everything"):
        return napi.finish("test_api_bad_input")
    check(not raw_5xx, "no 5xx on raw requests", raw_5xx)
    protect_reads()
    return napi.finish("test_api_bad_input")


def run(d, raw_5xx):
    c = d.client()            # with the token
    anon = d.client(token=None)
    if not napi.wait_analysed(c, 1):
        return
    alerts = c.doc("/alerts") or []
    if not check(alerts, "the fabric raises at least one alert (importance-low rule)"):
        return
    aid = alerts[0]["alert_id"]
    fb = f"/alerts/{aid}/feedback"
    ack = f"/alerts/{aid}/ack"
    json_h = {"Content-Type": "application/json"}

    # ------------------------------------------------------------ malformed JSON -> 400
    for body in (b"{", b'{"is_false_positive": tru', b"[]", b"null", b'"text"', b"42",
                 b'{"is_false_positive": true,}', b"{'is_false_positive': true}",
                 b'{"is_false_positive": true} trailing', b'{"notes": "\xff\xfe"}',
                 b"[" * 100000 + b"]" * 100000, b"\x00\x01\x02", b" "):
        r = c.call("POST", fb, data=body, headers=json_h, expect=400, what=f"feedback body {body[:30]!r}")
        check(error_code(r) == "bad_request", f"malformed body {body[:20]!r}: code bad_request", r.text[:200])
    for path in (ack, "/analytics/whatif", "/config"):
        method = "PUT" if path == "/config" else "POST"
        c.call(method, path, data=b'{"oops"', headers=json_h, expect=400, what=f"{method} {path} malformed")

    # ------------------------------------------------------------ wrong types, missing members -> 400
    for body in ({"is_false_positive": "yes"}, {"is_false_positive": 1}, {"is_false_positive": None},
                 {"is_false_positive": [True]}, {"is_false_positive": True, "notes": 5},
                 {"is_false_positive": True, "notes": {"a": 1}}, {}, {"notes": "no flag"}):
        r = c.post(fb, body, expect=400, what=f"feedback {json.dumps(body)}")
        msg = (((r.doc if isinstance(r.doc, dict) else {}).get("error")) or {}).get("message", "")
        field = "notes" if "is_false_positive" in body and body.get("is_false_positive") is True else "is_false_positive"
        check(field in msg, f"feedback {json.dumps(body)}: message names {field}", msg)
    for body in ({"by": 5}, {"notes": ["x"]}, [], "x"):
        c.post(ack, body, expect=400, what=f"ack {json.dumps(body)}")
    for body in ({"fail": "spine-01"}, {"fail": [1, 2]}, {"fail": [None]}, {"fail": [""]}, {"nofail": []},
                 {"fail": []}, {"fail": ["x"] * 1001}):
        c.post("/analytics/whatif", body, expect=400, what=f"whatif {json.dumps(body)[:60]}")
    for body in ({"branding": "red"}, {"branding": {"product_name": ""}}, {"banners": [{}]},
                 {"banners": [{"id": "x", "level": "info"}]}, {"branding": {"product_name": "x", "primary_color": "#12345"}},
                 {"branding": {"product_name": "x", "logo_url": 7}}, [], {"banners": [{"id": "x", "level": "info", "text": "t", "ends_at": "2026-13-01T00:00:00Z"}]}):
        c.put("/config", body, expect=400, what=f"PUT /config {json.dumps(body)[:60]}")
    # Nothing of that was stored.
    one = c.doc(f"/alerts/{aid}") or {}
    check(one.get("feedback") == [] and one.get("status") == alerts[0]["status"],
          "rejected writes stored nothing", (one.get("feedback"), one.get("status")))
    # Good ones still work, with a charset parameter too.
    c.call("POST", fb, data=json.dumps({"is_false_positive": False, "notes": "ok \u00e9\u4e2d"}).encode(),
           headers={"Content-Type": "application/json; charset=utf-8"}, expect=201)
    one = c.doc(f"/alerts/{aid}") or {}
    check([f.get("notes") for f in one.get("feedback", [])] == ["ok \u00e9\u4e2d"], "UTF-8 notes round-trip",
          one.get("feedback"))

    # ------------------------------------------------------------ 415
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                  "application/jsonx", "text/json"):
        r = c.call("POST", fb, data=b'{"is_false_positive": true}', headers={"Content-Type": ctype},
                   expect=415, what=f"feedback as {ctype}")
        check(error_code(r) == "unsupported_media_type", f"{ctype}: code", r.text[:200])
    c.call("PUT", "/config", data=b'{"banners": []}', headers={"Content-Type": "text/plain"}, expect=415)
    c.call("POST", "/analytics/whatif", data=b'{"fail": ["spine-01"]}', headers={"Content-Type": "text/xml"},
           expect=415)
    c.call("POST", fb, data=b'{"is_false_positive": true}', headers={"Content-Type": ""},
           expect=415, what="feedback with an empty Content-Type")

    # ------------------------------------------------------------ 413
    big = b'{"is_false_positive": true, "notes": "' + b"a" * (MIB + 100) + b'"}'
    head = (f"POST {fb} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(big)}\r\nConnection: close\r\n\r\n").encode()
    status, hdrs, body, note = napi.raw_request(d.port, head, [big[i:i + 65536] for i in range(0, len(big), 65536)])
    check(status == 413, "a body over 1 MiB is 413", f"status {status} {note} {body[:200]!r}")
    if status == 413:
        try:
            doc = json.loads(body)
            check(doc["error"]["code"] == "payload_too_large" and doc["error"]["status"] == 413,
                  "413 body", doc)
        except (ValueError, KeyError, TypeError):
            check(False, "413 body is the JSON error", body[:200])
    # Declared too large, nothing sent: the answer must come from the header alone.
    head = (f"PUT /config HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {64 * MIB}\r\n\r\n").encode()
    status, _, body, note = napi.raw_request(d.port, head, timeout=15)
    check(status == 413, "Content-Length of 64 MiB is answered 413 without the body", f"{status} {note}")
    for path in ("/analytics/whatif", ack):
        big = b'{"fail": [' + b'"x",' * (MIB // 4 + 10) + b'"x"]}'
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(big)}\r\nConnection: close\r\n\r\n").encode()
        status, _, body, note = napi.raw_request(d.port, head, [big])
        check(status == 413, f"POST {path} with a body over 1 MiB is 413", f"{status} {note} {body[:100]!r}")
    # Exactly 1 MiB is not too large (it may still be refused for its content).
    exact = b'{"is_false_positive": true, "notes": "'
    exact += b"b" * (MIB - len(exact) - 2) + b'"}'
    assert len(exact) == MIB
    r = c.call("POST", fb, data=exact, headers=json_h, expect=(201, 400), what="feedback of exactly 1 MiB")

    # ------------------------------------------------------------ 404
    for path in ("/nope", "/alerts/x/y/z", "/status/extra", "/STATUS", "/alerts/%2e%2e/%2e%2e/etc/passwd",
                 "/api/status", "/analytics", "/nodes/spine-01/links", "/" + "z" * 4000, "/openapi.yaml",
                 "/stream/x", "/alerts/" + aid + "/nope"):
        r = c.get(path, expect=404, what=f"GET {path[:50]}")
        check(error_code(r) == "not_found", f"{path[:40]}: code not_found", r.text[:200])
    c.post("/nope", {"a": 1}, expect=404)
    c.get("/alerts/" + "f" * 32, expect=404)
    c.get("/alerts/not-an-id", expect=404)

    # ------------------------------------------------------------ 405
    for method, path in (("DELETE", "/status"), ("POST", "/status"), ("PUT", "/alerts"), ("POST", "/alerts"),
                         ("GET", ack), ("GET", fb), ("DELETE", f"/alerts/{aid}"), ("POST", "/config"),
                         ("DELETE", "/config"), ("GET", "/analytics/whatif"), ("POST", "/analytics/diff"),
                         ("POST", "/analytics/centrality"), ("PATCH", "/nodes"), ("PUT", "/topology"),
                         ("POST", "/openapi.json"), ("POST", "/docs"), ("PUT", "/nodes/spine-01"),
                         ("POST", "/links"), ("POST", "/clusters"), ("POST", "/metrics"), ("POST", "/anomalies")):
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        r = c.call(method, path, data=body, headers=json_h if body else None, expect=405,
                   what=f"{method} {path}")
        check(error_code(r) == "method_not_allowed" and r.headers.get("Allow"),
              f"{method} {path}: 405 with Allow", (r.status_code, r.headers.get("Allow")))

    # ------------------------------------------------------------ bad ?at=
    reads = ["/status", "/alerts", "/anomalies", "/topology", "/nodes", "/nodes/spine-01", "/links",
             "/clusters", "/analytics/centrality", "/analytics/robustness", "/metrics", "/config",
             f"/alerts/{aid}", "/analytics/diff?from=2026-01-01T00:00:00Z"]
    bad_times = ["yesterday", "2026-13-01T00:00:00Z", "", "9" * 3000, "2026-02-30T00:00:00Z",
                 "2026-11-23T25:00:00Z", "2026-11-23T12:00:00+25:00", "1",
                 "2026-11-23T12:00:00Z junk", "2026-11-23", "-1", "now"]
    for path in reads:
        for t in bad_times:
            sep = "&" if "?" in path else "?"
            from urllib.parse import quote
            r = c.get(path + sep + "at=" + quote(t, safe=""), expect=400, what=f"GET {path} at={t[:25]!r}")
            check(error_code(r) == "bad_request", f"{path} at={t[:20]!r}: code", r.text[:150])
    # A NUL byte in the URL (%00): libwebsockets 4.1 refuses it while parsing the request line,
    # before any handler runs, by closing the connection (documented in docs/api.md). What we
    # require: no 500, no crash, and the next request is answered.
    try:
        r = requests.get(c.base + "/topology?at=%00", timeout=30)
        check(r.status_code in (400, 403), "GET /topology?at=%00: refused", r.status_code)
    except requests.RequestException:
        pass  # connection closed by the HTTP library: acceptable, see above
    c.get("/status", expect=200, what="GET /status after a NUL in the URL")
    # Good forms are accepted.
    for t in ("2026-11-23T12:00:00Z", "2026-11-23T12:00:00.5Z", "2026-11-23T12:00:00.123456+02:00",
              "2026-11-23T13:00:00-01:30", "2026-11-23t12:00:00z"):
        c.get("/topology", {"at": t}, expect=200, what=f"GET /topology at={t}")

    # ------------------------------------------------------------ bad limit / since / filters
    for path in ("/alerts", "/anomalies", "/metrics"):
        for lim in ("0", "-1", "abc", "10001", "1e3", "", "99999999999999999999", "1.5", " 5"):
            c.get(path, {"limit": lim}, expect=400, what=f"GET {path} limit={lim!r}")
        c.get(path, {"limit": "10000"}, expect=200)
        c.get(path, {"since": "yesterday"}, expect=400)
    c.get("/metrics", {"until": "2026-99-01T00:00:00Z"}, expect=400)
    c.get("/alerts", {"status": "bogus"}, expect=400)
    # An unknown value of a plain filter: the spec does not say 400; an empty answer is fine too.
    for path, params in (("/alerts", {"severity": "apocalyptic"}), ("/nodes", {"status": "sideways"}),
                         ("/links", {"status": "sideways"})):
        r = c.get(path, params, expect=(200, 400))
        check(r.status_code == 400 or r.doc == [], f"GET {path} {params}: 400 or nothing matches", r.text[:200])
    c.get("/analytics/diff", expect=400)
    c.get("/analytics/diff", {"from": "last week"}, expect=400)
    c.get("/analytics/diff", {"from": "2026-01-01T00:00:00Z", "to": "tomorrow"}, expect=400)
    c.get("/alerts?limit=5&limit=6", expect=(200, 400), what="duplicate limit")
    c.get("/alerts?%zz=1", expect=(200, 400), what="bad percent-encoding in the query")

    # ------------------------------------------------------------ auth
    n_feedback = len((c.doc(f"/alerts/{aid}") or {}).get("feedback", []))
    for method, path, body in (("POST", fb, {"is_false_positive": True}), ("POST", ack, {}),
                               ("POST", "/analytics/whatif", {"fail": ["spine-01"]}),
                               ("PUT", "/config", {"banners": []})):
        for tok, label in ((None, "without a token"), ("wrong", "with a wrong token"), ("", "with an empty token"),
                           (TOKEN + "x", "with a longer token"), (TOKEN[:-1], "with a prefix of the token")):
            r = c.call(method, path, json_body=body, token=tok, expect=401, what=f"{method} {path} {label}")
            check(error_code(r) == "unauthorized" and r.headers.get("WWW-Authenticate", "").startswith("Bearer"),
                  f"{method} {path} {label}: 401 + WWW-Authenticate: Bearer",
                  (r.status_code, r.headers.get("WWW-Authenticate")))
        r = c.call(method, path, json_body=body, token=None,
                   headers={"Authorization": f"Basic {TOKEN}"}, expect=401, what=f"{method} {path} Basic")
    one = c.doc(f"/alerts/{aid}") or {}
    check(len(one.get("feedback", [])) == n_feedback and one.get("status") == alerts[0]["status"],
          "unauthorized writes changed nothing", one)
    c.post(fb, {"is_false_positive": True, "notes": "with token"}, expect=201)
    c.post(ack, {"by": "ops"}, expect=200)
    c.post("/analytics/whatif", {"fail": ["spine-01"]}, expect=200)
    c.put("/config", {"banners": []}, expect=200)
    for path in ("/status", "/alerts", "/topology", "/config", "/openapi.json", "/docs"):
        anon.get(path, expect=200, what=f"GET {path} without a token (reads open)")

    # ------------------------------------------------------------ broken HTTP
    port = d.port
    for data in (b"GARBAGE\r\n\r\n", b"GET /status HTTP/1.1\r\n" + b"X-Big: " + b"h" * 20000 + b"\r\n\r\n",
                 b"GET /" + b"p" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"POST " + fb.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"POST " + fb.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                 b"\xff\xfe\xfd\r\n\r\n"):
        status, _, body, note = napi.raw_request(port, data, timeout=10)
        if status is not None and status >= 500:
            raw_5xx.append((data[:40], status))
        check(status is None or 400 <= status < 500, f"raw {data[:30]!r}: 4xx or closed", f"{status} {note}")
    # A request cut short, then a close.
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"POST " + fb.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"is_")
    s.close()
    # Many connections opened and dropped.
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(50)]
    for s in socks:
        s.close()

    # ------------------------------------------------------------ broken WebSocket
    try:
        ws = napi.WebSocket("127.0.0.1", port)
        ws.send_text("{")
        msg = ws.recv_json(10)
        check(msg.get("type") == "error", "malformed stream message -> error", msg)
        ws.send_json({"subscribe": ["nonsense"]})
        msg = ws.recv_json(10)
        check(msg.get("type") == "error", "unknown stream kind -> error", msg)
        ws.send_json({"subscribe": "topology"})
        msg = ws.recv_json(10)
        check(msg.get("type") == "error", "subscribe not a list -> error", msg)
        napi.check_stream_message(msg, "error reply")
        ws.send_text("x" * (200 * 1024))   # over the 64 KiB message cap: the server may close
        try:
            ws.recv_text(5)
        except (napi.WSClosed, ConnectionError, socket.timeout, OSError):
            pass
        ws.close()
    except (OSError, ValueError, napi.WSClosed) as e:
        check(False, "WebSocket bad-input exchange", repr(e))
    try:
        napi.WebSocket("127.0.0.1", port, path="/nope").close()
        check(False, "WebSocket upgrade on an unknown path is refused")
    except (ConnectionError, OSError):
        pass

    # ------------------------------------------------------------ still alive, never 500
    time.sleep(0.5)
    check(d.alive(), "daemon process alive after the bad input")
    r = c.get("/status", expect=200)
    check(r.doc and r.doc["topology"]["nodes"] == 12, "/status still answers with the topology")
    check(c.server_errors == [] and anon.server_errors == [], "no 5xx answers at all",
          c.server_errors + anon.server_errors)
    print(f"bad input: {c.calls + anon.calls} requests checked", flush=True)


def protect_reads():
    """With api.protect_reads, reads need the token too."""
    d = napi.Daemon(token=TOKEN)
    d.copy_example("topology-snapshot.json")
    d.config = napi.make_config([{"name": "eu", "type": "file", "path": "topology-snapshot.json"}],
                                token=TOKEN, protect_reads=True)
    try:
        d.start()
    except RuntimeError as e:
        check(False, "daemon with protect_reads starts", str(e))
        return
    try:
        anon = d.client(token=None)
        c = d.client()
        for path in ("/status", "/alerts", "/topology", "/nodes", "/config", "/metrics"):
            r = anon.get(path, expect=401, what=f"GET {path} without a token (protect_reads)")
            check(r.headers.get("WWW-Authenticate", "").startswith("Bearer"), f"{path}: WWW-Authenticate")
            anon.get(path, token="nope", expect=401, what=f"GET {path} wrong token (protect_reads)")
            c.get(path, expect=200, what=f"GET {path} with the token (protect_reads)")
        try:
            napi.WebSocket("127.0.0.1", d.port).close()
            check(False, "WebSocket without a token is refused when reads are protected")
        except (ConnectionError, OSError):
            pass
        ws = napi.WebSocket("127.0.0.1", d.port, token=TOKEN)
        ws.close()
        ws = napi.WebSocket("127.0.0.1", d.port, path=f"/stream?access_token={TOKEN}")
        ws.send_json({"subscribe": ["topology"]})
        check(ws.recv_json(10).get("type") == "subscribed", "stream with ?access_token= works")
        ws.close()
        try:
            napi.WebSocket("127.0.0.1", d.port, path="/stream?access_token=wrong").close()
            check(False, "WebSocket with a wrong ?access_token= is refused")
        except (ConnectionError, OSError):
            pass
    except (OSError, ValueError) as e:
        check(False, "protect_reads checks", repr(e))
    finally:
        d.stop()


if __name__ == "__main__":
    sys.exit(main())
