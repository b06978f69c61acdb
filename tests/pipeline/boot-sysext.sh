#!/bin/bash
# The extensions stage of `boot --root`: systemd-stub's images in
# /.extra/sysext and the Kairos layout on the persistent volume
# (/var/lib/kairos/{extensions,confexts}/<mode>/ and common/, mode from
# LoaderEntrySelected in a fake efivars directory) are verified against the
# anchor and staged in sidecar form in /run/extensions and /run/confexts,
# the anchor as PEM in /run/verity.d; bad images are dropped with their
# reason in state.json and never stop the others or the boot.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
. "$top_srcdir/tests/sysext/lib.sh"
pl_require
for t in systemd-repart mksquashfs openssl veritysetup sfdisk; do
	command -v "$t" >/dev/null || skip_all "needs $t (tools/packages.txt)"
done
export TMPDIR="$T/tmp"
mkdir -m 1777 "$TMPDIR"
export DATA_SIZE=256K HASH_SIZE=64K

sx_key test usi-sysext-test
sx_key other usi-sysext-other
sx_tree "$T/tree" hello
mkdir "$T/img"
sx_image signed "$T/img/good.raw"
sx_image signed "$T/img/foreign.raw" other
sx_image changed "$T/img/changed.raw"
sx_image squashfs "$T/img/plain.raw"

# The persistent volume: the Kairos layout in the state dir of
# /var/lib/kairos, as kairos-agent leaves it (an image enabled for a mode is
# a symlink to the one in the top directory).
K=$T/pers/.state/var-lib-kairos.bind
mkdir -p "$K/extensions/active" "$K/extensions/passive" "$K/extensions/common" "$K/confexts/active"
cp "$T/img/good.raw" "$K/extensions/active/act.raw"
cp "$T/img/good.raw" "$K/extensions/passive/pas.raw"
cp "$T/img/good.raw" "$K/extensions/common/com.raw"
cp "$T/img/good.raw" "$K/extensions/lnk.raw"
ln -s /var/lib/kairos/extensions/lnk.raw "$K/extensions/active/lnk.raw"
ln -s /etc/shadow "$K/extensions/active/evil.raw"
# A FIFO under an image's name, enabled by a link: open() must not wait on it.
mkfifo "$K/extensions/fifo.raw"
ln -s /var/lib/kairos/extensions/fifo.raw "$K/extensions/active/fifo.raw"
cp "$T/img/plain.raw" "$K/extensions/active/unsigned.raw"
cp "$T/img/good.raw" "$K/confexts/active/cfg.raw"
truncate -s 64M "$T/persistent.img"
mkfs.ext4 -q -F -L COS_PERSISTENT -d "$T/pers" "$T/persistent.img"
pl_image "$T/oem.img" COS_OEM
pl_attach "$T/oem.img"
pl_attach "$T/persistent.img"

# A UKI boot with plain test volumes: the default (encrypted) ones replaced.
cat >"$T/plain.yaml" <<EOF
volumes:
  - { name: oem, enabled: false }
  - { name: persistent, enabled: false }
  - { name: poem, match: { fs_label: COS_OEM }, mount: /oem, encrypted: no }
  - { name: ppersistent, match: { fs_label: COS_PERSISTENT }, mount: /usr/local, encrypted: no }
EOF

# efivars NAME-GUID VALUE...: an efivarfs-like file (attributes, then the value).
LOADER=4a67b082-0a4c-41cf-b6c7-440b29bb8c4f GLOBAL=8be4df61-93ca-11d2-aa0d-00e098032b8c
efivar_string() {  # DIR NAME STRING
	python3 -c 'import sys; open(sys.argv[1], "wb").write(b"\x06\0\0\0" + (sys.argv[2] + "\0").encode("utf-16-le"))' \
		"$1/$2-$LOADER" "$3"
}
efivars() {  # DIR ENTRY [PARTUUID]
	mkdir -p "$1"
	printf '\006\000\000\000\001' >"$1/SecureBoot-$GLOBAL"
	efivar_string "$1" LoaderEntrySelected "$2"
	[ -z "${3:-}" ] || efivar_string "$1" LoaderDevicePartUUID "$3"
}

# root DIR: a fresh image root with the anchor built in and the stub's images.
root() {
	rm -rf "$1"
	pl_root "$1"
	mkdir -p "$1/usr/lib/verity.d" "$1/.extra/sysext"
	cp "$T/test.crt" "$1/usr/lib/verity.d/test.crt"
	cp "$T/img/good.raw" "$1/.extra/sysext/stub.raw"
	cp "$T/img/good.raw" "$1/.extra/sysext/etc.confext.raw"
	cp "$T/img/foreign.raw" "$1/.extra/sysext/foreign.raw"
	cp "$T/img/changed.raw" "$1/.extra/sysext/changed.raw"
	cp "$T/img/good.raw" "$1/.extra/sysext/act.raw"
	chmod 0444 "$1"/.extra/sysext/*
	chmod 0555 "$1/.extra/sysext"
}

# boot_in ROOT OUT EFIVARS [ARGS...]: one USI boot; OUT.rc, OUT.state, OUT.run
# (the files under ROOT/run/{extensions,confexts,verity.d}; /run is a tmpfs
# of the namespace), OUT.conf (/run/confexts), OUT.status.
boot_in() {
	_r=$1 _o=$2 _e=$3
	shift 3
	pl_ns "
		timeout 120 \"\$USI_INIT\" boot --root $_r --no-handoff --efivars $_e --config $T/plain.yaml \
			--cmdline 'rd.immucore.uki rd.usi.timeout=5' $* >$_o 2>&1; echo \$? >$_o.rc
		cp $_r/run/usi-init/state.json $_o.state 2>/dev/null
		(cd $_r/run && ls extensions confexts verity.d 2>/dev/null) >$_o.run
		ls $_r/run/confexts >$_o.conf 2>/dev/null
		\"\$USI_INIT\" status --root $_r >$_o.status 2>&1
		for f in $_r/run/verity.d/*.crt; do openssl x509 -in \$f -noout -subject; done >$_o.certs 2>&1
		rh=\$(cat $_r/run/extensions/stub.roothash 2>/dev/null)
		veritysetup verify $_r/run/extensions/stub.raw $_r/run/extensions/stub.verity \$rh >/dev/null 2>&1 && echo ok >$_o.verify
		ls $_r/usr/local/.state/var-lib-kairos.bind/extensions/active >$_o.kept
	"
}
js() { pl_json "$1.state" "$2"; }
names() { js "$1" '" ".join(sorted(e["name"] for e in s["extensions"]["accepted"]))'; }

R=$T/root
root "$R"
efivars "$T/ev-active" active.conf 1C4A3D62-8B0F-4A67-9C35-0D2A6B7A1F10
boot_in "$R" "$T/a" "$T/ev-active"
check "boot --root with extensions exits 0" test "$(cat "$T/a.rc")" = 0
[ "$(cat "$T/a.rc")" = 0 ] || sed 's/^/# /' "$T/a" | tail -20
check "state.json: the extensions stage ran" test "$(js "$T/a" '[x["name"] for x in s["stages"]][-1]')" = extensions
check "active: the stub's, active/ (file and link) and common/ images are staged, passive/ not" \
	test "$(names "$T/a")" = "act cfg com etc lnk stub"
check "  in order: the stub's first, then active/, then common/, then confexts" \
	test "$(js "$T/a" '" ".join(e["name"] for e in s["extensions"]["accepted"])')" = "act etc stub lnk com cfg"
check "  kinds: etc and cfg are confexts, the rest sysexts" \
	test "$(js "$T/a" '" ".join(e["name"] for e in s["extensions"]["accepted"] if e["kind"] == "confext")')" = "etc cfg"
check "  sources recorded" \
	test "$(js "$T/a" '" ".join(e["source"] for e in s["extensions"]["accepted"])')" = "stub stub stub kairos kairos kairos"
check "  the Kairos directory read is active" test "$(js "$T/a" 's["extensions"]["kairos_mode_dir"]')" = active
check "sidecar form: NAME.raw, .verity, .roothash, .roothash.p7s in /run/extensions" \
	sh -c "grep -qx stub.raw $T/a.run && grep -qx stub.verity $T/a.run && grep -qx stub.roothash $T/a.run && grep -qx stub.roothash.p7s $T/a.run"
check "  confexts in /run/confexts, named without .confext" \
	test "$(grep '\.raw$' "$T/a.conf" | tr '\n' ' ')" = "cfg.raw etc.raw "
check "  veritysetup verifies the staged stub image" test -e "$T/a.verify"
check "/run/verity.d holds the anchor certificate as PEM" grep -q "CN *= *usi-sysext-test" "$T/a.certs"
check "  and only it" test "$(wc -l <"$T/a.certs")" = 1
check "state.json: the anchor's origin" test "$(js "$T/a" '" ".join(s["extensions"]["anchor"])')" = /usr/lib/verity.d/test.crt
reason() { js "$1" "[e['reason'] for e in s['extensions']['rejected'] if e['path'].endswith('/$2')][0]"; }
match() { printf '%s\n' "$2" | grep -qi -- "$1"; }
check "foreign: rejected, not signed by an anchor certificate" match 'certificate' "$(reason "$T/a" foreign.raw)"
check "changed: rejected, the hash tree does not verify" match 'hash\|verity' "$(reason "$T/a" changed.raw)"
check "unsigned: rejected, not a GPT" match 'GPT' "$(reason "$T/a" unsigned.raw)"
diag "foreign: $(reason "$T/a" foreign.raw)" "changed: $(reason "$T/a" changed.raw)" "unsigned: $(reason "$T/a" unsigned.raw)"
check "a symlink out of the Kairos directory is not followed" grep -q "active/evil.raw skipped" "$T/a"
check "the second act.raw (active/) is refused: the stub's came first" match 'already staged' "$(reason "$T/a" act.raw)"
check "a FIFO under an image's name: rejected, not waited on" match 'not a regular file' "$(reason "$T/a" fifo.raw)"
check "  exactly five rejected" test "$(js "$T/a" 'len(s["extensions"]["rejected"])')" = 5
check "each rejected image has a one-line reason on the console" \
	test "$(grep -c 'extensions: .*: rejected: ' "$T/a")" = 5
check "the stub's images are consumed (deleted from /.extra/sysext)" test -z "$(ls -A "$R/.extra/sysext")"
check "the persistent images stay where they are" grep -qx act.raw "$T/a.kept"
check "state.json: the stage's time in ms" test "$(js "$T/a" 's["extensions"]["ms"] >= 0')" = true
check "usi-init status shows the staged and the rejected images" \
	sh -c "grep -q '^Extensions: 6 staged, 5 rejected' $T/a.status && grep -q 'rejected .*foreign.raw (stub): ' $T/a.status"

# passive.conf: passive/ and common/, not active/.
root "$R"
efivars "$T/ev-passive" passive.conf 1C4A3D62-8B0F-4A67-9C35-0D2A6B7A1F10
boot_in "$R" "$T/p" "$T/ev-passive"
check "passive: passive/ and common/ staged, active/ not" test "$(names "$T/p")" = "act com etc pas stub"

# No LoaderDevicePartUUID: live media, nothing from the Kairos layout.
root "$R"
efivars "$T/ev-live" active.conf
boot_in "$R" "$T/l" "$T/ev-live"
check "no LoaderDevicePartUUID: the boot succeeds" test "$(cat "$T/l.rc")" = 0
check "  only the stub's images, none from the Kairos layout" test "$(names "$T/l")" = "act etc stub"
check "  no Kairos directory read" test "$(js "$T/l" 's["extensions"]["kairos_mode_dir"]')" = None

# The config switches sources off.
root "$R"
printf 'extensions:\n  sources: [kairos]\n' >"$T/nostub.yaml"
boot_in "$R" "$T/k" "$T/ev-active" --config "$T/nostub.yaml"
check "sources: [kairos]: nothing from /.extra/sysext" test "$(names "$T/k")" = "act cfg com lnk"
check "  and the stub's images are left alone" test "$(ls "$R/.extra/sysext" | wc -l)" = 5
root "$R"
printf 'extensions:\n  sources: []\n' >"$T/none.yaml"
boot_in "$R" "$T/n" "$T/ev-active" --config "$T/none.yaml"
check "sources: []: the boot succeeds" test "$(cat "$T/n.rc")" = 0
check "  and stages nothing" test ! -s "$T/n.run"
check "  and leaves the stub's images alone" test -e "$R/.extra/sysext/stub.raw"
check "  state.json lists no image" test "$(js "$T/n" 'len(s["extensions"]["accepted"]) + len(s["extensions"]["rejected"])')" = 0

# No anchor: nothing staged, a warning that says why, the boot goes on.
root "$R"
rm -r "$R/usr/lib/verity.d"
boot_in "$R" "$T/x" "$T/ev-active"
check "no anchor: the boot succeeds" test "$(cat "$T/x.rc")" = 0
check "  nothing staged, no /run/verity.d" test ! -s "$T/x.run"
check "  the warning says why" grep -q "extensions: no trust anchor (no certificate in /usr/lib/verity.d/\*.crt, /etc/verity.d/\*.crt; none in EFI PK, KEK or db): none of the 11 images is staged" "$T/x"
check "  and is in state.json" match 'no trust anchor' "$(js "$T/x" 's["warnings"]')"
check "  every image rejected for it" \
	test "$(js "$T/x" 'set(e["reason"] for e in s["extensions"]["rejected"])')" = "{'no trust anchor'}"
check "  the stub's images are freed all the same" test -z "$(ls -A "$R/.extra/sysext")"

# Kairos's EFI mode: the signer in the firmware's db (an EFI_SIGNATURE_LIST
# with one X.509 entry), none built into the image.
efi_db() {  # DIR CERT
	openssl x509 -in "$2" -outform DER -out "$T/db.der"
	python3 - "$1/db-d719b2cb-3d3a-4596-a3bc-dad00e67656f" "$T/db.der" <<'PY'
import struct, sys, uuid
der = open(sys.argv[2], "rb").read()
entry = uuid.uuid4().bytes_le + der
siglist = uuid.UUID("a5c059a1-94e4-4aa7-87b5-ab155c2bf072").bytes_le + struct.pack("<III", 28 + len(entry), 0, len(entry)) + entry
open(sys.argv[1], "wb").write(b"\x27\0\0\0" + siglist)
PY
}
cp -r "$T/ev-active" "$T/ev-db"
efi_db "$T/ev-db" "$T/test.crt"
root "$R"
rm -r "$R/usr/lib/verity.d"
boot_in "$R" "$T/d" "$T/ev-db"
check "EFI db as the anchor: the boot succeeds" test "$(cat "$T/d.rc")" = 0
check "  the same images are staged as with the built-in certificate" test "$(names "$T/d")" = "act cfg com etc lnk stub"
check "  the anchor came from db" test "$(js "$T/d" '" ".join(s["extensions"]["anchor"])')" = efi-db
check "  and is in /run/verity.d as PEM" grep -q "CN *= *usi-sysext-test" "$T/d.certs"
root "$R"
rm -r "$R/usr/lib/verity.d"
printf 'extensions:\n  efi_keys: false\n' >"$T/noefi.yaml"
boot_in "$R" "$T/f" "$T/ev-db" --config "$T/noefi.yaml"
check "efi_keys: false: db is not trusted, nothing is staged" \
	sh -c "test \$(cat $T/f.rc) = 0 && test ! -s $T/f.run && grep -q 'EFI keys not used (efi_keys: false)' $T/f"

done_testing
