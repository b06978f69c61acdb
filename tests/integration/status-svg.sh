#!/bin/sh
# usi-init status --svg: the boot timeline drawn from state.json parses as
# SVG and its bars follow the record (tests/integration/svg-check.py): a
# record of two volumes, one TPM-unsealed, one plain; names that need
# escaping; a failed stage; a record with nothing timed.
. "$top_srcdir/tests/integration/tap.sh"
[ -n "$USI_INIT" ] && [ -x "$USI_INIT" ] || skip_all "USI_INIT is not the built binary"
T=$(mktemp -d /tmp/usi-svg.XXXXXX)
trap 'rm -rf "$T"' EXIT
CHECK="python3 $top_srcdir/tests/integration/svg-check.py"

cat > "$T/state.json" <<'EOF'
{"outcome": "success",
 "stages": [
   {"name": "early", "ms": 10, "start_ms": 1000, "end_ms": 1010, "result": "ok"},
   {"name": "devices", "ms": 300, "start_ms": 1010, "end_ms": 1310, "result": "ok"},
   {"name": "unlock", "ms": 700, "start_ms": 1310, "end_ms": 2010, "result": "ok"},
   {"name": "mounts", "ms": 90, "start_ms": 2010, "end_ms": 2100, "result": "ok"}],
 "volumes": [
   {"name": "oem", "found": true, "found_at_ms": 1200, "unsealed_at_ms": 1700, "opened_at_ms": 1900,
    "mounted_at_ms": 2050},
   {"name": "a<b&\"c\"", "found": true, "found_at_ms": 1300, "mounted_at_ms": 2090},
   {"name": "missing", "found": false}]}
EOF
"$USI_INIT" status --state-file "$T/state.json" --svg "$T/t.svg" >"$T/out" 2>&1; RC=$?
check "status --svg writes the timeline (exit 0, nothing on the terminal)" sh -c '[ "$1" = 0 ] && [ ! -s "$2" ]' - "$RC" "$T/out"
check "it parses, and each bar is the record's, on one time axis" $CHECK "$T/state.json" "$T/t.svg"
check "a volume step that was never reached has no bar" sh -c '! grep -q "data-name=\"missing\"" "$1"' - "$T/t.svg"
check "a name is escaped, never markup" grep -q 'data-name="a&lt;b&amp;&quot;c&quot;"' "$T/t.svg"

# A bar moved: the check sees it (the checker is not blind).
sed 's/data-step="unsealed" data-start-ms="1200" data-end-ms="1700" x="[0-9.]*"/data-step="unsealed" data-start-ms="1200" data-end-ms="1700" x="400.00"/' \
	"$T/t.svg" > "$T/moved.svg"
check "the checker refuses a bar off its place" sh -c '! $1 "$2" "$3" >/dev/null' - "$CHECK" "$T/state.json" "$T/moved.svg"

"$USI_INIT" status --state-file "$T/state.json" --svg - > "$T/stdout.svg" 2>"$T/err"
check "--svg - writes to standard output" cmp "$T/t.svg" "$T/stdout.svg"

python3 -c 'import json, sys
s = json.load(open(sys.argv[1])); s["outcome"] = "failed"; s["stages"][2]["result"] = "No such device"
json.dump(s, open(sys.argv[2], "w"))' "$T/state.json" "$T/failed.json"
"$USI_INIT" status --state-file "$T/failed.json" --svg "$T/failed.svg" >/dev/null 2>&1
check "a failed stage: drawn, and labelled failed" grep -q '>unlock (failed)</text>' "$T/failed.svg"

printf '{"outcome": "failed", "stages": [], "volumes": []}\n' > "$T/empty.json"
OUT=$("$USI_INIT" status --state-file "$T/empty.json" --svg "$T/empty.svg" 2>&1); RC=$?
check "a record with no timed stage: exit 1, saying so" \
	sh -c '[ "$1" = 1 ] && printf "%s" "$2" | grep -q "the record has no timed stage to draw"' - "$RC" "$OUT"
ln -s /nonexistent "$T/link.svg"
OUT=$("$USI_INIT" status --state-file "$T/state.json" --svg "$T/link.svg" 2>&1); RC=$?
check "the output is never written through a symlink" sh -c '[ "$1" = 1 ] && [ ! -e /nonexistent ]' - "$RC"
done_testing
