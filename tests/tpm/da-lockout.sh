#!/bin/sh
# TPM dictionary-attack lockout. A wrong PIN and a lockout are refused with
# the TPM's own numbers: the counter, the maximum, the recovery time and the
# command that clears it; `usi-init status --tpm2-device` says the same. The
# tokens usi-init enrolls without a PIN carry NoDA (a failure with them never
# counts); a token with a PIN does not (its PIN is what DA protects).
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require tpm2_dictionarylockout tpm2_getcap
signed_node

# objectAttributes of the sealed object in a token's tpm2-blob
# (TPM2B_PRIVATE, then TPM2B_PUBLIC: size, type, nameAlg, attributes).
noda() {
	cryptsetup token export --token-id "$2" "$1" > "$T/tok.json" &&
		python3 -c 'import base64, json, struct, sys
b = base64.b64decode(json.load(open(sys.argv[1]))["tpm2-blob"])
n = struct.unpack(">H", b[:2])[0]
pub = b[2 + n:]
attrs = struct.unpack(">I", pub[6:10])[0]
sys.exit(0 if attrs & 0x400 else 1)' "$T/tok.json"
}
no_noda() { ! noda "$@"; }

# Three failures lock the TPM out; one is forgiven every 600 s.
tt tpm2_dictionarylockout --setup-parameters --max-tries=3 --recovery-time=600 --lockout-recovery-time=1200 \
	>/dev/null 2>&1 && tt tpm2_dictionarylockout --clear-lockout >/dev/null 2>&1
check "the TPM's DA parameters are set (max 3, recovery 600 s)" \
	sh -c 'tt() { TPM2TOOLS_TCTI=$1 "$@"; }; TPM2TOOLS_TCTI=$1 tpm2_getcap properties-variable | grep -q "TPM2_PT_MAX_AUTH_FAIL: 0x3"' - "$TCTI"

printf '1234\n' > "$T/pin"
printf '9999\n' > "$T/wrong"
make_image "$T/nopin"
"$USI_INIT" enroll --tpm2-device="$TCTI" --public-key="$T/sign.pub.pem" --unlock-key-file="$T/pw" "$T/nopin" \
	>"$T/e1.log" 2>&1
make_image "$T/pin.img"
"$USI_INIT" enroll --tpm2-device="$TCTI" --public-key="$T/sign.pub.pem" --pin-file="$T/pin" \
	--unlock-key-file="$T/pw" "$T/pin.img" >"$T/e2.log" 2>&1
check "a token usi-init enrolls without a PIN carries NoDA" noda "$T/nopin" 0
check "a token with a PIN does not (DA guards its PIN)" no_noda "$T/pin.img" 0

# A failure of the no-PIN token (its literal PCR moved): a policy failure,
# which the TPM never counts (NoDA or not), so no assertion on the counter.
make_image "$T/bound"
"$USI_INIT" enroll --tpm2-device="$TCTI" --public-key="$T/sign.pub.pem" --pcrs=16 --unlock-key-file="$T/pw" \
	"$T/bound" >"$T/e3.log" 2>&1
tt tpm2_pcrextend "16:sha256=$(printf x | sha256sum | cut -d' ' -f1)"
unlock "$S" "$T/bound"
check "a no-PIN token whose policy fails is refused" [ "$RC" != 0 ]

unlock "$S" --pin-file="$T/wrong" "$T/pin.img"
check "a wrong PIN: refused with the counter, the maximum, the recovery time, the way out" expect_fail \
	"$T/pin.img" "wrong PIN" "TPM dictionary-attack counter: 1 of 3 authorization failures counted" \
	"recovery time 600 s" "tpm2_dictionarylockout --clear-lockout"
unlock "$S" --pin-file="$T/wrong" "$T/pin.img"
unlock "$S" --pin-file="$T/wrong" "$T/pin.img"
check "the third wrong PIN counts 3 of 3" expect_has "3 of 3 authorization failures counted"
unlock "$S" --pin-file="$T/pin" "$T/pin.img"
check "in lockout even the right PIN is refused, with the lockout sentence and its numbers" expect_fail \
	"$T/pin.img" "dictionary-attack lockout" "TPM dictionary-attack lockout: 3 of 3 authorization failures counted" \
	"recovery time 600 s (one failure is forgiven every 600 s)" "tpm2_dictionarylockout --clear-lockout"
# The primary key systemd 252's template makes is not NoDA (its template
# must stay byte-equal for the key to be the same), so in a lockout no
# token under it loads, with or without a PIN: the refusal says why.
unlock "$S" "$T/nopin"
check "in lockout a no-PIN token is refused with the lockout sentence and its numbers" expect_fail \
	"$T/nopin" "dictionary-attack lockout" "3 of 3 authorization failures counted" "tpm2_dictionarylockout --clear-lockout"

OUT=$("$USI_INIT" status --state-file /nonexistent --tpm2-device="$TCTI" 2>&1)
printf '%s\n' "$OUT" | sed 's/^/#   /'
check "status --tpm2-device shows the lockout with its numbers" \
	expect_has "TPM dictionary-attack lockout: 3 of 3 authorization failures counted, recovery time 600 s"

tt tpm2_dictionarylockout --clear-lockout >/dev/null 2>&1
unlock "$S" "$T/nopin"
check "after --clear-lockout the no-PIN token opens its volume" expect_ok "$T/nopin" 0 1
unlock "$S" --pin-file="$T/pin" "$T/pin.img"
check "after --clear-lockout the right PIN opens the volume" expect_ok "$T/pin.img" 0 1
done_testing
