# Fault matrix: the TPM in dictionary-attack lockout (three wrong
# authorizations of another object, as a person guessing a PIN would). The
# disk's tokens have no PIN and their sealed objects are NoDA, but the
# primary key they load under is made from systemd 252's template, which is
# not NoDA (it must stay byte-equal for the key to be the same): in a lockout
# the TPM refuses to load under it, so COS_OEM cannot be unsealed. The node
# fails closed with the TPM's own numbers and the way out, no shell. Then the
# way out is taken on the host (tpm2_dictionarylockout --clear-lockout, the
# lockout authorization is empty here): the node boots, and `usi-init status`
# in the final OS shows the counter at 0 of 3 with the recovery time set.
describe="TPM in DA lockout: fails closed naming the lockout, its numbers and the way out; after --clear-lockout it boots"

. "$E2E_DIR/lib-fault-dev.sh"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd da; dd=$(disk_dir e2e)
        da="3 of 3 authorization failures counted, recovery time 600 s (one failure is forgiven every 600 s); clear it with \`tpm2_dictionarylockout --clear-lockout\` and the lockout authorization"
        fault_tpm_lockout "$dd/tpm" "$W/tpm" || return 1
        node_initrd "$W/initrd.img" || return 1

        node_boot lockout "$W" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" --append "$E2E_CMDLINE"
        wait_failure 120 || { boot_stop; return 1; }
        fault_expect_banner "==== boot failed in stage unlock, device /dev/vda1 (volume oem, label COS_OEM): volume oem: cannot unlock /dev/vda1: tpm2: token 0: cannot load the sealed object: TPM is in dictionary-attack lockout (wait for the recovery time or clear it with the lockout authorization); TPM dictionary-attack lockout: $da ===="
        fault_no_shell
        boot_stop

        # The way out the banner names, on the host's copy of the state.
        fault_tpm_do "$W/tpm" tpm2_dictionarylockout --clear-lockout ||
                { fail "tpm2_dictionarylockout --clear-lockout failed: $(tail -n1 "$W/tpm-host.log")"; return 1; }
        boot_node_to_final cleared "$W" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=fault-dev-tpm-status" || return 1
        judge_layout e2e
        ! grep -aq 'dictionary-attack lockout' "$W/cleared.console" || fail "cleared: a lockout was reported after the clear"
        expect_eq "usi-init status ran in the final OS" "$(report 'run fault-dev-tpm-status')" 0
        grep -qxF "TPM dictionary-attack counter: 0 of 3 authorization failures counted, recovery time 600 s (one failure is forgiven every 600 s); clear it with \`tpm2_dictionarylockout --clear-lockout\` and the lockout authorization" \
                "$W/cleared.res/run-fault-dev-tpm-status.log" ||
                fail "usi-init status in the final OS does not show the cleared counter: $(tail -n1 "$W/cleared.res/run-fault-dev-tpm-status.log" 2>/dev/null)"
}
