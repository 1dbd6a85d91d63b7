#!/bin/bash
# t_conf_check.sh -- `tlsad -n -c FILE`: silent exit 0 on every good fixture,
# exit 1 with exactly the expected FILE:LINE:COL message on every bad one.
# Needs no server; it runs the real binary as an operator would.
set -u
bin=${TLSAD_BUILD:?}/tlsad
data=${TLSAD_SRC:?}/tests/data/conf
pass=0 failed=0

ok() { pass=$((pass + 1)); }
bad() { failed=$((failed + 1)); printf 'not ok - %s\n' "$1"; }

for f in "$data"/good/*.conf; do
	out=$("$bin" -n -c "$f" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok; else
		bad "$f: exit $rc, output: $out"; fi
done
for f in "$data"/bad/*.conf; do
	want=$(sed -n '1s/^# expect: //p' "$f")
	want=${want//FILE/$f}
	out=$("$bin" -n -c "$f" 2>&1)
	rc=$?
	if [ "$rc" -eq 1 ] && [ "$out" = "$want" ]; then ok; else
		bad "$f: exit $rc, got '$out', expected '$want'"; fi
done
out=$("$bin" -n -c "$data/does-not-exist.conf" 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && [ -n "$out" ]; then ok; else bad "missing file: exit $rc"; fi
printf '%d passed, %d failed\n' "$pass" "$failed"
[ "$failed" -eq 0 ] && [ "$pass" -gt 10 ]
