#!/bin/sh
# Seeds of fuzz-luks2: LUKS2 headers made by cryptsetup luksFormat on small
# image files (16 KiB metadata copies, a small keyslot area, PBKDF2 kept
# cheap), cut after the two metadata copies: the target pads the device
# with zeros, which is what the keyslot area holds for the parser. One with
# a systemd-tpm2 token (the fuzz-token seed token-v254, imported by
# cryptsetup token import), one with two keyslots, one with a 256-bit CBC
# key. (A cipher_null segment, which usi-init refuses, needs device-mapper
# to format; the target's mutations reach it.)
# Usage: tests/fuzz/make-corpus-luks2.sh [OUTDIR]  (default tests/fuzz/corpus/fuzz-luks2)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/corpus/fuzz-luks2}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$out"
md=16384
fmt() { # NAME [luksFormat options]
	name=$1; shift
	truncate -s 4M "$t/$name"
	printf 'fuzz' | cryptsetup luksFormat -q --type luks2 --luks2-metadata-size=$md --luks2-keyslots-size=1m \
		--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file - "$@" "$t/$name" 2>/dev/null
}
cut_seed() { head -c $((2 * md)) "$t/$1" > "$out/$1"; }

fmt plain --cipher aes-xts-plain64 --key-size 512
cut_seed plain

fmt tpm2-token --cipher aes-xts-plain64 --key-size 512
sed 's/"keyslots": *\[[^]]*\]/"keyslots":["0"]/' "$here/corpus/fuzz-token/token-v254" > "$t/token.json"
cryptsetup token import --json-file "$t/token.json" --token-id 0 "$t/tpm2-token"
cut_seed tpm2-token

fmt two-keyslots --cipher aes-xts-plain64 --key-size 512
printf 'second' > "$t/new"
printf 'fuzz' | cryptsetup luksAddKey -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file - "$t/two-keyslots" "$t/new"
cut_seed two-keyslots

fmt cbc-256 --cipher aes-cbc-essiv:sha256 --key-size 256
cut_seed cbc-256
