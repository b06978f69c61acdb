#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Rewrite the GPT of a test image as someone holding it could (512-byte sectors).

  edit-gpt.py IMAGE grow BYTES   the data partition (1) claims BYTES; the verity and
                                 verity-sig partitions are moved past it, the file
                                 grows (sparse)
  edit-gpt.py IMAGE overlap      the data partition runs on into the verity partition
"""
import struct
import sys
import zlib

SECTOR = 512


def main():
    path, mode = sys.argv[1], sys.argv[2]
    with open(path, "r+b") as f:
        f.seek(SECTOR)
        hdr = bytearray(f.read(92))
        assert hdr[:8] == b"EFI PART"
        entries_lba, n, esize = struct.unpack_from("<QII", hdr, 72)
        f.seek(entries_lba * SECTOR)
        ents = bytearray(f.read(n * esize))

        def span(i):
            return struct.unpack_from("<QQ", ents, i * esize + 32)

        def set_span(i, first, last):
            struct.pack_into("<QQ", ents, i * esize + 32, first, last)

        d_first, d_last = span(0)
        h_first, h_last = span(1)
        if mode == "grow":
            new_last = d_first + int(sys.argv[3]) // SECTOR - 1
            nxt = new_last + 2048
            for i in (1, 2):
                first, last = span(i)
                f.seek(first * SECTOR)
                blob = f.read((last - first + 1) * SECTOR)
                f.seek(nxt * SECTOR)
                f.write(blob)
                set_span(i, nxt, nxt + last - first)
                nxt += last - first + 1 + 2048
            set_span(0, d_first, new_last)
            end = nxt + 34
            f.truncate(end * SECTOR)
            struct.pack_into("<Q", hdr, 32, end - 1)    # alternate (backup) LBA
            struct.pack_into("<Q", hdr, 48, end - 34)   # last usable LBA
        elif mode == "overlap":
            set_span(0, d_first, h_first + (h_last - h_first) // 2)
        else:
            raise SystemExit(f"unknown mode {mode}")
        struct.pack_into("<I", hdr, 88, zlib.crc32(bytes(ents)))
        struct.pack_into("<I", hdr, 16, 0)
        struct.pack_into("<I", hdr, 16, zlib.crc32(bytes(hdr)))
        f.seek(entries_lba * SECTOR)
        f.write(ents)
        f.seek(SECTOR)
        f.write(hdr)


main()
