#!/bin/bash
#
# t_mta.sh -- deploy, reload, probe and restore against a real Postfix, and
# `tlsactl doctor` on good and bad Postfix configurations.
#
# The TLSA records given to the probe come from the OpenSSL command line, so
# this test checks tlsad's DANE verdicts against an independent computation.
#
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postfix.sh"

TOOL=$TLSAD_BUILD/tests/tools/mta-tool
TLSACTL=$TLSAD_BUILD/tlsactl
[ -x "$TOOL" ] || tb_die "$TOOL not built"

# --- certificates: a CA, two leaf keys for the MX, one for another name ---

C=$TB_DIR/certs
mkdir -p "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$C/ca.key" -out "$C/ca.pem" -days 30 -subj "/CN=tlsad test CA" \
    2>/dev/null || tb_die "openssl: cannot make the CA"

mkleaf() {
	local name=$1 cn=$2
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$C/$name.key" -out "$C/$name.csr" -subj "/CN=$cn" \
	    2>/dev/null || tb_die "openssl: cannot make $name"
	printf 'subjectAltName=DNS:%s\n' "$cn" >"$C/$name.ext"
	openssl x509 -req -in "$C/$name.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" \
	    -CAcreateserial -days 20 -extfile "$C/$name.ext" \
	    -out "$C/$name.crt" 2>/dev/null || tb_die "openssl: cannot sign $name"
	cat "$C/$name.crt" "$C/ca.pem" >"$C/$name.chain"
}

spki() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER |
	    sha256sum | cut -d' ' -f1
}

mkleaf old "$PF_HOST"
mkleaf new "$PF_HOST"
OLD=$(spki "$C/old.crt")
NEW=$(spki "$C/new.crt")
CA=$(spki "$C/ca.pem")
[ "$OLD" != "$NEW" ] || tb_die "two leaves with one key"
EP=$PF_ADDR@$PF_PORT

# mta-tool's verdict is on stdout; a failing verdict is not a failing test.
tool() { "$TOOL" "$@" || true; }
first() { printf '%s\n' "$1" | head -n 1; }
served() { printf '%s\n' "$1" | sed -n 's/^served //p'; }

# --- deploy the first file, start Postfix -----------------------------------

pf_setup
out=$(tool deploy "$PF_DEPLOY" "$C/old.key" "$C/old.chain")
assert_eq "first deploy succeeds" ok "$(first "$out")"
assert_eq "deploy file mode 0600 root" "600 root" "$(stat -c '%a %U' "$PF_DEPLOY")"
assert_eq "deploy file: key first" "-----BEGIN PRIVATE KEY-----" "$(head -n 1 "$PF_DEPLOY")"
assert_eq "deploy file: key then leaf then CA" \
    "$(cat "$C/old.key" "$C/old.chain")" "$(cat "$PF_DEPLOY")"
assert_fails "first deploy leaves no .prev" test -e "$PF_DEPLOY.prev"
assert_eq "readkey gives the leaf's SPKI" "$OLD" "$(tool readkey "$PF_DEPLOY")"

pf_start
assert_eq "Postfix serves the deployed key" "$OLD" "$(pf_served_spki)"

# --- probes ---------------------------------------------------------------

out=$(tool probe -e "$OLD" "$EP" starttls "$PF_HOST" "3 1 1 $OLD")
assert_eq "probe with the right 3 1 1 record: ok" ok "$(first "$out")"
assert_eq "probe reports the served key" "$OLD" "$(served "$out")"

out=$(tool probe -e "$OLD" "$EP" starttls "$PF_HOST" "2 1 1 $CA")
assert_eq "probe with a 2 1 1 record for the CA: ok" ok "$(first "$out")"

out=$(tool probe -e "$OLD" "$EP" starttls "wrong.$PF_HOST" "2 1 1 $CA")
assert_contains "DANE-TA checks the name" "$(first "$out")" "error PROBE_DANE"

out=$(tool probe "$EP" starttls "$PF_HOST" "3 1 1 $NEW")
assert_contains "probe with a wrong RRset: DANE error" "$(first "$out")" "error PROBE_DANE"
assert_eq "a DANE failure still reports the served key" "$OLD" "$(served "$out")"

out=$(tool probe "$EP" starttls "$PF_HOST" "0 1 1 $OLD" "1 1 1 $OLD")
assert_contains "PKIX usages are unusable for SMTP" "$(first "$out")" "error PROBE_DANE"

out=$(tool probe "$EP" starttls "$PF_HOST")
assert_contains "probe with an empty RRset: DANE error" "$(first "$out")" "error PROBE_DANE"

out=$(tool probe -e "$NEW" "$EP" starttls "$PF_HOST" "3 1 1 $OLD" "3 1 1 $NEW")
assert_contains "probe expecting the new key: OLDKEY" "$(first "$out")" "error PROBE_OLDKEY"
assert_eq "OLDKEY reports the key served" "$OLD" "$(served "$out")"

out=$(tool probekey "$EP" starttls "$PF_HOST")
assert_eq "probekey ok" ok "$(first "$out")"
assert_eq "probekey reports the served key" "$OLD" "$(served "$out")"

out=$(tool probe -t 3000 "$PF_ADDR@$((PF_PORT + 1))" starttls "$PF_HOST" "3 1 1 $OLD")
assert_contains "probe of a closed port: CONNECT" "$(first "$out")" "error PROBE_CONNECT"

out=$(tool probe -t 3000 "$EP" tls "$PF_HOST" "3 1 1 $OLD")
assert_contains "TLS at once on a STARTTLS port: TLS error" "$(first "$out")" "error PROBE_TLS"

out=$(tool probe -e "$OLD" "$PF_ADDR@$PF_TLS_PORT" tls "$PF_HOST" "3 1 1 $OLD")
assert_eq "probe over TLS at once (465 style): ok" ok "$(first "$out")"
assert_eq "TLS at once reports the served key" "$OLD" "$(served "$out")"
out=$(tool probe "$PF_ADDR@$PF_TLS_PORT" tls "$PF_HOST" "3 1 1 $NEW")
assert_contains "TLS at once with a wrong RRset: DANE error" "$(first "$out")" "error PROBE_DANE"

assert_contains "Postfix saw QUIT after the probes" "$(cat "$PF_LOG")" "quit=1"

# --- deploy the new file, reload, probe -------------------------------------

out=$(tool deploy "$PF_DEPLOY" "$C/new.key" "$C/new.chain")
assert_eq "second deploy succeeds" ok "$(first "$out")"
assert_eq "the file holds the new key" "$NEW" "$(tool readkey "$PF_DEPLOY")"
assert_eq ".prev holds the old key" "$OLD" "$(tool readkey "$PF_DEPLOY.prev")"
out=$(tool deploy "$PF_DEPLOY" "$C/new.key" "$C/new.chain")
assert_eq "repeating the deploy succeeds" ok "$(first "$out")"
assert_eq "repeating the deploy keeps the real .prev" "$OLD" "$(tool readkey "$PF_DEPLOY.prev")"

before=$(pf_reload_count)
out=$(tool reload /usr/sbin/postfix -c "$PF_CONF" reload)
assert_eq "reload through posix_spawn succeeds" ok "$(first "$out")"
for _i in $(seq 1 50); do
	[ "$(pf_reload_count)" -gt "$before" ] && break
	sleep 0.1
done
assert_eq "Postfix logged the reload" "$((before + 1))" "$(pf_reload_count)"

# A reload is asynchronous: idle smtpd processes finish first.  Probe until
# the first line starts with WANT (at most 3 s).
probe_until() {
	local want=$1 i o
	shift
	for i in $(seq 1 30); do
		o=$(tool probe "$@")
		case $(first "$o") in "$want"*) break ;; esac
		sleep 0.1
	done
	printf '%s\n' "$o"
}
out=$(probe_until ok -e "$NEW" "$EP" starttls "$PF_HOST" "3 1 1 $OLD" "3 1 1 $NEW")
assert_eq "after the reload the probe finds the new key" ok "$(first "$out")"
assert_eq "served key is the new one" "$NEW" "$(served "$out")"
assert_eq "openssl s_client agrees" "$NEW" "$(pf_served_spki)"

# --- failing reloads --------------------------------------------------------

out=$(tool reload /bin/false)
assert_contains "failing reload command: RELOAD" "$(first "$out")" "error RELOAD"
assert_contains "the message has the exit status" "$out" "exited with status 1"
out=$(tool reload /usr/sbin/postfix -c "$TB_DIR/nonexistent" reload)
assert_contains "reload with a bad config dir: RELOAD" "$(first "$out")" "error RELOAD"
out=$(tool reload /bin/sh -c 'echo "boom: config is bad" >&2; exit 3')
assert_contains "the message carries the program's stderr" "$out" "status 3: boom: config is bad"
out=$(tool reload /nonexistent/reload)
assert_contains "missing reload program: SPAWN" "$(first "$out")" "error SPAWN"
t0=$(date +%s%N)
out=$(tool reload -t 500 /bin/sleep 10)
t1=$(date +%s%N)
assert_contains "hanging reload: killed at the timeout" "$out" "was killed"
assert_eq "the timeout is kept (< 3 s)" 1 "$(( (t1 - t0) < 3000000000 ))"
out=$(tool reload /bin/sh -c 'kill -TERM $$')
assert_contains "reload killed by a signal: RELOAD" "$out" "signal 15"
t0=$(date +%s%N)
out=$(tool reload -t 500 /bin/sh -c 'sleep 10 & sleep 10')
t1=$(date +%s%N)
assert_contains "hanging reload with a grandchild: killed" "$out" "was killed"
assert_eq "the grandchild holding the pipe does not stall us (< 3 s)" 1 "$(( (t1 - t0) < 3000000000 ))"
out=$(TB_SECRET=x tool reload /bin/sh -c 'env | sort | tr "\n" " " >&2; exit 1')
assert_contains "the child gets our fixed PATH" "$out" "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
assert_not_contains "the child gets none of our environment" "$out" "TB_SECRET"

# --- restore ----------------------------------------------------------------

out=$(tool restore "$PF_DEPLOY")
assert_eq "restore succeeds" ok "$(first "$out")"
assert_eq "the file holds the old key again" "$OLD" "$(tool readkey "$PF_DEPLOY")"
assert_eq "restored file mode 0600" 600 "$(stat -c %a "$PF_DEPLOY")"
assert_ok "reload after restore" pf_reload
out=$(probe_until ok -e "$OLD" "$EP" starttls "$PF_HOST" "3 1 1 $OLD" "3 1 1 $NEW")
assert_eq "after restore + reload Postfix serves the old key" ok "$(first "$out")"
out=$(tool restore "$TB_DIR/none.pem")
assert_contains "restore without .prev fails" "$out" "no previous file"

# --- refusals ---------------------------------------------------------------

LE=$TB_DIR/letsencrypt
mkdir -p "$LE/live/mx" "$LE/archive/mx"
out=$(tool deploy -l "$LE/live" "$LE/tlsad/mx.pem" "$C/new.key" "$C/new.chain")
assert_contains "deploy under live-dir's parent is refused" "$(first "$out")" "error DEPLOY"
assert_fails "nothing written under letsencrypt" test -e "$LE/tlsad"
ln -s "$LE/archive" "$TB_DIR/sneaky"
out=$(tool deploy -l "$LE/live" "$TB_DIR/sneaky/mx.pem" "$C/new.key" "$C/new.chain")
assert_contains "deploy through a symlink into it is refused" "$(first "$out")" "error DEPLOY"
out=$(tool deploy "/etc/letsencrypt/tlsad-test-$$.pem" "$C/new.key" "$C/new.chain")
assert_contains "deploy under /etc/letsencrypt is refused" "$(first "$out")" "error DEPLOY"
cp "$PF_DEPLOY" "$TB_DIR/before.pem"
out=$(tool deploy "$PF_DEPLOY" "$C/new.key" "$C/old.chain")
assert_contains "a key that does not match the leaf is refused" "$(first "$out")" "error CERT_KEYMISMATCH"
assert_eq "the deploy file is untouched" "$(cat "$TB_DIR/before.pem")" "$(cat "$PF_DEPLOY")"
out=$(tool deploy -g postfix "$TB_DIR/grp/mx.pem" "$C/new.key" "$C/new.chain")
assert_eq "deploy with a group" ok "$(first "$out")"
assert_eq "group deploy: mode 0640, group postfix" "640 root postfix" \
    "$(stat -c '%a %U %G' "$TB_DIR/grp/mx.pem")"

# --- STARTTLS not offered ----------------------------------------------------

pf_postconf -e 'smtpd_tls_security_level = none'
pf_reload
out=$(probe_until "error PROBE_STARTTLS" "$EP" starttls "$PF_HOST" "3 1 1 $OLD")
assert_contains "no STARTTLS offered: STARTTLS error" "$(first "$out")" "error PROBE_STARTTLS"
assert_contains "the message says so" "$out" "does not offer STARTTLS"
pf_postconf -e 'smtpd_tls_security_level = may'
pf_reload

# --- tlsactl doctor ----------------------------------------------------------

if [ -n "${MTA_SKIP_DOCTOR:-}" ]; then
	tb_done
	exit
fi

[ -x "$TLSACTL" ] || tb_die "$TLSACTL not built"
doctor() { "$TLSACTL" -c "$TB_DIR/tlsad.conf" doctor -C "$PF_CONF" "$@"; }
cat >"$TB_DIR/tlsad.conf" <<EOF
server:
    live-dir: $LE/live
    state-dir: $TB_DIR/state
lineage:
    name: mx
    tlsa-name: _25._tcp.$PF_HOST.
    deploy-file: $PF_DEPLOY
EOF

set +e
out=$(doctor 2>&1)
rc=$?
set -e
assert_eq "doctor on the good config: exit 0" 0 "$rc"
assert_contains "doctor: chain files ok" "$out" "ok: smtpd_tls_chain_files"
assert_not_contains "doctor: no error" "$out" "ERROR:"

pf_postconf -e "smtpd_tls_chain_files = $LE/live/mx/privkey.pem $LE/live/mx/fullchain.pem"
set +e
out=$(doctor 2>&1)
rc=$?
set -e
assert_eq "doctor with chain files under live/: exit 2" 2 "$rc"
assert_contains "doctor names the live/ path" "$out" "ERROR: smtpd_tls_chain_files"
assert_contains "doctor names the outage" "$out" "renewal"
assert_contains "doctor gives the fix" "$out" "postconf -c $PF_CONF -e 'smtpd_tls_chain_files = $PF_DEPLOY'"

pf_postconf -e "smtpd_tls_chain_files =" "smtpd_tls_cert_file = $LE/live/mx/fullchain.pem" \
    "smtpd_tls_key_file = $LE/live/mx/privkey.pem" "smtp_tls_security_level = may" \
    "smtp_dns_support_level ="
set +e
out=$(doctor 2>&1)
rc=$?
set -e
assert_eq "doctor with cert/key files under live/: exit 2" 2 "$rc"
assert_contains "doctor: cert file under live/" "$out" "ERROR: smtpd_tls_cert_file"
assert_contains "doctor: key file under live/" "$out" "ERROR: smtpd_tls_key_file"
assert_contains "doctor: no chain files" "$out" "ERROR: smtpd_tls_chain_files is empty"
assert_contains "doctor: outbound DANE level" "$out" "WARNING: smtp_tls_security_level"
assert_contains "doctor: outbound DNSSEC" "$out" "WARNING: smtp_dns_support_level"

pf_postconf -e "smtpd_tls_chain_files = $PF_DEPLOY" "smtpd_tls_cert_file =" \
    "smtpd_tls_key_file =" "smtp_tls_security_level = dane" \
    "smtp_dns_support_level = dnssec" "smtpd_tls_security_level = none"
set +e
out=$(doctor 2>&1)
rc=$?
set -e
assert_eq "doctor with TLS off: exit 2" 2 "$rc"
assert_contains "doctor: security level none" "$out" "ERROR: smtpd_tls_security_level"
pf_postconf -e "smtpd_tls_security_level = may"

set +e
out=$(doctor 2>&1)
rc=$?
set -e
assert_eq "doctor after the fixes: exit 0" 0 "$rc"

tb_done
