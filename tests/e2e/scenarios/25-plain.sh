# The pipeline without encryption, twice on the same disk: a node whose
# volumes are plain ext4 boots to its final OS as PID 1 with /oem,
# /usr/local, the /etc overlay and the binds; a file written to /etc/ssh
# survives the reboot and one written to /etc/motd does not. It is not a UKI
# boot (no rd.immucore.uki, no /.extra, no systemd-stub): outside USI mode a
# default volume may be plain.
describe="unencrypted node, two boots: layout, state.json, /etc/ssh persists, /etc/motd does not"

scenario() {
        fixture_kernel && fixture_disk plain --plain || return 1
        local dd first; dd=$(disk_dir plain)
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        node_initrd "$W/initrd.img" --no-extra || return 1

        boot_node_to_final first "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" \
                --append "$E2E_CMDLINE_PLAIN usi.write=/etc/ssh/usi-persist,/etc/motd" || return 1
        judge_layout plain
        judge_state
        expect_eq "state.json: USI mode" "$(json_get "$W/first.res/state.json" 'j["plan"]["usi_mode"]')" false
        first=$(report boot_id)
        expect_eq "write to /etc/ssh" "$(report 'wrote /etc/ssh/usi-persist')" "$first"
        expect_eq "write to /etc/motd" "$(report 'wrote /etc/motd')" "$first"

        boot_node_to_final second "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" \
                --append "$E2E_CMDLINE_PLAIN" || return 1
        judge_layout plain
        expect_eq "/etc/ssh/usi-persist after the reboot" "$(report 'file /etc/ssh/usi-persist')" "$first"
        expect_eq "/etc/motd after the reboot" "$(report 'file /etc/motd')" "image motd of the development node"
}
