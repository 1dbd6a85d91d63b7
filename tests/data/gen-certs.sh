#!/bin/sh
# gen-certs.sh -- make the test certificates, keys and bad-input fixtures
# under tests/data/certs/, and the golden TLSA data computed by the OpenSSL
# command line (not by tlsad) into tests/data/certs/golden.txt.
#
# Usage: sh tests/data/gen-certs.sh [OUTDIR]   (default: beside this script)
# The result is committed; rerun only to change the fixtures (every run
# makes new keys, so the golden file changes with them).
#
# For every key type T (rsa2048 rsa3072 rsa4096 p256 p384 ed25519):
#   T-root.pem       self-signed root CA          T-root.key
#   T-int.pem        intermediate CA (by root)    T-int.key
#   T-leaf.pem       leaf for mx.example.org      T-leaf.key (PKCS#8)
#   T-fullchain.pem  leaf + intermediate (what certbot's fullchain.pem holds)
#   T-chain3.pem     leaf + intermediate + root
# Others:
#   p256-leaf-trad.key  the p256 leaf key in traditional "EC PRIVATE KEY" form
#   rsa2048-leaf-trad.key  the rsa2048 leaf key as "RSA PRIVATE KEY"
#   p256-combined.pem   key + leaf + intermediate in one file (a deploy file)
#   p256-other.key      a key that matches no certificate
#   bad-empty.pem bad-blank.pem bad-truncated.pem bad-truncated-mid.pem
#   bad-garbage.pem bad-der.pem bad-key-as-cert.pem bad-noissuer.pem
#   bad-badpem.pem bad-notcert.pem bad-misordered.pem bad-encrypted.key
# golden.txt lines: "FILE U S M HEX" (FILE relative to certs/), and
#   "FILE notafter EPOCH" for each leaf.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/certs}
mkdir -p "$out"
cd "$out"
rm -f ./*.pem ./*.key ./*.cnf ./*.srl golden.txt

cat > ext.cnf <<'EOF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:mx.example.org
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

newkey() { # TYPE FILE
	case $1 in
	rsa*)	openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${1#rsa}" -out "$2" 2>/dev/null ;;
	p256)	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
	p384)	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$2" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$2" ;;
	esac
}

# Ed25519 signs without a separate digest; the others use SHA-256.
mdopt() { case $1 in ed25519) ;; *) echo -sha256 ;; esac; }

for t in rsa2048 rsa3072 rsa4096 p256 p384 ed25519; do
	newkey "$t" "$t-root.key"
	newkey "$t" "$t-int.key"
	newkey "$t" "$t-leaf.key"
	# shellcheck disable=SC2046
	openssl req -x509 -new -key "$t-root.key" $(mdopt "$t") -days 7300 \
	    -subj "/O=tlsad test/CN=tlsad test root $t" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$t-root.pem"
	openssl req -new -key "$t-int.key" -subj "/O=tlsad test/CN=tlsad test intermediate $t" \
	    -out "$t-int.csr"
	# shellcheck disable=SC2046
	openssl x509 -req -in "$t-int.csr" -CA "$t-root.pem" -CAkey "$t-root.key" \
	    -CAcreateserial $(mdopt "$t") -days 7300 -extfile ext.cnf -extensions ca \
	    -out "$t-int.pem" 2>/dev/null
	openssl req -new -key "$t-leaf.key" -subj "/CN=mx.example.org" -out "$t-leaf.csr"
	# shellcheck disable=SC2046
	openssl x509 -req -in "$t-leaf.csr" -CA "$t-int.pem" -CAkey "$t-int.key" \
	    -CAcreateserial $(mdopt "$t") -days 3650 -extfile ext.cnf -extensions leaf \
	    -out "$t-leaf.pem" 2>/dev/null
	cat "$t-leaf.pem" "$t-int.pem" > "$t-fullchain.pem"
	cat "$t-leaf.pem" "$t-int.pem" "$t-root.pem" > "$t-chain3.pem"
	rm -f "$t-int.csr" "$t-leaf.csr"
done
rm -f ./*.srl ext.cnf

openssl pkey -in p256-leaf.key -out p256-leaf-trad.key -traditional 2>/dev/null ||
    openssl ec -in p256-leaf.key -out p256-leaf-trad.key 2>/dev/null
openssl rsa -in rsa2048-leaf.key -traditional -out rsa2048-leaf-trad.key 2>/dev/null
cat p256-leaf.key p256-leaf.pem p256-int.pem > p256-combined.pem
newkey p256 p256-other.key

# Bad inputs.
: > bad-empty.pem
printf '\n  \n\t\n' > bad-blank.pem
head -c 300 p256-leaf.pem > bad-truncated.pem		# cut inside the base64
{ head -c 300 p256-leaf.pem; echo; cat p256-int.pem; } > bad-truncated-mid.pem
printf 'This is not a certificate.\nJust some text, 42 bytes of it and more.\n' > bad-garbage.pem
openssl x509 -in p256-leaf.pem -outform DER -out bad-der.pem
cp p256-leaf.key bad-key-as-cert.pem
openssl req -x509 -new -key p256-other.key -sha256 -days 3650 -subj "/CN=mx.example.org" \
    -out bad-noissuer.pem
# A well-framed block whose base64 decodes to no certificate.
{ echo '-----BEGIN CERTIFICATE-----'; echo 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'; \
  echo '-----END CERTIFICATE-----'; } > bad-badpem.pem
openssl x509 -in p256-leaf.pem -pubkey -noout > bad-notcert.pem
cat p256-int.pem p256-leaf.pem > bad-misordered.pem
openssl pkey -in p256-other.key -aes256 -passout pass:secret -out bad-encrypted.key

# Golden data from the OpenSSL command line.
hexof() { od -An -v -tx1 | tr -d ' \n'; }
spki() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER; }
certder() { openssl x509 -in "$1" -outform DER; }
for t in rsa2048 rsa3072 rsa4096 p256 p384 ed25519; do
	for role in leaf int; do
		u=3; [ "$role" = int ] && u=2
		f=$t-$role.pem
		# Usage-2 rows are keyed by the full chain whose issuer they describe.
		name=$f; [ "$role" = int ] && name=$t-fullchain.pem
		echo "$name $u 1 1 $(spki "$f" | sha256sum | cut -d' ' -f1)"
		echo "$name $u 0 1 $(certder "$f" | sha256sum | cut -d' ' -f1)"
		echo "$name $u 1 2 $(spki "$f" | sha512sum | cut -d' ' -f1)"
		echo "$name $u 0 2 $(certder "$f" | sha512sum | cut -d' ' -f1)"
		echo "$name $u 1 0 $(spki "$f" | hexof)"
		echo "$name $u 0 0 $(certder "$f" | hexof)"
	done
	end=$(openssl x509 -in "$t-leaf.pem" -enddate -noout | sed 's/^notAfter=//')
	echo "$t-leaf.pem notafter $(date -u -d "$end" +%s)"
done > golden.txt
echo "made $(ls | wc -l) files in $out"
