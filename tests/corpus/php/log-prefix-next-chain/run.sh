#!/usr/bin/env bash
# Runs this case exactly as it was recorded. Sources are copied to a neutral
# directory so that paths in the output look like a deployment (/tmp/app/...).
# Usage: ./run.sh >stdout 2>stderr
set -eu
cd "$(dirname "$0")"
APP=/tmp/app
rm -rf "$APP" && mkdir -p "$APP"
cp -r main.php "$APP"/
cd "$APP"
exec php -n -d log_errors=1 -d display_errors=0 -d error_reporting=-1 main.php
