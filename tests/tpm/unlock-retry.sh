#!/bin/sh
# A PCR moves between the policy and the Unseal (TPM_RC_PCR_CHANGED): the
# unseal is tried again and succeeds. The move is real: a recorded
# PCR_Extend of PCR 12 sent by a test TCTI right before the first Unseal.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require
BUMP=$top_builddir/tests/tpm/libtss2-tcti-pcrbump.so.0
[ -e "$BUMP" ] || skip_all "$BUMP not built (make check builds it)"
ls /usr/lib/*/libtss2-tcti-pcap.so.0 >/dev/null 2>&1 || skip_all "libtss2-tcti-pcap0 not installed"

signed_node
make_image "$T/img"
check "systemd-cryptenroll enrols a signed PCR 11 token" enroll "$T/img" sign --tpm2-pcrs=

# Record what tpm2_pcrextend sends for PCR 12 (outside the policy).
TCTI_PCAP_FILE=$T/ext.pcap tpm2_pcrextend --tcti="pcap:$TCTI" "12:sha256=$(printf bump | sha256sum | cut -d' ' -f1)"
python3 "$top_srcdir/tests/tpm/pcap-count.py" --dump "$T/ext.pcap" 0x182 "$T/extend.cmd"
check "a PCR_Extend command was recorded" [ -s "$T/extend.cmd" ]
before=$(pcr_value sha256 12)

mkdir -p "$T/lib"
cp "$BUMP" "$T/lib/"
OUT=$(LD_LIBRARY_PATH=$T/lib USI_TEST_BUMP_COMMAND=$T/extend.cmd TCTI_PCAP_FILE=$T/run.pcap \
	"$USI_INIT" --debug unlock --check --tpm2-device="pcap:pcrbump:$TCTI" --signature="$T/sig.json" "$T/img" 2>&1); RC=$?
printf '%s\n' "$OUT" | grep -v cryptsetup | sed 's/^/#   /'
check "the test TCTI moved PCR 12 before the Unseal" expect_has "pcrbump: sent the recorded command before Unseal"
check "PCR 12 did change" [ "$(pcr_value sha256 12)" != "$before" ]
check "the Unseal is tried again" expect_has "PCRs changed during the unseal, trying again"
check "and the volume unlocks" expect_line "$T/img: unlocked by token 0 (keyslot 1)"
python3 "$top_srcdir/tests/tpm/pcap-count.py" "$T/run.pcap" > "$T/count"
check "two Unseal commands went to the TPM" [ "$(awk '$1 == "Unseal" { print $2 }' "$T/count")" = 2 ]
check "no transient object or session is left in the TPM" \
	[ -z "$(tt tpm2_getcap handles-transient)$(tt tpm2_getcap handles-loaded-session)" ]
done_testing
