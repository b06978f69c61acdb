# Helpers of the fault scenarios (tests/e2e/scenarios/72-fault-*.sh), sourced
# by each. The host cannot open the encrypted volumes: what is on them is read
# in the guest by tests/e2e/guest/fault-data-check (in the final OS through
# usi.run=, or typed into a shell of the initrd) and compared here with
# manifests of the trees the disks and initrds were made from.

FD_GUEST=/usr/lib/usi-test/fault-data-check

# fd_manifest DIR LABEL: the guest program's "sum" lines for the regular files
# of DIR on the host, as they must read in the guest at LABEL.
fd_manifest() {
        (cd "$1" && find . -type f | LC_ALL=C sort | while IFS= read -r f; do
                echo "sum $2 $(sha256sum "$f" | cut -d' ' -f1) $f"
        done)
}

# fd_random FILE KIB: KIB KiB that no other file shares.
fd_random() { head -c "$(($2 * 1024))" /dev/urandom > "$1"; }

# fd_run_log: the guest program's output of the last boot (usi.run=).
fd_run_log() { tr -d '\r' < "$W/$BOOT.res/run-fault-data-check.log" 2>/dev/null; }

# fd_shell_check TAG DIR...: run the guest program in a shell on the console
# (a failure or break shell); its lines, without the tag, in $W/$BOOT.TAG.
fd_shell_check() {
        local tag=$1; shift
        # The end mark is computed, so the echo of the typed line (which the
        # console wraps anywhere) cannot match it.
        send "$FD_GUEST $* 2>&1 | sed 's/^/USI-FD-$tag /'; echo USI-FD-$tag-DONE-\$((6 * 7))"
        wait_console "^USI-FD-$tag-DONE-42" 120 || { fail "the shell did not run $FD_GUEST $*"; return 1; }
        grep -a "^USI-FD-$tag " "$W/$BOOT.console" | tr -d '\r' | sed "s/^USI-FD-$tag //" > "$W/$BOOT.$tag"
        grep -qx end "$W/$BOOT.$tag" || { fail "$FD_GUEST $* did not finish: $(tail -n2 "$W/$BOOT.$tag" | tr '\n' '|')"; return 1; }
}

# fd_expect_sums WHAT LABEL EXPECTED ACTUAL: the "sum LABEL" lines of ACTUAL
# (guest output) are exactly EXPECTED's (a manifest): same files, same bytes.
fd_expect_sums() {
        local d
        d=$(diff <(grep "^sum $2 " "$3" | LC_ALL=C sort) <(grep "^sum $2 " "$4" | LC_ALL=C sort) | grep '^[<>]' | head -n 4 | tr '\n' '|')
        [ -z "$d" ] || fail "$1: $2 differs (< expected, > found): $d"
}

# fd_expect_no_tmp WHAT ACTUAL: no seeding temporary anywhere under /usr/local.
fd_expect_no_tmp() {
        grep -q '^end$' "$2" || { fail "$1: the guest check did not run: $(head -c 300 "$2" 2>/dev/null | tr '\n' '|')"; return 1; }
        ! grep -q '^tmp ' "$2" || fail "$1: temporaries left: $(grep '^tmp ' "$2" | head -n 3 | tr '\n' ' ')"
}

# fd_power_cut: the power cut, QEMU killed at once (no flush of anything the
# guest has not written to the disk file yet).
fd_power_cut() {
        [ -s "$W/$BOOT.pid" ] && kill -9 "$(cat "$W/$BOOT.pid")" 2>/dev/null
        wait "$BOOT_RUNNER" 2>/dev/null
        BOOT_RC=killed
        boot_finish
}

# fd_banner_has WHAT TEXT...: the failure banner contains each TEXT.
fd_banner_has() {
        local what=$1 b t; shift
        b=$(failure_banner)
        for t in "$@"; do
                case $b in *"$t"*) ;; *) fail "$what: the banner does not say '$t': ${b:-<no banner>}"; return 1 ;; esac
        done
}

# fd_tree DIR: the content of a persistent path big enough that seeding it
# takes a few seconds of the node's time (20 directories of 30 files of
# 40 KiB, 24 MiB), so a power cut can land in the middle of it.
fd_tree() {
        local d f
        for d in $(seq -w 1 20); do
                mkdir -p "$1/d$d"
                for f in $(seq -w 1 30); do
                        head -c 40960 /dev/urandom > "$1/d$d/f$f"
                done
        done
}

# fd_expect_cut_in_seed PATH: the last boot was cut while PATH was seeded:
# its seeding line is on the console and nothing of the binds stage after it.
fd_expect_cut_in_seed() {
        grep -aq "persistent path $1: seeding " "$W/$BOOT.console" || { fail "$BOOT: $1 was never seeded"; return 1; }
        ! grep -aq '^usi-init: extensions:' "$W/$BOOT.console" ||
                { fail "$BOOT: the power cut came after the binds stage ended (seeding $1 was too quick)"; return 1; }
}

# fd_cut_during_seed DISK_DIR PATH: boot "cut" from $W/initrd.img on
# $W/disk.img (written in place), pull the plug when the seeding of the
# persistent PATH starts, and check the cut came before the binds ended.
fd_cut_during_seed() {
        node_boot cut "$1" --initrd "$W/initrd.img" --disk "$W/disk.img" --append "$E2E_CMDLINE"
        wait_console "persistent path $2: seeding [^ ]+ from the image|boot failed" ||
                { boot_stop; fail "the seeding of $2 never started"; return 1; }
        fd_power_cut
        fd_expect_cut_in_seed "$2"
}
