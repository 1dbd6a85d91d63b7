#!/bin/bash
#
# t_e2e_garbage.sh -- a renewal that leaves garbage in archive/ (a cert file
# that does not parse, the live links pointing at it): tlsad never deploys
# it, sends no UPDATE, and `tlsactl status` says clearly what is wrong.  A
# good renewal afterwards rolls over normally.  The invariant monitor runs
# the whole time.
#
. "$(dirname "$0")/e2e_lib.sh"

L=mx.dane.example
N=$(e2e_tlsa_name "$L")
e2e_setup
e2e_conf_lineage "$L"
e2e_bootstrap "$L"
K1=$K1_1
mon_start main "$PF_ADDR" "$PF_PORT" "$L" "$N"
deploy0=$(cat "$PF_DEPLOY")
updates0=$(tb_update_count)
reloads0=$(pf_reload_count)

v=$(renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" --garbage)
assert_eq "the broken renewal is version 2" 2 "$v"
assert_fails "version 2's certificate does not parse" rn_spki "$E2E_LIVE/$L/cert.pem"
# Quiet period 0.5 s; give the daemon ample time to (not) act.
sleep 4
e2e_status
printf '# status: %s / %s: %s\n' "$(e2e_field "$L" live_error)" "$(e2e_field "$L" live_message)" "$(e2e_field "$L" problems)"
# An unusable renewal: a warning at least (status.h: live lineage
# unreadable), critical once the daemon failed the lineage over it.
assert_ok "status: exit 1 or 2 ($E2E_RC)" [ "$E2E_RC" -ge 1 -a "$E2E_RC" -le 2 ]
assert_contains "status: the live lineage is unreadable" "$(e2e_field "$L" problems)" "live lineage unreadable"
assert_ok "status: the live error has a name" [ "$(e2e_field "$L" live_error)" != - ]
assert_contains "status: the message names the file" "$(e2e_field "$L" live_message)" "cert"
assert_eq "status: the deployed key is still the old one" "$K1" "$(e2e_field "$L" deployed_key)"
assert_ok "status: the stage is not a deploy step ($(e2e_field "$L" stage))" \
    sh -c "case '$(e2e_field "$L" stage)' in idle|failed) exit 0 ;; *) exit 1 ;; esac"
assert_eq "the deploy file is untouched" "$deploy0" "$(cat "$PF_DEPLOY")"
assert_eq "no UPDATE was sent" "$updates0" "$(tb_update_count)"
assert_eq "Postfix was not reloaded" "$reloads0" "$(pf_reload_count)"
assert_eq "Postfix serves the old key" "$K1" "$(pf_served_spki || echo none)"
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "$a still serves only the old record" "$K1" "$(e2e_rrset "$a" "$N")"
done
rc=0
line=$("$TLSACTL" -c "$E2E_CONF" check 2>&1) || rc=$?
assert_eq "tlsactl check: exit as status" "$E2E_RC" "$rc"
assert_contains "tlsactl check: names the lineage" "$line" " - $L: "
assert_contains "tlsactl check: names the error" "$line" "$(e2e_field "$L" live_error)"

# certbot tries again and succeeds.
v=$(renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L")
assert_eq "the good renewal is version 3" 3 "$v"
K3=$(rn_spki "$E2E_LIVE/$L/cert.pem")
if e2e_wait_settled "$L" "$K3" 60; then
	pass "the good renewal rolled over"
else
	fail "the good renewal: not settled (stage $(e2e_field "$L" stage): $(e2e_field "$L" last_message))"
fi
e2e_only_record "after the good renewal" "$N" "$K3"
assert_eq "Postfix serves the new key" "$K3" "$(pf_served_spki || echo none)"
e2e_status
assert_eq "status: exit 0" 0 "$E2E_RC"
assert_not_contains "version 2 was never deployed" "$(e2e_tlsad_log)" "deployed archive version 2"
sleep 1
mon_stop main
mon_check main 10
e2e_done
