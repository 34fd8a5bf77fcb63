#!/usr/bin/env bash
# Runs this case exactly as it was recorded. Sources are copied to a neutral
# directory so that paths in the output look like a deployment (/tmp/app/...).
# Usage: ./run.sh >stdout 2>stderr
set -eu
cd "$(dirname "$0")"
APP=/tmp/app
rm -rf "$APP" && mkdir -p "$APP"
cp -r main.pl "$APP"/
cd "$APP"
unset PERL5LIB PERL5OPT; printf 'a=1\nb=2\nc=x\nd=4\n' | perl main.pl
