# rd.usi.break=mounts: a shell before the mounts stage (nothing of the disk
# mounted yet); when it exits the boot goes on to the final OS.
describe="rd.usi.break=mounts gives a shell before the mounts, and the boot continues after it"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" || return 1
        node_boot node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE rd.usi.break=mounts"
        # The break announces itself in usi-init's log, or shows a shell prompt.
        wait_console '^USI-REPORT-BEGIN|boot failed|usi-init: .*[Bb]reak|^/[^ ]* # ?$' 40 ||
                { fail "no break shell announced on the console"; return 1; }
        if grep -q '^USI-REPORT-BEGIN' "$W/node.console"; then
                boot_stop
                fail "the boot did not stop before the mounts stage (rd.usi.break=mounts ignored)"
                return 1
        fi
        if grep -q 'boot failed' "$W/node.console"; then
                boot_stop
                fail "the boot failed before the break: $(failure_banner)"
                return 1
        fi
        send 'echo USI-BREAK-$((6 * 7)) mounted=$(grep -c " /oem \| /usr/local " /proc/mounts)'
        wait_console 'USI-BREAK-42 mounted=' 20 || { fail "the break shell did not answer"; return 1; }
        grep -q 'USI-BREAK-42 mounted=0' "$W/node.console" || fail "volumes were mounted before the mounts stage"
        send 'exit'
        wait_final || { fail "the boot did not continue after the break shell"; return 1; }
        if grep -q 'boot failed' "$W/node.console"; then
                boot_stop
                fail "the boot failed after the break: $(failure_banner)"
                return 1
        fi
        boot_wait
        have_report || { fail "no report from the final OS"; return 1; }
        judge_layout e2e
}
