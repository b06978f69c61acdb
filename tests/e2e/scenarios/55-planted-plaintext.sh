# A planted persistent volume: the disk's persistent partition is a plaintext
# ext4 labelled COS_PERSISTENT (initrd/make-disk --plaintext persistent), the
# genuine /oem beside it LUKS2 as usual. In USI mode the boot unlocks /oem,
# then refuses the plaintext volume: the banner names the device and what is
# on it, no shell is offered although rd.usi.shell asks for one (PCR 11 still
# unseals at that point), the final OS never runs, and the disk, booted
# writable, comes out bit for bit unchanged. Twice: a plain-kernel boot with
# rd.immucore.uki, and a UKI under OVMF whose command line lacks it, where
# only systemd-stub's /.extra and EFI variables say it is a UKI boot.
describe="planted plaintext COS_PERSISTENT in USI mode (rd.immucore.uki; a UKI without it): halt naming it, no shell, disk unchanged"

# planted_boot NAME [run-qemu args]: one boot of $W/disk.img, judged.
planted_boot() {
        local name=$1 before after
        shift
        before=$(sha256sum <"$W/disk.img" | cut -c1-64)
        node_boot "$name" "$(disk_dir planted)" --disk "$W/disk.img" "$@"
        wait_failure || { boot_stop; return 1; }
        case $(failure_banner) in
        *"boot failed in stage devices, device /dev/vda2 (volume persistent): volume persistent: /dev/vda2 carries ext4 file system label COS_PERSISTENT"*"where an encrypted volume is expected"*) ;;
        *) fail "$name: the banner does not name the device and what is on it: $(failure_banner)" ;;
        esac
        expect_refusal_halt
        boot_stop
        after=$(sha256sum <"$W/disk.img" | cut -c1-64)
        expect_eq "$name: the disk image's checksum after the boot" "$after" "$before"
}

scenario() {
        fixture_kernel && fixture_disk planted --plaintext persistent || return 1
        local dd; dd=$(disk_dir planted)
        # e2fsck -p and a read-write mount of the genuine /oem write its
        # superblock (e2fsck its write time, even on a clean file system):
        # with /oem read-only and fsck.mode=skip, any write the boot makes
        # shows in the checksum.
        printf 'volumes:\n  - name: oem\n    options: ro\n' >"$W/oem-ro.yaml"
        cp --sparse=always "$dd/disk.img" "$W/disk.img"

        node_initrd "$W/initrd.img" --extra "$dd/extra" --add "$W/oem-ro.yaml:/etc/usi-init/config.yaml" || return 1
        planted_boot node --initrd "$W/initrd.img" --append "$E2E_CMDLINE rd.usi.shell fsck.mode=skip" || return 1

        # The UKI is not signed for Secure Boot, so its command line says so.
        node_initrd "$W/uki-initrd.img" --no-extra --compress zstd \
                --add "$W/oem-ro.yaml:/etc/usi-init/config.yaml" || return 1
        "$TOP/initrd/build-uki" --out "$USI_OUT" --initrd "$W/uki-initrd.img" --output "$W/node.efi" \
                --cmdline "$E2E_CMDLINE_PLAIN rd.immucore.securebootdisabled rd.usi.shell fsck.mode=skip" \
                >>"$W/build.log" 2>&1 || { fail "build-uki failed: $(tail -n1 "$W/build.log")"; return 1; }
        planted_boot uki --uki "$W/node.efi"
}
