#!/usr/bin/python3
# Count the TPM commands in a capture written by libtss2-tcti-pcap (pcapng,
# one fake IPv4/TCP packet per command or response; commands go to port
# 2321). Prints "total N" and one "NAME N" line per command code.
# --dump PCAP CODE OUT writes the first command with that code to OUT.
# --salts PCAP prints "TPMKEY ENCRYPTEDSALT" (hex) for each StartAuthSession.
import struct
import sys

NAMES = {
    0x144: "Startup", 0x131: "CreatePrimary", 0x157: "Load", 0x167: "LoadExternal",
    0x176: "StartAuthSession", 0x177: "VerifySignature", 0x17F: "PolicyPCR",
    0x16A: "PolicyAuthorize", 0x16B: "PolicyAuthValue", 0x189: "PolicyGetDigest",
    0x180: "PolicyRestart", 0x15E: "Unseal", 0x165: "FlushContext", 0x17A: "GetCapability",
    0x17E: "PCR_Read", 0x182: "PCR_Extend", 0x173: "ReadPublic", 0x17B: "GetRandom",
    0x153: "Create", 0x191: "CreateLoaded", 0x121: "EvictControl", 0x16C: "PolicyCommandCode",
    0x185: "TestParms", 0x17C: "HashSequenceStart",
}


def command_bytes(path):
    """Each command sent to the TPM (port 2321), as bytes, in order."""
    data = open(path, "rb").read()
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        if blen < 12:
            break
        if btype == 6:  # Enhanced Packet Block
            caplen = struct.unpack_from("<I", data, off + 20)[0]
            pkt = data[off + 28: off + 28 + caplen]
            tcp = pkt[(pkt[0] & 0x0F) * 4:]
            payload = tcp[(tcp[12] >> 4) * 4:]
            if struct.unpack_from(">H", tcp, 2)[0] == 2321 and len(payload) >= 10:
                yield payload
        off += blen


def code(cmd):
    return struct.unpack_from(">I", cmd, 6)[0]


def commands(path):
    for cmd in command_bytes(path):
        cc = code(cmd)
        # StartAuthSession's first handle is tpmKey: not TPM_RH_NULL
        # means a salted session (an ECDH or RSA decrypt in the TPM).
        if cc == 0x176 and len(cmd) >= 14 and struct.unpack_from(">I", cmd, 10)[0] != 0x40000007:
            yield "StartAuthSession(salted)"
        yield cc


def dump(path, want, out):
    """Write the raw bytes of the first command with code `want` to out."""
    for cmd in command_bytes(path):
        if code(cmd) == want:
            open(out, "wb").write(cmd)
            return
    sys.exit("no command 0x%x in %s" % (want, path))


def salts(path):
    """tpmKey and encryptedSalt of every StartAuthSession (TPM 2.0 part 3):
    handles tpmKey, bind; an authorization area when the tag says so;
    then nonceCaller and encryptedSalt, each a TPM2B."""
    for cmd in command_bytes(path):
        if code(cmd) != 0x176:
            continue
        tag, = struct.unpack_from(">H", cmd, 0)
        key, = struct.unpack_from(">I", cmd, 10)
        off = 18
        if tag == 0x8002:
            off += 4 + struct.unpack_from(">I", cmd, off)[0]
        off += 2 + struct.unpack_from(">H", cmd, off)[0]
        n, = struct.unpack_from(">H", cmd, off)
        print("0x%08x %s" % (key, cmd[off + 2: off + 2 + n].hex() or "-"))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--dump":
        dump(sys.argv[2], int(sys.argv[3], 0), sys.argv[4])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--salts":
        salts(sys.argv[2])
        return
    counts = {}
    extra = {}
    for cc in commands(sys.argv[1]):
        if isinstance(cc, str):
            extra[cc] = extra.get(cc, 0) + 1
            continue
        name = NAMES.get(cc, "0x%x" % cc)
        counts[name] = counts.get(name, 0) + 1
    print("total %d" % sum(counts.values()))
    counts.update(extra)
    for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print("%s %d" % (name, n))


main()
