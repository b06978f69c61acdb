# A disk signed for enter-initrd and enter-initrd:leave-initrd (part of
# systemd-measure's default): the boot succeeds, but PCR 11 after
# leave-initrd is still signed, so the final OS can unseal the keys again.
# usi-init says so on the console with the remedy and records it, and the
# unseal from the final OS does succeed (the tokens bind PCR 11 only): the
# audit tells the truth.
describe="signature covers leave-initrd: console warning with the remedy, state.json open, the final OS unseals"

scenario() {
        fixture_kernel && fixture_disk window-open --unbound --phase enter-initrd --phase enter-initrd:leave-initrd || return 1
        local dd s log; dd=$(disk_dir window-open)
        node_initrd "$W/initrd.img" --extra "$dd/extra" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=unseal-after,window-explain" || return 1
        judge_layout window-open
        judge_state || return 1
        expect_eq "PCR 11 in the final OS" "$(report pcr11)" "$(pcr11_expected window-open leave-initrd)"
        expect_console 'usi-init: warning: hand-off: PCR 11 after leave-initrd is still signed in /\.extra/tpm2-pcr-signature\.json for volume (oem|persistent) \(token 0\): the final OS, and whoever roots it, can unseal the volume keys again; sign only the initrd phase: systemd-measure sign --phase=enter-initrd' \
                "the hand-off warning with the remedy"

        s=$W/node.res/state.json
        expect_eq "state.json: keys unsealable after hand-off" "$(json_get "$s" 'j["handoff_window"]["keys_unsealable"]')" true
        expect_eq "state.json: PCR 11 before enter-initrd" "$(json_get "$s" 'j["pcr11_base"]')" "$(printf '%064d' 0)"
        expect_eq "state.json: the warning is recorded" \
                "$(json_get "$s" 'any("can unseal the volume keys again" in w for w in j["warnings"])')" true

        judge_unseal_after unsealed "the window is open, yet the final OS could not unseal"

        log=$W/node.res/run-window-explain.log
        grep -qx 'status: Keys unsealable after hand-off: yes (.*)' "$log" ||
                fail "usi-init status does not say yes: $(grep 'status: Keys' "$log")"
        grep -qx "explain: PCR 11 base: $(printf '%064d' 0) (this boot's record, /run/usi-init/state.json)" "$log" ||
                fail "unlock --explain did not take the base from this boot's record: $(grep 'explain: PCR 11 base' "$log")"
        for d in vda1 vda2; do
                grep -qx "explain: /dev/$d: token 0: entry 1 signs enter-initrd:leave-initrd" "$log" ||
                        fail "unlock --explain does not name entry 1 of /dev/$d enter-initrd:leave-initrd"
                grep -q "^explain: /dev/$d: keys unsealable after hand-off: yes " "$log" ||
                        fail "unlock --explain does not say /dev/$d stays unsealable"
        done
        expect_eq "unlock --explain exit status (open)" "$(grep '^explain.rc=' "$log" | cut -d= -f2)" 3
}
