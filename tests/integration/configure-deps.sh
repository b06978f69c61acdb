#!/bin/sh
# configure names the Debian package to install for each missing dependency.
# Each module is hidden in turn from pkg-config (a private PKG_CONFIG_LIBDIR
# holding every other .pc file of the system).
. "$top_srcdir/tests/integration/tap.sh"

src=$(cd "$top_srcdir" && pwd)
[ -f "$src/config.status" ] && skip_all "the source tree is configured in place; configure cannot also run out of tree"
command -v pkg-config > /dev/null || skip_all "no pkg-config"

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

deps="tss2-esys:libtss2-dev tss2-mu:libtss2-dev tss2-rc:libtss2-dev tss2-tctildr:libtss2-dev
libcryptsetup:libcryptsetup-dev mount:libmount-dev blkid:libblkid-dev libudev:libudev-dev
yaml-0.1:libyaml-dev libkmod:libkmod-dev json-c:libjson-c-dev libcrypto:libssl-dev cmocka:libcmocka-dev"

for d in $deps; do
	m=${d%%:*}
	pkg=${d#*:}
	rm -rf "$t/pc" "$t/b"
	mkdir -p "$t/pc" "$t/b"
	for dir in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
		for f in "$dir"/*.pc; do
			[ -e "$f" ] || continue
			[ "$(basename "$f" .pc)" = "$m" ] && continue
			[ -e "$t/pc/$(basename "$f")" ] || ln -s "$f" "$t/pc/"
		done
	done
	(cd "$t/b" && PKG_CONFIG_LIBDIR="$t/pc" PKG_CONFIG_PATH= "$src/configure" -q > /dev/null 2> "$t/err")
	rc=$?
	if [ $rc -ne 0 ] && grep -q "$m not found (pkg-config). On Debian 12: apt-get install $pkg" "$t/err"; then
		ok "without $m, configure stops and names $pkg"
	else
		not_ok "without $m, configure stops and names $pkg (exit $rc)"
		diag "$(tail -n 3 "$t/err")"
	fi
done
done_testing
