#!/bin/sh
# Installs what crashwrap needs to build (and, with --test, to run its whole
# test suite) from Debian 12 packages. Idempotent; run as root.
#   packaging/install-deps.sh          build dependencies
#   packaging/install-deps.sh --test   + the language runtimes the tests drive
set -eu

build_pkgs="build-essential cmake pkg-config ca-certificates git
  libboost-dev libsimdjson-dev libzstd-dev zlib1g-dev libcurl4-openssl-dev
  nlohmann-json3-dev catch2 coreutils"

test_pkgs="python3 nodejs npm default-jdk-headless golang-go rustc ruby php-cli
  clang libclang-rt-14-dev util-linux procps tini time zstd curl mono-mcs mono-runtime"

pkgs="$build_pkgs"
[ "${1:-}" = "--test" ] && pkgs="$pkgs $test_pkgs"

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "crashwrap: dependencies installed"
