# Volume binding, the PCR 15 chain (docs/ARCHITECTURE.md): a disk made by
# initrd/make-disk --bound. COS_OEM's token binds PCR 15 = 0, COS_PERSISTENT's
# PCR 15 after oem's key. usi-init unseals oem, measures its key into PCR 15
# before persistent's unseal, and records both volumes as bound; the final OS
# sees PCR 15 with both keys in plan order, `status` says the set is bound,
# and no token unseals from the final OS.
describe="a bound volume set: oem's key measured before persistent's unseal, volumes bound: yes, nothing unseals after"

scenario() {
        fixture_kernel && fixture_disk_bound || return 1
        local dd s vols; dd=$(disk_dir bound)
        vols=$W/volumes
        pcr15_volumes bound > "$vols" || { fail "cannot read the volume keys of the bound disk"; return 1; }

        node_initrd "$W/initrd.img" --extra "$dd/extra" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=unseal-after" || return 1
        judge_layout bound
        judge_state || return 1
        expect_console 'volume persistent: bound behind the 1 volume key\(s\) opened before it' \
                "that persistent was unsealed behind oem's key"
        ! grep -aq 'volumes not bound to one another' "$W/node.console" || fail "a bound set was warned about"
        expect_eq "PCR 15 in the final OS (oem, then persistent)" "$(report pcr15)" "$(pcr15_expected "$vols")"

        s=$W/node.res/state.json
        expect_eq "state.json: volumes bound" "$(json_get "$s" 'j["volumes_bound"]')" yes
        for v in oem persistent; do
                expect_eq "state.json: $v bound" "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == '$v'][0]['bound']")" yes
        done
        "$USI_INIT" status --state-file "$s" > "$W/status.txt" 2>&1
        grep -qx 'Volumes bound: yes' "$W/status.txt" || fail "usi-init status does not say the set is bound: $(tr '\n' '|' < "$W/status.txt")"
        judge_unseal_after refused "a token of the bound set unsealed from the final OS"
}
