#!/bin/sh
# uki-make.sh STUB OUT NAME=FILE...: a UKI as ukify and the kit's build-uki
# make one, with Debian's objcopy: each section added after the stub's own at
# the next 4 KiB boundary (the stub finds them by name; it measures them in
# its own fixed order, whatever their order in the file).
# ALIGN=1 (default 4096) places them unaligned, for the alignment lint.
set -eu
stub=$1 out=$2; shift 2
align=${ALIGN:-4096}
last_end=0
while read -r idx _name size vma _rest; do
	case $idx in [0-9]*) ;; *) continue ;; esac
	e=$((0x$vma + 0x$size))
	[ "$e" -gt "$last_end" ] && last_end=$e
done <<SECTIONS
$(objdump -h "$stub")
SECTIONS
up() { echo $(( ($1 + 4095) / 4096 * 4096 )); }
vma=$(up "$last_end")
args=''
for a in "$@"; do
	name=${a%%=*} file=${a#*=}
	args="$args --add-section $name=$file --change-section-vma $name=$(printf '0x%x' "$vma")"
	vma=$(up $((vma + $(stat -c %s "$file"))))
	[ "$align" = 4096 ] || vma=$((vma + align))
done
# shellcheck disable=SC2086
objcopy $args "$stub" "$out"
