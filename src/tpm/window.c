/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <string.h>

#include "measure.h"
#include "encoding.h"
#include "policy.h"
#include "window.h"

#define PCR11_MASK (UINT32_C(1) << MEASURE_PCR_PHASE)
#define PCR15_MASK (UINT32_C(1) << 15)

/* systemd-measure sign's default --phase list. */
const char *const window_paths[WINDOW_N_PATHS] = {
        "enter-initrd",
        "enter-initrd:leave-initrd",
        "enter-initrd:leave-initrd:sysinit",
        "enter-initrd:leave-initrd:sysinit:ready",
};

/* PCR = H(PCR || H(word)), as the TPM extends a phase word. */
static int extend_word(uint8_t pcr[32], const char *word) {
        uint8_t buf[64];

        memcpy(buf, pcr, 32);
        if (!EVP_Digest(word, strlen(word), buf + 32, NULL, EVP_sha256(), NULL) ||
            !EVP_Digest(buf, sizeof(buf), pcr, NULL, EVP_sha256(), NULL))
                return -EIO;
        return 0;
}

int window_paths_from(const uint8_t base[32], struct window_path out[WINDOW_N_PATHS]) {
        uint8_t pcr[32];

        memcpy(pcr, base, 32);
        /* Each path is the previous one plus its last word. */
        for (size_t i = 0; i < WINDOW_N_PATHS; i++) {
                const char *word = strrchr(window_paths[i], ':');

                if (extend_word(pcr, word ? word + 1 : window_paths[i]) < 0)
                        return -EIO;
                memcpy(out[i].pcr11, pcr, 32);
                memset(out[i].policy, 0, 32);
                if (policy_pcr(out[i].policy, TPM2_ALG_SHA256, PCR11_MASK, pcr, 32) < 0)
                        return -EIO;
        }
        return 0;
}

int window_path_of(const struct window_path paths[WINDOW_N_PATHS], const uint8_t pol[32]) {
        for (int i = 0; i < WINDOW_N_PATHS; i++)
                if (memcmp(paths[i].policy, pol, 32) == 0)
                        return i;
        return -1;
}

bool window_path_after_handoff(int path) {
        return path >= 0 && path < WINDOW_N_PATHS && strstr(window_paths[path], "leave-initrd");
}

int window_judge_token(const struct tpm2_token *t, json_object *sig, const struct window_path *paths,
                       struct window_token *ret, char **why) {
        struct pcrsig_policy pols[WINDOW_MAX_ENTRIES];
        struct pcrsig_key key;
        bool unknown = false;
        int r;

        *ret = (struct window_token) { .signed_mask = t->pubkey_pcr_mask, .literal_mask = t->pcr_mask, .open_entry = -1 };
        if (!t->pubkey_pcr_mask) {
                /* Literal PCRs only: no signature window to judge. */
                ret->verdict = WINDOW_UNKNOWN;
                return 0;
        }
        r = pcrsig_key_from_pem(t->pubkey_pem, t->pubkey_pem_size, &key, why);
        if (r < 0) {
                why_prefix(why, "field 'tpm2_pubkey'");
                return r;
        }
        hex_string(key.fingerprint, 32, ret->fingerprint);
        ret->n_entries = pcrsig_policies(sig, TPM2_ALG_SHA256, t->pubkey_pcr_mask, &key, pols, ELEMENTSOF(pols));
        for (size_t i = 0; i < ret->n_entries; i++) {
                /* Phase paths name PCR 11 values only: a selection with other
                 * PCRs cannot be placed. */
                int path = paths && t->pubkey_pcr_mask == PCR11_MASK ? window_path_of(paths, pols[i].pol) : -1;

                ret->entries[i] = (struct window_entry) { .index = pols[i].index, .path = path };
                if (path < 0)
                        unknown = true;
                else if (window_path_after_handoff(path) && ret->open_entry < 0)
                        ret->open_entry = (int) i;
        }
        if (ret->open_entry >= 0)
                ret->verdict = t->pcr_mask & PCR15_MASK ? WINDOW_LATCHED : WINDOW_OPEN;
        else
                ret->verdict = unknown ? WINDOW_UNKNOWN : WINDOW_CLOSED;
        return 0;
}

int window_token_now(struct tpm2_ctx *c, const struct tpm2_token *t, json_object *sig,
                     enum window_verdict *ret, char **why) {
        TPMI_ALG_HASH bank = t->pcr_bank ? t->pcr_bank : TPM2_ALG_SHA256;
        uint8_t values[24 * 64], pol[32] = {}, want[32];
        _cleanup_free_ char *none = NULL;
        struct pcrsig_key key = {};
        TPMT_SIGNATURE s;
        int r;

        *ret = WINDOW_CLOSED;
        if (t->pubkey_pcr_mask) {
                /* No signature file: nothing can authorize its signed PCRs. */
                if (!sig)
                        return 0;
                r = pcrsig_key_from_pem(t->pubkey_pem, t->pubkey_pem_size, &key, why);
                if (r >= 0)
                        r = tpm2_pcr_read(c, bank, t->pubkey_pcr_mask, values, why);
                if (r < 0)
                        return r;
                if (policy_pcr(pol, bank, t->pubkey_pcr_mask, values, tpm2_hash_size(bank)) < 0)
                        return why_set(why, EIO, "cannot compute the PCR policy");
                /* The TPM would check the signature; offline we must. */
                if (pcrsig_find(sig, bank, t->pubkey_pcr_mask, &key, pol, &s, &none) < 0 ||
                    pcrsig_verify(&key, pol, &s) < 0)
                        return 0;
        }
        if (t->pcr_mask && (r = tpm2_pcr_read(c, bank, t->pcr_mask, values, why)) < 0)
                return r;
        if (policy_token(want, t->pubkey_pcr_mask ? &key.name : NULL, bank, t->pcr_mask, values, t->pin) < 0)
                return why_set(why, EIO, "cannot compute the policy");
        *ret = memcmp(want, t->policy_hash, 32) == 0 ? WINDOW_OPEN : WINDOW_LATCHED;
        return 0;
}
