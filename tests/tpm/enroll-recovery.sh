#!/bin/sh
# Recovery keys: usi-init enroll --recovery-key writes a keyslot for a key in
# systemd's format and a systemd-recovery token, prints the key once; the
# keyslot takes the key as its passphrase (what systemd-cryptsetup gives it);
# usi-init unlock takes a recovery key as a person types it (no dashes, upper
# case, spaces), its own and one systemd-cryptenroll made.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require
signed_node

enroll_run() {
	OUT=$("$USI_INIT" enroll --tpm2-device="$TCTI" "$@" 2>"$T/enroll.err")
	RC=$?
	printf '%s\n' "$OUT" | sed 's/^/#   /'
	sed 's/^/#   /' "$T/enroll.err"
	return 0
}
# typed IMAGE TEXT: unlock --check --passphrase with TEXT on standard input.
typed() {
	OUT=$(printf '%s\n' "$2" | "$USI_INIT" unlock --check --passphrase "$1" 2>&1)
	RC=$?
	printf '%s\n' "$OUT" | sed 's/^/#   /'
}
opened_by_passphrase() { [ "$RC" = 0 ] && expect_has "$1: unlocked by passphrase (keyslot $2)"; }

make_image "$T/img"
enroll_run --recovery-key --unlock-key-file="$T/pw" "$T/img"
check "enroll --recovery-key: keyslot 1, token 0, the key shown once" sh -c '[ "$1" = 0 ] &&
	[ "$(printf "%s\n" "$2" | head -n1)" = "$3: enrolled a recovery key, keyslot 1 (token 0). Keep it safe; it is shown only now:" ] &&
	[ "$(printf "%s\n" "$2" | wc -l)" = 2 ]' - "$RC" "$OUT" "$T/img"
key=$(printf '%s\n' "$OUT" | sed -n 2p)
check "the key is systemd's format: 8 groups of 8 modhex digits" \
	sh -c 'printf "%s\n" "$1" | grep -Eqx "[cbdefghijklnrtuv]{8}(-[cbdefghijklnrtuv]{8}){7}"' - "$key"
check "  and not on standard error" sh -c '! grep -qF "$1" "$2"' - "$key" "$T/enroll.err"
check "the keyslot takes the key as its passphrase (as systemd-cryptsetup gives it)" \
	sh -c 'printf "%s" "$1" | cryptsetup open --test-passphrase --key-slot 1 --key-file - "$2"' - "$key" "$T/img"
check "a systemd-recovery token names keyslot 1" sh -c \
	'[ "$(cryptsetup token export --token-id 0 "$1" | tr -d " \n")" = "{\"type\":\"systemd-recovery\",\"keyslots\":[\"1\"]}" ]' - "$T/img"

typed "$T/img" "$key"
check "unlock takes the key as shown" opened_by_passphrase "$T/img" 1
typed "$T/img" "$(printf '%s' "$key" | tr -d -)"
check "  typed without its dashes" opened_by_passphrase "$T/img" 1
typed "$T/img" "$(printf '%s' "$key" | tr 'a-z' 'A-Z')"
check "  in upper case" opened_by_passphrase "$T/img" 1
typed "$T/img" "$(printf '%s' "$key" | tr - ' ')"
check "  with spaces between the groups" opened_by_passphrase "$T/img" 1
typed "$T/img" "$(printf '%s' "$key" | tr 'cv' 'vc')"
check "another key of the same shape is refused" [ "$RC" != 0 ]
typed "$T/img" "$(cat "$T/pw")"
check "the passphrase still opens keyslot 0" opened_by_passphrase "$T/img" 0

# A key systemd-cryptenroll made, typed as a person would.
make_image "$T/sd"
sdkey=$(systemd-cryptenroll --unlock-key-file="$T/pw" --recovery-key "$T/sd" 2>/dev/null | grep -Ex '[a-v-]{71}')
check "systemd-cryptenroll --recovery-key enrolls" [ -n "$sdkey" ]
typed "$T/sd" "$(printf '%s' "$sdkey" | tr -d - | tr 'a-z' 'A-Z')"
check "unlock takes systemd's recovery key without dashes, in upper case" opened_by_passphrase "$T/sd" 1

# Through the volume's TPM token.
make_image "$T/bytpm"
enroll "$T/bytpm" sign --tpm2-pcrs=
enroll_run --recovery-key --unlock-tpm2 "$S" "$T/bytpm"
check "enroll --recovery-key --unlock-tpm2 opens the volume by its token" \
	sh -c '[ "$1" = 0 ] && printf "%s\n" "$2" | head -n1 | grep -q "enrolled a recovery key, keyslot 2 (token 1)"' - "$RC" "$OUT"

enroll_run --recovery-key --public-key="$T/sign.pub.pem" --unlock-key-file="$T/pw" "$T/img"
check "--recovery-key with a public key is a usage error (exit 2)" [ "$RC" = 2 ]
enroll_run --recovery-key --unlock-key-file="$T/wrong" "$T/img"
check "a missing unlock key file: exit 1, nothing shown" sh -c '[ "$1" = 1 ] && [ -z "$2" ]' - "$RC" "$OUT"
done_testing
