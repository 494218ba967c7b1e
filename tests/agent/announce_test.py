#!/usr/bin/env python3
"""User events and force-leave over real hearsayd daemons.

Cases: user_events (POST /v1/user-events/NAME and `hearsay event`, type
user on /v1/events, a user:NAME handler run once per event with the payload
on stdin, limits and the token), force_leave (killed daemons made left on
every survivor by `hearsay force-leave` and POST .../force-leave, live
members refused without force). Python 3 standard library only; reuses the
helpers of agent_test.py.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agent_test as at  # noqa: E402
from agent_test import (Daemon, SSEClient, check, cleanup, cli, converge,  # noqa: E402
                        log, metric, metrics_of, secret_file, wait_until,
                        write_script)


def cli_bytes(*argv, data=b"", env=None, timeout=15):
    """The CLI with bytes on stdin (cli() speaks text)."""
    e = dict(os.environ)
    e.pop("HEARSAY_HTTP_ADDR", None)
    e.pop("HEARSAY_HTTP_TOKEN", None)
    e.update(env or {})
    p = subprocess.run([at.ARGS.hearsay] + list(argv), capture_output=True,
                       timeout=timeout, env=e, input=data)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(
        errors="replace")


def runs(out, prefix):
    """Handler runs recorded in out whose file names start with prefix."""
    return sorted(f for f in os.listdir(out)
                  if f.startswith(prefix) and f.endswith(".env"))


def case_user_events():
    out = os.path.join(at.TMP, "handler-out")
    os.mkdir(out)
    # One file set per run ($$: the handler's shell), written then renamed.
    rec = write_script("record.sh", f"""
f="{out}/$1.$HEARSAY_USER_EVENT.$$"
cat > "$f.stdin.tmp" && mv "$f.stdin.tmp" "$f.stdin"
env | grep '^HEARSAY_' | sort > "$f.env.tmp" && mv "$f.env.tmp" "$f.env"
""")
    token = cli("keygen")[1].strip()
    tf = secret_file("api.token", token + "\n")
    auth = {"Authorization": f"Bearer {token}"}
    n1 = Daemon("n1", extra=["--http-token-file", tf]).wait_ready()
    n2 = Daemon("n2", join=[n1], extra=[
        "--event-handler", f"user={rec} all"]).wait_ready()
    n3 = Daemon("n3", join=[n1], extra=[
        "--event-handler", f"user:deploy={rec} deploy",
        "--event-handler", f"member-join,user:other={rec} other"]).wait_ready()
    converge([n1, n2, n3], 3)
    sse = SSEClient(n2.hport, "?type=user")
    wait_until(lambda: sse.status == 200, 5, "event stream open on n2")
    watch = subprocess.Popen([at.ARGS.hearsay, "watch", "--type", "user",
                              "--http", n2.http], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    wait_until(lambda: metric(metrics_of(n2), "hearsay_agent_event_stream_clients") == 2, 10,
               "hearsay watch connected to n2's stream")

    # HTTP: the token is needed, then the event reaches everyone.
    code, _, body = n1.req("POST", "/v1/user-events/deploy", body=b"v1.2.3")
    check(code == 401, f"user event without the token: {code} {body!r}")
    code, _, body = n1.req("POST", "/v1/user-events/deploy", body=b"v1.2.3",
                           headers=auth)
    check(code == 200, f"POST /v1/user-events/deploy: {code} {body!r}")
    doc = json.loads(body)
    check(doc.get("name") == "deploy" and doc.get("payload_len") == "6",
          f"reply {doc}")
    ev = sse.wait_event("user", "deploy")["json"]
    check(ev["origin"] == "n1" and ev["payload"] == "v1.2.3"
          and base64.b64decode(ev["payload_base64"]) == b"v1.2.3"
          and ev["payload_len"] == 6 and isinstance(ev["ltime"], int)
          and ev["ltime"] >= 1 and ev["local"] is False, f"SSE event {ev}")

    # The CLI: a payload argument, then bytes that are not UTF-8 on stdin.
    rc, o, err = cli("event", "deploy", "v2", "--http", n1.http, "--token-file", tf)
    check(rc == 0 and "user event deploy sent (2 bytes)" in o, f"hearsay event: {rc} {o!r} {err!r}")
    raw = bytes([0xff, 0xfe, 0x00, 0x41])
    rc, o, err = cli_bytes("--http", n1.http, "--token-file", tf, "event", "other",
                           "-", data=raw)
    check(rc == 0, f"hearsay event other -: {rc} {err!r}")
    rc, _, err = cli("event", "deploy", "x", "--http", n1.http)
    check(rc == 1 and "token" in err, f"CLI without the token: {rc} {err!r}")

    def both():
        evs = sse.find("user", "deploy") + sse.find("user", "other")
        return len(evs) == 3 and evs
    evs = wait_until(both, 15, "three user events on n2's stream")
    other = [e["json"] for e in evs if e["json"]["name"] == "other"][0]
    check(other["payload"] is None and base64.b64decode(other["payload_base64"]) == raw,
          f"binary payload: {other}")
    # `hearsay watch` prints user events with their own columns.
    watch.terminate()
    lines = watch.communicate(timeout=10)[0].splitlines()
    mine = [l.split() for l in lines if " user " in l]
    check(len(mine) == 3 and mine[0][1:4] == ["user", "deploy", "n1"]
          and mine[0][4].startswith("ltime=") and mine[0][5] == "v1.2.3",
          f"hearsay watch: {lines}")
    check(any(l[2] == "other" and "(4 bytes, not text)" in " ".join(l) for l in mine),
          f"hearsay watch, binary payload: {lines}")
    ltimes = [e["json"]["ltime"] for e in evs]
    check(ltimes == sorted(ltimes) and len(set(ltimes)) == 3, f"ltimes {ltimes}")

    # Handlers: user:deploy ran once per deploy event with the payload on
    # stdin; user (all) on n2 saw all three; user:other once.
    wait_until(lambda: len(runs(out, "deploy.")) == 2 and len(runs(out, "all.")) == 3
               and len(runs(out, "other.other")) == 1, 15,
               "handler runs: 2 deploy on n3, 3 on n2, 1 other on n3")
    payloads = set()
    for f in runs(out, "deploy."):
        env = dict(l.split("=", 1) for l in open(os.path.join(out, f)).read().splitlines())
        check(env.get("HEARSAY_EVENT") == "user" and env.get("HEARSAY_USER_EVENT") == "deploy"
              and env.get("HEARSAY_MEMBER_NAME") == "n1"
              and env.get("HEARSAY_USER_LTIME", "").isdigit()
              and env.get("HEARSAY_SELF") == "n3", f"handler env {env}")
        payloads.add(open(os.path.join(out, f[:-4] + ".stdin"), "rb").read())
    check(payloads == {b"v1.2.3", b"v2"}, f"handler stdin {payloads}")
    f = runs(out, "other.other")[0]
    check(open(os.path.join(out, f[:-4] + ".stdin"), "rb").read() == raw, "binary stdin")
    time.sleep(2)  # nothing more comes: each event once
    check(len(runs(out, "deploy.")) == 2 and len(runs(out, "all.")) == 3,
          f"extra handler runs: {os.listdir(out)}")
    check(len(sse.find("user", "deploy")) == 2, "each event once on the stream")

    # Bad input: clear errors, counted.
    for path, body, want in (("/v1/user-events/bad%20name", b"x", 400),
                             ("/v1/user-events/", b"x", 400),
                             ("/v1/user-events/big", b"x" * 513, 413)):
        code, _, rb = n1.req("POST", path, body=body, headers=auth)
        check(code == want and "error" in json.loads(rb), f"POST {path}: {code} {rb!r}")
    code, hdr, _ = n1.req("GET", "/v1/user-events/deploy")
    check(code == 405 and hdr.get("allow") == "POST", f"GET: {code} {hdr}")
    codes = []
    for i in range(40):
        codes.append(n1.req("POST", f"/v1/user-events/burst", body=b"%d" % i,
                            headers=auth)[0])
        if codes[-1] == 429:
            break
    check(codes[-1] == 429 and set(codes[:-1]) == {200}, f"rate limit: {codes}")
    accepted = 3 + len(codes) - 1
    # Tokens come back at 4 a second: the CLI may get one or two in.
    for i in range(20):
        rc, _, err = cli("event", "burst", "y", "--http", n1.http, "--token-file", tf)
        if rc != 0:
            break
        accepted += 1
    check(rc == 1 and "HTTP 429" in err, f"CLI over the limit: {rc} {err!r}")
    m1 = metrics_of(n1)
    sent = metric(m1, "hearsay_user_events_sent_total")
    check(sent == accepted, f"sent {sent}, accepted {accepted}")
    check(metric(m1, "hearsay_user_events_rate_limited_total") >= 2, "rate-limited counted")
    check(metric(m1, 'hearsay_events_total', {"type": "user"}) == sent,
          "the origin reports its own events")
    wait_until(lambda: metric(metrics_of(n3), "hearsay_user_events_delivered_total") == sent,
               15, "every burst event delivered at n3")
    # Spread everywhere before the newcomer comes: an event still on its
    # way when a member joins may reach it as news (docs/operations.md).
    wait_until(lambda: metric(metrics_of(n2), "hearsay_user_events_delivered_total") == sent,
               15, "every burst event delivered at n2")
    check(metric(metrics_of(n3), "hearsay_announcements_lost_total") == 0, "none lost")
    # A newcomer sees none of the past events.
    n4 = Daemon("n4", join=[n2], extra=[
        "--event-handler", f"user={rec} late"]).wait_ready()
    converge([n1, n2, n3, n4], 4)
    time.sleep(2)
    check(not runs(out, "late."), f"newcomer ran handlers for old events: {os.listdir(out)}")
    check(metric(metrics_of(n4), "hearsay_user_events_delivered_total") == 0,
          "newcomer delivered none")
    sse.close()


def case_force_leave():
    nodes = [Daemon("n1")]
    for i in range(2, 5):
        nodes.append(Daemon(f"n{i}", join=nodes[:1]))
    for d in nodes:
        d.wait_ready()
    converge(nodes, 4)
    n1, n2, n3, n4 = nodes
    sse = SSEClient(n2.hport, "?type=leave,fail")
    wait_until(lambda: sse.status == 200, 5, "event stream open on n2")

    # Live, unknown, self: refused with a reason.
    for path, want, says in (("/v1/members/n2/force-leave", 409, "force"),
                             ("/v1/members/n2/force-leave?force=maybe", 400, "force"),
                             ("/v1/members/nobody/force-leave", 404, "nobody"),
                             ("/v1/members/n1/force-leave", 400, "/v1/leave")):
        code, _, body = n1.req("POST", path)
        check(code == want and says in json.loads(body)["error"],
              f"POST {path}: {code} {body!r}")
    code, hdr, _ = n1.req("GET", "/v1/members/n3/force-leave")
    check(code == 405, f"GET force-leave: {code}")
    rc, _, err = cli("force-leave", "n2", "--http", n1.http)
    check(rc == 1 and "--force" in err, f"CLI on a live member: {rc} {err!r}")

    # Two daemons die; both are held dead, then made left everywhere.
    n3.kill()
    n4.kill()
    survivors = [n1, n2]

    def state_everywhere(name, want):
        return all(d.members().get(name, {}).get("state") == want for d in survivors)
    wait_until(lambda: state_everywhere("n3", "dead") and state_everywhere("n4", "dead"),
               20, "n3 and n4 dead on the survivors")
    rc, o, err = cli("force-leave", "n3", "--http", n1.http)
    check(rc == 0 and "member n3: left" in o, f"hearsay force-leave n3: {rc} {o!r} {err!r}")
    code, _, body = n2.req("POST", "/v1/members/n4/force-leave")
    check(code == 200 and json.loads(body)["status"] == "left", f"HTTP force-leave: {code} {body!r}")
    wait_until(lambda: state_everywhere("n3", "left") and state_everywhere("n4", "left"),
               15, "n3 and n4 left on every survivor")
    sse.wait_event("leave", "n3")
    sse.wait_event("leave", "n4")
    rc, o, _ = cli("force-leave", "n3", "--http", n2.http)
    check(rc == 0 and "already left" in o, f"again: {rc} {o!r}")
    check(metric(metrics_of(n1), "hearsay_force_leaves_sent_total") == 1, "sent at n1")
    for d in survivors:
        check(metric(metrics_of(d), "hearsay_force_leaves_applied_total") == 2,
              f"applied at {d.name}")

    # A live member forced out comes straight back: its heartbeat wins.
    rc, o, err = cli("force-leave", "n2", "--force", "--http", n1.http)
    check(rc == 0, f"--force: {rc} {err!r}")
    wait_until(lambda: n1.members()["n2"]["state"] == "alive", 15,
               "n2 alive again at n1")
    sse.close()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hearsayd", required=True)
    ap.add_argument("--hearsay", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("case", choices=sorted(CASES))
    at.ARGS = ap.parse_args()
    at.TMP = tempfile.mkdtemp(prefix=f"hearsay-announce-{at.ARGS.case}-")
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    t0 = time.monotonic()
    ok = False
    try:
        CASES[at.ARGS.case]()
        ok = True
    except (at.TestFailure, AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAIL {at.ARGS.case}: {e}", file=sys.stderr)
    except Exception:
        import traceback
        traceback.print_exc()
        print(f"FAIL {at.ARGS.case}: unexpected exception (above)", file=sys.stderr)
    finally:
        problems = cleanup(graceful=ok)
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
