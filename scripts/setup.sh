#!/usr/bin/env bash
# Installs every Debian 12 package that hearsay's build, tests and demo need.
# Idempotent and non-interactive: packages already present are left alone, and
# apt is only consulted when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  clang libclang-rt-14-dev           # libFuzzer and the sanitizer runtimes
  clang-format                       # scripts/format.sh and the format_check test
  libev-dev                          # event loop of the runtime
  libprotobuf-c-dev protobuf-c-compiler
  protobuf-compiler                  # protoc: checks hearsay.proto is standard
  libcmocka-dev                      # unit tests
  libsodium-dev                      # sealing (AEAD)
  libmicrohttpd-dev libjansson-dev   # HTTP API and JSON
  libcurl4-openssl-dev               # the CLI's HTTP client
  prometheus                         # promtool: checks /metrics in the agent tests
  python3                            # test helpers and reference values
  python3-yaml                       # reads contrib/kubernetes manifests in a test
  iproute2 nftables procps           # network-namespace tests
  dnsmasq                            # DNS (SRV) discovery test: a real DNS server
  dpkg-dev debhelper devscripts fakeroot lintian  # the Debian packages and their test
  curl serf                          # bench/vs-serf: event streams, the peer
  chromium chromium-driver python3-selenium  # the dashboard's browser test
  faketime                           # agent_generation: a clock behind across a restart
  abi-compliance-checker             # tests/abi: the released header against the current one
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! grep -q 'install ok installed' <<<"$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
