#!/bin/sh
# usi-init measure extends PCR 11 in every active bank exactly as Debian's
# systemd-pcrphase 252 does, and as systemd-measure calculate predicts.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require unshare
[ -x "$PCRPHASE" ] || skip_all "$PCRPHASE missing (package systemd)"

swtpm_start ours
OURS=$TCTI
swtpm_start theirs
THEIRS=$TCTI

check "usi-init measure enter-initrd leave-initrd" \
	"$USI_INIT" measure --tpm2-device="$OURS" enter-initrd leave-initrd
# systemd-pcrphase measures only when systemd-stub did (an EFI variable
# says so): give it one in a private mount namespace.
cat > "$T/pcrphase.sh" <<EOS
set -e
mount -t tmpfs none /sys/firmware
mkdir -p /sys/firmware/efi/efivars
{ printf '\\006\\000\\000\\000'; printf '1\\000'; printf '1\\000'; } > /sys/firmware/efi/efivars/StubPcrKernelImage-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f
$PCRPHASE --tpm2-device=$THEIRS enter-initrd
$PCRPHASE --tpm2-device=$THEIRS leave-initrd
EOS
check "systemd-pcrphase enter-initrd leave-initrd" unshare -m sh "$T/pcrphase.sh"
# same_pcr A B: both read, equal, and not all zeros (the PCR was extended).
same_pcr() { [ -n "$1" ] && [ "$1" = "$2" ] && [ "$1" != "$(printf '%0*d' ${#1} 0)" ]; }
for bank in sha1 sha256 sha384 sha512; do
	TCTI=$OURS; a=$(pcr_value $bank 11)
	TCTI=$THEIRS; b=$(pcr_value $bank 11)
	diag "$bank: usi-init $a, systemd-pcrphase $b"
	check "PCR 11 $bank equals systemd-pcrphase's" same_pcr "$a" "$b"
done

# Against systemd-measure calculate: sections replayed, then the phase.
swtpm_start calc
make_uki
replay_sections
check "PCR 11 after the sections is systemd-measure's prediction for no phase" \
	[ "$(pcr_value sha256 11)" = "$(predict_pcr11 "")" ]
"$USI_INIT" measure --tpm2-device="$TCTI" enter-initrd
check "PCR 11 after enter-initrd is systemd-measure's prediction" \
	[ "$(pcr_value sha256 11)" = "$(predict_pcr11 enter-initrd)" ]
"$USI_INIT" measure --tpm2-device="$TCTI" leave-initrd
check "PCR 11 after leave-initrd is systemd-measure's prediction for enter-initrd:leave-initrd" \
	[ "$(pcr_value sha256 11)" = "$(predict_pcr11 enter-initrd:leave-initrd)" ]

# The hand-off check: is PCR 11 after leave-initrd still signed?
make_key sign
check "systemd-measure signs enter-initrd only" sign sign "$T/initrd-only.json" enter-initrd
check "systemd-measure signs enter-initrd and enter-initrd:leave-initrd" \
	sign sign "$T/both.json" enter-initrd enter-initrd:leave-initrd
OUT=$("$USI_INIT" measure --tpm2-device="$TCTI" --check-signed --signature="$T/both.json" sysinit 2>&1); RC=$?
check "after sysinit nothing is signed" expect_ok_line "PCR 11 (sha256) is not signed in $T/both.json: volume keys are sealed from here on"
swtpm_start calc2
replay_sections
"$USI_INIT" measure --tpm2-device="$TCTI" enter-initrd
OUT=$("$USI_INIT" measure --tpm2-device="$TCTI" --check-signed --signature="$T/both.json" leave-initrd 2>&1); RC=$?
check "leave-initrd signed too: keys unsealable after hand-off, with the remedy" \
	expect_has "PCR 11 (sha256) is signed in $T/both.json: volume keys stay unsealable after this phase; sign only the initrd phase"
OUT=$("$USI_INIT" measure --tpm2-device="$TCTI" --check-signed --signature="$T/initrd-only.json" sysinit 2>&1); RC=$?
check "initrd-only signature: sealed after the initrd" expect_has "is not signed in $T/initrd-only.json"

OUT=$("$USI_INIT" measure --tpm2-device="swtpm:path=$T/absent" enter-initrd 2>&1); RC=$?
check "measure without a TPM fails with one line" expect_fail "no TPM"
OUT=$("$USI_INIT" measure --tpm2-device="$TCTI" 2>&1); RC=$?
check "measure without a word is a usage error" [ "$RC" = 2 ]
done_testing
