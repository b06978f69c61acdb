# Fault matrix: the TPM is gone (run-qemu --no-tpm). The node (a USI: its
# initrd carries the PCR signature) fails closed in its first stage, before
# any volume is touched: it cannot measure enter-initrd, and the banner says
# that no TPM answered. A node that is not a USI (no /.extra) gets as far as
# unlocking COS_OEM and fails there, naming the volume and the missing TPM.
# Neither waits for a TPM that is not there, neither offers a shell.
describe="no TPM at all: fails closed at once, banners naming the TPM (and the volume), no shell, halts"

. "$E2E_DIR/lib-fault-dev.sh"

FAULT_NO_TPM="no TPM: cannot open TCTI 'device:/dev/tpmrm0' (tcti:IO failure); no TPM: cannot open TCTI 'device:/dev/tpm0' (tcti:IO failure)"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" || return 1
        # The deadlines it must not wait for: the devices' (rd.usi.timeout)
        # and tpm.timeout (30 s by default).
        boot_start usi --no-tpm --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE rd.usi.timeout=60"
        wait_failure 120 || { boot_stop; return 1; }
        fault_expect_banner "==== boot failed in stage early, device none: cannot measure 'enter-initrd' into PCR 11: $FAULT_NO_TPM; not booting on ===="
        fault_banner_within 30 "tpm.timeout (30 s) or the devices deadline (60 s)"
        ! grep -aq 'volume oem: found' "$W/usi.console" || fail "usi: a volume was looked for after the TPM failed"
        fault_no_shell
        boot_stop

        node_initrd "$W/plain.img" --no-extra || return 1
        boot_start plain --no-tpm --initrd "$W/plain.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE_PLAIN rd.usi.timeout=60"
        wait_failure 120 || { boot_stop; return 1; }
        fault_expect_banner "==== boot failed in stage unlock, device /dev/vda1 (volume oem, label COS_OEM): volume oem: cannot unlock /dev/vda1: tpm2: $FAULT_NO_TPM ===="
        fault_banner_within 30 "tpm.timeout (30 s) or the devices deadline (60 s)"
        fault_no_shell
        boot_stop
}
