#!/usr/bin/env python3
"""Integration tests of hearsayd and the hearsay CLI over loopback.

Each case starts real hearsayd processes on 127.0.0.1 (free ports chosen at
run time, short timing knobs), drives them over HTTP and the CLI, and checks
what an operator would see. Every wait is bounded; every daemon started is
killed by PID when the case ends (and, through PR_SET_PDEATHSIG, even if
this runner is killed by ctest's timeout). On failure the daemons' logs are
printed.

    agent_test.py --hearsayd PATH --hearsay PATH [--promtool PATH] CASE

Cases: converge tags events fail_detect leave bad_flags http_errors
promtool handlers cli sse_limits demo keys http_token metrics_docs
sse_resume cli_filters generation http_parsing http_flood http_slow
http_idle join_fail readyz local_events. Python 3 standard library only
(generation also needs libfaketime).
"""
import argparse
import base64
import ctypes
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

# Short knobs: 100 ms rounds and heartbeats; a silent member is suspect
# after roughly a second and dead one second later.
FAST = ["--gossip-interval", "100ms", "--heartbeat-interval", "100ms",
        "--dead-after", "1s", "--leave-timeout", "1500ms"]

ARGS = None
TMP = None
DAEMONS = []      # every Daemon started, for cleanup and logs
OTHER_PIDS = []   # other processes started (CLI watchers, demo)


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---- Processes ---------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # PR_SET_PDEATHSIG = 1: the daemon gets SIGKILL if this runner dies.
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def free_port(kind=socket.SOCK_STREAM):
    """A port that is free for both TCP and UDP right now."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        t = socket.socket(socket.AF_INET, other)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
    raise TestFailure("no free port")


class Daemon:
    def __init__(self, name, join=(), extra=(), http=True, http_host="127.0.0.1",
                 env=None):
        self.name = name
        self._spec = (join, extra, http, http_host, env)
        self.logpath = os.path.join(TMP, f"{name}.log")
        self.logf = open(self.logpath, "ab")
        self.respawns = 0
        self._spawn()
        self.signalled = False  # by the case (cleanup must not signal again)
        DAEMONS.append(self)

    def _spawn(self):
        join, extra, http, http_host, env = self._spec
        self.gport = free_port(socket.SOCK_DGRAM)
        self.hport = free_port() if http else None
        self.addr = f"127.0.0.1:{self.gport}"
        self.http = f"127.0.0.1:{self.hport}" if http else None
        args = [ARGS.hearsayd, "--name", self.name, "--bind", self.addr] + FAST
        args += ["--http", f"{http_host}:{self.hport}"] if http else ["--http", "off"]
        for j in join:
            args += ["--join", j.addr if isinstance(j, Daemon) else j]
        args += list(extra)
        self.args = args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent, env=env)
        self.pid = self.proc.pid

    def wait_ready(self, timeout=10):
        def up():
            if self.proc.poll() is not None:
                # free_port() and the daemon's bind are two steps: a test
                # running alongside may take the port in between. Only that
                # case is retried, with fresh ports, a few times.
                if "in use" in self.log() and self.respawns < 3:
                    self.respawns += 1
                    log(f"{self.name}: port taken meanwhile; again on new ports")
                    self._spawn()
                    return False
                raise TestFailure(f"{self.name} exited with {self.proc.returncode} "
                                  f"while starting:\n{self.log()}")
            try:
                code, _, _ = self.req("GET", "/healthz", timeout=1)
                return code == 200
            except OSError:
                return False
        wait_until(up, timeout, f"{self.name} /healthz answers 200")
        return self

    def req(self, method, path, body=None, headers=None, timeout=5):
        return http_req(self.hport, method, path, body, headers, timeout)

    def json(self, path):
        code, _, body = self.req("GET", path)
        check(code == 200, f"GET {path} on {self.name}: HTTP {code} {body!r}")
        return json.loads(body)

    def members(self, state=None):
        q = "/v1/members" + (f"?state={state}" if state else "")
        return {m["name"]: m for m in self.json(q)["members"]}

    def log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.pid, sig)
            self.signalled = True

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"{self.name} (pid {self.pid}) still running "
                              f"{timeout}s later")

    def kill(self):
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(5)


def _running(pid):
    """Whether pid is a live process (reaping it if it is our child)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")


def cleanup(graceful):
    """Stops what the case left running. When the case passed, daemons get
    a SIGTERM (a leave) and must exit 0, so teardown runs under the
    sanitizers too; any sanitizer report in any daemon's log fails the case.
    Returns a list of problems."""
    problems = []
    # Helpers (CLI watchers, the demo script) get SIGTERM first, so a
    # script's own cleanup trap runs; whatever is left then gets SIGKILL.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in OTHER_PIDS:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while sig == signal.SIGTERM and time.monotonic() < deadline:
            if not any(_running(p) for p in OTHER_PIDS):
                break
            time.sleep(0.05)
    stopping = [d for d in DAEMONS if d.proc.poll() is None]
    for d in stopping:
        if not graceful:
            os.kill(d.pid, signal.SIGKILL)
        elif not d.signalled:  # a leave the case started is left to finish
            os.kill(d.pid, signal.SIGTERM)
    for d in stopping:
        try:
            rc = d.proc.wait(10)
            if graceful and rc != 0:
                problems.append(f"{d.name} exited {rc} after SIGTERM at cleanup")
        except subprocess.TimeoutExpired:
            problems.append(f"{d.name} ignored SIGTERM at cleanup")
            d.kill()
    for d in DAEMONS:
        text = d.log()
        for mark in SANITIZER_MARKS:
            if mark in text:
                problems.append(f"{d.name}'s log has a sanitizer report ({mark})")
                break
    return problems


def wait_until(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except (OSError, http.client.HTTPException, ValueError) as e:
            last = e
        time.sleep(interval)
    raise TestFailure(f"timed out after {timeout}s waiting for: {what}"
                      + (f" (last error: {last})" if last else ""))


def http_req(port, method, path, body=None, headers=None, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def cli(*argv, env=None, timeout=15, input=None):
    e = dict(os.environ)
    e.pop("HEARSAY_HTTP_ADDR", None)
    e.pop("HEARSAY_HTTP_TOKEN", None)
    e.update(env or {})
    p = subprocess.run([ARGS.hearsay] + list(argv), capture_output=True,
                       text=True, timeout=timeout, env=e, input=input)
    return p.returncode, p.stdout, p.stderr


def cluster(n, prefix="n", extra=(), per_node=None):
    """n daemons, each joining through the first; waits until every one
    sees n alive members."""
    nodes = []
    for i in range(n):
        x = list(extra) + (per_node(i) if per_node else [])
        nodes.append(Daemon(f"{prefix}{i + 1}", join=nodes[:1], extra=x))
    for d in nodes:
        d.wait_ready()
    converge(nodes, n)
    return nodes


def converge(nodes, n, timeout=15):
    names = None

    def ok():
        for d in nodes:
            ms = d.members()
            alive = [m for m in ms.values() if m["state"] == "alive"]
            if len(alive) != n:
                return False
        return True
    wait_until(ok, timeout, f"all {len(nodes)} nodes see {n} alive members")
    return names


class SSEClient:
    """A raw-socket event-stream client (HTTP/1.0, so no chunking)."""

    def __init__(self, port, query="", rcvbuf=None, read=True, headers=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", port))
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.sock.sendall(f"GET /v1/events{query} HTTP/1.0\r\n"
                          f"Host: 127.0.0.1\r\n{extra}\r\n".encode())
        self.raw = b""
        self.events = []
        self.comments = []
        self.status = None
        self.closed = False
        self.lock = threading.Lock()
        self.thread = None
        if read:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                if self.closed:
                    return
                continue
            except OSError:
                break
            if not chunk:
                break
            with self.lock:
                self.raw += chunk
            buf += chunk
            if self.status is None and b"\r\n\r\n" in buf:
                head, buf = buf.split(b"\r\n\r\n", 1)
                self.status = int(head.split(b" ")[1])
            if self.status is not None:
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    self._block(block.decode())
        self.closed = True

    def _block(self, block):
        ev = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                with self.lock:
                    self.comments.append(line)
            elif ":" in line:
                k, v = line.split(":", 1)
                ev[k] = v[1:] if v.startswith(" ") else v
        if "data" in ev:
            ev["json"] = json.loads(ev["data"])
            with self.lock:
                self.events.append(ev)

    def find(self, type_, name):
        with self.lock:
            return [e for e in self.events
                    if e.get("event") == type_ and e["json"]["name"] == name]

    def wait_event(self, type_, name, timeout=15):
        return wait_until(lambda: self.find(type_, name), timeout,
                          f"event {type_} of {name} on the stream")[0]

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


def secret_file(name, text, mode=0o600):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def metrics_of(d):
    code, _, body = d.req("GET", "/metrics")
    check(code == 200, f"GET /metrics on {d.name}: {code}")
    return body.decode()


def metric(text, name, labels=None):
    """The value of one sample in a Prometheus exposition (None if absent)."""
    want = name
    if labels:
        want += "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    for line in text.splitlines():
        if line.startswith(want + " "):
            return float(line.split(" ")[-1])
    return None


# ---- Cases -----------------------------------------------------------------

def case_converge():
    nodes = cluster(5)
    n1, n3 = nodes[0], nodes[2]
    doc = n3.json("/v1/members")
    check(doc["self"] == "n3", f"self is {doc['self']}")
    check(sorted(doc.keys()) == ["members", "self"], f"top-level keys {doc.keys()}")
    check([m["name"] for m in doc["members"]] == [f"n{i}" for i in range(1, 6)],
          "members sorted by name")
    for m in doc["members"]:
        for k, t in (("name", str), ("addr", str), ("state", str),
                     ("generation", int), ("heartbeat", int),
                     ("phi", (int, float)), ("tags", dict)):
            check(isinstance(m.get(k), t), f"member field {k} of {m}")
        check(m["state"] == "alive", f"{m['name']} is {m['state']}")
        check(m["generation"] > 0, "generation > 0")
    by = {m["name"]: m for m in doc["members"]}
    check(by["n2"]["addr"] == nodes[1].addr, f"n2 addr {by['n2']['addr']}")
    # Heartbeats move.
    hb = by["n1"]["heartbeat"]
    wait_until(lambda: n3.members()["n1"]["heartbeat"] > hb, 5,
               "n1's heartbeat rises at n3")
    # Filters and single members.
    check(len(n1.members("alive")) == 5, "?state=alive has 5")
    check(len(n1.members("dead,left")) == 0, "?state=dead,left is empty")
    one = n1.json("/v1/members/n4")
    check(one["name"] == "n4" and one["addr"] == nodes[3].addr, f"/v1/members/n4: {one}")
    code, hdr, body = n1.req("GET", "/v1/members/nope")
    check(code == 404 and "error" in json.loads(body), f"unknown member: {code} {body}")

    # The CLI: an aligned table, --json, --state, and HEARSAY_HTTP_ADDR.
    rc, out, err = cli("members", "--http", n3.http)
    check(rc == 0, f"hearsay members: rc={rc} {err}")
    lines = out.strip("\n").split("\n")
    check(len(lines) == 6, f"table has a header and 5 rows:\n{out}")
    check(lines[0].split() == ["NAME", "ADDR", "STATE", "GENERATION",
                               "HEARTBEAT", "PHI", "TAGS"], f"header {lines[0]}")
    col = lines[0].index("ADDR")
    st = lines[0].index("STATE")
    for row in lines[1:]:
        check(row[col - 2:col] == "  " and row[col] != " ", f"ADDR column aligned: {row!r}")
        check(row[st:st + 5] == "alive", f"STATE column aligned: {row!r}")
    rc, out, _ = cli("members", "--json", "--state", "alive",
                     env={"HEARSAY_HTTP_ADDR": n1.http})
    check(rc == 0 and json.loads(out)["self"] == "n1" and
          len(json.loads(out)["members"]) == 5, f"members --json via env: {out}")
    rc, out, _ = cli("--http", n1.http, "members", "--state", "suspect")
    check(rc == 0 and out.startswith("NAME") and out.count("\n") == 1,
          f"--state suspect shows only the header: {out!r}")
    rc, _, err = cli("members", "--http", n1.http, "--state", "zombie")
    check(rc == 1 and "bad state filter" in err and len(err.strip().split("\n")) == 1,
          f"bad --state: rc={rc} {err!r}")


def case_tags():
    n1, n2, n3 = cluster(3, extra=[], per_node=lambda i: ["--tag", "zone=z%d" % i])
    wait_until(lambda: n1.members()["n3"]["tags"].get("zone") == "z2", 10,
               "--tag zone of n3 visible at n1")
    rc, out, err = cli("tag", "set", "role", "db primary", "--http", n1.http)
    check(rc == 0, f"tag set: rc={rc} {err}")
    for d in (n2, n3):
        wait_until(lambda d=d: d.members()["n1"]["tags"].get("role") == "db primary",
                   10, f"n1's role tag at {d.name}")
    code, _, body = n2.req("PUT", "/v1/tags/color", body=b"blue")
    check(code == 200 and json.loads(body) == {"key": "color", "value": "blue"},
          f"PUT /v1/tags/color: {code} {body}")
    wait_until(lambda: n1.json("/v1/members/n2")["tags"].get("color") == "blue", 10,
               "n2's color at n1")
    # Overwrite, then delete.
    check(n2.req("PUT", "/v1/tags/color", body=b"red")[0] == 200, "overwrite")
    wait_until(lambda: n3.members()["n2"]["tags"].get("color") == "red", 10,
               "new color at n3")
    code, _, body = n2.req("DELETE", "/v1/tags/color")
    check(code == 200, f"DELETE: {code} {body}")
    wait_until(lambda: "color" not in n1.members()["n2"]["tags"], 10,
               "deleted color gone at n1")
    rc, _, err = cli("tag", "del", "role", "--http", n1.http)
    check(rc == 0, f"tag del: {err}")
    wait_until(lambda: "role" not in n3.members()["n1"]["tags"], 10,
               "deleted role gone at n3")
    # Errors, through the CLI: one line, non-zero.
    rc, _, err = cli("tag", "del", "role", "--http", n1.http)
    check(rc == 1 and "no tag 'role'" in err and "404" in err, f"del absent: {rc} {err!r}")
    rc, _, err = cli("tag", "set", "hs.secret", "x", "--http", n1.http)
    check(rc == 1 and "reserved" in err, f"reserved key: {rc} {err!r}")
    rc, _, err = cli("tag", "set", "k", "--http", n1.http)
    check(rc == 2, f"tag set without value: {rc} {err!r}")
    rc, _, err = cli("tag", "set", "--http", n1.http, "flags", "--", "--fast")
    check(rc == 0, f"tag set with a value after --: {rc} {err!r}")
    wait_until(lambda: n2.members()["n1"]["tags"].get("flags") == "--fast", 10,
               "a value starting with -- set through the CLI")
    # A key that needs URL escaping.
    code, _, body = n1.req("PUT", "/v1/tags/" + urllib.parse.quote("a/b", safe=""),
                           body=b"1")
    check(code in (200, 400), f"escaped key: {code}")


def n3b_gen(c):
    """The generation of n3's latest incarnation, from its restart event."""
    return c.find("restart", "n3")[-1]["json"]["generation"]


def case_events():
    n1, n2 = cluster(2, extra=["--sse-keepalive", "300ms"])
    c1 = SSEClient(n1.hport)
    c2 = SSEClient(n1.hport, query="?type=join,fail,leave")
    watch = subprocess.Popen([ARGS.hearsay, "watch", "--http", n1.http],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, preexec_fn=_die_with_parent)
    OTHER_PIDS.append(watch.pid)
    watch_lines = []
    threading.Thread(target=lambda: watch_lines.extend(iter(watch.stdout.readline, "")),
                     daemon=True).start()
    jwatch = subprocess.Popen([ARGS.hearsay, "--http", n1.http, "watch", "--json",
                               "--type", "join"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True,
                              preexec_fn=_die_with_parent)
    OTHER_PIDS.append(jwatch.pid)
    jlines = []
    threading.Thread(target=lambda: jlines.extend(iter(jwatch.stdout.readline, "")),
                     daemon=True).start()
    wait_until(lambda: c1.status == 200 and c2.status == 200, 5, "streams open")
    wait_until(lambda: c1.comments, 3, "a comment (keep-alive) on the stream")
    wait_until(lambda: any("keep-alive" in c for c in c1.comments), 3,
               "a keep-alive comment within 3 s at --sse-keepalive 300ms")
    time.sleep(0.3)  # let hearsay watch connect

    n3 = Daemon("n3", join=[n1]).wait_ready()
    for c in (c1, c2):
        e = c.wait_event("join", "n3")
        j = e["json"]
        check(j["type"] == "join" and j["addr"] == n3.addr and j["state"] == "alive"
              and j["generation"] > 0 and "time" in j and int(e["id"]) == j["id"],
              f"join event: {e}")
    check(n3.req("PUT", "/v1/tags/role", body=b"cache")[0] == 200, "PUT role")
    u = c1.wait_event("update", "n3")
    check(u["json"]["key"] == "role" and u["json"]["deleted"] is False, f"update: {u}")
    check(not c2.find("update", "n3"), "?type filter keeps updates out")

    n3.kill()  # kill -9
    for c in (c1, c2):
        c.wait_event("fail", "n3", timeout=20)
    check(c1.find("suspect", "n3"), "suspect before fail on the unfiltered stream")
    check(not c2.find("suspect", "n3"), "?type filter keeps suspects out")

    # A restart: the same name comes back as a new process (a higher
    # generation replaces the dead one).
    n3b = Daemon("n3", join=[n1]).wait_ready()
    e = c1.wait_event("restart", "n3")
    check(e["json"]["generation"] > c1.find("join", "n3")[0]["json"]["generation"],
          f"restart has a higher generation: {e}")
    # A pause long enough for suspicion but not for death: recover.
    n3b.signal(signal.SIGSTOP)
    try:
        wait_until(lambda: len(c1.find("suspect", "n3")) >= 2, 10,
                   "the restarted n3 suspected while stopped")
    finally:
        os.kill(n3b.pid, signal.SIGCONT)
    c1.wait_event("recover", "n3")
    n3b.signalled = False  # SIGSTOP/SIGCONT were not a leave
    check(not [e for e in c1.events if e["event"] == "fail" and e["json"]["name"] == "n3"
               and e["json"]["generation"] == n3b_gen(c1)], "no fail for the paused n3")

    n4 = Daemon("n4", join=[n1]).wait_ready()
    c1.wait_event("join", "n4")
    n4.signal(signal.SIGTERM)
    for c in (c1, c2):
        e = c.wait_event("leave", "n4")
        check(e["json"]["state"] == "left", f"leave event: {e}")
    ids = [int(e["id"]) for e in c1.events]
    check(ids == sorted(ids) and len(set(ids)) == len(ids), f"ids increase: {ids}")

    wait_until(lambda: any(" join " in l and " n3 " in l for l in watch_lines) and
               any(" fail " in l and " n3 " in l for l in watch_lines) and
               any(" leave " in l and " n4 " in l for l in watch_lines), 10,
               "hearsay watch printed join/fail/leave lines")
    docs = [json.loads(l) for l in jlines]
    check(docs and all(d["type"] == "join" for d in docs) and
          any(d["name"] == "n3" for d in docs), f"watch --json --type join: {jlines}")
    line = [l for l in watch_lines if " join " in l and " n3 " in l][0]
    check(re.match(r"^\d{4}-\d\d-\d\dT[\d:.]+Z join +n3 127\.0\.0\.1:\d+ alive$",
                   line.rstrip("\n")), f"watch line format: {line!r}")
    # When the daemon goes, the stream ends and watch says so.
    n1.signal(signal.SIGTERM)
    check(n1.wait_exit(10) == 0, "n1 exit status 0")
    try:
        rc = watch.wait(10)
    except subprocess.TimeoutExpired:
        raise TestFailure("hearsay watch did not exit when hearsayd left")
    err = watch.stderr.read()
    check(rc == 1 and "event stream ended" in err, f"watch after leave: rc={rc} {err!r}")
    wait_until(lambda: c1.closed, 5, "SSE stream closed by the leaving daemon")
    c1.close()
    c2.close()


def case_fail_detect():
    nodes = cluster(4)
    victim = nodes[3]
    t0 = time.monotonic()
    victim.kill()
    for d in nodes[:3]:
        wait_until(lambda d=d: d.members()["n4"]["state"] == "dead", 20,
                   f"{d.name} reports n4 dead")
    took = time.monotonic() - t0
    log(f"n4 dead everywhere after {took:.1f}s")
    for d in nodes[:3]:
        ms = d.members()
        for n in ("n1", "n2", "n3"):
            check(ms[n]["state"] == "alive", f"{n} still alive at {d.name}")
        code, _, body = d.req("GET", "/metrics")
        text = body.decode()
        check(metric(text, "hearsay_events_total", {"type": "fail"}) >= 1,
              f"fail counted at {d.name}")
        check(metric(text, "hearsay_members", {"state": "dead"}) == 1,
              f"one dead member in {d.name}'s metrics")
        check(metric(text, "hearsay_events_total", {"type": "suspect"}) >= 1,
              "suspect counted")
    rc, out, _ = cli("members", "--http", nodes[0].http, "--state", "dead")
    check(rc == 0 and re.search(r"^n4 .* dead ", out, re.M), f"CLI shows n4 dead:\n{out}")


def case_leave():
    n1, n2, n3, n4 = cluster(4)
    # SIGTERM: a graceful leave, exit 0 within --leave-timeout (1.5 s).
    t0 = time.monotonic()
    n3.signal(signal.SIGTERM)
    code, _, body = n3.req("GET", "/healthz")
    check(code == 503 and json.loads(body)["status"] == "leaving",
          f"/healthz while leaving: {code} {body}")
    rc = n3.wait_exit(10)
    took = time.monotonic() - t0
    check(rc == 0, f"n3 exit status {rc}")
    check(took < 1.5 + 0.5, f"n3 exited {took:.2f}s after SIGTERM (leave timeout 1.5 s)")
    for d in (n1, n2, n4):
        wait_until(lambda d=d: d.members()["n3"]["state"] == "left", 10,
                   f"{d.name} reports n3 left")
    check("leaving the cluster" in n3.log() and "exiting with status 0" in n3.log(),
          "n3 logged its leave")
    # SIGINT does the same.
    n4.signal(signal.SIGINT)
    check(n4.wait_exit(10) == 0, "n4 exit status after SIGINT")
    wait_until(lambda: n1.members()["n4"]["state"] == "left", 10, "n4 left at n1")
    # hearsay leave: returns when the leave is done; the daemon exits 0.
    rc, out, err = cli("leave", "--http", n2.http)
    check(rc == 0 and "n2 left the cluster" in out, f"hearsay leave: {rc} {out!r} {err!r}")
    check(n2.wait_exit(5) == 0, "n2 exit status after hearsay leave")
    wait_until(lambda: n1.members()["n2"]["state"] == "left", 10, "n2 left at n1")
    # Left members are not dead, and nothing was suspected along the way.
    code, _, body = n1.req("GET", "/metrics")
    text = body.decode()
    check(metric(text, "hearsay_events_total", {"type": "leave"}) == 3, "3 leaves counted")
    check(metric(text, "hearsay_events_total", {"type": "fail"}) == 0, "no failures")
    # A second signal during the leave exits at once, non-zero.
    n5 = Daemon("n5", join=[n1], extra=["--leave-timeout", "20s"]).wait_ready()
    n5.signal(signal.SIGTERM)
    time.sleep(0.3)
    n5.signal(signal.SIGTERM)
    check(n5.wait_exit(5) == 1, "second SIGTERM: exit 1 at once")


def case_bad_flags():
    def run(args, want_rc, want_err, timeout=10, stdin=None):
        p = subprocess.run([ARGS.hearsayd] + args, capture_output=True, text=True,
                           timeout=timeout, preexec_fn=_die_with_parent)
        out = p.stderr + p.stdout
        check(p.returncode == want_rc and want_err in out,
              f"hearsayd {' '.join(args)}: rc={p.returncode} (want {want_rc}), "
              f"output {out!r} should contain {want_err!r}")
        return out

    def cfg(text):
        fd, path = tempfile.mkstemp(dir=TMP, suffix=".json")
        os.write(fd, text.encode())
        os.close(fd)
        return path

    base = ["--name", "x", "--bind", f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}",
            "--http", "off"]
    run(["--bogus"], 2, "unknown option '--bogus'")
    run(["--name"], 2, "--name needs a value")
    run(["positional"], 2, "unexpected argument 'positional'")
    run(base + ["--gossip-interval", "soon"], 2, "'soon' is not a duration")
    run(base + ["--fanout", "0"], 2, "--fanout: must be greater than 0")
    run(base + ["--join", "nohost"], 2, "--join: 'nohost' is not HOST:PORT")
    run(base + ["--tag", "noequals"], 2, "is not KEY=VALUE")
    run(base + ["--event-handler", "member-jion=/bin/true"], 2,
        "unknown event type 'member-jion'")
    run(base + ["--log-level", "chatty"], 2, "unknown log level")
    run(base + ["--mode", "shout"], 2, "unknown mode")
    # Keyrings and tokens: missing, readable by others, malformed.
    good_key = cli("keygen")[1].strip()
    run(base + ["--keyring", os.path.join(TMP, "nokeyring")], 2, "No such file")
    run(base + ["--keyring", secret_file("open.ring", good_key + "\n", 0o644)], 2,
        "chmod 600")
    run(base + ["--keyring", secret_file("bad.ring", f"# c\n{good_key}\nnot-a-key\n")],
        2, "line 3: not a base64 32-byte key")
    run(base + ["--keyring", secret_file("dup.ring", f"{good_key}\n\n{good_key}\n")],
        2, "line 3: the same key as line 1")
    run(base + ["--keyring", secret_file("empty.ring", "# nothing\n")], 2, "no key")
    run(base + ["--keyring", secret_file("ok.ring", good_key + "\n"),
                "--max-datagram", "560"], 2, "invalid configuration")
    run(["--name", "x", "--bind", f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}",
         "--http", f"0.0.0.0:{free_port()}"], 2, "not a loopback address")
    run(base + ["--http-token-file", secret_file("open.tok", "x" * 32, 0o640)], 2,
        "chmod 600")
    run(base + ["--http-token-file", secret_file("short.tok", "short")], 2,
        "the token must be")
    run(base + ["--replay-window", "10ms"], 2, "at least 1s")
    run(["--config", cfg('{"name": "x",\n"fanout": 2,,}')], 2, "line 2")
    run(["--config", cfg('{"gosip-interval": "1s"}')], 2,
        '"gosip-interval": unknown key')
    run(["--config", cfg('{"fanout": "lots"}')], 2, "'lots' is not a whole number")
    run(["--config", cfg('{"join": "10.0.0.1"}')], 2, "not HOST:PORT")
    run(["--config", os.path.join(TMP, "missing.json")], 2, "No such file")
    # Refused by the library's own checks (reported through its log).
    run(base + ["--max-datagram", "10"], 2, "invalid configuration")
    run(base + ["--tag", "hs.reserved=1"], 2, "--tag hs.reserved")
    # Ports in use: a run-time failure (1), with the reason.
    busy_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy_udp.bind(("127.0.0.1", 0))
    run(["--name", "x", "--bind", "127.0.0.1:%d" % busy_udp.getsockname()[1],
         "--http", "off"], 1, "cannot start gossip")
    busy_udp.close()
    busy_tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy_tcp.bind(("127.0.0.1", 0))
    busy_tcp.listen(1)
    run(["--name", "x", "--bind", f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}",
         "--http", "127.0.0.1:%d" % busy_tcp.getsockname()[1]], 1,
        "cannot serve HTTP")
    busy_tcp.close()
    # Help and version succeed.
    out = run(["--help"], 0, "usage: hearsayd")
    for flag in ("--name", "--bind", "--advertise", "--join", "--cluster", "--http",
                 "--tag", "--event-handler", "--keyring", "--http-token-file",
                 "--replay-window", "--max-source-rate", "--max-pending-sends",
                 "--config", "--log-level",
                 "--gossip-interval", "--heartbeat-interval", "--phi-threshold",
                 "--dead-after", "--fanout", "--max-datagram", "--mode"):
        check(flag in out, f"--help mentions {flag}")
    run(["--version"], 0, "hearsayd 0.")
    # A good config file with a flag over it: the flag wins.
    good = cfg(json.dumps({"name": "from-file", "cluster": "c1", "tag": {"k": "v"},
                           "gossip-interval": 100, "heartbeat_interval": "100ms",
                           "http": "127.0.0.1:%d" % free_port()}))
    d = Daemon("from-flag", extra=["--config", good]).wait_ready()
    me = d.json("/v1/members")
    check(me["self"] == "from-flag" and me["members"][0]["tags"] == {"k": "v"},
          f"config + flags: {me}")
    check('cluster "c1"' in d.log(), "cluster from the config file")
    # The example config of contrib/systemd parses and runs (its addresses
    # overridden by flags, which win).
    ex = Daemon("example", extra=["--config", os.path.join(
        ARGS.source_dir, "contrib/systemd/hearsayd.json")]).wait_ready()
    check(ex.json("/v1/members")["members"][0]["tags"] ==
          {"role": "db", "zone": "eu-west-1a"}, "example config's tags")
    # Log lines: timestamp, level, program[name].
    first = d.log().splitlines()[0]
    check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR|DEBUG) "
                   r"hearsayd\[from-flag\]: ", first), f"log line format: {first!r}")


def case_http_errors():
    (n1,) = cluster(1)

    def expect(method, path, code, needle=None, body=None, headers=None):
        c, hdr, data = n1.req(method, path, body=body, headers=headers)
        check(c == code, f"{method} {path}: HTTP {c}, want {code}: {data[:200]!r}")
        if method != "HEAD" and code >= 400:
            check(hdr.get("content-type", "").startswith("application/json"),
                  f"{method} {path}: content-type {hdr.get('content-type')}")
            doc = json.loads(data)
            check(isinstance(doc.get("error"), str) and doc["error"],
                  f"{method} {path}: JSON error body {data!r}")
            if needle:
                check(needle in doc["error"], f"{method} {path}: {doc['error']!r} "
                      f"lacks {needle!r}")
        return hdr, data

    expect("GET", "/nope", 404, "no such endpoint")
    expect("GET", "/dashboard/nope.js", 404, "no dashboard file")
    expect("PUT", "/", 405, "not allowed")
    expect("POST", "/v1/stats", 405, "not allowed")
    hdr, _ = expect("POST", "/v1/members", 405, "not allowed")
    check(hdr.get("allow") == "GET, HEAD", f"Allow header: {hdr.get('allow')}")
    expect("DELETE", "/metrics", 405)
    expect("GET", "/v1/tags/x", 405)
    expect("GET", "/v1/leave", 405)
    expect("GET", "/v1/members?state=zombie", 400, "bad state filter")
    expect("GET", "/v1/events?type=explode", 400, "unknown event type")
    expect("GET", "/v1/members/ghost", 404, "no member named 'ghost'")
    expect("DELETE", "/v1/tags/absent", 404, "no tag 'absent'")
    expect("PUT", "/v1/tags/hs.mine", 400, "reserved", body=b"x")
    expect("PUT", "/v1/tags/" + urllib.parse.quote("has space"), 400,
           "invalid tag key", body=b"x")
    expect("PUT", "/v1/tags/" + "k" * 200, 400, body=b"x")
    expect("PUT", "/v1/tags/big", 413, "too large", body=b"v" * 2000)
    expect("PUT", "/v1/tags/huge", 413, "larger than", body=b"v" * 100000)
    # A chunked body (no Content-Length) past the bound: read, dropped, 413.
    c = http.client.HTTPConnection("127.0.0.1", n1.hport, timeout=5)
    c.putrequest("PUT", "/v1/tags/chunky")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    piece = b"z" * 8192
    for _ in range(12):
        c.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    check(r.status == 413 and "error" in json.loads(r.read()), f"chunked: {r.status}")
    c.close()
    # HEAD works where GET does, without a body.
    c_, hdr, data = n1.req("HEAD", "/v1/members")
    check(c_ == 200 and data == b"", f"HEAD: {c_} {data!r}")
    # Garbage on the socket: the daemon answers (or hangs up) and lives on.
    for junk in (b"GARBAGE\r\n\r\n", b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n\r\n",
                 b"\x00\xff\x16\x03\x01" * 100):
        # (The last has no line end: MHD waits for more until its idle
        # timeout, so only wait briefly for an answer.)
        s = socket.create_connection(("127.0.0.1", n1.hport), timeout=1)
        try:
            s.sendall(junk)
            s.recv(4096)
        except OSError:
            pass
        s.close()
    wait_until(lambda: n1.req("GET", "/healthz")[0] == 200, 5, "alive after garbage")
    code, _, body = n1.req("GET", "/metrics")
    text = body.decode()
    check(metric(text, "hearsay_agent_http_responses_total", {"code": "404"}) >= 4,
          "404s counted in metrics")
    check(metric(text, "hearsay_agent_http_responses_total", {"code": "413"}) >= 3,
          "413s counted in metrics")


def case_promtool():
    n1, n2 = cluster(2)
    n2.req("PUT", "/v1/tags/role", body=b"db")
    wait_until(lambda: n1.members()["n2"]["tags"].get("role") == "db", 10, "tag spread")
    # promtool must be able to fail here, or its verdict means nothing.
    p = subprocess.run([ARGS.promtool, "check", "metrics"], input="bad metric{\n",
                       capture_output=True, text=True, timeout=30)
    check(p.returncode != 0, "promtool rejects a broken exposition")
    code, hdr, body = n1.req("GET", "/metrics")
    check(code == 200, f"/metrics: {code}")
    check(hdr["content-type"].startswith("text/plain; version=0.0.4"),
          f"content-type {hdr['content-type']}")
    p = subprocess.run([ARGS.promtool, "check", "metrics"], input=body.decode(),
                       capture_output=True, text=True, timeout=30)
    log(f"promtool check metrics: exit {p.returncode}, "
        f"output {(p.stdout + p.stderr).strip()!r}")
    check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
          f"promtool check metrics failed:\n{p.stdout}{p.stderr}")
    text = body.decode()
    check(metric(text, "hearsay_members", {"state": "alive"}) == 2, "2 alive")
    check(metric(text, "hearsay_member_phi", {"member": "n2"}) is not None, "phi of n2")
    check(metric(text, "hearsay_messages_sent_total", {"type": "syn"}) > 0, "syns sent")
    check(metric(text, "hearsay_received_bytes_total", {"type": "synack"}) > 0,
          "bytes received")
    check(metric(text, "hearsay_rejected_total", {"reason": "ECLUSTER"}) == 0,
          "rejections by reason")
    check(metric(text, "hearsay_events_total", {"type": "join"}) == 1, "1 join")
    check(metric(text, "hearsay_events_total", {"type": "update"}) >= 1, "updates")
    check(metric(text, "hearsay_gossip_round_duration_seconds_count") > 0, "rounds")
    check(re.search(r'^hearsay_build_info\{version="[0-9.]+",library_version="[0-9.]+"\} 1$',
                    text, re.M), "build info")
    # The shipped scrape config and alert rules are valid.
    for what, path in (("config", "contrib/prometheus/prometheus.yml"),
                       ("rules", "contrib/prometheus/hearsay-rules.yml")):
        p = subprocess.run([ARGS.promtool, "check", what,
                            os.path.join(ARGS.source_dir, path)],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, f"promtool check {what} {path}:\n{p.stdout}{p.stderr}")
    # A message for another cluster is dropped and counted by reason.
    n3 = Daemon("n3", join=[n1], extra=["--cluster", "other"]).wait_ready()
    wait_until(lambda: metric(n1.req("GET", "/metrics")[2].decode(),
                              "hearsay_rejected_total", {"reason": "ECLUSTER"}) > 0,
               10, "ECLUSTER rejections counted at n1")
    check("n3" not in n1.members(), "n3 of another cluster stays out")


def write_script(name, body):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)
    return path


def case_handlers():
    out = os.path.join(TMP, "handler-out")
    os.mkdir(out)
    rec = write_script("record.sh", f"""
f="{out}/$HEARSAY_EVENT.$HEARSAY_MEMBER_NAME"
# Written whole, then renamed: the test never reads a half-written file.
cat > "$f.stdin.tmp" && mv "$f.stdin.tmp" "$f.stdin"
env | grep '^HEARSAY_' | sort > "$f.env.tmp" && mv "$f.env.tmp" "$f.env"
echo "recorded $HEARSAY_EVENT $HEARSAY_MEMBER_NAME"
""")
    slow = write_script("slow.sh", f"""
echo $$ >> "{out}/slow.pids"
sleep 30
""")
    failing = write_script("failing.sh", "exit 3\n")
    n1 = Daemon("n1", extra=[
        "--tag", "dc=eu-1",
        "--event-handler", f"member-join,member-leave,fail={rec}",
        "--event-handler", f"join={slow}",
        "--event-handler", f"member-join={failing}",
        "--handler-timeout", "500ms", "--handler-concurrency", "4"]).wait_ready()
    n2 = Daemon("n2", join=[n1], extra=["--tag", "role=web"]).wait_ready()
    converge([n1, n2], 2)
    wait_until(lambda: os.path.exists(f"{out}/member-join.n2.env"), 10,
               "the join handler ran for n2")
    env = dict(l.split("=", 1) for l in
               open(f"{out}/member-join.n2.env").read().splitlines())
    check(env.get("HEARSAY_EVENT") == "member-join", f"env {env}")
    check(env.get("HEARSAY_SELF") == "n1", f"HEARSAY_SELF {env}")
    check(env.get("HEARSAY_MEMBER_NAME") == "n2", f"member name {env}")
    check(env.get("HEARSAY_MEMBER_ADDR") == n2.addr, f"member addr {env}")
    check(env.get("HEARSAY_MEMBER_STATE") == "alive", f"member state {env}")
    check(env.get("HEARSAY_MEMBER_GENERATION", "").isdigit(), f"generation {env}")
    check(env.get("HEARSAY_TAG_DC") == "eu-1", f"own tags as HEARSAY_TAG_* {env}")
    check(env.get("HEARSAY_HTTP_ADDR") == n1.http, f"HEARSAY_HTTP_ADDR {env}")
    line = open(f"{out}/member-join.n2.stdin").read()
    check(re.match(r"^n2\t127\.0\.0\.1:%d\talive\t(role=web)?\n$" % n2.gport, line),
          f"stdin line {line!r}")
    # The script's files appear before the daemon has read and logged its
    # output: wait for the log line rather than racing it.
    wait_until(lambda: "recorded member-join n2" in n1.log(), 10,
               "handler output logged")
    # The slow one is killed at the timeout, with its process group.
    wait_until(lambda: "(timeout)" in n1.log(), 5, "slow handler killed at 500 ms")
    pids = [int(x) for x in open(f"{out}/slow.pids").read().split()]

    def gone(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True
    wait_until(lambda: all(gone(p) for p in pids), 5, "slow handler processes gone")
    wait_until(lambda: "exited with status 3" in n1.log(), 5, "failing handler logged")
    text = n1.req("GET", "/metrics")[2].decode()
    check(metric(text, "hearsay_agent_handler_runs_total", {"result": "timeout"}) >= 1,
          "timeouts counted")
    check(metric(text, "hearsay_agent_handler_runs_total", {"result": "failed"}) >= 1,
          "failures counted")
    check(metric(text, "hearsay_agent_handler_runs_total", {"result": "ok"}) >= 1,
          "successes counted")
    # The filters hold: no fail record yet, no update handler at all.
    check(not os.path.exists(f"{out}/member-fail.n2.env"), "fail handler not run on join")
    # Gossip was not held up by the slow handler: n2 never became suspect.
    check(metric(text, "hearsay_events_total", {"type": "suspect"}) == 0,
          "no suspicion while handlers ran")
    # Leave and fail reach the handler with the right names.
    n3 = Daemon("n3", join=[n1]).wait_ready()
    wait_until(lambda: os.path.exists(f"{out}/member-join.n3.env"), 10, "join of n3")
    n3.kill()
    wait_until(lambda: os.path.exists(f"{out}/member-fail.n3.env"), 20,
               "fail handler ran for n3")
    env = dict(l.split("=", 1) for l in
               open(f"{out}/member-fail.n3.env").read().splitlines())
    check(env["HEARSAY_EVENT"] == "member-fail" and env["HEARSAY_MEMBER_STATE"] == "dead",
          f"fail env {env}")
    n2.signal(signal.SIGTERM)
    wait_until(lambda: os.path.exists(f"{out}/member-leave.n2.env"), 10,
               "leave handler ran for n2")
    check("HEARSAY_MEMBER_STATE=left" in open(f"{out}/member-leave.n2.env").read(),
          "leave env says left")


def case_cli():
    dead = f"127.0.0.1:{free_port()}"  # nothing listens here
    for argv in (["members"], ["watch"], ["tag", "set", "k", "v"], ["tag", "del", "k"],
                 ["leave"]):
        rc, out, err = cli(*argv, "--http", dead)
        check(rc == 1, f"hearsay {' '.join(argv)} with the daemon down: rc={rc}")
        check(len(err.strip().split("\n")) == 1 and "cannot reach hearsayd" in err
              and dead in err, f"one clear line: {err!r}")
    # The default address and the environment variable.
    rc, _, err = cli("members", env={"HEARSAY_HTTP_ADDR": dead})
    check(rc == 1 and dead in err, f"HEARSAY_HTTP_ADDR honoured: {err!r}")
    # --help everywhere, usage errors are 2.
    rc, out, _ = cli("--help")
    check(rc == 0 and "usage: hearsay" in out, "hearsay --help")
    for sub in ("members", "watch", "tag", "leave", "keys", "keygen"):
        rc, out, _ = cli(sub, "--help")
        check(rc == 0 and f"usage: hearsay {sub}" in out, f"hearsay {sub} --help: {out!r}")
    rc, _, err = cli("frobnicate")
    check(rc == 2 and "unknown command 'frobnicate'" in err, f"unknown command: {err!r}")
    rc, _, err = cli("members", "--bogus")
    check(rc == 2 and "unknown option '--bogus'" in err, f"unknown option: {err!r}")
    rc, _, _ = cli()
    check(rc == 2, "no command: usage error")
    rc, out, _ = cli("--version")
    check(rc == 0 and out.startswith("hearsay 0."), f"--version: {out!r}")
    # keygen: one line, base64 of 32 random bytes, different every time.
    keys = set()
    for _ in range(3):
        rc, out, err = cli("keygen")
        check(rc == 0 and out.endswith("\n") and out.count("\n") == 1, f"keygen: {out!r}")
        raw = base64.b64decode(out.strip(), validate=True)
        check(len(raw) == 32, f"keygen gives 32 bytes, got {len(raw)}")
        keys.add(out)
    check(len(keys) == 3, "three different keys")
    # Against a live daemon, over a URL form of --http as well.
    (n1,) = cluster(1)
    rc, out, _ = cli("members", "--http", f"http://{n1.http}/")
    check(rc == 0 and "n1" in out, f"--http as a URL: {out!r}")


def case_sse_limits():
    # Large datagrams (fine on loopback) so the tag churn below reaches n1b
    # in few rounds.
    n1, n2 = cluster(2, extra=["--sse-max-clients", "2", "--sse-keepalive", "200ms",
                               "--max-datagram", "60000"])
    a = SSEClient(n1.hport)
    b = SSEClient(n1.hport)
    wait_until(lambda: a.status == 200 and b.status == 200, 5, "two streams")
    c = SSEClient(n1.hport)
    wait_until(lambda: c.closed, 5, "third client answered and closed")
    check(c.status == 503, f"third client: {c.status}")
    body = c.raw.split(b"\r\n\r\n", 1)[1]
    check("too many event-stream clients" in json.loads(body)["error"], f"503 body {body!r}")
    # A client that goes away frees its slot (noticed at the next keep-alive).
    a.close()

    def fourth_ok():
        d = SSEClient(n1.hport)
        ok = wait_until(lambda: d.status is not None or d.closed, 5, "answer") and \
            d.status == 200
        d.close()
        return ok
    wait_until(fourth_ok, 5, "a new client is accepted once one left", interval=0.3)
    b.close()
    # A client that does not read is dropped once it is far enough behind,
    # and counted; the daemon and other clients carry on.
    n1b = Daemon("n1b", join=[n1], extra=["--sse-keepalive", "200ms",
                                          "--max-datagram", "60000"]).wait_ready()
    reader = SSEClient(n1b.hport)
    stuck = SSEClient(n1b.hport, rcvbuf=4096, read=False)
    time.sleep(0.5)
    value = b"v" * 1000
    deadline = time.monotonic() + 40
    i = 0
    while time.monotonic() < deadline:
        for k in range(20):
            n2.req("PUT", f"/v1/tags/k{k}", body=value + str(i).encode())
        i += 1
        # Each update event carries the member's tags (~20 KiB here): pace
        # the writer so a client that does read keeps up even on a loaded
        # machine, while the one that never reads still falls 1 MiB behind.
        time.sleep(0.2)
        text = n1b.req("GET", "/metrics")[2].decode()
        if metric(text, "hearsay_agent_event_stream_dropped_total") >= 1:
            break
    else:
        raise TestFailure("a client that never reads was not dropped")
    log(f"stuck client dropped after {i} rounds of 20 tag updates")
    check(n1b.req("GET", "/healthz")[0] == 200, "daemon fine after dropping")
    # The reader's thread may lag behind the daemon on a loaded machine
    # (sanitizers, parallel tests): give it time to parse what it was sent.
    wait_until(lambda: reader.closed or len(reader.find("update", "n2")) > 0, 10,
               "the reading client saw updates")
    check(not reader.closed and len(reader.find("update", "n2")) > 0,
          "the reading client keeps its stream")
    stuck.close()
    reader.close()


def case_demo():
    demo = os.path.join(ARGS.source_dir, "scripts", "demo.sh")
    check(os.access(demo, os.X_OK), "scripts/demo.sh is executable")
    # Five free consecutive ports for gossip and for HTTP.
    for _ in range(100):
        # Below Linux's ephemeral range (32768+), where outgoing connections
        # could take a port between this check and the demo's bind.
        base = 20000 + (os.getpid() * 7 + int(time.time() * 1000)) % 11000
        try:
            socks = []
            for p in list(range(base, base + 5)) + list(range(base + 1000, base + 1005)):
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    s = socket.socket(socket.AF_INET, kind)
                    s.bind(("127.0.0.1", p))
                    socks.append(s)
            for s in socks:
                s.close()
            break
        except OSError:
            for s in socks:
                s.close()
            time.sleep(0.01)
    env = dict(os.environ, HEARSAY_DEMO_BIN=os.path.dirname(ARGS.hearsayd),
               HEARSAY_DEMO_CLI=ARGS.hearsay, HEARSAY_DEMO_PORT=str(base),
               HEARSAY_DEMO_DIR=os.path.join(TMP, "demo"))
    p = subprocess.Popen(["bash", demo], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env=env, preexec_fn=_die_with_parent)
    OTHER_PIDS.append(p.pid)
    lines = []
    t = threading.Thread(target=lambda: lines.extend(iter(p.stdout.readline, "")),
                         daemon=True)
    t.start()
    def ready():
        if p.poll() is not None:
            t.join(2)
            raise TestFailure(f"demo.sh exited with {p.returncode}:\n{''.join(lines)}")
        return any("Ctrl-C" in l for l in lines)
    wait_until(ready, 60, "the demo says it is ready")
    text = "".join(lines)
    pids = [int(x) for x in re.findall(r"pid (\d+)", text)]
    check(len(pids) == 5, f"the demo reports 5 daemon pids:\n{text}")
    for d in pids:
        OTHER_PIDS.append(d)
    for what in (f"http://127.0.0.1:{base + 1000}/v1/members", "/metrics", "/v1/events",
                 "kill -9", "watch"):
        check(what in text, f"the demo explains {what!r}:\n{text}")
    check(re.search(r"hearsay --http 127\.0\.0\.1:\d+ members", text),
          f"the demo shows a hearsay members command:\n{text}")
    # The cluster is real and converged.
    doc = json.loads(http_req(base + 1000, "GET", "/v1/members")[2])
    check(len([m for m in doc["members"] if m["state"] == "alive"]) == 5,
          f"5 alive in the demo: {doc}")
    # Ctrl-C (SIGINT to the script) stops every process it started.
    p.send_signal(signal.SIGINT)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        raise TestFailure("demo.sh did not stop on SIGINT")
    t.join(5)

    def all_gone():
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        return False
            except FileNotFoundError:
                pass
        return True
    wait_until(all_gone, 10, "every daemon of the demo has exited")


def keygen():
    rc, out, err = cli("keygen")
    check(rc == 0, f"keygen: {err}")
    return out.strip()


def keys_in_file(path):
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def case_keys():
    k1, k2 = keygen(), keygen()
    rings = [secret_file(f"n{i + 1}.ring", f"# cluster key\n{k1}\n") for i in range(3)]
    nodes = cluster(3, per_node=lambda i: ["--keyring", rings[i]])
    for d in nodes:
        check("gossip is encrypted and authenticated" in d.log() and
              "NOT ENCRYPTED" not in d.log(), f"{d.name} says it seals")
    # Listing shows ids, never keys.
    code, _, body = nodes[0].req("GET", "/v1/keys")
    doc = json.loads(body)
    check(code == 200 and doc["encrypted"] is True and len(doc["keys"]) == 1 and
          doc["keys"][0]["primary"] is True and doc["keyring_file"] == rings[0],
          f"GET /v1/keys: {doc}")
    check(k1.encode() not in body, "GET /v1/keys does not reveal the key")
    rc, out, _ = cli("keys", "list", "--http", nodes[0].http)
    k1_id = doc["keys"][0]["id"]
    check(rc == 0 and out.strip() == f"{k1_id} primary", f"keys list: {out!r}")

    # Rotation without downtime, through the CLI: install everywhere, use
    # everywhere (the key read from stdin), remove the old one everywhere.
    for d in nodes:
        rc, out, err = cli("keys", "install", k2, "--http", d.http)
        check(rc == 0 and "installed" in out, f"install on {d.name}: {out!r} {err!r}")
    rc, out, _ = cli("keys", "install", k2, "--http", nodes[0].http)
    check(rc == 0 and "present" in out, f"installing twice: {out!r}")
    for d in nodes:
        rc, out, err = cli("keys", "use", "-", "--http", d.http, input=k2 + "\n")
        check(rc == 0 and "primary" in out, f"use on {d.name}: {out!r} {err!r}")
        time.sleep(0.2)
    for d in nodes:
        rc, _, err = cli("keys", "remove", k2, "--http", d.http)
        check(rc == 1 and "is the primary" in err, f"removing the primary: {err!r}")
        rc, out, err = cli("keys", "remove", k1_id, "--http", d.http)
        check(rc == 0 and "removed" in out, f"remove on {d.name}: {out!r} {err!r}")
    time.sleep(1.5)  # longer than failure detection takes at these knobs
    converge(nodes, 3, timeout=5)
    for d, ring in zip(nodes, rings):
        text = metrics_of(d)
        # (Not "no suspicion": on a loaded CI machine 100 ms heartbeats can
        # raise one; a broken rotation cuts a node off for good.)
        check(metric(text, "hearsay_events_total", {"type": "fail"}) == 0,
              f"{d.name} saw no failure during the rotation")
        check(metric(text, "hearsay_agent_keyring_writes_total", {"result": "ok"}) == 3,
              f"{d.name} rewrote its keyring 3 times")
        check(metric(text, "hearsay_keyring_keys") == 1, "one key left")
        check(keys_in_file(ring) == [k2], f"{ring} holds only the new key")
        check(os.stat(ring).st_mode & 0o777 == 0o600, f"{ring} stays mode 0600")
    # Mistakes are refused with a reason.
    rc, _, err = cli("keys", "install", "not-a-key", "--http", nodes[0].http)
    check(rc == 2 and "not a base64 32-byte key" in err, f"bad key: {err!r}")
    rc, _, err = cli("keys", "use", "deadbeef", "--http", nodes[0].http)
    check(rc == 1 and "no key with id" in err, f"unknown id: {err!r}")
    for body in (b"", b"{", b'{"key": 1}', b'{"key": "x", "id": "y"}', b'["k"]'):
        code, _, r = nodes[0].req("POST", "/v1/keys", body=body)
        check(code == 400 and b"error" in r, f"POST /v1/keys {body!r}: {code} {r!r}")
    code, _, _ = nodes[0].req("DELETE", "/v1/keys/00000000")
    check(code == 404, f"DELETE unknown id: {code}")
    code, hdrs, _ = nodes[0].req("PATCH", "/v1/keys")
    check(code == 405 and "POST" in hdrs.get("allow", ""), f"PATCH /v1/keys: {code}")
    # A rewrite that fails is rolled back: the node keeps what the file
    # says. (A directory where the file was makes the rename fail, even
    # for root.)
    os.rename(rings[0], rings[0] + ".real")
    os.mkdir(rings[0])
    try:
        code, _, r = nodes[0].req("POST", "/v1/keys", body=json.dumps({"key": keygen()}))
        check(code == 500 and b"rolled back" in r, f"failed rewrite: {code} {r!r}")
        check(len(nodes[0].json("/v1/keys")["keys"]) == 1, "the key was not kept")
    finally:
        os.rmdir(rings[0])
        os.rename(rings[0] + ".real", rings[0])
    check(not [f for f in os.listdir(TMP) if ".tmp." in f], "no temporary file left")
    check(metric(metrics_of(nodes[0]), "hearsay_agent_keyring_writes_total",
                 {"result": "error"}) == 1, "the failed rewrite is counted")

    # A restart reads the rewritten file and rejoins.
    nodes[2].signal(signal.SIGTERM)
    check(nodes[2].wait_exit(10) == 0, "n3 left")
    n3 = Daemon("n3", join=[nodes[0]], extra=["--keyring", rings[2]]).wait_ready()
    converge([nodes[0], nodes[1], n3], 3)
    # A node still on the old key stays out, and is counted.
    old = Daemon("old", join=[nodes[0]],
                 extra=["--keyring", secret_file("old.ring", k1 + "\n")]).wait_ready()
    time.sleep(1.0)
    check("old" not in nodes[0].members(), "a node with the old key does not join")
    check(metric(metrics_of(nodes[0]), "hearsay_rejected_total", {"reason": "EKEY"}) > 0,
          "its datagrams are counted as EKEY")
    old.signal(signal.SIGTERM)
    # A plaintext daemon says so loudly, and has no keys to rotate.
    plain = Daemon("plain").wait_ready()
    check("GOSSIP IS NOT ENCRYPTED" in plain.log(), "plaintext warning at start")
    check(plain.json("/v1/keys") ["encrypted"] is False, "plaintext: encrypted false")
    code, _, r = plain.req("POST", "/v1/keys", body=json.dumps({"key": k2}))
    check(code == 409 and b"--keyring" in r, f"keys on a plaintext node: {code} {r!r}")
    rc, out, _ = cli("keys", "list", "--http", plain.http)
    check(rc == 0 and "not encrypted" in out, f"keys list, plaintext: {out!r}")


def case_http_token():
    token = keygen()
    tf = secret_file("api.token", f"\n  {token}  \n")
    d = Daemon("t1", http_host="0.0.0.0",
               extra=["--http-token-file", tf]).wait_ready()
    check("write endpoints require the token" in d.log(), "token noted in the log")
    # Reads need no token.
    check(d.json("/v1/members")["self"] == "t1", "GET without a token")
    # Writes do.
    for hdrs in ({}, {"Authorization": "Bearer wrong-token-of-some-length"},
                 {"Authorization": f"Basic {token}"},
                 {"Authorization": f"Bearer {token}x"}):
        code, h, body = d.req("PUT", "/v1/tags/k", body=b"v", headers=hdrs)
        check(code == 401 and h.get("www-authenticate", "").startswith("Bearer"),
              f"PUT with {hdrs}: {code} {h}")
        check(b"token" in body, f"401 body says why: {body!r}")
    for method, path in (("DELETE", "/v1/tags/k"), ("POST", "/v1/leave"),
                         ("POST", "/v1/keys"), ("PUT", "/v1/keys/primary"),
                         ("DELETE", "/v1/keys/00000000")):
        code, _, _ = d.req(method, path)
        check(code == 401, f"{method} {path} without a token: {code}")
    code, _, _ = d.req("PUT", "/v1/tags/k", body=b"v",
                       headers={"Authorization": f"bearer  {token}"})
    check(code == 200, f"PUT with the token: {code}")
    check(metric(metrics_of(d), "hearsay_agent_http_unauthorized_total") == 9,
          "refusals counted")
    # The CLI: refused without, accepted with the file or the environment.
    rc, _, err = cli("tag", "set", "a", "1", "--http", d.http)
    check(rc == 1 and "API token" in err, f"CLI without a token: {err!r}")
    rc, _, err = cli("tag", "set", "a", "1", "--http", d.http, "--token-file", tf)
    check(rc == 0, f"CLI --token-file: {err!r}")
    rc, _, err = cli("--token-file", tf, "--http", d.http, "tag", "del", "a")
    check(rc == 0, f"CLI --token-file before the command: {err!r}")
    rc, _, err = cli("tag", "set", "b", "2", "--http", d.http,
                     env={"HEARSAY_HTTP_TOKEN": token})
    check(rc == 0, f"CLI HEARSAY_HTTP_TOKEN: {err!r}")
    rc, _, err = cli("tag", "set", "b", "2", "--http", d.http,
                     env={"HEARSAY_HTTP_TOKEN": "short"})
    check(rc == 2 and "not a valid token" in err, f"bad HEARSAY_HTTP_TOKEN: {err!r}")
    check(d.members()["t1"]["tags"] == {"k": "v", "b": "2"}, "tags written")
    # A token on loopback is enforced too.
    lo = Daemon("t2", extra=["--http-token-file", tf]).wait_ready()
    code, _, _ = lo.req("PUT", "/v1/tags/k", body=b"v")
    check(code == 401, f"loopback with a token: {code}")
    rc, out, err = cli("leave", "--http", d.http, env={"HEARSAY_HTTP_TOKEN": token})
    check(rc == 0 and "left" in out, f"leave with the token: {out!r} {err!r}")
    d.signalled = True
    check(d.wait_exit(10) == 0, "t1 exited after the leave")


def case_sse_resume():
    n1, n2 = cluster(2)

    def updates(c, keys):
        return wait_until(lambda: [e for e in c.events if e.get("event") == "update"
                                   and e["json"].get("key") in keys]
                          if len([e for e in c.events if e.get("event") == "update"
                                  and e["json"].get("key") in keys]) >= len(keys) else None,
                          10, f"updates of {keys} on the stream")

    first = SSEClient(n1.hport)
    wait_until(lambda: first.status == 200 and first.comments, 5, "stream open")
    for k in ("a0", "a1"):
        n2.req("PUT", f"/v1/tags/{k}", body=b"x")
    updates(first, {"a0", "a1"})
    last = max(int(e["id"]) for e in first.events)
    first.close()
    # Missed while away: three more.
    for k in ("b0", "b1", "b2"):
        n2.req("PUT", f"/v1/tags/{k}", body=b"x")
    wait_until(lambda: all(k in n1.members()["n2"]["tags"] for k in ("b0", "b1", "b2")),
               10, "n1 learns b0..b2")
    time.sleep(0.3)  # the update events are out by now
    for how, kw in (("Last-Event-ID header", {"headers": {"Last-Event-ID": str(last)}}),
                    ("?last-event-id=", {"query": f"?last-event-id={last}"})):
        c = SSEClient(n1.hport, **kw)
        got = updates(c, {"b0", "b1", "b2"})
        ids = [int(e["id"]) for e in c.events]
        check(ids and ids[0] == last + 1, f"{how}: resumes at {last + 1}, got {ids}")
        check(ids == list(range(last + 1, last + 1 + len(ids))),
              f"{how}: each missed event once, in order: {ids}")
        check(all(int(e["json"]["id"]) == int(e["id"]) for e in c.events), "ids agree")
        check(len(got) == 3, f"{how}: three updates replayed, got {len(got)}")
        c.close()
        log(f"{how} {last}: replayed ids {ids}")
    # Nothing to replay: a newer id (a client of an earlier run of the
    # daemon), or one that is not a number. Live events still flow.
    for bad in (str(last + 1000), "abc", "-1"):
        c = SSEClient(n1.hport, headers={"Last-Event-ID": bad})
        wait_until(lambda: c.status == 200 and c.comments, 5, "stream open")
        time.sleep(0.3)
        check(not c.events, f"Last-Event-ID {bad}: nothing replayed, got {c.events}")
        n2.req("PUT", f"/v1/tags/c{bad.strip('-')}", body=b"x")
        c.wait_event("update", "n2")
        c.close()
    log("unknown or future ids replay nothing; live events follow")


def case_cli_filters():
    nodes = cluster(3, per_node=lambda i: [
        "--tag", f"role={['web', 'web', 'db'][i]}", "--tag", f"zone=z{i % 2}"])
    http = nodes[0].http

    def names(*argv):
        rc, out, err = cli("members", "--http", http, *argv)
        check(rc == 0, f"members {argv}: rc {rc} {err}")
        return sorted(line.split()[0] for line in out.splitlines()[1:])

    check(names() == ["n1", "n2", "n3"], "no filter")
    check(names("--tag", "role=web") == ["n1", "n2"], "--tag role=web")
    check(names("--tag", "role=web", "--tag", "zone=z1") == ["n2"], "two --tag: all match")
    check(names("--tag=role=db") == ["n3"], "--tag=K=V")
    check(names("--tag", "role=nope") == [], "no match: just the header")
    check(names("--name", "^n[23]$") == ["n2", "n3"], "--name ERE")
    check(names("--name", "n(1|3)", "--tag", "role=web") == ["n1"], "--name and --tag")
    check(names("--state", "alive", "--name", "1") == ["n1"], "with --state")
    rc, out, _ = cli("members", "--http", http, "--json", "--tag", "role=db")
    doc = json.loads(out)
    check(rc == 0 and [m["name"] for m in doc["members"]] == ["n3"], f"--json filtered: {out}")
    for argv, needle in ((["--name", "("], "not a valid regular expression"),
                         (["--name", "a{2"], "not a valid regular expression"),
                         (["--tag", "role"], "not KEY=VALUE"),
                         (["--tag", "=web"], "not KEY=VALUE"),
                         (["--tag"], "needs a value")):
        rc, out, err = cli("members", "--http", http, *argv)
        check(rc == 2 and needle in err and not out, f"members {argv}: rc {rc} {err!r}")
    rc, out, _ = cli("members", "--help")
    check(rc == 0 and "--tag KEY=VALUE" in out and "--name REGEX" in out, "help")
    # Filters belong to members: other commands refuse them.
    rc, _, err = cli("watch", "--http", http, "--tag", "a=b")
    check(rc == 2, f"watch --tag: rc {rc} {err}")
    log("--tag and --name filter; bad ones exit 2 with a reason")


# ---- Documentation against the daemon ------------------------------------------

def documented_metrics():
    """The metrics table of docs/operations.md: {family: (type, {label:
    values or None})}, None where the values are not a fixed list."""
    path = os.path.join(ARGS.source_dir, "docs", "operations.md")
    with open(path) as f:
        text = f.read()
    section = text.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    fams = {}
    for line in section.splitlines():
        if not line.startswith("| `hearsay_"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        check(len(cells) == 4, f"operations.md metrics row has {len(cells)} cells: {line}")
        name = cells[0].strip("`")
        labels = {}
        for spec in re.split(r";\s*", cells[2]) if cells[2] else []:
            m = re.match(r"`(\w+)`:(.*)", spec)
            check(m, f"operations.md: cannot read labels {spec!r} of {name}")
            values = re.findall(r"`([^`]+)`", m.group(2))
            labels[m.group(1)] = set(values) if values else None
        check(name not in fams, f"operations.md lists {name} twice")
        fams[name] = (cells[1], labels)
    return fams


def scraped_metrics(text):
    """{family: (type, {label: set of values})} of an exposition."""
    fams = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split()
            fams[name] = (typ, {})
        elif line and not line.startswith("#"):
            m = re.match(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ", line)
            name = m.group(1)
            if name not in fams:
                name = re.sub(r"_(sum|count)$", "", name)
            check(name in fams, f"sample {line!r} before its TYPE")
            for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""):
                fams[name][1].setdefault(k, set()).add(v)
    return fams


def case_metrics_docs():
    # Two nodes, so that per-member families have series, and a first
    # scrape before anything else touched the API.
    n1, n2 = cluster(2)
    code, _, body = n1.req("GET", "/metrics")
    check(code == 200, f"/metrics: {code}")
    got = scraped_metrics(body.decode())
    doc = documented_metrics()
    check(len(doc) >= 40, f"only {len(doc)} families read from operations.md")
    missing = sorted(set(got) - set(doc))
    extra = sorted(set(doc) - set(got))
    check(not missing, f"served but not in docs/operations.md's metrics table: {missing}")
    check(not extra, f"in docs/operations.md but not served: {extra}")
    for name, (typ, labels) in sorted(doc.items()):
        gtyp, glabels = got[name]
        check(gtyp == typ, f"{name}: docs say {typ}, /metrics says {gtyp}")
        check(set(glabels) == set(labels),
              f"{name}: docs list labels {sorted(labels)}, /metrics has {sorted(glabels)}")
        for label, values in labels.items():
            if values is None:
                continue
            check(glabels[label] == values,
                  f"{name}{{{label}}}: docs list {sorted(values)}, the first scrape "
                  f"has {sorted(glabels[label])}")
    log(f"{len(doc)} families and their label values match docs/operations.md")
    # The Grafana dashboard and the alert rules only use metrics that exist.
    for path in ("contrib/grafana/hearsay-dashboard.json",
                 "contrib/prometheus/hearsay-rules.yml"):
        with open(os.path.join(ARGS.source_dir, path)) as f:
            text = f.read()
        used = set(re.findall(r"\b(hearsay_[a-z_]+)", text))
        # Families a dashboard may name with a suffix (_sum, _count) or that
        # other work is adding (join retries: hearsay_join_failures_total).
        known = set(got) | {n + s for n in got for s in ("_sum", "_count")}
        unknown = sorted(used - known - {"hearsay_join_failures_total"})
        check(used and not unknown, f"{path} uses unknown metrics {unknown}")
        log(f"{path}: {len(used)} metric names, all served")
FAKETIME_LIBS = ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/faketime/libfaketime.so.1")


def faketime_env(offset):
    """The environment that runs a daemon with its wall clock moved by
    offset ("-1h") through libfaketime (Debian package faketime). The
    monotonic clock is left alone: libev's timers run on it."""
    lib = next((p for p in FAKETIME_LIBS if os.path.exists(p)), None)
    check(lib, "libfaketime not found: apt-get install faketime "
               "(scripts/setup.sh lists it)")
    env = dict(os.environ, LD_PRELOAD=lib, FAKETIME=offset,
               FAKETIME_DONT_FAKE_MONOTONIC="1")
    # Under ASan the preloaded library comes before the ASan runtime.
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                           ":verify_asan_link_order=0").lstrip(":")
    return env


def case_generation():
    """--data-dir: a restart with the clock an hour behind still gets a
    higher generation, and its peers see it alive."""
    data = os.path.join(TMP, "data")
    state_path = os.path.join(data, "state.json")
    # Three members: a lone survivor would take the silence for its own
    # pause and convict nobody.
    n1 = Daemon("n1").wait_ready()
    Daemon("n3", join=[n1]).wait_ready()
    n2 = Daemon("n2", join=[n1], extra=["--data-dir", data]).wait_ready()
    wait_until(lambda: n1.members().get("n2", {}).get("state") == "alive", 15,
               "n1 sees n2 alive")
    g1 = n1.members()["n2"]["generation"]
    with open(state_path) as f:
        saved = json.load(f)
    check(saved == {"format": 1, "generations": {"n2": g1}},
          f"state file after the first start: {saved}")
    check(os.stat(state_path).st_mode & 0o777 == 0o600, "state file mode 0600")
    n2.kill()
    wait_until(lambda: n1.members()["n2"]["state"] == "dead", 15,
               "n1 declares the killed n2 dead")

    # Control: without the file, the clock an hour behind gives a lower
    # generation (so libfaketime is in effect and the case can fail).
    ctl = Daemon("ctl", env=faketime_env("-1h")).wait_ready()
    g_ctl = ctl.members()["ctl"]["generation"]
    check(g_ctl < g1 - 3_000_000,
          f"faketime -1h: generation {g_ctl} is not an hour below {g1}")
    ctl.kill()

    n2b = Daemon("n2", join=[n1], extra=["--data-dir", data],
                 env=faketime_env("-1h")).wait_ready()
    g2 = n2b.members()["n2"]["generation"]
    log(f"generation before the restart {g1}, clock an hour behind "
        f"{g_ctl}, after the restart {g2}")
    check(g2 > g1, f"restart with the clock behind: generation {g2} <= {g1}")
    check("is the clock behind?" in n2b.log(), "the clock step is logged")
    wait_until(lambda: (n1.members()["n2"]["state"] == "alive" and
                        n1.members()["n2"]["generation"] == g2), 15,
               f"n1 sees n2 alive again with generation {g2}")
    with open(state_path) as f:
        check(json.load(f)["generations"]["n2"] == g2, "state file holds g2")
    n2b.kill()

    # A damaged state file stops the start (exit 2), saying which file.
    with open(state_path, "w") as f:
        f.write('{"format": 1, "generations": {"n2": "x"}}')
    bad = Daemon("n2", extra=["--data-dir", data], http=False)
    check(bad.wait_exit(10) == 2, "damaged state file: exit status 2")
    check(state_path in bad.log() and "refusing to start" in bad.log(),
          f"damaged state file: message\n{bad.log()}")
    # Another name in the same data dir keeps n2's entry.
    with open(state_path, "w") as f:
        json.dump({"format": 1, "generations": {"n2": g2}}, f)
    n4 = Daemon("n4", extra=["--data-dir", data]).wait_ready()
    with open(state_path) as f:
        gens = json.load(f)["generations"]
    check(gens.get("n2") == g2 and gens.get("n4") == n4.members()["n4"]["generation"],
          f"two names in one data dir: {gens}")
# ---- The HTTP front door under load and abuse -------------------------------

def _term_with_parent():
    # PR_SET_PDEATHSIG = 1, with SIGTERM: `timeout` passes it on to its
    # child, where SIGKILL would orphan the loop.
    _libc.prctl(1, signal.SIGTERM, 0, 0, 0)


def busy_loops(n=3, seconds=60):
    """n CPU-bound shell loops, each under `timeout` (so bounded in time),
    so the daemon and the clients race for the cores as on a loaded host.
    Stopped by PID with SIGTERM, which `timeout` forwards to its loop."""
    procs = [subprocess.Popen(["timeout", str(seconds), "sh", "-c", "while :; do :; done"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              preexec_fn=_term_with_parent) for _ in range(n)]
    OTHER_PIDS.extend(p.pid for p in procs)
    return procs


def stop_loops(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192) if hard != resource.RLIM_INFINITY else 8192
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def open_conns(port, n, sources, hold_request=None):
    """n TCP connections to port, spread over the source addresses given
    (127.0.0.2, ...: the whole of 127/8 is loopback), each optionally with a
    partial request written. Returns the sockets (failures skipped)."""
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.bind((sources[i % len(sources)], 0))
            s.connect(("127.0.0.1", port))
            if hold_request:
                s.sendall(hold_request)
            socks.append(s)
        except OSError:
            s.close()
    return socks


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def health_within(d, timeout, what):
    """Seconds until /healthz answers 200 (bounded)."""
    t0 = time.monotonic()
    wait_until(lambda: d.req("GET", "/healthz", timeout=2)[0] == 200, timeout, what)
    return time.monotonic() - t0


def rejected(d):
    text = metrics_of(d)
    return {r: metric(text, "hearsay_agent_http_rejected_total", {"reason": r})
            for r in ("connection_limit", "client_limit", "idle_shed", "header_timeout",
                      "body_timeout", "idle_timeout", "bad_request", "malformed",
                      "accept_error")}


def case_http_flood():
    """About 270 connections opened and closed at once used to leave the API
    dark for good (MHD's listening socket out of its epoll set). 600
    connections from ten addresses, held a second and closed, three times,
    with three busy loops on the cores: /healthz answers after each."""
    raise_fd_limit()
    d = Daemon("f1").wait_ready()
    sources = [f"127.0.0.{i}" for i in range(2, 12)]
    loops = busy_loops()
    try:
        figures = []
        for rnd in range(3):
            socks = open_conns(d.hport, 600, sources)
            time.sleep(1)
            close_all(socks)
            took = health_within(d, 15, f"/healthz answers after flood round {rnd + 1}")
            figures.append((len(socks), took))
            log(f"flood round {rnd + 1}: {len(socks)} connections opened, held 1 s, "
                f"closed; /healthz answered {took:.2f} s later")
        # The issue's own numbers: 300 from one address past a limit of
        # 256 (per-address limit off), three times.
        d2 = Daemon("f2", extra=["--http-max-connections", "256",
                                 "--http-max-connections-per-ip", "0"]).wait_ready()
        for rnd in range(3):
            socks = open_conns(d2.hport, 300, ["127.0.0.1"])
            time.sleep(1)
            close_all(socks)
            took = health_within(d2, 15, f"f2: /healthz answers after round {rnd + 1}")
            log(f"f2 round {rnd + 1}: {len(socks)} connections from 127.0.0.1 past a "
                f"limit of 256, held 1 s, closed; /healthz answered {took:.2f} s later")
        log(f"f2 figures: rejected={rejected(d2)}")
    finally:
        stop_loops(loops)
    r = rejected(d)
    text = metrics_of(d)
    log(f"flood figures: accepted={metric(text, 'hearsay_agent_http_connections_total')} "
        f"rejected={r}")
    # Every reason is listed from the first scrape, zeros included.
    check(all(v is not None for v in r.values()), f"every reason listed: {r}")
    # Clients that connected and hung up without a byte are not "malformed".
    check(r["malformed"] == 0, f"silent hang-ups are not malformed requests: {r}")
    # Recovery: the connections are gone from the server's count.
    wait_until(lambda: metric(metrics_of(d), "hearsay_agent_http_connections") <= 2, 15,
               "the open-connection gauge falls back once the flood stops")


def case_http_slow():
    """Slowloris: a header byte every second keeps MHD's idle timer happy
    forever; the header deadline closes it, with a 408."""
    d = Daemon("s1", extra=["--http-header-timeout", "2s", "--http-body-timeout", "2s"]
               ).wait_ready()
    loops = busy_loops(seconds=40)
    try:
        def slowloris(first, drip, bound):
            s = socket.create_connection(("127.0.0.1", d.hport), timeout=1)
            s.sendall(first)
            t0 = time.monotonic()
            got = b""
            try:
                while time.monotonic() - t0 < bound:
                    try:
                        chunk = s.recv(4096)
                        if not chunk:
                            return time.monotonic() - t0, got
                        got += chunk
                    except socket.timeout:
                        pass
                    except OSError:
                        return time.monotonic() - t0, got
                    try:
                        s.sendall(drip)
                    except OSError:
                        return time.monotonic() - t0, got
                return None, got
            finally:
                s.close()
        took, got = slowloris(b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"X", 20)
        check(took is not None, "a header byte every second kept the connection open for 20 s")
        check(got.startswith(b"HTTP/1.1 408") and b'"error"' in got, f"408 answer: {got[:200]!r}")
        first = got.split(b"\r\n")[0].decode()
        log(f"slow head: closed after {took:.1f} s with {first}")
        took, got = slowloris(b"PUT /v1/tags/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000"
                              b"\r\n\r\n", b"v", 20)
        check(took is not None, "a body byte every second kept the connection open for 20 s")
        check(b"408" in got.split(b"\r\n")[0], f"slow body answered 408: {got[:200]!r}")
        first = got.split(b"\r\n")[0].decode()
        log(f"slow body: closed after {took:.1f} s with {first}")
        # A kept-alive connection with nothing begun: closed at the deadline
        # too, but silently (a 408 there could be taken for the answer to
        # a request sent at that moment).
        s = socket.create_connection(("127.0.0.1", d.hport), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while b"}" not in got:
            got += s.recv(4096)
        t0 = time.monotonic()
        rest = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                rest += chunk
        finally:
            s.close()
        took = time.monotonic() - t0
        check(got.startswith(b"HTTP/1.1 200") and rest == b"" and took < 9,
              f"idle keep-alive closed silently after {took:.1f} s: {rest!r}")
        log(f"idle keep-alive: closed silently after {took:.1f} s")
    finally:
        stop_loops(loops)
    r = rejected(d)
    check(r["header_timeout"] >= 2 and r["body_timeout"] >= 1, f"timeouts counted: {r}")
    check("no complete request head within 2000 ms" in d.log(), "header timeout logged")
    check(d.req("GET", "/healthz")[0] == 200, "still answering")


def case_http_idle():
    """1,000 idle connections (from 16 addresses) must not lock anyone out:
    /healthz answers while they are held; one address past its share is
    answered 429; the oldest idle connections are shed for newcomers, and
    everything comes back by itself once the load stops."""
    raise_fd_limit()
    d = Daemon("i1").wait_ready()
    sources = [f"127.0.0.{i}" for i in range(2, 18)]   # 16 x 63 = 1008 < 16 x 64
    loops = busy_loops()
    held = []
    try:
        held = open_conns(d.hport, 1000, sources)
        log(f"holding {len(held)} idle connections")
        check(len(held) >= 990, f"only {len(held)} connections opened")
        t0 = time.monotonic()
        oks = 0
        for _ in range(10):
            took = health_within(d, 10, "/healthz while 1,000 idle connections are held")
            oks += 1
        log(f"/healthz answered 10 times in {time.monotonic() - t0:.2f} s while they were held")
        # One address past its share: a JSON 429, counted.
        extra = open_conns(d.hport, 70, ["127.0.0.200"])
        answers = []
        for s in extra[64:]:
            try:
                s.settimeout(5)
                answers.append(s.recv(4096))
            except OSError as e:
                answers.append(repr(e).encode())
        close_all(extra)
        check(answers and all(a.startswith(b"HTTP/1.1 429") for a in answers),
              f"connections past the per-address limit get 429: {answers[:2]!r}")
        body = answers[0].split(b"\r\n\r\n", 1)[1]
        check("per client address" in json.loads(body)["error"], f"429 body {body!r}")
        r = rejected(d)
        log(f"while held: rejected={r}")
        check(r["idle_shed"] >= 400, f"idle connections shed for newcomers: {r}")
        check(r["client_limit"] >= 6, f"per-address refusals counted: {r}")
        check("closed an idle one" in d.log() and "it has 64 open" in d.log(),
              "shedding and refusals logged")
        # Rate-limited: one line per reason per 10 s, however many events.
        check(d.log().count("closed an idle one") <= 3, "shedding log rate-limited")
    finally:
        close_all(held)
        stop_loops(loops)
    wait_until(lambda: metric(metrics_of(d), "hearsay_agent_http_connections") <= 2, 15,
               "the open-connection gauge falls back once the load stops")
    # Back to normal by itself: a fresh batch from one address is served.
    for _ in range(20):
        check(d.req("GET", "/healthz")[0] == 200, "served after the load")


def case_http_parsing():
    """Decoded NULs and bad escapes in the URL are 400s; ambiguous framing is
    refused; a garbage request line is closed and counted."""
    (n1,) = cluster(1)

    def bad(method, path, body=None, needle=None):
        code, hdr, data = n1.req(method, path, body=body)
        check(code == 400, f"{method} {path}: HTTP {code}, want 400: {data[:200]!r}")
        check(hdr.get("content-type", "").startswith("application/json"),
              f"{method} {path}: content-type {hdr.get('content-type')}")
        err = json.loads(data)["error"]
        if needle:
            check(needle in err, f"{method} {path}: {err!r} lacks {needle!r}")
    check(n1.req("PUT", "/v1/tags/a", body=b"original")[0] == 200, "PUT a")
    bad("PUT", "/v1/tags/a%00b", body=b"evil", needle="NUL")
    check(n1.members()["n1"]["tags"].get("a") == "original", "tag a untouched by a%00b")
    bad("DELETE", "/v1/tags/a%00", needle="NUL")
    check(n1.members()["n1"]["tags"].get("a") == "original", "tag a not deleted by a%00")
    bad("GET", "/v1/members/n1%00zzz", needle="NUL")
    bad("GET", "/v1/members/n1%zz", needle="percent-encoding")
    bad("GET", "/v1/members/n1%4", needle="percent-encoding")
    bad("GET", "/v1/members?state=alive%00dead", needle="NUL")
    bad("GET", "/v1/events?type=join%00", needle="NUL")
    # Well-formed escapes still work.
    check(n1.req("GET", "/v1/members/%6e1")[0] == 200, "an escaped name is decoded")

    def raw(data, timeout=5):
        s = socket.create_connection(("127.0.0.1", n1.hport), timeout=timeout)
        s.sendall(data)
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return got, True
                got += chunk
        except socket.timeout:
            return got, False
        finally:
            s.close()
    # A raw NUL byte in the request line cuts the C string the same way.
    for line in (b"GET /v1/members/n1\x00zzz HTTP/1.1", b"PUT /v1/tags/a\x00b HTTP/1.1",
                 b"GET /v1/members?state=alive\x00x HTTP/1.1"):
        got, _ = raw(line + b"\r\nHost: x\r\nContent-Length: 4\r\n\r\nevil")
        check(got.startswith(b"HTTP/1.1 400") and b"NUL" in got, f"{line!r}: {got[:200]!r}")
    check(n1.members()["n1"]["tags"].get("a") == "original", "tag a untouched by a raw NUL")
    got, closed = raw(b"PUT /v1/tags/cl HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                      b"Content-Length: 5\r\n\r\nhello")
    check(got.startswith(b"HTTP/1.1 400") and b"conflicting Content-Length" in got,
          f"two Content-Lengths: {got[:300]!r}")
    check(closed, "the connection is closed after an ambiguous request")
    check("cl" not in n1.members()["n1"]["tags"], "no tag from the ambiguous request")
    got, closed = raw(b"PUT /v1/tags/te HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    check(got.startswith(b"HTTP/1.1 400") and b"ambiguous" in got,
          f"Content-Length with Transfer-Encoding: {got[:300]!r}")
    before = rejected(n1)["malformed"]
    got, closed = raw(b"GARBAGE\r\n\r\n")
    check(closed, f"a garbage request line: the connection is closed ({got!r})")
    wait_until(lambda: rejected(n1)["malformed"] >= before + 1, 5,
               "the garbage request line counted as malformed")
    r = rejected(n1)
    check(r["bad_request"] >= 12, f"400s counted: {r}")
    check("refused PUT /v1/tags/a" in n1.log(), "a refusal logged")


# ---- Joining and readiness --------------------------------------------------

def readyz(d):
    code, _, body = d.req("GET", "/readyz")
    return code, json.loads(body)


def case_readyz():
    # Without seeds: ready at once. With a live seed: ready once joined.
    n1 = Daemon("r1").wait_ready()
    code, doc = readyz(n1)
    check(code == 200 and doc["status"] == "ready", f"no seeds: {code} {doc}")
    n2 = Daemon("r2", join=[n1]).wait_ready()
    wait_until(lambda: readyz(n2)[0] == 200, 10, "r2 ready after joining r1")
    code, doc = readyz(n2)
    check(doc["status"] == "ready" and doc.get("peers_heard", 0) >= 1, f"r2: {doc}")
    code, _, _ = n2.req("POST", "/readyz")
    check(code == 405, f"POST /readyz: {code}")
    text = metrics_of(n2)
    check(metric(text, "hearsay_join_failures_total") == 0, "no failed join round")
    check(metric(text, "hearsay_joined") == 1, "hearsay_joined is 1")


def case_join_fail():
    """A --join that reaches nobody is reported: WARN per failed round, a
    counter, /readyz 503 with the reason, and --join-timeout exits 1."""
    dead_port = free_port(socket.SOCK_DGRAM)   # nothing listens there
    lone = Daemon("j1", join=[f"127.0.0.1:{dead_port}"]).wait_ready()
    code, doc = readyz(lone)
    check(code == 503 and doc["status"] == "not ready" and doc["reason"],
          f"unreachable seed: {code} {doc}")
    check(lone.req("GET", "/healthz")[0] == 200, "alive (liveness) all the same")
    wait_until(lambda: metric(metrics_of(lone), "hearsay_join_failures_total") >= 2, 15,
               "failed join rounds counted")
    wait_until(lambda: "no peer has answered" in lone.log(), 5, "a failed round logged")
    line = [l for l in lone.log().splitlines() if "no peer has answered" in l][0]
    check(" WARN " in line and f"127.0.0.1:{dead_port}" in line, f"WARN with the seed: {line}")
    code, doc = readyz(lone)
    check("nothing listening" in doc["reason"], f"reason: {doc}")
    check(metric(metrics_of(lone), "hearsay_joined") == 0, "hearsay_joined is 0")

    # Another cluster's node at the seed address: its answers never come.
    other = Daemon("j2", extra=["--cluster", "blue"]).wait_ready()
    wrong = Daemon("j3", join=[other], extra=["--cluster", "green"]).wait_ready()
    # The wrong key: both sealed, with different keys.
    ka, kb = secret_file("ka", keygen() + "\n"), secret_file("kb", keygen() + "\n")
    sa = Daemon("j4", extra=["--keyring", ka]).wait_ready()
    sb = Daemon("j5", join=[sa], extra=["--keyring", kb]).wait_ready()
    for d in (wrong, sb):
        wait_until(lambda: metric(metrics_of(d), "hearsay_join_failures_total") >= 1, 15,
                   f"{d.name}: a failed join round")
        code, doc = readyz(d)
        check(code == 503, f"{d.name} not ready: {code} {doc}")
    # The seed side says why it drops them (counted and logged there).
    wait_until(lambda: metric(metrics_of(other), "hearsay_rejected_total",
                              {"reason": "ECLUSTER"}) >= 1, 10, "ECLUSTER counted at j2")
    wait_until(lambda: "message for another cluster" in other.log(), 10,
               "another cluster's datagrams logged at j2")
    wait_until(lambda: "refused a datagram" in sa.log(), 10, "wrong key logged at j4")

    # A seed that comes up later: the node joins by itself and turns ready.
    late_port = free_port(socket.SOCK_DGRAM)
    waiting = Daemon("j6", join=[f"127.0.0.1:{late_port}"]).wait_ready()
    time.sleep(1.5)
    check(readyz(waiting)[0] == 503, "j6 not ready before its seed exists")
    seed_args = ["--bind", f"127.0.0.1:{late_port}"]
    seed = Daemon("j7", extra=seed_args)
    seed.wait_ready()
    wait_until(lambda: readyz(waiting)[0] == 200, 30, "j6 ready once its seed is up")
    check("joined: first exchange with a peer" in waiting.log(), "the join logged")

    # --join-timeout: give up, exit 1, say why.
    t0 = time.monotonic()
    quitter = Daemon("j8", join=[f"127.0.0.1:{dead_port}"], extra=["--join-timeout", "2s"])
    rc = quitter.wait_exit(20)
    took = time.monotonic() - t0
    quitter.signalled = True
    check(rc == 1, f"--join-timeout exit code {rc}")
    check("not joined within 2s" in quitter.log(), f"why it gave up:\n{quitter.log()[-2000:]}")
    log(f"--join-timeout 2s: exited {rc} after {took:.1f} s")
    # --join-timeout does nothing once joined.
    fine = Daemon("j9", join=[other], extra=["--cluster", "blue", "--join-timeout", "3s"])
    fine.wait_ready()
    time.sleep(4)
    check(fine.proc.poll() is None, "a joined node keeps running past --join-timeout")


def case_runtime_join():
    """`hearsay join` / POST /v1/join: a running node takes more seeds
    (serf's `serf join`), and bad requests are refused with the reason."""
    a = Daemon("rj1").wait_ready()
    b = Daemon("rj2").wait_ready()
    check(len(b.members()) == 1, "rj2 alone before the join")
    rc, out, err = cli("--http", b.http, "join", a.addr)
    check(rc == 0 and "joining through 1 seed" in out, f"join: {rc} {out} {err}")
    converge([a, b], 2)
    check("join over HTTP: 1 seed added" in b.log(), "the join logged")
    # Refusals: what the body must be, malformed seeds, the method.
    for body, want in ((b"", "the body must be"), (b'{"seeds": []}', "the body must be"),
                       (b'{"seeds": "x"}', "the body must be"), (b'{"seeds": [1]}', "the body must be"),
                       (b'{"seeds": ["no-port"]}', "malformed")):
        code, _, text = b.req("POST", "/v1/join", body)
        check(code == 400 and want.encode() in text, f"POST /v1/join {body!r}: {code} {text}")
    code, hdr, _ = b.req("GET", "/v1/join")
    check(code == 405, f"GET /v1/join: {code}")
    rc, out, err = cli("--http", b.http, "join")
    check(rc == 2 and "usage" in err, f"join without seeds: {rc} {err}")
    rc, out, err = cli("--http", b.http, "join", "bad seed")
    check(rc == 1 and "malformed" in err, f"join of a malformed seed: {rc} {err}")
    check(len(b.members()) == 2, "nothing added by the refused requests")


def case_local_events():
    """A node's own tag changes appear on its own event stream, marked local,
    and reach its event handlers with HEARSAY_KEY_LOCAL=1."""
    out = os.path.join(TMP, "updates.txt")
    handler = ("member-update=echo \"$HEARSAY_MEMBER_NAME $HEARSAY_KEY "
               f"$HEARSAY_KEY_DELETED $HEARSAY_KEY_LOCAL\" >> {out}")
    n1, n2 = cluster(2, per_node=lambda i: ["--event-handler", handler] if i == 0 else [])
    c1 = SSEClient(n1.hport)
    wait_until(lambda: c1.status == 200, 5, "stream open")
    check(n1.req("PUT", "/v1/tags/color", body=b"red")[0] == 200, "PUT color")
    e = c1.wait_event("update", "n1", timeout=5)["json"]
    check(e["key"] == "color" and e["local"] is True and e["deleted"] is False,
          f"local update event: {e}")
    check(e["tags"].get("color") == "red", f"tags after the event: {e}")
    check(n1.req("DELETE", "/v1/tags/color")[0] == 200, "DELETE color")
    wait_until(lambda: any(x["json"].get("deleted") for x in c1.find("update", "n1")), 5,
               "a local delete event")
    d = [x["json"] for x in c1.find("update", "n1") if x["json"]["deleted"]][0]
    check(d["local"] is True and d["key"] == "color", f"local delete: {d}")
    # A peer's change is not local.
    check(n2.req("PUT", "/v1/tags/size", body=b"9")[0] == 200, "PUT on n2")
    p = c1.wait_event("update", "n2", timeout=10)["json"]
    check(p["local"] is False, f"a peer's update is not local: {p}")
    def handled():
        try:
            with open(out) as f:
                return f.read().splitlines()
        except OSError:
            return []
    wait_until(lambda: "n1 color 0 1" in handled() and "n1 color 1 1" in handled()
               and "n2 size 0 0" in handled(), 10, "handlers saw local and peer updates")
    # A failed write emits nothing.
    n = len(c1.find("update", "n1"))
    check(n1.req("PUT", "/v1/tags/hs.x", body=b"1")[0] == 400, "reserved key refused")
    time.sleep(0.5)
    check(len(c1.find("update", "n1")) == n, "no event for a refused write")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    global ARGS, TMP
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hearsayd", required=True)
    ap.add_argument("--hearsay", required=True)
    ap.add_argument("--promtool", default="promtool")
    ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("case", choices=sorted(CASES))
    ARGS = ap.parse_args()
    if ARGS.case == "promtool" and not shutil.which(ARGS.promtool):
        print(f"promtool not found ({ARGS.promtool}): install the Debian package "
              "'prometheus' (scripts/setup.sh does)", file=sys.stderr)
        return 1
    TMP = tempfile.mkdtemp(prefix=f"hearsay-agent-{ARGS.case}-")
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    t0 = time.monotonic()
    ok = False
    try:
        CASES[ARGS.case]()
        ok = True
    except (TestFailure, AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAIL {ARGS.case}: {e}", file=sys.stderr)
    except Exception:  # a bug in the test or a surprise from the daemon
        import traceback
        traceback.print_exc()
        print(f"FAIL {ARGS.case}: unexpected exception (above)", file=sys.stderr)
    finally:
        problems = cleanup(graceful=ok)
        if problems:
            ok = False
            for p in problems:
                print(f"FAIL {ARGS.case}: {p}", file=sys.stderr)
        if not ok:
            for d in DAEMONS:
                print(f"---- log of {d.name} (pid {d.pid}, exit {d.proc.returncode}): "
                      f"{' '.join(d.args)}", file=sys.stderr)
                print(d.log()[-6000:], file=sys.stderr)
        if ok and not ARGS.keep:
            shutil.rmtree(TMP, ignore_errors=True)
    log(f"{'PASS' if ok else 'FAIL'} {ARGS.case} in {time.monotonic() - t0:.1f}s"
        + ("" if ok else f" (files in {TMP})"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
