#!/usr/bin/env python3
"""The dashboard (GET / on hearsayd) in a real headless Chromium.

    dashboard_test.py --hearsayd PATH --hearsay PATH --artifacts DIR CASE

Cases:
  cluster  four real hearsayd on loopback; the page is opened on n1 (which
           has an API token; the page is given it as /#token= and must
           send it) through a small TCP relay the test controls, and must show
           every member, turn a SIGKILLed member dead without a reload
           within the detection time plus 2 s, show a tag set through the
           API, filter by name, state and tag, work from the keyboard and
           at phone width, resume its event stream after the connection is
           cut without losing or repeating an event, and log nothing
           SEVERE to the console. Saves dashboard.png in DIR (and with
           --docs-screenshot PATH, there too).
  scale    the same page files served by a local Python server with a
           synthetic cluster of 1,000 members that changes every poll and
           a stream of events; prints the time to first render and the
           time per update pass, as the page measures them.

Exit status 77 (ctest SKIP_RETURN_CODE) only when Chromium, chromedriver
or python3-selenium is not installed.
"""
import argparse
import http.server
import json
import os
import random
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
import agent_test as at  # noqa: E402  (daemons, ports, bounded waits)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SKIP = 77

# The cluster's knobs. A SIGKILLed member stops beating; with heartbeats
# every 100 ms the detector's allowances scale to 0.1 of their 1 s values
# (docs/embedding.md): acceptable pause 0.1 s, minimum sd 0.05 s. It is
# suspect once phi passes 8, after I + pause + max(J, min sd) * z(8)
# (docs/detector.md), z(8) = 5.61; gossip spreads heartbeats with a jitter
# J of a few gossip intervals (0.3 s allowed here), so suspect after
# 0.1 + 0.1 + 0.3 * 5.61 = 1.9 s, dead --dead-after (1 s) later.
GOSSIP_MS, HEARTBEAT_MS, THRESHOLD, DEAD_AFTER_MS = 100, 100, 8, 1000
KNOBS = ["--gossip-interval", f"{GOSSIP_MS}ms", "--heartbeat-interval",
         f"{HEARTBEAT_MS}ms", "--phi-threshold", str(THRESHOLD),
         "--dead-after", f"{DEAD_AFTER_MS}ms", "--leave-timeout", "1500ms"]
JITTER_S = 3 * GOSSIP_MS / 1000
DETECT_S = (HEARTBEAT_MS / 1000 + 0.1 + max(JITTER_S, 0.05) * 5.612
            + DEAD_AFTER_MS / 1000)

ARGS = None
log = at.log
check = at.check
TestFailure = at.TestFailure


def have_browser():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python3-selenium is not installed"
    if not CHROMIUM:
        return "chromium is not installed"
    if not DRIVER:
        return "chromedriver (chromium-driver) is not installed"
    return None


class Browser:
    """Headless Chromium through chromedriver, stopped by PID at the end."""

    def __init__(self, tmp, width=1400, height=1000):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
                  "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--disable-quic",
                  "--disable-extensions", "--disable-default-apps",
                  f"--user-data-dir={tempfile.mkdtemp(prefix='profile-', dir=tmp)}",
                  f"--window-size={width},{height}"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.service = Service(executable_path=DRIVER,
                               log_path=os.path.join(tmp, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=self.service, options=opts)
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(30)
        self.console = []

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def logs(self):
        """Console entries since the last call (kept in self.console)."""
        new = self.driver.get_log("browser")
        self.console += new
        return new

    def quit(self):
        pid = getattr(self.service.process, "pid", None)
        try:
            self.driver.quit()
        except Exception as e:  # the browser may be gone already
            log(f"browser quit: {e}")
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_js(b, script, timeout, what, interval=0.05):
    def pred():
        return b.js(script)
    return at.wait_until(pred, timeout, what, interval)


ROWS_JS = """
return Array.from(document.querySelectorAll('#rows tr')).map(tr => ({
  name: tr.dataset.name, cls: tr.className,
  state: tr.querySelector('td.state').textContent,
  tags: tr.querySelector('td.tags').textContent,
  phi: tr.querySelector('td.phi').textContent}));
"""


def rows(b):
    return {r["name"]: r for r in b.js(ROWS_JS)}


# ---- A relay the test can cut ------------------------------------------------

class Relay:
    """TCP relay 127.0.0.1:port -> upstream. cut() closes every connection
    (the page's event stream drops as if the network had); while held,
    new connections wait (neither refused nor answered) until release()."""

    def __init__(self, upstream_port):
        self.up = upstream_port
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.lock = threading.Lock()
        self.open = threading.Event()
        self.open.set()
        self.stopped = False
        self.sent = bytearray()  # what the browser sent (the first 4 MiB)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        self.open.wait(60)
        try:
            u = socket.create_connection(("127.0.0.1", self.up), timeout=5)
        except OSError:
            c.close()
            return
        with self.lock:
            self.conns += [c, u]
        for a, z, keep in ((c, u, True), (u, c, False)):
            threading.Thread(target=self._pump, args=(a, z, keep), daemon=True).start()

    def _pump(self, a, z, keep):
        a.settimeout(None)
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if keep and len(self.sent) < 4 << 20:
                    with self.lock:
                        self.sent += d
                z.sendall(d)
        except OSError:
            pass
        for s in (a, z):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self, hold=True):
        if hold:
            self.open.clear()
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def release(self):
        self.open.set()

    def stop(self):
        self.stopped = True
        self.open.set()
        self.lsock.close()
        self.cut(hold=False)


# ---- The cluster case --------------------------------------------------------

def severe(entries):
    return [e for e in entries if e.get("level") == "SEVERE"]


def check_headers(d):
    code, hdr, body = d.req("GET", "/")
    check(code == 200 and body.startswith(b"<!doctype html>"), f"GET /: {code}")
    check(hdr["content-type"] == "text/html; charset=utf-8", f"type {hdr['content-type']}")
    csp = hdr.get("content-security-policy", "")
    check("script-src 'self'" in csp and "default-src 'none'" in csp
          and "unsafe-inline" not in csp, f"strict CSP: {csp!r}")
    etag = hdr.get("etag")
    check(etag and etag.startswith('"'), f"ETag {etag!r}")
    code, hdr2, body2 = d.req("GET", "/", headers={"If-None-Match": etag})
    check(code == 304 and body2 == b"", f"revalidation with the ETag: {code}")
    for path, ctype in (("/dashboard/app.js", "text/javascript; charset=utf-8"),
                        ("/dashboard/style.css", "text/css; charset=utf-8"),
                        ("/dashboard/icon.svg", "image/svg+xml")):
        code, hdr, _ = d.req("GET", path)
        check(code == 200 and hdr["content-type"] == ctype, f"{path}: {code} {hdr}")
    code, _, _ = d.req("GET", "/dashboard/missing.js")
    check(code == 404, f"unknown asset: {code}")
    code, hdr, _ = d.req("POST", "/")
    check(code == 405 and "GET" in hdr.get("allow", ""), f"POST /: {code}")
    st = d.json("/v1/stats")
    check(st["config"]["phi_threshold"] == THRESHOLD
          and st["config"]["gossip_interval_ms"] == GOSSIP_MS, f"/v1/stats config {st['config']}")
    check(len(st["rejected"]) >= 23 and "ESELF" in st["rejected"], "every reason in /v1/stats")
    log(f"headers: CSP {csp!r}, ETag {etag}, 304 on revalidation")


TOKEN = "dashboard-test-token-0123456789"


def case_cluster():
    # n1, whose page is opened, has an API token: the page must work with
    # it and send it when given one.
    tok = at.secret_file("n1.tok", TOKEN + "\n")
    nodes = at.cluster(4, extra=KNOBS,
                       per_node=lambda i: ["--http-token-file", tok] if i == 0 else [])
    n1, n2, n3, n4 = nodes
    check_headers(n1)
    relay = Relay(n1.hport)
    b = Browser(at.TMP)
    try:
        run_cluster(b, relay, nodes)
    finally:
        b.quit()
        relay.stop()


def run_cluster(b, relay, nodes):
    n1, n2, n3, n4 = nodes
    url = f"http://127.0.0.1:{relay.port}/"
    b.driver.get(url + "#token=" + TOKEN)
    names = {"n1", "n2", "n3", "n4"}
    wait_js(b, "return document.querySelectorAll('#rows tr').length == 4", 15,
            "four rows")
    r = rows(b)
    check(set(r) == names, f"rows {sorted(r)}")
    check(all(x["state"].endswith("alive") for x in r.values()), f"all alive: {r}")
    check(b.js("return document.getElementById('n-alive').textContent") == "4", "count alive 4")
    check(b.js("return document.getElementById('conn').textContent") == "live", "stream live")
    log("every member's row is there, alive")
    check(b.js("return location.hash") == "", "the token is taken out of the address bar")
    check(b.js("return sessionStorage.getItem('hearsay-token')") == TOKEN, "token kept for the tab")
    at.wait_until(lambda: f"Authorization: Bearer {TOKEN}".encode() in relay.sent, 5,
                  "the page sends the token")
    check(b"/v1/events" in relay.sent and b"GET /dashboard/app.js" in relay.sent, "relay sees the page")
    log("the page was given the token in its fragment: kept for the tab, sent as a bearer token")

    # A tag set through the API shows up, by gossip and an update event.
    code, _, _ = n2.req("PUT", "/v1/tags/role", body=b"db")
    check(code == 200, f"PUT tag: {code}")
    wait_js(b, "const r = document.querySelector('#rows tr[data-name=\"n2\"] td.tags');"
            "return r && r.textContent.includes('role=db')", 10, "n2's row shows role=db")
    log("tag role=db set on n2 shows in its row")

    # Filters: tag, name (a regex; a bad one says so), state.
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
    ftag = b.driver.find_element(By.ID, "f-tag")
    ftag.send_keys("role=db")
    wait_js(b, "return document.querySelectorAll('#rows tr').length == 1", 5, "tag filter")
    check(set(rows(b)) == {"n2"}, "tag filter keeps n2 only")
    ftag.clear()
    ftag.send_keys(Keys.BACKSPACE)
    fname = b.driver.find_element(By.ID, "f-name")
    fname.send_keys("^n[13]$")
    wait_js(b, "return document.querySelectorAll('#rows tr').length == 2", 5, "name filter")
    check(set(rows(b)) == {"n1", "n3"}, f"name filter: {sorted(rows(b))}")
    fname.clear()
    fname.send_keys("(")
    wait_js(b, "return document.getElementById('f-name-err').textContent.length > 0", 5,
            "a bad regex is reported")
    check(fname.get_attribute("aria-invalid") == "true", "bad regex marked invalid")
    fname.send_keys(Keys.BACKSPACE)
    wait_js(b, "return document.querySelectorAll('#rows tr').length == 4", 5, "filters cleared")
    log("tag, name and bad-regex filters work")

    # Keyboard: Tab to the first row's sort button is the browser's; here
    # a row takes focus, Enter selects it, arrows move.
    b.js("document.querySelector('#rows tr').focus()")
    active = b.driver.switch_to.active_element
    active.send_keys(Keys.ENTER)
    wait_js(b, "return !document.getElementById('detail-body').hidden", 5, "Enter selects")
    active.send_keys(Keys.ARROW_DOWN)
    check(b.js("return document.activeElement.dataset.name") == "n2", "ArrowDown moves to n2")
    b.driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait_js(b, "return document.getElementById('detail-title').textContent.includes('n2')", 5,
            "n2 selected from the keyboard")
    log("rows are keyboard-navigable; the selected member's plot is shown")

    # Let some history accumulate for the plot, then kill n4.
    time.sleep(6)
    entries = b.logs()
    check(not severe(entries), f"console SEVERE entries: {severe(entries)}")
    t0 = time.monotonic()
    n4.kill()
    bound = DETECT_S + 2
    wait_js(b, "const r = document.querySelector('#rows tr[data-name=\"n4\"]');"
            "return r && r.classList.contains('st-dead') && "
            "r.querySelector('td.state').textContent.endsWith('dead')",
            bound, f"n4's row dead within {bound:.1f} s (detection {DETECT_S:.1f} s + 2 s)",
            interval=0.02)
    took = time.monotonic() - t0
    # How long before that did n1 convict? Its state_age_ms says how long
    # ago n4 became dead: an upper bound of the page's lag behind n1.
    m = n1.members()["n4"]
    lag = m["state_age_ms"] / 1000 - (time.monotonic() - t0 - took)
    check(m["state"] == "dead", f"n1 says n4 is {m['state']}")
    log(f"n4 SIGKILLed: row dead after {took:.2f} s (bound {bound:.1f} s); "
        f"at most {lag * 1000:.0f} ms after n1's verdict")
    check(lag < 1.0, f"the row turned dead {lag:.2f} s after n1's verdict (> 1 s)")
    sel = Select(b.driver.find_element(By.ID, "f-state"))
    sel.select_by_value("dead")
    wait_js(b, "return document.querySelectorAll('#rows tr').length == 1", 5, "state filter")
    check(set(rows(b)) == {"n4"}, "state filter: dead shows n4 only")
    sel.select_by_value("")
    wait_js(b, "return document.querySelectorAll('#rows tr').length == 4", 5, "state cleared")
    check(b.js("return document.getElementById('n-dead').textContent") == "1", "count dead 1")
    tl = b.js("return document.getElementById('timeline').textContent")
    check("fail n4" in tl, f"timeline has n4's failure: {tl[:300]!r}")
    log("state filter works; the timeline shows the failure")

    # n4's history for the picture: phi climbing to the threshold, then
    # the verdict (phi is 0 once dead).
    b.js("document.querySelector('#rows tr[data-name=\"n4\"]').click()")
    wait_js(b, "return document.getElementById('detail-title').textContent.includes('n4')", 5,
            "n4 selected")
    time.sleep(1.5)  # one more poll and stats update
    entries = b.logs()
    check(not severe(entries), f"console SEVERE entries: {severe(entries)}")
    shot = os.path.join(ARGS.artifacts, "dashboard.png")
    b.driver.save_screenshot(shot)
    log(f"screenshot: {shot} ({os.path.getsize(shot)} bytes)")
    if ARGS.docs_screenshot:
        shutil.copyfile(shot, ARGS.docs_screenshot)
        log(f"copied to {ARGS.docs_screenshot}")

    # Phone width: nothing wider than the screen but the table's own
    # scroller; state still in words.
    b.driver.set_window_size(390, 844)
    time.sleep(0.5)
    over = b.js("return document.documentElement.scrollWidth - window.innerWidth")
    check(over <= 1, f"page {over}px wider than a 390px screen")
    b.driver.save_screenshot(os.path.join(ARGS.artifacts, "dashboard-phone.png"))
    b.driver.set_window_size(1400, 1000)
    log("readable at 390 px: no horizontal overflow")

    # Cut the page's connections; while it is away n1 sees new events; when
    # the relay lets it back, the stream resumes after the last event it
    # had: each event once, none lost.
    before = b.js("return window.hearsayDashboard.perf.applied.slice()")
    last = before[-1] if before else 0
    relay.cut(hold=True)
    wait_js(b, "return document.getElementById('conn').textContent != 'live'", 10,
            "the page notices the cut")
    ev = at.SSEClient(n1.hport)  # direct, to know which ids n1 produced
    for i in range(3):
        n3.req("PUT", f"/v1/tags/k{i}", body=b"v")
    at.wait_until(lambda: all(f"k{i}" in n1.members()["n3"]["tags"] for i in range(3)),
                  10, "n1 learns n3's three tags")
    at.wait_until(lambda: len([e for e in ev.events if e.get("event") == "update"]) >= 3, 10,
                  "n1 streams the updates")
    missed = [e["json"]["id"] for e in ev.events]
    ev.close()
    relay.release()
    wait_js(b, "return document.getElementById('conn').textContent == 'live'", 15,
            "the page reconnects")
    want = set(missed)
    wait_js(b, "const a = window.hearsayDashboard.perf.applied;"
            f"return {json.dumps(sorted(want))}.every(i => a.includes(i))", 15,
            "the page applies the events it missed")
    perf = b.js("return window.hearsayDashboard.perf")
    applied = perf["applied"]
    check(perf["duplicates"] == 0, f"{perf['duplicates']} duplicate events")
    check(perf["gaps"] == 0, f"{perf['gaps']} gaps in the event ids")
    check(applied == sorted(set(applied)), f"ids applied once, in order: {applied}")
    after = applied[len(before):]
    check(after and after[0] == last + 1, f"resumed right after {last}: {after}")
    tl = b.js("return document.getElementById('timeline').textContent")
    check(all(f"update n3 k{i}" in tl for i in range(3)), f"timeline has the updates: {tl[:300]!r}")
    log(f"stream resumed after id {last}: ids {after[:8]} applied once each, none lost")
    # The only console errors allowed now are the connections the relay cut.
    rest = [e for e in severe(b.logs()) if "net::" not in e.get("message", "")]
    check(not rest, f"console SEVERE entries: {rest}")


# ---- The scale case ----------------------------------------------------------

class Synthetic:
    """A cluster of n made-up members that moves on every poll."""

    def __init__(self, n):
        self.lock = threading.Lock()
        self.t0 = time.time()
        self.members = [{"name": f"node-{i:04d}", "addr": f"10.0.{i // 250}.{i % 250}:7946",
                         "state": "alive", "generation": 1796000000000 + i,
                         "heartbeat": random.randint(1, 1000), "phi": 0.1,
                         "state_age_ms": 1000, "self": i == 0,
                         "tags": {"role": ["web", "db", "cache"][i % 3], "zone": f"z{i % 4}"}}
                        for i in range(n)]
        self.next_id = 1
        self.events = []  # (id, type, json)
        self.cond = threading.Condition(self.lock)

    def snapshot(self):
        with self.lock:
            for m in self.members:
                if m["state"] == "alive":
                    m["heartbeat"] += random.randint(0, 3)
                    m["phi"] = round(random.random() * 2, 2)
            return json.dumps({"self": self.members[0]["name"], "members": self.members})

    def churn(self, k):
        """k random members change state or tags, as events."""
        with self.lock:
            for _ in range(k):
                m = random.choice(self.members[1:])
                if random.random() < 0.5:
                    m["state"] = {"alive": "suspect", "suspect": "alive", "dead": "alive",
                                  "left": "left"}[m["state"]]
                    typ = "suspect" if m["state"] == "suspect" else "recover"
                    doc = dict(m)
                else:
                    m["tags"] = dict(m["tags"], build=str(random.randint(1, 99)))
                    typ = "update"
                    doc = dict(m, key="build", deleted=False)
                doc.update(id=self.next_id, type=typ,
                           time=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))
                self.events.append((self.next_id, typ, json.dumps(doc)))
                self.next_id += 1
            self.cond.notify_all()


def serve_synthetic(syn, source_dir, stop):
    dash = os.path.join(source_dir, "agent", "dashboard")
    csp = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    types = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
             ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
    stats = {"name": "node-0000", "start_time": time.time(),
             "config": {"phi_threshold": 8.0, "gossip_interval_ms": 250,
                        "heartbeat_interval_ms": 500, "dead_after_ms": 1000},
             "gossip_rounds": 0, "messages_sent": {"syn": 0}, "messages_received": {"syn": 0},
             "sent_bytes": {"syn": 0}, "received_bytes": {"syn": 0},
             "rejected": {"ESTALE": 0}, "events": {}}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, code, ctype, body, extra=()):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", csp)
            self.send_header("Cache-Control", "no-cache")
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/v1/members":
                return self.send(200, "application/json", syn.snapshot().encode())
            if path == "/v1/stats":
                stats["gossip_rounds"] += 4
                for k in ("messages_sent", "messages_received"):
                    stats[k]["syn"] += 8
                for k in ("sent_bytes", "received_bytes"):
                    stats[k]["syn"] += 16000
                return self.send(200, "application/json", json.dumps(stats).encode())
            if path == "/v1/events":
                return self.stream()
            name = "index.html" if path == "/" else path[len("/dashboard/"):]
            f = os.path.join(dash, os.path.basename(name))
            if not path.startswith(("/dashboard/", "/")) or not os.path.isfile(f):
                return self.send(404, "application/json", b'{"error":"no such file"}')
            with open(f, "rb") as fh:
                self.send(200, types[os.path.splitext(f)[1]], fh.read())

        def stream(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(b": synthetic\nretry: 2000\n\n")
            self.wfile.flush()
            sent = syn.next_id - 1
            while not stop.is_set():
                with syn.cond:
                    syn.cond.wait(0.5)
                    todo = [e for e in syn.events if e[0] > sent]
                for i, typ, doc in todo:
                    self.wfile.write(f"id: {i}\nevent: {typ}\ndata: {doc}\n\n".encode())
                    sent = i
                try:
                    self.wfile.flush()
                except OSError:
                    return

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def case_scale():
    n = 1000
    syn = Synthetic(n)
    stop = threading.Event()
    srv = serve_synthetic(syn, ARGS.source_dir, stop)
    b = Browser(at.TMP)
    try:
        b.driver.get(f"http://127.0.0.1:{srv.server_address[1]}/")
        wait_js(b, f"return document.querySelectorAll('#rows tr').length == {n}", 30,
                f"{n} rows")
        # Ten seconds of churn: 20 events a second on top of the 1 s polls.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            syn.churn(2)
            time.sleep(0.1)
        b.js("document.querySelector('#rows tr[data-name=\"node-0007\"]').click()")
        time.sleep(2)
        perf = b.js("return window.hearsayDashboard.perf")
        shown = b.js("return document.querySelectorAll('#rows tr').length")
        entries = b.logs()
        b.driver.save_screenshot(os.path.join(ARGS.artifacts, "dashboard-1000.png"))
    finally:
        b.quit()
        stop.set()
        srv.shutdown()
    ups = sorted(perf["updates"])
    check(shown == n, f"{shown} rows of {n}")
    check(len(ups) >= 10, f"only {len(ups)} update passes")
    check(perf["events"] >= 100, f"only {perf['events']} events applied")
    check(not severe(entries), f"console SEVERE entries: {severe(entries)}")
    med = statistics.median(ups)
    p95 = ups[int(len(ups) * 0.95) - 1]
    print(f"dashboard at {n} members: first render {perf['firstRenderAt']:.0f} ms after "
          f"navigation start (the render pass itself {perf['firstRenderMs']:.1f} ms); "
          f"{len(ups)} update passes for {perf['polls']} polls and {perf['events']} events: "
          f"median {med:.1f} ms, p95 {p95:.1f} ms, max {ups[-1]:.1f} ms", flush=True)
    # A smoke bound, not a benchmark: far above what the page takes, far
    # below what per-row work of quadratic cost would.
    check(med < 100, f"median update pass {med:.1f} ms at {n} members")


CASES = {"cluster": case_cluster, "scale": case_scale}


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hearsayd", required=True)
    ap.add_argument("--hearsay", required=True)
    ap.add_argument("--source-dir", default=os.path.join(HERE, "..", ".."))
    ap.add_argument("--artifacts", default=os.path.join(os.getcwd(), "test-artifacts"))
    ap.add_argument("--docs-screenshot", help="also copy the screenshot here")
    ap.add_argument("case", choices=sorted(CASES))
    ARGS = ap.parse_args()
    why = have_browser()
    if why:
        print(f"SKIP: {why} (scripts/setup.sh installs chromium, chromium-driver "
              "and python3-selenium)", file=sys.stderr)
        return SKIP
    os.makedirs(ARGS.artifacts, exist_ok=True)
    at.ARGS = argparse.Namespace(hearsayd=ARGS.hearsayd, hearsay=ARGS.hearsay,
                                 source_dir=ARGS.source_dir, promtool="promtool")
    at.TMP = tempfile.mkdtemp(prefix=f"hearsay-dashboard-{ARGS.case}-")
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    t0 = time.monotonic()
    ok = False
    try:
        CASES[ARGS.case]()
        ok = True
    except (TestFailure, AssertionError) as e:
        print(f"FAIL {ARGS.case}: {e}", file=sys.stderr)
    except Exception:
        import traceback
        traceback.print_exc()
        print(f"FAIL {ARGS.case}: unexpected exception (above)", file=sys.stderr)
    finally:
        problems = at.cleanup(graceful=ok)
        for p in problems:
            ok = False
            print(f"FAIL {ARGS.case}: {p}", file=sys.stderr)
        if not ok:
            for d in at.DAEMONS:
                print(f"---- log of {d.name} (pid {d.pid}, exit {d.proc.returncode})",
                      file=sys.stderr)
                print(d.log()[-4000:], file=sys.stderr)
        else:
            shutil.rmtree(at.TMP, ignore_errors=True)
    log(f"{'PASS' if ok else 'FAIL'} {ARGS.case} in {time.monotonic() - t0:.1f}s"
        + ("" if ok else f" (files in {at.TMP})"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
