#!/usr/bin/env python3
"""DNS discovery over a real DNS server: --join srv+NAME and DNS names.

The test makes a network namespace of its own (lo, with 10.77.0.1-5
on it), gives it its own resolv.conf (/etc/netns/NS/resolv.conf,
which `ip netns exec` mounts over /etc/resolv.conf), and runs inside it:

  - dnsmasq on 10.77.0.1:53, answering only from its own records: an SRV
    record _hearsay._udp.hs.test -> seed.hs.test:PORT, and the A record of
    seed.hs.test from a hosts file the test rewrites (dnsmasq re-reads it
    on SIGHUP);
  - hearsayd nodes on those addresses.

Phase 1: a joins seed1 with --join srv+_hearsay._udp.hs.test and an
hour-long re-resolution interval; seed2 starts on 10.77.0.3, seed1 is
killed and the A record moves to 10.77.0.3: a, alone once seed1 is dead,
asks again and joins seed2 without a restart. Phase 2: b joins with --join
seed.hs.test:PORT and a 1 s interval; the record moves to an isolated
seed3, and b's scheduled re-resolution brings it into the cluster.

    dns_test.py --hearsayd PATH --hearsay PATH

Needs root (network namespaces) and dnsmasq; exits 77 (skipped) without.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import agent_test as at  # noqa: E402
from agent_test import Daemon, TestFailure, check, log, wait_until  # noqa: E402

DNS_IP, SEED1_IP, SEED2_IP, NODE_IP, SEED3_IP = (
    "10.77.0.1", "10.77.0.2", "10.77.0.3", "10.77.0.4", "10.77.0.5")
SRV_NAME = "_hearsay._udp.hs.test"
SEED_NAME = "seed.hs.test"
GOSSIP_PORT = 7946  # the same in both seeds' records; one namespace, two IPs


def sh(*argv, check_rc=True):
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    if check_rc and p.returncode != 0:
        raise TestFailure(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


# ---- Outside: the namespace ----------------------------------------------------

def outer(args):
    if os.geteuid() != 0:
        print("skipped: network namespaces need root", file=sys.stderr)
        return 77
    if not shutil.which("dnsmasq") or not shutil.which("ip"):
        print("skipped: needs dnsmasq and iproute2 (scripts/setup.sh installs "
              "them)", file=sys.stderr)
        return 77
    ns = f"hsdns{os.getpid()}"
    etc = f"/etc/netns/{ns}"
    rc = 1
    try:
        if sh("ip", "netns", "add", ns, check_rc=False).returncode != 0:
            print("skipped: cannot create a network namespace here", file=sys.stderr)
            return 77
        try:
            os.makedirs(etc, exist_ok=True)
            with open(os.path.join(etc, "resolv.conf"), "w") as f:
                f.write(f"nameserver {DNS_IP}\noptions timeout:1 attempts:2\n")
        except OSError as e:
            print(f"skipped: cannot write {etc}/resolv.conf: {e}", file=sys.stderr)
            return 77
        ip = ["ip", "netns", "exec", ns, "ip"]
        sh(*ip, "link", "set", "lo", "up")
        # The addresses on lo: nothing leaves the namespace, and no kernel
        # module (dummy, veth) is needed.
        for a in (DNS_IP, SEED1_IP, SEED2_IP, NODE_IP, SEED3_IP):
            sh(*ip, "addr", "add", f"{a}/32", "dev", "lo")
        cmd = ["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
               "--inner", "--hearsayd", args.hearsayd, "--hearsay", args.hearsay]
        if args.keep:
            cmd.append("--keep")
        p = subprocess.Popen(cmd)
        try:
            rc = p.wait(args.timeout)
        except subprocess.TimeoutExpired:
            print(f"FAIL: the test inside {ns} ran over {args.timeout}s", file=sys.stderr)
            p.kill()
            p.wait(5)
    finally:
        # Whatever still runs in the namespace was started by this test.
        pids = sh("ip", "netns", "pids", ns, check_rc=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", ns, check_rc=False)
        shutil.rmtree(etc, ignore_errors=True)
    return rc


# ---- Inside -----------------------------------------------------------------

class Dnsmasq:
    def __init__(self, tmp):
        self.hosts = os.path.join(tmp, "hosts")
        self.logpath = os.path.join(tmp, "dnsmasq.log")
        self.set_seed(SEED1_IP, signal_it=False)
        self.args = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                     "--no-poll", "--bind-interfaces", f"--listen-address={DNS_IP}",
                     "--port=53", "--user=root", "--group=root",
                     f"--pid-file={os.path.join(tmp, 'dnsmasq.pid')}",
                     f"--addn-hosts={self.hosts}", "--local=/hs.test/",
                     "--local-ttl=0", "--cache-size=0",
                     f"--srv-host={SRV_NAME},{SEED_NAME},{GOSSIP_PORT},0,10",
                     "--log-queries", f"--log-facility={self.logpath}"]
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE,
                                     preexec_fn=at._die_with_parent)
        at.OTHER_PIDS.append(self.proc.pid)

        def answers():
            if self.proc.poll() is not None:
                raise TestFailure(f"dnsmasq exited {self.proc.returncode}: "
                                  f"{self.proc.stderr.read().decode()}")
            return self.lookup(SEED_NAME) == SEED1_IP
        wait_until(answers, 15, "dnsmasq answers", interval=0.2)

    def set_seed(self, addr, signal_it=True):
        tmp = self.hosts + ".new"
        with open(tmp, "w") as f:
            f.write(f"{addr} {SEED_NAME}\n")
        os.rename(tmp, self.hosts)
        if signal_it:
            os.kill(self.proc.pid, signal.SIGHUP)

    @staticmethod
    def lookup(name):
        p = subprocess.run(["getent", "ahostsv4", name], capture_output=True,
                           text=True, timeout=10)
        return p.stdout.split()[0] if p.returncode == 0 and p.stdout else None

    def log(self):
        try:
            with open(self.logpath) as f:
                return f.read()
        except OSError:
            return ""


def node(name, ip, join=(), extra=()):
    args = ["--bind", f"{ip}:{GOSSIP_PORT}"] + [x for j in join for x in ("--join", j)]
    return Daemon(name, extra=args + list(extra))


def inner():
    tmp = at.TMP
    dns = Dnsmasq(tmp)
    log(f"dnsmasq up: {SEED_NAME} -> {dns.lookup(SEED_NAME)}")

    def sees(d, who):
        m = d.members().get(who)
        return m and m["state"] == "alive"

    # Phase 1, a node left alone. a re-resolves every hour: only its first
    # answer, and asking again once alone, can be what it acts on.
    seed1 = node("seed1", SEED1_IP).wait_ready()
    a = node("a", NODE_IP, join=[f"srv+{SRV_NAME}"],
             extra=["--resolve-interval", "1h"]).wait_ready()
    wait_until(lambda: sees(a, "seed1") and sees(seed1, "a"), 20,
               "a joined seed1 through the SRV name")
    check(f"query[SRV] {SRV_NAME}" in dns.log(), "dnsmasq was asked for SRV records")
    log(f"a joined seed1 via srv+{SRV_NAME}")
    # Some heartbeats first, so a's detector has a rhythm to judge seed1's
    # silence by (a member heard only a few times stays "alive" however
    # long it is silent: a known limitation of the detector's bootstrap).
    wait_until(lambda: a.members()["seed1"]["heartbeat"] >= 20, 20,
               "a heard 20 heartbeats of seed1")
    seed2 = node("seed2", SEED2_IP).wait_ready()
    seed1.kill()
    dns.set_seed(SEED2_IP)
    wait_until(lambda: dns.lookup(SEED_NAME) == SEED2_IP, 10,
               "dnsmasq serves the new address")
    t0 = time.monotonic()
    wait_until(lambda: sees(a, "seed2") and sees(seed2, "a"), 30,
               "a, alone after seed1 died, found seed2 at the SRV target's "
               "new address")
    log(f"seed1 killed, {SEED_NAME} moved to {SEED2_IP}: a joined seed2 "
        f"{time.monotonic() - t0:.1f}s later, without a restart")

    # Phase 2, on schedule. b joins through the plain DNS name and
    # re-resolves every second; it is never alone (a and seed2 stay). The
    # record moves to a third, isolated node: b must find it anyway.
    b = Daemon("b", extra=["--bind", f"{NODE_IP}:{GOSSIP_PORT + 1}",
                           "--join", f"{SEED_NAME}:{GOSSIP_PORT}",
                           "--resolve-interval", "1s"]).wait_ready()
    wait_until(lambda: sees(b, "seed2") and sees(b, "a"), 20,
               "b joined through the DNS name")
    # A fresh address: no member ever had it, so only DNS can lead there.
    seed3 = node("seed3", SEED3_IP).wait_ready()
    time.sleep(1)
    check(not sees(seed3, "b"), "seed3 is isolated before the record moves")
    dns.set_seed(SEED3_IP)
    t0 = time.monotonic()
    wait_until(lambda: sees(seed3, "b") and sees(seed3, "a") and sees(a, "seed3"),
               30, "b re-resolved on schedule and brought seed3 in")
    log(f"{SEED_NAME} moved to {SEED3_IP}: seed3 joined the cluster "
        f"{time.monotonic() - t0:.1f}s later through b's scheduled "
        "re-resolution")
    check(a.proc.poll() is None and b.proc.poll() is None, "a and b kept running")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hearsayd", required=True)
    ap.add_argument("--hearsay", required=True)
    ap.add_argument("--inner", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--timeout", type=float, default=150)
    args = ap.parse_args()
    if not args.inner:
        return outer(args)
    at.ARGS = args
    at.TMP = tempfile.mkdtemp(prefix="hearsay-dns-")
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    t0 = time.monotonic()
    ok = False
    try:
        inner()
        ok = True
    except (TestFailure, AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAIL dns: {e}", file=sys.stderr)
    except Exception:
        import traceback
        traceback.print_exc()
        print("FAIL dns: unexpected exception (above)", file=sys.stderr)
    finally:
        problems = at.cleanup(graceful=ok)
        if problems:
            ok = False
            for p in problems:
                print(f"FAIL dns: {p}", file=sys.stderr)
        if not ok:
            for d in at.DAEMONS:
                print(f"---- log of {d.name} (pid {d.pid}, exit {d.proc.returncode}): "
                      f"{' '.join(d.args)}", file=sys.stderr)
                print(d.log()[-6000:], file=sys.stderr)
            try:
                with open(os.path.join(at.TMP, "dnsmasq.log")) as f:
                    print("---- dnsmasq log\n" + f.read()[-4000:], file=sys.stderr)
            except OSError:
                pass
        if ok and not args.keep:
            shutil.rmtree(at.TMP, ignore_errors=True)
    log(f"{'PASS' if ok else 'FAIL'} dns in {time.monotonic() - t0:.1f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
