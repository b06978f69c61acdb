# A disk enrolled the systemd way (every token at PCR 15 = 0, make-disk
# --pcr15): it keeps booting under tpm.bind_volumes: warn (the default), both
# volumes unsealed before any key is measured, and the boot says the set is
# not bound: a console warning naming persistent, volumes_bound "no" in
# state.json and `status`.
describe="systemd's PCR 15 = 0 for every volume: boots under warn, says the set is not bound"

scenario() {
        fixture_kernel && fixture_disk_pcr15 || return 1
        local dd s; dd=$(disk_dir pcr15)
        node_initrd "$W/initrd.img" --extra "$dd/extra" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE" || return 1
        judge_layout pcr15
        judge_state || return 1
        expect_console 'volumes not bound to one another: persistent opened without PCR 15' \
                "the warning that the set is not bound"
        s=$W/node.res/state.json
        expect_eq "state.json: volumes bound" "$(json_get "$s" 'j["volumes_bound"]')" no
        expect_eq "state.json: oem bound (first, at PCR 15 = 0)" \
                "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == 'oem'][0]['bound']")" yes
        expect_eq "state.json: persistent not bound" \
                "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == 'persistent'][0]['bound']")" no
        expect_eq "state.json: the warning recorded" \
                "$(json_get "$s" 'any("volumes not bound to one another" in w for w in j["warnings"])')" true
        "$USI_INIT" status --state-file "$s" > "$W/status.txt" 2>&1
        grep -qx 'Volumes bound: no' "$W/status.txt" || fail "usi-init status does not say the set is unbound: $(tr '\n' '|' < "$W/status.txt")"
}
