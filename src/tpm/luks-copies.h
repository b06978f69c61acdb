/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* LUKS2 keeps its metadata twice: the primary copy at offset 0 and the
 * backup right after it, at the metadata size (16 KiB to 4 MiB). Each copy is
 * a 4 KiB binary header (magic, sizes, sequence id, checksum) followed by the
 * JSON area, and carries a checksum over both. libcryptsetup loads whichever
 * copy is intact (the newer when both are) and says nothing about the other;
 * a boot should: a damaged copy is a disk going bad or someone rewriting it.
 * These functions read the binary headers only; the JSON is judged by
 * luks-header.c after libcryptsetup loaded it. */

#define LUKS_BIN_HDR_SIZE 4096

enum luks_copy_state {
        LUKS_COPY_OK,
        LUKS_COPY_NO_MAGIC,             /* not a LUKS2 header at all (wiped) */
        LUKS_COPY_BAD_FIELDS,           /* version, size or offset wrong */
        LUKS_COPY_BAD_CHECKSUM,         /* the checksum does not match */
        LUKS_COPY_UNKNOWN_CHECKSUM,     /* a checksum algorithm we do not know */
        _LUKS_COPY_STATE_MAX,
};

struct luks_copies {
        uint64_t metadata_size;         /* the size of one copy */
        enum luks_copy_state state[2];  /* [0] primary, [1] backup */
        uint64_t seqid[2];              /* valid where state is LUKS_COPY_OK */
};

/* What a damaged copy looks like, for a message ("its checksum does not match"). */
const char *luks_copy_state_to_string(enum luks_copy_state s);

/* The metadata size one 4 KiB binary header claims, when it is a LUKS2
 * header of that kind (primary: at offset 0; backup: at offset == its own
 * size, the size one of those LUKS2 allows). 0 when it is not one. */
uint64_t luks_copy_size_primary(const uint8_t hdr[static LUKS_BIN_HDR_SIZE]);
uint64_t luks_copy_size_backup(const uint8_t hdr[static LUKS_BIN_HDR_SIZE], uint64_t offset);

/* The backup offsets to look at when the primary copy is not readable, in
 * the order libcryptsetup looks (ascending); terminated by 0. */
extern const uint64_t luks_copy_backup_offsets[];

/* Judge both copies in `area` (the first 2 * metadata_size bytes of the
 * device). Returns 0, or -EINVAL when area is shorter than that. */
int luks_copies_judge(const uint8_t *area, size_t len, uint64_t metadata_size, struct luks_copies *ret);

/* Is the primary a LUKS1 header (the magic with version 1)? */
bool luks_copy_is_luks1(const uint8_t hdr[static LUKS_BIN_HDR_SIZE]);
