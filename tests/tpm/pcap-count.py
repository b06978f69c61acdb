#!/usr/bin/python3
# Count the TPM commands in a capture written by libtss2-tcti-pcap (pcapng,
# one fake IPv4/TCP packet per command or response; commands go to port
# 2321). Prints "total N" and one "NAME N" line per command code.
# --dump PCAP CODE OUT writes the first command with that code to OUT.
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


def commands(path):
    data = open(path, "rb").read()
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        if blen < 12:
            break
        if btype == 6:  # Enhanced Packet Block
            caplen = struct.unpack_from("<I", data, off + 20)[0]
            pkt = data[off + 28: off + 28 + caplen]
            ihl = (pkt[0] & 0x0F) * 4
            tcp = pkt[ihl:]
            dport = struct.unpack_from(">H", tcp, 2)[0]
            thl = (tcp[12] >> 4) * 4
            payload = tcp[thl:]
            if dport == 2321 and len(payload) >= 10:
                cc = struct.unpack_from(">I", payload, 6)[0]
                # StartAuthSession's first handle is tpmKey: not TPM_RH_NULL
                # means a salted session (an ECDH or RSA decrypt in the TPM).
                if cc == 0x176 and len(payload) >= 14 and \
                        struct.unpack_from(">I", payload, 10)[0] != 0x40000007:
                    yield "StartAuthSession(salted)"
                yield cc
        off += blen


def dump(path, want, out):
    """Write the raw bytes of the first command with code `want` to out."""
    data = open(path, "rb").read()
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        if blen < 12:
            break
        if btype == 6:
            caplen = struct.unpack_from("<I", data, off + 20)[0]
            pkt = data[off + 28: off + 28 + caplen]
            tcp = pkt[(pkt[0] & 0x0F) * 4:]
            payload = tcp[(tcp[12] >> 4) * 4:]
            if struct.unpack_from(">H", tcp, 2)[0] == 2321 and len(payload) >= 10 and \
                    struct.unpack_from(">I", payload, 6)[0] == want:
                open(out, "wb").write(payload)
                return
        off += blen
    sys.exit("no command 0x%x in %s" % (want, path))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--dump":
        dump(sys.argv[2], int(sys.argv[3], 0), sys.argv[4])
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
