# A rewritten LUKS2 header: COS_OEM's header, rewritten with no key
# (tests/tpm/luks2-rewrite.py: the data segment's cipher set to
# cipher_null-ecb, checksums recomputed), over a plaintext ext4 written into
# the data area that holds a usi-init.yaml asking for a shell and a
# cloud-config. The genuine token would unseal and the genuine keyslot would
# open; the boot refuses the header before any key is tried instead, names
# the device and the field, offers no shell although rd.usi.shell asks, and
# never unseals the persistent volume's key (the node halts in /oem's pass).
describe="COS_OEM's LUKS2 header rewritten to a cipher_null segment over plaintext config: refused, no shell, no key unsealed"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd off size banner; dd=$(disk_dir e2e)
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        # The oem partition: 32 MiB from sector 2048 (initrd/make-disk).
        dd if="$W/disk.img" of="$W/oem.img" bs=1M skip=1 count=32 status=none
        python3 "$TOP/tests/tpm/luks2-rewrite.py" "$W/oem.img" segments.0.encryption=cipher_null-ecb ||
                { fail "cannot rewrite the header"; return 1; }
        cryptsetup isLuks "$W/oem.img" || { fail "cryptsetup does not take the rewritten header"; return 1; }
        off=$(cryptsetup luksDump "$W/oem.img" | sed -n 's/^[[:space:]]*offset: \([0-9]*\) \[bytes\]/\1/p' | head -n 1)
        size=$((32 - off / 1048576))
        # What the attacker wants mounted as /oem.
        mkdir -p "$W/evil"
        printf 'on_failure: shell\nallow_shell: true\ntpm:\n  measure_phases: false\n' >"$W/evil/usi-init.yaml"
        printf '#cloud-config\nusers:\n  - name: intruder\n' >"$W/evil/90_custom.yaml"
        truncate -s "${size}M" "$W/evil.ext4"
        mkfs.ext4 -q -F -L COS_OEM -d "$W/evil" "$W/evil.ext4"
        dd if="$W/evil.ext4" of="$W/oem.img" bs=1M seek=$((off / 1048576)) conv=notrunc status=none
        dd if="$W/oem.img" of="$W/disk.img" bs=1M seek=1 conv=notrunc status=none
        node_initrd "$W/initrd.img" || return 1
        node_boot node "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" --append "$E2E_CMDLINE rd.usi.shell"
        wait_failure || { boot_stop; return 1; }
        banner=$(failure_banner)
        case $banner in
        *"boot failed in stage unlock, device /dev/vda1: /dev/vda1: LUKS2 data segment 0 uses cipher_null-ecb: refused"*) ;;
        *) fail "the banner does not name the device and the field: $banner" ;;
        esac
        expect_refusal_halt
        ! grep -aq 'opened as /dev/mapper/' "$W/node.console" || fail "a volume was opened"
        ! grep -aqE 'volume persistent: .*(found|unlock)' "$W/node.console" || fail "the persistent volume was reached"
        boot_stop
}
