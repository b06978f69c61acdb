#!/bin/sh
# Planted volumes, as the trust chain must see them. USI mode from what a
# UKI boot leaves (files in /.extra under the root, systemd-stub's EFI
# variables in --efivars DIR) or rd.immucore.uki: a plaintext ext4 labelled COS_PERSISTENT where the plan
# expects LUKS2 is refused before anything is mounted, naming the device and
# what is there. A second carrier of a found volume's label that appears
# later in the boot fails it closed, naming both: during the second devices
# stage (found in the first pass), and after every volume was found (during
# the mounts), before anything else runs.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require

R=$T/root
pl_root "$R"
pl_image "$T/oem.img" COS_OEM
pl_image "$T/oem2.img" COS_OEM
pl_image "$T/persistent.img" COS_PERSISTENT
pl_image "$T/persistent2.img" COS_PERSISTENT

# USI mode, and why, as `plan` says it.
mkdir -p "$T/extra-root/.extra" "$T/efivars"
: >"$T/extra-root/.extra/tpm2-pcr-signature.json"
# StubInfo: attributes (4 bytes), then "sd-stub" in UTF-16LE.
printf '\006\000\000\000s\000d\000-\000s\000t\000u\000b\000\000\000' \
	>"$T/efivars/StubInfo-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
"$USI_INIT" plan --root "$T/extra-root" >"$T/plan.extra" 2>&1
check "plan: /.extra under the root turns USI mode on" grep -q '^usi-init boot plan (USI mode: UKI boot)' "$T/plan.extra"
check "  and says why" sh -c "grep -A1 '^USI mode: on' '$T/plan.extra' | grep -q '^  - /.extra holds tpm2-pcr-signature.json (left by systemd-stub)'"
check "  the default persistent volume accepts only LUKS2" grep -q 'unlock persistent .*(accepts only LUKS2' "$T/plan.extra"
"$USI_INIT" plan --root "$R" --efivars "$T/efivars" --json >"$T/plan.efi.json" 2>&1
check "plan: systemd-stub's StubInfo EFI variable turns USI mode on" test \
	"$(pl_json "$T/plan.efi.json" 's["usi_mode"] and any("StubInfo-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f (sd-stub)" in e for e in s["usi_evidence"])')" = true
"$USI_INIT" plan --root "$R" --efivars "$T/efivars" --cmdline rd.immucore.uki --json >"$T/plan.both.json" 2>&1
check "  with rd.immucore.uki too: both reasons" test "$(pl_json "$T/plan.both.json" 'len(s["usi_evidence"])')" = 2
"$USI_INIT" plan --root "$R" >"$T/plan.none" 2>&1
check "plan: a root without any of them is not in USI mode, and says so" grep -q '^USI mode: off (no rd.immucore.uki, nothing in /.extra' "$T/plan.none"
mkdir -p "$T/empty-root/.extra"
"$USI_INIT" plan --root "$T/empty-root" >"$T/plan.empty" 2>&1
check "plan: an empty /.extra (part of an image, not left by the stub) is no evidence" grep -q '^USI mode: off' "$T/plan.empty"

# boot_in ROOT OUT ARGS...: one boot in its own namespace; OUT.rc, OUT.n
# (mounts below ROOT), OUT.ul (mounts on ROOT/usr/local), OUT.state
# (state.json), OUT.flog (failure.log).
boot_in() {
	_r=$1 _o=$2
	shift 2
	pl_ns "
		\"\$USI_INIT\" boot --root $_r --no-handoff --cmdline 'rd.usi.timeout=2 ${PL_CMDLINE:-}' $* >$_o 2>&1; echo \$? >$_o.rc
		grep -c ' $_r/' /proc/self/mountinfo >$_o.n
		grep -c ' $_r/usr/local ' /proc/self/mountinfo >$_o.ul
		cp $_r/run/usi-init/state.json $_o.state 2>/dev/null
		cp $_r/run/usi-init/failure.log $_o.flog 2>/dev/null
	"
}

# The plaintext persistent of a USI node: /oem disabled, so it is the first
# volume the boot looks at and nothing is mounted before.
pl_attach "$T/persistent.img" P
printf 'volumes:\n  - name: oem\n    enabled: false\n' >"$T/no-oem.yaml"
mkdir -p "$R/.extra"
: >"$R/.extra/tpm2-pcr-signature.json"
boot_in "$R" "$T/plain" --config "$T/no-oem.yaml"
check "USI mode (/.extra): a plaintext ext4 COS_PERSISTENT is refused" test "$(cat "$T/plain.rc")" = 1
check "  naming the device and what is there" grep -q "volume persistent: $P carries ext4 file system label COS_PERSISTENT .* where an encrypted volume is expected" "$T/plain"
check "  nothing mounted below the root but the API file systems" test \
	"$(pl_json "$T/plain.state" '[m["target"] for m in s["mounts"] if m["stage"] != "early"]')" = "[]"
# Read in the boot's namespace: this shell's /proc/self/mountinfo never
# shows what the boot mounted.
check "  nothing on /usr/local" test "$(cat "$T/plain.ul")" = 0
check "  state.json: failed in devices, the device in the banner" test \
	"$(pl_json "$T/plain.state" 's["failed_stage"] + " " + str(s["plan"]["usi_mode"])')" = "devices True"
check "  failure.log names the device" grep -q "boot failed in stage devices, device $P (volume persistent): volume persistent: $P carries ext4" "$T/plain.flog"
rm -r "$R/.extra"
PL_CMDLINE=rd.immucore.uki boot_in "$R" "$T/plain-uki" --config "$T/no-oem.yaml"
check "USI mode (rd.immucore.uki): the same refusal" grep -q "volume persistent: $P carries ext4 .* where an encrypted volume is expected" "$T/plain-uki"
# StubInfo beside a SecureBoot = 1, so the early stage lets the boot on.
cp -r "$T/efivars" "$T/efivars-sb"
printf '\006\000\000\000\001' >"$T/efivars-sb/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
boot_in "$R" "$T/plain-efi" --config "$T/no-oem.yaml" --efivars "$T/efivars-sb"
check "USI mode (StubInfo in --efivars): the same refusal" grep -q "volume persistent: $P carries ext4 .* where an encrypted volume is expected" "$T/plain-efi"
boot_in "$R" "$T/plain-ok" --config "$T/no-oem.yaml"
check "outside USI mode the same plain volume boots" test "$(cat "$T/plain-ok.rc")" = 0
pl_detach "$P"

# A late duplicate of /oem: /oem is found and mounted in the first pass;
# while the second pass waits for COS_PERSISTENT, a second COS_OEM appears,
# then the persistent volume.
pl_attach "$T/oem.img" A
pl_ns "
	\"\$USI_INIT\" boot --root $R --no-handoff --cmdline rd.usi.timeout=20 >$T/late 2>&1 &
	pid=\$!
	# The test waits for the first pass to end (usi-init waits for nothing).
	n=0
	until grep -q ' $R/oem ' /proc/self/mountinfo; do
		n=\$((n + 1)); [ \$n -lt 200 ] || break; sleep 0.05
	done
	losetup -f --show $T/oem2.img >$T/late.dup
	losetup -f --show $T/persistent.img >$T/late.p
	wait \$pid; echo \$? >$T/late.rc
	grep -c ' $R/usr/local ' /proc/self/mountinfo >$T/late.n
	cp $R/run/usi-init/state.json $T/late.state
"
B=$(cat "$T/late.dup")
PL_LOOPS="$PL_LOOPS $B $(cat "$T/late.p")"
check "a second COS_OEM appearing after /oem was found: refused" test "$(cat "$T/late.rc")" = 1
check "  naming both devices" grep -q "volume oem: two devices match it, $A (.*) and $B (.*)" "$T/late"
check "  /usr/local is never mounted" test "$(cat "$T/late.n")" = 0
check "  state.json: failed in devices" test "$(pl_json "$T/late.state" 's["failed_stage"]')" = devices
pl_detach "$B"
pl_detach "$(cat "$T/late.p")"

# A late duplicate after every volume was found: the image's e2fsck (run in
# the mounts stage of the second pass) attaches a second COS_PERSISTENT
# before checking the persistent volume. The boot must stop before the
# overlays and binds, naming both.
E2FSCK=$(command -v e2fsck) || E2FSCK=/sbin/e2fsck
pl_attach "$T/persistent.img" P
mkdir -p "$R/usr/sbin"
cat >"$R/usr/sbin/e2fsck" <<EOS
#!/bin/sh
for a in "\$@"; do
	[ "\$a" = "$P" ] && [ ! -s "$T/dup.dev" ] && losetup -f --show "$T/persistent2.img" >"$T/dup.dev"
done
exec "$E2FSCK" "\$@"
EOS
chmod 0755 "$R/usr/sbin/e2fsck"
boot_in "$R" "$T/after"
P2=$(cat "$T/dup.dev")
PL_LOOPS="$PL_LOOPS $P2"
check "a second COS_PERSISTENT appearing after all volumes were found: refused" test "$(cat "$T/after.rc")" = 1
check "  naming both devices" grep -q "volume persistent: two devices match it, $P (.*) and $P2 (.*)" "$T/after"
check "  before the overlays and binds ran" test \
	"$(pl_json "$T/after.state" '[x["name"] for x in s["stages"]]')" = "['early', 'modules', 'devices', 'unlock', 'mounts']"
check "  the banner names both" grep -q "boot failed in stage devices, device $P and $P2 (volume persistent)" "$T/after.flog"
rm "$R/usr/sbin/e2fsck"
pl_detach "$P2"
boot_in "$R" "$T/after-ok"
check "without the late device the same boot succeeds" test "$(cat "$T/after-ok.rc")" = 0
done_testing
