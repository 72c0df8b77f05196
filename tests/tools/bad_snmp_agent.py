#!/usr/bin/env python3
"""
bad_snmp_agent.py: a small SNMPv2c agent (Python 3 stdlib only, hand-written BER) that
misbehaves on purpose, for the collector's tests (tests/unit/test_snmp_collect.c).

The community string selects the behaviour:
  public     a normal small device: system group, a 3-port ifTable / ifXTable
  silent     never answers
  loop       GETNEXT / GETBULK inside ifTable jump back to ifIndex.1 once past ifDescr.3
  nosuch     GET: noSuchObject / noSuchInstance for everything but sysName;
             GETNEXT / GETBULK: noSuchObject for every OID asked
  wrongtype  ifOperStatus as OCTET STRING, ifHCInOctets as INTEGER, sysUpTime as OCTET STRING
  truncated  answers GET and the first GETBULK of a table; a request that continues a walk
             gets a truncated datagram and a garbage one, never a real answer
  dupindex   two ifTable rows whose ifIndex value is the same (1)
  wrap       ifInOctets.1 (Counter32) starts 1000 below 2^32 and grows by 3000 per read,
             so the second poll sees it wrapped
  toobig     a GETBULK asking for more than 8 varbinds (varbinds x max-repetitions) gets
             error-status tooBig

Usage: bad_snmp_agent.py [PORT]   (none or 0: a free port on 127.0.0.1)
Prints the port on stdout once ready. Exits on SIGTERM or when its parent process is gone.
"""
import bisect
import os
import socket
import sys
import time

SYS = (1, 3, 6, 1, 2, 1, 1)
IF = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
GET, GETNEXT, RESPONSE, GETBULK = 0xA0, 0xA1, 0xA2, 0xA5
NOSUCHOBJECT, NOSUCHINSTANCE, ENDOFMIBVIEW = b"\x80\x00", b"\x81\x00", b"\x82\x00"
MAX_VARBINDS = 60  # per answer, like a real agent's message-size limit
START = time.monotonic()

# ---- BER -----------------------------------------------------------------------------------


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + body


def enc_int(tag, v):
    size = 1
    while True:
        try:
            return tlv(tag, v.to_bytes(size, "big", signed=True))
        except OverflowError:
            size += 1


def enc_uint(tag, v):
    # one spare bit so the top bit is never set: unsigned values stay positive
    return tlv(tag, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big"))


def enc_oid(oid):
    body = bytearray([oid[0] * 40 + oid[1]])
    for sub in oid[2:]:
        chunk = [sub & 0x7F]
        sub >>= 7
        while sub:
            chunk.append(0x80 | (sub & 0x7F))
            sub >>= 7
        body += bytes(reversed(chunk))
    return tlv(0x06, bytes(body))


def dec(buf, pos):
    """One TLV at pos: (tag, start of value, end of value). Raises on truncation."""
    tag, n = buf[pos], buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise ValueError("bad length")
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    if pos + n > len(buf):
        raise ValueError("truncated")
    return tag, pos, pos + n


def dec_int(b):
    return int.from_bytes(b, "big", signed=True)


def dec_oid(b):
    oid = [min(b[0] // 40, 2), b[0] - 40 * min(b[0] // 40, 2)]
    v = 0
    for x in b[1:]:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            oid.append(v)
            v = 0
    return tuple(oid)


def parse(msg):
    """-> (version, community, pdu type, request id, field1, field2, [oids])"""
    tag, p, _ = dec(msg, 0)
    fields = []
    for _ in range(2):
        _, a, b = dec(msg, p)
        fields.append(msg[a:b])
        p = b
    ptype, p, _ = dec(msg, p)
    nums = []
    for _ in range(3):
        _, a, b = dec(msg, p)
        nums.append(dec_int(msg[a:b]))
        p = b
    _, p, end = dec(msg, p)
    oids = []
    while p < end:
        _, q, vb_end = dec(msg, p)
        _, a, b = dec(msg, q)
        oids.append(dec_oid(msg[a:b]))
        p = vb_end
    return dec_int(fields[0]), fields[1].decode("latin-1"), ptype, nums[0], nums[1], nums[2], oids


def response(version, community, reqid, varbinds, errstat=0):
    vbl = b"".join(tlv(0x30, enc_oid(o) + v) for o, v in varbinds)
    pdu = tlv(RESPONSE, enc_int(0x02, reqid) + enc_int(0x02, errstat) + enc_int(0x02, 0) +
              tlv(0x30, vbl))
    return tlv(0x30, enc_int(0x02, version) + tlv(0x04, community.encode("latin-1")) + pdu)


# ---- the device ----------------------------------------------------------------------------


def octets(s):
    return tlv(0x04, s.encode() if isinstance(s, str) else s)


def integer(v):
    return enc_int(0x02, v)


class Device:
    def __init__(self, mode):
        self.mode = mode
        self.wrap_reads = 0
        m = {
            SYS + (1, 0): octets("NetAssure bad agent (%s)" % mode),
            SYS + (2, 0): enc_oid((1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)),
            SYS + (3, 0): lambda: enc_uint(0x43, int((time.monotonic() - START) * 100)),
            SYS + (4, 0): octets("noc@example.net"),
            SYS + (5, 0): octets("bad-" + mode),
            SYS + (6, 0): octets("test bench"),
        }
        for i, name in ((1, "eth0"), (2, "eth1"), (3, "eth2")):
            m[IF + (1, i)] = integer(i)
            m[IF + (2, i)] = octets(name)
            m[IF + (3, i)] = integer(6)
            m[IF + (5, i)] = enc_uint(0x42, 1000000000)
            m[IF + (7, i)] = integer(1)
            m[IF + (8, i)] = integer(1 if i != 3 else 2)
            m[IF + (10, i)] = enc_uint(0x41, 1000 * i)
            m[IF + (16, i)] = enc_uint(0x41, 2000 * i)
            m[IFX + (1, i)] = octets(name)
            m[IFX + (6, i)] = enc_uint(0x46, 10**12 * i)
            m[IFX + (15, i)] = enc_uint(0x42, 1000)
        if mode == "wrongtype":
            m[SYS + (3, 0)] = octets("up 3 days")
            for i in (1, 2, 3):
                m[IF + (8, i)] = octets("up")
                m[IFX + (6, i)] = integer(-5 * i)
        elif mode == "dupindex":
            m[IF + (1, 2)] = integer(1)
        elif mode == "wrap":
            m[IF + (10, 1)] = self.wrapping
        self.mib = m
        self.keys = sorted(m)

    def wrapping(self):
        v = (2**32 - 1000 + 3000 * self.wrap_reads) % 2**32
        self.wrap_reads += 1
        return enc_uint(0x41, v)

    def value(self, oid):
        v = self.mib[oid]
        return v() if callable(v) else v

    def get(self, oid):
        if self.mode == "nosuch" and oid != SYS + (5, 0):
            return NOSUCHINSTANCE if oid == SYS + (4, 0) else NOSUCHOBJECT
        return self.value(oid) if oid in self.mib else NOSUCHOBJECT

    def next(self, oid):
        """The next (oid, value) in this device's (mis)idea of lexicographic order."""
        if self.mode == "nosuch":
            return oid, NOSUCHOBJECT
        if self.mode == "loop" and IF + (2, 3) <= oid < IF + (3,):
            return IF + (1, 1), self.value(IF + (1, 1))
        k = bisect.bisect_right(self.keys, oid)
        if k == len(self.keys):
            return oid, ENDOFMIBVIEW
        return self.keys[k], self.value(self.keys[k])

    def answer(self, ptype, f1, f2, oids):
        if ptype == GET:
            return [(o, self.get(o)) for o in oids]
        if ptype == GETNEXT:
            return [self.next(o) for o in oids]
        # GETBULK: f1 non-repeaters, f2 max-repetitions; repetitions interleave
        out = [self.next(o) for o in oids[:f1]]
        cur = list(oids[f1:])
        reps = 1 if self.mode == "nosuch" else max(0, f2)
        for _ in range(reps):
            for k, o in enumerate(cur):
                if len(out) >= MAX_VARBINDS:
                    return out
                cur[k], v = self.next(o)
                out.append((cur[k], v))
        return out


def continues_walk(oids):
    """A request that carries on inside ifTable / ifXTable (not a table's first request)."""
    return any(o[:len(root)] == root and len(o) > len(root) for o in oids for root in (IF, IFX))


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    sock.settimeout(1.0)
    parent = os.getppid()
    devices = {}
    print(sock.getsockname()[1], flush=True)
    while True:
        try:
            msg, peer = sock.recvfrom(65535)
        except socket.timeout:
            if os.getppid() != parent:  # the test died without stopping us
                return
            continue
        try:
            version, community, ptype, reqid, f1, f2, oids = parse(msg)
        except (ValueError, IndexError):
            continue
        if version != 1 or ptype not in (GET, GETNEXT, GETBULK) or community == "silent":
            continue
        dev = devices.setdefault(community, Device(community))
        if community == "toobig" and ptype == GETBULK and len(oids) * f2 > 8:
            sock.sendto(response(version, community, reqid, [(o, b"\x05\x00") for o in oids],
                                 errstat=1), peer)
            continue
        out = response(version, community, reqid, dev.answer(ptype, f1, f2, oids))
        if community == "truncated" and ptype != GET and continues_walk(oids):
            sock.sendto(out[:len(out) // 2], peer)
            sock.sendto(b"\x30\x84\xff\xff\xff\xff\x02\x01", peer)
            continue
        sock.sendto(out, peer)


if __name__ == "__main__":
    main()
