#!/usr/bin/env bash
# Detector throughput (single thread, every detector on) over (a) ordinary log
# lines with no crash and (b) crash-dense text made of the recorded corpus.
# Targets: (a) >= 1000 MB/s, (b) >= 100 MB/s.
#
#   bench/parser_bench.sh                    # builds the core library in build-bench (RelWithDebInfo: -O2)
#   BUILD=build MB_LOGS=256 MB_CRASH=64 RUNS=5 bench/parser_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
if [ ! -f "$BUILD/build.ninja" ] && [ ! -f "$BUILD/Makefile" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$BUILD" --target crashwrap_core -j"${JOBS:-2}" >/dev/null
${CXX:-g++} -std=c++20 -O2 -DNDEBUG -I. bench/parser_bench.cpp "$BUILD/libcrashwrap_core.a" \
  -lsimdjson -lzstd -lz -lcurl -pthread -o "$OUT/parser_bench"
"$OUT/parser_bench" tests/corpus "${MB_LOGS:-256}" "${MB_CRASH:-64}" "${RUNS:-5}"
