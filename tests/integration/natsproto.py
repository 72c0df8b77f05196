"""A minimal NATS client on the standard library, for the integration tests: the text protocol
(INFO / CONNECT / PING / PONG / SUB / UNSUB / PUB / HPUB / MSG / HMSG, docs.nats.io "Client
Protocol") over one socket, synchronous, plus the few JetStream API requests the tests need
($JS.API.STREAM.INFO.<stream> and $JS.API.STREAM.MSG.GET.<stream>, request / reply on a private
inbox).

    nc = Nats("nats://127.0.0.1:4222")
    info = stream_info(nc, "NETASSURE")
    for m in stream_messages(nc, "NETASSURE"):  # every stored message, oldest first
        m["seq"], m["subject"], m["headers"]["Nats-Msg-Id"], m["data"]
    nc.close()
"""
import base64
import json
import os
import socket
import time
import urllib.parse

MAX_PAYLOAD = 64 << 20   # never read a message larger than this (a bad length would hang us)


class NatsError(Exception):
    pass


class Msg:
    def __init__(self, subject, sid, reply, headers, data, status=None):
        self.subject = subject
        self.sid = sid
        self.reply = reply
        self.headers = headers   # dict; {} when the message had none
        self.data = data         # bytes
        self.status = status     # "503" etc. for a status-only HMSG (no responders), else None


def parse_headers(raw):
    """b"NATS/1.0 503\\r\\nK: v\\r\\n\\r\\n" -> ({"K": "v"}, "503" or None)."""
    text = raw.decode("utf-8", "replace")
    lines = text.split("\r\n")
    status = None
    first = lines[0].split(None, 2) if lines else []
    if len(first) >= 2 and first[0].startswith("NATS/"):
        status = first[1]
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs[k.strip()] = v.strip()
    return hdrs, status


class Nats:
    """One connection. Not thread-safe; messages for subscriptions are read by next_msg()."""

    def __init__(self, url, timeout=10.0, name="netassure-tests"):
        u = urllib.parse.urlparse(url)
        if u.scheme not in ("nats", "tcp", ""):
            raise NatsError(f"unsupported URL {url!r}")
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 4222),
                                             timeout=timeout)
        # Requests are small writes answered at once: without this, Nagle's algorithm and the
        # peer's delayed ACK cost 40 ms per request on loopback.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.next_sid = 1
        self.pending = []        # messages read while waiting for something else
        self.resp_prefix = None  # one wildcard subscription for every request's reply
        self.resp_sid = None
        self.next_req = 0
        line = self._line()
        if not line.startswith(b"INFO "):
            raise NatsError(f"expected INFO, got {line[:200]!r}")
        self.info = json.loads(line[5:])
        connect = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
                   "protocol": 1, "name": name, "lang": "python-stdlib", "version": "0"}
        self._send(b"CONNECT " + json.dumps(connect).encode() + b"\r\n")
        self.ping()

    # ---- wire

    def _send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out waiting for the NATS server")
        self.sock.settimeout(left)
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the NATS server closed the connection")
        self.buf += chunk

    def _line(self, deadline=None):
        deadline = deadline or time.monotonic() + self.timeout
        while b"\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise NatsError("protocol line too long")
            self._fill(deadline)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_one(self, deadline):
        """Reads protocol lines until a message (returned) or PONG (returns "PONG")."""
        while True:
            line = self._line(deadline)
            if line.startswith(b"MSG "):
                parts = line.split()
                subject, sid = parts[1].decode(), int(parts[2])
                reply = parts[3].decode() if len(parts) == 5 else None
                n = int(parts[-1])
                if n > MAX_PAYLOAD:
                    raise NatsError(f"message of {n} bytes")
                data = self._exact(n + 2, deadline)[:-2]
                return Msg(subject, sid, reply, {}, data)
            if line.startswith(b"HMSG "):
                parts = line.split()
                subject, sid = parts[1].decode(), int(parts[2])
                reply = parts[3].decode() if len(parts) == 6 else None
                hlen, total = int(parts[-2]), int(parts[-1])
                if total > MAX_PAYLOAD or hlen > total:
                    raise NatsError(f"bad HMSG sizes {hlen} {total}")
                body = self._exact(total + 2, deadline)[:-2]
                hdrs, status = parse_headers(body[:hlen])
                return Msg(subject, sid, reply, hdrs, body[hlen:], status)
            if line == b"PING":
                self._send(b"PONG\r\n")
            elif line == b"PONG":
                return "PONG"
            elif line.startswith(b"-ERR"):
                raise NatsError(line.decode("utf-8", "replace"))
            # +OK, INFO (cluster updates): nothing to do

    # ---- API

    def ping(self, timeout=None):
        """Round trip: every earlier command was processed by the server when it returns."""
        deadline = time.monotonic() + (timeout or self.timeout)
        self._send(b"PING\r\n")
        while True:
            m = self._read_one(deadline)
            if m == "PONG":
                return
            self.pending.append(m)

    def subscribe(self, subject):
        sid = self.next_sid
        self.next_sid += 1
        self._send(f"SUB {subject} {sid}\r\n".encode())
        return sid

    def unsubscribe(self, sid):
        self._send(f"UNSUB {sid}\r\n".encode())

    def publish(self, subject, data=b"", reply=None, headers=None):
        if isinstance(data, str):
            data = data.encode()
        rp = f" {reply}" if reply else ""
        if headers:
            h = "NATS/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            hb = h.encode()
            self._send(f"HPUB {subject}{rp} {len(hb)} {len(hb) + len(data)}\r\n".encode()
                       + hb + data + b"\r\n")
        else:
            self._send(f"PUB {subject}{rp} {len(data)}\r\n".encode() + data + b"\r\n")

    def next_msg(self, timeout=None, sid=None):
        """The next message (of subscription sid, when given); raises socket.timeout."""
        for i, m in enumerate(self.pending):
            if sid is None or m.sid == sid:
                return self.pending.pop(i)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = self._read_one(deadline)
            if m == "PONG":
                continue
            if sid is None or m.sid == sid:
                return m
            self.pending.append(m)

    def _reply_subject(self):
        if self.resp_sid is None:
            self.resp_prefix = "_INBOX." + base64.b32encode(os.urandom(10)).decode().rstrip("=")
            self.resp_sid = self.subscribe(self.resp_prefix + ".*")
        self.next_req += 1
        return f"{self.resp_prefix}.{self.next_req}"

    def requests(self, items, timeout=None):
        """Pipelined requests: items = [(subject, data)], sent together; returns the replies
        (Msg) in the same order. A no-responders status (503) raises NatsError."""
        replies = [self._reply_subject() for _ in items]
        out = bytearray()
        for (subject, data), rp in zip(items, replies):
            if isinstance(data, str):
                data = data.encode()
            out += f"PUB {subject} {rp} {len(data)}\r\n".encode() + data + b"\r\n"
        self._send(bytes(out))
        want = {rp: i for i, rp in enumerate(replies)}
        got = [None] * len(items)
        deadline = time.monotonic() + (timeout or self.timeout)
        left = len(items)
        while left:
            m = self.next_msg(max(deadline - time.monotonic(), 0.001), sid=self.resp_sid)
            i = want.pop(m.subject, None)
            if i is None:
                continue  # a late reply to an earlier request
            if m.status == "503":
                raise NatsError(f"no responders on {items[i][0]}")
            got[i] = m
            left -= 1
        return got

    def request(self, subject, data=b"", timeout=None):
        """Publishes with a private reply subject and returns the first reply (Msg)."""
        return self.requests([(subject, data)], timeout)[0]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- JetStream

def _js_reply(api, m):
    doc = json.loads(m.data) if m.data else {}
    if isinstance(doc, dict) and doc.get("error"):
        e = doc["error"]
        raise NatsError(f"$JS.API.{api}: {e.get('code')} {e.get('err_code')} {e.get('description')}")
    return doc


def js_request(nc, api, body=None, timeout=None):
    """One JetStream API call ($JS.API.<api>); returns the decoded reply, raises NatsError with
    the API's error when it answers one."""
    payload = json.dumps(body).encode() if body is not None else b""
    return _js_reply(api, nc.request("$JS.API." + api, payload, timeout))


def stream_info(nc, stream):
    """$JS.API.STREAM.INFO.<stream>: {"config": {...}, "state": {"messages", "first_seq",
    "last_seq", ...}}."""
    return js_request(nc, "STREAM.INFO." + stream)


def _stored(doc):
    m = doc["message"]
    hdrs = {}
    if m.get("hdrs"):
        hdrs, _ = parse_headers(base64.b64decode(m["hdrs"]))
    return {"seq": m["seq"], "subject": m["subject"], "headers": hdrs,
            "data": base64.b64decode(m.get("data") or ""), "time": m.get("time")}


def _gone(e):
    return "no message found" in str(e) or " 10037 " in str(e)


def stream_message(nc, stream, seq):
    """One stored message by sequence: {"seq", "subject", "headers" (dict), "data" (bytes),
    "time"}, or None when that sequence is gone (deleted or never stored)."""
    try:
        return _stored(js_request(nc, "STREAM.MSG.GET." + stream, {"seq": seq}))
    except NatsError as e:
        if _gone(e):
            return None
        raise


def stream_messages(nc, stream, subject=None, batch=200):
    """Every message the stream holds (of `subject`, when given), oldest first ($JS.API.STREAM.
    MSG.GET per sequence, `batch` requests in flight)."""
    st = stream_info(nc, stream)["state"]
    out = []
    if not st.get("messages"):
        return out
    api = "STREAM.MSG.GET." + stream
    seqs = list(range(st["first_seq"], st["last_seq"] + 1))
    for k in range(0, len(seqs), batch):
        part = seqs[k:k + batch]
        replies = nc.requests([("$JS.API." + api, json.dumps({"seq": s}).encode())
                               for s in part])
        for m in replies:
            try:
                doc = _js_reply(api, m)
            except NatsError as e:
                if _gone(e):
                    continue
                raise
            msg = _stored(doc)
            if subject is None or msg["subject"] == subject:
                out.append(msg)
    return out
