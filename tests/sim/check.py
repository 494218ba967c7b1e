#!/usr/bin/env python3
"""Runs hearsay-sim and checks its JSON figures against bounds.

    check.py SIM [--expect-exit N] [--check KEY<=VALUE ...] -- ARGS...

KEY may be a dotted path into the JSON object ("events.fail"); operators
are <=, >=, ==, <, >. Every check is printed with the value found, so a
failing CI log says which figure missed and by how much. The JSON must be
one valid object on stdout.
"""
import json
import operator
import re
import subprocess
import sys

OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq,
       "<": operator.lt, ">": operator.gt}


def lookup(obj, path):
    for part in path.split("."):
        obj = obj[part]
    return obj


def main(argv):
    if "--" not in argv:
        print("usage: check.py SIM [--expect-exit N] [--check EXPR]... -- ARGS",
              file=sys.stderr)
        return 2
    i = argv.index("--")
    opts, sim_args = argv[1:i], argv[i + 1:]
    sim, checks, expect_exit = opts[0], [], 0
    k = 1
    while k < len(opts):
        if opts[k] == "--check":
            checks.append(opts[k + 1])
            k += 2
        elif opts[k] == "--expect-exit":
            expect_exit = int(opts[k + 1])
            k += 2
        else:
            print(f"check.py: unknown option {opts[k]}", file=sys.stderr)
            return 2
    proc = subprocess.run([sim] + sim_args, capture_output=True, text=True)
    print("$ " + " ".join([sim] + sim_args))
    if proc.stderr:
        print(proc.stderr, end="")
    if proc.returncode != expect_exit:
        print(f"FAIL: exit status {proc.returncode}, expected {expect_exit}")
        print(proc.stdout)
        return 1
    if expect_exit != 0:
        print(f"ok: exit status {expect_exit}")
        return 0
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        print(f"FAIL: output is not valid JSON: {e}\n{proc.stdout}")
        return 1
    if not isinstance(doc, dict):
        print("FAIL: output is not one JSON object")
        return 1
    failed = 0
    for c in checks:
        m = re.fullmatch(r"([\w.]+)\s*(<=|>=|==|<|>)\s*(-?[\d.eE+-]+)", c)
        if not m:
            print(f"check.py: bad check {c!r}", file=sys.stderr)
            return 2
        key, op, bound = m.group(1), m.group(2), float(m.group(3))
        try:
            val = lookup(doc, key)
        except (KeyError, TypeError):
            print(f"FAIL: {key} missing")
            failed += 1
            continue
        ok = val is not None and OPS[op](float(val), bound)
        print(f"{'ok  ' if ok else 'FAIL'}: {key} = {val} (want {op} {m.group(3)})")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
