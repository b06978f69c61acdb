# PCR 15 for a volume opened by a fallback: the initrd's config lets the
# persistent volume open only by passphrase (typed on the console), so oem
# is TPM-unsealed and persistent opened after it. Both keys still go into
# PCR 15, in plan order: the final OS sees the same value as when both are
# TPM-unsealed, computed here from the volume keys.
describe="a passphrase-opened volume is measured into PCR 15 too, in plan order"

scenario() {
        fixture_kernel && fixture_disk_pcr15 || return 1
        local dd vols want s; dd=$(disk_dir pcr15)
        vols=$W/volumes
        pcr15_volumes pcr15 > "$vols" || { fail "cannot read the volume keys of the pcr15 disk"; return 1; }
        want=$(pcr15_expected "$vols")

        printf 'volumes:\n  - name: persistent\n    unlock: [passphrase]\n' > "$W/fallback.yaml"
        node_initrd "$W/initrd.img" --extra "$dd/extra" --add "$W/fallback.yaml:/etc/usi-init/config.yaml" || return 1
        node_boot node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" --append "$E2E_CMDLINE"
        wait_console 'Passphrase for volume persistent|boot failed' || { boot_stop; fail "no passphrase prompt for persistent"; return 1; }
        grep -q 'boot failed' "$W/node.console" && { boot_stop; fail "the boot failed: $(failure_banner)"; return 1; }
        send "$(cat "$dd/password")"
        wait_final || { boot_stop; fail "neither the final OS nor a failure banner"; return 1; }
        grep -Eq 'boot failed|Kernel panic' "$W/node.console" && { boot_stop; fail "the boot failed: $(failure_banner)"; return 1; }
        boot_wait
        have_report || { fail "no report from the final OS"; return 1; }

        judge_layout pcr15
        s=$W/node.res/state.json
        expect_eq "unlocked by (oem, persistent)" \
                "$(json_get "$s" "' '.join(x['unlocked_by'] for x in j['volumes'] if x['name'] in ('oem', 'persistent'))")" "tpm2 passphrase"
        expect_eq "PCR 15 in the final OS (oem by TPM, then persistent by passphrase)" "$(report pcr15)" "$want"
        expect_eq "state.json PCR 15 extends (sha256), in plan order" \
                "$(json_get "$s" "' '.join(m['description'].split(':')[1] for m in j['volume_key_measurements'] if m['bank'] == 'sha256')")" \
                "oem persistent"
        grep -qi "$(cut -d' ' -f3 "$vols" | tail -n1)" "$s" && fail "state.json holds the volume key of persistent"
        grep -q "$(cat "$dd/password")" "$s" && fail "state.json holds the passphrase"
        return 0
}
