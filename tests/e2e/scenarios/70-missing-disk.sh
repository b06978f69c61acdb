# A disk without the persistent partition: the boot waits for COS_PERSISTENT
# until its timeout (rd.usi.timeout=5 here), then fails naming it.
describe="no persistent partition: fails after its timeout, naming COS_PERSISTENT"

scenario() {
        fixture_kernel && fixture_disk e2e && fixture_disk nopersist --without persistent || return 1
        local dd; dd=$(disk_dir nopersist)
        node_initrd "$W/initrd.img" --extra "$dd/extra" || return 1
        node_boot node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE rd.usi.timeout=5"
        wait_failure || return 1
        case $(failure_banner) in
        *COS_PERSISTENT*) ;;
        *) fail "the banner does not name COS_PERSISTENT: $(failure_banner)" ;;
        esac
        expect_halted
        boot_stop
}
