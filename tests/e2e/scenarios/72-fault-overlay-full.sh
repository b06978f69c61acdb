# /etc filled from the final OS until its file system is full. The overlays'
# upper dirs live on a tmpfs of their own (/run/usi-init/overlay, overlay.size,
# 25% of memory by default), so /etc says ENOSPC while /run, which the final
# OS needs for its sockets and pids, keeps its space, the persistent /etc/ssh
# stays writable, and the node goes on (reports, powers off cleanly).
describe="ephemeral /etc full: ENOSPC there, /run and /etc/ssh still writable, the node keeps running"

scenario() {
        fixture_kernel && fixture_disk e2e || return 1
        local dd log v; dd=$(disk_dir e2e)
        node_initrd "$W/initrd.img" || return 1
        boot_node_to_final node "$dd" --initrd "$W/initrd.img" --disk-snapshot "$dd/disk.img" \
                --append "$E2E_CMDLINE usi.run=fault-data-fill" || return 1
        log=$W/node.res/run-fault-data-fill.log
        v() { sed -n "s/^$1=//p" "$log" 2>/dev/null | tr -d '\r' | head -n1; }
        expect_eq "the fill program ran" "$(report 'run fault-data-fill')" 0
        case $(v overlay_base) in
        "tmpfs "*size=*) ;;
        *) fail "the overlays' upper dirs are not on a tmpfs with a size of its own: '$(v overlay_base)'" ;;
        esac
        expect_eq "dd into /etc failed" "$(v fill_rc)" 1
        expect_eq "dd's error" "$(v fill_err)" "No space left on device"
        case $(v etc_write) in *"No space left on device"*) ;; *) fail "a write to the full /etc did not fail with ENOSPC: '$(v etc_write)'" ;; esac
        expect_eq "free KiB on the overlays' tmpfs when full" "$(v overlay_free)" 0
        # 512 MiB of memory: the fill stops at the overlay's 25% (128 MiB), well before /run's 50%.
        [ "$(v fill_kib)" -ge 100000 ] 2>/dev/null && [ "$(v fill_kib)" -le 140000 ] ||
                fail "/etc took $(v fill_kib) KiB, expected about 128 MiB (overlay.size 25% of 512 MiB)"
        [ "$(v run_free_after)" -ge $(( $(v run_free_before) - 1024 )) ] 2>/dev/null ||
                fail "/run lost its space to /etc: $(v run_free_before) KiB free before, $(v run_free_after) after"
        expect_eq "a write to /run with /etc full" "$(v run_write)" ok
        expect_eq "a write to /etc/ssh (persistent) with /etc full" "$(v persist_write)" ok
        expect_eq "a write to /etc after the fill was removed" "$(v etc_after_rm)" ok
        echo >&2 "# fault-overlay-full: $(tr '\n' ' ' < "$log")"
}
