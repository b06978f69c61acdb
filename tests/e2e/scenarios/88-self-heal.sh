# Self-heal after a recovery (tpm.reseal: auto in the image's config). The
# bound disk's persistent token is broken: replaced by one a foreign key
# signs (on the node's own TPM, still bound behind oem), and a recovery key
# is added. The first boot's TPM attempt fails, the recovery key is typed on
# the console as a person might (no dashes, upper case), and usi-init seals
# a new token to the booted image's key, bound as before, and removes the
# failed one. The next boot opens both volumes by TPM with no human.
describe="self-heal: the recovery key typed once, a new bound token sealed, the next boot unlocks by TPM alone"

scenario() {
        fixture_kernel && fixture_disk selfheal --keep-password || return 1
        local dd p sock tcti start size rk s; dd=$(disk_dir selfheal)
        cp --sparse=always "$dd/disk.img" "$W/disk.img"

        # The broken token and the recovery key, on the node's TPM state.
        p=$W/parts sock=/tmp/usi-heal.$$.sock
        mkdir -p "$p"
        for n in oem persistent; do
                read -r start size <<EOF2
$(part_of "$W/disk.img" "$n")
EOF2
                dd if="$W/disk.img" of="$p/$n.img" bs=512 skip="$start" count="$size" status=none
                echo "$start" > "$p/$n.start"
        done
        openssl genrsa -out "$W/foreign.pem" 2048 2>/dev/null
        openssl rsa -in "$W/foreign.pem" -pubout -out "$W/foreign.pub.pem" 2>/dev/null
        cp -a "$dd/tpm" "$W/tpm"
        rm -f "$W/tpm/.lock"
        swtpm socket --tpm2 --tpmstate dir="$W/tpm" --server type=unixio,path="$sock" \
                --ctrl type=unixio,path="$sock.ctrl" --flags not-need-init,startup-clear --daemon
        tcti=swtpm:path=$sock
        {
                "$USI_INIT" enroll --remove-token=0 "$p/persistent.img" &&
                "$USI_INIT" enroll --tpm2-device="$tcti" --public-key="$W/foreign.pub.pem" \
                        --bind-after="oem:$dd/password:$p/oem.img" --unlock-key-file="$dd/password" \
                        "$p/persistent.img"
        } >> "$W/heal.log" 2>&1 || fail "breaking persistent's token: $(tail -n1 "$W/heal.log")"
        swtpm_ioctl --unix "$sock.ctrl" -s >/dev/null 2>&1
        rm -f "$sock" "$sock.ctrl"
        rk=$("$USI_INIT" enroll --recovery-key --unlock-key-file="$dd/password" "$p/persistent.img" 2>>"$W/heal.log" |
                sed -n 2p)
        [ ${#rk} = 71 ] || { fail "no recovery key: $(tail -n1 "$W/heal.log")"; return 1; }
        dd if="$p/persistent.img" of="$W/disk.img" bs=512 seek="$(cat "$p/persistent.start")" conv=notrunc status=none

        printf 'volumes:\n  - name: persistent\n    unlock: [tpm2, recovery-key]\ntpm:\n  reseal: auto\n' > "$W/heal.yaml"
        node_initrd "$W/initrd.img" --extra "$dd/extra" --add "$W/heal.yaml:/etc/usi-init/config.yaml" || return 1

        # Boot 1: the TPM fails for persistent, a person types the key.
        node_boot recover "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" --append "$E2E_CMDLINE"
        wait_console 'Recovery key for volume persistent|boot failed' ||
                { boot_stop; fail "no recovery-key prompt for persistent"; return 1; }
        grep -q 'boot failed' "$W/recover.console" && { boot_stop; fail "the boot failed: $(failure_banner)"; return 1; }
        expect_console 'volume persistent: tpm2 unlock of /dev/vda2 failed: token 0: signature file /\.extra/tpm2-pcr-signature\.json: no signature by key' \
                "that persistent's TPM token failed first, naming the signature file it read"
        send "$(printf '%s' "$rk" | tr -d - | tr 'a-z' 'A-Z')"
        await_final || return 1
        expect_console 'volume persistent: resealed: token [0-9]+ \(keyslot [0-9]+\) sealed to the booted image.s key [0-9a-f]{8}\.\., PCR 15 at [0-9a-f]{8}\.\. \(bound as before\); removed token\(s\) 0' \
                "the reseal, bound as before, the failed token removed"
        s=$W/recover.res/state.json
        expect_eq "state.json: persistent unlocked by" \
                "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == 'persistent'][0]['unlocked_by']")" recovery-key
        case $(json_get "$s" "[x for x in j['volumes'] if x['name'] == 'persistent'][0]['reseal']") in
        "token "*" sealed to the booted image's key "*) ;;
        *) fail "state.json does not record the reseal: $(json_get "$s" "[x for x in j['volumes'] if x['name'] == 'persistent'][0].get('reseal')")" ;;
        esac
        "$USI_INIT" status --state-file "$s" > "$W/status.txt" 2>&1
        grep -q '^Volume persistent: reseal: token ' "$W/status.txt" ||
                fail "usi-init status does not show the reseal: $(tr '\n' '|' < "$W/status.txt")"
        grep -qi "$rk" "$s" "$W/recover.console" 2>/dev/null && fail "the recovery key was written out"

        # Boot 2: nobody types anything; both open by TPM, still bound.
        node_initrd "$W/plain.img" --extra "$dd/extra" --add "$W/heal.yaml:/etc/usi-init/config.yaml" || return 1
        boot_node_to_final healed "$dd" --initrd "$W/plain.img" --disk "$W/disk.img" --append "$E2E_CMDLINE" || return 1
        judge_layout selfheal
        ! grep -aq 'Recovery key for' "$W/healed.console" || fail "the healed boot asked for the recovery key"
        s=$W/healed.res/state.json
        expect_eq "healed: unlocked by (oem, persistent)" \
                "$(json_get "$s" "' '.join(x['unlocked_by'] for x in j['volumes'] if x['name'] in ('oem', 'persistent'))")" "tpm2 tpm2"
        expect_eq "healed: volumes bound" "$(json_get "$s" 'j["volumes_bound"]')" yes
}
