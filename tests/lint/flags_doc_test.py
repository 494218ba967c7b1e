#!/usr/bin/env python3
"""The flags of hearsayd and hearsay agree in --help, the man pages and
docs/operations.md.

hearsayd: the options `hearsayd --help` prints, the OPTIONS section of
docs/man/hearsayd.8 and the first column of the flags table in
docs/operations.md ("### Flags") must be the same set. hearsay: the flags
in `hearsay --help` and every command's --help, in docs/man/hearsay.1 and
in the CLI section of docs/operations.md ("## The hearsay CLI") must be
the same set. A flag added to the daemon without its documentation, or
documentation of a flag that is gone, fails with the difference named.
The defaults must agree too: where `hearsayd --help` says "(default X)"
(for the node knobs that is the library's option table), the flags
table's Default column and the man page's "(default ...)" say X.

    flags_doc_test.py --hearsayd PATH --hearsay PATH --source-dir DIR
"""
import argparse
import os
import re
import subprocess
import sys

FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*[a-z0-9])")
CLI_COMMANDS = ["members", "watch", "tag", "leave", "keys", "keygen", "version",
                "event", "force-leave", "query"]


def run(*argv):
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    return p.stdout + p.stderr


def flags(text):
    return set(FLAG.findall(text))


def section(text, start, end_pattern):
    i = text.find(start)
    if i < 0:
        raise SystemExit(f"FAIL: no {start!r} section")
    rest = text[i + len(start):]
    m = re.search(end_pattern, rest, re.M)
    return rest[:m.start()] if m else rest


def man_text(path):
    # troff writes a dash as \- ; font escapes (\fB ...) are removed.
    t = open(path).read().replace("\\-", "-")
    return re.sub(r"\\f[BIRP]", "", t)


def compare(what, sets):
    names = list(sets)
    ok = True
    union = set().union(*sets.values())
    for n in names:
        missing = sorted(union - sets[n])
        if missing:
            ok = False
            print(f"FAIL {what}: missing from {n}: "
                  + ", ".join("--" + f for f in missing), file=sys.stderr)
    if ok:
        print(f"ok {what}: {len(union)} flags agree in {', '.join(names)}")
    return ok


DEFAULT = re.compile(r"\(default ([^)]*)\)\s*$")


def unquote(v):
    # Words may follow the value: "`0` (wait forever)", "0: wait forever".
    v = v.split(" (")[0].split(": ")[0]
    return v.strip().strip("`").strip('"')


def compare_defaults(opt_lines, table, man):
    """The defaults --help prints, against the docs table and the man page."""
    want = {}
    for ln in opt_lines:
        m = DEFAULT.search(ln)
        if m:
            want[FLAG.match(ln.strip()).group(1)] = unquote(m.group(1))
    doc = {}
    for ln in table.splitlines():
        cols = ln.split("|")
        if ln.startswith("| `--") and len(cols) > 3:
            names = flags(cols[1])
            if len(names) == 1:
                doc[names.pop()] = cols[2].strip()
    ok = True
    checked = 0
    for flag, v in sorted(want.items()):
        d = doc.get(flag)
        # The column may add words after the value: "`0` (wait forever)".
        if d is not None and unquote(d) != v:
            print(f"FAIL defaults: --{flag}: --help says {v!r}, "
                  f"docs/operations.md says {d!r}", file=sys.stderr)
            ok = False
        m = re.search(r'^\.BI? "--' + re.escape(flag) + r'[ "].*?\n(.*?)(?=^\.(TP|SH))',
                      man, re.M | re.S)
        md = DEFAULT.search(m.group(1).strip().rstrip(".")) if m else None
        checked += bool(d is not None) + bool(md)
        if md and unquote(md.group(1)) != v:
            print(f"FAIL defaults: --{flag}: --help says {v!r}, "
                  f"hearsayd.8 says {md.group(1)!r}", file=sys.stderr)
            ok = False
    if ok:
        print(f"ok defaults: {len(want)} defaults of --help, {checked} "
              "places in docs/operations.md and hearsayd.8 agree")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hearsayd", required=True)
    ap.add_argument("--hearsay", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    src = a.source_dir
    ops = open(os.path.join(src, "docs", "operations.md")).read()

    # hearsayd: the option lines of --help (the usage line and the prose
    # around them mention flags too, but only as examples).
    help_text = run(a.hearsayd, "--help")
    opt_lines = [ln for ln in help_text.splitlines() if ln.startswith("  --")]
    d_help = {FLAG.match(ln.strip()).group(1) for ln in opt_lines}
    d_man = flags(section(man_text(os.path.join(src, "docs", "man", "hearsayd.8")),
                          ".SH OPTIONS", r"^\.SH "))
    table = section(ops, "### Flags", r"^#")
    d_doc = set()
    for ln in table.splitlines():
        if ln.startswith("| `--"):
            d_doc |= flags(ln.split("|")[1])
    # The man pages name the version the programs report.
    version = run(a.hearsayd, "--version").split()[1]
    for page in ("hearsayd.8", "hearsay.1"):
        th = [ln for ln in open(os.path.join(src, "docs", "man", page))
              if ln.startswith(".TH ")]
        if not th or f'"hearsay {version}"' not in th[0]:
            print(f"FAIL: {page}'s .TH line does not say \"hearsay {version}\": "
                  f"{th[:1]}", file=sys.stderr)
            return 1
    ok = compare("hearsayd", {"hearsayd --help": d_help, "hearsayd.8": d_man,
                              "docs/operations.md (Flags)": d_doc})
    ok &= compare_defaults(opt_lines, table,
                           man_text(os.path.join(src, "docs", "man",
                                                 "hearsayd.8")))

    # hearsay: every command's help; usage, command and option lines only
    # (the prose mentions the daemon's flags and example values).
    def cli_flags(text):
        keep = ("--", "usage:", "hearsay ") + tuple(CLI_COMMANDS)
        return flags("\n".join(ln for ln in text.splitlines()
                                if ln.strip().startswith(keep)))
    c_help = cli_flags(run(a.hearsay, "--help"))
    for c in CLI_COMMANDS:
        c_help |= cli_flags(run(a.hearsay, c, "--help"))
    c_man = flags(man_text(os.path.join(src, "docs", "man", "hearsay.1")))
    c_doc = flags(section(ops, "## The hearsay CLI", r"^## "))
    ok &= compare("hearsay", {"hearsay --help": c_help, "hearsay.1": c_man,
                              "docs/operations.md (CLI)": c_doc})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
