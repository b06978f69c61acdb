#!/bin/sh
# The Kairos default layout (no config at all) on two loop devices with plain
# ext4 images labelled COS_OEM and COS_PERSISTENT: mounts in plan order, /etc
# ephemeral, the default persistent paths bound from /usr/local/.state, API
# file systems with safe flags, state.json.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require

R=$T/root
pl_root "$R"
pl_image "$T/oem.img" COS_OEM
pl_image "$T/persistent.img" COS_PERSISTENT
pl_attach "$T/oem.img"
pl_attach "$T/persistent.img"
S=$R/run/usi-init/state.json

pl_ns "
	start=\$(date +%s%N)
	\"\$USI_INIT\" boot --root $R --no-handoff >$T/out 2>$T/err; echo \$? >$T/rc
	echo \$(( (\$(date +%s%N) - start) / 1000000 )) >$T/ms
	cp $S $T/state.json 2>/dev/null
	\"\$USI_INIT\" status --root $R >$T/status 2>&1; echo \$? >$T/status.rc
	\"\$USI_INIT\" status --root $R --svg $T/timeline.svg >$T/svg.out 2>&1; echo \$? >$T/svg.rc
	python3 $top_srcdir/tests/pipeline/mount-order.py $R $S >$T/order 2>&1; echo \$? >$T/order.rc
	python3 $top_srcdir/tests/pipeline/binds-match.py $R $S >$T/binds 2>&1; echo \$? >$T/binds.rc
	grep ' $R/' /proc/self/mountinfo >$T/mountinfo
	stat -c %d:%i $R/etc/ssh $R/usr/local/.state/etc-ssh.bind $R/var/log $R/usr/local/.state/var-log.bind \
		$R/home $R/usr/local/.state/home.bind >$T/inodes 2>&1
	cat $R/etc/ssh/sshd_config >$T/sshd 2>&1
	stat -f -c %T $R/etc >$T/etc.fstype
	echo written >$R/etc/ephemeral-file
	ls $R/run/usi-init/overlay/etc/.overlay/upper >$T/upper
"
check "boot --root exits 0 with no config" test "$(cat "$T/rc")" = 0
[ "$(cat "$T/rc")" = 0 ] || sed 's/^/# /' "$T/err"
diag "boot --root took $(cat "$T/ms") ms wall (process start to exit)"
check "mountinfo lists the plan's mounts in plan order after the API file systems" test "$(cat "$T/order.rc")" = 0
[ "$(cat "$T/order.rc")" = 0 ] || sed 's/^/# /' "$T/order"
check "COS_OEM is mounted on /oem" grep -q " $R/oem .* ext4 " "$T/mountinfo"
check "COS_PERSISTENT is mounted on /usr/local" grep -q " $R/usr/local .* ext4 " "$T/mountinfo"
check "/etc is an overlay" grep -qx overlayfs "$T/etc.fstype"
check "the overlay tmpfs is at /run/usi-init/overlay" grep -q " $R/run/usi-init/overlay .* tmpfs " "$T/mountinfo"
check "/etc's lower layer is the image's /etc, upper on the tmpfs" \
	grep -q "lowerdir=$R/etc,upperdir=$R/run/usi-init/overlay/etc/.overlay/upper" "$T/mountinfo"
check "a write to /etc lands on the tmpfs upper layer" grep -qx ephemeral-file "$T/upper"
check "the image's /etc is untouched by it" test ! -e "$R/etc/ephemeral-file"
pair() { sed -n "$1p;$2p" "$T/inodes" | uniq | wc -l; }
check "/etc/ssh is bound from /usr/local/.state/etc-ssh.bind" test "$(pair 1 2)" = 1
check "/var/log is bound from /usr/local/.state/var-log.bind" test "$(pair 3 4)" = 1
check "/home is bound from /usr/local/.state/home.bind" test "$(pair 5 6)" = 1
check "every default persistent path is bound from its /usr/local/.state/*.bind" test "$(cat "$T/binds.rc")" = 0
diag "$(cat "$T/binds")"
check "the state dir was seeded from the image" grep -qx "image sshd config" "$T/sshd"
check "/dev/shm is nosuid,nodev,noexec" grep -Eq " $R/dev/shm [^ ]*nosuid,nodev,noexec" "$T/mountinfo"
check "/tmp is nosuid,nodev" grep -Eq " $R/tmp [^ ]*nosuid,nodev" "$T/mountinfo"
check "/run is nosuid,nodev" grep -Eq " $R/run [^ ]*nosuid,nodev" "$T/mountinfo"

check "state.json: outcome success" test "$(pl_json "$T/state.json" 's["outcome"]')" = success
check "state.json: every stage up to extensions has a time in ms" test \
	"$(pl_json "$T/state.json" '",".join(x["name"] for x in s["stages"] if isinstance(x["ms"], int))')" = \
	"early,modules,devices,unlock,mounts,overlays,binds,extensions"
check "state.json: both volumes found, by device, and mounted" test \
	"$(pl_json "$T/state.json" '[(v["name"], v["found"], v["mounted"], v["device"].startswith("/dev/loop")) for v in s["volumes"]]')" = \
	"[('oem', True, True, True), ('persistent', True, True, True)]"
check "state.json: found by file system label (plain ext4)" test \
	"$(pl_json "$T/state.json" '[v["found_by"] for v in s["volumes"]]')" = "['fs_label', 'fs_label']"
check "state.json: the plan was rebuilt with the /oem config" test "$(pl_json "$T/state.json" 's["oem_config"]')" = true
check "state.json: records the mounts made" test "$(pl_json "$T/state.json" 'len(s["mounts"]) > 40')" = true
diag "stages: $(pl_json "$T/state.json" '" ".join("%s=%dms" % (x["name"], x["ms"]) for x in s["stages"])')"

check "usi-init status --root summarises the boot for a person" sh -c \
	"test \$(cat $T/status.rc) = 0 && grep -q '^Boot: success' $T/status && grep -q '^Volume oem: /dev/loop[0-9]* (ext4 label COS_OEM) by fs_label' $T/status"
sed 's/^/# /' "$T/status" | head -6
check "status --svg draws this boot: every stage, each volume found and mounted, as recorded" sh -c \
	"test \$(cat $T/svg.rc) = 0 && python3 $top_srcdir/tests/integration/svg-check.py $T/state.json $T/timeline.svg &&
	 grep -q 'data-name=\"persistent\" data-step=\"mounted\"' $T/timeline.svg"

# After the namespace is gone nothing of it is left on the host.
check "nothing stays mounted after the namespace ends" sh -c "! grep -q ' $R/' /proc/self/mountinfo"
done_testing
