/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "secret.h"
#include "tpm2.h"

struct crypt_device;
struct pcr15_digests;

/* LUKS2 through libcryptsetup, on a block device or an image file. With
 * name == NULL nothing is activated: the key is only checked against its
 * keyslot, which needs no device-mapper. */

/* Load the header into memory, judge that copy (src/tpm/luks-header.h) and
 * return a context that opens the device through it, as a detached header.
 * Anything that is not LUKS2 is refused with a reason that says what was
 * found. ciphers: the allow-list (NULL-terminated; NULL: the default). A header
 * the rules of src/tpm/luks-header.h refuse fails with -LUKS_HEADER_REFUSED and
 * *why naming the field ("LUKS2 data segment 0 uses cipher_null-ecb: refused"). */
int luks_load(const char *path, const char *const *ciphers, struct crypt_device **ret, char **why);
void luks_free(struct crypt_device *cd);

/* The header to write to: the device's own, and only while it is still the
 * one luks_load() judged (-ESTALE: rewritten in between). *ret is the
 * caller's to crypt_free(). */
int luks_open_for_write(const char *path, struct crypt_device *judged, struct crypt_device **ret, char **why);
static inline void luks_freep(struct crypt_device **cd) { luks_free(*cd); }
#define _cleanup_luks_ __attribute__((cleanup(luks_freep)))

/* How many systemd-tpm2 tokens the header carries. */
int luks_count_tpm2_tokens(struct crypt_device *cd);
/* Whether token `id` is a systemd-tpm2 token; then its JSON, parsed (the
 * caller frees it with tpm2_token_done()). */
bool luks_is_tpm2_token(struct crypt_device *cd, int id);
int luks_tpm2_token_get(struct crypt_device *cd, int id, struct tpm2_token *ret, char **why);

struct luks_result {
        int token;      /* -1: not by a token */
        int keyslot;
};

/* Try the systemd-tpm2 tokens in order; each unseals with the shared TPM
 * context and opens only the token's own keyslot. On failure, *why holds
 * the reason of every token tried ("token 0: ..."). */
int luks_unlock_tpm2(struct crypt_device *cd, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                     const char *name, struct luks_result *ret, char **why);

/* The two halves of luks_unlock_tpm2(), so a boot unseals every volume on
 * the TPM first and then pays the keyslot and digest PBKDF2 of all volumes
 * at once (luks_activate_all). */
struct luks_key {
        int token;
        int keyslot;
        struct secret *pass;    /* the passphrase the token's keyslot takes */
};
void luks_key_done(struct luks_key *k);

/* The first token (in order) that unseals; *why collects every failure. */
int luks_unseal_tpm2(struct crypt_device *cd, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                     struct luks_key *ret, char **why);

struct luks_job {
        struct crypt_device *cd;
        const char *name;               /* NULL: check only */
        const struct luks_key *key;
        struct pcr15_digests *measure;  /* non-NULL (with a name): filled with the volume
                                         * key's PCR 15 HMACs (src/tpm/pcr15.h) */
        int result;                     /* out: keyslot or negative errno */
        char *why;                      /* out: reason on failure */
};

/* Activate (or check) every job, in parallel: one child process per job
 * when there are several, since the PBKDF2 of each volume is CPU-bound and
 * libdevmapper is not made for threads. Returns how many failed. */
size_t luks_activate_all(struct luks_job *jobs, size_t n);

/* A passphrase, recovery key or keyfile content, against any keyslot.
 * measure as in struct luks_job. */
int luks_unlock_secret(struct crypt_device *cd, const struct secret *key, const char *name,
                       struct pcr15_digests *measure, struct luks_result *ret, char **why);

/* The unsealed 32 bytes -> the passphrase systemd enrolled: base64, 44 chars. */
int luks_tpm2_passphrase(const struct secret *key, struct secret **ret);
