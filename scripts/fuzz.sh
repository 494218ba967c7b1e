#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    default 60 s, every target
#
# The committed corpus in tests/fuzz/corpus/TARGET/ is read, never written:
# new inputs go to a scratch directory. A crash fails the script and leaves
# the reproducer in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
case "$secs" in (*[!0-9]*|'') echo "fuzz.sh: SECONDS must be a number, got '$secs'" >&2; exit 2 ;; esac

bash scripts/setup.sh
CC=clang cmake -S . -B build-fuzz -DHS_FUZZ=ON -DHS_BUILD_TESTS=OFF \
  -DHS_BUILD_SHARED=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in build-fuzz/tests/fuzz/fuzz_*; do [ -x "$f" ] && targets+=("$(basename "$f")"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz targets built" >&2; exit 1; }

mkdir -p build-fuzz/artifacts
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for t in "${targets[@]}"; do
  scratch=$(mktemp -d)
  echo "== $t: ${secs}s =="
  # -rss_limit_mb bounds memory per input; -max_len matches the largest datagram.
  build-fuzz/tests/fuzz/"$t" "$scratch" "tests/fuzz/corpus/$t" \
    -max_total_time="$secs" -rss_limit_mb=1024 -max_len=65536 \
    -artifact_prefix=build-fuzz/artifacts/"$t"- -print_final_stats=1 2>&1 \
    | grep -E '^(#[0-9]+ +(INITED|DONE)|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|.*ERROR)' || true
  status=${PIPESTATUS[0]}
  rm -rf "$scratch"
  if [ "$status" -ne 0 ]; then echo "fuzz.sh: $t failed (exit $status)" >&2; exit 1; fi
done
echo "fuzz.sh: ${#targets[@]} target(s) ran ${secs}s each without a finding"
