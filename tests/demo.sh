#!/bin/bash
#
# demo.sh -- tlsad's main job, end to end, on a loopback sandbox.
#
# As root on a Debian 12 machine, from a clone of the repository:
#
#	tests/demo.sh
#
# It installs what it needs (tests/install-deps.sh: no system service is
# started or changed), builds into build-demo/ under the repository, then
# starts on random 127.x.y.z addresses, in a temporary directory: a BIND9
# primary and secondary serving a DNSSEC-signed zone (dane.example.), a
# validating Unbound, and a Postfix instance that reads the file tlsad
# deploys.  It makes a certbot-style lineage, publishes its TLSA record
# (tlsactl publish), starts tlsad (which deploys it: the first install),
# renews the certificate the way certbot does, and shows `tlsactl status` at
# each stage of the rollover that follows, with the TLSA RRset and the key
# Postfix serves before and after.  A monitor checks the safety invariant
# over STARTTLS and DNS the whole time.  Everything is stopped by pid at the
# end.  Exit 0 when the rollover completed and every check passed.
#
# Waits are short through the config (TTL 3 s, ttl-multiplier 1, hold
# margin 1 s): the whole run takes about a minute.
#
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (it adds loopback addresses and runs servers)" >&2; exit 1; }

if [ -t 1 ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
t_start=$(date +%s)

say "Installing what the demo needs (apt-get; no service is started)"
"$src/tests/install-deps.sh"

say "Building into build-demo/"
build=$src/build-demo
mkdir -p "$build"
if ! { cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
    cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target tlsad tlsactl; } \
    >"$build/demo-build.log" 2>&1; then
	tail -n 30 "$build/demo-build.log" >&2
	echo "demo.sh: the build failed (log: $build/demo-build.log)" >&2
	exit 1
fi
echo "built $build/tlsad and $build/tlsactl"

export TLSAD_BUILD=$build TLSAD_SRC=$src
# shellcheck source=integration/e2e_lib.sh
. "$src/tests/integration/e2e_lib.sh"

L=mx.dane.example
N=$(e2e_tlsa_name "$L")

indent() { sed 's/^/    /'; }

show_dig() {
	local a label
	for a in "$TB_PRIMARY" "$TB_SECONDARY" "$TB_RESOLVER"; do
		case $a in
		"$TB_PRIMARY") label="primary   $a" ;;
		"$TB_SECONDARY") label="secondary $a" ;;
		*) label="resolver  $a (validating)" ;;
		esac
		if [ "$a" = "$TB_RESOLVER" ]; then
			printf '$ dig @%s -p %s +dnssec %s TLSA   # %s\n' "$a" "$TB_PORT" "$N" "$label"
			dig @"$a" -p "$TB_PORT" +dnssec +time=2 +tries=1 "$N" TLSA |
			    awk '/^;; flags:/ { print "    " $0 } !/^;/ && $4 == "TLSA" { print "    " $0 }'
		else
			printf '$ dig @%s -p %s +norec %s TLSA   # %s\n' "$a" "$TB_PORT" "$N" "$label"
			dig @"$a" -p "$TB_PORT" +norec +time=2 +tries=1 +noall +answer "$N" TLSA | indent
		fi
	done
}

show_served() {
	local k
	k=$(pf_served_spki || echo "(none)")
	printf '$ openssl s_client -starttls smtp -connect %s:%s | <SPKI SHA-256>\n    Postfix serves key %s\n' \
	    "$PF_ADDR" "$PF_PORT" "$k"
}

show_status() {
	local rc=0 out
	out=$("$TLSACTL" -c "$E2E_CONF" status 2>&1) || rc=$?
	printf '$ tlsactl status   (exit %d)\n' "$rc"
	printf '%s\n' "$out" | indent
	return 0
}

say "Starting the sandbox: BIND9 primary + secondary (signed zone $TB_ZONE), Unbound, Postfix"
e2e_setup
e2e_conf_lineage "$L"
echo "primary $TB_PRIMARY, secondary $TB_SECONDARY, resolver $TB_RESOLVER (port $TB_PORT), Postfix $PF_ADDR:$PF_PORT"
echo "tlsad.conf:"
indent <"$E2E_CONF"
echo "Postfix reads tlsad's file, never certbot's:"
pf_postconf smtpd_tls_chain_files | indent

say "certbot's first certificate: live/$L -> archive/$L/*1.pem"
renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" >/dev/null
K1=$(rn_spki "$E2E_LIVE/$L/cert.pem")
ls -l "$E2E_LIVE/$L" | tail -n +2 | awk '{ print "    " $(NF - 2), $(NF - 1), $NF }'

say "Publishing its TLSA record once by hand: tlsactl publish $L"
"$TLSACTL" -c "$E2E_CONF" publish "$L" 2>&1 | indent
tb_wait_tlsa "$TB_RESOLVER" "$N" "3 1 1 $K1" 15 || tb_die "the resolver does not serve the record"
pf_start
show_served
show_status

say "Starting tlsad: it deploys the published key to Postfix (first install)"
e2e_start_tlsad
if e2e_wait_settled "$L" "$K1" 40; then
	pass "first install: the published key is deployed and served"
else
	fail "first install did not complete"
	e2e_tlsad_log | tail -n 20 | indent
	tb_done
	exit 1
fi
show_status
show_served

mon_start demo "$PF_ADDR" "$PF_PORT" "$L" "$N"
sleep 1

say "Before the renewal: the TLSA RRset and the served key"
show_dig
show_served

say "certbot renews: a new key in archive/$L/*2.pem, the four live/ links replaced one by one"
t_renew=$(date +%s)
renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" >/dev/null
K2=$(rn_spki "$E2E_LIVE/$L/cert.pem")
echo "new key: $K2"

say "tlsad rolls over; tlsactl status at each stage"
last=""
settled=0
for _i in $(seq 1 900); do
	# One status run: the stage printed is the one the table shows.
	rc=0
	out=$("$TLSACTL" -c "$E2E_CONF" status 2>&1) || rc=$?
	st=$(printf '%s\n' "$out" | awk -v l="$L" '$1 == l { print $2; exit }')
	if [ "$st" != "$last" ]; then
		printf -- '--- stage %s (t+%ds)\n$ tlsactl status   (exit %d)\n' "$st" \
		    "$(($(date +%s) - t_renew))" "$rc"
		printf '%s\n' "$out" | indent
		last=$st
	fi
	e2e_status "$L"
	if [ "$st" = idle ] && [ "$(e2e_field "$L" deployed_key)" = "$K2" ] &&
	    [ "$(e2e_field "$L" published)" = "$K2" ]; then
		settled=1
		break
	fi
	sleep 0.1
done
if [ "$settled" = 1 ]; then
	pass "the rollover completed in $(($(date +%s) - t_renew)) s"
else
	fail "the rollover did not complete"
	e2e_tlsad_log | tail -n 20 | indent
fi
sleep 1
mon_stop demo

say "After the rollover: the TLSA RRset and the served key"
# The resolver may keep the old RRset in its cache for its TTL.
tb_wait_tlsa "$TB_RESOLVER" "$N" "3 1 1 $K2" $((TB_TTL + 3)) || true
show_dig
show_served
e2e_only_record "after the rollover" "$N" "$K2"
assert_eq "Postfix serves the new key" "$K2" "$(pf_served_spki || echo none)"

say "What tlsad logged"
e2e_tlsad_log | grep -v ': debug' | grep -F -e "$L" -e 'started' -e 'probe ' | indent

say "The invariant monitor (STARTTLS + validating resolver + each server, every ~0.2 s)"
mon_check demo 5
printf '    old key %s... served until the switch, new key %s... after;\n' \
    "$(printf %.16s "$K1")" "$(printf %.16s "$K2")"
printf '    %s s between the last observation of the old key and the first of the new\n' \
    "$(mon_switch_gap demo "$K1" "$K2")"

say "Tearing down (every server is stopped by pid)"
printf 'demo took %d s\n' "$(($(date +%s) - t_start))"
e2e_done
