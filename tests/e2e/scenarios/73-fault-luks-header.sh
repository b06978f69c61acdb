# Damaged LUKS2 metadata copies, as a failing disk or an interrupted update
# leaves them: COS_OEM's primary binary header wiped (blkid and usi-init find
# the volume by its backup copy), COS_PERSISTENT's backup copy with a bad
# checksum. Both open from the intact copy with a warning naming the device
# and the damage; the headers are left as they were (no repair is written to
# a disk before it is judged), and the data on both volumes is intact.
describe="LUKS2 primary header wiped on oem, backup damaged on persistent: both open from the intact copy, warned, headers not rewritten"

# part_range DISK NAME: "START SIZE" in bytes of partition NAME.
part_range() { part_of "$1" "$2" | awk '{ print $1 * 512, $2 * 512 }'; }

# header_sum DISK NAME: sha256 of the partition's LUKS2 header: both metadata
# copies and the keyslot area, up to the data segment's offset (read from
# whichever copy has its magic; the host cannot use cryptsetup here, it would
# repair the copy it reads).
header_sum() {
        local start
        read -r start _ <<EOF2
$(part_range "$1" "$2")
EOF2
        python3 - "$1" "$start" <<'PY'
import hashlib, json, struct, sys
f = open(sys.argv[1], "rb")
start = int(sys.argv[2])
def copy(at, magic):
    f.seek(start + at)
    head = f.read(4096)
    if head[:6] != magic:
        return None
    size = struct.unpack(">Q", head[8:16])[0]
    return json.loads(f.read(size - 4096).rstrip(b"\0").decode())
meta = copy(0, b"LUKS\xba\xbe")
for at in (16384 << i for i in range(9)):
    meta = meta or copy(at, b"SKUL\xba\xbe")
end = int(meta["segments"]["0"]["offset"])
f.seek(start)
print(hashlib.sha256(f.read(end)).hexdigest())
PY
}

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd img oem pers md before_oem before_pers
        dd=$(disk_dir e2e) img=$W/disk.img
        cp "$dd/disk.img" "$img"
        read -r oem _ <<EOF2
$(part_range "$img" oem)
EOF2
        read -r pers _ <<EOF2
$(part_range "$img" persistent)
EOF2
        [ -n "$oem" ] && [ -n "$pers" ] || { fail "no oem or persistent partition in the e2e disk"; return 1; }
        # The metadata size, from persistent's primary binary header.
        md=$(dd if="$img" bs=1 skip=$((pers + 8)) count=8 status=none | od -An -tu8 --endian=big | tr -d ' ')
        [ "${md:-0}" -ge 16384 ] || { fail "persistent's header states no metadata size ($md)"; return 1; }
        dd if=/dev/zero of="$img" bs=4096 seek=$((oem / 4096)) count=1 conv=notrunc status=none
        printf '#' | dd of="$img" bs=1 seek=$((pers + md + 5000)) conv=notrunc status=none
        before_oem=$(header_sum "$img" oem) before_pers=$(header_sum "$img" persistent)

        node_initrd "$W/initrd.img" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk "$img" \
                --append "$E2E_CMDLINE usi.run=unseal-after" || return 1
        local repair="'cryptsetup repair"
        expect_console "usi-init: warning: /dev/vda1: the primary LUKS2 header is damaged \(no LUKS2 header there \(wiped or overwritten\)\): using the backup copy; $repair /dev/vda1' rewrites it" \
                "the warning naming /dev/vda1 and its wiped primary copy"
        expect_console "usi-init: warning: /dev/vda2: the backup LUKS2 header is damaged \(its checksum does not match\): using the primary copy; $repair /dev/vda2' rewrites it" \
                "the warning naming /dev/vda2 and its damaged backup copy"
        expect_console 'volume oem: /dev/vda1 opened as /dev/mapper/oem by tpm2' "oem opened by its token"
        expect_console 'volume persistent: /dev/vda2 opened as /dev/mapper/persistent by tpm2' "persistent opened by its token"
        judge_layout e2e
        judge_state
        judge_unseal_after refused "the final OS could unseal a volume"
        expect_eq "oem's header after the boot" "$(header_sum "$img" oem)" "$before_oem"
        expect_eq "persistent's header after the boot" "$(header_sum "$img" persistent)" "$before_pers"
}
