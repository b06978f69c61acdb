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

# Every class of bad configuration: exit 2, FILE:LINE:COLUMN, no plan printed.
bad_case() {
	name=$1 pos=$2 words=$3
	printf "$4" > "$t/case.yaml"
	"$USI_INIT" plan --config "$t/case.yaml" > "$t/out" 2> "$t/err"
	rc=$?
	if [ $rc = 2 ] && [ ! -s "$t/out" ] && grep -q "^$t/case.yaml:$pos: .*$words" "$t/err"; then
		ok "bad config ($name): exit 2 with $t/case.yaml:$pos"
	else
		not_ok "bad config ($name): exit $rc"
		diag "$(cat "$t/err")"
	fi
}
bad_case "syntax error" 3:1 "YAML syntax error" 'overlay:\n  paths: [/etc\n'
bad_case "wrong type" 2:13 "expected a boolean" 'root:\n  relocate: maybe\n'
bad_case "unknown key" 1:1 "unknown key 'volume'" 'volume: []\n'
bad_case "relative path" 2:11 "relative path" 'binds:\n  paths: [etc/ssh]\n'
bad_case "dot-dot component" 2:11 "'..' component" 'binds:\n  paths: [/etc/../root]\n'
bad_case "path under /proc" 2:11 "under /proc, /sys or /dev" 'overlay:\n  paths: [/proc/x]\n'
bad_case "duplicate mount point" 4:12 "duplicate mount point /usr/local" 'volumes:\n  - name: d\n    match: { uuid: 1 }\n    mount: /usr/local\n'
bad_case "state dir inside a bound path" 2:14 "is inside the persistent path /srv2" 'binds:\n  state_dir: /srv2/state\n  extra_paths: [/srv2]\n'
bad_case "colliding state names" 2:21 "share the state dir name etc-a-b.bind" 'binds:\n  paths: [/etc/a-b, /etc/a/b]\n'

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

"$USI_INIT" plan --root "$t/root" --cmdline "rd.usi.debug" > /dev/null 2> "$t/err"
check "rd.usi.debug raises the log level" grep -q "configuration read from $t/root/etc/usi-init/config.yaml" "$t/err"
"$USI_INIT" plan --root "$t/root" --cmdline "" > /dev/null 2> "$t/err"
check "without it, no debug lines" test ! -s "$t/err"
"$USI_INIT" --debug plan --root "$t/root" > /dev/null 2> "$t/err"
check "--debug raises the log level" grep -q "configuration read from" "$t/err"

"$USI_INIT" plan --print-defaults > "$t/defaults.yaml"
"$USI_INIT" plan --config "$t/defaults.yaml" --json > "$t/again.json"
# The same plan, but for where each trust setting came from: now the file.
same_but_origins() {
	python3 -c 'import json,sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
fa, fb = a.pop("trust_origins"), b.pop("trust_origins")
sys.exit(not (a == b and fa.keys() == fb.keys() and
              all(v == "(built-in defaults)" for v in fa.values()) and
              all(v.startswith(sys.argv[3] + ":") for v in fb.values())))' "$@"
}
check "the printed defaults, read back as a config, give the same plan" \
	same_but_origins "$t/plan.json" "$t/again.json" "$t/defaults.yaml"

"$USI_INIT" frobnicate 2> "$t/err"
check "an unknown command exits 2" test $? = 2
# --oem reads ROOT/oem as the second pass of a boot does: its trust keys are named as ignored.
mkdir -p "$t/oemroot/oem"
cp "$top_srcdir/tests/data/oem-trust-keys.yaml" "$t/oemroot/oem/usi-init.yaml"
"$USI_INIT" plan --root "$t/oemroot" --oem --json > "$t/oem.json" 2> "$t/oem.err"
check "plan --oem exits 0 with trust keys on /oem" test $? = 0
check "  and names tpm.measure_phases as ignored" \
	grep -qF "$t/oemroot/oem/usi-init.yaml:2:3: tpm.measure_phases ignored: only the image may set this" "$t/oem.err"
check "  and keeps measuring the phases" \
	python3 -c 'import json,sys; sys.exit(not json.load(open(sys.argv[1]))["tpm"]["measure_phases"])' "$t/oem.json"

# rd.usi.config= stays beneath --root: a symlinked directory of the root
# leading out of it is refused, and nothing of the file it reaches is shown.
mkdir "$t/esc" && ln -s "$t/outside" "$t/esc/x" && mkdir "$t/outside"
printf 'secret-line: [\n' > "$t/outside/c.yaml"
echo "rd.usi.config=/x/c.yaml" > "$t/esc.cmdline"
"$USI_INIT" plan --root "$t/esc" --cmdline-file "$t/esc.cmdline" > "$t/out" 2> "$t/err"
check "rd.usi.config= through a symlink out of --root is refused" \
	sh -c "test $? = 2 && grep -q 'rd.usi.config: .* leads outside $t/esc' '$t/err' && ! grep -q 'secret-line\|c.yaml:[0-9]' '$t/err'"

"$USI_INIT" --version | grep -q '^usi-init '
check "--version prints the version" test $? = 0

done_testing
