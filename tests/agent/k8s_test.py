#!/usr/bin/env python3
"""contrib/kubernetes/hearsay.yaml cannot drift from hearsayd's flags.

Takes the hearsayd container's command and args from the StatefulSet,
expands $(VAR) from its env the way the kubelet does (downward-API fields
get sample values), points the files under its volume mounts into a
scratch directory holding a real keyring and token (mode 0600, as the
init container leaves them), and runs the result with --check: exit 0 or
the test fails with hearsayd's reason. It also checks what the manifests
promise in words: a headless Service publishing not-ready addresses with a
UDP port named for the SRV name the args join, probes on /healthz and
/readyz at the --http port, and a grace period longer than --leave-timeout.

    k8s_test.py --hearsayd PATH --hearsay PATH --source-dir DIR
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("python3-yaml is missing (scripts/setup.sh installs it)", file=sys.stderr)
    sys.exit(1)

SAMPLES = {
    "metadata.name": "hearsay-0",
    "metadata.namespace": "default",
    "status.podIP": "10.244.1.7",
    "spec.nodeName": "worker-1",
}


def fail(msg):
    print(f"FAIL k8s: {msg}", file=sys.stderr)
    sys.exit(1)


def duration_s(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)?", text)
    if not m:
        fail(f"cannot read duration {text!r}")
    n, unit = int(m.group(1)), m.group(2) or "ms"
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hearsayd", required=True)
    ap.add_argument("--hearsay", required=True)
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    path = os.path.join(args.source_dir, "contrib", "kubernetes", "hearsay.yaml")
    docs = {d["kind"]: d for d in yaml.safe_load_all(open(path))}
    svc, sts = docs.get("Service"), docs.get("StatefulSet")
    if not svc or not sts:
        fail("hearsay.yaml needs a Service and a StatefulSet")

    if svc["spec"].get("clusterIP") != "None":
        fail("the Service is not headless (clusterIP: None)")
    if svc["spec"].get("publishNotReadyAddresses") is not True:
        fail("the Service does not publish not-ready addresses")
    if sts["spec"].get("serviceName") != svc["metadata"]["name"]:
        fail("the StatefulSet's serviceName is not the Service")

    pod = sts["spec"]["template"]["spec"]
    c = next((c for c in pod["containers"] if c["name"] == "hearsayd"), None)
    if not c:
        fail("no container named hearsayd")

    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            field = e["valueFrom"]["fieldRef"]["fieldPath"]
            env[e["name"]] = SAMPLES.get(field, "sample-" + e["name"].lower())

    def expand(s):
        def var(m):
            if m.group(1) not in env:
                fail(f"$({m.group(1)}) in {s!r} is not in the container's env")
            return env[m.group(1)]
        return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", var, s)

    argv = [expand(a) for a in c.get("command", []) + c.get("args", [])]
    if not argv or os.path.basename(argv[0]) != "hearsayd":
        fail(f"the container does not run hearsayd: {argv[:1]}")

    tmp = tempfile.mkdtemp(prefix="hearsay-k8s-")
    try:
        mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
        for m in mounts:
            os.makedirs(tmp + m, exist_ok=True)

        def relocate(a):
            flag, eq, val = a.partition("=")
            for m in mounts:
                if eq and val.startswith(m + "/"):
                    return f"{flag}={tmp}{val}"
            return a
        argv = [relocate(a) for a in argv[1:]]
        flags = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
        key = subprocess.run([args.hearsay, "keygen"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        for flag, text in (("keyring", key), ("http-token-file", "k" * 40)):
            if flag in flags:
                with open(flags[flag], "w") as f:
                    f.write(text + "\n")
                os.chmod(flags[flag], 0o600)

        p = subprocess.run([args.hearsayd, "--check"] + argv, capture_output=True,
                           text=True, timeout=30)
        print(f"$ hearsayd --check {' '.join(argv)}")
        print(p.stdout, end="")
        if p.returncode != 0:
            fail(f"hearsayd --check exit {p.returncode}: {p.stderr.strip()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # The probes use the API's port, and the paths hearsayd serves.
    http_port = int(flags["http"].rsplit(":", 1)[1])
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe, want in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        g = c[probe]["httpGet"]
        port = ports.get(g["port"], g["port"])
        if g["path"] != want or port != http_port:
            fail(f"{probe} is {g['path']} on port {port}, want {want} on {http_port}")
    # The join's SRV name is the Service's UDP port name.
    srv = [v for k, v in (a[2:].split("=", 1) for a in argv if a.startswith("--join="))
           if v.startswith("srv+")]
    udp = [p["name"] for p in svc["spec"]["ports"] if p.get("protocol") == "UDP"]
    want = f"srv+_{udp[0]}._udp.{svc['metadata']['name']}." if udp else None
    if not srv or not want or not srv[0].startswith(want):
        fail(f"--join {srv} does not name the Service's SRV records ({want}...)")
    gport = int(flags["bind"].rsplit(":", 1)[1])
    if ports.get("gossip") != gport or int(flags["advertise"].rsplit(":", 1)[1]) != gport:
        fail("the gossip port differs between --bind, --advertise and the container")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    leave = duration_s(flags.get("leave-timeout", "5s"))
    if not grace > leave:
        fail(f"terminationGracePeriodSeconds {grace} leaves no room for "
             f"--leave-timeout {leave}s")
    print(f"PASS k8s: args valid; probes /healthz and /readyz on {http_port}; "
          f"join {srv[0]}; grace {grace}s > leave {leave:g}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
