#!/bin/sh
# Files named on the command line (--cmdline-file, status --state-file,
# --pin-file, --key-file, --signature) are read like files from /oem: a FIFO,
# a symlink out of its directory, /dev/zero behind a symlink, a character
# device node and an oversized file are each refused at once, by name, with
# a non-zero exit. A FIFO must not hold the command.
. "$top_srcdir/tests/integration/tap.sh"
: "${USI_INIT:?USI_INIT must point at the built usi-init}"
command -v timeout >/dev/null || skip_all "needs timeout (coreutils)"

T=$(mktemp -d /tmp/usi-outside.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir "$T/d"
mkfifo "$T/d/fifo"
ln -s ../secret "$T/d/out"
ln -s /dev/zero "$T/d/zero"
KINDS="fifo out zero big"
if mknod "$T/d/chr" c 1 5 2>/dev/null; then KINDS="$KINDS chr"; else skip "mknod c 1 5" "needs root"; fi
ZERO64=0000000000000000000000000000000000000000000000000000000000000000

reason() {
	case $1 in
	fifo) echo "is a FIFO" ;;
	out) echo "is a symlink (to ../secret)" ;;
	zero) echo "is a symlink (to /dev/zero)" ;;
	chr) echo "is a character device" ;;
	big) echo "is larger than $2 bytes" ;;
	esac
}

# refused PLACE CAP SECRET CMD...: for each kind, "$F" in CMD is the hostile
# file. SECRET is what the file out of the directory holds: something the
# command would accept, so reading it would be seen.
refused() {
	place=$1 cap=$2; printf '%s' "$3" >"$T/secret"; shift 3
	head -c $((cap + 1)) /dev/zero | tr '\0' x >"$T/d/big"
	for k in $KINDS; do
		F=$T/d/$k
		start=$(date +%s)
		OUT=$(F=$F timeout 20 sh -c "$*" 2>&1 </dev/null); RC=$?
		end=$(date +%s)
		want=$(reason "$k" "$cap")
		if [ "$RC" != 0 ] && [ "$RC" != 124 ] && [ $((end - start)) -lt 10 ] &&
		   printf '%s' "$OUT" | grep -qF "$F $want"; then
			ok "$place: $k refused at once: $want"
		else
			not_ok "$place: $k refused at once: $want"
			diag "exit $RC after $((end - start)) s: $OUT"
		fi
	done
}

refused "plan --cmdline-file" 1048576 "rd.usi.debug" \
	'"$USI_INIT" plan --cmdline-file "$F"'
refused "status --state-file" 4194304 '{"version":1,"outcome":"ok"}' \
	'"$USI_INIT" status --state-file "$F"'
# What status prints of a state file stays plain lines: a warning holding a
# newline and an ANSI escape is shown escaped.
printf '{"version":1,"outcome":"ok","warnings":["a\\nforged line\\u001b[2J"]}' > "$T/state-esc.json"
OUT=$("$USI_INIT" status --state-file "$T/state-esc.json" 2>&1)
check "status shows a state file's control characters escaped" \
	sh -c 'printf "%s\n" "$1" | grep -qx "Warning: a\\\\x0aforged line\\\\x1b\[2J" && ! printf "%s" "$1" | grep -q "$(printf "\033")"' _ "$OUT"

refused "unlock --pin-file" 1024 "1234" \
	'"$USI_INIT" unlock --check --pin-file="$F" /nonexistent.img'
refused "unlock --explain --signature" 1048576 '{}' \
	'"$USI_INIT" unlock --check --explain --pcr11-base='$ZERO64' --signature="$F" /nonexistent.img'

# The key file is read only after the TPM failed: a LUKS2 image without a
# token, which the right key file opens.
if command -v cryptsetup >/dev/null && truncate -s 20M "$T/luks.img" && printf fixture >"$T/pw" &&
   cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--luks2-metadata-size 16k --luks2-keyslots-size 1M --key-file "$T/pw" "$T/luks.img" >/dev/null 2>&1; then
	OUT=$("$USI_INIT" unlock --check --key-file="$T/pw" "$T/luks.img" 2>&1)
	check "unlock --key-file: a regular key file still opens" \
		sh -c 'printf "%s" "$1" | grep -q "unlocked by key file"' _ "$OUT"
	refused "unlock --key-file" 8388608 "fixture" \
		'"$USI_INIT" unlock --check --key-file="$F" '"$T/luks.img"
else
	skip "unlock --key-file" "cannot make a LUKS2 image here (cryptsetup)"
fi

# What is allowed stays allowed: a regular file, and one reached through a
# symlink in the directory part (that part is the caller's choice).
printf 'rd.usi.debug\n' >"$T/d/cmdline"
ln -s d "$T/link"
check "a regular --cmdline-file is read" sh -c '"$1" plan --cmdline-file "$2" >/dev/null' _ "$USI_INIT" "$T/link/cmdline"
check "/proc/cmdline is read (procfs reports size 0)" sh -c '"$1" plan --cmdline-file /proc/cmdline >/dev/null' _ "$USI_INIT"
done_testing
