#!/bin/sh
# A key file is read from wherever the image's config says, which may be a
# volume the holder of the disk can write (/oem here). Only a regular file
# under the cap, never a FIFO, a symlink, a device or a huge file: those fail
# the unlock at once, naming the file and what it is, and the volume stays
# closed. The genuine key file opens it.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require
command -v timeout >/dev/null || skip_all "needs timeout (coreutils)"
command -v cryptsetup >/dev/null || skip_all "needs cryptsetup"

R=$T/root
pl_root "$R"
printf 'the-key' >"$R/etc/outside.key"   # reached only by the symlink out of /oem
printf 'the-key' >"$T/key"
truncate -s 32M "$T/persistent.img"
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--luks2-keyslots-size 1M --label COS_PERSISTENT --key-file "$T/key" "$T/persistent.img" >/dev/null 2>&1 ||
	skip_all "cannot make a LUKS2 image here"
pl_attach "$T/persistent.img"
cat >"$T/image.yaml" <<YAML
volumes:
  - name: persistent
    encrypted: yes
    unlock: [keyfile]
    keyfile: /oem/persistent.key
YAML

# boot_with KIND: /oem/persistent.key made as KIND, then one boot.
LOOP=
boot_with() {
	rm -rf "$T/oemtree"; mkdir -p "$T/oemtree"
	case $1 in
	genuine) cp "$T/key" "$T/oemtree/persistent.key" ;;
	fifo) mkfifo "$T/oemtree/persistent.key" ;;
	out) ln -s ../etc/outside.key "$T/oemtree/persistent.key" ;;
	zero) ln -s /dev/zero "$T/oemtree/persistent.key" ;;
	chr) mknod "$T/oemtree/persistent.key" c 1 5 ;;
	big) head -c $((8 * 1024 * 1024 + 1)) /dev/zero >"$T/oemtree/persistent.key" ;;
	esac
	pl_image "$T/oem-$1.img" COS_OEM "$T/oemtree"
	[ -z "$LOOP" ] || pl_detach "$LOOP"
	pl_attach "$T/oem-$1.img" LOOP
	pl_ns "
		start=\$(date +%s)
		timeout 60 \"\$USI_INIT\" boot --root $R --no-handoff --config $T/image.yaml >$T/out 2>&1; echo \$? >$T/rc
		echo \$((\$(date +%s) - start)) >$T/secs
		grep -c ' $R/usr/local ' /proc/self/mountinfo >$T/mounted
		for m in /dev/mapper/persistent; do [ -e \$m ] && cryptsetup close persistent; done
	"
}

boot_with genuine
if grep -q "cannot activate: Operation not supported" "$T/out"; then
	# No dm-crypt on this machine: the key file was read and opened the
	# keyslot (a wrong key says "does not open any keyslot"); only the
	# mapping could not be made.
	check "genuine key file on /oem: read, and it opens the keyslot" \
		sh -c '! grep -q "does not open any keyslot\|key file: " "$1"' _ "$T/out"
	skip "  and /usr/local is mounted" "no dm-crypt here"
else
	check "genuine key file on /oem: the boot exits 0" test "$(cat "$T/rc")" = 0
	[ "$(cat "$T/rc")" = 0 ] || sed 's/^/# /' "$T/out"
	check "  and /usr/local is mounted" test "$(cat "$T/mounted")" = 1
fi

for k in fifo out zero chr big; do
	case $k in
	fifo) want="is a FIFO" ;;
	out) want="is a symlink (to ../etc/outside.key)" ;;
	zero) want="is a symlink (to /dev/zero)" ;;
	chr) want="is a character device" ;;
	big) want="is larger than 8388608 bytes" ;;
	esac
	boot_with "$k"
	check "$k: the boot fails, not hangs (exit $(cat "$T/rc") in $(cat "$T/secs") s)" \
		sh -c 'test "$1" != 0 && test "$1" != 124 && test "$2" -lt 30' _ "$(cat "$T/rc")" "$(cat "$T/secs")"
	check "$k:   naming the key file: $want" grep -qF "key file: $R/oem/persistent.key $want" "$T/out"
	grep -qF "key file: $R/oem/persistent.key $want" "$T/out" || sed 's/^/# /' "$T/out"
	check "$k:   and /usr/local is not mounted" test "$(cat "$T/mounted")" = 0
done
done_testing
