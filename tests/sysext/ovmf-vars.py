#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write the live variables of an OVMF variable store (OVMF_VARS*.fd) into a
directory as efivarfs would show them: NAME-VENDORGUID files holding the 4
attribute bytes, then the data. Used at test time to get a real `db` out of
Debian's snakeoil firmware; nothing extracted is committed.

Layout (EDK II, MdeModulePkg VariableFormat.h): a firmware volume header
("_FVH" at byte 40, its length at byte 48), then a variable store header
(GUID of the authenticated format, size, format, state; 28 bytes), then
variables aligned to 4 bytes, each with a 60-byte authenticated header."""
import os
import struct
import sys
import uuid

AUTH_STORE = uuid.UUID("aaf32c78-947b-439a-a180-2e144ec37792")
VAR_ADDED = 0x3F
VAR_ADDED_IN_DELETE = 0x3E  # VAR_ADDED & VAR_IN_DELETED_TRANSITION: still live
HEADER = struct.Struct("<HBBIQ16sIII16s")  # StartId State Rsvd Attr MonotonicCount TimeStamp PubKeyIndex NameSize DataSize VendorGuid


def variables(blob):
    if blob[40:44] != b"_FVH":
        raise SystemExit("no firmware volume header")
    off = struct.unpack_from("<H", blob, 48)[0]
    store = uuid.UUID(bytes_le=blob[off:off + 16])
    if store != AUTH_STORE:
        raise SystemExit(f"variable store {store} is not the authenticated format")
    size = struct.unpack_from("<I", blob, off + 16)[0]
    end = min(len(blob), off + size)
    off += 28
    while off + HEADER.size <= end:
        start_id, state, _, attr, _, _, _, name_size, data_size, guid = HEADER.unpack_from(blob, off)
        if start_id != 0x55AA:
            break
        body = off + HEADER.size
        if body + name_size + data_size > end:
            raise SystemExit(f"variable at {off:#x} runs past the store")
        if state in (VAR_ADDED, VAR_ADDED_IN_DELETE):
            name = blob[body:body + name_size].decode("utf-16-le").rstrip("\0")
            data = blob[body + name_size:body + name_size + data_size]
            yield name, uuid.UUID(bytes_le=guid), attr, data
        off = (body + name_size + data_size + 3) & ~3


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: ovmf-vars.py OVMF_VARS.fd OUTDIR")
    blob = open(sys.argv[1], "rb").read()
    os.makedirs(sys.argv[2], exist_ok=True)
    for name, guid, attr, data in variables(blob):
        with open(os.path.join(sys.argv[2], f"{name}-{guid}"), "wb") as f:
            f.write(struct.pack("<I", attr) + data)


main()
