#!/usr/bin/env python3
"""Queries with responses over real hearsayd daemons.

Cases: answers (POST /v1/queries/NAME and `hearsay query` answered by every
member through a query:NAME handler whose standard output is the response,
type query on /v1/events, node and tag filters, an unfiltered handler that
never answers, the metrics), limits (the timeout, a killed member that does
not answer, oversized payload 413, bad name, timeout and filters 400, the
token 401, the rate limit 429). Python 3 standard library only; reuses the
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


def answers_of(body):
    doc = json.loads(body)
    return doc, {r["from"]: r for r in doc["responses"]}


def start_cluster(n, extra_first=()):
    out = os.path.join(at.TMP, "handler-out")
    os.makedirs(out, exist_ok=True)
    # Answers with its name, its role tag and the payload (from stdin); the
    # environment is kept for the checks.
    who = write_script("who.sh", f"""
p=$(cat)
env | grep '^HEARSAY_' | sort > "{out}/$HEARSAY_SELF.$$.env"
echo "$HEARSAY_SELF role=$HEARSAY_TAG_ROLE got=$p"
""")
    # An unfiltered handler: it must never be run for a query.
    loud = write_script("loud.sh", f"""
[ "$HEARSAY_EVENT" = query ] && touch "{out}/loud-ran-for-query"
echo not-an-answer
""")
    nodes = []
    for i in range(1, n + 1):
        role = "db" if i == n else "web"
        extra = ["--tag", f"role={role}",
                 "--event-handler", f"query:who={who}",
                 "--event-handler", loud]
        if i == 1:
            extra += list(extra_first)
        d = Daemon(f"n{i}", join=nodes[:1], extra=extra).wait_ready()
        nodes.append(d)
    converge(nodes, n)
    return nodes, out


def case_answers():
    nodes, out = start_cluster(3)
    n1, n2, n3 = nodes
    sse = SSEClient(n2.hport, "?type=query")
    wait_until(lambda: sse.status == 200, 5, "event stream open on n2")

    code, _, body = n1.req("POST", "/v1/queries/who?timeout=2s", body=b"hello",
                           timeout=20)
    check(code == 200, f"POST /v1/queries/who: {code} {body!r}")
    doc, by = answers_of(body)
    check(doc["name"] == "who" and doc["timed_out"] is True
          and doc["timeout_ms"] == 2000
          and isinstance(doc["id"], int) and doc["id"] >= 1, f"reply {doc}")
    check(set(by) == {"n1", "n2", "n3"}, f"responders {sorted(by)}")
    check(sorted(doc["acks"]) == ["n1", "n2", "n3"], f"acks {doc['acks']}")
    for name, r in by.items():
        role = "db" if name == "n3" else "web"
        want = f"{name} role={role} got=hello\n"
        check(r["payload"] == want and base64.b64decode(r["payload_base64"]) ==
              want.encode(), f"response of {name}: {r}")
    ev = sse.wait_event("query", "who")["json"]
    check(ev["origin"] == "n1" and ev["payload"] == "hello"
          and ev["query_id"] >= 1 and ev["timeout_ms"] == 2000
          and ev["local"] is False, f"SSE event {ev}")
    envs = [f for f in os.listdir(out) if f.endswith(".env")]
    check(len(envs) == 3, f"handler runs {envs}")
    for f in envs:
        env = dict(l.split("=", 1) for l in open(os.path.join(out, f)).read().splitlines())
        check(env.get("HEARSAY_EVENT") == "query" and env.get("HEARSAY_QUERY_NAME") == "who"
              and env.get("HEARSAY_QUERY_ID", "").isdigit()
              and env.get("HEARSAY_MEMBER_NAME") == "n1", f"handler env {env}")
    check(not os.path.exists(os.path.join(out, "loud-ran-for-query")),
          "an unfiltered handler ran for a query")

    # Filters: by name, by tag, both (over HTTP and the CLI).
    code, _, body = n2.req("POST", "/v1/queries/who?timeout=1500ms&node=n1,n3",
                           timeout=20)
    check(code == 200 and set(answers_of(body)[1]) == {"n1", "n3"},
          f"node filter: {code} {body!r}")
    code, _, body = n2.req("POST", "/v1/queries/who?timeout=1500ms&tag=role%3Ddb",
                           timeout=20)
    check(code == 200 and set(answers_of(body)[1]) == {"n3"}, f"tag filter: {code} {body!r}")
    rc, o, err = cli("query", "who", "x", "--timeout", "1500ms", "--tag", "role=web",
                     "--node", "n2", "--node", "n3", "--http", n1.http, timeout=30)
    check(rc == 0 and o.splitlines() == ["n2\tn2 role=web got=x", "1 responses, 1 acks"],
          f"hearsay query with filters: {rc} {o!r} {err!r}")
    rc, o, err = cli("query", "who", "--timeout", "1500ms", "--json",
                     "--http", n3.http, timeout=30, input="from-stdin")
    check(rc == 0, f"hearsay query --json: {rc} {err!r}")
    doc = json.loads(o)
    check(len(doc["responses"]) == 3 and all(r["payload"].endswith("got=from-stdin\n")
                                            for r in doc["responses"]),
          f"--json with the payload on stdin: {doc}")

    # A query nobody has a handler for: acks, no responses.
    code, _, body = n1.req("POST", "/v1/queries/nobody?timeout=1s", timeout=20)
    doc, by = answers_of(body)
    check(code == 200 and not by and len(doc["acks"]) == 3, f"unanswered: {code} {body!r}")
    # No timeout given: the default, 100 ms x 4 x ceil(log10(4)), at least 2 s.
    code, _, body = n2.req("POST", "/v1/queries/nobody", timeout=20)
    check(code == 200 and json.loads(body)["timeout_ms"] == 2000,
          f"default timeout: {code} {body!r}")

    # n1 sent who, the CLI's filtered query and nobody; n3 passed five of
    # the others' queries (its own --json one is local) and not the CLI's.
    m1 = metrics_of(n1)
    check(metric(m1, "hearsay_queries_sent_total") == 3, "queries sent by n1")
    check(metric(m1, "hearsay_query_responses_received_total") == 4, "responses at n1")
    check(metric(m1, "hearsay_query_acks_received_total") == 7, "acks at n1")
    m3 = metrics_of(n3)
    check(metric(m3, "hearsay_queries_received_total") == 5, "queries at n3")
    check(metric(m3, "hearsay_query_responses_sent_total") == 3, "responses of n3")
    check(metric(m3, "hearsay_queries_filtered_total") == 1, "n3 filtered one")
    check(metric(metrics_of(n2), "hearsay_queries_filtered_total") == 2,
          "n2 filtered its own two (node n1,n3; tag role=db)")
    sse.close()


def case_limits():
    token = cli("keygen")[1].strip()
    tf = secret_file("api.token", token + "\n")
    auth = {"Authorization": f"Bearer {token}"}
    # n3's handler is slow: its answer comes after a short timeout.
    slow = write_script("slow.sh", "sleep 2; echo late\n")
    nodes, out = start_cluster(3, extra_first=["--http-token-file", tf])
    n1, n2, n3 = nodes
    n4 = Daemon("n4", join=[n1], extra=["--event-handler", f"query:who={slow}",
                                        "--handler-timeout", "10s"]).wait_ready()
    converge(nodes + [n4], 4)

    code, _, body = n1.req("POST", "/v1/queries/who")
    check(code == 401, f"query without the token: {code} {body!r}")
    t0 = time.monotonic()
    code, _, body = n1.req("POST", "/v1/queries/who?timeout=800ms", headers=auth,
                           timeout=20)
    took = time.monotonic() - t0
    doc, by = answers_of(body)
    check(code == 200 and set(by) == {"n1", "n2", "n3"} and "n4" in doc["acks"],
          f"slow n4 not among the responses: {code} {body!r}")
    check(0.7 <= took < 10, f"answered after {took:.2f}s for an 800ms timeout")
    wait_until(lambda: metric(metrics_of(n4), "hearsay_query_responses_late_total") == 1,
               15, "n4's late answer counted at n4")

    # A killed member neither acks nor answers.
    n3.kill()
    code, _, body = n2.req("POST", "/v1/queries/who?timeout=1s", timeout=20)
    doc, by = answers_of(body)
    check(code == 200 and set(by) == {"n1", "n2"} and "n3" not in doc["acks"],
          f"after n3 was killed: {code} {body!r}")

    # Bad input.
    def expect(path, want, needle, body=b""):
        code, _, b = n2.req("POST", path, body=body, timeout=20)
        check(code == want and needle in b.decode(errors="replace"),
              f"POST {path}: {code} {b!r} (wanted {want}, '{needle}')")
    expect("/v1/queries/who", 413, "at most 512", body=b"x" * 513)
    expect("/v1/queries/bad%20name", 400, "invalid query")
    expect("/v1/queries/", 400, "1..128")
    expect("/v1/queries/who?timeout=soon", 400, "bad timeout")
    expect("/v1/queries/who?timeout=11m", 400, "bad timeout")
    expect("/v1/queries/who?node=a,,b", 400, "bad node filter")
    expect("/v1/queries/who?tag=novalue", 400, "invalid query")
    expect("/v1/queries/who?tag=a=1,b=2,c=3,d=4,e=5", 400, "bad tag filter")
    code, _, _ = n2.req("GET", "/v1/queries/who")
    check(code == 405, f"GET /v1/queries/who: {code}")
    rc, _, err = cli("query", "bad name", "--http", n2.http)
    check(rc == 1 and "invalid query" in err, f"CLI bad name: {rc} {err!r}")
    rc, _, err = cli("query", "who", "--timeout", "soon", "--http", n2.http)
    check(rc == 2 and "--timeout" in err, f"CLI bad timeout: {rc} {err!r}")
    # The rate limit (shared with user events): bursts of 16 at most. Each
    # query waits 200 ms, so the burst is sent from threads at once.
    import threading
    codes = []
    lock = threading.Lock()

    def one():
        c, _, _ = n2.req("POST", "/v1/queries/burst?timeout=300ms", timeout=20)
        with lock:
            codes.append(c)
    for _ in range(2):  # user events use the same tokens
        n2.req("POST", "/v1/user-events/burst")
    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    check(codes.count(429) >= 4 and codes.count(200) >= 1,
          f"rate limit: {sorted(codes)}")
    m2 = metrics_of(n2)
    check(metric(m2, "hearsay_queries_rate_limited_total") >= 1, "rate limited counted")
    n4.kill()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hearsayd", required=True)
    ap.add_argument("--hearsay", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("case", choices=sorted(CASES))
    at.ARGS = ap.parse_args()
    at.TMP = tempfile.mkdtemp(prefix=f"hearsay-query-{at.ARGS.case}-")
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
