# Secret hygiene end to end. The bound disk's persistent TPM token is
# broken, so the boot asks for its passphrase, which is typed on the
# console; oem opens by TPM. Then everything the node shows or keeps is
# searched on the host for the passphrase and both volume keys (hex in both
# cases and the raw bytes): the serial console, /run of the final OS, its
# state.json, and the argv and environment usi-init exec'd the final init
# with. None may hold any of them. (The boot never asks for a TPM PIN: PIN
# tokens are for `usi-init unlock --pin-file`, tests/tpm/unlock-two.sh
# searches its output for the PIN and the unsealed secret.)
describe="secret hygiene: no passphrase or volume key in the console, /run, state.json, or PID 1's argv and environment"

scenario() {
        fixture_kernel && fixture_disk secrets --keep-password || return 1
        local dd p sock start size n s f found; dd=$(disk_dir secrets)
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        p=$W/parts sock=/tmp/usi-secrets.$$.sock
        mkdir -p "$p"
        for n in oem persistent; do
                read -r start size <<EOF2
$(part_of "$W/disk.img" "$n")
EOF2
                dd if="$W/disk.img" of="$p/$n.img" bs=512 skip="$start" count="$size" status=none
                echo "$start" > "$p/$n.start"
                # The volume key, as the search needles (hex, both cases; raw).
                cryptsetup luksDump --dump-volume-key --batch-mode --key-file "$dd/password" "$p/$n.img" 2>/dev/null |
                        sed -n '/MK dump:/,$p' | sed 's/MK dump://' | tr -d ' \t\n' > "$W/$n.key.hex"
                [ "$(wc -c < "$W/$n.key.hex")" -ge 64 ] || { fail "cannot read the $n volume key on the host"; return 1; }
                python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(open(sys.argv[1]).read().strip()))' \
                        "$W/$n.key.hex" > "$W/$n.key.bin"
        done
        # persistent's TPM token goes: the boot must ask for its passphrase.
        "$USI_INIT" enroll --remove-token=0 "$p/persistent.img" >> "$W/enroll.log" 2>&1 ||
                { fail "cannot remove persistent's token: $(tail -n1 "$W/enroll.log")"; return 1; }
        dd if="$p/persistent.img" of="$W/disk.img" bs=512 seek="$(cat "$p/persistent.start")" conv=notrunc status=none
        printf 'volumes:\n  - name: persistent\n    unlock: [tpm2, passphrase]\n' > "$W/sec.yaml"
        node_initrd "$W/initrd.img" --extra "$dd/extra" --add "$W/sec.yaml:/etc/usi-init/config.yaml" || return 1

        node_boot typed "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" --append "$E2E_CMDLINE usi.run=secret-dump"
        wait_console 'Passphrase for volume persistent|boot failed' ||
                { boot_stop; fail "no passphrase prompt for persistent"; return 1; }
        grep -q 'boot failed' "$W/typed.console" && { boot_stop; fail "the boot failed: $(failure_banner)"; return 1; }
        send "$(cat "$dd/password")"
        wait_final || { boot_stop; fail "neither the final OS nor a failure banner after the passphrase"; return 1; }
        grep -Eq 'boot failed|Kernel panic' "$W/typed.console" && { boot_stop; fail "the boot failed: $(failure_banner)"; return 1; }
        boot_wait
        have_report || { fail "no report from the final OS"; return 1; }
        s=$W/typed.res/state.json
        expect_eq "persistent unlocked by" \
                "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == 'persistent'][0]['unlocked_by']")" passphrase
        expect_eq "oem unlocked by" "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == 'oem'][0]['unlocked_by']")" tpm2

        # What the final OS could read, unpacked on the host.
        mkdir -p "$W/dump"
        f=$W/typed.res/run-secret-dump.log
        [ -s "$f" ] || { tr -d '\r' < "$W/typed.console" | sed -n 's/^run-secret-dump.log: //p' > "$W/dump.log"; f=$W/dump.log; }
        sed -n '/SECRET-DUMP-BEGIN/,/SECRET-DUMP-END/p' "$f" | sed '1d;$d' | base64 -d 2>/dev/null |
                tar -xf - -C "$W/dump" 2>/dev/null
        for f in pid1.cmdline pid1.environ; do
                find "$W/dump/tmp" -name "$f" -exec mv {} "$W/dump/$f" \; 2>/dev/null
        done
        [ -s "$W/dump/run/usi-init/state.json" ] && [ -s "$W/dump/pid1.environ" ] && [ -s "$W/dump/pid1.cmdline" ] ||
                { fail "the dump of /run and PID 1's argv and environment is incomplete: $(ls -R "$W/dump" | head -c 300)"; return 1; }
        # The searches can see: the dump holds what is known to be there.
        grep -rqF 'outcome' "$W/dump/run/usi-init/state.json" || fail "control: the search does not see state.json"
        grep -qF 'usi.run=secret-dump' "$W/dump/pid1.cmdline" "$W/typed.console" ||
                fail "control: the search does not see PID 1's command line"

        cp "$dd/password" "$W/needle.pass"
        found=''
        for f in "$W/typed.console" "$s" "$W/dump/pid1.cmdline" "$W/dump/pid1.environ" $(find "$W/dump/run" -type f); do
                for n in "$W/needle.pass" "$W/oem.key.bin" "$W/persistent.key.bin"; do
                        python3 - "$f" "$n" <<'EOF' && found="$found ${f#$W/}:${n#$W/}"
import sys
h = open(sys.argv[1], "rb").read()
n = open(sys.argv[2], "rb").read().rstrip(b"\n")
hexes = [n.hex().encode(), n.hex().upper().encode()]
sys.exit(0 if n and (n in h or any(x in h for x in hexes)) else 1)
EOF
                done
        done
        [ -z "$found" ] || fail "secrets found (file:secret):$found"
        echo "# searched $(find "$W/dump/run" -type f | wc -l) files of /run, the console, state.json, PID 1's argv and environment" >&2
}
