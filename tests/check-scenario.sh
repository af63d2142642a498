#!/bin/sh
# check-scenario.sh MMK_SIM SCRIPT EXPECTED: run mmk-sim's scenario mode on
# SCRIPT and compare its output with EXPECTED, line for line.  Fails when
# mmk-sim's status is not 0 (a checker failed, a frame leaked, a malformed
# script) or the output differs (shown as a unified diff).
set -u
sim=$1 script=$2 expected=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$sim" --ram 64M --scenario "$script" >"$out"
status=$?
if [ "$status" -ne 0 ]; then
	echo "mmk-sim --scenario $script exited with $status" >&2
	exit 1
fi
diff -u "$expected" "$out"
