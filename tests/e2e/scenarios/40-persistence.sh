# Two boots of the encrypted node on the same disk: a file written to
# /etc/ssh (a persistent bind on COS_PERSISTENT) survives, one written to
# /etc/motd (the ephemeral /etc overlay) does not.
describe="encrypted node, two boots: /etc/ssh persists, /etc/motd does not"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd first; dd=$(disk_dir e2e)
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        node_initrd "$W/initrd.img" || return 1

        boot_node_to_final first "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" \
                --append "$E2E_CMDLINE usi.write=/etc/ssh/usi-persist,/etc/motd" || return 1
        first=$(report boot_id)
        expect_eq "write to /etc/ssh" "$(report 'wrote /etc/ssh/usi-persist')" "$first"
        expect_eq "write to /etc/motd" "$(report 'wrote /etc/motd')" "$first"

        boot_node_to_final second "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" \
                --append "$E2E_CMDLINE" || return 1
        judge_layout e2e
        expect_eq "/etc/ssh/usi-persist after the reboot" "$(report 'file /etc/ssh/usi-persist')" "$first"
        expect_eq "/etc/motd after the reboot" "$(report 'file /etc/motd')" "image motd of the development node"
}
