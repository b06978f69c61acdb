/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "record.h"
#include "log.h"

/* The record of a boot (src/boot/record.h): what the stages found and did, added
 * to here and nowhere else. Below every stage: it calls none of them. */

uint64_t boot_elapsed_ms(const struct boot *b) {
        return (clock_usec(CLOCK_MONOTONIC) - b->start_usec) / 1000u;
}

const struct boot_volume *boot_volume_find(const struct boot *b, const char *name) {
        for (size_t i = 0; i < b->n_volumes; i++)
                if (streq(b->volumes[i].name, name))
                        return &b->volumes[i];
        return NULL;
}

struct boot_volume *boot_volume_get(struct boot *b, const char *name) {
        struct boot_volume *v = (struct boot_volume *) boot_volume_find(b, name);

        if (v)
                return v;
        v = realloc(b->volumes, (b->n_volumes + 1) * sizeof *v);
        if (!v)
                return NULL;
        b->volumes = v;
        v = &b->volumes[b->n_volumes];
        *v = (struct boot_volume) {};
        if (!(v->name = strdup(name)))
                return NULL;
        b->n_volumes++;
        return v;
}

bool boot_volume_in_pass(const struct plan *p, const struct boot *b, const struct plan_volume *v) {
        return b->pass == BOOT_PASS_REST || (v->mount && streq(v->mount, "/oem"));
}

bool volume_needs_crypt(const struct plan *p, const struct plan_volume *v) {
        return plan_volume_needs_crypt(p, v);
}

int boot_add_mount(struct boot *b, enum stage st, const char *source, const char *target,
                   const char *fstype, const char *options, bool existed) {
        struct boot_mount *m = realloc(b->mounts, (b->n_mounts + 1) * sizeof *m);

        if (!m)
                return -ENOMEM;
        b->mounts = m;
        m = &b->mounts[b->n_mounts];
        *m = (struct boot_mount) { .stage = st, .existed = existed };
        if (!(m->source = strdup(source)) || !(m->target = strdup(target)) ||
            !(m->fstype = strdup(fstype)) || !(m->options = strdup(strempty(options)))) {
                free(m->source);
                free(m->target);
                free(m->fstype);
                return -ENOMEM;
        }
        b->n_mounts++;
        return 0;
}

int boot_warn(struct boot *b, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = strv_pushv(&b->warnings, fmt, ap);
        va_end(ap);
        if (r >= 0)
                log_warn("%s", b->warnings.v[b->warnings.n - 1]);
        return r;
}

int boot_fail(struct boot *b, int error, const char *fmt, ...) {
        char buf[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        log_error("%s", buf);
        if (!b->failure)
                b->failure = strdup(buf);
        b->failed = true;
        return error < 0 ? error : -error;
}

int boot_refuse(struct boot *b, const char *device, const char *fmt, ...) {
        char buf[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (!b->failure) {
                b->refused = true;
                if (device)
                        b->failure_device = strdup(device);
        }
        return boot_fail(b, -EPERM, "%s", buf);
}

/* Phase words (PCR 11) and volume keys (PCR 15) are measured only where
 * they mean something and cannot do harm: as PID 1 of a UKI boot (the signed policy binds them), or into a TPM
 * that is not this machine's own (a swtpm/mssim TCTI, for tests). A `boot
 * --root` on a host never extends the host's PCRs. */
bool boot_may_extend(const struct plan *p, const struct boot *b) {
        return (b->pid1 && p->usi_mode) || !startswith(p->tpm_device, "device:");
}
