#!/usr/bin/env bash
# Structured-log forwarding (--logs): LINES output lines shipped as Sentry logs
# to the loopback receiver (tests/support/receiver_main.cpp), end to end, and
# the passthrough cost of --logs against the same run without it.
#
#   bench/logs_bench.sh                               # uses build/
#   BUILD=build-logs LINES=1000000 bench/logs_bench.sh
#
# Prints:
#   - end to end: crashwrap's wall time from start until every log envelope is
#     accepted (--flush-timeout long enough to drain), lines/s, the envelopes
#     the receiver accepted, and crashwrap's CPU seconds (both threads) per 1 M
#     lines. --logs-budget 0 and a spool bound above the batch count, so that
#     nothing is dropped and every line is shipped;
#   - with the default spool bound (1000 files): what a burst does to delivery
#     (logs are the first thing the spool evicts);
#   - passthrough: `crashwrap … -- gen | cat` without --logs, with --logs and
#     the default budget (1 MiB/min), and with --logs and no budget, median of
#     RUNS, no DSN, --flush-timeout 0; the ratio of each to the run without --logs.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LINES=${LINES:-1000000}
BYTES=${BYTES:-100}
RUNS=${RUNS:-3}
CRASHWRAP=${CRASHWRAP:-$BUILD/crashwrap}
RECEIVER=${RECEIVER:-$BUILD/tests/crashwrap-receiver}
for f in "$CRASHWRAP" "$RECEIVER"; do
  [ -x "$f" ] || { echo "logs_bench: $f is missing — build the crashwrap and crashwrap-receiver targets" >&2; exit 2; }
done

WORK=$(mktemp -d)
RX_PID=
cleanup() {
  if [ -n "$RX_PID" ]; then kill "$RX_PID" 2>/dev/null || true; wait "$RX_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
for t in gen timeit; do cc -O2 -Wall -o "$WORK/$t" "bench/tools/$t.c"; done

start_receiver() {
  "$RECEIVER" --quiet >"$WORK/rx.out" &
  RX_PID=$!
  for _ in $(seq 100); do
    grep -q '^dsn ' "$WORK/rx.out" 2>/dev/null && break
    sleep 0.05
  done
  DSN=$(awk '/^dsn /{print $2}' "$WORK/rx.out")
  [ -n "$DSN" ] || { echo "logs_bench: the receiver did not start" >&2; exit 1; }
}

stop_receiver() {
  kill -INT "$RX_PID"
  wait "$RX_PID" 2>/dev/null || true
  RX_PID=
  ACCEPTED=$(awk '/^total /{print $2}' "$WORK/rx.out")
}

# end_to_end NAME crashwrap-options…
end_to_end() {
  local name=$1; shift
  rm -rf "$WORK/spool"
  start_receiver
  "$WORK/timeit" 1 "$WORK/t.out" "$CRASHWRAP" --spool "$WORK/spool" --quiet --dsn "$DSN" --logs \
    --flush-timeout 600s "$@" -- "$WORK/gen" "$LINES" "$BYTES" stdout >/dev/null
  stop_receiver
  read -r wall cpu _ _ _ <"$WORK/t.out"
  local gencpu; gencpu=$("$WORK/timeit" 1 "$WORK/g.out" "$WORK/gen" "$LINES" "$BYTES" stdout >/dev/null; awk '{print $2}' "$WORK/g.out")
  local expected=$(( (LINES + 99) / 100 ))
  awk -v n="$name" -v w="$wall" -v c="$cpu" -v g="$gencpu" -v l="$LINES" -v a="$ACCEPTED" -v e="$expected" \
    'BEGIN{printf "%-30s %8.2f s %10.0f lines/s %7d/%d envelopes %8.2f cpu-s per 1M lines\n",
           n, w, l*(a/e)/w, a, e, (c-g)*1e6/l}'
}

echo "== end to end: $LINES lines of $BYTES B, --logs to the loopback receiver =="
end_to_end "no budget, spool 20000 files" --logs-budget 0 --spool-max-files 20000
end_to_end "no budget, default spool" --logs-budget 0

echo "== passthrough: $LINES lines of $BYTES B through \`crashwrap … | cat\`, median of $RUNS runs, no DSN =="
pass() {
  local name=$1; shift
  rm -rf "$WORK/sp"
  "$WORK/timeit" "$RUNS" "$WORK/t.out" bash -c '"$@" | cat >/dev/null' _ \
    "$CRASHWRAP" --spool "$WORK/sp" --quiet --flush-timeout 0 "$@" -- "$WORK/gen" "$LINES" "$BYTES" stdout
  read -r wall _ _ _ _ <"$WORK/t.out"
  echo "$name $wall" >>"$WORK/walls"
  local base; base=$(awk 'NR==1{print $NF}' "$WORK/walls")
  awk -v n="$name" -v w="$wall" -v b="$base" -v mb="$(awk -v l="$LINES" -v s="$BYTES" 'BEGIN{print l*s/1e6}')" \
    'BEGIN{printf "%-30s %8.3f s %8.0f MB/s   %.2fx of no --logs\n", n, w, mb/w, b/w}'
}
: >"$WORK/walls"
pass "no --logs"
pass "--logs (1 MiB/min budget)" --logs
pass "--logs --logs-budget 0" --logs --logs-budget 0
pass "--logs, warn and above" --logs --logs-budget 0 --logs-min-level warn
