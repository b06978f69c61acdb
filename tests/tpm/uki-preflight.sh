#!/bin/sh
# The upgrade preflight (`unlock --check --explain --uki`) against Debian's
# tools: a UKI made by objcopy on systemd-stub 252, PCR 11 predicted for it
# exactly as systemd-measure calculate computes it, its .pcrsig (from
# systemd-measure sign) verified against its .pcrpkey, the image lint, and
# per volume whether its systemd-tpm2 token opens under it.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require objcopy objdump
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -f "$STUB" ] || skip_all "$STUB missing (package systemd-boot-efi)"
MAKE_UKI="sh $top_srcdir/tests/tpm/uki-make.sh"

swtpm_start tpm
make_uki
make_key sign
make_key other
# A splash, a dtb and a cmdline whose size is not a multiple of 512: the
# stub measures VirtualSize bytes, not the padded SizeOfRawData.
head -c 777 /dev/urandom > "$T/uki/splash"
head -c 333 /dev/urandom > "$T/uki/dtb"
cp "$T/sign.pub.pem" "$T/uki/pcrpkey"
SECTIONS="--linux=$T/uki/linux --osrel=$T/uki/osrel --cmdline=$T/uki/cmdline --initrd=$T/uki/initrd
	--splash=$T/uki/splash --dtb=$T/uki/dtb --pcrpkey=$T/uki/pcrpkey"
measure_pcr11() { # BANK PHASE
	# shellcheck disable=SC2086
	"$MEASURE" calculate $SECTIONS --bank="$1" --phase="$2" | sed -n "s/^11:$1=//p"
}
sign_all() { # KEY OUT
	# shellcheck disable=SC2086
	"$MEASURE" sign $SECTIONS --bank=sha256 --bank=sha1 --phase=enter-initrd \
		--phase=enter-initrd:leave-initrd --private-key="$T/$1.pem" --public-key="$T/$1.pub.pem" \
		--tpm2-device="$TCTI" > "$2" 2>"$T/sign.log"
	_rc=$?
	tpm_flush
	[ $_rc = 0 ] && [ -s "$2" ]
}
check "systemd-measure signs enter-initrd and leave-initrd (sha256, sha1)" sign_all sign "$T/uki/pcrsig"
# Sections in a file order unlike the stub's measuring order.
mk() { # OUT [SECTION...]
	_o=$1; shift
	_a=''
	for s in "$@"; do _a="$_a .$s=$T/uki/$s"; done
	# shellcheck disable=SC2086
	$MAKE_UKI "$STUB" "$_o" $_a
}
check "objcopy makes the UKI" mk "$T/new.efi" pcrsig dtb osrel pcrpkey splash cmdline initrd linux

preflight() { OUT=$("$USI_INIT" unlock --check --explain --uki="$@" 2>&1); RC=$?; }
preflight "$T/new.efi"
diag "$OUT"
check "no volume named and no record: exit 4, saying no volume was judged" \
	sh -c '[ "$1" = 4 ] && printf "%s\n" "$2" | grep -q ": no volume judged"' - "$RC" "$OUT"
check "the stub 252's sections, in its order" \
	expect_line "$T/new.efi: measured into PCR 11 (systemd-stub 252): .linux .osrel .cmdline .initrd .splash .dtb .pcrpkey"
check "PCR 11 after the sections is systemd-measure's (no phase)" \
	expect_line "$T/new.efi: PCR 11 sha256 after the sections: $(measure_pcr11 sha256 "")"
for p in enter-initrd enter-initrd:leave-initrd enter-initrd:leave-initrd:sysinit enter-initrd:leave-initrd:sysinit:ready; do
	check "PCR 11 at $p is systemd-measure's" expect_line "$T/new.efi: PCR 11 sha256 $p: $(measure_pcr11 sha256 "$p")"
done
check "the sha1 entry of enter-initrd names systemd-measure's sha1 value and verifies" \
	expect_has "= PCR 11 $(measure_pcr11 sha1 enter-initrd) at enter-initrd: signature valid"
check "the sha256 entry of leave-initrd verifies" \
	expect_has "= PCR 11 $(measure_pcr11 sha256 enter-initrd:leave-initrd) at enter-initrd:leave-initrd: signature valid"
check "enter-initrd is signed" expect_has "$T/new.efi: enter-initrd: signed (sha256 entry 0"
check "the lint passes" expect_line "$T/new.efi: lint: ok"
check "Debian's stub 252 itself: .sdmagic is misaligned (a warning)" \
	expect_line "$T/new.efi: lint: alignment: section .sdmagic: VirtualAddress 0x19100 is not a multiple of SectionAlignment 0x200"

# Volumes: one enrolled to key "sign", one to key "other".
make_image "$T/a.img" && enroll "$T/a.img" sign && cryptsetup config --label persistent "$T/a.img"
make_image "$T/b.img" && enroll "$T/b.img" other && cryptsetup config --label oem "$T/b.img"
FP=$(openssl rsa -pubin -in "$T/sign.pub.pem" -RSAPublicKey_out -outform DER 2>/dev/null | sha256sum | cut -c1-8)
preflight "$T/new.efi" "$T/a.img"
check "a volume of the signing key opens (exit 0)" [ "$RC" = 0 ]
check "its verdict names the key" expect_line "$T/new.efi: persistent: opens (enter-initrd signed by key $FP..)"
preflight "$T/new.efi" "$T/a.img" "$T/b.img"
check "a volume of another key stays locked (exit 5)" [ "$RC" = 5 ]
check "its verdict names both keys" expect_has "$T/new.efi: oem: stays locked: the UKI's .pcrpkey $FP.. is not the token's key"
check "  one volume has the UKI's key: no lint about it" sh -c '! printf "%s\n" "$1" | grep -q "is the key of no token"' - "$OUT"
preflight "$T/new.efi" "$T/b.img"
check "no volume has the UKI's key: the lint says so" expect_line "$T/new.efi: lint: its key $FP.. is the key of no token of the volumes judged"

# A signature by a foreign key in the UKI: it does not verify against .pcrpkey.
check "systemd-measure signs with the other key" sign_all other "$T/foreign.json"
cp "$T/uki/pcrsig" "$T/good.json"; cp "$T/foreign.json" "$T/uki/pcrsig"
mk "$T/foreign.efi" linux osrel cmdline initrd splash dtb pcrpkey pcrsig
preflight "$T/foreign.efi" "$T/a.img"
check "a foreign signature: exit 5" [ "$RC" = 5 ]
check "its entries do not verify" expect_has "at enter-initrd: signature INVALID"
check "the lint says enter-initrd is not covered" expect_has "lint: no valid signature covers enter-initrd"
check "the volume stays locked: nothing valid signs enter-initrd" \
	expect_line "$T/foreign.efi: persistent: stays locked: no valid sha256 signature of enter-initrd by key $FP.."
cp "$T/good.json" "$T/uki/pcrsig"

# Another command line: the old signature no longer covers enter-initrd.
printf 'console=ttyS0 quiet\n' > "$T/uki/cmdline.new"
mk "$T/cmdline.efi" linux osrel initrd splash dtb pcrpkey pcrsig && \
	objcopy --add-section .cmdline="$T/uki/cmdline.new" --change-section-vma .cmdline=0x4000000 "$T/cmdline.efi" "$T/cmdline2.efi"
preflight "$T/cmdline2.efi" "$T/a.img"
check "a new command line under the old signature: exit 5" [ "$RC" = 5 ]
check "its entries sign no phase path of it" expect_has "(no phase path of this UKI): signature valid"
check "the volume stays locked: no signature of enter-initrd" \
	expect_line "$T/cmdline2.efi: persistent: stays locked: no valid sha256 signature of enter-initrd by key $FP.."

# No .pcrsig, no .pcrpkey.
mk "$T/bare.efi" linux osrel cmdline initrd
preflight "$T/bare.efi" "$T/a.img"
check "no .pcrsig and no .pcrpkey: exit 5" [ "$RC" = 5 ]
check "the lint names both" expect_has "lint: no .pcrpkey section; no .pcrsig section"
check "the volume stays locked: no .pcrpkey" expect_line "$T/bare.efi: persistent: stays locked: the UKI has no .pcrpkey"

# Misaligned sections (Kairos #4885).
ALIGN=8 mk "$T/misaligned.efi" linux osrel cmdline initrd pcrpkey pcrsig
preflight "$T/misaligned.efi"
check "the lint names the field of an added section" expect_has "section .osrel: VirtualAddress"
check "the lint names SectionAlignment" expect_has "is not a multiple of SectionAlignment"

# The hand-off window under the new UKI: sign_all signed leave-initrd too.
preflight "$T/new.efi" "$T/a.img"
check "the window of a UKI signed after leave-initrd: keys unsealable after hand-off, the entry named" \
	expect_has "$T/new.efi: persistent: keys unsealable after hand-off: yes (entry "
# shellcheck disable=SC2086
"$MEASURE" sign $SECTIONS --bank=sha256 --phase=enter-initrd --private-key="$T/sign.pem" \
	--public-key="$T/sign.pub.pem" --tpm2-device="$TCTI" > "$T/uki/pcrsig" 2>"$T/sign.log"
tpm_flush
mk "$T/closed.efi" linux osrel cmdline initrd splash dtb pcrpkey pcrsig
preflight "$T/closed.efi" "$T/a.img"
check "a UKI signed for enter-initrd alone: opens, window closed" sh -c '[ "$1" = 0 ] &&
	printf "%s\n" "$2" | grep -qxF "$3: persistent: keys unsealable after hand-off: no (nothing signed after leave-initrd)"' \
	- "$RC" "$OUT" "$T/closed.efi"
cp "$T/good.json" "$T/uki/pcrsig"

# No volume named: this boot's opened volumes from its record, each by its
# plan name; with the TPM, the literal PCRs (PCR 15 at the value the
# record chains for the volume: the extends before its own).
D=$(openssl rand -hex 32)
CHAIN=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(bytes(32) + bytes.fromhex(sys.argv[1])).hexdigest())' "$D")
make_image "$T/c.img"
"$USI_INIT" enroll --tpm2-device="$TCTI" --public-key="$T/sign.pub.pem" --pcrs=16 --pcr15="$CHAIN" \
	--unlock-key-file="$T/pw" "$T/c.img" >"$T/enroll-c.log" 2>&1
record() { # FILE OEM-DIGEST
	cat > "$1" <<EOF
{"volumes": [{"name": "oem", "found": true, "device": "$T/b.img", "opened": false},
             {"name": "persistent", "found": true, "device": "$T/c.img", "opened": true}],
 "volume_key_measurements": [
   {"pcr": 15, "bank": "sha256", "description": "cryptsetup:oem:1111", "digest": "$2"},
   {"pcr": 15, "bank": "sha256", "description": "cryptsetup:persistent:2222", "digest": "$(openssl rand -hex 32)"}]}
EOF
}
record "$T/state.json" "$D"
preflight "$T/closed.efi" --state-file="$T/state.json"
check "no volume named: the opened ones of the record, by plan name (exit 0)" sh -c '[ "$1" = 0 ] &&
	printf "%s\n" "$2" | grep -qxF "$3: persistent: opens (enter-initrd signed by key $4..)" &&
	! printf "%s\n" "$2" | grep -qF "$3: oem:"' - "$RC" "$OUT" "$T/closed.efi" "$FP"
preflight "$T/closed.efi" --state-file="$T/state.json" --tpm2-device="$TCTI"
check "with the TPM: PCR 16 as sealed and PCR 15 as the record chains it: opens" \
	sh -c '[ "$1" = 0 ] && printf "%s\n" "$2" | grep -qxF "$3: persistent: opens (enter-initrd signed by key $4..)"' \
	- "$RC" "$OUT" "$T/closed.efi" "$FP"
record "$T/other.json" "$(openssl rand -hex 32)"
preflight "$T/closed.efi" --state-file="$T/other.json" --tpm2-device="$TCTI"
check "a record whose chain is another: stays locked, exit 5" sh -c '[ "$1" = 5 ] &&
	printf "%s\n" "$2" | grep -qF "$3: persistent: stays locked: its literal PCR 15+16 no longer hold the values it was sealed to (the TPM"' \
	- "$RC" "$OUT" "$T/closed.efi"
tt tpm2_pcrextend "16:sha256=$(printf x | sha256sum | cut -d' ' -f1)"
preflight "$T/closed.efi" --state-file="$T/state.json" --tpm2-device="$TCTI"
check "PCR 16 moved: stays locked, exit 5" sh -c '[ "$1" = 5 ] && printf "%s\n" "$2" | grep -qF "$3: persistent: stays locked: its literal PCR 15+16 no longer hold"' \
	- "$RC" "$OUT" "$T/closed.efi"
preflight "$T/closed.efi" --state-file="$T/state.json"
check "  which offline, without the TPM, is not judged (exit 0), and the verdict says so" \
	sh -c '[ "$1" = 0 ] && printf "%s\n" "$2" | grep -qxF "$3: persistent: literal PCR 15+16 not checked (offline; name the TPM: --tpm2-device)"' \
	- "$RC" "$OUT" "$T/closed.efi"
preflight "$T/closed.efi" --state-file="$T/missing.json"
check "a named record that is not there: exit 1" [ "$RC" = 1 ]

# Not a PE file.
printf 'MZ not really' > "$T/junk.efi"
preflight "$T/junk.efi"
not_pe() { [ "$RC" = 1 ] && expect_has "too short for a DOS header"; }
check "a file that is not a PE is refused (exit 1), naming the header" not_pe
done_testing
