#!/bin/sh
# initrd/upgrade-preflight, the image builder's upgrade hook: a UKI the
# preflight says opens every volume is installed (atomically: a new file
# renamed over the old one); one that leaves a volume locked, or whose
# preflight judged no volume or failed, is refused, the refusal names the
# volume, and the destination on the "ESP" keeps its bytes.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require objcopy objdump
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -f "$STUB" ] || skip_all "$STUB missing (package systemd-boot-efi)"
HOOK=$top_srcdir/initrd/upgrade-preflight

swtpm_start tpm
make_uki
make_key sign
make_key other
# uki KEY OUT: a UKI whose .pcrpkey is KEY's and whose .pcrsig KEY signs.
uki() {
	cp "$T/$1.pub.pem" "$T/uki/pcrpkey"
	"$MEASURE" sign --linux="$T/uki/linux" --osrel="$T/uki/osrel" --cmdline="$T/uki/cmdline" \
		--initrd="$T/uki/initrd" --pcrpkey="$T/uki/pcrpkey" --bank=sha256 --phase=enter-initrd \
		--private-key="$T/$1.pem" --public-key="$T/$1.pub.pem" --tpm2-device="$TCTI" \
		> "$T/uki/pcrsig" 2>"$T/sign.log" || { tpm_flush; return 1; }
	tpm_flush
	sh "$top_srcdir/tests/tpm/uki-make.sh" "$STUB" "$2" .osrel="$T/uki/osrel" .cmdline="$T/uki/cmdline" \
		.pcrsig="$T/uki/pcrsig" .pcrpkey="$T/uki/pcrpkey" .initrd="$T/uki/initrd" .linux="$T/uki/linux"
}
check "a UKI signed by key sign" uki sign "$T/good.efi"
check "a UKI signed by key other" uki other "$T/other.efi"

# Volumes: "persistent" enrolled to key sign, "oem" to key other.
make_image "$T/a.img" && enroll "$T/a.img" sign && cryptsetup config --label persistent "$T/a.img"
make_image "$T/b.img" && enroll "$T/b.img" other && cryptsetup config --label oem "$T/b.img"

# The ESP: the UKI installed now.
ESP=$T/esp/EFI/Linux
mkdir -p "$ESP"
printf 'the UKI installed now\n' > "$ESP/node.efi"
OLD=$(sha256sum < "$ESP/node.efi")
sum() { sha256sum < "$1"; }
fp() { openssl rsa -pubin -in "$T/$1.pub.pem" -RSAPublicKey_out -outform DER 2>/dev/null | sha256sum | cut -c1-8; }
hook() { OUT=$("$HOOK" --usi-init "$USI_INIT" "$@" 2>&1); RC=$?; printf '%s\n' "$OUT" | sed 's/^/#   /'; }
untouched() { [ "$(sum "$ESP/node.efi")" = "$OLD" ]; }
# No temporary file of the hook is left beside the destination.
no_leftovers() { [ "$(find "$ESP" -name '.*' -type f | wc -l)" = 0 ]; }

hook "$T/other.efi" "$ESP/node.efi" "$T/a.img"
check "a UKI of another key: refused (exit 5)" [ "$RC" = 5 ]
check "the refusal names the volume and both keys" \
	expect_line "$T/other.efi: persistent: stays locked: the UKI's .pcrpkey $(fp other).. is not the token's key $(fp sign).."
check "the refusal says the destination is unchanged" expect_has "refused: $T/other.efi would leave a volume locked (preflight exit 5); $ESP/node.efi is unchanged"
check "the destination keeps its bytes" untouched
check "no temporary file is left" no_leftovers

hook "$T/good.efi" "$ESP/node.efi" "$T/a.img" "$T/b.img"
check "a UKI that opens one volume of two: refused (exit 5)" [ "$RC" = 5 ]
check "the refusal names the volume that stays locked" expect_has "$T/good.efi: oem: stays locked: "
check "and shows the one that opens" expect_has "$T/good.efi: persistent: opens (enter-initrd signed by key "
check "the destination keeps its bytes" untouched

printf '{"volumes": []}\n' > "$T/state.json"
hook --state-file "$T/state.json" "$T/good.efi" "$ESP/node.efi"
check "no volume named and none in state.json: refused (exit 5)" [ "$RC" = 5 ]
check "the refusal says no volume was judged" expect_has "refused: the preflight of $T/good.efi judged no volume"
check "the destination keeps its bytes" untouched

printf 'MZ not really' > "$T/junk.efi"
hook "$T/junk.efi" "$ESP/node.efi" "$T/a.img"
unreadable() { [ "$RC" = 1 ] && expect_has "too short for a DOS header"; }
check "an unreadable UKI: an error (exit 1), the preflight's reason shown" unreadable
check "the destination keeps its bytes" untouched

hook --force "$T/other.efi" "$ESP/node.efi" "$T/a.img"
check "there is no --force (usage, exit 2)" [ "$RC" = 2 ]
check "the destination keeps its bytes" untouched

INODE=$(stat -c %i "$ESP/node.efi")
hook "$T/good.efi" "$ESP/node.efi" "$T/a.img"
check "a UKI that opens every volume: installed (exit 0)" [ "$RC" = 0 ]
check "the verdict is shown" expect_has "$T/good.efi: persistent: opens (enter-initrd signed by key "
check "the destination holds the new UKI" [ "$(sum "$ESP/node.efi")" = "$(sum "$T/good.efi")" ]
check "it is a new file renamed into place, not the old one rewritten" [ "$(stat -c %i "$ESP/node.efi")" != "$INODE" ]
check "no temporary file is left" no_leftovers

# No device named: the volumes this boot opened, from its record.
printf '{"volumes": [{"name": "persistent", "device": "%s", "opened": true}]}\n' "$T/a.img" > "$T/state.json"
hook --state-file "$T/state.json" "$T/good.efi" "$T/esp/EFI/Linux/"
installed_in_dir() { [ "$RC" = 0 ] && [ "$(sum "$ESP/good.efi")" = "$(sum "$T/good.efi")" ]; }
check "no device named: this boot's volume from state.json opens, installed in the directory" installed_in_dir
check "judged by its plan name" expect_has "$T/good.efi: persistent: opens ("
printf '{"volumes": [{"name": "oem", "device": "%s", "opened": true}]}\n' "$T/b.img" > "$T/state.json"
INODE=$(stat -c %i "$ESP/node.efi")
hook --state-file "$T/state.json" "$T/good.efi" "$ESP/node.efi"
# Refused: node.efi already holds good.efi's bytes (installed above), so
# equal bytes cannot tell "unchanged" from "installed again"; the inode can.
locked_refused() {
	[ "$RC" = 5 ] && expect_has "$T/good.efi: oem: stays locked: " &&
		[ "$(sum "$ESP/node.efi")" = "$(sum "$T/good.efi")" ] && [ "$(stat -c %i "$ESP/node.efi")" = "$INODE" ]
}
check "no device named: this boot's volume of another key stays locked, refused" locked_refused

# The unit example, offline against the system's own units: syntax, and
# that ExecStart names the script where the unit says it is installed.
if command -v systemd-analyze >/dev/null 2>&1 && [ -d /usr/lib/systemd/system ]; then
	R=$T/root
	mkdir -p "$R/usr/lib/systemd" "$R/usr/libexec/usi-init" "$R/bin" "$R/etc"
	cp -r /usr/lib/systemd/system "$R/usr/lib/systemd/"
	cp "$top_srcdir/initrd/usi-upgrade-preflight@.service" "$R/usr/lib/systemd/system/"
	cp "$HOOK" "$R/usr/libexec/usi-init/"
	cp /bin/rm "$R/bin/"
	U=usi-upgrade-preflight@$(systemd-escape --path /efi/EFI/Linux/node.efi).service
	check "systemd-analyze verify $U" sh -c 'systemd-analyze verify --man=no --root="$1" "$2" > "$3" 2>&1 && ! grep -q . "$3"' \
		sh "$R" "$U" "$T/verify.out" || sed 's/^/#   /' "$T/verify.out"
else
	skip "systemd-analyze verify of the unit" "systemd-analyze missing"
fi
done_testing
