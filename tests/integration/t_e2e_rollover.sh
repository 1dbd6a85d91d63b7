#!/bin/bash
#
# t_e2e_rollover.sh -- the real thing: a running tlsad, a DNSSEC-signed zone
# on a BIND9 primary and secondary, a validating Unbound, and a real Postfix
# that reads tlsad's deploy file.  A certificate is renewed the way certbot
# renews it (new files in archive/, the four live/ links replaced one at a
# time with pauses), and the daemon rolls it over on its own.
#
# Asserted:
#   - a monitor that loops over STARTTLS, the validating resolver and both
#     authoritative servers during the whole run never sees Postfix serve a
#     key missing from the validated RRset or from any server's RRset, and
#     made enough observations of both keys to mean something;
#   - first install: the daemon deploys a key already published and
#     validated (tlsactl publish) to Postfix;
#   - after the renewal: every server and the resolver hold only the new
#     record, Postfix serves the new key, the deploy file is tlsad's;
#   - `tlsactl status` goes through the stages in order with the documented
#     exit codes (0 while all is well, 1 while a renewal waits, never 2) and
#     its JSON agrees with the files; `tlsactl check` says OK at the end.
#
. "$(dirname "$0")/e2e_lib.sh"

L=mx.dane.example
N=$(e2e_tlsa_name "$L")
e2e_setup
# The reload takes a second (then Postfix's real reload), so that the status
# polls see the reload stage as surely as the hold; the other stages last
# milliseconds and may fall between two polls, more so on a loaded machine.
cat >"$TB_DIR/slow-reload.sh" <<SH
#!/bin/sh
sleep 1
exec $E2E_POSTFIX -c $PF_CONF reload
SH
chmod 0755 "$TB_DIR/slow-reload.sh"
e2e_conf_lineage "$L" "$PF_PORT" "$PF_DEPLOY" "/bin/sh $TB_DIR/slow-reload.sh"
assert_ok "tlsad -n accepts the test config" "$TLSAD" -n -c "$E2E_CONF"

# --- the first certificate, published by hand, before tlsad -------------------

v1=$(renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L")
assert_eq "first lineage version" 1 "$v1"
K1=$(rn_spki "$E2E_LIVE/$L/cert.pem")
rc=0
out=$("$TLSACTL" -c "$E2E_CONF" publish "$L" 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/#   | /'
assert_eq "tlsactl publish of the first key: exit 0" 0 "$rc"
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "before tlsad: $a serves the first record" "$K1" "$(e2e_rrset "$a" "$N")"
done
# The resolver may hold the negative answer for its TTL.
assert_ok "before tlsad: the resolver serves the first record" \
    tb_wait_tlsa "$TB_RESOLVER" "$N" "3 1 1 $K1" 10

# Postfix starts with no deploy file yet: it greets, without a key to serve.
pf_start
assert_fails "before tlsad: Postfix serves no key" pf_served_spki

e2e_status
assert_eq "status before tlsad ever ran: exit 1 (no state yet)" 1 "$E2E_RC"
assert_contains "status before tlsad: says so" "$(e2e_field "$L" problems)" "no state file"

# --- tlsad starts: first install ----------------------------------------------

# The monitor watches from before the daemon starts to the end.
mon_start main "$PF_ADDR" "$PF_PORT" "$L" "$N"
e2e_stage_watch_start main
reloads0=$(pf_reload_count)
e2e_start_tlsad
if e2e_wait_settled "$L" "$K1" 40; then
	pass "first install: idle with the published key deployed"
else
	fail "first install: not settled (stage $(e2e_field "$L" stage): $(e2e_field "$L" next); $(e2e_field "$L" last_message))"
fi
assert_eq "first install: Postfix serves the first key" "$K1" "$(pf_served_spki || echo none)"
assert_ok "first install: Postfix was reloaded" [ "$(pf_reload_count)" -gt "$reloads0" ]
assert_eq "deploy file: mode 0600, owner root, a regular file" "600 root regular file" \
    "$(stat -c '%a %U %F' "$PF_DEPLOY" | sed 's/regular empty file/regular file/')"
e2e_status
assert_eq "status after the first install: exit 0" 0 "$E2E_RC"
assert_eq "status after the first install: ok" ok "$(e2e_field "$L" status)"
assert_eq "status JSON exit matches the exit code" 0 "$(e2e_field "" exit)"

sleep 2

# --- certbot renews -------------------------------------------------------------

updates0=$(tb_update_count)
reloads1=$(pf_reload_count)
t_renew=$(date +%s%N)
v2=$(renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L")
assert_eq "renewal: version 2" 2 "$v2"
K2=$(rn_spki "$E2E_LIVE/$L/cert.pem")
assert_ok "renewal: a new key" [ "$K1" != "$K2" ]

# Mid-rollover the old key is still served and both records are published.
if e2e_wait_stage "$L" hold 20; then
	pass "the daemon reached the hold"
	assert_eq "in hold: Postfix still serves the old key" "$K1" "$(pf_served_spki || echo none)"
	both=$(printf '%s\n%s\n' "$K1" "$K2" | sort)
	for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
		assert_eq "in hold: $a serves both records" "$both" "$(e2e_rrset "$a" "$N")"
	done
	e2e_status
	assert_eq "in hold: status exit 0" 0 "$E2E_RC"
	assert_eq "in hold: target is the new key" "$K2" "$(e2e_field "$L" target_key)"
	assert_eq "in hold: the deploy file still holds the old key" "$K1" "$(e2e_field "$L" deployed_key)"
else
	fail "the daemon did not reach the hold (stage $(e2e_field "$L" stage): $(e2e_field "$L" last_message))"
fi

if e2e_wait_settled "$L" "$K2" 60; then
	pass "rollover: idle with the new key deployed and only it published"
else
	fail "rollover: not settled (stage $(e2e_field "$L" stage): $(e2e_field "$L" next); $(e2e_field "$L" last_message))"
fi
t_done=$(date +%s%N)
printf '# rollover took %d ms after the renewal\n' "$(((t_done - t_renew) / 1000000))"
sleep 2
mon_stop main
e2e_stage_watch_stop main

# --- the end state ----------------------------------------------------------------

e2e_only_record "at the end" "$N" "$K2"
ad=$(dig @"$TB_RESOLVER" -p "$TB_PORT" +dnssec +time=2 +tries=1 "$N" TLSA)
assert_contains "at the end: the resolver validates (AD)" "$ad" " ad"
assert_eq "at the end: Postfix serves the new key" "$K2" "$(pf_served_spki || echo none)"
assert_ok "the rollover reloaded Postfix" [ "$(pf_reload_count)" -gt "$reloads1" ]
assert_eq "the rollover cost two UPDATEs (add, delete)" 2 "$(($(tb_update_count) - updates0))"
assert_eq "the deploy file: the live key and chain, key first" \
    "$(cat "$E2E_LIVE/$L/privkey.pem" "$E2E_LIVE/$L/fullchain.pem")" "$(cat "$PF_DEPLOY")"
e2e_status
assert_eq "status at the end: exit 0" 0 "$E2E_RC"
assert_eq "status at the end: idle" idle "$(e2e_field "$L" stage)"
assert_eq "status at the end: live key" "$K2" "$(e2e_field "$L" live_key)"
assert_eq "status at the end: no problems" - "$(e2e_field "$L" problems)"
rc=0
line=$("$TLSACTL" -c "$E2E_CONF" check 2>&1) || rc=$?
assert_eq "tlsactl check: exit 0" 0 "$rc"
assert_contains "tlsactl check: one OK line" "$line" "TLSAD OK"
assert_ok "tlsad is still running" tb_proc_alive "$E2E_TLSAD_PID"

# --- what status showed on the way ---------------------------------------------------

seen=$(e2e_stages_seen main "$L")
printf '# stages seen: %s\n' "$seen"
sed 's/^/#   /' "$TB_DIR/stages-main.log" | head -n 40
order="idle publish propagate hold deploy reload probe retire confirm idle"
in_order=$(awk -v seen="$seen" -v order="$order" 'BEGIN {
	ns = split(seen, s, " "); no = split(order, o, " "); j = 1
	for (i = 1; i <= ns; i++) {
		while (j <= no && o[j] != s[i]) j++
		if (j > no) { print "no"; exit }
	}
	print "yes" }')
# The first idle after the start may be preceded by the first install.
first_idle=${seen#*idle }
in_order2=$(awk -v seen="idle $first_idle" -v order="$order" 'BEGIN {
	ns = split(seen, s, " "); no = split(order, o, " "); j = 1
	for (i = 1; i <= ns; i++) {
		while (j <= no && o[j] != s[i]) j++
		if (j > no) { print "no"; exit }
	}
	print "yes" }')
assert_eq "status showed the renewal's stages in the machine's order" yes "$in_order2"
: "$in_order"
# Short stages (publish, propagate, deploy, probe: milliseconds) may fall
# between two polls; the hold (TTL x 1 + 1 s), the slow reload and the end
# cannot.
for st in hold reload idle; do
	assert_contains "status showed stage $st" " $first_idle " " $st "
done
# shellcheck disable=SC2086
nst=$(printf '%s\n' $first_idle | grep -c -E '^(publish|propagate|hold|deploy|reload|probe|retire|confirm)$' || true)
printf '# status showed %d of the rollover stages\n' "$nst"
assert_eq "exit code while holding: 0" 0 "$(e2e_exits_in_stage main "$L" hold)"
# While certbot swaps the links and during the quiet period: idle, with
# "mid-renewal" / "renewal not rolled out yet" warnings (exit 1).
assert_eq "exit codes while idle: 0 (up to date) and 1 (renewal pending)" "0 1" \
    "$(e2e_exits_in_stage main "$L" idle)"
assert_contains "status warned of the pending renewal" "$(cat "$TB_DIR/stages-main.log")" \
    "renewal not rolled out yet"
assert_not_contains "no status exit 2 during the whole run" \
    "$(awk '{ print $4 }' "$TB_DIR/stages-main.log" | sort -u | tr '\n' ' ')" 2

# --- the monitor ---------------------------------------------------------------------

mon_check main 10
gap=$(mon_switch_gap main "$K1" "$K2")
printf '# monitor: %s s between the last observation of the old key and the first of the new\n' "$gap"
assert_ok "monitor: watched the switch closely (gap $gap s <= 5 s)" \
    awk -v g="$gap" 'BEGIN { exit !(g != "inf" && g <= 5) }'
assert_eq "monitor: saw the old key, then the new one" "$K1 $K2" "$(mon_served_keys main | tr '\n' ' ' | sed 's/ $//')"
assert_ok "monitor: at least 3 observations of the old key" [ "$(mon_obs_of main "$K1")" -ge 3 ]
assert_ok "monitor: at least 3 observations of the new key" [ "$(mon_obs_of main "$K2")" -ge 3 ]

log=$(e2e_tlsad_log)
assert_contains "tlsad logged the deploy of version 2" "$log" "deployed archive version 2"
e2e_done
