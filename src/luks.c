/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libcryptsetup.h>
#include <string.h>
#include <sys/wait.h>
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
        /* The token JSON is read here; systemd's own token plugin is never
         * loaded into this process (nor validates the tokens for us). */
        crypt_token_external_disable();
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

bool luks_is_tpm2_token(struct crypt_device *cd, int id) {
        const char *type = NULL;
        crypt_token_info info = crypt_token_status(cd, id, &type);
        return (info == CRYPT_TOKEN_EXTERNAL || info == CRYPT_TOKEN_EXTERNAL_UNKNOWN) &&
               streq_ptr(type, "systemd-tpm2");
}

int luks_count_tpm2_tokens(struct crypt_device *cd) {
        int n = 0, max = crypt_token_max(CRYPT_LUKS2);
        for (int id = 0; id < max; id++)
                n += luks_is_tpm2_token(cd, id);
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

void luks_key_done(struct luks_key *k) {
        secret_free(k->pass);
        *k = (struct luks_key) { .token = -1, .keyslot = -1 };
}

int luks_tpm2_token_get(struct crypt_device *cd, int id, struct tpm2_token *ret, char **why) {
        const char *json = NULL;
        int r = crypt_token_json_get(cd, id, &json);

        if (r < 0)
                return why_set(why, r, "cannot read the token: %s", strerror(-r));
        return tpm2_token_parse(json, ret, why);
}

static int unseal_token(struct crypt_device *cd, int id, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                        struct luks_key *ret, char **why) {
        _cleanup_secret_ struct secret *key = NULL;
        struct tpm2_token t;
        int r;

        r = luks_tpm2_token_get(cd, id, &t, why);
        if (r < 0)
                return r;
        r = tpm2_unseal(tpm, &t, a, &key, why);
        if (r >= 0)
                r = luks_tpm2_passphrase(key, &ret->pass);
        if (r >= 0) {
                ret->token = id;
                ret->keyslot = t.keyslot;
        }
        tpm2_token_done(&t);
        return r;
}

/* Try the tokens from `from` on; the first that unseals wins. */
static int unseal_from(struct crypt_device *cd, int from, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                       struct luks_key *ret, char **all) {
        int max = crypt_token_max(CRYPT_LUKS2), last = -ENOENT;

        for (int id = from; id < max; id++) {
                _cleanup_free_ char *reason = NULL;
                int r;

                if (!luks_is_tpm2_token(cd, id))
                        continue;
                r = unseal_token(cd, id, tpm, a, ret, &reason);
                if (r >= 0)
                        return 0;
                log_debug("token %d: %s", id, strempty(reason));
                collect(all, id, reason);
                last = r;
        }
        return last;
}

int luks_unseal_tpm2(struct crypt_device *cd, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                     struct luks_key *ret, char **why) {
        _cleanup_free_ char *all = NULL;
        int r;

        *ret = (struct luks_key) { .token = -1, .keyslot = -1 };
        if (luks_count_tpm2_tokens(cd) == 0)
                return why_set(why, ENOENT, "no systemd-tpm2 token");
        r = unseal_from(cd, 0, tpm, a, ret, &all);
        if (r < 0)
                why_set(why, r, "%s", all ? all : "no token could be used");
        return r;
}

int luks_unlock_tpm2(struct crypt_device *cd, struct tpm2_ctx *tpm, const struct tpm2_unseal_args *a,
                     const char *name, struct luks_result *ret, char **why) {
        _cleanup_free_ char *all = NULL;
        int from = 0, r = -ENOENT;

        if (luks_count_tpm2_tokens(cd) == 0)
                return why_set(why, ENOENT, "no systemd-tpm2 token");
        /* A token whose key does not open its keyslot makes way for the next. */
        for (;;) {
                struct luks_key k;
                _cleanup_free_ char *reason = NULL;

                k = (struct luks_key) { .token = -1, .keyslot = -1 };
                r = unseal_from(cd, from, tpm, a, &k, &all);
                if (r < 0)
                        break;
                r = activate(cd, name, k.keyslot, k.pass, &reason);
                if (r >= 0) {
                        *ret = (struct luks_result) { .token = k.token, .keyslot = k.keyslot };
                        luks_key_done(&k);
                        return 0;
                }
                collect(&all, k.token, reason);
                from = k.token + 1;
                luks_key_done(&k);
        }
        why_set(why, r, "%s", all ? all : "no token could be used");
        return r;
}

static void activate_job(struct luks_job *j) {
        j->result = activate(j->cd, j->name, j->key->keyslot, j->key->pass, &j->why);
}

size_t luks_activate_all(struct luks_job *jobs, size_t n) {
        pid_t *pids;
        size_t failed = 0;

        if (n == 1) {
                activate_job(&jobs[0]);
                return jobs[0].result < 0;
        }
        pids = calloc(n, sizeof(*pids));
        if (!pids)
                return n;
        for (size_t i = 0; i < n; i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                        /* The child only activates; it never touches the TPM
                         * context and leaves without running any cleanup. */
                        int r = activate(jobs[i].cd, jobs[i].name, jobs[i].key->keyslot, jobs[i].key->pass, NULL);
                        _exit(r < 0 ? (-r & 0xff) : 0);
                }
                if (pids[i] < 0)
                        activate_job(&jobs[i]);  /* no fork: do it here */
        }
        for (size_t i = 0; i < n; i++) {
                int status, err;

                if (pids[i] <= 0)
                        continue;
                while (waitpid(pids[i], &status, 0) < 0)
                        if (errno != EINTR) {
                                status = -1;
                                break;
                        }
                err = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
                /* The reason is rebuilt here from the errno the child left. */
                jobs[i].result = err ? why_set(&jobs[i].why, err, err == EPERM ? "unsealed key does not open keyslot %d" :
                                               "cannot open keyslot %d: %s", jobs[i].key->keyslot, strerror(err))
                                     : jobs[i].key->keyslot;
        }
        for (size_t i = 0; i < n; i++)
                failed += jobs[i].result < 0;
        free(pids);
        return failed;
}

int luks_unlock_secret(struct crypt_device *cd, const struct secret *key, const char *name,
                       struct luks_result *ret, char **why) {
        int r = activate(cd, name, CRYPT_ANY_SLOT, key, why);
        if (r < 0)
                return r;
        *ret = (struct luks_result) { .token = -1, .keyslot = r };
        return 0;
}
