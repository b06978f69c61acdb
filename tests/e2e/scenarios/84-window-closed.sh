# A disk signed for enter-initrd only (make-disk's default, the closed
# window): after leave-initrd nothing signed matches PCR 11. state.json and
# `usi-init status` say the keys are not unsealable after hand-off, no
# warning is shown, and the unseal from the final OS is refused.
describe="signature for enter-initrd only: state.json closed, no warning, the final OS cannot unseal"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd s log; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=unseal-after,window-explain" || return 1
        judge_layout e2e
        judge_state || return 1
        if grep -q 'can unseal the volume keys again' "$W/node.console"; then
                fail "the console warns about an open window on a closed one"
        fi

        s=$W/node.res/state.json
        expect_eq "state.json: keys unsealable after hand-off" "$(json_get "$s" 'j["handoff_window"]["keys_unsealable"]')" false
        expect_eq "state.json: why" "$(json_get "$s" 'j["handoff_window"]["reason"]')" \
                "PCR 11 after leave-initrd is not signed in /.extra/tpm2-pcr-signature.json"
        expect_eq "state.json: PCR 11 before enter-initrd" "$(json_get "$s" 'j["pcr11_base"]')" "$(printf '%064d' 0)"

        judge_unseal_after refused "the final OS could unseal again"

        log=$W/node.res/run-window-explain.log
        grep -qx 'status: Keys unsealable after hand-off: no (PCR 11 after leave-initrd is not signed in /.extra/tpm2-pcr-signature.json)' "$log" ||
                fail "usi-init status does not say no: $(grep 'status: Keys' "$log")"
        for d in vda1 vda2; do
                grep -qx "explain: /dev/$d: token 0: entry 0 signs enter-initrd" "$log" ||
                        fail "unlock --explain does not name entry 0 of /dev/$d enter-initrd"
                grep -qx "explain: /dev/$d: keys unsealable after hand-off: no (token 0: every entry signs enter-initrd only)" "$log" ||
                        fail "unlock --explain does not say /dev/$d is closed"
        done
        expect_eq "unlock --explain exit status (closed)" "$(grep '^explain.rc=' "$log" | cut -d= -f2)" 0
}
