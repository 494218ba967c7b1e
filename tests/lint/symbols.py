#!/usr/bin/env python3
"""What the built libraries show the programs that link them.

  symbols.py shared --header include/hearsay.h --lib libhearsay.so
      Exactly the functions include/hearsay.h declares HS_EXPORT are in
      the shared library's dynamic symbol table (nm -D --defined-only):
      nothing private leaks, nothing public is missing. Fails otherwise.

  symbols.py static --header include/hearsay.h --lib libhearsay.a
                    --prefixes tests/lint/private_prefixes.txt [--strict]
      Every other external symbol of the static archive (nm -g
      --defined-only) must carry one of the private prefixes listed in the
      prefixes file (libuv's uv__ convention), so that linking the archive
      puts nothing in the user's hs_ namespace but the API. Prints how many
      do not, grouped by prefix, and the line "unprefixed internal symbols:
      N". Without --strict it only reports; with it, N > 0 fails.

The list of public names is read from the header itself, so the check
follows the API as it grows.
"""
import argparse
import collections
import re
import subprocess
import sys

# Symbols the linker defines in every shared object.
LINKER_SYMBOLS = {"_init", "_fini", "_edata", "_end", "__bss_start"}


def exported_names(header):
    text = open(header, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    # Drop preprocessor lines (continuations included): the HS_EXPORT
    # definition itself and the error-code X-macro.
    lines, skip = [], False
    for line in text.split("\n"):
        if skip or line.lstrip().startswith("#"):
            skip = line.rstrip().endswith("\\")
            continue
        lines.append(line)
    text = "\n".join(lines)
    names = set()
    for decl in re.findall(r"\bHS_EXPORT\b([^;{]*)", text):
        # The declarator's name is the identifier before the first "(" that
        # opens the parameter list; "(*name)(" for a function pointer.
        # Attribute-like macros (HS_DEPRECATED("..."), __attribute__((...)))
        # are skipped: upper-case or reserved names are never API names.
        m = re.search(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(", decl)
        if not m:
            m = next((c for c in re.finditer(r"([A-Za-z_]\w*)\s*\(", decl)
                      if not re.fullmatch(r"[A-Z0-9_]+|__\w*", c.group(1))),
                     None)
        if m:
            names.add(m.group(1))
        else:  # a variable
            m = re.search(r"([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*$", decl.strip())
            if m:
                names.add(m.group(1))
    if not names:
        sys.exit(f"symbols.py: no HS_EXPORT declarations found in {header}")
    return names


def nm(args):
    out = subprocess.run(["nm"] + args, check=True, capture_output=True,
                         text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        # "ADDR TYPE NAME"; archive member headers ("x.o:") and blanks skip.
        if len(parts) == 3 and parts[1] not in ("U", "w", "v"):
            name = parts[2].split("@")[0]
            # AddressSanitizer's one-definition-rule markers name the
            # global they guard: judge that global's name.
            if name.startswith("__odr_asan."):
                name = name[len("__odr_asan."):]
            names.add(name)
    return names


def check_shared(ns):
    public = exported_names(ns.header)
    visible = nm(["-D", "--defined-only", ns.lib]) - LINKER_SYMBOLS
    leaked = sorted(visible - public)
    missing = sorted(public - visible)
    print(f"{len(public)} HS_EXPORT names in {ns.header}; "
          f"{len(visible)} defined dynamic symbols in {ns.lib}")
    for name in leaked:
        print(f"  visible but not HS_EXPORT: {name}")
    for name in missing:
        print(f"  HS_EXPORT but not visible: {name}")
    return 1 if leaked or missing else 0


def prefix_of(name):
    """The name up to its second word: hs__core_tick -> hs_core_,
    hearsay__v2__ack__pack -> hearsay__v2__."""
    m = re.match(r"([A-Za-z]+_+[A-Za-z0-9]+_+)", name)
    return m.group(1) if m else name


def check_static(ns):
    public = exported_names(ns.header)
    prefixes = [l.strip() for l in open(ns.prefixes, encoding="utf-8")
                if l.strip() and not l.startswith("#")]
    defined = nm(["-g", "--defined-only", ns.lib])
    if not defined:
        sys.exit(f"symbols.py: no symbols read from {ns.lib}")
    missing = sorted(public - defined)
    internal = sorted(defined - public)
    bad = [n for n in internal if not any(n.startswith(p) for p in prefixes)]
    groups = collections.Counter(prefix_of(n) for n in bad)
    print(f"{len(defined)} external symbols in {ns.lib}: {len(public)} public, "
          f"{len(internal)} internal; private prefixes: {' '.join(prefixes)}")
    for name in missing:
        print(f"  HS_EXPORT but not defined: {name}")
    for prefix, count in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {count:4d}  {prefix}*")
    if ns.verbose:
        for name in bad:
            print(f"        {name}")
    if missing:
        return 1  # and no count line: a broken archive is not "pending"
    print(f"unprefixed internal symbols: {len(bad)}")
    return 1 if ns.strict and bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=["shared", "static"])
    ap.add_argument("--header", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--prefixes")
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ns = ap.parse_args()
    if ns.kind == "static" and not ns.prefixes:
        ap.error("static needs --prefixes")
    return check_shared(ns) if ns.kind == "shared" else check_static(ns)


if __name__ == "__main__":
    sys.exit(main())
