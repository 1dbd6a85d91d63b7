# shellcheck shell=bash
#
# lineage_lib.sh -- certbot-like lineages for the DNS integration tests,
# made with the openssl command line (source after lib.sh).
#
#   tl_ca				make a test CA (root + intermediate) in $TB_DIR/ca, once
#   tl_renew NAME			new P-256 key and leaf for NAME, signed by the
#					intermediate, as archive/NAME/{cert,chain,fullchain,
#					privkey}N.pem with N the next version, and the
#					four live/NAME links pointed at it (certbot's layout
#					and order); prints N
#   tl_rr311 PEM			"3 1 1 hex" of the leaf in PEM, computed by the
#					openssl pipeline (not by tlsad)
#   tl_rr211 PEM			"2 1 1 hex" of the intermediate (the issuer)
#
tl_ca() {
	local d=$TB_DIR/ca
	[ -f "$d/int.pem" ] && return 0
	mkdir -p "$d"
	cat >"$d/ext.cnf" <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
CNF
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/root.key" -out "$d/root.pem" -days 30 -subj "/CN=tlsad test root" \
	    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/int.key" -out "$d/int.csr" -subj "/CN=tlsad test intermediate" 2>/dev/null
	openssl x509 -req -in "$d/int.csr" -CA "$d/root.pem" -CAkey "$d/root.key" \
	    -CAcreateserial -days 30 -extfile "$d/ext.cnf" -extensions ca -out "$d/int.pem" 2>/dev/null
}

tl_renew() {
	local name=$1 a l n d=$TB_DIR/ca
	tl_ca
	a=$TB_DIR/archive/$name
	l=$TB_DIR/live/$name
	mkdir -p "$a" "$l"
	chmod 0700 "$TB_DIR/archive" "$TB_DIR/live"
	n=1
	while [ -e "$a/cert$n.pem" ]; do n=$((n + 1)); done
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$a/privkey$n.pem" 2>/dev/null
	chmod 0600 "$a/privkey$n.pem"
	openssl req -new -key "$a/privkey$n.pem" -subj "/CN=$name" -out "$a/req$n.csr" 2>/dev/null
	openssl x509 -req -in "$a/req$n.csr" -CA "$d/int.pem" -CAkey "$d/int.key" \
	    -CAcreateserial -days 20 -extfile "$d/ext.cnf" -extensions leaf \
	    -out "$a/cert$n.pem" 2>/dev/null
	rm -f "$a/req$n.csr"
	cp "$d/int.pem" "$a/chain$n.pem"
	cat "$a/cert$n.pem" "$a/chain$n.pem" >"$a/fullchain$n.pem"
	for k in cert privkey chain fullchain; do
		rm -f "$l/$k.pem"
		ln -s "../../archive/$name/$k$n.pem" "$l/$k.pem"
	done
	printf '%s\n' "$n"
}

tl_rr311() {
	printf '3 1 1 %s\n' "$(openssl x509 -in "$1" -noout -pubkey |
	    openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)"
}

tl_rr211() {
	printf '2 1 1 %s\n' "$(openssl x509 -in "$1" -noout -pubkey |
	    openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)"
}

#   tl_write_conf FILE LINEAGE TLSA-NAME...	a tlsad.conf for the testbed with short
#					waits (durations with explicit units); extra lines
#					from TL_SERVER_EXTRA / TL_LINEAGE_EXTRA; without
#					TL_NO_RESOLVER the testbed's Unbound is the resolver,
#					without TL_NO_UPDATE_SERVER the primary is set as
#					update-server; TL_KEYFILE: another TSIG key file
tl_write_conf() {
	local file=$1 lineage=$2 n
	shift 2
	mkdir -p "$TB_DIR/state" "$TB_DIR/live"
	{
		printf 'server:\n'
		printf '    live-dir: %s\n' "$TB_DIR/live"
		printf '    state-dir: %s\n' "$TB_DIR/state"
		printf '    trust-anchor-file: %s\n' "${TL_ANCHOR:-$TB_ANCHOR}"
		[ -n "${TL_NO_RESOLVER:-}" ] || printf '    resolver: %s@%s\n' "$TB_RESOLVER" "$TB_PORT"
		printf '    dns-port: %s\n' "$TB_PORT"
		printf '    dns-timeout: 1s\n'
		printf '    ttl-multiplier: 1\n'
		printf '    hold-margin: 1s\n'
		printf '    poll-min: 100ms\n'
		printf '    poll-max: 1s\n'
		printf '    propagation-timeout: %s\n' "${TL_TIMEOUT:-30s}"
		[ -n "${TL_SERVER_EXTRA:-}" ] && printf '%s\n' "$TL_SERVER_EXTRA"
		printf 'key:\n'
		printf '    file: %s\n' "${TL_KEYFILE:-$TB_KEYFILE}"
		printf 'lineage:\n'
		printf '    name: %s\n' "$lineage"
		for n in "$@"; do printf '    tlsa-name: %s\n' "$n"; done
		[ -n "${TL_NO_UPDATE_SERVER:-}" ] ||
		    printf '    update-server: %s@%s\n' "$TB_PRIMARY" "$TB_PORT"
		[ -n "${TL_LINEAGE_EXTRA:-}" ] && printf '%s\n' "$TL_LINEAGE_EXTRA"
		true
	} >"$file"
}
