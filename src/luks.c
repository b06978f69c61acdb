/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libcryptsetup.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "luks.h"

/* libcryptsetup would print to stderr; its words go to our debug log,
 * where a secret never appears (it never logs key material). */
static void crypt_log_cb(int level, const char *msg, void *usrptr) {
        size_t n = strlen(msg);
        if (n && msg[n - 1] == '\n')
                n--;
        log_debug("cryptsetup: %.*s", (int) n, msg);
}

int luks_load(const char *path, struct crypt_device **ret, char **why) {
        struct crypt_device *cd = NULL;
        int r;

        crypt_set_log_callback(NULL, crypt_log_cb, NULL);
        /* libcryptsetup says "block device required" for a missing file. */
        if (access(path, F_OK) < 0)
                return why_set(why, errno, "cannot open: %s", strerror(errno));
        r = crypt_init(&cd, path);
        if (r < 0)
                return why_set(why, r, "cannot open: %s", strerror(-r));
        crypt_set_log_callback(cd, crypt_log_cb, NULL);
        r = crypt_load(cd, CRYPT_LUKS, NULL);
        if (r < 0) {
                crypt_free(cd);
                return why_set(why, r == -EINVAL ? EMEDIUMTYPE : r, "no LUKS header (%s)", strerror(-r));
        }
        if (!streq_ptr(crypt_get_type(cd), CRYPT_LUKS2)) {
                why_set(why, EMEDIUMTYPE, "%s header, not LUKS2: refusing", strempty(crypt_get_type(cd)));
                crypt_free(cd);
                return -EMEDIUMTYPE;
        }
        *ret = cd;
        return 0;
}

void luks_free(struct crypt_device *cd) {
        crypt_free(cd);
}

static bool is_tpm2_token(struct crypt_device *cd, int id) {
        const char *type = NULL;
        crypt_token_info info = crypt_token_status(cd, id, &type);
        return (info == CRYPT_TOKEN_EXTERNAL || info == CRYPT_TOKEN_EXTERNAL_UNKNOWN) &&
               streq_ptr(type, "systemd-tpm2");
}

int luks_count_tpm2_tokens(struct crypt_device *cd) {
        int n = 0, max = crypt_token_max(CRYPT_LUKS2);
        for (int id = 0; id < max; id++)
                n += is_tpm2_token(cd, id);
        return n;
}

int luks_tpm2_passphrase(const struct secret *key, struct secret **ret) {
        struct secret *p;
        int r = secret_new((key->size + 2) / 3 * 4 + 1, &p);
        if (r < 0)
                return r;
        p->size = base64_encode(key->data, key->size, (char *) p->data);
        *ret = p;
        return 0;
}

static int activate(struct crypt_device *cd, const char *name, int keyslot, const struct secret *pass, char **why) {
        int r = crypt_activate_by_passphrase(cd, name, keyslot, (const char *) pass->data, pass->size, 0);
        if (r == -EPERM)
                return why_set(why, r, keyslot == CRYPT_ANY_SLOT ? "key does not open any keyslot" :
                               "unsealed key does not open keyslot %d", keyslot);
        if (r < 0)
                return why_set(why, r, "cannot %s: %s", name ? "activate" : "check the keyslot", strerror(-r));
        return r;
}

/* Append "token N: reason" to the collected reasons. */
static void collect(char **all, int id, const char *reason) {
        char *s = NULL;
        if (asprintf(&s, "%s%stoken %d: %s", *all ? *all : "", *all ? "; " : "", id, strempty(reason)) >= 0) {
                free(*all);
                *all = s;
        }
}

static int unlock_token(struct crypt_device *cd, int id, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                        const char *name, int *ret_keyslot, char **why) {
        struct tpm2_token t;
        _cleanup_secret_ struct secret *key = NULL, *pass = NULL;
        const char *json = NULL;
        int r;

        r = crypt_token_json_get(cd, id, &json);
        if (r < 0)
                return why_set(why, r, "cannot read the token: %s", strerror(-r));
        r = tpm2_token_parse(json, &t, why);
        if (r < 0)
                return r;
        r = tpm2_unseal(tpm, &t, a, &key, why);
        if (r >= 0)
                r = luks_tpm2_passphrase(key, &pass);
        if (r >= 0)
                r = activate(cd, name, t.keyslot, pass, why);
        if (r >= 0)
                *ret_keyslot = t.keyslot;
        tpm2_token_done(&t);
        return r;
}

int luks_unlock_tpm2(struct crypt_device *cd, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                     const char *name, struct luks_result *ret, char **why) {
        _cleanup_free_ char *all = NULL;
        int max = crypt_token_max(CRYPT_LUKS2), tried = 0, last = -ENOENT;

        for (int id = 0; id < max; id++) {
                _cleanup_free_ char *reason = NULL;
                int keyslot, r;

                if (!is_tpm2_token(cd, id))
                        continue;
                tried++;
                r = unlock_token(cd, id, tpm, a, name, &keyslot, &reason);
                if (r >= 0) {
                        *ret = (struct luks_result) { .token = id, .keyslot = keyslot };
                        return 0;
                }
                log_debug("token %d: %s", id, strempty(reason));
                collect(&all, id, reason);
                last = r;
        }
        if (!tried)
                return why_set(why, ENOENT, "no systemd-tpm2 token");
        why_set(why, last, "%s", all ? all : "no token could be used");
        return last;
}

int luks_unlock_secret(struct crypt_device *cd, const struct secret *key, const char *name,
                       struct luks_result *ret, char **why) {
        int r = activate(cd, name, CRYPT_ANY_SLOT, key, why);
        if (r < 0)
                return r;
        *ret = (struct luks_result) { .token = -1, .keyslot = r };
        return 0;
}
