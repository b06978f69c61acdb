# Helpers for the sysext tests: a work directory, test keys and an extension
# tree. Source after tests/integration/tap.sh. Images are built at test time
# by make-image.sh (systemd-repart needs root and loop devices to format).
set -u

: "${USI_INIT:?USI_INIT must point at the built usi-init}"
sx_make() { bash "$top_srcdir/tests/sysext/make-image.sh" "$@"; }

sx_require() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (systemd-repart formats through loop devices)"
	[ -e /dev/loop-control ] || skip_all "no loop devices on this machine (/dev/loop-control missing)"
	for t in systemd-repart mksquashfs mkfs.erofs openssl sfdisk sgdisk veritysetup python3; do
		command -v "$t" >/dev/null || skip_all "needs $t (tools/packages.txt)"
	done
	T=$(mktemp -d /tmp/usi-sysext.XXXXXX)
	trap sx_cleanup EXIT
	export TMPDIR="$T/tmp"
	mkdir -m 1777 "$TMPDIR"
}

sx_cleanup() {
	[ -n "${SX_KEEP:-}" ] && return
	rm -rf "$T"
}

# sx_key NAME CN: a self-signed RSA test key pair, $T/NAME.key and $T/NAME.crt.
sx_key() {
	openssl req -new -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$2" \
		-keyout "$T/$1.key" -out "$T/$1.crt" 2>/dev/null
}

# sx_tree DIR NAME: an extension tree with its release file and one program.
sx_tree() {
	mkdir -p "$1/usr/lib/extension-release.d" "$1/usr/bin"
	echo "ID=_any" > "$1/usr/lib/extension-release.d/extension-release.$2"
	printf '#!/bin/sh\necho hello from %s\n' "$2" > "$1/usr/bin/$2-hello"
	chmod 755 "$1/usr/bin/$2-hello"
}

# sx_image KIND OUT [KEYNAME]: make-image.sh with the test tree and key.
sx_image() {
	local k=${3:-test}
	sx_make "$1" "$2" "$T/tree" "$T/$k.key" "$T/$k.crt"
}
