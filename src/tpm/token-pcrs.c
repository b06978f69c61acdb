/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "pcrsig.h"
#include "policy.h"
#include "token-pcrs.h"

/* The token's policy with `literal` as its literal PCR values. */
static bool policy_holds(const struct tpm2_token *t, const TPM2B_NAME *key_name, TPMI_ALG_HASH bank,
                         const uint8_t *literal) {
        uint8_t d[POLICY_DIGEST_SIZE];

        return policy_token(d, t->pubkey_pcr_mask ? key_name : NULL, bank, t->pcr_mask, literal, t->pin) >= 0 &&
               memcmp(d, t->policy_hash, sizeof(d)) == 0;
}

int token_literal_pcr_moved(const struct tpm2_token *t, TPMI_ALG_HASH bank, uint32_t mask,
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

/* The index of PCR 15 among the token's literal PCRs (ascending), or -1. */
static int pcr15_slot(uint32_t mask) {
        int n = 0;

        if (!(mask & (UINT32_C(1) << PCR15_PCR)))
                return -1;
        for (unsigned i = 0; i < PCR15_PCR; i++)
                n += !!(mask & (UINT32_C(1) << i));
        return n;
}

int token_holds_with_pcr15(const struct tpm2_token *t, TPMI_ALG_HASH bank, const uint8_t *values,
                           const uint8_t *pcr15) {
        uint8_t literal[24 * 64] = {};
        size_t hsize = tpm2_hash_size(bank), n = (size_t) __builtin_popcount(t->pcr_mask);
        int slot = pcr15_slot(t->pcr_mask);
        struct pcrsig_key key = {};

        if (!hsize || slot < 0)
                return -EINVAL;
        /* PCR 15 alone needs no other value. */
        if (!values && n > 1)
                return -ENODATA;
        if (values)
                memcpy(literal, values, n * hsize);
        memcpy(literal + (size_t) slot * hsize, pcr15, hsize);
        if (t->pubkey_pcr_mask && pcrsig_key_from_pem(t->pubkey_pem, t->pubkey_pem_size, &key, NULL) < 0)
                return -EBADMSG;
        return policy_holds(t, &key.name, bank, literal);
}

enum token_pcr15 token_pcr15_binding(const struct tpm2_token *t, TPMI_ALG_HASH bank, const uint8_t *values) {
        static const uint8_t zero[64];
        int r;

        if (pcr15_slot(t->pcr_mask) < 0)
                return TOKEN_PCR15_UNBOUND;
        r = token_holds_with_pcr15(t, bank, values, zero);
        if (r < 0)
                return TOKEN_PCR15_UNKNOWN;
        /* Not at 0: the policy holds for some other PCR 15, or for other
         * values of the other literal PCRs; with those read from the TPM
         * (or none there), only PCR 15 is left. */
        return r ? TOKEN_PCR15_ZERO : TOKEN_PCR15_CHAINED;
}
