# System extensions that would fill /run, where they are staged: a genuine
# signed image whose GPT was edited to claim an 8 GiB data partition (the
# file on the persistent volume is sparse; the verity partitions moved past
# the claim), and one whose data partition runs on into its verity partition.
# Sizes come from what is verified (the verity superblock), never from the
# GPT: both are refused by name before anything is copied, the good image
# beside them is merged, and /run keeps its room.
describe="sysexts claiming 8 GiB or overlapping their verity: refused by name before any copy, /run not filled, the good one merged"

. "$E2E_DIR/lib-sysext.sh"

scenario() {
        fixture_kernel || return 1
        local t=$E2E_OUT/fixtures/sysext-run-tree k dd used
        k=$t/.state/var-lib-kairos.bind/extensions
        if [ ! -e "$E2E_OUT/fixtures/disk-sysext-run" ]; then
                sx_image signed fine sysext && sx_image signed huge sysext && sx_image signed lap sysext || return 1
                rm -rf "$t"
                mkdir -p "$k/active"
                cp "$SX/fine.raw" "$SX/huge.raw" "$SX/lap.raw" "$k/active/"
                python3 "$TOP/tests/sysext/edit-gpt.py" "$k/active/huge.raw" grow $((8 * 1024 * 1024 * 1024)) &&
                        python3 "$TOP/tests/sysext/edit-gpt.py" "$k/active/lap.raw" overlap ||
                        { fail "tests/sysext/edit-gpt.py failed"; return 1; }
                echo "COS_PERSISTENT of disk sysext-run, made by initrd/make-disk" > "$t/usi-volume"
        fi
        fixture_disk sysext-run --persistent-tree "$t" || return 1
        dd=$(disk_dir sysext-run)
        sx_initrd "$W/initrd.img" && sx_uki "$W/initrd.img" "$W/node.efi" && sx_esp "$W/esp.img" "$W/node.efi" || return 1
        boot_node_to_final node "$dd" --esp "$W/esp.img" --disk-snapshot "$dd/disk.img" || return 1
        sx_judge_systemd
        expect_console 'huge\.raw.*rejected.*data partition 1 claims 8589934592 bytes, the verity superblock covers [0-9]+' \
                "huge.raw's rejection naming the claimed and the verified size"
        expect_console 'lap\.raw.*rejected.*data partition 1 overlaps verity partition 2' "lap.raw's rejection naming the overlap"
        expect_console 'fine\.raw.*accepted as fine' "the good image accepted"
        expect_eq "the extensions systemd-sysext status lists on /usr" "$(sx_merged /usr)" fine
        expect_eq "what reached /run/extensions" "$(sx_run staged)" "fine.raw fine.roothash fine.roothash.p7s fine.verity"
        for n in huge lap; do
                sx_state_ext | grep -q "^$n.raw rejected ." ||
                        fail "state.json does not record $n.raw as rejected: $(sx_state_ext | tr '\n' '|')"
        done
        # /run holds the initramfs's relocated files and one small image;
        # an 8 GiB copy would have filled it (half of the 512 MiB guest).
        used=$(sx_run run_used_kb)
        [ -n "$used" ] && [ "$used" -lt $((64 * 1024)) ] || fail "/run in the final OS uses '${used:-?}' KiB, expected under 64 MiB"
}
