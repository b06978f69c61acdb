#!/bin/sh
# Signing-key rotation with usi-init enroll on image files and swtpm: a token
# for a new PCR signing key, enrolled through the volume's current token,
# keeps that token's PCR 15 binding and opens with the new key's signature;
# --remove-token and --wipe-old then take the old token away, after which the
# old signature opens nothing. The removals refuse what would lose the volume.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require

signed_node     # key "sign" (the old one), $T/sig.json, PCR 11 at enter-initrd
make_key new
check "systemd-measure signs enter-initrd with the new key" sign new "$T/new.json"

# enroll_run ARGS...: usi-init enroll on $TCTI; output in $OUT, rc in $RC.
enroll_run() {
	OUT=$("$USI_INIT" enroll --tpm2-device="$TCTI" "$@" 2>&1)
	RC=$?
	printf '%s\n' "$OUT" | sed 's/^/#   /'
	return 0
}
token_pcrs() {
	cryptsetup token export --token-id "$2" "$1" | python3 -c 'import json, sys
t = json.load(sys.stdin); print(t["tpm2-pcrs"], t["tpm2_pubkey_pcrs"])'
}
slots_are() { [ "$(keyslots "$1" | tr '\n' ' ')" = "$2" ]; }
tokens_are() {
	[ "$(cryptsetup luksDump --dump-json-metadata "$1" | python3 -c 'import json, sys
print(" ".join(sorted(json.load(sys.stdin)["tokens"])))')" = "$2" ]
}
zero=$(printf '%064d' 0)

# ---- the old key's token, bound at PCR 15 = 0 (the first volume of a set) ----
make_image "$T/img"
enroll_run --public-key="$T/sign.pub.pem" --unlock-key-file="$T/pw" --pcr15="$zero" "$T/img"
check "the old key's token 0, bound at PCR 15 = 0" expect_has "$T/img: enrolled token 0 (keyslot 1)"

# ---- rotation: the new key's token, through the old token ----
enroll_run --tpm2-public-key="$T/new.pub.pem" --unlock-tpm2 "$S" "$T/img"
check "enroll --tpm2-public-key NEW --unlock-tpm2 adds token 1, keeping token 0's PCR 15" \
	expect_ok_line "$T/img: enrolled token 1 (keyslot 2), literal PCRs 15 as token 0 had them"
check "  the new token lists literal PCR 15 and the signed PCR 11" [ "$(token_pcrs "$T/img" 1)" = "[15] [11]" ]
unlock --signature="$T/new.json" "$T/img"
check "the new key's signature opens the new token" expect_ok "$T/img" 1 2
unlock "$S" "$T/img"
check "the old key's signature still opens the old token" expect_ok "$T/img" 0 1

# A second image, bound at PCR 15 = 0 too, kept for after PCR 15 moves.
make_image "$T/moved"
enroll_run --public-key="$T/sign.pub.pem" --unlock-key-file="$T/pw" --pcr15="$zero" "$T/moved"
enroll_run --tpm2-public-key="$T/new.pub.pem" --unlock-tpm2 "$S" "$T/moved"
# Without the binding kept, the new token would open whatever PCR 15 holds.
tt tpm2_pcrextend "15:sha256=$(printf 'another volume' | sha256sum | cut -c1-64)" >/dev/null
unlock --signature="$T/new.json" "$T/moved"
check "PCR 15 moved: the rotated token refuses too (the binding was kept)" \
	expect_fail "$T/moved: " "token 1: PCR 15 changed since enrollment" "policy digest mismatch"
# An unbound rotation, asked for: --pcrs= (none) drops the literal PCRs.
enroll_run --tpm2-public-key="$T/new.pub.pem" --unlock-key-file="$T/pw" --pcrs= "$T/moved"
check "  --pcrs= says no literal PCRs" expect_ok_line "$T/moved: enrolled token 2 (keyslot 3)"

# ---- removal ----
enroll_run --remove-token=0 "$T/img"
check "--remove-token 0 removes token 0 and its keyslot" expect_ok_line "$T/img: removed token 0 and its keyslot"
check "  tokens left: 1" tokens_are "$T/img" "1"
check "  keyslots left: 0 (the passphrase) and 2" slots_are "$T/img" "0 2 "

enroll_run --remove-token=0 "$T/img"
check "removing a token that is not there is refused, naming it" \
	expect_fail "$T/img: token 0: there is no such token"
cryptsetup token import --token-id 5 "$T/img" <<-'EOF'
	{"type":"other","keyslots":[]}
	EOF
enroll_run --remove-token=5 "$T/img"
check "removing a token of another type is refused" expect_fail "$T/img: token 5: not a systemd-tpm2 token"
check "  and it is still there" tokens_are "$T/img" "1 5"

# The last keyslot is never removed: the volume could not be opened again.
cryptsetup luksKillSlot -q "$T/img" 0 >/dev/null 2>&1
enroll_run --remove-token=1 "$T/img"
check "removing the token of the last keyslot is refused" expect_fail "$T/img: that would remove the last keyslot"
check "  and the keyslot is still there" slots_are "$T/img" "2 "

# ---- --wipe-old: every token not signed by the kept key ----
make_image "$T/w"
enroll_run --public-key="$T/sign.pub.pem" --unlock-key-file="$T/pw" "$T/w"
enroll_run --wipe-old --public-key="$T/new.pub.pem" "$T/w"
check "--wipe-old with no token of the kept key is refused" \
	expect_fail "$T/w: no systemd-tpm2 token is signed by the kept key"
check "  and nothing was removed" tokens_are "$T/w" "0"
enroll_run --tpm2-public-key="$T/new.pub.pem" --unlock-key-file="$T/pw" "$T/w"
enroll_run --wipe-old --public-key="$T/new.pub.pem" "$T/w"
check "--wipe-old removes the old key's token" expect_ok_line "$T/w: removed 1 token(s) not signed by $T/new.pub.pem"
check "  the new key's token stays" tokens_are "$T/w" "1"
unlock "$S" "$T/w"
check "the old key's signature opens nothing any more" expect_fail "$T/w: token 1:"
unlock --signature="$T/new.json" "$T/w"
check "the new key's signature opens the volume" expect_ok "$T/w" 1 2

enroll_run --remove-token=1 --public-key="$T/new.pub.pem" "$T/w"
check "--remove-token with enrolment options is a usage error (exit 2)" [ "$RC" = 2 ]
done_testing
