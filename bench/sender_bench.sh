#!/usr/bin/env bash
# Sender throughput: `crashwrap send` draining a spool of N crash events into
# the loopback receiver (tests/support/receiver_main.cpp), per compression,
# against a reference in the same run: curl POSTing the same gzip envelope N
# times over one kept-alive connection to the same receiver.
#
#   bench/sender_bench.sh                     # uses build/
#   BUILD=build-d2 N=500 bench/sender_bench.sh
#
# Prints envelopes/s and ms per envelope. The sender's figure includes what a
# real delivery costs: claiming the spool file, reading and decompressing it,
# stamping and compressing the body, the HTTP round trip, and the fsync'ed
# record update.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${N:-300}
CRASHWRAP=${CRASHWRAP:-$BUILD/crashwrap}
RECEIVER=${RECEIVER:-$BUILD/tests/crashwrap-receiver}
TESTAPP=${TESTAPP:-$BUILD/tests/testapp}
for f in "$CRASHWRAP" "$RECEIVER" "$TESTAPP"; do
  [ -x "$f" ] || { echo "sender_bench: $f is missing — build the crashwrap, crashwrap-receiver and testapp targets" >&2; exit 2; }
done

WORK=$(mktemp -d)
RX_PID=
cleanup() {
  [ -n "$RX_PID" ] && kill "$RX_PID" 2>/dev/null && wait "$RX_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }

# A spool of N events (crash runs without a DSN), copied per measurement.
fill_spool() {
  local spool=$1 i
  for ((i = 0; i < N; i++)); do
    "$CRASHWRAP" --spool "$spool" --quiet --crash-loop-limit 0 -- "$TESTAPP" err "Traceback line $i" err "  more context $i" exit 3 \
      2>/dev/null || true
  done
}

start_receiver() {
  "$RECEIVER" --quiet --dir "$WORK/capture" >"$WORK/rx.out" &
  RX_PID=$!
  for _ in $(seq 100); do
    grep -q '^dsn ' "$WORK/rx.out" 2>/dev/null && break
    sleep 0.05
  done
  DSN=$(awk '/^dsn /{print $2}' "$WORK/rx.out")
  [ -n "$DSN" ] || { echo "sender_bench: the receiver did not start" >&2; exit 1; }
}

echo "== sender throughput: $N crash events (event + output-tail attachment) =="
printf 'filling a spool with %d events… ' "$N"
t0=$(now); fill_spool "$WORK/spool.orig"; t1=$(now)
awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN{printf "%.1f s (%.1f ms per crashwrap run)\n", b-a, (b-a)*1000/n}'
start_receiver

printf '%-34s %10s %14s %12s\n' sender envelopes "envelopes/s" "ms/envelope"
for comp in gzip zstd none; do
  rm -rf "$WORK/spool"; cp -a "$WORK/spool.orig" "$WORK/spool"
  t0=$(now)
  "$CRASHWRAP" send --spool "$WORK/spool" --dsn "$DSN" --compression "$comp" 2>"$WORK/send.err" || {
    cat "$WORK/send.err" >&2; exit 1; }
  t1=$(now)
  sent=$(sed -n 's/.*send: \([0-9]*\) sent.*/\1/p' "$WORK/send.err")
  awk -v c="crashwrap send ($comp)" -v a="$t0" -v b="$t1" -v n="$sent" \
    'BEGIN{printf "%-34s %10d %14.0f %12.2f\n", c, n, n/(b-a), (b-a)*1000/n}'
done

# Reference: the same envelope, gzip'ed once, POSTed N times by one curl.
body=$(find "$WORK/capture" -name '*.envelope' -print -quit)
gzip -c "$body" >"$WORK/envelope.gz"
key=$(echo "$DSN" | sed 's#^http://\([^@]*\)@.*#\1#')
url=$(echo "$DSN" | sed 's#^http://[^@]*@\(.*\)/\([0-9]*\)$#http://\1/api/\2/envelope/#')
urls=()
for ((i = 0; i < N; i++)); do urls+=("$url"); done
t0=$(now)
curl -s -o /dev/null --data-binary @"$WORK/envelope.gz" \
  -H "X-Sentry-Auth: Sentry sentry_version=7, sentry_client=bench/1, sentry_key=$key" \
  -H "Content-Type: application/x-sentry-envelope" -H "Content-Encoding: gzip" -H "Expect:" "${urls[@]}" >/dev/null
t1=$(now)
awk -v a="$t0" -v b="$t1" -v n="$N" \
  'BEGIN{printf "%-34s %10d %14.0f %12.2f\n", "curl, one connection (reference)", n, n/(b-a), (b-a)*1000/n}'
kill "$RX_PID"; wait "$RX_PID" 2>/dev/null || true; RX_PID=
echo "receiver: $(tail -1 "$WORK/rx.out")"
