#!/bin/sh
# Debian's dracut (dracut-core) builds initrds with this tree's module for
# the kernel initrd/fetch-kernel unpacked (--add usi-init, --no-hostonly,
# --kver, --kmoddir): the listing (cpio -t) must hold the binary, every
# library it links, the TPM transport it loads at run time, e2fsck, the
# kernel modules a boot needs with their modules.dep, and per mode /init or
# the enabled unit. TAP output.
set -eu
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/integration/tap.sh"

command -v dracut >/dev/null 2>&1 || skip_all "dracut missing (apt-get install dracut-core)"
[ -x /usr/lib/dracut/dracut-install ] || skip_all "dracut-core incomplete"
for t in cpio ldd; do
        command -v "$t" >/dev/null 2>&1 || skip_all "$t missing"
done
bin=${USI_INIT:-${top_builddir:-.}/usi-init}
[ -x "$bin" ] || skip_all "no built usi-init ($bin)"
# The kernel the kit downloaded (tests/e2e/run and initrd/demo fetch it;
# initrd/fetch-kernel by hand). The host's own kernel is never used.
out=${USI_OUT:-$top/out}
[ -f "$out/kernel/version" ] || skip_all "no kernel in $out/kernel (run initrd/fetch-kernel)"
kver=$(cat "$out/kernel/version")

work=$(mktemp -d /tmp/usi-dracut-contents.XXXXXX)
trap 'rm -rf "$work"' EXIT

# build NAME MODE [dracut args]: $work/NAME.img and its listing $work/NAME.list.
build() {
        _n=$1 _m=$2; shift 2
        if USI_OUT=$out "$top/tests/dracut/build-image" --usi-init "$bin" --mode "$_m" \
                --output "$work/$_n.img" -- "$@" > "$work/$_n.out" 2>&1; then
                ok "dracut builds a $_m-mode image for kernel $kver ($_n)"
        else
                sed 's/^/# /' "$work/$_n.out" | tail -n 20
                not_ok "dracut builds a $_m-mode image for kernel $kver ($_n)"
                return 1
        fi
        cpio -it --quiet < "$work/$_n.img" | sed 's,^\./,,' | LC_ALL=C sort > "$work/$_n.list"
}
has() { grep -qxF "$2" "$work/$1.list"; }
# has_file MODE PATH: PATH is in the image, directly or under /usr (merged /usr).
has_file() { has "$1" "${2#/}" || has "$1" "usr/${2#/}"; }

# init_link NAME: the target of /init in the image.
init_link() {
        (cd "$work" && rm -rf x && mkdir x && cd x && cpio -idm --quiet init < "../$1.img" && readlink init)
}

# ---- usi mode: usi-init is /init ------------------------------------------
if build usi usi --omit "systemd systemd-initrd dracut-systemd plymouth"; then
        check "usi: /usr/bin/usi-init is in the image" has usi usr/bin/usi-init
        check "usi: dracut's base module ran after usi-init" \
                sh -c 'sed -n "/Including module: usi-init/,\$p" "$1" | grep -q "Including module: base"' - "$work/usi.img.log"
        check "usi: /init is a link to usr/bin/usi-init (99base's init.sh not installed)" \
                test "$(init_link usi)" = usr/bin/usi-init
        # Every library ldd resolves for the binary, at the same path.
        for lib in $(ldd "$bin" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }'); do
                check "usi: library $lib" has_file usi "$lib"
        done
        check "usi: libtss2-tcti-device (loaded at run time)" \
                sh -c 'grep -q "lib/x86_64-linux-gnu/libtss2-tcti-device.so.0$" "$1"' - "$work/usi.list"
        check "usi: e2fsck" has_file usi /usr/sbin/e2fsck
        kmod=usr/lib/modules/$kver
        check "usi: modules.dep of kernel $kver" has usi "$kmod/modules.dep"
        for ko in drivers/md/dm-crypt.ko drivers/md/dm-mod.ko fs/overlayfs/overlay.ko fs/ext4/ext4.ko \
                drivers/block/virtio_blk.ko drivers/scsi/sd_mod.ko drivers/ata/ahci.ko \
                drivers/nvme/host/nvme.ko crypto/xts.ko; do
                check "usi: module $ko" has usi "$kmod/kernel/$ko"
        done
        # The TPM drivers Debian builds in are not files; the others are.
        check "usi: TPM drivers (=drivers/char/tpm)" \
                sh -c 'grep -q "^$1/kernel/drivers/char/tpm/.*\.ko" "$2"' - "$kmod" "$work/usi.list"
        check "usi: no initrd unit enabled" sh -c '! grep -q "usi-init-.*\.service" "$1"' - "$work/usi.list"
        check "usi: systemd is not in the image" sh -c '! grep -q "^usr/lib/systemd/systemd$" "$1"' - "$work/usi.list"
fi

# usi mode in an image that has systemd anyway: 00systemd linked /init to
# systemd before this module ran; /init must still be usi-init.
if build usisd usi; then
        check "usi with systemd: /init is a link to usr/bin/usi-init" test "$(init_link usisd)" = usr/bin/usi-init
        check "usi with systemd: warned that systemd is not the initrd's PID 1" \
                grep -q "usi-init: usi mode: /init is usi-init" "$work/usisd.img.log"
        check "usi with systemd: no usi-init unit enabled" sh -c '! grep -q "usi-init-.*\.service" "$1"' - "$work/usisd.list"
fi

# ---- initrd mode (the default with systemd): the unit, not /init ----------
if build auto auto; then
        check "auto with systemd: /usr/bin/usi-init" has auto usr/bin/usi-init
        check "auto with systemd: usi-init-initrd.service" has auto usr/lib/systemd/system/usi-init-initrd.service
        check "auto with systemd: required by initrd-fs.target" \
                has auto usr/lib/systemd/system/initrd-fs.target.requires/usi-init-initrd.service
        check "auto with systemd: /init is systemd" test "$(init_link auto)" = usr/lib/systemd/systemd
        check "auto with systemd: libtss2-tcti-device" \
                sh -c 'grep -q "lib/x86_64-linux-gnu/libtss2-tcti-device.so.0$" "$1"' - "$work/auto.list"
        check "auto with systemd: dm-crypt" has auto "usr/lib/modules/$kver/kernel/drivers/md/dm-crypt.ko"
fi

# ---- system mode: systemd is PID 1 of the USI ------------------------------
if build system system; then
        check "system: usi-init-system.service" has system usr/lib/systemd/system/usi-init-system.service
        check "system: required by sysinit.target" \
                has system usr/lib/systemd/system/sysinit.target.requires/usi-init-system.service
        check "system: no initrd unit" sh -c '! grep -q "usi-init-initrd.service" "$1"' - "$work/system.list"
fi
done_testing
