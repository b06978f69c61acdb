# A disk without the persistent partition: the boot waits for COS_PERSISTENT
# until its timeout (rd.usi.timeout=5 here), then fails naming it. The
# failure shell (rd.usi.shell) comes only after PCR 11 was extended with
# usi-init-failure-shell: /oem was unsealed, and with PCR 11 still signed a
# root shell could unseal it again.
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
        send 'echo USI-PCR11=$(tr A-F a-f < /sys/class/tpm/tpm0/pcr-sha256/11)'
        wait_console 'USI-PCR11=[0-9a-f]' 20 || { boot_stop; fail "the failure shell did not answer"; return 1; }
        # enter-initrd's value extended with sha256("usi-init-failure-shell").
        local lock; lock=$( (pcr11_expected nopersist enter-initrd; printf '%s' usi-init-failure-shell | sha256sum | cut -c1-64) |
                tr -d '\n' | xxd -r -p | sha256sum | cut -c1-64)
        expect_eq "PCR 11 in the failure shell" \
                "$(grep -a -m1 '^USI-PCR11=' "$W/shell.console" | tr -d '\r' | cut -d= -f2)" "$lock"
        send 'echo USI-UNSEAL=$(/usr/lib/usi-test/unseal-after | grep -c "^unsealed ")'
        wait_console 'USI-UNSEAL=[0-9]' 60 || { boot_stop; fail "the unseal attempt did not finish"; return 1; }
        expect_eq "volumes the failure shell could unseal" "$(grep -a -m1 '^USI-UNSEAL=' "$W/shell.console" | tr -d '\r' | cut -d= -f2)" 0
        send 'poweroff -f'
        wait_console 'reboot: Power down' 15 || fail "the shell did not power off"
        boot_stop
}
