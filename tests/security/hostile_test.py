#!/usr/bin/env python3
"""Hostile input against a live, encrypted 3-daemon cluster on loopback.

Three hearsayd processes share a keyring and gossip over 127.0.0.1. The
test sniffs their traffic on `lo` (an AF_PACKET socket: needs root or
CAP_NET_RAW; without it the test is skipped with status 77) and checks:

  1. confidentiality: no captured datagram carries a member name, a tag
     key or value, or the cluster name in clear, and every one is sealed;
  2. then throws at one daemon: random bytes, plaintext and sealed
     truncated protobuf, oversized datagrams, valid messages of another
     cluster (plaintext, and sealed with the right key for the wrong
     cluster), messages sealed with a wrong key, forged boxes reusing the
     real key id, replays of captured datagrams (fresh: the nonce was seen;
     stale: outside the replay window; and fresh to another daemon, which
     the design accepts — see docs/security.md), a forged LEAVE and a
     forged restart about a live member, and a bounded flood from one
     source and from many;
  3. afterwards: every daemon runs and answers, every daemon sees all
     three alive and none ever saw a leave or a failure, RSS stayed within
     a bound, and /metrics counts each class of rejection under its own
     reason;
  4. a positive control: the same forged LEAVE does make a member "left"
     in a plaintext cluster, so the refusal above is the keyring's doing.

Datagrams are made by the `hostile` helper (tests/security/hostile.c). The
whole test is bounded to about a minute. It reuses the daemon harness of
tests/agent/agent_test.py.

    hostile_test.py --hearsayd PATH --hearsay PATH --hostile PATH
"""
import argparse
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "agent"))
import agent_test as at  # noqa: E402
from agent_test import check, log, metric, metrics_of  # noqa: E402

SKIP = 77
HOSTILE = None

# Distinctive strings: a capture must not contain any of them. Long and
# random-looking so that ciphertext cannot contain one by chance.
CLUSTER = "cl-hostile-5b0d9e"
NAMES = ["alpha-node-7f3a1c", "bravo-node-2e9d44", "charlie-node-c81b07"]
TAGS = {"role-8c1e2a": "secret-value-93b1c4d7", "zone-f04a9b": "eu-secret-61e0a3f5"}
REPLAY_WINDOW_S = 2
# RSS growth allowed over the hostile phase. The daemons run with a small
# ASan quarantine (below) so that freed memory held back by the sanitizer
# is not mistaken for growth.
RSS_BOUND_KB = 24 * 1024
FLOOD_ONE_SOURCE = 20000
FLOOD_SOURCES = 50
FLOOD_PER_SOURCE = 100
FLOOD_MAX_S = 3.0


def craft(kind, cluster, key, name=None, gen=None):
    argv = [HOSTILE, kind, cluster, key]
    if name:
        argv += [name, str(gen)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    check(p.returncode == 0, f"hostile {kind}: {p.stderr}")
    return bytes.fromhex(p.stdout.strip())


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise at.TestFailure(f"no VmRSS for {pid}")


class Sniffer:
    """UDP datagrams on lo between the given ports, as (src, dst, payload)."""

    def __init__(self, ports):
        self.ports = set(ports)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.htons(0x0003))  # ETH_P_ALL
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.1)
        self.packets = []
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                frame, addr = self.sock.recvfrom(70000)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == socket.PACKET_OUTGOING:  # lo shows each one twice
                continue
            if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
            ihl = (ip[0] & 15) * 4
            if ip[0] >> 4 != 4 or ip[9] != 17:
                continue
            sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
            if sport in self.ports and dport in self.ports:
                with self.lock:
                    self.packets.append((time.monotonic(), sport, dport,
                                         bytes(ip[ihl + 8:])))

    def take(self):
        with self.lock:
            p, self.packets = self.packets, []
        return p

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def can_sniff():
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)).close()
        return True
    except (PermissionError, OSError):
        return False


def send_all(sock, addr, datagrams):
    """Sends every datagram, paced (10 per ms at most) so that the
    daemon's socket buffer does not overflow: each must reach the daemon
    and be counted."""
    for i, d in enumerate(datagrams):
        while True:
            try:
                sock.sendto(d, addr)
                break
            except BlockingIOError:
                time.sleep(0.001)
        if i % 10 == 9:
            time.sleep(0.001)


def paced_flood(sock, addr, dgram, count, max_s, per_ms=10):
    """Sends dgram count times at about per_ms a millisecond, bounded by
    max_s seconds. The pace keeps most of the flood out of the kernel's
    drops (a full socket buffer), so the daemon has to deal with it."""
    t0 = time.monotonic()
    sent = 0
    while sent < count and time.monotonic() - t0 < max_s:
        for _ in range(per_ms * 10):
            try:
                sock.sendto(dgram, addr)
                sent += 1
            except (BlockingIOError, OSError):
                pass
        time.sleep(0.01)
    return sent, time.monotonic() - t0


junk_sent = []
REASONS = ["EMAGIC", "ETRUNCATED", "EPLAINTEXT", "EMALFORMED", "ETOOBIG",
           "EAUTH", "EKEY", "EREPLAY", "ERATE"]


def rejections(d):
    text = metrics_of(d)
    return {r: int(metric(text, "hearsay_rejected_total", {"reason": r}) or 0)
            for r in REASONS}, text


def run():
    key = at.keygen()
    wrong_key = at.keygen()
    ring = at.secret_file("cluster.ring", f"# hostile test\n{key}\n")
    tags = []
    for k, v in TAGS.items():
        tags += ["--tag", f"{k}={v}"]
    extra = ["--keyring", ring, "--cluster", CLUSTER,
             "--replay-window", f"{REPLAY_WINDOW_S}s",
             "--gossip-interval", "200ms", "--heartbeat-interval", "200ms",
             "--dead-after", "2s"] + tags
    nodes = []
    for name in NAMES:
        nodes.append(at.Daemon(name, join=nodes[:1], extra=extra))
    for d in nodes:
        d.wait_ready()
    sniff = Sniffer([d.gport for d in nodes])
    try:
        return attack(nodes, sniff, key, wrong_key)
    finally:
        sniff.close()


def converged(nodes):
    at.wait_until(lambda: all(
        sorted(n for n, m in d.members().items() if m["state"] == "alive") == sorted(NAMES)
        for d in nodes), 20, "all three daemons see all three alive")


def attack(nodes, sniff, key, wrong_key):
    n1, n2, n3 = nodes
    converged(nodes)
    time.sleep(1.5)  # a few rounds of ordinary gossip to look at

    # ---- 1. Nothing readable on the wire --------------------------------
    captured = sniff.take()
    check(len(captured) >= 20, f"captured {len(captured)} datagrams")
    secrets = [CLUSTER] + NAMES + list(TAGS) + list(TAGS.values())
    for _, sport, dport, payload in captured:
        check(payload[:4] == b"HS\x02\x01",
              f"datagram {sport}->{dport} is not sealed: {payload[:16]!r}")
        for s in secrets:
            check(s.encode() not in payload,
                  f"'{s}' in clear in a datagram {sport}->{dport}")
    log(f"capture: {len(captured)} datagrams, "
        f"{sum(len(p[3]) for p in captured)} bytes, all sealed, no name, "
        f"tag or cluster name in clear")
    key_id = captured[0][3][4:8]  # the primary key's id, in clear

    rss_before = {d.name: rss_kb(d.pid) for d in nodes}
    before, _ = rejections(n1)
    victim = n1.members()[NAMES[1]]
    gen = victim["generation"]
    target = ("127.0.0.1", n1.gport)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)

    # ---- 2. Hostile datagrams --------------------------------------------
    rnd = random.Random(1)
    junk = []
    global junk_sent
    for i in range(200):
        b = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 1400)))
        junk.append(b"X" + b[1:])  # never the magic "HS"
    junk += [b"HS", b"HS\x02", b"HS\x02\x01" + os.urandom(10)]  # truncated
    send_all(s, target, junk)
    junk_sent.extend(junk)
    send_all(s, target, [craft("truncated", CLUSTER, "-")] * 5)
    send_all(s, target, [craft("truncated", CLUSTER, key)] * 5)
    send_all(s, target, [craft("oversized", CLUSTER, key),
                         craft("oversized", CLUSTER, "-")])
    send_all(s, target, [craft("syn", "other-cluster", "-"),
                         craft("syn", "other-cluster", key)])
    send_all(s, target, [craft("syn", CLUSTER, wrong_key)] * 5)
    forged_box = bytearray(craft("syn", CLUSTER, wrong_key))
    forged_box[4:8] = key_id  # the right key id, the wrong key
    send_all(s, target, [bytes(forged_box)] * 5)
    # Forged leave and restart of a live member: plaintext, and sealed
    # with a key the cluster does not have.
    for k in ("-", wrong_key):
        send_all(s, target, [craft("leave", CLUSTER, k, NAMES[1], gen),
                             craft("restart", CLUSTER, k, NAMES[1], gen)])
    # Replays. Fresh ones, to the daemon they were sent to: the nonce was
    # seen. Fresh ones to another daemon are accepted by design (the box
    # is authentic and within the window) and must do no harm.
    time.sleep(0.6)
    fresh = sniff.take()
    to_n1 = [p[3] for p in fresh if p[2] == n1.gport]
    to_other = [p[3] for p in fresh if p[2] != n1.gport]
    check(len(to_n1) >= 2 and to_other, f"fresh datagrams captured: {len(fresh)}")
    send_all(s, target, to_n1)
    send_all(s, ("127.0.0.1", n3.gport), to_other)
    # Stale ones: captured before the replay window.
    stale = [p[3] for p in captured if p[2] == n1.gport][:50]
    send_all(s, target, stale)
    time.sleep(0.5)

    # The bounded floods: one source (over the per-source rate limit), then
    # many sources with boxes that must each be tried against the key.
    sent, secs = paced_flood(s, target, craft("syn", CLUSTER, wrong_key),
                             FLOOD_ONE_SOURCE, FLOOD_MAX_S)
    log(f"flood: {sent} datagrams from one source in {secs:.2f}s")
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(FLOOD_SOURCES)]
    t0 = time.monotonic()
    for _ in range(FLOOD_PER_SOURCE):
        for x in socks:
            try:
                x.sendto(bytes(forged_box), target)
            except OSError:
                pass
    log(f"flood: {FLOOD_SOURCES * FLOOD_PER_SOURCE} datagrams from "
        f"{FLOOD_SOURCES} sources in {time.monotonic() - t0:.2f}s")
    for x in socks:
        x.close()
    s.close()

    # ---- 3. Afterwards ---------------------------------------------------
    time.sleep(2.0)
    for d in nodes:
        check(d.proc.poll() is None, f"{d.name} still runs")
        code, _, _ = d.req("GET", "/healthz")
        check(code == 200, f"{d.name} /healthz: {code}")
    converged(nodes)
    time.sleep(2.5)  # longer than a forged restart would take to convict
    converged(nodes)
    for d in nodes:
        text = metrics_of(d)
        for ev in ("leave", "fail", "restart"):
            check(metric(text, "hearsay_events_total", {"type": ev}) == 0,
                  f"{d.name} saw no {ev} event")
        check(NAMES[1] in d.members() and "mallory" not in d.members(),
              f"{d.name}'s view is intact")
    rss_after = {d.name: rss_kb(d.pid) for d in nodes}
    for d in nodes:
        grew = rss_after[d.name] - rss_before[d.name]
        log(f"RSS {d.name}: {rss_before[d.name]} kB before, "
            f"{rss_after[d.name]} kB after ({grew:+d} kB)")
        check(grew < RSS_BOUND_KB, f"{d.name}'s RSS grew by {grew} kB")

    after, text = rejections(n1)
    delta = {r: after[r] - before[r] for r in REASONS}
    log("rejections at the attacked daemon (hearsay_rejected_total):")
    for r in REASONS:
        log(f"  {r:11s} {delta[r]}")
    log(f"  replay_evicted_early "
        f"{int(metric(text, 'hearsay_replay_evicted_early_total') or 0)}")
    for r in REASONS:
        check(delta[r] > 0, f"{r} counted at {n1.name}")
    check(delta["EMAGIC"] + delta["ETRUNCATED"] >= len(junk_sent) * 95 // 100,
          "every junk datagram counted (EMAGIC, or ETRUNCATED when under 4 bytes)")
    check(delta["EPLAINTEXT"] >= 5 + 1 + 2, "plaintext refused")
    check(delta["EREPLAY"] >= len(to_n1) + len(stale) - 2,
          f"replays refused: {delta['EREPLAY']} of {len(to_n1) + len(stale)}")
    # The limit admits 1000 a second (plus a burst of as many): over a flood
    # of `secs` seconds most of what arrived must have been refused.
    check(delta["ERATE"] >= sent - 1000 * (secs + 1) - sent // 4,
          f"the one-source flood was rate-limited ({delta['ERATE']} of {sent})")
    return delta


def plaintext_control():
    """The forged LEAVE does work where there is no keyring."""
    p = at.cluster(2, prefix="plain", extra=["--cluster", CLUSTER])
    gen = p[0].members()["plain2"]["generation"]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(craft("leave", CLUSTER, "-", "plain2", gen), ("127.0.0.1", p[0].gport))
    s.close()
    at.wait_until(lambda: p[0].members()["plain2"]["state"] == "left", 10,
                  "the forged leave succeeds on a plaintext cluster")
    log("control: the same forged LEAVE makes a live member 'left' in a "
        "plaintext cluster")
    # A protocol-v1 peer (the datagram of a node that was not upgraded):
    # refused as EVERSION, counted, and said once per peer address, not once
    # per datagram.
    def eversion():
        return int(metric(metrics_of(p[0]), "hearsay_rejected_total",
                          {"reason": "EVERSION"}) or 0)
    before = eversion()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    v1 = b"HS\x01\x00" + bytes(40)
    for _ in range(5):
        s.sendto(v1, ("127.0.0.1", p[0].gport))
    at.wait_until(lambda: eversion() >= before + 5, 10,
                  "five v1 datagrams counted as EVERSION")
    src = "127.0.0.1:%d" % s.getsockname()[1]
    s.close()
    lines = [ln for ln in p[0].log().splitlines()
             if "speaks hearsay protocol v1" in ln and src in ln]
    at.check(len(lines) == 1, f"a v1 peer is logged once, not per datagram: {lines}")
    log(f"control: 5 protocol-v1 datagrams from {src}: counted as EVERSION, "
        f"one WARN line")


def main():
    global HOSTILE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hearsayd", required=True)
    ap.add_argument("--hearsay", required=True)
    ap.add_argument("--hostile", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    HOSTILE = args.hostile
    if not can_sniff():
        print("SKIP: sniffing lo needs root or CAP_NET_RAW", file=sys.stderr)
        return SKIP
    at.ARGS = argparse.Namespace(hearsayd=args.hearsayd, hearsay=args.hearsay,
                                 promtool="promtool", source_dir=".", keep=args.keep)
    at.TMP = tempfile.mkdtemp(prefix="hearsay-hostile-")
    # Freed memory the sanitizer holds back is not the daemon's: keep it
    # small so the RSS bound measures the daemon.
    asan = os.environ.get("ASAN_OPTIONS", "")
    os.environ["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "quarantine_size_mb=8"
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    t0 = time.monotonic()
    ok = False
    try:
        run()
        plaintext_control()
        ok = True
    except (at.TestFailure, AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAIL hostile: {e}", file=sys.stderr)
    except Exception:
        import traceback
        traceback.print_exc()
        print("FAIL hostile: unexpected exception (above)", file=sys.stderr)
    finally:
        problems = at.cleanup(graceful=ok)
        if problems:
            ok = False
            for p in problems:
                print(f"FAIL hostile: {p}", file=sys.stderr)
        if not ok:
            for d in at.DAEMONS:
                print(f"---- log of {d.name} (pid {d.pid}, exit {d.proc.returncode})",
                      file=sys.stderr)
                print(d.log()[-6000:], file=sys.stderr)
        if ok and not args.keep:
            shutil.rmtree(at.TMP, ignore_errors=True)
    log(f"{'PASS' if ok else 'FAIL'} hostile in {time.monotonic() - t0:.1f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
