#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A TPM proxy for tests: it sits between a client's swtpm TCTI
(swtpm:path=LISTEN) and a running swtpm (its unix socket TPM), and injects
the faults a real TPM or its bus can show, or models a TPM's latency.

libtss2-tcti-swtpm speaks two sockets: PATH carries raw TPM 2.0 command and
response bytes (one command per connection), PATH.ctrl swtpm's control
protocol (set locality, reset...). The control socket is forwarded byte for
byte; each command on the data socket is parsed (tag, size, command code)
and then forwarded, or answered by a fault:

  --fault CMD:rc=CODE        answer TPM_RC CODE (a name such as RETRY or
                             0x922) in a 10-byte response, not forwarded
  --fault CMD:delay=MS       forward, then hold the answer MS milliseconds
  --fault CMD:drop           close both sockets when CMD arrives
  --fault CMD:freeze         read CMD and every later command, never answer
  --fault CMD:short          the real response, its header announcing 16
                             bytes more than are sent before the close
  --fault CMD:badtag         the real response under tag 0x1234
  --fault CMD:badsize        the real response, its size field set to 6

Each fault may end with ",from=N" (the Nth CMD is the first one hit,
default 1) and ",times=K" (K of them, default every one from there); CMD is
a name of the COMMANDS table below or a number. --latency FILE adds a delay
per command ("CommandName ms" lines, # comments; "StartAuthSession(salted)"
prices a session with a salt, whose tpmKey is not TPM_RH_NULL, apart),
--rm-model LOAD,SAVE adds, per command, (transient objects + sessions live
in the TPM at that moment) x (LOAD + SAVE) ms: what the kernel's resource
manager spends swapping the connection's contexts in before each command
and out after it (ContextLoad, ContextSave). Live: created by CreatePrimary,
Load, LoadExternal, CreateLoaded, ContextLoad or StartAuthSession, until a
FlushContext or a session used without continueSession. --model-only logs
the modelled delays without sleeping them.

The log (--log FILE) gets one line per command: "N NAME rc=0xRC delay=MS
ACTION" (ACTION: forwarded, or the fault); the summary (--summary FILE,
rewritten after each command and at exit) "commands N" and "delay_ms D"
(the latency modelled), then "NAME N" per command.
"""
import argparse
import os
import signal
import socket
import struct
import sys
import threading
import time

# TPM2_CC: (name, handles in the command's handle area), TPM 2.0 part 3.
COMMANDS = {
    0x11F: ("NV_UndefineSpaceSpecial", 2), 0x120: ("EvictControl", 2), 0x121: ("HierarchyControl", 1),
    0x122: ("NV_UndefineSpace", 2), 0x124: ("ChangeEPS", 1), 0x125: ("ChangePPS", 1), 0x126: ("Clear", 1),
    0x127: ("ClearControl", 1), 0x128: ("ClockSet", 1), 0x129: ("HierarchyChangeAuth", 1),
    0x12A: ("NV_DefineSpace", 1), 0x12B: ("PCR_Allocate", 1), 0x12C: ("PCR_SetAuthPolicy", 1),
    0x12D: ("PP_Commands", 1), 0x12E: ("SetPrimaryPolicy", 1), 0x12F: ("FieldUpgradeStart", 2),
    0x130: ("ClockRateAdjust", 1), 0x131: ("CreatePrimary", 1), 0x132: ("NV_GlobalWriteLock", 1),
    0x133: ("GetCommandAuditDigest", 2), 0x134: ("NV_Increment", 2), 0x135: ("NV_SetBits", 2),
    0x136: ("NV_Extend", 2), 0x137: ("NV_Write", 2), 0x138: ("NV_WriteLock", 2),
    0x139: ("DictionaryAttackLockReset", 1), 0x13A: ("DictionaryAttackParameters", 1),
    0x13B: ("NV_ChangeAuth", 1), 0x13C: ("PCR_Event", 1), 0x13D: ("PCR_Reset", 1),
    0x13E: ("SequenceComplete", 1), 0x13F: ("SetAlgorithmSet", 1), 0x140: ("SetCommandCodeAuditStatus", 1),
    0x141: ("FieldUpgradeData", 0), 0x142: ("IncrementalSelfTest", 0), 0x143: ("SelfTest", 0),
    0x144: ("Startup", 0), 0x145: ("Shutdown", 0), 0x146: ("StirRandom", 0),
    0x147: ("ActivateCredential", 2), 0x148: ("Certify", 2), 0x149: ("PolicyNV", 3),
    0x14A: ("CertifyCreation", 2), 0x14B: ("Duplicate", 2), 0x14C: ("GetTime", 2),
    0x14D: ("GetSessionAuditDigest", 3), 0x14E: ("NV_Read", 2), 0x14F: ("NV_ReadLock", 2),
    0x150: ("ObjectChangeAuth", 2), 0x151: ("PolicySecret", 2), 0x152: ("Rewrap", 2),
    0x153: ("Create", 1), 0x154: ("ECDH_ZGen", 1), 0x155: ("HMAC", 1), 0x156: ("Import", 1),
    0x157: ("Load", 1), 0x158: ("Quote", 1), 0x159: ("RSA_Decrypt", 1), 0x15B: ("HMAC_Start", 1),
    0x15C: ("SequenceUpdate", 1), 0x15D: ("Sign", 1), 0x15E: ("Unseal", 1), 0x160: ("PolicySigned", 2),
    0x161: ("ContextLoad", 0), 0x162: ("ContextSave", 1), 0x163: ("ECDH_KeyGen", 1),
    0x164: ("EncryptDecrypt", 1), 0x165: ("FlushContext", 0), 0x167: ("LoadExternal", 0),
    0x168: ("MakeCredential", 1), 0x169: ("NV_ReadPublic", 1), 0x16A: ("PolicyAuthorize", 1),
    0x16B: ("PolicyAuthValue", 1), 0x16C: ("PolicyCommandCode", 1), 0x16D: ("PolicyCounterTimer", 1),
    0x16E: ("PolicyCpHash", 1), 0x16F: ("PolicyLocality", 1), 0x170: ("PolicyNameHash", 1),
    0x171: ("PolicyOR", 1), 0x172: ("PolicyTicket", 1), 0x173: ("ReadPublic", 1), 0x174: ("RSA_Encrypt", 1),
    0x176: ("StartAuthSession", 2), 0x177: ("VerifySignature", 1), 0x178: ("ECC_Parameters", 0),
    0x179: ("FirmwareRead", 0), 0x17A: ("GetCapability", 0), 0x17B: ("GetRandom", 0),
    0x17C: ("GetTestResult", 0), 0x17D: ("Hash", 0), 0x17E: ("PCR_Read", 0), 0x17F: ("PolicyPCR", 1),
    0x180: ("PolicyRestart", 1), 0x181: ("ReadClock", 0), 0x182: ("PCR_Extend", 1),
    0x183: ("PCR_SetAuthValue", 1), 0x184: ("NV_Certify", 3), 0x185: ("EventSequenceComplete", 2),
    0x186: ("HashSequenceStart", 0), 0x187: ("PolicyPhysicalPresence", 1),
    0x188: ("PolicyDuplicationSelect", 1), 0x189: ("PolicyGetDigest", 1), 0x18A: ("TestParms", 0),
    0x18B: ("Commit", 1), 0x18C: ("PolicyPassword", 1), 0x18D: ("ZGen_2Phase", 1),
    0x18E: ("EC_Ephemeral", 0), 0x18F: ("PolicyNvWritten", 1), 0x190: ("PolicyTemplate", 1),
    0x191: ("CreateLoaded", 1), 0x192: ("PolicyAuthorizeNV", 3), 0x193: ("EncryptDecrypt2", 1),
    0x194: ("AC_GetCapability", 1), 0x195: ("AC_Send", 3), 0x196: ("Policy_AC_SendSelect", 1),
    0x197: ("CertifyX509", 2), 0x198: ("ACT_SetTimeout", 1),
}
CODES = {name: cc for cc, (name, _) in COMMANDS.items()}

# TPM_RC values by name (TPM 2.0 part 2); format-one codes are given
# without a handle, session or parameter number.
RCS = {
    "SUCCESS": 0x000, "INITIALIZE": 0x100, "FAILURE": 0x101, "SEQUENCE": 0x103, "DISABLED": 0x120,
    "EXCLUSIVE": 0x121, "AUTH_MISSING": 0x125, "POLICY": 0x126, "PCR": 0x127, "PCR_CHANGED": 0x128,
    "UPGRADE": 0x12D, "NV_LOCKED": 0x148, "BAD_AUTH": 0x0A2, "AUTH_FAIL": 0x08E, "POLICY_FAIL": 0x09D,
    "INTEGRITY": 0x09F, "SIGNATURE": 0x09B, "VALUE": 0x084, "HANDLE": 0x08B,
    "CONTEXT_GAP": 0x901, "OBJECT_MEMORY": 0x902, "SESSION_MEMORY": 0x903, "MEMORY": 0x904,
    "SESSION_HANDLES": 0x905, "OBJECT_HANDLES": 0x906, "LOCALITY": 0x907, "YIELDED": 0x908,
    "CANCELED": 0x909, "TESTING": 0x90A, "NV_RATE": 0x920, "LOCKOUT": 0x921, "RETRY": 0x922,
    "NV_UNAVAILABLE": 0x923,
}

TPM_ST_NO_SESSIONS = 0x8001
TPM_ST_SESSIONS = 0x8002
TPM_RS_PW = 0x40000009


def number_or_name(text, table, what):
    try:
        return int(text, 0)
    except ValueError:
        pass
    key = text.upper() if table is RCS else text
    if key.startswith("TPM_RC_"):
        key = key[7:]
    if key not in table:
        raise argparse.ArgumentTypeError("unknown %s %r" % (what, text))
    return table[key]


class Fault:
    """One --fault: which command, which occurrences, what happens."""

    def __init__(self, spec):
        try:
            cmd, rest = spec.split(":", 1)
        except ValueError:
            raise argparse.ArgumentTypeError("--fault %r: expected CMD:ACTION" % spec)
        self.cc = number_or_name(cmd, CODES, "command")
        self.first, self.times = 1, None
        parts = rest.split(",")
        for opt in parts[1:]:
            key, _, value = opt.partition("=")
            if key == "from":
                self.first = int(value)
            elif key == "times":
                self.times = int(value)
            else:
                raise argparse.ArgumentTypeError("--fault %r: unknown option %r" % (spec, key))
        action, _, arg = parts[0].partition("=")
        if action == "rc":
            self.arg = number_or_name(arg, RCS, "response code")
        elif action == "delay":
            self.arg = int(arg)
        elif action in ("drop", "freeze", "short", "badtag", "badsize"):
            self.arg = None
        else:
            raise argparse.ArgumentTypeError("--fault %r: unknown action %r" % (spec, action))
        self.action = action

    def hits(self, nth):
        """Whether the nth occurrence (1-based) of the command is hit."""
        return nth >= self.first and (self.times is None or nth < self.first + self.times)


# Commands whose response's handle area returns a new transient object or
# session (TPM 2.0 part 3), and the latency table's name for a salted session.
CC_START_AUTH_SESSION, CC_FLUSH_CONTEXT = 0x176, 0x165
CREATES_HANDLE = {0x131, 0x157, 0x167, 0x161, 0x176, 0x191}  # CreatePrimary Load LoadExternal ContextLoad StartAuthSession CreateLoaded
TPM_RH_NULL = 0x40000007
SALTED = "StartAuthSession(salted)"


def name_of(cc):
    return COMMANDS[cc][0] if cc in COMMANDS else "0x%x" % cc


def sessions_of(cmd):
    """(session handle, continueSession) of each session of the command's
    authorization area."""
    tag, _, cc = struct.unpack_from(">HII", cmd, 0)
    off = 10 + 4 * COMMANDS.get(cc, ("", 0))[1]
    out = []
    if tag != TPM_ST_SESSIONS or off + 4 > len(cmd):
        return out
    size, = struct.unpack_from(">I", cmd, off)
    off += 4
    end = min(off + size, len(cmd))
    while off + 7 <= end:
        h, = struct.unpack_from(">I", cmd, off)
        off += 4
        off += 2 + struct.unpack_from(">H", cmd, off)[0]
        if off >= end:
            break
        attrs = cmd[off]
        off += 1
        off += 2 + (struct.unpack_from(">H", cmd, off)[0] if off + 2 <= end else 0)
        if h >> 24 in (0x02, 0x03):
            out.append((h, bool(attrs & 1)))
    return out


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


class Proxy:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.seen = {}          # cc -> occurrences so far
        self.counts = {}        # name -> commands
        self.n = 0
        self.delay_ms = 0.0
        self.frozen = False
        self.latency = {}
        self.live = set()       # transient objects and sessions the TPM holds now
        self.held = []          # sockets of frozen connections: kept open, never answered
        if args.latency:
            for line in open(args.latency):
                line = line.split("#", 1)[0].split()
                if line and line[0] == SALTED:
                    self.latency[SALTED] = float(line[1])
                elif line:
                    self.latency[number_or_name(line[0], CODES, "command")] = float(line[1])
        self.rm = tuple(float(x) for x in args.rm_model.split(",")) if args.rm_model else None
        self.log = open(args.log, "a", buffering=1) if args.log else None

    def decide(self, cmd):
        """The fault of this command (or None) and its modelled delay."""
        cc = struct.unpack_from(">I", cmd, 6)[0]
        with self.lock:
            nth = self.seen[cc] = self.seen.get(cc, 0) + 1
            fault = next((f for f in self.args.fault if f.cc == cc and f.hits(nth)), None)
            if self.frozen or (fault and fault.action == "freeze"):
                self.frozen = True
                fault = Fault("%d:freeze" % cc)
            delay = self.latency.get(cc, 0.0)
            if cc == CC_START_AUTH_SESSION and len(cmd) >= 14 and SALTED in self.latency and \
                    struct.unpack_from(">I", cmd, 10)[0] != TPM_RH_NULL:
                delay = self.latency[SALTED]        # a salt: an ECDH (or RSA decrypt) in the TPM
            if self.rm:
                # The kernel's resource manager loads every context of the
                # connection before a command (ContextLoad each) and saves
                # them after (ContextSave each): the live ones cost, not
                # only the ones the command names.
                delay += len(self.live) * (self.rm[0] + self.rm[1])
            if fault and fault.action == "delay":
                delay += fault.arg
        return cc, fault, delay

    def track(self, cc, cmd, rsp):
        """What the TPM holds after a command that succeeded."""
        with self.lock:
            if cc in CREATES_HANDLE and len(rsp) >= 14:
                self.live.add(struct.unpack_from(">I", rsp, 10)[0])
            elif cc == CC_FLUSH_CONTEXT and len(cmd) >= 14:
                self.live.discard(struct.unpack_from(">I", cmd, 10)[0])
            for h, cont in sessions_of(cmd):
                if not cont:
                    self.live.discard(h)

    def record(self, cc, rc, delay, action):
        name = name_of(cc)
        with self.lock:
            self.n += 1
            self.counts[name] = self.counts.get(name, 0) + 1
            self.delay_ms += delay
            if self.log:
                self.log.write("%d %s rc=0x%x delay=%g %s\n" % (self.n, name, rc, delay, action))
            self.write_summary()

    def write_summary(self):
        if not self.args.summary:
            return
        tmp = self.args.summary + ".tmp"
        with open(tmp, "w") as f:
            f.write("commands %d\ndelay_ms %g\n" % (self.n, self.delay_ms))
            for name, k in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])):
                f.write("%s %d\n" % (name, k))
        os.replace(tmp, self.args.summary)

    def upstream(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.args.tpm)
        return s

    def serve_data(self, client):
        """One client connection: commands in, responses out, in order."""
        up = None
        try:
            while True:
                head = recv_exact(client, 10)
                if head is None:
                    return
                tag, size, cc = struct.unpack(">HII", head)
                body = recv_exact(client, size - 10) if size > 10 else b""
                if body is None:
                    return
                cmd = head + body
                cc, fault, delay = self.decide(cmd)
                action = fault.action if fault else "forwarded"
                if fault and fault.action == "freeze":
                    self.record(cc, 0, 0, "freeze")
                    with self.lock:
                        self.held.append(client)
                    # Read on and never answer, until the client goes.
                    while client.recv(4096):
                        pass
                    return
                if fault and fault.action == "drop":
                    self.record(cc, 0, 0, "drop")
                    return
                if fault and fault.action == "rc":
                    rsp = struct.pack(">HII", TPM_ST_NO_SESSIONS, 10, fault.arg)
                else:
                    if up is None:
                        up = self.upstream()
                    up.sendall(cmd)
                    rhead = recv_exact(up, 10)
                    if rhead is None:
                        return
                    rsize = struct.unpack_from(">I", rhead, 2)[0]
                    rsp = rhead + (recv_exact(up, rsize - 10) or b"" if rsize > 10 else b"")
                rc = struct.unpack_from(">I", rsp, 6)[0]
                if rc == 0 and not fault:
                    self.track(cc, cmd, rsp)
                if fault and fault.action == "short":
                    rsp = rsp[:2] + struct.pack(">I", len(rsp) + 16) + rsp[6:]
                elif fault and fault.action == "badtag":
                    rsp = struct.pack(">H", 0x1234) + rsp[2:]
                elif fault and fault.action == "badsize":
                    rsp = rsp[:2] + struct.pack(">I", 6) + rsp[6:]
                self.record(cc, rc, delay, action if action != "delay" else "forwarded")
                if delay and not self.args.model_only:
                    time.sleep(delay / 1000.0)
                client.sendall(rsp)
                if fault and fault.action == "short":
                    return      # the announced rest never comes
        except OSError as e:
            print("tpm-proxy: %s" % e, file=sys.stderr)
        finally:
            if up is not None:
                up.close()
            with self.lock:
                if client in self.held:
                    self.held.remove(client)
            client.close()

    def serve_ctrl(self, client):
        """swtpm's control channel, byte for byte both ways."""
        try:
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            up.connect(self.args.tpm + ".ctrl")
        except OSError as e:
            print("tpm-proxy: control socket: %s" % e, file=sys.stderr)
            client.close()
            return

        def pipe(a, b):
            try:
                while True:
                    data = a.recv(4096)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        t = threading.Thread(target=pipe, args=(up, client), daemon=True)
        t.start()
        pipe(client, up)
        t.join()
        up.close()
        client.close()


def listen(path):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    return s


def accept_loop(sock, handler):
    while True:
        client, _ = sock.accept()
        threading.Thread(target=handler, args=(client,), daemon=True).start()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--listen", required=True, help="the socket the client's swtpm:path= names")
    p.add_argument("--tpm", required=True, help="the swtpm's data socket (its .ctrl next to it)")
    p.add_argument("--fault", type=Fault, action="append", default=[], metavar="CMD:ACTION[,from=N][,times=K]")
    p.add_argument("--latency", metavar="FILE", help='"CommandName ms" lines')
    p.add_argument("--rm-model", metavar="LOAD_MS,SAVE_MS")
    p.add_argument("--model-only", action="store_true", help="log the modelled delays, do not sleep them")
    p.add_argument("--log", metavar="FILE")
    p.add_argument("--summary", metavar="FILE")
    p.add_argument("--pid-file", metavar="FILE", help="written once both sockets listen")
    args = p.parse_args()

    proxy = Proxy(args)
    data = listen(args.listen)
    ctrl = listen(args.listen + ".ctrl")
    proxy.write_summary()

    def stop(*_):
        with proxy.lock:
            proxy.write_summary()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=accept_loop, args=(ctrl, proxy.serve_ctrl), daemon=True).start()
    if args.pid_file:
        with open(args.pid_file + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.replace(args.pid_file + ".tmp", args.pid_file)
    accept_loop(data, proxy.serve_data)


if __name__ == "__main__":
    main()
