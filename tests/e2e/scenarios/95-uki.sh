# The trusted-boot scenario: the node as a real UKI under OVMF. systemd-stub
# measures the sections into PCR 11 and provides /.extra; usi-init as /init
# measures enter-initrd, unseals both volumes with the stub's signature,
# measures leave-initrd and hands off to the final OS as PID 1. The UKI is
# not signed for Secure Boot, so its command line says so explicitly.
describe="the node as a UKI under OVMF: stub PCR 11 + /.extra, unlock, PCR 11 = leave-initrd"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd p log; dd=$(disk_dir e2e)
        # No --extra: on a UKI boot the stub provides /.extra.
        # Compressed: the firmware loads and the stub hashes every byte of the UKI.
        node_initrd "$W/initrd.img" --no-extra --compress zstd || return 1
        "$TOP/initrd/build-uki" --out "$USI_OUT" --initrd "$W/initrd.img" --output "$W/node.efi" \
                --cmdline "$E2E_CMDLINE rd.immucore.securebootdisabled usi.run=unseal-after" \
                >>"$W/build.log" 2>&1 || { fail "build-uki failed: $(tail -n1 "$W/build.log")"; return 1; }
        p=$W/node.efi.pcr
        boot_node_to_final node "$dd" --uki "$W/node.efi" --disk-snapshot "$dd/disk.img" || return 1
        judge_layout e2e
        grep -qx 'mapper=oem' "$W/node.res/report.txt" || fail "no /dev/mapper/oem: /oem is not on dm-crypt"
        expect_eq "PCR 11 in the final OS" "$(report pcr11)" "$(cat "$p/pcr11.leave-initrd")"
        # The stub's /.extra, copied where systemd in the final OS looks.
        expect_eq "/run/systemd/tpm2-pcr-signature.json" \
                "$(report 'sha256 /run/systemd/tpm2-pcr-signature.json')" "$(sha256sum < "$p/pcrsig" | cut -c1-64)"
        expect_eq "/run/systemd/tpm2-pcr-public-key.pem" \
                "$(report 'sha256 /run/systemd/tpm2-pcr-public-key.pem')" "$(sha256sum < "$p/pcrpkey" | cut -c1-64)"
        log=$W/node.res/run-unseal-after.log
        [ "$(grep -c '^refused ' "$log" 2>/dev/null)" = 2 ] ||
                fail "the final OS could unseal again: $(tr '\n' ' ' < "$log" 2>/dev/null)"
        expect_eq "Secure Boot state seen by the final OS" "$(report secureboot)" 0
        # Kairos sentinels: OVMF loads the UKI from -kernel, not from a disk
        # partition, so the stub sets no LoaderDevicePartUUID and no boot
        # loader sets LoaderEntrySelected: install media, as kairos-sdk says.
        expect_eq "LoaderDevicePartUUID in the final OS" "$(report 'efivar LoaderDevicePartUUID')" ""
        expect_eq "LoaderEntrySelected in the final OS" "$(report 'efivar LoaderEntrySelected')" ""
        expect_eq "/run/cos sentinels" "$(report cos)" "live_mode uki_install_mode"
        grep -qx '/dev/mapper/persistent /usr/local ext4 defaults 0 0' "$W/node.res/fstab" ||
                fail "/etc/fstab has no /usr/local line"
        judge_state
}
