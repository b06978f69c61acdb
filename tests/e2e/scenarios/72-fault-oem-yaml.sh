# /oem/usi-init.yaml is not YAML (an unclosed flow sequence). The design
# (docs/ARCHITECTURE.md: every problem is reported as FILE:LINE:COLUMN, and
# nothing of a configuration with problems is used) makes it a failure of the
# plan once /oem is read: the banner names the file and the line, the node
# halts (no shell: none was asked for), and the final OS never runs.
describe="invalid YAML in /oem/usi-init.yaml: the boot fails naming the file and line, and halts"
. "$E2E_DIR/lib-fault-data.sh"

scenario() {
        local t=$W/oem dd
        mkdir -p "$t"
        echo "COS_OEM of disk fault-oem, made by initrd/make-disk" > "$t/usi-volume"
        printf '%s\n' '# written by the node' 'overlay:' '  paths: [/etc, /srv' 'binds:' '  seed: newer' > "$t/usi-init.yaml"
        fixture_kernel && fixture_disk fault-oem --oem-tree "$t" --persistent-size 16 || return 1
        dd=$(disk_dir fault-oem)
        node_initrd "$W/initrd.img" --extra "$dd/extra" || return 1
        node_boot node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" --append "$E2E_CMDLINE"
        wait_failure || { boot_stop; return 1; }
        fd_banner_has "invalid /oem/usi-init.yaml" "the configuration on /oem is not valid: /oem/usi-init.yaml:4:"
        expect_halted
        boot_stop
        echo >&2 "# fault-oem-yaml: $(failure_banner)"
}
