#!/bin/bash
# Boot-stage benchmark: the initrd's time, from the kernel's start of /init to
# the exec of the final OS's init, in the guest's clock, under QEMU (TCG) with
# a software TPM. usi-init (the kit's initrd, as the e2e happy scenario boots
# it) against an initrd built by Debian's dracut with its systemd modules
# (systemd-cryptsetup with tpm2-device=auto, systemd-pcrphase, fstab mounts,
# switch-root), on the same disk, TPM state and kernel. Boots interleaved;
# prints a table, then last `boot-stage ratio usi-init/baseline: X.XX`.
# See bench/README.md.
set -eu

usage() {
        cat <<USAGE
usage: ${0##*/} [--runs N | --short] [--out DIR] [--usi-init BIN]
  --runs N        boots of each initrd, interleaved (default 5)
  --short         one boot of each (CI)
  --out DIR       the kit's output directory (kernel, keys, disks; default out/)
  --usi-init BIN  the usi-init to measure (default: \$USI_INIT, else build/usi-init);
                  a private copy of it is used for the run
  Work files, consoles and reports are in DIR/bench-boot/.
USAGE
}

TOP=$(cd "$(dirname "$0")/.." && pwd)
: "${USI_OUT:=$TOP/out}"
runs=5
while [ $# -gt 0 ]; do
        case $1 in
        --runs) runs=$2; shift 2 ;;
        --short) runs=1; shift ;;
        --out) USI_OUT=$(realpath -m "$2"); shift 2 ;;
        --usi-init) USI_INIT=$(realpath "$2"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
        esac
done
case $runs in ''|*[!0-9]*|0) usage >&2; exit 2 ;; esac

die() { echo "boot-stage.sh: $*" >&2; exit 1; }
say() { echo "boot-stage.sh: $*" >&2; }
if [ -z "${USI_INIT:-}" ]; then
        for c in "$TOP/build/usi-init" "$TOP/usi-init"; do
                [ -x "$c" ] && { USI_INIT=$c; break; }
        done
fi
[ -n "${USI_INIT:-}" ] && [ -x "$USI_INIT" ] || die "no usi-init binary: build it or pass --usi-init"
for c in qemu-system-x86_64 swtpm dracut cpio mkfs.ext4 blkid sfdisk python3; do
        command -v "$c" >/dev/null 2>&1 || die "needs $c (tools/packages.txt)"
done
[ -x /usr/lib/dracut/dracut-install ] || die "no /usr/lib/dracut (apt-get install dracut-core)"

# The e2e library's fixtures and boot helpers, with this run's directories.
E2E_OUT=$USI_OUT/bench-boot
W=$E2E_OUT/work
E2E_SCENARIO=boot-stage
E2E_FAILED=
# A guard against a hung boot, not a timing: a systemd initrd boot under TCG
# on a busy 2-core machine can take a minute.
: "${E2E_BOOT_CAP:=240}"
rm -rf "$E2E_OUT/fixtures" "$W"
mkdir -p "$E2E_OUT/fixtures" "$W"
: > "$E2E_OUT/fixtures.log"
: > "$E2E_OUT/timings"
# A private copy: a rebuild during the run cannot change what is measured.
install -m 0755 "$USI_INIT" "$E2E_OUT/usi-init"
USI_INIT=$E2E_OUT/usi-init
export USI_OUT USI_INIT
# shellcheck source=tests/e2e/lib.sh
. "$TOP/tests/e2e/lib.sh"
fail() { die "$1 (logs in $W)"; }

# ---- the node ---------------------------------------------------------------
# The disk: make-disk --unbound, each token the signed PCR 11 policy only
# (systemd-cryptenroll), which both initrds open alike. systemd-cryptsetup
# 252 measures no volume key, so it cannot open the bound disk (PCR 15 chain).
say "the kernel and the disk (make-disk --unbound) ..."
fixture_kernel
fixture_disk bench --unbound
dd=$(disk_dir bench)
KVER=$(cat "$USI_OUT/kernel/version") KROOT=$USI_OUT/kernel/root

say "the usi-init initrd ..."
node_initrd "$W/usi-init.img" --extra "$dd/extra"

# The final OS of the systemd boot: the kit's tree (its /sbin/init is
# initrd/final-init) on a plain ext4, root= of the baseline. Both boots get
# the same disks: the node's, this one, and the results disk.
say "the final OS's root disk ..."
tree=$W/root-tree
rm -rf "$tree"
mkdir -p "$tree"
(cd "$tree" && cpio -idm --quiet < "$W/usi-init.img")

# Persistent paths seeded once, as on every boot after the first: one boot
# by usi-init on a writable copy of the disk. Its /etc/fstab says what it
# mounted; the systemd boot gets the same mounts as x-initrd.mount lines.
say "seeding the persistent paths (one usi-init boot) ..."
cp --sparse=always "$dd/disk.img" "$W/disk.img"
truncate -s 64M "$W/root.img"
mkfs.ext4 -q -F -L USIROOT -d "$tree" "$W/root.img"
boot_node_to_final seed "$dd" --initrd "$W/usi-init.img" --disk "$W/disk.img" \
        --disk-snapshot "$W/root.img" --append "$E2E_CMDLINE"
[ "$(mount_of /etc/ssh | cut -d' ' -f1)" = ext4 ] || die "the seeding boot bound no /etc/ssh"
fstab=$W/seed.res/fstab
[ -s "$fstab" ] || die "the seeding boot left no /etc/fstab"

# The same mounts for systemd, from the root's /etc/fstab (initrd-parse-etc
# reads it; x-initrd.mount: mounted under /sysroot before switch-root).
# Sources and overlay directories get the /sysroot prefix systemd puts only
# on mount points.
python3 - "$fstab" "$tree/etc/fstab" "$tree" <<'EOF'
import os, sys
out = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 4 or f[0].startswith("#"):
        continue
    what, where, fstype, opts = f[:4]
    if where in ("/oem", "/usr/local") and what.startswith("/dev/mapper/"):
        opts += ",x-initrd.mount"
    elif fstype == "overlay":
        # usi-init's upper and work directories are in its /run; here
        # they are made in the root file system beforehand.
        d = "/.bench-overlay" + where
        os.makedirs(sys.argv[3] + d + "/upper")
        os.makedirs(sys.argv[3] + d + "/work")
        opts = "lowerdir=/sysroot%s,upperdir=/sysroot%s/upper,workdir=/sysroot%s/work,x-initrd.mount" % (where, d, d)
    elif "bind" in opts.split(","):
        what = "/sysroot" + what
        opts += ",x-initrd.mount"
    else:
        continue
    out.append(" ".join((what, where, fstype, opts, "0", "0")))
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF
mkfs.ext4 -q -F -L USIROOT -d "$tree" "$W/root.img"
cp "$tree/etc/fstab" "$W/root-fstab"

# ---- the baseline initrd --------------------------------------------------
# Debian's dracut, not host-only, for the kit's kernel, with its systemd
# modules: systemd-cryptsetup opens both volumes (rd.luks.name=, options
# tpm2-device=auto,headless=true) with the signature in /.extra (where
# systemd-cryptsetup looks in an initrd; the public key is in each token).
# PCR 11 must hold enter-initrd, the value the signature covers. In a
# plain-kernel boot usi-init measures it itself; systemd-pcrphase 252 does
# not: without the stub's StubPcrKernelImage EFI variable (no UKI, no EFI
# under SeaBIOS) it logs "Kernel stub did not measure kernel image into PCR
# 11, skipping userspace measurement, too." and exits 0, PCR 11 untouched.
# So its unit (systemd-pcrphase-initrd.service, at its place in the boot:
# before cryptsetup-pre.target and sysinit.target) extends the same words with
# tpm2_pcrextend (dracut's tpm2-tss module): the same PCR 11 values, one
# PCR_Extend each, enter-initrd at start and leave-initrd at switch-root.
say "the baseline initrd (dracut, systemd modules) ..."
inc=$W/dracut-include
rm -rf "$inc"
mkdir -p "$inc/.extra" "$inc/etc/systemd/system/systemd-pcrphase-initrd.service.d"
cp "$dd/extra/"* "$inc/.extra/"
word_hash() { printf '%s' "$1" | sha256sum | cut -c1-64; }
cat > "$inc/etc/systemd/system/systemd-pcrphase-initrd.service.d/plain-kernel.conf" <<EOF
[Unit]
ConditionPathExists=
ConditionPathExists=/etc/initrd-release

[Service]
Environment=TPM2TOOLS_TCTI=device:/dev/tpmrm0
ExecStart=
ExecStart=/usr/bin/tpm2_pcrextend 11:sha256=$(word_hash enter-initrd)
ExecStop=
ExecStop=/usr/bin/tpm2_pcrextend 11:sha256=$(word_hash leave-initrd)
EOF
dwork=$W/dracut
mkdir -p "$dwork/conf.d" "$dwork/tmp"
: > "$dwork/dracut.conf"
# The kit's module list (initrd/build-initramfs), nothing else.
drivers="virtio_pci virtio_blk virtio_scsi sd_mod dm-crypt ecb xts aesni_intel crc32c_generic crc32c-intel ext4 overlay efivarfs"
if ! dracut --force --no-hostonly --no-hostonly-cmdline --no-compress \
        --conf "$dwork/dracut.conf" --confdir "$dwork/conf.d" --tmpdir "$dwork/tmp" \
        --kver "$KVER" --kmoddir "$KROOT/lib/modules/$KVER" \
        --modules "systemd systemd-initrd systemd-udevd udev-rules dracut-systemd systemd-pcrphase crypt tpm2-tss rootfs-block fs-lib base" \
        --drivers "$drivers" --include "$inc" / \
        "$W/systemd.img" > "$W/dracut.log" 2>&1; then
        tail -n 20 "$W/dracut.log" >&2
        die "dracut failed (log: $W/dracut.log)"
fi

# The volumes by LUKS UUID, read from the GPT image.
luks_uuid() {  # PARTNAME
        local start
        start=$(sfdisk --json "$dd/disk.img" | python3 -c 'import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p["name"] == sys.argv[1]: print(p["start"])' "$1")
        [ -n "$start" ] || die "no partition $1 on $dd/disk.img"
        blkid -p -O $((start * 512)) -s UUID -o value "$dd/disk.img"
}
oem_uuid=$(luks_uuid oem)
persistent_uuid=$(luks_uuid persistent)
SYSTEMD_CMDLINE="console=ttyS0 panic=-1 quiet root=LABEL=USIROOT rw rd.luks.name=$oem_uuid=oem rd.luks.name=$persistent_uuid=persistent rd.luks.options=tpm2-device=auto,headless=true"

# ---- the runs ---------------------------------------------------------------
# One boot: NAME INITRD CMDLINE; prints the initrd's milliseconds (the final
# init's kmsg stamp minus the kernel's "Run /init"), after checking that the
# node came up with both volumes opened and mounted.
one_boot() {
        local name=$1 img=$2 cmdline=$3 a b
        boot_node_to_final "$name" "$dd" --initrd "$img" --disk-snapshot "$W/disk.img" \
                --disk-snapshot "$W/root.img" --append "$cmdline"
        for v in oem persistent; do
                grep -qx "mapper=$v" "$W/$name.res/report.txt" || die "$name: no /dev/mapper/$v (console: $W/$name.console)"
        done
        [ "$(mount_of /usr/local | cut -d' ' -f1)" = ext4 ] || die "$name: /usr/local is not mounted"
        [ "$(mount_of /etc/ssh | cut -d' ' -f1)" = ext4 ] || die "$name: /etc/ssh is not bound"
        [ "$(report pcr11)" = "$(pcr11_expected bench leave-initrd)" ] ||
                die "$name: PCR 11 is not enter-initrd then leave-initrd: $(report pcr11)"
        a=$(report kmsg_run_init) b=$(report kmsg_final_exec)
        [ -n "$a" ] && [ -n "$b" ] || die "$name: no kernel log stamps in the report"
        awk -v a="$a" -v b="$b" 'BEGIN { printf "%d\n", (b - a) * 1000 + 0.5 }'
}

: > "$E2E_OUT/results"
for i in $(seq 1 "$runs"); do
        for side in usi-init systemd; do
                if [ $side = usi-init ]; then
                        ms=$(one_boot "usi-init-$i" "$W/usi-init.img" "$E2E_CMDLINE")
                else
                        ms=$(one_boot "systemd-$i" "$W/systemd.img" "$SYSTEMD_CMDLINE")
                fi
                echo "$side $ms" >> "$E2E_OUT/results"
                say "run $i $side: $ms ms"
        done
done

python3 - "$E2E_OUT/results" "$runs" <<'EOF'
import statistics, sys
res = {}
for line in open(sys.argv[1]):
    side, ms = line.split()
    res.setdefault(side, []).append(int(ms))
print("boot-stage: from the kernel's \"Run /init\" to the exec of the final init, guest clock, %s boots each, interleaved" % sys.argv[2])
print("| initrd | median | min-max | boots |")
print("|---|---|---|---|")
names = {"usi-init": "usi-init", "systemd": "systemd 252 (dracut)"}
med = {}
for side in ("usi-init", "systemd"):
    v = res[side]
    med[side] = statistics.median(v)
    print("| %s | %.0f ms | %d-%d ms | %d |" % (names[side], med[side], min(v), max(v), len(v)))
print("boot-stage ratio usi-init/baseline: %.2f" % (med["usi-init"] / med["systemd"]))
EOF
