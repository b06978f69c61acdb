#!/bin/bash
# dracut module for usi-init, the PID 1 of an encrypted, immutable node's
# initrd. Add it with `dracut --add usi-init`; what it makes of the image
# depends on the dracut.conf variable usi_init_mode:
#
#   usi      usi-init is /init. It unlocks and mounts the volumes and execs
#            the image's own /sbin/init as PID 1 (no switch_root): the initrd
#            is the whole OS (a USI). systemd is not started in the initrd.
#   initrd   systemd runs the initrd; usi-init-initrd.service unlocks and
#            mounts the volumes under /sysroot before initrd-fs.target.
#   system   the image's PID 1 is systemd and the image is the final OS;
#            usi-init-system.service does the same against / before
#            local-fs.target.
#   auto     (default) initrd when dracut's systemd module is in the image,
#            usi otherwise.
#
# Other variables: usi_init_binary (the usi-init to install, default the one
# on PATH), usi_init_config (default /etc/usi-init: config.yaml and
# config.d/*.yaml are copied from there).
# In the image, usi-init is always /usr/bin/usi-init.
#
# shellcheck disable=SC2154 # dracut sets initdir, moddir, hostonly, systemdsystemunitdir...

# The mode this image is built in.
usi_init_resolve_mode() {
    case ${usi_init_mode:-auto} in
        usi | initrd | system) echo "$usi_init_mode" ;;
        auto)
            if dracut_module_included "systemd"; then
                echo initrd
            else
                echo usi
            fi
            ;;
        *)
            derror "usi-init: usi_init_mode='$usi_init_mode' is not one of usi, initrd, system, auto"
            return 1
            ;;
    esac
}

usi_init_source() {
    if [[ -n $usi_init_binary ]]; then
        echo "$usi_init_binary"
    else
        PATH="$PATH:/usr/local/sbin:/usr/local/bin" find_binary usi-init
    fi
}

# called by dracut
check() {
    local bin
    bin=$(usi_init_source) || return 1
    if [[ ! -x $dracutsysrootdir$bin ]]; then
        dinfo "dracut module 'usi-init' will not be installed: no usi-init binary (set usi_init_binary)"
        return 1
    fi
    # Only in images that ask for it (--add usi-init, add_dracutmodules+=).
    return 255
}

# called by dracut
depends() {
    # initrd and system modes need systemd and udev in the image; usi mode
    # needs nothing else: usi-init talks to the kernel itself.
    case ${usi_init_mode:-auto} in
        initrd) echo systemd systemd-initrd systemd-udevd ;;
        system) echo systemd systemd-udevd ;;
    esac
    return 0
}

# called by dracut
installkernel() {
    # The TPM, device-mapper and dm-crypt with the ciphers LUKS2 volumes use,
    # the file systems and the overlay of the ephemeral paths, efivarfs, and
    # what a system extension needs (loop, dm-verity, squashfs, erofs).
    instmods tpm_tis tpm_crb dm_mod dm_crypt \
        aesni_intel xts ecb cbc sha256_generic crc32c_generic crc32c-intel \
        ext4 xfs btrfs vfat overlay efivarfs loop dm_verity squashfs erofs

    if [[ $hostonly ]]; then
        # dracut keeps only what this machine uses.
        instmods virtio_pci virtio_blk virtio_scsi sd_mod ahci nvme
    else
        # A generic image: every TPM driver and the common storage drivers.
        instmods '=drivers/char/tpm' '=drivers/virtio' '=drivers/block' \
            '=drivers/ata' '=drivers/nvme' '=drivers/scsi' '=drivers/mmc' \
            '=drivers/usb/storage' '=drivers/usb/host'
    fi
}

# usi_init_unit NAME TARGET: the unit from this module's directory, required by TARGET.
usi_init_unit() {
    inst_simple "$moddir/$1" "$systemdsystemunitdir/$1"
    mkdir -p "$initdir$systemdsystemunitdir/$2.requires"
    ln_r "$systemdsystemunitdir/$1" "$systemdsystemunitdir/$2.requires/$1"
}

# called by dracut
install() {
    local bin mode conf f
    mode=$(usi_init_resolve_mode) || return 1
    bin=$(usi_init_source) || return 1

    # The binary and the libraries it links; libtss2-tctildr opens the TPM
    # transport by name at run time, so ldd never sees libtss2-tcti-device.
    inst_binary "$bin" /usr/bin/usi-init || return 1
    inst_libdir_file "libtss2-tcti-device.so*" ||
        dwarn "usi-init: libtss2-tcti-device not found: the TPM cannot be reached (install libtss2-tcti-device0)"
    # The checker usi-init runs before mounting an ext4 volume.
    inst_multiple -o e2fsck fsck.ext4

    conf=${usi_init_config:-/etc/usi-init}
    [[ -f $dracutsysrootdir$conf/config.yaml ]] && inst_simple "$conf/config.yaml" /etc/usi-init/config.yaml
    for f in "$dracutsysrootdir$conf"/config.d/*.yaml; do
        [[ -f $f ]] || continue
        inst_simple "${f#"$dracutsysrootdir"}" "/etc/usi-init/config.d/${f##*/}"
    done
    mkdir -p "$initdir/.extra" "$initdir/run"

    case $mode in
        usi)
            # dracut installs modules in name order and dracut-install never
            # overwrites a file that exists: this /init stays, 99base's
            # init.sh is skipped. A systemd module earlier in the order
            # linked /init to systemd; this replaces it.
            if dracut_module_included "systemd"; then
                dwarn "usi-init: usi mode: /init is usi-init, systemd in this image is not started as the initrd's PID 1"
            fi
            ln -sfn usr/bin/usi-init "$initdir/init"
            ;;
        initrd)
            usi_init_unit usi-init-initrd.service initrd-fs.target
            ;;
        system)
            usi_init_unit usi-init-system.service sysinit.target
            ;;
    esac
    dinfo "usi-init: mode $mode"
}
