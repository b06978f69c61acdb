# A power cut while the state dir is updated (binds.seed: newer in the
# image's config): /opt's state dir holds 600 files of 2020 that the image
# has newer versions of, and a file of the user's. QEMU is killed as soon as
# usi-init says it starts seeding /opt. The next boot stops before the binds
# stage (rd.usi.break=binds) to read the state dir as the cut left it: every
# file wholly the old or wholly the new version, none empty or torn. Then it
# goes on: all new, the user's file intact, no temporaries left.
describe="power cut during a 'newer' update: every file wholly old or new, then all new, user file intact, no temporaries"
. "$E2E_DIR/lib-fault-data.sh"

scenario() {
        local p=$W/persistent img=$W/image old dd n_new n_old bad
        old=$p/.state/opt.bind/fault-data
        mkdir -p "$old" "$img"
        echo "COS_PERSISTENT of disk fault-update, made by initrd/make-disk" > "$p/usi-volume"
        fd_tree "$img"
        fd_tree "$old"
        find "$old" -exec touch -d 2020-01-01 {} +
        fd_random "$p/.state/opt.bind/user-file" 8
        fixture_kernel && fixture_disk e2e && fixture_disk fault-update --persistent-tree "$p" || return 1
        dd=$(disk_dir fault-update)
        cp --sparse=always "$dd/disk.img" "$W/disk.img"
        fd_manifest "$img" /opt/fault-data > "$W/new"
        fd_manifest "$old" /opt/fault-data > "$W/old"
        fd_manifest "$p/.state/opt.bind" /opt > "$W/user"
        grep ' ./user-file$' "$W/user" > "$W/user-file"

        printf 'binds:\n  seed: newer\n' > "$W/newer.yaml"
        node_initrd "$W/initrd.img" --extra "$dd/extra" --add "$img:/opt/fault-data" \
                --add "$W/newer.yaml:/etc/usi-init/config.yaml" || return 1
        fd_cut_during_seed "$dd" /opt || return 1

        node_boot next "$dd" --initrd "$W/initrd.img" --disk "$W/disk.img" \
                --append "$E2E_CMDLINE rd.usi.break=binds usi.run=fault-data-check fault.sum=/opt"
        wait_console 'break: a shell before stage binds' 120 || { boot_stop; fail "no break shell before the binds"; return 1; }
        fd_shell_check cut /usr/local/.state/opt.bind/fault-data || { boot_stop; return 1; }
        # Each file as the cut left it: the old or the new bytes, nothing else.
        read -r n_new n_old bad <<EOF2
$(awk 'FNR == 1 { f++ } f == 1 { nw[$4] = $3; next } f == 2 { od[$4] = $3; next }
        $1 == "sum" { if ($3 == nw[$4]) n++; else if ($3 == od[$4]) o++; else b = b " " $4; seen[$4] = 1 }
        END { for (k in nw) if (!(k in seen)) b = b " missing:" k; printf "%d %d %s\n", n, o, (b == "" ? "-" : b) }' \
        "$W/new" "$W/old" "$W/next.cut")
EOF2
        [ "$bad" = - ] || fail "files neither wholly old nor wholly new after the cut:$(echo "$bad" | cut -c1-200)"
        [ $((n_new + n_old)) = 600 ] || fail "$((n_new + n_old)) files of 600 after the cut"
        echo >&2 "# fault-powercut-update: after the cut $n_new new, $n_old old"
        send exit
        wait_final || { boot_stop; fail "the boot did not go on after the break"; return 1; }
        grep -aq 'boot failed' "$W/next.console" && { boot_stop; fail "the boot failed: $(failure_banner)"; return 1; }
        boot_wait
        have_report || { fail "no report from the final OS"; return 1; }
        fd_run_log | sed 's|^sum /opt \([0-9a-f]*\) ./fault-data/|sum /opt/fault-data \1 ./|' > "$W/next.check"
        fd_expect_no_tmp "after the update" "$W/next.check" || return 1
        fd_expect_sums "/opt/fault-data after the update" /opt/fault-data "$W/new" "$W/next.check"
        grep -qxF "$(cat "$W/user-file")" "$W/next.check" || fail "the user's file changed: $(grep user-file "$W/next.check")"
}
