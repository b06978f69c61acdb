# The initrd carries a signature by the right key but for another image's
# PCR 11: the TPM cannot unseal, the boot halts with a banner naming PCR 11,
# and no shell is offered (fail closed).
describe="PCR 11 differs from the signed one: halt with a banner naming PCR 11, no shell"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd; dd=$(disk_dir e2e)
        tampered_extra "$W/extra" || return 1
        node_initrd "$W/initrd.img" --extra "$W/extra" || return 1
        node_boot node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" --append "$E2E_CMDLINE"
        wait_failure || return 1
        case $(failure_banner) in
        *"PCR 11"*) ;;
        *) fail "the banner does not name PCR 11: $(failure_banner)" ;;
        esac
        case $(failure_banner) in
        *"boot failed in stage unlock, device /dev/vda1 (volume oem, label COS_OEM):"*) ;;
        *) fail "the banner does not name the stage and the device: $(failure_banner)" ;;
        esac
        # The refusal is about the signature we planted, not something else.
        local pol
        pol=$(json_get "$W/extra/tpm2-pcr-signature.json" 'j["sha256"][0]["pol"]')
        grep -aq "$pol" "$W/node.console" || fail "the failure does not mention the planted signature's policy $pol"
        expect_halted
        boot_stop
}
