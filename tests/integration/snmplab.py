"""A lab of network namespaces for the SNMP poller's integration tests (needs root).

Five "switches" sw1..sw5, each a network namespace named <prefix>swN (prefix na-<pid>-, so
parallel runs do not collide), wired with veth pairs as a ring sw1-sw2-sw3-sw4-sw1 plus a spur
sw3-sw5. A port is named after the switch it leads to: sw1's end of the sw1-sw2 cable is
"to-sw2". A management network joins them to the root namespace: a bridge <prefix>br there
(10.231.K.254/24, K = pid % 250, moved on when that /24 is in use) and one veth per switch,
"mgmt0" inside with 10.231.K.N/24.

In each namespace run
  - snmpd (Debian net-snmp 5.9) as AgentX master on a unix socket of its own, listening on
    udp:10.231.K.N:161 only; community "public"; a v3 user labuser (SHA "labauthpass", AES
    "labprivpass", authPriv); sysName swN; sysLocation with coordinates ("Lab rack N [52.37N,
    4.89E]") on sw1..sw3 and a plain site name ("lab-site") on sw4/sw5; its own engineID and
    persistent directory (SNMP_PERSISTENT_DIR), no MIB files loaded;
  - lldpd (Debian 1.0.16), its AgentX subagent pointed at that snmpd (-X), its own control
    socket (-u), foreground (-d, the Popen pid is the lldpd monitor: `ip netns exec` execs), its
    own lldpcli configuration (-O): system hostname swN, LLDP only on "to-*" ports (mgmt0 is
    excluded; -I too), tx-interval 1 s, tx-hold 4 (TTL 4 s). The privilege-separation chroot
    (/run/lldpd) is shared by all instances; lldpd only reads there, so they do not collide.

What lldpd sends (checked by hand, see the report of the lab's commit):
  - chassis id: subtype 4 (macAddress), the MAC of one of the namespace's interfaces;
  - port id: by default subtype 3 (macAddress) = the veth's MAC, with lldpRemPortDesc = the
    veth's name; with `configure lldp portidsubtype ifname`, subtype 5 (interfaceName) = the
    veth's name (and the description is the name too). port_ids="mixed" (the default) makes
    sw1, sw3, sw5 send ifName and sw2, sw4 their MAC, so a poller has to map both;
  - lldpRemLocalPortNum = the receiving port's ifIndex; management address: mgmt0's IPv4.
  - A veth set down: both ends' lldpd drop the neighbour at once (about 1 s through SNMP, not
    after the TTL), and IF-MIB ifOperStatus of both ends reads down(2) within about 1.5 s
    (snmpd caches the ifTable briefly). Back up: the neighbour is back within about 1 s.

Usage:
    with snmplab.Lab() as lab:          # up and ready (neighbours seen through SNMP)
        lab.ip("sw1"); lab.expected_links(); lab.set_link("sw1", "sw2", False)

Teardown (kill lldpd/snmpd by pid, delete the namespaces and the bridge, remove the temp dir)
runs on leaving the with block, at exit, and on SIGTERM/SIGINT. Labs of earlier runs whose pid
is dead (a crashed run) are removed when a new lab starts (cleanup_stale()).

`python3 snmplab.py` brings a lab up, prints its addresses and waits for Ctrl-C.
Only the standard library.
"""
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SWITCHES = ("sw1", "sw2", "sw3", "sw4", "sw5")
CABLES = (("sw1", "sw2"), ("sw2", "sw3"), ("sw3", "sw4"), ("sw4", "sw1"), ("sw3", "sw5"))
LOCATIONS = {"sw1": "Lab rack 1 [52.37N, 4.89E]", "sw2": "Lab rack 2 [52.37N, 4.89E]",
             "sw3": "Lab rack 3 [52.37N, 4.89E]", "sw4": "lab-site", "sw5": "lab-site"}
COMMUNITY = "public"
V3_USER, V3_AUTH_PROTO, V3_AUTH_PASS = "labuser", "SHA", "labauthpass"
V3_PRIV_PROTO, V3_PRIV_PASS = "AES", "labprivpass"

OID_SYSNAME = "1.3.6.1.2.1.1.5.0"
OID_LLDP_REM_SYSNAME = "1.0.8802.1.1.2.1.4.1.1.9"   # lldpRemSysName column of lldpRemTable
OID_LLDP_REM_TABLE = "1.0.8802.1.1.2.1.4.1"
OID_IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
OID_IF_OPER = "1.3.6.1.2.1.2.2.1.8"

NAME_RE = re.compile(r"^na-(\d+)([a-z]?)-")
TMP_PREFIX = "na-snmplab-"

_open_labs = []
_cleanups = []
_handlers_installed = [False]
_lab_count = [0]


class LabError(RuntimeError):
    pass


def missing_tools():
    """What this lab needs and the machine lacks, as readable reasons ([] when all is there)."""
    why = []
    if os.geteuid() != 0:
        why.append("not root (network namespaces need root)")
    for tool in ("ip", "snmpd", "lldpd", "lldpcli", "snmpget", "snmpbulkwalk"):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            why.append(f"{tool} not installed")
    if not why:
        p = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
        if p.returncode != 0:
            why.append(f"`ip netns` does not work: {p.stderr.strip()[:200]}")
    if not why:
        # root without the capability to make namespaces (some containers): say so, skip
        probe = f"na-probe-{os.getpid()}"
        p = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
        if p.returncode != 0:
            why.append(f"`ip netns add` is not allowed here: {p.stderr.strip()[:200]}")
        else:
            subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return why


def _tool(name):
    return shutil.which(name) or "/usr/sbin/" + name


def _run(args, check=True, timeout=30, env=None):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    if check and p.returncode != 0:
        raise LabError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr.strip()[:500]}")
    return p


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_netns_pids(ns):
    """SIGTERM, then SIGKILL, to the processes left in namespace ns (ours: a lab's daemons)."""
    p = _run(["ip", "netns", "pids", ns], check=False)
    pids = [int(x) for x in p.stdout.split() if x.isdigit()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        end = time.monotonic() + 3
        while time.monotonic() < end and any(_pid_alive(x) for x in pids):
            time.sleep(0.05)
        pids = [x for x in pids if _pid_alive(x)]
        if not pids:
            break


def cleanup_stale(verbose=True):
    """Removes labs of runs whose pid is dead: namespaces na-<pid>[x]-*, their processes, the
    bridge and root-side veths na-<pid>[x]-*, and temp dirs na-snmplab-<pid>-*. Returns the
    names removed."""
    removed = []
    p = _run(["ip", "netns", "list"], check=False)
    for line in p.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = NAME_RE.match(name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        _kill_netns_pids(name)
        _run(["ip", "netns", "del", name], check=False)
        removed.append(name)
    p = _run(["ip", "-o", "link", "show"], check=False)
    for line in p.stdout.splitlines():
        m = re.match(r"^\d+:\s+([^:@\s]+)", line)
        if not m:
            continue
        name = m.group(1)
        mm = NAME_RE.match(name)
        if mm and not _pid_alive(int(mm.group(1))):
            _run(["ip", "link", "del", name], check=False)
            removed.append(name)
    tmp = tempfile.gettempdir()
    for entry in os.listdir(tmp):
        m = re.match(r"^" + TMP_PREFIX + r"(\d+)-", entry)
        if m and not _pid_alive(int(m.group(1))):
            shutil.rmtree(os.path.join(tmp, entry), ignore_errors=True)
            removed.append(os.path.join(tmp, entry))
    if removed and verbose:
        print(f"snmplab: removed a stale lab: {' '.join(removed)}", flush=True)
    return removed


def add_cleanup(fn):
    """fn() runs before the labs are torn down at exit or on SIGTERM/SIGINT (e.g. to stop a
    daemon that polls the lab)."""
    _cleanups.append(fn)


def _close_all():
    while _cleanups:
        try:
            _cleanups.pop()()
        except Exception as e:  # teardown goes on whatever one cleanup does
            print(f"snmplab: cleanup failed: {e!r}", flush=True)
    for lab in list(_open_labs):
        lab.close()


def _on_signal(signum, frame):
    _close_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers():
    if _handlers_installed[0]:
        return
    _handlers_installed[0] = True
    atexit.register(_close_all)
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler, None):
                signal.signal(sig, _on_signal)
        except ValueError:  # not the main thread: atexit and the context manager still work
            pass


def _free_subnet(start):
    """A 10.231.K.0/24 (K from start) that no address or route of the root namespace uses."""
    used = _run(["ip", "-4", "-o", "addr", "show"], check=False).stdout
    used += _run(["ip", "-4", "route", "show"], check=False).stdout
    for i in range(250):
        k = (start + i) % 250
        if f"10.231.{k}." not in used:
            return k
    raise LabError("no free 10.231.K.0/24 for the management network")


class Lab:
    """The five-switch lab; see the module comment. Construction brings it up and waits until
    it is ready (LabError with the daemons' logs when it does not get there)."""

    def __init__(self, port_ids="mixed", ready_timeout=60.0, verbose=True, v3=True):
        for why in missing_tools():
            raise LabError(why)
        _install_handlers()
        cleanup_stale(verbose)
        _lab_count[0] += 1
        pid = os.getpid()
        suffix = "" if _lab_count[0] == 1 else chr(ord("a") + (_lab_count[0] - 1) % 26)
        self.prefix = f"na-{pid}{suffix}-"
        self.bridge = self.prefix + "br"
        self.verbose = verbose
        self.v3 = v3
        self.port_ids = port_ids
        self.procs = []        # (what, Popen)
        self.closed = False
        self.namespaces = []
        self.root_links = []
        self.tmp = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{pid}-")
        os.chmod(self.tmp, 0o755)  # lldpd's unprivileged side reaches the AgentX socket here
        self.cli_env = dict(os.environ, MIBS="", MIBDIRS=os.path.join(self.tmp, "no-mibs"),
                            SNMP_PERSISTENT_DIR=os.path.join(self.tmp, "cli-persist"),
                            SNMPCONFPATH=os.path.join(self.tmp, "no-conf"))
        _open_labs.append(self)
        try:
            self.k = _free_subnet(pid % 250)
            self.subnet = f"10.231.{self.k}.0/24"
            self.gateway = f"10.231.{self.k}.254"
            self._build()
            self._start_daemons()
            self.wait_ready(ready_timeout)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ names

    def ns(self, sw):
        return self.prefix + sw

    def ip(self, sw):
        return f"10.231.{self.k}.{SWITCHES.index(sw) + 1}"

    def ips(self):
        return [self.ip(sw) for sw in SWITCHES]

    def switches(self):
        return list(SWITCHES)

    @staticmethod
    def port(sw, peer):
        """sw's port towards peer."""
        return "to-" + peer

    def expected_links(self):
        """The veth wiring: {frozenset({(swA, ifnameA), (swB, ifnameB)})} ... as a set of
        ((swA, ifA), (swB, ifB)) with the two ends sorted, so it compares with any order."""
        return {tuple(sorted(((a, self.port(a, b)), (b, self.port(b, a))))) for a, b in CABLES}

    def neighbours(self, sw):
        """Expected LLDP neighbours of sw, by name."""
        return sorted({b for a, b in CABLES if a == sw} | {a for a, b in CABLES if b == sw})

    def port_id_subtype(self, sw):
        if self.port_ids == "mixed":
            return "ifname" if SWITCHES.index(sw) % 2 == 0 else "macaddress"
        return self.port_ids

    # ------------------------------------------------------------------ building

    def _log(self, text):
        if self.verbose:
            print(f"snmplab: {text}", flush=True)

    def _build(self):
        _run(["ip", "link", "add", self.bridge, "type", "bridge"])
        self.root_links.append(self.bridge)
        _run(["ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge])
        _run(["ip", "link", "set", self.bridge, "up"])
        for sw in SWITCHES:
            ns = self.ns(sw)
            _run(["ip", "netns", "add", ns])
            self.namespaces.append(ns)
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            root_end = f"{self.prefix}m{sw[2:]}"
            _run(["ip", "link", "add", root_end, "type", "veth", "peer", "name", "mgmt0",
                  "netns", ns])
            self.root_links.append(root_end)
            _run(["ip", "link", "set", root_end, "master", self.bridge])
            _run(["ip", "link", "set", root_end, "up"])
            _run(["ip", "-n", ns, "addr", "add", f"{self.ip(sw)}/24", "dev", "mgmt0"])
            _run(["ip", "-n", ns, "link", "set", "mgmt0", "up"])
        for a, b in CABLES:
            _run(["ip", "link", "add", "name", self.port(a, b), "netns", self.ns(a), "type", "veth",
                  "peer", "name", self.port(b, a), "netns", self.ns(b)])
        for a, b in CABLES:
            _run(["ip", "-n", self.ns(a), "link", "set", self.port(a, b), "up"])
            _run(["ip", "-n", self.ns(b), "link", "set", self.port(b, a), "up"])
        self._log(f"namespaces {self.prefix}sw1..sw5, bridge {self.bridge} {self.gateway}/24, "
                  f"switches {self.ips()[0]}..{self.ips()[-1]}")

    def _spawn(self, what, args, log_path):
        f = open(log_path, "ab")
        try:
            p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                 start_new_session=True,
                                 env=dict(os.environ, MIBS="",
                                          MIBDIRS=os.path.join(self.tmp, "no-mibs")))
        finally:
            f.close()
        self.procs.append((what, p))
        return p

    def path(self, sw, what):
        return os.path.join(self.tmp, f"{sw}.{what}")

    def _start_daemons(self):
        for sw in SWITCHES:
            persist = self.path(sw, "persist")
            os.makedirs(persist)
            lines = [
                "# written by tests/integration/snmplab.py",
                "master agentx",
                f"agentXSocket {self.path(sw, 'agentx')}",
                f"agentaddress udp:{self.ip(sw)}:161",
                f"rocommunity {COMMUNITY}",
                f"sysName {sw}",
                f"sysLocation {LOCATIONS[sw]}",
                "sysContact lab@example.net",
                "dontLogTCPWrappersConnects yes",
                f"engineID {self.prefix}{sw}",
            ]
            if self.v3:
                lines += [f'createUser {V3_USER} {V3_AUTH_PROTO} "{V3_AUTH_PASS}" '
                          f'{V3_PRIV_PROTO} "{V3_PRIV_PASS}"',
                          f"rouser {V3_USER} priv"]
            with open(self.path(sw, "snmpd.conf"), "w") as f:
                f.write("\n".join(lines) + "\n")
            env_args = ["env", f"SNMP_PERSISTENT_DIR={persist}"]
            self._spawn(f"snmpd {sw}",
                        ["ip", "netns", "exec", self.ns(sw)] + env_args +
                        [_tool("snmpd"), "-f", "-Lf", self.path(sw, "snmpd.log"),
                         "-p", self.path(sw, "snmpd.pid"), "-C", "-c", self.path(sw, "snmpd.conf")],
                        self.path(sw, "snmpd.out"))
        # lldpd's subagent connects to the AgentX socket at start and then retries slowly:
        # start it once the master's socket is there.
        end = time.monotonic() + 20
        for sw in SWITCHES:
            while not os.path.exists(self.path(sw, "agentx")):
                self._check_alive()
                if time.monotonic() > end:
                    raise LabError(f"snmpd of {sw} made no AgentX socket in 20 s\n" + self.logs())
                time.sleep(0.05)
        for sw in SWITCHES:
            conf = [f"configure system hostname {sw}",
                    "configure system interface pattern to-*",
                    "configure lldp tx-interval 1",
                    "configure lldp tx-hold 4",
                    f"configure lldp portidsubtype {self.port_id_subtype(sw)}"]
            with open(self.path(sw, "lldpd.conf"), "w") as f:
                f.write("\n".join(conf) + "\n")
            self._spawn(f"lldpd {sw}",
                        ["ip", "netns", "exec", self.ns(sw), _tool("lldpd"), "-ddd",
                         "-I", "to-*", "-X", self.path(sw, "agentx"),
                         "-u", self.path(sw, "lldpd.socket"), "-p", self.path(sw, "lldpd.pid"),
                         "-O", self.path(sw, "lldpd.conf"), "-L", _tool("lldpcli")],
                        self.path(sw, "lldpd.log"))

    def _check_alive(self):
        for what, p in self.procs:
            if p.poll() is not None:
                raise LabError(f"{what} exited with status {p.returncode}\n" + self.logs())

    # ------------------------------------------------------------------ SNMP from the root ns

    def snmp_args(self, v3=False):
        if v3:
            return ["-v3", "-u", V3_USER, "-l", "authPriv", "-a", V3_AUTH_PROTO, "-A", V3_AUTH_PASS,
                    "-x", V3_PRIV_PROTO, "-X", V3_PRIV_PASS]
        return ["-v2c", "-c", COMMUNITY]

    def snmpget(self, sw, oid, v3=False, timeout=1, retries=1):
        """The value text of one OID (-Oqv), or None when the agent does not answer."""
        p = _run([_tool("snmpget"), *self.snmp_args(v3), "-t", str(timeout), "-r", str(retries),
                  "-Oqv", self.ip(sw), oid], check=False, env=self.cli_env)
        if p.returncode != 0:
            return None
        return p.stdout.strip().strip('"')

    def snmpwalk(self, sw, oid, v3=False, timeout=1, retries=1):
        """{numeric OID suffix below oid: value text} by GETBULK, or None when no answer."""
        p = _run([_tool("snmpbulkwalk"), *self.snmp_args(v3), "-t", str(timeout),
                  "-r", str(retries), "-On", "-Oq", self.ip(sw), oid], check=False,
                 env=self.cli_env)
        if p.returncode != 0:
            return None
        out = {}
        base = "." + oid.strip(".") + "."
        for line in p.stdout.splitlines():
            if not line.startswith(base) or " " not in line:
                continue
            o, v = line.split(" ", 1)
            out[o[len(base):]] = v.strip().strip('"')
        return out

    def lldp_neighbours(self, sw):
        """lldpRemSysName values seen by sw through SNMP (sorted list), None when no answer."""
        rows = self.snmpwalk(sw, OID_LLDP_REM_SYSNAME)
        return None if rows is None else sorted(rows.values())

    def oper_status(self, sw, ifname):
        """IF-MIB ifOperStatus (int) of sw's port ifname through SNMP, None when not found."""
        names = self.snmpwalk(sw, OID_IF_NAME) or {}
        for idx, name in names.items():
            if name == ifname:
                v = self.snmpget(sw, f"{OID_IF_OPER}.{idx}")
                m = re.search(r"(\d+)\)?$", v or "")
                return int(m.group(1)) if m else None
        return None

    # ------------------------------------------------------------------ readiness

    def _state(self):
        """(ready, what is missing)."""
        missing = []
        for sw in SWITCHES:
            name = self.snmpget(sw, OID_SYSNAME)
            if name != sw:
                missing.append(f"{sw}: sysName {name!r}")
                continue
            nb = self.lldp_neighbours(sw)
            if nb != self.neighbours(sw):
                missing.append(f"{sw}: LLDP neighbours {nb} (want {self.neighbours(sw)})")
                continue
            # snmpd caches its interface table for a few seconds: a veth that came up after the
            # cache was filled still reads down until it is refreshed
            for peer in self.neighbours(sw):
                st = self.oper_status(sw, self.port(sw, peer))
                if st != 1:
                    missing.append(f"{sw}: {self.port(sw, peer)} ifOperStatus {st!r}")
        return not missing, missing

    def wait_ready(self, timeout=60.0):
        """Waits until every switch answers sysName over SNMP from the root namespace, its
        lldpRemTable lists exactly its cabled neighbours and IF-MIB shows their ports up.
        LabError (with the logs) on timeout."""
        t0 = time.monotonic()
        missing = ["not checked yet"]
        while time.monotonic() - t0 < timeout:
            self._check_alive()
            ok, missing = self._state()
            if ok:
                self._log(f"ready in {time.monotonic() - t0:.1f} s")
                return
            time.sleep(0.3)
        raise LabError(f"lab not ready after {timeout:.0f} s: {'; '.join(missing)}\n" + self.logs())

    def wait_neighbours(self, sw, want, timeout=30.0):
        """Waits until sw's lldpRemSysName list equals sorted(want); returns the seconds taken,
        or None on timeout."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.lldp_neighbours(sw) == sorted(want):
                return time.monotonic() - t0
            time.sleep(0.1)
        return None

    # ------------------------------------------------------------------ faults

    def set_link(self, a, b, up):
        """Sets a's end of the a-b cable up or down (ip link set to-b up|down in a's ns)."""
        if (a, b) not in CABLES and (b, a) not in CABLES:
            raise LabError(f"no cable between {a} and {b}")
        _run(["ip", "-n", self.ns(a), "link", "set", self.port(a, b), "up" if up else "down"])

    # ------------------------------------------------------------------ logs, teardown

    def logs(self, tail=3000):
        parts = []
        for sw in SWITCHES:
            for what in ("snmpd.log", "snmpd.out", "lldpd.log"):
                try:
                    with open(self.path(sw, what), "rb") as f:
                        text = f.read().decode("utf-8", "replace")
                except OSError:
                    continue
                if text.strip():
                    parts.append(f"--- {sw} {what} (tail)\n{text[-tail:]}")
        return "\n".join(parts)

    def close(self):
        """Idempotent teardown: daemons by pid, namespaces, bridge, temp dir."""
        if self.closed:
            return
        self.closed = True
        for what, p in self.procs:
            if p.poll() is None:
                try:
                    p.terminate()
                except ProcessLookupError:
                    pass
        for what, p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for ns in self.namespaces:
            _kill_netns_pids(ns)  # lldpd's unprivileged child, should it outlive its monitor
            _run(["ip", "netns", "del", ns], check=False)
        for link in self.root_links:
            if os.path.exists(f"/sys/class/net/{link}"):
                _run(["ip", "link", "del", link], check=False)
        if os.environ.get("NETASSURE_KEEP_TMP") == "1":
            self._log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if self in _open_labs:
            _open_labs.remove(self)
        self._log("torn down")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


if __name__ == "__main__":
    why = missing_tools()
    if why:
        print("snmplab: cannot run: " + "; ".join(why))
        sys.exit(77)
    with Lab() as lab:
        for sw in SWITCHES:
            print(f"{sw}\t{lab.ip(sw)}\tns {lab.ns(sw)}\tneighbours {lab.neighbours(sw)}")
        print(f"netassure poll {' '.join('--device ' + ip for ip in lab.ips())} "
              f"--community {COMMUNITY} --json")
        print("Ctrl-C tears the lab down.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
