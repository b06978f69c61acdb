/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "log.h"
#include "luks-header.h"
#include "phase.h"
#include "reseal.h"
#include "stages.h"
#include "volume-keys.h"
#include "unlock.h"

/* ---- the stage's input ------------------------------------------------------------ */

static bool eligible(const struct plan *p, const struct boot *b, const struct plan_volume *v) {
        const struct boot_volume *bv = boot_volume_find(b, v->name);
        return boot_volume_in_pass(p, b, v) && bv && bv->found && !bv->opened &&
               bv->dev.content == CONTENT_LUKS2;
}

int unlock_volumes(const struct plan *p, const struct boot *b, struct unlock_volume **ret, size_t **ret_index,
                   size_t *ret_n) {
        _cleanup_free_ struct unlock_volume *v = calloc(p->n_volumes + 1, sizeof(*v));
        _cleanup_free_ size_t *index = calloc(p->n_volumes + 1, sizeof(*index));
        size_t n = 0;

        if (!v || !index)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct plan_volume *pv = &p->volumes[i];

                if (!eligible(p, b, pv) || pv->n_unlock == 0)
                        continue;
                v[n] = (struct unlock_volume) {
                        .path = boot_volume_find(b, pv->name)->dev.devnode,
                        .name = pv->name,
                        .n_methods = pv->n_unlock,
                };
                memcpy(v[n].methods, pv->unlock, pv->n_unlock * sizeof(*pv->unlock));
                index[n++] = i;
        }
        *ret = TAKE_PTR(v);
        *ret_index = TAKE_PTR(index);
        *ret_n = n;
        return 0;
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

/* ---- the stage's record ----------------------------------------------------------- */

struct pass_run {
        const struct plan *p;
        struct boot *b;
        struct unlock_volume *v;
        size_t *index;                  /* v[i] is p->volumes[index[i]] */
        char **why;                     /* per plan volume: "tpm2: ...; keyfile: ...", for the failure line */
        size_t refused;                 /* v[] index of a refused header; SIZE_MAX: none */
        char *refused_why;
        size_t unbound;                 /* v[] index of a volume the binding check refused; SIZE_MAX: none */
        char *unbound_why;
        bool *tpm_failed;               /* per v[]: a TPM attempt was made and failed */
        const char *const *signatures;
};

static const struct plan_volume *plan_volume_of(const struct pass_run *s, const struct unlock_volume *v) {
        return &s->p->volumes[s->index[v - s->v]];
}

static int stage_tpm(void *userdata, struct tpm2_ctx **ret, char **why) {
        struct pass_run *s = userdata;
        return tpm_session_get(s->p, s->b, ret, why);
}

static int stage_keyfile(void *userdata, const struct unlock_volume *v, struct secret **ret, char **why) {
        struct pass_run *s = userdata;
        const char *keyfile = plan_volume_of(s, v)->keyfile;
        _cleanup_free_ char *file_why = NULL;
        int r;

        /* The key file may sit on a volume the disk's holder can write:
         * it is read beneath the root, never through a symlink of its own. */
        r = secret_read_at(s->b->root_fd, *s->b->root ? s->b->root : "/", keyfile + strspn(keyfile, "/"),
                           KEYFILE_MAX, false, ret, &file_why);
        return r < 0 ? why_set(why, r, "key file: %s", why_or(file_why)) : r;
}

static int opened(struct boot_volume *bv, enum unlock_method m) {
        struct probed inner = {};
        int r;

        bv->opened = true;
        bv->opened_at_ms = clock_usec(CLOCK_BOOTTIME) / 1000u;
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

static void why_add(char **all, enum unlock_method m, const char *why) {
        char *s = NULL;
        if (asprintf(&s, "%s%s%s: %s", *all ? *all : "", *all ? "; " : "", unlock_method_to_string(m),
                     strempty(why)) >= 0) {
                free(*all);
                *all = s;
        }
}

/* One attempt: logged as it happens, so a person at the console sees why
 * the TPM did not open a volume before being asked for its passphrase. */
static int stage_report(void *userdata, struct unlock_volume *uv, const struct unlock_attempt *a) {
        struct pass_run *s = userdata;
        const struct plan_volume *v = plan_volume_of(s, uv);
        struct boot_volume *bv = boot_volume_get(s->b, v->name);

        if (!bv)
                return -ENOMEM;
        if (a->error == -LUKS_HEADER_REFUSED) {
                /* A trust-chain refusal, made by the stage (boot_refuse). */
                s->refused = (size_t) (uv - s->v);
                return free_and_strdup(&s->refused_why, a->why);
        }
        if (a->error < 0) {
                if (a->method == UNLOCK_TPM2)
                        s->tpm_failed[uv - s->v] = true;
                log_warn("volume %s: %s unlock of %s failed: %s", v->name, unlock_method_to_string(a->method),
                         bv->dev.devnode, a->why);
                why_add(&s->why[s->index[uv - s->v]], a->method, a->why);
                return 0;
        }
        log_info("volume %s: %s opened as /dev/mapper/%s by %s (keyslot %d)", v->name, bv->dev.devnode, v->name,
                 unlock_method_to_string(a->method), a->keyslot);
        /* The volume key's PCR 15 HMACs, kept until leave-initrd extends
         * them after the last unseal of the boot (src/tpm/pcr15.h). */
        if (uv->measured) {
                free(bv->pcr15);
                if (!(bv->pcr15 = malloc(sizeof(*bv->pcr15))))
                        return -ENOMEM;
                *bv->pcr15 = uv->pcr15;
        }
        bv->unsealed_at_ms = a->method == UNLOCK_TPM2 ? uv->unsealed_ms : 0;
        return opened(bv, a->method);
}

/* A person opened the volume (recovery key or passphrase): after its TPM
 * token failed, and when the image's config asks for it, the volume gets
 * a token that works again (src/boot/reseal.h). */
static int stage_person(void *userdata, struct unlock_volume *uv, enum unlock_method m, const struct secret *key) {
        struct pass_run *s = userdata;

        if (s->p->reseal != RESEAL_AUTO || !s->tpm_failed[uv - s->v])
                return 0;
        return reseal_volume(s->p, s->b, &(struct reseal_request) {
                .name = plan_volume_of(s, uv)->name, .path = uv->path, .cd = uv->cd, .key = key,
                .signatures = s->signatures });
}

/* The binding check (src/boot/volume-keys.h), when this boot measures the
 * volume keys: the chain is made of those measurements. */
static int stage_bind(void *userdata, struct unlock_volume *uv, struct tpm2_ctx *tpm, bool unopened_before,
                      char **why) {
        struct pass_run *s = userdata;
        int r = volume_keys_bind(s->p, s->b, plan_volume_of(s, uv)->name, uv->cd, tpm, unopened_before, why);

        if (r == -EPERM && s->unbound == SIZE_MAX) {
                s->unbound = (size_t) (uv - s->v);
                if (free_and_strdup(&s->unbound_why, *why) < 0)
                        return -ENOMEM;
        }
        return r;
}

/* What stayed locked: a required volume fails the boot, an optional one
 * is left unmounted (never mounted raw). */
static int stage_verdict(const struct plan *p, struct boot *b, char **why) {
        int r = 0;

        for (size_t i = 0; r >= 0 && i < p->n_volumes; i++) {
                const struct plan_volume *v = &p->volumes[i];
                const struct boot_volume *bv = boot_volume_find(b, v->name);

                if (!eligible(p, b, v) || (bv && bv->opened))
                        continue;
                if (v->required)
                        r = boot_fail(b, -ENOKEY, "volume %s: cannot unlock %s: %s", v->name, bv->dev.devnode,
                                      why[i] ? why[i] : "no unlock method of its unlock list applies");
                else
                        r = boot_warn(b, "volume %s (optional): cannot unlock %s: %s; not mounting it", v->name,
                                      bv->dev.devnode, why[i] ? why[i] : "no unlock method applies");
        }
        return r;
}

int stage_unlock(const struct plan *p, struct boot *b) {
        _cleanup_(strv_clear) strv sigs = {};
        struct pass_run s = { .p = p, .b = b, .refused = SIZE_MAX, .unbound = SIZE_MAX };
        size_t n = 0;
        int r;

        /* The chain is made of the volume-key measurements: a boot that may
         * not make them cannot tell a bound set from a planted one. */
        if (p->bind_volumes == BIND_REQUIRE && !pcr15_wanted(p, b))
                return boot_fail(b, -EPERM, "unlock: tpm.bind_volumes: require, but this boot does not measure the "
                                 "volume keys into PCR %d (not PID 1 of a UKI boot, no --measure-volume-keys)", PCR15_PCR);
        r = unlock_volumes(p, b, &s.v, &s.index, &n);
        if (r < 0)
                return r;
        s.why = calloc(p->n_volumes + 1, sizeof(*s.why));
        s.tpm_failed = calloc(n + 1, sizeof(*s.tpm_failed));
        _cleanup_free_ char **labels = calloc(n + 1, sizeof(*labels));
        if (!s.why || !s.tpm_failed || !labels)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (asprintf(&labels[i], "volume %s (%s)", s.v[i].name, s.v[i].path) < 0)
                        r = -ENOMEM;
                else
                        s.v[i].label = labels[i];
        if (r >= 0)
                r = unlock_signature_paths(p, b, &sigs);
        s.signatures = (const char *const *) sigs.v;
        if (r >= 0)
                r = unlock_run(&(struct unlock_batch) {
                                .ciphers = (const char *const *) p->luks_ciphers.v,
                                .tpm = stage_tpm,
                                .signatures = (const char *const *) sigs.v,
                                .signatures_complete = true,  /* never the host's files under --root */
                                /* The last pass's last Unseal ends the session; an
                                 * earlier pass keeps it for the next one. */
                                .final = b->pass == BOOT_PASS_REST,
                                .read_keyfile = stage_keyfile,
                                .prompt = { .in_fd = -1, .out_fd = -1, .timeout_ms = UNLOCK_PROMPT_TIMEOUT_MS,
                                            .tries = UNLOCK_PROMPT_TRIES },
                                .measure = pcr15_wanted(p, b),
                                .bind = pcr15_wanted(p, b) ? stage_bind : NULL,
                                .opened_by_person = stage_person,
                                .report = stage_report,
                                .userdata = &s,
                        }, s.v, n);
        if (r == -LUKS_HEADER_REFUSED && s.refused != SIZE_MAX)
                r = boot_refuse(b, s.v[s.refused].path, "%s: %s", s.v[s.refused].path, strempty(s.refused_why));
        /* A volume the binding check refused, and nothing else opened: a
         * trust-chain refusal (no shell), naming the binding. */
        if (r >= 0 && s.unbound != SIZE_MAX && !s.v[s.unbound].opened)
                r = boot_refuse(b, s.v[s.unbound].path, "volume %s: %s: %s", s.v[s.unbound].name, s.v[s.unbound].path,
                                strempty(s.unbound_why));
        if (r >= 0)
                r = stage_verdict(p, b, s.why);
        if (r >= 0 && b->pass == BOOT_PASS_REST)
                r = volume_keys_verdict(p, b);

        for (size_t i = 0; s.why && i < p->n_volumes; i++)
                free(s.why[i]);
        for (size_t i = 0; labels && i < n; i++)
                free(labels[i]);
        free(s.why);
        free(s.refused_why);
        free(s.unbound_why);
        free(s.tpm_failed);
        free(s.v);
        free(s.index);
        /* After the last pass the connection stays for PCR 15 and
         * leave-initrd, which close it (handoff.c). */
        if (r < 0)
                tpm_session_close(b);
        return r < 0 ? r : 0;
}
