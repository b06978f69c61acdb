# A duplicate of the genuine /oem: a second disk carries a copy of the first
# 4 MiB of the oem partition, its LUKS2 header with label COS_OEM (and the
# same UUID and TPM token). Whether the kernel shows it before or after /oem
# was found, the boot halts with a banner naming both devices, before any
# unlock, and the final OS never runs.
describe="a second disk with a copy of COS_OEM's LUKS2 header: halt, the banner names both devices"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd banner; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" || return 1
        # The oem partition starts at sector 2048 (initrd/make-disk).
        truncate -s 8M "$W/copy.img"
        dd if="$dd/disk.img" of="$W/copy.img" bs=1M skip=1 count=4 conv=notrunc status=none
        [ "$(blkid -o value -s LABEL "$W/copy.img")" = COS_OEM ] ||
                { fail "the copy carries no LUKS2 label COS_OEM: $(blkid "$W/copy.img")"; return 1; }
        node_boot node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --disk-snapshot "$W/copy.img" --append "$E2E_CMDLINE"
        wait_failure || { boot_stop; return 1; }
        banner=$(failure_banner)
        case $banner in
        *"boot failed in stage devices, device /dev/vda1 and /dev/vdb (volume oem): volume oem: two devices match it"* | \
        *"boot failed in stage devices, device /dev/vdb and /dev/vda1 (volume oem): volume oem: two devices match it"*) ;;
        *) fail "the banner does not name both devices: $banner" ;;
        esac
        case $banner in *"LUKS2 label COS_OEM"*"LUKS2 label COS_OEM"*) ;; *) fail "the banner does not say what both carry: $banner" ;; esac
        expect_halted
        ! grep -aq '^USI-REPORT-BEGIN' "$W/node.console" || fail "the final OS ran"
        boot_stop
}
