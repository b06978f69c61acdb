# The Kairos anchor: under Secure Boot with Debian's snakeoil OVMF
# variables (OVMF_VARS_4M.snakeoil.fd), usi-init configured to trust only
# the X.509 entries of the EFI PK/KEK/db variables (no certificate of the
# initrd) accepts an image signed with the snakeoil db key, and the final
# OS merges it; an image signed by the key the other scenarios trust is
# rejected. systemd-boot and the UKI are signed with the snakeoil key.
describe="sysext-db: under Secure Boot, trusting only EFI db, a db-signed image merged and another rejected"

. "$E2E_DIR/lib-sysext.sh"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd; dd=$(disk_dir e2e)
        sx_image signed dbext snakeoil && sx_image signed own sysext || return 1
        printf 'extensions:\n  certificates: []\n  efi_keys: true\n' > "$W/db.yaml"
        node_initrd "$W/initrd.img" --no-extra --compress zstd --final systemd \
                --add "$W/db.yaml:/etc/usi-init/config.yaml" || return 1
        SX_CMDLINE="$E2E_CMDLINE usi.run=sysext"
        sx_uki "$W/initrd.img" "$W/node.efi" --secure-boot &&
                sx_esp "$W/esp.img" "$W/node.efi" --secure-boot --sysext "$SX/dbext.raw" --sysext "$SX/own.raw" || return 1
        boot_node_to_final node "$dd" --esp "$W/esp.img" --secure-boot --disk-snapshot "$dd/disk.img" || return 1
        expect_eq "Secure Boot state seen by the final OS" "$(report secureboot)" 1
        sx_judge_systemd
        expect_eq "the extensions systemd-sysext status lists on /usr" "$(sx_merged /usr)" dbext
        expect_eq "the db-signed image's program" "$(sx_run "hello dbext")" "hello from dbext"
        expect_console 'dbext\.raw.*accepted as dbext' "the db-signed image accepted"
        expect_console 'own\.raw.*rejected.*signed by /CN=usi-e2e-sysext' "the image signed by a key outside db rejected"
}
