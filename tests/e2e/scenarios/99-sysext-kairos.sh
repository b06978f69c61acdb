# The Kairos layout on the persistent volume: images under
# /var/lib/kairos/extensions/active/ (one a kairos-agent style symlink to
# the image in extensions/) and common/ are merged when systemd-boot starts
# the UKI through the entry active.conf; the one under passive/ is not.
# The volume's tree is made by make-disk (/var/lib/kairos is a persistent
# bind: .state/var-lib-kairos.bind on COS_PERSISTENT).
describe="sysext-kairos: /var/lib/kairos/extensions/active and common merged through active.conf, passive not"

. "$E2E_DIR/lib-sysext.sh"

scenario() {
        fixture_kernel || return 1
        local t=$E2E_OUT/fixtures/sysext-kairos-tree k dd
        k=$t/.state/var-lib-kairos.bind/extensions
        if [ ! -e "$E2E_OUT/fixtures/disk-sysext-kairos" ]; then
                sx_image signed act sysext && sx_image signed pas sysext &&
                        sx_image signed com sysext && sx_image signed lnk sysext || return 1
                rm -rf "$t"
                mkdir -p "$k/active" "$k/passive" "$k/common"
                cp "$SX/act.raw" "$k/active/"
                cp "$SX/pas.raw" "$k/passive/"
                cp "$SX/com.raw" "$k/common/"
                cp "$SX/lnk.raw" "$k/"
                ln -s ../lnk.raw "$k/active/lnk.raw"
                echo "COS_PERSISTENT of disk sysext-kairos, made by initrd/make-disk" > "$t/usi-volume"
        fi
        fixture_disk sysext-kairos --persistent-tree "$t" || return 1
        dd=$(disk_dir sysext-kairos)
        sx_initrd "$W/initrd.img" && sx_uki "$W/initrd.img" "$W/node.efi" &&
                sx_esp "$W/esp.img" "$W/node.efi" || return 1
        boot_node_to_final node "$dd" --esp "$W/esp.img" --disk-snapshot "$dd/disk.img" || return 1
        expect_eq "LoaderEntrySelected" "$(report 'efivar LoaderEntrySelected')" active.conf
        sx_judge_systemd
        expect_eq "state.json stage extensions" "$(sx_stage_result)" ok
        expect_eq "the extensions systemd-sysext status lists on /usr" "$(sx_merged /usr)" "act com lnk"
        for n in act com lnk; do
                expect_eq "the program of extension $n" "$(sx_run "hello $n")" "hello from $n"
        done
        [ -z "$(sx_run "hello pas")" ] || fail "the passive image's program ran in the active state"
        grep -aq 'pas\.raw.*accepted' "$W/node.console" && fail "the passive image was staged in the active state"
        return 0
}
