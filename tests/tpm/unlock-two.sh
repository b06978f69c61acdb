#!/bin/sh
# Two volumes in one run: one parent key, one salted session, one signature
# verification, counted on the wire with the recording TCTI; and nothing
# printed or logged holds a secret, a passphrase or the PIN.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require tpm2_create tpm2_createprimary
[ -e /usr/lib/x86_64-linux-gnu/libtss2-tcti-pcap.so.0 ] || ls /usr/lib/*/libtss2-tcti-pcap.so.0 >/dev/null 2>&1 ||
	skip_all "libtss2-tcti-pcap0 not installed"

swtpm_start tpm
make_uki
make_key sign
check "systemd-measure signs the enter-initrd phase" sign sign "$T/sig.json"
replay_sections
"$USI_INIT" measure --tpm2-device="$TCTI" enter-initrd
make_image "$T/a"
make_image "$T/b"
check "volume a enrolled" enroll "$T/a" sign --tpm2-pcrs=
check "volume b enrolled" enroll "$T/b" sign --tpm2-pcrs=

OUT=$(TCTI_PCAP_FILE="$T/two.pcap" "$USI_INIT" --debug unlock --check --tpm2-device="pcap:$TCTI" \
	--signature="$T/sig.json" "$T/a" "$T/b" 2>&1); RC=$?
printf '%s\n' "$OUT" | sed 's/^/#   /'
check "both volumes unlock in one run" [ "$RC" = 0 ]
check "volume a line" expect_line "$T/a: unlocked by token 0 (keyslot 1)"
check "volume b line" expect_line "$T/b: unlocked by token 0 (keyslot 1)"
check "the second volume reuses the verified ticket" expect_has "1 signature(s) verified, 1 ticket(s) reused, 2 unsealed"
python3 "$top_srcdir/tests/tpm/pcap-count.py" "$T/two.pcap" > "$T/count"
sed 's/^/#   /' "$T/count"
count() { awk -v n="$1" '$1 == n { print $2 }' "$T/count"; }
check "one CreatePrimary on the wire for two volumes" [ "$(count CreatePrimary)" = 1 ]
check "one VerifySignature on the wire for two volumes" [ "$(count VerifySignature)" = 1 ]
check "one LoadExternal on the wire for two volumes" [ "$(count LoadExternal)" = 1 ]
check "two Unseal on the wire" [ "$(count Unseal)" = 2 ]
check "two StartAuthSession (one salted HMAC, one policy) for two volumes" [ "$(count StartAuthSession)" = 2 ]
check "no transient object or session is left in the TPM" \
	[ -z "$(tt tpm2_getcap handles-transient)$(tt tpm2_getcap handles-loaded-session)" ]

# No secret in any output: a token whose secret the test knows (sealed by
# the helper), with a PIN, at the highest log level, TSS logging included.
tt tpm2_createprimary -Q -C o -g sha256 -G ecc256:null:aes128cfb -a "$PRIMARY_ATTRS" -c "$T/ecc.ctx"
export NEWPIN=80085
make_image "$T/c"
check "volume c enrolled with a PIN" enroll "$T/c" sign --tpm2-pcrs= --tpm2-with-pin=yes
unset NEWPIN
slot=$(helper_seal "$T/c" "$T/ecc.ctx" "$(helper pinauth 80085)")
tpm_flush
cryptsetup token remove --token-id 0 "$T/c"
printf '80085\n' > "$T/pin"
OUT=$(TSS2_LOG=all+trace "$USI_INIT" --debug unlock --check --tpm2-device="$TCTI" --signature="$T/sig.json" \
	--pin-file="$T/pin" "$T/c" 2>&1); RC=$?
check "helper-sealed PIN volume unlocks" expect_line "$T/c: unlocked by token 1 (keyslot $slot)"
pass=$(cat "$T/sealed.pass")
hex=$(od -An -tx1 "$T/sealed.bin" | tr -d ' \n')
hexu=$(printf '%s' "$hex" | tr a-f A-F)
printf '%s\n' "$OUT" > "$T/out.txt"
nosecret() { ! grep -qiF -- "$1" "$T/out.txt"; }
check "output holds no passphrase (base64 of the secret)" nosecret "$pass"
check "output holds no unsealed secret (hex)" nosecret "$hex"
check "output holds no unsealed secret (hex, spaced)" nosecret "$(printf '%s' "$hex" | sed 's/../& /g' | cut -c1-47)"
check "output holds no PIN" nosecret 80085
check "output holds no fixture passphrase" nosecret "fixture-passphrase"
check "output is not empty (the check looked at something)" [ "$(wc -l < "$T/out.txt")" -gt 20 ]
done_testing
