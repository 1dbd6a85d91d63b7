#!/bin/bash
#
# t_e2e_crash_rollback.sh -- tlsad killed with SIGKILL in the middle of a
# rollback (the probe failed: the verify endpoint is a dead port; the
# rollback's reload takes 1 s) and started again: it finishes the rollback
# (the old key back in the deploy file and in service, both records kept)
# and fails the lineage.  Fixing the endpoint and SIGHUP then completes the
# rollover.  The invariant monitor runs the whole time.
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
e2e_bootstrap "$L"
K1=$K1_1
mon_start main "$PF_ADDR" "$PF_PORT" "$L" "$N"

GOOD_VERIFY="$PF_ADDR@$PF_PORT starttls $L"
e2e_stop_tlsad
sed -i "s|^    verify: .*|    verify: $PF_ADDR@$((PF_PORT + 7)) starttls $L|" "$E2E_CONF"
e2e_start_tlsad

stage_now() {
	"$TLSACTL" -c "$E2E_CONF" status --json "$L" 2>/dev/null |
	    awk '/^      "stage": / { g = $2; gsub(/[",]/, "", g); print g; exit }'
}

renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" >/dev/null
K2=$(rn_spki "$E2E_LIVE/$L/cert.pem")
caught=0
for _i in $(seq 1 1500); do
	if [ "$(stage_now)" = rollback ]; then
		e2e_kill_tlsad
		caught=1
		break
	fi
	sleep 0.02
done
assert_eq "killed during the rollback" 1 "$caught"
e2e_status
assert_eq "status after the kill: rollback" rollback "$(e2e_field "$L" stage)"
both=$(printf '%s\n%s\n' "$K1" "$K2" | sort)
assert_eq "after the kill: both records published" "$both" "$(e2e_rrset "$TB_PRIMARY" "$N")"

e2e_start_tlsad
if e2e_wait_stage "$L" failed 40; then
	pass "restarted: the rollback completed and the lineage failed"
else
	fail "restarted: no failed state (stage $(e2e_field "$L" stage): $(e2e_field "$L" last_message))"
fi
assert_eq "after the rollback: the deploy file holds the old key" "$K1" "$(e2e_field "$L" deployed_key)"
assert_eq "after the rollback: status exit 2" 2 "$E2E_RC"
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "after the rollback: $a keeps both records" "$both" "$(e2e_rrset "$a" "$N")"
done

sed -i "s|^    verify: .*|    verify: $GOOD_VERIFY|" "$E2E_CONF"
kill -HUP "$E2E_TLSAD_PID"
if e2e_wait_settled "$L" "$K2" 60; then
	pass "after the fix and SIGHUP: rolled over"
else
	fail "after the fix: not settled (stage $(e2e_field "$L" stage): $(e2e_field "$L" last_message))"
fi
e2e_only_record "after the fix" "$N" "$K2"
assert_eq "after the fix: Postfix serves the new key" "$K2" "$(pf_served_spki || echo none)"
sleep 1
mon_stop main
mon_check main 10
seq=$(awk '$1 == "SERVED" { print $3 }' "$(mon_log main)" | tr '\n' ' ')
assert_contains "monitor: the old key was served again after the new one (rollback)" "$seq" "$K2 $K1 "
e2e_done
