#!/bin/sh
# A token planted on the LUKS2 header cannot choose the key that salts the
# TPM session. Done as an attacker with the disk and the TPM (owner auth
# empty) does it: an RSA key pair made with openssl, its private part
# imported into the TPM as a persistent storage key, a token in front of the
# genuine one naming it in tpm2_srk with a bogus policy hash, the bus
# recorded with tcti-pcap, and every StartAuthSession's encrypted salt in
# the recording decrypted with the attacker's private key. Nothing may come
# out, and the genuine token must still unlock. The same with a PIN token
# (the salt keys the PIN's HMAC), with a tpm2_srk whose handle is the real
# SRK but whose serialized public area is the attacker's, and with handles
# that are no persistent key. A token whose policy fails never hands its
# session to the next token, and a planted PIN object exempt from
# dictionary-attack protection never gets the PIN.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require tpm2_create tpm2_createprimary tpm2_evictcontrol tpm2_readpublic tpm2_import tpm2_load \
	tpm2_startauthsession xxd
ls /usr/lib/*/libtss2-tcti-pcap.so.0 >/dev/null 2>&1 || skip_all "libtss2-tcti-pcap0 not installed"
SRK=0x81000001
EVIL=0x81000010
BOGUS=$(printf 'bogus' | sha256sum | cut -d' ' -f1)

signed_node

# The node: the TCG SRK as systemd 254+ persists it, and a volume whose
# token (v254 format) is sealed under it and names it.
tt tpm2_createprimary -Q -C o -g sha256 -G ecc256:null:aes128cfb -a "$PRIMARY_ATTRS|noda" -c "$T/srk.ctx"
tt tpm2_evictcontrol -Q -C o -c "$T/srk.ctx" $SRK
tpm_flush
tt tpm2_readpublic -Q -c $SRK -t "$T/srk.tr"
make_image "$T/img"
check "systemd-cryptenroll enrols a signed PCR 11 token" enroll "$T/img" sign --tpm2-pcrs=
slot=$(helper_seal "$T/img" $SRK "" "tpm2_srk=\"$(helper b64 "$T/srk.tr")\"")
cp "$T/sealed.bin" "$T/genuine.bin"
cp "$T/sealed.pass" "$T/genuine.pass"
cryptsetup token remove --token-id 0 "$T/img"

# The attacker: a key pair of their own, imported under the SRK with every
# attribute the TPM lets an imported key have (sensitiveDataOrigin included;
# fixedTPM and fixedParent it refuses), made persistent.
openssl genrsa -out "$T/evil.pem" 2048 2>/dev/null
tt tpm2_import -Q -C $SRK -G rsa2048:null:aes128cfb -i "$T/evil.pem" \
	-a "restricted|decrypt|userwithauth|sensitivedataorigin" -u "$T/evil.pub" -r "$T/evil.priv"
check "control: the TPM refuses fixedTPM on an imported key" \
	sh -c "! TPM2TOOLS_TCTI='$TCTI' tpm2_import -Q -C $SRK -G rsa2048:null:aes128cfb -i '$T/evil.pem' \
		-a 'restricted|decrypt|userwithauth|sensitivedataorigin|fixedtpm|fixedparent' -u '$T/x.pub' -r '$T/x.priv' 2>/dev/null"
tt tpm2_load -Q -C $SRK -u "$T/evil.pub" -r "$T/evil.priv" -c "$T/evil.ctx"
tt tpm2_evictcontrol -Q -C o -c "$T/evil.ctx" $EVIL
tpm_flush
tt tpm2_readpublic -Q -c $EVIL -t "$T/evil.tr"
check "the attacker's persistent key claims sensitiveDataOrigin" \
	sh -c "TPM2TOOLS_TCTI='$TCTI' tpm2_readpublic -c $EVIL | grep -q 'value: sensitivedataorigin|userwithauth|restricted|decrypt'"

# salts PCAP: "TPMKEY SALT" for each salt in the recording that the
# attacker's private key decrypts (RSA-OAEP, SHA-256, label "SECRET\0":
# TPM 2.0 part 1, salted sessions).
salts() {
	python3 "$top_srcdir/tests/tpm/pcap-count.py" --salts "$1" | while read -r key enc; do
		[ "$enc" = - ] && continue
		printf '%s' "$enc" | xxd -r -p > "$T/enc.bin"
		openssl pkeyutl -decrypt -inkey "$T/evil.pem" -in "$T/enc.bin" -out "$T/salt.bin" \
			-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 \
			-pkeyopt rsa_oaep_label:53454352455400 2>/dev/null &&
			echo "$key $(xxd -p "$T/salt.bin" | tr -d '\n')"
	done
}
# sessions PCAP HANDLE: how many StartAuthSession name HANDLE as tpmKey.
sessions() { python3 "$top_srcdir/tests/tpm/pcap-count.py" --salts "$1" | grep -c "^$2 "; }
# recorded PCAP: the recording holds at least one StartAuthSession, so a
# count of 0 or no salt found is about the sessions, not a missing file.
recorded() {
	[ "$(python3 "$top_srcdir/tests/tpm/pcap-count.py" --salts "$1" 2>/dev/null | wc -l)" -ge 1 ] ||
		{ echo "# no StartAuthSession recorded in $1"; return 1; }
}
# no_session_to PCAP HANDLE: sessions were recorded, none salted to HANDLE.
no_session_to() { recorded "$1" && [ "$(sessions "$1" "$2")" = 0 ]; }
# no_salts PCAP: nothing decrypts; prints what did.
no_salts() { recorded "$1" || return 1; _s=$(salts "$1"); [ -z "$_s" ] || { echo "# recovered: $_s"; return 1; }; }

# Control: a session the attacker salts to their key themselves is
# recovered by this very method, so an empty result is not a blind test.
TCTI_PCAP_FILE=$T/control.pcap tt tpm2_startauthsession --tcti="pcap:$TCTI" --policy-session -c $EVIL \
	-S "$T/control.session" >/dev/null 2>&1
tpm_flush
check "control: a salt encrypted to the attacker's key is recovered from a recording" \
	[ "$(salts "$T/control.pcap" | awk '{ print length($2) }')" = 64 ]

# plant NAME PARENT SRK.tr [FIELD=JSON...]: token 0 of NAME.img, in front
# of the genuine one (token 1, whose fields it copies): a sealed object the attacker made under PARENT, the
# tpm2_srk bytes of SRK.tr, a policy hash no PCR value gives.
# SRC (default img) is the image planted into; ATTRS and CREATE change the
# object's attributes and add tpm2_create options.
plant() {
	_img=$T/$1.img _parent=$2 _tr=$3; shift 3
	cp "${SRC:-$T/img}" "$_img"
	openssl rand 32 > "$T/junk.bin"
	# shellcheck disable=SC2086
	tt tpm2_create -Q -C "$_parent" -g sha256 -a "${ATTRS:-userwithauth}" $CREATE -i "$T/junk.bin" \
		-r "$T/p.priv" -u "$T/p.pub" || return 1
	tpm_flush
	cryptsetup token export --token-id 1 "$_img" > "$T/base.json" || return 1
	_slot=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["keyslots"][0])' "$T/base.json")
	helper build "$T/base.json" "$T/p.priv" "$T/p.pub" "$_slot" "$T/planted.json" \
		"tpm2_srk=\"$(helper b64 "$_tr")\"" "tpm2-policy-hash=\"$BOGUS\"" "$@" &&
		cryptsetup --disable-external-tokens token import --token-id 0 --json-file "$T/planted.json" "$_img"
}

# boot NAME [ARGS...]: usi-init on NAME.img, recorded to NAME.pcap.
boot() {
	_n=$1; shift
	OUT=$(TCTI_PCAP_FILE="$T/$_n.pcap" "$USI_INIT" --debug unlock --check --tpm2-device="pcap:$TCTI" "$S" \
		"$@" "$T/$_n.img" 2>&1); RC=$?
	printf '%s\n' "$OUT" | grep -E 'token|unlocked|tpm2:' | sed 's/^/#   /'
}
not_in_file() { [ -s "$1" ] && [ -s "$2" ] && ! in_file "$@"; }

# 1. The attack as it was done: tpm2_srk names the imported key, in front
# of the token Debian's systemd-cryptenroll wrote (v252, parent made by
# CreatePrimary), which would then unseal through the planted session.
make_image "$T/v252.img"
check "systemd-cryptenroll enrols the genuine v252 token" enroll "$T/v252.img" sign --tpm2-pcrs=
cryptsetup token export --token-id 0 "$T/v252.img" > "$T/v252.json"
cryptsetup token remove --token-id 0 "$T/v252.img"
cryptsetup --disable-external-tokens token import --token-id 1 --json-file "$T/v252.json" "$T/v252.img"
SRC=$T/v252.img
check "planted token 0 in front of systemd's token" plant v252 $EVIL "$T/evil.tr"
SRC=
boot v252
check "systemd's token still unlocks" expect_line "$T/v252.img: unlocked by token 1 (keyslot 1)"
check "the planted token is refused by name, before systemd's token" expect_has \
	"token 0: tpm2_srk names 0x81000010, which is not the TPM's storage key (not fixedTPM, not fixedParent): refused"
check "v252: no session is salted to the attacker's key" no_session_to "$T/v252.pcap" $EVIL
check "v252: no salt of the recording decrypts with the attacker's key" no_salts "$T/v252.pcap"

# The same in front of a v254 token, sealed under the SRK and naming it.
check "planted token 0 names the attacker's key in tpm2_srk" plant evil $EVIL "$T/evil.tr"
boot evil
check "the genuine token still unlocks" expect_line "$T/evil.img: unlocked by token 1 (keyslot $slot)"
check "the planted token is refused by name" expect_has \
	"token 0: tpm2_srk names 0x81000010, which is not the TPM's storage key (not fixedTPM, not fixedParent): refused"
check "no session is salted to the attacker's key" no_session_to "$T/evil.pcap" $EVIL
check "no salt of the recording decrypts with the attacker's key" no_salts "$T/evil.pcap"
check "the recording holds no unsealed secret" not_in_file "$T/evil.pcap" "$T/genuine.bin"
check "the recording holds no passphrase" not_in_file "$T/evil.pcap" "$T/genuine.pass"

# The same with an ECC key pair (the salt by ECDH, which the TPM accepts
# from any point): refused on the same attributes.
EVILEC=0x81000011
openssl ecparam -name prime256v1 -genkey -noout -out "$T/evil-ec.pem" 2>/dev/null
tt tpm2_import -Q -C $SRK -G ecc256:null:aes128cfb -i "$T/evil-ec.pem" \
	-a "restricted|decrypt|userwithauth|sensitivedataorigin" -u "$T/ec.pub" -r "$T/ec.priv"
tt tpm2_load -Q -C $SRK -u "$T/ec.pub" -r "$T/ec.priv" -c "$T/ec.ctx"
tt tpm2_evictcontrol -Q -C o -c "$T/ec.ctx" $EVILEC
tpm_flush
tt tpm2_readpublic -Q -c $EVILEC -t "$T/evil-ec.tr"
check "planted token 0 names an imported ECC key" plant ec $EVILEC "$T/evil-ec.tr"
boot ec
check "ECC: the genuine token still unlocks" expect_line "$T/ec.img: unlocked by token 1 (keyslot $slot)"
check "ECC: the planted token is refused by name" expect_has \
	"token 0: tpm2_srk names 0x81000011, which is not the TPM's storage key (not fixedTPM, not fixedParent): refused"
check "ECC: no session is salted to the attacker's key" no_session_to "$T/ec.pcap" $EVILEC

# 2. The real SRK's handle with the attacker's public area: ESYS encrypts a
# salt to the serialized public area, whatever key the handle holds.
python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[0:4] = bytes.fromhex("81000001")
open(sys.argv[2], "wb").write(b)' "$T/evil.tr" "$T/swap.tr"
check "planted token 0: the SRK's handle with the attacker's public area" plant swap $SRK "$T/swap.tr"
boot swap
check "swapped public area: the genuine token still unlocks" \
	expect_line "$T/swap.img: unlocked by token 1 (keyslot $slot)"
check "swapped public area: refused, the TPM's name differs" expect_has \
	"token 0: tpm2_srk names 0x81000001 with name 000b"
check "swapped public area: no salt of the recording decrypts with the attacker's key" no_salts "$T/swap.pcap"

# 3. Handles that are no persistent key of the owner, or no key at all.
for h in 80000001:"which is not a persistent key of the owner hierarchy" \
	81800000:"which is not a persistent key of the owner hierarchy" \
	81000020:"which the TPM does not hold"; do
	python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[0:4] = bytes.fromhex(sys.argv[3])
open(sys.argv[2], "wb").write(b)' "$T/evil.tr" "$T/h.tr" "${h%%:*}"
	plant handle $SRK "$T/h.tr"
	boot handle
	refused_then_genuine() {
		expect_has "token 0: tpm2_srk names 0x${h%%:*}, ${h#*:}" &&
			expect_line "$T/handle.img: unlocked by token 1 (keyslot $slot)"
	}
	check "tpm2_srk naming 0x${h%%:*}: refused, the genuine token unlocks" refused_then_genuine
done

# 4. A token whose policy fails under a good parent (the SRK itself) hands
# no session on: the genuine token starts its own.
check "planted token 0 names the real SRK, bogus policy" plant reuse $SRK "$T/srk.tr"
boot reuse
check "bogus policy under the SRK: the genuine token still unlocks" \
	expect_line "$T/reuse.img: unlocked by token 1 (keyslot $slot)"
check "bogus policy: refused before Unseal" expect_has "token 0: policy digest mismatch"
check "the genuine token gets a session of its own (two, both salted to the SRK)" \
	[ "$(sessions "$T/reuse.pcap" $SRK)" = 2 ]
python3 "$top_srcdir/tests/tpm/pcap-count.py" "$T/reuse.pcap" > "$T/count"
check "one Unseal: the planted token never got that far" [ "$(awk '$1 == "Unseal" { print $2 }' "$T/count")" = 1 ]
# 5. The same with PINs: the planted token and the genuine one both ask for
# it, and the salt would key the PIN's HMAC.
make_image "$T/img"
export NEWPIN=80085
check "a PIN volume enrolled" enroll "$T/img" sign --tpm2-pcrs= --tpm2-with-pin=yes
unset NEWPIN
pslot=$(helper_seal "$T/img" $SRK "$(helper pinauth 80085)" "tpm2_srk=\"$(helper b64 "$T/srk.tr")\"")
cryptsetup token remove --token-id 0 "$T/img"
slot=$pslot
printf '80085\n' > "$T/pin"
check "planted PIN token 0 names the attacker's key" plant pin $EVIL "$T/evil.tr"
boot pin --pin-file="$T/pin"
check "PIN: the genuine token still unlocks" expect_line "$T/pin.img: unlocked by token 1 (keyslot $slot)"
check "PIN: the planted token is refused by name" expect_has "token 0: tpm2_srk names 0x81000010"
check "PIN: no session is salted to the attacker's key" no_session_to "$T/pin.pcap" $EVIL
check "PIN: no salt of the recording decrypts with the attacker's key" no_salts "$T/pin.pcap"

# A planted PIN token as an oracle: sealed under the real SRK with the
# genuine policy (public: the signing key and the policy hash are on the
# disk) and a guessed PIN, noDA so that wrong guesses never lock the TPM.
# Given the PIN, its Unseal would answer "guess right or wrong" on the bus,
# once per planted token and boot. It is refused before the PIN is tried.
cryptsetup token export --token-id 1 "$T/img" > "$T/pintok.json"
helper policy "$T/pintok.json" "$T/pinpolicy.bin"
GOOD=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["tpm2-policy-hash"])' "$T/pintok.json")
ATTRS="fixedtpm|fixedparent|noda" CREATE="-L $T/pinpolicy.bin -p hex:$(helper pinauth 0000)"
check "planted PIN token 0: genuine policy, guessed PIN, noDA" plant oracle $SRK "$T/srk.tr" \
	"tpm2-policy-hash=\"$GOOD\""
ATTRS= CREATE=
boot oracle --pin-file="$T/pin"
check "PIN oracle: the genuine token still unlocks" expect_line "$T/oracle.img: unlocked by token 1 (keyslot $slot)"
check "PIN oracle: refused before the PIN is tried" expect_has \
	"token 0: the sealed object is exempt from dictionary-attack protection (noDA), so the PIN is not tried on it: refused"
python3 "$top_srcdir/tests/tpm/pcap-count.py" "$T/oracle.pcap" > "$T/count"
check "PIN oracle: one Unseal on the wire, the genuine token's" \
	[ "$(awk '$1 == "Unseal" { print $2 }' "$T/count")" = 1 ]

check "no transient object or session is left in the TPM" \
	[ -z "$(tt tpm2_getcap handles-transient)$(tt tpm2_getcap handles-loaded-session)$(tt tpm2_getcap handles-saved-session)" ]
done_testing
