#!/usr/bin/env bash
# check_case.sh RESULTS_DIR CASE: one Linux-suite case's verdict from the shared run.
set -u
results=$1/results.txt
line=$(grep "^CASE $2 " "$results" 2>/dev/null)
[ -n "$line" ] || { echo "FAIL: case $2 did not run (see $1/suite.log)"; exit 1; }
echo "$line"
case $line in *" PASS") exit 0 ;; *) sed -n "/^LOG-BEGIN $2\$/,/^LOG-END $2\$/p" "$1/suite.log"; exit 1 ;; esac
