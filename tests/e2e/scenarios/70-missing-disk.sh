# A disk without the persistent partition: the boot waits for COS_PERSISTENT
# until its timeout (rd.usi.timeout=5 here), then fails naming it.
describe="no persistent partition: fails after its timeout, naming COS_PERSISTENT"

scenario() {
        fixture_kernel && fixture_disk e2e && fixture_disk nopersist --without persistent || return 1
        local dd; dd=$(disk_dir nopersist)
        node_initrd "$W/initrd.img" --extra "$dd/extra" || return 1
        node_boot node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE rd.usi.timeout=5"
        wait_failure || return 1
        case $(failure_banner) in
        *"boot failed in stage devices, device none found for volume persistent (LUKS label COS_PERSISTENT"*) ;;
        *) fail "the banner does not name the stage and COS_PERSISTENT: $(failure_banner)" ;;
        esac
        expect_halted
        boot_stop

        # The same failure with a shell, to read /run/usi-init/failure.log.
        node_boot shell "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE rd.usi.timeout=5 rd.usi.shell"
        wait_failure || { boot_stop; return 1; }
        failure_log_in_shell || { boot_stop; return 1; }
        expect_eq "failure.log stage" "$FLOG_STAGE" devices
        case $FLOG_DEVICE in
        "none found for volume persistent (LUKS label COS_PERSISTENT"*) ;;
        *) fail "failure.log device does not name COS_PERSISTENT: $FLOG_DEVICE" ;;
        esac
        case $FLOG_REASON in *COS_PERSISTENT*) ;; *) fail "failure.log reason does not name COS_PERSISTENT: $FLOG_REASON" ;; esac
        send 'poweroff -f'
        wait_console 'reboot: Power down' 15 || fail "the shell did not power off"
        boot_stop
}
