#!/bin/sh
# Three boots on the same images: /etc writes vanish, persistent writes stay;
# an image that gains files seeds only what is missing (seed: missing), or
# also replaces older files (seed: newer, Kairos' rsync -u), never the user's
# newer ones.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require

R=$T/root
pl_root "$R"
echo "image moduli" >"$R/etc/ssh/moduli"
touch -d 2020-01-01 "$R/etc/ssh/moduli" "$R/etc/ssh/sshd_config"
pl_image "$T/oem.img" COS_OEM
pl_image "$T/persistent.img" COS_PERSISTENT
pl_attach "$T/oem.img"
pl_attach "$T/persistent.img"
BOOT="\"\$USI_INIT\" boot --root $R --no-handoff"

pl_ns "
	$BOOT --cmdline rd.immucore.overlay=tmpfs:32m >$T/out1 2>&1; echo \$? >$T/rc1
	grep ' $R/run/usi-init/overlay ' /proc/self/mountinfo >$T/ovl1
	echo ephemeral >$R/etc/ephemeral-file
	echo user >$R/etc/ssh/user_key
	echo 'user edited' >$R/etc/ssh/sshd_config
	echo 'user moduli' >$R/etc/ssh/moduli
	echo 'profile' >$R/root/.profile
	echo 'app log' >$R/var/log/app.log
"
check "first boot exits 0" test "$(cat "$T/rc1")" = 0
check "rd.immucore.overlay=tmpfs:32m sizes the overlay tmpfs" grep -q "size=32768k" "$T/ovl1"

# The image gains a file and a newer sshd_config; moduli stays old there.
echo "new in image" >"$R/etc/ssh/new_in_image"
echo "image v2" >"$R/etc/ssh/sshd_config"
touch -d '+1 day' "$R/etc/ssh/sshd_config"

pl_ns "
	$BOOT >$T/out2 2>&1; echo \$? >$T/rc2
	ls -a $R/etc >$T/etc2
	for f in user_key sshd_config moduli new_in_image; do echo \"\$f=\$(cat $R/etc/ssh/\$f)\"; done >$T/ssh2
	cat $R/root/.profile $R/var/log/app.log >$T/persist2
	stat -c '%a %U' $R/etc/ssh/user_key >$T/mode2
"
check "second boot exits 0" test "$(cat "$T/rc2")" = 0
check "a file written to /etc is gone after the first boot" sh -c "! grep -qx ephemeral-file $T/etc2"
check "a file written under a persistent path is there on the next boot" grep -qx "user_key=user" "$T/ssh2"
check "persistent /root and /var/log kept their files" test "$(cat "$T/persist2" | tr '\n' ' ')" = "profile app log "
check "seed missing: the user's edited file is untouched" grep -qx "sshd_config=user edited" "$T/ssh2"
check "seed missing: the image's new file appears" grep -qx "new_in_image=new in image" "$T/ssh2"
check "seed missing: nothing else changed" grep -qx "moduli=user moduli" "$T/ssh2"

printf 'binds:\n  seed: newer\n' >"$T/newer.yaml"
pl_ns "
	$BOOT --config $T/newer.yaml >$T/out3 2>&1; echo \$? >$T/rc3
	for f in user_key sshd_config moduli new_in_image; do echo \"\$f=\$(cat $R/etc/ssh/\$f)\"; done >$T/ssh3
"
check "third boot (seed: newer) exits 0" test "$(cat "$T/rc3")" = 0
check "seed newer: a file older than the image's is replaced" grep -qx "sshd_config=image v2" "$T/ssh3"
check "seed newer: a file newer than the image's is kept" grep -qx "moduli=user moduli" "$T/ssh3"
check "seed newer: a file only the state dir has is kept" grep -qx "user_key=user" "$T/ssh3"
for i in 1 2 3; do [ "$(cat "$T/rc$i")" = 0 ] || sed 's/^/# /' "$T/out$i"; done
done_testing
