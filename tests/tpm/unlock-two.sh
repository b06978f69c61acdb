#!/bin/sh
# Two volumes in one run: one parent key, one salted session, one signature
# verification, counted on the wire with the recording TCTI, and no command
# more than the minimum below; the unsealed secret never crosses the wire in
# clear; a TPM nobody started gets its Startup on demand; and nothing
# printed or logged holds a secret, a passphrase or the PIN.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require tpm2_create tpm2_createprimary
[ -e /usr/lib/x86_64-linux-gnu/libtss2-tcti-pcap.so.0 ] || ls /usr/lib/*/libtss2-tcti-pcap.so.0 >/dev/null 2>&1 ||
	skip_all "libtss2-tcti-pcap0 not installed"

signed_node
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
one_salted_session() { [ "$(count StartAuthSession)" = 1 ] && [ "$(count 'StartAuthSession(salted)')" = 1 ]; }
check "one StartAuthSession for two volumes: one salted policy session that also encrypts" one_salted_session
check "no Startup (the TPM is started) and no PCR_Read (the file signs one policy)" \
	[ -z "$(count Startup)$(count PCR_Read)" ]
# The whole list, the minimum for two volumes of systemd 252 on a TPM without
# the SRK: ReadPublic (is there a persistent parent?), CreatePrimary, one
# StartAuthSession, LoadExternal + VerifySignature + its FlushContext; per
# volume Load, PolicyPCR, PolicyAuthorize, Unseal, FlushContext; the
# parent's FlushContext (the last Unseal ends the session itself).
check "exactly these commands for two volumes" commands_are "$T/two.pcap" <<EOW
total 17
FlushContext 4
Load 2
PolicyAuthorize 2
PolicyPCR 2
Unseal 2
CreatePrimary 1
LoadExternal 1
ReadPublic 1
StartAuthSession 1
VerifySignature 1
StartAuthSession(salted) 1
EOW
check "no transient object or session is left in the TPM" \
	[ -z "$(tt tpm2_getcap handles-transient)$(tt tpm2_getcap handles-loaded-session)$(tt tpm2_getcap handles-saved-session)" ]

# The Unseal that ends the session is the last one made, not the last
# volume's: a volume without a token after it never reaches the TPM, so the
# session ends with volume a's Unseal and needs no FlushContext.
make_image "$T/notoken"
OUT=$(TCTI_PCAP_FILE="$T/last.pcap" "$USI_INIT" unlock --check --tpm2-device="pcap:$TCTI" \
	--signature="$T/sig.json" "$T/a" "$T/notoken" 2>&1); RC=$?
printf '%s\n' "$OUT" | sed 's/^/#   /'
a_and_notoken() { expect_line "$T/a: unlocked by token 0 (keyslot 1)" && expect_has "$T/notoken: no systemd-tpm2 token"; }
check "a unlocks, the volume without a token says so" a_and_notoken
python3 "$top_srcdir/tests/tpm/pcap-count.py" "$T/last.pcap" > "$T/count"
sed 's/^/#   /' "$T/count"
check "the session ended with a's Unseal: 12 commands, FlushContext only for the ticket's key, a's object and the parent" \
	[ "$(count total) $(count Unseal) $(count StartAuthSession) $(count FlushContext)" = "12 1 1 3" ]

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

# Nor on the wire: the Unseal response is encrypted with the session's salt.
TCTI_PCAP_FILE=$T/c.pcap "$USI_INIT" unlock --check --tpm2-device="pcap:$TCTI" --signature="$T/sig.json" \
	--pin-file="$T/pin" "$T/c" >/dev/null 2>&1
check "recorded: the PIN volume unlocks through one salted session" \
	[ "$(python3 "$top_srcdir/tests/tpm/pcap-count.py" "$T/c.pcap" | awk '$1 == "StartAuthSession(salted)" { print $2 }')" = 1 ]
not_in_file() { [ -s "$1" ] && [ -s "$2" ] && ! in_file "$@"; }
check "the recording holds no unsealed secret" not_in_file "$T/c.pcap" "$T/sealed.bin"
check "the recording holds no passphrase (base64 of the secret)" not_in_file "$T/c.pcap" "$T/sealed.pass"
helper pinauth 80085 | python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' > "$T/pinauth.bin"
check "the recording holds no PIN authValue" not_in_file "$T/c.pcap" "$T/pinauth.bin"
# The same search finds a secret unsealed without encryption (tpm2_unseal,
# password session): it would see one that crossed in clear.
openssl rand 32 > "$T/clear.bin"
tt tpm2_createprimary -Q -C o -g sha256 -G ecc256:null:aes128cfb -a "$PRIMARY_ATTRS" -c "$T/ctl.ctx"
tt tpm2_create -Q -C "$T/ctl.ctx" -g sha256 -a "fixedtpm|fixedparent|userwithauth" -i "$T/clear.bin" \
	-u "$T/clear.pub" -r "$T/clear.priv"
tpm_flush
tt tpm2_load -Q -C "$T/ctl.ctx" -u "$T/clear.pub" -r "$T/clear.priv" -c "$T/clear.ctx"
tpm_flush
TCTI_PCAP_FILE=$T/clear.pcap tpm2_unseal --tcti="pcap:$TCTI" -c "$T/clear.ctx" > "$T/clear.out"
tpm_flush
check "control: an unencrypted Unseal puts the secret in the recording" in_file "$T/clear.pcap" "$T/clear.bin"

# A TPM that nobody started (swtpm without startup-clear, a reset TPM):
# TPM_RC_INITIALIZE on the first command, then Startup once, and the unlock.
make_image "$T/d"
systemd-cryptenroll --tpm2-device="$TCTI" --tpm2-pcrs= --unlock-key-file="$T/pw" "$T/d" >/dev/null 2>&1
tpm_flush
swtpm_stop tpm
swtpm_start tpm not-need-init
OUT=$(TCTI_PCAP_FILE="$T/start.pcap" "$USI_INIT" unlock --check --tpm2-device="pcap:$TCTI" "$T/d" 2>&1); RC=$?
printf '%s\n' "$OUT" | sed 's/^/#   /'
check "an unstarted TPM: the volume unlocks" expect_ok "$T/d" 0 1
python3 "$top_srcdir/tests/tpm/pcap-count.py" "$T/start.pcap" > "$T/count"
check "an unstarted TPM: one Startup on the wire" [ "$(count Startup)" = 1 ]
check "no transient object or session is left in the TPM" \
	[ -z "$(tt tpm2_getcap handles-transient)$(tt tpm2_getcap handles-loaded-session)$(tt tpm2_getcap handles-saved-session)" ]
done_testing
