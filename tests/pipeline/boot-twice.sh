#!/bin/sh
# boot run twice on the same root: the second run finds every mount already
# made, mounts nothing again and changes no data.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require

R=$T/root
pl_root "$R"
pl_image "$T/oem.img" COS_OEM
pl_image "$T/persistent.img" COS_PERSISTENT
pl_attach "$T/oem.img"
pl_attach "$T/persistent.img"
BOOT="\"\$USI_INIT\" boot --root $R --no-handoff"
# Everything of the volumes and the image, with metadata.
SNAP="find $R/usr/local $R/oem $R/etc $R/home -xdev -printf '%p %m %U:%G %s %T@\n' | sort"

pl_ns "
	$BOOT >$T/out1 2>&1; echo \$? >$T/rc1
	echo 'user data' >$R/etc/ssh/user_key
	grep -c ' $R' /proc/self/mountinfo >$T/n1
	awk '{print \$5}' /proc/self/mountinfo | grep '^$R' >$T/list1
	$SNAP >$T/snap1
	$BOOT >$T/out2 2>&1; echo \$? >$T/rc2
	grep -c ' $R' /proc/self/mountinfo >$T/n2
	awk '{print \$5}' /proc/self/mountinfo | grep '^$R' >$T/list2
	$SNAP >$T/snap2
	cp $R/run/usi-init/state.json $T/state2.json
"
check "first boot exits 0" test "$(cat "$T/rc1")" = 0
check "second boot on the same root exits 0" test "$(cat "$T/rc2")" = 0
[ "$(cat "$T/rc2")" = 0 ] || sed 's/^/# /' "$T/out2"
diag "mounts under the root: $(cat "$T/n1") after the first run, $(cat "$T/n2") after the second"
check "the second run mounts nothing again" test "$(cat "$T/n1")" = "$(cat "$T/n2")"
check "the mount list is identical" cmp -s "$T/list1" "$T/list2"
check "no file, mode, owner, size or time changed" cmp -s "$T/snap1" "$T/snap2"
check "state.json of the second run marks every mount as already there" test \
	"$(pl_json "$T/state2.json" 'all(m["existed"] for m in s["mounts"]) and len(s["mounts"]) > 40')" = true
done_testing
