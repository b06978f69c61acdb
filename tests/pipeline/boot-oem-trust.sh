#!/bin/sh
# Trust-chain rule 5: /oem sets the layout, never trust. A usi-init.yaml on
# COS_OEM that switches measuring off, names its own init and asks for a
# shell on failure is read in the second pass; each of those keys is named
# as ignored (console and state.json), and the plan keeps the image's values.
# Its layout keys are still taken.
. "$top_srcdir/tests/integration/tap.sh"
. "$top_srcdir/tests/pipeline/lib.sh"
pl_require

R=$T/root
pl_root "$R"
mkdir -p "$R/etc/usi-init" "$T/oemtree"
printf 'init: [/sbin/image-init]\n' >"$R/etc/usi-init/config.yaml"
# The trust keys of issue 13 (lines 1-6), then more of the same class.
cp "$top_srcdir/tests/data/oem-trust-keys.yaml" "$T/oemtree/usi-init.yaml"
cat >>"$T/oemtree/usi-init.yaml" <<'YAML'
allow_insecure_boot: true
luks:
  ciphers: [cipher_null-ecb]
volumes:
  - name: persistent
    encrypted: no
    unlock: [passphrase]
overlay:
  size: 64m
YAML
printf '#!/bin/sh\necho evil\n' >"$T/oemtree/evil"
chmod +x "$T/oemtree/evil"
pl_oem_disks "$T/oemtree"
pl_boot_state "$R"
check "boot with trust keys on /oem exits 0" test "$(cat "$T/rc")" = 0
[ "$(cat "$T/rc")" = 0 ] || sed 's/^/# /' "$T/out"
check "state.json: the plan was rebuilt with the /oem config" test "$(pl_json "$T/state.json" 's["oem_config"]')" = true
check "the plan keeps measure_phases" test "$(pl_json "$T/state.json" 's["plan"]["tpm"]["measure_phases"]')" = true
check "the plan keeps measure_volume_keys" test "$(pl_json "$T/state.json" 's["plan"]["tpm"]["measure_volume_keys"]')" = true
check "the init is the image's" test "$(pl_json "$T/state.json" 's["plan"]["init"]["candidates"][0]')" = /sbin/image-init
check "  and /oem/evil is no candidate" test "$(pl_json "$T/state.json" '"/oem/evil" in s["plan"]["init"]["candidates"]')" = false
check "no shell on failure" test "$(pl_json "$T/state.json" 's["plan"]["on_failure"]["action"]')" = halt
check "  and none allowed" test "$(pl_json "$T/state.json" 's["plan"]["on_failure"]["shell_allowed"]')" = false
check "the cipher allow-list is the image's" \
	test "$(pl_json "$T/state.json" '",".join(s["plan"]["luks"]["ciphers"])')" = aes-xts-plain64
check "the persistent volume is still unlocked by tpm2 only" \
	test "$(pl_json "$T/state.json" '[v["unlock"] for v in s["plan"]["volumes"] if v["name"] == "persistent"][0]')" = "['tpm2']"
check "no trust setting came from /oem" \
	test "$(pl_json "$T/state.json" '[k for k, v in s["plan"]["trust_origins"].items() if "/oem/" in v]')" = "[]"
check "the init's origin is the image's file" \
	test "$(pl_json "$T/state.json" 's["plan"]["trust_origins"]["init"]')" = "$R/etc/usi-init/config.yaml:1:7"

F=$R/oem/usi-init.yaml
for k in "2:3: tpm.measure_phases" "3:3: tpm.measure_volume_keys" "4:1: init" "5:1: on_failure" \
	"6:1: allow_shell" "7:1: allow_insecure_boot" "9:3: luks.ciphers" \
	"12:5: volumes.persistent.encrypted" "13:5: volumes.persistent.unlock"; do
	msg="$F:$k ignored: only the image may set this"
	check "state.json names ${k#*: } as ignored" \
		test "$(MSG=$msg pl_json "$T/state.json" '__import__("os").environ["MSG"] in s["warnings"]')" = true
	check "  and so does the console" grep -qF "$msg" "$T/out"
done
check "the layout key of /oem is taken (overlay size 64m)" grep -q " $R/run/usi-init/overlay .*size=65536k" "$T/mi"

done_testing
