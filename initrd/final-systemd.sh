# Sourced by build-initramfs for --final systemd: the final OS runs Debian's
# systemd 252 as PID 1 instead of busybox's init. A handful of units only
# (initrd/final-systemd/): sysinit.target with systemd-sysext.service enabled
# (Debian ships it disabled) and the modules it needs loaded first, then
# usi-report.service, which runs the kit's report (final-init) and powers
# off. Nothing else is started, so the boot stays short under TCG.
# Uses $tree, $USI_TOP and copy_elf of build-initramfs.

fs_units=$USI_TOP/initrd/final-systemd
sd_unitdir=$tree/usr/lib/systemd/system

for bin in /usr/lib/systemd/systemd /usr/lib/systemd/systemd-modules-load /usr/bin/systemctl /usr/bin/systemd-sysext; do
        [ -x "$bin" ] || die "$bin missing (package systemd)"
        mkdir -p "$tree${bin%/*}"
        install -m 0755 "$bin" "$tree$bin"
        copy_elf "$bin"
done
# systemd-sysext sets up dm-verity through libcryptsetup, which it loads at
# run time (ldd cannot see it).
lib=/usr/lib/x86_64-linux-gnu/libcryptsetup.so.12
[ -e "$lib" ] || die "$lib missing (apt-get install libcryptsetup12)"
cp -L "$lib" "$tree$lib"
copy_elf "$lib"

# PID 1 is systemd; the busybox report runs as a service.
rm -f "$tree/usr/sbin/init"
ln -s ../lib/systemd/systemd "$tree/usr/sbin/init"
mkdir -p "$tree/usr/lib/usi-final"
install -m 0755 "$USI_TOP/initrd/final-init" "$tree/usr/lib/usi-final/report"

mkdir -p "$sd_unitdir/sysinit.target.wants" "$sd_unitdir/systemd-sysext.service.d" "$tree/usr/lib/modules-load.d"
for u in sysinit.target local-fs.target systemd-sysext.service systemd-modules-load.service; do
        cp "/usr/lib/systemd/system/$u" "$sd_unitdir/$u"
done
cp "$fs_units/default.target" "$fs_units/usi-report.service" "$sd_unitdir/"
cp "$fs_units/modules-before-sysext.conf" "$fs_units/console-output.conf" "$sd_unitdir/systemd-sysext.service.d/"
cp "$fs_units/usi-sysext.conf" "$tree/usr/lib/modules-load.d/"
# Enabled as `systemctl enable` would, in the vendor directory: /etc/systemd
# is a persistent bind on a Kairos node and must not decide this.
for u in systemd-sysext.service systemd-modules-load.service; do
        ln -s "../$u" "$sd_unitdir/sysinit.target.wants/$u"
done
sed -i 's/(busybox)/(systemd)/' "$tree/etc/os-release"
