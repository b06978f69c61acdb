#!/bin/sh
# Waiting on kernel uevents: a loop device attached 500 ms after the boot
# started is found as soon as it appears (no fixed sleep, no polling: the
# pickup latency is measured); a required volume that never appears fails
# after its timeout, naming the label and what was seen.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require

R=$T/root
pl_root "$R"
pl_image "$T/oem.img" COS_OEM
pl_image "$T/persistent.img" COS_PERSISTENT
pl_attach "$T/oem.img" OEM

# The boot runs in the background; the persistent image is attached 500 ms
# later (the test waits, usi-init does not).
pl_ns "
	\"\$USI_INIT\" boot --root $R --no-handoff --cmdline rd.usi.timeout=10 >$T/out 2>&1 &
	pid=\$!
	sleep 0.5
	losetup -f --show $T/persistent.img >$T/late.dev
	date +%s%N >$T/attached.ns
	wait \$pid; echo \$? >$T/rc
	cp $R/run/usi-init/state.json $T/state.json
"
PL_LOOPS="$PL_LOOPS $(cat "$T/late.dev")"
check "a device attached 500 ms after the start is found: exit 0" test "$(cat "$T/rc")" = 0
[ "$(cat "$T/rc")" = 0 ] || sed 's/^/# /' "$T/out"
check "state.json: persistent found on the late device" test \
	"$(pl_json "$T/state.json" '[v["device"] for v in s["volumes"] if v["name"] == "persistent"][0]')" = "$(cat "$T/late.dev")"
lat=$(pl_json "$T/state.json" \
	'int(s["started_at_us"] / 1000 + [v["found_ms"] for v in s["volumes"] if v["name"] == "persistent"][0] - '"$(cat "$T/attached.ns")"' / 1e6)')
found=$(pl_json "$T/state.json" '[v["found_ms"] for v in s["volumes"] if v["name"] == "persistent"][0]')
diag "found $found ms after the start; $lat ms after losetup returned (negative: the uevent beat the timestamp)"
check "picked up within 100 ms of its appearance" test "$lat" -lt 100
check "not found before it was attached" test "$found" -ge 400
pl_detach "$(cat "$T/late.dev")"

# A required volume that never appears.
pl_ns "
	s=\$(date +%s%N)
	\"\$USI_INIT\" boot --root $R --no-handoff --cmdline rd.usi.timeout=1 >$T/out2 2>&1; echo \$? >$T/rc2
	echo \$(( (\$(date +%s%N) - s) / 1000000 )) >$T/ms2
	cp $R/run/usi-init/state.json $T/state2.json
	grep -c ' $R/usr/local ' /proc/self/mountinfo >$T/n2
	\"\$USI_INIT\" status --root $R >$T/status2 2>&1; echo \$? >$T/status2.rc
"
ms=$(cat "$T/ms2")
diag "failed after $ms ms; $(grep -m1 error "$T/out2")"
check "a missing required volume fails the boot (exit 1)" test "$(cat "$T/rc2")" = 1
check "after its timeout (1 s), not before and not much later" sh -c "[ $ms -ge 1000 ] && [ $ms -lt 3000 ]"
check "the message names the label it waited for" grep -q "volume persistent: no device with .*COS_PERSISTENT.* appeared within 1000 ms" "$T/out2"
check "the message says what was seen" grep -q "seen: .*$OEM (ext4 file system label COS_OEM" "$T/out2"
check "state.json: failed in the devices stage, with the reason" test \
	"$(pl_json "$T/state2.json" 's["outcome"] + " " + s["failed_stage"] + " " + str("COS_PERSISTENT" in s["failure"])')" = "failed devices True"
check "nothing was mounted on /usr/local" test "$(cat "$T/n2")" = 0
check "usi-init status exits 1 and says where and why the boot failed" sh -c \
	"test \$(cat $T/status2.rc) = 1 && grep -q '^Failed in devices: volume persistent: no device' $T/status2"
done_testing
