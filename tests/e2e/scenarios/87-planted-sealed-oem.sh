# An attacker who once had the TPM: they seal a key of their own to the
# genuine signing key's PolicyAuthorize (sealing needs no policy to be
# satisfied), put it in a LUKS2 token on a COS_OEM of their own, and plant it
# in front of the genuine, bound persistent volume. The planted oem unseals
# and opens; its key moves PCR 15 to a value persistent's token was not
# sealed behind, so persistent's key is never asked of the TPM: the boot is
# refused naming the binding, without a shell, and the final OS never runs.
describe="a planted COS_OEM sealed to the genuine key: the bound persistent volume refuses before its unseal, no shell"

scenario() {
        fixture_kernel && fixture_disk_planted planted-oem || return 1
        local dd banner; dd=$(disk_dir bound)
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        splice_partition planted-oem oem "$W/disk.img" || return 1
        node_initrd "$W/initrd.img" --extra "$dd/extra" || return 1
        node_boot node "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" --append "$E2E_CMDLINE rd.usi.shell"
        wait_failure || { boot_stop; return 1; }
        banner=$(failure_banner)
        case $banner in
        *"boot failed in stage unlock, device /dev/vda2: volume persistent: /dev/vda2: bound behind volume keys that were not opened before it"*) ;;
        *) fail "the banner does not name the binding: $banner" ;;
        esac
        expect_refusal_halt
        expect_console 'volume oem: /dev/vda1 opened as /dev/mapper/oem' "that the planted oem opened (the attack's first half)"
        ! grep -aq 'volume persistent: /dev/vda2 opened' "$W/node.console" || fail "the persistent volume was opened"
        ! grep -aq 'policy digest mismatch' "$W/node.console" || fail "persistent's key was asked of the TPM"
        boot_stop
}
