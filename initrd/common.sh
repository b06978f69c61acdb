# Shared by the initrd/ scripts (sourced, not run). POSIX sh.
#
# Everything the kit builds or downloads lives under one output directory so
# a rerun reuses it and `rm -rf out` starts over. USI_OUT overrides the default
# `out/` at the top of the repository; every script also takes --out DIR.

USI_TOP=$(cd "$(dirname "$0")/.." && pwd)
: "${USI_OUT:=$USI_TOP/out}"

msg() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { msg "error: $*"; exit 1; }

need() {
        for _c in "$@"; do
                command -v "$_c" >/dev/null 2>&1 ||
                        die "'$_c' not found; see tools/packages.txt (apt-get install the package that ships it)"
        done
}

# Absolute form of a path that may not exist yet.
abspath() {
        case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$(pwd)" "$1" ;;
        esac
}

# The kernel fetch-kernel unpacked: sets KVER, KROOT (the unpacked tree) and
# VMLINUZ. Fails with a hint when fetch-kernel has not run.
kernel_load() {
        [ -f "$USI_OUT/kernel/version" ] || die "no kernel in $USI_OUT/kernel; run initrd/fetch-kernel first"
        KVER=$(cat "$USI_OUT/kernel/version")
        KROOT=$USI_OUT/kernel/root
        VMLINUZ=$KROOT/boot/vmlinuz-$KVER
        [ -f "$VMLINUZ" ] || die "$VMLINUZ missing; rerun initrd/fetch-kernel"
}

# ---- software TPM --------------------------------------------------------
# swtpm on a unix socket for host-side tools (systemd-cryptenroll,
# systemd-measure, tpm2-tools). The swtpm TCTI finds the control channel at
# SOCK.ctrl. Sets SWTPM_SOCK and SWTPM_TCTI.
swtpm_start() {
        _state=$1 _sock=$2
        need swtpm swtpm_ioctl
        mkdir -p "$_state"
        rm -f "$_sock" "$_sock.ctrl"
        swtpm socket --tpm2 --tpmstate dir="$_state" \
                --server type=unixio,path="$_sock" --ctrl type=unixio,path="$_sock.ctrl" \
                --flags not-need-init,startup-clear --daemon
        # --daemon returns once the sockets are bound.
        [ -S "$_sock" ] || die "swtpm did not create $_sock"
        SWTPM_SOCK=$_sock
        SWTPM_TCTI=swtpm:path=$_sock
}

# Stopping through the control channel makes swtpm write its state out.
swtpm_stop() {
        [ -n "${SWTPM_SOCK:-}" ] || return 0
        swtpm_ioctl --unix "$SWTPM_SOCK.ctrl" -s >/dev/null 2>&1 || true
        SWTPM_SOCK=
}

sha256_hex() { sha256sum | cut -c1-64; }

# PCR extend in software: new = SHA256(old || digest), both given in hex.
pcr_extend_hex() {
        printf '%s%s' "$1" "$2" | xxd -r -p | sha256_hex
}

# The PCR-signing key pair (RSA 2048, as systemd-measure expects), one per
# output directory so every image of a run trusts the same key.
pcr_keys() {
        PCR_PRIV=$USI_OUT/keys/pcr-private.pem
        PCR_PUB=$USI_OUT/keys/pcr-public.pem
        [ -f "$PCR_PRIV" ] && [ -f "$PCR_PUB" ] && return 0
        need openssl
        mkdir -p "$USI_OUT/keys"
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PCR_PRIV.tmp" 2>/dev/null
        openssl rsa -in "$PCR_PRIV.tmp" -pubout -out "$PCR_PUB" 2>/dev/null
        mv "$PCR_PRIV.tmp" "$PCR_PRIV"
}

# systemd-measure sign for a boot that measures no UKI sections (a plain
# -kernel boot: PCR 11 starts from its reset value and only the phase words
# are extended). systemd-measure computes from sections or, with --current,
# from the PCR value sysfs shows; we give it FROM_HEX through a private sysfs
# view. Needs a TPM for its trial session: TCTI as $1.
#   measure_sign_from TCTI FROM_HEX OUT.json PHASE...
measure_sign_from() {
        _tcti=$1 _from=$2 _outjson=$3
        shift 3
        _phases=
        for _p in "$@"; do _phases="$_phases --phase=$_p"; done
        need unshare
        # shellcheck disable=SC2086
        unshare -m sh -eu -c '
                mount -t tmpfs usi-pcr /sys/class
                mkdir -p /sys/class/tpm/tpm0/pcr-sha256
                echo "$1" > /sys/class/tpm/tpm0/pcr-sha256/11
                shift
                exec /usr/lib/systemd/systemd-measure sign --current --bank=sha256 "$@"
        ' sh "$_from" --private-key="$PCR_PRIV" --public-key="$PCR_PUB" \
                --tpm2-device="$_tcti" $_phases > "$_outjson.tmp" ||
                die "systemd-measure sign failed (SYSTEMD_LOG_LEVEL=debug says why; it needs libtss2-tcti-swtpm0)"
        mv "$_outjson.tmp" "$_outjson"
}
