#!/bin/sh
# Seeds of fuzz-pcrsig: PCR signature files as systemd-measure 252 writes
# them, for a one-section UKI (.linux): PCR 11 after the sections and after
# each phase path comes from `systemd-measure calculate`; the PolicyPCR
# digest of each value is signed with openssl as systemd-measure sign does
# (RSASSA-PKCS1-v1_5 with the bank's hash over the policy digest; sign
# itself wants a TPM for its trial session). Each seed is the token's PEM
# public key, NUL, the signature file, NUL, the PCR 11 base (64 hex digits).
# Usage: tests/fuzz/make-corpus-pcrsig.sh [OUTDIR]  (default tests/fuzz/corpus/fuzz-pcrsig)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/corpus/fuzz-pcrsig}
measure=/usr/lib/systemd/systemd-measure
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$out"
h() { sha256sum | cut -d' ' -f1; }
hex() { xxd -r -p; }
printf 'kernel\n' > "$t/linux"
for k in a b; do
	openssl genrsa -out "$t/$k.pem" 2048 2>/dev/null
	openssl rsa -in "$t/$k.pem" -pubout -out "$t/$k.pub" 2>/dev/null
done
# PCR 11 after the section: H(name NUL) then H(content) extended from zero.
zero=$(printf '%064d' 0)
base=$zero
for d in "$(printf '.linux\0' | h)" "$(h < "$t/linux")"; do base=$(printf '%s%s' "$base" "$d" | hex | h); done
calc() { "$measure" calculate --linux="$t/linux" --bank=sha256 --phase="$1" 2>/dev/null | sed -n 's/^11:sha256=//p'; }
[ "$(printf '%s%s' "$base" "$(printf 'enter-initrd' | h)" | hex | h)" = "$(calc enter-initrd)" ] ||
	{ echo "make-corpus-pcrsig: the section replay does not match systemd-measure calculate" >&2; exit 1; }
# PolicyPCR(sha256, PCR 11 = value) from a zero digest: TPM_CC_PolicyPCR,
# a TPML_PCR_SELECTION of sha256 {11}, and the digest of the value.
policy() { printf '%s0000017f00000001000b03000800%s' "$zero" "$(printf '%s' "$1" | hex | h)" | hex | h; }
fp() { openssl rsa -pubin -in "$t/$1.pub" -RSAPublicKey_out -outform DER 2>/dev/null | h; }
entry() { # KEY BANK PCR11-VALUE [PCRS]
	pol=$(policy "$3")
	sig=$(printf '%s' "$pol" | hex | openssl dgst -"$2" -sign "$t/$1.pem" | base64 -w0)
	printf '{"pcrs":[%s],"pkfp":"%s","pol":"%s","sig":"%s"}' "${4:-11}" "$(fp "$1")" "$pol" "$sig"
}
seed() { # NAME KEY BASE JSON
	{ cat "$t/$2.pub"; printf '\0%s\0%s' "$4" "$3"; } > "$out/$1"
}
paths="enter-initrd enter-initrd:leave-initrd enter-initrd:leave-initrd:sysinit enter-initrd:leave-initrd:sysinit:ready"
all="" first=""
for p in $paths; do
	e=$(entry a sha256 "$(calc "$p")")
	all="$all${all:+,}$e"
	[ -n "$first" ] || first=$e
done
# systemd-measure sign's default: every phase path, sha256.
seed all-phases a "$base" "{\"sha256\":[$all]}"
# Closed after hand-off: enter-initrd only; sha1 and sha256 banks.
seed enter-initrd a "$base" "{\"sha1\":[$(entry a sha1 "$(calc enter-initrd)")],\"sha256\":[$first]}"
# Another image's base: every entry is of an unknown phase.
seed other-base a "$zero" "{\"sha256\":[$all]}"
# Signed by another key than the token's.
seed other-key b "$base" "{\"sha256\":[$all]}"
# PCR 7+11, and an entry without pkfp.
seed pcrs-7-11 a "$base" "{\"sha256\":[$(entry a sha256 "$(calc enter-initrd)" 7,11),{\"pcrs\":[11],\"pol\":\"$(policy "$base")\",\"sig\":\"AAAA\"}]}"
# The signature file alone (no key, no base).
printf '{"sha256":[%s]}' "$all" > "$out/file-only.json"
