#!/bin/bash
# `usi-init sysext --check` on images built here: a signed image is
# accepted; each kind of bad image is refused with its own reason; the EFI
# db mode; no root needed; one line per image and the exit code.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/sysext/lib.sh"
sx_require

sx_key test usi-sysext-test
sx_key other usi-sysext-other
sx_tree "$T/tree" hello
mkdir "$T/img"
for k in signed usr verity extra squashfs erofs polyglot changed uuid; do
	sx_image "$k" "$T/img/$k.raw" || not_ok "build the $k image"
done
sx_image signed "$T/img/foreign.raw" other
cp "$T/img/signed.raw" "$T/img/hello.sysext.raw"

run() { "$USI_INIT" sysext --check "$@" > "$T/out" 2> "$T/err"; echo $? > "$T/rc"; }
rc_is() { test "$(cat "$T/rc")" = "$1"; }

run --cert "$T/test.crt" "$T/img/signed.raw"
check "a signed image is accepted" grep -qx "$T/img/signed.raw: accepted as signed" "$T/out"
check "... and the check exits 0" rc_is 0
run --cert "$T/test.crt" "$T/img/usr.raw"
check "a signed usr image is accepted" grep -qx "$T/img/usr.raw: accepted as usr" "$T/out"
sx_image sector4k "$T/img/sector4k.raw"
run --cert "$T/test.crt" "$T/img/sector4k.raw"
check "a GPT for 4096-byte sectors is read too" grep -qx "$T/img/sector4k.raw: accepted as sector4k" "$T/out"
run --cert "$T/test.crt" "$T/img/hello.sysext.raw"
check "NAME.sysext.raw is accepted as NAME" grep -qx "$T/img/hello.sysext.raw: accepted as hello" "$T/out"

# Each bad image, alone, with the words of its reason.
expect() {  # expect IMAGE WORDS
	run --cert "$T/test.crt" "$T/img/$1.raw"
	if grep -q "^$T/img/$1.raw: rejected: .*$2" "$T/out" && rc_is 1; then
		ok "$1 is rejected: $(sed "s|^$T/img/$1.raw: rejected: ||" "$T/out")"
	else
		not_ok "$1 is rejected with '$2' (got: $(cat "$T/out" "$T/err"))"
	fi
	sed "s|^$T/img/$1.raw: rejected: ||" "$T/out" >> "$T/reasons"
}
: > "$T/reasons"
expect squashfs "not a GPT image but a bare squashfs file system: unsigned"
expect erofs "not a GPT image but a bare erofs file system: unsigned"
expect verity "no root-verity-sig partition: the verity root hash is not signed"
expect foreign "signed by /CN=usi-sysext-other, which is not among the 1 trust-anchor"
expect polyglot "polyglot: a squashfs file system at offset 0 besides the GPT"
expect changed "hash tree does not verify against the signed root hash: Verification failed at position 0"
expect extra "unexpected partition 4 of type 0fc63daf-8483-4772-8e79-3d69d8477de4"
expect uuid "data partition UUID .* is not the first half of the signed root hash"
check "every rejection has its own reason" test "$(sort -u "$T/reasons" | wc -l)" = 8

# The verity-sig partition rewritten: each defect refused for what it is.
mkdir "$T/tree2" && sx_tree "$T/tree2" other
sx_make signed "$T/img/second.raw" "$T/tree2" "$T/test.key" "$T/test.crt"
for m in upper garbage trailing nobase64 swap; do
	cp "$T/img/signed.raw" "$T/img/sig-$m.raw"
	python3 "$top_srcdir/tests/sysext/edit-sig.py" "$T/img/sig-$m.raw" $m "$T/img/second.raw"
done
expect sig-upper "rootHash is not lowercase hex"
expect sig-garbage "verity-sig partition: not a JSON object"
expect sig-trailing "verity-sig partition has data after its JSON text"
expect sig-nobase64 "verity-sig \"signature\" is not valid base64"
expect sig-swap "signature by /CN=usi-sysext-test over the root hash does not verify"

# The GPT rewritten: sizes come from the verity superblock the signed root
# hash covers, never from the partition table.
cp "$T/img/signed.raw" "$T/img/gpt-grow.raw"
python3 "$top_srcdir/tests/sysext/edit-gpt.py" "$T/img/gpt-grow.raw" grow $((64 * 1024 * 1024))
expect gpt-grow "data partition 1 claims 67108864 bytes, the verity superblock covers 1048576"
cp "$T/img/signed.raw" "$T/img/gpt-overlap.raw"
python3 "$top_srcdir/tests/sysext/edit-gpt.py" "$T/img/gpt-overlap.raw" overlap
expect gpt-overlap "data partition 1 overlaps verity partition 2"
# Staging has a cap: an image over it is refused before any copy, by name.
run --cert "$T/test.crt" --max-size 100000 "$T/img/signed.raw"
check "an image over the staging cap is refused, named" \
	grep -q "rejected: extension signed needs [0-9]* bytes, more than the 100000 bytes left of the staging cap" "$T/out"

# The polyglot really is one: a squashfs reader and a GPT reader both see theirs.
check "the polyglot carries a squashfs at offset 0 and a valid GPT" \
	sh -c "blkid -p -o value -s TYPE '$T/img/polyglot.raw' | grep -qx squashfs && sgdisk -v '$T/img/polyglot.raw' | grep -q 'No problems found'"

# Many images at once: one line each, in order; one bad one fails the run
# but not the others.
run --cert "$T/test.crt" "$T/img/signed.raw" "$T/img/foreign.raw" "$T/img/usr.raw"
check "three images give three lines in order" \
	test "$(cut -d: -f1 "$T/out" | tr '\n' ' ')" = "$T/img/signed.raw $T/img/foreign.raw $T/img/usr.raw "
check "... the good ones accepted around a bad one" \
	sh -c "grep -q 'signed.raw: accepted' '$T/out' && grep -q 'usr.raw: accepted' '$T/out'"
check "... and the run exits 1" rc_is 1

run "$T/img/signed.raw"
check "with no anchor every image is rejected" grep -qx "$T/img/signed.raw: rejected: no trust anchor" "$T/out"
check "... with a warning that says why" grep -q "no trust-anchor certificate" "$T/err"
run --cert "$T/test.crt" "$T/img/missing.raw"
check "a missing image is a rejection, not a crash" grep -q "missing.raw: rejected: cannot open: No such file" "$T/out"
ln -s signed.raw "$T/img/link.raw"
ln -s test.crt "$T/link.crt"
run --cert "$T/link.crt" "$T/img/link.raw" "$T/img/signed.raw"
check "an image is never opened through a symlink; a --cert may be one" \
	sh -c "grep -qx '$T/img/link.raw: rejected: is a symlink; name the image itself' '$T/out' && grep -q 'signed.raw: accepted' '$T/out'"
run --cert "$T/nonexistent.crt" "$T/img/signed.raw"
check "an unreadable --cert is a usage error (2)" rc_is 2

# Certificates built into the image: --root DIR reads DIR/usr/lib/verity.d
# and DIR/etc/verity.d, *.crt only.
mkdir -p "$T/root/usr/lib/verity.d" "$T/root/etc/verity.d"
cp "$T/other.crt" "$T/root/usr/lib/verity.d/other.crt"
cp "$T/test.crt" "$T/root/etc/verity.d/test.pem"
run --root "$T/root" "$T/img/signed.raw"
check "--root: a certificate not named *.crt is not read" grep -q "signed.raw: rejected: signed by /CN=usi-sysext-test" "$T/out"
mv "$T/root/etc/verity.d/test.pem" "$T/root/etc/verity.d/test.crt"
run --root "$T/root" "$T/img/signed.raw" "$T/img/foreign.raw"
check "--root: usr/lib/verity.d and etc/verity.d are both read" rc_is 0

# The Kairos mode: the X.509 entries of PK, KEK and db of Debian's
# snakeoil firmware. The image is signed with the snakeoil key.
vars=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
if [ -r "$vars" ] && [ -r /usr/share/ovmf/PkKek-1-snakeoil.key ]; then
	python3 "$top_srcdir/tests/sysext/ovmf-vars.py" "$vars" "$T/efivars"
	db="$T/efivars/db-d719b2cb-3d3a-4596-a3bc-dad00e67656f"
	openssl pkey -in /usr/share/ovmf/PkKek-1-snakeoil.key -passin pass:snakeoil -out "$T/snakeoil.key"
	cp /usr/share/ovmf/PkKek-1-snakeoil.pem "$T/snakeoil.crt"
	sx_image signed "$T/img/db.raw" snakeoil
	run --efi-db "$db" "$T/img/db.raw"
	check "db mode: a db-signed image is accepted" grep -qx "$T/img/db.raw: accepted as db" "$T/out"
	run --cert "$T/test.crt" "$T/img/db.raw"
	check "without db mode the db-signed image is rejected" grep -q "db.raw: rejected: signed by /C=US/ST=Colorado/L=Fort Collins/O=SnakeOil, which is not among" "$T/out"
	run --efi-db "$db" "$T/img/signed.raw"
	check "db mode alone rejects an image signed by another key" grep -q "signed.raw: rejected: signed by /CN=usi-sysext-test" "$T/out"
	run --efivars "$T/efivars" "$T/img/db.raw"
	check "--efivars: PK, KEK and db of an efivarfs directory" rc_is 0
	run --efi-db "$T/efivars/dbx-d719b2cb-3d3a-4596-a3bc-dad00e67656f" "$T/img/db.raw"
	check "dbx holds no certificate: nothing is trusted from it" grep -q "db.raw: rejected: no trust anchor" "$T/out"
	head -c 100 "$db" > "$T/db-truncated"
	run --efi-db "$T/db-truncated" "$T/img/db.raw"
	check "a malformed signature list is refused with a reason" \
		sh -c "rc=\$(cat '$T/rc'); test \$rc = 2 && grep -q 'db-truncated: signature list 0 at offset 0: SignatureListSize' '$T/err'"
	cp "$db" "$T/efivars-bad"
	mkdir "$T/efivars2" && cp "$T/efivars/"PK-* "$T/efivars/"KEK-* "$T/efivars2/" && cp "$T/db-truncated" "$T/efivars2/db-d719b2cb-3d3a-4596-a3bc-dad00e67656f"
	run --efivars "$T/efivars2" "$T/img/db.raw"
	check "--efivars: a malformed db is skipped with a warning, PK and KEK still count" \
		sh -c "rc=\$(cat '$T/rc'); test \$rc = 0 && grep -q 'refused efi-db: signature list 0' '$T/err'"
else
	for d in "db mode accepts" "non-db mode rejects" "db mode rejects another key" "--efivars" "dbx" "malformed list" "malformed db skipped"; do
		skip "$d" "no snakeoil OVMF (package ovmf)"
	done
fi

# No root needed: the same check as an unprivileged user.
if command -v setpriv >/dev/null; then
	chmod 755 "$T" "$T/img"; chmod 644 "$T/img/signed.raw" "$T/test.crt"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$USI_INIT" sysext --check --cert "$T/test.crt" "$T/img/signed.raw" > "$T/out" 2> "$T/err"
	check "the check runs as an unprivileged user" grep -qx "$T/img/signed.raw: accepted as signed" "$T/out"
else
	skip "the check runs as an unprivileged user" "no setpriv"
fi
check "the check leaves nothing in TMPDIR" test -z "$(ls -A "$TMPDIR")"

# How long a full check takes, for the record (64 MiB of data).
mkdir -p "$T/big/usr/lib/extension-release.d" "$T/big/usr/share"
echo ID=_any > "$T/big/usr/lib/extension-release.d/extension-release.big"
head -c 60M /dev/urandom > "$T/big/usr/share/blob"
if DATA_SIZE=64M HASH_SIZE=8M sx_make signed "$T/img/big.raw" "$T/big" "$T/test.key" "$T/test.crt"; then
	s=$(date +%s.%N)
	run --cert "$T/test.crt" "$T/img/big.raw"
	e=$(date +%s.%N)
	check "a 64 MiB image is accepted" rc_is 0
	diag "$(awk -v s="$s" -v e="$e" 'BEGIN { printf "sysext --check of a 64 MiB image (512-byte verity blocks): %.2f s", e - s }')"
else
	not_ok "build the 64 MiB image"
fi
done_testing
