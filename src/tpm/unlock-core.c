/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>

#include "log.h"
#include "luks-header.h"
#include "luks.h"
#include "recovery-key.h"
#include "tpm2-da.h"
#include "unlock-core.h"

#define PASSPHRASE_MAX 512

/* ---- order ------------------------------------------------------------------ */

static bool lists(const struct unlock_volume *v, enum unlock_method m) {
        for (size_t i = 0; i < v->n_methods; i++)
                if (v->methods[i] == m)
                        return true;
        return false;
}

int unlock_steps(const struct unlock_volume *v, size_t n, bool final, struct unlock_step **ret, size_t *ret_n) {
        struct unlock_step *s = calloc(n * _UNLOCK_MAX + 1, sizeof(*s));
        size_t k = 0, ends = SIZE_MAX;

        if (!s)
                return -ENOMEM;
        /* Every TPM-sealed volume first ... */
        for (size_t i = 0; i < n; i++) {
                if (v[i].tpm_tokens < 0 || !lists(&v[i], UNLOCK_TPM2))
                        continue;
                /* Only a volume with a token reaches an Unseal. */
                if (v[i].tpm_tokens > 0)
                        ends = k;
                s[k++] = (struct unlock_step) { i, UNLOCK_TPM2, false };
        }
        if (final && ends != SIZE_MAX)
                s[ends].ends_session = true;
        /* ... then the fallbacks, only those the volume lists. */
        for (size_t i = 0; i < n; i++)
                for (size_t m = 0; v[i].tpm_tokens >= 0 && m < v[i].n_methods; m++)
                        if (v[i].methods[m] != UNLOCK_TPM2)
                                s[k++] = (struct unlock_step) { i, v[i].methods[m], false };
        *ret = s;
        *ret_n = k;
        return 0;
}

/* ---- console prompt ------------------------------------------------------------ */

struct echo_off {
        int fd;
        bool restore;
        struct termios saved;
};

static void echo_restore(struct echo_off *e) {
        if (e->restore)
                (void) tcsetattr(e->fd, TCSAFLUSH, &e->saved);
}

static void write_str(int fd, const char *s) {
        size_t n = strlen(s);
        while (n > 0) {
                ssize_t w = write(fd, s, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return;
                s += w;
                n -= (size_t) w;
        }
}

int unlock_prompt(int in_fd, int out_fd, const char *prompt, unsigned timeout_ms, struct secret **ret) {
        _cleanup_(echo_restore) struct echo_off e = { .fd = in_fd };
        _cleanup_secret_ struct secret *s = NULL;
        uint64_t deadline = clock_usec(CLOCK_MONOTONIC) / 1000u + timeout_ms;
        int r;

        r = secret_new(PASSPHRASE_MAX, &s);
        if (r < 0)
                return r;
        s->size = 0;
        if (isatty(in_fd) && tcgetattr(in_fd, &e.saved) == 0) {
                struct termios t = e.saved;
                t.c_lflag &= ~(tcflag_t) ECHO;
                t.c_lflag |= ICANON;
                if (tcsetattr(in_fd, TCSAFLUSH, &t) == 0)
                        e.restore = true;
        }
        write_str(out_fd, prompt);
        for (;;) {
                struct pollfd pfd = { .fd = in_fd, .events = POLLIN };
                uint64_t now = clock_usec(CLOCK_MONOTONIC) / 1000u;
                char ch;
                ssize_t n;

                if (now >= deadline) {
                        write_str(out_fd, "\n");
                        return -ETIME;
                }
                r = poll(&pfd, 1, (int) (deadline - now));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        continue;
                n = read(in_fd, &ch, 1);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0 || ch == '\n' || ch == '\r')
                        break;
                if (s->size == PASSPHRASE_MAX) {
                        explicit_bzero(&ch, 1);
                        return -E2BIG;
                }
                s->data[s->size++] = (uint8_t) ch;
                explicit_bzero(&ch, 1);
        }
        if (e.restore)
                write_str(out_fd, "\n");
        if (s->size == 0)
                return -ENODATA;
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---- reporting ------------------------------------------------------------------ */

static int report(const struct unlock_batch *b, struct unlock_volume *v, enum unlock_method m, int token,
                  int result, const char *why) {
        struct unlock_attempt a = {
                .method = m, .token = token, .keyslot = result >= 0 ? result : -1,
                .error = result < 0 ? result : 0, .why = result < 0 ? strempty(why) : NULL,
        };

        if (result >= 0) {
                v->opened = true;
                v->opened_by = m;
                v->token = token;
                v->keyslot = result;
        }
        return b->report ? b->report(b->userdata, v, &a) : 0;
}

/* ---- headers --------------------------------------------------------------------- */

/* Every header is read and judged before any key is tried (trust-chain
 * rule 4), so a rewritten header stops the batch before the TPM unseals
 * anything, for this volume or another. A header that cannot be read at
 * all leaves its volume out, with the reason reported. */
static int load_headers(const struct unlock_batch *b, struct unlock_volume *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *why = NULL;
                int r;

                v[i].tpm_tokens = -1;
                r = luks_load(v[i].path, b->ciphers, &v[i].cd, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        int k = report(b, &v[i], v[i].n_methods ? v[i].methods[0] : UNLOCK_TPM2, -1, r, why);
                        if (k < 0)
                                return k;
                        if (r == -LUKS_HEADER_REFUSED)
                                return r;
                        continue;
                }
                v[i].tpm_tokens = luks_count_tpm2_tokens(v[i].cd);
                if (v[i].tpm_tokens < 0)
                        v[i].tpm_tokens = 0;
        }
        return 0;
}

/* ---- TPM --------------------------------------------------------------------------- */

struct tpm_state {
        bool asked;
        struct tpm2_ctx *ctx;           /* the provider's: not ours to close */
        char *why;                      /* why there is none, for every volume */
};

static int tpm_get(const struct unlock_batch *b, struct tpm_state *t, char **why) {
        if (!t->asked) {
                t->asked = true;
                if (!b->tpm)
                        (void) why_set(&t->why, ENODEV, "no TPM connection given");
                else
                        (void) b->tpm(b->userdata, &t->ctx, &t->why);
        }
        if (!t->ctx)
                return why_set(why, ENODEV, "%s", t->why ? t->why : "no TPM");
        return 0;
}

static int unseal(const struct unlock_batch *b, struct tpm_state *t, struct unlock_volume *v, bool ends_session,
                  struct luks_key *key, char **why) {
        static const char *const none[] = { NULL };
        struct tpm2_unseal_args a = {
                .signatures = b->signatures ? b->signatures : none,
                .signatures_complete = b->signatures_complete,
                .pin = b->pin,
                .last = ends_session,
        };
        int r;

        *key = (struct luks_key) { .token = -1, .keyslot = -1 };
        /* The TPM is asked for only once a volume has a token for it. */
        if (v->tpm_tokens == 0)
                return why_set(why, ENOENT, "no systemd-tpm2 token");
        r = tpm_get(b, t, why);
        if (r < 0)
                return r;
        r = luks_unseal_tpm2(v->cd, t->ctx, &a, key, why);
        if (r == -EBUSY || r == -EACCES) {
                /* A lockout or a wrong PIN: the counter, the maximum and
                 * the way out, so a person knows how many tries are left. */
                struct tpm2_da da;
                char s[512];

                if (why && tpm2_da_read(t->ctx, &da, NULL) >= 0) {
                        _cleanup_free_ char *was = TAKE_PTR(*why);
                        tpm2_da_describe(&da, s, sizeof(s));
                        why_set(why, -r, "%s; %s", why_or(was), s);
                }
        }
        return r;
}

struct tpm_job {
        size_t volume;
        struct luks_key key;
};

/* Open the keyslots of the volumes unsealed so far, all at once, so their
 * PBKDF2 work overlaps, and report each. */
static int open_unsealed(const struct unlock_batch *b, struct unlock_volume *v, struct tpm_job *t,
                         struct luks_job *jobs, size_t n_t, int r) {
        if (r >= 0 && n_t)
                (void) luks_activate_all(jobs, n_t);
        for (size_t i = 0; i < n_t; i++) {
                struct unlock_volume *vol = &v[t[i].volume];

                if (r >= 0) {
                        if (jobs[i].result < 0)
                                why_prefix(&jobs[i].why, "token %d", t[i].key.token);
                        vol->measured = jobs[i].result >= 0 && jobs[i].measure;
                        r = report(b, vol, UNLOCK_TPM2, t[i].key.token, jobs[i].result, jobs[i].why);
                }
                free(jobs[i].why);
                jobs[i].why = NULL;
                luks_key_done(&t[i].key);
        }
        return r;
}

/* The binding check before a volume's Unseal; the volumes unsealed before
 * it are opened first when the caller needs their keys. */
static int bind_check(const struct unlock_batch *b, struct tpm_state *ts, struct unlock_volume *v,
                      struct unlock_volume *vol, struct tpm_job *t, struct luks_job *jobs, size_t *n_t, char **why) {
        int r;

        if (!b->bind || vol->tpm_tokens <= 0 || tpm_get(b, ts, NULL) < 0)
                return 0;       /* no TPM: the Unseal says so */
        r = b->bind(b->userdata, vol, ts->ctx, *n_t > 0, why);
        if (r == 1) {
                r = open_unsealed(b, v, t, jobs, *n_t, 0);
                *n_t = 0;
                if (r < 0)
                        return r;
                r = b->bind(b->userdata, vol, ts->ctx, false, why);
        }
        return r == 1 ? why_set(why, EIO, "the binding check asked twice for the volumes before it") : r;
}

/* The TPM steps: every key unsealed first, one after the other on the one
 * TPM; then all the keyslots opened at once, so the volumes' PBKDF2 work
 * overlaps instead of adding up (earlier, for a volume bound behind them:
 * bind_check()). */
static int run_tpm_steps(const struct unlock_batch *b, struct unlock_volume *v, const struct unlock_step *steps,
                         size_t n) {
        _cleanup_free_ struct tpm_job *t = calloc(n + 1, sizeof(*t));
        _cleanup_free_ struct luks_job *jobs = calloc(n + 1, sizeof(*jobs));
        struct tpm_state ts = {};
        size_t n_t = 0;
        int r = 0;

        if (!t || !jobs)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n && steps[i].method == UNLOCK_TPM2; i++) {
                struct unlock_volume *vol = &v[steps[i].volume];
                _cleanup_free_ char *why = NULL;

                t[n_t].volume = steps[i].volume;
                r = bind_check(b, &ts, v, vol, t, jobs, &n_t, &why);
                if (r == -ENOMEM)
                        break;
                if (r < 0) {
                        r = report(b, vol, UNLOCK_TPM2, -1, r, why);
                        continue;
                }
                t[n_t].volume = steps[i].volume;
                r = unseal(b, &ts, vol, steps[i].ends_session, &t[n_t].key, &why);
                if (r == -ENOMEM)
                        break;
                if (r < 0) {
                        luks_key_done(&t[n_t].key);
                        r = report(b, vol, UNLOCK_TPM2, -1, r, why);
                        continue;
                }
                vol->unsealed_ms = clock_usec(CLOCK_BOOTTIME) / 1000u;
                jobs[n_t] = (struct luks_job) { .cd = vol->cd, .name = vol->name, .key = &t[n_t].key,
                                                .measure = b->measure && vol->name ? &vol->pcr15 : NULL };
                n_t++;
        }
        r = open_unsealed(b, v, t, jobs, n_t, r);
        free(ts.why);
        return r;
}

/* ---- fallbacks ------------------------------------------------------------------- */

static int try_keyfile(const struct unlock_batch *b, struct unlock_volume *v, struct luks_result *res, char **why) {
        _cleanup_secret_ struct secret *key = NULL;
        int r;

        if (!b->read_keyfile)
                return why_set(why, ENOKEY, "no key file given");
        r = b->read_keyfile(b->userdata, v, &key, why);
        if (r < 0)
                return r;
        return luks_unlock_secret(v->cd, key, v->name, b->measure && v->name ? &v->pcr15 : NULL, res, why);
}

static const char *prompt_word(enum unlock_method m) {
        return m == UNLOCK_RECOVERY_KEY ? "Recovery key" : "Passphrase";
}

/* What a person typed. A recovery key may be typed without its dashes,
 * with spaces or in upper case: its normal form is what the keyslot takes
 * (recovery-key.h). At the recovery-key prompt that form alone is tried;
 * at the passphrase prompt the text as typed first, then that form, as
 * systemd-cryptsetup takes either at its one prompt. */
static int unlock_typed(const struct unlock_batch *b, struct unlock_volume *v, enum unlock_method m,
                        const struct secret *typed, struct luks_result *res, char **why) {
        struct pcr15_digests *measure = b->measure && v->name ? &v->pcr15 : NULL;
        _cleanup_secret_ struct secret *key = NULL;
        const struct secret *used = typed;
        int r;

        r = recovery_key_normalize(typed, &key);
        if (r < 0)
                return why_set(why, r, "cannot read the %s: %s", unlock_method_to_string(m), strerror(-r));
        if (key && m == UNLOCK_RECOVERY_KEY)
                used = key;
        else {
                r = luks_unlock_secret(v->cd, typed, v->name, measure, res, why);
                if (r >= 0 || !key || (key->size == typed->size && !memcmp(key->data, typed->data, key->size)))
                        goto done;
                free(*why);
                *why = NULL;
                used = key;
        }
        r = luks_unlock_secret(v->cd, used, v->name, measure, res, why);
done:
        if (r >= 0 && b->opened_by_person && b->opened_by_person(b->userdata, v, m, used) == -ENOMEM)
                return -ENOMEM;
        return r;
}

static int try_prompt(const struct unlock_batch *b, struct unlock_volume *v, enum unlock_method m,
                      struct luks_result *res, char **why) {
        const struct unlock_prompt_settings *ps = &b->prompt;
        _cleanup_close_ int console = -1;
        int in = ps->in_fd, out = ps->out_fd;
        const char *what = unlock_method_to_string(m);
        char prompt[4200];
        int r = -ENOKEY;

        if (in < 0) {
                console = open(UNLOCK_PROMPT_CONSOLE, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (console < 0)
                        return why_set(why, errno, "cannot open %s to ask for the %s: %s", UNLOCK_PROMPT_CONSOLE,
                                       what, strerror(errno));
                in = out = console;
        }
        snprintf(prompt, sizeof(prompt), "%s for %s: ", prompt_word(m), v->label ? v->label : v->path);
        for (unsigned i = 0; i < ps->tries; i++) {
                _cleanup_secret_ struct secret *key = NULL;

                r = unlock_prompt(in, out, prompt, ps->timeout_ms, &key);
                if (r == -ETIME)
                        return why_set(why, r, "no %s typed within %u s", what, ps->timeout_ms / 1000);
                if (r < 0) {
                        why_set(why, r, "no %s read (%s)", what, strerror(-r));
                        continue;
                }
                r = unlock_typed(b, v, m, key, res, why);
                if (r >= 0)
                        return r;
                /* Only a person who may try again is told to. */
                if (ps->tries > 1)
                        write_str(out, "That did not open the volume.\n");
        }
        if (ps->tries > 1)
                return why_set(why, r, "%s refused %u times", what, ps->tries);
        return r;
}

/* The fallbacks, one by one: they may ask a person. */
static int run_fallback_steps(const struct unlock_batch *b, struct unlock_volume *v, const struct unlock_step *steps,
                              size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct unlock_volume *vol = &v[steps[i].volume];
                enum unlock_method m = steps[i].method;
                _cleanup_free_ char *why = NULL;
                struct luks_result res = { .token = -1, .keyslot = -1 };
                int r;

                if (vol->opened || m == UNLOCK_TPM2)
                        continue;
                if (m == UNLOCK_KEYFILE)
                        r = try_keyfile(b, vol, &res, &why);
                else
                        r = try_prompt(b, vol, m, &res, &why);
                if (r == -ENOMEM)
                        return r;
                vol->measured = r >= 0 && b->measure && vol->name;
                r = report(b, vol, m, -1, r >= 0 ? res.keyslot : r, why);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- the batch -------------------------------------------------------------------- */

int unlock_run(const struct unlock_batch *b, struct unlock_volume *v, size_t n) {
        _cleanup_free_ struct unlock_step *steps = NULL;
        size_t n_steps = 0;
        int r;

        for (size_t i = 0; i < n; i++) {
                v[i].opened = v[i].measured = false;
                v[i].token = v[i].keyslot = -1;
                v[i].cd = NULL;
        }
        r = load_headers(b, v, n);
        if (r >= 0)
                r = unlock_steps(v, n, b->final, &steps, &n_steps);
        if (r >= 0)
                r = run_tpm_steps(b, v, steps, n_steps);
        if (r >= 0)
                r = run_fallback_steps(b, v, steps, n_steps);
        for (size_t i = 0; i < n; i++) {
                luks_free(v[i].cd);
                v[i].cd = NULL;
        }
        return r < 0 ? r : 0;
}
