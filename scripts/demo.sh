#!/usr/bin/env bash
# A local five-node hearsay cluster on loopback, for a first look.
#
#   scripts/demo.sh
#
# From a fresh clone: installs what is missing (scripts/setup.sh), builds
# hearsayd and hearsay into build/, starts five hearsayd on 127.0.0.1
# (gossip 7001-7005, HTTP API 8001-8005), prints where to look, and stops
# every process it started on Ctrl-C or on any other exit.
#
# Environment (for the tests and for tinkering):
#   HEARSAY_DEMO_PORT  first gossip port (default 7001); HTTP ports are +1000
#   HEARSAY_DEMO_BIN   a directory that holds hearsayd: skip setup and build
#   HEARSAY_DEMO_CLI   the hearsay CLI (default: next to hearsayd)
#   HEARSAY_DEMO_DIR   where the logs go (default: a new temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

base=${HEARSAY_DEMO_PORT:-7001}
nodes=5
case "$base" in ''|*[!0-9]*) echo "demo: HEARSAY_DEMO_PORT must be a number" >&2; exit 2 ;; esac

if [ -z "${HEARSAY_DEMO_BIN:-}" ]; then
  echo "demo: checking packages (scripts/setup.sh)"
  bash scripts/setup.sh
  echo "demo: building hearsayd and hearsay in build/"
  # The same configuration as scripts/test.sh, so the two share build/.
  cmake -S . -B build -DHS_BUILD_TESTS=ON -DHS_WERROR=ON >/dev/null
  cmake --build build -j"$(nproc)" --target hearsayd hearsay_cli >/dev/null
  bin=$root/build/agent
else
  bin=$HEARSAY_DEMO_BIN
fi
hearsayd=$bin/hearsayd
hearsay=${HEARSAY_DEMO_CLI:-$bin/hearsay}
[ -x "$hearsayd" ] || { echo "demo: no hearsayd at $hearsayd" >&2; exit 1; }
cli=${hearsay#"$root/"}  # as printed: relative to the clone when inside it

dir=${HEARSAY_DEMO_DIR:-$(mktemp -d /tmp/hearsay-demo.XXXXXX)}
mkdir -p "$dir"

# Each daemon in its own process group (job control on), so a Ctrl-C in
# the terminal reaches this script only; the cleanup below then gives every
# node one SIGTERM, i.e. one graceful leave.
set -m
pids=()
cleanup() {
  trap - EXIT INT TERM
  if [ ${#pids[@]} -gt 0 ]; then
    echo
    echo "demo: stopping ${#pids[@]} nodes (graceful leave)"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
      alive=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ $alive -eq 0 ] && break
      sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
  fi
  echo "demo: stopped; logs are in $dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

handler=$root/contrib/handlers/hearsay-event-logger.sh
for i in $(seq 1 $nodes); do
  gport=$((base + i - 1))
  hport=$((base + 1000 + i - 1))
  args=(--name "n$i" --bind "127.0.0.1:$gport" --http "127.0.0.1:$hport"
        --tag role=demo --tag "zone=zone-$(( (i - 1) % 2 ))" --leave-timeout 2s)
  [ "$i" -gt 1 ] && args+=(--join "127.0.0.1:$base")
  # n1 runs the example event handler: its lines show up in n1's log.
  [ "$i" -eq 1 ] && [ -x "$handler" ] &&
    args+=(--event-handler "member-join,member-leave,member-fail=$handler")
  "$hearsayd" "${args[@]}" >"$dir/n$i.log" 2>&1 &
  pids+=($!)
done
set +m  # the groups are made; no job-control chatter from here on

# Ready when every node answers and n1 sees all five alive.
h1="http://127.0.0.1:$((base + 1000))"
for _ in $(seq 300); do
  for i in $(seq 1 $nodes); do
    if ! kill -0 "${pids[$((i - 1))]}" 2>/dev/null; then
      echo "demo: n$i exited while starting; its log ($dir/n$i.log):" >&2
      tail -n 20 "$dir/n$i.log" >&2
      exit 1
    fi
  done
  if [ "$("$hearsay" --http "$h1" members --state alive 2>/dev/null | tail -n +2 | wc -l)" -eq $nodes ]; then
    break
  fi
  sleep 0.1
done

echo
echo "hearsay demo: $nodes nodes on 127.0.0.1 (logs in $dir)"
echo
for i in $(seq 1 $nodes); do
  printf '  n%d  pid %-7s gossip 127.0.0.1:%d  HTTP http://127.0.0.1:%d\n' \
    "$i" "${pids[$((i - 1))]}" $((base + i - 1)) $((base + 1000 + i - 1))
done
cat <<EOF

Look around (any node's port works):
  open $h1/ in a browser                  # the dashboard: live table, events, plots
  $cli --http 127.0.0.1:$((base + 1000)) members
  curl -s $h1/v1/members | python3 -m json.tool
  curl -s $h1/metrics | grep '^hearsay_members'
  curl -sN $h1/v1/events                  # live events (Server-Sent Events)
  $cli --http 127.0.0.1:$((base + 1000)) watch   # the same, one line each

Kill a node and watch it be detected (suspect, then dead, in a few seconds):
  kill -9 ${pids[4]}                       # n5
  $cli --http 127.0.0.1:$((base + 1000)) members

Or let one leave gracefully (state "left", never "dead"):
  $cli --http 127.0.0.1:$((base + 1003)) leave     # n4

n1 runs contrib/handlers/hearsay-event-logger.sh on join/leave/fail:
  tail -f $dir/n1.log

Press Ctrl-C to stop all $nodes nodes.
EOF

# Wait until interrupted. Nodes killed by hand along the way are fine; when
# none is left, the demo ends.
while :; do
  alive=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  if [ $alive -eq 0 ]; then
    echo "demo: every node has exited"
    exit 0
  fi
  wait -n "${pids[@]}" 2>/dev/null || true
done
