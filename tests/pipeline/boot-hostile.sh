#!/bin/sh
# Hostile configurations and roots are refused with a clear error before
# anything is mounted: a state dir that is a symlink to /, a bind target with
# "..", a target that is a symlink out of the root, a bind path of /. State
# dirs on the persistent volume that are symlinks are refused when used, and
# nothing is bound.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require

pl_image "$T/oem.img" COS_OEM
pl_image "$T/persistent.img" COS_PERSISTENT
pl_attach "$T/oem.img"
pl_attach "$T/persistent.img"

# refused NAME EXIT PATTERN ROOT [ARGS...]: boot exits EXIT, prints PATTERN,
# and mounts nothing under ROOT.
refused() {
	_name=$1 _exit=$2 _pat=$3 _root=$4
	shift 4
	pl_ns "
		\"\$USI_INIT\" boot --root $_root --no-handoff $* >$T/out 2>&1; echo \$? >$T/rc
		grep -c ' $_root/' /proc/self/mountinfo >$T/n
	"
	check "$_name: exit $_exit" test "$(cat "$T/rc")" = "$_exit"
	check "$_name: the error says why" grep -q -- "$_pat" "$T/out"
	check "$_name: nothing was mounted" test "$(cat "$T/n")" = 0
	grep -q -- "$_pat" "$T/out" || sed 's/^/# /' "$T/out"
	diag "$(grep -m1 error "$T/out")"
}

R1=$T/r1; pl_root "$R1"; ln -s / "$R1/state"
printf 'binds:\n  state_dir: /state\n' >"$T/state-root.yaml"
refused "state dir is a symlink to /" 1 "/state is a symlink (to /)" "$R1" --config "$T/state-root.yaml"

R2=$T/r2; pl_root "$R2"
printf 'binds:\n  extra_paths: [/etc/../root/.ssh]\n' >"$T/dotdot.yaml"
refused "bind target with .." 2 "dot-dot\|\.\." "$R2" --config "$T/dotdot.yaml"

R3=$T/r3; pl_root "$R3"; rmdir "$R3/opt"; ln -s /etc "$R3/opt"
refused "bind target is an absolute symlink out of the root" 1 "/opt is a symlink (to /etc)" "$R3"

R4=$T/r4; pl_root "$R4"; ln -s ../../../../../../../../etc "$R4/data"
printf 'binds:\n  extra_paths: [/data]\n' >"$T/data.yaml"
refused "bind target is a relative symlink climbing out of the root" 1 "/data is a symlink" "$R4" --config "$T/data.yaml"

R5=$T/r5; pl_root "$R5"
printf 'binds:\n  extra_paths: [/]\n' >"$T/slash.yaml"
refused "bind path is /" 2 "slash.yaml:2" "$R5" --config "$T/slash.yaml"

R6=$T/r6; pl_root "$R6"; rm -rf "$R6/var"; ln -s /var "$R6/var"
refused "an ephemeral path is a symlink out of the root" 1 "/var is a symlink (to /var)" "$R6"

# On the persistent volume itself: checked when the binds are applied.
mkdir -p "$T/ptree"; ln -s / "$T/ptree/.state"
pl_image "$T/evil.img" COS_EVIL "$T/ptree"
mkdir -p "$T/ptree2/.state"; ln -s /etc "$T/ptree2/.state/etc-ssh.bind"
pl_image "$T/evil2.img" COS_EVIL2 "$T/ptree2"
pl_attach "$T/evil.img"
pl_attach "$T/evil2.img"
for v in 1 2; do
	label=COS_EVIL; [ $v = 2 ] && label=COS_EVIL2
	printf 'volumes:\n  - name: persistent\n    match: { fs_label: %s }\n' "$label" >"$T/evil$v.yaml"
	R=$T/e$v; pl_root "$R"
	pl_ns "
		\"\$USI_INIT\" boot --root $R --no-handoff --config $T/evil$v.yaml >$T/out$v 2>&1; echo \$? >$T/rc$v
		cat /proc/self/mountinfo >$T/mi$v
	"
done
check "state dir on the volume is a symlink to /: refused" test "$(cat "$T/rc1")" = 1
check "  the error names it" grep -q "/usr/local/.state is a symlink (to /)" "$T/out1"
check "  no bind mount was made" sh -c "! grep -q ' $T/e1/etc/ssh ' $T/mi1 && ! grep -q ' $T/e1/home ' $T/mi1"
check "a state dir entry is a symlink out of the state dir: refused" test "$(cat "$T/rc2")" = 1
check "  the error names it" grep -q "etc-ssh.bind is a symlink (to /etc)" "$T/out2"
check "  /etc/ssh was not bound" sh -c "! grep -q ' $T/e2/etc/ssh ' $T/mi2"
for v in 1 2; do grep -q symlink "$T/out$v" || sed 's/^/# /' "$T/out$v"; done
done_testing
