#!/bin/sh
# Seeds of fuzz-pe, made with Debian's tools: UKIs built by objcopy on
# systemd-stub 252 (tests/tpm/uki-make.sh) with small sections, a .pcrpkey
# and a .pcrsig whose entries openssl signs as systemd-measure does (the
# bank's hash over the policy digest), one with misaligned sections, and a
# file cut inside its section table.
# Usage: tests/fuzz/make-corpus-pe.sh [OUTDIR]  (default tests/fuzz/corpus/fuzz-pe)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/corpus/fuzz-pe}
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$out"
printf 'kernel\n' > "$t/linux"
printf 'ID=fuzz\n' > "$t/osrel"
printf 'console=ttyS0\n' > "$t/cmdline"
printf 'initrd\n' > "$t/initrd"
openssl genrsa -out "$t/k.pem" 2048 2>/dev/null
openssl rsa -in "$t/k.pem" -pubout -out "$t/pcrpkey" 2>/dev/null
fp=$(openssl rsa -pubin -in "$t/pcrpkey" -RSAPublicKey_out -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
pol=$(printf 'fuzz policy' | sha256sum | cut -d' ' -f1)
entry() { # BANK
	sig=$(printf '%s' "$pol" | xxd -r -p | openssl dgst -"$1" -sign "$t/k.pem" | base64 -w0)
	printf '{"pcrs":[11],"pkfp":"%s","pol":"%s","sig":"%s"}' "$fp" "$pol" "$sig"
}
printf '{"sha1":[%s],"sha256":[%s]}' "$(entry sha1)" "$(entry sha256)" > "$t/pcrsig"
mk() { sh "$here/../tpm/uki-make.sh" "$stub" "$@"; }
mk "$out/uki.efi" .linux="$t/linux" .osrel="$t/osrel" .cmdline="$t/cmdline" .initrd="$t/initrd" \
	.pcrpkey="$t/pcrpkey" .pcrsig="$t/pcrsig"
ALIGN=8 mk "$out/misaligned.efi" .linux="$t/linux" .osrel="$t/osrel" .pcrsig="$t/pcrsig"
head -c 600 "$out/uki.efi" > "$out/truncated.efi"
