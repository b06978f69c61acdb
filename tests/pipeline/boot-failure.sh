#!/bin/sh
# A failed boot leaves one banner naming the stage, the device and the
# reason in /run/usi-init/failure.log (the console gets the same line as
# PID 1); a good boot leaves none.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require

R=$T/root
pl_root "$R"
pl_image "$T/oem.img" COS_OEM
pl_image "$T/persistent.img" COS_PERSISTENT
pl_attach "$T/oem.img"
F=$R/run/usi-init/failure.log

# No COS_PERSISTENT device at all: the devices stage fails after 1 s.
pl_ns "
	\"\$USI_INIT\" boot --root $R --no-handoff --cmdline rd.usi.timeout=1 >$T/out 2>&1; echo \$? >$T/rc
	cp $F $T/failure.log 2>/dev/null
	cp $R/run/usi-init/state.json $T/state.json
"
check "the boot fails" test "$(cat "$T/rc")" != 0
check "failure.log is written" test -s "$T/failure.log"
check "failure.log: the banner first" grep -q '^==== boot failed in stage devices, device none found for volume persistent (LUKS label COS_PERSISTENT, filesystem label COS_PERSISTENT, GPT partition name persistent): .*COS_PERSISTENT.* ====$' "$T/failure.log"
sed -n 1p "$T/failure.log" | sed 's/^/# /'
check "failure.log: stage" grep -qx 'stage: devices' "$T/failure.log"
check "failure.log: device" grep -qx 'device: none found for volume persistent (LUKS label COS_PERSISTENT, filesystem label COS_PERSISTENT, GPT partition name persistent)' "$T/failure.log"
check "failure.log: reason is state.json's failure" test \
	"$(sed -n 's/^reason: //p' "$T/failure.log")" = "$(pl_json "$T/state.json" 's["failure"]')"
check "failure.log: four lines" test "$(wc -l < "$T/failure.log")" = 4

# A plan that cannot be used: no stage ran.
pl_ns "
	printf 'root:\n  relocate: maybe\n' >$T/bad.yaml
	\"\$USI_INIT\" boot --root $R --no-handoff --config $T/bad.yaml >$T/out2 2>&1; echo \$? >$T/rc2
	cp $F $T/failure2.log 2>/dev/null
"
check "a bad config fails the boot" test "$(cat "$T/rc2")" != 0
check "failure.log names the plan, no device" grep -q '^==== boot failed in stage plan, device none: the configuration is not valid: .*bad.yaml:2:13' "$T/failure2.log"

# The good boot afterwards leaves no failure.log behind.
pl_attach "$T/persistent.img"
pl_ns "
	rm -f $F
	\"\$USI_INIT\" boot --root $R --no-handoff >$T/out3 2>&1; echo \$? >$T/rc3
	test -e $F && echo present >$T/present
"
check "a good boot exits 0" test "$(cat "$T/rc3")" = 0
check "a good boot writes no failure.log" test ! -e "$T/present"

# A binds failure names the volume the state dir lies on: its state dir
# replaced by a symlink on COS_PERSISTENT.
pl_ns "
	mkdir -p $T/mnt && mount -o loop $T/persistent.img $T/mnt &&
		rm -rf $T/mnt/.state && ln -s /oem $T/mnt/.state && umount $T/mnt
	\"\$USI_INIT\" boot --root $R --no-handoff >$T/out4 2>&1; echo \$? >$T/rc4
	cp $F $T/failure4.log 2>/dev/null
"
sed -n 1p "$T/failure4.log" | sed 's/^/# /'
check "a state dir that is a symlink fails the boot" test "$(cat "$T/rc4")" != 0
check "the binds banner names the state dir's volume" grep -q \
	'^==== boot failed in stage binds, device /dev/loop[0-9]* (volume persistent, label COS_PERSISTENT): persistent path .*/usr/local/.state.* ====$' \
	"$T/failure4.log"
done_testing
