#!/bin/bash
#
# t_e2e_crash.sh -- tlsad killed with SIGKILL in the middle of a rollover, in
# each of its long states (the first install's reload, then propagate, hold,
# reload, probe, confirm), and
# started again: every time it resumes from its state file and converges to
# the new key, and the invariant monitor, running the whole time, never sees
# Postfix serve a key missing from the validated RRset or from a server.
#
# The stages are made long enough to hit on purpose: propagate by pausing the
# secondary (SIGSTOP), reload by a reload command that sleeps 1 s before
# `postfix reload`, confirm by pausing the secondary once the reload is under
# way.  The probe is short: it is caught by polling, over several renewals.
#
. "$(dirname "$0")/e2e_lib.sh"

L=mx.dane.example
N=$(e2e_tlsa_name "$L")
e2e_setup
cat >"$TB_DIR/slow-reload.sh" <<SH
#!/bin/sh
sleep 1
exec $E2E_POSTFIX -c $PF_CONF reload
SH
chmod 0755 "$TB_DIR/slow-reload.sh"
e2e_conf_lineage "$L" "$PF_PORT" "$PF_DEPLOY" "/bin/sh $TB_DIR/slow-reload.sh"
KEY=$(e2e_first_cert "$L")
pf_start
mon_start main "$PF_ADDR" "$PF_PORT" "$L" "$N"
e2e_stage_watch_start crash

# The stage in the state file (tlsactl status reads files: fast, no python).
stage_now() {
	"$TLSACTL" -c "$E2E_CONF" status --json "$L" 2>/dev/null |
	    awk '/^      "stage": / { g = $2; gsub(/[",]/, "", g); print g; exit }'
}

# kill_at "STAGES" SECS: SIGKILL tlsad as soon as the state file shows one of
# STAGES; KILLED_STAGE is the stage the state file shows after the kill.
kill_at() {
	local want=$1 end st
	end=$(($(date +%s) + $2))
	KILLED_STAGE=""
	while :; do
		st=$(stage_now)
		case " $want " in
		*" $st "*)
			e2e_kill_tlsad
			KILLED_STAGE=$(stage_now)
			return 0 ;;
		esac
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.02
	done
}

# wait_in "STAGES" SECS: until the state file shows one of STAGES.
wait_in() {
	local end st
	end=$(($(date +%s) + $2))
	while :; do
		st=$(stage_now)
		case " $1 " in *" $st "*) return 0 ;; esac
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.02
	done
}

renew() {
	OLD=$KEY
	renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" >/dev/null
	KEY=$(rn_spki "$E2E_LIVE/$L/cert.pem")
}

after_kill() {	# DESC: what status and the world look like after a kill
	local desc=$1
	e2e_status
	assert_eq "$desc: status shows the stage tlsad died in" "$KILLED_STAGE" "$(e2e_field "$L" stage)"
	assert_ok "$desc: status exit 0 or 1, not critical ($E2E_RC)" [ "$E2E_RC" -le 1 ]
	assert_contains "$desc: the new key's record is published" \
	    "$(e2e_rrset "$TB_PRIMARY" "$N" | tr '\n' ' ')" "$KEY"
}

converge() {	# DESC
	local desc=$1
	e2e_start_tlsad
	if e2e_wait_settled "$L" "$KEY" 60; then
		pass "$desc: restarted tlsad converged to the new key"
	else
		fail "$desc: no convergence (stage $(e2e_field "$L" stage): $(e2e_field "$L" last_message))"
	fi
	for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
		assert_eq "$desc: $a serves only the new record" "$KEY" "$(e2e_rrset "$a" "$N")"
	done
	assert_eq "$desc: Postfix serves the new key" "$KEY" "$(pf_served_spki || echo none)"
}

# --- 0: killed during the first install's reload (no previous file) ---------------

e2e_start_tlsad
if kill_at reload 40; then
	pass "first install: killed in $KILLED_STAGE"
	e2e_status
	assert_eq "first install: status shows the reload" reload "$(e2e_field "$L" stage)"
	assert_eq "first install: the deploy file holds the key" "$KEY" "$(e2e_field "$L" deployed_key)"
else
	fail "first install: the reload was never reached"
fi
converge "first install"

# --- 1: killed while waiting for propagation -------------------------------------

tb_pause_secondary
renew
if kill_at propagate 30; then
	pass "propagate: killed in $KILLED_STAGE"
	sleep 1
	after_kill "propagate"
	assert_eq "propagate: Postfix still serves the old key" "$OLD" "$(pf_served_spki || echo none)"
else
	fail "propagate: never reached"
fi
tb_resume_secondary
converge "propagate"

# --- 2: killed in the hold; the hold must not be cut short by the restart ---------

renew
if kill_at hold 30; then
	pass "hold: killed in $KILLED_STAGE"
	e2e_status
	hold_until=$(python3 -c '
import json, sys, datetime
d = json.loads(sys.argv[1])
h = d["lineages"][0]["hold_until"]
print(int(datetime.datetime.strptime(h, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()) if h else 0)
' "$E2E_JSON")
	after_kill "hold"
	assert_ok "hold: a hold time is recorded ($hold_until)" [ "$hold_until" -gt 0 ]
	assert_eq "hold: Postfix still serves the old key" "$OLD" "$(pf_served_spki || echo none)"
	converge "hold"
	dep=$(stat -c %Y "$PF_DEPLOY")
	# hold_until is shown to the second (truncated): the deploy may not be
	# earlier than that second.
	assert_ok "hold: deployed after the recorded hold ($dep >= $hold_until)" [ "$dep" -ge "$hold_until" ]
else
	fail "hold: never reached"
	converge "hold"
fi

# --- 3: killed while the reload runs (the new file is in place) -------------------

renew
if kill_at reload 40; then
	pass "reload: killed in $KILLED_STAGE"
	after_kill "reload"
	assert_eq "reload: the deploy file already holds the new key" "$KEY" "$(e2e_field "$L" deployed_key)"
	assert_eq "reload: both records are published" "$(printf '%s\n%s\n' "$OLD" "$KEY" | sort | tr '\n' ' ')" \
	    "$(e2e_rrset "$TB_PRIMARY" "$N" | tr '\n' ' ')"
else
	fail "reload: never reached"
fi
converge "reload"

# --- 4: killed in the probe (short: try up to three renewals) ---------------------

caught=0
for _try in 1 2 3; do
	renew
	# Past the hold first (the lineage is idle until the quiet period
	# ends), then as close to the probe as polling gets.
	wait_in "deploy reload" 40 || true
	if kill_at "probe retire confirm idle" 40 && [ "$KILLED_STAGE" = probe ]; then
		caught=1
		pass "probe: killed in probe (renewal $_try)"
		after_kill "probe"
		converge "probe"
		break
	fi
	printf '# probe: missed (state %s), renewing again\n' "$KILLED_STAGE"
	converge "probe (missed, try $_try)"
done
[ "$caught" = 1 ] || fail "probe: never caught in three renewals"

# --- 5: killed while confirming the retirement (the secondary lags) ----------------

renew
if kill_at reload 40; then
	# The reload sleeps 1 s: restart at once and pause the secondary, so
	# the retirement cannot be confirmed.
	e2e_start_tlsad
	tb_pause_secondary
	if kill_at "confirm" 40; then
		pass "confirm: killed in $KILLED_STAGE"
		after_kill "confirm"
		assert_eq "confirm: the primary has only the new record" "$KEY" "$(e2e_rrset "$TB_PRIMARY" "$N")"
	else
		fail "confirm: never reached (stage $(stage_now))"
		e2e_kill_tlsad
	fi
	tb_resume_secondary
else
	fail "confirm: the reload before it was never reached"
	tb_resume_secondary
fi
converge "confirm"

# --- 6: down (SIGTERM) while certbot renews; started later -----------------------

e2e_stop_tlsad
renew
sleep 1
e2e_status
assert_eq "down: status from the files still works, warns (exit 1)" 1 "$E2E_RC"
assert_contains "down: the renewal is not rolled out" "$(e2e_field "$L" problems)" "not rolled out"
converge "down during the renewal"

sleep 1
mon_stop main
e2e_stage_watch_stop crash
e2e_status
assert_eq "at the end: status exit 0" 0 "$E2E_RC"
e2e_only_record "at the end" "$N" "$KEY"
assert_not_contains "no status exit 2 during the whole run" \
    "$(awk '{ print $4 }' "$TB_DIR/stages-crash.log" | sort -u | tr '\n' ' ')" 2
assert_not_contains "tlsad never refused its own state file" "$(e2e_tlsad_log)" "state file"
MON_ALLOW_NODANE=0 mon_check main 20
nkeys=$(mon_served_keys main | wc -l)
assert_ok "monitor: saw every key served in turn ($nkeys >= 7)" [ "$nkeys" -ge 7 ]
e2e_done
