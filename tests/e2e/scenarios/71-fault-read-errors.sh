# Fault matrix: read errors on the disk under COS_PERSISTENT (QEMU's
# blkdebug: every read covering one sector fails with EIO). Boot 1: the
# sector is the first of the persistent partition (its LUKS2 header):
# blkid cannot read it, usi-init warns at once, waits out persistent's
# deadline (10 s here) in case it comes elsewhere, then fails naming
# COS_PERSISTENT and the unreadable /dev/vda2 with its I/O error. Boot 2: the
# sector holds the ext4 superblock inside the encrypted data: the volume
# opens by TPM, but its file system cannot be read: the banner names the
# mapping, the LUKS device and the I/O error (not "no file system"). Both
# fail closed without a hang and without a shell; the partition's bytes are
# unchanged.
describe="read errors on COS_PERSISTENT (LUKS2 header, ext4 superblock): banners naming the device and the I/O error, no hang, no shell"

. "$E2E_DIR/lib-fault-dev.sh"

# fault_blkdebug_conf FILE SECTOR: every read covering SECTOR fails with EIO.
fault_blkdebug_conf() {
        printf '[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "%s"\n' "$2" > "$1"
}

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd start size data sum oem_uuid; dd=$(disk_dir e2e)
        read -r start size <<EOF2
$(part_of "$dd/disk.img" persistent)
EOF2
        [ -n "$size" ] || { fail "no persistent partition on the e2e disk"; return 1; }
        # Where the encrypted data (the ext4) starts inside the partition.
        dd if="$dd/disk.img" of="$W/hdr.img" bs=512 skip="$start" count=16384 status=none
        data=$(cryptsetup luksDump "$W/hdr.img" | awk '/^Data segments:/ { s = 1 } s && $1 == "offset:" { print $2 / 512; exit }')
        rm -f "$W/hdr.img"
        [ -n "$data" ] || { fail "cannot read the data offset of COS_PERSISTENT"; return 1; }
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        sum=$(dd if="$W/disk.img" bs=512 skip="$start" count="$size" status=none | sha256sum)
        node_initrd "$W/initrd.img" || return 1

        fault_blkdebug_conf "$W/header.conf" "$start"
        node_boot header "$dd" --initrd "$W/initrd.img" --disk-blkdebug "$W/header.conf" "$W/disk.img" \
                --append "$E2E_CMDLINE rd.usi.timeout=10 rd.immucore.oemtimeout=90"
        fault_wait_timed '^usi-init: volume oem: mounted' 'boot failed' 9.5 40 "/oem was mounted" || { boot_stop; return 1; }
        oem_uuid=$(grep -a -m1 '^usi-init: volume oem: found /dev/vda1 ' "$W/header.console" | sed -n 's/.* uuid \([0-9a-f-]*\) .*/\1/p')
        fault_expect_banner "==== boot failed in stage devices, device none found for volume persistent (LUKS label COS_PERSISTENT, filesystem label COS_PERSISTENT, GPT partition name persistent): volume persistent: no device with LUKS label COS_PERSISTENT, filesystem label COS_PERSISTENT or GPT partition name persistent appeared within 10000 ms; seen: /dev/vda1 (LUKS2 label COS_OEM uuid $oem_uuid partition name oem), /dev/vda2 (unreadable: Input/output error) ===="
        expect_console '^usi-init: warning: devices: cannot read /dev/vda2: Input/output error' "the warning naming the unreadable /dev/vda2"
        fault_no_shell
        boot_stop

        fault_blkdebug_conf "$W/sb.conf" $((start + data + 2))
        node_boot sb "$dd" --initrd "$W/initrd.img" --disk-blkdebug "$W/sb.conf" "$W/disk.img" --append "$E2E_CMDLINE"
        fault_wait_timed '^usi-init: volume persistent: /dev/vda2 opened as /dev/mapper/persistent by tpm2' 'boot failed' 0 30 \
                "persistent was opened" || { boot_stop; return 1; }
        fault_expect_banner "==== boot failed in stage mounts, device /dev/mapper/persistent (volume persistent, label COS_PERSISTENT): volume persistent: cannot read /dev/mapper/persistent (opened from /dev/vda2): Input/output error; not mounting it ===="
        fault_no_shell
        boot_stop

        expect_eq "COS_PERSISTENT's bytes after both boots" \
                "$(dd if="$W/disk.img" bs=512 skip="$start" count="$size" status=none | sha256sum)" "$sum"
}
