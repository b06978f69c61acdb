# The genuine, bound COS_OEM, and a COS_PERSISTENT an attacker sealed to the
# genuine signing key's PolicyAuthorize without PCR 15. Under
# tpm.bind_volumes: require (the image's config) it is refused before its
# unseal, naming the binding, with no shell; under warn (the default) it
# opens, and the boot warns and records the set as unbound.
describe="a planted COS_PERSISTENT sealed to the genuine key: refused under require, warned and recorded under warn"

scenario() {
        fixture_kernel && fixture_disk_planted planted-persistent || return 1
        local dd banner s; dd=$(disk_dir bound)
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        splice_partition planted-persistent persistent "$W/disk.img" || return 1

        printf 'tpm:\n  bind_volumes: require\n' > "$W/require.yaml"
        node_initrd "$W/require.img" --extra "$dd/extra" --add "$W/require.yaml:/etc/usi-init/config.yaml" || return 1
        node_boot require "$dd" --initrd "$W/require.img" --disk "$W/disk.img" --append "$E2E_CMDLINE rd.usi.shell"
        wait_failure || { boot_stop; return 1; }
        banner=$(failure_banner)
        case $banner in
        *"volume persistent: /dev/vda2: not bound to the volumes opened before it"*"tpm.bind_volumes: require"*) ;;
        *) fail "require: the banner does not name the binding: $banner" ;;
        esac
        expect_refusal_halt
        ! grep -aq 'volume persistent: /dev/vda2 opened' "$W/require.console" || fail "require: the planted volume was opened"
        boot_stop

        node_initrd "$W/warn.img" --extra "$dd/extra" || return 1
        boot_node_to_final warn "$dd" --initrd "$W/warn.img" --disk "$W/disk.img" --append "$E2E_CMDLINE" || return 1
        expect_console 'volumes not bound to one another: persistent' "warn: the warning naming persistent"
        s=$W/warn.res/state.json
        expect_eq "warn: state.json volumes bound" "$(json_get "$s" 'j["volumes_bound"]')" no
        expect_eq "warn: state.json persistent bound" \
                "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == 'persistent'][0]['bound']")" no
}
