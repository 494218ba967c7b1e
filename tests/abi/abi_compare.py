#!/usr/bin/env python3
"""Holds the current public header to the ABI rules against the released one.

    abi_compare.py RELEASED_LAYOUT CURRENT_LAYOUT

Both are abi_layout programs (or files of their output: "kind name value"
lines), built against tests/abi/v0.1/hearsay.h and include/hearsay.h. Rules (hearsay.h, top):
every name of the released header is still there; offsets and constants
are unchanged; "frozen" sizes are unchanged; "grows" sizes do not shrink.
Each break is named; the exit status is 1 if there is any.
"""
import os
import subprocess
import sys


def load(path):
    if os.access(path, os.X_OK) and not path.endswith(".txt"):
        text = subprocess.run([path], check=True, capture_output=True,
                              text=True, timeout=30).stdout
    else:
        text = open(path).read()
    out = {}
    for line in text.splitlines():
        kind, name, value = line.split()
        out[(kind, name)] = int(value)
    return out


def main():
    old, new = load(sys.argv[1]), load(sys.argv[2])
    bad = []
    for (kind, name), v in sorted(old.items()):
        if (kind, name) not in new:
            bad.append(f"{kind} {name}: gone from the current header")
            continue
        w = new[(kind, name)]
        if kind == "grows":
            if w < v:
                bad.append(f"size of {name} shrank: {v} -> {w}")
        elif w != v:
            what = {"frozen": "size of (frozen)", "offset": "offset of",
                    "const": "value of"}[kind]
            bad.append(f"{what} {name} changed: {v} -> {w}")
    for b in bad:
        print("ABI BREAK:", b, file=sys.stderr)
    if not bad:
        print(f"ok: {len(old)} layout facts of the released header hold")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
