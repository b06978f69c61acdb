# Trust-chain rule 5: /oem/usi-init.yaml, which the final OS writes and a
# planted OEM volume fills at will, tries to switch the chain off: no phase
# measuring (leave-initrd would never close the keys), no PCR 15, its own
# init, a shell on failure. Each key is named as ignored in state.json, the
# node measures leave-initrd into PCR 11 and both volume keys into PCR 15,
# and the image's init runs, not /oem/evil.
describe="trust keys in /oem/usi-init.yaml ignored by name; leave-initrd and PCR 15 measured; the image's init runs"

scenario() {
        fixture_kernel || return 1
        mkdir -p "$W/oem"
        cp "$TOP/tests/data/oem-trust-keys.yaml" "$W/oem/usi-init.yaml"
        printf '#!/bin/sh\necho USI-EVIL-INIT-RAN\nexec /bin/sh\n' > "$W/oem/evil"
        chmod +x "$W/oem/evil"
        echo "COS_OEM of disk oemdown, made by initrd/make-disk" > "$W/oem/usi-volume"
        fixture_disk oemdown --keep-password --oem-tree "$W/oem" || return 1
        local dd s vols k; dd=$(disk_dir oemdown)
        vols=$W/volumes
        pcr15_volumes oemdown > "$vols" || { fail "cannot read the volume keys of the oemdown disk"; return 1; }

        node_initrd "$W/initrd.img" --extra "$dd/extra" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE" || return 1
        judge_layout oemdown
        judge_state || return 1
        ! grep -aq 'USI-EVIL-INIT-RAN' "$W/node.console" || fail "/oem/evil ran"

        s=$W/node.res/state.json
        expect_eq "state.json: the /oem config was read" "$(json_get "$s" 'j["oem_config"]')" true
        for k in 2:3:tpm.measure_phases 3:3:tpm.measure_volume_keys 4:1:init 5:1:on_failure 6:1:allow_shell; do
                expect_eq "state.json names ${k##*:} as ignored" \
                        "$(json_get "$s" "'/oem/usi-init.yaml:${k%:*}: ${k##*:} ignored: only the image may set this' in j['warnings']")" \
                        true
        done
        expect_eq "the plan measures the phases" "$(json_get "$s" 'j["plan"]["tpm"]["measure_phases"]')" true
        expect_eq "the plan measures the volume keys" "$(json_get "$s" 'j["plan"]["tpm"]["measure_volume_keys"]')" true
        expect_eq "the plan's first init candidate" "$(json_get "$s" 'j["plan"]["init"]["candidates"][0]')" /sbin/init
        expect_eq "no shell on failure" "$(json_get "$s" 'j["plan"]["on_failure"]["shell_allowed"]')" false
        expect_eq "PCR 11 in the final OS (leave-initrd measured)" "$(report pcr11)" "$(pcr11_expected oemdown leave-initrd)"
        expect_eq "PCR 15 in the final OS (both volume keys)" "$(report pcr15)" "$(pcr15_expected "$vols")"
}
