#!/bin/sh
# Rewritten LUKS2 headers (trust-chain rule 4). An attacker with the disk and
# no key rewrites the header's JSON and checksums (luks2-rewrite.py) so that
# the genuine token unseals and the genuine keyslot opens while the data is
# the attacker's. cryptsetup accepts every header below; usi-init refuses
# each one, for the TPM token and for a key file alike, naming the image and
# the field, and the genuine header still unlocks.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require

signed_node
make_image "$T/img"
check "systemd-cryptenroll enrols a signed PCR 11 token" enroll "$T/img" sign --tpm2-pcrs=
# The unit tests' fixture (tests/unit/test-luks-header.c) is this header:
# USI_WRITE_FIXTURE=1 make check TESTS=tests/tpm/unlock-header.sh writes it.
[ -z "${USI_WRITE_FIXTURE:-}" ] || cryptsetup luksDump --dump-json-metadata "$T/img" > "$TPMDATA/luks2-header-v252.json"
unlock "$S" "$T/img"
check "the genuine header unlocks by its token" expect_ok "$T/img" 0 1
OUT=$("$USI_INIT" unlock --check --key-file="$T/pw" "$T/img" 2>&1); RC=$?
check "the genuine header unlocks by the key file" expect_ok_line "$T/img: unlocked by key file (keyslot 0)"

# rewrite NAME EDIT...: a copy of the image with its header rewritten.
rewrite() {
	_n=$1; shift
	cp "$T/img" "$T/$_n"
	python3 "$top_srcdir/tests/tpm/luks2-rewrite.py" "$T/$_n" "$@"
}

# refused NAME FIELD-TEXT DESCRIPTION: cryptsetup takes the header, usi-init
# refuses it by token and by key file with "IMAGE: FIELD-TEXT: refused".
refused() {
	_n=$1 _what=$2 _desc=$3
	check "$_desc: cryptsetup accepts the rewritten header" cryptsetup isLuks "$T/$_n"
	unlock "$S" "$T/$_n"
	check "  refused before the token is tried" expect_fail "$T/$_n: $_what" ": refused"
	OUT=$("$USI_INIT" unlock --check --key-file="$T/pw" "$T/$_n" 2>&1); RC=$?
	check "  refused before the key file is tried" expect_fail "$T/$_n: $_what" ": refused"
}

NULLSEG=segments.0.encryption=cipher_null-ecb
rewrite null-segment "$NULLSEG"
check "the null segment's keyslot still takes the genuine passphrase (the route is real)" \
	cryptsetup open --test-passphrase --key-file "$T/pw" "$T/null-segment"
refused null-segment "LUKS2 data segment 0 uses cipher_null-ecb" "data segment cipher_null-ecb"

rewrite linear 'segments.0={"type":"linear","offset":"16777216","size":"dynamic"}'
refused linear "LUKS2 data segment 0 is of type linear, not crypt" "linear data segment"

rewrite null-keyslot keyslots.1.area.encryption=cipher_null-ecb
refused null-keyslot "LUKS2 keyslot 1 area uses cipher_null-ecb" "TPM keyslot area cipher_null-ecb"

rewrite cbc segments.0.encryption=aes-cbc-essiv:sha256
refused cbc "LUKS2 data segment 0 uses aes-cbc-essiv:sha256" "a cipher off the allow-list"

rewrite integrity 'segments.0.integrity={"type":"hmac(sha256)","journal_encryption":"none","journal_integrity":"none"}'
refused integrity "LUKS2 data segment 0 carries an integrity layer" "an integrity layer"

# A window into the genuine ciphertext: the segment starts 4 MiB further
# on with the IV tweak that makes those sectors decrypt as sector 0 on.
rewrite window segments.0.offset='"6291456"' segments.0.iv_tweak='"8192"' segments.0.size='"1048576"'
refused window "LUKS2 data segment 0 has an IV tweak other than 0" "a window into the genuine data"

rewrite reencrypt 'config.requirements={"mandatory":["offline-reencrypt"]}'
refused reencrypt "LUKS2 header requires offline-reencrypt" "a reencryption requirement"

rewrite short-key keyslots.1.key_size=16
refused short-key "LUKS2 keyslot 1 holds a key of fewer than 256 bits" "a 128-bit key"

rewrite two-segments 'segments.0.size="4194304"' \
	'segments.1={"type":"linear","offset":"20971520","size":"dynamic"}' 'digests.0.segments=["0","1"]'
refused two-segments "LUKS2 header has 2 data segments, not exactly one" "a second, linear segment"

# Only the second metadata copy rewritten, with a higher sequence number:
# cryptsetup prefers it, and the check judges the copy cryptsetup chose.
rewrite secondary --secondary-only "$NULLSEG"
refused secondary "LUKS2 data segment 0 uses cipher_null-ecb" "the second metadata copy alone rewritten"

# Damaged metadata copies (a disk going bad, an interrupted update, or a
# rewrite). libcryptsetup opens from whichever copy is intact and repairs
# the other on disk, saying nothing; usi-init opens from it too, says which
# copy was damaged and how, and never writes to the device.
MD=$(cryptsetup luksDump "$T/img" | sed -n 's/^Metadata area:[[:space:]]*\([0-9]*\) .*/\1/p')
check "the metadata size is read from the header ($MD)" test -n "$MD"
# damage NAME OFFSET: a copy of the image with a byte at OFFSET changed, or
# with the 4 KiB binary header at OFFSET zeroed (NAME ending in -wiped).
damage() {
	cp "$T/img" "$T/$1"
	case $1 in
	*-wiped) dd if=/dev/zero of="$T/$1" bs=4096 seek=$(($2 / 4096)) count=1 conv=notrunc status=none ;;
	*) printf '#' | dd of="$T/$1" bs=1 seek="$2" conv=notrunc status=none ;;
	esac
	sha256sum < "$T/$1" > "$T/$1.sum"
}
unchanged() { sha256sum < "$T/$1" | cmp -s - "$T/$1.sum"; }
# opens_warned NAME WARNING DESCRIPTION: unlocks by its token, the one other
# line is IMAGE: WARNING, and the image is byte for byte what it was.
opens_warned() {
	unlock "$S" "$T/$1"
	check "$3: unlocked by the token" test "$RC" = 0
	check "  the success line" expect_line "$T/$1: unlocked by token 0 (keyslot 1)"
	check "  the warning names the image and the damage" expect_line "usi-init: warning: $T/$1: $2"
	check "  nothing else is said" expect_lines 2
	check "  the image was not written (no repair on an unjudged disk)" unchanged "$1"
}
REPAIR="'cryptsetup repair"
damage primary-csum 5000
opens_warned primary-csum "the primary LUKS2 header is damaged (its checksum does not match): using the backup copy; $REPAIR $T/primary-csum' rewrites it" \
	"a byte of the primary copy's JSON changed"
damage primary-wiped 0
check "blkid still finds the volume by its backup copy" sh -c "blkid -p -o value -s TYPE '$T/primary-wiped' | grep -qx crypto_LUKS"
opens_warned primary-wiped "the primary LUKS2 header is damaged (no LUKS2 header there (wiped or overwritten)): using the backup copy; $REPAIR $T/primary-wiped' rewrites it" \
	"the primary copy's binary header wiped"
damage backup-csum $((MD + 5000))
opens_warned backup-csum "the backup LUKS2 header is damaged (its checksum does not match): using the primary copy; $REPAIR $T/backup-csum' rewrites it" \
	"a byte of the backup copy's JSON changed"
damage backup-wiped "$MD"
opens_warned backup-wiped "the backup LUKS2 header is damaged (no LUKS2 header there (wiped or overwritten)): using the primary copy; $REPAIR $T/backup-wiped' rewrites it" \
	"the backup copy's binary header wiped"
# Both copies intact but of different updates: cryptsetup takes the newer.
rewrite newer-backup --secondary-only config.flags='["allow-discards"]'
sha256sum < "$T/newer-backup" > "$T/newer-backup.sum"
EPOCH=$(cryptsetup luksDump "$T/img" | sed -n 's/^Epoch:[[:space:]]*\([0-9]*\).*/\1/p')
opens_warned newer-backup "the two LUKS2 header copies differ (sequence $EPOCH and $((EPOCH + 1))): using the newer; an update was interrupted or one copy was rewritten" \
	"the backup copy alone rewritten, harmlessly"
damage both-csum 5000
printf '#' | dd of="$T/both-csum" bs=1 seek=$((MD + 5000)) conv=notrunc status=none
sha256sum < "$T/both-csum" > "$T/both-csum.sum"
unlock "$S" "$T/both-csum"
check "both copies damaged: refused, naming what is wrong with each" expect_fail \
	"$T/both-csum: no intact LUKS2 header copy: the primary copy: its checksum does not match; the backup copy: its checksum does not match"
check "  the image was not written" unchanged both-csum
damage all-wiped 0
dd if=/dev/zero of="$T/all-wiped" bs=4096 seek=$((MD / 4096)) count=1 conv=notrunc status=none
unlock "$S" "$T/all-wiped"
check "both binary headers wiped: no LUKS2 header" expect_fail "$T/all-wiped: no LUKS header (neither a LUKS2 primary copy nor an intact backup copy)"
# The primary wiped and the backup rewritten: judged as the copy used.
rewrite wiped-null --secondary-only "$NULLSEG"
dd if=/dev/zero of="$T/wiped-null" bs=4096 count=1 conv=notrunc status=none
unlock "$S" "$T/wiped-null"
check "the primary wiped and a rewritten backup: the backup is judged and refused" \
	sh -c "[ $RC != 0 ]"
check "  the refusal names the field" expect_line "usi-init: error: $T/wiped-null: LUKS2 data segment 0 uses cipher_null-ecb: refused"

# The TPM keyslot's area damaged (the key material the token's passphrase
# decrypts; under no checksum): the token unseals, the keyslot does not
# open, and the one line names the image, the token and the keyslot.
KS1=$(cryptsetup luksDump --dump-json-metadata "$T/img" | python3 -c 'import json, sys; print(json.load(sys.stdin)["keyslots"]["1"]["area"]["offset"])')
cp "$T/img" "$T/keyslot-area"
dd if=/dev/urandom of="$T/keyslot-area" bs=4096 seek=$((KS1 / 4096)) count=8 conv=notrunc status=none
unlock "$S" "$T/keyslot-area"
check "a damaged keyslot area: one line naming the image, token and keyslot" \
	expect_fail "$T/keyslot-area: token 0: unsealed key does not open keyslot 1"

# The CLI reads only block devices and image files, never blocking.
mkfifo "$T/fifo"
OUT=$(timeout 10 "$USI_INIT" unlock --check --key-file="$T/pw" "$T/fifo" 2>&1); RC=$?
check "a FIFO named as the image is refused without blocking" expect_fail "$T/fifo: neither a block device nor an image file"
done_testing
