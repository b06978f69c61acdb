#!/bin/sh
# Benchmark (prints figures, never fails a build): the TPM commands issued
# to unlock two volumes by usi-init and by systemd 252's own unlock path
# (its libcryptsetup token plugin), both recorded with tcti-pcap on swtpm.
# Run with `make bench-tpm`.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require
HELPER=$top_builddir/tests/bench/tpm-systemd-unlock
[ -x "$HELPER" ] || skip_all "build $HELPER first (make bench-tpm)"

swtpm_start tpm
make_uki
make_key sign
sign sign "$T/sig.json" || skip_all "systemd-measure sign failed"
replay_sections
"$USI_INIT" measure --tpm2-device="$TCTI" enter-initrd
for v in a b; do
	make_image "$T/$v"
	enroll "$T/$v" sign --tpm2-pcrs= || skip_all "systemd-cryptenroll failed"
done

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

t0=$(now)
TCTI_PCAP_FILE=$T/usi.pcap "$USI_INIT" unlock --check --tpm2-device="pcap:$TCTI" --signature="$T/sig.json" "$T/a" "$T/b" |
	sed 's/^/# /'
t1=$(now)
tpm_flush
TCTI_PCAP_FILE=$T/sd.pcap "$HELPER" "pcap:$TCTI" "$T/sig.json" "$T/a" "$T/b" | sed 's/^/# /'
t2=$(now)
tpm_flush  # systemd 252's plugin leaves sessions behind on a TPM without a resource manager

python3 "$top_srcdir/tests/tpm/pcap-count.py" "$T/usi.pcap" > "$T/usi.count"
python3 "$top_srcdir/tests/tpm/pcap-count.py" "$T/sd.pcap" > "$T/sd.count"
u=$(awk '$1 == "total" { print $2 }' "$T/usi.count")
s=$(awk '$1 == "total" { print $2 }' "$T/sd.count")
echo "# TPM commands to unlock two volumes (swtpm, recorded with tcti-pcap):"
echo "#   usi-init:                   $u commands, $(ms "$t0" "$t1") ms wall"
echo "#   systemd 252 token plugin:   $s commands, $(ms "$t1" "$t2") ms wall"
[ -n "$u" ] && [ -n "$s" ] && [ "$s" -gt 0 ] && echo "#   ratio usi-init/systemd:     $(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a / b }') (target <= 0.50)"
heavy() { awk '$1 == "CreatePrimary" || $1 == "StartAuthSession(salted)" { n += $2 } END { print n + 0 }' "$1"; }
echo "#   expensive on a discrete TPM (CreatePrimary + salted StartAuthSession):"
echo "#     usi-init $(heavy "$T/usi.count"), systemd $(heavy "$T/sd.count")"
echo "# per command:                   usi-init  systemd"
sort -u -k1,1 "$T/usi.count" "$T/sd.count" | awk '$1 != "total" { print $1 }' | while read -r c; do
	printf '#   %-26s %8s %8s\n' "$c" "$(awk -v n="$c" '$1 == n { print $2 }' "$T/usi.count")" \
		"$(awk -v n="$c" '$1 == n { print $2 }' "$T/sd.count")"
done
# PBKDF2 overlap: volumes whose LUKS2 digest is benchmarked as cryptsetup
# does by default (about 125 ms of PBKDF2 at every open), two at once
# against one after the other.
for v in c d; do
	truncate -s 20M "$T/$v"
	cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --iter-time 200 --luks2-keyslots-size 1M \
		--key-file "$T/pw" "$T/$v" >/dev/null 2>&1
	enroll "$T/$v" sign --tpm2-pcrs= || skip_all "systemd-cryptenroll failed: $(cat "$T/enroll.log")"
done
t0=$(now)
"$USI_INIT" unlock --check --tpm2-device="$TCTI" --signature="$T/sig.json" "$T/c" "$T/d" >/dev/null
t1=$(now)
"$USI_INIT" unlock --check --tpm2-device="$TCTI" --signature="$T/sig.json" "$T/c" >/dev/null
"$USI_INIT" unlock --check --tpm2-device="$TCTI" --signature="$T/sig.json" "$T/d" >/dev/null
t2=$(now)
echo "# two volumes with benchmarked LUKS2 digests ($(nproc) CPUs):"
echo "#   one run, keyslots opened at once:  $(ms "$t0" "$t1") ms"
echo "#   one volume after the other:        $(ms "$t1" "$t2") ms"
ok "benchmark ran (figures above)"
done_testing
