# System extension fixtures for the e2e scenarios (sourced by the sysext
# scenarios after lib.sh). Built once per run in $E2E_OUT/fixtures/sysext/
# with tests/sysext/make-image.sh (Debian's systemd-repart, as root):
#   sysext.key/.crt      the anchor built into the initrd (/usr/lib/verity.d)
#   foreign.key/.crt     a key nothing trusts
#   snakeoil.key/.crt    Debian's snakeoil key, which the snakeoil OVMF's db holds
#   NAME.raw             an image whose extension-release.NAME matches, holding
#                        /usr/bin/NAME-hello, a small compiled program (a shell
#                        script in a polyglot: its unsigned copy at offset 0
#                        must fit in 446 bytes)
SX=$E2E_OUT/fixtures/sysext

# sx_fixture_keys: the three key pairs.
sx_fixture_keys() {
        [ -e "$SX/.keys" ] && return 0
        mkdir -p "$SX"
        local k
        for k in sysext foreign; do
                openssl req -new -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=usi-e2e-$k" \
                        -keyout "$SX/$k.key" -out "$SX/$k.crt" >>"$E2E_OUT/fixtures.log" 2>&1 ||
                        { fail "openssl req for the $k key failed"; return 1; }
        done
        openssl pkey -in /usr/share/ovmf/PkKek-1-snakeoil.key -passin pass:snakeoil -out "$SX/snakeoil.key" \
                >>"$E2E_OUT/fixtures.log" 2>&1 || { fail "cannot decrypt the snakeoil key (package ovmf)"; return 1; }
        cp /usr/share/ovmf/PkKek-1-snakeoil.pem "$SX/snakeoil.crt"
        touch "$SX/.keys"
}

# sx_image KIND NAME KEY [FILE]: $SX/FILE (default NAME.raw), an image of
# make-image.sh's KIND whose tree is extension NAME, signed with KEY.
sx_image() {
        local kind=$1 name=$2 key=$3 file=${4:-$2.raw} t
        [ -e "$SX/$file" ] && return 0
        sx_fixture_keys || return 1
        t=$SX/tree-$name
        if [ ! -d "$t" ]; then
                mkdir -p "$t.tmp/usr/lib/extension-release.d" "$t.tmp/usr/bin"
                echo "ID=_any" > "$t.tmp/usr/lib/extension-release.d/extension-release.$name"
                if [ "$kind" = polyglot ]; then
                        printf '#!/bin/sh\necho hello from %s\n' "$name" > "$t.tmp/usr/bin/$name-hello"
                        chmod 755 "$t.tmp/usr/bin/$name-hello"
                else
                        printf '#include <stdio.h>\nint main(void) { puts("hello from %s"); return 0; }\n' "$name" > "$SX/$name.c"
                        cc -Os -o "$t.tmp/usr/bin/$name-hello" "$SX/$name.c" >>"$E2E_OUT/fixtures.log" 2>&1 ||
                                { fail "cannot compile $name-hello"; return 1; }
                fi
                mv "$t.tmp" "$t"
        fi
        bash "$TOP/tests/sysext/make-image.sh" "$kind" "$SX/$file.tmp" "$t" "$SX/$key.key" "$SX/$key.crt" \
                >>"$E2E_OUT/fixtures.log" 2>&1 || { log_fixture; fail "make-image.sh $kind $file failed"; return 1; }
        mv "$SX/$file.tmp" "$SX/$file"
}

# sx_dir DIR FILE...: DIR holding copies of the given fixture images.
sx_dir() {
        local d=$1 f; shift
        rm -rf "$d"
        mkdir -p "$d"
        for f; do cp "$SX/$f" "$d/$f"; done
}

# sx_initrd FILE [build-initramfs args]: the node's initrd with systemd as
# the final OS's PID 1 and the anchor certificate built in.
sx_initrd() {
        local img=$1; shift
        sx_fixture_keys || return 1
        node_initrd "$img" --no-extra --compress zstd --final systemd \
                --add "$SX/sysext.crt:/usr/lib/verity.d/usi-e2e.crt" "$@"
}

# sx_uki INITRD OUT [build-uki args]: a UKI whose command line reports the
# merge (tests/e2e/guest/sysext); SX_CMDLINE is its command line.
SX_CMDLINE="$E2E_CMDLINE rd.usi.insecure usi.run=sysext"
sx_uki() {
        local initrd=$1 out=$2; shift 2
        "$TOP/initrd/build-uki" --out "$USI_OUT" --initrd "$initrd" --output "$out" \
                --cmdline "$SX_CMDLINE" "$@" >>"$W/build.log" 2>&1 ||
                { fail "build-uki failed: $(tail -n1 "$W/build.log")"; return 1; }
}

# sx_esp OUT UKI [make-esp args]: an ESP with systemd-boot starting UKI
# through the entry active.conf (the Kairos active state).
sx_esp() {
        local out=$1 uki=$2; shift 2
        "$TOP/initrd/make-esp" --uki "$uki" --entry active --output "$out" "$@" >>"$W/build.log" 2>&1 ||
                { fail "make-esp failed: $(tail -n1 "$W/build.log")"; return 1; }
}

# sx_five_boot: one boot, shared by the scenarios that need it (sysext and
# sysext-bench): five signed images next to the UKI, with the anchor built
# into the initrd. Its console, report and state.json are copied into $W as
# boot "node".
SX_FIVE="one two three four five"
sx_five_boot() {
        local d=$E2E_OUT/fixtures/sysext-five n args=''
        if [ ! -e "$d/.done" ]; then
                fixture_kernel && fixture_disk e2e || return 1
                for n in $SX_FIVE; do
                        sx_image signed "$n" sysext || return 1
                        args="$args --sysext $SX/$n.raw"
                done
                rm -rf "$d"
                mkdir -p "$d"
                # The helpers build and boot in $W: the fixture's directory.
                local w=$W r=0
                W=$d
                sx_initrd "$W/initrd.img" && sx_uki "$W/initrd.img" "$W/node.efi" &&
                        sx_esp "$W/esp.img" "$W/node.efi" $args &&
                        boot_node_to_final node "$(disk_dir e2e)" --esp "$W/esp.img" \
                                --disk-snapshot "$(disk_dir e2e)/disk.img" || r=1
                W=$w
                [ $r = 0 ] || return 1
                touch "$d/.done"
        fi
        cp -a "$d/node.console" "$d/node.res" "$W/"
        BOOT=node
}

# sx_run KEY: the value of "KEY=value" in the last boot's sysext report.
sx_run() {
        awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' \
                "$W/$BOOT.res/run-sysext.log" 2>/dev/null | tr -d '\r'
}

# sx_merged HIERARCHY: the extensions systemd-sysext status lists there.
sx_merged() {
        sx_run status_json | python3 -c 'import json, sys
h = sys.argv[1]
try:
    s = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
for e in s:
    if e.get("hierarchy") == h:
        x = e.get("extensions")
        print(" ".join(sorted(x)) if isinstance(x, list) else (x or ""))' "$1"
}

# sx_judge_systemd: the final OS ran systemd 252 as PID 1, on a shared /.
sx_judge_systemd() {
        expect_eq "the final OS's PID 1" "$(sx_run pid1)" /usr/lib/systemd/systemd
        expect_eq "/ shared in the final OS" "$(sx_run root_shared)" yes
        expect_eq "systemd-sysext.service" "$(sx_run service)" "active success"
}

# sx_state_ext: one line per image state.json's extensions record lists,
# "FILE accepted NAME" or "FILE rejected REASON" (FILE: the base name).
sx_state_ext() {
        python3 - "$W/$BOOT.res/state.json" <<'PY' 2>/dev/null
import json, os, sys
x = json.load(open(sys.argv[1])).get("extensions", {})
for e in x.get("accepted", []):
    print(os.path.basename(e["path"]), "accepted", e["name"])
for e in x.get("rejected", []):
    print(os.path.basename(e["path"]), "rejected", e["reason"])
PY
}

# sx_stage_result: the extensions stage's result in state.json.
sx_stage_result() {
        json_get "$W/$BOOT.res/state.json" "[x for x in j['stages'] if x['name'] == 'extensions'][0]['result']"
}
