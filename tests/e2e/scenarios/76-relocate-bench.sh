# A benchmark, not a judge of speed: in one boot, usi-init's zero-copy root
# relocation (bind + MS_MOVE, measured by usi-init itself: time and
# MemAvailable around it, on the console) and Kairos' way (the whole
# initramfs tree copied into a tmpfs, measured by the final OS on the same
# tree), printed as "figure" lines. It fails only when a figure is missing.
describe="benchmark: zero-copy root relocation vs copying the initramfs into a tmpfs (prints figures)"

figure() { echo "# $E2E_SCENARIO: figure $*" >&2; echo "$*" >>"$W/figures.txt"; }

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd log k v; dd=$(disk_dir e2e)
        printf 'root:\n  relocate: true\n' >"$W/relocate.yaml"
        node_initrd "$W/initrd.img" --add "$W/relocate.yaml:/etc/usi-init/config.yaml" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=copy-root-bench" || return 1
        log=$W/node.res/run-copy-root-bench.log
        [ -s "$log" ] || { fail "no benchmark output from the final OS"; return 1; }
        figure "initrd image file: $(du -k "$W/initrd.img" | cut -f1) kB"
        for k in rootfs_kb rootfs_files copy_ms copy_shmem_kb copy_memavailable_drop_kb; do
                v=$(sed -n "s/^$k=//p" "$log")
                [ -n "$v" ] || fail "benchmark figure $k missing: $(tr '\n' ' ' < "$log")"
                figure "copy into tmpfs: $k=$v"
        done
        # usi-init's own line, from the serial console (the kernel log
        # rate-limits a userspace writer, so dmesg may have dropped it).
        v=$(grep -a -m1 'usi-init: relocate: ' "$W/node.console" | tr -d '\r' | sed 's/.*usi-init: relocate: //')
        case $v in
        *"nothing copied"*" us, MemAvailable "*) figure "zero copy: $v" ;;
        *) fail "no relocation line of usi-init in the kernel log: '$v'" ;;
        esac
        grep -q '^copy=' "$log" && fail "the copy itself failed: $(grep '^copy=' "$log")"
        return 0
}
