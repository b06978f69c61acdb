# PCR 15, the volume-key latch (systemd's tpm2-measure-pcr=yes): both
# tokens bind the signed PCR 11 policy, signed for enter-initrd and for
# enter-initrd:leave-initrd, plus a literal PCR 15 = 0. Both volumes unseal
# in the initrd; usi-init then extends PCR 15 with each volume's key (HMAC of
# cryptsetup:NAME:UUID) in plan order. The final OS sees PCR 15 equal to the
# value computed here from the keys, state.json records each extend without
# the key, and an unseal from the final OS, where PCR 11 alone would still
# be signed, is refused for both volumes, naming PCR 15.
describe="volume keys into PCR 15 in plan order; a PCR 15-bound token refuses after the hand-off, naming PCR 15"

scenario() {
        fixture_kernel && fixture_disk_pcr15 || return 1
        local dd s log vols want st; dd=$(disk_dir pcr15)
        vols=$W/volumes
        pcr15_volumes pcr15 > "$vols" || { fail "cannot read the volume keys of the pcr15 disk"; return 1; }
        expect_eq "volumes of the pcr15 disk" "$(cut -d' ' -f1 "$vols" | tr '\n' ' ')" "oem persistent "
        want=$(pcr15_expected "$vols")

        node_initrd "$W/initrd.img" --extra "$dd/extra" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=unseal-after" || return 1

        judge_layout pcr15
        judge_state || return 1
        expect_eq "PCR 11 in the final OS" "$(report pcr11)" "$(pcr11_expected pcr15 leave-initrd)"
        expect_eq "PCR 15 in the final OS (both volume keys, oem then persistent)" "$(report pcr15)" "$want"

        # state.json: one sha256 extend per volume, in plan order, with the
        # HMAC computed here; the keys themselves nowhere.
        s=$W/node.res/state.json
        st=$(json_get "$s" "' '.join(m['description'] + '=' + m['digest'] for m in j['volume_key_measurements'] if m['bank'] == 'sha256' and m['pcr'] == 15)")
        expect_eq "state.json PCR 15 extends (sha256)" "$st" \
                "$(while read -r n u k; do printf 'cryptsetup:%s:%s=%s ' "$n" "$u" "$(pcr15_hmac "$k" "cryptsetup:$n:$u")"; done < "$vols" | sed 's/ $//')"
        while read -r n u k; do
                grep -qi "$k" "$s" && fail "state.json holds the volume key of $n"
                grep -qi "${k:0:32}" "$W/node.console" && fail "the console shows the volume key of $n"
        done < "$vols"
        "$USI_INIT" status --state-file "$s" > "$W/status.txt" 2>&1
        grep -q "^PCR 15 sha256: cryptsetup:oem:" "$W/status.txt" ||
                fail "usi-init status does not show the PCR 15 extends: $(tr '\n' '|' < "$W/status.txt")"

        log=$W/node.res/run-unseal-after.log
        expect_eq "unseal-after ran" "$(report 'run unseal-after')" 0
        expect_eq "volumes refused to unseal from the final OS, naming PCR 15" \
                "$(grep -c '^refused .*PCR 15 changed since enrollment' "$log" 2>/dev/null)" 2 ||
                echo "# pcr15: unseal-after: $(tr '\n' '|' < "$log" 2>/dev/null)" >&2
}
