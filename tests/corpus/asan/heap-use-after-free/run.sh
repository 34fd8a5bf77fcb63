#!/usr/bin/env bash
# Rebuilds (if needed) and runs this case exactly as it was recorded.
# Sources are copied to a neutral directory so that paths in the output
# look like a deployment (/tmp/app/...). Usage: ./run.sh >stdout 2>stderr
set -eu
cd "$(dirname "$0")"
APP=/tmp/app
rm -rf "$APP" && mkdir -p "$APP"
cp -r main.c "$APP"/
cd "$APP"
if ! { gcc -g -O0 -fsanitize=address -fno-omit-frame-pointer -o app main.c ; } >build.log 2>&1; then cat build.log >&2; echo 'BUILD FAILED' >&2; exit 97; fi
unset ASAN_OPTIONS
unset UBSAN_OPTIONS
unset TSAN_OPTIONS
unset LSAN_OPTIONS
unset MALLOC_CHECK_
unset GLIBC_TUNABLES
exec ./app
