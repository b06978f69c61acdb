/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "verity-sb.h"
#include "why.h"

/* libcryptsetup's struct verity_sb, little-endian. */
struct verity_sb {
        uint8_t signature[8];
        uint32_t version;
        uint32_t hash_type;
        uint8_t uuid[16];
        char algorithm[32];
        uint32_t data_block_size;
        uint32_t hash_block_size;
        uint64_t data_blocks;
        uint16_t salt_size;
        uint8_t pad1[6];
        uint8_t salt[256];
        uint8_t pad2[168];
} __attribute__((packed));

static bool block_size_ok(uint32_t s) {
        return s >= 512 && s <= 512 * 1024 && (s & (s - 1)) == 0;
}

static unsigned bits_down(uint64_t v) {
        unsigned b = 0;
        while (v >>= 1)
                b++;
        return b;
}

/* libcryptsetup's hash_levels(): the tree starts in the block after the
 * superblock; each level holds 2^bits digests per block. */
static int tree_blocks(uint64_t data_blocks, uint32_t hash_block_size, size_t digest_size, uint64_t *ret) {
        unsigned bits = bits_down(hash_block_size / digest_size), levels = 0;
        uint64_t total = (512 + hash_block_size - 1) / hash_block_size;

        while (bits * levels < 64 && ((data_blocks - 1) >> (bits * levels)))
                levels++;
        for (unsigned i = 0; i < levels; i++) {
                unsigned shift = (i + 1) * bits;
                uint64_t s = shift >= 64 ? 1 : (data_blocks >> shift) + !!(data_blocks & ((UINT64_C(1) << shift) - 1));
                if (total + s < total)
                        return -EOVERFLOW;
                total += s;
        }
        *ret = total;
        return 0;
}

int verity_geometry_read(int fd, uint64_t offset, struct verity_geometry *ret, char **why) {
        struct verity_sb sb;
        const EVP_MD *md;
        char alg[sizeof(sb.algorithm) + 1];
        uint32_t dbs, hbs;
        uint64_t blocks, hash_blocks;
        ssize_t k;

        k = pread(fd, &sb, sizeof(sb), (off_t) offset);
        if (k < 0)
                return why_set(why, errno, "cannot read the verity superblock: %m");
        if (k != (ssize_t) sizeof(sb) || memcmp(sb.signature, "verity\0\0", 8) != 0)
                return why_set(why, EBADMSG, "verity partition has no verity superblock");
        if (le32toh(sb.version) != 1 || le32toh(sb.hash_type) != 1)
                return why_set(why, EBADMSG, "verity superblock of version %u, hash type %u: only 1 and 1 are taken",
                               le32toh(sb.version), le32toh(sb.hash_type));
        dbs = le32toh(sb.data_block_size);
        hbs = le32toh(sb.hash_block_size);
        blocks = le64toh(sb.data_blocks);
        if (!block_size_ok(dbs) || !block_size_ok(hbs))
                return why_set(why, EBADMSG, "verity superblock has block sizes %u/%u, not powers of two from 512 to 512 KiB",
                               dbs, hbs);
        memcpy(alg, sb.algorithm, sizeof(sb.algorithm));
        alg[sizeof(sb.algorithm)] = 0;
        md = EVP_get_digestbyname(alg);
        if (!md || EVP_MD_get_size(md) <= 0 || (size_t) EVP_MD_get_size(md) > hbs)
                return why_set(why, EBADMSG, "verity superblock names a hash this check does not take");
        if (blocks == 0 || blocks > UINT64_MAX / dbs)
                return why_set(why, EBADMSG, "verity superblock counts %llu data blocks", (unsigned long long) blocks);
        if (tree_blocks(blocks, hbs, (size_t) EVP_MD_get_size(md), &hash_blocks) < 0 || hash_blocks > UINT64_MAX / hbs)
                return why_set(why, EBADMSG, "verity superblock gives a hash tree too large to count");
        *ret = (struct verity_geometry) { .data_bytes = blocks * dbs, .hash_bytes = hash_blocks * hbs };
        return 0;
}
