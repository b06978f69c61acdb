# Helpers for the boot pipeline tests: loop devices with plain ext4 images,
# a test root, and `usi-init boot --root` inside a private mount namespace.
# Source after tests/integration/tap.sh. Everything made is undone by the
# EXIT trap: mounts vanish with their namespace, loops are detached by name.
set -u

: "${USI_INIT:?USI_INIT must point at the built usi-init}"

pl_require() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (loop devices, mount namespaces)"
	command -v losetup >/dev/null && command -v mkfs.ext4 >/dev/null && command -v unshare >/dev/null ||
		skip_all "needs losetup, mkfs.ext4 and unshare (util-linux, e2fsprogs)"
	[ -e /dev/loop-control ] || skip_all "no loop devices on this machine (/dev/loop-control missing)"
	unshare -m true 2>/dev/null || skip_all "cannot create a mount namespace (unshare -m)"
	command -v python3 >/dev/null || skip_all "needs python3 to read state.json"
	T=$(mktemp -d /tmp/usi-pipe.XXXXXX)
	PL_LOOPS=""
	trap pl_cleanup EXIT
	# /dev/loop-control can exist where attaching is not allowed (a container).
	truncate -s 1M "$T/probe.img"
	_l=$(losetup -f --show "$T/probe.img" 2>/dev/null) || skip_all "cannot attach a loop device here (losetup -f failed)"
	losetup -d "$_l"
	rm -f "$T/probe.img"
	# The default layout finds COS_OEM and COS_PERSISTENT on every block
	# device of the machine: two tests holding such images at once would
	# each see a duplicate. One test at a time, then.
	exec 9>/tmp/usi-init-pipeline-tests.lock
	flock 9
}

pl_cleanup() {
	[ -n "${PL_KEEP:-}" ] && return
	# Also loops attached in a subshell or a namespace: every one whose
	# backing file is in this test's directory.
	for l in $PL_LOOPS $(losetup -a | grep -F "($T/" | cut -d: -f1); do losetup -d "$l" 2>/dev/null; done
	rm -rf "$T"
}

# pl_image FILE LABEL [TREE]: a 32 MiB ext4, optionally filled from TREE.
pl_image() {
	truncate -s 32M "$1"
	if [ $# -ge 3 ]; then mkfs.ext4 -q -F -L "$2" -d "$3" "$1"; else mkfs.ext4 -q -F -L "$2" "$1"; fi
}

# pl_attach FILE [VAR]: attach, remember it for cleanup, and set VAR to the
# loop device (no $(...): a subshell would forget it).
pl_attach() {
	_l=$(losetup -f --show "$1") || return 1
	PL_LOOPS="$PL_LOOPS $_l"
	[ $# -lt 2 ] || eval "$2=\$_l"
}

pl_detach() {
	losetup -d "$1"
	PL_LOOPS=$(echo "$PL_LOOPS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# pl_root DIR: a small image tree: /etc with ssh config, /home, /var/log.
pl_root() {
	mkdir -p "$1/etc/ssh" "$1/home" "$1/var/log" "$1/srv" "$1/root" "$1/opt"
	echo image-host > "$1/etc/hostname"
	echo "image sshd config" > "$1/etc/ssh/sshd_config"
	chmod 0600 "$1/etc/ssh/sshd_config"
	echo "image log" > "$1/var/log/boot.log"
}

# pl_ns SCRIPT: run a shell script in a private mount namespace; what it
# mounts is gone when it returns. $USI_INIT, $T are exported to it.
pl_ns() {
	USI_INIT=$USI_INIT T=$T unshare -m --propagation private sh -c "$1"
}

# pl_boot ROOT [ARGS...]: the command line a test runs inside pl_ns.
pl_boot_cmd() {
	echo "\"\$USI_INIT\" boot --root $1 --no-handoff"
}

# pl_json FILE EXPR: evaluate a Python expression over the JSON in FILE as `s`.
pl_json() {
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if not isinstance(v,bool) else str(v).lower())' "$1" "$2"
}

# pl_oem_disks OEMTREE: COS_OEM filled from OEMTREE and an empty
# COS_PERSISTENT, attached ($T/oem.img, $T/persistent.img).
pl_oem_disks() {
	pl_image "$T/oem.img" COS_OEM "$1"
	pl_image "$T/persistent.img" COS_PERSISTENT
	pl_attach "$T/oem.img"
	pl_attach "$T/persistent.img"
}

# pl_boot_state ROOT [COMMANDS]: boot ROOT in a namespace; the exit code in
# $T/rc, the output in $T/out, state.json in $T/state.json, mountinfo in
# $T/mi; COMMANDS run after, in the same namespace.
pl_boot_state() {
	pl_ns "
	\"\$USI_INIT\" boot --root $1 --no-handoff >$T/out 2>&1; echo \$? >$T/rc
	cp $1/run/usi-init/state.json $T/state.json
	cat /proc/self/mountinfo >$T/mi
	${2:-}
"
}
