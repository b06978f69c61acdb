# The upgrade preflight against the boot it predicts. Three new UKIs for the
# bound disk (the kit's key): (a) the same key, another command line; (b) a
# foreign key, its own .pcrpkey and .pcrsig; (c) (a) without .pcrsig. For
# each, `usi-init unlock --check --explain --uki` runs on the host against the
# disk's LUKS2 partitions (image files) and its verdict is asserted; then the
# UKI boots under OVMF and the outcome is asserted: (a) reaches the final OS
# with both volumes opened by tpm2, (b) and (c) fail in the unlock stage
# without opening a volume.
describe="upgrade preflight: opens / stays locked predicted per volume for three UKIs, each confirmed by booting it"

# pf_parts OUT_DIR: the LUKS2 partitions of $W/disk.img as OUT_DIR/NAME.img.
pf_parts() {
        local n start size
        mkdir -p "$1"
        disk_parts "$W/disk.img" > "$1/list" ||
                { fail "sfdisk --json $W/disk.img failed"; return 1; }
        [ -s "$1/list" ] || { fail "$W/disk.img: no partitions"; return 1; }
        while read -r n start size; do
                dd if="$W/disk.img" of="$1/$n.img" bs=512 skip="$start" count="$size" conv=sparse status=none ||
                        { fail "cannot extract partition $n of $W/disk.img"; return 1; }
        done < "$1/list"
}

# pf_fp PEM: the first 8 hex digits of the key's fingerprint as the
# preflight prints it (SHA-256 of the DER RSAPublicKey).
pf_fp() { openssl rsa -pubin -in "$1" -RSAPublicKey_out -outform DER 2>/dev/null | sha256sum | cut -c1-8; }

# pf_run NAME UKI: the preflight on both volume images; output in
# $W/NAME.preflight, exit status in PF_RC.
pf_run() {
        "$USI_INIT" unlock --check --explain --uki="$2" "$W/parts/oem.img" "$W/parts/persistent.img" \
                > "$W/$1.preflight" 2>&1
        PF_RC=$?
}

# pf_expect NAME LINE WHAT: the preflight of NAME printed exactly LINE.
pf_expect() {
        grep -qxF -- "$2" "$W/$1.preflight" ||
                fail "preflight of $1: no line '$2' ($3); it said: $(grep -F ': COS_' "$W/$1.preflight" | tr '\n' '|')"
}

# pf_uki OUT DIR CMDLINE: a UKI of the node's initramfs, signed by DIR/keys
# (made there when absent).
pf_uki() {
        "$TOP/initrd/build-uki" --out "$2" --kernel "$PF_KERNEL" --initrd "$W/initrd.img" --output "$1" \
                --cmdline "$3" >>"$W/build.log" 2>&1 ||
                { fail "build-uki $1 failed: $(tail -n1 "$W/build.log")"; return 1; }
}

# pf_locked_boot NAME DISK_DIR: the UKI's boot tries the TPM for oem and fails, the
# boot fails in the unlock stage before any volume is opened, the final OS
# never runs and the node halts (no fallback is configured). Sets PF_BANNER.
pf_locked_boot() {
        node_boot "$1" "$2" --uki "$W/$1.efi" --disk-snapshot "$W/disk.img"
        wait_failure || { boot_stop; return 1; }
        PF_BANNER=$(failure_banner)
        expect_console 'volume oem: tpm2 unlock of /dev/vda1 failed: token 0: ' "$1: the TPM unlock of oem failing"
        ! grep -aq 'opened as /dev/mapper/' "$W/$1.console" ||
                fail "$1: a volume was opened: $(grep -a 'opened as' "$W/$1.console" | head -n1 | tr -d '\r')"
        expect_halted
        boot_stop
}

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd kit foreign n; dd=$(disk_dir e2e)
        PF_KERNEL=$USI_OUT/kernel/root/boot/vmlinuz-$(cat "$USI_OUT/kernel/version")
        # One copy of the disk: its partitions for the preflight, and every
        # boot a snapshot of it.
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        pf_parts "$W/parts" || return 1
        kit=$(pf_fp "$dd/extra/tpm2-pcr-public-key.pem")
        [ ${#kit} = 8 ] || { fail "cannot read the kit's public key $dd/extra/tpm2-pcr-public-key.pem"; return 1; }

        node_initrd "$W/initrd.img" --no-extra --compress zstd || return 1
        # (a) the kit's key, one more word on the command line.
        pf_uki "$W/a.efi" "$USI_OUT" "$E2E_CMDLINE rd.immucore.securebootdisabled usi.image=v2" || return 1
        # (b) a fresh key: .pcrpkey and .pcrsig both from it.
        pf_uki "$W/b.efi" "$W/foreign" "$E2E_CMDLINE rd.immucore.securebootdisabled" || return 1
        foreign=$(pf_fp "$W/foreign/keys/pcr-public.pem")
        if [ ${#foreign} != 8 ] || [ "$foreign" = "$kit" ]; then
                fail "no fresh key in $W/foreign/keys (fingerprint '$foreign', the kit's $kit)"
                return 1
        fi
        # (c) (a) without its .pcrsig.
        objcopy --remove-section .pcrsig "$W/a.efi" "$W/c.efi" 2>>"$W/build.log" ||
                { fail "objcopy --remove-section .pcrsig $W/a.efi failed"; return 1; }
        objdump -h "$W/c.efi" | grep -q ' \.pcrsig ' && { fail "$W/c.efi still has a .pcrsig"; return 1; }

        # The predictions.
        pf_run a "$W/a.efi"
        expect_eq "preflight of a (same key, new command line): exit status" "$PF_RC" 0
        for n in COS_OEM COS_PERSISTENT; do
                pf_expect a "$W/a.efi: $n: opens (enter-initrd signed by key $kit..)" "$n opens"
        done
        pf_expect a "$W/a.efi: lint: ok" "the lint passes"

        pf_run b "$W/b.efi"
        expect_eq "preflight of b (foreign key): exit status" "$PF_RC" 5
        for n in COS_OEM COS_PERSISTENT; do
                pf_expect b "$W/b.efi: $n: stays locked: the UKI's .pcrpkey $foreign.. is not the token's key $kit.." \
                        "$n stays locked, both keys named"
        done

        pf_run c "$W/c.efi"
        expect_eq "preflight of c (no .pcrsig): exit status" "$PF_RC" 5
        for n in COS_OEM COS_PERSISTENT; do
                pf_expect c "$W/c.efi: $n: stays locked: the UKI has no readable .pcrsig" "$n stays locked"
        done
        pf_expect c "$W/c.efi: lint: no .pcrsig section" "the lint names the missing section"

        # The boots. (a) reaches the final OS, both volumes opened by the TPM.
        boot_node_to_final a "$dd" --uki "$W/a.efi" --disk-snapshot "$W/disk.img" || return 1
        judge_layout e2e
        case " $(report cmdline) " in *" usi.image=v2 "*) ;; *) fail "a: the final OS did not boot a's command line: $(report cmdline)" ;; esac
        for n in oem persistent; do
                expect_console "volume $n: /dev/vd[a-z0-9]* opened as /dev/mapper/$n by tpm2 " "a: $n opened by tpm2"
        done
        expect_eq "a: state.json unlocked by (oem, persistent)" \
                "$(json_get "$W/a.res/state.json" "' '.join(x['unlocked_by'] for x in j['volumes'] if x['name'] in ('oem', 'persistent'))")" \
                "tpm2 tpm2"

        # (b) the foreign key: the signature the stub hands over is by no key
        # the tokens trust.
        pf_locked_boot b "$dd" || return 1
        case $PF_BANNER in
        *"boot failed in stage unlock, device /dev/vda1 (volume oem, label COS_OEM):"*"/.extra/tpm2-pcr-signature.json: no signature by key ${kit}"*"pkfp ${foreign}"*) ;;
        *) fail "b: the banner does not name the kit's key $kit missing and the foreign key $foreign present: $PF_BANNER" ;;
        esac

        # (c) no .pcrsig: no /.extra signature at all.
        pf_locked_boot c "$dd" || return 1
        case $PF_BANNER in
        *"boot failed in stage unlock, device /dev/vda1 (volume oem, label COS_OEM):"*"token 0: no PCR signature file (tried /.extra/tpm2-pcr-signature.json"*) ;;
        *) fail "c: the banner does not say there is no signature file: $PF_BANNER" ;;
        esac
}
