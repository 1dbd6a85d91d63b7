#!/bin/bash
# t_deploy_hook.sh -- the certbot deploy hook, run by dash as certbot would
# run it, against a stand-in tlsactl that records its arguments and exits
# with the status the case needs.  No servers: the hook's contract is the
# argument vector and the exit codes (69 = no daemon -> one-shot rollover).
set -u
SRC=${TLSAD_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
HOOK=$SRC/hooks/tlsad-deploy-hook
T=$(mktemp -d "${TMPDIR:-/tmp}/tlsad-hook.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

# The stand-in: appends "ARGS" to $T/calls; the exit status for a command
# comes from $T/exit.<command> (default 0).
cat > "$T/tlsactl" <<'STUB'
#!/bin/sh
echo "$*" >> "$CALLS"
for a in "$@"; do
	case $a in kick|rollover) cmd=$a ;; esac
done
if [ -f "$STUBDIR/exit.$cmd" ]; then exit "$(cat "$STUBDIR/exit.$cmd")"; fi
exit 0
STUB
chmod 755 "$T/tlsactl"

check() {	# NAME WANT_RC WANT_CALLS (newline-separated)
	local name=$1 want_rc=$2 want_calls=$3 got_calls
	got_calls=$(cat "$T/calls" 2>/dev/null)
	if [ "$rc" = "$want_rc" ] && [ "$got_calls" = "$want_calls" ]; then
		pass=$((pass + 1)); echo "ok - $name"
	else
		fail=$((fail + 1))
		echo "not ok - $name: rc $rc (want $want_rc), calls:"
		echo "$got_calls" | sed 's/^/    /'
		echo "  want:"; echo "$want_calls" | sed 's/^/    /'
	fi
}

run() {		# run the hook with the environment given as arguments
	rm -f "$T/calls"
	env -i PATH=/usr/bin:/bin CALLS="$T/calls" STUBDIR="$T" TLSACTL="$T/tlsactl" \
	    "$@" dash "$HOOK" 2>"$T/stderr"
	rc=$?
}

rm -f "$T"/exit.*
run RENEWED_LINEAGE=/etc/letsencrypt/live/mx.example.org
check "daemon answers: kick only, returns at once" 0 \
    "kick /etc/letsencrypt/live/mx.example.org"

echo 69 > "$T/exit.kick"
run RENEWED_LINEAGE=/etc/letsencrypt/live/mx.example.org
check "no daemon (69): one-shot rollover of the name" 0 \
    "kick /etc/letsencrypt/live/mx.example.org
rollover mx.example.org"
grep -q "no tlsad daemon answers" "$T/stderr" && pass=$((pass + 1)) ||
    { fail=$((fail + 1)); echo "not ok - no message for the foreground rollover"; }

echo 2 > "$T/exit.rollover"
run RENEWED_LINEAGE=/etc/letsencrypt/live/mx.example.org/ TLSAD_CONF=/etc/tlsad/test.conf
check "no daemon, rollover fails: its status, -c passed, trailing slash" 2 \
    "-c /etc/tlsad/test.conf kick /etc/letsencrypt/live/mx.example.org/
-c /etc/tlsad/test.conf rollover mx.example.org"

rm -f "$T"/exit.*
echo 1 > "$T/exit.kick"
run RENEWED_LINEAGE=/etc/letsencrypt/live/mx.example.org
check "kick fails otherwise (not root...): no rollover, its status" 1 \
    "kick /etc/letsencrypt/live/mx.example.org"

run
check "no RENEWED_LINEAGE: usage error, tlsactl not run" 64 ""

run RENEWED_LINEAGE=/
check "no lineage name in RENEWED_LINEAGE: usage error" 64 ""

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
