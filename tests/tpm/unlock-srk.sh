#!/bin/sh
# Persistent parents: a key at 0x81000001 that is exactly systemd's primary
# template is used instead of CreatePrimary (v252 token), and a v254 token
# that names the SRK (tpm2_srk) is sealed under the TCG SRK with noDA.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require tpm2_create tpm2_createprimary tpm2_evictcontrol tpm2_readpublic
SRK=0x81000001

signed_node

# systemd's ECC template made persistent: same seed, same key.
tt tpm2_createprimary -Q -C o -g sha256 -G ecc256:null:aes128cfb -a "$PRIMARY_ATTRS" -c "$T/p.ctx"
tt tpm2_evictcontrol -Q -C o -c "$T/p.ctx" $SRK
tpm_flush
make_image "$T/img"
check "systemd-cryptenroll enrols a signed PCR 11 token" enroll "$T/img" sign --tpm2-pcrs=
OUT=$("$USI_INIT" --debug unlock --check --tpm2-device="$TCTI" "$S" "$T/img" 2>&1); RC=$?
printf '%s\n' "$OUT" | sed 's/^/#   /'
check "v252 token unlocks through the matching persistent key" expect_line "$T/img: unlocked by token 0 (keyslot 1)"
check "no primary key was created" expect_has "tpm2: 0 primary key(s) created, 1 persistent parent(s) used"

# The TCG SRK (noDA) does not match a v252 token's template: not used.
tt tpm2_evictcontrol -Q -C o -c $SRK
tt tpm2_createprimary -Q -C o -g sha256 -G ecc256:null:aes128cfb -a "$PRIMARY_ATTRS|noda" -c "$T/srk.ctx"
tt tpm2_evictcontrol -Q -C o -c "$T/srk.ctx" $SRK
tpm_flush
OUT=$("$USI_INIT" --debug unlock --check --tpm2-device="$TCTI" "$S" "$T/img" 2>&1); RC=$?
check "a persistent key of another template is not taken for a v252 token" expect_has "tpm2: 1 primary key(s) created, 0 persistent"

# v254 format: sealed under the SRK, which the token names.
tt tpm2_readpublic -Q -c $SRK -t "$T/srk.tr"
slot=$(helper_seal "$T/img" $SRK "" "tpm2_srk=\"$(helper b64 "$T/srk.tr")\"")
cryptsetup token remove --token-id 0 "$T/img"
OUT=$("$USI_INIT" --debug unlock --check --tpm2-device="$TCTI" "$S" "$T/img" 2>&1); RC=$?
printf '%s\n' "$OUT" | sed 's/^/#   /'
check "v254 token with tpm2_srk unlocks" expect_line "$T/img: unlocked by token 1 (keyslot $slot)"
check "v254 token: no primary key was created" expect_has "tpm2: 0 primary key(s) created, 1 persistent parent(s) used"

# Two v254 volumes, counted on the wire: the SRK the tokens name is checked
# with one ReadPublic (its name and storage-key attributes, as the TPM has
# them) for both, and salts the one session.
if ls /usr/lib/*/libtss2-tcti-pcap.so.0 >/dev/null 2>&1; then
	make_image "$T/img2"
	check "second volume enrolled" enroll "$T/img2" sign --tpm2-pcrs=
	slot2=$(helper_seal "$T/img2" $SRK "" "tpm2_srk=\"$(helper b64 "$T/srk.tr")\"")
	cryptsetup token remove --token-id 0 "$T/img2"
	OUT=$(TCTI_PCAP_FILE="$T/two.pcap" "$USI_INIT" unlock --check --tpm2-device="pcap:$TCTI" "$S" \
		"$T/img" "$T/img2" 2>&1); RC=$?
	check "two v254 volumes unlock" expect_line "$T/img2: unlocked by token 1 (keyslot $slot2)"
	check "two v254 volumes: exactly these commands (one ReadPublic checks the SRK)" \
		commands_are "$T/two.pcap" <<EOW
total 15
FlushContext 3
Load 2
PolicyAuthorize 2
PolicyPCR 2
Unseal 2
LoadExternal 1
ReadPublic 1
StartAuthSession 1
VerifySignature 1
StartAuthSession(salted) 1
EOW
fi
done_testing
