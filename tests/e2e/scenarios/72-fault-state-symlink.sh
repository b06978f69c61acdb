# The state dir on the persistent volume replaced by a symlink: first the
# whole /usr/local/.state (to /oem), then, with binds.state_dir set to
# /usr/local/.state2 by the image, only /etc/ssh's state dir in it (to a
# directory of /oem). Each boot is refused in the binds stage with a banner
# naming the persistent path and the symlink; in the failure shell /oem
# reads exactly as it was made: nothing was written through the link.
describe="state dir (all of it, or one path's) a symlink to /oem: refused naming it, nothing written through it"
. "$E2E_DIR/lib-fault-data.sh"

scenario() {
        local o=$W/oem p=$W/persistent dd
        mkdir -p "$o/ssh-target" "$p/.state2"
        echo "COS_OEM of disk fault-link, made by initrd/make-disk" > "$o/usi-volume"
        echo "kept" > "$o/ssh-target/kept"
        fd_random "$o/oem-data" 64
        echo "COS_PERSISTENT of disk fault-link, made by initrd/make-disk" > "$p/usi-volume"
        ln -s /oem "$p/.state"
        ln -s /oem/ssh-target "$p/.state2/etc-ssh.bind"
        fixture_kernel && fixture_disk fault-link --oem-tree "$o" --persistent-tree "$p" --persistent-size 16 || return 1
        dd=$(disk_dir fault-link)
        fd_manifest "$o" /oem > "$W/expected"

        node_initrd "$W/initrd.img" --extra "$dd/extra" || return 1
        node_boot whole "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" --append "$E2E_CMDLINE rd.usi.shell"
        wait_failure || { boot_stop; return 1; }
        fd_banner_has "the state dir a symlink" "boot failed in stage binds" "persistent path /" "/usr/local/.state" "symlink"
        echo >&2 "# fault-state-symlink: $(failure_banner)"
        fd_shell_check oem /oem || { boot_stop; return 1; }
        fd_expect_sums "/oem after the refusal of /usr/local/.state" /oem "$W/expected" "$W/whole.oem"
        send 'poweroff -f'
        wait_console 'reboot: Power down' 15
        boot_stop

        printf 'binds:\n  state_dir: /usr/local/.state2\n' > "$W/state2.yaml"
        node_initrd "$W/state2.img" --extra "$dd/extra" --add "$W/state2.yaml:/etc/usi-init/config.yaml" || return 1
        node_boot one "$dd" --initrd "$W/state2.img" --disk-snapshot "$dd/disk.img" --append "$E2E_CMDLINE rd.usi.shell"
        wait_failure || { boot_stop; return 1; }
        fd_banner_has "one state dir a symlink" "boot failed in stage binds" "persistent path /etc/ssh" \
                "/usr/local/.state2/etc-ssh.bind" "symlink"
        echo >&2 "# fault-state-symlink: $(failure_banner)"
        fd_shell_check oem /oem || { boot_stop; return 1; }
        fd_expect_sums "/oem after the refusal of /usr/local/.state2/etc-ssh.bind" /oem "$W/expected" "$W/one.oem"
        send 'poweroff -f'
        wait_console 'reboot: Power down' 15
        boot_stop
}
