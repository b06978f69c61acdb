/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "luks-copies.h"
#include "util.h"

/* Offsets in a binary header (the LUKS2 on-disk format). */
#define OFF_MAGIC 0
#define OFF_VERSION 6
#define OFF_HDR_SIZE 8
#define OFF_SEQID 16
#define OFF_CSUM_ALG 72
#define OFF_HDR_OFFSET 256
#define OFF_CSUM 448
#define CSUM_ALG_LEN 32
#define CSUM_LEN 64
#define MAGIC_LEN 6

static const uint8_t magic_primary[MAGIC_LEN] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };
static const uint8_t magic_backup[MAGIC_LEN] = { 'S', 'K', 'U', 'L', 0xba, 0xbe };

/* Every metadata size LUKS2 allows, which is also where a backup may lie. */
const uint64_t luks_copy_backup_offsets[] = {
        0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000, 0x200000, 0x400000, 0,
};

static const char *const state_names[_LUKS_COPY_STATE_MAX] = {
        [LUKS_COPY_OK] = "intact",
        [LUKS_COPY_NO_MAGIC] = "no LUKS2 header there (wiped or overwritten)",
        [LUKS_COPY_BAD_FIELDS] = "its version, size or offset is wrong",
        [LUKS_COPY_BAD_CHECKSUM] = "its checksum does not match",
        [LUKS_COPY_UNKNOWN_CHECKSUM] = "its checksum algorithm is unknown",
};

const char *luks_copy_state_to_string(enum luks_copy_state s) {
        return s >= 0 && s < _LUKS_COPY_STATE_MAX ? state_names[s] : "unknown";
}

static uint64_t be64_at(const uint8_t *p) {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return be64toh(v);
}

static bool allowed_size(uint64_t size) {
        for (const uint64_t *o = luks_copy_backup_offsets; *o; o++)
                if (*o == size)
                        return true;
        return false;
}

bool luks_copy_is_luks1(const uint8_t hdr[static LUKS_BIN_HDR_SIZE]) {
        return memcmp(hdr + OFF_MAGIC, magic_primary, MAGIC_LEN) == 0 && hdr[OFF_VERSION] == 0 &&
               hdr[OFF_VERSION + 1] == 1;
}

/* The fields of a binary header that say where it is and how big: the magic
 * of its kind, version 2, an allowed size, and its own offset. */
static enum luks_copy_state fields(const uint8_t *hdr, const uint8_t magic[static MAGIC_LEN], uint64_t offset,
                                   uint64_t *ret_size) {
        uint64_t size;

        if (memcmp(hdr + OFF_MAGIC, magic, MAGIC_LEN) != 0)
                return LUKS_COPY_NO_MAGIC;
        size = be64_at(hdr + OFF_HDR_SIZE);
        if (hdr[OFF_VERSION] != 0 || hdr[OFF_VERSION + 1] != 2 || !allowed_size(size) ||
            be64_at(hdr + OFF_HDR_OFFSET) != offset)
                return LUKS_COPY_BAD_FIELDS;
        *ret_size = size;
        return LUKS_COPY_OK;
}

uint64_t luks_copy_size_primary(const uint8_t hdr[static LUKS_BIN_HDR_SIZE]) {
        uint64_t size = 0;
        return fields(hdr, magic_primary, 0, &size) == LUKS_COPY_OK ? size : 0;
}

uint64_t luks_copy_size_backup(const uint8_t hdr[static LUKS_BIN_HDR_SIZE], uint64_t offset) {
        uint64_t size = 0;
        return fields(hdr, magic_backup, offset, &size) == LUKS_COPY_OK && size == offset ? size : 0;
}

/* The checksum over the whole copy (binary header and JSON area) with its
 * own checksum field read as zeros, in the algorithm the header names.
 * Only the algorithms cryptsetup writes are known. */
static enum luks_copy_state checksum(const uint8_t *copy, uint64_t size) {
        static const char *const algs[] = { "sha256", "sha512", "sha1" };
        char alg[CSUM_ALG_LEN + 1];
        uint8_t want[CSUM_LEN], got[EVP_MAX_MD_SIZE];
        unsigned got_len = 0;
        const EVP_MD *md = NULL;
        EVP_MD_CTX *ctx;
        int ok;

        memcpy(alg, copy + OFF_CSUM_ALG, CSUM_ALG_LEN);
        alg[CSUM_ALG_LEN] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(algs) && !md; i++)
                if (streq(alg, algs[i]))
                        md = EVP_get_digestbyname(algs[i]);
        if (!md)
                return LUKS_COPY_UNKNOWN_CHECKSUM;
        memset(want, 0, sizeof(want));
        if (!(ctx = EVP_MD_CTX_new()))
                return LUKS_COPY_UNKNOWN_CHECKSUM;
        ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, copy, OFF_CSUM) &&
             EVP_DigestUpdate(ctx, want, CSUM_LEN) &&
             EVP_DigestUpdate(ctx, copy + OFF_CSUM + CSUM_LEN, size - OFF_CSUM - CSUM_LEN) &&
             EVP_DigestFinal_ex(ctx, got, &got_len);
        EVP_MD_CTX_free(ctx);
        if (!ok)
                return LUKS_COPY_UNKNOWN_CHECKSUM;
        /* The field holds the digest, zero-padded to 64 bytes. */
        memcpy(want, got, got_len);
        return memcmp(copy + OFF_CSUM, want, CSUM_LEN) == 0 ? LUKS_COPY_OK : LUKS_COPY_BAD_CHECKSUM;
}

static enum luks_copy_state judge_one(const uint8_t *copy, const uint8_t magic[static MAGIC_LEN], uint64_t offset,
                                      uint64_t size, uint64_t *ret_seqid) {
        uint64_t claimed = 0;
        enum luks_copy_state s = fields(copy, magic, offset, &claimed);

        if (s != LUKS_COPY_OK)
                return s;
        if (claimed != size)
                return LUKS_COPY_BAD_FIELDS;
        if ((s = checksum(copy, size)) == LUKS_COPY_OK)
                *ret_seqid = be64_at(copy + OFF_SEQID);
        return s;
}

int luks_copies_judge(const uint8_t *area, size_t len, uint64_t metadata_size, struct luks_copies *ret) {
        if (!allowed_size(metadata_size) || len < 2 * metadata_size)
                return -EINVAL;
        *ret = (struct luks_copies) { .metadata_size = metadata_size };
        ret->state[0] = judge_one(area, magic_primary, 0, metadata_size, &ret->seqid[0]);
        ret->state[1] = judge_one(area + metadata_size, magic_backup, metadata_size, metadata_size, &ret->seqid[1]);
        return 0;
}
