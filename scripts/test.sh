#!/usr/bin/env bash
# Installs what is missing, builds hearsay and runs the whole test suite.
#
#   scripts/test.sh              release-with-debug-info build in build/
#   scripts/test.sh --sanitize   ASan+UBSan build in build-asan/ (leaks fatal)
#
# Extra arguments after -- go to ctest (e.g. -- -R wire).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
cmake_args=()
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    # The package test builds the .debs with the distribution's flags from a
    # copy of the tree: under the sanitizers it would only repeat itself.
    --sanitize) build=build-asan; cmake_args+=(-DHS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
                ctest_args+=(-LE package) ;;
    --) shift; break ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/setup.sh
cmake -S . -B "$build" -DHS_BUILD_TESTS=ON -DHS_WERROR=ON "${cmake_args[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "${ctest_args[@]}" "$@"
