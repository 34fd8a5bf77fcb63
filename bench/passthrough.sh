#!/usr/bin/env bash
# Passthrough benchmark: crashwrap against `cat` and a minimal poll/read/write
# passthrough (bench/tools/minipass.c), all in the same run.
#
#   bench/passthrough.sh            # uses build/crashwrap
#   CRASHWRAP=/path/to/crashwrap LINES=2000000 BYTES=200 RUNS=5 bench/passthrough.sh
#
# Prints throughput (MB/s) and its ratio to the minimal passthrough, the
# wrapper's own CPU seconds per GB (the generator's CPU subtracted), the max
# RSS of the process tree, the added per-line latency at 10k lines/s, and the
# start-up time of `crashwrap -- true` against `true` and `tini -- true`.
set -euo pipefail
cd "$(dirname "$0")/.."
CRASHWRAP=${CRASHWRAP:-build/crashwrap}
LINES=${LINES:-2000000}
BYTES=${BYTES:-200}
RUNS=${RUNS:-5}
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
for t in gen minipass latsink timeit; do cc -O2 -Wall -o "$OUT/$t" "bench/tools/$t.c"; done
SPOOL=$(mktemp -d)
trap 'rm -rf "$SPOOL"' EXIT
CW=("$CRASHWRAP" --spool "$SPOOL" --quiet --)
MB=$(awk -v l="$LINES" -v b="$BYTES" 'BEGIN{print l*b/1e6}')

median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

# measure NAME MODE WRAPPER… : runs `WRAPPER gen LINES BYTES MODE` RUNS times,
# stdout and stderr each drained by a `cat`.
measure() {
  local name=$1 mode=$2; shift 2
  rm -f "$OUT/gen.cpu"
  GEN_RUSAGE="$OUT/gen.cpu" "$OUT/timeit" "$RUNS" "$OUT/t.out" \
    bash -c '"$@" 2> >(cat >/dev/null) | cat >/dev/null' _ "$@" "$OUT/gen" "$LINES" "$BYTES" "$mode"
  read -r wall cpu rss _ _ <"$OUT/t.out"
  [ -s "$OUT/gen.cpu" ] || { echo "bench: $name did not run the generator" >&2; exit 1; }
  local gencpu; gencpu=$(median <"$OUT/gen.cpu")
  awk -v n="$name" -v m="$mode" -v w="$wall" -v c="$cpu" -v g="$gencpu" -v r="$rss" -v mb="$MB" \
    'BEGIN{printf "%-22s %-7s %9.0f MB/s %8.2f s/GB %8.1f MiB\n", n, m, mb/w, (c-g)/(mb/1000), r/1024}'
  echo "$name $mode $wall" >>"$OUT/walls"
}

cat_pipe() { "$@" | cat; }
export -f cat_pipe

: >"$OUT/walls"
echo "== throughput: $LINES lines of $BYTES B ($MB MB), median of $RUNS runs; CPU excludes the generator =="
printf "%-22s %-7s %14s %13s %12s\n" wrapper streams throughput "cpu (wrapper)" "max rss"
for mode in stdout both; do
  if [ "$mode" = stdout ]; then measure "cat (pipe)" "$mode" cat_pipe; fi
  measure "minipass (reference)" "$mode" "$OUT/minipass"
  measure "crashwrap" "$mode" "${CW[@]}"
done
for mode in stdout both; do
  ref=$(grep "^minipass (reference) $mode " "$OUT/walls" | awk '{print $4}')
  cw=$(grep "^crashwrap $mode " "$OUT/walls" | awk '{print $3}')
  awk -v r="$ref" -v c="$cw" -v m="$mode" 'BEGIN{printf "crashwrap / minipass throughput (%s): %.2fx\n", m, r/c}'
done

echo "== added latency per line at 10k lines/s (50k lines, µs: p50 p99 max) =="
lat() {
  local name=$1; shift
  local r; r=$("$@" "$OUT/gen" 50000 200 stdout 10000 | "$OUT/latsink")
  set -- $r
  printf "%-22s p50 %7.1f  p99 %7.1f  max %8.1f\n" "$name" "$2" "$3" "$4"
}
direct() { "$@"; }
lat "direct pipe" direct
lat "minipass (reference)" "$OUT/minipass"
lat "crashwrap" "${CW[@]}"

echo "== start-up: median of 200 runs (ms) =="
startup() {
  local name=$1; shift
  "$OUT/timeit" 200 "$OUT/t.out" "$@" >/dev/null 2>&1
  read -r wall _ _ min _ <"$OUT/t.out"
  awk -v n="$name" -v w="$wall" -v m="$min" 'BEGIN{printf "%-22s median %6.2f ms  min %6.2f ms\n", n, w*1000, m*1000}'
}
startup "true" true
if command -v tini >/dev/null; then startup "tini -- true" tini -s -- true; fi
startup "crashwrap -- true" "${CW[@]}" true
