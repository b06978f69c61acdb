# The node's UKI started by systemd-boot from an EFI System Partition on a
# disk, through the loader entry active.conf: systemd-boot sets
# LoaderEntrySelected and LoaderDevicePartUUID, and usi-init writes the
# Kairos sentinels of an installed node's active entry: /run/cos/active_mode
# and uki_boot_mode.
describe="UKI via systemd-boot entry active.conf: /run/cos/active_mode and uki_boot_mode"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd p; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" --no-extra --compress zstd || return 1
        "$TOP/initrd/build-uki" --out "$USI_OUT" --initrd "$W/initrd.img" --output "$W/node.efi" \
                --cmdline "$E2E_CMDLINE rd.usi.insecure" >>"$W/build.log" 2>&1 ||
                { fail "build-uki failed: $(tail -n1 "$W/build.log")"; return 1; }
        "$TOP/initrd/make-esp" --uki "$W/node.efi" --entry active --output "$W/esp.img" >>"$W/build.log" 2>&1 ||
                { fail "make-esp failed: $(tail -n1 "$W/build.log")"; return 1; }
        p=$W/node.efi.pcr
        boot_node_to_final node "$dd" --esp "$W/esp.img" --disk-snapshot "$dd/disk.img" || return 1
        expect_eq "LoaderEntrySelected in the final OS" "$(report 'efivar LoaderEntrySelected')" active.conf
        expect_eq "LoaderDevicePartUUID in the final OS" \
                "$(report 'efivar LoaderDevicePartUUID' | tr A-F a-f)" "$(sgdisk -i 1 "$W/esp.img" | sed -n 's/^Partition unique GUID: //p' | tr A-F a-f)"
        expect_eq "/run/cos sentinels" "$(report cos)" "active_mode uki_boot_mode"
        judge_layout e2e
        expect_eq "PCR 11 in the final OS" "$(report pcr11)" "$(cat "$p/pcr11.leave-initrd")"
}
