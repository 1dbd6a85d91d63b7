#!/bin/bash
#
# t_e2e_migrate.sh -- tlsad taking over a running DANE setup (no state yet):
# Postfix already serves key K0 from the deploy file, K0's TLSA record is
# published (by hand, nsupdate), and certbot has renewed to K1 meanwhile.
#   A (mx):  K1 not published: tlsad must publish, hold, then deploy.
#   B (mx2): the admin ran `tlsactl publish` for K1 just before starting
#            tlsad: caches may still hold {K0} alone for the TTL, so the
#            deploy must still wait for the hold.
# The invariant monitors of both ports run from before tlsad starts.
#
. "$(dirname "$0")/e2e_lib.sh"

A=mx.dane.example
B=mx2.dane.example
NA=$(e2e_tlsa_name "$A")
NB=$(e2e_tlsa_name "$B")
PORT_B=$((PF_PORT + 100))
DEPLOY_B=$PF_DIR/deploy/mx2.pem
e2e_setup
e2e_pf_listener "$PORT_B" "$DEPLOY_B"
e2e_conf_lineage "$A"
e2e_conf_lineage "$B" "$PORT_B" "$DEPLOY_B"

# The setup before tlsad: version 1 in service, its record published by hand.
for name in "$A" "$B"; do
	renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$name" >/dev/null
	tb_nsupdate "update add $(e2e_tlsa_name "$name") $TB_TTL TLSA $(rn_rr311 "$E2E_LIVE/$name/cert.pem")"
done
A0=$(rn_spki "$E2E_LIVE/$A/cert.pem")
B0=$(rn_spki "$E2E_LIVE/$B/cert.pem")
(umask 077 && cat "$E2E_LIVE/$A/privkey.pem" "$E2E_LIVE/$A/fullchain.pem" >"$PF_DEPLOY")
(umask 077 && cat "$E2E_LIVE/$B/privkey.pem" "$E2E_LIVE/$B/fullchain.pem" >"$DEPLOY_B")
tb_wait_tlsa "$TB_RESOLVER" "$NA" "3 1 1 $A0" 15 || tb_die "resolver lacks A0"
tb_wait_tlsa "$TB_RESOLVER" "$NB" "3 1 1 $B0" 15 || tb_die "resolver lacks B0"
pf_start
mon_start a "$PF_ADDR" "$PF_PORT" "$A" "$NA"
mon_start b "$PF_ADDR" "$PORT_B" "$B" "$NB"
sleep 1

# certbot renews both.
renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$A" >/dev/null
renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$B" >/dev/null
A1=$(rn_spki "$E2E_LIVE/$A/cert.pem")
B1=$(rn_spki "$E2E_LIVE/$B/cert.pem")

# B: the admin publishes K1 by hand, then starts tlsad at once.
rc=0
out=$("$TLSACTL" -c "$E2E_CONF" publish "$B" 2>&1) || rc=$?
assert_eq "B: tlsactl publish: exit 0" 0 "$rc"
t_pub=$(date +%s%N)
e2e_stage_watch_start mig
e2e_start_tlsad

ok_a=0
ok_b=0
e2e_wait_settled "$A" "$A1" 60 && ok_a=1
e2e_wait_settled "$B" "$B1" 60 && ok_b=1
assert_eq "A: rolled over to the renewed key" 1 "$ok_a"
assert_eq "B: rolled over to the renewed key" 1 "$ok_b"
sleep 1
mon_stop a
mon_stop b
e2e_stage_watch_stop mig
sed 's/^/#   /' "$TB_DIR/stages-mig.log" | head -n 30

# The key tlsad replaced was served from the deploy file it took over:
# not a foreign record (another host's at a shared target) but the
# lineage's previous key, retired once the new one is probed.
e2e_only_record "A: the taken-over key retired" "$NA" "$A1"
e2e_only_record "B: the taken-over key retired" "$NB" "$B1"
# K0's record was published the whole time: no reason for a critical.
assert_not_contains "status never critical during the takeover" \
    "$(awk '{ print $4 }' "$TB_DIR/stages-mig.log" | sort -u | tr '\n' ' ')" 2
assert_eq "A: Postfix serves the new key" "$A1" "$(pf_served_spki || echo none)"
log=$(e2e_tlsad_log)
assert_contains "A: tlsad held before deploying" "$(printf '%s\n' "$log" | grep -F "$A: ")" "-> hold"
mon_check a 5
mon_check b 5
assert_eq "monitor a: K0 then K1" "$A0 $A1" "$(mon_served_keys a | tr '\n' ' ' | sed 's/ $//')"
assert_eq "monitor b: K0 then K1" "$B0 $B1" "$(mon_served_keys b | tr '\n' ' ' | sed 's/ $//')"
# B: the first observation of B1 served may not come before the publish's
# hold (TTL 3 s x 1 + 1 s margin) has passed.
first_b1=$(awk -v k="$B1" '$1 == "SERVED" && $3 == k { print $2; exit }' "$(mon_log b)")
gap=$(awk -v a="$first_b1" -v b="$t_pub" 'BEGIN { printf "%.1f", a - b / 1e9 }')
printf '# B: new key first served %s s after the publish\n' "$gap"
assert_ok "B: the new key was not served before the hold after the publish ($gap s >= $((TB_TTL + 1)) s)" \
    awk -v g="$gap" -v h="$((TB_TTL + 1))" 'BEGIN { exit !(g >= h) }'
e2e_done
