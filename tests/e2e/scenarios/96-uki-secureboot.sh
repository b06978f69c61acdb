# The node's UKI signed with Debian's snakeoil key under OVMF with Secure
# Boot on (OVMF_VARS_4M.snakeoil.fd trusts that key): it boots, the kernel
# is locked down, the volumes unlock and the final OS sees SecureBoot=1. The
# same UKI unsigned is refused by the firmware.
describe="Secure Boot: the signed node UKI boots and unlocks, the unsigned one is refused"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd p; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" --no-extra --compress zstd || return 1
        "$TOP/initrd/build-uki" --out "$USI_OUT" --initrd "$W/initrd.img" --output "$W/signed.efi" --secure-boot \
                --cmdline "$E2E_CMDLINE usi.run=unseal-after" >>"$W/build.log" 2>&1 ||
                { fail "build-uki --secure-boot failed: $(tail -n1 "$W/build.log")"; return 1; }
        p=$W/signed.efi.pcr
        boot_node_to_final node "$dd" --uki "$W/signed.efi" --secure-boot --disk-snapshot "$dd/disk.img" || return 1
        expect_eq "Secure Boot state seen by the final OS" "$(report secureboot)" 1
        judge_layout e2e
        expect_eq "PCR 11 in the final OS" "$(report pcr11)" "$(cat "$p/pcr11.leave-initrd")"
        [ "$(grep -c '^refused ' "$W/node.res/run-unseal-after.log" 2>/dev/null)" = 2 ] ||
                fail "the final OS could unseal again"

        # The same sections without the signature.
        "$TOP/initrd/build-uki" --out "$USI_OUT" --initrd "$W/initrd.img" --output "$W/unsigned.efi" \
                --cmdline "$E2E_CMDLINE usi.run=unseal-after" >>"$W/build.log" 2>&1 ||
                { fail "build-uki failed: $(tail -n1 "$W/build.log")"; return 1; }
        boot_start unsigned --uki "$W/unsigned.efi" --secure-boot --tpm-state "$dd/tpm" --disk-snapshot "$dd/disk.img"
        # A refused image never exits: OVMF waits at its boot menu.
        wait_console 'No bootable option|Access Denied|Run /init|Linux version' 40 ||
                fail "OVMF neither refused nor started the unsigned UKI"
        grep -aq 'Run /init\|Linux version' "$W/unsigned.console" && fail "the unsigned UKI was started under Secure Boot"
        boot_stop
}
