/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "root-fs.h"
#include "devices.h"
#include "handoff.h"
#include "volume-keys.h"
#include "log.h"
#include "stages.h"
#include "luks.h"
#include "measure.h"
#include "overlays.h"
#include "pcr15.h"
#include "pcrsig.h"
#include "phase.h"
#include "pid1.h"
#include "unlock.h"
#include "window.h"
#include "tpm-session.h"

/* The end of the boot: the volume keys into PCR 15 and leave-initrd into
 * PCR 11 right after the last unseal, the audit of what stays unsealable,
 * /etc/fstab of the final OS, and the exec of its init. */

/* ---- after leave-initrd: is anything still unsealable? ----------------------- */

struct worst {
        enum window_verdict verdict;
        const char *volume;
        int token;
};

/* The worst token of the boot's LUKS2 volumes, with the PCRs as they are now. */
static void judge_volumes(struct tpm2_ctx *tpm, const struct plan *p, const struct boot *b, json_object *sig,
                          struct worst *w) {
        for (size_t i = 0; i < b->n_volumes; i++) {
                const struct boot_volume *bv = &b->volumes[i];
                _cleanup_luks_ struct crypt_device *cd = NULL;
                _cleanup_free_ char *why = NULL;

                if (!bv->found || bv->dev.content != CONTENT_LUKS2 ||
                    luks_load(bv->dev.devnode, (const char *const *) p->luks_ciphers.v, &cd, &why) < 0)
                        continue;
                for (int id = 0; id < crypt_token_max(CRYPT_LUKS2); id++) {
                        struct tpm2_token t;
                        enum window_verdict v;

                        if (!luks_is_tpm2_token(cd, id) || luks_tpm2_token_get(cd, id, &t, &why) < 0)
                                continue;
                        if (window_token_now(tpm, &t, sig, &v, &why) >= 0 && v >= w->verdict &&
                            (v > w->verdict || !w->volume))
                                *w = (struct worst) { .verdict = v, .volume = bv->name, .token = id };
                        tpm2_token_done(&t);
                }
        }
}

static void record(struct boot *b, bool open, const char *signature, const char *fmt, ...) _printf_(4, 5);
static void record(struct boot *b, bool open, const char *signature, const char *fmt, ...) {
        va_list ap;

        b->window.checked = true;
        b->window.unsealable = open;
        snprintf(b->window.signature, sizeof(b->window.signature), "%s", strempty(signature));
        va_start(ap, fmt);
        vsnprintf(b->window.reason, sizeof(b->window.reason), fmt, ap);
        va_end(ap);
}

void window_audit(const struct plan *p, struct boot *b) {
        _cleanup_tpm2_ struct tpm2_ctx *tpm = NULL;
        _cleanup_(strv_clear) strv paths = {};
        _cleanup_free_ char *why = NULL;
        const char *path = NULL;
        json_object *sig = NULL;
        struct worst w = { WINDOW_CLOSED, NULL, -1 };
        int r;

        if (unlock_signature_paths(p, b, &paths) < 0)
                return;
        r = tpm_session_open(p, &tpm, &why);
        if (r >= 0)
                r = measure_signed_now(tpm, (const char *const *) paths.v, &path, &why);
        /* -ENOENT from measure_signed_now(): no signature file. */
        if (!tpm || (r < 0 && r != -ENOENT)) {
                (void) boot_warn(b, "hand-off: cannot check whether PCR %d is still signed: %s", MEASURE_PCR_PHASE,
                                 strempty(why));
                return;
        }
        if (r <= 0) {
                /* Nothing signed from here on, but a token bound to literal
                 * PCRs alone needs no signature: does one still unseal? */
                judge_volumes(tpm, p, b, NULL, &w);
                if (w.verdict == WINDOW_OPEN) {
                        record(b, true, r == 0 ? path : NULL, "volume %s (token %d) is bound to literal PCRs only, "
                               "which still hold their sealed values", w.volume, w.token);
                        (void) boot_warn(b, "hand-off: %s: the final OS, and whoever roots it, can unseal the volume "
                                         "keys again; %s", b->window.reason, WINDOW_LITERAL_REMEDY);
                } else if (r == 0) {
                        record(b, false, path, "PCR %d after leave-initrd is not signed in %s", MEASURE_PCR_PHASE, path);
                        log_info("hand-off: %s: the keys are sealed from here on", b->window.reason);
                } else
                        record(b, false, NULL, "no PCR signature file: nothing is signed");
                return;
        }
        /* Signed by some key: whose, and does a token of this boot's
         * volumes still unseal (its literal PCRs too)? */
        if (pcrsig_load((const char *const *) paths.v, true, &sig, &path, &why) >= 0) {
                judge_volumes(tpm, p, b, sig, &w);
                json_object_put(sig);
        }
        switch (w.verdict) {
        case WINDOW_OPEN:
                record(b, true, path, "PCR %d after leave-initrd is still signed in %s for volume %s (token %d)",
                       MEASURE_PCR_PHASE, path, w.volume, w.token);
                (void) boot_warn(b, "hand-off: %s: the final OS, and whoever roots it, can unseal the volume keys again; %s",
                                 b->window.reason, MEASURE_HANDOFF_REMEDY);
                break;
        case WINDOW_LATCHED:
                record(b, false, path, "PCR %d after leave-initrd is still signed in %s, but volume %s (token %d) also "
                       "binds literal PCRs that no longer hold their sealed values (the PCR 15 latch)",
                       MEASURE_PCR_PHASE, path, w.volume, w.token);
                log_info("hand-off: %s; %s", b->window.reason, MEASURE_HANDOFF_REMEDY);
                break;
        default:
                record(b, false, path, "PCR %d after leave-initrd is signed in %s, but by no key of a token of this "
                       "boot's volumes", MEASURE_PCR_PHASE, path);
                log_info("hand-off: %s", b->window.reason);
        }
}

/* ---- /etc/fstab and the exec ------------------------------------------------- */

/* fstab fields: space, tab, newline and backslash as octal escapes. */
static void fstab_field(FILE *f, const char *s) {
        for (; *s; s++)
                if (strchr(" \t\n\\", *s))
                        fprintf(f, "\\%03o", (unsigned char) *s);
                else
                        fputc(*s, f);
}

/* Options as the final OS sees the paths: without the --root prefix. An
 * overlay's are made from its path (a second run finds it mounted and does
 * not know the options it was mounted with). */
static char *fstab_options(const struct boot *b, const struct boot_mount *m) {
        size_t n = strlen(b->root);
        char *out;

        if (streq(m->fstype, "overlay")) {
                _cleanup_free_ char *upper = NULL, *work = NULL;
                if (overlay_dirs(m->target, &upper, &work) < 0 ||
                    asprintf(&out, "lowerdir=%s,upperdir=%s,workdir=%s", m->target, upper, work) < 0)
                        return NULL;
                return out;
        }
        out = strdup(*m->options ? m->options : "defaults");

        if (!out || !n)
                return out;
        for (char *w = out, *r = out; ; ) {
                if (strncmp(r, b->root, n) == 0 && r[n] == '/')
                        r += n;
                if (!(*w++ = *r++))
                        break;
        }
        return out;
}

/* Is the file `name` in dir exactly `text`? */
static bool file_is(int dir, const char *name, const char *text, size_t len) {
        /* Non-blocking: /etc may be a persistent path, and a FIFO there must
         * fail the S_ISREG check, not hold the boot. */
        _cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t) st.st_size != len || !(buf = malloc(len + 1)))
                return false;
        return read(fd, buf, len + 1) == (ssize_t) len && memcmp(buf, text, len) == 0;
}

/* /etc/fstab of the final OS (the /etc overlay by now), replaced as Kairos
 * does: one line per volume, overlay and bind this boot made, so mount(8),
 * findmnt --fstab and systemd in the final OS know them. A second run over
 * the same mounts leaves the file alone. */
#define FSTAB_PATH "/etc/fstab"
int handoff_write_fstab(struct boot *b) {
        static const char tmp[] = ".fstab.usi-init";
        _cleanup_close_ int dir = -1, fd = -1;
        /* text before f: the stream is closed (and flushes into text) first. */
        _cleanup_free_ char *text = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t len = 0, n = 0;
        _cleanup_free_ char *why = NULL;

        if (root_open_flags(b->root_fd, "/etc", RESOLVE_TARGET, O_RDONLY | O_DIRECTORY, &dir, &why) < 0)
                return boot_warn(b, "fstab: cannot open /etc: %s", why);
        if (!(f = open_memstream(&text, &len)))
                return -ENOMEM;
        fputs("# Written by usi-init at boot: the mounts it made in the initrd.\n", f);
        for (size_t i = 0; i < b->n_mounts; i++) {
                const struct boot_mount *m = &b->mounts[i];
                bool bind = streq(m->fstype, "bind");
                _cleanup_free_ char *opts = NULL;

                if (m->stage != STAGE_MOUNTS && m->stage != STAGE_OVERLAYS && m->stage != STAGE_BINDS)
                        continue;
                if (!(opts = fstab_options(b, m)))
                        return -ENOMEM;
                fstab_field(f, m->source);
                fputc(' ', f);
                fstab_field(f, m->target);
                fprintf(f, " %s ", bind ? "none" : m->fstype);
                fstab_field(f, opts);
                fputs(" 0 0\n", f);
                n++;
        }
        if (fflush(f) != 0)
                return -ENOMEM;
        if (file_is(dir, "fstab", text, len)) {
                log_info("fstab: %s already lists the %zu mounts", FSTAB_PATH, n);
                return 0;
        }
        /* A FIFO left under the temporary name fails the open (ENXIO)
         * instead of waiting for a reader. */
        fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
        if (fd < 0)
                return boot_warn(b, "fstab: cannot write %s%s: %s", b->root, FSTAB_PATH, strerror(errno));
        if (write(fd, text, len) != (ssize_t) len || fsync(fd) < 0 || renameat(dir, tmp, dir, "fstab") < 0) {
                int e = errno;
                (void) unlinkat(dir, tmp, 0);
                return boot_warn(b, "fstab: cannot write %s%s: %s", b->root, FSTAB_PATH, strerror(e));
        }
        log_info("fstab: %zu mounts written to %s", n, FSTAB_PATH);
        return 0;
}

/* The first existing init of the plan, exec'ed as PID 1. */
int stage_handoff(const struct plan *p, struct boot *b) {
        if (!b->handoff) {
                log_info("handoff: skipped (--no-handoff)");
                return 0;
        }
        if (b->root[0])
                return boot_fail(b, -EINVAL, "handoff: only the real root can be handed to an init (use --no-handoff with --root)");
        int r;
        /* Container runtimes cannot pivot_root out of the initramfs rootfs:
         * move the whole tree onto a bind mount of itself, without a copy. */
        if (p->root_relocate && b->pid1 && (r = pid1_relocate_root("/sysroot")) < 0)
                return boot_fail(b, r, "handoff: root relocation onto /sysroot failed: %s", strerror(-r));
        /* The last look for a planted duplicate: nothing runs after this but
         * the final init. */
        if ((r = devices_check_late(p, b)) < 0) {
                b->failed_stage = STAGE_DEVICES;
                return r;
        }
        for (size_t i = 0; i < p->init.n; i++) {
                if (access(p->init.v[i], X_OK) < 0)
                        continue;
                _cleanup_free_ char **argv = calloc(p->init_args.n + 2, sizeof *argv);
                if (!argv)
                        return -ENOMEM;
                argv[0] = p->init.v[i];
                for (size_t j = 0; j < p->init_args.n; j++)
                        argv[j + 1] = p->init_args.v[j];
                log_info("handoff: exec %s", p->init.v[i]);
                r = pid1_exec(p->init.v[i], b->pid1 ? NULL : argv);
                boot_warn(b, "handoff: exec %s failed: %s", p->init.v[i], strerror(-r));
        }
        return boot_fail(b, -ENOENT, "handoff: none of the init candidates exists or can be executed");
}

/* Right after the last unseal (the unlock stage of the second pass): from
 * here on the signed policy no longer matches PCR 11, so nothing that runs
 * later, in the initrd (a break or failure shell, the mounts of files an
 * attacker may control) or in the final OS, can unseal the keys again. The
 * TPM connection goes with it. A --no-handoff run is a test or a look at a
 * root, not a boot: it measures no leave-initrd, as before. */
int handoff_leave_initrd(const struct plan *p, struct boot *b) {
        int r = 0;

        /* PCR 15 first: the volume keys of every pass, in plan order (when
         * the unlock stage kept their digests: pcr15_wanted()). */
        if ((r = pcr15_measure_boot(p, b)) >= 0 && b->handoff)
                r = phase_step(p, b, "leave-initrd");
        tpm_session_close(b);
        /* Is the PCR 11 value the final OS gets still signed? */
        if (r >= 0 && b->handoff && phase_wanted(p, b))
                window_audit(p, b);
        return r;
}
