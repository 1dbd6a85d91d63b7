#!/bin/bash
# bench-tlsa.sh -- how fast `tlsactl tlsa` turns certificates into 3 1 1
# records, beside the tools people use for it.  A benchmark, not a test.
#
#   TLSAD_BUILD=build bash tests/bench/bench-tlsa.sh [WORKDIR]
#
# 1. Builds tests/bench/gen-bench-certs.c and makes COUNT (10,000) leaf
#    certificates, half RSA-2048, half P-256, over a pool of RSA_KEYS and
#    EC_KEYS keys (reused: generating 5,000 RSA keys would take many minutes
#    and measure nothing about TLSA), all distinct certificates.  Kept in
#    WORKDIR/certs for later runs.
# 2. Checks that tlsactl's output equals the OpenSSL pipeline's on a sample.
# 3. Times with hyperfine:
#    - one `tlsactl tlsa` run over all COUNT files;
#    - one `tlsactl tlsa` process per file, over SAMPLE files;
#    - the OpenSSL pipeline per file (openssl x509 -pubkey | openssl pkey
#      -pubin -outform DER | sha256sum), over SAMPLE files;
#    - `ldns-dane -n -c FILE create` per file, over SAMPLE files;
#    - hash-slinger `tlsa --create --certificate FILE` per file, over
#      HS_SAMPLE files (a Python start-up each, so a smaller sample).
#    Per-file tools are extrapolated linearly from their sample to COUNT
#    files; the table says which figures are extrapolated.
# Env: COUNT (10000) SAMPLE (200) HS_SAMPLE (50) RSA_KEYS (128) EC_KEYS (256)
#      RUNS (10, for the one-run tlsactl timing).
# Needs: cc, libssl-dev, hyperfine, openssl, ldnsutils, hash-slinger, python3.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tlsactl=$(cd "${TLSAD_BUILD:?set TLSAD_BUILD to the build directory}" && pwd)/tlsactl
count=${COUNT:-10000}
sample=${SAMPLE:-200}
hs_sample=${HS_SAMPLE:-50}
rsa_keys=${RSA_KEYS:-128}
ec_keys=${EC_KEYS:-256}
runs=${RUNS:-10}
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/bench-tlsa.XXXXXX")}
mkdir -p "$work"
work=$(cd "$work" && pwd)

for tool in cc hyperfine openssl ldns-dane tlsa python3 "$tlsactl"; do
	command -v "$tool" >/dev/null 2>&1 || { echo "bench-tlsa: $tool not found" >&2; exit 1; }
done

certs=$work/certs
if [ "$(find "$certs" -name 'cert-*.pem' 2>/dev/null | wc -l)" != "$count" ]; then
	rm -rf "$certs"
	mkdir -p "$certs"
	cc -O2 -o "$work/gen-bench-certs" "$here/gen-bench-certs.c" -lcrypto
	echo "generating $count certificates ($rsa_keys RSA-2048 + $ec_keys P-256 keys)..."
	start=$(date +%s)
	"$work/gen-bench-certs" "$certs" "$count" "$rsa_keys" "$ec_keys"
	echo "  took $(( $(date +%s) - start )) s"
fi
cd "$certs"
# Spread samples over all files with an odd stride, so that RSA (even
# indexes) and P-256 (odd) alternate in them too.
pick() { # N OUT
	local step=$((count / $1))
	[ $((step % 2)) = 1 ] || step=$((step - 1))
	[ "$step" -ge 1 ] || step=1
	ls cert-*.pem | awk -v s="$step" 's == 1 || NR % s == 1' | head -n "$1" > "$2"
}
pick "$sample" "$work/sample.txt"
pick "$hs_sample" "$work/hs-sample.txt"

# Correctness before speed.
echo "checking tlsactl against the OpenSSL pipeline on $(wc -l < "$work/sample.txt") files..."
while read -r f; do
	want="3 1 1 $(openssl x509 -in "$f" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)"
	got=$("$tlsactl" tlsa "$f")
	[ "$got" = "$want" ] || { echo "bench-tlsa: MISMATCH on $f: $got != $want" >&2; exit 1; }
done < "$work/sample.txt"
n_out=$("$tlsactl" tlsa cert-*.pem | wc -l)
[ "$n_out" = "$count" ] || { echo "bench-tlsa: expected $count lines, got $n_out" >&2; exit 1; }

# Per-file loops as scripts, so hyperfine times whole loops.
cat > "$work/loop-openssl.sh" <<'EOF'
set -o pipefail
while read -r f; do
	openssl x509 -in "$f" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum ||
	    echo "$f" >> "$2"
done < "$1"
EOF
cat > "$work/loop-ldns.sh" <<'EOF'
while read -r f; do
	# -n: the bench certificates are not for mx.example.org.
	ldns-dane -n -c "$f" create mx.example.org 25 3 1 1 < /dev/null || echo "$f" >> "$2"
done < "$1"
EOF
cat > "$work/loop-hs.sh" <<'EOF'
while read -r f; do
	tlsa --create --certificate "$f" --usage 3 --selector 1 --mtype 1 --port 25 \
	    mx.example.org < /dev/null || echo "$f" >> "$2"
done < "$1"
EOF
cat > "$work/loop-tlsactl.sh" <<EOF
while read -r f; do "$tlsactl" tlsa "\$f" || echo "\$f" >> "\$2"; done < "\$1"
EOF

hf() { # NAME RUNS COMMAND
	hyperfine -N --style basic --warmup 1 --runs "$2" --export-json "$work/$1.json" \
	    --output null "$3" >/dev/null 2>&1 ||
	    hyperfine --style basic --warmup 1 --runs "$2" --export-json "$work/$1.json" \
	    --output null "$3" >/dev/null
}

echo "timing (this takes a few minutes)..."
# One run over all files: the shell expands the glob once, in a script.
printf 'exec "%s" tlsa cert-*.pem\n' "$tlsactl" > "$work/one-run.sh"
hf one "$runs" "bash $work/one-run.sh"
# A run that fails on a file notes it in WORKDIR/NAME.failed; the table
# shows the count (a failing run would otherwise look fast).
rm -f "$work"/*.failed
hf loop-tlsactl 3 "bash $work/loop-tlsactl.sh $work/sample.txt $work/loop-tlsactl.failed"
hf loop-openssl 3 "bash $work/loop-openssl.sh $work/sample.txt $work/loop-openssl.failed"
hf loop-ldns 3 "bash $work/loop-ldns.sh $work/sample.txt $work/loop-ldns.failed"
hf loop-hs 1 "bash $work/loop-hs.sh $work/hs-sample.txt $work/loop-hs.failed"
# The shell that expands the glob, on its own, to subtract.
printf 'exec true cert-*.pem\n' > "$work/glob-only.sh"
hf glob 5 "bash $work/glob-only.sh"

python3 - "$work" "$count" "$(wc -l < "$work/sample.txt")" "$(wc -l < "$work/hs-sample.txt")" <<'EOF'
import json, os, platform, subprocess, sys
work, count, sample, hs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def res(name):
    r = json.load(open(os.path.join(work, name + ".json")))["results"][0]
    return r["mean"], r["stddev"] or 0.0, len(r["times"])
def failed(name):
    try:
        return sum(1 for _ in open(os.path.join(work, name + ".failed")))
    except OSError:
        return 0
one, one_sd, one_n = res("one")
glob, _, _ = res("glob")
rows = [("`tlsactl tlsa` all files, one process", one, one_sd, one_n, count, False, 0)]
for name, label, n in [
        ("loop-tlsactl", "`tlsactl tlsa`, one process per file", sample),
        ("loop-openssl", "OpenSSL pipeline (`x509 -pubkey \\| pkey -pubin -outform DER \\| sha256sum`)", sample),
        ("loop-ldns", "`ldns-dane -n -c FILE create` (ldnsutils)", sample),
        ("loop-hs", "`tlsa --create --certificate FILE` (hash-slinger)", hs)]:
    m, sd, runs = res(name)
    rows.append((label, m, sd, runs, n, True, failed(name)))
cpu = "?"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
out = []
out.append(f"Machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, {ossl}.")
out.append(f"Certificates: {count} (RSA-2048 and P-256 alternating); per-file tools timed on a sample"
           f" of {sample} ({hs} for hash-slinger) and extrapolated linearly to {count}.")
out.append(f"Bash expanding the glob of {count} names costs {glob*1000:.1f} ms of the one-run figure.")
out.append("")
out.append(f"| tool | files timed | runs | time for those files | per file | for {count} files | vs one `tlsactl tlsa` run | failed file runs |")
out.append("|---|---|---|---|---|---|---|---|")
for label, m, sd, runs, n, extrap, nfail in rows:
    per = m / n
    total = per * count
    ratio = total / one
    tot = f"{total:.1f} s (extrapolated)" if extrap else f"**{total:.3f} s** (measured)"
    out.append(f"| {label} | {n} | {runs} | {m:.3f} s ± {sd:.3f} | {per*1e6:.0f} µs | {tot} | {ratio:.0f}x | {nfail} |")
text = "\n".join(out)
open(os.path.join(work, "results.md"), "w").write(text + "\n")
print(text)
EOF
echo
echo "results: $work/results.md"
