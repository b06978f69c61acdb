# Signing-key rotation on a bound disk. The node boots with key A (the kit's);
# a token for key B is enrolled on each volume through its A token, offline on
# the node's TPM state at the values a boot unseals at (PCR 11 at
# enter-initrd, PCR 15 at each volume's chain value); an initrd whose /.extra
# carries B's signature and key boots, the volumes opened by the B tokens and
# still bound; once the A tokens are wiped (--wipe-old), the initrd of key A
# stays locked, naming its key.
describe="key rotation: enroll key B through the A tokens, B's image opens (still bound), wipe A, A's image stays locked"

# rot_parts OUT_DIR: the disk's partitions as image files, "NAME START" lines.
rot_parts() {
        mkdir -p "$1"
        disk_parts "$W/disk.img" | while read -r n start size; do
                dd if="$W/disk.img" of="$1/$n.img" bs=512 skip="$start" count="$size" status=none
                echo "$n $start"
        done > "$1/list"
}
rot_back() {  # rot_back DIR: the partitions written back into the disk
        while read -r n start; do
                dd if="$1/$n.img" of="$W/disk.img" bs=512 seek="$start" conv=notrunc status=none
        done < "$1/list"
}

scenario() {
        fixture_kernel && fixture_disk rotate --keep-password || return 1
        local dd p sock tcti vols n u k; dd=$(disk_dir rotate)
        cp --sparse=always "$dd/disk.img" "$W/disk.img"

        node_initrd "$W/a.img" --extra "$dd/extra" || return 1
        boot_node_to_final a "$dd" --initrd "$W/a.img" --disk-snapshot "$W/disk.img" --append "$E2E_CMDLINE" ||
                return 1

        # Key B and its signature for the same boot (PCR 11 from zero through
        # enter-initrd), as the new image would carry them.
        mkdir -p "$W/b/extra"
        "$TOP/initrd/sign-pcr" --out "$W/b" --output "$W/b/extra/tpm2-pcr-signature.json" >>"$W/build.log" 2>&1 ||
                { fail "initrd/sign-pcr for key B failed"; return 1; }
        cp "$W/b/keys/pcr-public.pem" "$W/b/extra/tpm2-pcr-public-key.pem"

        # Enroll B through the A tokens on a copy of the node's TPM state.
        p=$W/parts sock=/tmp/usi-rot.$$.sock
        rot_parts "$p"
        cp -a "$dd/tpm" "$W/tpm"
        rm -f "$W/tpm/.lock"
        swtpm socket --tpm2 --tpmstate dir="$W/tpm" --server type=unixio,path="$sock" \
                --ctrl type=unixio,path="$sock.ctrl" --flags not-need-init,startup-clear --daemon
        tcti=swtpm:path=$sock
        "$USI_INIT" measure --tpm2-device="$tcti" enter-initrd >> "$W/rotate.log" 2>&1
        pcr15_volumes rotate > "$W/volumes" || fail "cannot read the volume keys"
        while read -r n u k; do
                "$USI_INIT" enroll --tpm2-device="$tcti" --tpm2-public-key="$W/b/extra/tpm2-pcr-public-key.pem" \
                        --unlock-tpm2 --signature="$dd/extra/tpm2-pcr-signature.json" "$p/$n.img" \
                        >> "$W/rotate.log" 2>&1 || fail "enroll key B on $n: $(tail -n1 "$W/rotate.log")"
                # What the boot extends once this volume is open, for the next.
                TPM2TOOLS_TCTI=$tcti tpm2_pcrextend "15:sha256=$(pcr15_hmac "$k" "cryptsetup:$n:$u")" >/dev/null
        done < "$W/volumes"
        swtpm_ioctl --unix "$sock.ctrl" -s >/dev/null 2>&1
        rm -f "$sock" "$sock.ctrl"
        grep -q "oem.img: enrolled token 1 (keyslot 2), literal PCRs 15 as token 0 had them" "$W/rotate.log" ||
                fail "oem's B token does not keep the binding: $(tr '\n' '|' < "$W/rotate.log")"
        grep -q "persistent.img: enrolled token 1 (keyslot 2), literal PCRs 15 as token 0 had them" "$W/rotate.log" ||
                fail "persistent's B token does not keep the binding: $(tr '\n' '|' < "$W/rotate.log")"
        rot_back "$p"

        node_initrd "$W/b.img" --extra "$W/b/extra" || return 1
        boot_node_to_final b "$dd" --initrd "$W/b.img" --disk-snapshot "$W/disk.img" --append "$E2E_CMDLINE" ||
                return 1
        judge_layout rotate
        local s=$W/b.res/state.json
        for n in oem persistent; do
                expect_console "volume $n: /dev/vd[a-z0-9]* opened as /dev/mapper/$n by tpm2 \\(keyslot 2\\)" \
                        "key B's image: $n opened by keyslot 2, B's token"
        done
        expect_eq "key B's image: volumes bound" "$(json_get "$s" 'j["volumes_bound"]')" yes

        # The new image booted: the A tokens go.
        rm -rf "$p"
        rot_parts "$p"
        for n in oem persistent; do
                "$USI_INIT" enroll --wipe-old --public-key="$W/b/extra/tpm2-pcr-public-key.pem" "$p/$n.img" \
                        >> "$W/rotate.log" 2>&1 || fail "wipe-old on $n: $(tail -n1 "$W/rotate.log")"
        done
        rot_back "$p"

        node_boot a2 "$dd" --initrd "$W/a.img" --disk-snapshot "$W/disk.img" --append "$E2E_CMDLINE"
        wait_failure || { boot_stop; return 1; }
        case $(failure_banner) in
        *"boot failed in stage unlock, device /dev/vda1 (volume oem, label COS_OEM):"*"no signature by key"*) ;;
        *) fail "key A's image after the wipe: the banner does not name the missing signature: $(failure_banner)" ;;
        esac
        ! grep -aq 'volume oem: /dev/vda1 opened' "$W/a2.console" || fail "key A's image opened oem after the wipe"
        boot_stop
}
