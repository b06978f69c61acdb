#!/bin/sh
# What usi-init says and does when the TPM, or the way to it, misbehaves.
# tpm-proxy.py sits between usi-init's swtpm TCTI and the test's swtpm and
# injects one fault per case: response codes the TPM may give (PCR_CHANGED,
# RETRY, YIELDED, LOCKOUT, INITIALIZE, OBJECT_MEMORY, MEMORY), a connection
# dropped on a command, a TPM that stops answering, a slow one, malformed
# responses. Each case asserts the one line usi-init prints, that it names
# the TPM where the TPM is the problem, and that it ends in bounded time.
. "$top_srcdir/tests/tpm/lib.sh"
tpm_require timeout
PROXY=$top_srcdir/tests/tpm/tpm-proxy.py

signed_node
make_image "$T/img"
check "systemd-cryptenroll enrols a signed PCR 11 token" enroll "$T/img" sign --tpm2-pcrs=
cp "$T/img" "$T/img2"
REAL=$T/tpm/sock

# proxy_start NAME [PROXY OPTIONS]: a proxy in front of the swtpm; $P is
# its socket, $PTCTI the TCTI that names it, $PLOG its command log.
proxy_start() {
	_d=$T/$1
	mkdir -p "$_d"
	P=$_d/sock PTCTI=swtpm:path=$_d/sock PLOG=$_d/log PSUM=$_d/summary
	shift
	python3 "$PROXY" --listen "$P" --tpm "$REAL" --log "$PLOG" --summary "$PSUM" --pid-file "$_d/pid" "$@" \
		2>"$_d/stderr" &
	for _i in $(seq 100); do [ -s "$_d/pid" ] && break; sleep 0.05; done
	PPID_FILE=$_d/pid
}

proxy_stop() {
	[ -s "$PPID_FILE" ] && kill "$(cat "$PPID_FILE")" 2>/dev/null
	wait 2>/dev/null
	# A fault can leave the unseal's session and objects in the swtpm,
	# which has no resource manager.
	tpm_flush
}

# punlock ARGS...: usi-init unlock --check through the proxy: $OUT, $RC and
# $MS, the milliseconds it took. `timeout` turns a hang into a failure.
punlock() {
	_t0=$(date +%s%N)
	OUT=$(timeout 60 "$USI_INIT" unlock --check --tpm2-device="$PTCTI" "$S" "$@" 2>&1)
	RC=$?
	MS=$(( ($(date +%s%N) - _t0) / 1000000 ))
	printf '%s\n' "$OUT" | sed 's/^/#   /'
	echo "#   (exit $RC after $MS ms)"
}

# sent NAME: how many NAME commands reached the proxy.
sent() { awk -v n="$1" '$2 == n' "$PLOG" | wc -l; }
within() { [ "$MS" -lt "$1" ] || { echo "# took $MS ms, more than $1"; return 1; }; }
no_esys_words() { case $OUT in *"wrong order"* | *"tcti:"* | *"esapi:"* | *"sys:"*) return 1 ;; esac; }

# ---- the proxy itself ------------------------------------------------------

proxy_start plain
punlock "$T/img"
check "through the proxy (control socket forwarded) the volume unlocks" expect_ok "$T/img" 0 1
check "the proxy logs each command with its response code" grep -q "^[0-9]* Unseal rc=0x0 delay=0 forwarded$" "$PLOG"
check "the summary counts the commands" grep -qx "commands $(wc -l < "$PLOG")" "$PSUM"
proxy_stop

# ---- response codes the TPM may give ----------------------------------------

proxy_start pcr-changed --fault Unseal:rc=PCR_CHANGED,times=1
punlock "$T/img"
check "TPM_RC_PCR_CHANGED once on Unseal: tried again and unlocked" expect_ok "$T/img" 0 1
check "two Unseal commands, the first answered PCR_CHANGED" \
	sh -c '[ "$(awk '\''$2 == "Unseal" { print $3 }'\'' "$1" | tr "\n" " ")" = "rc=0x128 rc=0x0 " ]' - "$PLOG"
proxy_stop

proxy_start retry3 --fault Unseal:rc=RETRY,times=3
punlock "$T/img"
check "TPM_RC_RETRY 3 times on Unseal: sent again and unlocked" expect_ok "$T/img" 0 1
check "four Unseal commands reached the TPM" [ "$(sent Unseal)" = 4 ]
proxy_stop

proxy_start yielded2 --fault StartAuthSession:rc=YIELDED,times=2
punlock "$T/img"
check "TPM_RC_YIELDED twice on StartAuthSession: sent again and unlocked" expect_ok "$T/img" 0 1
proxy_stop

proxy_start retry --fault Unseal:rc=RETRY
punlock "$T/img"
check "TPM_RC_RETRY on every Unseal: gives up naming the TPM, the command, the code and the count" expect_fail \
	"$T/img: token 0: the TPM '$PTCTI' answered Unseal with TPM_RC_RETRY 5 times in a row" \
	"the TPM was not able to start the command" "gave up"
check "after a bounded number of tries (5) and time" sh -c '[ "$1" = 5 ] && [ "$2" -lt 10000 ]' - "$(sent Unseal)" "$MS"
proxy_stop

proxy_start yielded --fault StartAuthSession:rc=YIELDED
punlock "$T/img"
check "TPM_RC_YIELDED on every StartAuthSession: gives up naming the TPM and the code" expect_fail \
	"$T/img: token 0: cannot start a TPM session: the TPM '$PTCTI' answered StartAuthSession with TPM_RC_YIELDED 5 times in a row"
check "after a bounded number of tries (5) and time" sh -c '[ "$1" = 5 ] && [ "$2" -lt 10000 ]' - "$(sent StartAuthSession)" "$MS"
proxy_stop

proxy_start lockout --fault Unseal:rc=LOCKOUT
punlock "$T/img"
check "TPM_RC_LOCKOUT on Unseal: the lockout sentence, the counter and the way out" expect_fail \
	"$T/img: token 0: TPM is in dictionary-attack lockout" "TPM dictionary-attack counter: 0 of" \
	"tpm2_dictionarylockout --clear-lockout"
proxy_stop

proxy_start initialize --fault Unseal:rc=INITIALIZE
punlock "$T/img"
check "TPM_RC_INITIALIZE on Unseal (the TPM was reset): says it is not started" expect_fail \
	"$T/img: token 0: TPM is not started (TPM_RC_INITIALIZE: it was reset and nobody sent TPM2_Startup since)"
proxy_stop

proxy_start initialize1 --fault CreatePrimary:rc=INITIALIZE,times=1
punlock "$T/img"
check "TPM_RC_INITIALIZE on the first command: TPM2_Startup is sent, and the volume unlocks" expect_ok "$T/img" 0 1
check "one Startup was sent" [ "$(sent Startup)" = 1 ]
proxy_stop

proxy_start objmem --fault Load:rc=OBJECT_MEMORY
punlock "$T/img"
check "TPM_RC_OBJECT_MEMORY on Load: out of object memory" expect_fail \
	"$T/img: token 0: cannot load the sealed object: TPM is out of object memory"
proxy_stop

proxy_start mem --fault Load:rc=MEMORY
punlock "$T/img"
check "TPM_RC_MEMORY on Load: out of memory, not the TSS's words" expect_fail \
	"$T/img: token 0: cannot load the sealed object: TPM is out of memory (TPM_RC_MEMORY"
proxy_stop

# ---- the way to the TPM ------------------------------------------------------

proxy_start drop --fault Unseal:drop
punlock "$T/img" "$T/img2"
check "connection lost on Unseal: the TPM named, the connection lost, the command" expect_line \
	"usi-init: error: $T/img: token 0: the connection to the TPM '$PTCTI' was lost during Unseal"
check "the next volume says the same, not ESYS's 'called in the wrong order'" expect_line \
	"usi-init: error: $T/img2: token 0: the connection to the TPM '$PTCTI' was lost during Unseal"
check "nothing opened, promptly" sh -c '[ "$1" = 1 ] && [ "$2" -lt 10000 ]' - "$RC" "$MS"
check "no TSS layer words in the message" no_esys_words
proxy_stop

proxy_start drop-verify --fault VerifySignature:drop
punlock "$T/img"
check "connection lost on VerifySignature: said so, not that the signature is bad" expect_fail \
	"$T/img: token 0: the connection to the TPM '$PTCTI' was lost during VerifySignature"
proxy_stop

proxy_start drop-flush --fault FlushContext:drop
punlock "$T/img"
check "connection lost on a FlushContext nobody checks: the next command names it" expect_fail \
	"$T/img: token 0: the connection to the TPM '$PTCTI' was lost during FlushContext"
proxy_stop

proxy_start freeze --fault Unseal:freeze
punlock --tpm2-timeout=2 "$T/img"
check "a TPM that stops answering on Unseal: given up within the deadline, named" expect_fail \
	"$T/img: token 0: the TPM '$PTCTI' did not answer Unseal within 2 s (tpm.timeout, --tpm2-timeout): gave up"
check "after the deadline, and not much later (2 s .. 8 s)" sh -c '[ "$1" -ge 2000 ] && [ "$1" -lt 8000 ]' - "$MS"
proxy_stop

proxy_start freeze-session --fault StartAuthSession:freeze
punlock --tpm2-timeout=1 "$T/img" "$T/img2"
check "a TPM that stops answering on StartAuthSession: named, for every volume" expect_line \
	"usi-init: error: $T/img2: token 0: the TPM '$PTCTI' did not answer StartAuthSession within 1 s (tpm.timeout, --tpm2-timeout): gave up"
check "one deadline for the whole run, not one per volume (< 6 s)" within 6000
proxy_stop

proxy_start slow --fault Unseal:delay=1500
punlock --tpm2-timeout=1 "$T/img"
check "a TPM slower than the deadline is given up" expect_fail "did not answer Unseal within 1 s"
proxy_stop
proxy_start slow-ok --fault Unseal:delay=500
punlock --tpm2-timeout=3 "$T/img"
check "a slow TPM within the deadline unlocks" expect_ok "$T/img" 0 1
check "the proxy logged the delay" grep -q "Unseal rc=0x0 delay=500 forwarded" "$PLOG"
proxy_stop

proxy_start short --fault Unseal:short
punlock "$T/img"
check "a response shorter than its header says: the connection lost" expect_fail \
	"$T/img: token 0: the connection to the TPM '$PTCTI' was lost during Unseal"
proxy_stop

proxy_start badtag --fault Unseal:badtag
punlock "$T/img"
check "a response with a wrong tag: malformed, the tag named" expect_fail \
	"$T/img: token 0: the TPM '$PTCTI' sent a malformed response to Unseal (tag 0x1234)"
proxy_stop

proxy_start badsize --fault Unseal:badsize
punlock "$T/img"
check "a response whose size is less than a header: malformed" expect_fail \
	"$T/img: token 0: the TPM '$PTCTI' sent a malformed response to Unseal (6 bytes, shorter than a header)"
proxy_stop

# ---- the latency model (the TPM benchmark) -----------------------------------

printf '# ms per command\nUnseal 40\nPolicyPCR 5\n' > "$T/latency"
proxy_start model --latency "$T/latency" --rm-model 1,2 --model-only
punlock "$T/img"
check "with a latency model the volume unlocks" expect_ok "$T/img" 0 1
# The resource manager loads every live context before a command and saves
# it after: at the Unseal, the primary, the sealed object and the policy
# session are live: 40 + 3 x (1 + 2); the policy comes before the object is
# loaded, so at PolicyPCR only the primary and the session: 5 + 2 x 3;
# the signature is checked first, while nothing is live: LoadExternal 0,
# and VerifySignature only its own key loaded: 3.
check "Unseal: its latency plus three live contexts swapped" grep -q "Unseal rc=0x0 delay=49 forwarded" "$PLOG"
check "PolicyPCR: its latency plus two (the object is loaded after the policy)" grep -q "PolicyPCR rc=0x0 delay=11 forwarded" "$PLOG"
check "LoadExternal: first, with nothing live" grep -q "LoadExternal rc=0x0 delay=0 forwarded" "$PLOG"
check "VerifySignature: its key alone live" grep -q "VerifySignature rc=0x0 delay=3 forwarded" "$PLOG"
check "CreatePrimary: nothing live before it" grep -q "CreatePrimary rc=0x0 delay=0 forwarded" "$PLOG"
check "the summary adds the modelled delays" \
	grep -qx "delay_ms $(awk '{ sub("delay=", "", $4); s += $4 } END { print s }' "$PLOG")" "$PSUM"
proxy_stop

check "no transient object or session is left in the TPM" \
	[ -z "$(tt tpm2_getcap handles-transient)$(tt tpm2_getcap handles-loaded-session)" ]
done_testing
