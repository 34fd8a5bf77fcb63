#!/usr/bin/env bash
# Rebuilds (if needed) and runs this case exactly as it was recorded.
# Sources are copied to a neutral directory so that paths in the output
# look like a deployment (/tmp/app/...). Usage: ./run.sh >stdout 2>stderr
set -eu
cd "$(dirname "$0")"
APP=/tmp/app
rm -rf "$APP" && mkdir -p "$APP"
cp -r Main.java "$APP"/
cd "$APP"
if ! { javac -g -d . Main.java ; } >build.log 2>&1; then cat build.log >&2; echo 'BUILD FAILED' >&2; exit 97; fi
unset JAVA_TOOL_OPTIONS
unset _JAVA_OPTIONS
unset JDK_JAVA_OPTIONS
exec java -Xmx32m -XX:+ExitOnOutOfMemoryError -cp . Main
