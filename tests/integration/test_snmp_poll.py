#!/usr/bin/python3
"""test_snmp_poll.py: `netassure poll` against real agents started here.

- snmpsimd serves copies of a few shared LibreNMS recordings (../shared/data/snmprec) and our
  small fixture (tests/fixtures/snmp/small.snmprec), v2c (community = file name) and v3 (user
  'authpriv', SHA/AES; the context name selects the recording);
- tests/tools/bad_snmp_agent.py misbehaves on purpose (the community selects how).

Every expectation is derived from the inputs: ports (ifIndex, ifName, ifOperStatus) and sysName
are read from the .snmprec text, the bad agent's ports from its own Device class. Checked: usage
errors (exit 2), one device (--json document), several devices with per-device credentials (-c),
each bad agent mode (no crash, no hang, the device says what went wrong), --snmprec against the
same recording polled through snmpsimd, SNMPv3 (and a wrong passphrase), geolocation by config
(subnet, explicit site, nothing). Every run's stderr must be free of sanitizer reports.

Skips (exit 77, visibly) without snmpsimd or the shared recordings. The agent helpers here
(SnmpSim, BadAgent, expected_ports) are also used by test_snmp_daemon.py.
"""
import atexit
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import napi  # noqa: E402
from napi import check, note  # noqa: E402

FIXTURE = os.path.join(napi.SRC, "tests", "fixtures", "snmp", "small.snmprec")
RECORDINGS = os.path.join(napi.SHARED, "snmprec")
BAD_AGENT = os.path.join(napi.SRC, "tests", "tools", "bad_snmp_agent.py")
SHARED_USED = ("dell-os10", "arista_eos_vrf", "junos_qfx5100")
IF_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent",
             7: "lowerLayerDown"}
V3_USER = ("authpriv", "authpass123", "privpass123")  # SHA / AES

# ---------------------------------------------------------------- processes


def _die_with_parent():
    """preexec_fn: SIGTERM to the child when this test dies, however it dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


_children = []


def _stop_all():
    for c in list(_children):
        c.stop()


atexit.register(_stop_all)


def _on_signal(signum, _frame):
    _stop_all()
    sys.exit(128 + signum)


def install_signal_cleanup():
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SnmpSim:
    """snmpsimd on a free UDP port of 127.0.0.1, serving copies of recordings.

    files: {community: source .snmprec path}. As root it runs as nobody (the data dir is made
    readable). timeout(1) stays root and forwards our SIGTERM (snmpsimd's own parent-death
    signal is cleared when it drops privileges)."""

    def __init__(self, files):
        self.files = dict(files)
        self.dir = None
        self.proc = None
        self.port = None

    def data_path(self, community):
        return os.path.join(self.dir, "data", community + ".snmprec")

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="na-snmpsim-")
        os.chmod(self.dir, 0o755)
        os.mkdir(os.path.join(self.dir, "data"), 0o755)
        os.mkdir(os.path.join(self.dir, "cache"))
        os.chmod(os.path.join(self.dir, "cache"), 0o777)
        for community, src in self.files.items():
            shutil.copyfile(src, self.data_path(community))
            os.chmod(self.data_path(community), 0o644)
        _children.append(self)
        for _attempt in range(3):  # the free port may be taken between the probe and the bind
            if self._spawn():
                return self
        raise RuntimeError("snmpsimd did not start; its log:\n" + self.log()[-3000:])

    def _spawn(self):
        self.port = free_udp_port()
        args = ["timeout", "-k", "5", "900", "snmpsimd",
                "--data-dir=" + os.path.join(self.dir, "data"),
                "--cache-dir=" + os.path.join(self.dir, "cache"),
                f"--agent-udpv4-endpoint=127.0.0.1:{self.port}"]
        if os.geteuid() == 0:
            args += ["--process-user=nobody", "--process-group=nogroup"]
        user, auth, priv = V3_USER
        args += [f"--v3-user={user}", f"--v3-auth-key={auth}", "--v3-auth-proto=SHA",
                 f"--v3-priv-key={priv}", "--v3-priv-proto=AES"]
        with open(self.log_path(), "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        end = time.monotonic() + 120  # a liveness bound: it indexes the recordings first
        while time.monotonic() < end:
            if "Listening at UDP/IPv4 endpoint" in self.log():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.1)
        self._kill()
        return False

    def log_path(self):
        return os.path.join(self.dir, "snmpsimd.log")

    def log(self):
        try:
            with open(self.log_path(), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def replace(self, community, text):
        """New contents for a served recording. snmpsimd re-indexes a data file whose mtime
        (whole seconds) changed, so the new file gets a later mtime than the old one."""
        path = self.data_path(community)
        old = os.stat(path).st_mtime
        tmp = path + ".new"
        with open(tmp, "w", encoding="latin-1", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        while int(time.time()) <= int(old):
            time.sleep(0.2)
        os.utime(tmp, None)
        os.replace(tmp, path)

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self):
        self._kill()
        if self in _children:
            _children.remove(self)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


class BadAgent:
    """tests/tools/bad_snmp_agent.py on a free port (it prints the port once ready)."""

    def __init__(self):
        self.proc = None
        self.port = None

    def start(self):
        self.proc = subprocess.Popen([sys.executable, BAD_AGENT], stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        _children.append(self)
        line = self.proc.stdout.readline().decode().strip()
        if not line.isdigit():
            raise RuntimeError(f"bad_snmp_agent.py did not print its port (got {line!r})")
        self.port = int(line)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in _children:
            _children.remove(self)


def bad_agent_ports(mode):
    """The bad agent's own idea of its ports in `mode`: the sorted ifIndex list of its MIB
    (every row has an ifName in ifXTable)."""
    sys.path.insert(0, os.path.dirname(BAD_AGENT))
    import bad_snmp_agent as ba
    dev = ba.Device(mode)
    ports = sorted(oid[-1] for oid in dev.keys
                   if oid[:len(ba.IFX) + 1] == ba.IFX + (1,) and len(oid) == len(ba.IFX) + 2)
    check(len(ports) > 0, f"the bad agent's MIB has ports in mode {mode}")
    return ports


# ---------------------------------------------------------------- recordings


def read_snmprec(path):
    """{oid text: (type, value text)} of a .snmprec file."""
    out = {}
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\r\n")
            parts = line.split("|", 2)
            if len(parts) == 3:
                out[parts[0].lstrip(".")] = (parts[1], parts[2])
    return out


def rec_text(tv):
    """A string value of a recording: type 4 as is, 4x hex decoded when printable."""
    if tv is None:
        return None
    t, v = tv
    if t == "4":
        return v
    if t == "4x":
        try:
            s = bytes.fromhex(v).decode("ascii")
        except ValueError:
            return None
        return s if s.isprintable() else None
    return None


def expected_ports(path):
    """[(ifIndex, ifName, ifOperStatus)] of a recording: every index of ifTable or ifXTable,
    ifName from ifXTable column 1, ifOperStatus from ifTable column 8 (IF-MIB names)."""
    rec = read_snmprec(path)
    idx = set()
    for oid in rec:
        p = oid.split(".")
        if oid.startswith("1.3.6.1.2.1.2.2.1.") and len(p) == 11:
            idx.add(int(p[10]))
        elif oid.startswith("1.3.6.1.2.1.31.1.1.1.") and len(p) == 12:
            idx.add(int(p[11]))
    out = []
    for i in sorted(idx):
        oper = rec.get(f"1.3.6.1.2.1.2.2.1.8.{i}")
        out.append((i, rec_text(rec.get(f"1.3.6.1.2.1.31.1.1.1.1.{i}")),
                    IF_STATUS.get(int(oper[1])) if oper and oper[0] == "2" else None))
    return out


def sys_value(path, leaf):
    """A system group string (1.3.6.1.2.1.1.LEAF.0) of a recording."""
    return rec_text(read_snmprec(path).get(f"1.3.6.1.2.1.1.{leaf}.0"))


def doc_ports(dev):
    """[(ifIndex, ifName, ifOperStatus)] of a device document."""
    return [(p.get("ifIndex"), p.get("ifName"), p.get("ifOperStatus"))
            for p in (dev or {}).get("ports", [])]


def compare_ports(got, want, what):
    """Names are compared where the recording has a printable one."""
    check(len(want) > 0, f"{what}: the recording has ports to compare with")
    g = [(i, n if w_n is not None else None, o) for (i, n, o), (_, w_n, _) in zip(got, want)]
    ok = len(got) == len(want) and g == want
    if not ok:
        diff = [f"{a} != {b}" for a, b in zip(g, want) if a != b][:5]
        check(False, f"{what}: ports (ifIndex, ifName, ifOperStatus) as in the recording",
              f"{len(got)} ports vs {len(want)}; first differences: {diff}")
    else:
        check(True, what)
    return ok


# ---------------------------------------------------------------- running the CLI

SANITIZER = ("AddressSanitizer", "LeakSanitizer", "runtime error", "UndefinedBehaviorSanitizer")


def run_cli(args, what, timeout=180):
    """Runs `netassure poll ARGS`; returns (exit status, stdout, stderr). A run that does not
    finish, or whose stderr has a sanitizer report, is a failure."""
    try:
        p = subprocess.run([napi.BIN, "poll"] + args, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        check(False, f"{what}: finishes within {timeout}s", (e.stderr or b"")[-1000:])
        return None, "", ""
    bad = [ln for ln in p.stderr.splitlines() if any(s in ln for s in SANITIZER)]
    check(not bad, f"{what}: no sanitizer report", "\n".join(p.stderr.splitlines()[-40:]))
    check(p.returncode >= 0, f"{what}: not killed by a signal", f"status {p.returncode}")
    return p.returncode, p.stdout, p.stderr


def poll_json(args, what, want_rc=(0,), timeout=180):
    """`poll ARGS --json`: the document (or None), checked for shape and exit status."""
    rc, out, err = run_cli(args + ["--json"], what, timeout)
    if rc is None:
        return None
    check(rc in want_rc, f"{what}: exit status {rc}, expected {' or '.join(map(str, want_rc))}",
          err[-1500:])
    try:
        doc = json.loads(out)
    except ValueError as e:
        check(False, f"{what}: stdout is one JSON document", f"{e}: {out[:300]!r}; {err[-800:]}")
        return None
    ok = isinstance(doc, dict) and all(k in doc for k in ("devices", "links", "stubs", "summary"))
    check(ok, f"{what}: document has devices, links, stubs, summary", out[:300])
    if not ok:
        return None
    s = doc["summary"]
    devs = doc["devices"]
    check(s.get("devices") == len(devs), f"{what}: summary.devices == len(devices)", s)
    check(s.get("reachable") == sum(1 for d in devs if d.get("reachable")),
          f"{what}: summary.reachable counts the reachable devices", s)
    check(s.get("ports") == sum(len(d.get("ports", [])) for d in devs),
          f"{what}: summary.ports is the sum of the devices' ports", s)
    check(s.get("links") == len(doc["links"]) and s.get("stubs") == len(doc["stubs"]),
          f"{what}: summary.links / stubs count the lists", s)
    nodes = {d.get("node_id") for d in devs} | {st.get("id") for st in doc["stubs"]}
    dangling = [lk.get("id") for lk in doc["links"]
                if lk.get("a") not in nodes or lk.get("b") not in nodes]
    check(not dangling, f"{what}: every link joins known devices or stubs", dangling[:5])
    want = 1 if any(not d.get("reachable") for d in devs) else 0
    check(rc == want, f"{what}: exit {want} when {'some' if want else 'no'} device is "
          "unreachable", f"exit {rc}")
    return doc


def write_config(tmp, name, snmp, sites=None):
    cfg = {"snmp": snmp}
    if sites is not None:
        cfg["sites"] = sites
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(napi.yaml_dump(cfg))
    return path


def by_id(doc):
    return {d.get("node_id"): d for d in (doc or {}).get("devices", [])}


# ---------------------------------------------------------------- the checks


def usage_checks():
    rc, out, err = run_cli(["--help"], "poll --help")
    check(rc == 0 and "usage: netassure poll" in out, "poll --help: exit 0 with the usage text",
          f"exit {rc}: {out[:200]!r} {err[:200]!r}")
    cases = [
        ([], "no devices"),
        (["--device", "127.0.0.1:99999"], "--device '127.0.0.1:99999'"),
        (["--device", "[::1"], "--device '[::1'"),
        (["--device", "127.0.0.1", "--v3-user", "u", "--v3-level", "garbage"], "--v3-level"),
        (["--device", "127.0.0.1", "--v3-user", "u", "--v3-auth-pass", "short"],
         "at least 8 characters"),
        (["--device", "127.0.0.1", "--v3-user", "u", "--v3-auth-pass", "longenough",
          "--v3-priv-pass", "short"], "at least 8 characters"),
        (["--snmprec", FIXTURE, "--device", "127.0.0.1"], "does not mix"),
        (["--device", "127.0.0.1", "--timeout", "forever"], "--timeout"),
    ]
    for args, needle in cases:
        what = "poll " + " ".join(a if a != FIXTURE else "small.snmprec" for a in args)
        rc, out, err = run_cli(args, what, timeout=60)
        check(rc == 2, f"{what}: exit 2 (usage)", f"exit {rc}; stderr {err[-300:]!r}")
        check(needle in err, f"{what}: the message says {needle!r}", err[-300:])
        check(out.strip() == "", f"{what}: nothing on stdout", out[:200])


def single_device(sim, rec_paths):
    port = sim.port
    results = {}
    for community in ("dell-os10", "small"):
        path = rec_paths[community]
        what = f"poll --device 127.0.0.1:PORT --community {community}"
        doc = poll_json(["--device", f"127.0.0.1:{port}", "--community", community,
                         "--timeout", "2s"], what)
        if not doc:
            continue
        check(len(doc["devices"]) == 1 and doc["summary"]["devices"] == 1,
              f"{what}: one device", doc["summary"])
        dev = doc["devices"][0]
        want = expected_ports(path)
        check(dev.get("reachable") is True and dev.get("reason") is None,
              f"{what}: reachable, no reason", (dev.get("reachable"), dev.get("reason")))
        check(len(dev.get("ports", [])) == len({i for i, _, _ in want}),
              f"{what}: ports count == distinct ifIndex of the recording's ifTable/ifXTable",
              f"{len(dev.get('ports', []))} vs {len(want)}")
        compare_ports(doc_ports(dev), want, f"{what}: ports")
        check(dev.get("system", {}).get("sysName") == sys_value(path, 5),
              f"{what}: sysName as recorded", dev.get("system", {}).get("sysName"))
        check(dev.get("system", {}).get("sysDescr") == sys_value(path, 1),
              f"{what}: sysDescr as recorded", dev.get("system", {}).get("sysDescr"))
        check(dev.get("target") == f"127.0.0.1:{port}" and dev.get("mgmt_ip") == "127.0.0.1",
              f"{what}: target and mgmt_ip", (dev.get("target"), dev.get("mgmt_ip")))
        want_id = sys_value(path, 5) or "127.0.0.1"
        check(dev.get("node_id") == want_id, f"{what}: node id is the sysName",
              dev.get("node_id"))
        results[community] = dev
    return results


def several_devices(sim, rec_paths, tmp):
    """Per-device credentials through -c, as the daemon configures them."""
    creds = [{"name": c, "community": c} for c in rec_paths]
    # names where the sysName would repeat (every shared recording's sysName is '<private>')
    names = {"dell-os10": "dell", "arista_eos_vrf": "arista", "junos_qfx5100": None,
             "small": None}
    devices = []
    for c in rec_paths:
        d = {"host": "127.0.0.1", "port": sim.port, "credentials": c}
        if names[c]:
            d["name"] = names[c]
        devices.append(d)
    cfg = write_config(tmp, "several.yaml", {"timeout": "2s", "retries": 1,
                                              "credentials": creds, "devices": devices})
    doc = poll_json(["-c", cfg], f"poll -c (the {len(devices)} recordings)")
    if not doc:
        return
    check(doc["summary"]["devices"] == len(devices) and
          doc["summary"]["reachable"] == len(devices),
          f"poll -c: summary.devices == reachable == {len(devices)}", doc["summary"])
    devs = by_id(doc)
    for c in rec_paths:
        nid = names[c] or sys_value(rec_paths[c], 5)
        dev = devs.get(nid)
        if not check(dev is not None, f"poll -c: device {nid} ({c}) is there", sorted(devs)):
            continue
        compare_ports(doc_ports(dev), expected_ports(rec_paths[c]), f"poll -c: {nid} ports")
        check(dev.get("system", {}).get("sysDescr") == sys_value(rec_paths[c], 1),
              f"poll -c: {nid} answered with its own recording (sysDescr)",
              dev.get("system", {}).get("sysDescr"))

    # Two devices whose sysName is the same and no names: two distinct node ids.
    cfg = write_config(tmp, "same-name.yaml", {
        "timeout": "2s", "retries": 1, "credentials": creds[:2],
        "devices": [{"host": "127.0.0.1", "port": sim.port, "credentials": c["name"]}
                    for c in creds[:2]]})
    doc = poll_json(["-c", cfg], "poll -c (two devices, one sysName, no names)")
    if doc:
        ids = [d.get("node_id") for d in doc["devices"]]
        check(len(ids) == 2 and len(set(ids)) == 2 and all(ids),
              "poll -c: two devices with the same sysName get distinct node ids", ids)


BAD_MODES = {
    # mode: (reachable, words one of which the reason or a problem must contain)
    "public": (True, None),
    "silent": (False, ("timeout",)),
    "loop": (True, ("non-increasing",)),
    "nosuch": (True, ("noSuchObject", "noSuchInstance")),
    "wrongtype": (True, ("wrong type",)),
    "truncated": (True, ("timeout", "truncated", "malformed")),
    "dupindex": (True, ("ifIndex",)),
}


def bad_agent_checks(agent, tmp):
    for mode, (reachable, words) in BAD_MODES.items():
        what = f"poll bad agent '{mode}'"
        doc = poll_json(["--device", f"127.0.0.1:{agent.port}", "--community", mode,
                         "--timeout", "500ms", "--retries", "0"], what,
                        want_rc=(0,) if mode == "public" else (0, 1) if reachable else (1,))
        if not doc or not check(len(doc["devices"]) == 1, f"{what}: one device"):
            continue
        dev = doc["devices"][0]
        check(dev.get("reachable") is reachable, f"{what}: reachable is {reachable}",
              dev.get("reachable"))
        texts = [dev.get("reason") or ""] + list(dev.get("problems") or [])
        if words is None:
            check(dev.get("reason") is None and not dev.get("problems"),
                  f"{what}: no reason, no problems", texts)
            want = bad_agent_ports(mode)
            check([p.get("ifIndex") for p in dev.get("ports", [])] == want,
                  f"{what}: the agent's ports", doc_ports(dev))
        else:
            check(any(w in t for t in texts for w in words),
                  f"{what}: the reason or a problem names the trouble ({' / '.join(words)})",
                  texts)
        if mode == "silent":
            check("timeout" in (dev.get("reason") or ""), f"{what}: reason says timeout",
                  dev.get("reason"))
        if mode == "loop":
            # the walk stops at the loop: every port still comes from the agent's ifTable once
            want = bad_agent_ports(mode)
            got = [p.get("ifIndex") for p in dev.get("ports", [])]
            check(got == want, f"{what}: ports once each despite the loop", got)

    # All the modes in one poll: the misbehaving ones do not spoil the others.
    cfg = write_config(tmp, "bad.yaml", {
        "timeout": "500ms", "retries": 0,
        "credentials": [{"name": m, "community": m} for m in BAD_MODES],
        "devices": [{"host": "127.0.0.1", "port": agent.port, "credentials": m, "name": m}
                    for m in BAD_MODES]})
    doc = poll_json(["-c", cfg], "poll -c (every bad agent mode at once)", want_rc=(1,))
    if doc:
        devs = by_id(doc)
        check(sorted(devs) == sorted(BAD_MODES), "poll -c bad modes: one device per mode",
              sorted(devs))
        for mode, (reachable, _) in BAD_MODES.items():
            check(devs.get(mode, {}).get("reachable") is reachable,
                  f"poll -c bad modes: {mode} reachable is {reachable}",
                  devs.get(mode, {}).get("reason"))
        check([p.get("ifIndex") for p in devs.get("public", {}).get("ports", [])] ==
              bad_agent_ports("public"), "poll -c bad modes: the good device has its ports")


def snmprec_checks(rec_paths, polled):
    files = [rec_paths["dell-os10"], rec_paths["small"]]
    doc = poll_json(["--snmprec"] + files, "poll --snmprec dell-os10 small")
    if not doc:
        return
    check(len(doc["devices"]) == 2, "poll --snmprec: two devices", len(doc["devices"]))
    for dev, path, community in zip(doc["devices"], files, ("dell-os10", "small")):
        what = f"poll --snmprec {community}"
        check(dev.get("target") == os.path.basename(path), f"{what}: target is the file name",
              dev.get("target"))
        check(dev.get("reachable") is True, f"{what}: reachable (sysName/sysDescr present)")
        compare_ports(doc_ports(dev), expected_ports(path), f"{what}: ports")
        agent = polled.get(community)
        if agent is None:
            continue
        check(doc_ports(dev) == doc_ports(agent),
              f"{what}: same ifIndex/ifName/ifOperStatus as polling it through snmpsimd",
              [a for a in zip(doc_ports(dev), doc_ports(agent)) if a[0] != a[1]][:5])
        for key in ("neighbors", "sensors", "hosts", "addresses"):
            check(len(dev.get(key, [])) == len(agent.get(key, [])),
                  f"{what}: as many {key} as through snmpsimd",
                  f"{len(dev.get(key, []))} vs {len(agent.get(key, []))}")
        check(dev.get("system") == agent.get("system"),
              f"{what}: the same system group as through snmpsimd",
              (dev.get("system"), agent.get("system")))


def v3_checks(sim, rec_paths, polled):
    user, auth, priv = V3_USER
    base = ["--device", f"127.0.0.1:{sim.port}", "--v3-user", user, "--v3-context", "small",
            "--timeout", "2s", "--retries", "1"]
    want = expected_ports(rec_paths["small"])
    for extra, label in (([], "levels from the passphrases"),
                         (["--v3-level", "authPriv", "--v3-auth-proto", "SHA",
                           "--v3-priv-proto", "AES"], "explicit authPriv SHA/AES")):
        what = f"poll v3 authPriv ({label})"
        doc = poll_json(base + ["--v3-auth-pass", auth, "--v3-priv-pass", priv] + extra, what)
        if doc and check(len(doc["devices"]) == 1, f"{what}: one device"):
            dev = doc["devices"][0]
            check(dev.get("reachable") is True, f"{what}: reachable", dev.get("reason"))
            compare_ports(doc_ports(dev), want, f"{what}: ports of the 'small' context")
            if "small" in polled:
                check(dev.get("system") == polled["small"].get("system"),
                      f"{what}: the system group as over v2c")
    what = "poll v3 with a wrong auth passphrase"
    doc = poll_json(base + ["--v3-auth-pass", "wrong" + auth, "--v3-priv-pass", priv], what,
                    want_rc=(1,))
    if doc and check(len(doc["devices"]) == 1, f"{what}: one device"):
        dev = doc["devices"][0]
        check(dev.get("reachable") is False, f"{what}: reachable false")
        check("authentication" in (dev.get("reason") or ""),
              f"{what}: the reason says authentication", dev.get("reason"))
        check(not dev.get("ports"), f"{what}: no ports", len(dev.get("ports") or []))


def geo_checks(sim, rec_paths, tmp):
    loop = {"name": "loop", "latitude": 50.1109, "longitude": 8.6821,
            "subnets": ["127.0.0.0/8"]}
    hq = {"name": "hq", "latitude": 40.7128, "longitude": -74.006}
    creds = [{"name": c, "community": c} for c in ("dell-os10", "arista_eos_vrf", "small")]
    cfg = write_config(tmp, "geo.yaml", {
        "timeout": "2s", "retries": 1, "credentials": creds,
        "devices": [{"host": "127.0.0.1", "port": sim.port, "credentials": "dell-os10",
                     "name": "by-subnet"},
                    {"host": "127.0.0.1", "port": sim.port, "credentials": "arista_eos_vrf",
                     "name": "by-site", "site": "hq"}]}, sites=[loop, hq])
    doc = poll_json(["-c", cfg], "poll -c geo (sites with subnets)")
    devs = by_id(doc)
    d = devs.get("by-subnet", {})
    check((d.get("site"), d.get("geo_source")) == ("loop", "subnet"),
          "geo: 127.0.0.1 in 127.0.0.0/8 -> site loop, source subnet",
          (d.get("site"), d.get("geo_source")))
    check(napi.close(d.get("latitude"), loop["latitude"]) and
          napi.close(d.get("longitude"), loop["longitude"]),
          "geo: the subnet's site gives its coordinates", (d.get("latitude"), d.get("longitude")))
    d = devs.get("by-site", {})
    check((d.get("site"), d.get("geo_source")) == ("hq", "site:config"),
          "geo: an explicit site: -> that site, source site:config",
          (d.get("site"), d.get("geo_source")))
    check(napi.close(d.get("latitude"), hq["latitude"]) and
          napi.close(d.get("longitude"), hq["longitude"]),
          "geo: the explicit site's coordinates", (d.get("latitude"), d.get("longitude")))

    # No subnet matches: a device with nothing to go by stays unknown; one whose sysLocation
    # holds "[lat, lon]" is placed there.
    far = {"name": "far", "latitude": 1.0, "longitude": 2.0, "subnets": ["10.0.0.0/8"]}
    cfg = write_config(tmp, "geo2.yaml", {
        "timeout": "2s", "retries": 1, "credentials": creds,
        "devices": [{"host": "127.0.0.1", "port": sim.port, "credentials": "dell-os10",
                     "name": "nowhere"},
                    {"host": "127.0.0.1", "port": sim.port, "credentials": "small",
                     "name": "by-location"}]}, sites=[far])
    doc = poll_json(["-c", cfg], "poll -c geo (no matching subnet)")
    devs = by_id(doc)
    d = devs.get("nowhere", {"site": "?"})
    check(d.get("site") is None and d.get("latitude") is None and d.get("longitude") is None
          and d.get("geo_source") is None,
          "geo: nothing to go by -> site null, latitude null, geo_source null",
          {k: d.get(k) for k in ("site", "latitude", "longitude", "geo_source")})
    loc = sys_value(rec_paths["small"], 6) or ""
    m = re.search(r"\[\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)\s*\]", loc)
    d = devs.get("by-location", {})
    if check(m is not None, "geo: the small fixture's sysLocation holds coordinates", loc):
        check(d.get("geo_source") == "sysLocation" and d.get("site") is None and
              napi.close(d.get("latitude"), float(m.group(1))) and
              napi.close(d.get("longitude"), float(m.group(2))),
              "geo: sysLocation '[lat, lon]' -> those coordinates, source sysLocation",
              {k: d.get(k) for k in ("site", "latitude", "longitude", "geo_source")})


def main():
    install_signal_cleanup()
    usage_checks()
    missing = None
    if not shutil.which("snmpsimd"):
        missing = "snmpsimd is not installed (Debian: snmpsim)"
    elif not all(os.path.isfile(os.path.join(RECORDINGS, r + ".snmprec")) for r in SHARED_USED):
        missing = f"shared recordings {', '.join(SHARED_USED)} not found under {RECORDINGS}"
    if missing:
        if napi.failures:
            return napi.finish("test_snmp_poll")
        napi.skip(missing + " (the usage checks passed)")
    rec_paths = {r: os.path.join(RECORDINGS, r + ".snmprec") for r in SHARED_USED}
    rec_paths["small"] = FIXTURE
    tmp = tempfile.mkdtemp(prefix="na-snmp-poll-")
    sim = SnmpSim(rec_paths)
    agent = BadAgent()
    try:
        sim.start()
        agent.start()
        note(f"snmpsimd on udp/{sim.port}, bad agent on udp/{agent.port}")
        polled = single_device(sim, rec_paths)
        several_devices(sim, rec_paths, tmp)
        bad_agent_checks(agent, tmp)
        snmprec_checks(rec_paths, polled)
        v3_checks(sim, rec_paths, polled)
        geo_checks(sim, rec_paths, tmp)
    except RuntimeError as e:
        check(False, "agents start", str(e))
    finally:
        agent.stop()
        sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return napi.finish("test_snmp_poll")


if __name__ == "__main__":
    sys.exit(main())
