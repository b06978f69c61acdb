# usi-init's unlock and measure commands inside a real boot, driven by a
# busybox /init: PCR 11 goes from its reset value through enter-initrd, both
# volumes unseal through the signed PCR 11 policy and open with dm-crypt to
# the ext4 made by make-disk, and after leave-initrd the TPM refuses. The
# disk is unbound (make-disk --unbound): the command does not measure the
# keys into PCR 15, which a bound persistent volume waits for.
describe="usi-init measure + unlock on the VM's TPM and dm-crypt (no pipeline)"

scenario() {
        fixture_kernel && fixture_disk cli --unbound || return 1
        local d; d=$(disk_dir cli)
        build_initrd "$W/probe.img" --init "$TOP/initrd/probe-init" --extra "$d/extra" \
                --add "$TOP/tests/e2e/guest/unlock-cli:/usr/lib/usi-probe.d/unlock-cli" || return 1
        boot_start probe --initrd "$W/probe.img" --tpm-state "$d/tpm" --disk-snapshot "$d/disk.img" \
                --append "console=ttyS0 panic=-1"
        wait_console '^USI-PROBE-END' || fail "no probe report within ${E2E_BOOT_CAP}s"
        boot_wait
        kv() { sed -n '/^USI-PROBE-BEGIN/,/^USI-PROBE-END/p' "$W/probe.console" | tr -d '\r' |
                awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }'; }
        expect_eq "PCR 11 at /init" "$(kv pcr11.start)" "$(printf '%064d' 0)"
        expect_eq "measure enter-initrd" "$(kv measure.enter)" ok
        expect_eq "PCR 11 after enter-initrd" "$(kv pcr11.enter)" "$(pcr11_expected cli enter-initrd)"
        expect_eq "unlock --check of both volumes" "$(kv check)" ok
        expect_eq "dm-crypt open of oem" "$(kv open.oem)" ok
        expect_eq "dm-crypt open of persistent" "$(kv open.persistent)" ok
        expect_eq "ext4 in oem" "$(kv file.oem)" "COS_OEM of disk cli, made by initrd/make-disk"
        expect_eq "ext4 in persistent" "$(kv file.persistent)" "COS_PERSISTENT of disk cli, made by initrd/make-disk"
        expect_eq "PCR 11 after leave-initrd" "$(kv pcr11.leave)" "$(pcr11_expected cli leave-initrd)"
        expect_eq "unseal after leave-initrd" "$(kv check.after)" refused
}
