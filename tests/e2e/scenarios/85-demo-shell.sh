# The demo's final OS (build-initramfs --mode shell): after its report the
# node gives a login shell on the console, as PID 1's child, with the
# volumes mounted; `poweroff -f` ends it.
describe="the demo node's final OS gives a shell on the console after booting unlocked"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" --mode shell || return 1
        node_boot node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" --append "$E2E_CMDLINE"
        wait_console 'the final OS is up|boot failed' || { fail "the demo node did not come up"; return 1; }
        if grep -q 'boot failed' "$W/node.console"; then
                boot_stop
                fail "the boot failed: $(failure_banner)"
                return 1
        fi
        send 'echo USI-DEMO-$((6 * 7)) $(grep -c "^/dev/mapper/" /proc/mounts) $(cat /proc/1/comm)'
        wait_console 'USI-DEMO-42 ' 20 || { fail "no shell answered on the console"; return 1; }
        # /etc/ssh, /root, /home... are binds of the persistent mapping: count >= 2.
        local line; line=$(grep -a 'USI-DEMO-42 ' "$W/node.console" | tr -d '\r' | tail -n1)
        case $line in
        "USI-DEMO-42 "[2-9]*) ;;
        "USI-DEMO-42 "[1-9][0-9]*) ;;
        *) fail "the shell sees fewer than two mounts of the volumes: '$line'" ;;
        esac
        send 'poweroff -f'
        wait_console 'reboot: Power down' 15 || fail "the node did not power off"
        boot_stop
}
