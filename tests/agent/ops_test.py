#!/usr/bin/env python3
"""Operations tests of hearsayd: --check, SIGHUP reload, systemd readiness.

Real daemons on 127.0.0.1, driven as an operator or a supervisor would:
the helpers (Daemon, wait_until, cleanup) are agent_test.py's, so every
wait is bounded and every daemon is killed by PID when the case ends.

    ops_test.py --hearsayd PATH --hearsay PATH CASE

Cases: check reload notify. Python 3 standard library only.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agent_test as at  # noqa: E402
from agent_test import (Daemon, TestFailure, check, converge, log,  # noqa: E402
                        metric, metrics_of, wait_until)


def run_check(*args, env=None):
    p = subprocess.run([at.ARGS.hearsayd, "--check"] + list(args),
                       capture_output=True, text=True, timeout=30, env=env)
    return p.returncode, p.stdout, p.stderr


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


# ---- --check -----------------------------------------------------------------

def case_check():
    tmp = at.TMP
    cfg = write(os.path.join(tmp, "good.json"), json.dumps({
        "name": "c1", "cluster": "prod", "tag": {"role": "db"},
        "join": ["127.0.0.1:7946"], "gossip-interval": "500ms"}))
    rc, out, err = run_check("--config", cfg, "--tag", "zone=a")
    check(rc == 0, f"valid config: rc {rc}, {out!r} {err!r}")
    lines = out.splitlines()
    check(lines and lines[0] == "ok", f"first line is 'ok': {out!r}")
    for want in ("name               c1", "cluster            prod",
                 "tag                role=db", "tag                zone=a",
                 "join               127.0.0.1:7946",
                 "gossip-interval    500ms"):
        check(want in lines, f"summary has {want!r}: {out!r}")
    log("valid config: exit 0, summary printed")

    rc, out, err = run_check("--name", "c1", "--no-such-flag")
    check(rc == 2 and "unknown option '--no-such-flag'" in err and not out,
          f"bad flag: rc {rc} {out!r} {err!r}")
    bad = write(os.path.join(tmp, "bad.json"), '{"name": "c1",\n "fanout": 0}')
    rc, out, err = run_check("--config", bad)
    check(rc == 2 and '"fanout": must be greater than 0' in err,
          f"bad value in file: rc {rc} {err!r}")
    broken = write(os.path.join(tmp, "broken.json"), '{"name": "c1",\n "tag": }')
    rc, out, err = run_check("--config", broken)
    check(rc == 2 and "line 2" in err, f"broken JSON: rc {rc} {err!r}")
    rc, out, err = run_check("--name", "c1", "--keyring", os.path.join(tmp, "nope"))
    check(rc == 2 and "keyring" in err, f"missing keyring: rc {rc} {err!r}")
    rc, out, err = run_check("--name", "c1", "--http", "0.0.0.0:7947")
    check(rc == 2 and "not a loopback address" in err,
          f"open API without a token: rc {rc} {err!r}")
    rc, out, err = run_check("--name", "c1", "--join", "a:b")
    check(rc == 2 and "--join" in err, f"bad seed: rc {rc} {err!r}")
    log("bad flag, bad value, broken JSON, missing keyring, open API, bad "
        "seed: exit 2 with the reason")

    # Ports in use pass: --check binds nothing.
    g = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    h = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    g.bind(("127.0.0.1", 0))
    h.bind(("127.0.0.1", 0))
    h.listen(1)
    try:
        gp, hp = g.getsockname()[1], h.getsockname()[1]
        rc, out, err = run_check("--name", "c1", "--bind", f"127.0.0.1:{gp}",
                                 "--http", f"127.0.0.1:{hp}")
        check(rc == 0, f"ports in use still pass: rc {rc} {err!r}")
    finally:
        g.close()
        h.close()
    log("ports already in use: exit 0 (nothing bound)")


# ---- SIGHUP -------------------------------------------------------------------

def case_reload():
    tmp = at.TMP
    cfgpath = os.path.join(tmp, "n1.json")
    marks = os.path.join(tmp, "marks")
    h1 = at.write_script("h1.sh", f'echo "h1 $HEARSAY_EVENT" >> {marks}\n')
    h2 = at.write_script("h2.sh", f'echo "h2 $HEARSAY_EVENT" >> {marks}\n')

    def conf(**kw):
        d = {"tag": {"role": "db", "zone": "a"}, "log-level": "info",
             "event-handler": [f"member-update={h1}"]}
        d.update(kw)
        write(cfgpath, json.dumps(d))

    conf()
    n1 = Daemon("n1", extra=["--config", cfgpath]).wait_ready()
    n2 = Daemon("n2", join=[n1]).wait_ready()
    converge([n1, n2], 2)
    wait_until(lambda: n2.members()["n1"]["tags"] == {"role": "db", "zone": "a"},
               10, "n2 sees n1's tags from the file")
    m = metrics_of(n1)
    check(metric(m, "hearsay_config_reloads_total", {"result": "ok"}) == 0 and
          metric(m, "hearsay_config_reloads_total", {"result": "error"}) == 0,
          "both reload results are exported, at 0, from the first scrape")

    # A tag set over the API is not the file's: a reload leaves it alone.
    code, _, _ = n1.req("PUT", "/v1/tags/api", body=b"kept")
    check(code == 200, f"PUT /v1/tags/api: {code}")

    conf(tag={"role": "cache", "rack": "r7"}, **{"log-level": "debug",
         "event-handler": [f"member-update={h2}"]})
    n1.signal(signal.SIGHUP)
    n1.signalled = False
    want = {"role": "cache", "rack": "r7", "api": "kept"}
    wait_until(lambda: n2.members()["n1"]["tags"] == want, 10,
               f"n2 sees n1's reloaded tags {want}")
    wait_until(lambda: metric(metrics_of(n1), "hearsay_config_reloads_total",
                              {"result": "ok"}) == 1, 10, "ok counter is 1")
    check("reload: configuration applied" in n1.log(), "reload logged")
    # The log level took effect: debug lines appear.
    wait_until(lambda: " DEBUG " in n1.log() or "debug:" in n1.log(), 10,
               "debug lines after reloading log-level debug")
    # The reloaded handler runs, the old one no more.
    code, _, _ = n2.req("PUT", "/v1/tags/x", body=b"1")
    wait_until(lambda: os.path.exists(marks) and
               "h2 member-update" in open(marks).read(), 10,
               "the reloaded event handler ran")
    log("SIGHUP: tags spread to the peer, log level and handler changed")

    # A broken file keeps the running configuration.
    write(cfgpath, '{"tag": {"role": "broken"},\n "fanout": "many"}')
    n1.signal(signal.SIGHUP)
    n1.signalled = False
    wait_until(lambda: metric(metrics_of(n1), "hearsay_config_reloads_total",
                              {"result": "error"}) == 1, 10, "error counter is 1")
    check("reload failed, keeping the running configuration" in n1.log() and
          '"fanout"' in n1.log(), "the reason is logged")
    time.sleep(1)  # a few gossip rounds: nothing must have changed
    check(n2.members()["n1"]["tags"] == want, "tags unchanged after a bad reload")
    check(metric(metrics_of(n1), "hearsay_config_reloads_total",
                 {"result": "ok"}) == 1, "ok counter unchanged")
    # An HTTP token appears with a reload: writes now need it.
    token = "t" * 32
    tf = write(os.path.join(tmp, "token"), token + "\n")
    conf(tag={"role": "cache", "rack": "r7"}, **{"http-token-file": tf})
    n1.signal(signal.SIGHUP)
    n1.signalled = False
    wait_until(lambda: metric(metrics_of(n1), "hearsay_config_reloads_total",
                              {"result": "ok"}) == 2, 10, "ok counter is 2")
    code, _, _ = n1.req("PUT", "/v1/tags/y", body=b"1")
    check(code == 401, f"write without the reloaded token: {code}")
    code, _, _ = n1.req("PUT", "/v1/tags/y", body=b"1",
                        headers={"Authorization": f"Bearer {token}"})
    check(code == 200, f"write with the reloaded token: {code}")
    log("bad file kept the running config (error counter 1); token reloaded")


def case_reload_keys():
    tmp = at.TMP
    k1, k2 = at.keygen(), at.keygen()
    kr1 = write(os.path.join(tmp, "kr1"), k1 + "\n")
    kr2 = write(os.path.join(tmp, "kr2"), k1 + "\n")
    c1 = os.path.join(tmp, "c1.json")
    c2 = os.path.join(tmp, "c2.json")
    write(c1, json.dumps({"keyring": kr1}))
    write(c2, json.dumps({"keyring": kr2}))
    n1 = Daemon("k1", extra=["--config", c1]).wait_ready()
    n2 = Daemon("k2", join=[n1], extra=["--config", c2]).wait_ready()
    converge([n1, n2], 2)
    # Rotation by file: add k2 everywhere, then make it primary, then drop k1.
    for text in (f"{k1}\n{k2}\n", f"{k2}\n{k1}\n", f"{k2}\n"):
        for d, kr in ((n1, kr1), (n2, kr2)):
            write(kr, text)
            before = metric(metrics_of(d), "hearsay_config_reloads_total",
                            {"result": "ok"})
            d.signal(signal.SIGHUP)
            d.signalled = False
            wait_until(lambda: metric(metrics_of(d), "hearsay_config_reloads_total",
                                      {"result": "ok"}) == before + 1, 10,
                       f"{d.name} reloaded")
    keys = n1.json("/v1/keys")
    ids = [k["id"] for k in keys["keys"]]
    check(len(ids) == 1, f"one key left on k1: {keys}")
    converge([n1, n2], 2)
    time.sleep(1.5)
    converge([n1, n2], 2)
    for d in (n1, n2):
        m = metrics_of(d)
        check(metric(m, "hearsay_events_total", {"type": "suspect"}) == 0,
              f"{d.name} suspected a peer during the rotation")
        check(metric(m, "hearsay_keyring_keys") == 1, f"{d.name} holds one key")
    check(ids == [k["id"] for k in n2.json("/v1/keys")["keys"]],
          "both nodes hold the same key")
    log(f"keyring rotated by file and SIGHUP in three steps, no suspicion "
        f"on either node ({ids})")


# ---- systemd notify -------------------------------------------------------

class NotifyListener:
    """A NOTIFY_SOCKET as systemd would offer it: an AF_UNIX datagram
    socket, here in the abstract namespace or on a path."""

    def __init__(self, abstract):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"hearsay-test-{os.getpid()}-{time.monotonic_ns()}"
            self.sock.bind("\0" + name)
            self.env = "@" + name
        else:
            path = os.path.join(at.TMP, "notify.sock")
            self.sock.bind(path)
            self.env = path
        self.sock.settimeout(0.2)
        self.msgs = []  # (monotonic time, text)
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.msgs.append((time.monotonic(), data.decode()))

    def lines(self):
        with self.lock:
            return [ln for _, m in self.msgs for ln in m.split("\n")]

    def count(self, line):
        return self.lines().count(line)

    def close(self):
        self.done = True
        self.thread.join(2)
        self.sock.close()


def notified_daemon(name, listener, join=(), watchdog_usec=None):
    env = dict(os.environ, NOTIFY_SOCKET=listener.env)
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    old = os.environ.copy()
    os.environ.clear()
    os.environ.update(env)
    try:
        return Daemon(name, join=join)
    finally:
        os.environ.clear()
        os.environ.update(old)


def case_notify():
    # Alone: READY=1 once serving.
    ln1 = NotifyListener(abstract=True)
    try:
        n1 = notified_daemon("s1", ln1, watchdog_usec=400000)
        wait_until(lambda: ln1.count("READY=1") == 1, 15, "s1 sent READY=1")
        n1.wait_ready()
        check("STATUS=running alone (no seeds)" in ln1.lines(),
              f"status says alone: {ln1.lines()}")
        # The watchdog: a ping about every 200 ms.
        wait_until(lambda: ln1.count("WATCHDOG=1") >= 5, 15, "5 watchdog pings")
        log(f"alone, abstract socket: READY=1, {ln1.count('WATCHDOG=1')} "
            "watchdog pings")

        # With a seed that is not there yet: not ready until it answers.
        ln2 = NotifyListener(abstract=False)
        try:
            seed_port = at.free_port(socket.SOCK_DGRAM)
            n2 = notified_daemon("s2", ln2, join=[f"127.0.0.1:{seed_port}"])
            n2.wait_ready()  # serves HTTP...
            time.sleep(1.0)
            check(ln2.count("READY=1") == 0,
                  f"no READY=1 before any peer answered: {ln2.lines()}")
            check("STATUS=waiting for a seed to answer" in ln2.lines(),
                  f"status says waiting: {ln2.lines()}")
            check(not any(ln.startswith("WATCHDOG") for ln in ln2.lines()),
                  "no watchdog pings without WATCHDOG_USEC")
            # The seed comes up: s2 joins, then says READY=1.
            seed = Daemon("seed", extra=["--bind", f"127.0.0.1:{seed_port}"])
            seed.wait_ready()
            wait_until(lambda: ln2.count("READY=1") == 1, 15,
                       "s2 sent READY=1 after the seed answered")
            log("path socket: READY=1 only after a peer answered")

            # SIGHUP: RELOADING=1 then READY=1 again.
            n2.signal(signal.SIGHUP)
            n2.signalled = False
            wait_until(lambda: ln2.count("RELOADING=1") == 1 and
                       ln2.count("READY=1") == 2, 10, "RELOADING=1, READY=1")
            # SIGTERM: STOPPING=1 before the exit.
            n2.signal(signal.SIGTERM)
            check(n2.wait_exit(10) == 0, "s2 exited 0 after SIGTERM")
            check(ln2.count("STOPPING=1") == 1, f"STOPPING=1: {ln2.lines()}")
            log("SIGHUP: RELOADING=1/READY=1; SIGTERM: STOPPING=1, exit 0")
        finally:
            ln2.close()
    finally:
        ln1.close()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hearsayd", required=True)
    ap.add_argument("--hearsay", required=True)
    ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("case", choices=sorted(CASES))
    at.ARGS = ap.parse_args()
    at.TMP = tempfile.mkdtemp(prefix=f"hearsay-ops-{at.ARGS.case}-")
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    t0 = time.monotonic()
    ok = False
    try:
        CASES[at.ARGS.case]()
        ok = True
    except (TestFailure, AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAIL {at.ARGS.case}: {e}", file=sys.stderr)
    except Exception:
        import traceback
        traceback.print_exc()
        print(f"FAIL {at.ARGS.case}: unexpected exception (above)", file=sys.stderr)
    finally:
        problems = at.cleanup(graceful=ok)
        if problems:
            ok = False
            for p in problems:
                print(f"FAIL {at.ARGS.case}: {p}", file=sys.stderr)
        if not ok:
            for d in at.DAEMONS:
                print(f"---- log of {d.name} (pid {d.pid}, exit {d.proc.returncode}): "
                      f"{' '.join(d.args)}", file=sys.stderr)
                print(d.log()[-6000:], file=sys.stderr)
        if ok and not at.ARGS.keep:
            shutil.rmtree(at.TMP, ignore_errors=True)
    log(f"{'PASS' if ok else 'FAIL'} {at.ARGS.case} in {time.monotonic() - t0:.1f}s"
        + ("" if ok else f" (files in {at.TMP})"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
