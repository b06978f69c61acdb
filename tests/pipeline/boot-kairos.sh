#!/bin/sh
# What a Kairos userspace reads after the initrd: /etc/fstab in the final OS
# (the /etc overlay) lists every mount the boot made, without the --root
# prefix, and /run/cos/ holds the boot-mode sentinel from the command line.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require

R=$T/root
pl_root "$R"
printf '# the image fstab\n/dev/sda1 /boot vfat defaults 0 0\n' >"$R/etc/fstab"
pl_image "$T/oem.img" COS_OEM
pl_image "$T/persistent.img" COS_PERSISTENT
pl_attach "$T/oem.img"
pl_attach "$T/persistent.img"
S=$R/run/usi-init/state.json

pl_ns "
	\"\$USI_INIT\" boot --root $R --no-handoff --cmdline 'root=LABEL=COS_ACTIVE console=ttyS0' >$T/out 2>&1; echo \$? >$T/rc
	cp $S $T/state.json
	cp $R/etc/fstab $T/fstab 2>/dev/null
	ls $R/run/cos >$T/cos 2>&1
	cat $R/run/cos/active_mode >$T/active 2>&1
	ls $R/run/usi-init/overlay/etc/.overlay/upper >$T/upper
	findmnt --fstab --tab-file $R/etc/fstab -n -o SOURCE,TARGET,FSTYPE,OPTIONS >$T/findmnt 2>&1; echo \$? >$T/findmnt.rc
	ls $R/etc >$T/etc
"
check "boot --root exits 0" test "$(cat "$T/rc")" = 0
[ "$(cat "$T/rc")" = 0 ] || sed 's/^/# /' "$T/out"

# fstab: one line per volume, overlay and bind of state.json, in order.
pl_json "$T/state.json" '"\n".join("%s %s" % (m["source"], m["target"]) for m in s["mounts"] if m["stage"] in ("mounts", "overlays", "binds"))' >"$T/want"
grep -v '^#' "$T/fstab" | awk '{ print $1 " " $2 }' >"$T/have"
check "/etc/fstab lists every mount of the mounts, overlays and binds stages, in order" cmp -s "$T/want" "$T/have"
cmp -s "$T/want" "$T/have" || diff "$T/want" "$T/have" | sed 's/^/# /' | head -10
check "/etc/fstab has more than 40 mounts (the default binds)" test "$(grep -vc '^#' "$T/fstab")" -gt 40
check "/etc/fstab replaced the image's (as Kairos does)" sh -c "! grep -q /boot $T/fstab"
check "the image's /etc/fstab is untouched: written to the /etc overlay" grep -q /boot "$R/etc/fstab"
check "fstab is on the tmpfs upper layer of /etc" grep -qx fstab "$T/upper"
check "fstab: /oem is the ext4 of a loop device" grep -Eq '^/dev/loop[0-9]+ /oem ext4 defaults 0 0$' "$T/fstab"
check "fstab: /usr/local is the ext4 of a loop device" grep -Eq '^/dev/loop[0-9]+ /usr/local ext4 defaults 0 0$' "$T/fstab"
check "fstab: /etc is an overlay with the final OS's paths" \
	grep -qx 'overlay /etc overlay lowerdir=/etc,upperdir=/run/usi-init/overlay/etc/.overlay/upper,workdir=/run/usi-init/overlay/etc/.overlay/work 0 0' "$T/fstab"
check "fstab: /etc/ssh is a bind of its state dir" grep -qx '/usr/local/.state/etc-ssh.bind /etc/ssh none bind 0 0' "$T/fstab"
check "fstab: no path carries the --root prefix" sh -c "! grep -q '$R' $T/fstab"
check "fstab: no API file system (the final OS mounts those)" sh -c "! grep -Eq ' /(proc|sys|dev|run|tmp) ' $T/fstab"
check "findmnt parses the fstab" test "$(cat "$T/findmnt.rc")" = 0
check "no temporary file left in /etc" sh -c "! grep -q usi-init $T/etc"

check "/run/cos/active_mode from root=LABEL=COS_ACTIVE" test "$(cat "$T/active")" = 1
check "only active_mode in /run/cos (no UKI sentinel outside USI mode)" test "$(cat "$T/cos")" = active_mode
check "state.json's plan names the mode the boot wrote" \
	test "$(pl_json "$T/state.json" 's["plan"]["kairos"]["mode"] + " " + str(s["plan"]["kairos"]["uki"])')" = "active_mode None"

# `plan` shows the same mode, from the same command line, before any boot.
"$USI_INIT" plan --root "$R" --cmdline 'root=LABEL=COS_ACTIVE console=ttyS0' --json >"$T/plan.json" 2>&1
check "plan --json: the Kairos mode of root=LABEL=COS_ACTIVE" test "$(pl_json "$T/plan.json" 's["kairos"]["mode"]')" = active_mode
"$USI_INIT" plan --root "$R" --cmdline 'root=live:CDLABEL=COS_RECOVERY' >"$T/plan.txt" 2>&1
check "plan: a recovery image booted as a live root is in recovery_mode" \
	grep -qx 'Kairos mode: recovery_mode (from the kernel command line)' "$T/plan.txt"
done_testing
