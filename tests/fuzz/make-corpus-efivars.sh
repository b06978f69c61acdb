#!/bin/sh
# Seeds of fuzz-efivars and fuzz-kairos. EFI variables in efivarfs form:
# the attribute word (NV|BS|RT, little-endian), then the value as systemd-boot
# writes LoaderEntrySelected and LoaderDevicePartUUID: UTF-16LE (iconv) with
# a terminating NUL; a SecureBoot byte; a value with a surrogate pair and
# one cut in the middle of a character. Kairos: symlink targets as
# kairos-agent leaves them in <mode>/ (made with ln -s, read back with
# readlink), one with its top directory after a NUL.
# Usage: tests/fuzz/make-corpus-efivars.sh [OUTDIR]  (default tests/fuzz/corpus)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/corpus}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$out/fuzz-efivars" "$out/fuzz-kairos"
var() { # NAME STRING
	{ printf '\007\000\000\000'; printf '%s' "$2" | iconv -f UTF-8 -t UTF-16LE; printf '\000\000'; } > "$out/fuzz-efivars/$1"
}
var active active.conf
var passive passive.conf
var recovery recovery.conf
var statereset statereset.conf
var other-entry auto-windows
var partuuid 6a2d9a7e-1c3b-4d8f-9e4a-2b1c0d3e4f50
var non-ascii "größe-𝄞.conf"
printf '\006\000\000\000\001' > "$out/fuzz-efivars/secureboot"
head -c 9 "$out/fuzz-efivars/non-ascii" > "$out/fuzz-efivars/odd-length"
printf '\007\000\000' > "$out/fuzz-efivars/short"

link() { # NAME TARGET [TOP]
	ln -sfn "$2" "$t/l"
	readlink "$t/l" | tr -d '\n' > "$out/fuzz-kairos/$1"
	[ $# -lt 3 ] || printf '\000%s' "$3" >> "$out/fuzz-kairos/$1"
}
link relative ../k3s.sysext.raw
link absolute /var/lib/kairos/extensions/k3s.sysext.raw
link confext /var/lib/kairos/confexts/site.confext.raw /var/lib/kairos/confexts
link outside /etc/shadow
link deeper ../sub/x.raw
link dotdot ..
