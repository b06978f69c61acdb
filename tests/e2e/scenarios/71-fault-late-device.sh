# Fault matrix: a device that appears late, hot-plugged into the running
# node (run-qemu --monitor). COS_OEM is on the boot disk; COS_PERSISTENT is
# a second disk (the same e2e volume, a raw LUKS2 volume without partition
# table) added only once /oem is mounted, that is once usi-init waits for it.
# Boot 1: added before its deadline: usi-init hears it from the kernel's
# uevent (the "add" in its debug line), opens it by TPM and boots. Boot 2:
# a 5 s deadline, the disk added only after the banner naming COS_PERSISTENT:
# it is never found or opened, and its bytes are unchanged.
describe="late disk: hot-added before the deadline it is found by uevent and boots; after it, the banner came first and it is never opened"

. "$E2E_DIR/lib-fault-dev.sh"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd mon sum oem_uuid; dd=$(disk_dir e2e)
        # A unix socket path has room for 107 bytes.
        mon=$W/qemu.mon
        [ ${#mon} -lt 100 ] || mon=/tmp/usi-fault.$$.mon
        fault_split_persistent e2e "$W/oem-only.img" "$W/persistent.img" || return 1
        node_initrd "$W/initrd.img" || return 1

        node_boot early "$dd" --initrd "$W/initrd.img" --disk-snapshot "$W/oem-only.img" --monitor "$mon" \
                --append "$E2E_CMDLINE rd.usi.timeout=90 rd.usi.debug printk.devkmsg=on usi.run=fault-dev-dmesg"
        wait_console '^usi-init: volume oem: mounted|boot failed' 120 || { boot_stop; fail "early: /oem was never mounted"; return 1; }
        grep -aq 'boot failed' "$W/early.console" && { boot_stop; fail "early: the boot failed: $(failure_banner)"; return 1; }
        fault_hotadd "$mon" late "$W/persistent.img" on || { boot_stop; return 1; }
        await_final || return 1
        expect_console '^usi-init: volume persistent: found /dev/vdc \(LUKS2 label COS_PERSISTENT uuid [0-9a-f-]+\) by LUKS label after [0-9]+ ms' \
                "persistent found on the hot-added /dev/vdc"
        expect_console '^usi-init: volume persistent: /dev/vdc opened as /dev/mapper/persistent by tpm2 \(keyslot 1\)' \
                "persistent opened from /dev/vdc by the TPM"
        judge_layout e2e
        grep -Eq '^devices: /dev/vdc add: LUKS2 label COS_PERSISTENT' "$W/early.res/run-fault-dev-dmesg.log" ||
                fail "early: /dev/vdc was not seen through a uevent: $(grep vdc "$W/early.res/run-fault-dev-dmesg.log" | tr '\n' '|')"

        sum=$(sha256sum < "$W/persistent.img")
        rm -f "$mon"
        node_boot late "$dd" --initrd "$W/initrd.img" --disk-snapshot "$W/oem-only.img" --monitor "$mon" \
                --append "$E2E_CMDLINE rd.usi.timeout=5 rd.immucore.oemtimeout=90"
        # The deadline was kept: not before 5 s after /oem was mounted, nor long after.
        fault_wait_timed '^usi-init: volume oem: mounted' 'boot failed' 4.5 30 "/oem was mounted" || { boot_stop; return 1; }
        fault_hotadd "$mon" late "$W/persistent.img" off || { boot_stop; return 1; }
        oem_uuid=$(grep -a -m1 '^usi-init: volume oem: found /dev/vda1 ' "$W/late.console" | sed -n 's/.* uuid \([0-9a-f-]*\) .*/\1/p')
        fault_expect_banner "==== boot failed in stage devices, device none found for volume persistent (LUKS label COS_PERSISTENT, filesystem label COS_PERSISTENT, GPT partition name persistent): volume persistent: no device with LUKS label COS_PERSISTENT, filesystem label COS_PERSISTENT or GPT partition name persistent appeared within 5000 ms; seen: /dev/vda1 (LUKS2 label COS_OEM uuid $oem_uuid partition name oem) ===="
        fault_no_shell
        boot_stop
        ! grep -aEq 'volume persistent: (found|/dev/.* opened)' "$W/late.console" || fail "late: the late device was found or opened"
        expect_eq "the late disk's bytes" "$(sha256sum < "$W/persistent.img")" "$sum"
        rm -f "$mon"
}
