#!/bin/sh
# The plan command as a user runs it: exit codes, text and JSON output.
. "$top_srcdir/tests/integration/tap.sh"

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

"$USI_INIT" plan --json --cmdline "" > "$t/plan.json" 2> "$t/err"
check "plan --json without a config exits 0" test $? = 0
check "plan --json prints valid JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$t/plan.json"
check "the default plan mounts COS_OEM on /oem and COS_PERSISTENT on /usr/local" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
v = {x["name"]: x for x in p["volumes"]}
assert v["oem"]["mount"] == "/oem" and v["oem"]["match"][0] == {"kind": "luks_label", "value": "COS_OEM"}
assert v["persistent"]["mount"] == "/usr/local" and v["persistent"]["match"][0]["value"] == "COS_PERSISTENT"
assert p["overlay"]["paths"] == ["/etc", "/srv", "/var"] and p["overlay"]["size"] == "25%"
b = {e["path"]: e["state"] for e in p["binds"]["entries"]}
assert b["/etc/ssh"] == "/usr/local/.state/etc-ssh.bind"
' "$t/plan.json"

"$USI_INIT" plan > "$t/plan.txt"
check "plan prints the actions in boot order" sh -c "grep -n 'find volume oem' '$t/plan.txt' | grep -q '^3:' && grep -q 'bind /etc/ssh from /usr/local/.state/etc-ssh.bind' '$t/plan.txt'"

printf 'binds:\n  paths: [/etc/ssh, ../x]\n' > "$t/bad.yaml"
"$USI_INIT" plan --config "$t/bad.yaml" > "$t/out" 2> "$t/err"
check "a bad config exits 2" test $? = 2
check "the error names FILE:LINE:COLUMN" grep -q "^$t/bad.yaml:2:21: '../x': relative path" "$t/err"
check "a bad config prints no plan" test ! -s "$t/out"

"$USI_INIT" plan --config "$t/missing.yaml" > /dev/null 2> "$t/err"
check "a missing --config file exits 2 naming it" sh -c "test $? = 2 && grep -q 'missing.yaml: cannot read' '$t/err'"

mkdir -p "$t/root/etc/usi-init/config.d"
printf 'overlay:\n  size: 1G\n' > "$t/root/etc/usi-init/config.yaml"
printf 'on_failure: reboot\n' > "$t/root/etc/usi-init/config.d/50-reboot.yaml"
"$USI_INIT" plan --root "$t/root" --json > "$t/root.json"
check "plan --root reads ROOT/etc/usi-init/config.yaml and config.d" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
assert p["overlay"]["size"] == "1G" and p["on_failure"]["action"] == "reboot"
' "$t/root.json"

printf 'rd.usi.debug rd.usi.bogus=1 rd.usi.config=/etc/extra.yaml\n' > "$t/cmdline"
printf 'reboot_delay: 3\n' > "$t/root/etc/extra.yaml"
"$USI_INIT" plan --root "$t/root" --cmdline-file "$t/cmdline" --json > "$t/cl.json" 2> "$t/err"
check "an unknown rd.usi option is warned about by name" grep -q "warning: unknown kernel command line option rd.usi.bogus" "$t/err"
check "rd.usi.config adds a file read after the system config" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
assert p["on_failure"]["reboot_delay_sec"] == 3 and p["debug"] is True
' "$t/cl.json"

"$USI_INIT" plan --print-defaults > "$t/defaults.yaml"
"$USI_INIT" plan --config "$t/defaults.yaml" --json > "$t/again.json"
check "the printed defaults, read back as a config, give the same plan" cmp -s "$t/plan.json" "$t/again.json"

"$USI_INIT" frobnicate 2> "$t/err"
check "an unknown command exits 2" test $? = 2
"$USI_INIT" --version | grep -q '^usi-init '
check "--version prints the version" test $? = 0

done_testing
