#!/usr/bin/env bash
# Rebuilds (if needed) and runs this case exactly as it was recorded.
# Sources are copied to a neutral directory so that paths in the output
# look like a deployment (/tmp/app/...). Usage: ./run.sh >stdout 2>stderr
set -eu
cd "$(dirname "$0")"
APP=/tmp/app
rm -rf "$APP" && mkdir -p "$APP"
cp -r main.mjs "$APP"/
cd "$APP"
unset NODE_OPTIONS
unset NODE_EXTRA_CA_CERTS
unset FORCE_COLOR
export NO_COLOR=1
exec node main.mjs
