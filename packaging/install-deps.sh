#!/bin/sh
# Installs what crashwrap needs to build (and, with --test, to run its whole
# test suite) from Debian 12 packages. Idempotent; run as root.
#   packaging/install-deps.sh          build dependencies
#   packaging/install-deps.sh --test   + the language runtimes the tests drive
#
# Build packages must install, or the script fails. A test runtime that is
# already on the machine under its command name (say node and npm from
# NodeSource, whose nodejs package conflicts with Debian's npm) is left alone;
# one that cannot be installed is named in a warning and the tests that need
# it skip themselves.
set -eu

build_pkgs="build-essential cmake pkg-config ca-certificates git
  libboost-dev libsimdjson-dev libzstd-dev zlib1g-dev libcurl4-openssl-dev
  nlohmann-json3-dev catch2 coreutils"

# package:command — the command that proves the runtime is already present.
test_pkgs="python3:python3 nodejs:node npm:npm default-jdk-headless:javac
  golang-go:go rustc:rustc ruby:ruby php-cli:php clang:clang
  libclang-rt-14-dev: util-linux:unshare procps:ps tini:tini time:
  zstd:zstd curl:curl mono-mcs:mcs mono-runtime:mono"

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

updated=""
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$updated" ]; then apt-get update -qq; updated=1; fi
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=""
for p in $build_pkgs; do installed "$p" || missing="$missing $p"; done
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  apt_install $missing || {
    echo "crashwrap: error: could not install the build packages:$missing (see apt-get's message above)" >&2
    exit 1
  }
fi

if [ "${1:-}" = "--test" ]; then
  missing=""
  for pc in $test_pkgs; do
    p=${pc%%:*} c=${pc#*:}
    installed "$p" && continue
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && continue
    missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    # shellcheck disable=SC2086
    if ! apt_install $missing 2>/dev/null; then
      for p in $missing; do
        apt_install "$p" 2>/dev/null ||
          echo "crashwrap: warning: could not install $p; the tests that need it will skip" >&2
      done
    fi
  fi
  # Sentry's own envelope parser for the conformance test (npm registry).
  if command -v npm >/dev/null 2>&1 && [ -f tests/conformance/package-lock.json ] &&
     [ ! -d tests/conformance/node_modules ]; then
    (cd tests/conformance && npm ci --silent --no-audit --no-fund) ||
      echo "crashwrap: warning: npm ci failed in tests/conformance; the conformance test will skip" >&2
  fi
fi
echo "crashwrap: dependencies installed"
