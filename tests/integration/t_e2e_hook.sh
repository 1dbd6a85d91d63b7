#!/bin/bash
#
# t_e2e_hook.sh -- the certbot deploy hook (hooks/tlsad-deploy-hook) against
# the real chain:
#   - with the daemon running, the hook kicks it (`tlsactl kick`) and
#     returns at once; the daemon rolls over even though its own inotify
#     trigger would wait (quiet-period 10m here: only the kick can start it);
#   - with no daemon, the hook runs the one-shot `tlsactl rollover` in the
#     foreground: it blocks for the hold and returns 0 with the rollover
#     complete.
# The invariant monitor runs the whole time.
#
E2E_QUIET=10m
. "$(dirname "$0")/e2e_lib.sh"

L=mx.dane.example
N=$(e2e_tlsa_name "$L")
HOOK=$TLSAD_SRC/hooks/tlsad-deploy-hook
[ -x "$HOOK" ] || tb_die "no executable $HOOK"
e2e_setup
e2e_conf_lineage "$L"
e2e_bootstrap "$L"
K1=$K1_1
mon_start main "$PF_ADDR" "$PF_PORT" "$L" "$N"

hook() {	# run the hook as certbot does; sets rc, out, ms
	local t0 t1
	t0=$(date +%s%N)
	rc=0
	out=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin RENEWED_LINEAGE="$E2E_LIVE/$L" \
	    RENEWED_DOMAINS="$L" TLSACTL="$TLSACTL" TLSAD_CONF="$E2E_CONF" "$HOOK" 2>&1) || rc=$?
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	printf '%s\n' "$out" | sed 's/^/#   | /'
}

# --- the daemon runs: kick ------------------------------------------------------

renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" >/dev/null
K2=$(rn_spki "$E2E_LIVE/$L/cert.pem")
sleep 2
e2e_status
assert_eq "before the hook: the daemon waits (quiet period 10m)" idle "$(e2e_field "$L" stage)"
assert_eq "before the hook: still the old key deployed" "$K1" "$(e2e_field "$L" deployed_key)"
assert_eq "before the hook: status warns (exit 1)" 1 "$E2E_RC"
assert_contains "before the hook: renewal not rolled out" "$(e2e_field "$L" problems)" "not rolled out"
hook
assert_eq "hook with a daemon: exit 0" 0 "$rc"
assert_ok "hook with a daemon: returns at once ($ms ms < 3000)" [ "$ms" -lt 3000 ]
if e2e_wait_settled "$L" "$K2" 60; then
	pass "kicked: the daemon rolled over"
else
	fail "kicked: not settled (stage $(e2e_field "$L" stage): $(e2e_field "$L" last_message))"
fi
e2e_only_record "after the kick" "$N" "$K2"
assert_eq "after the kick: Postfix serves the new key" "$K2" "$(pf_served_spki || echo none)"

# --- no daemon: the one-shot rollover in the foreground ------------------------------

e2e_stop_tlsad
renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" >/dev/null
K3=$(rn_spki "$E2E_LIVE/$L/cert.pem")
hook
assert_eq "hook without a daemon: exit 0" 0 "$rc"
assert_contains "hook without a daemon: says it rolls over in the foreground" "$out" "in the foreground"
# Publish, propagate, hold (TTL 3 s x 1 + 1 s), deploy, probe, retire.
assert_ok "hook without a daemon: blocked for the hold ($ms ms >= 4000)" [ "$ms" -ge 4000 ]
e2e_status
assert_eq "after the one-shot: idle" idle "$(e2e_field "$L" stage)"
assert_eq "after the one-shot: the new key deployed" "$K3" "$(e2e_field "$L" deployed_key)"
assert_eq "after the one-shot: status exit 0" 0 "$E2E_RC"
e2e_only_record "after the one-shot" "$N" "$K3"
assert_eq "after the one-shot: Postfix serves the new key" "$K3" "$(pf_served_spki || echo none)"

# A second run has nothing to do.
rc=0
out=$("$TLSACTL" -c "$E2E_CONF" rollover -q "$L" 2>&1) || rc=$?
assert_eq "tlsactl rollover again: exit 0 (nothing to do)" 0 "$rc"

# tlsactl rollover refuses while a daemon owns the state.
e2e_start_tlsad
rc=0
out=$("$TLSACTL" -c "$E2E_CONF" rollover "$L" 2>&1) || rc=$?
assert_eq "tlsactl rollover with a daemon running: exit 1" 1 "$rc"
assert_contains "tlsactl rollover with a daemon running: says why" "$out" "tlsad is running"

# The control socket: anyone may read, only root may kick (SO_PEERCRED).
if command -v runuser >/dev/null 2>&1 && getent passwd nobody >/dev/null; then
	rc=0
	out=$(runuser -u nobody -- "$TLSACTL" -c "$E2E_CONF" kick "$L" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/#   | /'
	assert_ok "kick as nobody: refused (exit $rc)" [ "$rc" != 0 ]
	assert_contains "kick as nobody: says only root may" "$out" "root"
	rc=0
	out=$(runuser -u nobody -- "$TLSACTL" -c "$E2E_CONF" status 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/#   | /'
	assert_eq "status as nobody: exit 1 (the deploy file is root's: a warning)" 1 "$rc"
	assert_contains "status as nobody: shows the stage" "$out" "idle"
else
	printf '# runuser or nobody missing: no check of the control socket as non-root\n'
fi

sleep 1
mon_stop main
mon_check main 10
e2e_done
