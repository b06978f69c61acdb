#!/bin/sh
# Host-side check of the QEMU kit's disk (no VM, no device-mapper): make-disk
# writes a GPT named oem/persistent, LUKS2 labelled COS_OEM/COS_PERSISTENT
# with one systemd-tpm2 token each, made by usi-init enroll: the signed PCR 11
# policy plus PCR 15, bound to one another (oem at PCR 15 = 0, persistent
# behind oem's key), and a signature for the PCR 11 value after enter-initrd,
# with which usi-init unseals oem on a copy of the enrolled TPM, and
# persistent only once oem's key is measured into PCR 15. TAP output.
set -eu
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/integration/tap.sh"

for t in swtpm swtpm_ioctl systemd-cryptenroll cryptsetup sgdisk mkfs.ext4 tpm2_pcrread tpm2_pcrextend xxd openssl blkid unshare; do
        command -v "$t" >/dev/null 2>&1 || skip_all "$t missing (tools/packages.txt)"
done
[ -x /usr/lib/systemd/systemd-measure ] || skip_all "systemd-measure missing"
[ "$(id -u)" = 0 ] || skip_all "needs root (unshare -m for systemd-measure)"

work=$(mktemp -d /tmp/usi-kit-check.XXXXXX)
swtpm_pid=''
cleanup() {
        [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT

if ! "$top/initrd/make-disk" --out "$work/out" --name check --keep-password >"$work/make-disk.log" 2>&1; then
        sed 's/^/# /' "$work/make-disk.log"
        not_ok "make-disk"
        done_testing
fi
ok "make-disk"
d=$work/out/disk/check
img=$d/disk.img

gpt=$(sgdisk -p "$img")
check "GPT partition 1 is named oem" sh -c 'printf "%s\n" "$1" | grep -Eq "^ +1 .* oem$"' - "$gpt"
check "GPT partition 2 is named persistent" sh -c 'printf "%s\n" "$1" | grep -Eq "^ +2 .* persistent$"' - "$gpt"

# part N FILE: copy partition N out of the image.
part() {
        start=$(sgdisk -i "$1" "$img" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
        end=$(sgdisk -i "$1" "$img" | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
        dd if="$img" of="$2" bs=512 skip="$start" count=$((end - start + 1)) status=none
}
n=0
for label in COS_OEM COS_PERSISTENT; do
        n=$((n + 1))
        part "$n" "$work/p$n.img"
        check "$label: LUKS2 header labelled $label" sh -c \
                'blkid -p "$1" | grep -q "LABEL=\"$2\"" && blkid -p "$1" | grep -q "TYPE=\"crypto_LUKS\" " && blkid -p "$1" | grep -q "VERSION=\"2\""' \
                - "$work/p$n.img" "$label"
        dump=$(cryptsetup luksDump --dump-json-metadata "$work/p$n.img" 2>/dev/null || cryptsetup luksDump "$work/p$n.img")
        check "$label: one systemd-tpm2 token" sh -c '[ "$(printf "%s" "$1" | grep -o "systemd-tpm2" | wc -l)" -eq 1 ]' - "$dump"
        check "$label: signed policy on PCR 11, literal PCR 15" sh -c \
                'printf "%s" "$1" | tr -d " \n" | grep -q "\"tpm2_pubkey_pcrs\":\[11\]" &&
                 printf "%s" "$1" | tr -d " \n" | grep -q "\"tpm2-pcrs\":\[15\]"' - "$dump"
        check "$label: the kept passphrase opens it" \
                cryptsetup open --test-passphrase --key-file "$d/password" "$work/p$n.img"
done

sig=$d/extra/tpm2-pcr-signature.json
fp=$(openssl rsa -pubin -in "$d/extra/tpm2-pcr-public-key.pem" -RSAPublicKey_out -outform DER 2>/dev/null | sha256sum | cut -c1-64)
check "signature names PCR 11 and the key's fingerprint" sh -c \
        'tr -d " \n" < "$1" | grep -q "\"pcrs\":\[11\],\"pkfp\":\"$2\""' - "$sig" "$fp"
enter=$( (printf '%064d' 0; printf 'enter-initrd' | sha256sum | cut -c1-64) | xxd -r -p | sha256sum | cut -c1-64)
check "pcr11.enter-initrd is PCR 11 from zero extended with enter-initrd" \
        test "$(cat "$d/pcr11.enter-initrd")" = "$enter"

# The made disk unseals with its own TPM state and signature once PCR 11 has
# the value the boot reaches (usi-init's own unlock path, check-only).
if [ -n "${USI_INIT:-}" ] && [ -x "$USI_INIT" ] && "$USI_INIT" --help 2>/dev/null | grep -q ' unlock '; then
        cp -R "$d/tpm" "$work/tpm"
        rm -f "$work/tpm/.lock"
        swtpm socket --tpm2 --tpmstate dir="$work/tpm" --server type=unixio,path="$work/sock" \
                --ctrl type=unixio,path="$work/sock.ctrl" --flags not-need-init,startup-clear \
                --daemon --pid file="$work/swtpm.pid"
        swtpm_pid=$(cat "$work/swtpm.pid")
        tcti=swtpm:path=$work/sock
        check "usi-init measure enter-initrd" "$USI_INIT" measure --tpm2-device="$tcti" enter-initrd
        # unseals N IMAGE: usi-init unlock --check of one volume.
        unseals() {
                "$USI_INIT" unlock --check --tpm2-device="$tcti" --signature="$sig" "$2" >"$work/unlock-$1.log" 2>&1
        }
        if unseals oem "$work/p1.img"; then ok "oem unseals at PCR 15 = 0"; else
                sed 's/^/# /' "$work/unlock-oem.log"; not_ok "oem unseals at PCR 15 = 0"; fi
        if unseals persistent "$work/p2.img"; then not_ok "persistent refused before oem's key is measured"
        else ok "persistent refused before oem's key is measured"; fi
        # What the boot measures once oem is open (tests/e2e/lib.sh pcr15_hmac).
        cryptsetup luksDump --dump-volume-key --batch-mode --key-file "$d/password" \
                --volume-key-file "$work/oem.key" "$work/p1.img" >/dev/null
        h=$(printf '%s' "cryptsetup:oem:$(cryptsetup luksUUID "$work/p1.img")" |
                openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(xxd -p -c 256 "$work/oem.key")" -r | cut -d' ' -f1)
        rm -f "$work/oem.key"
        tpm2_pcrextend -T "swtpm:path=$work/sock" "15:sha256=$h" >/dev/null
        if unseals persistent "$work/p2.img"; then ok "persistent unseals behind oem's key"; else
                sed 's/^/# /' "$work/unlock-persistent.log"; not_ok "persistent unseals behind oem's key"; fi
        if unseals oem "$work/p1.img"; then not_ok "oem refused once PCR 15 moved"
        else ok "oem refused once PCR 15 moved"; fi
        "$USI_INIT" measure --tpm2-device="$tcti" leave-initrd >/dev/null 2>&1 || true
        # persistent's PCR 15 still holds: only the signed PCR 11 policy refuses.
        if unseals persistent "$work/p2.img"; then not_ok "refused after leave-initrd"
        else ok "refused after leave-initrd"; fi
else
        skip "unseal with usi-init" "USI_INIT not set or has no unlock command"
fi
done_testing
