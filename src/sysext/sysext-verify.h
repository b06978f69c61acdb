/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Verification of one extension image: everything that can be decided
 * from the image file without reading all of its data (layout, signature,
 * partition UUIDs, offset 0), and the hash-tree check over the parts once
 * they are staged. Every refusal comes back as one sentence in *why. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysext-anchor.h"

enum sysext_kind {
        SYSEXT_KIND_SYSEXT,     /* merged over /usr, staged in /run/extensions */
        SYSEXT_KIND_CONFEXT,    /* merged over /etc, staged in /run/confexts */
};

struct sysext_part {
        uint64_t offset, size;  /* bytes */
        unsigned number;        /* 1-based, as in the partition table */
};

struct sysext_image {
        char *name;             /* NAME of NAME[.sysext|.confext].raw */
        enum sysext_kind kind;
        const char *designator; /* "root" or "usr" */
        struct sysext_part data, hash, sig;
        char roothash_hex[129];
        uint8_t roothash[64];
        size_t roothash_size;
        uint8_t *p7s;           /* DER PKCS#7 */
        size_t p7s_size;
        char *signer;           /* subject of the anchor certificate that signed */
};

void sysext_image_done(struct sysext_image *img);

/* NAME and kind from a file name; refuses names systemd-sysext would not
 * take (empty, hidden, with characters outside [A-Za-z0-9._+-]). */
int sysext_name_from_path(const char *path, char **ret_name, enum sysext_kind *ret_kind, char **why);

/* Checks in order: a GPT (else what is there instead), only known
 * partitions of one designator, exactly data + verity + verity-sig, no file
 * system at offset 0, the signature JSON, partition UUIDs = root hash
 * halves, PKCS#7 against the anchor. Fills img on success. */
int sysext_inspect(int fd, const struct sysext_anchor *anchor, struct sysext_image *img, char **why);

/* The whole hash tree of data_path against hash_path (a verity superblock at
 * hash_offset) and the signed root hash, with libcryptsetup and no
 * device-mapper. */
int sysext_verify_hash_tree(const char *data_path, const char *hash_path, uint64_t hash_offset,
                            const struct sysext_image *img, char **why);
