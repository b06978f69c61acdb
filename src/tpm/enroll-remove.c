/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libcryptsetup.h>
#include <string.h>

#include "enroll.h"
#include "luks.h"
#include "pcrsig.h"
#include "token.h"
#include "why.h"

/* Removing the tokens of an old signing key once a UKI signed by the new
 * one has booted (key rotation), or one token by number. Every choice is
 * made on the judged header before anything is written, so a refusal
 * leaves the volume as it was. */

#define MAX_TOKENS 32   /* LUKS2's token area */

/* The key a token's policy is signed by; false for a token with none. */
static bool token_key(const struct tpm2_token *t, struct pcrsig_key *ret) {
        _cleanup_free_ char *why = NULL;

        return t->pubkey_pem && pcrsig_key_from_pem(t->pubkey_pem, t->pubkey_pem_size, ret, &why) >= 0;
}

struct removal {
        int tokens[MAX_TOKENS], keyslots[MAX_TOKENS];
        size_t n;
        size_t kept_of_key;     /* systemd-tpm2 tokens of the kept key */
};

/* Which tokens go: `token`, or every systemd-tpm2 token not signed by `keep`. */
static int choose(struct crypt_device *cd, int token, const struct pcrsig_key *keep, struct removal *rm,
                  char **why) {
        for (int id = 0; id < MAX_TOKENS; id++) {
                struct tpm2_token t = {};
                struct pcrsig_key k;
                bool go;
                int r;

                if (!keep && id != token)
                        continue;
                if (!luks_is_tpm2_token(cd, id)) {
                        if (id == token)
                                return why_set(why, crypt_token_status(cd, id, NULL) == CRYPT_TOKEN_INACTIVE ?
                                               ENOENT : EMEDIUMTYPE, "token %d: %s", id,
                                               crypt_token_status(cd, id, NULL) == CRYPT_TOKEN_INACTIVE ?
                                               "there is no such token" : "not a systemd-tpm2 token");
                        continue;
                }
                r = luks_tpm2_token_get(cd, id, &t, why);
                if (r < 0) {
                        why_prefix(why, "token %d", id);
                        return r;
                }
                if (keep) {
                        go = !token_key(&t, &k) || memcmp(k.fingerprint, keep->fingerprint, sizeof(k.fingerprint));
                        rm->kept_of_key += !go;
                } else
                        go = id == token;
                if (go) {
                        rm->tokens[rm->n] = id;
                        rm->keyslots[rm->n++] = t.keyslot;
                }
                tpm2_token_done(&t);
        }
        return 0;
}

/* Keyslots left after the removal: one at least, or the volume is lost. */
static size_t keyslots_left(struct crypt_device *cd, const struct removal *rm) {
        size_t left = 0;

        for (int s = 0; s < crypt_keyslot_max(CRYPT_LUKS2); s++) {
                crypt_keyslot_info st = crypt_keyslot_status(cd, s);
                bool goes = false;

                if (st != CRYPT_SLOT_ACTIVE && st != CRYPT_SLOT_ACTIVE_LAST)
                        continue;
                for (size_t i = 0; i < rm->n; i++)
                        goes |= rm->keyslots[i] == s;
                left += !goes;
        }
        return left;
}

int enroll_remove(const char *path, int token, const char *keep_pem, size_t keep_pem_size, size_t *ret_n,
                  char **why) {
        _cleanup_luks_ struct crypt_device *judged = NULL;
        struct crypt_device *cd = NULL;
        struct pcrsig_key keep;
        struct removal rm = {};
        int r;

        if (keep_pem && (r = pcrsig_key_from_pem(keep_pem, keep_pem_size, &keep, why)) < 0) {
                why_prefix(why, "the public key");
                return r;
        }
        r = luks_load(path, NULL, &judged, why);
        if (r >= 0)
                r = choose(judged, token, keep_pem ? &keep : NULL, &rm, why);
        if (r < 0)
                return r;
        if (keep_pem && !rm.kept_of_key)
                return why_set(why, ENOKEY, "no systemd-tpm2 token is signed by the kept key: removing the others "
                               "would leave the TPM nothing to unseal");
        if (rm.n && keyslots_left(judged, &rm) == 0)
                return why_set(why, EPERM, "that would remove the last keyslot: the volume could not be opened "
                               "again");
        r = luks_open_for_write(path, judged, &cd, why);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < rm.n; i++) {
                /* The token first: a keyslot without its token is only unused,
                 * a token without its keyslot would be tried in vain. */
                r = crypt_token_json_set(cd, rm.tokens[i], NULL);
                if (r >= 0 && rm.keyslots[i] >= 0)
                        r = crypt_keyslot_destroy(cd, rm.keyslots[i]);
                if (r < 0)
                        why_set(why, r, "token %d: cannot remove it: %s", rm.tokens[i], strerror(-r));
        }
        crypt_free(cd);
        if (r >= 0 && ret_n)
                *ret_n = rm.n;
        return r < 0 ? r : 0;
}
