/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "policy.h"
#include "util.h"

static const struct {
        TPMI_ALG_HASH alg;
        const char *name;
        size_t size;
} hashes[] = {
        { TPM2_ALG_SHA1,   "sha1",   TPM2_SHA1_DIGEST_SIZE },
        { TPM2_ALG_SHA256, "sha256", TPM2_SHA256_DIGEST_SIZE },
        { TPM2_ALG_SHA384, "sha384", TPM2_SHA384_DIGEST_SIZE },
        { TPM2_ALG_SHA512, "sha512", TPM2_SHA512_DIGEST_SIZE },
};

size_t tpm2_hash_size(TPMI_ALG_HASH alg) {
        for (size_t i = 0; i < ELEMENTSOF(hashes); i++)
                if (hashes[i].alg == alg)
                        return hashes[i].size;
        return 0;
}

const char *tpm2_hash_to_string(TPMI_ALG_HASH alg) {
        for (size_t i = 0; i < ELEMENTSOF(hashes); i++)
                if (hashes[i].alg == alg)
                        return hashes[i].name;
        return NULL;
}

TPMI_ALG_HASH tpm2_hash_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(hashes); i++)
                if (s && strcasecmp(hashes[i].name, s) == 0)
                        return hashes[i].alg;
        return 0;
}

char *pcr_mask_to_string(uint32_t mask, char *out, size_t size) {
        size_t n = 0;

        out[0] = 0;
        for (unsigned i = 0; i < 32 && n < size; i++)
                if (mask & (UINT32_C(1) << i)) {
                        int w = snprintf(out + n, size - n, "%s%u", n ? "+" : "", i);
                        if (w < 0)
                                break;
                        n += (size_t) w;
                }
        return out;
}

struct iovec_c {
        const void *p;
        size_t n;
};

/* H(part 1 || part 2 || ...) with SHA-256 into out. */
static int sha256_parts(uint8_t out[32], const struct iovec_c *parts, size_t n) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        int ok;

        if (!md)
                return -ENOMEM;
        ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        for (size_t i = 0; ok && i < n; i++)
                ok = EVP_DigestUpdate(md, parts[i].p, parts[i].n);
        ok = ok && EVP_DigestFinal_ex(md, out, NULL);
        EVP_MD_CTX_free(md);
        return ok ? 0 : -EIO;
}

void policy_pcr_selection(TPMI_ALG_HASH bank, uint32_t mask, TPML_PCR_SELECTION *ret) {
        *ret = (TPML_PCR_SELECTION) {
                .count = 1,
                .pcrSelections[0] = {
                        .hash = bank,
                        .sizeofSelect = 3,
                        .pcrSelect = { mask & 0xff, (mask >> 8) & 0xff, (mask >> 16) & 0xff },
                },
        };
}

/* Marshal a command code with the TSS so byte order is never ours to get wrong. */
static int cc_bytes(TPM2_CC cc, uint8_t out[4]) {
        size_t off = 0;
        return Tss2_MU_TPM2_CC_Marshal(cc, out, 4, &off) == TSS2_RC_SUCCESS ? 0 : -EINVAL;
}

int policy_pcr(uint8_t digest[POLICY_DIGEST_SIZE], TPMI_ALG_HASH bank, uint32_t mask,
               const uint8_t *values, size_t value_size) {
        TPML_PCR_SELECTION sel;
        uint8_t cc[4], selbuf[sizeof(TPML_PCR_SELECTION)], pcr_digest[32];
        size_t selsize = 0, n_pcrs = (size_t) __builtin_popcount(mask);
        int r;

        if (tpm2_hash_size(bank) != value_size || mask >> 24)
                return -EINVAL;
        policy_pcr_selection(bank, mask, &sel);
        if (Tss2_MU_TPML_PCR_SELECTION_Marshal(&sel, selbuf, sizeof(selbuf), &selsize) != TSS2_RC_SUCCESS)
                return -EINVAL;
        r = cc_bytes(TPM2_CC_PolicyPCR, cc);
        if (r < 0)
                return r;
        r = sha256_parts(pcr_digest, (const struct iovec_c[]) { { values, n_pcrs * value_size } }, 1);
        if (r < 0)
                return r;
        return sha256_parts(digest, (const struct iovec_c[]) {
                        { digest, POLICY_DIGEST_SIZE }, { cc, 4 }, { selbuf, selsize }, { pcr_digest, 32 },
                }, 4);
}

int policy_authorize(uint8_t digest[POLICY_DIGEST_SIZE], const TPM2B_NAME *key_name) {
        uint8_t cc[4];
        int r;

        r = cc_bytes(TPM2_CC_PolicyAuthorize, cc);
        if (r < 0)
                return r;
        /* PolicyAuthorize replaces the digest: it starts again from zero. */
        memset(digest, 0, POLICY_DIGEST_SIZE);
        r = sha256_parts(digest, (const struct iovec_c[]) {
                        { digest, POLICY_DIGEST_SIZE }, { cc, 4 }, { key_name->name, key_name->size },
                }, 3);
        if (r < 0)
                return r;
        /* Second round with the (empty) policyRef. */
        return sha256_parts(digest, (const struct iovec_c[]) { { digest, POLICY_DIGEST_SIZE } }, 1);
}

int policy_auth_value(uint8_t digest[POLICY_DIGEST_SIZE]) {
        uint8_t cc[4];
        int r = cc_bytes(TPM2_CC_PolicyAuthValue, cc);
        if (r < 0)
                return r;
        return sha256_parts(digest, (const struct iovec_c[]) { { digest, POLICY_DIGEST_SIZE }, { cc, 4 } }, 2);
}

int policy_token(uint8_t digest[POLICY_DIGEST_SIZE], const TPM2B_NAME *key_name, TPMI_ALG_HASH bank,
                 uint32_t literal_mask, const uint8_t *values, bool pin) {
        memset(digest, 0, POLICY_DIGEST_SIZE);
        if (key_name && policy_authorize(digest, key_name) < 0)
                return -EIO;
        if (literal_mask && policy_pcr(digest, bank, literal_mask, values, tpm2_hash_size(bank)) < 0)
                return -EIO;
        if (pin && policy_auth_value(digest) < 0)
                return -EIO;
        return 0;
}

int policy_public_name(const TPM2B_PUBLIC *pub, TPM2B_NAME *ret) {
        uint8_t buf[sizeof(TPMT_PUBLIC)];
        size_t off = 0, noff = 0;
        int r;

        if (pub->publicArea.nameAlg != TPM2_ALG_SHA256)
                return -EOPNOTSUPP;
        if (Tss2_MU_TPMT_PUBLIC_Marshal(&pub->publicArea, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
                return -EINVAL;
        if (Tss2_MU_UINT16_Marshal(TPM2_ALG_SHA256, ret->name, sizeof(ret->name), &noff) != TSS2_RC_SUCCESS)
                return -EINVAL;
        r = sha256_parts(ret->name + noff, (const struct iovec_c[]) { { buf, off } }, 1);
        if (r < 0)
                return r;
        ret->size = (UINT16) (noff + 32);
        return 0;
}

int pcr_mask_from_string(const char *s, uint32_t *ret) {
        uint32_t mask = 0;

        while (*s) {
                size_t len = strcspn(s, "+,");
                char word[4];
                unsigned pcr;

                if (len == 0 || len >= sizeof(word))
                        return -EINVAL;
                memcpy(word, s, len);
                word[len] = 0;
                if (safe_atou(word, &pcr) < 0 || pcr >= 24)
                        return -EINVAL;
                mask |= UINT32_C(1) << pcr;
                s += len;
                /* a separator must be followed by a PCR */
                if (*s && !*++s)
                        return -EINVAL;
        }
        *ret = mask;
        return 0;
}
