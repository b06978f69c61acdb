# Fault matrix: the final OS's init is missing. usi-init execs the first of
# its init candidates (init=, the config's init:, then /sbin/init and
# /usr/lib/systemd/systemd, src/plan/plan.c) that exists and is executable.
# Boot 1: no /sbin/init, the final init at /usr/lib/systemd/systemd: the
# boot says it exec'd that one, and it runs as PID 1. Boot 2: /sbin/init is
# there but cannot be executed (its interpreter is missing) and there is no
# other: the failed exec is named, then the banner "none of the init
# candidates...", and the node halts with no shell.
describe="no /sbin/init: the next candidate is exec'd and named; none that runs: a banner, halt, no shell"

. "$E2E_DIR/lib-fault-dev.sh"

fault_init_second() {
        rm usr/sbin/init
        mkdir -p usr/lib/systemd
        cp "$TOP/initrd/final-init" usr/lib/systemd/systemd
        chmod 0755 usr/lib/systemd/systemd
}
fault_init_broken() {
        rm usr/sbin/init
        printf '#!/nonexistent/sh\necho USI-BROKEN-INIT-RAN\n' > usr/sbin/init
        chmod 0755 usr/sbin/init
        [ ! -e usr/lib/systemd/systemd ]
}

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" || return 1
        fault_repack "$W/initrd.img" "$W/second.img" fault_init_second || return 1
        fault_repack "$W/initrd.img" "$W/broken.img" fault_init_broken || return 1

        boot_node_to_final second "$dd" --initrd "$W/second.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=fault-dev-pid1" || return 1
        expect_console '^usi-init: handoff: exec /usr/lib/systemd/systemd' "that /usr/lib/systemd/systemd was exec'd"
        ! grep -aq 'handoff: exec /sbin/init' "$W/second.console" || fail "second: an exec of the missing /sbin/init was reported"
        expect_eq "final init PID" "$(report pid)" 1
        expect_eq "PID 1 of the final OS" "$(sed -n 's/^pid1 cmdline: //p' "$W/second.res/run-fault-dev-pid1.log" 2>/dev/null)" \
                "/bin/sh /usr/lib/systemd/systemd"
        judge_layout e2e

        node_boot broken "$dd" --initrd "$W/broken.img" --disk-snapshot "$dd/disk.img" --append "$E2E_CMDLINE"
        wait_failure 120 || { boot_stop; return 1; }
        fault_expect_banner "==== boot failed in stage handoff, device none: handoff: none of the init candidates exists or can be executed ===="
        expect_console '^usi-init: warning: handoff: exec /sbin/init failed: No such file or directory' \
                "the failed exec of /sbin/init"
        ! grep -aq 'USI-BROKEN-INIT-RAN' "$W/broken.console" || fail "broken: the broken /sbin/init ran"
        fault_no_shell
        boot_stop
}
