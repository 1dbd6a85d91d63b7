#!/bin/bash
# t_update.sh -- RFC 2136 UPDATE + TSIG against a real BIND primary and
# secondary: add, delete, idempotent re-runs, one message for N names, and
# every failure named (BADSIG, BADKEY, REFUSED, NOTZONE, connection
# refused, timeout, prerequisite failures).  Each case asserts with dig on
# each server and with the tool's own output.
. "$(dirname "$0")/lib.sh"

TOOL=$TLSAD_BUILD/tests/tools/dnsupdate-tool
[ -x "$TOOL" ] || tb_die "$TOOL not built"

tb_start_dns

Z=$TB_ZONE
N1=_25._tcp.mx.$Z
R1="3 1 1 $(printf 'aa%.0s' $(seq 32))"
R2="3 1 1 $(printf 'bb%.0s' $(seq 32))"
R3="3 1 1 $(printf 'cc%.0s' $(seq 32))"

upd() {
	# upd apply|send [tool options] OPS...: the tool against the primary
	local cmd=$1
	shift
	"$TOOL" "$cmd" -s "$TB_PRIMARY" -p "$TB_PORT" -k "$TB_KEYFILE" -z "$Z" \
	    -t 3000 -T "$TB_TTL" "$@" 2>"$TB_DIR/tool.err"
}

# Wait for the secondary to catch up with the primary's serial.
sync_secondary() {
	tb_wait_serial "$TB_SECONDARY" "$(tb_serial "$TB_PRIMARY")" 10
}

# --- add then delete -------------------------------------------------------------
out=$(upd apply add "$N1" "$R1") && rc=0 || rc=$?
assert_eq "add: tool exits 0" 0 "$rc"
assert_contains "add: result OK" "$out" "result: OK"
assert_contains "add: one record added" "$out" "sent: 1 add: 1 del: 0 rcode: NOERROR"
assert_eq "add: primary serves R1" "$R1" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"
sync_secondary || fail "secondary never reached the primary's serial"
assert_eq "add: secondary serves R1" "$R1" "$(tb_tlsa_at "$TB_SECONDARY" "$N1")"
assert_eq "add: resolver validates R1" "$R1" "$(tb_tlsa_at "$TB_RESOLVER" "$N1")"
ad=$(dig @"$TB_RESOLVER" -p "$TB_PORT" +dnssec +time=2 +tries=1 "$N1" TLSA | grep -c 'flags:.* ad' || true)
assert_eq "add: resolver answer is secure (AD)" 1 "$ad"

out=$(upd apply add "$N1" "$R2") && rc=0 || rc=$?
assert_eq "add second: exit 0" 0 "$rc"
assert_eq "add second: primary serves both" "$(printf '%s\n%s' "$R1" "$R2")" \
    "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"

out=$(upd apply del "$N1" "$R1") && rc=0 || rc=$?
assert_eq "delete one: exit 0" 0 "$rc"
assert_contains "delete one: one record deleted" "$out" "sent: 1 add: 0 del: 1"
assert_eq "delete one: only R2 left on the primary" "$R2" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"
sync_secondary || true
assert_ok "delete one: only R2 left on the secondary" \
    tb_wait_tlsa "$TB_SECONDARY" "$N1" "$R2" 5

# --- idempotent re-runs --------------------------------------------------------------
before=$(tb_update_count)
s0=$(tb_serial "$TB_PRIMARY")
out=$(upd apply add "$N1" "$R2" del "$N1" "$R1") && rc=0 || rc=$?
assert_eq "re-run: exit 0" 0 "$rc"
assert_contains "re-run: nothing sent" "$out" "sent: 0 add: 0 del: 0"
assert_contains "re-run: says nothing to change" "$out" "nothing to change"
assert_eq "re-run: no UPDATE reached the primary" "$before" "$(tb_update_count)"
assert_eq "re-run: serial unchanged" "$s0" "$(tb_serial "$TB_PRIMARY")"

# Dry run computes but sends nothing.
out=$(upd apply -d add "$N1" "$R3") && rc=0 || rc=$?
assert_contains "dry run: would add one" "$out" "would add 1 and delete 0"
assert_eq "dry run: primary unchanged" "$R2" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"

# --- N names in one zone: one UPDATE -----------------------------------------------------
before=$(tb_update_count)
ops=()
want=""
for i in 1 2 3 4 5 6 7 8; do
	ops+=(add "_25._tcp.mx$i.$Z" "$R3")
done
out=$(upd apply "${ops[@]}") && rc=0 || rc=$?
assert_eq "batch: exit 0" 0 "$rc"
assert_contains "batch: 8 records in the message" "$out" "sent: 1 add: 8 del: 0"
after=$(tb_update_count)
assert_eq "batch: exactly one UPDATE message in named's log" "$((before + 1))" "$after"
sync_secondary || true
for i in 1 8; do
	assert_eq "batch: primary serves mx$i" "$R3" "$(tb_tlsa_at "$TB_PRIMARY" "_25._tcp.mx$i.$Z")"
	assert_ok "batch: secondary serves mx$i" tb_wait_tlsa "$TB_SECONDARY" "_25._tcp.mx$i.$Z" "$R3" 5
done
n=$(grep -c "adding an RR at '_25._tcp.mx[0-9].${Z%.}' TLSA" "$TB_UPDATE_LOG" || true)
assert_eq "batch: named logged 8 adds" 8 "$n"

# --- wrong secret: BADSIG --------------------------------------------------------------
bad=$TB_DIR/badsecret.key
sed "s|secret \".*\";|secret \"$(head -c 32 /dev/urandom | base64)\";|" "$TB_KEYFILE" >"$bad"
chmod 0600 "$bad"
s0=$(tb_serial "$TB_PRIMARY")
out=$("$TOOL" apply -s "$TB_PRIMARY" -p "$TB_PORT" -k "$bad" -z "$Z" -t 3000 \
    add "$N1" "$R1" 2>"$TB_DIR/tool.err") && rc=0 || rc=$?
assert_eq "BADSIG: exit 1" 1 "$rc"
assert_contains "BADSIG: named" "$out" "result: TSIG_BADSIG"
assert_contains "BADSIG: sentence" "$out" "secret of key tlsad-key. differs"
assert_contains "BADSIG: TSIG error 16 in reply" "$out" "rcode: NOTAUTH tsig-error: 16"
assert_eq "BADSIG: primary unchanged" "$R2" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"
assert_eq "BADSIG: serial unchanged" "$s0" "$(tb_serial "$TB_PRIMARY")"
assert_contains "BADSIG: logged once on stderr" "$(cat "$TB_DIR/tool.err")" "TSIG_BADSIG"

# --- unknown key name: BADKEY ------------------------------------------------------------
unk=$TB_DIR/unknown.key
sed 's|key "tlsad-key"|key "no-such-key"|' "$TB_KEYFILE" >"$unk"
chmod 0600 "$unk"
out=$("$TOOL" apply -s "$TB_PRIMARY" -p "$TB_PORT" -k "$unk" -z "$Z" -t 3000 \
    add "$N1" "$R1" 2>/dev/null) && rc=0 || rc=$?
assert_eq "BADKEY: exit 1" 1 "$rc"
assert_contains "BADKEY: named" "$out" "result: TSIG_BADKEY"
assert_contains "BADKEY: TSIG error 17" "$out" "tsig-error: 17"
assert_eq "BADKEY: primary unchanged" "$R2" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"

# --- our clock 4000 s behind: BADTIME with the measured offset ---------------------------------
SKEW=$TLSAD_BUILD/tests/tools/libskewtime.so
[ -f "$SKEW" ] || tb_die "$SKEW not built"
out=$(LD_PRELOAD=$SKEW TLSAD_TEST_SKEW=-4000 ASAN_OPTIONS=verify_asan_link_order=0 \
    "$TOOL" apply -s "$TB_PRIMARY" -p "$TB_PORT" -k "$TB_KEYFILE" -z "$Z" -t 3000 \
    add "$N1" "$R1" 2>/dev/null) && rc=0 || rc=$?
assert_eq "BADTIME: exit 1" 1 "$rc"
assert_contains "BADTIME: named" "$out" "result: TSIG_BADTIME"
assert_contains "BADTIME: TSIG error 18" "$out" "tsig-error: 18"
off=$(printf '%s\n' "$out" | sed -n 's/.* offset: \(-*[0-9]*\).*/\1/p')
if [ -n "$off" ] && [ "$off" -ge 3995 ] && [ "$off" -le 4005 ]; then
	pass "BADTIME: measured offset ${off} s (4000 expected)"
else
	fail "BADTIME: measured offset '${off}' (4000 expected)"
fi
assert_contains "BADTIME: sentence gives the offset" "$out" "s ahead of ours; fix NTP"
assert_eq "BADTIME: primary unchanged" "$R2" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"

# --- key not allowed: REFUSED ---------------------------------------------------------------
out=$("$TOOL" apply -s "$TB_PRIMARY" -p "$TB_PORT" -k "$TB_OTHER_KEYFILE" -z "$Z" -t 3000 \
    add "$N1" "$R1" 2>/dev/null) && rc=0 || rc=$?
assert_eq "REFUSED (key without grant): exit 1" 1 "$rc"
assert_contains "REFUSED: named" "$out" "result: DNS_REFUSED"
assert_contains "REFUSED: says check update-policy" "$out" "check update-policy"
assert_eq "REFUSED: primary unchanged" "$R2" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"
# The granted key, but another type: the testbed's update-policy grants TLSA only.
out=$(tb_nsupdate "update add mx.$Z $TB_TTL A 192.0.2.9" 2>&1) && rc=0 || rc=$?
assert_contains "REFUSED: an A record with the TLSA-only key" "$out" "REFUSED"
assert_eq "REFUSED: the A record is unchanged" "$TB_NET.25" "$(tb_dig "$TB_PRIMARY" "mx.$Z" A)"
# The granted key, but a name in another zone than the one named in the message.
out=$(upd send add "_25._tcp.mx.$TB_UNSIGNED_ZONE" "$R1") && rc=0 || rc=$?
assert_contains "NOTZONE: name outside the zone sent raw" "$out" "result: DNS_NOTZONE"
assert_eq "NOTZONE: other zone unchanged" "" "$(tb_tlsa_at "$TB_PRIMARY" "_25._tcp.mx.$TB_UNSIGNED_ZONE")"
out=$(upd apply add "_25._tcp.mx.$TB_UNSIGNED_ZONE" "$R1") && rc=0 || rc=$?
assert_contains "NOTZONE: apply refuses before sending" "$out" "sent: 0"
assert_contains "NOTZONE: apply names it" "$out" "result: DNS_NOTZONE"

# --- prerequisite failures: someone else changed the RRset ---------------------------------
# Stale "exists" prerequisite: we think the RRset is {R1}, it is {R2}.
out=$(upd send pre-rr "$N1" "$R1" del "$N1" "$R1" add "$N1" "$R3") && rc=0 || rc=$?
assert_eq "stale prerequisite: exit 1" 1 "$rc"
assert_contains "stale prerequisite: NXRRSET" "$out" "result: DNS_NXRRSET"
assert_contains "stale prerequisite: sentence" "$out" "someone else changed"
assert_eq "stale prerequisite: nothing changed" "$R2" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"
# Stale "does not exist": someone created the RRset meanwhile.
N9=_25._tcp.new.$Z
tb_nsupdate "update add $N9 $TB_TTL TLSA $R1" || fail "nsupdate add failed"
out=$(upd send pre-none "$N9" add "$N9" "$R2") && rc=0 || rc=$?
assert_contains "RRset appeared meanwhile: YXRRSET" "$out" "result: DNS_YXRRSET"
assert_eq "YXRRSET: nothing changed" "$R1" "$(tb_tlsa_at "$TB_PRIMARY" "$N9")"
# A fresh apply after the other writer's change re-reads and succeeds.
out=$(upd apply add "$N9" "$R2") && rc=0 || rc=$?
assert_eq "fresh apply after the change: exit 0" 0 "$rc"
assert_eq "fresh apply kept the other writer's record" "$(printf '%s\n%s' "$R1" "$R2")" \
    "$(tb_tlsa_at "$TB_PRIMARY" "$N9")"

# --- wrong server: the secondary refuses updates (no forwarding) ---------------------------------
out=$("$TOOL" apply -s "$TB_SECONDARY" -p "$TB_PORT" -k "$TB_KEYFILE" -z "$Z" -t 3000 \
    add "$N1" "$R3" 2>/dev/null) && rc=0 || rc=$?
assert_eq "update at the secondary: exit 1" 1 "$rc"
assert_contains "update at the secondary: REFUSED" "$out" "result: DNS_REFUSED"

# --- primary paused: timeout; the outcome is unknown, a re-run converges -------------------------
# The kernel accepts the connection of a stopped named and queues the message:
# named applies it once it runs again.  So a timeout promises nothing, and the
# message must say so; what must hold is that a re-run is harmless.
kill -STOP "$TB_PRIMARY_PID"
t0=$(date +%s%N)
out=$("$TOOL" send -s "$TB_PRIMARY" -p "$TB_PORT" -k "$TB_KEYFILE" -z "$Z" -t 1000 \
    add "$N1" "$R3" 2>/dev/null) && rc=0 || rc=$?
t1=$(date +%s%N)
kill -CONT "$TB_PRIMARY_PID"
assert_eq "primary paused: exit 1" 1 "$rc"
assert_contains "primary paused: TIMEOUT" "$out" "result: DNS_TIMEOUT"
assert_contains "primary paused: sentence" "$out" "no answer from $TB_PRIMARY port $TB_PORT"
assert_contains "primary paused: says re-running is safe" "$out" "re-running is safe"
ms=$(((t1 - t0) / 1000000))
if [ "$ms" -ge 900 ] && [ "$ms" -lt 4000 ]; then
	pass "primary paused: the 1000 ms timeout was kept (${ms} ms)"
else
	fail "primary paused: took ${ms} ms for a 1000 ms timeout"
fi
tb_wait_answer "$TB_PRIMARY" "$Z" 10 || fail "primary does not answer after SIGCONT"
out=$(upd apply add "$N1" "$R3") && rc=0 || rc=$?
assert_eq "after the timeout: re-run succeeds" 0 "$rc"
assert_eq "after the timeout: R2 and R3 once each" "$(printf '%s\n%s' "$R2" "$R3")" \
    "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"
out=$(upd apply del "$N1" "$R3") && rc=0 || rc=$?
assert_eq "after the timeout: R3 removed again" "$R2" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"
sync_secondary || true

# --- primary stopped: connection refused, nothing changed -------------------------------------------
s0=$(tb_serial "$TB_PRIMARY")
tb_stop_primary
out=$(upd apply add "$N1" "$R3") && rc=0 || rc=$?
assert_eq "primary stopped: exit 1" 1 "$rc"
assert_contains "primary stopped: CONNREFUSED" "$out" "result: DNS_CONNREFUSED"
assert_contains "primary stopped: sentence" "$out" "nothing was changed"
out=$(upd send add "$N1" "$R3") && rc=0 || rc=$?
assert_contains "primary stopped (send): CONNREFUSED" "$out" "result: DNS_CONNREFUSED"
assert_contains "primary stopped (send): nothing sent" "$out" "sent: 0"
tb_start_primary
assert_eq "after restart: primary still serves only R2" "$R2" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"
assert_eq "after restart: secondary still serves only R2" "$R2" "$(tb_tlsa_at "$TB_SECONDARY" "$N1")"
assert_eq "after restart: serial unchanged" "$s0" "$(tb_serial "$TB_PRIMARY")"

tb_done
