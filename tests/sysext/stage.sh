#!/bin/bash
# Staging: accepted images handed over as NAME.raw, NAME.verity,
# NAME.roothash and NAME.roothash.p7s that veritysetup and openssl accept;
# rejected ones leave nothing; --consume keeps an image from being held
# twice in a tmpfs.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/sysext/lib.sh"
sx_require

sx_key test usi-sysext-test
sx_key other usi-sysext-other
sx_tree "$T/tree" hello
mkdir "$T/img" "$T/ext"
sx_image signed "$T/img/hello.sysext.raw"
sx_image signed "$T/img/foreign.raw" other
sx_image polyglot "$T/img/poly.raw"
sx_image changed "$T/img/changed.raw"

"$USI_INIT" sysext --stage "$T/ext" --cert "$T/test.crt" "$T/img/foreign.raw" "$T/img/hello.sysext.raw" \
	"$T/img/poly.raw" "$T/img/changed.raw" > "$T/out" 2> "$T/err"
check "staging exits 1 when some image is rejected" test $? = 1
check "the good image is accepted among bad ones" grep -qx "$T/img/hello.sysext.raw: accepted as hello" "$T/out"
check "one line per image" test "$(wc -l < "$T/out")" = 4
check "only the four sidecar files of the good image are staged" \
	test "$(cd "$T/ext" && ls | tr '\n' ' ')" = "hello.raw hello.roothash hello.roothash.p7s hello.verity "
rh=$(cat "$T/ext/hello.roothash")
check "NAME.roothash is the hex root hash, no newline" sh -c "echo '$rh' | grep -qxE '[0-9a-f]{64}' && test \$(stat -c %s '$T/ext/hello.roothash') = 64"
check "veritysetup verifies NAME.raw against NAME.verity and NAME.roothash" \
	veritysetup verify "$T/ext/hello.raw" "$T/ext/hello.verity" "$rh"
check "NAME.roothash.p7s is a DER PKCS#7 by the anchor over NAME.roothash" \
	sh -c "openssl smime -verify -binary -inform DER -in '$T/ext/hello.roothash.p7s' -content '$T/ext/hello.roothash' \
		-certfile '$T/test.crt' -nointern -noverify > /dev/null 2>&1"
check "NAME.raw is the data partition: a squashfs with the tree" \
	sh -c "unsquashfs -l -d x '$T/ext/hello.raw' 2>/dev/null | grep -q 'usr/bin/hello-hello'"
check "the staged files are read-only" test "$(stat -c %a "$T/ext/hello.raw")" = 444
check "the source images are untouched without --consume" test -s "$T/img/hello.sysext.raw"

"$USI_INIT" sysext --stage "$T/ext" --cert "$T/test.crt" "$T/img/hello.sysext.raw" > "$T/out" 2>&1
check "an image already staged is refused, the staged one kept" \
	sh -c "grep -q 'rejected: hello.raw is already staged' '$T/out' && veritysetup verify '$T/ext/hello.raw' '$T/ext/hello.verity' '$rh'"

# Confexts go to their own directory, named without .confext.
mkdir "$T/ext2" "$T/conf"
cp "$T/img/hello.sysext.raw" "$T/img/etc.confext.raw"
"$USI_INIT" sysext --stage "$T/ext2" --confext-dir "$T/conf" --cert "$T/test.crt" \
	"$T/img/etc.confext.raw" "$T/img/hello.sysext.raw" > "$T/out" 2>&1
check "a confext is staged as NAME.raw in the confext directory" \
	sh -c "test -e '$T/conf/etc.raw' && test -e '$T/conf/etc.roothash.p7s' && test ! -e '$T/ext2/etc.raw'"
check "... and a sysext of the same run in the sysext directory" \
	sh -c "test -e '$T/ext2/hello.raw' && test ! -e '$T/conf/hello.raw'"

# Never two copies in RAM: a tmpfs with room for the image and a half, the
# source in it as /.extra/sysext is in the initramfs. Consuming staging fits,
# a plain copy cannot.
if unshare -m true 2>/dev/null; then
	mkdir -p "$T/big/usr/lib/extension-release.d" "$T/big/usr/share"
	echo ID=_any > "$T/big/usr/lib/extension-release.d/extension-release.big"
	head -c 30M /dev/urandom > "$T/big/usr/share/blob"
	DATA_SIZE=32M HASH_SIZE=4M sx_make signed "$T/img/big.raw" "$T/big" "$T/test.key" "$T/test.crt"
	size=$(stat -c %s "$T/img/big.raw")
	tmpfs_kib=$(( size * 3 / 2 / 1024 ))
	mkdir "$T/ram"
	unshare -m sh -c "
		mount -t tmpfs -o size=${tmpfs_kib}k none '$T/ram' && mkdir '$T/ram/src' '$T/ram/ext' &&
		cp '$T/img/big.raw' '$T/ram/src/' &&
		'$USI_INIT' sysext --stage '$T/ram/ext' --cert '$T/test.crt' '$T/ram/src/big.raw' > '$T/plain.out' 2>&1
		echo \$? > '$T/plain.rc'; ls -A '$T/ram/ext' > '$T/plain.left'
		'$USI_INIT' sysext --stage '$T/ram/ext' --consume --cert '$T/test.crt' '$T/ram/src/big.raw' > '$T/consume.out' 2>&1
		echo \$? > '$T/consume.rc'
		ls '$T/ram/src' > '$T/src.left'; ls '$T/ram/ext' > '$T/ext.left'
		veritysetup verify '$T/ram/ext/big.raw' '$T/ram/ext/big.verity' \$(cat '$T/ram/ext/big.roothash') && echo ok > '$T/verify.ok'"
	check "a plain copy does not fit in a tmpfs of 1.5 images: refused before the copy" \
		sh -c "test \$(cat '$T/plain.rc') = 1 && grep -q 'extension big needs .* bytes free in the staging directory' '$T/plain.out'"
	check "... and leaves nothing behind" test ! -s "$T/plain.left"
	check "--consume stages it there: source released while copied" \
		sh -c "test \$(cat '$T/consume.rc') = 0 && grep -q 'accepted as big' '$T/consume.out'"
	check "--consume deletes the source" test ! -s "$T/src.left"
	check "the consumed and staged image still verifies" test -e "$T/verify.ok"
else
	for d in plain plain-clean consume delete verify; do skip "tmpfs staging: $d" "no mount namespaces"; done
fi
done_testing
