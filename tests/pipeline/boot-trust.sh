#!/bin/sh
# The trust-chain rules at the devices stage: two carriers of one label are
# refused naming both unless the volume is pinned by UUID; a volume declared
# encrypted that shows up plain is refused naming the device and what is
# there; so is LUKS1, and a LUKS2 volume nothing opened is never mounted raw.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require

R=$T/root
pl_root "$R"
pl_image "$T/oem.img" COS_OEM
pl_image "$T/oem2.img" COS_OEM
pl_image "$T/persistent.img" COS_PERSISTENT
pl_attach "$T/oem.img" A
pl_attach "$T/oem2.img" B
pl_attach "$T/persistent.img"

# boot_in ROOT OUT ARGS...: one boot in its own namespace; OUT.rc, OUT.n
# (mounts under ROOT/oem).
boot_in() {
	_r=$1 _o=$2
	shift 2
	pl_ns "
		\"\$USI_INIT\" boot --root $_r --no-handoff --cmdline rd.usi.timeout=2 $* >$_o 2>&1; echo \$? >$_o.rc
		grep -c ' $_r/oem ' /proc/self/mountinfo >$_o.n
	"
}

boot_in "$R" "$T/dup"
check "two devices labelled COS_OEM: refused" test "$(cat "$T/dup.rc")" = 1
check "  the error names both devices" grep -q "volume oem: two devices match it, $A (.*) and $B (.*)\|volume oem: two devices match it, $B (.*) and $A (.*)" "$T/dup"
check "  nothing mounted on /oem" test "$(cat "$T/dup.n")" = 0
diag "$(grep -m1 error "$T/dup")"

uuid=$(blkid -o value -s UUID "$T/oem2.img")
printf 'volumes:\n  - name: oem\n    match: { uuid: %s, fs_label: COS_OEM }\n' "$uuid" >"$T/pin.yaml"
boot_in "$R" "$T/pin" --config "$T/pin.yaml"
check "pinned by UUID: the duplicate label is accepted" test "$(cat "$T/pin.rc")" = 0
check "  and the pinned device is the one mounted" grep -q "volume oem: found $B" "$T/pin"

# tpm.bind_volumes: require on a boot that may not extend this machine's PCRs
# (--root with the device TPM): the chain cannot be made, so the unlock stage
# fails instead of opening an unchecked set.
printf 'volumes:\n  - name: oem\n    match: { uuid: %s, fs_label: COS_OEM }\ntpm:\n  bind_volumes: require\n' "$uuid" >"$T/require.yaml"
boot_in "$R" "$T/require" --config "$T/require.yaml"
check "bind_volumes require without volume-key measurements: refused" test "$(cat "$T/require.rc")" = 1
diag "$(grep -m1 error "$T/require")"
check "  the error says why" grep -q "unlock: tpm.bind_volumes: require, but this boot does not measure the volume keys into PCR 15" "$T/require"

pl_detach "$B"

printf 'volumes:\n  - name: oem\n    encrypted: true\n' >"$T/enc.yaml"
boot_in "$R" "$T/enc" --config "$T/enc.yaml"
check "encrypted: true found as plain ext4: refused" test "$(cat "$T/enc.rc")" = 1
check "  naming the device and what is on it" grep -q "volume oem: $A carries ext4 file system label COS_OEM .* where an encrypted volume is expected" "$T/enc"
check "  nothing mounted on /oem" test "$(cat "$T/enc.n")" = 0

boot_in "$R" "$T/uki" --cmdline rd.immucore.uki
check "a UKI boot (rd.immucore.uki) refuses the plain default volumes" test "$(cat "$T/uki.rc")" = 1
check "  naming the device" grep -q "volume oem: $A carries ext4" "$T/uki"
pl_detach "$A"

if command -v cryptsetup >/dev/null; then
	head -c 32 /dev/urandom >"$T/key"
	truncate -s 32M "$T/luks2.img" "$T/luks1.img"
	cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--luks2-keyslots-size 1M --label COS_OEM --key-file "$T/key" "$T/luks2.img" >/dev/null 2>&1
	cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 --key-file "$T/key" "$T/luks1.img"
	pl_attach "$T/luks2.img" L2
	boot_in "$R" "$T/luks2"
	check "LUKS2 that nothing opened: the boot fails" test "$(cat "$T/luks2.rc")" = 1
	check "  naming the device" grep -q "volume oem: .*$L2" "$T/luks2"
	check "  and it is never mounted raw" test "$(cat "$T/luks2.n")" = 0
	diag "$(grep -m1 error "$T/luks2")"
	pl_detach "$L2"

	pl_attach "$T/luks1.img" L1
	uuid=$(blkid -o value -s UUID "$T/luks1.img")
	printf 'volumes:\n  - name: oem\n    match: { uuid: %s }\n' "$uuid" >"$T/l1.yaml"
	boot_in "$R" "$T/luks1" --config "$T/l1.yaml"
	check "LUKS1: refused" test "$(cat "$T/luks1.rc")" = 1
	check "  naming the device and LUKS1" grep -q "volume oem: $L1 carries LUKS1.*only LUKS2" "$T/luks1"
	check "  nothing mounted on /oem" test "$(cat "$T/luks1.n")" = 0
	pl_detach "$L1"
else
	skip "LUKS2 that nothing opened is refused" "cryptsetup is not installed"
	skip "LUKS1 is refused" "cryptsetup is not installed"
fi
done_testing
