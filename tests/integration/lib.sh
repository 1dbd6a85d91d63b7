# shellcheck shell=bash
#
# lib.sh -- the DNS testbed every integration test sources.
#
# Starts real servers on loopback addresses of its own, inside a temp dir of
# its own, and kills exactly the pids it started when the test exits (trap on
# EXIT INT TERM).  A missing server binary is a setup failure (exit 1), never
# a silent pass.  Needs root (it adds /32 aliases to lo: named ignores a
# listen-on address that no interface has).
#
# Usage:
#	. "$(dirname "$0")/lib.sh"
#	tb_start_dns
#	... assertions ...
#	tb_done				# prints "N passed, M failed", exit status
#
# Variables (set on sourcing unless noted; override the inputs before sourcing
# or before tb_start_dns):
#   TLSAD_BUILD, TLSAD_SRC	build and source dirs (CTest sets both; defaults:
#				the source dir from this file, build dir ./build)
#   TB_DIR		the run's temp dir (mode 0755) under ${TMPDIR:-/tmp}
#   TB_NET		"127.A.B": the run's random /24 (A, B in 100..250), no
#			address of it on lo before the run
#   TB_PRIMARY		$TB_NET.1	named primary
#   TB_SECONDARY	$TB_NET.2	named secondary (NOTIFY + IXFR from the primary)
#   TB_RESOLVER		$TB_NET.3	unbound, validating, stub-zones to .1 and .2
#   TB_PORT		10053: the port of all three servers
#   TB_ZONE		signed zone, default "dane.example." (input)
#   TB_UNSIGNED_ZONE	unsigned zone on the primary only, default "plain.example." (input)
#   TB_TTL		TTL of every record, default 3 (input)
#   TB_NEGTTL		SOA minimum (negative TTL), default 3 (input)
#   TB_ZONE_EXTRA	lines appended to the signed zone file, relative names
#			allowed (input; e.g. a CNAME for RFC 7671 sec. 7 tests)
#   TB_KEYNAME		TSIG key granted "zonesub TLSA" in both zones: "tlsad-key"
#   TB_KEYFILE		its key file (tsig-keygen output, mode 0600)
#   TB_KEYALGO		its algorithm, default hmac-sha256 (input)
#   TB_OTHER_KEYNAME	a second key named knows but grants nothing: "tb-other"
#   TB_OTHER_KEYFILE	its key file (mode 0600)
#   TB_ANCHOR		trust anchor file (the zone's CSK DNSKEY as a zone-file
#			line) for libunbound's ub_ctx_add_ta_file
#   TB_PRIMARY_DIR, TB_SECONDARY_DIR, TB_RESOLVER_DIR	server dirs
#   TB_UPDATE_LOG	primary's "update"/"update-security" log, print-time (ms)
#   TB_QUERY_LOG	primary's query log, print-time
#   TB_SECONDARY_QUERY_LOG	secondary's query log
#   TB_PRIMARY_PID, TB_SECONDARY_PID, TB_RESOLVER_PID	pids (after tb_start_dns)
#   TB_PASS, TB_FAIL	counters
#
# Functions:
#   tb_addr N			print "$TB_NET.N"
#   tb_alias N			add $TB_NET.N/32 to lo (removed at exit); prints the address
#   tb_spawn NAME CMD...	start CMD in the background, output to $TB_DIR/NAME.out,
#				record its pid (killed at exit); sets TB_LAST_PID
#   tb_kill PID			SIGTERM, wait (up to 5 s, then SIGKILL), forget PID
#   tb_start_dns		primary + secondary + resolver, each answering before it returns
#   tb_dig ADDR ARGS...		dig @ADDR -p $TB_PORT +norec +short +time=2 +tries=1 ARGS
#				(+rec when ADDR is the resolver)
#   tb_tlsa_at ADDR NAME	TLSA rdata served at ADDR for NAME, one "u s m hex"
#				per line, hex joined and lower case, lines sorted
#   tb_serial ADDR [ZONE]	SOA serial served at ADDR (empty when none)
#   tb_wait_serial ADDR SERIAL [SECONDS]	wait until ADDR serves >= SERIAL
#   tb_wait_tlsa ADDR NAME EXPECTED [SECONDS]	wait until tb_tlsa_at prints EXPECTED
#   tb_nsupdate CMDS		nsupdate -k $TB_KEYFILE against the primary; CMDS are
#				its lines without server/zone/send (added here)
#   tb_update_count		number of UPDATE messages the primary has processed
#				(distinct client/source-port pairs in $TB_UPDATE_LOG)
#   tb_stop_primary, tb_start_primary	stop / restart the primary (same config)
#   tb_stop_secondary		stop the secondary
#   tb_pause_secondary, tb_resume_secondary	SIGSTOP / SIGCONT it
#   tb_unsigned_zone		print the unsigned zone's name (served from the start)
#   tb_write_conf FILE LINEAGE TLSA-NAME...	write a tlsad.conf for the testbed:
#				server: state-dir $TB_DIR/state, trust-anchor-file $TB_ANCHOR,
#				dns-port $TB_PORT, resolver $TB_RESOLVER@$TB_PORT, short
#				holds; key: file $TB_KEYFILE; one lineage with the
#				names.  Extra lines: TB_CONF_SERVER_EXTRA,
#				TB_CONF_LINEAGE_EXTRA (each line indented by the caller)
#   assert_eq DESC EXPECTED ACTUAL, assert_contains DESC HAYSTACK NEEDLE,
#   assert_not_contains DESC HAYSTACK NEEDLE, assert_ok DESC CMD...,
#   assert_fails DESC CMD..., pass DESC, fail DESC, tb_done
#
set -eu

: "${TLSAD_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${TLSAD_BUILD:=$TLSAD_SRC/build}"
: "${TB_ZONE:=dane.example.}"
: "${TB_UNSIGNED_ZONE:=plain.example.}"
: "${TB_TTL:=3}"
: "${TB_NEGTTL:=3}"
: "${TB_ZONE_EXTRA:=}"
: "${TB_KEYALGO:=hmac-sha256}"
: "${TB_PORT:=10053}"
TB_KEYNAME=tlsad-key
TB_OTHER_KEYNAME=tb-other
TB_PASS=0
TB_FAIL=0
TB_PIDS=""
TB_ALIASES=""
TB_CLAIM=""
TB_DONE=0
TB_PRIMARY_PID=""
TB_SECONDARY_PID=""
TB_RESOLVER_PID=""

tb_log() { printf '# %s\n' "$*" >&2; }
tb_die() { printf 'SETUP FAILURE: %s\n' "$*" >&2; exit 1; }

for _b in ip dig named tsig-keygen unbound nsupdate; do
	command -v "$_b" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin"
	command -v "$_b" >/dev/null 2>&1 || tb_die "$_b not found (install bind9 bind9-dnsutils unbound iproute2)"
done
[ "$(id -u)" = 0 ] || tb_die "the testbed needs root (it adds addresses to lo)"

# --- pids, aliases, teardown ---------------------------------------------

tb_proc_alive() {
	# A pid that is gone or a zombie is not alive.
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

tb_forget_pid() {
	local p out=""
	for p in $TB_PIDS; do [ "$p" = "$1" ] || out="$out $p"; done
	TB_PIDS=$out
}

tb_kill() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -CONT "$pid" 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		tb_proc_alive "$pid" || break
		sleep 0.1
	done
	if tb_proc_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	tb_forget_pid "$pid"
}

tb_teardown() {
	local rc=$? p a
	trap - EXIT INT TERM
	set +e
	for p in $TB_PIDS; do tb_kill "$p"; done
	for a in $TB_ALIASES; do ip addr del "$a/32" dev lo 2>/dev/null; done
	if [ "$TB_DONE" = 0 ] && [ -n "${TB_DIR:-}" ]; then
		printf '%d passed, %d failed (aborted, exit %d)\n' "$TB_PASS" "$TB_FAIL" "$rc"
		[ "$rc" = 0 ] && rc=1
	fi
	if [ -n "${TB_DIR:-}" ] && [ -d "$TB_DIR" ]; then
		if [ "$rc" = 0 ] && [ -z "${TB_KEEP:-}" ]; then
			rm -rf "$TB_DIR"
		else
			printf '# testbed dir kept: %s\n' "$TB_DIR" >&2
		fi
	fi
	[ -n "$TB_CLAIM" ] && rmdir "$TB_CLAIM" 2>/dev/null
	exit "$rc"
}
trap tb_teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tb_spawn() {
	local name=$1
	shift
	"$@" >"$TB_DIR/$name.out" 2>&1 &
	TB_LAST_PID=$!
	TB_PIDS="$TB_PIDS $TB_LAST_PID"
}

# --- addresses ------------------------------------------------------------

tb_pick_net() {
	local i a b
	for i in $(seq 1 50); do
		a=$((100 + RANDOM % 151))
		b=$((100 + RANDOM % 151))
		if ip -4 addr show dev lo | grep -q "inet 127\.$a\.$b\."; then
			continue
		fi
		# An atomic claim, so that two runs starting together differ.
		if mkdir "${TMPDIR:-/tmp}/tlsad-testbed-127.$a.$b" 2>/dev/null; then
			TB_CLAIM="${TMPDIR:-/tmp}/tlsad-testbed-127.$a.$b"
			TB_NET="127.$a.$b"
			return 0
		fi
	done
	tb_die "no free 127.A.B.0/24 block found"
}

tb_addr() { printf '%s.%s\n' "$TB_NET" "$1"; }

tb_alias() {
	local a
	a=$(tb_addr "$1")
	case " $TB_ALIASES " in *" $a "*) printf '%s\n' "$a"; return 0 ;; esac
	ip addr add "$a/32" dev lo || tb_die "cannot add $a/32 to lo"
	TB_ALIASES="$TB_ALIASES $a"
	printf '%s\n' "$a"
}

TB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tlsad-tb.XXXXXX")
chmod 0755 "$TB_DIR"
tb_pick_net
TB_PRIMARY=$TB_NET.1
TB_SECONDARY=$TB_NET.2
TB_RESOLVER=$TB_NET.3
TB_PRIMARY_DIR=$TB_DIR/primary
TB_SECONDARY_DIR=$TB_DIR/secondary
TB_RESOLVER_DIR=$TB_DIR/resolver
TB_KEYFILE=$TB_DIR/tlsad.key
TB_OTHER_KEYFILE=$TB_DIR/other.key
TB_ANCHOR=$TB_DIR/anchor.key
TB_UPDATE_LOG=$TB_PRIMARY_DIR/update.log
TB_QUERY_LOG=$TB_PRIMARY_DIR/query.log
TB_SECONDARY_QUERY_LOG=$TB_SECONDARY_DIR/query.log
export TB_DIR TB_NET TB_PRIMARY TB_SECONDARY TB_RESOLVER TB_PORT TB_ZONE \
    TB_UNSIGNED_ZONE TB_KEYNAME TB_KEYFILE TB_OTHER_KEYNAME TB_OTHER_KEYFILE \
    TB_ANCHOR TB_UPDATE_LOG TB_QUERY_LOG TLSAD_BUILD TLSAD_SRC
tb_log "testbed $TB_NET.0/24 port $TB_PORT in $TB_DIR"

# --- queries ----------------------------------------------------------------

tb_dig() {
	local addr=$1 rec=+norec
	shift
	[ "$addr" = "$TB_RESOLVER" ] && rec=+rec
	dig @"$addr" -p "$TB_PORT" $rec +short +time=2 +tries=1 "$@"
}

tb_tlsa_at() {
	# dig prints "3 1 1 ABCD... EF01..." (data split, upper case).
	tb_dig "$1" "$2" TLSA | awk 'NF >= 4 && $1 ~ /^[0-9]+$/ {
		d = ""; for (i = 4; i <= NF; i++) d = d $i
		print $1, $2, $3, tolower(d) }' | sort
}

tb_serial() {
	tb_dig "$1" "${2:-$TB_ZONE}" SOA 2>/dev/null | awk 'NF >= 7 { print $3; exit }'
}

tb_wait_serial() {
	local addr=$1 want=$2 secs=${3:-10} end s
	end=$(($(date +%s) + secs))
	while :; do
		s=$(tb_serial "$addr" || true)
		if [ -n "$s" ] && [ "$s" -ge "$want" ]; then return 0; fi
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

tb_wait_tlsa() {
	local addr=$1 name=$2 want=$3 secs=${4:-10} end
	end=$(($(date +%s) + secs))
	while :; do
		[ "$(tb_tlsa_at "$addr" "$name" || true)" = "$want" ] && return 0
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# Wait until addr answers SOA for zone authoritatively (resolver: with RD).
tb_wait_answer() {
	local addr=$1 zone=$2 secs=${3:-20} end rec=+norec
	[ "$addr" = "$TB_RESOLVER" ] && rec=+rec
	end=$(($(date +%s) + secs))
	while :; do
		if dig @"$addr" -p "$TB_PORT" $rec +time=1 +tries=1 "$zone" SOA 2>/dev/null |
		    grep -q 'status: NOERROR'; then
			return 0
		fi
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

tb_nsupdate() {
	printf 'server %s %s\nzone %s\n%s\nsend\n' "$TB_PRIMARY" "$TB_PORT" \
	    "$TB_ZONE" "$1" | nsupdate -t 5 -k "${2:-$TB_KEYFILE}"
}

tb_update_count() {
	# Every UPDATE message that named processes (applied, refused or failed
	# a prerequisite; not one that failed TSIG) logs lines in categories
	# update/update-security that start "client @PTR ADDR#PORT".  tlsad and
	# nsupdate use one connection (so one source port) per message: count
	# the distinct client+source pairs.
	if [ -f "$TB_UPDATE_LOG" ]; then
		awk '$3 == "client" { print $4, $5 }' "$TB_UPDATE_LOG" | sort -u | wc -l
	else
		echo 0
	fi
}

# --- named ---------------------------------------------------------------------

tb_named_common() {
	# $1 dir, $2 listen address
	cat <<EOF
options {
	directory "$1";
	pid-file "$1/named.pid";
	session-keyfile "$1/session.key";
	managed-keys-directory "$1";
	listen-on port $TB_PORT { $2; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	querylog yes;
	notify-delay 0;
	minimal-responses no;
};
controls { };
include "$TB_KEYFILE";
include "$TB_OTHER_KEYFILE";
logging {
	channel tb_default { file "$1/named.log"; print-time yes; severity info; };
	channel tb_update { file "$1/update.log"; print-time yes; severity debug 3; };
	channel tb_query { file "$1/query.log"; print-time yes; severity info; };
	category default { tb_default; };
	category update { tb_update; };
	category update-security { tb_update; };
	category queries { tb_query; };
};
EOF
}

tb_write_primary_conf() {
	local d=$TB_PRIMARY_DIR z=${TB_ZONE%.} u=${TB_UNSIGNED_ZONE%.}
	mkdir -p "$d/keys"
	cat >"$d/$z.db" <<EOF
\$TTL $TB_TTL
@	IN SOA ns1.$z. hostmaster.$z. 1 2 1 600 $TB_NEGTTL
@	IN NS ns1.$z.
@	IN NS ns2.$z.
ns1	IN A $TB_PRIMARY
ns2	IN A $TB_SECONDARY
mx	IN A $TB_NET.25
$TB_ZONE_EXTRA
EOF
	cat >"$d/$u.db" <<EOF
\$TTL $TB_TTL
@	IN SOA ns1.$u. hostmaster.$u. 1 2 1 600 $TB_NEGTTL
@	IN NS ns1.$u.
ns1	IN A $TB_PRIMARY
mx	IN A $TB_NET.25
EOF
	{
		tb_named_common "$d" "$TB_PRIMARY"
		cat <<EOF
dnssec-policy "tb" {
	keys { csk lifetime unlimited algorithm ecdsap256sha256; };
	dnskey-ttl $TB_TTL;
	max-zone-ttl 600;
	zone-propagation-delay 1;
	parent-ds-ttl $TB_TTL;
	parent-propagation-delay 1;
	publish-safety 1;
	retire-safety 1;
};
zone "$z" {
	type primary;
	file "$d/$z.db";
	key-directory "$d/keys";
	dnssec-policy "tb";
	inline-signing no;
	update-policy { grant $TB_KEYNAME zonesub TLSA; };
	notify explicit;
	also-notify { $TB_SECONDARY port $TB_PORT; };
	notify-source $TB_PRIMARY;
	allow-transfer { $TB_SECONDARY; };
};
zone "$u" {
	type primary;
	file "$d/$u.db";
	update-policy { grant $TB_KEYNAME zonesub TLSA; };
	notify no;
};
EOF
	} >"$d/named.conf"
	named-checkconf "$d/named.conf" || tb_die "primary named.conf does not check"
}

tb_write_secondary_conf() {
	local d=$TB_SECONDARY_DIR z=${TB_ZONE%.}
	mkdir -p "$d"
	{
		tb_named_common "$d" "$TB_SECONDARY"
		cat <<EOF
zone "$z" {
	type secondary;
	file "$d/$z.db";
	primaries { $TB_PRIMARY port $TB_PORT; };
	transfer-source $TB_SECONDARY;
	notify no;
};
EOF
	} >"$d/named.conf"
	named-checkconf "$d/named.conf" || tb_die "secondary named.conf does not check"
}

tb_start_primary() {
	tb_spawn primary named -4 -f -c "$TB_PRIMARY_DIR/named.conf"
	TB_PRIMARY_PID=$TB_LAST_PID
	tb_wait_answer "$TB_PRIMARY" "$TB_ZONE" 20 ||
	    tb_die "primary $TB_PRIMARY@$TB_PORT does not answer (see $TB_PRIMARY_DIR/named.log)"
}

tb_stop_primary() { tb_kill "$TB_PRIMARY_PID"; TB_PRIMARY_PID=""; }

tb_start_secondary() {
	tb_spawn secondary named -4 -f -c "$TB_SECONDARY_DIR/named.conf"
	TB_SECONDARY_PID=$TB_LAST_PID
	tb_wait_answer "$TB_SECONDARY" "$TB_ZONE" 20 ||
	    tb_die "secondary $TB_SECONDARY@$TB_PORT does not answer (see $TB_SECONDARY_DIR/named.log)"
}

tb_stop_secondary() { tb_kill "$TB_SECONDARY_PID"; TB_SECONDARY_PID=""; }
tb_pause_secondary() { kill -STOP "$TB_SECONDARY_PID"; }
tb_resume_secondary() { kill -CONT "$TB_SECONDARY_PID"; }

tb_unsigned_zone() { printf '%s\n' "$TB_UNSIGNED_ZONE"; }

# Wait until the primary serves the signed zone (DNSKEY with its RRSIG) and
# write the trust anchor from the CSK.
tb_wait_signed() {
	local end
	end=$(($(date +%s) + 20))
	while :; do
		if dig @"$TB_PRIMARY" -p "$TB_PORT" +norec +dnssec +time=1 +tries=1 \
		    "$TB_ZONE" DNSKEY 2>/dev/null | grep -q 'RRSIG[[:space:]]*DNSKEY'; then
			break
		fi
		[ "$(date +%s)" -lt "$end" ] || tb_die "the primary did not sign $TB_ZONE"
		sleep 0.1
	done
	dig @"$TB_PRIMARY" -p "$TB_PORT" +norec +noall +answer +time=2 +tries=1 \
	    "$TB_ZONE" DNSKEY | awk '$4 == "DNSKEY" && $5 == 257' >"$TB_ANCHOR"
	[ -s "$TB_ANCHOR" ] || tb_die "no KSK/CSK DNSKEY for the trust anchor"
}

# --- unbound ---------------------------------------------------------------------

tb_start_resolver() {
	local d=$TB_RESOLVER_DIR
	mkdir -p "$d"
	cat >"$d/unbound.conf" <<EOF
server:
	interface: $TB_RESOLVER@$TB_PORT
	port: $TB_PORT
	do-ip6: no
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	logfile: "$d/unbound.log"
	use-syslog: no
	log-time-ascii: yes
	verbosity: 1
	val-log-level: 2
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	trust-anchor-file: "$TB_ANCHOR"
	module-config: "validator iterator"
	outgoing-range: 64
	so-reuseport: no
remote-control:
	control-enable: no
stub-zone:
	name: "$TB_ZONE"
	stub-addr: $TB_PRIMARY@$TB_PORT
	stub-addr: $TB_SECONDARY@$TB_PORT
stub-zone:
	name: "$TB_UNSIGNED_ZONE"
	stub-addr: $TB_PRIMARY@$TB_PORT
EOF
	unbound-checkconf "$d/unbound.conf" >/dev/null || tb_die "unbound.conf does not check"
	tb_spawn resolver unbound -d -c "$d/unbound.conf"
	TB_RESOLVER_PID=$TB_LAST_PID
	tb_wait_answer "$TB_RESOLVER" "$TB_ZONE" 20 ||
	    tb_die "resolver $TB_RESOLVER@$TB_PORT does not answer (see $d/unbound.log)"
}

tb_start_dns() {
	local s
	tb_alias 1 >/dev/null
	tb_alias 2 >/dev/null
	tb_alias 3 >/dev/null
	tsig-keygen -a "$TB_KEYALGO" "$TB_KEYNAME" >"$TB_KEYFILE"
	tsig-keygen -a hmac-sha256 "$TB_OTHER_KEYNAME" >"$TB_OTHER_KEYFILE"
	chmod 0600 "$TB_KEYFILE" "$TB_OTHER_KEYFILE"
	tb_write_primary_conf
	tb_write_secondary_conf
	tb_start_primary
	tb_wait_signed
	tb_start_secondary
	s=$(tb_serial "$TB_PRIMARY")
	tb_wait_serial "$TB_SECONDARY" "$s" 20 ||
	    tb_die "secondary did not transfer serial $s"
	tb_start_resolver
	# The resolver must validate: the AD bit on the zone's SOA.
	dig @"$TB_RESOLVER" -p "$TB_PORT" +dnssec +time=2 +tries=1 "$TB_ZONE" SOA |
	    grep -q 'flags:.* ad' || tb_die "the resolver does not validate $TB_ZONE"
	export TB_PRIMARY_PID TB_SECONDARY_PID TB_RESOLVER_PID
	tb_log "primary $TB_PRIMARY_PID, secondary $TB_SECONDARY_PID, resolver $TB_RESOLVER_PID up"
}

# --- tlsad.conf ----------------------------------------------------------------------

tb_write_conf() {
	local file=$1 lineage=$2 n
	shift 2
	mkdir -p "$TB_DIR/state" "$TB_DIR/live"
	{
		printf 'server:\n'
		printf '    live-dir: %s\n' "$TB_DIR/live"
		printf '    state-dir: %s\n' "$TB_DIR/state"
		printf '    trust-anchor-file: %s\n' "$TB_ANCHOR"
		printf '    resolver: %s@%s\n' "$TB_RESOLVER" "$TB_PORT"
		printf '    dns-port: %s\n' "$TB_PORT"
		printf '    dns-timeout: 2s\n'
		printf '    ttl-multiplier: 2\n'
		printf '    hold-margin: 1s\n'
		printf '    poll-min: 100ms\n'
		printf '    poll-max: 1s\n'
		printf '    propagation-timeout: 60s\n'
		[ -n "${TB_CONF_SERVER_EXTRA:-}" ] && printf '%s\n' "$TB_CONF_SERVER_EXTRA"
		printf 'key:\n'
		printf '    file: %s\n' "$TB_KEYFILE"
		printf 'lineage:\n'
		printf '    name: %s\n' "$lineage"
		for n in "$@"; do printf '    tlsa-name: %s\n' "$n"; done
		printf '    update-server: %s@%s\n' "$TB_PRIMARY" "$TB_PORT"
		[ -n "${TB_CONF_LINEAGE_EXTRA:-}" ] && printf '%s\n' "$TB_CONF_LINEAGE_EXTRA"
		true
	} >"$file"
}

# --- assertions ------------------------------------------------------------------------

pass() { TB_PASS=$((TB_PASS + 1)); printf 'ok %d - %s\n' "$((TB_PASS + TB_FAIL))" "$1"; }
fail() { TB_FAIL=$((TB_FAIL + 1)); printf 'not ok %d - %s\n' "$((TB_PASS + TB_FAIL))" "$1"; }

assert_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1"
		printf '#   expected: %s\n#   actual:   %s\n' "$2" "$3"
	fi
}

assert_contains() {
	case "$2" in
	*"$3"*) pass "$1" ;;
	*) fail "$1"; printf '#   %s\n#   does not contain: %s\n' "$2" "$3" ;;
	esac
}

assert_not_contains() {
	case "$2" in
	*"$3"*) fail "$1"; printf '#   %s\n#   contains: %s\n' "$2" "$3" ;;
	*) pass "$1" ;;
	esac
}

assert_ok() {
	local d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d (exit $?)"; fi
}

assert_fails() {
	local d=$1
	shift
	if "$@"; then fail "$d (succeeded)"; else pass "$d"; fi
}

tb_done() {
	TB_DONE=1
	printf '%d passed, %d failed\n' "$TB_PASS" "$TB_FAIL"
	[ "$TB_FAIL" = 0 ] && [ "$TB_PASS" -gt 0 ]
}
