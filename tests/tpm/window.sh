#!/bin/sh
# Signed phase windows: `usi-init unlock --check --explain` names the phase
# path each signature entry signs (signatures made by Debian's
# systemd-measure, tokens by systemd-cryptenroll) and whether the key stays
# unsealable after hand-off; with the TPM named, the boot's own check on the
# PCRs as they are now: after leave-initrd, open for a signature covering
# enter-initrd:leave-initrd, closed for enter-initrd only.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require setpriv

swtpm_start win
make_uki
make_key sign
check "systemd-measure signs enter-initrd only" sign sign "$T/initrd-only.json" enter-initrd
check "systemd-measure signs enter-initrd and enter-initrd:leave-initrd" \
	sign sign "$T/both.json" enter-initrd enter-initrd:leave-initrd
check "systemd-measure signs its default phases" \
	sign sign "$T/all.json" enter-initrd enter-initrd:leave-initrd enter-initrd:leave-initrd:sysinit \
	enter-initrd:leave-initrd:sysinit:ready
make_image "$T/img"
check "systemd-cryptenroll: signed PCR 11 only" enroll "$T/img" sign --tpm2-pcrs=
make_image "$T/img15"
check "systemd-cryptenroll: signed PCR 11 plus literal PCR 15 (zero now)" enroll "$T/img15" sign --tpm2-pcrs=15
BASE=$(predict_pcr11 "")
diag "PCR 11 base (the sections): $BASE"

explain() {
	OUT=$("$USI_INIT" unlock --check --explain "$@" 2>&1)
	RC=$?
	printf '%s\n' "$OUT" | sed 's/^/#   /'
}

explain --signature="$T/initrd-only.json" --pcr11-base="$BASE" "$T/img"
check "enter-initrd only: closed, exit 0" [ "$RC" = 0 ]
check "enter-initrd only: the signature file and the base's source" \
	expect_line "Signature file: $T/initrd-only.json"
check "enter-initrd only: the signature file and the base's source (2)" expect_line "PCR 11 base: $BASE (--pcr11-base)"
check "enter-initrd only: the token and its key" \
	expect_has "$T/img: token 0 (keyslot 1): PCR 11 signed by key "
check "enter-initrd only: the token and its key (2)" expect_has ".., no literal PCRs"
check "enter-initrd only: entry 0 signs enter-initrd" expect_line "$T/img: token 0: entry 0 signs enter-initrd"
check "enter-initrd only: the verdict" \
	expect_line "$T/img: keys unsealable after hand-off: no (token 0: every entry signs enter-initrd only)"

explain --signature="$T/both.json" --pcr11-base="$BASE" "$T/img"
check "enter-initrd:leave-initrd signed: open, exit 3" [ "$RC" = 3 ]
check "both: entry 0 enter-initrd, entry 1 enter-initrd:leave-initrd" \
	expect_line "$T/img: token 0: entry 0 signs enter-initrd"
check "both: entry 0 enter-initrd, entry 1 enter-initrd:leave-initrd (2)" expect_line "$T/img: token 0: entry 1 signs enter-initrd:leave-initrd"
check "both: the verdict with the remedy" \
	expect_line "$T/img: keys unsealable after hand-off: yes (token 0: entry 1 signs enter-initrd:leave-initrd); sign only the initrd phase: systemd-measure sign --phase=enter-initrd"

explain --signature="$T/all.json" --pcr11-base="$BASE" "$T/img" "$T/img15"
check "systemd-measure's default phases, two images: exit 3" [ "$RC" = 3 ]
check "default phases: each entry named" \
	expect_line "$T/img: token 0: entry 2 signs enter-initrd:leave-initrd:sysinit"
check "default phases: each entry named (2)" expect_line "$T/img: token 0: entry 3 signs enter-initrd:leave-initrd:sysinit:ready"
check "literal PCR 15: the token says so" expect_has "$T/img15: token 0 (keyslot 1): PCR 11 signed by key "
check "literal PCR 15: the token says so (2)" expect_has ".., literal PCR 15"
check "literal PCR 15: closed by the latch although the window is open" \
	expect_has "$T/img15: keys unsealable after hand-off: no (token 0: entry 1 signs enter-initrd:leave-initrd, but the token also binds literal PCR 15, which the volume-key latch moves before leave-initrd)"
check "binding: a token without PCR 15 is not bound" expect_line "$T/img: token 0: not bound to other volumes (no PCR 15 in its policy)"
check "binding: the image is not bound" expect_line "$T/img: bound to its volume set: no (a token without PCR 15 opens it alone)"
check "binding: a token at PCR 15 = 0" expect_line "$T/img15: token 0: PCR 15 = 0: the first volume of a bound set, or enrolled the systemd way"
check "binding: the image at PCR 15 = 0" expect_line "$T/img15: bound to its volume set: first of a set, or the systemd way (PCR 15 = 0)"

# A PCR 11 base of another image: no entry is for a phase path from it.
explain --signature="$T/both.json" --pcr11-base="$(printf 'another image' | sha256sum | cut -c1-64)" "$T/img"
check "another base: entries unknown, exit 4" [ "$RC" = 4 ]
check "another base: entries unknown, exit 4 (2)" expect_line "$T/img: token 0: entry 1 signs unknown"
check "another base: entries unknown, exit 4 (3)" expect_has "$T/img: keys unsealable after hand-off: unknown (token 0: entries for no phase path from this PCR 11 base)"

# The base from this boot's record (state.json) and from the TPM.
printf '{"version":1,"pcr11_base":"%s"}\n' "$BASE" > "$T/state.json"
explain --signature="$T/both.json" --state-file="$T/state.json" "$T/img"
check "base from state.json: named as this boot's record" [ "$RC" = 3 ]
check "base from state.json: named as this boot's record (2)" expect_line "PCR 11 base: $BASE (this boot's record, $T/state.json)"
check "base from state.json: named as this boot's record (3)" expect_line "$T/img: token 0: entry 1 signs enter-initrd:leave-initrd"
# usi-init status shows the boot's verdict.
printf '{"version":1,"outcome":"success","handoff_window":{"keys_unsealable":%s,"reason":"%s"}}\n' \
	true "PCR 11 after leave-initrd is still signed in x" > "$T/open.json"
OUT=$("$USI_INIT" status --state-file="$T/open.json" 2>&1); RC=$?
check "status: keys unsealable after hand-off: yes" expect_line "Keys unsealable after hand-off: yes (PCR 11 after leave-initrd is still signed in x)"
printf '{"version":1,"outcome":"success","handoff_window":{"keys_unsealable":%s,"reason":"%s"}}\n' \
	false "PCR 11 after leave-initrd is not signed in x" > "$T/closed.json"
OUT=$("$USI_INIT" status --state-file="$T/closed.json" 2>&1); RC=$?
check "status: keys unsealable after hand-off: no" expect_line "Keys unsealable after hand-off: no (PCR 11 after leave-initrd is not signed in x)"
OUT=$("$USI_INIT" status --state-file="$T/state.json" 2>&1); RC=$?
# A status that failed would print no such line either: its exit counts.
no_handoff_line() { [ "$RC" = 0 ] && [ -z "$(printf '%s\n' "$OUT" | grep 'hand-off')" ]; }
check "status: no line when the boot did not check" no_handoff_line

explain --signature="$T/both.json" --state-file="$T/absent.json" "$T/img"
check "no base at all: unknown, and says why" [ "$RC" = 4 ]
check "no base at all: unknown, and says why (2)" expect_line "PCR 11 base: unknown (unknown: no --pcr11-base and no pcr11_base in $T/absent.json)"
check "no base at all: unknown, and says why (3)" expect_line "$T/img: token 0: entry 0 signs unknown"
replay_sections
explain --signature="$T/both.json" --pcr11-base=tpm --tpm2-device="$TCTI" "$T/img"
check "base from the TPM's PCR 11 (the sections replayed)" [ "$RC" = 3 ]
check "base from the TPM's PCR 11 (the sections replayed) (2)" expect_line "PCR 11 base: $BASE (the TPM's PCR 11 now)"
check "base from the TPM's PCR 11 (the sections replayed) (3)" expect_line "$T/img: token 0: entry 1 signs enter-initrd:leave-initrd"

# Without root and without a TPM: the header and the signature file are all it reads.
chmod 755 "$T"
chmod 644 "$T/img" "$T/both.json"
OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$USI_INIT" unlock --check --explain \
	--signature="$T/both.json" --pcr11-base="$BASE" "$T/img" 2>&1); RC=$?
printf '%s\n' "$OUT" | sed 's/^/#   /'
check "--explain as nobody" [ "$RC" = 3 ]
check "--explain as nobody (2)" expect_line "$T/img: token 0: entry 1 signs enter-initrd:leave-initrd"

# The hand-off check on the TPM's PCRs: the boot's lookup after leave-initrd.
"$USI_INIT" measure --tpm2-device="$TCTI" enter-initrd
explain --signature="$T/initrd-only.json" --pcr11-base="$BASE" --tpm2-device="$TCTI" "$T/img"
check "in the initrd (enter-initrd): unsealable now" expect_line "$T/img: token 0: with the TPM's PCRs now: unsealable"
"$USI_INIT" measure --tpm2-device="$TCTI" leave-initrd
explain --signature="$T/initrd-only.json" --pcr11-base="$BASE" --tpm2-device="$TCTI" "$T/img"
check "after leave-initrd, enter-initrd only: sealed" \
	expect_line "$T/img: token 0: with the TPM's PCRs now: sealed (its signed PCRs' values are not signed for its key)"
explain --signature="$T/both.json" --pcr11-base="$BASE" --tpm2-device="$TCTI" "$T/img" "$T/img15"
check "after leave-initrd, enter-initrd:leave-initrd signed: unsealable now (PCR 15 still zero)" \
	expect_line "$T/img: token 0: with the TPM's PCRs now: unsealable"
check "after leave-initrd, enter-initrd:leave-initrd signed: unsealable now (PCR 15 still zero) (2)" expect_line "$T/img15: token 0: with the TPM's PCRs now: unsealable"
unlock --signature="$T/both.json" "$T/img"
check "and the TPM agrees: it unseals" expect_ok "$T/img" 0 1
tt tpm2_pcrextend "15:sha256=$(printf 'a volume key latch' | sha256sum | cut -d' ' -f1)"
explain --signature="$T/both.json" --pcr11-base="$BASE" --tpm2-device="$TCTI" "$T/img15"
check "PCR 15 moved: the literal binding closes it" \
	expect_line "$T/img15: token 0: with the TPM's PCRs now: sealed (signed, but its literal PCRs moved)"
unlock --signature="$T/both.json" "$T/img15"
check "and the TPM agrees: it refuses" [ "$RC" != 0 ]

# Enrolled behind a volume key: PCR 15 at a chained value, and a token at 0
# beside it undoes the binding.
check "systemd-cryptenroll with PCR 15 moved: a chained token" enroll "$T/img15" sign --tpm2-pcrs=15
explain --signature="$T/both.json" --pcr11-base="$BASE" --tpm2-device="$TCTI" "$T/img15"
check "binding: the chained token" expect_line "$T/img15: token 1: bound: PCR 15 at a chained value, so it opens only after the volumes it was enrolled behind"
check "binding: a chained token beside one at 0 is not bound" expect_line "$T/img15: bound to its volume set: no (a token at PCR 15 = 0 opens it before any volume key is measured)"
make_image "$T/imgc"
check "systemd-cryptenroll with PCR 15 moved: a chained volume" enroll "$T/imgc" sign --tpm2-pcrs=15
explain --signature="$T/both.json" --pcr11-base="$BASE" "$T/imgc"
check "binding: PCR 15 alone needs no TPM to judge" expect_line "$T/imgc: bound to its volume set: yes (behind the volumes it was enrolled after)"

explain --signature="$T/both.json" "$T/absent.img"
check "an image that cannot be read: exit 1" [ "$RC" = 1 ]
check "an image that cannot be read: exit 1 (2)" expect_has "$T/absent.img: cannot open"
OUT=$("$USI_INIT" unlock --explain "$T/img" 2>&1); RC=$?
check "--explain without --check is a usage error" [ "$RC" = 2 ]
OUT=$("$USI_INIT" unlock --check --pcr11-base="$BASE" "$T/img" 2>&1); RC=$?
check "--pcr11-base without --explain is a usage error" [ "$RC" = 2 ]
explain --signature="$T/both.json" --pcr11-base=xyz "$T/img"
check "a bad --pcr11-base says what it wants" [ "$RC" = 1 ]
check "a bad --pcr11-base says what it wants (2)" expect_has "--pcr11-base wants 64 hex digits"
done_testing
