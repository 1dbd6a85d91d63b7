#!/bin/bash
# t_propagation.sh -- propagation is proven per authoritative address:
# a stopped (SIGSTOP) secondary makes publish wait and name it, and SIGCONT
# lets it complete; a secondary that stays stopped past the deadline gives
# exit 3 naming it; the update server and the authoritative addresses are
# found from the zone's SOA MNAME and NS records when not configured; and
# without a resolver, with auth-server entries, validation asks the zone's
# own servers.  Checked with dig at each address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lineage_lib.sh"

T=$TLSAD_BUILD/tlsactl
[ -x "$T" ] || tb_die "no tlsactl in $TLSAD_BUILD"
tb_start_dns

run() {
	rc=0
	out=$("$@" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/#   | /'
}

L=mx.dane.example
N=_25._tcp.mx.dane.example.
conf=$TB_DIR/tlsad.conf

# Discovery: no update-server, no auth-server: SOA MNAME and NS names.
TL_NO_UPDATE_SERVER=1 tl_write_conf "$conf" "$L" "$N"
tl_renew "$L" >/dev/null
rr1=$(tl_rr311 "$TB_DIR/live/$L/cert.pem")
run "$T" -c "$conf" dns "$L"
assert_eq "discovery: dns exit 0" 0 "$rc"
assert_contains "discovery: update server from the SOA MNAME" "$out" \
    "update server $TB_PRIMARY@$TB_PORT (ns1.${TB_ZONE})"
assert_contains "discovery: primary from NS" "$out" "$TB_PRIMARY@$TB_PORT (ns1.${TB_ZONE}): serial"
assert_contains "discovery: secondary from NS" "$out" "$TB_SECONDARY@$TB_PORT (ns2.${TB_ZONE}): serial"

# A paused secondary: publish waits, names it, and completes after SIGCONT.
tb_pause_secondary
bg_out=$TB_DIR/publish-bg.out
"$T" -c "$conf" publish "$L" >"$bg_out" 2>&1 &
bg=$!
named_it=0
for _ in $(seq 1 100); do
	if grep -q "lag: $TB_SECONDARY@$TB_PORT (ns2.${TB_ZONE}): no answer" "$bg_out"; then
		named_it=1
		break
	fi
	sleep 0.1
done
sed 's/^/#   | /' "$bg_out"
assert_eq "paused secondary: publish names the lagging address" 1 "$named_it"
assert_ok "paused secondary: publish is still waiting" kill -0 "$bg"
assert_eq "paused secondary: the primary already serves the record" "$rr1" \
    "$(tb_tlsa_at "$TB_PRIMARY" "$N")"
sleep 1
assert_ok "paused secondary: still waiting after 1 s more" kill -0 "$bg"
tb_resume_secondary
rc=0
wait "$bg" || rc=$?
sed 's/^/#   | /' "$bg_out"
assert_eq "resumed secondary: publish exit 0" 0 "$rc"
assert_contains "resumed secondary: propagated and validated" "$(cat "$bg_out")" "propagated and validated"
assert_eq "resumed secondary: the secondary serves the record" "$rr1" "$(tb_tlsa_at "$TB_SECONDARY" "$N")"

# A secondary paused past the deadline: exit 3, and it is named.
TL_TIMEOUT=2s TL_NO_UPDATE_SERVER=1 tl_write_conf "$conf" "$L" "$N"
tl_renew "$L" >/dev/null
rr2=$(tl_rr311 "$TB_DIR/live/$L/cert.pem")
tb_pause_secondary
t0=$(date +%s)
run "$T" -c "$conf" publish "$L"
t1=$(date +%s)
tb_resume_secondary
assert_eq "deadline: publish exit 3" 3 "$rc"
assert_contains "deadline: says timeout" "$out" "propagation timeout"
assert_contains "deadline: names the secondary" "$out" "$TB_SECONDARY@$TB_PORT"
assert_ok "deadline: gave up within 2 s + a few s ($((t1 - t0)) s)" [ $((t1 - t0)) -le 12 ]
# The record is there (the UPDATE was made); a re-run sends nothing and
# completes once the secondary caught up.
run "$T" -c "$conf" publish "$L"
assert_eq "re-run after the timeout: exit 0" 0 "$rc"
assert_contains "re-run after the timeout: nothing to send" "$out" "nothing to send"
assert_eq "re-run after the timeout: the secondary serves both" \
    "$(printf '%s\n%s\n' "$rr1" "$rr2" | sort)" "$(tb_tlsa_at "$TB_SECONDARY" "$N")"

# No resolver: auth-server entries; validation by stubs to them.
TL_NO_RESOLVER=1 TL_LINEAGE_EXTRA="    auth-server: $TB_PRIMARY@$TB_PORT
    auth-server: $TB_SECONDARY@$TB_PORT" tl_write_conf "$conf" "$L" "$N"
run "$T" -c "$conf" retire "$L"
assert_eq "auth-server, no resolver: retire exit 0" 0 "$rc"
assert_contains "auth-server, no resolver: retire confirmed" "$out" "retired: no authoritative address"
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "auth-server, no resolver: $a serves only the new record" "$rr2" "$(tb_tlsa_at "$a" "$N")"
done
run "$T" -c "$conf" dns "$L"
assert_contains "auth-server, no resolver: addresses from the config" "$out" \
    "$TB_SECONDARY@$TB_PORT (auth-server): serial"
assert_contains "auth-server, no resolver: validated secure" "$out" "validation $N: secure, 1 record"

# A stopped secondary (no process at all): refused connections, named;
# exit 3 at the deadline.  The primary has the change.
tb_stop_secondary
TL_TIMEOUT=2s tl_write_conf "$conf" "$L" "$N"
tl_renew "$L" >/dev/null
rr3=$(tl_rr311 "$TB_DIR/live/$L/cert.pem")
run "$T" -c "$conf" publish "$L"
assert_eq "stopped secondary: publish exit 3" 3 "$rc"
assert_contains "stopped secondary: names it and why" "$out" \
    "$TB_SECONDARY@$TB_PORT (ns2.${TB_ZONE}): no answer"
assert_contains "stopped secondary: the primary has the record" "$(tb_tlsa_at "$TB_PRIMARY" "$N")" "$rr3"

tb_done
