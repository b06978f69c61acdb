#!/bin/sh
# Fallbacks, only after the TPM failed for every volume: key file, then a
# passphrase read with a timeout. Without them the TPM reason stands alone.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require

swtpm_start tpm
make_uki
make_key sign
check "systemd-measure signs the enter-initrd phase" sign sign "$T/sig.json"
replay_sections
"$USI_INIT" measure --tpm2-device="$TCTI" enter-initrd leave-initrd
make_image "$T/img"
check "systemd-cryptenroll enrols a signed PCR 11 token" enroll "$T/img" sign --tpm2-pcrs=
S=--signature=$T/sig.json
printf 'wrong' > "$T/wrong"

# PCR 11 is past the signed phase: the TPM refuses, the key file opens.
unlock "$S" --key-file="$T/pw" "$T/img"
check "key file opens after the TPM refused" expect_ok_line "$T/img: unlocked by key file (keyslot 0)"
unlock "$S" --key-file="$T/wrong" "$T/img"
check "wrong key file: both reasons on one line" \
	expect_fail "$T/img: key file: key does not open any keyslot; TPM: token 0: PCR 11 (sha256) does not match"

OUT=$(printf 'fixture-passphrase\n' | "$USI_INIT" unlock --check --tpm2-device="$TCTI" "$S" --passphrase "$T/img" 2>/dev/null); RC=$?
check "passphrase read from standard input opens after the TPM refused" \
	expect_ok_line "$T/img: unlocked by passphrase (keyslot 0)"
OUT=$(printf 'nope\n' | "$USI_INIT" unlock --check --tpm2-device="$TCTI" "$S" --passphrase "$T/img" 2>&1 >/dev/null); RC=$?
check "wrong passphrase is refused" expect_has "passphrase: key does not open any keyslot; TPM: token 0: PCR 11"
# A FIFO held open read-write: input that never comes and never ends.
mkfifo "$T/fifo"
exec 3<>"$T/fifo"
start=$(date +%s%N)
OUT=$("$USI_INIT" unlock --check --tpm2-device="$TCTI" "$S" --passphrase --timeout=1 "$T/img" 2>&1 <&3); RC=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
exec 3>&-
check "passphrase prompt times out" expect_has "no passphrase typed within 1 s"
diag "the prompt gave up after $ms ms"
kept_timeout() { [ "$ms" -ge 1000 ] && [ "$ms" -lt 4000 ]; }
check "the timeout is kept (1 s, and under 4 s)" kept_timeout
check "prompt output holds no passphrase" sh -c '! printf "%s" "$1" | grep -q fixture-passphrase' _ "$OUT"

# The TPM is tried first even when a fallback is given.
"$USI_INIT" measure --tpm2-device="$TCTI" sysinit
swtpm_start fresh
replay_sections
"$USI_INIT" measure --tpm2-device="$TCTI" enter-initrd
make_image "$T/img2"
check "enrolled on the second TPM" enroll "$T/img2" sign --tpm2-pcrs=
unlock "$S" --key-file="$T/pw" "$T/img2"
check "TPM first: the token opens, the key file is not used" expect_ok "$T/img2" 0 1
done_testing
