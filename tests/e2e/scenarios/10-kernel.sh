# The kit itself, without the boot pipeline: the Debian kernel boots the
# initramfs, loads the modules, sees the software TPM (PCR 11 still at its
# reset value: SeaBIOS does not touch it), the GPT partition names and the
# LUKS2 labels of the disk make-disk built, and usi-init runs in the guest.
describe="Debian kernel + initramfs + swtpm + encrypted disk, probed by a busybox /init"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local d; d=$(disk_dir e2e)
        build_initrd "$W/probe.img" --init "$TOP/initrd/probe-init" --extra "$d/extra" || return 1
        boot_start probe --initrd "$W/probe.img" --tpm-state "$d/tpm" --disk-snapshot "$d/disk.img" \
                --append "console=ttyS0 panic=-1"
        wait_console '^USI-PROBE-END' || fail "no probe report within ${E2E_BOOT_CAP}s"
        boot_wait
        probe() { sed -n '/^USI-PROBE-BEGIN/,/^USI-PROBE-END/p' "$W/probe.console" | tr -d '\r'; }
        probe | grep -qx 'pid=1' || fail "the probe was not PID 1"
        probe | grep -qx 'tpm=2' || fail "no TPM 2.0 in the guest (tpm-tis + swtpm)"
        probe | grep -qx 'tpmrm=present' || fail "no /dev/tpmrm0"
        probe | grep -qx "pcr11=$(printf '%064d' 0)" || fail "PCR 11 is not at its reset value before /init"
        probe | grep -Eq '^block vd[a-z]1 .*partname=oem luks=0002 label=COS_OEM$' ||
                fail "partition oem with a LUKS2 header labelled COS_OEM not seen"
        probe | grep -Eq '^block vd[a-z]2 .*partname=persistent luks=0002 label=COS_PERSISTENT$' ||
                fail "partition persistent with a LUKS2 header labelled COS_PERSISTENT not seen"
        for m in dm_crypt ext4 overlay; do
                probe | grep -qx "module $m=loaded" || fail "module $m did not load"
        done
        probe | grep -qx "extra signature=$(sha256sum < "$d/extra/tpm2-pcr-signature.json" | cut -c1-64)" ||
                fail "/.extra/tpm2-pcr-signature.json missing or not the one built in"
        probe | grep -qx 'usi-init plan=ok' || fail "usi-init plan failed in the guest: $(probe | grep '^usi-init plan=')"
        [ "$BOOT_RC" = 0 ] || fail "QEMU did not exit cleanly after the power-off ($BOOT_RC)"
}
