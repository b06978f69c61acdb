#!/bin/sh
# Token variants: literal PCR 7 on top of the signed PCR 11, PIN (v252, by
# systemd-cryptenroll), salted PIN (v253 format), RSA primary, wrong PIN,
# dictionary-attack lockout.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require tpm2_create tpm2_createprimary tpm2_dictionarylockout

signed_node

# Signed PCR 11 plus literal PCR 7.
make_image "$T/pcr7"
check "systemd-cryptenroll enrols signed PCR 11 + literal PCR 7" enroll "$T/pcr7" sign --tpm2-pcrs=7
unlock "$S" "$T/pcr7"
check "signed PCR 11 + literal PCR 7 unlocks" expect_ok "$T/pcr7" 0 1

# PIN, enrolled by systemd 252.
make_image "$T/pin"
export NEWPIN=4711
check "systemd-cryptenroll enrols a PIN token" enroll "$T/pin" sign --tpm2-pcrs= --tpm2-with-pin=yes
unset NEWPIN
printf '4711\n' > "$T/pin.txt"
printf '1234\n' > "$T/wrong.txt"
unlock "$S" --pin-file="$T/pin.txt" "$T/pin"
check "PIN token unlocks with the right PIN" expect_ok "$T/pin" 0 1
unlock "$S" --pin-file="$T/wrong.txt" "$T/pin"
check "PIN token refuses a wrong PIN" expect_fail "$T/pin: token 0: wrong PIN"
unlock "$S" "$T/pin"
check "PIN token without a PIN says so" expect_fail "token needs a PIN and none was given"

# v253 format: PIN stretched with PBKDF2 and the token's salt.
openssl rand 32 > "$T/salt.bin"
salt=$(helper b64 "$T/salt.bin")
tt tpm2_createprimary -Q -C o -g sha256 -G ecc256:null:aes128cfb -a "$PRIMARY_ATTRS" -c "$T/ecc.ctx"
slot=$(helper_seal "$T/pin" "$T/ecc.ctx" "$(helper pinauth 4711 "$T/salt.bin")" "tpm2_salt=\"$salt\"")
tpm_flush
cryptsetup token remove --token-id 0 "$T/pin"
unlock "$S" --pin-file="$T/pin.txt" "$T/pin"
check "salted PIN token (v253 format) unlocks" expect_ok "$T/pin" 1 "$slot"
unlock "$S" --pin-file="$T/wrong.txt" "$T/pin"
check "salted PIN token refuses a wrong PIN" expect_fail "token 1: wrong PIN"

# RSA primary: systemd picks ECC whenever the TPM has it, so the helper
# seals under an RSA primary of systemd's RSA template.
make_image "$T/rsa"
check "systemd-cryptenroll enrols a signed PCR 11 token" enroll "$T/rsa" sign --tpm2-pcrs=
tt tpm2_createprimary -Q -C o -g sha256 -G rsa2048:null:aes128cfb -a "$PRIMARY_ATTRS" -c "$T/rsa.ctx"
slot=$(helper_seal "$T/rsa" "$T/rsa.ctx" "" 'tpm2-primary-alg="rsa"')
tpm_flush
cryptsetup token remove --token-id 0 "$T/rsa"
unlock "$S" "$T/rsa"
check "RSA primary token unlocks" expect_ok "$T/rsa" 1 "$slot"

# Tokens without a signed policy, as systemd-cryptenroll 252 writes them.
make_image "$T/nopcr"
systemd-cryptenroll --tpm2-device="$TCTI" --tpm2-pcrs= --unlock-key-file="$T/pw" "$T/nopcr" >/dev/null 2>&1
tpm_flush
unlock "$T/nopcr"
check "token bound to no PCR at all (no bank field) unlocks" expect_ok "$T/nopcr" 0 1
make_image "$T/pcr7only"
systemd-cryptenroll --tpm2-device="$TCTI" --unlock-key-file="$T/pw" "$T/pcr7only" >/dev/null 2>&1
tpm_flush
unlock "$T/pcr7only"
check "systemd's default token (literal PCR 7, no signature) unlocks" expect_ok "$T/pcr7only" 0 1
export NEWPIN=2468
make_image "$T/pinonly"
systemd-cryptenroll --tpm2-device="$TCTI" --tpm2-pcrs= --tpm2-with-pin=yes --unlock-key-file="$T/pw" "$T/pinonly" >/dev/null 2>&1
unset NEWPIN
tpm_flush
printf '2468' > "$T/pin2.txt"
unlock --pin-file="$T/pin2.txt" "$T/pinonly"
check "PIN-only token unlocks (PIN file without a newline)" expect_ok "$T/pinonly" 0 1

# Dictionary-attack lockout: one failure allowed, then the TPM locks.
tt tpm2_dictionarylockout -Q -s -n 1 -t 600 -l 600
unlock "$S" --pin-file="$T/wrong.txt" "$T/pin"
unlock "$S" --pin-file="$T/pin.txt" "$T/pin"
check "TPM in dictionary-attack lockout is named as such" expect_fail "dictionary-attack lockout"
unlock "$S" "$T/pcr7"
check "lockout also stops tokens without a PIN (v252 parents lack noDA)" expect_fail "dictionary-attack lockout"

# PCR 7 moved: the literal part no longer matches.
tt tpm2_dictionarylockout -Q -c
tt tpm2_pcrextend "7:sha256=$(printf x | sha256sum | cut -d' ' -f1)"
unlock "$S" "$T/pcr7"
check "literal PCR 7 changed: policy digest mismatch with the PCR 7 value" \
	expect_fail "policy digest mismatch" "literal PCR 7" "PCR 7=$(pcr_value sha256 7)"
done_testing
