#!/bin/sh
# The TPM phase of unlocking two volumes under a discrete-TPM latency model:
# usi-init against systemd 252's own path (its libcryptsetup token plugin,
# as systemd-cryptsetup uses it), both on the same swtpm, the same two
# systemd-cryptenroll tokens and the same signature. tests/tpm/tpm-proxy.py
# sits between each and the swtpm and adds up what each command would cost
# on a discrete TPM (bench/tpm-latency.txt), without and with the kernel
# resource manager's context swaps (--rm-model), and, for usi-init, with a
# persistent SRK. The figures are modelled (summed, not slept), so one run
# gives them; --runs N repeats the wall-clock times only.
#
# usage: bench/tpm-phase.sh [--runs N] [--usi-init BIN] [--helper BIN]
# Prints a table, then "tpm-commands ratio usi-init/baseline: X.XX" (the
# modelled TPM time with the resource manager model, the path /dev/tpmrm0
# takes) last.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
runs=1 bin=$top/build/usi-init helper=$top/build/tests/bench/tpm-systemd-unlock
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--usi-init) bin=$2; shift 2 ;;
	--helper) helper=$2; shift 2 ;;
	*) echo "tpm-phase.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
if [ ! -x "$helper" ]; then
	make -C "$top/build" tests/bench/tpm-systemd-unlock >&2 || { echo "tpm-phase.sh: cannot build $helper" >&2; exit 1; }
fi
PROXY=${TPM_PROXY:-$top/tests/tpm/tpm-proxy.py}
LATENCY=$top/bench/tpm-latency.txt
RM=8,8          # ContextLoad, ContextSave (bench/tpm-latency.txt)
top_srcdir=$top USI_INIT=$(realpath "$bin")
export top_srcdir USI_INIT
# The fixtures of the TPM tests (their TAP lines go to standard error).
. "$top/tests/tpm/lib.sh"
exec 3>&1 1>&2
tpm_require tpm2_createprimary tpm2_evictcontrol
signed_node
for v in a b; do
	make_image "$T/$v"
	enroll "$T/$v" sign --tpm2-pcrs= || { echo "tpm-phase.sh: systemd-cryptenroll failed" >&2; exit 1; }
done
REAL=$T/tpm/sock

# measure NAME MODEL COMMAND...: run COMMAND against the proxy; appends
# "NAME MODEL commands modelled_ms wall_ms" to $T/rows.
measure() {
	_name=$1 _model=$2; shift 2
	rm -f "$T/p.sock" "$T/p.sock.ctrl" "$T/p.pid" "$T/sum"
	# shellcheck disable=SC2046
	python3 "$PROXY" --listen "$T/p.sock" --tpm "$REAL" --latency "$LATENCY" --model-only \
		$([ "$_model" = rm ] && echo --rm-model "$RM") --summary "$T/sum" --log "$T/log.$_name.$_model" --pid-file "$T/p.pid" &
	_pp=$!
	for _i in $(seq 200); do [ -s "$T/p.pid" ] && break; sleep 0.05; done
	[ -s "$T/p.pid" ] || { echo "tpm-phase.sh: the proxy did not start" >&2; kill $_pp; exit 1; }
	_t0=$(date +%s%N)
	"$@" > "$T/run.out" 2>&1 || { cat "$T/run.out" >&2; echo "tpm-phase.sh: $_name failed" >&2; kill $_pp; exit 1; }
	_t1=$(date +%s%N)
	kill $_pp 2>/dev/null; wait $_pp 2>/dev/null || true
	tpm_flush
	echo "$_name $_model $(awk '$1 == "commands" { print $2 }' "$T/sum") $(awk '$1 == "delay_ms" { print $2 }' "$T/sum") $(( (_t1 - _t0) / 1000000 ))" >> "$T/rows"
}
PT=swtpm:path=$T/p.sock
for i in $(seq "$runs"); do
	for model in none rm; do
		measure usi-init "$model" "$USI_INIT" unlock --check --tpm2-device="$PT" --signature="$T/sig.json" "$T/a" "$T/b"
		measure systemd-252 "$model" "$helper" "$PT" "$T/sig.json" "$T/a" "$T/b"
	done
done
# With a persistent SRK of the tokens' template (0x81000001): no CreatePrimary.
tt tpm2_createprimary -Q -C o -g sha256 -G ecc256:null:aes128cfb -a "$PRIMARY_ATTRS" -c "$T/p.ctx"
tt tpm2_evictcontrol -Q -C o -c "$T/p.ctx" 0x81000001
tpm_flush
for model in none rm; do
	measure usi-init+SRK "$model" "$USI_INIT" unlock --check --tpm2-device="$PT" --signature="$T/sig.json" "$T/a" "$T/b"
done


exec 1>&3
python3 - "$T/rows" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, model, cmds, ms, wall = line.split()
    rows.setdefault((name, model), []).append((int(cmds), float(ms), int(wall)))
print("| two volumes | resource manager model | TPM commands | modelled TPM time (ms) | wall on swtpm (ms, median) |")
print("|---|---|---|---|---|")
for (name, model), r in rows.items():
    print("| %s | %s | %d | %.0f | %.0f |" % (name, "yes" if model == "rm" else "no", r[0][0], r[0][1],
                                             statistics.median(x[2] for x in r)))
def ms(name, model):
    return rows[(name, model)][0][1]
print()
for model, target in (("none", 0.30), ("rm", 0.25)):
    q = ms("usi-init", model) / ms("systemd-252", model)
    print("tpm ratio usi-init/systemd-252 (%s resource manager model): %.2f (target <= %.2f: %s)" %
          ("with" if model == "rm" else "without", q, target, "met" if q <= target else "missed"))
srk = ms("usi-init+SRK", "none")
print("usi-init with an SRK, two volumes: %.0f ms modelled (target <= 400 ms: %s)" % (srk, "met" if srk <= 400 else "missed"))
print("tpm-commands ratio usi-init/baseline: %.2f" % (ms("usi-init", "rm") / ms("systemd-252", "rm")))
EOF
