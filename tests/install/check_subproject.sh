#!/usr/bin/env bash
# Builds hearsay the way an embedding project does, with
# add_subdirectory(hearsay) from an outer CMake project and no hearsay
# options set, and checks that it gets the library and nothing else: no
# tests, simulator, agent or examples are configured or built, and the
# outer project's CMAKE_BUILD_TYPE is left as the outer project set it
# (empty, then MinSizeRel). A program of the outer project links the
# library and runs.
#
#   check_subproject.sh SOURCE_DIR CC
set -euo pipefail

src=$1 cc=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/hs-subproject.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "check_subproject: $*" >&2; exit 1; }

mkdir -p "$work/outer"
cat >"$work/outer/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.25)
project(outer LANGUAGES C)
add_subdirectory("$src" hearsay)
add_executable(outer main.c)
target_link_libraries(outer PRIVATE hearsay::hearsay)
EOF
cat >"$work/outer/main.c" <<'EOF'
#include <stdio.h>
#include "hearsay.h"
int main(void)
{
    printf("outer links %s\n", hs_version_string());
    return 0;
}
EOF

cache_value() { # cache_value BUILD_DIR NAME
  sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt"
}

# ---- Configure with nothing set: only the library -------------------------
b=$work/build
cmake -S "$work/outer" -B "$b" -DCMAKE_C_COMPILER="$cc" >"$work/configure.log" 2>&1 ||
  fail "configure failed: $(cat "$work/configure.log")"
for opt in HS_BUILD_TESTS HS_BUILD_AGENT HS_BUILD_SIM HS_BUILD_EXAMPLES HS_FUZZ; do
  v=$(cache_value "$b" "$opt")
  [ "$v" = OFF ] || fail "$opt is '$v' in a subproject build (want OFF)"
done
bt=$(cache_value "$b" CMAKE_BUILD_TYPE)
[ -z "$bt" ] || fail "the outer project's empty CMAKE_BUILD_TYPE became '$bt'"

# The targets the build defines, from the generated build system: none of
# hearsay's executables or test programs may be among them.
targets=$(cmake --build "$b" --target help)
for t in hearsayd hearsay_cli hearsay-sim hs_sim hs_watch ev_watch test_core \
         test_node gen_core_corpus hostile; do
  if grep -qx "\.\.\. $t" <<<"$targets"; then
    fail "target $t is defined in a subproject build"
  fi
done

cmake --build "$b" -j2 >"$work/build.log" 2>&1 || fail "build failed: $(tail -30 "$work/build.log")"
out=$("$b/outer")
grep -q "^outer links " <<<"$out" || fail "outer program: $out"

# Everything built under hearsay's binary directory is a library: no
# executable file at all.
exes=$(find "$b/hearsay" -type f -perm -u+x ! -name '*.so*' ! -name '*.sh' -print)
[ -z "$exes" ] || fail "executables built in a subproject build: $exes"
[ -f "$b/hearsay/libhearsay.a" ] || fail "libhearsay.a not built"
ls "$b/hearsay"/libhearsay.so* >/dev/null 2>&1 || fail "libhearsay.so not built"
echo "subproject build: library only, outer program runs ($out)"

# ---- An outer build type is kept as it is ---------------------------------
b2=$work/build-type
cmake -S "$work/outer" -B "$b2" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_BUILD_TYPE=MinSizeRel >"$work/configure2.log" 2>&1 ||
  fail "configure failed: $(cat "$work/configure2.log")"
bt=$(cache_value "$b2" CMAKE_BUILD_TYPE)
[ "$bt" = MinSizeRel ] || fail "the outer project's MinSizeRel became '$bt'"
echo "outer CMAKE_BUILD_TYPE kept: ok"
