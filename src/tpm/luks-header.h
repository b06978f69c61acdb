/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "util.h"

/* A LUKS2 header is plaintext: anyone who holds the disk rewrites its JSON
 * and checksums without any key. Three such edits keep the genuine token and
 * keyslot working while the data is the attacker's (a cipher_null or linear
 * data segment, a cipher_null keyslot area), and cryptsetup 2.6 accepts them
 * all. So a header is trusted only after these rules hold for the copy that
 * libcryptsetup loaded (trust-chain rule 4):
 *   - exactly one data segment, of type crypt, no integrity, no flags,
 *     no IV tweak and no fixed size (else a run of the genuine ciphertext
 *     could be presented as a volume of its own);
 *   - its cipher on the allow-list, its key at least 256 bits;
 *   - it starts past the two metadata copies and the keyslot area;
 *   - no requirements (no reencryption in progress);
 *   - every keyslot a plain luks2 keyslot whose area lies in the keyslot
 *     area and is encrypted with an allow-listed cipher, and bound (through
 *     the one digest of the segment) to that segment;
 *   - every token names only such keyslots. */

/* The errno of a refusal: the header breaks a rule above. The boot turns it
 * into a trust-chain refusal (no shell), unlike a plain I/O error. */
#define LUKS_HEADER_REFUSED EPROTO

/* The allow-list when the image's config sets none (luks.ciphers). */
extern const char *const luks_default_ciphers[];

/* Judge the JSON metadata libcryptsetup loaded (crypt_dump_json). ciphers is
 * NULL-terminated; NULL means luks_default_ciphers. Returns 0, or
 * -LUKS_HEADER_REFUSED with *why naming the field and its value
 * ("LUKS2 data segment 0 uses cipher_null-ecb"), or -ENOMEM. */
int luks_header_check(const char *json, const char *const *ciphers, char **why);

/* One byte range of the header that must be copied: the two metadata copies
 * and each keyslot's area. */
struct luks_header_range {
        uint64_t offset, size;
};

/* The ranges to copy, from the JSON of a first look at the device and its
 * sizes (crypt_get_metadata_size). Ranges that lie outside the header are
 * left out: the check of the copy refuses such a header anyway. Returns the
 * number of ranges (<= max) or a negative errno. */
int luks_header_ranges(const char *json, uint64_t metadata_size, uint64_t keyslots_size,
                       struct luks_header_range *ret, size_t max);
