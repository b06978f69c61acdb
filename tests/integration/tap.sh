# Shell TAP helpers for the integration tests: source this file, call check /
# ok / not_ok / skip for each case, then done_testing. The automake TAP driver
# counts every case.
_tap_n=0

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $*"; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP $2"; }
diag() { printf '# %s\n' "$@"; }

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() {
	_d=$1; shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}

# skip_all REASON: the whole script cannot run on this machine.
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

done_testing() { echo "1..$_tap_n"; exit 0; }
