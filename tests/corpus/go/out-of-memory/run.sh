#!/usr/bin/env bash
# Rebuilds (if needed) and runs this case exactly as it was recorded.
# Sources are copied to a neutral directory so that paths in the output
# look like a deployment (/tmp/app/...). Usage: ./run.sh >stdout 2>stderr
set -eu
cd "$(dirname "$0")"
APP=/tmp/app
rm -rf "$APP" && mkdir -p "$APP"
cp -r go.mod main.go "$APP"/
cd "$APP"
if ! { go build -o app . ; } >build.log 2>&1; then cat build.log >&2; echo 'BUILD FAILED' >&2; exit 97; fi
unset GOTRACEBACK
unset GODEBUG
unset GOFLAGS
unset GOMEMLIMIT
# An address-space limit makes the allocation fail as in a small container.
ulimit -v 800000
exec ./app
