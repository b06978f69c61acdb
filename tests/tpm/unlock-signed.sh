#!/bin/sh
# A token enrolled by Debian's systemd-cryptenroll with a PCR 11 policy
# signed by systemd-measure: unlocks on swtpm without device-mapper, and is
# refused once PCR 11 moves, without a signature, or with another key's.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require

swtpm_start tpm
make_uki
make_key sign
make_key other
make_image "$T/img"
check "systemd-cryptenroll enrols a signed PCR 11 token" enroll "$T/img" sign --tpm2-pcrs=
check "systemd-measure signs the enter-initrd phase" sign sign "$T/sig.json"
check "systemd-measure signs with another key" sign other "$T/other.json"

replay_sections
"$USI_INIT" measure --tpm2-device="$TCTI" enter-initrd
check "PCR 11 after usi-init measure enter-initrd is what systemd-measure predicts" \
	[ "$(pcr_value sha256 11)" = "$(predict_pcr11 enter-initrd)" ]

unlock --signature="$T/sig.json" "$T/img"
check "signed PCR 11 token unlocks" expect_ok "$T/img" 0 1

unlock --signature="$T/other.json" "$T/img"
check "signature made by another key is refused" expect_fail "$T/img: token 0:" "no signature by key" "PCR 11"

unlock --signature="$T/missing.json" "$T/img"
check "missing signature file is refused" expect_fail "no PCR signature file (tried $T/missing.json"

"$USI_INIT" measure --tpm2-device="$TCTI" leave-initrd
actual=$(pcr_value sha256 11)
unlock --signature="$T/sig.json" "$T/img"
check "PCR 11 extended after signing is refused, naming PCR 11, expected vs actual" \
	expect_fail "PCR 11 (sha256) does not match the signed policy" "expected policy" "actual policy" "PCR 11=$actual"

# A signature of the later phase as well: systemd-measure signs both paths.
check "systemd-measure signs enter-initrd:leave-initrd" sign sign "$T/sig2.json" enter-initrd enter-initrd:leave-initrd
unlock --signature="$T/sig2.json" "$T/img"
check "the later phase unlocks with the entry signed for it" expect_ok "$T/img" 0 1

# systemd's default places, found without --signature (private mount
# namespace: nothing on the host is touched).
if command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
	for where in /run/systemd /etc/systemd; do
		OUT=$(unshare -m sh -c 'mkdir -p "$3/d" && mount -t tmpfs none "$3/d" && mount --bind "$3/d" "$1" &&
			cp "$3/sig2.json" "$1/tpm2-pcr-signature.json" &&
			"$USI_INIT" unlock --check --tpm2-device="$2" "$3/img"' _ "$where" "$TCTI" "$T" 2>&1); RC=$?
		check "signature found at $where/tpm2-pcr-signature.json by default" expect_ok "$T/img" 0 1
	done
else
	skip "signature found in systemd's default places" "unshare -m is not available"
fi

# The default search list is used after the given files.
unlock --signature="$T/none.json" --signature="$T/sig2.json" "$T/img"
check "second file of the search list is used" expect_ok "$T/img" 0 1

check "no transient object or session is left in the TPM" \
	[ -z "$(tt tpm2_getcap handles-transient)$(tt tpm2_getcap handles-loaded-session)" ]
done_testing
