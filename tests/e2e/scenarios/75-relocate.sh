# root.relocate: true in the image's /etc/usi-init/config.yaml (root.* is a
# trust setting: /oem may not set it, trust-chain rule 5): the final OS's
# root is a mount of its own, made without copying, so pivot_root works from
# it as a container runtime needs; without it, pivot_root from the initramfs
# rootfs fails.
describe="root.relocate from the image's config: pivot_root works from the final OS (zero copy)"

scenario() {
        fixture_kernel || return 1
        mkdir -p "$W/oem"
        printf 'root:\n  relocate: true\n' > "$W/image.yaml"
        echo "COS_OEM of disk reloc, made by initrd/make-disk" > "$W/oem/usi-volume"
        fixture_disk reloc --oem-tree "$W/oem" || return 1
        local dd s; dd=$(disk_dir reloc)
        node_initrd "$W/initrd.img" --extra "$dd/extra" --add "$W/image.yaml:/etc/usi-init/config.yaml" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=pivot-root" || return 1
        judge_layout reloc
        s=$W/node.res/state.json
        expect_eq "the plan asks for relocation" "$(json_get "$s" 'j["plan"]["root"]["relocate"]')" true
        expect_eq "  as the image's config says" "$(json_get "$s" 'j["plan"]["trust_origins"]["root.relocate"]')" \
                /etc/usi-init/config.yaml:2:13
        grep -qx 'pivot_root=ok' "$W/node.res/run-pivot-root.log" 2>/dev/null ||
                fail "pivot_root from the final OS failed: $(tr '\n' ' ' < "$W/node.res/run-pivot-root.log" 2>/dev/null)"
        # The same inodes, not a copy: the root is not a second tmpfs.
        case $(report root_fstype) in
        tmpfs) fail "the root is a tmpfs: the OS was copied" ;;
        esac
}
