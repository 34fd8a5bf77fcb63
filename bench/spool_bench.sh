#!/usr/bin/env bash
# Envelope build + gzip/zstd throughput for a typical crash event, spool save
# latency with fsync, and a crash loop against the spool's file bound
# (see bench/envelope_bench.cpp for what is measured).
#
#   bench/spool_bench.sh                          # spool under /var/tmp (a real disk, not tmpfs)
#   SPOOL_BASE=/data BUILD=build EVENTS=2000 SAVES=200 LOOP=2000 RUNS=5 bench/spool_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
if [ ! -f "$BUILD/build.ninja" ] && [ ! -f "$BUILD/Makefile" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$BUILD" --target crashwrap_core -j"${JOBS:-2}" >/dev/null
${CXX:-g++} -std=c++20 -O2 -DNDEBUG -DCRASHWRAP_VERSION='"bench"' -I. bench/envelope_bench.cpp \
  "$BUILD/libcrashwrap_core.a" -lsimdjson -lzstd -lz -lcurl -pthread -o "$OUT/envelope_bench"
SPOOL=$(mktemp -d "${SPOOL_BASE:-/var/tmp}/crashwrap-spool-bench.XXXXXX")
trap 'rm -rf "$SPOOL"' EXIT
echo "spool file system: $(df -T "$SPOOL" | awk 'NR==2 {print $2}')"
"$OUT/envelope_bench" "$SPOOL" "${EVENTS:-2000}" "${SAVES:-200}" "${LOOP:-2000}" "${RUNS:-5}"
