# The whole mission in one boot: usi-init as /init unseals both volumes with
# the TPM through the signed PCR 11 policy, mounts /oem and /usr/local, puts
# /etc on an overlay, applies the persistent binds, measures leave-initrd and
# execs the final init as PID 1. From the final OS, unsealing again fails.
describe="both volumes TPM-unsealed, mounts/overlay/binds, final init PID 1, PCR 11 = leave-initrd"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd s log; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=unseal-after" || return 1

        judge_layout e2e
        grep -qx 'mapper=oem' "$W/node.res/report.txt" || fail "no /dev/mapper/oem: /oem is not on dm-crypt"
        grep -qx 'mapper=persistent' "$W/node.res/report.txt" || fail "no /dev/mapper/persistent"
        expect_eq "PCR 11 in the final OS" "$(report pcr11)" "$(pcr11_expected e2e leave-initrd)"

        log=$W/node.res/run-unseal-after.log
        expect_eq "unseal-after ran" "$(report 'run unseal-after')" 0
        [ "$(grep -c '^refused ' "$log" 2>/dev/null)" = 2 ] ||
                fail "the final OS could unseal again: $(tr '\n' ' ' < "$log" 2>/dev/null)"

        # Kairos parity: /etc/fstab of the final OS lists the mounts made, and
        # a BIOS boot (no EFI variables, so no boot partition) is install media.
        local f=$W/node.res/fstab
        grep -qx '/dev/mapper/oem /oem ext4 defaults 0 0' "$f" || fail "/etc/fstab has no /oem line: $(tr '\n' '|' < "$f" 2>/dev/null)"
        grep -qx '/dev/mapper/persistent /usr/local ext4 defaults 0 0' "$f" || fail "/etc/fstab has no /usr/local line"
        grep -q '^overlay /etc overlay lowerdir=/etc,' "$f" || fail "/etc/fstab has no /etc overlay line"
        grep -qx '/usr/local/.state/etc-ssh.bind /etc/ssh none bind 0 0' "$f" || fail "/etc/fstab has no /etc/ssh bind line"
        expect_eq "/run/cos sentinels (BIOS: no LoaderDevicePartUUID)" "$(report cos)" "live_mode uki_install_mode"

        # Every line usi-init printed reached the kernel log too (none lost
        # to the /dev/kmsg rate limit), and the limit is back for the final OS.
        local con; con=$(sed -n '1,/^USI-REPORT-BEGIN/p' "$W/node.console" | tr -d '\r' | grep -c '^usi-init: ')
        [ "$con" -gt 10 ] && [ "$(report kmsg_usi_lines)" -ge "$con" ] ||
                fail "the kernel log holds $(report kmsg_usi_lines) of usi-init's lines, the console $con"
        expect_eq "kernel.printk_devkmsg in the final OS" "$(report printk_devkmsg)" ratelimit

        judge_state || return 1
        s=$W/node.res/state.json
        for v in oem persistent; do
                expect_eq "state.json $v opened" "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == '$v'][0]['opened']")" true
                expect_eq "state.json $v unlocked by" "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == '$v'][0]['unlocked_by']")" tpm2
        done
        # The timeline (ms since the kernel started), the TPM work and the memory.
        expect_eq "state.json stages in time order" \
                "$(json_get "$s" "all(0 < x['start_ms'] <= x['end_ms'] for x in j['stages']) and sorted(j['stages'], key=lambda x: x['start_ms']) == j['stages']")" true
        expect_eq "state.json TPM: one parent, both unsealed" \
                "$(json_get "$s" "(j['tpm']['commands'] > 0, j['tpm']['primaries_created'], j['tpm']['unsealed'])")" "(True, 1, 2)"
        expect_eq "state.json peak RSS recorded" "$(json_get "$s" "j['peak_rss_kb'] > 0")" true
        echo >&2 "# happy: state.json: $(json_get "$s" "'TPM commands %d, peak RSS %d kB, stages %s' % (j['tpm']['commands'], j['peak_rss_kb'], ' '.join('%s %d-%d' % (x['name'], x['start_ms'], x['end_ms']) for x in j['stages']))")"
}
