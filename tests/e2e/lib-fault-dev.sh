# Helpers of the fault-matrix scenarios (tests/e2e/scenarios/71-fault-*.sh),
# sourced by them after tests/e2e/lib.sh: `. "$E2E_DIR/lib-fault-dev.sh"`.

# fault_no_shell: after a failure banner, typed input gets no shell (a shell
# would answer; input alone is echoed unevaluated), the node halts and the
# final OS never ran.
fault_no_shell() {
        # In a subshell: a QEMU that already exited must not take the
        # scenario down with SIGPIPE.
        ( send 'echo USI-SHELL-$((6 * 7))' ) 2>/dev/null
        expect_halted
        ! grep -aq 'USI-SHELL-42' "$W/$BOOT.console" || fail "$BOOT: a shell answered after the failure"
        ! grep -aq '^USI-REPORT-BEGIN' "$W/$BOOT.console" || fail "$BOOT: the final OS ran"
}

# fault_banner_secs: the kernel's clock (seconds since it started) when the
# banner was logged, from its kmsg copy on the console.
fault_banner_secs() {
        grep -a -m1 '^\[ *[0-9.]*\] usi-init: ==== boot failed' "$W/$BOOT.console" | sed 's/^\[ *\([0-9.]*\)\].*/\1/'
}

# fault_banner_within SECONDS WHAT: the banner came within SECONDS of the
# kernel's start (the deadline the boot must keep, not a fixed sleep).
fault_banner_within() {
        local t; t=$(fault_banner_secs)
        [ -n "$t" ] || { fail "no kernel timestamp on the banner"; return 1; }
        awk -v t="$t" -v d="$1" 'BEGIN { exit !(t < d) }' ||
                fail "the banner came at ${t} s of kernel time, not within $2 (${1} s)"
}

# fault_banner: the banner from "==== boot failed" on, as the console shows
# it (the kernel's copy of the line, or usi-init's own when the kernel's was
# rate-limited away).
fault_banner() { failure_banner | sed 's/^usi-init: \(error: \)\{0,1\}//'; }

# fault_wait_timed REGEX1 REGEX2 MIN MAX WHAT: waits for REGEX1 on the
# console, then for REGEX2, which must come between MIN and MAX seconds
# after it (host time as the lines came; WHAT names REGEX1's event).
fault_wait_timed() {
        local t0 t1 m
        wait_console "$1" 150 || { fail "$BOOT: never showed $5"; return 1; }
        t0=$(date +%s.%N)
        wait_console "$2" 150 || { fail "$BOOT: no failure banner after $5"; return 1; }
        t1=$(date +%s.%N)
        m=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
        echo "# $BOOT: the banner ${m} s after $5" >&2
        awk -v m="$m" -v lo="$3" -v hi="$4" 'BEGIN { exit !(m >= lo && m < hi) }' ||
                fail "$BOOT: the banner came ${m} s after $5, expected within [$3, $4) s"
}

# fault_expect_banner TEXT: the banner is exactly TEXT.
fault_expect_banner() {
        [ "$(fault_banner)" = "$1" ] || fail "banner is '$(fault_banner)', expected '$1'"
}

# fault_tpm_do TPM_DIR COMMAND...: COMMAND (a shell function will do) with
# swtpm serving TPM_DIR and TPM2TOOLS_TCTI pointing at it; the state is
# saved when it returns. Output in $W/tpm-host.log.
fault_tpm_do() {
        local dir=$1 sock=/tmp/usi-fault.$$.sock rc
        shift
        rm -f "$dir/.lock" "$sock" "$sock.ctrl"
        swtpm socket --tpm2 --tpmstate dir="$dir" --server type=unixio,path="$sock" \
                --ctrl type=unixio,path="$sock.ctrl" --flags not-need-init,startup-clear --daemon ||
                { fail "swtpm did not start on $dir"; return 1; }
        ( export TPM2TOOLS_TCTI=swtpm:path=$sock; set -e; "$@" ) >> "$W/tpm-host.log" 2>&1
        rc=$?
        swtpm_ioctl --unix "$sock.ctrl" -s >/dev/null 2>&1
        rm -f "$sock" "$sock.ctrl"
        return $rc
}

# The TPM has no resource manager in front of it here: what a tool leaves
# loaded is flushed after it.
fault_tpm_flush() { tpm2_flushcontext -t; tpm2_flushcontext -l; tpm2_flushcontext -s; }

# Three authorization failures against an object of our own with a
# password (the disk's tokens are not touched), after setting max-tries 3,
# one failure forgiven every 600 s of TPM time (far more than a boot).
fault_tpm_guess_pin() {
        local t=$W/tpm-work i
        mkdir -p "$t"
        tpm2_dictionarylockout --setup-parameters --max-tries=3 --recovery-time=600 --lockout-recovery-time=1200
        tpm2_dictionarylockout --clear-lockout
        fault_tpm_flush
        tpm2_createprimary -Q -C o -G ecc -c "$t/primary.ctx"
        fault_tpm_flush
        printf 'not a volume key' | tpm2_create -Q -C "$t/primary.ctx" -p right -i- -u "$t/o.pub" -r "$t/o.priv"
        fault_tpm_flush
        tpm2_load -Q -C "$t/primary.ctx" -u "$t/o.pub" -r "$t/o.priv" -c "$t/o.ctx"
        fault_tpm_flush
        for i in 1 2 3; do
                if tpm2_unseal -c "$t/o.ctx" -p wrong; then echo "a wrong password was accepted" >&2; return 1; fi
                fault_tpm_flush
        done
}

# fault_tpm_lockout FROM_TPM_DIR TO_TPM_DIR: a copy of a TPM state put in
# dictionary-attack lockout, as a person guessing a PIN would.
fault_tpm_lockout() {
        rm -rf "$2"
        cp -a "$1" "$2"
        fault_tpm_do "$2" fault_tpm_guess_pin || { fail "putting the TPM state in lockout failed: $(tail -n1 "$W/tpm-host.log")"; return 1; }
        fault_tpm_expect_da "$2" 1 3
}

# fault_tpm_expect_da TPM_DIR IN_LOCKOUT COUNTER: the state as the TPM says.
fault_tpm_expect_da() {
        local got
        fault_tpm_do "$1" sh -c 'tpm2_getcap properties-variable > "$0"' "$W/tpm-da.txt" ||
                { fail "tpm2_getcap failed on $1"; return 1; }
        got="$(sed -n 's/^ *inLockout: *//p' "$W/tpm-da.txt") $(sed -n 's/^TPM2_PT_LOCKOUT_COUNTER: *//p' "$W/tpm-da.txt")"
        expect_eq "the TPM's inLockout and counter" "$got" "$2 0x$3"
}

# fault_repack IN_IMG OUT_IMG EDIT...: OUT_IMG is IN_IMG (an uncompressed
# newc cpio from build-initramfs) unpacked, changed by the command EDIT
# run in the unpacked tree, and packed again the way build-initramfs packs.
fault_repack() {
        local in=$1 out=$2 t=$W/repack.tree
        shift 2
        rm -rf "$t"
        mkdir -p "$t"
        (cd "$t" && cpio -idm --quiet < "$in") || { fail "cannot unpack $in"; return 1; }
        (cd "$t" && "$@") || { fail "cannot change the initrd tree: $*"; return 1; }
        (cd "$t" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) > "$out" ||
                { fail "cannot pack $out"; return 1; }
        rm -rf "$t"
}

# fault_monitor SOCK COMMAND...: each COMMAND on QEMU's human monitor at
# SOCK (run-qemu --monitor), in order; prints what the monitor answered to
# each, one line "COMMAND => ANSWER" per command (the answer's lines joined
# by "|", empty when there was none).
fault_monitor() {
        python3 - "$@" <<'PY'
import re, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
def until_prompt():
    buf = b""
    while not buf.endswith(b"(qemu) "):
        d = s.recv(4096)
        if not d:
            break
        buf += d
    # The monitor drives a terminal: drop its escape sequences.
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\r", "", buf.decode(errors="replace"))
until_prompt()
for cmd in sys.argv[2:]:
    s.sendall(cmd.encode() + b"\n")
    lines = until_prompt().split("\n")
    # The echo of the command first, the prompt last.
    lines = [l for l in lines[1:-1] if l.strip()]
    print("%s => %s" % (cmd, "|".join(lines)))
PY
}

# fault_hotadd SOCK ID IMG SNAPSHOT(on|off): a raw disk image hot-added as a
# virtio disk into run-qemu's root port hp1; fails unless QEMU took it.
fault_hotadd() {
        local out
        out=$(fault_monitor "$1" "drive_add 0 if=none,id=$2,format=raw,file=$3,snapshot=$4,cache=unsafe" \
                "device_add virtio-blk-pci,drive=$2,id=$2-dev,bus=hp1" "info pci") ||
                { fail "the QEMU monitor at $1 did not answer"; return 1; }
        printf '%s\n' "$out" | sed 's/^/# monitor: /' | cut -c1-300 >&2
        printf '%s\n' "$out" | grep -qx "drive_add .* => OK" || { fail "QEMU refused drive_add: $(printf '%s' "$out" | sed -n 1p)"; return 1; }
        printf '%s\n' "$out" | grep -qx "device_add .* => " || { fail "QEMU refused device_add: $(printf '%s' "$out" | sed -n 2p)"; return 1; }
        printf '%s\n' "$out" | grep -q "info pci => .*id \"$2-dev\"" || { fail "the hot-added disk is not on QEMU's PCI bus"; return 1; }
}

# fault_split_persistent DISK_NAME NOPERSIST_IMG PERSISTENT_IMG: the disk's
# two volumes on two disks: NOPERSIST_IMG is the disk without its persistent
# partition (the table entry deleted, its bytes zeroed), PERSISTENT_IMG the
# partition's bytes alone: a raw LUKS2 volume with no partition table.
fault_split_persistent() {
        local from start size
        from=$(disk_dir "$1")/disk.img
        read -r start size <<EOF2
$(part_of "$from" persistent)
EOF2
        [ -n "$start" ] || { fail "no persistent partition in $from"; return 1; }
        dd if="$from" of="$3" bs=512 skip="$start" count="$size" status=none || { fail "cannot copy the persistent partition"; return 1; }
        cp --sparse=always "$from" "$2"
        if ! sgdisk --delete=2 "$2" >/dev/null || ! fallocate --punch-hole --offset $((start * 512)) --length $((size * 512)) "$2"; then
                fail "cannot remove the persistent partition from $2"
                return 1
        fi
}
