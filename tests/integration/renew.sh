# shellcheck shell=bash
#
# renew.sh -- renew a certbot-style lineage the way certbot does it, with the
# openssl command line (source it; it needs only openssl and coreutils).
#
#	. "$(dirname "$0")/renew.sh"
#	n=$(renew_lineage "$T/le/live" "$T/le/archive" mx.example.org)
#	n=$(renew_lineage "$T/le/live" "$T/le/archive" mx.example.org --reuse-key)
#	n=$(renew_lineage "$T/le/live" "$T/le/archive" mx.example.org --garbage)
#
# renew_lineage LIVE ARCHIVE NAME [--reuse-key] [--garbage]
#	Writes version N+1 (N: the highest cert<N>.pem in ARCHIVE/NAME, 0 for
#	a new lineage) as ARCHIVE/NAME/{cert,chain,fullchain,privkey}N+1.pem:
#	a new ECDSA P-256 key (PKCS#8, mode 0600; with --reuse-key the key of
#	version N, as `certbot --reuse-key` does), a leaf for NAME (CN and
#	subjectAltName) signed by the test intermediate, chain = the
#	intermediate, fullchain = leaf + intermediate, the others mode 0644.
#	LIVE and ARCHIVE are made mode 0700.  Then it replaces the four links
#	LIVE/NAME/<kind>.pem, one at a time in certbot's order (cert, privkey,
#	chain, fullchain), each by unlink + symlink to the relative path
#	(../../archive/NAME/<kind>N+1.pem when LIVE and ARCHIVE are siblings),
#	pausing RN_PAUSE seconds (default 0.2) between two links, so that a
#	watcher sees the lineage inconsistent for a while, as with certbot.
#	--garbage writes a cert<N+1>.pem that is not a certificate (and a
#	fullchain that starts with it): a broken renewal that must never be
#	deployed.  Prints N+1.
#
# renew_ca DIR
#	The test CA (root + intermediate, P-256) in DIR, made once; renew_lineage
#	uses ${RN_CA_DIR:-<parent of ARCHIVE>/test-ca}.
#
# rn_spki PEM		SHA-256 (hex) of the SubjectPublicKeyInfo of the first
#			certificate in PEM: the data of its TLSA 3 1 1 record
# rn_rr311 PEM		"3 1 1 <hex>" of that certificate
# rn_version LIVE NAME	the archive version live/NAME/cert.pem points at
#
# Every openssl failure is fatal to the caller's test (exit 1 with a
# message): a renewal that half happened must not pass unnoticed.
#

rn_die() { printf 'SETUP FAILURE: renew.sh: %s\n' "$*" >&2; exit 1; }

renew_ca() {
	local d=$1
	[ -f "$d/int.pem" ] && [ -f "$d/int.key" ] && return 0
	mkdir -p "$d" || rn_die "cannot make $d"
	cat >"$d/ext.cnf" <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/root.key" -out "$d/root.pem" -days 30 \
	    -subj "/O=tlsad tests/CN=tlsad test root" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$d/err" ||
	    rn_die "openssl: test root: $(cat "$d/err")"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/int.key" -out "$d/int.csr" \
	    -subj "/O=tlsad tests/CN=tlsad test intermediate R1" 2>"$d/err" ||
	    rn_die "openssl: intermediate request: $(cat "$d/err")"
	openssl x509 -req -in "$d/int.csr" -CA "$d/root.pem" -CAkey "$d/root.key" \
	    -CAcreateserial -days 30 -extfile "$d/ext.cnf" -extensions ca \
	    -out "$d/int.pem" 2>"$d/err" ||
	    rn_die "openssl: intermediate: $(cat "$d/err")"
	chmod 0600 "$d/root.key" "$d/int.key"
}

rn_spki() {
	local pub out
	pub=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) || return 1
	[ -n "$pub" ] || return 1
	out=$(printf '%s\n' "$pub" | openssl pkey -pubin -outform DER 2>/dev/null |
	    openssl dgst -sha256 -r 2>/dev/null) || return 1
	out=${out%% *}
	[ ${#out} = 64 ] || return 1
	printf '%s\n' "$out"
}

rn_rr311() {
	local h
	h=$(rn_spki "$1") || return 1
	printf '3 1 1 %s\n' "$h"
}

rn_version() {
	local t
	t=$(readlink "$1/$2/cert.pem") || return 1
	t=${t##*/cert}
	printf '%s\n' "${t%.pem}"
}

# The link target of LIVE/NAME/<file> for ARCHIVE/NAME/<file>.
rn_link_target() {
	local live=$1 archive=$2 name=$3 file=$4 l a
	l=$(cd "$live" && pwd -P)
	a=$(cd "$archive" && pwd -P)
	if [ "$(dirname "$l")" = "$(dirname "$a")" ]; then
		printf '../../%s/%s/%s\n' "$(basename "$a")" "$name" "$file"
	else
		realpath -m --relative-to="$l/$name" "$a/$name/$file"
	fi
}

renew_lineage() {
	local live=$1 archive=$2 name=$3 reuse=0 garbage=0 ca a l n prev k t
	local pause=${RN_PAUSE:-0.2} first=1
	shift 3 || rn_die "usage: renew_lineage LIVE ARCHIVE NAME [--reuse-key] [--garbage]"
	while [ $# -gt 0 ]; do
		case $1 in
		--reuse-key) reuse=1 ;;
		--garbage) garbage=1 ;;
		*) rn_die "renew_lineage: unknown option $1" ;;
		esac
		shift
	done
	case $name in */* | .* | "") rn_die "renew_lineage: bad name '$name'" ;; esac
	mkdir -p "$live/$name" "$archive/$name" || rn_die "cannot make $live/$name"
	chmod 0700 "$live" "$archive"
	ca=${RN_CA_DIR:-$(dirname "$archive")/test-ca}
	renew_ca "$ca"
	a=$archive/$name
	l=$live/$name

	prev=0
	for t in "$a"/cert*.pem; do
		[ -e "$t" ] || continue
		t=${t##*/cert}
		t=${t%.pem}
		case $t in *[!0-9]* | "") continue ;; esac
		[ "$t" -gt "$prev" ] && prev=$t
	done
	n=$((prev + 1))

	# The key: new, or version N's (certbot --reuse-key copies it).
	(
		umask 077
		if [ "$reuse" = 1 ]; then
			[ -f "$a/privkey$prev.pem" ] ||
			    rn_die "--reuse-key: no $a/privkey$prev.pem"
			cp "$a/privkey$prev.pem" "$a/privkey$n.pem"
		else
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
			    -out "$a/privkey$n.pem" 2>/dev/null ||
			    rn_die "openssl: cannot make a P-256 key"
		fi
	) || exit 1
	chmod 0600 "$a/privkey$n.pem"

	# The leaf, signed by the intermediate.  A random serial, not a
	# serial file: two renewals may run at once.
	printf '[leaf]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:%s\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n' \
	    "$name" >"$a/.leaf$n.cnf"
	openssl req -new -key "$a/privkey$n.pem" -subj "/CN=$name" \
	    -out "$a/.req$n.csr" 2>/dev/null || rn_die "openssl: request for $name"
	if [ "$garbage" = 1 ]; then
		# What a disk-full or interrupted write might leave: a PEM
		# header and then nothing that decodes.
		printf -- '-----BEGIN CERTIFICATE-----\nthis is not base64 @@@\n' >"$a/cert$n.pem"
	else
		openssl x509 -req -in "$a/.req$n.csr" -CA "$ca/int.pem" \
		    -CAkey "$ca/int.key" -set_serial "0x$(openssl rand -hex 12)" -days 20 \
		    -extfile "$a/.leaf$n.cnf" -extensions leaf \
		    -out "$a/cert$n.pem" 2>/dev/null || rn_die "openssl: cannot sign $name"
	fi
	rm -f "$a/.req$n.csr" "$a/.leaf$n.cnf"
	cp "$ca/int.pem" "$a/chain$n.pem"
	cat "$a/cert$n.pem" "$a/chain$n.pem" >"$a/fullchain$n.pem"
	chmod 0644 "$a/cert$n.pem" "$a/chain$n.pem" "$a/fullchain$n.pem"

	# certbot's order, one link at a time.
	for k in cert privkey chain fullchain; do
		[ "$first" = 1 ] || sleep "$pause"
		first=0
		t=$(rn_link_target "$live" "$archive" "$name" "$k$n.pem")
		rm -f "$l/$k.pem"
		ln -s "$t" "$l/$k.pem" || rn_die "cannot link $l/$k.pem"
	done
	printf '%s\n' "$n"
}
