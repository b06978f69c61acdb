/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "log.h"
#include "pcr15.h"
#include "pcrsig.h"
#include "policy.h"
#include "tpm2.h"

static const TPMI_ALG_HASH algs[PCR15_ALGS_MAX] = {
        TPM2_ALG_SHA1, TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512,
};

int pcr15_description(const char *name, const char *uuid, char out[PCR15_DESCRIPTION_MAX]) {
        static const char hex[] = "0123456789abcdef";
        size_t n = 0;

#define PUT(c) do { if (n + 1 >= PCR15_DESCRIPTION_MAX) return -ENAMETOOLONG; out[n++] = (c); } while (0)
        for (const char *s = "cryptsetup:"; *s; s++)
                PUT(*s);
        /* systemd's xescape(name, ":"): the ':' that joins the parts stays
         * unambiguous, and so does the escape itself. */
        for (const unsigned char *s = (const unsigned char *) name; *s; s++)
                if (*s < ' ' || *s >= 127 || *s == '\\' || *s == ':') {
                        PUT('\\');
                        PUT('x');
                        PUT(hex[*s >> 4]);
                        PUT(hex[*s & 15]);
                } else
                        PUT((char) *s);
        PUT(':');
        for (const char *s = strempty(uuid); *s; s++)
                PUT(*s);
#undef PUT
        out[n] = '\0';
        return 0;
}

int pcr15_hmac(TPMI_ALG_HASH alg, const struct secret *volume_key, const char *description,
               uint8_t out[64], size_t *ret_size) {
        const EVP_MD *md = EVP_get_digestbyname(strempty(tpm2_hash_to_string(alg)));
        unsigned len = 0;

        if (!md || (size_t) EVP_MD_get_size(md) != tpm2_hash_size(alg))
                return -EOPNOTSUPP;
        if (!HMAC(md, volume_key->data, (int) volume_key->size, (const unsigned char *) description,
                  strlen(description), out, &len))
                return -EIO;
        *ret_size = len;
        return 0;
}

int pcr15_digests_compute(const struct secret *volume_key, const char *name, const char *uuid,
                          struct pcr15_digests *ret) {
        int r;

        *ret = (struct pcr15_digests) {};
        r = pcr15_description(name, uuid, ret->description);
        if (r < 0)
                return r;
        for (size_t i = 0; i < PCR15_ALGS_MAX; i++) {
                ret->v[i].alg = algs[i];
                r = pcr15_hmac(algs[i], volume_key, ret->description, ret->v[i].digest, &ret->v[i].size);
                if (r < 0)
                        return r;
                ret->n++;
        }
        return 0;
}

int pcr15_chain(TPMI_ALG_HASH bank, uint8_t value[64], const struct pcr15_digests *d) {
        const EVP_MD *md = EVP_get_digestbyname(strempty(tpm2_hash_to_string(bank)));
        size_t size = tpm2_hash_size(bank);
        uint8_t buf[128];

        if (!md || !size)
                return -EOPNOTSUPP;
        for (size_t i = 0; i < d->n; i++) {
                if (d->v[i].alg != bank)
                        continue;
                /* What PCR_Extend does: PCR = H(PCR || digest). */
                memcpy(buf, value, size);
                memcpy(buf + size, d->v[i].digest, size);
                return EVP_Digest(buf, 2 * size, value, NULL, md, NULL) ? 0 : -EIO;
        }
        return -ENOENT;
}

static int digest_of_bank(TPMI_ALG_HASH bank, uint8_t *out, void *userdata, char **why) {
        const struct pcr15_digests *d = userdata;

        for (size_t k = 0; k < d->n; k++)
                if (d->v[k].alg == bank) {
                        memcpy(out, d->v[k].digest, d->v[k].size);
                        return 0;
                }
        return why_set(why, EOPNOTSUPP, "no HMAC for the %s bank", strempty(tpm2_hash_to_string(bank)));
}

int pcr15_extend(struct tpm2_ctx *c, const struct pcr15_digests *d, struct pcr15_record **records,
                 size_t *n_records, char **why) {
        TPML_DIGEST_VALUES done = {};
        struct pcr15_record *rec;
        int r;

        rec = realloc(*records, (*n_records + ELEMENTSOF(done.digests)) * sizeof(*rec));
        if (!rec)
                return -ENOMEM;
        *records = rec;
        r = tpm2_pcr_extend_banks(c, PCR15_PCR, digest_of_bank, (void *) d, &done, why);
        if (r < 0)
                return r;
        for (size_t i = 0; i < done.count; i++) {
                struct pcr15_record *x = &rec[(*n_records)++];
                *x = (struct pcr15_record) { .bank = done.digests[i].hashAlg,
                                             .size = tpm2_hash_size(done.digests[i].hashAlg) };
                memcpy(x->description, d->description, sizeof(x->description));
                memcpy(x->digest, &done.digests[i].digest, x->size);
        }
        return 0;
}

int pcr15_chain_value(TPMI_ALG_HASH bank, const struct pcr15_digests *d, size_t n, uint8_t value[64], size_t *size) {
        int r;

        memset(value, 0, 64);
        *size = tpm2_hash_size(bank);
        if (!*size)
                return -EOPNOTSUPP;
        for (size_t i = 0; i < n; i++)
                if ((r = pcr15_chain(bank, value, &d[i])) < 0)
                        return r;
        return 0;
}
