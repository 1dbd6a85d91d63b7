# shellcheck shell=bash
#
# postfix.sh -- a real Postfix test instance that reads tlsad's deploy file.
#
# Source it after lib.sh (which gives $TB_DIR, $TB_NET, tb_addr and the pid
# list killed at exit).  Without lib.sh it makes its own temp dir and trap.
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/postfix.sh"
#	pf_setup			# writes the config (no start)
#	mta-tool deploy "$PF_DEPLOY" key.pem chain.pem
#	pf_start			# starts and waits for the 220 greeting
#	pf_served_spki			# SPKI SHA-256 of the served leaf
#	pf_reload; pf_stop
#
# Variables (inputs may be set before pf_setup):
#   PF_ADDR	listen address: $TB_NET.25 (lib.sh; aliased on lo, as Postfix
#		refuses an inet_interfaces address no interface has) or
#		127.0.0.1 (input)
#   PF_PORT	SMTP port with STARTTLS, default 10025 (input)
#   PF_TLS_PORT	submissions-style port, TLS at once, default 10465 (input)
#   PF_HOST	myhostname and SNI name, default mx.$TB_ZONE (input)
#   PF_DIR	$TB_DIR/postfix: conf/, queue/, data/, postfix.log
#   PF_CONF	$PF_DIR/conf (the -c directory)
#   PF_DEPLOY	$PF_DIR/deploy/mx.pem: smtpd_tls_chain_files (input)
#   PF_LOG	$PF_DIR/postfix.log (maillog_file)
#   PF_PID	the master's pid while running (also in lib.sh's kill list)
#
# Functions:
#   pf_setup			write main.cf/master.cf, make the directories
#   pf_start			postfix start, wait for a 220 (fails the setup if not)
#   pf_wait_ready [SECONDS]	wait until PF_ADDR:PF_PORT greets with 220
#   pf_reload			postfix reload, wait until the log shows it
#   pf_stop			postfix stop, wait until the master is gone
#   pf_served_spki		SPKI SHA-256 (hex) of the leaf served over STARTTLS
#   pf_postconf ARGS...		postconf -c $PF_CONF ARGS
#
if [ -z "${TB_DIR:-}" ]; then
	PF_OWN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tlsad-pf.XXXXXX")
	chmod 0755 "$PF_OWN_DIR"
	TB_DIR=$PF_OWN_DIR
	TB_PIDS=""
	pf_own_teardown() {
		local rc=$?
		pf_stop >/dev/null 2>&1 || true
		[ "$rc" = 0 ] && rm -rf "$PF_OWN_DIR"
		exit "$rc"
	}
	trap pf_own_teardown EXIT
fi
for _b in postfix postconf openssl; do
	command -v "$_b" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin"
	command -v "$_b" >/dev/null 2>&1 || {
		printf 'SETUP FAILURE: %s not found (install postfix openssl)\n' "$_b" >&2
		exit 1
	}
done
getent passwd postfix >/dev/null || {
	printf 'SETUP FAILURE: no postfix user (install postfix)\n' >&2
	exit 1
}

if [ -n "${TB_NET:-}" ]; then
	# Postfix refuses an inet_interfaces address that no interface has.
	# tb_alias runs here, not in a $(...) subshell, so that the alias is
	# recorded in TB_ALIASES and removed at exit.
	if [ -z "${PF_ADDR:-}" ]; then
		tb_alias 25 >/dev/null
		PF_ADDR=$(tb_addr 25)
	fi
else
	: "${PF_ADDR:=127.0.0.1}"
fi
: "${PF_PORT:=10025}"
: "${PF_TLS_PORT:=10465}"
: "${PF_HOST:=mx.${TB_ZONE:-dane.example.}}"
PF_HOST=${PF_HOST%.}
PF_DIR=$TB_DIR/postfix
PF_CONF=$PF_DIR/conf
: "${PF_DEPLOY:=$PF_DIR/deploy/mx.pem}"
PF_LOG=$PF_DIR/postfix.log
PF_PID=""

pf_postconf() { postconf -c "$PF_CONF" "$@"; }

pf_setup() {
	mkdir -p "$PF_CONF" "$PF_DIR/queue" "$PF_DIR/data"
	chmod 0755 "$PF_DIR" "$PF_CONF" "$PF_DIR/queue"
	chown postfix "$PF_DIR/data"
	chmod 0700 "$PF_DIR/data"
	cat >"$PF_CONF/main.cf" <<EOF
# Test instance written by tests/integration/postfix.sh.
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = $PF_HOST
mydestination =
relayhost =
inet_interfaces = $PF_ADDR
inet_protocols = ipv4
maillog_file = $PF_LOG
maillog_file_prefixes = $PF_DIR
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP tlsad-test
smtpd_tls_security_level = may
smtpd_tls_chain_files = $PF_DEPLOY
smtpd_tls_loglevel = 1
smtp_tls_security_level = dane
smtp_dns_support_level = dnssec
alias_maps =
alias_database =
biff = no
EOF
	# chroot n everywhere: the test dir is not a chroot jail.
	cat >"$PF_CONF/master.cf" <<EOF
$PF_PORT	inet	n	-	n	-	-	smtpd
$PF_TLS_PORT	inet	n	-	n	-	-	smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
pickup		unix	n	-	n	60	1	pickup
cleanup		unix	n	-	n	-	0	cleanup
qmgr		unix	n	-	n	300	1	qmgr
tlsmgr		unix	-	-	n	1000?	1	tlsmgr
rewrite		unix	-	-	n	-	-	trivial-rewrite
bounce		unix	-	-	n	-	0	bounce
defer		unix	-	-	n	-	0	bounce
trace		unix	-	-	n	-	0	bounce
verify		unix	-	-	n	-	1	verify
flush		unix	n	-	n	1000?	0	flush
proxymap	unix	-	-	n	-	-	proxymap
smtp		unix	-	-	n	-	-	smtp
relay		unix	-	-	n	-	-	smtp
showq		unix	n	-	n	-	-	showq
error		unix	-	-	n	-	-	error
retry		unix	-	-	n	-	-	error
discard		unix	-	-	n	-	-	discard
anvil		unix	-	-	n	-	1	anvil
scache		unix	-	-	n	-	1	scache
postlog		unix-dgram n	-	n	-	1	postlogd
EOF
	mkdir -p "$(dirname "$PF_DEPLOY")"
	chmod 0700 "$(dirname "$PF_DEPLOY")"
}

pf_master_pid() {
	local f=$PF_DIR/queue/pid/master.pid p
	[ -r "$f" ] || return 1
	p=$(tr -dc '0-9' <"$f")
	[ -n "$p" ] && printf '%s\n' "$p"
}

pf_alive() {
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Greets with 220 on PF_ADDR:PF_PORT within SECONDS (default 15)?
pf_wait_ready() {
	local secs=${1:-15} end line
	end=$(($(date +%s) + secs))
	while :; do
		line=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
			IFS= read -r -t 2 l <&3 || exit 1
			printf "QUIT\r\n" >&3
			printf "%s\n" "$l"' _ "$PF_ADDR" "$PF_PORT" 2>/dev/null || true)
		case $line in 220*) return 0 ;; esac
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

pf_start() {
	postfix -c "$PF_CONF" start >"$PF_DIR/start.out" 2>&1 || {
		cat "$PF_DIR/start.out" "$PF_LOG" >&2 2>/dev/null
		# Without syslog, postfix prints its fatal only on a tty.
		script -qc "postfix -c '$PF_CONF' check" /dev/null >&2 2>&1
		printf 'SETUP FAILURE: postfix start failed\n' >&2
		exit 1
	}
	PF_PID=$(pf_master_pid) || {
		printf 'SETUP FAILURE: no postfix master pid file\n' >&2
		exit 1
	}
	# lib.sh kills what is in TB_PIDS at exit: SIGTERM stops the master
	# and its children like `postfix stop` does.
	TB_PIDS="${TB_PIDS:-} $PF_PID"
	pf_wait_ready 20 || {
		tail -n 20 "$PF_LOG" >&2 2>/dev/null
		printf 'SETUP FAILURE: postfix does not greet on %s:%s\n' \
		    "$PF_ADDR" "$PF_PORT" >&2
		exit 1
	}
}

pf_reload_count() {
	grep -c 'postfix/master\[[0-9]*\]: reload' "$PF_LOG" 2>/dev/null || true
}

pf_reload() {
	local before i
	before=$(pf_reload_count)
	postfix -c "$PF_CONF" reload >"$PF_DIR/reload.out" 2>&1 || return 1
	for i in $(seq 1 50); do
		[ "$(pf_reload_count)" -gt "$before" ] && return 0
		sleep 0.1
	done
	return 1
}

pf_stop() {
	local p i out=""
	[ -n "$PF_PID" ] || return 0
	postfix -c "$PF_CONF" stop >/dev/null 2>&1 || kill -TERM "$PF_PID" 2>/dev/null
	for i in $(seq 1 50); do
		pf_alive "$PF_PID" || break
		sleep 0.1
	done
	pf_alive "$PF_PID" && kill -KILL "$PF_PID" 2>/dev/null
	for p in ${TB_PIDS:-}; do [ "$p" = "$PF_PID" ] || out="$out $p"; done
	TB_PIDS=$out
	PF_PID=""
}

pf_served_spki() {
	local pub
	pub=$(timeout 10 openssl s_client -connect "$PF_ADDR:$PF_PORT" \
	    -starttls smtp -servername "$PF_HOST" </dev/null 2>/dev/null |
	    openssl x509 -pubkey -noout 2>/dev/null) || true
	[ -n "$pub" ] || return 1
	printf '%s\n' "$pub" | openssl pkey -pubin -outform DER |
	    sha256sum | cut -d' ' -f1
}
