/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "encoding.h"
#include "util.h"
#include "why.h"

/* A "systemd-tpm2" LUKS2 token (see shared spec: systemd-tpm2.md, section 1),
 * in every format systemd has written (v252 fields, v253 tpm2_salt, v254
 * tpm2_srk, v255/v256 pcrlock). Holds no secret: the token is public. */
struct tpm2_token {
        int keyslot;
        TPM2B_PRIVATE private;           /* from tpm2-blob */
        TPM2B_PUBLIC public;
        bool has_seed;                   /* v255 offline enrolment (needs Import) */
        uint32_t pcr_mask;               /* tpm2-pcrs: literal PolicyPCR */
        TPMI_ALG_HASH pcr_bank;          /* 0: absent, pick the best bank */
        TPMI_ALG_PUBLIC primary_alg;     /* TPM2_ALG_ECC (default) or TPM2_ALG_RSA */
        uint8_t policy_hash[32];
        bool pin;
        uint32_t pubkey_pcr_mask;        /* tpm2_pubkey_pcrs: signed PolicyPCR */
        char *pubkey_pem;                /* tpm2_pubkey decoded (PEM text), NUL-terminated */
        size_t pubkey_pem_size;
        uint8_t salt[64];                /* tpm2_salt (v253+): PIN via PBKDF2 */
        size_t salt_size;
        uint8_t *srk;                    /* tpm2_srk (v254+): Esys_TR_Serialize of the SRK */
        size_t srk_size;
        bool pcrlock;                    /* tpm2_pcrlock (v255+) */
        uint8_t *pcrlock_nv;             /* tpm2_pcrlock_nv (v256+) */
        size_t pcrlock_nv_size;
};

/* Parse the token JSON. On failure, *why names the field and the reason
 * ("field 'tpm2-blob': not valid base64") and -EBADMSG (or -ENOMEM) is
 * returned. Tokens of another type give -EMEDIUMTYPE. */
int tpm2_token_parse(const char *json, struct tpm2_token *ret, char **why);
void tpm2_token_done(struct tpm2_token *t);

/* The token as systemd-cryptenroll writes it: v252's fields, and with a
 * PIN salt v253's tpm2_salt (the inverse of tpm2_token_parse(); the srk
 * and pcrlock fields are never written). *ret is malloc'ed JSON text. */
int tpm2_token_format(const struct tpm2_token *t, char **ret);

/* Whether the token can be used here at all; *why says why not
 * (pcrlock, offline enrolment). */
int tpm2_token_supported(const struct tpm2_token *t, char **why);
