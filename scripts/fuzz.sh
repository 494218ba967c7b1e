#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    default 60 s, every target
#
# Every fuzz_* target the build makes is run (seven today: wire decoding,
# seal/open, keyring parsing, datagrams into a live core, the HTTP routes,
# the daemon's flags/config/keyring/token parsing, announcement slot
# values), so seven minutes at the default. The committed corpus in
# tests/fuzz/corpus/TARGET/ is read, never written: new inputs go to a
# scratch directory. A crash fails the script
# and leaves the reproducer in $HS_FUZZ_BUILD/artifacts/ (default
# build-fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
case "$secs" in (*[!0-9]*|'') echo "fuzz.sh: SECONDS must be a number, got '$secs'" >&2; exit 2 ;; esac

build=${HS_FUZZ_BUILD:-build-fuzz}
bash scripts/setup.sh
CC=clang cmake -S . -B "$build" -DHS_FUZZ=ON -DHS_BUILD_TESTS=OFF \
  -DHS_BUILD_SHARED=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$build"/tests/fuzz/fuzz_*; do [ -x "$f" ] && targets+=("$(basename "$f")"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz targets built" >&2; exit 1; }

mkdir -p "$build"/artifacts
# A smaller quarantine than ASan's 256 MiB: fuzz_http_route keeps a node
# across inputs, and freed memory held back by the sanitizer would
# otherwise count against -rss_limit_mb.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:quarantine_size_mb=64"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for t in "${targets[@]}"; do
  scratch=$(mktemp -d)
  echo "== $t: ${secs}s =="
  # -rss_limit_mb bounds memory per input; -max_len matches the largest datagram.
  # The fuzzer's own status decides, not grep's (set +e: a finding must
  # reach the check below, not end the script inside the pipeline).
  set +e
  "$build"/tests/fuzz/"$t" "$scratch" "tests/fuzz/corpus/$t" \
    -max_total_time="$secs" -rss_limit_mb=1024 -max_len=65536 \
    -artifact_prefix="$build"/artifacts/"$t"- -print_final_stats=1 2>&1 \
    | grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|.*ERROR)'
  status=${PIPESTATUS[0]}
  set -e
  rm -rf "$scratch"
  if [ "$status" -ne 0 ]; then echo "fuzz.sh: $t failed (exit $status)" >&2; exit 1; fi
done
echo "fuzz.sh: ${#targets[@]} target(s) ran ${secs}s each without a finding"
