#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Rewrite the verity-sig partition (the third GPT partition) of a test image.

  edit-sig.py IMAGE upper            rootHash in upper case (signature unchanged)
  edit-sig.py IMAGE garbage          not JSON
  edit-sig.py IMAGE trailing         JSON, then bytes after its zero padding
  edit-sig.py IMAGE nobase64         "signature" that is not base64
  edit-sig.py IMAGE swap OTHER       OTHER's signature (same key, other root hash)
"""
import json
import subprocess
import sys


def sig_partition(path):
    table = json.loads(subprocess.check_output(["sfdisk", "-J", path]))["partitiontable"]
    p = table["partitions"][2]
    return p["start"] * 512, p["size"] * 512


def read_sig(path):
    off, size = sig_partition(path)
    with open(path, "rb") as f:
        f.seek(off)
        raw = f.read(size)
    return off, size, json.loads(raw.rstrip(b"\0"))


def write(path, off, size, blob):
    assert len(blob) <= size
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(blob + b"\0" * (size - len(blob)))


def main():
    path, mode = sys.argv[1], sys.argv[2]
    off, size, sig = read_sig(path)
    if mode == "upper":
        sig["rootHash"] = sig["rootHash"].upper()
        blob = json.dumps(sig).encode()
    elif mode == "garbage":
        blob = b"this is not json"
    elif mode == "trailing":
        blob = json.dumps(sig).encode() + b"\0" * 8 + b"X"
    elif mode == "nobase64":
        sig["signature"] = "!!!!"
        blob = json.dumps(sig).encode()
    elif mode == "swap":
        sig["signature"] = read_sig(sys.argv[3])[2]["signature"]
        blob = json.dumps(sig).encode()
    else:
        raise SystemExit(f"unknown mode {mode}")
    write(path, off, size, blob)


main()
