#!/usr/bin/env bash
# Installs a finished build into a temporary prefix and builds the embedding
# examples (contrib/examples) against it the way a user outside the tree
# would: once with `pkg-config hearsay`, once with find_package(hearsay) in a
# tiny CMake project. Then runs two of the pkg-config-built watchers as a
# two-node cluster to show the installed library really works.
#
#   check_install.sh BUILD_DIR SOURCE_DIR CC [EXTRA_FLAGS]
#
# EXTRA_FLAGS are the build's sanitizer flags: a consumer of an
# instrumented library must be linked with the same runtime.
set -euo pipefail

build=$1 src=$2 cc=$3 extra=${4:-}
examples=$src/contrib/examples
work=$(mktemp -d "${TMPDIR:-/tmp}/hs-install.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "check_install: $*" >&2; exit 1; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null

# ---- The header, and nothing private, is installed -----------------------
[ -f "$prefix/include/hearsay.h" ] || fail "hearsay.h not installed"
extra_headers=$(find "$prefix/include" -type f ! -name hearsay.h)
[ -z "$extra_headers" ] || fail "private headers installed: $extra_headers"

# ---- pkg-config ------------------------------------------------------------
pc=$(find "$prefix" -name hearsay.pc -print -quit)
[ -n "$pc" ] || fail "hearsay.pc not installed"
export PKG_CONFIG_PATH=$(dirname "$pc")
pkg-config --exists hearsay || fail "pkg-config cannot read $pc"
libdir=$(cd "$(pkg-config --variable=libdir hearsay)" && pwd)
case "$libdir" in "$prefix"/*) ;; *) fail "libdir $libdir is outside $prefix" ;; esac
read -r -a cflags <<<"$(pkg-config --cflags hearsay)"
read -r -a libs <<<"$(pkg-config --libs hearsay)"
read -r -a xflags <<<"$extra"
# -I for the prefix only: the build must not be reaching into the tree.
"$cc" -std=c11 -Wall -Wextra -Werror "${xflags[@]}" "${cflags[@]}" \
  "$examples/hs_watch.c" "${libs[@]}" -o "$work/hs_watch"
"$cc" -std=c11 -Wall -Wextra -Werror "${xflags[@]}" "${cflags[@]}" \
  "$examples/ev_watch.c" "${libs[@]}" -lev -o "$work/ev_watch"
export LD_LIBRARY_PATH=$libdir
grep -q "libhearsay" <<<"$("$work/hs_watch" --version)" || fail "hs_watch --version"
echo "pkg-config build: ok ($(pkg-config --modversion hearsay))"

# ---- find_package(hearsay) -----------------------------------------------
mkdir -p "$work/consumer"
cat >"$work/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(hearsay_consumer LANGUAGES C)
find_package(hearsay 0.1 REQUIRED)
add_executable(hs_watch ${EXAMPLES}/hs_watch.c)
target_link_libraries(hs_watch PRIVATE hearsay::hearsay)
EOF
cmake -S "$work/consumer" -B "$work/consumer/build" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" \
  -DEXAMPLES="$examples" >/dev/null
cmake --build "$work/consumer/build" >/dev/null
grep -q "libhearsay" <<<"$("$work/consumer/build/hs_watch" --version)" ||
  fail "find_package build does not run"
echo "find_package build: ok"

# ---- Two installed watchers form a cluster ---------------------------------
"$work/hs_watch" --name a --bind 127.0.0.1:0 --cluster install-test \
  --seconds 8 >"$work/a.out" 2>&1 &
pids+=($!)
addr=
for _ in $(seq 1 50); do
  addr=$(sed -n 's/.* at \(127\.0\.0\.1:[0-9]*\);.*/\1/p' "$work/a.out")
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || fail "first watcher did not start: $(cat "$work/a.out")"
"$work/hs_watch" --name b --bind 127.0.0.1:0 --cluster install-test \
  --join "$addr" --seconds 2 >"$work/b.out" 2>&1 ||
  fail "second watcher failed: $(cat "$work/b.out")"
grep -q "^join  *a " "$work/b.out" || fail "b never saw a join: $(cat "$work/b.out")"
echo "two installed watchers converged: ok"
