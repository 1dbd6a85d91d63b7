#!/bin/bash
#
# t_e2e_two.sh -- two lineages, served by one Postfix on two ports (each
# port reads its own deploy file) and reloaded by both, renewed at the same
# moment: each rolls over on its own, one UPDATE per phase and lineage, and
# the invariant monitor of each port sees no breach.
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
assert_ok "tlsad -n accepts two lineages" "$TLSAD" -n -c "$E2E_CONF"
e2e_bootstrap "$A" "$B"
A1=$K1_1
B1=$K1_2
served_at() {
	timeout 10 openssl s_client -connect "$PF_ADDR:$1" -starttls smtp </dev/null 2>/dev/null |
	    openssl x509 -pubkey -noout 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null |
	    sha256sum | cut -d' ' -f1
}
assert_eq "port $PF_PORT serves A's key" "$A1" "$(served_at "$PF_PORT")"
assert_eq "port $PORT_B serves B's key" "$B1" "$(served_at "$PORT_B")"

mon_start a "$PF_ADDR" "$PF_PORT" "$A" "$NA"
mon_start b "$PF_ADDR" "$PORT_B" "$B" "$NB"
e2e_stage_watch_start two
sleep 1

# Both renewals at once (certbot renews lineages one after the other within
# a second or so; here they overlap exactly).
renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$A" >"$TB_DIR/renew-a.out" &
ra=$!
renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$B" >"$TB_DIR/renew-b.out" &
rb=$!
wait "$ra" || tb_die "renewal of $A failed"
wait "$rb" || tb_die "renewal of $B failed"
A2=$(rn_spki "$E2E_LIVE/$A/cert.pem")
B2=$(rn_spki "$E2E_LIVE/$B/cert.pem")

ok_a=0
ok_b=0
e2e_wait_settled "$A" "$A2" 60 && ok_a=1
e2e_wait_settled "$B" "$B2" 60 && ok_b=1
assert_eq "lineage A rolled over" 1 "$ok_a"
assert_eq "lineage B rolled over" 1 "$ok_b"
sleep 1
mon_stop a
mon_stop b
e2e_stage_watch_stop two

e2e_only_record "A" "$NA" "$A2"
e2e_only_record "B" "$NB" "$B2"
assert_eq "port $PF_PORT serves A's new key" "$A2" "$(served_at "$PF_PORT")"
assert_eq "port $PORT_B serves B's new key" "$B2" "$(served_at "$PORT_B")"
e2e_status
assert_eq "status: exit 0" 0 "$E2E_RC"
assert_eq "status: A idle" idle "$(e2e_field "$A" stage)"
assert_eq "status: B idle" idle "$(e2e_field "$B" stage)"
# Both lineages were in a rollover stage at the same time at some point.
overlap=$(awk -v a="$A" -v b="$B" '{
	sa = sb = ""
	for (i = 2; i <= NF; i++) { if ($i == a) sa = $(i + 1); if ($i == b) sb = $(i + 1) }
	if (sa != "idle" && sa != "-" && sa != "" && sb != "idle" && sb != "-" && sb != "") { print "yes"; exit }
}' "$TB_DIR/stages-two.log")
assert_eq "the two rollovers overlapped in time" yes "$overlap"
mon_check a 5
mon_check b 5
assert_eq "monitor a: old key then new key" "$A1 $A2" "$(mon_served_keys a | tr '\n' ' ' | sed 's/ $//')"
assert_eq "monitor b: old key then new key" "$B1 $B2" "$(mon_served_keys b | tr '\n' ' ' | sed 's/ $//')"
e2e_done
