# Tokens bound to a literal PCR only (16, which nothing extends), no signed
# policy: PCR 11 after leave-initrd is not signed, yet the final OS can
# unseal the keys again. The hand-off check must not say "sealed" because
# nothing is signed: it judges such tokens too, warns with the remedy
# (enroll with the signed PCR 11 policy and PCR 15) and records it; the
# unseal from the final OS proves the record right.
describe="tokens bound to a literal PCR only: the hand-off check reports the keys unsealable, and they are"

scenario() {
        fixture_kernel && fixture_disk window-literal --literal-only 16 || return 1
        local dd s; dd=$(disk_dir window-literal)
        node_initrd "$W/initrd.img" --extra "$dd/extra" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=unseal-after" || return 1
        judge_layout window-literal
        judge_state || return 1
        expect_console 'usi-init: warning: hand-off: volume (oem|persistent) \(token 0\) is bound to literal PCRs only, which still hold their sealed values: the final OS, and whoever roots it, can unseal the volume keys again; enroll it with the signed PCR 11 policy and PCR 15: systemd-cryptenroll --tpm2-public-key-pcrs=11 --tpm2-pcrs=15' \
                "the hand-off warning with the remedy"
        s=$W/node.res/state.json
        expect_eq "state.json: keys unsealable after hand-off" "$(json_get "$s" 'j["handoff_window"]["keys_unsealable"]')" true
        judge_unseal_after unsealed "the check said unsealable, yet the final OS could not unseal"
}
