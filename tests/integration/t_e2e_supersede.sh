#!/bin/bash
#
# t_e2e_supersede.sh -- a newer renewal arriving in the middle of a rollover
# supersedes it safely:
#   1. renewed again during the hold (the first new key never deployed):
#      the rollover goes to the newest key, and the superseded key's record
#      is retired too;
#   2. renewed again while Postfix is being reloaded with the first new key
#      (a reload command that takes 1 s): that key may be served for a
#      while, but it stays published until the newest key replaces it.
# At the end only the newest record is published and served; the invariant
# monitor runs the whole time.
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
e2e_stage_watch_start sup

renew() { renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" >/dev/null; rn_spki "$E2E_LIVE/$L/cert.pem"; }

# --- 1: superseded during the hold ---------------------------------------------------

K2=$(renew)
if e2e_wait_stage "$L" hold 30; then
	pass "1: in the hold for version 2"
	assert_eq "1: target is version 2's key" "$K2" "$(e2e_field "$L" target_key)"
else
	fail "1: the hold for version 2 was never reached"
fi
K3=$(renew)
if e2e_wait_settled "$L" "$K3" 60; then
	pass "1: settled on version 3"
else
	fail "1: not settled (stage $(e2e_field "$L" stage): $(e2e_field "$L" last_message))"
fi
e2e_only_record "1" "$N" "$K3"
assert_eq "1: Postfix serves version 3's key" "$K3" "$(pf_served_spki || echo none)"
assert_not_contains "1: version 2 was never deployed" "$(e2e_tlsad_log)" "deployed archive version 2"

# --- 2: superseded while the reload of version 4 runs --------------------------------

K4=$(renew)
state_stage() {
	"$TLSACTL" -c "$E2E_CONF" status --json "$L" 2>/dev/null |
	    awk '/^      "stage": / { g = $2; gsub(/[",]/, "", g); print g; exit }'
}
seen=0
for _i in $(seq 1 600); do
	[ "$(state_stage)" = reload ] && { seen=1; break; }
	sleep 0.05
done
assert_eq "2: the reload of version 4 was caught" 1 "$seen"
K5=$(renew)
if e2e_wait_settled "$L" "$K5" 90; then
	pass "2: settled on version 5"
else
	fail "2: not settled (stage $(e2e_field "$L" stage): $(e2e_field "$L" last_message))"
fi
e2e_only_record "2" "$N" "$K5"
assert_eq "2: Postfix serves version 5's key" "$K5" "$(pf_served_spki || echo none)"
e2e_status
assert_eq "2: status exit 0" 0 "$E2E_RC"
assert_eq "2: one key published" "$K5" "$(e2e_field "$L" published)"

sleep 1
mon_stop main
e2e_stage_watch_stop sup
printf '# stages: %s\n' "$(e2e_stages_seen sup "$L")"
assert_not_contains "no status exit 2 during the run" \
    "$(awk '{ print $4 }' "$TB_DIR/stages-sup.log" | sort -u | tr '\n' ' ')" 2
mon_check main 10
keys=$(mon_served_keys main | tr '\n' ' ')
printf '# served in turn: %s\n' "$keys"
assert_not_contains "monitor: version 2's key was never served" "$keys" "$K2"
e2e_done
