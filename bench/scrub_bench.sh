#!/usr/bin/env bash
# Scrubber cost per output line (built-in rules; it runs on every line the
# child prints). Reference in the same run: scrubbing off.
#
#   bench/scrub_bench.sh                       # builds the core library in build-bench (RelWithDebInfo: -O2)
#   BUILD=build LINES=4000000 RUNS=5 bench/scrub_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
if [ ! -f "$BUILD/build.ninja" ] && [ ! -f "$BUILD/Makefile" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$BUILD" --target crashwrap_core -j"${JOBS:-2}" >/dev/null
${CXX:-g++} -std=c++20 -O2 -DNDEBUG -I. bench/scrub_bench.cpp "$BUILD/libcrashwrap_core.a" \
  -lsimdjson -lzstd -lz -lcurl -pthread -o "$OUT/scrub_bench"
"$OUT/scrub_bench" "${LINES:-2000000}" "${RUNS:-5}"
