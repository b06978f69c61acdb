#!/bin/sh
# /oem first, then the plan is rebuilt with the config found there: its
# usi-init.yaml and the install.* keys of the Kairos cloud-configs beside it
# shape the rest of the boot. The overlay tmpfs size comes from the config,
# or from rd.immucore.overlay=tmpfs:SIZE.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require

R=$T/root
pl_root "$R"
mkdir -p "$T/oemtree"
printf 'overlay:\n  size: 64m\nbinds:\n  extra_paths: [/srv/data]\n' >"$T/oemtree/usi-init.yaml"
printf '#cloud-config\ninstall:\n  bind_mounts:\n    - /var/lib/custom\nstages:\n  boot:\n    - name: ignored\n' >"$T/oemtree/90_custom.yaml"
pl_oem_disks "$T/oemtree"
pl_boot_state "$R" "
	python3 $top_srcdir/tests/pipeline/mount-order.py $R $R/run/usi-init/state.json >$T/order 2>&1; echo \$? >$T/order.rc
	stat -c %d:%i $R/srv/data $R/usr/local/.state/srv-data.bind $R/var/lib/custom $R/usr/local/.state/var-lib-custom.bind >$T/ino 2>&1
"
check "boot with a config on /oem exits 0" test "$(cat "$T/rc")" = 0
[ "$(cat "$T/rc")" = 0 ] || sed 's/^/# /' "$T/out"
check "state.json: the plan was rebuilt with the /oem config" test "$(pl_json "$T/state.json" 's["oem_config"]')" = true
check "/oem/usi-init.yaml added a persistent path (/srv/data)" test "$(sed -n '1p;2p' "$T/ino" | uniq | wc -l)" = 1
check "install.bind_mounts of /oem/90_custom.yaml added /var/lib/custom" test "$(sed -n '3p;4p' "$T/ino" | uniq | wc -l)" = 1
check "the overlay tmpfs has the size from /oem (64m)" grep -q " $R/run/usi-init/overlay .*size=65536k" "$T/mi"
check "mountinfo still follows the rebuilt plan in order" test "$(cat "$T/order.rc")" = 0
[ "$(cat "$T/order.rc")" = 0 ] || sed 's/^/# /' "$T/order"
check "/oem was mounted before anything of the rest" test \
	"$(pl_json "$T/state.json" '[m["target"] for m in s["mounts"] if m["stage"] != "early"][0]')" = /oem

# A bad config on /oem stops the boot before the rest is mounted.
printf 'binds:\n  extra_paths: [relative/path]\n' >"$T/oemtree/usi-init.yaml"
pl_image "$T/oem-bad.img" COS_OEM "$T/oemtree"
pl_detach "$(losetup -j "$T/oem.img" | cut -d: -f1)"
pl_attach "$T/oem-bad.img"
pl_ns "
	\"\$USI_INIT\" boot --root $R --no-handoff >$T/out2 2>&1; echo \$? >$T/rc2
	grep -c ' $R/usr/local ' /proc/self/mountinfo >$T/n2
"
check "a bad /oem/usi-init.yaml fails the boot" test "$(cat "$T/rc2")" = 2
check "  with FILE:LINE:COLUMN of the file on /oem" grep -q "$R/oem/usi-init.yaml:2:" "$T/out2"
check "  and /usr/local is not mounted" test "$(cat "$T/n2")" = 0

done_testing
