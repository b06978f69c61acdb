# End-to-end test framework (bash, sourced by tests/e2e/run). A scenario is
# one file in tests/e2e/scenarios/: NN-NAME.sh defining
#   describe="one line"
#   scenario() { ... }   # builds what it needs, boots, judges; calls fail
# Helpers below build initrds, boot QEMU in the background, wait on console
# output with deadlines (never a fixed sleep) and read the final OS's report.

# ---- suite-wide fixtures (built once per run, in $E2E_OUT) ----------------

# The kernel and one enrolled disk with its TPM state, shared read-only:
# scenarios boot it with --disk-snapshot, or copy it when they need writes
# to persist between boots.
# Scenarios run in subshells: a marker file says a fixture is built.
fixture_kernel() {
        [ -e "$E2E_OUT/fixtures/kernel" ] && return 0
        "$TOP/initrd/fetch-kernel" --out "$USI_OUT" >>"$E2E_OUT/fixtures.log" 2>&1 ||
                { log_fixture; fail "initrd/fetch-kernel failed"; return 1; }
        touch "$E2E_OUT/fixtures/kernel"
}

# fixture_disk NAME [make-disk args]: $USI_OUT/disk/NAME, made once per run.
fixture_disk() {
        _n=$1; shift
        [ -e "$E2E_OUT/fixtures/disk-$_n" ] && return 0
        "$TOP/initrd/make-disk" --out "$USI_OUT" --name "$_n" "$@" >>"$E2E_OUT/fixtures.log" 2>&1 ||
                { log_fixture; fail "initrd/make-disk $_n failed"; return 1; }
        touch "$E2E_OUT/fixtures/disk-$_n"
}
disk_dir() { printf '%s\n' "$USI_OUT/disk/$1"; }

log_fixture() { tail -n 20 "$E2E_OUT/fixtures.log" | sed 's/^/#   /' >&2; }

# ---- per-scenario work ----------------------------------------------------

# build_initrd FILE [build-initramfs args]
build_initrd() {
        _img=$1; shift
        "$TOP/initrd/build-initramfs" --out "$USI_OUT" --usi-init "$USI_INIT" --output "$_img" "$@" \
                >>"$W/build.log" 2>&1 || { fail "build-initramfs failed: $(tail -n1 "$W/build.log")"; return 1; }
}

# boot_start NAME [run-qemu args]: boots in the background; console in
# $W/NAME.console, results disk $W/NAME.results. Sets BOOT (the name).
# stdin is a FIFO the scenario can type into with `send`.
boot_start() {
        BOOT=$1; shift
        rm -f "$W/$BOOT.in" "$W/$BOOT.pid" "$W/$BOOT.console"
        mkfifo "$W/$BOOT.in"
        BOOT_T0=$(date +%s.%N)
        "$TOP/initrd/run-qemu" --out "$USI_OUT" --log "$W/$BOOT.console" --pidfile "$W/$BOOT.pid" \
                --results "$W/$BOOT.results" --timeout "$E2E_BOOT_CAP" "$@" \
                <"$W/$BOOT.in" >"$W/$BOOT.qemu" 2>&1 &
        BOOT_RUNNER=$!
        # Opening the write end unblocks QEMU's open of its stdin.
        exec 9>"$W/$BOOT.in"
}

# send TEXT: type a line on the serial console.
send() { printf '%s\r' "$1" >&9; }

boot_running() { kill -0 "$BOOT_RUNNER" 2>/dev/null; }

# wait_console REGEX [SECONDS]: until the console shows REGEX (extended grep),
# QEMU exits, or the deadline passes. 0 when seen.
wait_console() {
        _re=$1 _deadline=$(( $(date +%s) + ${2:-$E2E_BOOT_CAP} ))
        while :; do
                grep -Eq -- "$_re" "$W/$BOOT.console" 2>/dev/null && return 0
                boot_running || { grep -Eq -- "$_re" "$W/$BOOT.console" 2>/dev/null; return; }
                [ "$(date +%s)" -lt "$_deadline" ] || return 1
                sleep 0.1  # polling interval of the console log, not a wait for the guest
        done
}

# boot_wait: until QEMU exits by itself (power off) or the cap; then read
# the report. boot_stop: stop it now (a halted node never exits).
boot_wait() {
        wait "$BOOT_RUNNER" 2>/dev/null; BOOT_RC=$?
        boot_finish
}
boot_stop() {
        if boot_running; then
                [ -s "$W/$BOOT.pid" ] && kill "$(cat "$W/$BOOT.pid")" 2>/dev/null
                wait "$BOOT_RUNNER" 2>/dev/null
        fi
        BOOT_RC=stopped
        boot_finish
}
boot_finish() {
        exec 9>&-
        _secs=$(echo "$BOOT_T0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
        echo "# $E2E_SCENARIO: boot $BOOT ${_secs} s (qemu: $BOOT_RC)" >&2
        echo "$BOOT ${_secs}" >> "$E2E_OUT/timings"
        rm -rf "$W/$BOOT.res"
        mkdir -p "$W/$BOOT.res"
        if [ -s "$W/$BOOT.results" ]; then
                tar -xf "$W/$BOOT.results" -C "$W/$BOOT.res" 2>/dev/null || true
        fi
        # The console copy of the report, for boots without a results disk.
        if [ ! -f "$W/$BOOT.res/report.txt" ]; then
                sed -n '/^USI-REPORT-BEGIN/,/^USI-REPORT-END/p' "$W/$BOOT.console" | tr -d '\r' |
                        sed '1d;$d' > "$W/$BOOT.res/report.txt"
        fi
}

# report KEY: the value of "KEY=value" in the last boot's report.
report() {
        awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' \
                "$W/$BOOT.res/report.txt" 2>/dev/null | tr -d '\r'
}
have_report() { [ -s "$W/$BOOT.res/report.txt" ]; }

# ---- judging ----------------------------------------------------------------
# fail REASON: the first reason is the scenario's verdict; later ones are kept
# in the log for whoever reads it.
fail() {
        [ -n "$E2E_FAILED" ] || E2E_FAILED=$1
        echo "# $E2E_SCENARIO: $1" >&2
        return 1
}

expect_eq() {  # expect_eq WHAT ACTUAL EXPECTED
        [ "$2" = "$3" ] || fail "$1 is '${2:-<none>}', expected '$3'"
}

expect_console() {  # expect_console REGEX WHAT
        grep -Eq -- "$1" "$W/$BOOT.console" || fail "console never showed $2"
}

# json_get FILE EXPR: evaluate a Python expression over the parsed JSON `j`.
json_get() {
        python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1" "$2" 2>/dev/null
}

# The value PCR 11 must have after the phases measured, from make-disk.
pcr11_expected() { cat "$(disk_dir "$1")/pcr11.$2"; }

# ---- PCR 15 (the volume-key latch) --------------------------------------------

# The disk "pcr15": both tokens bind the signed PCR 11 policy, signed for
# enter-initrd AND enter-initrd:leave-initrd (so PCR 11 alone would still
# unseal in the final OS), plus a literal PCR 15 = 0. The passphrase stays,
# to read the volume keys offline.
fixture_disk_pcr15() {
        fixture_disk pcr15 --pcr15 --keep-password --phase enter-initrd --phase enter-initrd:leave-initrd
}

# The volume-binding disks (docs/ARCHITECTURE.md, the PCR 15 chain): `bound`
# is made the bound way; the planted ones are sealed by "an attacker who once
# had the TPM" (make-disk --tpm-from: a copy of bound's TPM state, the same
# signing key) and are spliced into a copy of bound's disk.
fixture_disk_bound() {
        fixture_disk bound --bound --keep-password
}
fixture_disk_planted() {  # fixture_disk_planted NAME [make-disk args]
        local n=$1; shift
        fixture_disk_bound && fixture_disk "$n" --tpm-from "$(disk_dir bound)/tpm" --unbound --keep-password "$@"
}
# disk_parts DISK: "NAME START SIZE" (512-byte sectors) per GPT partition,
# in the table's order. part_of DISK NAME: "START SIZE" of partition NAME
# (empty when there is none).
disk_parts() {
        sfdisk --json "$1" | python3 -c 'import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    print(p["name"], p["start"], p["size"])'
}
part_of() { disk_parts "$1" | awk -v n="$2" '$1 == n { print $2, $3; exit }'; }

# splice_partition FROM_DISK_NAME PART OUT_IMG: copy partition PART (oem or
# persistent) of FROM's disk over the same partition of OUT_IMG (both made
# by make-disk with the same sizes).
splice_partition() {
        local from start size
        from=$(disk_dir "$1")/disk.img
        read -r start size <<EOF2
$(part_of "$from" "$2")
EOF2
        [ -n "$start" ] || { fail "no partition $2 in $from"; return 1; }
        dd if="$from" of="$3" bs=512 skip="$start" seek="$start" count="$size" conv=notrunc status=none
}

# pcr15_volumes DISK_NAME: "NAME UUID KEYHEX" per partition of the disk image,
# in partition order (oem, persistent: the plan's order). The volume key
# comes from cryptsetup on a copy of the partition (the host maps none).
pcr15_volumes() {
        local dd img t n start size
        dd=$(disk_dir "$1") img=$(disk_dir "$1")/disk.img t=$W/pcr15-parts
        mkdir -p "$t"
        disk_parts "$img" | while read -r n start size; do
                dd if="$img" of="$t/$n.img" bs=1M iflag=skip_bytes,count_bytes skip=$((start * 512)) \
                        count=$((size * 512)) status=none
                cryptsetup luksDump --dump-volume-key --batch-mode --key-file "$dd/password" \
                        --volume-key-file "$t/$n.key" "$t/$n.img" >/dev/null || return 1
                echo "$n $(cryptsetup luksUUID "$t/$n.img") $(xxd -p -c 256 "$t/$n.key")"
                rm -f "$t/$n.img" "$t/$n.key"
        done
}

# pcr15_hmac KEYHEX MESSAGE: HMAC-SHA256 as systemd-cryptsetup measures it.
pcr15_hmac() {
        printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -r | cut -d' ' -f1
}

# pcr15_expected VOLUMES_FILE: PCR 15 (sha256) from zero after one extend per
# line of pcr15_volumes, in that order.
pcr15_expected() {
        local v n u k h
        v=$(printf '%064d' 0)
        while read -r n u k; do
                h=$(pcr15_hmac "$k" "cryptsetup:$n:$u")
                v=$(printf '%s%s' "$v" "$h" | xxd -r -p | sha256sum | cut -c1-64)
        done < "$1"
        echo "$v"
}

# ---- the node: usi-init as /init ---------------------------------------------

# The encrypted node boots as a USI (rd.immucore.uki): usi-init measures the
# phase words itself, as on a UKI without systemd in its initrd.
E2E_CMDLINE="console=ttyS0 panic=-1 quiet rd.immucore.uki"
# The unencrypted node cannot be a USI (every volume of one is encrypted).
E2E_CMDLINE_PLAIN="console=ttyS0 panic=-1 quiet"

# node_initrd FILE [--no-extra] [build-initramfs args]: usi-init as /init,
# the e2e disk's signature in /.extra (unless --no-extra, or the args give
# another --extra), and the guest test programs in /usr/lib/usi-test/ for
# usi.run=.
node_initrd() {
        local img=$1 extra
        shift
        extra=$(disk_dir e2e)/extra
        if [ "${1:-}" = --no-extra ]; then
                extra=
                shift
        fi
        case " $* " in *" --extra "*) extra= ;; esac
        build_initrd "$img" ${extra:+--extra "$extra"} \
                --add "$TOP/tests/e2e/guest:/usr/lib/usi-test" "$@"
}

# node_boot NAME DISK_DIR [run-qemu args]: boot with the disk's TPM state.
node_boot() {
        local name=$1 dd=$2
        shift 2
        boot_start "$name" --tpm-state "$dd/tpm" "$@"
}

# The line usi-init prints when a boot fails, without the kmsg prefix.
failure_banner() { grep -a -m1 'boot failed' "$W/$BOOT.console" | tr -d '\r' | sed 's/^\[[ 0-9.]*\] //'; }

# wait_final: until the final OS has reported or the boot failed.
wait_final() {
        wait_console '^USI-REPORT-END|boot failed|Kernel panic' "${1:-$E2E_BOOT_CAP}"
}

# mount_of PATH: "fstype source options" of PATH in the final OS.
mount_of() { report "mount $1"; }

# boot_node_to_final NAME DISK_DIR [run-qemu args]: a boot that must reach the
# final OS; on a failure banner the scenario fails with it.
boot_node_to_final() {
        node_boot "$@"
        await_final
}

# await_final: the running boot must reach the final OS (after whatever the
# scenario typed or plugged in); on a failure banner the scenario fails with it.
await_final() {
        wait_final || { boot_stop; fail "$BOOT: neither the final OS nor a failure banner within ${E2E_BOOT_CAP}s"; return 1; }
        if grep -Eq 'boot failed|Kernel panic' "$W/$BOOT.console"; then
                boot_stop
                fail "$BOOT: the boot failed: $(failure_banner)"
                return 1
        fi
        boot_wait
        have_report || { fail "$BOOT: no report from the final OS"; return 1; }
}

# judge_layout DISK_NAME: what every good boot leaves in the final OS.
judge_layout() {
        expect_eq "final init PID" "$(report pid)" 1
        case " $(report env) " in *" TSS2_LOG "*) fail "the final init inherited usi-init's TSS2_LOG" ;; esac
        case $(mount_of /oem) in ext4\ *) ;; *) fail "/oem is not the ext4 of COS_OEM: '$(mount_of /oem)'" ;; esac
        case $(mount_of /usr/local) in ext4\ *) ;; *) fail "/usr/local is not the ext4 of COS_PERSISTENT: '$(mount_of /usr/local)'" ;; esac
        case $(mount_of /etc) in overlay\ *) ;; *) fail "/etc is not an overlay: '$(mount_of /etc)'" ;; esac
        case $(mount_of /etc/ssh) in ext4\ *) ;; *) fail "/etc/ssh is not bound from the persistent volume: '$(mount_of /etc/ssh)'" ;; esac
        case $(mount_of /dev/shm) in *nosuid*nodev*noexec*) ;; *) fail "/dev/shm lacks nosuid,nodev,noexec: '$(mount_of /dev/shm)'" ;; esac
        expect_eq "a file on /oem" "$(report 'file /oem/usi-volume')" "COS_OEM of disk $1, made by initrd/make-disk"
        expect_eq "a file on /usr/local" "$(report 'file /usr/local/usi-volume')" "COS_PERSISTENT of disk $1, made by initrd/make-disk"
}

# judge_state: state.json of a successful boot, as the final OS found it.
judge_state() {
        local s=$W/$BOOT.res/state.json st
        [ -s "$s" ] || { fail "no /run/usi-init/state.json in the final OS"; return 1; }
        expect_eq "state.json outcome" "$(json_get "$s" 'j["outcome"]')" success
        for st in early modules devices unlock mounts overlays binds; do
                expect_eq "state.json stage $st" "$(json_get "$s" "[x for x in j['stages'] if x['name'] == '$st'][0]['result']")" ok
        done
        for v in oem persistent; do
                expect_eq "state.json $v mounted" "$(json_get "$s" "[x for x in j['volumes'] if x['name'] == '$v'][0]['mounted']")" true
        done
        expect_eq "state.json records the /etc overlay" \
                "$(json_get "$s" "any(m['target'] == '/etc' and m['fstype'] == 'overlay' for m in j['mounts'])")" true
}

# judge_unseal_after unsealed|refused WHAT: what tests/e2e/guest/unseal-after
# (usi.run=unseal-after) found for both volumes from the final OS.
judge_unseal_after() {
        local log=$W/$BOOT.res/run-unseal-after.log
        expect_eq "unseal-after ran" "$(report 'run unseal-after')" 0
        [ "$(grep -c "^$1 " "$log" 2>/dev/null)" = 2 ] || fail "$2: $(tr '\n' ' ' < "$log" 2>/dev/null)"
}

# tampered_extra DIR: a /.extra whose signature is valid, made by the right
# key, but for another image's PCR 11 (a different start value), so the
# PCR 11 the node reaches is not the signed one.
tampered_extra() {
        mkdir -p "$1"
        "$TOP/initrd/sign-pcr" --out "$USI_OUT" --output "$1/tpm2-pcr-signature.json" \
                --from "$(printf 'another image' | sha256sum | cut -c1-64)" >>"$W/build.log" 2>&1 ||
                { fail "initrd/sign-pcr failed: $(tail -n1 "$W/build.log")"; return 1; }
        cp "$(disk_dir e2e)/extra/tpm2-pcr-public-key.pem" "$1/"
}

# wait_failure [SECONDS]: until the failure banner, or fail.
wait_failure() {
        wait_console 'boot failed' "${1:-$E2E_BOOT_CAP}" || { fail "no failure banner within ${1:-$E2E_BOOT_CAP}s"; return 1; }
        if grep -q '^USI-REPORT-BEGIN' "$W/$BOOT.console"; then
                fail "the final OS ran although the boot failed"
                return 1
        fi
}

# expect_halted: the node halted (fail closed), nothing runs any more.
expect_halted() {
        wait_console 'reboot: System halted|reboot: Power down' 15 || fail "the node did not halt after the failure"
}

# expect_refusal_halt: after a trust-chain refusal's banner, typed input
# gets no shell (a shell would answer; input alone is echoed unevaluated),
# the node halts saying why, and the final OS never ran.
expect_refusal_halt() {
        send 'echo USI-SHELL-$((6 * 7))'
        expect_halted
        ! grep -aq 'USI-SHELL-42' "$W/$BOOT.console" || fail "$BOOT: a shell answered after the refusal"
        expect_console 'trust-chain refusal gets no shell' "why no shell was opened"
        ! grep -aq '^USI-REPORT-BEGIN' "$W/$BOOT.console" || fail "$BOOT: the final OS ran"
}

# failure_log_in_shell: in the failure shell on the console, print
# /run/usi-init/failure.log; sets FLOG_STAGE, FLOG_DEVICE, FLOG_REASON and
# FLOG_BANNER (its first line) from it.
failure_log_in_shell() {
        send 'sed "s/^/USI-FLOG /" /run/usi-init/failure.log; echo USI-FLOG-END'
        wait_console '^USI-FLOG-END' 20 || { fail "the failure shell did not print /run/usi-init/failure.log"; return 1; }
        local l; l=$(grep -a '^USI-FLOG ' "$W/$BOOT.console" | tr -d '\r' | sed 's/^USI-FLOG //')
        FLOG_BANNER=$(printf '%s\n' "$l" | sed -n 1p)
        FLOG_STAGE=$(printf '%s\n' "$l" | sed -n 's/^stage: //p')
        FLOG_DEVICE=$(printf '%s\n' "$l" | sed -n 's/^device: //p')
        FLOG_REASON=$(printf '%s\n' "$l" | sed -n 's/^reason: //p')
        [ -n "$FLOG_STAGE" ] || { fail "/run/usi-init/failure.log has no stage line: $(printf '%s' "$l" | tr '\n' '|')"; return 1; }
}
