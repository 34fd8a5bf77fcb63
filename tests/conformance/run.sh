#!/bin/sh
# CTest entry for check-envelopes.mjs: skips (exit 77) with a message when
# node or the pinned npm packages are missing.
here=$(dirname "$0")
if ! command -v node >/dev/null 2>&1; then
  echo "skipped: node is not installed (apt-get install nodejs npm)"
  exit 77
fi
if [ ! -d "$here/node_modules/@sentry/core" ] || [ ! -d "$here/node_modules/ajv" ]; then
  echo "skipped: the checker's packages are not installed — run \`npm ci\` in $here"
  exit 77
fi
exec node "$here/check-envelopes.mjs" "$@"
