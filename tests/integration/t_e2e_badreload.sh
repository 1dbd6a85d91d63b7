#!/bin/bash
#
# t_e2e_badreload.sh -- the reload command fails (/bin/false) during a
# rollover: tlsad restores the previous deploy file, keeps both records in
# DNS, and fails the lineage with the reason (status critical, exit 2).
# Postfix keeps serving the old key.  Then the config is fixed and tlsad
# re-reads it on SIGHUP: the retry completes the rollover.  The invariant
# monitor runs the whole time.
#
. "$(dirname "$0")/e2e_lib.sh"

L=mx.dane.example
N=$(e2e_tlsa_name "$L")
GOOD_RELOAD="$E2E_POSTFIX -c $PF_CONF reload"
e2e_setup
e2e_conf_lineage "$L"
e2e_bootstrap "$L"
K1=$K1_1
mon_start main "$PF_ADDR" "$PF_PORT" "$L" "$N"

# The reload breaks (a typo in the unit, a Postfix that will not reload).
e2e_stop_tlsad
sed -i "s|^    reload: .*|    reload: /bin/false|" "$E2E_CONF"
assert_ok "tlsad -n accepts reload: /bin/false" "$TLSAD" -n -c "$E2E_CONF"
e2e_start_tlsad
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
assert_eq "status: the JSON says exit 2 too" 2 "$(e2e_field "" exit)"
assert_contains "status: the problem names the failed rollover" "$(e2e_field "$L" problems)" "rollover failed"
assert_contains "status: the error is the reload's" "$(e2e_field "$L" last_error)" RELOAD
assert_contains "status: the message names the command's exit" "$(e2e_field "$L" last_message)" "status 1"
assert_eq "the deploy file was restored to the old key" "$K1" "$(e2e_field "$L" deployed_key)"
both=$(printf '%s\n%s\n' "$K1" "$K2" | sort)
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "$a keeps both records" "$both" "$(e2e_rrset "$a" "$N")"
done
assert_eq "Postfix was not reloaded" "$reloads0" "$(pf_reload_count)"
# No reload ever happened, but smtpd processes spawned while the new file
# was briefly in place read it (see postfix.sh): either key may be served,
# and both are published (the monitor checks that it always is).
served=$(pf_served_spki || echo none)
assert_ok "Postfix serves one of the two published keys" [ "$served" = "$K1" -o "$served" = "$K2" ]
# While failed (between retries) check says CRITICAL.
if e2e_check_until 2 20; then
	pass "tlsactl check: exit 2 while the lineage is failed"
else
	fail "tlsactl check never exited 2 (last: $E2E_CHECK_RC: $E2E_CHECK_LINE)"
fi
assert_contains "tlsactl check: CRITICAL" "$E2E_CHECK_LINE" "TLSAD CRITICAL - $L"
log=$(e2e_tlsad_log)
assert_contains "tlsad logged the restore" "$log" "restored the previous"

# A retry (retry-min 1 s) fails the same way and changes nothing.
sleep 3
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "after retries: $a keeps both records" "$both" "$(e2e_rrset "$a" "$N")"
done
assert_eq "after retries: Postfix was never reloaded" "$reloads0" "$(pf_reload_count)"

# The admin fixes the config; SIGHUP; the next retry completes.
sed -i "s|^    reload: .*|    reload: $GOOD_RELOAD|" "$E2E_CONF"
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
mon_check main 10
e2e_done
