/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "log.h"
#include "pcr15.h"
#include "pcrsig.h"
#include "policy.h"
#include "unlock.h"

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

/* The token's policy with `values` as the literal PCR values. */
static bool policy_holds(const struct tpm2_token *t, const TPM2B_NAME *key_name, TPMI_ALG_HASH bank,
                         const uint8_t *literal) {
        uint8_t d[POLICY_DIGEST_SIZE] = {};

        if (t->pubkey_pcr_mask && policy_authorize(d, key_name) < 0)
                return false;
        if (policy_pcr(d, bank, t->pcr_mask, literal, tpm2_hash_size(bank)) < 0)
                return false;
        if (t->pin && policy_auth_value(d) < 0)
                return false;
        return memcmp(d, t->policy_hash, sizeof(d)) == 0;
}

int pcr15_changed_since_enrollment(const struct tpm2_token *t, TPMI_ALG_HASH bank, uint32_t mask,
                                   const uint8_t *values) {
        static const uint8_t zero[64];
        uint8_t literal[24 * 64];
        size_t hsize = tpm2_hash_size(bank), k = 0, n = 0;
        struct pcrsig_key key = {};

        if (!hsize || !t->pcr_mask || (t->pcr_mask & mask) != t->pcr_mask)
                return -1;
        if (t->pubkey_pcr_mask && pcrsig_key_from_pem(t->pubkey_pem, t->pubkey_pem_size, &key, NULL) < 0)
                return -1;
        for (unsigned i = 0; i < 24; i++) {
                if (!(mask & (UINT32_C(1) << i)))
                        continue;
                if (t->pcr_mask & (UINT32_C(1) << i))
                        memcpy(literal + n++ * hsize, values + k * hsize, hsize);
                k++;
        }
        /* One PCR at a time taken back to its reset value: the one whose
         * zero makes the token's policy is the one that moved. */
        n = 0;
        for (unsigned i = 0; i < 24; i++) {
                uint8_t saved[64];
                bool holds;

                if (!(t->pcr_mask & (UINT32_C(1) << i)))
                        continue;
                uint8_t *v = literal + n++ * hsize;
                if (memcmp(v, zero, hsize) == 0)
                        continue;
                memcpy(saved, v, hsize);
                memset(v, 0, hsize);
                holds = policy_holds(t, &key.name, bank, literal);
                memcpy(v, saved, hsize);
                if (holds)
                        return (int) i;
        }
        return -1;
}

/* ---- the boot ------------------------------------------------------------- */

bool pcr15_wanted(const struct plan *p, const struct boot *b) {
        return p->measure_volume_keys && ((b->handoff && boot_may_extend(p, b)) || b->measure_volume_keys);
}

static int measure_volume(struct tpm2_ctx *tpm, const struct plan_volume *v, struct boot *b,
                          struct boot_volume *bv) {
        _cleanup_free_ char *why = NULL;
        int r;

        r = pcr15_extend(tpm, bv->pcr15, &b->pcr15, &b->n_pcr15, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return boot_fail(b, r, "volume %s: cannot measure the volume key of %s into PCR %d: %s; not booting on",
                                 v ? v->name : bv->name, bv->dev.devnode, PCR15_PCR, strempty(why));
        log_info("volume %s: measured %s into PCR %d", bv->name, bv->pcr15->description, PCR15_PCR);
        free(bv->pcr15);
        bv->pcr15 = NULL;
        return 0;
}

int pcr15_measure_boot(const struct plan *p, struct boot *b) {
        _cleanup_free_ char *why = NULL;
        struct tpm2_ctx *tpm = NULL;
        bool any = false;
        int r;

        for (size_t i = 0; i < b->n_volumes; i++)
                any = any || b->volumes[i].pcr15;
        if (!any)
                return 0;
        r = boot_tpm(p, b, &tpm, &why);
        /* No TPM at all (the volumes opened by passphrase or key file, the
         * connection the unlock stage keeps is not there): no TPM key can be
         * unsealed later either, so there is nothing to latch. Any other
         * failure fails the boot. */
        if (r == -ENODEV)
                return boot_warn(b, "volume keys not measured into PCR %d: %s", PCR15_PCR, strempty(why));
        if (r < 0)
                return boot_fail(b, r, "cannot measure the volume keys into PCR %d: %s; not booting on", PCR15_PCR,
                                 strempty(why));
        /* Plan order makes PCR 15 predictable; a volume the rebuilt plan no
         * longer lists (none today) follows in the order it was opened. */
        for (size_t i = 0; i < p->n_volumes; i++) {
                struct boot_volume *bv = (struct boot_volume *) boot_volume_find(b, p->volumes[i].name);
                if (bv && bv->pcr15 && (r = measure_volume(tpm, &p->volumes[i], b, bv)) < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_volumes; i++)
                if (b->volumes[i].pcr15 && (r = measure_volume(tpm, NULL, b, &b->volumes[i])) < 0)
                        return r;
        return 0;
}
