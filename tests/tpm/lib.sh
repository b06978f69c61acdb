# Fixtures of the TPM2/LUKS2 integration tests, sourced by tests/tpm/*.sh.
# Everything lives in one temp dir per test and goes away at exit; each test
# runs its own swtpm on a unix socket, so tests run in parallel.
. "$top_srcdir/tests/integration/tap.sh"

MEASURE=/usr/lib/systemd/systemd-measure
PCRPHASE=/usr/lib/systemd/systemd-pcrphase
TPMDATA=$top_srcdir/tests/tpm/data

tpm_require() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (cryptsetup on image files)"
	for t in swtpm swtpm_ioctl cryptsetup systemd-cryptenroll tpm2_pcrextend tpm2_pcrread openssl python3 "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip_all "$t not installed (see tools/packages.txt)"
	done
	[ -x "$MEASURE" ] || skip_all "$MEASURE missing (package systemd)"
	[ -n "$USI_INIT" ] && [ -x "$USI_INIT" ] || skip_all "USI_INIT is not the built binary"
	T=$(mktemp -d /tmp/usi-tpm.XXXXXX)
	trap tpm_cleanup EXIT
	# The LUKS passphrase of the fixtures: a file, never argv.
	printf 'fixture-passphrase' > "$T/pw"
	chmod 600 "$T/pw"
}

tpm_cleanup() {
	for p in "$T"/*/swtpm.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	rm -rf "$T"
}

# swtpm_start NAME [FLAGS]: a TPM (fresh, or NAME's state after
# swtpm_stop); sets $TCTI. FLAGS default to not-need-init,startup-clear (the
# TPM is started, as the kernel does); not-need-init alone leaves it waiting
# for TPM2_Startup.
swtpm_start() {
	d=$T/$1
	mkdir -p "$d/state"
	rm -f "$d/sock" "$d/sock.ctrl"
	swtpm socket --tpm2 --server type=unixio,path="$d/sock" --ctrl type=unixio,path="$d/sock.ctrl" \
		--tpmstate dir="$d/state" --flags "${2:-not-need-init,startup-clear}" --daemon --pid file="$d/swtpm.pid" \
		--log file="$d/swtpm.log" || return 1
	for _i in $(seq 50); do [ -S "$d/sock" ] && break; sleep 0.05; done
	TCTI="swtpm:path=$d/sock"
}

# swtpm_stop NAME: stop NAME's swtpm (its permanent state, seeds included, stays).
swtpm_stop() {
	_p=$(cat "$T/$1/swtpm.pid" 2>/dev/null) || return 0
	kill "$_p" 2>/dev/null
	for _i in $(seq 100); do kill -0 "$_p" 2>/dev/null || break; sleep 0.05; done
	rm -f "$T/$1/swtpm.pid"
}

# in_file HAYSTACK NEEDLE: whether the bytes of file NEEDLE (one trailing
# newline dropped) occur in file HAYSTACK, e.g. a secret in a TPM recording.
in_file() {
	python3 -c 'import sys
h = open(sys.argv[1], "rb").read()
n = open(sys.argv[2], "rb").read()
n = n[:-1] if n.endswith(b"\n") else n
sys.exit(0 if n and n in h else 1)' "$1" "$2"
}

# Run a tpm2-tools command against $TCTI.
tt() { TPM2TOOLS_TCTI=$TCTI "$@"; }

# Foreign tools leave sessions behind on a TPM without a resource manager.
tpm_flush() { tt tpm2_flushcontext -t >/dev/null 2>&1; tt tpm2_flushcontext -s >/dev/null 2>&1; tt tpm2_flushcontext -l >/dev/null 2>&1; true; }

# make_image FILE: a small LUKS2 image (PBKDF2, 1000 iterations) in keyslot 0.
make_image() {
	truncate -s 20M "$1"
	cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
		--luks2-keyslots-size 1M --key-file "$T/pw" "$1" >/dev/null 2>&1
}

# make_key NAME: RSA key pair $T/NAME.pem / $T/NAME.pub.pem
make_key() {
	openssl genrsa -out "$T/$1.pem" 2048 2>/dev/null &&
		openssl rsa -in "$T/$1.pem" -pubout -out "$T/$1.pub.pem" 2>/dev/null
}

# enroll IMAGE KEY [systemd-cryptenroll options]: signed PCR 11 policy by KEY.
enroll() {
	_img=$1 _key=$2; shift 2
	systemd-cryptenroll --tpm2-device="$TCTI" --tpm2-public-key="$T/$_key.pub.pem" \
		--tpm2-public-key-pcrs=11 --unlock-key-file="$T/pw" "$@" "$_img" >"$T/enroll.log" 2>&1
	_rc=$?
	tpm_flush
	return $_rc
}

# The UKI sections a test signs and replays (small files made per test).
make_uki() {
	mkdir -p "$T/uki"
	printf 'kernel image of %s\n' "$$" > "$T/uki/linux"
	printf 'ID=usi-test\n' > "$T/uki/osrel"
	printf 'console=ttyS0 rd.immucore.uki\n' > "$T/uki/cmdline"
	printf 'initrd of %s\n' "$$" > "$T/uki/initrd"
}

# sign KEY OUT [PHASE...]: systemd-measure's signature of PCR 11 for the
# sections and phase paths (default enter-initrd).
sign() {
	_key=$1 _out=$2; shift 2
	[ $# -gt 0 ] || set -- enter-initrd
	_ph=""
	for p in "$@"; do _ph="$_ph --phase=$p"; done
	# shellcheck disable=SC2086
	"$MEASURE" sign --linux="$T/uki/linux" --osrel="$T/uki/osrel" --cmdline="$T/uki/cmdline" \
		--initrd="$T/uki/initrd" --bank=sha256 $_ph --private-key="$T/$_key.pem" \
		--public-key="$T/$_key.pub.pem" --tpm2-device="$TCTI" > "$_out" 2>"$T/sign.log"
	_rc=$?
	tpm_flush
	[ $_rc = 0 ] && [ -s "$_out" ]
}

# What systemd-measure predicts for PCR 11 (sha256) after PHASE ("" = sections only).
predict_pcr11() {
	"$MEASURE" calculate --linux="$T/uki/linux" --osrel="$T/uki/osrel" --cmdline="$T/uki/cmdline" \
		--initrd="$T/uki/initrd" --bank=sha256 --phase="$1" | sed -n 's/^11:sha256=//p'
}

# Replay what systemd-stub measures into PCR 11 (sha256 bank only).
replay_sections() {
	for s in linux osrel cmdline initrd; do
		h1=$(printf '.%s\0' "$s" | sha256sum | cut -d' ' -f1)
		h2=$(sha256sum < "$T/uki/$s" | cut -d' ' -f1)
		tt tpm2_pcrextend "11:sha256=$h1" && tt tpm2_pcrextend "11:sha256=$h2" || return 1
	done
}

# signed_node: the fixture most tests start from. A started swtpm ($TCTI),
# the UKI sections, key pair "sign" and its enter-initrd signature in
# $T/sig.json (one TAP check), PCR 11 as systemd-stub and usi-init leave it
# before the unseal; $S is the option that names the signature.
signed_node() {
	swtpm_start tpm
	make_uki
	make_key sign
	check "systemd-measure signs the enter-initrd phase" sign sign "$T/sig.json"
	replay_sections
	"$USI_INIT" measure --tpm2-device="$TCTI" enter-initrd
	S=--signature=$T/sig.json
}

# commands_are PCAP: the TPM commands recorded in PCAP (pcap-count.py) are
# exactly the "NAME N" lines on stdin, in any order; the difference is shown.
commands_are() {
	sort > "$T/want.sorted"
	python3 "$top_srcdir/tests/tpm/pcap-count.py" "$1" | sort > "$T/count.sorted"
	diff "$T/want.sorted" "$T/count.sorted"
}

# pcr_value BANK N: the PCR's value in lower-case hex. tpm2-tools 5.4 prints
# "  7 : 0x..." (a space before the colon for one-digit PCRs) and "  11: 0x...".
# An empty answer would let an assertion that embeds it match anything, so it
# says so on stderr and answers a word no PCR value equals.
pcr_value() {
	_v=$(tt tpm2_pcrread "$1:$2" | sed -n 's/^ *[0-9]* *: 0x//p' | tr 'A-F' 'a-f')
	case $_v in
	*[!0-9a-f]* | "") echo "pcr_value: no value read for $1:$2" >&2; echo "NO-PCR-VALUE"; return 1 ;;
	esac
	echo "$_v"
}

# unlock ARGS...: run usi-init unlock --check on $TCTI; output in $OUT, rc in $RC.
unlock() {
	OUT=$("$USI_INIT" unlock --check --tpm2-device="$TCTI" "$@" 2>&1)
	RC=$?
	printf '%s\n' "$OUT" | sed 's/^/#   /'
	return 0
}

# expect_ok IMAGE TOKEN KEYSLOT: $OUT is exactly the success line.
expect_ok() { [ "$RC" = 0 ] && [ "$OUT" = "$1: unlocked by token $2 (keyslot $3)" ]; }
# expect_fail PATTERN...: non-zero, one line, containing every pattern.
# expect_ok_line LINE: success, and $OUT is exactly LINE.
expect_ok_line() { [ "$RC" = 0 ] && [ "$OUT" = "$1" ]; }
# expect_lines N: $OUT has N lines.
expect_lines() { [ "$(printf '%s\n' "$OUT" | wc -l)" = "$1" ]; }
# expect_out PATTERN: some line of $OUT is exactly PATTERN.
expect_line() { printf '%s\n' "$OUT" | grep -qxF -- "$1"; }
# expect_has TEXT: $OUT contains TEXT.
expect_has() { case $OUT in *"$1"*) return 0 ;; esac; echo "# missing: $1"; return 1; }
expect_fail() {
	[ "$RC" != 0 ] || return 1
	[ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ] || return 1
	for p in "$@"; do
		case $OUT in *"$p"*) ;; *) echo "# missing: $p"; return 1 ;; esac
	done
}

helper() { python3 "$top_srcdir/tests/tpm/token-helper.py" "$@"; }

keyslots() { cryptsetup luksDump --dump-json-metadata "$1" > "$T/dump.json" && helper keyslots "$T/dump.json"; }

# replace_token IMAGE ID JSON: put JSON in place of token ID.
replace_token() {
	# systemd's token plugin would validate (and refuse) a corrupt token.
	cryptsetup token remove --token-id "$2" "$1" &&
		cryptsetup --disable-external-tokens token import --token-id "$2" --json-file "$3" "$1"
}

# helper_seal IMAGE PARENT AUTHHEX FIELD=JSON...: seal 32 random bytes with
# tpm2-tools under PARENT (a context file or a persistent handle) with the
# policy of systemd's token 0 of IMAGE, add them (base64, as systemd does)
# as a new keyslot, and import a token made from token 0 with the new blob
# and keyslot plus the given fields. Prints the new token's keyslot.
helper_seal() {
	_img=$1 _parent=$2 _auth=$3; shift 3
	cryptsetup token export --token-id 0 "$_img" > "$T/base.json" || return 1
	helper policy "$T/base.json" "$T/policy.bin" || return 1
	openssl rand 32 > "$T/sealed.bin"
	helper b64 "$T/sealed.bin" > "$T/sealed.pass"
	tt tpm2_create -Q -C "$_parent" -g sha256 -a "fixedtpm|fixedparent" -L "$T/policy.bin" \
		-i "$T/sealed.bin" -r "$T/priv.bin" -u "$T/pub.bin" ${_auth:+-p "hex:$_auth"} || return 1
	_before=$(keyslots "$_img")
	cryptsetup luksAddKey -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$T/pw" \
		"$_img" "$T/sealed.pass" || return 1
	_slot=""
	for s in $(keyslots "$_img"); do
		case " $_before " in *" $s "*) ;; *) _slot=$s ;; esac
	done
	helper build "$T/base.json" "$T/priv.bin" "$T/pub.bin" "$_slot" "$T/helper.json" "$@" || return 1
	cryptsetup token import --json-file "$T/helper.json" "$_img" >/dev/null || return 1
	tpm_flush
	echo "$_slot"
}

# The systemd ECC/RSA primary templates, made with tpm2-tools.
PRIMARY_ATTRS="restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth"
