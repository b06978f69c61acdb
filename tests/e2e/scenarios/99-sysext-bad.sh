# A good image next to the UKI with three bad ones: signed by a key the
# anchor does not hold, a polyglot (a signed GPT with an unsigned squashfs
# at offset 0, which systemd 252 would mount) and one with a flipped data
# byte under a valid signature. Only the good one is merged; the console
# names each rejection, and none keeps the good one out.
describe="sysext-bad: foreign-signed, polyglot and changed-data images rejected by name, the good one merged"

. "$E2E_DIR/lib-sysext.sh"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd; dd=$(disk_dir e2e)
        sx_image signed good sysext && sx_image signed foreign foreign &&
                sx_image polyglot polyglot sysext && sx_image changed changed sysext || return 1
        sx_initrd "$W/initrd.img" && sx_uki "$W/initrd.img" "$W/node.efi" &&
                sx_esp "$W/esp.img" "$W/node.efi" --sysext "$SX/good.raw" --sysext "$SX/foreign.raw" \
                        --sysext "$SX/polyglot.raw" --sysext "$SX/changed.raw" || return 1
        boot_node_to_final node "$dd" --esp "$W/esp.img" --disk-snapshot "$dd/disk.img" || return 1
        sx_judge_systemd
        expect_eq "the extensions systemd-sysext status lists on /usr" "$(sx_merged /usr)" good
        expect_eq "the good image's program" "$(sx_run "hello good")" "hello from good"
        expect_eq "what reached /run/extensions" "$(sx_run staged)" "good.raw good.roothash good.roothash.p7s good.verity"
        expect_console 'foreign\.raw.*rejected.*signed by /CN=usi-e2e-foreign' "the foreign-signed image's rejection"
        expect_console 'polyglot\.raw.*rejected.*polyglot' "the polyglot's rejection"
        expect_console 'changed\.raw.*rejected.*hash tree' "the changed image's rejection"
        expect_console 'good\.raw.*accepted as good' "the good image accepted"
        for n in foreign polyglot changed; do
                sx_state_ext | grep -q "^$n.raw rejected ." || fail "state.json does not record $n.raw as rejected: $(sx_state_ext | tr '\n' '|')"
        done
}
