# The persistent volume fills up while /etc/ssh is seeded: the image's
# /etc/ssh holds 16 MiB, the 12 MiB ext4 of COS_PERSISTENT has about 9 free.
# The boot fails naming the path, its state dir and ENOSPC; the temporaries
# are removed (their space given back) and the data already on the volume is
# untouched, as a later good boot reads it.
describe="persistent volume full during seeding: banner names /etc/ssh, its state dir, ENOSPC; no temporaries, data unchanged"
. "$E2E_DIR/lib-fault-data.sh"

scenario() {
        local dd t free_host free_guest banner
        t=$W/persistent
        mkdir -p "$t/precious" "$t/.state/etc-ssh.bind"
        echo "COS_PERSISTENT of disk fault-full, made by initrd/make-disk" > "$t/usi-volume"
        fd_random "$t/precious/blob" 512
        echo "a note of the user's" > "$t/precious/note"
        echo "the user's key" > "$t/.state/etc-ssh.bind/user-key"
        fixture_kernel && fixture_disk e2e && fixture_disk fault-full --persistent-tree "$t" --persistent-size 16 || return 1
        dd=$(disk_dir fault-full)
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        fd_manifest "$t/precious" /usr/local/precious > "$W/expected"
        fd_manifest "$t/.state/etc-ssh.bind" /etc/ssh >> "$W/expected"
        echo "sum /etc/ssh $(echo '# image default' | sha256sum | cut -d' ' -f1) ./sshd_config" >> "$W/expected"
        # The free space make-disk's file system starts with: the same mkfs on the same tree.
        truncate -s 12M "$W/fs.img"
        mkfs.ext4 -q -F -L COS_PERSISTENT -d "$t" "$W/fs.img"
        free_host=$(dumpe2fs -h "$W/fs.img" 2>/dev/null | awk -F: '/^Free blocks/ { f = $2 } /^Block size/ { b = $2 } END { print f * b / 1024 }')
        rm -f "$W/fs.img"

        head -c 16M /dev/zero > "$W/big"
        node_initrd "$W/full.img" --extra "$dd/extra" --add "$W/big:/etc/ssh/zz-big" || return 1
        node_boot full "$dd" --initrd "$W/full.img" --disk "$W/disk.img" --append "$E2E_CMDLINE"
        wait_failure || { boot_stop; return 1; }
        fd_banner_has "seeding a full volume" "boot failed in stage binds" "persistent path /etc/ssh" \
                "/usr/local/.state/etc-ssh.bind" "No space left on device"
        banner=$(failure_banner)
        expect_halted
        boot_stop

        # A good boot of the plain image reads the volume.
        node_initrd "$W/good.img" --extra "$dd/extra" || return 1
        boot_node_to_final good "$dd" --initrd "$W/good.img" --disk "$W/disk.img" \
                --append "$E2E_CMDLINE usi.run=fault-data-check fault.sum=/usr/local/precious,/etc/ssh" || return 1
        fd_run_log > "$W/good.check"
        fd_expect_no_tmp "after the full seed" "$W/good.check" || return 1
        fd_expect_sums "the data on the volume" /usr/local/precious "$W/expected" "$W/good.check"
        fd_expect_sums "/etc/ssh seeded by the good boot" /etc/ssh "$W/expected" "$W/good.check"
        # The 16 MiB could not fit: a temporary left would hold the rest of
        # the free space. What the good boot made (state dirs, sshd_config)
        # takes a few dozen KiB.
        free_guest=$(sed -n 's/^free //p' "$W/good.check")
        [ -n "$free_guest" ] && [ "$free_guest" -ge $((free_host - 1024)) ] ||
                fail "space not given back: ${free_guest:-?} KiB free after the failed seed, ${free_host} KiB at first"
        echo >&2 "# fault-seed-full: free KiB made $free_host, after ${free_guest:-?}; banner: $banner"
}
