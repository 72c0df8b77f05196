"""Shared helpers of the REST API integration tests (tests/integration/test_api_*.py and friends).

- Checks: check(cond, what, detail) records a failure and goes on; finish() prints a summary and
  returns the exit status (0, 1, or 77 = skipped).
- Daemon: runs `$NETASSURE_BIN serve -c CFG --listen 127.0.0.1:PORT --data-dir DIR` on a free
  port, waits until GET /status answers, and on stop() sends SIGTERM and checks exit status 0 and
  a clean stderr (no ERROR, AddressSanitizer or runtime error lines).
- Spec + Client: every response the client gets is validated against docs/openapi.json: the
  operation is found by path template and method, the response by status code, and the body
  by the operation's JSON schema (Draft 2020-12, $ref into the document). A status the document
  does not list for the operation, or a body that does not validate, is a failure.
- WebSocket: a minimal RFC 6455 client on the standard library (text frames, ping/pong, close).

Only the standard library, python3-requests and python3-jsonschema (Debian's /usr/bin/python3).
"""
import base64
import copy
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import datetime, timezone

import jsonschema
import requests

BIN = os.environ.get("NETASSURE_BIN", "build/netassure")
SRC = os.environ.get("NETASSURE_SOURCE_DIR",
                     os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
SHARED = os.environ.get("NETASSURE_SHARED_DATA", os.path.join(SRC, "..", "shared", "data"))
OPENAPI = os.path.join(SRC, "docs", "openapi.json")
EXAMPLES = os.path.join(SRC, "examples")

# ---------------------------------------------------------------- checks

failures = []
checks = [0]


def check(cond, what, detail=""):
    """Records a failure (and prints it) when cond is false; returns cond."""
    checks[0] += 1
    if not cond:
        text = f"{what}: {detail}" if detail != "" else what
        failures.append(text)
        print(f"FAIL {text}", flush=True)
    return bool(cond)


def note(text):
    print(f"NOTE {text}", flush=True)


def finish(name):
    """Prints the summary; returns the exit status for sys.exit."""
    if failures:
        print(f"{name}: {len(failures)} failure(s) in {checks[0]} checks:")
        for f in failures:
            print("  - " + f[:2000])
        return 1
    print(f"{name}: OK ({checks[0]} checks)")
    return 0


def skip(reason):
    """Exit status 77: CTest reports the test as skipped, with this line visible."""
    print(f"SKIP: {reason}", flush=True)
    sys.exit(77)


def wait_for(pred, timeout=60.0, step=0.1, what="condition"):
    """Polls pred() until it returns a true value (returned) or timeout (None, and a failure)."""
    end = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < end:
        try:
            v = pred()
            if v:
                return v
        except (requests.RequestException, KeyError, TypeError, ValueError) as e:
            last_exc = e
        time.sleep(step)
    check(False, f"timed out after {timeout:.0f}s waiting for {what}", repr(last_exc) if last_exc else "")
    return None


# ---------------------------------------------------------------- times

def parse_time(s):
    """RFC 3339 -> aware datetime (UTC)."""
    s = s.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    return datetime.fromisoformat(s).astimezone(timezone.utc)


def fmt_time(dt):
    """Aware datetime -> the daemon's own format, 2026-11-23T12:00:00.000Z."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def to_ms(dt):
    return int(round(dt.timestamp() * 1000))


def from_ms(ms):
    return datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)


def db_time(dt):
    """The warehouse's text form, 2026-11-23 12:00:00.000 (UTC)."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


# ---------------------------------------------------------------- files

def yaml_dump(value, indent=0):
    """A small block-style YAML writer for configs: strings double-quoted (JSON escapes are valid
    YAML), numbers and booleans bare. Enough for dicts, lists and scalars."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        out = []
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{k}:\n{yaml_dump(v, indent + 1)}")
            else:
                out.append(f"{pad}{k}: {yaml_scalar(v)}\n")
        return "".join(out)
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        out = []
        for v in value:
            if isinstance(v, (dict, list)) and v:
                inner = yaml_dump(v, indent + 1)
                out.append(f"{pad}- " + inner[len(pad) + 2:])
            else:
                out.append(f"{pad}- {yaml_scalar(v)}\n")
        return "".join(out)
    return pad + yaml_scalar(value) + "\n"


def yaml_scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return json.dumps(str(v))


def write_json_atomic(path, doc):
    """Writes JSON to path through a temporary file and a rename, so a watcher never reads half
    a file. Returns the text written."""
    text = json.dumps(doc, indent=1) + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return text


def load_json(path):
    with open(path) as f:
        return json.load(f)


def default_rules():
    """The alert rules of docs (api spec), and one low importance threshold so that the
    importance rule fires on the example topologies too."""
    return [
        {"name": "spof", "type": "articulation_point", "severity": "major"},
        {"name": "node-down", "type": "node_down", "severity": "critical"},
        {"name": "link-down", "type": "link_down", "severity": "minor"},
        {"name": "important-node", "type": "importance", "threshold": 0.05, "severity": "warning"},
        {"name": "important-node-low", "type": "importance", "threshold": 0.02, "severity": "info"},
    ]


def make_config(sources, rules=None, token=None, protect_reads=None, extra=None):
    cfg = {"log_level": "info", "sources": sources,
           "alert_rules": default_rules() if rules is None else rules,
           "detectors": [{"type": "importance_outlier", "threshold": 3.5}],
           "branding": {"product_name": "NetAssure Test", "primary_color": "#0b5fff",
                        "accent_color": "#ff7a00"},
           "banners": [{"id": "welcome", "level": "info", "text": "integration test"}]}
    if token is not None or protect_reads is not None:
        cfg["api"] = {}
        if token is not None:
            cfg["api"]["token"] = token
        if protect_reads is not None:
            cfg["api"]["protect_reads"] = protect_reads
    if extra:
        cfg.update(extra)
    return cfg


# ---------------------------------------------------------------- graphs (oracle side)

def up_graph(nodes, links):
    """The analytics graph as docs/ARCHITECTURE.md defines it, in NetworkX: every node is a
    vertex; down links, links of down nodes and self-loops are left out; parallels collapse."""
    import networkx as nx
    g = nx.Graph()
    down = {n["id"] for n in nodes if n.get("status") == "down"}
    g.add_nodes_from(n["id"] for n in nodes)
    for lk in links:
        s, t = lk["source"], lk["target"]
        if lk.get("status") == "down" or s in down or t in down or s == t:
            continue
        g.add_edge(s, t)
    return g


def importance(g, v, e_all=None):
    """Efficiency lost when v goes: E(G) - E(G - v), Latora-Marchiori global efficiency."""
    import networkx as nx
    if e_all is None:
        e_all = nx.global_efficiency(g)
    rest = g.copy()
    rest.remove_node(v)
    return e_all - nx.global_efficiency(rest)


def close(a, b, rel=1e-9, abs_=1e-12):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


# ---------------------------------------------------------------- OpenAPI validation

class Spec:
    """docs/openapi.json, with response validation."""

    METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

    def __init__(self, path=OPENAPI):
        self.doc = load_json(path)
        self.resolver = jsonschema.RefResolver(base_uri="", referrer=self.doc)
        # Concrete paths win over templated ones (OpenAPI's rule): fewer {params} first.
        self.templates = sorted(self.doc["paths"], key=lambda p: (p.count("{"), p))
        self.format_checker = jsonschema.FormatChecker()

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
        return obj

    def match(self, path):
        """Returns (template, path params) for a URL path, or (None, None)."""
        segs = path.split("/")
        for tpl in self.templates:
            tsegs = tpl.split("/")
            if len(tsegs) != len(segs):
                continue
            params = {}
            for t, s in zip(tsegs, segs):
                if t.startswith("{") and t.endswith("}"):
                    if s == "":
                        break
                    params[t[1:-1]] = urllib.parse.unquote(s)
                elif t != s:
                    break
            else:
                return tpl, params
        return None, None

    def operation(self, method, path):
        tpl, _ = self.match(path)
        if tpl is None:
            return None, None
        return tpl, self.doc["paths"][tpl].get(method.lower())

    def methods(self, tpl):
        return {m.upper() for m in self.doc["paths"][tpl] if m in self.METHODS}

    def validate_schema(self, schema, instance):
        """List of readable problems (at most 5) of instance against a schema of the document."""
        v = jsonschema.Draft202012Validator(schema, resolver=self.resolver,
                                            format_checker=self.format_checker)
        problems = []
        for err in sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))[:5]:
            where = "".join(f"[{p!r}]" for p in err.absolute_path) or "(top)"
            problems.append(f"at {where}: {err.message[:300]}")
        return problems

    def schema(self, name):
        return {"$ref": "#/components/schemas/" + name}

    def check_response(self, method, path, resp):
        """Problems of one response against the document (empty list: fine)."""
        problems = []
        status = resp.status_code
        ctype = resp.headers.get("Content-Type", "")
        tpl, op = self.operation(method, path)
        if status >= 500 and status != 503:
            return [f"server error {status}: {resp.text[:300]}"]
        if tpl is None:
            if status != 404:
                problems.append(f"undocumented path answered {status} (expected 404)")
            return problems + self._check_error_body(resp, 404 if status == 404 else None)
        if op is None:
            if status != 405:
                problems.append(f"method {method} not documented for {tpl}: answered {status} "
                                "(expected 405)")
                return problems
            allow = {m.strip().upper() for m in resp.headers.get("Allow", "").split(",") if m.strip()}
            if not self.methods(tpl) <= allow:
                problems.append(f"405 Allow header {resp.headers.get('Allow')!r} lacks "
                                f"{sorted(self.methods(tpl) - allow)}")
            return problems + self._check_error_body(resp, 405)
        responses = op.get("responses", {})
        rdoc = responses.get(str(status))
        if rdoc is None:
            return [f"status {status} is not documented for {method} {tpl} "
                    f"(documented: {sorted(responses)}); body: {resp.text[:300]}"]
        rdoc = self.deref(rdoc)
        for hname, hdoc in (rdoc.get("headers") or {}).items():
            hdoc = self.deref(hdoc)
            val = resp.headers.get(hname)
            if val is None:
                if hdoc.get("required") or status in (401, 405):
                    problems.append(f"header {hname} missing")
                continue
            if "schema" in hdoc:
                for p in self.validate_schema(hdoc["schema"], val):
                    problems.append(f"header {hname}: {p}")
        if status == 405:
            allow = {m.strip().upper() for m in resp.headers.get("Allow", "").split(",") if m.strip()}
            if not self.methods(tpl) <= allow:
                problems.append(f"405 Allow header lacks {sorted(self.methods(tpl) - allow)}")
        content = rdoc.get("content")
        if not content:
            return problems
        if "application/json" in content:
            if not ctype.startswith("application/json"):
                problems.append(f"Content-Type {ctype!r}, expected application/json")
            try:
                body = json.loads(resp.content.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                return problems + [f"body is not UTF-8 JSON ({e}): {resp.text[:200]!r}"]
            schema = content["application/json"].get("schema", {})
            problems += self.validate_schema(schema, body)
            if status >= 400 and isinstance(body, dict) and isinstance(body.get("error"), dict):
                if body["error"].get("status") != status:
                    problems.append(f"error.status {body['error'].get('status')} != HTTP {status}")
        else:
            want = next(iter(content))
            if not ctype.startswith(want):
                problems.append(f"Content-Type {ctype!r}, expected {want}")
        return problems

    def _check_error_body(self, resp, status):
        try:
            body = resp.json()
        except ValueError:
            return [f"error body is not JSON: {resp.text[:200]!r}"]
        problems = self.validate_schema(self.schema("Error"), body)
        if status is not None and isinstance(body, dict) and isinstance(body.get("error"), dict):
            if body["error"].get("status") != status:
                problems.append(f"error.status {body['error'].get('status')} != {status}")
        return problems


_SPEC = None


def spec():
    global _SPEC
    if _SPEC is None:
        _SPEC = Spec()
    return _SPEC


class FailedResponse:
    """Stands in for a response when the request itself failed (connection refused / reset)."""
    status_code = 0
    doc = None
    text = ""
    content = b""
    headers = {}

    def json(self):
        raise ValueError("no response")


class Client:
    """HTTP client whose every response is checked against docs/openapi.json.

    call(method, path, ...) returns the requests.Response with .doc set to the parsed JSON
    body (or None). `expect`: the status wanted (int or tuple); a different one is a failure.
    Problems are recorded with check() and do not raise."""

    def __init__(self, base, token=None, timeout=60):
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()
        self.server_errors = []
        self.calls = 0

    def call(self, method, path, params=None, json_body=None, data=None, headers=None,
             expect=None, token="default", what=None):
        hdrs = dict(headers or {})
        tok = self.token if token == "default" else token
        if tok is not None:
            hdrs["Authorization"] = f"Bearer {tok}"
        url = self.base + path
        kwargs = {"params": params, "headers": hdrs, "timeout": self.timeout}
        if json_body is not None:
            kwargs["data"] = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif data is not None:
            kwargs["data"] = data
        label = what or f"{method} {path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        if len(label) > 200:
            label = label[:200] + "..."
        self.calls += 1
        try:
            resp = self.session.request(method, url, **kwargs)
        except requests.RequestException as e:
            check(False, f"{label}: no HTTP answer", repr(e)[:300])
            return FailedResponse()
        if resp.status_code >= 500 and resp.status_code != 503:
            self.server_errors.append(f"{label} -> {resp.status_code}")
        raw_path = urllib.parse.urlsplit(resp.request.url).path
        problems = spec().check_response(method, urllib.parse.unquote(raw_path)
                                         if "{" not in raw_path else raw_path, resp)
        check(not problems, f"{label} -> {resp.status_code} does not match docs/openapi.json",
              "; ".join(problems))
        if expect is not None:
            exp = expect if isinstance(expect, tuple) else (expect,)
            check(resp.status_code in exp, f"{label}: status {resp.status_code}, expected "
                  f"{' or '.join(map(str, exp))}", resp.text[:400])
        resp.doc = None
        if resp.headers.get("Content-Type", "").startswith("application/json"):
            try:
                resp.doc = resp.json()
            except ValueError:
                pass
        return resp

    def get(self, path, params=None, **kw):
        return self.call("GET", path, params=params, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, json_body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, json_body=body, **kw)

    def doc(self, path, params=None, **kw):
        """GET that must be 200; returns the parsed body ({} / [] shaped None on failure)."""
        r = self.get(path, params=params, expect=200, **kw)
        return r.doc if r.status_code == 200 else None


# ---------------------------------------------------------------- daemon

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    """One `netassure serve` process in a temporary directory.

    workdir holds the config and topology files; data_dir is workdir/data. Use as a context
    manager or call start() / stop()."""

    def __init__(self, config=None, workdir=None, port=None, env=None, no_config=False,
                 allow_stderr=(), listen=True, token=None, keep=False):
        self.workdir = workdir or tempfile.mkdtemp(prefix="netassure-api-")
        self.own_workdir = workdir is None
        self.data_dir = os.path.join(self.workdir, "data")
        self.config = config
        self.config_path = os.path.join(self.workdir, "netassure.yaml")
        self.port = port
        self.env = env
        self.no_config = no_config
        self.allow_stderr = allow_stderr
        self.listen = listen
        self.token = token
        self.keep = keep or os.environ.get("NETASSURE_KEEP_TMP") == "1"
        self.proc = None
        self.stderr_path = os.path.join(self.workdir, "daemon.stderr")
        self.stdout_path = os.path.join(self.workdir, "daemon.stdout")
        self.stopped = False

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self):
        return os.path.join(self.data_dir, "netassure.db")

    def path(self, name):
        return os.path.join(self.workdir, name)

    def copy_example(self, name, as_name=None):
        dst = self.path(as_name or name)
        shutil.copyfile(os.path.join(EXAMPLES, name), dst)
        return dst

    def write_config(self, config=None):
        if config is not None:
            self.config = config
        with open(self.config_path, "w") as f:
            f.write("# written by tests/integration/napi.py\n")
            f.write(yaml_dump(self.config))

    def client(self, token="default"):
        return Client(self.base, token=self.token if token == "default" else token)

    def start(self, timeout=90):
        os.makedirs(self.data_dir, exist_ok=True)
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        if self.no_config:
            args = [BIN, "serve"]
            if self.port is None:
                self.port = 8080
        else:
            if self.config is not None:
                self.write_config()
            if self.port is None:
                self.port = free_port()
            args = [BIN, "serve", "-c", self.config_path, "--data-dir", self.data_dir]
            if self.listen:
                args += ["--listen", f"127.0.0.1:{self.port}"]
        self.args = args
        self.err_f = open(self.stderr_path, "wb")
        self.out_f = open(self.stdout_path, "wb")
        try:
            self.proc = subprocess.Popen(args, stdout=self.out_f, stderr=self.err_f, env=env,
                                         cwd=self.workdir)
        except OSError as e:
            self.stopped = True
            raise RuntimeError(f"cannot run {args[0]} (NETASSURE_BIN): {e}") from None
        end = time.monotonic() + timeout
        hdrs = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode} before answering; "
                                   f"args {args}; stderr:\n{self.stderr()[-3000:]}")
            try:
                r = requests.get(self.base + "/status", timeout=2, headers=hdrs)
                if r.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError(f"daemon did not answer GET /status within {timeout}s; stderr:\n"
                           f"{self.stderr()[-3000:]}")

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, expect_clean=True):
        """SIGTERM; checks exit status 0 and a clean stderr. Returns the exit status."""
        if self.proc is None or self.stopped:
            return None
        self.stopped = True
        rc = self.proc.poll()
        if rc is not None:
            check(False, "daemon still running when the test stops it",
                  f"it exited by itself with status {rc}; stderr tail:\n{self.stderr()[-3000:]}")
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
                check(False, "daemon stops within 60 s of SIGTERM", "killed")
        self.err_f.close()
        self.out_f.close()
        err = self.stderr()
        if expect_clean:
            check(rc == 0, "daemon exits 0 on SIGTERM", f"exit status {rc}; stderr tail:\n{err[-2000:]}")
            bad = [ln for ln in err.splitlines()
                   if ("ERROR" in ln or "AddressSanitizer" in ln or "runtime error" in ln
                       or "LeakSanitizer" in ln)
                   and not any(a in ln for a in self.allow_stderr)]
            check(not bad, "daemon stderr has no ERROR / sanitizer lines", "\n".join(bad[:20]))
        if not self.keep and self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        elif self.keep:
            note(f"kept {self.workdir}")
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def psql(url, sql):
    """Rows of one SQL statement through psql (-At: one line per row, '|' between columns)."""
    env = dict(os.environ, PGTZ="UTC")
    p = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, text=True, timeout=120, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"psql failed ({p.returncode}): {p.stderr.strip()[:500]}")
    return [ln for ln in p.stdout.splitlines() if ln != ""]


def fresh_pg_database(pg_url, prefix):
    """CREATE DATABASE <prefix><random> on the server of pg_url; returns (its URL, a function
    that drops it)."""
    dbname = prefix + uuid.uuid4().hex[:12]
    parts = urllib.parse.urlsplit(pg_url)
    psql(pg_url, f"CREATE DATABASE {dbname}")
    return (urllib.parse.urlunsplit(parts._replace(path="/" + dbname)),
            lambda: psql(pg_url, f"DROP DATABASE IF EXISTS {dbname}"))


def run_with_daemon(d, body, survived="daemon survived", starts="daemon starts"):
    """Starts d, runs body(d), stops d and checks it was still alive; False when it did not
    start (recorded as the failed check `starts`)."""
    try:
        d.start()
    except RuntimeError as e:
        check(False, starts, str(e))
        return False
    try:
        body(d)
    finally:
        alive = d.alive()
        d.stop()
        check(alive, survived)
    return True


def wait_analysed(client, min_version=1, timeout=120, what=None):
    """Waits until /status says the topology version >= min_version has been analysed and
    analytics are idle; returns that /status body."""
    def ready():
        r = client.session.get(client.base + "/status", timeout=10,
                               headers={"Authorization": f"Bearer {client.token}"} if client.token else {})
        if r.status_code != 200:
            return None
        st = r.json()
        tv = st["topology"]["version"]
        if (tv >= min_version and st["analytics"]["version"] == tv
                and st["analytics"]["state"] == "idle" and st["analytics"]["computed_at"]):
            return st
        return None
    return wait_for(ready, timeout=timeout,
                    what=what or f"topology version >= {min_version} analysed")


def status(client):
    return client.session.get(client.base + "/status", timeout=10,
                              headers={"Authorization": f"Bearer {client.token}"} if client.token else {}).json()


# ---------------------------------------------------------------- WebSocket

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WSClosed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason!r}")
        self.code = code
        self.reason = reason


class WebSocket:
    """A minimal RFC 6455 client: handshake, masked text frames out, text frames in
    (fragmented or not), answers pings, reports close frames as WSClosed."""

    def __init__(self, host, port, path="/stream", token=None, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"connection closed during the handshake: {buf[:300]!r}")
            buf += chunk
            if len(buf) > 65536:
                raise ConnectionError("handshake answer too long")
        head, self.buf = buf.split(b"\r\n\r\n", 1)
        head = head.decode("latin-1")
        status_line, *hlines = head.split("\r\n")
        self.status_line = status_line
        self.headers = {}
        for h in hlines:
            if ":" in h:
                k, v = h.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        if " 101 " not in status_line + " ":
            raise ConnectionError(f"handshake refused: {head[:500]}")
        want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        if self.headers.get("sec-websocket-accept") != want:
            raise ConnectionError(f"bad Sec-WebSocket-Accept {self.headers.get('sec-websocket-accept')!r}")

    def _send_frame(self, opcode, payload):
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, text):
        self._send_frame(0x1, text.encode("utf-8"))

    def send_json(self, doc):
        self.send_text(json.dumps(doc))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self):
        b0, b1 = self._read(2)
        fin, opcode = b0 & 0x80, b0 & 0x0F
        masked, n = b1 & 0x80, b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        mask = self._read(4) if masked else None
        payload = self._read(n)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bool(fin), opcode, payload, bool(masked)

    def recv_text(self, timeout=10.0):
        """The next text message (str). Raises socket.timeout, WSClosed, ConnectionError."""
        self.sock.settimeout(timeout)
        parts = []
        while True:
            fin, opcode, payload, masked = self._frame()
            if masked:
                raise ConnectionError("server frames must not be masked (RFC 6455 5.1)")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                reason = payload[2:].decode("utf-8", "replace")
                try:
                    self._send_frame(0x8, payload[:2])
                except OSError:
                    pass
                raise WSClosed(code, reason)
            if opcode in (0x1, 0x2, 0x0):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode("utf-8")

    def recv_json(self, timeout=10.0):
        return json.loads(self.recv_text(timeout))

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def check_stream_message(msg, what):
    """Validates one server->client /stream message against StreamMessage."""
    problems = spec().validate_schema(spec().schema("StreamMessage"), msg)
    return check(not problems, f"{what}: stream message does not match StreamMessage",
                 "; ".join(problems) + f" -- {json.dumps(msg)[:300]}")


# ---------------------------------------------------------------- misc

def check_document_refs():
    """Every $ref of docs/openapi.json resolves and every path template's parameters are
    declared as required path parameters (a cheap structural check of the document)."""
    s = spec()
    def walk(o, where):
        if isinstance(o, dict):
            if "$ref" in o and isinstance(o["$ref"], str):
                try:
                    s.resolver.resolve(o["$ref"])
                except jsonschema.RefResolutionError as e:
                    check(False, f"openapi.json: $ref at {where} resolves", str(e))
            for k, v in o.items():
                walk(v, f"{where}/{k}")
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk(v, f"{where}/{i}")
    walk(s.doc, "#")
    for tpl, item in s.doc["paths"].items():
        names = set(re.findall(r"\{([^}]+)\}", tpl))
        for m in s.METHODS:
            op = item.get(m)
            if op is None:
                continue
            params = [s.deref(p) for p in item.get("parameters", []) + op.get("parameters", [])]
            declared = {p["name"] for p in params if p["in"] == "path" and p.get("required")}
            check(names == declared, f"openapi.json: {m.upper()} {tpl} declares its path parameters",
                  f"{sorted(names)} vs {sorted(declared)}")
            check(bool(op.get("responses")), f"openapi.json: {m.upper()} {tpl} has responses")
            if m == "get" and tpl != "/stream":
                check("at" in {p["name"] for p in params if p["in"] == "query"},
                      f"openapi.json: GET {tpl} takes ?at=")
    for name, sch in s.doc["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(sch)
        except jsonschema.SchemaError as e:
            check(False, f"openapi.json: schema {name} is a valid 2020-12 schema", e.message)


def deepcopy(x):
    return copy.deepcopy(x)


def raw_request(port, data, body_chunks=(), timeout=30.0):
    """Sends raw bytes (a request head, then body chunks) and reads the answer until the server
    closes or a complete Content-Length body arrived. Sending stops quietly when the server
    closes early (it may answer 413 before reading a large body). Returns (status or None,
    headers dict (lower-case names), body bytes, note)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    note_ = ""
    try:
        try:
            s.sendall(data)
            for chunk in body_chunks:
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError) as e:
            note_ = f"send stopped: {e!r}"
        buf = b""
        try:
            while True:
                if b"\r\n\r\n" in buf:
                    head, rest = buf.split(b"\r\n\r\n", 1)
                    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                    if m and len(rest) >= int(m.group(1)):
                        break
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except ConnectionResetError as e:
            note_ += f" recv reset: {e!r}"
        except socket.timeout:
            note_ += " recv timeout"
    finally:
        s.close()
    if b"\r\n\r\n" not in buf:
        return None, {}, buf, note_ or "no complete answer"
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    hdrs = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return (int(m.group(1)) if m else None), hdrs, rest, note_


def as_dict(doc):
    """doc when it is a JSON object, else {} (so that checks on a wrong answer fail, not crash)."""
    return doc if isinstance(doc, dict) else {}
