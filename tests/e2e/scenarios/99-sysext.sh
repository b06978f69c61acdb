# Signed system extension images next to the UKI on the ESP
# (node.efi.extra.d/, which systemd-stub 252 hands to the initrd as
# /.extra/sysext), the anchor a certificate built into the initrd at
# /usr/lib/verity.d: usi-init checks and stages them, and the final OS,
# running systemd 252 as PID 1, merges them with systemd-sysext.service.
# `systemd-sysext status` lists them and a program from each one runs.
# The boot is shared with sysext-bench.
describe="sysext: signed images next to the UKI merged by systemd 252 as PID 1 (anchor in the initrd)"

. "$E2E_DIR/lib-sysext.sh"

scenario() {
        local n
        sx_five_boot || return 1
        sx_judge_systemd
        expect_eq "state.json stage extensions" "$(sx_stage_result)" ok
        expect_eq "the extensions systemd-sysext status lists on /usr" "$(sx_merged /usr)" "five four one three two"
        expect_eq "/usr in the final OS" "$(sx_run usr)" overlay
        for n in $SX_FIVE; do
                expect_eq "the program of extension $n" "$(sx_run "hello $n")" "hello from $n"
                expect_console "/\.extra/sysext/$n\.raw.*accepted as $n" "$n.raw accepted"
                sx_state_ext | grep -qx "$n.raw accepted $n" || fail "state.json does not record $n.raw as accepted: $(sx_state_ext | tr '\n' '|')"
        done
        [ -n "$(sx_run anchors)" ] || fail "no anchor certificate in /run/verity.d"
}
