#!/bin/sh
# Files on /oem are whatever the holder of the disk wrote there. Each kind of
# hostile file, as /oem/usi-init.yaml and as a cloud-config beside it: a
# FIFO (which used to hold the boot forever), a symlink out of /oem to a
# config that would be honoured, /dev/zero behind a symlink, a character
# device node (c 1 5) and a file over the 1 MiB cap. Each is left out with a
# warning naming it and what it is; the boot goes on, in time, and the
# genuine cloud-config beside them still applies.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require
command -v timeout >/dev/null || skip_all "needs timeout (coreutils)"

R=$T/root
pl_root "$R"
# What the symlinks out of /oem reach: configs that would add /var/lib/leak.
printf 'binds:\n  extra_paths: [/var/lib/leak]\n' >"$R/etc/leak-usi.yaml"
printf '#cloud-config\ninstall:\n  bind_mounts:\n    - /var/lib/leak\n' >"$R/etc/leak-cloud.yaml"
pl_image "$T/persistent.img" COS_PERSISTENT
pl_attach "$T/persistent.img"

# hostile KIND FILE TEXT: FILE made as KIND; TEXT is what a big one starts with.
hostile() {
	case $1 in
	fifo) mkfifo "$2" ;;
	out) ln -s "../etc/leak-$3.yaml" "$2" ;;
	zero) ln -s /dev/zero "$2" ;;
	chr) mknod "$2" c 1 5 ;;
	big)
		if [ "$3" = usi ]; then printf 'binds:\n  extra_paths: [/var/lib/leak]\n'
		else printf '#cloud-config\ninstall:\n  bind_mounts:\n    - /var/lib/leak\n'; fi >"$2"
		head -c 1048576 /dev/zero | tr '\0' '#' >>"$2" ;;
	esac
}

reason() {
	case $1 in
	fifo) echo "is a FIFO" ;;
	out) echo "is a symlink (to ../etc/leak-$2.yaml)" ;;
	zero) echo "is a symlink (to /dev/zero)" ;;
	chr) echo "is a character device" ;;
	big) echo "is larger than 1048576 bytes" ;;
	esac
}

# warned FILE TEXT: state.json's warnings hold one naming FILE with TEXT.
warned() {
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
sys.exit(not any(sys.argv[2] in w and sys.argv[3] in w for w in s["warnings"]))' "$T/state.json" "$1" "$2" ||
		{ pl_json "$T/state.json" 's["warnings"]' | sed 's/^/# /'; false; }
}

LOOP=
for k in fifo out zero chr big; do
	rm -rf "$T/oemtree"; mkdir -p "$T/oemtree"
	hostile "$k" "$T/oemtree/usi-init.yaml" usi
	hostile "$k" "$T/oemtree/10_bad.yaml" cloud
	printf '#cloud-config\ninstall:\n  bind_mounts:\n    - /var/lib/custom\n' >"$T/oemtree/90_ok.yaml"
	pl_image "$T/oem-$k.img" COS_OEM "$T/oemtree"
	[ -z "$LOOP" ] || pl_detach "$LOOP"
	pl_attach "$T/oem-$k.img" LOOP
	rm -f "$T/state.json"
	pl_ns "
		start=\$(date +%s)
		timeout 60 \"\$USI_INIT\" boot --root $R --no-handoff >$T/out 2>&1; echo \$? >$T/rc
		echo \$((\$(date +%s) - start)) >$T/secs
		cp $R/run/usi-init/state.json $T/state.json
		grep -c ' $R/var/lib/custom ' /proc/self/mountinfo >$T/custom
		grep -c ' $R/var/lib/leak ' /proc/self/mountinfo >$T/leak
	"
	check "$k: the boot finished and exited 0" test "$(cat "$T/rc")" = 0
	[ "$(cat "$T/rc")" = 0 ] || sed 's/^/# /' "$T/out"
	check "$k:   in time ($(cat "$T/secs") s)" test "$(cat "$T/secs")" -lt 30
	for f in usi-init.yaml:usi 10_bad.yaml:cloud; do
		want=$(reason "$k" "${f#*:}")
		check "$k:   /oem/${f%%:*} was left out: $want" warned "$R/oem/${f%%:*} $want" "booting on without it"
	done
	check "$k:   the genuine cloud-config beside them applied" test "$(cat "$T/custom")" = 1
	check "$k:   nothing of the files out of /oem was read" test "$(cat "$T/leak")" = 0
done
done_testing
