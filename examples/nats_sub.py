#!/usr/bin/env python3
"""Watch the events NetAssure publishes to NATS (docs/nats.md), with the Python standard library
only: the NATS client protocol is a few text lines over TCP.

    examples/nats_sub.py                                   # live, nats://127.0.0.1:4222
    examples/nats_sub.py --url nats://broker:4222 --prefix site1
    examples/nats_sub.py --from-start --count 10 --json    # history from the JetStream stream
    examples/nats_sub.py --subject anomaly.alerts          # one subject only

Live mode subscribes to the subjects (core NATS: what is published while it runs).
--from-start asks the server for an ephemeral JetStream consumer on the stream (default
NETASSURE) that delivers every stored message from the first one, then the new ones.

Each message prints as "SUBJECT MSG-ID PAYLOAD" (one line), or with --json as one JSON object
per line: {"subject": ..., "id": ..., "data": <the payload, parsed>}. --count N exits 0 after
N messages; --timeout S gives up after S seconds (exit 1 when --count was not reached).
Plain TCP only (no TLS, no credentials).
"""
import argparse
import json
import os
import socket
import sys
import time

SUBJECTS = ["anomaly.alerts", "alerts.multi_modal", "bgp.events", "topology.changes"]
MAX_LINE = 64 * 1024          # protocol lines (a control line is short; INFO can be a few KB)
MAX_PAYLOAD = 64 * 1024 * 1024  # NATS' own upper limit of max_payload


class ProtocolError(Exception):
    pass


class Connection:
    """One NATS connection: CONNECT, SUB, PUB, and reading messages one by one."""

    def __init__(self, url, name="nats_sub.py", timeout=None):
        if not url.startswith("nats://"):
            raise ProtocolError("only nats://HOST:PORT URLs are supported")
        hostport = url[len("nats://"):].split(",")[0].rstrip("/")
        host, _, port = hostport.rpartition(":")
        self.sock = socket.create_connection((host.strip("[]") or "127.0.0.1", int(port or 4222)),
                                             timeout=10)
        self.sock.settimeout(timeout)
        self.buf = b""
        line = self._line()
        if not line.startswith(b"INFO "):
            raise ProtocolError("not a NATS server: %r" % line[:80])
        self.info = json.loads(line[5:])
        connect = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True,
                   "lang": "python3", "version": "stdlib", "name": name, "protocol": 1}
        self.send(b"CONNECT " + json.dumps(connect).encode() + b"\r\n")
        self.sid = 0
        self.backlog = []  # messages read while waiting for a reply

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ProtocolError("connection closed by the server")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise ProtocolError("protocol line too long")
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _read(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def subscribe(self, subject):
        self.sid += 1
        self.send(b"SUB %s %d\r\n" % (subject.encode(), self.sid))
        return self.sid

    def publish(self, subject, data, reply=None, headers=None):
        """PUB, or HPUB when there are headers (a dict)."""
        subj = subject.encode() + (b" " + reply.encode() if reply else b"")
        if headers:
            hdr = b"NATS/1.0\r\n" + b"".join(b"%s: %s\r\n" % (k.encode(), v.encode())
                                             for k, v in headers.items()) + b"\r\n"
            self.send(b"HPUB %s %d %d\r\n%s%s\r\n" % (subj, len(hdr), len(hdr) + len(data),
                                                    hdr, data))
        else:
            self.send(b"PUB %s %d\r\n%s\r\n" % (subj, len(data), data))

    def ping(self):
        """Round trip: everything sent before it has been processed by the server."""
        self.send(b"PING\r\n")
        while True:
            msg = self.next(until_pong=True)
            if msg is None:
                return

    def next(self, until_pong=False):
        """The next message as (subject, reply, headers dict, status, payload bytes).
        With until_pong, returns None at the PONG (messages before it are kept)."""
        if self.backlog and not until_pong:
            return self.backlog.pop(0)
        while True:
            line = self._line()
            if line == b"PING":
                self.send(b"PONG\r\n")
            elif line == b"PONG":
                if until_pong:
                    return None
            elif line.startswith(b"-ERR"):
                raise ProtocolError(line.decode(errors="replace"))
            elif line.startswith(b"MSG ") or line.startswith(b"HMSG "):
                parts = line.decode(errors="replace").split(" ")
                headed = parts[0] == "HMSG"
                sizes = 2 if headed else 1
                subject = parts[1]
                reply = parts[3] if len(parts) == 3 + sizes + 1 else None
                total = int(parts[-1])
                hdr_len = int(parts[-2]) if headed else 0
                if total > MAX_PAYLOAD or not 0 <= hdr_len <= total:
                    raise ProtocolError("message too large")
                raw = self._read(total)
                headers, status = parse_headers(raw[:hdr_len]) if headed else ({}, None)
                msg = (subject, reply, headers, status, raw[hdr_len:])
                if not until_pong:
                    return msg
                self.backlog.append(msg)
            # +OK and INFO updates need nothing.

    def close(self):
        self.sock.close()


def parse_headers(block):
    """"NATS/1.0[ status[ description]]\\r\\nKey: Value\\r\\n...\\r\\n\\r\\n" -> (dict, status)."""
    lines = block.decode(errors="replace").split("\r\n")
    first = lines[0].split(" ", 2)
    status = first[1] if len(first) > 1 else None
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()
    return headers, status


def request(conn, subject, payload, inbox):
    """A request on conn (its inbox subscribed); returns the reply's payload parsed."""
    conn.publish(subject, json.dumps(payload).encode(), reply=inbox)
    early = []
    while True:
        msg = conn.next()
        subj, _, _, status, data = msg
        if subj != inbox:
            early.append(msg)  # a message delivered before the reply: keep it
            continue
        conn.backlog[:0] = early
        if status == "503":
            raise ProtocolError("no JetStream at this server (no responders on %s)" % subject)
        reply = json.loads(data)
        if "error" in reply:
            raise ProtocolError("%s: %s" % (subject, reply["error"].get("description")))
        return reply


def full_subject(prefix, subject):
    if not prefix:
        return subject
    return prefix + ("" if prefix.endswith(".") else ".") + subject


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    ap.add_argument("--prefix", default="", help="the daemon's nats.subject_prefix")
    ap.add_argument("--subject", action="append", choices=SUBJECTS,
                    help="only this subject (repeatable; default: all four)")
    ap.add_argument("--from-start", action="store_true",
                    help="read the JetStream stream from its first message, then follow it")
    ap.add_argument("--stream", default="NETASSURE", help="the daemon's nats.stream")
    ap.add_argument("--count", type=int, default=0, help="exit after N messages")
    ap.add_argument("--timeout", type=float, default=0, help="give up after S seconds")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    args = ap.parse_args(argv)

    subjects = [full_subject(args.prefix, s) for s in (args.subject or SUBJECTS)]
    deadline = time.monotonic() + args.timeout if args.timeout > 0 else None
    seen = 0
    try:
        conn = Connection(args.url)
        if args.from_start:
            inbox = "_INBOX.nats_sub.%s" % os.urandom(8).hex()
            deliver = inbox + ".deliver"
            conn.subscribe(inbox)
            conn.subscribe(deliver)
            config = {"deliver_subject": deliver, "deliver_policy": "all",
                      "ack_policy": "none", "replay_policy": "instant"}
            if len(subjects) == 1:
                config["filter_subject"] = subjects[0]
            request(conn, "$JS.API.CONSUMER.CREATE." + args.stream,
                    {"stream_name": args.stream, "config": config}, inbox)
            wanted = set(subjects)
        else:
            for s in subjects:
                conn.subscribe(s)
            wanted = None
            conn.ping()
        print("subscribed to %s at %s%s" % (", ".join(subjects), args.url,
                                            " (stream %s from the start)" % args.stream
                                            if args.from_start else ""),
              file=sys.stderr, flush=True)
        while not args.count or seen < args.count:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                conn.sock.settimeout(left)
            subject, _, headers, status, data = conn.next()
            if status is not None or (wanted is not None and subject not in wanted):
                continue  # flow control / heartbeats, or another subject of the stream
            msg_id = headers.get("Nats-Msg-Id", "-")
            if args.json:
                try:
                    payload = json.loads(data)
                except ValueError:
                    payload = data.decode(errors="replace")
                print(json.dumps({"subject": subject, "id": msg_id, "data": payload}),
                      flush=True)
            else:
                print(subject, msg_id, data.decode(errors="replace"), flush=True)
            seen += 1
    except socket.timeout:
        if args.count:
            print("timed out after %d of %d messages" % (seen, args.count), file=sys.stderr)
            return 1
        return 0
    except (OSError, ProtocolError, ValueError) as e:
        print("nats_sub.py: %s" % e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
