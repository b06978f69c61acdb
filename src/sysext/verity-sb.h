/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The verity superblock at the start of an extension's verity partition:
 * the sizes its hash tree was made for. The root hash is signed and covers
 * the tree, and the tree's shape follows from these numbers, so the bytes
 * to copy come from here, never from what the GPT claims; a superblock that
 * lies makes the hash-tree check fail on the copies. */

#include <stdint.h>

struct verity_geometry {
        uint64_t data_bytes;    /* data_blocks * data_block_size */
        uint64_t hash_bytes;    /* the superblock's block and the whole tree */
};

/* Reads the 512-byte superblock at `offset` of fd and computes the geometry
 * as libcryptsetup lays the tree out. *why (src/base/why.h) says what is
 * wrong: no superblock, a version, block size or hash it does not take. */
int verity_geometry_read(int fd, uint64_t offset, struct verity_geometry *ret, char **why);
