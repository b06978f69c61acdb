#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build a system extension test image with Debian 12's tools only.
#
#   make-image.sh KIND OUT TREE [KEY CERT]
#
# TREE is the extension's root (TREE/usr/lib/extension-release.d/...).
# KIND:
#   signed    GPT by systemd-repart 252: root (squashfs, Verity=data),
#             root-verity (Verity=hash), root-verity-sig (Verity=signature)
#   usr       the same with usr, usr-verity and usr-verity-sig partitions
#   verity    root and root-verity, no signature partition
#   extra     signed, plus a fourth (generic Linux) partition
#   squashfs  a bare, unsigned squashfs (mksquashfs)
#   erofs     a bare, unsigned erofs (mkfs.erofs)
#   polyglot  signed, plus a tiny unsigned squashfs at offset 0: it fits in
#             the 446 boot-code bytes of the protective MBR, so the GPT and
#             the MBR's partition entry stay intact
#   changed   signed, then one byte of the data partition flipped
#   uuid      signed, then the data partition given another UUID
#   sector4k  signed, then rewritten with a GPT for 4096-byte sectors (through
#             a loop device with that sector size; the partitions are moved)
# Sizes: DATA_SIZE (default 1M) for the data partition, HASH_SIZE (default
# 1M) for the verity partition; repart 252 has no Minimize=.
set -euo pipefail

kind=$1 out=$2 tree=$3 key=${4:-} cert=${5:-}
data_size=${DATA_SIZE:-1M} hash_size=${HASH_SIZE:-1M}
work=$(mktemp -d "${TMPDIR:-/tmp}/make-image.XXXXXX")
trap 'rm -rf "$work"' EXIT

part() {  # part FILE TYPE [KEY=VALUE]...
	local f=$1 t=$2; shift 2
	{ echo "[Partition]"; echo "Type=$t"; printf '%s\n' "$@"; } > "$work/repart.d/$f"
}

repart() {  # repart DESIGNATOR SIGNED EXTRA
	local d=$1 signed=$2 extra=$3 args=()
	mkdir -p "$work/repart.d"
	part 10-data.conf "$d" Format=squashfs "CopyFiles=/usr:/usr" Verity=data VerityMatchKey=ext \
		"SizeMinBytes=$data_size" "SizeMaxBytes=$data_size"
	part 20-hash.conf "$d-verity" Verity=hash VerityMatchKey=ext \
		"SizeMinBytes=$hash_size" "SizeMaxBytes=$hash_size"
	if [ "$signed" = yes ]; then
		part 30-sig.conf "$d-verity-sig" Verity=signature VerityMatchKey=ext
		args=(--private-key="$key" --certificate="$cert")
	fi
	[ "$extra" = yes ] && part 40-extra.conf linux-generic SizeMinBytes=64K SizeMaxBytes=64K
	rm -f "$out"
	systemd-repart --definitions="$work/repart.d" --empty=create --size=auto --dry-run=no \
		--root="$tree" --no-pager "${args[@]}" "$out" > "$work/repart.log" 2>&1 ||
		{ cat "$work/repart.log" >&2; exit 1; }
}

# The byte offset of partition N, from sfdisk's dump.
part_offset() {
	sfdisk -d "$1" | awk -v n="$1$2" '$1 == n { sub(/,/, "", $4); print $4 * 512 }'
}

case $kind in
signed) repart root yes no ;;
usr) repart usr yes no ;;
verity) repart root no no ;;
extra) repart root yes yes ;;
squashfs) rm -f "$out"; mksquashfs "$tree" "$out" -all-root -quiet -noappend >/dev/null ;;
erofs) rm -f "$out"; mkfs.erofs --quiet --all-root "$out" "$tree" >/dev/null ;;
polyglot)
	repart root yes no
	mksquashfs "$tree" "$work/tiny.sqfs" -all-root -quiet -noappend -nopad -comp gzip >/dev/null
	size=$(stat -c %s "$work/tiny.sqfs")
	[ "$size" -le 446 ] || { echo "tiny squashfs is $size bytes, more than 446" >&2; exit 1; }
	dd if="$work/tiny.sqfs" of="$out" conv=notrunc status=none ;;
changed)
	repart root yes no
	off=$(part_offset "$out" 1)
	b=$(od -An -tu1 -j "$off" -N1 "$out" | tr -d ' ')
	printf "\\$(printf '%03o' $(( (b ^ 1) & 255 )))" | dd of="$out" bs=1 seek="$off" conv=notrunc status=none ;;
uuid)
	repart root yes no
	sgdisk -u 1:R "$out" >/dev/null ;;
sector4k)
	repart root yes no
	mv "$out" "$work/512.raw"
	truncate -s $(( $(stat -c %s "$work/512.raw") + 4 * 1024 * 1024 )) "$out"
	loop=$(losetup -b 4096 -f --show "$out")
	python3 - "$work/512.raw" "$loop" <<'PY' || { losetup -d "$loop"; exit 1; }
import json, subprocess, sys
src, dev = sys.argv[1:]
parts = json.loads(subprocess.check_output(["sfdisk", "-J", src]))["partitiontable"]["partitions"]
script, moves, start = ["label: gpt"], [], 256  # 1 MiB in 4 KiB sectors
for p in parts:
    size = p["size"] * 512
    n = (size + 4095) // 4096
    script.append(f'start={start}, size={n}, type={p["type"]}, uuid={p["uuid"]}, name="{p["name"]}"')
    moves.append((p["start"] * 512, size, start * 4096))
    start += n
subprocess.run(["sfdisk", "-q", "--no-reread", "--no-tell-kernel", dev], input="\n".join(script) + "\n",
               text=True, check=True)
with open(src, "rb") as s, open(dev, "r+b") as d:
    for so, size, do in moves:
        s.seek(so)
        d.seek(do)
        d.write(s.read(size))
PY
	losetup -d "$loop" ;;
*) echo "unknown kind $kind" >&2; exit 2 ;;
esac
