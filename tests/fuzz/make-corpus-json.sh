#!/bin/sh
# Seeds of fuzz-state and fuzz-json. state.json files are written by
# usi-init itself: `usi-init boot --root DIR --no-handoff` over an empty
# root in a private mount namespace (unshare -m; needs root; with no
# COS_OEM device it fails after 1 s and says so), once plain and once with the boot loader's EFI variables (--efivars, the fuzz-efivars
# seeds), plus a record edited from it (python3: the hand-off window, pcr11_base,
# warnings, PCR 15 measurements). fuzz-json
# gets JSON as the tools write it: those records, the LUKS2 metadata
# (cryptsetup luksDump --dump-json-metadata of the fuzz-luks2 seeds, padded
# to a device's size), a
# verity-sig partition (from the fuzz-sysext seed), a signature file and a
# token, and a few small texts at the edges of what the door takes: a NUL
# escape, single quotes, trailing text, not an object.
# Run make-corpus-luks2.sh, make-corpus-sysext.sh, make-corpus-pcrsig.sh and
# make-corpus-efivars.sh first.
# Usage: tests/fuzz/make-corpus-json.sh [USI_INIT [CORPUS]]  (default build/usi-init, tests/fuzz/corpus)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
usi=$(realpath "${1:-$here/../../build/usi-init}")
out=${2:-$here/corpus}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$out/fuzz-state" "$out/fuzz-json" "$t/efivars"
[ "$(id -u)" = 0 ] || { echo "make-corpus-json: needs root (usi-init boot --root mounts, in a namespace)" >&2; exit 1; }
guid=4a67b082-0a4c-41cf-b6c7-440b29bb8c4f
cp "$out/fuzz-efivars/active" "$t/efivars/LoaderEntrySelected-$guid"
cp "$out/fuzz-efivars/partuuid" "$t/efivars/LoaderDevicePartUUID-$guid"
boot() { # NAME [boot options]
	name=$1; shift
	mkdir -p "$t/$name/root"
	unshare -m --propagation private sh -c 'u=$0 d=$1; shift; "$u" boot --root "$d/root" --no-handoff \
		--cmdline rd.usi.timeout=1 "$@" >/dev/null 2>&1; cp "$d/root/run/usi-init/state.json" "$d/state.json"' \
		"$usi" "$t/$name" "$@"
	cp "$t/$name/state.json" "$out/fuzz-state/$name.json"
}
boot plain
boot kairos --efivars "$t/efivars"
python3 - "$out/fuzz-state/plain.json" "$out/fuzz-state/edited.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s.update(handoff_window={"checked": True, "keys_unsealable": True, "reason": "PCR 11 after leave-initrd is still signed", "signature": "/x"},
         pcr11_base="00" * 32, warnings=["a warning"],
         volume_key_measurements=[{"pcr": 15, "bank": "sha256", "description": "volume persistent", "digest": "ab" * 32}])
json.dump(s, open(sys.argv[2], "w"), indent=2)
PY

cp "$out/fuzz-state/plain.json" "$out/fuzz-state/edited.json" "$out/fuzz-json/"
for s in plain tpm2-token; do
	cp "$out/fuzz-luks2/$s" "$t/luks2" && truncate -s 16M "$t/luks2"
	cryptsetup luksDump --dump-json-metadata "$t/luks2" > "$out/fuzz-json/luks2-$s.json"
done
off=$(sfdisk -d "$out/fuzz-sysext/signed.raw" | awk -F'[=,]' '$1 ~ /raw3 / { print $2 * 512 }')
tail -c +$((off + 1)) "$out/fuzz-sysext/signed.raw" | tr -d '\000' > "$out/fuzz-json/verity-sig.json"
cp "$out/fuzz-pcrsig/file-only.json" "$out/fuzz-json/pcrsig.json"
cp "$out/fuzz-token/token-v254" "$out/fuzz-json/token.json"
printf '{"sha256\\u0000x":[]}' > "$out/fuzz-json/nul-escape"
printf "{'a':'b'}" > "$out/fuzz-json/single-quotes"
printf '{"a":1} x' > "$out/fuzz-json/trailing"
printf '[{"a":1}]' > "$out/fuzz-json/array"
printf '{"a":{"b":[1,2.5,true,null,"\\u00e9"]}}\n' > "$out/fuzz-json/nested"
