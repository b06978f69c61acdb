# A corrupt ext4 on COS_PERSISTENT, with fsck as configured (fsck.mode auto,
# fsck.repair preen: e2fsck -p before the mount). The final OS unmounts the
# volume and damages it with debugfs (tests/e2e/guest/fault-data-corrupt,
# which keeps the metadata checksums right), then the next boot checks it:
#   1. the error flag and a wrong free-blocks count: e2fsck -p repairs them
#      (exit 1), the boot goes on and says so, the data reads as before;
#   2. the root directory's inode cleared: e2fsck -p will not (exit 4), the
#      boot fails naming the device and e2fsck's exit status.
describe="corrupt ext4 on COS_PERSISTENT: repaired by e2fsck -p and booted, or refused naming the device and exit 4"
. "$E2E_DIR/lib-fault-data.sh"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd debugfs log; dd=$(disk_dir e2e)
        debugfs=$(command -v debugfs) || { fail "no debugfs on the host (e2fsprogs)"; return 1; }
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        node_initrd "$W/initrd.img" --bin "$debugfs" || return 1

        boot_node_to_final damage "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" \
                --append "$E2E_CMDLINE usi.write=/etc/ssh/usi-persist usi.run=fault-data-corrupt fault.corrupt=repairable" || return 1
        expect_eq "the repairable corruption" "$(tr -d '\r' < "$W/damage.res/run-fault-data-corrupt.log" | tail -n1)" \
                "corrupted /dev/mapper/persistent: repairable" || return 1
        local written; written=$(report 'wrote /etc/ssh/usi-persist')

        boot_node_to_final repair "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" \
                --append "$E2E_CMDLINE usi.run=fault-data-corrupt fault.corrupt=unrepairable" || return 1
        expect_console 'COS_PERSISTENT contains a file system with errors, check forced' "e2fsck's check of the flagged file system"
        expect_console '^usi-init: warning: volume persistent: /usr/sbin/e2fsck -p /dev/mapper/persistent exited 1: errors on /dev/mapper/persistent were corrected' \
                "usi-init saying e2fsck repaired /dev/mapper/persistent (exit 1)"
        case $(mount_of /usr/local) in ext4\ *) ;; *) fail "/usr/local is not the repaired ext4: '$(mount_of /usr/local)'" ;; esac
        case $(mount_of /etc/ssh) in ext4\ *) ;; *) fail "/etc/ssh is not bound from the repaired volume: '$(mount_of /etc/ssh)'" ;; esac
        # Read by the guest program before it took the volume down again.
        log=$(tr -d '\r' < "$W/repair.res/run-fault-data-corrupt.log")
        grep -qxF "file /usr/local/usi-volume=COS_PERSISTENT of disk e2e, made by initrd/make-disk" <<<"$log" ||
                fail "/usr/local/usi-volume after the repair: $(grep usi-volume <<<"$log")"
        grep -qxF "file /etc/ssh/usi-persist=$written" <<<"$log" ||
                fail "/etc/ssh/usi-persist after the repair is not the first boot's '$written': $(grep usi-persist <<<"$log")"
        expect_eq "the unrepairable corruption" "$(tail -n1 <<<"$log")" "corrupted /dev/mapper/persistent: unrepairable" || return 1

        node_boot broken "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" --append "$E2E_CMDLINE"
        wait_failure || { boot_stop; return 1; }
        fd_banner_has "an unrepairable corruption" "boot failed in stage mounts" \
                "volume persistent: /usr/sbin/e2fsck found errors on /dev/mapper/persistent it did not repair (exit 4); not mounting it"
        echo >&2 "# fault-ext4-corrupt: $(failure_banner)"
        expect_halted
        boot_stop
}
