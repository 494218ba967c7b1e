#!/usr/bin/env bash
# The Debian packages build, pass lintian, install, run and go away again.
#
#   package_test.sh SOURCE_DIR
#
# Copies the source tree (git's files, or everything but build directories)
# to a scratch directory, so the checkout is never written to; builds with
# `dpkg-buildpackage -b -us -uc`; runs lintian (any error or warning fails;
# informational tags are printed); installs hearsayd, libhearsay0 and
# libhearsay-dev with dpkg -i; runs the installed `hearsayd --version`,
# `hearsayd --check` on the packaged config, `hearsay --help`, finds the
# man pages, and compiles and runs a program against the installed library
# through pkg-config; then purges all three and checks nothing is left.
#
# Needs root (dpkg -i) and the packaging tools (scripts/setup.sh installs
# them); exits 77 (skipped) without, or when a hearsay package is already
# installed on this machine (the test will not replace it).
set -euo pipefail
SRC=$(cd "$1" && pwd)
PKGS=(hearsayd libhearsay0 libhearsay-dev)

skip() { echo "skipped: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "dpkg -i needs root"
for t in dpkg-buildpackage lintian dh fakeroot; do
  command -v "$t" >/dev/null || skip "$t is missing (scripts/setup.sh installs it)"
done
for p in "${PKGS[@]}"; do
  if grep -q 'ok installed' <<<"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)"; then
    skip "$p is already installed on this machine"
  fi
done

# The package's version (debian/changelog) must be the project's (CMake).
VERSION=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)

WORK=$(mktemp -d /tmp/hearsay-package.XXXXXX)
installed=0
cleanup() {
  if [ "$installed" -eq 1 ]; then
    dpkg --purge "${PKGS[@]}" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { echo "[$(date +%H:%M:%S)] $*"; }

step "copying $SRC to $WORK/hearsay-$VERSION"
mkdir "$WORK/hearsay-$VERSION"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$SRC" && git ls-files -co --exclude-standard -z | grep -zv '^build' |
     tar --null -cf - -T -) | tar -xf - -C "$WORK/hearsay-$VERSION"
else
  tar -C "$SRC" --exclude='./build*' -cf - . | tar -xf - -C "$WORK/hearsay-$VERSION"
fi

step "dpkg-buildpackage -b -us -uc"
if ! (cd "$WORK/hearsay-$VERSION" &&
      dpkg-buildpackage -b -us -uc -j2 >"$WORK/build.log" 2>&1); then
  tail -60 "$WORK/build.log"
  echo "FAIL: dpkg-buildpackage (log above)" >&2
  exit 1
fi
ls "$WORK"/*.deb | sed 's|.*/|  |'

step "lintian"
# Informational tags (I:) are shown, not fatal; its note about running as
# root is dropped.
lint=$(lintian --display-info --pedantic "$WORK"/hearsay_${VERSION}_*.changes 2>&1 |
       grep -v 'running with root privileges' || true)
[ -n "$lint" ] && echo "$lint"
if grep -q '^[EW]: ' <<<"$lint"; then
  echo "FAIL: lintian errors or warnings (above); fix them or override them" \
       "with a reason in debian/*.lintian-overrides" >&2
  exit 1
fi
echo "  no errors or warnings"

step "dpkg -i"
installed=1
dpkg -i "$WORK"/hearsayd_${VERSION}_*.deb "$WORK"/libhearsay0_${VERSION}_*.deb \
        "$WORK"/libhearsay-dev_${VERSION}_*.deb >"$WORK/install.log" 2>&1 ||
  { cat "$WORK/install.log"; echo "FAIL: dpkg -i" >&2; exit 1; }

step "the installed files"
v=$(/usr/bin/hearsayd --version)
echo "  $v"
case "$v" in "hearsayd $VERSION (libhearsay $VERSION)") ;;
  *) echo "FAIL: the package is $VERSION (debian/changelog), the programs say '$v'" >&2; exit 1;; esac
help=$(/usr/bin/hearsay --help)
sed -n '1s/^/  /p' <<<"$help"
grep -q '^usage: hearsay' <<<"$help" || { echo "FAIL: hearsay --help" >&2; exit 1; }
check=$(/usr/bin/hearsayd --check --config /etc/hearsay/hearsayd.json)
sed -n '1s/^/  check: /p' <<<"$check"
# The programs use the packaged library, not one of a build tree.
# (Into a variable first: with pipefail, `ldd | grep -q` fails whenever
# grep's early exit makes ldd die of SIGPIPE.)
deps=$(ldd /usr/bin/hearsayd)
grep -q "libhearsay.so.0 => /lib/.*\|libhearsay.so.0 => /usr/lib/" <<<"$deps" ||
  { echo "$deps"; echo "FAIL: hearsayd does not use the packaged libhearsay" >&2; exit 1; }
for m in /usr/share/man/man8/hearsayd.8.gz /usr/share/man/man1/hearsay.1.gz \
         /lib/systemd/system/hearsayd.service /etc/hearsay/hearsayd.json; do
  [ -e "$m" ] || { echo "FAIL: $m is missing" >&2; exit 1; }
done
grep -q '^Type=notify' /lib/systemd/system/hearsayd.service &&
  grep -q '^ExecStart=/usr/bin/hearsayd' /lib/systemd/system/hearsayd.service ||
  { echo "FAIL: the packaged unit" >&2; exit 1; }
getent passwd hearsay >/dev/null && echo "  user hearsay: $(getent passwd hearsay)" ||
  echo "  (no systemd-sysusers here: the hearsay user is created where systemd runs)"

step "a program against the installed library (pkg-config hearsay)"
cat > "$WORK/use.c" <<'C'
#include <hearsay.h>
#include <stdio.h>
int main(void)
{
    hs_config *c = NULL;
    uint64_t ms = 0;
    if (hs_config_new(&c) != HS_OK ||
        hs_config_get_uint(c, "gossip-interval", &ms) != HS_OK)
        return 1;
    hs_config_free(c);
    printf("libhearsay %s, gossip every %u ms\n", hs_version_string(),
           (unsigned)ms);
    return 0;
}
C
cc -o "$WORK/use" "$WORK/use.c" $(pkg-config --cflags --libs hearsay)
"$WORK/use" | sed 's/^/  /'

step "dpkg --purge"
dpkg --purge "${PKGS[@]}" >"$WORK/purge.log" 2>&1 ||
  { cat "$WORK/purge.log"; echo "FAIL: dpkg --purge" >&2; exit 1; }
installed=0
for f in /usr/bin/hearsayd /usr/bin/hearsay /etc/hearsay /var/lib/hearsay \
         /usr/include/hearsay.h; do
  [ ! -e "$f" ] || { echo "FAIL: $f is left after purge" >&2; exit 1; }
done
echo "PASS: built, lintian clean, installed, ran, purged"
