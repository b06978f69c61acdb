/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>

#include "devices.h"
#include "log.h"
#include "luks-header.h"
#include "luks.h"
#include "pcr15.h"
#include "phase.h"
#include "unlock.h"

#define PASSPHRASE_MAX 512

/* ---- order ------------------------------------------------------------------ */

static bool has_method(const struct plan_volume *v, enum unlock_method m) {
        for (size_t i = 0; i < v->n_unlock; i++)
                if (v->unlock[i] == m)
                        return true;
        return false;
}

static bool eligible(const struct plan *p, const struct boot *b, const struct plan_volume *v) {
        const struct boot_volume *bv = boot_volume_find(b, v->name);
        return boot_volume_in_pass(p, b, v) && bv && bv->found && !bv->opened &&
               bv->dev.content == CONTENT_LUKS2;
}

int unlock_order(const struct plan *p, const struct boot *b, struct unlock_step **ret, size_t *ret_n) {
        struct unlock_step *s = calloc(p->n_volumes * _UNLOCK_MAX + 1, sizeof(*s));
        size_t n = 0;

        if (!s)
                return -ENOMEM;
        /* Every TPM-sealed volume first ... */
        for (size_t i = 0; i < p->n_volumes; i++)
                if (eligible(p, b, &p->volumes[i]) && has_method(&p->volumes[i], UNLOCK_TPM2))
                        s[n++] = (struct unlock_step) { i, UNLOCK_TPM2 };
        /* ... then the fallbacks, only those the volume lists. */
        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct plan_volume *v = &p->volumes[i];
                if (!eligible(p, b, v))
                        continue;
                for (size_t k = 0; k < v->n_unlock; k++)
                        if (v->unlock[k] != UNLOCK_TPM2)
                                s[n++] = (struct unlock_step) { i, v->unlock[k] };
        }
        *ret = s;
        *ret_n = n;
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

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
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
        uint64_t deadline = now_ms() + timeout_ms;
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
                uint64_t now = now_ms();
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

/* ---- the stage ------------------------------------------------------------------ */

struct attempt {
        char *why;              /* "tpm2: ...; keyfile: ...", for the failure line */
};

static void attempt_add(struct attempt *a, enum unlock_method m, const char *why) {
        char *s = NULL;
        if (asprintf(&s, "%s%s%s: %s", a->why ? a->why : "", a->why ? "; " : "", unlock_method_to_string(m),
                     strempty(why)) >= 0) {
                free(a->why);
                a->why = s;
        }
}

int unlock_signature_paths(const struct plan *p, const struct boot *b, strv *ret) {
        int r;

        for (size_t i = 0; b->signatures && i < b->signatures->n; i++)
                if ((r = strv_push(ret, b->signatures->v[i])) < 0)
                        return r;
        /* The plan's search list already ends with systemd's default paths. */
        for (size_t i = 0; i < p->signatures.n; i++) {
                _cleanup_free_ char *s = path_join(b->root, p->signatures.v[i]);
                if (!s || (r = strv_push(ret, s)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The TPM is opened once per boot; a failure to open it is remembered so
 * every volume names the same reason without asking the TCTI again. */
struct tpm_open {
        bool tried;
        char *why;
};

static int unseal_tpm2(const struct plan *p, struct boot *b, struct crypt_device *cd, struct tpm_open *o,
                       bool last, struct luks_key *key, char **why) {
        const char **sigs;
        struct tpm2_unseal_args a = { .last = last };
        int r;

        if (!b->tpm) {
                if (!o->tried) {
                        o->tried = true;
                        (void) tpm2_open(boot_tpm_tcti(p), &b->tpm, &o->why);
                }
                if (!b->tpm)
                        return why_set(why, ENODEV, "%s", o->why ? o->why : "no TPM");
        }
        _cleanup_(strv_clear) strv paths = {};
        r = unlock_signature_paths(p, b, &paths);
        if (r < 0)
                return r;
        sigs = calloc(paths.n + 1, sizeof(*sigs));
        if (!sigs)
                return -ENOMEM;
        for (size_t i = 0; i < paths.n; i++)
                sigs[i] = paths.v[i];
        a.signatures = sigs;
        a.signatures_complete = true;  /* never the host's files under --root */
        r = luks_unseal_tpm2(cd, b->tpm, &a, key, why);
        free(sigs);
        return r;
}

static int try_keyfile(struct boot *b, const struct plan_volume *v, struct crypt_device *cd,
                       struct pcr15_digests *measure, struct luks_result *res, char **why) {
        _cleanup_secret_ struct secret *key = NULL;
        char file_why[WHY_MAX];
        int r;

        /* The key file may sit on a volume the disk's holder can write:
         * it is read beneath the root, never through a symlink of its own. */
        r = secret_read_at(b->root_fd, *b->root ? b->root : "/", v->keyfile + strspn(v->keyfile, "/"),
                           KEYFILE_MAX, false, &key, file_why);
        if (r < 0)
                return why_set(why, r, "key file: %s", file_why);
        return luks_unlock_secret(cd, key, v->name, measure, res, why);
}

static int try_prompt(const struct plan_volume *v, enum unlock_method m, const struct boot_volume *bv,
                      struct crypt_device *cd, struct pcr15_digests *measure, struct luks_result *res, char **why) {
        _cleanup_close_ int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
        char prompt[512];
        int r = -ENOKEY;

        if (fd < 0)
                return why_set(why, errno, "cannot open /dev/console to ask for the %s: %s",
                               unlock_method_to_string(m), strerror(errno));
        snprintf(prompt, sizeof(prompt), "%s for volume %s (%s): ",
                 m == UNLOCK_RECOVERY_KEY ? "Recovery key" : "Passphrase", v->name, bv->dev.devnode);
        for (unsigned i = 0; i < UNLOCK_PROMPT_TRIES; i++) {
                _cleanup_secret_ struct secret *key = NULL;
                r = unlock_prompt(fd, fd, prompt, UNLOCK_PROMPT_TIMEOUT_MS, &key);
                if (r == -ETIME)
                        return why_set(why, r, "no %s typed within %u s", unlock_method_to_string(m),
                                       UNLOCK_PROMPT_TIMEOUT_MS / 1000);
                if (r < 0)
                        continue;
                r = luks_unlock_secret(cd, key, v->name, measure, res, why);
                if (r >= 0)
                        return r;
                write_str(fd, "That did not open the volume.\n");
        }
        return why_set(why, r, "%s refused %u times", unlock_method_to_string(m), UNLOCK_PROMPT_TRIES);
}

static int opened(struct boot_volume *bv, enum unlock_method m) {
        struct probed inner = {};
        int r;

        bv->opened = true;
        bv->unlocked_by = m;
        if (asprintf(&bv->mapper, "/dev/mapper/%s", bv->name) < 0)
                return -ENOMEM;
        if (free_and_strdup(&bv->mount_device, bv->mapper) < 0)
                return -ENOMEM;
        r = probe_device(bv->mapper, &inner);
        if (r >= 0 && inner.type) {
                if (free_and_strdup(&bv->fs_type, inner.type) < 0 ||
                    free_and_strdup(&bv->mount_fstype, inner.type) < 0)
                        r = -ENOMEM;
        }
        probed_done(&inner);
        return r == -ENOMEM ? r : 0;
}

static void failed_step(const struct plan_volume *v, const struct boot_volume *bv, enum unlock_method m,
                        const char *why, struct attempt *att) {
        log_warn("volume %s: %s unlock of %s failed: %s", v->name, unlock_method_to_string(m), bv->dev.devnode,
                 strempty(why));
        attempt_add(att, m, why);
}

/* measure: the volume key's PCR 15 HMACs, kept until leave-initrd extends
 * them after the last unseal of the boot (src/pcr15.h). */
static int opened_step(const struct plan_volume *v, struct boot_volume *bv, enum unlock_method m, int keyslot,
                       const struct pcr15_digests *measure) {
        log_info("volume %s: %s opened as /dev/mapper/%s by %s (keyslot %d)", v->name, bv->dev.devnode, v->name,
                 unlock_method_to_string(m), keyslot);
        if (measure) {
                free(bv->pcr15);
                if (!(bv->pcr15 = malloc(sizeof(*bv->pcr15))))
                        return -ENOMEM;
                *bv->pcr15 = *measure;
        }
        return opened(bv, m);
}

struct tpm_job {
        size_t volume;
        struct crypt_device *cd;
        struct luks_key key;
        struct pcr15_digests pcr15;
};

static void tpm_jobs_free(struct tpm_job *t, size_t n) {
        for (size_t i = 0; i < n; i++) {
                luks_key_done(&t[i].key);
        }
        free(t);
}

/* The TPM steps: every key unsealed first, one after the other on the one
 * TPM; then all the keyslots opened at once, so the volumes' PBKDF2 work
 * overlaps instead of adding up. */
static int run_tpm_steps(const struct plan *p, struct boot *b, const struct unlock_step *steps, size_t n,
                         struct crypt_device **cds, struct attempt *att, struct tpm_open *o) {
        struct tpm_job *t = calloc(n + 1, sizeof(*t));
        _cleanup_free_ struct luks_job *jobs = calloc(n + 1, sizeof(*jobs));
        size_t n_t = 0, n_tpm = 0;
        bool measure = pcr15_wanted(p, b);
        int r = 0;

        if (!t || !jobs) {
                free(t);
                return -ENOMEM;
        }
        while (n_tpm < n && steps[n_tpm].method == UNLOCK_TPM2)
                n_tpm++;
        for (size_t i = 0; i < n_tpm; i++) {
                const struct plan_volume *v = &p->volumes[steps[i].volume];
                /* The last volume of the last pass ends the TPM session with
                 * its Unseal; an earlier pass keeps it for the next one. */
                bool last = b->pass == BOOT_PASS_REST && i == n_tpm - 1;
                struct boot_volume *bv = boot_volume_get(b, v->name);
                _cleanup_free_ char *why = NULL;
                struct tpm_job *j = &t[n_t];

                if (!bv) {
                        r = -ENOMEM;
                        break;
                }
                *j = (struct tpm_job) { .volume = steps[i].volume, .cd = cds[steps[i].volume],
                                        .key = { .token = -1, .keyslot = -1 } };
                if (!j->cd)
                        continue;  /* its header could not be read: the reason is recorded */
                r = unseal_tpm2(p, b, j->cd, o, last, &j->key, &why);
                if (r == -ENOMEM)
                        break;
                if (r < 0) {
                        failed_step(v, bv, UNLOCK_TPM2, why, &att[steps[i].volume]);
                        luks_key_done(&j->key);
                        r = 0;
                        continue;
                }
                jobs[n_t] = (struct luks_job) { .cd = j->cd, .name = v->name, .key = &j->key,
                                                .measure = measure ? &j->pcr15 : NULL };
                n_t++;
        }
        if (r >= 0 && n_t)
                (void) luks_activate_all(jobs, n_t);
        for (size_t i = 0; r >= 0 && i < n_t; i++) {
                const struct plan_volume *v = &p->volumes[t[i].volume];
                struct boot_volume *bv = boot_volume_get(b, v->name);

                if (!bv)
                        r = -ENOMEM;
                else if (jobs[i].result < 0)
                        failed_step(v, bv, UNLOCK_TPM2, jobs[i].why, &att[t[i].volume]);
                else
                        r = opened_step(v, bv, UNLOCK_TPM2, jobs[i].result, jobs[i].measure);
        }
        for (size_t i = 0; i < n_t; i++)
                free(jobs[i].why);
        tpm_jobs_free(t, n_t);
        return r;
}

/* The fallbacks, one by one: they may ask a person. */
static int run_fallback_steps(const struct plan *p, struct boot *b, const struct unlock_step *steps, size_t n,
                              struct crypt_device **cds, struct attempt *att) {
        for (size_t i = 0; i < n; i++) {
                const struct plan_volume *v = &p->volumes[steps[i].volume];
                struct boot_volume *bv = boot_volume_get(b, v->name);
                struct crypt_device *cd = cds[steps[i].volume];
                _cleanup_free_ char *why = NULL;
                struct luks_result res;
                struct pcr15_digests pcr15, *measure = pcr15_wanted(p, b) ? &pcr15 : NULL;
                int r;

                if (!bv)
                        return -ENOMEM;
                if (bv->opened || steps[i].method == UNLOCK_TPM2 || !cd)
                        continue;
                switch (steps[i].method) {
                case UNLOCK_KEYFILE:
                        r = try_keyfile(b, v, cd, measure, &res, &why);
                        break;
                case UNLOCK_RECOVERY_KEY:
                case UNLOCK_PASSPHRASE:
                        r = try_prompt(v, steps[i].method, bv, cd, measure, &res, &why);
                        break;
                default:
                        r = why_set(&why, EINVAL, "unknown unlock method");
                }
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        failed_step(v, bv, steps[i].method, why, &att[steps[i].volume]);
                        continue;
                }
                r = opened_step(v, bv, steps[i].method, res.keyslot, measure);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Every header of this pass is read and judged before any key is tried
 * (trust-chain rule 4), so a rewritten header stops the boot before the TPM
 * unseals anything, for this volume or another. A header that cannot be
 * read at all leaves the volume locked with the reason recorded. */
static int load_headers(const struct plan *p, struct boot *b, struct crypt_device **cds, struct attempt *att) {
        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct plan_volume *v = &p->volumes[i];
                struct boot_volume *bv;
                _cleanup_free_ char *why = NULL;
                int r;

                if (!eligible(p, b, v) || v->n_unlock == 0)
                        continue;
                if (!(bv = boot_volume_get(b, v->name)))
                        return -ENOMEM;
                r = luks_load(bv->dev.devnode, (const char *const *) p->luks_ciphers.v, &cds[i], &why);
                if (r == -LUKS_HEADER_REFUSED)
                        return boot_refuse(b, bv->dev.devnode, "%s: %s", bv->dev.devnode, strempty(why));
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        failed_step(v, bv, v->unlock[0], why, &att[i]);
        }
        return 0;
}

int stage_unlock(const struct plan *p, struct boot *b) {
        _cleanup_free_ struct unlock_step *steps = NULL;
        struct crypt_device **cds;
        struct attempt *att;
        struct tpm_open o = {};
        size_t n;
        int r;

        r = unlock_order(p, b, &steps, &n);
        if (r < 0)
                return r;
        att = calloc(p->n_volumes + 1, sizeof(*att));
        cds = calloc(p->n_volumes + 1, sizeof(*cds));
        if (!att || !cds) {
                free(att);
                free(cds);
                return -ENOMEM;
        }
        r = load_headers(p, b, cds, att);
        if (r >= 0)
                r = run_tpm_steps(p, b, steps, n, cds, att, &o);
        if (r >= 0)
                r = run_fallback_steps(p, b, steps, n, cds, att);
        for (size_t i = 0; i < p->n_volumes; i++)
                luks_free(cds[i]);
        free(cds);

        /* What stayed locked: a required volume fails the boot, an optional
         * one is left unmounted (never mounted raw). */
        for (size_t i = 0; r >= 0 && i < p->n_volumes; i++) {
                const struct plan_volume *v = &p->volumes[i];
                const struct boot_volume *bv = boot_volume_find(b, v->name);

                if (!eligible(p, b, v) || (bv && bv->opened))
                        continue;
                if (v->required)
                        r = boot_fail(b, -ENOKEY, "volume %s: cannot unlock %s: %s", v->name, bv->dev.devnode,
                                      att[i].why ? att[i].why : "no unlock method of its unlock list applies");
                else
                        r = boot_warn(b, "volume %s (optional): cannot unlock %s: %s; not mounting it", v->name,
                                      bv->dev.devnode, att[i].why ? att[i].why : "no unlock method applies");
        }
        for (size_t i = 0; i < p->n_volumes; i++)
                free(att[i].why);
        free(att);
        free(o.why);
        /* After the last pass the connection stays for PCR 15 and
         * leave-initrd, which close it (boot.c, leave_initrd()). */
        if (r < 0)
                boot_tpm_release(b);
        return r < 0 ? r : 0;
}
