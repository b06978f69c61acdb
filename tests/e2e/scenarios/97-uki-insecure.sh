# Secure Boot off (plain OVMF) and nothing that allows it: usi-init refuses
# to boot with a banner, before enter-initrd and before any unseal, and
# halts. The same UKI boots when the initrd's config says
# allow_insecure_boot: true.
describe="Secure Boot off without override: refused with a banner; allow_insecure_boot: true boots"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd p; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" --no-extra --compress zstd || return 1
        "$TOP/initrd/build-uki" --out "$USI_OUT" --initrd "$W/initrd.img" --output "$W/strict.efi" \
                --cmdline "$E2E_CMDLINE" >>"$W/build.log" 2>&1 ||
                { fail "build-uki failed: $(tail -n1 "$W/build.log")"; return 1; }
        node_boot refused "$dd" --uki "$W/strict.efi" --disk-snapshot "$dd/disk.img"
        wait_failure || { boot_stop; return 1; }
        case $(failure_banner) in
        *"early: Secure Boot is off"*) ;;
        *) fail "the banner does not say the early stage found Secure Boot off: $(failure_banner)" ;;
        esac
        expect_halted
        boot_stop

        printf 'allow_insecure_boot: true\n' >"$W/insecure.yaml"
        node_initrd "$W/initrd2.img" --no-extra --compress zstd \
                --add "$W/insecure.yaml:/etc/usi-init/config.yaml" || return 1
        "$TOP/initrd/build-uki" --out "$USI_OUT" --initrd "$W/initrd2.img" --output "$W/allowed.efi" \
                --cmdline "$E2E_CMDLINE" >>"$W/build.log" 2>&1 ||
                { fail "build-uki failed: $(tail -n1 "$W/build.log")"; return 1; }
        p=$W/allowed.efi.pcr
        boot_node_to_final allowed "$dd" --uki "$W/allowed.efi" --disk-snapshot "$dd/disk.img" || return 1
        grep -aq 'Secure Boot is off; booting on' "$W/allowed.console" || fail "no warning that Secure Boot is off"
        expect_eq "Secure Boot state seen by the final OS" "$(report secureboot)" 0
        judge_layout e2e
        expect_eq "PCR 11 in the final OS" "$(report pcr11)" "$(cat "$p/pcr11.leave-initrd")"
}
