#!/bin/bash
#
# t_e2e_monitor.sh -- the invariant monitor (monitor.sh) must catch the
# outages tlsad exists to prevent; otherwise its silence in the other e2e
# tests would prove nothing.  No tlsad here: the test breaks the invariant
# itself, the way a naive renewal setup does, and checks the monitor's log.
#   1. a key deployed whose record is not published anywhere: VIOLATION on
#      every source;
#   2. the record published and the key deployed at once, without a hold:
#      the resolver still caches the old RRset: VIOLATION on the resolver
#      only (the servers have it); TTL 6 s here;
#   3. after the TTL: clean observations again;
#   4. the served key's record deleted: VIOLATION again.
#
# A longer TTL than elsewhere: case 2 needs a cache window wider than a
# few monitor rounds on a loaded machine.
TB_TTL=6
. "$(dirname "$0")/e2e_lib.sh"

L=mx.dane.example
N=$(e2e_tlsa_name "$L")
e2e_setup

deploy() {	# install live/ as Postfix's file and reload
	(umask 077 && cat "$E2E_LIVE/$L/privkey.pem" "$E2E_LIVE/$L/fullchain.pem" >"$PF_DEPLOY.tmp")
	mv "$PF_DEPLOY.tmp" "$PF_DEPLOY"
	pf_reload || tb_die "postfix reload failed"
	local i
	for i in $(seq 1 50); do
		[ "$(pf_served_spki || true)" = "$(rn_spki "$E2E_LIVE/$L/cert.pem")" ] && return 0
		sleep 0.1
	done
	tb_die "Postfix does not serve the deployed key"
}
count() { mon_count main "$1"; }
wait_count() {	# WORD MIN SECS: until the log has MIN lines of WORD
	local end
	end=$(($(date +%s) + $3))
	while [ "$(count "$1")" -lt "$2" ]; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" >/dev/null
K1=$(rn_spki "$E2E_LIVE/$L/cert.pem")
tb_nsupdate "update add $N $TB_TTL TLSA 3 1 1 $K1"
tb_wait_tlsa "$TB_RESOLVER" "$N" "3 1 1 $K1" 15 || tb_die "resolver lacks K1"
pf_start
deploy
mon_start main "$PF_ADDR" "$PF_PORT" "$L" "$N"
assert_ok "clean setup: observations come" wait_count OBS 3 20
assert_eq "clean setup: no violation" 0 "$(count VIOLATION)"

# 1: a new key deployed, its record published nowhere.
renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" >/dev/null
K2=$(rn_spki "$E2E_LIVE/$L/cert.pem")
deploy
assert_ok "1: unpublished key served: VIOLATION" wait_count VIOLATION 3 20
v=$(grep '^VIOLATION ' "$(mon_log main)")
for src in resolver "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_contains "1: the breach is seen at $src" "$v" " $K2 $src "
done

# 2: published and deployed at once, no hold: the resolver's cache lags.
# K2 gets its record; the moment the resolver first serves {K1, K2} it has
# just fetched it (the cache holds it for TB_TTL = 6 s); K3, made
# beforehand, is then published and deployed at once.
tb_nsupdate "update add $N $TB_TTL TLSA 3 1 1 $K2"
renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" >/dev/null
K3=$(rn_spki "$E2E_LIVE/$L/cert.pem")
tb_wait_tlsa "$TB_RESOLVER" "$N" "$(printf '3 1 1 %s\n3 1 1 %s\n' "$K1" "$K2" | sort)" 20 ||
    tb_die "the resolver never served K1 and K2"
: >"$(mon_log main)"
tb_nsupdate "update add $N $TB_TTL TLSA 3 1 1 $K3"
deploy
sleep $((TB_TTL + 2))
v=$(grep '^VIOLATION ' "$(mon_log main)" || true)
printf '%s\n' "$v" | head -n 3 | sed 's/^/#   /'
assert_contains "2: deployed within the TTL: the resolver's cached RRset lacks it" "$v" " $K3 resolver "
assert_not_contains "2: the primary had it" "$v" " $K3 $TB_PRIMARY "

# 3: after the TTL the resolver has it: clean again.
: >"$(mon_log main)"
assert_ok "3: clean observations again" wait_count OBS 3 20
assert_eq "3: no violation" 0 "$(count VIOLATION)"

# 4: the served key's record deleted.
tb_nsupdate "update delete $N TLSA 3 1 1 $K3"
assert_ok "4: served key's record deleted: VIOLATION" wait_count VIOLATION 2 20
assert_contains "4: seen at the primary" "$(grep '^VIOLATION ' "$(mon_log main)")" " $K3 $TB_PRIMARY "

mon_stop main
e2e_done
