# A power cut while /opt (24 MiB of image content) is seeded on first boot:
# QEMU killed as soon as usi-init says it starts. The state dir also holds
# what the user wrote before, and two torn temporaries an earlier cut left
# under another image (named from inodes this image does not have, so never
# reused). The next boot of the same disk completes: every image file in the
# state dir with the image's bytes, the user's files intact, and no
# ".#usi-init.*" temporary left anywhere.
describe="power cut during first-boot seeding: the next boot completes it, user files intact, no temporaries"
. "$E2E_DIR/lib-fault-data.sh"

scenario() {
        local p=$W/persistent img=$W/image dd s
        mkdir -p "$p/.state/opt.bind/fault-data" "$img"
        echo "COS_PERSISTENT of disk fault-cut, made by initrd/make-disk" > "$p/usi-volume"
        echo "the user's notes" > "$p/.state/opt.bind/user-notes"
        fd_random "$p/.state/opt.bind/fault-data/user-file" 8
        fd_random "$p/.state/opt.bind/.#usi-init.4000000001.0123456789abcdef" 64
        head -c 1000 /dev/zero > "$p/.state/opt.bind/fault-data/.#usi-init.4000000002.fedcba9876543210"
        fd_tree "$img"
        fixture_kernel && fixture_disk e2e && fixture_disk fault-cut --persistent-tree "$p" || return 1
        dd=$(disk_dir fault-cut)
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        { fd_manifest "$img" /opt/fault-data; fd_manifest "$p/.state/opt.bind/fault-data" /opt/fault-data |
                grep -v ' ./.#usi-init\.'; } > "$W/expected"
        echo "sum /opt $(sha256sum < "$p/.state/opt.bind/user-notes" | cut -d' ' -f1) ./user-notes" >> "$W/expected"

        node_initrd "$W/initrd.img" --extra "$dd/extra" --add "$img:/opt/fault-data" || return 1
        fd_cut_during_seed "$dd" /opt || return 1

        boot_node_to_final next "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" \
                --append "$E2E_CMDLINE usi.run=fault-data-check fault.sum=/opt,/opt/fault-data" || return 1
        fd_run_log > "$W/next.check"
        fd_expect_no_tmp "after the power cut" "$W/next.check" || return 1
        fd_expect_sums "/opt/fault-data after the power cut" /opt/fault-data "$W/expected" "$W/next.check"
        grep -q "^$(grep ' ./user-notes$' "$W/expected")\$" "$W/next.check" || fail "the user's notes changed"
        s=$(grep -c '^sum /opt/fault-data ' "$W/next.check")
        echo >&2 "# fault-powercut-seed: $s files in /opt/fault-data after the cut and a boot"
}
