#!/bin/sh
# Refusals that are not about PCRs: corrupt token JSON, truncated blob,
# pcrlock tokens, no TPM, and headers that are not LUKS2.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require

signed_node
make_image "$T/img"
check "systemd-cryptenroll enrols a signed PCR 11 token" enroll "$T/img" sign --tpm2-pcrs=
cryptsetup token export --token-id 0 "$T/img" > "$T/good.json"

# corrupt_with NAME HELPER-ARGS...: a copy of the image whose token 0 is edited.
corrupt_with() {
	_n=$1; shift
	cp "$T/img" "$T/$_n"
	helper "$@" && replace_token "$T/$_n" 0 "$T/edit.json"
}

corrupt_with bad-hash set "$T/good.json" "$T/edit.json" 'tpm2-policy-hash="xyz"'
unlock "$S" "$T/bad-hash"
check "corrupt token field is refused naming the field" expect_fail "$T/bad-hash: token 0: field 'tpm2-policy-hash': not 32 bytes of hex"

corrupt_with bad-pcrs set "$T/good.json" "$T/edit.json" 'tpm2_pubkey_pcrs="eleven"'
unlock "$S" "$T/bad-pcrs"
check "corrupt PCR list is refused naming the field" expect_fail "token 0: field 'tpm2_pubkey_pcrs': not an array"

corrupt_with no-blob set "$T/good.json" "$T/edit.json" 'tpm2-blob=DELETE'
unlock "$S" "$T/no-blob"
check "token without a blob is refused" expect_fail "token 0: field 'tpm2-blob': missing"

corrupt_with truncated truncate "$T/good.json" "$T/edit.json" 7
unlock "$S" "$T/truncated"
check "truncated blob is refused" expect_fail "token 0: field 'tpm2-blob': truncated or malformed public part"

corrupt_with wrong-hash set "$T/good.json" "$T/edit.json" "tpm2-policy-hash=\"$(printf 'x' | sha256sum | cut -d' ' -f1)\""
unlock "$S" "$T/wrong-hash"
check "policy hash that the TPM does not compute is refused before Unseal" \
	expect_fail "token 0: policy digest mismatch: the token wants 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881, the TPM computed"

corrupt_with pcrlock set "$T/good.json" "$T/edit.json" 'tpm2_pcrlock=true'
unlock "$S" "$T/pcrlock"
check "pcrlock token is refused as not supported" expect_fail "token 0: pcrlock policies (tpm2_pcrlock) are not supported"

# Absent optional fields take systemd's defaults at run time too.
corrupt_with no-bank set "$T/good.json" "$T/edit.json" 'tpm2-pcr-bank=DELETE' 'tpm2-primary-alg=DELETE' 'tpm2-pin=DELETE'
unlock "$S" "$T/no-bank"
check "token without bank, primary algorithm and pin fields unlocks (best bank, ECC)" expect_ok "$T/no-bank" 0 1

# Tokens are tried in order: a broken first one does not hide a good second.
cp "$T/truncated" "$T/second"
check "a second token enrolled (another PCR set, or systemd sees it as enrolled)" enroll "$T/second" sign --tpm2-pcrs=7
unlock "$S" "$T/second"
check "broken token 0, good token 1: unlocked by token 1" expect_ok "$T/second" 1 2

unlock "$S" "$T/img" "$T/truncated"
check "one good and one bad volume: exit 1" [ "$RC" = 1 ]
check "one good and one bad volume: one line each" expect_lines 2
check "one good and one bad volume: the good one is unlocked" expect_line "$T/img: unlocked by token 0 (keyslot 1)"

# No TPM at all.
OUT=$("$USI_INIT" unlock --check --tpm2-device="swtpm:path=$T/absent" "$S" "$T/img" 2>&1); RC=$?
check "absent TPM is refused as such" expect_fail "$T/img: no TPM: cannot open TCTI 'swtpm:path=$T/absent'"
if [ ! -e /dev/tpmrm0 ] && [ ! -e /dev/tpm0 ]; then
	OUT=$("$USI_INIT" unlock --check "$S" "$T/img" 2>&1); RC=$?
	check "no TPM device: both default devices are named" expect_fail "no TPM" "device:/dev/tpmrm0" "device:/dev/tpm0"
else
	skip "no TPM device: both default devices are named" "this machine has a TPM device"
fi

# Not LUKS2 (plaintext, LUKS1), and LUKS2 without a TPM token.
truncate -s 4M "$T/plain"
unlock "$S" "$T/plain"
check "a plain file is refused" expect_fail "$T/plain: no LUKS header"
truncate -s 8M "$T/luks1"
cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 --key-file "$T/pw" "$T/luks1" >/dev/null 2>&1
unlock "$S" "$T/luks1"
check "LUKS1 is refused" expect_fail "$T/luks1: LUKS1 header, not LUKS2: refusing"
make_image "$T/notoken"
unlock "$S" "$T/notoken"
check "LUKS2 without a systemd-tpm2 token is refused" expect_fail "$T/notoken: no systemd-tpm2 token"
unlock "$S" "$T/nonexistent"
check "missing image is refused" expect_fail "$T/nonexistent: cannot open: No such file or directory"

# The disk on another machine: the sealed blob belongs to the first TPM's
# storage key, so another TPM at the same PCR 11 cannot load it.
swtpm_start other
replay_sections
"$USI_INIT" measure --tpm2-device="$TCTI" enter-initrd >/dev/null 2>&1
unlock "$S" "$T/img"
check "another TPM at the signed PCR 11 cannot load the sealed object" \
	expect_fail "$T/img: token 0:" "does not belong to this TPM"
done_testing
