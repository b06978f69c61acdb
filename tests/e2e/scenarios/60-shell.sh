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
        send 'poweroff -f'
        wait_console 'reboot: Power down' 15 || fail "the shell did not power off"
        boot_stop
}
