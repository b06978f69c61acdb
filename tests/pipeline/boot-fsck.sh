#!/bin/sh
# fsck.mode= / fsck.repair= when the image has e2fsck: preen by default,
# force, skip; a file system preening cannot fix is not mounted, and
# fsck.repair=yes repairs it.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require
E2FSCK=$(command -v e2fsck) || skip_all "needs e2fsck (e2fsprogs)"
command -v debugfs >/dev/null || skip_all "needs debugfs (e2fsprogs)"

R=$T/root
pl_root "$R"
# The image's own checker: the host's binary (it runs with the host's
# libraries, as it is exec'd by path without a chroot).
mkdir -p "$R/usr/sbin"
cp "$E2FSCK" "$R/usr/sbin/e2fsck"
pl_image "$T/oem.img" COS_OEM
pl_image "$T/persistent.img" COS_PERSISTENT
pl_attach "$T/oem.img" OEM
pl_attach "$T/persistent.img"

run() { # NAME CMDLINE
	pl_ns "
		\"\$USI_INIT\" boot --root $R --no-handoff --cmdline '$2' >$T/$1 2>&1; echo \$? >$T/$1.rc
		grep -c ' $R/oem ' /proc/self/mountinfo >$T/$1.n
	"
}
run auto ""
check "default: e2fsck preens each ext4 volume before mounting" grep -q "volume oem: $R/usr/sbin/e2fsck -p $OEM exited 0" "$T/auto"
"$USI_INIT" plan --root "$R" --json >"$T/plan.auto" 2>&1
check "plan --json: fsck auto, preen by default" test "$(pl_json "$T/plan.auto" 's["fsck"]["mode"] + " " + s["fsck"]["repair"]')" = "auto preen"
"$USI_INIT" plan --root "$R" --cmdline "fsck.mode=force fsck.repair=yes" >"$T/plan.force" 2>&1
check "plan: fsck.mode=force fsck.repair=yes shown" grep -qx 'fsck of ext file systems: mode force, repair yes' "$T/plan.force"
run force "fsck.mode=force"
check "fsck.mode=force forces a full check" grep -q "volume oem: .*e2fsck -p -f $OEM exited 0" "$T/force"
run skip "fsck.mode=skip"
check "fsck.mode=skip runs no check" sh -c "! grep -q e2fsck $T/skip && test \$(cat $T/skip.rc) = 0"

# Clear the root directory's inode and mark the file system as having
# errors: preening must check it, and refuses to fix that.
pl_detach "$OEM"
debugfs -w -R "clri <2>" "$T/oem.img" >/dev/null 2>&1
debugfs -w -R "ssv state 2" "$T/oem.img" >/dev/null 2>&1
pl_attach "$T/oem.img" OEM
run broken ""
check "a file system preening cannot fix: the boot fails" test "$(cat "$T/broken.rc")" = 1
check "  naming the volume, the checker and its exit code" grep -q "volume oem: .*e2fsck found errors on $OEM it did not repair (exit [4-9]" "$T/broken"
check "  and it is not mounted" test "$(cat "$T/broken.n")" = 0
run repair "fsck.repair=yes"
check "fsck.repair=yes repairs it and the boot goes on" test "$(cat "$T/repair.rc")" = 0
[ "$(cat "$T/repair.rc")" = 0 ] || sed 's/^/# /' "$T/repair"
done_testing
