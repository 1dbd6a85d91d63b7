#!/bin/bash
# t_tlsa_compare.sh -- `tlsactl tlsa` must print exactly what `ldns-dane
# create` (ldnsutils) and the OpenSSL command line print for the same
# certificate, for every key type and every (usage, selector, matching type)
# tlsad supports; hash-slinger's `tlsa --create` is a third witness for the
# usage-3 digests.  Also checks the exit status and messages on bad input.
#
# Env: TLSAD_BUILD (dir with tlsactl), TLSAD_SRC (source dir; default: from
# this script's path).  Needs openssl, ldns-dane, tlsa (hash-slinger).
# No servers, no network.  Prints "N passed, M failed"; exits 1 on any failure.
set -u

src=${TLSAD_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
tlsactl=${TLSAD_BUILD:?set TLSAD_BUILD to the build directory}/tlsactl
certs=$src/tests/data/certs
pass=0
fail=0

for tool in openssl ldns-dane tlsa "$tlsactl"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "setup failure: $tool not found" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_tlsa_compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# The OpenSSL pipeline shell tools use: the data of "u s m" for one PEM cert.
openssl_data() { # CERTFILE SELECTOR MTYPE
	local der
	if [ "$2" = 1 ]; then
		der() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER; }
	else
		der() { openssl x509 -in "$1" -outform DER; }
	fi
	case $3 in
	0) der "$1" | od -An -v -tx1 | tr -d ' \n' ;;
	1) der "$1" | sha256sum | cut -d' ' -f1 ;;
	2) der "$1" | sha512sum | cut -d' ' -f1 ;;
	esac
}

# The n-th (1-based) certificate of a PEM file, into a file.
nth_cert() { # FILE N OUT
	awk -v n="$2" '/-----BEGIN CERTIFICATE-----/ { i++ } i == n { print }
	    /-----END CERTIFICATE-----/ && i == n { exit }' "$1" > "$3"
}

compare() { # LABEL CHAINFILE U S M [LDNS-OFFSET]
	local label=$1 file=$2 u=$3 s=$4 m=$5 off=${6:-}
	local ours theirs want certfile

	# 1. ldns-dane: the whole record line, tabs made spaces.
	ours=$("$tlsactl" tlsa -H mx.example.org -p 25 -r "$u $s $m" "$file") ||
	    { bad "$label $u $s $m: tlsactl exit $?"; return; }
	if [ -n "$off" ]; then
		theirs=$(ldns-dane -o "$off" -c "$file" create mx.example.org 25 "$u" "$s" "$m")
	else
		theirs=$(ldns-dane -c "$file" create mx.example.org 25 "$u" "$s" "$m")
	fi
	theirs=$(printf '%s\n' "$theirs" | tr '\t' ' ')
	if [ -n "$theirs" ] && [ "$ours" = "$theirs" ]; then
		ok
	else
		bad "$label $u $s $m vs ldns-dane: '$ours' != '$theirs'"
	fi

	# 2. the OpenSSL pipeline: rdata only.
	certfile=$tmp/cert.pem
	if [ "$u" = 2 ]; then nth_cert "$file" 2 "$certfile"; else nth_cert "$file" 1 "$certfile"; fi
	want="$u $s $m $(openssl_data "$certfile" "$s" "$m")"
	ours=$("$tlsactl" tlsa -r "$u $s $m" "$file")
	if [ "$ours" = "$want" ]; then
		ok
	else
		bad "$label $u $s $m vs openssl: '$ours' != '$want'"
	fi
}

# hash-slinger: usage 3 digests, its rdata compared with ours.
compare_hashslinger() { # LABEL FILE S M
	local ours theirs
	ours=$("$tlsactl" tlsa -r "3 $3 $4" "$2")
	theirs=$(tlsa --create --certificate "$2" --port 25 --usage 3 --selector "$3" \
	    --mtype "$4" mx.example.org 2>/dev/null | sed -n 's/.* IN TLSA //p')
	if [ -n "$theirs" ] && [ "$ours" = "$theirs" ]; then
		ok
	else
		bad "$1 3 $3 $4 vs hash-slinger: '$ours' != '$theirs'"
	fi
}

types="rsa2048 rsa3072 rsa4096 p256 p384 ed25519"

# Fresh certificates made now, beside the committed fixtures.
for t in rsa2048 p256 p384 ed25519; do
	case $t in
	rsa*) alg="-newkey rsa:${t#rsa}" ;;
	p256) alg="-newkey ec -pkeyopt ec_paramgen_curve:P-256" ;;
	p384) alg="-newkey ec -pkeyopt ec_paramgen_curve:P-384" ;;
	ed25519) alg="-newkey ed25519" ;;
	esac
	# shellcheck disable=SC2086
	openssl req -x509 $alg -nodes -keyout "$tmp/$t.key" -out "$tmp/fresh-$t.pem" \
	    -subj "/CN=mx.example.org" -days 30 2>/dev/null ||
	    { bad "openssl could not make a $t certificate"; }
done

for t in $types; do
	f=$certs/$t-fullchain.pem
	for p in "3 1 1" "3 0 1" "3 1 2" "3 0 2" "3 1 0" "3 0 0"; do
		# shellcheck disable=SC2086
		compare "$t" "$f" $p
	done
	# Usage 2: the issuer, chain[1]; ldns-dane's -o counts from the end.
	for p in "2 1 1" "2 0 1" "2 1 2" "2 0 2" "2 1 0" "2 0 0"; do
		# shellcheck disable=SC2086
		compare "$t" "$f" $p 0
	done
	# shellcheck disable=SC2086
	compare "$t-chain3" "$certs/$t-chain3.pem" 2 1 1 1
	compare_hashslinger "$t" "$f" 1 1
	compare_hashslinger "$t" "$f" 0 1
	compare_hashslinger "$t" "$f" 1 2
done
for t in rsa2048 p256 p384 ed25519; do
	[ -f "$tmp/fresh-$t.pem" ] || continue
	for p in "3 1 1" "3 0 1" "3 1 2" "3 0 0"; do
		# shellcheck disable=SC2086
		compare "fresh-$t" "$tmp/fresh-$t.pem" $p
	done
	compare_hashslinger "fresh-$t" "$tmp/fresh-$t.pem" 1 1
done

# Another port, and a host given with its trailing dot.
out=$("$tlsactl" tlsa -H mx.example.org. -p 465 -r "3 1 1" "$certs/p384-fullchain.pem")
want=$(ldns-dane -c "$certs/p384-fullchain.pem" create mx.example.org 465 3 1 1 | tr '\t' ' ')
if [ -n "$want" ] && [ "$out" = "$want" ]; then ok; else bad "port 465: '$out' != '$want'"; fi

# Several records and files in one run, in order.
out=$("$tlsactl" tlsa -o mail.example.org -t 300 -r "3 1 1" -r "2 1 1" \
    "$certs/p256-fullchain.pem" "$certs/rsa2048-fullchain.pem")
want=$(for t in p256 rsa2048; do for u in 3 2; do
	echo "mail.example.org. 300 IN TLSA $("$tlsactl" tlsa -r "$u 1 1" "$certs/$t-fullchain.pem")"
done; done)
if [ "$out" = "$want" ] && [ "$(printf '%s\n' "$out" | wc -l)" = 4 ]; then ok; else bad "multi: '$out'"; fi
# Default: rdata only, 3 1 1.
out=$("$tlsactl" tlsa "$certs/p384-leaf.pem")
want="3 1 1 $(openssl_data "$certs/p384-leaf.pem" 1 1)"
if [ "$out" = "$want" ]; then ok; else bad "default: '$out' != '$want'"; fi

# Bad input: exit 1, "tlsactl: FILE: reason", nothing on stdout for that file.
expect_bad() { # FILE TEXT [ARGS...]
	local f=$1 text=$2 out err rc
	shift 2
	out=$("$tlsactl" tlsa "$@" "$f" 2>"$tmp/err"); rc=$?
	err=$(cat "$tmp/err")
	if [ "$rc" = 1 ] && [ -z "$out" ] && [ "$err" = "tlsactl: $f: $text" ]; then
		ok
	else
		bad "bad input $f: rc=$rc out='$out' err='$err'"
	fi
}
expect_bad "$certs/bad-empty.pem" "the file is empty"
expect_bad "$certs/bad-truncated.pem" "a PEM block begins but never ends: the file is truncated"
expect_bad "$certs/bad-garbage.pem" "no PEM block found: the file is not a PEM certificate"
expect_bad "$certs/bad-der.pem" "the file is DER (binary); a PEM file was expected"
expect_bad "$certs/bad-key-as-cert.pem" "the file holds a private key where a certificate was expected"
expect_bad "$certs/bad-noissuer.pem" "the chain holds no issuer certificate after the leaf" -r "2 1 1"
expect_bad "$tmp/no-such-file.pem" "No such file or directory"
head -c $((256 * 1024 + 1)) /dev/zero > "$tmp/big.pem"
expect_bad "$tmp/big.pem" "input is larger than its size limit"

# A bad file among good ones: the good ones still print, exit 1.
out=$("$tlsactl" tlsa "$certs/p256-leaf.pem" "$certs/bad-empty.pem" "$certs/p384-leaf.pem" 2>/dev/null); rc=$?
if [ "$rc" = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 2 ]; then ok; else bad "mixed: rc=$rc"; fi

# Usage errors: exit 64.
for args in "" "-r 4,1,1 x" "-u 3 -s 2 x" "-p 25 x" "-H a -o b x" "-t 10 x" \
    "-H mx.example.org -p 0 x" "-H mx.example.org -t -1 x" "-r 3,1 x" "-x x"; do
	# shellcheck disable=SC2086
	"$tlsactl" tlsa $args >/dev/null 2>&1; rc=$?
	if [ "$rc" = 64 ]; then ok; else bad "usage '$args': rc=$rc, want 64"; fi
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
