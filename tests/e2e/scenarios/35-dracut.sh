# The happy boot with an initrd built by Debian's dracut and this tree's
# module (tests/dracut/build-image: --add usi-init, not host-only, the
# downloaded kernel), in usi mode: the module makes usi-init /init. dracut
# gets the kit's final OS (busybox, the report, the guest programs) and the
# disk's /.extra by --include of the kit initrd's tree without usi-init, its
# libraries and modules, so those come from the dracut module alone. Judged
# as the happy scenario: both volumes TPM-unsealed, the layout, PCR 11 =
# leave-initrd, no unseal from the final OS, state.json.
describe="dracut-built initrd (--add usi-init, usi mode): the happy scenario's checks"

scenario() {
        command -v dracut >/dev/null 2>&1 || { fail "dracut missing (apt-get install dracut-core)"; return 1; }
        fixture_kernel && fixture_disk e2e || return 1
        local dd s log final v; dd=$(disk_dir e2e)
        node_initrd "$W/kit.img" || return 1
        # The kit's final OS, without what the dracut module must provide.
        final=$W/final
        rm -rf "$final"
        mkdir -p "$final"
        (cd "$final" && cpio -idm --quiet < "$W/kit.img") || { fail "cannot unpack the kit initrd"; return 1; }
        rm -rf "$final/init" "$final/usr/bin/usi-init" "$final/usr/sbin/e2fsck" "$final/usr/lib/modules" \
                "$final/usr/lib/x86_64-linux-gnu" "$final/usr/lib64" \
                "$final/bin" "$final/sbin" "$final/lib" "$final/lib64"
        [ -s "$final/.extra/tpm2-pcr-signature.json" ] || { fail "the kit tree has no /.extra signature"; return 1; }
        "$TOP/tests/dracut/build-image" --out "$USI_OUT" --usi-init "$USI_INIT" --mode usi \
                --output "$W/initrd.img" --include "$final" / \
                -- --omit "systemd systemd-initrd dracut-systemd plymouth" >>"$W/build.log" 2>&1 ||
                { fail "tests/dracut/build-image failed: $(tail -n1 "$W/build.log")"; return 1; }
        [ "$(readlink_init "$W/initrd.img")" = usr/bin/usi-init ] ||
                { fail "/init of the dracut image is '$(readlink_init "$W/initrd.img")', not usr/bin/usi-init"; return 1; }

        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=unseal-after" || return 1

        judge_layout e2e
        grep -qx 'mapper=oem' "$W/node.res/report.txt" || fail "no /dev/mapper/oem: /oem is not on dm-crypt"
        grep -qx 'mapper=persistent' "$W/node.res/report.txt" || fail "no /dev/mapper/persistent"
        expect_eq "PCR 11 in the final OS" "$(report pcr11)" "$(pcr11_expected e2e leave-initrd)"

        log=$W/node.res/run-unseal-after.log
        expect_eq "unseal-after ran" "$(report 'run unseal-after')" 0
        [ "$(grep -c '^refused ' "$log" 2>/dev/null)" = 2 ] ||
                fail "the final OS could unseal again: $(tr '\n' ' ' < "$log" 2>/dev/null)"

        judge_state || return 1
        s=$W/node.res/state.json
        for v in oem persistent; do
                expect_eq "state.json $v opened" "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == '$v'][0]['opened']")" true
                expect_eq "state.json $v unlocked by" "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == '$v'][0]['unlocked_by']")" tpm2
        done
}

# readlink_init IMG: the target of /init in an uncompressed cpio.
readlink_init() {
        local d; d=$(mktemp -d)
        (cd "$d" && cpio -idm --quiet init < "$1" 2>/dev/null)
        readlink "$d/init"
        rm -rf "$d"
}
