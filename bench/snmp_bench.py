#!/usr/bin/python3
"""snmp_bench.py: the SNMP poller against snmpbulkwalk, with snmpsimd serving many copies of the
real recordings (bench/README.md, "SNMP polling").

    /usr/bin/python3 bench/snmp_bench.py BUILD_DIR/netassure [--copies 5] [--agents 2]
        [--in-flight 64] [--ref-parallel 64] [--runs alone,reference,ours] [--keep]

Copies every $NETASSURE_SHARED_DATA/snmprec/*.snmprec (21 real devices) --copies times as
NAME-K.snmprec (community = file name) into a temp dir readable by nobody and serves them with
--agents snmpsimd processes (one UDP port each, each a share of the devices; one snmpsimd is one
single-threaded Python process). Then, one after the other, over the same devices and the same
tables (the ones src/snmp/collect.c walks: TABLES below):

  alone      snmpsimd alone: a minimal client in this process (pre-built BER GETBULK requests,
             --in-flight devices at once, one request outstanding per device) walks every table,
             so what limits it is the agents. Its own CPU is reported beside theirs.
  reference  net-snmp: one `sh` per device (xargs -P --ref-parallel) running snmpget for the
             system group and one `snmpbulkwalk -v2c -Cr25 -On -Oq` per table, one after the
             other, like LibreNMS's poller does per device.
  ours       `netassure poll -c CONF --json` polling every device in one run, snmp.max_in_flight
             = each --in-flight value.

For each: wall time, devices/min, the time by which 95% of the devices were done and the rate
up to then (the copies of one recording wait on agent timeouts and make the tail of a short
run; see the README), the tool's CPU (user+sys of it and its children, os.wait4 /
getrusage), CPU per varbind, the agents' CPU (utime+stime from /proc/PID/stat before/after) and
the whole machine's busy share (/proc/stat, other people's jobs included). Varbind counts per
recording are compared between the three (a difference above 2 % is listed). Nothing is
asserted about time; exit 1 when a run fails or loses devices, 77 when the recordings or tools are
missing (skipped).
"""

import argparse
import datetime
import json
import math
import os
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

# The poll's requests, as src/snmp/collect.c sends them with want = NA_SNMP_WANT_ALL: one GET of
# the system scalars, then GETBULK walks (max-repetitions 25) of these subtrees. load_walks()
# reads the current lists from collect.c itself (walk_defs[], system_leaves[]); these copies are
# used only when the source is not there.
SYSTEM_OIDS = ["1.3.6.1.2.1.1.%d.0" % k for k in (1, 2, 3, 4, 5, 6)]
TABLES = [
    "1.3.6.1.2.1.2.2.1",           # ifTable
    "1.3.6.1.2.1.31.1.1.1",        # ifXTable
    "1.0.8802.1.1.2.1.3",          # lldpLocalSystemData
    "1.0.8802.1.1.2.1.4.1",        # lldpRemTable
    "1.0.8802.1.1.2.1.4.2",        # lldpRemManAddrTable
    "1.3.6.1.4.1.9.9.23.1.2.1",    # cdpCacheTable
    "1.3.6.1.4.1.14988.1.1.11.1",  # mtxrNeighborTable (MIKROTIK-MIB)
    "1.3.6.1.2.1.17.1.4.1.2",      # dot1dBasePortIfIndex
    "1.3.6.1.2.1.17.4.3",          # dot1dTpFdbTable
    "1.3.6.1.2.1.17.7.1.2.2",      # dot1qTpFdbTable
    "1.3.6.1.2.1.4.35",            # ipNetToPhysicalTable
    "1.3.6.1.2.1.4.22",            # ipNetToMediaTable
    "1.3.6.1.2.1.47.1.1.1",        # entPhysicalTable
    "1.3.6.1.2.1.99.1.1",          # entPhySensorTable
    "1.3.6.1.2.1.131.1.1",         # entStateTable
    "1.3.6.1.4.1.9.9.91.1.1.1",    # entSensorValueTable (CISCO-ENTITY-SENSOR-MIB)
    "1.3.6.1.2.1.25.3.3.1.2",      # hrProcessorLoad
    "1.3.6.1.2.1.25.2.3",          # hrStorageTable
    "1.3.6.1.2.1.25.3.2",          # hrDeviceTable
    "1.3.6.1.2.1.4.20",            # ipAddrTable
    "1.3.6.1.2.1.4.34",            # ipAddressTable
]


def load_walks(repo):
    """(source, system OIDs, subtrees) as src/snmp/collect.c defines them, else the copies."""
    global SYSTEM_OIDS, TABLES
    path = os.path.join(repo, "src", "snmp", "collect.c")
    try:
        with open(path) as f:
            src = f.read()
    except OSError:
        return "built-in list (no %s)" % path
    m = re.search(r"walk_defs\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
    leaves = re.search(r"system_leaves\[\]\s*=\s*\{([\d,\s]+)\}", src)
    tables = re.findall(r'\{\s*"\w+",\s*"([\d.]+)",\s*NA_SNMP_WANT_\w+\s*\}',
                        m.group(1)) if m else []
    if not tables or not leaves:
        return "built-in list (walk_defs / system_leaves not found in %s)" % path
    TABLES = tables
    SYSTEM_OIDS = ["1.3.6.1.2.1.1.%d.0" % int(x) for x in leaves.group(1).split(",") if x.strip()]
    return "src/snmp/collect.c"


MAX_REP = 25
TIMEOUT_S = 2.0
RETRIES = 2
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- BER, just what a v2c GET/GETBULK walker needs -------------------------------------------

def ber_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def ber_tlv(tag, body):
    return bytes([tag]) + ber_len(len(body)) + body


def ber_int(v):
    n = max(1, (v.bit_length() + 8) // 8)
    return ber_tlv(0x02, v.to_bytes(n, "big", signed=True))


def ber_oid(arcs):
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for a in arcs[2:]:
        chunk = [a & 0x7F]
        a >>= 7
        while a:
            chunk.append(0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(reversed(chunk))
    return ber_tlv(0x06, bytes(out))


def encode_request(community, reqid, pdu_tag, oids, max_rep=0):
    """A v2c GET (0xA0) or GETBULK (0xA5, non-repeaters 0) message; oids are tuples."""
    vbl = b"".join(ber_tlv(0x30, ber_oid(o) + b"\x05\x00") for o in oids)
    pdu = ber_int(reqid) + ber_int(0) + ber_int(max_rep) + ber_tlv(0x30, vbl)
    return ber_tlv(0x30, ber_int(1) + ber_tlv(0x04, community) + ber_tlv(pdu_tag, pdu))


def ber_read(buf, pos):
    """(tag, body_start, body_end) of the TLV at pos."""
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return tag, pos, pos + n


def decode_oid(b):
    first = b[0]
    arcs = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    v = 0
    for c in b[1:]:
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            arcs.append(v)
            v = 0
    return tuple(arcs)


def decode_response(buf):
    """(reqid, error_status, [(oid tuple, value tag)]) of a v2c Response, or None."""
    try:
        tag, p, end = ber_read(buf, 0)
        if tag != 0x30:
            return None
        _, p, e = ber_read(buf, p)            # version
        _, p, e = ber_read(buf, e)            # community
        tag, p, _ = ber_read(buf, e)          # PDU
        if tag != 0xA2:
            return None
        _, p, e = ber_read(buf, p)
        reqid = int.from_bytes(buf[p:e], "big", signed=True)
        _, p, e = ber_read(buf, e)
        err = int.from_bytes(buf[p:e], "big", signed=True)
        _, p, e = ber_read(buf, e)            # error-index
        _, p, vend = ber_read(buf, e)         # varbind list
        vbs = []
        while p < vend:
            _, q, vbe = ber_read(buf, p)
            _, oq, oe = ber_read(buf, q)
            vtag = buf[oe]
            vbs.append((decode_oid(buf[oq:oe]), vtag))
            p = vbe
        return reqid, err, vbs
    except (IndexError, ValueError):
        return None


def parse_oid(s):
    return tuple(int(x) for x in s.strip(".").split("."))


# ---- the agents -----------------------------------------------------------------------------

def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_cpu(pid):
    """utime+stime of a process in seconds (its own, not its children's)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle + iowait


class Agents:
    def __init__(self, tmp, recordings, copies, n_agents, log_requests):
        self.procs = []
        self.devices = []  # (recording name, community, port, agent index)
        master = os.path.join(tmp, "master")
        os.mkdir(master, 0o755)
        for path in recordings:
            shutil.copyfile(path, os.path.join(master, os.path.basename(path)))
            os.chmod(os.path.join(master, os.path.basename(path)), 0o644)
        self.ports = [free_udp_port() for _ in range(n_agents)]
        dirs = []
        for a in range(n_agents):
            d = os.path.join(tmp, "agent%d" % a)
            os.mkdir(d, 0o755)
            os.chmod(d, 0o755)
            dirs.append(d)
        i = 0
        for k in range(copies):
            for path in recordings:
                name = os.path.basename(path)[:-len(".snmprec")]
                community = "%s-%d" % (name, k)
                a = i % n_agents
                # Hard links: 21 * copies files cost the disk space of 21.
                os.link(os.path.join(master, name + ".snmprec"),
                        os.path.join(dirs[a], community + ".snmprec"))
                self.devices.append((name, community, self.ports[a], a))
                i += 1
        root = os.geteuid() == 0
        for a in range(n_agents):
            cache = os.path.join(tmp, "cache%d" % a)
            os.mkdir(cache, 0o755)
            cmd = ["snmpsimd", "--data-dir=" + dirs[a], "--cache-dir=" + cache,
                   "--agent-udpv4-endpoint=127.0.0.1:%d" % self.ports[a]]
            cmd.append("--logging-method=" + ("file:" + os.path.join(tmp, "agent%d.log" % a)
                                              if log_requests else "null"))
            if root:
                shutil.chown(cache, "nobody", "nogroup")
                cmd += ["--process-user=nobody", "--process-group=nogroup"]
            self.procs.append(subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(tmp, "agent%d.err" % a), "w")))
        # Ready when each agent answers sysName for its last device (it indexes every file first).
        deadline = time.monotonic() + 600
        for a in range(n_agents):
            community = [d for d in self.devices if d[3] == a][-1][1]
            while True:
                if self.procs[a].poll() is not None:
                    raise RuntimeError("snmpsimd %d exited with %d (see %s)" % (
                        a, self.procs[a].returncode, os.path.join(tmp, "agent%d.err" % a)))
                r = subprocess.run(["snmpget", "-v2c", "-c", community, "-t", "1", "-r", "0",
                                    "-On", "-Oqv", "127.0.0.1:%d" % self.ports[a],
                                    SYSTEM_OIDS[4]], capture_output=True, text=True)
                if r.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("snmpsimd %d not answering after 600 s" % a)
                time.sleep(0.5)

    def cpu(self):
        return [proc_cpu(p.pid) for p in self.procs]

    def check_alive(self):
        for a, p in enumerate(self.procs):
            if p.poll() is not None:
                raise RuntimeError("snmpsimd %d died (exit %d)" % (a, p.returncode))

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# ---- the three clients ----------------------------------------------------------------------

def run_alone(devices, in_flight):
    """Walks every device's system group and tables with pre-encoded BER, in_flight devices at
    once. Returns (per-device varbind counts, seconds from the start until each device was
    done, requests, timeouts, failed devices)."""
    t0 = time.monotonic()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.setblocking(False)
    sys_oids = [parse_oid(o) for o in SYSTEM_OIDS]
    tables = [parse_oid(t) for t in TABLES]
    counts = [0] * len(devices)
    done_at = [None] * len(devices)
    failed = 0
    requests = 0
    timeouts = 0
    pending = {}   # reqid -> state
    next_dev = 0
    reqid = [0x1000]

    class Walk:
        __slots__ = ("dev", "comm", "port", "table", "cursor", "msg", "sent", "tries")

    def send(w, tag, oids, rep):
        nonlocal requests
        reqid[0] = (reqid[0] + 1) & 0x7FFFFFFF
        w.msg = encode_request(w.comm, reqid[0], tag, oids, rep)
        w.sent = time.monotonic()
        w.tries = 0
        pending[reqid[0]] = w
        sock.sendto(w.msg, ("127.0.0.1", w.port))
        requests += 1

    def next_table(w):
        w.table += 1
        if w.table >= len(tables):
            return False
        w.cursor = tables[w.table]
        send(w, 0xA5, [w.cursor], MAX_REP)
        return True

    def start(i):
        w = Walk()
        w.dev = i
        w.comm = devices[i][1].encode()
        w.port = devices[i][2]
        w.table = -1
        send(w, 0xA0, sys_oids, 0)

    active = 0
    while next_dev < len(devices) and active < in_flight:
        start(next_dev)
        next_dev += 1
        active += 1
    while active:
        r, _, _ = select.select([sock], [], [], 0.2)
        if r:
            while True:
                try:
                    buf = sock.recv(65535)
                except BlockingIOError:
                    break
                resp = decode_response(buf)
                if resp is None or resp[0] not in pending:
                    continue
                w = pending.pop(resp[0])
                reqid_err, vbs = resp[1], resp[2]
                done = False
                if w.table < 0:
                    counts[w.dev] += sum(1 for _, t in vbs if t not in (0x80, 0x81, 0x82))
                    done = not next_table(w)
                else:
                    root = tables[w.table]
                    more = not reqid_err and len(vbs) > 0
                    last = w.cursor
                    for oid, t in vbs:
                        if t == 0x82 or oid[:len(root)] != root or oid <= last:
                            more = False
                            break
                        counts[w.dev] += 1
                        last = oid
                    if more:
                        w.cursor = last
                        send(w, 0xA5, [last], MAX_REP)
                    else:
                        done = not next_table(w)
                if done:
                    done_at[w.dev] = time.monotonic() - t0
                    active -= 1
                    if next_dev < len(devices):
                        start(next_dev)
                        next_dev += 1
                        active += 1
        now = time.monotonic()
        for rid, w in list(pending.items()):
            if now - w.sent < TIMEOUT_S:
                continue
            timeouts += 1
            if w.tries < RETRIES:
                w.tries += 1
                w.sent = now
                sock.sendto(w.msg, ("127.0.0.1", w.port))
                requests += 1
                continue
            del pending[rid]
            # Like snmpbulkwalk: a table that never answers is given up, the device goes on;
            # no answer to the system GET is an unreachable device.
            if w.table >= 0 and next_table(w):
                continue
            if w.table < 0:
                failed += 1
            done_at[w.dev] = now - t0
            active -= 1
            if next_dev < len(devices):
                start(next_dev)
                next_dev += 1
                active += 1
    sock.close()
    return counts, done_at, requests, timeouts, failed


REF_SCRIPT = """#!/bin/sh
# One device the way LibreNMS's poller does it: net-snmp tools, one table after the other.
# $1 host:port, $2 community, $3 output file (one line per varbind, -On -Oq).
exec >"$3" 2>"$3.err"
snmpget -v2c -c "$2" -t %(t)d -r %(r)d -On -Oq "$1" %(sys)s
for t in %(tables)s; do
    snmpbulkwalk -v2c -c "$2" -t %(t)d -r %(r)d -Cr%(rep)d -On -Oq "$1" "$t"
done
exit 0
"""


def count_ref_file(path):
    """Varbind lines of a reference output: a system scalar or an OID strictly inside a walked
    subtree. Not counted: the lines a multi-line string value adds, exceptions, and what the GET
    of the subtree's own OID prints (snmpbulkwalk sends it when the walk found nothing)."""
    n = 0
    wanted = set(SYSTEM_OIDS)
    prefixes = tuple(t + "." for t in TABLES)
    with open(path, "rb") as f:
        for line in f:
            if not (line.startswith(b".1.") or line.startswith(b".0.")):
                continue
            if (b" No Such Object" in line or b" No Such Instance" in line
                    or b" No more variables" in line):
                continue
            oid = line.split(b" ", 1)[0][1:].decode()
            if oid in wanted or oid.startswith(prefixes):
                n += 1
    return n


def run_reference(tmp, devices, parallel):
    script = os.path.join(tmp, "ref_device.sh")
    with open(script, "w") as f:
        f.write(REF_SCRIPT % {"t": int(TIMEOUT_S), "r": RETRIES, "rep": MAX_REP,
                              "sys": " ".join(SYSTEM_OIDS), "tables": " ".join(TABLES)})
    outdir = os.path.join(tmp, "ref")
    os.mkdir(outdir)
    lines = ["127.0.0.1:%d %s %s/%d.txt" % (d[2], d[1], outdir, i)
             for i, d in enumerate(devices)]
    listing = os.path.join(tmp, "ref_list.txt")
    with open(listing, "w") as f:
        f.write("\n".join(lines) + "\n")
    t0 = time.monotonic()
    start = time.time()
    p = subprocess.Popen(["xargs", "-P", str(parallel), "-L", "1", "sh", script],
                         stdin=open(listing), stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    counts = []
    done_at = []
    errors = 0
    for i in range(len(devices)):
        out, err = "%s/%d.txt" % (outdir, i), "%s/%d.txt.err" % (outdir, i)
        counts.append(count_ref_file(out))
        if os.path.getsize(err):
            errors += 1
        # the device's last output (or timeout message): when its last walk ended
        done_at.append(max(os.stat(out).st_mtime, os.stat(err).st_mtime) - start)
    return wall, ru.ru_utime + ru.ru_stime, counts, done_at, errors, p.returncode


def write_poll_config(path, devices, in_flight):
    """One credentials entry per device (community = recording copy's name), one device each,
    named by community so node ids are unique (the copies share their sysNames)."""
    creds = [{"name": d[1], "version": "2c", "community": d[1]} for d in devices]
    devs = [{"host": "127.0.0.1", "port": d[2], "credentials": d[1], "name": d[1]}
            for d in devices]
    cfg = {"snmp": {"timeout": "%ds" % int(TIMEOUT_S), "retries": RETRIES,
                    "max_repetitions": MAX_REP, "max_in_flight": in_flight,
                    "credentials": creds, "devices": devs}}
    with open(path, "w") as f:
        json.dump(cfg, f)  # JSON is YAML


def run_ours(tmp, binary, devices, in_flight):
    conf = os.path.join(tmp, "poll-%d.yaml" % in_flight)
    write_poll_config(conf, devices, in_flight)
    out = os.path.join(tmp, "poll-%d.json" % in_flight)
    err = os.path.join(tmp, "poll-%d.err" % in_flight)
    t0 = time.monotonic()
    start = time.time()
    p = subprocess.Popen([binary, "poll", "-c", conf, "--json"], stdout=open(out, "w"),
                         stderr=open(err, "w"))
    _, status, ru = os.wait4(p.pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    counts = [None] * len(devices)
    done_at = [None] * len(devices)
    requests = 0
    unreachable = 0
    slowest = None  # (seconds, node id, requests)
    doc = None
    if rc in (0, 1):  # 1: some device did not answer; the document still lists it
        try:
            with open(out) as f:
                doc = json.load(f)
        except ValueError:
            rc = rc or -1
    if doc is not None:
        rc = 0
        index = {d[1]: i for i, d in enumerate(devices)}
        for dev in doc.get("devices", []):
            key = dev.get("id") or dev.get("node_id") or dev.get("name")
            i = index.get(key)
            if i is None:
                continue
            counts[i] = dev.get("varbinds")
            if dev.get("polled_at"):  # "2026-11-23T18:04:00.123Z": collection finished
                done_at[i] = datetime.datetime.fromisoformat(
                    dev["polled_at"].replace("Z", "+00:00")).timestamp() - start
            requests += dev.get("requests") or 0
            if dev.get("reachable") is False:
                unreachable += 1
            dur = (dev.get("duration_ms") or 0) / 1000.0
            if slowest is None or dur > slowest[0]:
                slowest = (dur, key, dev.get("requests"))
    return (wall, ru.ru_utime + ru.ru_stime, counts, done_at, requests, unreachable, rc, err,
            slowest)


# ---- report ---------------------------------------------------------------------------------

def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, int):
        return "{:,}".format(v)
    if abs(v) >= 100:
        return "{:,.0f}".format(v)
    return "{:.{}f}".format(v, nd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("netassure", nargs="?", default=os.environ.get("NETASSURE_BIN"),
                    help="the netassure binary (default $NETASSURE_BIN)")
    ap.add_argument("--copies", type=int, default=5,
                    help="copies of each of the 21 recordings (default 5: 105 devices)")
    ap.add_argument("--agents", type=int, default=2, help="snmpsimd processes (default 2)")
    ap.add_argument("--in-flight", default="64",
                    help="devices at once, comma-separated values for ours (default 64); the "
                         "first one also for the agents-alone client")
    ap.add_argument("--ref-parallel", type=int, default=64,
                    help="devices at once for the reference (default 64)")
    ap.add_argument("--runs", default="alone,reference,ours",
                    help="which runs, in order (default alone,reference,ours)")
    ap.add_argument("--data", default=None,
                    help="recordings dir (default $NETASSURE_SHARED_DATA/snmprec)")
    ap.add_argument("--log-requests", action="store_true",
                    help="let snmpsimd log every request (slow; for debugging)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()

    runs = [r for r in args.runs.split(",") if r]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    walks_from = load_walks(repo)
    for r in runs:
        if r not in ("alone", "reference", "ours"):
            ap.error("unknown run %r" % r)
    in_flights = [int(x) for x in args.in_flight.split(",")]
    data = args.data or os.path.join(
        os.environ.get("NETASSURE_SHARED_DATA", os.path.join(repo, "..", "shared", "data")),
        "snmprec")
    recordings = sorted(os.path.join(data, f) for f in os.listdir(data)
                        if f.endswith(".snmprec")) if os.path.isdir(data) else []
    if not recordings:
        print("skipped: no recordings in %s" % data)
        return 77
    for tool in ("snmpsimd", "snmpget", "snmpbulkwalk", "xargs"):
        if not shutil.which(tool):
            print("skipped: %s is not installed" % tool)
            return 77
    if "ours" in runs and not (args.netassure and os.access(args.netassure, os.X_OK)):
        ap.error("the netassure binary is needed for the 'ours' run (argument or "
                 "$NETASSURE_BIN)")

    tmp = tempfile.mkdtemp(prefix="na_snmp_bench.")
    os.chmod(tmp, 0o755)
    agents = None
    status = 0
    try:
        t0 = time.monotonic()
        agents = Agents(tmp, recordings, args.copies, args.agents, args.log_requests)
        devices = agents.devices
        log("== %d devices (%d recordings x %d copies) on %d snmpsimd agents, ready in %.1f s; "
            "%d CPUs, load %s" % (len(devices), len(recordings), args.copies, args.agents,
                                  time.monotonic() - t0, os.cpu_count(),
                                  open("/proc/loadavg").read().split(" ", 3)[:3]))
        rows = []
        per_rec = {}   # run label -> {recording: set of counts}

        def measure(label, fn):
            a0 = agents.cpu()
            m0 = machine_ticks()
            res = fn()
            a1 = agents.cpu()
            m1 = machine_ticks()
            agents.check_alive()
            busy = 1.0 - (m1[1] - m0[1]) / max(1, m1[0] - m0[0])
            # CPU seconds the whole machine spent, to show what other jobs took meanwhile
            busy_s = ((m1[0] - m1[1]) - (m0[0] - m0[1])) / CLK_TCK
            return res, [y - x for x, y in zip(a0, a1)], (busy, busy_s)

        def add_row(label, wall, cpu, counts, done_at, requests, agent_cpu, busy, lost, note):
            busy, busy_s = busy
            vb = sum(c for c in counts if c)
            # When 95% of the devices were done: one slow device (vrp_ac6605-26's copies wait
            # on timeouts, see README) sets the wall time of a short run, not the rate.
            k95 = max(1, math.ceil(0.95 * len(devices)))
            known = sorted(t for t in done_at if t is not None)
            t95 = known[k95 - 1] if len(known) >= k95 else None
            rows.append({"tool": label, "devices": len(devices), "lost": lost,
                         "varbinds": vb, "requests": requests, "wall": wall,
                         "dpm": (len(devices) - lost) * 60.0 / wall, "cpu": cpu,
                         "t95": t95, "dpm95": k95 * 60.0 / t95 if t95 else None,
                         "cpu_us_vb": cpu * 1e6 / vb if vb else None,
                         "agent_cpu": sum(agent_cpu), "agent_max": max(agent_cpu),
                         "agent_us_vb": sum(agent_cpu) * 1e6 / vb if vb else None,
                         "busy": busy, "others": max(0.0, busy_s - cpu - sum(agent_cpu)),
                         "note": note})
            recs = per_rec.setdefault(label, {})
            for d, c in zip(devices, counts):
                recs.setdefault(d[0], set()).add(c)
            r = rows[-1]
            log("   %s: %.1f s (95%% of the devices done at %s s), %s devices/min, %s varbinds, "
                "CPU %.2f s, agents %s s, machine %.0f%% busy%s" % (
                    label, wall, fmt(r["t95"]), fmt(r["dpm"]), fmt(vb), cpu,
                                          "+".join("%.1f" % c for c in agent_cpu), busy * 100,
                                          ", " + note if note else ""))

        for run in runs:
            if run == "alone":
                log("-- snmpsimd alone (minimal client, %d devices in flight)" % in_flights[0])

                def fn():
                    r0 = resource.getrusage(resource.RUSAGE_SELF)
                    t = time.monotonic()
                    res = run_alone(devices, in_flights[0])
                    wall = time.monotonic() - t
                    r1 = resource.getrusage(resource.RUSAGE_SELF)
                    return (wall, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) + res
                (wall, cpu, counts, done_at, requests, timeouts, failed), acpu, busy = measure(
                    run, fn)
                note = "%d timeouts" % timeouts if timeouts else ""
                add_row("snmpsimd alone (py client)", wall, cpu, counts, done_at, requests, acpu,
                        busy, failed, note)
                if failed:
                    status = 1
            elif run == "reference":
                log("-- reference: snmpget + snmpbulkwalk per table, xargs -P %d"
                    % args.ref_parallel)
                (wall, cpu, counts, done_at, errors, rc), acpu, busy = measure(
                    run, lambda: run_reference(tmp, devices, args.ref_parallel))
                lost = sum(1 for c in counts if c == 0)
                note = ("%d devices wrote to stderr" % errors if errors else "")
                if rc != 0:
                    note += " xargs exit %d" % rc
                    status = 1
                add_row("snmpbulkwalk (-P %d)" % args.ref_parallel, wall, cpu, counts, done_at,
                        None, acpu, busy, lost, note.strip())
            else:
                for fl in in_flights:
                    log("-- ours: netassure poll --json, max_in_flight %d" % fl)
                    (wall, cpu, counts, done_at, requests, unreach, rc, err, slowest), acpu, \
                        busy = measure(
                        run, lambda: run_ours(tmp, args.netassure, devices, fl))
                    if rc != 0:
                        log("   netassure poll exited %d:\n%s" % (rc, open(err).read()[-2000:]))
                        status = 1
                        continue
                    if slowest:
                        log("   slowest device: %s, %.1f s, %s requests" % (slowest[1], slowest[0],
                                                                         slowest[2]))
                    lost = sum(1 for c in counts if c is None) + unreach
                    note = "%d unreachable" % unreach if unreach else ""
                    missing = sum(1 for c in counts if c is None)
                    if missing:
                        note += " %d devices missing from the JSON" % missing
                        status = 1
                    add_row("netassure poll (in-flight %d)" % fl, wall, cpu,
                            [c or 0 for c in counts], done_at, requests, acpu, busy, lost,
                            note.strip())
                    if lost:
                        status = 1

        # ---- the table
        print()
        print("%d devices (%d recordings x %d copies), %d snmpsimd agents, %d CPUs, "
              "max-repetitions %d, timeout %d s x %d retries; the system GET and %d subtrees "
              "from %s" % (
                  len(devices), len(recordings), args.copies, args.agents, os.cpu_count(),
                  MAX_REP, int(TIMEOUT_S), RETRIES, len(TABLES), walks_from))
        print()
        print("| tool | devices | varbinds | requests | wall s | devices/min | 95% done s "
              "| devices/min to 95% | CPU s (tool) "
              "| CPU us/varbind | agent CPU s (busiest) | agent us/varbind "
              "| machine busy (others' CPU s) | note |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            dev = fmt(r["devices"]) + (" (%d lost)" % r["lost"] if r["lost"] else "")
            cells = [r["tool"], dev, fmt(r["varbinds"]), fmt(r["requests"]), fmt(r["wall"], 2),
                     fmt(r["dpm"]), fmt(r["t95"], 2), fmt(r["dpm95"]), fmt(r["cpu"], 2),
                     fmt(r["cpu_us_vb"]), "%s (%s)" % (fmt(r["agent_cpu"]), fmt(r["agent_max"])),
                     fmt(r["agent_us_vb"]), "%.0f%% (%s)" % (r["busy"] * 100, fmt(r["others"])),
                     r["note"]]
            print("| " + " | ".join(cells) + " |")
        ref = next((r for r in rows if r["tool"].startswith("snmpbulkwalk")), None)
        alone = next((r for r in rows if r["tool"].startswith("snmpsimd")), None)
        print()
        for r in rows:
            if not r["tool"].startswith("netassure"):
                continue
            parts = []
            if ref:
                parts.append("devices/min %.2fx the reference's (to 95%%: %.2fx)" % (
                    r["dpm"] / ref["dpm"], (r["dpm95"] or 0) / (ref["dpm95"] or 1)))
                if r["cpu_us_vb"] and ref["cpu_us_vb"]:
                    parts.append("CPU per varbind %.3fx (reference / ours = %.1fx)" % (
                        r["cpu_us_vb"] / ref["cpu_us_vb"], ref["cpu_us_vb"] / r["cpu_us_vb"]))
            if alone:
                parts.append("%.0f%% of the agents-alone rate (to 95%%: %.0f%%)" % (
                    100 * r["dpm"] / alone["dpm"], 100 * (r["dpm95"] or 0) / (alone["dpm95"] or 1)))
            print("%s: %s" % (r["tool"], "; ".join(parts)))
        # What the agents could serve with every CPU to themselves: the ceiling of any client.
        for r in rows:
            if r["agent_cpu"] > 0:
                per_dev = r["agent_cpu"] / r["devices"]
                print("%s: agents' CPU %.0f ms per device; their ceiling on %d CPUs %s devices/min"
                      % (r["tool"], per_dev * 1000, os.cpu_count(),
                         fmt(60.0 * os.cpu_count() / per_dev)))
        # The agents are the limit when they hold the CPUs they can use (one snmpsimd is one
        # Python thread: at most one CPU each) most of the run, or one of them a whole core.
        usable = min(os.cpu_count(), args.agents)
        for r in rows:
            share = r["agent_cpu"] / (r["wall"] * usable) if r["wall"] else 0
            if share > 0.8 or (r["wall"] and r["agent_max"] / r["wall"] > 0.85):
                print("%s: the agents were the limit (%.2f of the %d CPUs they can use, busiest "
                      "snmpsimd at %.0f%% of a core)" % (r["tool"], share * usable, usable,
                                                        100 * r["agent_max"] / r["wall"]))
            elif r["busy"] > 0.9:
                print("%s: the machine was saturated (%.0f%% busy)" % (r["tool"],
                                                                     100 * r["busy"]))

        # ---- correctness: varbinds per recording, the same for every copy and every tool
        print()
        labels = list(per_rec)
        diffs = []
        for name in sorted({d[0] for d in devices}):
            vals = {}
            for lab in labels:
                s = per_rec[lab].get(name, set())
                vals[lab] = sorted(s)
            base = vals.get(ref["tool"]) if ref else None
            for lab in labels:
                v = vals[lab]
                if len(v) > 1:
                    diffs.append("%s: %s counts differ between copies: %s" % (name, lab, v))
                elif base and len(base) == 1 and v and v[0] is not None and base[0] is not None:
                    if abs(v[0] - base[0]) > max(2, 0.02 * base[0]):
                        diffs.append("%s: %s %d varbinds, reference %d" % (name, lab, v[0],
                                                                           base[0]))
        if diffs:
            print("varbind counts that differ (by more than 2%):")
            for d in diffs:
                print("  " + d)
        else:
            print("varbind counts per recording: the same (within 2%%) for every copy and %s"
                  % ", ".join(labels))
        log("== done in %.0f s, load %s" % (time.monotonic() - t0,
                                              open("/proc/loadavg").read().split(" ", 3)[:3]))
    finally:
        if agents:
            agents.stop()
        if args.keep:
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
