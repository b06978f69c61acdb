# The trusted-boot chain of a real UKI, without the boot pipeline: Debian's
# systemd-stub under OVMF with swtpm measures the sections into PCR 11 and
# hands .pcrsig/.pcrpkey to the initrd as /.extra (the initramfs has none of
# its own); then usi-init's measure and unlock commands unseal both volumes
# with the stub's signature, and refuse after leave-initrd. The disk is
# unbound (the unlock command does not measure keys into PCR 15).
describe="UKI under OVMF: systemd-stub's PCR 11 and /.extra, unseal with them (busybox /init)"

scenario() {
        fixture_kernel && fixture_disk cli --unbound || return 1
        local dd p; dd=$(disk_dir cli)
        build_initrd "$W/probe.img" --init "$TOP/initrd/probe-init" --compress zstd \
                --add "$TOP/tests/e2e/guest/unlock-cli:/usr/lib/usi-probe.d/unlock-cli" || return 1
        "$TOP/initrd/build-uki" --out "$USI_OUT" --initrd "$W/probe.img" --output "$W/probe.efi" \
                --cmdline "console=ttyS0 panic=-1" >>"$W/build.log" 2>&1 ||
                { fail "build-uki failed: $(tail -n1 "$W/build.log")"; return 1; }
        p=$W/probe.efi.pcr
        boot_start uki --uki "$W/probe.efi" --tpm-state "$dd/tpm" --disk-snapshot "$dd/disk.img"
        wait_console '^USI-PROBE-END|No bootable option' || fail "no probe report within ${E2E_BOOT_CAP}s"
        if grep -q 'No bootable option' "$W/uki.console"; then
                boot_stop
                fail "OVMF refused the UKI"
                return 1
        fi
        boot_wait
        kv() { sed -n '/^USI-PROBE-BEGIN/,/^USI-PROBE-END/p' "$W/uki.console" | tr -d '\r' |
                awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }'; }
        expect_eq "PCR 11 at /init (measured by systemd-stub)" "$(kv pcr11)" "$(cat "$p/pcr11.sections")"
        expect_eq "/.extra/tpm2-pcr-signature.json" "$(kv 'extra signature')" "$(sha256sum < "$p/pcrsig" | cut -c1-64)"
        expect_eq "/.extra/tpm2-pcr-public-key.pem" "$(kv 'extra pubkey')" "$(sha256sum < "$p/pcrpkey" | cut -c1-64)"
        expect_eq "PCR 11 after enter-initrd" "$(kv pcr11.enter)" "$(cat "$p/pcr11.enter-initrd")"
        expect_eq "unlock --check with the stub's signature" "$(kv check)" ok
        expect_eq "dm-crypt open of oem" "$(kv open.oem)" ok
        expect_eq "ext4 in persistent" "$(kv file.persistent)" "COS_PERSISTENT of disk cli, made by initrd/make-disk"
        expect_eq "PCR 11 after leave-initrd" "$(kv pcr11.leave)" "$(cat "$p/pcr11.leave-initrd")"
        expect_eq "unseal after leave-initrd" "$(kv check.after)" refused
}
