/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "secret.h"
#include "tpm2.h"

struct crypt_device;

/* LUKS2 through libcryptsetup, on a block device or an image file. With
 * name == NULL nothing is activated: the key is only checked against its
 * keyslot, which needs no device-mapper. */

/* Load the header; refuses anything that is not LUKS2 with a reason that
 * says what was found. */
int luks_load(const char *path, struct crypt_device **ret, char **why);
void luks_free(struct crypt_device *cd);
static inline void luks_freep(struct crypt_device **cd) { luks_free(*cd); }
#define _cleanup_luks_ __attribute__((cleanup(luks_freep)))

/* How many systemd-tpm2 tokens the header carries. */
int luks_count_tpm2_tokens(struct crypt_device *cd);

struct luks_result {
        int token;      /* -1: not by a token */
        int keyslot;
};

/* Try the systemd-tpm2 tokens in order; each unseals with the shared TPM
 * context and opens only the token's own keyslot. On failure, *why holds
 * the reason of every token tried ("token 0: ..."). */
int luks_unlock_tpm2(struct crypt_device *cd, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                     const char *name, struct luks_result *ret, char **why);

/* A passphrase, recovery key or keyfile content, against any keyslot. */
int luks_unlock_secret(struct crypt_device *cd, const struct secret *key, const char *name,
                       struct luks_result *ret, char **why);

/* The unsealed 32 bytes -> the passphrase systemd enrolled: base64, 44 chars. */
int luks_tpm2_passphrase(const struct secret *key, struct secret **ret);
