#!/bin/bash
#
# t_e2e_badprobe.sh -- the probe fails (the verify endpoint is a port where
# nothing listens): tlsad rolls back (previous file restored, Postfix
# reloaded), keeps both records in DNS, and fails the lineage with the
# reason (status critical, exit 2).  Then the endpoint is fixed and tlsad
# re-reads its config on SIGHUP: the retry completes the rollover.  The
# invariant monitor runs the whole time.
#
. "$(dirname "$0")/e2e_lib.sh"

L=mx.dane.example
N=$(e2e_tlsa_name "$L")
GOOD_VERIFY="$PF_ADDR@$PF_PORT starttls $L"
DEAD_PORT=$((PF_PORT + 7))
e2e_setup
e2e_conf_lineage "$L"
e2e_bootstrap "$L"
K1=$K1_1
mon_start main "$PF_ADDR" "$PF_PORT" "$L" "$N"

e2e_stop_tlsad
sed -i "s|^    verify: .*|    verify: $PF_ADDR@$DEAD_PORT starttls $L|" "$E2E_CONF"
e2e_start_tlsad
e2e_stage_watch_start bad
reloads0=$(pf_reload_count)

renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" >/dev/null
K2=$(rn_spki "$E2E_LIVE/$L/cert.pem")
# retry-min is 1 s: the lineage goes failed -> retry -> failed.  Judge the
# snapshot taken the moment status showed it failed, and ask check at once.
if e2e_wait_stage "$L" failed 60; then
	pass "the rollover failed"
else
	fail "the rollover did not fail (stage $(e2e_field "$L" stage))"
fi
printf '# last error: %s: %s\n' "$(e2e_field "$L" last_error)" "$(e2e_field "$L" last_message)"
assert_eq "status: exit 2 (critical)" 2 "$E2E_RC"
assert_eq "status: critical" critical "$(e2e_field "$L" status)"
assert_contains "status: the problem names the failed rollover" "$(e2e_field "$L" problems)" "rollover failed"
assert_contains "status: the error is the probe's" "$(e2e_field "$L" last_error)" PROBE
assert_contains "status: the message names the endpoint" "$(e2e_field "$L" last_message)" "$DEAD_PORT"
assert_eq "the deploy file was restored to the old key" "$K1" "$(e2e_field "$L" deployed_key)"
both=$(printf '%s\n%s\n' "$K1" "$K2" | sort)
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "$a keeps both records" "$both" "$(e2e_rrset "$a" "$N")"
done
# Deploy + reload, then the rollback's reload: at least two.
assert_ok "Postfix was reloaded again after the restore" [ "$(pf_reload_count)" -ge $((reloads0 + 2)) ]
# While failed (between retries) check says CRITICAL.
if e2e_check_until 2 20; then
	pass "tlsactl check: exit 2 while the lineage is failed"
else
	fail "tlsactl check never exited 2 (last: $E2E_CHECK_RC: $E2E_CHECK_LINE)"
fi
assert_contains "tlsactl check: CRITICAL" "$E2E_CHECK_LINE" "TLSAD CRITICAL - $L"
assert_contains "tlsad logged the restore" "$(e2e_tlsad_log)" "restored the previous"

sleep 3
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "after retries: $a keeps both records" "$both" "$(e2e_rrset "$a" "$N")"
done

sed -i "s|^    verify: .*|    verify: $GOOD_VERIFY|" "$E2E_CONF"
kill -HUP "$E2E_TLSAD_PID"
if e2e_wait_settled "$L" "$K2" 60; then
	pass "after the fix and SIGHUP: rolled over to the new key"
else
	fail "after the fix: not settled (stage $(e2e_field "$L" stage): $(e2e_field "$L" last_message))"
fi
e2e_only_record "after the fix" "$N" "$K2"
assert_eq "after the fix: Postfix serves the new key" "$K2" "$(pf_served_spki || echo none)"
e2e_status
assert_eq "after the fix: status exit 0" 0 "$E2E_RC"
sleep 1
mon_stop main
e2e_stage_watch_stop bad
sed 's/^/#   /' "$TB_DIR/stages-bad.log" | head -n 30
mon_check main 10
# The rollback put the old key back in service before the fix.
seq=$(awk '$1 == "SERVED" { print $3 }' "$(mon_log main)" | tr '\n' ' ')
printf '# served in turn: %s\n' "$seq"
assert_contains "monitor: the old key was served again after the new one (rollback)" \
    "$seq" "$K2 $K1 "
e2e_done
