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

# The CLI reads only block devices and image files, never blocking.
mkfifo "$T/fifo"
OUT=$(timeout 10 "$USI_INIT" unlock --check --key-file="$T/pw" "$T/fifo" 2>&1); RC=$?
check "a FIFO named as the image is refused without blocking" expect_fail "$T/fifo: neither a block device nor an image file"
done_testing
