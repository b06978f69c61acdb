/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>

#include "enroll.h"
#include "luks.h"
#include "pcrsig.h"
#include "policy.h"
#include "recovery-key.h"
#include "token.h"
#include "tpm2.h"

#define ENROLL_KEY_SIZE 32      /* what systemd seals: its passphrase is 44 chars of base64 */
#define ENROLL_SALT_SIZE 32     /* v253's tpm2_salt */

/* The volume key, from a keyslot of the judged header (CRYPT_ANY_SLOT: any
 * the passphrase opens). libcryptsetup checks it against the digest, so a
 * key that comes back is the volume's. */
static int volume_key(struct crypt_device *cd, int keyslot, const struct secret *pass, struct secret **ret,
                      char **why) {
        _cleanup_secret_ struct secret *vk = NULL;
        int size = crypt_get_volume_key_size(cd), r;
        size_t vks;

        if (size <= 0)
                return why_set(why, EINVAL, "LUKS2 header names no volume key size");
        r = secret_new((size_t) size, &vk);
        if (r < 0)
                return r;
        vks = vk->size;
        r = crypt_volume_key_get(cd, keyslot, (char *) vk->data, &vks, (const char *) pass->data, pass->size);
        if (r == -EPERM)
                return why_set(why, EPERM, keyslot == CRYPT_ANY_SLOT ? "the unlock key opens no keyslot" :
                               "the unsealed key does not open keyslot %d", keyslot);
        if (r < 0)
                return why_set(why, r, "cannot get the volume key: %s", strerror(-r));
        vk->size = vks;
        *ret = TAKE_PTR(vk);
        return 0;
}

/* Through one of the volume's own systemd-tpm2 tokens, as unlock --check
 * does; the session stays open for the seal that follows. */
static int volume_key_by_tpm(struct crypt_device *cd, struct tpm2_ctx *tpm, struct enroll_args *a,
                             struct secret **ret, char **why) {
        struct tpm2_token used = {};
        struct luks_key k;
        int r;

        r = luks_unseal_tpm2(cd, tpm, &(struct tpm2_unseal_args) { .signatures = a->signatures }, &k, why);
        if (r >= 0)
                r = volume_key(cd, k.keyslot, k.pass, ret, why);
        if (r >= 0 && a->pcrs_from_token && (r = luks_tpm2_token_get(cd, k.token, &used, why)) >= 0) {
                a->pcr_mask = used.pcr_mask;
                a->has_pcr15 = false;
                a->from_token = k.token;
                tpm2_token_done(&used);
        }
        luks_key_done(&k);
        if (r < 0)
                why_prefix(why, "cannot unlock with the volume's TPM token");
        return r;
}

int enroll_volume_digests(const char *path, const char *name, const struct secret *key,
                          struct pcr15_digests *ret, char **why) {
        _cleanup_luks_ struct crypt_device *cd = NULL;
        _cleanup_secret_ struct secret *vk = NULL;
        int r;

        r = luks_load(path, NULL, &cd, why);
        if (r >= 0)
                r = volume_key(cd, CRYPT_ANY_SLOT, key, &vk, why);
        if (r >= 0 && (r = pcr15_digests_compute(vk, name, crypt_get_uuid(cd), ret)) < 0)
                why_set(why, r, "cannot compute the PCR 15 digests: %s", strerror(-r));
        return r;
}

/* The token's policy, offline: the signed part by the key's name, the
 * literal PCRs at the TPM's values now but PCR 15 at the given value, and
 * the PIN. */
static int token_policy(struct tpm2_ctx *tpm, const struct enroll_args *a, const struct pcrsig_key *key,
                        uint8_t digest[POLICY_DIGEST_SIZE], char **why) {
        const size_t hs = tpm2_hash_size(ENROLL_BANK);
        uint8_t values[24 * 64];
        int r;

        if (a->pcr_mask && (r = tpm2_pcr_read(tpm, ENROLL_BANK, a->pcr_mask, values, why)) < 0)
                return r;
        if (a->has_pcr15 && (a->pcr_mask & (UINT32_C(1) << PCR15_PCR))) {
                /* values are in ascending PCR order */
                size_t idx = (size_t) __builtin_popcount(a->pcr_mask & ((UINT32_C(1) << PCR15_PCR) - 1));
                memcpy(values + idx * hs, a->pcr15, hs);
        }
        r = policy_token(digest, a->pubkey_pcr_mask ? &key->name : NULL, ENROLL_BANK, a->pcr_mask, values,
                         a->pin != NULL);
        return r < 0 ? why_set(why, r, "cannot compute the token's policy") : 0;
}

/* Seal a fresh key into `t` (its blob, policy hash, PIN salt). */
static int seal_key(struct tpm2_ctx *tpm, const struct enroll_args *a, const struct pcrsig_key *key,
                    struct tpm2_token *t, struct secret **ret_key, char **why) {
        _cleanup_secret_ struct secret *k = NULL;
        TPM2B_AUTH auth = {};
        int r;

        r = token_policy(tpm, a, key, t->policy_hash, why);
        if (r < 0)
                return r;
        r = secret_random(ENROLL_KEY_SIZE, &k);
        if (r >= 0 && a->pin) {
                t->salt_size = ENROLL_SALT_SIZE;
                r = secret_random_fill(t->salt, t->salt_size);
                if (r >= 0)
                        r = tpm2_pin_auth(a->pin, t->salt, t->salt_size, &auth);
        }
        if (r < 0)
                return why_set(why, r, "cannot make a key: %s", strerror(-r));
        r = tpm2_seal(tpm, t->policy_hash, a->pin ? &auth : NULL, k, &t->private, &t->public, why);
        explicit_bzero(&auth, sizeof(auth));
        if (r >= 0)
                *ret_key = TAKE_PTR(k);
        return r;
}

/* The token JSON for keyslot `slot`: a systemd-tpm2 token (checked by the
 * parser every unlock uses) or a systemd-recovery one. */
struct token_writer {
        struct tpm2_token *tpm;                 /* NULL: systemd-recovery */
        const char *type;                       /* for messages */
};

static int token_json(const struct token_writer *w, int slot, char **ret, char **why) {
        struct tpm2_token check;
        int r;

        if (!w->tpm)
                return asprintf(ret, "{\"type\":\"systemd-recovery\",\"keyslots\":[\"%d\"]}", slot) < 0 ?
                        -ENOMEM : 0;
        w->tpm->keyslot = slot;
        r = tpm2_token_format(w->tpm, ret);
        /* What goes on the disk is what every unlock parses. */
        if (r >= 0 && (r = tpm2_token_parse(*ret, &check, why)) >= 0)
                tpm2_token_done(&check);
        return r;
}

/* A new keyslot for the passphrase, then the token that names it; the
 * keyslot goes again when the token cannot be written. */
static int write_slot_and_token(const char *path, struct crypt_device *judged, const struct secret *vk,
                                const struct secret *pass, const struct token_writer *w,
                                struct enroll_result *ret, char **why) {
        /* The passphrase is 256 random bits (a sealed key, a recovery key):
         * no stretching needed, and the boot pays no KDF cost for it
         * (systemd's choice for both). */
        struct crypt_pbkdf_type pbkdf = {
                .type = CRYPT_KDF_PBKDF2,
                .hash = "sha512",
                .iterations = 1000,
                .flags = CRYPT_PBKDF_NO_BENCHMARK,
        };
        _cleanup_free_ char *json = NULL;
        struct crypt_device *cd = NULL;
        int slot, token, r;

        r = luks_open_for_write(path, judged, &cd, why);
        if (r < 0)
                return r;
        r = crypt_set_pbkdf_type(cd, &pbkdf);
        slot = r < 0 ? r : crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, (const char *) vk->data, vk->size,
                                                            (const char *) pass->data, pass->size);
        if (slot < 0) {
                crypt_free(cd);
                return why_set(why, slot, "cannot add a keyslot: %s", strerror(-slot));
        }
        r = token_json(w, slot, &json, why);
        token = r < 0 ? r : crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);
        if (token < 0) {
                (void) crypt_keyslot_destroy(cd, slot);
                crypt_free(cd);
                if (why && *why) {      /* the parser named the field */
                        why_prefix(why, "cannot write the %s token", w->type);
                        return token;
                }
                return why_set(why, token, "cannot write the %s token: %s", w->type, strerror(-token));
        }
        crypt_free(cd);
        *ret = (struct enroll_result) { .keyslot = slot, .token = token, .pcr_mask = w->tpm ? w->tpm->pcr_mask : 0,
                                        .from_token = -1 };
        return 0;
}

/* The TPM: the caller's connection (a->tpm), else one opened into *own. */
static int tpm_get(struct enroll_args *a, struct tpm2_ctx **own, char **why) {
        int r;

        if (a->tpm)
                return 0;
        r = tpm2_open(a->tcti, own, why);
        if (r >= 0)
                a->tpm = *own;
        return r;
}

/* The judged header and its volume key, by the way `a` says. */
static int open_volume(const char *path, struct enroll_args *a, struct crypt_device **ret_cd,
                       struct tpm2_ctx **own, struct secret **ret_vk, char **why) {
        int r;

        r = luks_load(path, NULL, ret_cd, why);
        if (r < 0)
                return r;
        if (a->unlock_key)
                return volume_key(*ret_cd, CRYPT_ANY_SLOT, a->unlock_key, ret_vk, why);
        r = tpm_get(a, own, why);
        return r < 0 ? r : volume_key_by_tpm(*ret_cd, a->tpm, a, ret_vk, why);
}

int enroll_recovery(const char *path, const struct enroll_args *args, struct secret **ret_key,
                    struct enroll_result *ret, char **why) {
        struct enroll_args a = *args;
        _cleanup_luks_ struct crypt_device *judged = NULL;
        _cleanup_tpm2_ struct tpm2_ctx *tpm = NULL;
        _cleanup_secret_ struct secret *vk = NULL, *key = NULL;
        int r;

        a.pcrs_from_token = false;
        r = open_volume(path, &a, &judged, &tpm, &vk, why);
        if (r >= 0 && (r = recovery_key_generate(&key)) < 0)
                why_set(why, r, "cannot make a recovery key: %s", strerror(-r));
        if (r >= 0)
                r = write_slot_and_token(path, judged, vk, key,
                                         &(struct token_writer) { .type = "systemd-recovery" }, ret, why);
        if (r >= 0)
                *ret_key = TAKE_PTR(key);
        return r;
}

int enroll_volume(const char *path, const struct enroll_args *args, struct enroll_result *ret, char **why) {
        struct enroll_args copy = *args, *a = &copy;  /* the token's PCRs may replace the asked ones */
        _cleanup_luks_ struct crypt_device *judged = NULL;
        _cleanup_tpm2_ struct tpm2_ctx *tpm = NULL;
        _cleanup_secret_ struct secret *vk = NULL, *key = NULL, *pass = NULL;
        _cleanup_free_ char *pem = NULL;
        struct pcrsig_key sk = {};
        int r;

        if (a->pubkey_pcr_mask && (r = pcrsig_key_from_pem(a->pubkey_pem, a->pubkey_pem_size, &sk, why)) < 0) {
                why_prefix(why, "the public key");
                return r;
        }
        r = open_volume(path, a, &judged, &tpm, &vk, why);
        if (r >= 0)
                r = tpm_get(a, &tpm, why);
        if (r < 0)
                return r;

        struct tpm2_token t = {
                .keyslot = -1,
                .pcr_mask = a->pcr_mask,
                .pcr_bank = ENROLL_BANK,
                .primary_alg = TPM2_ALG_ECC,
                .pin = a->pin != NULL,
                .pubkey_pcr_mask = a->pubkey_pcr_mask,
        };
        if (a->pubkey_pcr_mask) {
                if (!(pem = strndup(a->pubkey_pem, a->pubkey_pem_size)))
                        return -ENOMEM;
                t.pubkey_pem = pem;
                t.pubkey_pem_size = a->pubkey_pem_size;
        }
        r = seal_key(a->tpm, a, &sk, &t, &key, why);
        if (r >= 0)
                r = luks_tpm2_passphrase(key, &pass);
        if (r >= 0)
                r = write_slot_and_token(path, judged, vk, pass,
                                         &(struct token_writer) { .tpm = &t, .type = "systemd-tpm2" }, ret, why);
        if (r >= 0 && a->pcrs_from_token)
                ret->from_token = a->from_token;
        return r;
}
