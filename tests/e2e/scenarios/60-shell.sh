# The tampered boot again, with rd.usi.shell on the command line: after the
# banner the console gives a root shell instead of halting.
describe="the tampered failure with rd.usi.shell gives a shell"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd; dd=$(disk_dir e2e)
        tampered_extra "$W/extra" || return 1
        node_initrd "$W/initrd.img" --extra "$W/extra" || return 1
        node_boot node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE rd.usi.shell"
        wait_failure || return 1
        case $(failure_banner) in
        *"PCR 11"*) ;;
        *) fail "not the PCR 11 failure: $(failure_banner)" ;;
        esac
        # Typed before the shell reads are kept by the console's line buffer.
        send 'echo USI-SHELL-$((6 * 7)) pid=$$'
        wait_console 'USI-SHELL-42 pid=1' 20 || fail "no shell answered on the console"
        # The banner, on the console and in /run/usi-init/failure.log.
        failure_log_in_shell || { boot_stop; return 1; }
        expect_eq "failure.log stage" "$FLOG_STAGE" unlock
        expect_eq "failure.log device" "$FLOG_DEVICE" "/dev/vda1 (volume oem, label COS_OEM)"
        case $FLOG_REASON in *"PCR 11"*) ;; *) fail "failure.log reason does not name PCR 11: $FLOG_REASON" ;; esac
        expect_eq "failure.log banner = the console banner" "$FLOG_BANNER" "$(failure_banner | sed 's/^usi-init: \(error: \)\{0,1\}//')"
        send 'poweroff -f'
        wait_console 'reboot: Power down' 15 || fail "the shell did not power off"
        boot_stop
}
