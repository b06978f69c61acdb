#!/bin/sh
# A rewritten LUKS2 header in a boot (trust-chain rule 4): COS_OEM's header
# rewritten by an attacker with no key (a cipher_null data segment over
# plaintext that holds a usi-init.yaml) is a trust-chain refusal: the boot
# halts before any key is tried, names the device and the field on the
# banner and in state.json, and gets no shell even where one is allowed. The
# genuine header goes on to the keyslot (which this host cannot map: no
# device-mapper), an ordinary failure.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require
command -v cryptsetup >/dev/null || skip_all "needs cryptsetup"

R=$T/root
pl_root "$R"
head -c 32 /dev/urandom >"$T/key"
truncate -s 32M "$T/oem.img"
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--luks2-keyslots-size 1M --label COS_OEM --key-file "$T/key" "$T/oem.img" >/dev/null 2>&1
cp "$T/oem.img" "$T/null.img"
python3 "$top_srcdir/tests/tpm/luks2-rewrite.py" "$T/null.img" segments.0.encryption=cipher_null-ecb
# What the attacker wants mounted as /oem: a config in plaintext where the
# null cipher reads the data area as it is.
mkdir -p "$T/evil"
printf 'on_failure: shell\nallow_shell: true\n' >"$T/evil/usi-init.yaml"
truncate -s 30M "$T/evil.ext4"
mkfs.ext4 -q -F -d "$T/evil" "$T/evil.ext4"
offset=$(cryptsetup luksDump "$T/null.img" | sed -n 's/^[[:space:]]*offset: \([0-9]*\) \[bytes\]/\1/p' | head -n 1)
dd if="$T/evil.ext4" of="$T/null.img" bs=1M seek=$((offset / 1048576)) conv=notrunc status=none
check "cryptsetup accepts the rewritten header" cryptsetup isLuks "$T/null.img"

printf 'on_failure: shell\nallow_shell: true\nvolumes:\n  - name: oem\n    unlock: [keyfile]\n    keyfile: %s\n' \
	"$T/key" >"$T/cfg.yaml"

# boot_img IMG OUT [CONFIG]: one boot with IMG as COS_OEM; OUT, OUT.rc, OUT.json.
boot_img() {
	pl_attach "$1" DEV
	pl_ns "
		\"\$USI_INIT\" boot --root $R --no-handoff --config ${3:-$T/cfg.yaml} --cmdline rd.usi.timeout=2 \
			--state-file $2.json >$2 2>&1; echo \$? >$2.rc
		cp $R/run/usi-init/failure.log $2.failure 2>/dev/null
	"
	pl_detach "$DEV"
}

boot_img "$T/null.img" "$T/null"
check "cipher_null data segment: the boot fails" test "$(cat "$T/null.rc")" = 1
check "  refused naming the device and the field" \
	grep -q "$DEV: LUKS2 data segment 0 uses cipher_null-ecb: refused" "$T/null"
check "  the banner says the same" \
	grep -q "^==== boot failed in stage unlock, device $DEV: $DEV: LUKS2 data segment 0 uses cipher_null-ecb: refused ====" "$T/null.failure"
check "  state.json records a trust-chain refusal (halt, never a shell)" test "$(pl_json "$T/null.json" 's["refused"]')" = true
check "  no key was tried (no unlock attempt is logged)" sh -c "! grep -q 'keyfile unlock of' '$T/null'"
diag "$(grep -m1 'refused' "$T/null")"

boot_img "$T/oem.img" "$T/genuine"
check "the genuine header is not refused" sh -c "! grep -q ': refused' '$T/genuine'"
check "  it goes on to the key file (and fails only at the mapping)" grep -q "keyfile unlock of $DEV failed" "$T/genuine"
check "  state.json: no refusal" test "$(pl_json "$T/genuine.json" 's.get("refused")')" = false

# The allow-list is the image's: serpent is refused by default and taken
# where the image's configuration lists it (luks.ciphers).
# (luksFormat checks a cipher through device-mapper, which this host lacks:
# the header of oem.img says serpent instead.)
cp "$T/oem.img" "$T/serpent.img"
python3 "$top_srcdir/tests/tpm/luks2-rewrite.py" "$T/serpent.img" segments.0.encryption=serpent-xts-plain64 \
	keyslots.0.area.encryption=serpent-xts-plain64
boot_img "$T/serpent.img" "$T/serpent"
check "serpent-xts-plain64 off the default allow-list: refused" \
	grep -q "$DEV: LUKS2 data segment 0 uses serpent-xts-plain64: refused" "$T/serpent"
{ cat "$T/cfg.yaml"; printf 'luks:\n  ciphers: [aes-xts-plain64, serpent-xts-plain64]\n'; } >"$T/serpent.yaml"
boot_img "$T/serpent.img" "$T/serpent-ok" "$T/serpent.yaml"
check "  taken where the image's luks.ciphers lists it" sh -c "! grep -q ': refused' '$T/serpent-ok'"
check "  and it goes on to the key file" grep -q "keyfile unlock of $DEV failed" "$T/serpent-ok"
done_testing
