#!/bin/sh
# usi-init enroll on image files and swtpm: the token it writes unlocks by
# usi-init unlock and by Debian's systemd 252 token plugin, has the fields and
# policy hash systemd-cryptenroll writes, binds PCR 15 at a chain value that
# only the earlier volume keys give, refuses a wrong unlock key, a header the
# LUKS2 rules refuse and a missing public key by name, and prints no secret.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require
SD_UNLOCK=$top_builddir/tests/bench/tpm-systemd-unlock
[ -x "$SD_UNLOCK" ] || skip_all "$SD_UNLOCK is not built (make check builds it)"

signed_node

# enroll_run ARGS...: usi-init enroll on $TCTI; output in $OUT (and kept in
# $T/outputs for the secret search), rc in $RC.
enroll_run() {
	OUT=$("$USI_INIT" enroll --tpm2-device="$TCTI" "$@" 2>&1)
	RC=$?
	printf '%s\n' "$OUT" >> "$T/outputs"
	printf '%s\n' "$OUT" | sed 's/^/#   /'
	return 0
}
PK=--public-key=$T/sign.pub.pem
KF=--unlock-key-file=$T/pw

# sd_unlock IMAGE KEYSLOT: systemd 252's own token plugin opens KEYSLOT of
# IMAGE (check only); sd_refuses IMAGE: it opens none.
sd_run() {
	SD_OUT=$("$SD_UNLOCK" "$TCTI" "$T/sig.json" "$1" 2>&1)
	SD_RC=$?
	tpm_flush  # the plugin leaves sessions behind on a TPM without a resource manager
	printf '%s\n' "$SD_OUT" | sed 's/^/#   /'
}
sd_unlock() { sd_run "$1"; [ $SD_RC = 0 ] && [ "$SD_OUT" = "$1: unlocked by systemd's token plugin ($2)" ]; }
sd_refuses() { sd_run "$1"; [ $SD_RC != 0 ] && case $SD_OUT in *"unlocked by"*) return 1 ;; esac; }
token_json() { cryptsetup token export --token-id "$2" "$1" > "$T/token.json"; }
slots_are() { [ "$(keyslots "$1" | tr '\n' ' ')" = "$2" ]; }

# ---- a signed PCR 11 token, opened by a key file ----
make_image "$T/img"
enroll_run "$PK" "$KF" "$T/img"
check "enroll by key file writes token 0 for a new keyslot 1" expect_ok_line "$T/img: enrolled token 0 (keyslot 1)"
cryptsetup luksDump --dump-json-metadata "$T/img" > "$T/dump.json"
check "the new keyslot is PBKDF2-SHA512 with 1000 iterations, as systemd's" python3 -c 'import json, sys
k = json.load(open(sys.argv[1]))["keyslots"]["1"]["kdf"]
sys.exit(0 if (k["type"], k["hash"], k["iterations"]) == ("pbkdf2", "sha512", 1000) else 1)' "$T/dump.json"
unlock "$S" "$T/img"
check "usi-init unlock --check opens it with the systemd-measure signature" expect_ok "$T/img" 0 1
check "systemd 252's token plugin opens it" sd_unlock "$T/img" 1

# The token as systemd-cryptenroll writes it for the same key and PCRs.
make_image "$T/ref"
check "systemd-cryptenroll enrols the same policy on another image" enroll "$T/ref" sign --tpm2-pcrs=
token_json "$T/img" 0 && cp "$T/token.json" "$T/ours.json"
token_json "$T/ref" 0 && cp "$T/token.json" "$T/ref.json"
same_fields() {
	python3 - "$T/ours.json" "$T/ref.json" "$T/sign.pub.pem" <<-'EOF'
	import base64, json, sys
	ours, ref = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
	pem = open(sys.argv[3], "rb").read()
	bad = []
	if sorted(ours) != sorted(ref):
	    bad.append("fields %s != %s" % (sorted(ours), sorted(ref)))
	for k in ("type", "keyslots", "tpm2-pcrs", "tpm2-pcr-bank", "tpm2-primary-alg", "tpm2-policy-hash",
	          "tpm2-pin", "tpm2_pubkey_pcrs", "tpm2_pubkey"):
	    if ours.get(k) != ref.get(k):
	        bad.append("%s: %r != %r" % (k, ours.get(k), ref.get(k)))
	if base64.b64decode(ours["tpm2_pubkey"]) != pem:
	    bad.append("tpm2_pubkey is not the PEM file")
	for b in bad:
	    print("# " + b)
	sys.exit(1 if bad else 0)
	EOF
}
check "token fields and policy hash equal systemd-cryptenroll's" same_fields

# ---- opened by its own TPM token ----
enroll_run "$PK" --unlock-tpm2 "$S" "$T/img"
check "enroll by the volume's TPM token writes token 1 for keyslot 2" expect_ok_line "$T/img: enrolled token 1 (keyslot 2)"
check "  and leaves no transient object or session in the TPM" \
	[ -z "$(tt tpm2_getcap handles-transient)$(tt tpm2_getcap handles-loaded-session)" ]
cryptsetup token remove --token-id 0 "$T/img"
unlock "$S" "$T/img"
check "the new token unlocks by itself" expect_ok "$T/img" 1 2

# ---- a PIN (systemd 253's salted format) ----
make_image "$T/pin"
printf 'sesame-4711\n' > "$T/pinfile"
printf 'sesame-4712\n' > "$T/wrongpin"
enroll_run "$PK" "$KF" --pin-file="$T/pinfile" "$T/pin"
check "enroll with a PIN" expect_ok_line "$T/pin: enrolled token 0 (keyslot 1)"
token_json "$T/pin" 0
check "the token has tpm2-pin and a 32-byte tpm2_salt" python3 -c 'import base64, json, sys
t = json.load(open(sys.argv[1]))
sys.exit(0 if t["tpm2-pin"] is True and len(base64.b64decode(t["tpm2_salt"])) == 32 else 1)' "$T/token.json"
unlock "$S" --pin-file="$T/pinfile" "$T/pin"
check "the PIN token unlocks with its PIN" expect_ok "$T/pin" 0 1
unlock "$S" --pin-file="$T/wrongpin" "$T/pin"
check "and not with another PIN" expect_fail "$T/pin: token 0:" "wrong PIN"

# ---- PCR 15: a volume bound behind the volume "oem" ----
make_image "$T/a"
make_image "$T/b"
make_image "$T/c"
enroll_run "$PK" "$KF" --pcrs=15 "$T/a"
check "volume 0 enrolled at PCR 15 as it is (0)" expect_ok_line "$T/a: enrolled token 0 (keyslot 1)"
# What the boot measures for a when it opens it as "oem": HMAC(volume key,
# "cryptsetup:oem:UUID"), computed here with cryptsetup and openssl.
cryptsetup luksDump -q --dump-volume-key --volume-key-file "$T/vk" --key-file "$T/pw" "$T/a" >/dev/null
printf 'cryptsetup:oem:%s' "$(cryptsetup luksUUID "$T/a")" > "$T/desc"
d0=$(openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(od -An -tx1 "$T/vk" | tr -d ' \n')" -r < "$T/desc" | cut -d' ' -f1)
v1=$(printf '%064d%s' 0 "$d0" | xxd -r -p | openssl dgst -sha256 -r | cut -d' ' -f1)
enroll_run "$PK" "$KF" --bind-after="oem:$T/pw:$T/a" "$T/b"
check "volume 1 bound behind oem: PCR 15 = the chain openssl computes" \
	expect_ok_line "$T/b: enrolled token 0 (keyslot 1), bound to PCR 15 = $v1"
enroll_run "$PK" "$KF" --pcr15="$v1" "$T/c"
check "--pcr15 with that value" expect_ok_line "$T/c: enrolled token 0 (keyslot 1), bound to PCR 15 = $v1"
token_json "$T/b" 0
check "the bound token lists literal PCR 15" python3 -c 'import json, sys
sys.exit(0 if json.load(open(sys.argv[1]))["tpm2-pcrs"] == [15] else 1)' "$T/token.json"

# The boot's offline judgement of the tokens (unlock --check --explain).
OUT=$("$USI_INIT" unlock --check --explain "$S" "$T/a" "$T/b" 2>&1)
printf '%s\n' "$OUT" | grep 'bound' | sed 's/^/#   /'
check "unlock --explain: the bound volume is bound to its set" \
	expect_line "$T/b: bound to its volume set: yes (behind the volumes it was enrolled after)"
check "unlock --explain: volume 0 is the first of a set" \
	expect_line "$T/a: bound to its volume set: first of a set, or the systemd way (PCR 15 = 0)"
unlock "$S" "$T/a"
check "PCR 15 = 0: volume 0 unlocks" expect_ok "$T/a" 0 1
unlock "$S" "$T/b"
check "PCR 15 = 0: the bound volume is refused, naming literal PCR 15" \
	expect_fail "$T/b: token 0:" "policy digest mismatch" "literal PCR 15"
unlock "$S" "$T/c"
check "PCR 15 = 0: the --pcr15 volume is refused" expect_fail "$T/c: token 0:" "policy digest mismatch"
check "PCR 15 = 0: systemd's plugin refuses the bound volume" sd_refuses "$T/b"

tt tpm2_pcrextend "15:sha256=$d0"
check "PCR 15 after oem's key is the chain value" [ "$(pcr_value sha256 15)" = "$v1" ]
unlock "$S" "$T/b"
check "PCR 15 at the chain value: the bound volume unlocks" expect_ok "$T/b" 0 1
unlock "$S" "$T/c"
check "PCR 15 at the chain value: the --pcr15 volume unlocks" expect_ok "$T/c" 0 1
check "PCR 15 at the chain value: systemd's plugin opens the bound volume" sd_unlock "$T/b" 1
unlock "$S" "$T/a"
check "PCR 15 moved: volume 0 no longer unlocks" expect_fail "$T/a: token 0:" "policy digest mismatch"

# ---- refusals, each naming the device, the file and the reason ----
make_image "$T/r"
OUT=$(printf 'wrong-passphrase\n' | "$USI_INIT" enroll --tpm2-device="$TCTI" "$PK" --unlock-passphrase "$T/r" 2>&1); RC=$?
printf '%s\n' "$OUT" | tee -a "$T/outputs" | sed 's/^/#   /'
check "a wrong unlock passphrase is refused" expect_fail "$T/r: the unlock key opens no keyslot"
check "  and nothing was added" slots_are "$T/r" "0 "
OUT=$(printf 'fixture-passphrase\n' | "$USI_INIT" enroll --tpm2-device="$TCTI" "$PK" --unlock-passphrase "$T/r" 2>&1); RC=$?
printf '%s\n' "$OUT" | tee -a "$T/outputs" | sed 's/^/#   /'
check "the right unlock passphrase enrolls" expect_has "$T/r: enrolled token 0 (keyslot 1)"

printf 'not-the-key' > "$T/wrongkey"
enroll_run "$PK" --unlock-key-file="$T/wrongkey" "$T/r"
check "a wrong unlock key file is refused" expect_fail "$T/r: the unlock key opens no keyslot"
enroll_run "$PK" "$KF" --bind-after="oem:$T/wrongkey:$T/a" "$T/r"
check "a wrong key for a --bind-after volume is refused, naming it" \
	expect_fail "$T/r: --bind-after $T/a: the unlock key opens no keyslot"

cp "$T/r" "$T/nullseg"
python3 "$top_srcdir/tests/tpm/luks2-rewrite.py" "$T/nullseg" segments.0.encryption=cipher_null-ecb
check "cryptsetup accepts a header rewritten to cipher_null" cryptsetup isLuks "$T/nullseg"
enroll_run "$PK" "$KF" "$T/nullseg"
check "a header the LUKS2 rules refuse is refused before any key" \
	expect_fail "$T/nullseg: LUKS2 data segment 0 uses cipher_null-ecb" ": refused"
check "  and nothing was added" slots_are "$T/nullseg" "0 1 "

# A header with every token slot taken: the token cannot be written, and the
# keyslot added for it goes again.
make_image "$T/full"
printf '{"type":"filler","keyslots":[]}' > "$T/filler.json"
for i in $(seq 0 31); do
	cryptsetup token import --token-id "$i" --json-file "$T/filler.json" "$T/full" || break
done
enroll_run "$PK" "$KF" "$T/full"
check "no free token slot: refused" expect_fail "$T/full: cannot write the systemd-tpm2 token"
check "  and the keyslot made for it is gone again" slots_are "$T/full" "0 "

enroll_run --public-key="$T/missing.pem" "$KF" "$T/r"
check "a missing public key file is refused, naming it" expect_fail "$T/r: --public-key: " "$T/missing.pem"
check "  exit 1" [ "$RC" = 1 ]
enroll_run "$KF" "$T/r"
check "no --public-key is a usage error (exit 2)" eval '[ "$RC" = 2 ] && expect_has "--public-key is missing"'
enroll_run --public-key="$T/pw" "$KF" "$T/r"
check "a public key file that is no PEM key is refused" expect_fail "$T/r: the public key: not a PEM public key"

# ---- no secret in any output or on the wire ----
# A token on literal PCR 7 only, so that tpm2-tools can unseal it here and
# the test knows the secret usi-init made.
make_image "$T/s"
tpm_flush
OUT=$(TSS2_LOG=all+trace TCTI_PCAP_FILE=$T/enroll.pcap "$USI_INIT" --debug enroll --tpm2-device="pcap:$TCTI" \
	--public-key-pcrs= --pcrs=7 "$KF" "$T/s" 2>&1); RC=$?
printf '%s\n' "$OUT" >> "$T/outputs"
check "literal-only enrollment" expect_has "$T/s: enrolled token 0 (keyslot 1)"
check "enroll leaves no transient object or session in the TPM" \
	[ -z "$(tt tpm2_getcap handles-transient)$(tt tpm2_getcap handles-loaded-session)" ]
token_json "$T/s" 0
python3 -c 'import base64, json, struct, sys
b = base64.b64decode(json.load(open(sys.argv[1]))["tpm2-blob"])
n = struct.unpack(">H", b[:2])[0] + 2
open(sys.argv[2], "wb").write(b[:n]); open(sys.argv[3], "wb").write(b[n:])' "$T/token.json" "$T/priv" "$T/pub"
# tpm2-tools leave their objects loaded: flushed after each step.
tt tpm2_createprimary -Q -C o -g sha256 -G ecc256:null:aes128cfb -a "$PRIMARY_ATTRS" -c "$T/ecc.ctx" && tpm_flush &&
	tt tpm2_load -Q -C "$T/ecc.ctx" -u "$T/pub" -r "$T/priv" -c "$T/obj.ctx" && tpm_flush &&
	tt tpm2_unseal -c "$T/obj.ctx" -p pcr:sha256:7 -o "$T/secret.bin"
tpm_flush
helper b64 "$T/secret.bin" > "$T/secret.pass"
check "the sealed secret is 32 bytes" [ "$(stat -c %s "$T/secret.bin")" = 32 ]
check "its base64 opens the new keyslot (systemd's passphrase rule)" \
	cryptsetup open --test-passphrase --key-slot 1 --key-file "$T/secret.pass" "$T/s"
check "the debug and TSS trace output was captured" [ "$(printf '%s\n' "$OUT" | wc -l)" -gt 20 ]
pass=$(cat "$T/secret.pass")
hex=$(od -An -tx1 "$T/secret.bin" | tr -d ' \n')
nosecret() { [ -n "$1" ] && ! grep -qiF -- "$1" "$T/outputs"; }
check "no output holds the passphrase (base64 of the secret)" nosecret "$pass"
check "no output holds the secret (hex)" nosecret "$hex"
check "no output holds the secret (hex, spaced as in the TSS trace)" \
	nosecret "$(printf '%s' "$hex" | sed 's/../& /g' | cut -c1-47)"
check "no output holds a PIN" nosecret sesame-4711
check "no output holds the unlock passphrase" nosecret fixture-passphrase
not_in_file() { [ -s "$1" ] && [ -s "$2" ] && ! in_file "$@"; }
check "the TPM recording holds no secret (the Create was encrypted)" not_in_file "$T/enroll.pcap" "$T/secret.bin"
check "the TPM recording holds no passphrase" not_in_file "$T/enroll.pcap" "$T/secret.pass"

check "no transient object or session is left in the TPM" \
	[ -z "$(tt tpm2_getcap handles-transient)$(tt tpm2_getcap handles-loaded-session)" ]
done_testing
