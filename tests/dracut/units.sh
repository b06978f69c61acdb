#!/bin/sh
# systemd-analyze verify (offline, --root of a scratch tree) of the two units:
# syntax, dependencies, and that ExecStart names an executable usi-init at
# /usr/bin/usi-init, where the dracut module installs it. TAP output.
set -eu
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/tests/integration/tap.sh"

command -v systemd-analyze >/dev/null 2>&1 || skip_all "systemd-analyze missing (apt-get install systemd)"
bin=${USI_INIT:-${top_builddir:-.}/usi-init}
[ -x "$bin" ] || skip_all "no built usi-init ($bin)"

work=$(mktemp -d /tmp/usi-units.XXXXXX)
trap 'rm -rf "$work"' EXIT

# root NAME: a scratch tree with both units and the binary.
root() {
        _r=$work/$1
        mkdir -p "$_r/usr/lib/systemd/system" "$_r/usr/bin" "$_r/etc"
        cp "$top/units/usi-init-initrd.service" "$top/units/usi-init-system.service" "$_r/usr/lib/systemd/system/"
        cp "$bin" "$_r/usr/bin/usi-init"
}

verify() {  # verify ROOT UNIT
        if systemd-analyze verify --man=no --root="$1" "$1/usr/lib/systemd/system/$2" > "$work/out" 2>&1 &&
                ! grep -q . "$work/out"; then
                ok "systemd-analyze verify $2"
        else
                sed 's/^/# /' "$work/out"
                not_ok "systemd-analyze verify $2"
        fi
}

# The initrd: /etc/initrd-release, and the sysroot.mount that
# systemd-fstab-generator makes from root= in a real initrd.
root initrd
touch "$work/initrd/etc/initrd-release"
cat > "$work/initrd/usr/lib/systemd/system/sysroot.mount" <<UNIT
[Mount]
What=/dev/disk/by-label/root
Where=/sysroot
UNIT
verify "$work/initrd" usi-init-initrd.service

root system
verify "$work/system" usi-init-system.service

# The checks must hold only for the right reasons: without the binary the
# same verify fails.
root nobin
rm "$work/nobin/usr/bin/usi-init"
if systemd-analyze verify --man=no --root="$work/nobin" "$work/nobin/usr/lib/systemd/system/usi-init-system.service" >/dev/null 2>&1; then
        not_ok "systemd-analyze verify notices a missing /usr/bin/usi-init"
else
        ok "systemd-analyze verify notices a missing /usr/bin/usi-init"
fi

for u in usi-init-initrd.service usi-init-system.service; do
        check "$u: DefaultDependencies=no" grep -qx 'DefaultDependencies=no' "$top/units/$u"
        check "$u: IgnoreOnIsolate=yes" grep -qx 'IgnoreOnIsolate=yes' "$top/units/$u"
done
check "initrd unit before initrd-fs.target" grep -q '^Before=initrd-fs.target' "$top/units/usi-init-initrd.service"
check "system unit before local-fs.target and sysinit.target" \
        grep -q '^Before=local-fs-pre.target local-fs.target sysinit.target' "$top/units/usi-init-system.service"
done_testing
