#!/bin/bash
# Seeds of fuzz-sysext and fuzz-verity-sb. Extension images are made by
# tests/sysext/make-image.sh (systemd-repart 252, mksquashfs, mkfs.erofs,
# openssl for the signing key) with a 64 KiB data and a 16 KiB verity
# partition, then cut after their last partition with the backup GPT moved
# there (sgdisk -e), so a seed is some 140 KiB instead of 1 MiB. Verity
# superblocks: the one of the signed image, and veritysetup format of a
# small file with other block sizes, hashes and format 0 (refused).
# Usage: tests/fuzz/make-corpus-sysext.sh [OUTDIR]  (default tests/fuzz/corpus)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/corpus}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$out/fuzz-sysext" "$out/fuzz-verity-sb" "$t/tree/usr/lib/extension-release.d"
echo "ID=_any" > "$t/tree/usr/lib/extension-release.d/extension-release.fuzz"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$t/key.pem" -out "$t/cert.pem" -subj /CN=fuzz -days 1 2>/dev/null

# The image ends after its last partition and a backup GPT (33 sectors).
shrink() {
	local end
	end=$(sfdisk -d "$1" | awk -F'[=,]' '/start=/ { s = $2 + $4; if (s > m) m = s } END { print m }')
	truncate -s $(( (end + 33) * 512 )) "$1"
	sgdisk -e "$1" >/dev/null 2>&1
}
for kind in signed usr verity extra polyglot uuid squashfs erofs; do
	DATA_SIZE=64K HASH_SIZE=16K "$here/../sysext/make-image.sh" "$kind" "$t/$kind.raw" "$t/tree" "$t/key.pem" "$t/cert.pem"
	case $kind in squashfs|erofs) ;; *) shrink "$t/$kind.raw" ;; esac
	cp "$t/$kind.raw" "$out/fuzz-sysext/$kind.raw"
done
head -c 600 "$t/signed.raw" > "$out/fuzz-sysext/truncated.raw"

# The signed image's superblock: the first 512 bytes of partition 2.
off=$(sfdisk -d "$t/signed.raw" | awk -F'[=,]' '$1 ~ /raw2 / { print $2 * 512 }')
dd if="$t/signed.raw" of="$out/fuzz-verity-sb/repart" bs=512 skip=$((off / 512)) count=1 status=none
head -c 40960 /dev/zero > "$t/data"
vsb() { # NAME [veritysetup format options]
	local name=$1; shift
	rm -f "$t/hash"
	veritysetup format "$@" "$t/data" "$t/hash" >/dev/null
	head -c 512 "$t/hash" > "$out/fuzz-verity-sb/$name"
}
vsb sha256-4k
vsb sha1-512 --hash sha1 --data-block-size 512 --hash-block-size 512
vsb sha512-1k --hash sha512 --data-block-size 1024 --hash-block-size 4096
vsb format0 --format 0
