# leave-initrd is measured right after the last unseal, not at the hand-off:
# in a shell before the overlays stage (the volumes are open and mounted,
# the initrd still runs) PCR 11 already has the leave-initrd value and the
# TPM refuses to unseal either volume again. The boot then goes on.
describe="leave-initrd right after the last unseal: PCR 11 moved and no unseal before the overlays"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" || return 1
        node_boot node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE rd.usi.break=overlays"
        wait_console '^USI-REPORT-BEGIN|boot failed|usi-init: .*[Bb]reak|^/[^ ]* # ?$' 60 ||
                { boot_stop; fail "no break shell announced on the console"; return 1; }
        if grep -Eq '^USI-REPORT-BEGIN|boot failed' "$W/node.console"; then
                boot_stop
                fail "no break shell before the overlays stage: $(failure_banner)"
                return 1
        fi
        send 'echo USI-PCR11=$(tr A-F a-f < /sys/class/tpm/tpm0/pcr-sha256/11)'
        wait_console 'USI-PCR11=[0-9a-f]' 20 || { boot_stop; fail "the break shell did not answer"; return 1; }
        expect_eq "PCR 11 before the overlays stage" \
                "$(grep -a -m1 '^USI-PCR11=' "$W/node.console" | tr -d '\r' | cut -d= -f2)" "$(pcr11_expected e2e leave-initrd)"
        send 'echo USI-UNSEAL=$(/usr/lib/usi-test/unseal-after | grep -c "^refused ")-$(grep -c " /usr/local " /proc/mounts)'
        wait_console 'USI-UNSEAL=[0-9]' 60 || { boot_stop; fail "the unseal attempt did not finish"; return 1; }
        expect_eq "volumes refused to unseal / /usr/local mounted, before the overlays stage" \
                "$(grep -a -m1 '^USI-UNSEAL=' "$W/node.console" | tr -d '\r' | cut -d= -f2)" "2-1"
        send 'exit'
        wait_final || { boot_stop; fail "the boot did not continue after the break shell"; return 1; }
        if grep -q 'boot failed' "$W/node.console"; then
                boot_stop
                fail "the boot failed after the break: $(failure_banner)"
                return 1
        fi
        boot_wait
        have_report || { fail "no report from the final OS"; return 1; }
        judge_layout e2e
        expect_eq "PCR 11 in the final OS (leave-initrd measured once)" "$(report pcr11)" "$(pcr11_expected e2e leave-initrd)"
}
