/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcr15.h"
#include "secret.h"

/* Enrolling a LUKS2 volume for the TPM: a fresh random key sealed to the
 * TPM's own storage key under a signed PCR policy (PolicyAuthorize of the
 * signing key), literal PCRs and an optional PIN, a new keyslot it opens,
 * and a systemd-tpm2 token for that keyslot that systemd's own token plugin
 * and usi-init unlock alike. Literal PCR 15 may be given as a chain value
 * (pcr15_chain_value()), which binds the volume behind the volumes whose
 * keys make that value (docs/ARCHITECTURE.md, volume binding). Prints
 * nothing; no secret leaves this file but into the LUKS2 keyslot. */

#define ENROLL_BANK TPM2_ALG_SHA256     /* what systemd 252 picks when active */

struct enroll_args {
        const char *tcti;                       /* NULL: the default TPM devices */
        struct tpm2_ctx *tpm;                   /* a connection to use (the boot's), not closed;
                                                 * NULL: one is opened on tcti */
        const char *pubkey_pem;                 /* the PCR-signing key (PEM text) */
        size_t pubkey_pem_size;
        uint32_t pubkey_pcr_mask;               /* signed PCRs, usually 11 */
        uint32_t pcr_mask;                      /* literal PCRs: the TPM's values now, but */
        bool has_pcr15;                         /* ... PCR 15 at this value (sha256) */
        uint8_t pcr15[32];
        const struct secret *pin;               /* NULL: no PIN */

        /* How the volume is opened to add a keyslot: an existing passphrase or
         * key file, or (NULL) one of its systemd-tpm2 tokens on this TPM. */
        const struct secret *unlock_key;
        const char *const *signatures;          /* for the token's unseal, as tpm2_unseal_args */
        /* With a token's unseal: seal to that token's literal PCRs (pcr_mask
         * and has_pcr15 unused). They hold the values it was sealed to, or it
         * would not have unsealed, so a new signing key's token keeps the
         * old one's binding (key rotation). */
        bool pcrs_from_token;
        int from_token;                         /* out, internal: the token that unsealed */
};

struct enroll_result {
        int keyslot;
        int token;
        uint32_t pcr_mask;      /* the literal PCRs sealed to */
        int from_token;         /* pcrs_from_token: whose they were; else -1 */
};

/* Enroll `path` (a block device or an image file). Its header must pass the
 * LUKS2 rules (luks_load()) and must not change between that judgement
 * and the write. On failure *why is one sentence without the path; the
 * volume keeps no part of a failed enrollment. */
int enroll_volume(const char *path, const struct enroll_args *a, struct enroll_result *ret, char **why);

/* A recovery key (recovery-key.h) for `path`: a new keyslot it opens and a
 * systemd-recovery token naming it, as systemd-cryptenroll --recovery-key
 * makes them. The volume is opened as `a` says (unlock_key, or a token
 * through a->tcti and a->signatures); nothing else of `a` is used. The key
 * is returned to be shown once; it is nowhere else. */
int enroll_recovery(const char *path, const struct enroll_args *a, struct secret **ret_key,
                    struct enroll_result *ret, char **why);

/* Remove systemd-tpm2 tokens and their keyslots from `path`: token
 * `token` (>= 0), or with `keep_pem` every one whose signing key is not
 * that key (the old keys, once a UKI signed by the new one has booted).
 * Refused, with nothing removed: a token that is not there or not a
 * systemd-tpm2 token; removing every keyslot; with keep_pem, no token of
 * the kept key left. *ret_n: how many were removed. */
int enroll_remove(const char *path, int token, const char *keep_pem, size_t keep_pem_size, size_t *ret_n,
                  char **why);

/* What volume `path` will contribute to PCR 15 when opened as `name`: its
 * volume key, got with `key` (passphrase or key file content) from the
 * judged header, HMAC'ed as pcr15_digests_compute() does at boot. */
int enroll_volume_digests(const char *path, const char *name, const struct secret *key,
                          struct pcr15_digests *ret, char **why);
