/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "plan.h"

static const char *const stage_names[_STAGE_MAX] = {
        [STAGE_EARLY] = "early",
        [STAGE_MODULES] = "modules",
        [STAGE_DEVICES] = "devices",
        [STAGE_UNLOCK] = "unlock",
        [STAGE_MOUNTS] = "mounts",
        [STAGE_OVERLAYS] = "overlays",
        [STAGE_BINDS] = "binds",
        [STAGE_EXTENSIONS] = "extensions",
        [STAGE_HANDOFF] = "handoff",
};

/* Where systemd-stub and systemd leave the PCR signature, searched after the
 * configured files. */
static const char *const signature_search[] = {
        "/.extra/tpm2-pcr-signature.json",
        "/run/systemd/tpm2-pcr-signature.json",
        "/etc/systemd/tpm2-pcr-signature.json",
};

static const char *const init_fallbacks[] = {
        "/sbin/init",
        "/usr/lib/systemd/systemd",
};

#define DEFAULT_TIMEOUT_SEC 30
#define OEM_MOUNT "/oem"

const char *stage_to_string(enum stage s) { return s < _STAGE_MAX ? stage_names[s] : NULL; }

int stage_from_string(const char *s) {
        for (size_t i = 0; s && i < _STAGE_MAX; i++)
                if (streq(s, stage_names[i]))
                        return (int) i;
        return -EINVAL;
}

int plan_state_name(const char *path, char **ret) {
        size_t n = strlen(path);
        char *s = malloc(n + sizeof ".bind");

        if (!s)
                return -ENOMEM;
        /* Kairos: drop the leading '/', every other '/' becomes '-'. */
        const char *p = path[0] == '/' ? path + 1 : path;
        size_t i = 0;
        for (; *p; p++)
                s[i++] = *p == '/' ? '-' : *p;
        memcpy(s + i, ".bind", sizeof ".bind");
        *ret = s;
        return 0;
}

bool plan_volume_needs_crypt(const struct plan *p, const struct plan_volume *v) {
        if (v->encrypted == ENCRYPTION_YES)
                return true;
        return p->usi_mode && v->encrypted != ENCRYPTION_NO;
}

static void plan_volume_done(struct plan_volume *v) {
        free(v->name);
        for (size_t i = 0; i < v->n_matches; i++)
                free(v->matches[i].value);
        free(v->mount);
        free(v->fstype);
        free(v->options);
        free(v->keyfile);
}

void plan_done(struct plan *p) {
        for (size_t i = 0; i < p->n_volumes; i++)
                plan_volume_done(&p->volumes[i]);
        free(p->volumes);
        free(p->tpm_device);
        strv_clear(&p->signatures);
        free(p->overlay_size);
        strv_clear(&p->overlay_paths);
        free(p->state_dir);
        for (size_t i = 0; i < p->n_binds; i++) {
                free(p->binds[i].path);
                free(p->binds[i].state);
        }
        free(p->binds);
        strv_clear(&p->init);
        strv_clear(&p->init_args);
        strv_clear(&p->ext_cert_dirs);
        strv_clear(&p->notes);
        strv_clear(&p->usi_evidence);
        free(p->boot_entry);
        free(p->boot_partuuid);
        strv_clear(&p->luks_ciphers);
        for (size_t i = 0; i < p->n_origins; i++) {
                free(p->origins[i].key);
                free(p->origins[i].from);
        }
        free(p->origins);
        *p = (struct plan) { .break_stage = -1 };
}

/* Every path that something is mounted on, with who claimed it, so a second
 * claim can name the first. */
struct claim {
        const char *path;
        const char *what;
        struct mark mark;
};

struct claims {
        struct claim *v;
        size_t n;
};

static int claim(struct claims *cl, const char *path, const char *what, const struct mark *m, strv *errors) {
        for (size_t i = 0; i < cl->n; i++)
                if (streq(cl->v[i].path, path)) {
                        const struct mark *o = &cl->v[i].mark;
                        if (o->file)
                                return config_error(errors, m, "duplicate mount point %s: already used by %s at %s:%u:%u; expected each path once",
                                                    path, cl->v[i].what, o->file, o->line, o->column);
                        return config_error(errors, m, "duplicate mount point %s: already used by %s (built-in defaults); expected each path once",
                                            path, cl->v[i].what);
                }
        struct claim *nv = realloc(cl->v, (cl->n + 1) * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        cl->v = nv;
        cl->v[cl->n++] = (struct claim) { path, what, *m };
        return 0;
}

static unsigned depth(const char *path) {
        unsigned d = 0;
        for (; *path; path++)
                d += *path == '/';
        return d;
}

/* Parents before children; a stable, total order so plans are reproducible. */
static int cmp_depth(const char *a, const char *b) {
        unsigned da = depth(a), db = depth(b);
        if (da != db)
                return da < db ? -1 : 1;
        return strcmp(a, b);
}

static int cmp_cpath(const void *a, const void *b) {
        return cmp_depth(((const struct cpath *) a)->path, ((const struct cpath *) b)->path);
}

static int cmp_bind(const void *a, const void *b) {
        return cmp_depth(((const struct plan_bind *) a)->path, ((const struct plan_bind *) b)->path);
}

/* base (or nothing) + extra, where an extra path that repeats one already in
 * the list is dropped: Kairos users routinely re-list default paths. A path
 * twice in one explicit list is a mistake and reported. */
static int merge_paths(const struct cpath_list *base, const struct cpath_list *extra,
                       struct cpath **ret, size_t *ret_n, strv *errors) {
        struct cpath *v = calloc(base->n + extra->n + 1, sizeof *v);
        size_t n = 0;
        int r = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < base->n; i++) {
                bool dup = false;
                for (size_t j = 0; j < n; j++)
                        dup = dup || streq(v[j].path, base->v[i].path);
                if (dup)
                        r = config_error(errors, &base->v[i].mark, "%s is listed twice; expected each path once",
                                         base->v[i].path);
                else
                        v[n++] = base->v[i];
        }
        for (size_t i = 0; i < extra->n; i++) {
                bool dup = false;
                for (size_t j = 0; j < n; j++)
                        dup = dup || streq(v[j].path, extra->v[i].path);
                if (!dup)
                        v[n++] = extra->v[i];
        }
        qsort(v, n, sizeof *v, cmp_cpath);
        *ret = v;
        *ret_n = n;
        return r;
}

static int build_volume(const struct config *c, const struct config_volume *cv, const struct cmdline *cl,
                        struct plan_volume *v, strv *errors) {
        bool is_oem = cv->mount.path && streq(cv->mount.path, OEM_MOUNT);
        int r = 0;

        v->name = strdup(cv->name);
        if (!v->name)
                return -ENOMEM;
        for (enum match_kind k = 0; k < _MATCH_MAX; k++) {
                const char *val = cv->match[k];
                /* rd.immucore.oemlabel renames the OEM volume, encrypted or not. */
                if (is_oem && cl->oem_label && (k == MATCH_LUKS_LABEL || k == MATCH_FS_LABEL))
                        val = cl->oem_label;
                if (!val)
                        continue;
                v->matches[v->n_matches].kind = k;
                v->matches[v->n_matches].value = strdup(val);
                if (!v->matches[v->n_matches++].value)
                        return -ENOMEM;
                if (k == MATCH_UUID || k == MATCH_PARTUUID)
                        v->pinned = true;
        }
        if (v->n_matches == 0)
                r = config_error(errors, &cv->mark, "volume '%s' has no match; expected match: with uuid, partuuid, luks_label, fs_label or partlabel",
                                 cv->name);

        if (cv->mount.path && !(v->mount = strdup(cv->mount.path)))
                return -ENOMEM;
        v->fstype = strdup(cv->fstype ? cv->fstype : "auto");
        v->options = strdup(cv->options ? cv->options : "defaults");
        if (!v->fstype || !v->options)
                return -ENOMEM;
        v->required = cv->required != 0;   /* unset means required: fail closed */

        int t = cv->timeout_sec >= 0 ? cv->timeout_sec :
                c->default_timeout_sec >= 0 ? c->default_timeout_sec : DEFAULT_TIMEOUT_SEC;
        if (cl->timeout_sec >= 0)
                t = cl->timeout_sec;
        if (is_oem && cl->oem_timeout_sec >= 0)
                t = cl->oem_timeout_sec;
        v->timeout_ms = (unsigned) t * 1000u;

        v->encrypted = cv->encrypted != ENCRYPTION_UNSET ? cv->encrypted : ENCRYPTION_AUTO;
        for (size_t i = 0; i < c->encrypted_labels.n; i++)
                if (cv->match[MATCH_LUKS_LABEL] && streq(cv->match[MATCH_LUKS_LABEL], c->encrypted_labels.v[i].path))
                        v->encrypted = ENCRYPTION_YES;

        if (cv->n_unlock) {
                memcpy(v->unlock, cv->unlock, sizeof v->unlock);
                v->n_unlock = cv->n_unlock;
        } else {
                v->unlock[0] = UNLOCK_TPM2;
                v->n_unlock = 1;
        }
        bool wants_keyfile = false;
        for (size_t i = 0; i < v->n_unlock; i++)
                wants_keyfile = wants_keyfile || v->unlock[i] == UNLOCK_KEYFILE;
        if (wants_keyfile && !cv->keyfile.path)
                r = config_error(errors, cv->n_unlock ? &cv->unlock_mark : &cv->mark,
                                 "volume '%s' lists unlock method keyfile without a keyfile; expected keyfile: /path", cv->name);
        if (!wants_keyfile && cv->keyfile.path)
                r = config_error(errors, &cv->keyfile.mark,
                                 "volume '%s' has a keyfile but 'keyfile' is not in its unlock list; expected both or neither", cv->name);
        if (cv->keyfile.path && !(v->keyfile = strdup(cv->keyfile.path)))
                return -ENOMEM;
        if (v->encrypted == ENCRYPTION_NO && cv->n_unlock)
                r = config_error(errors, &cv->unlock_mark,
                                 "volume '%s' is declared not encrypted but lists unlock methods; expected encrypted: true or auto", cv->name);
        return r;
}

/* Kairos' encrypted_partitions names labels; one no volume carries becomes an
 * unlock-only volume (Kairos opens every listed partition). */
static int add_label_volumes(const struct config *c, struct plan *p, strv *errors) {
        for (size_t i = 0; i < c->encrypted_labels.n; i++) {
                const char *label = c->encrypted_labels.v[i].path;
                bool known = false;
                for (size_t j = 0; j < p->n_volumes; j++)
                        for (size_t k = 0; k < p->volumes[j].n_matches; k++)
                                known = known || (p->volumes[j].matches[k].kind == MATCH_LUKS_LABEL &&
                                                  streq(p->volumes[j].matches[k].value, label));
                if (known)
                        continue;

                struct plan_volume *nv = realloc(p->volumes, (p->n_volumes + 1) * sizeof *nv);
                if (!nv)
                        return -ENOMEM;
                p->volumes = nv;
                nv = &p->volumes[p->n_volumes++];
                *nv = (struct plan_volume) {
                        .required = false,
                        .timeout_ms = (c->default_timeout_sec >= 0 ? (unsigned) c->default_timeout_sec : DEFAULT_TIMEOUT_SEC) * 1000u,
                        .encrypted = ENCRYPTION_YES,
                        .unlock = { UNLOCK_TPM2 },
                        .n_unlock = 1,
                        .n_matches = 1,
                };
                nv->name = strdup(label);
                nv->matches[0] = (struct plan_match) { MATCH_LUKS_LABEL, strdup(label) };
                nv->fstype = strdup("auto");
                nv->options = strdup("defaults");
                if (!nv->name || !nv->matches[0].value || !nv->fstype || !nv->options)
                        return -ENOMEM;
                for (char *s = nv->name; *s; s++)
                        if (!(*s >= 'A' && *s <= 'Z') && !(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') && !strchr("_.-", *s))
                                *s = '_';
        }
        (void) errors;
        return 0;
}

static int build_volumes(const struct config *c, const struct cmdline *cl, struct plan *p,
                         struct claims *claims, strv *errors) {
        size_t order[c->n_volumes + 1], n = 0;
        int r = 0;

        /* /oem goes first: its config shapes the rest of the plan. */
        for (size_t i = 0; i < c->n_volumes; i++)
                if (c->volumes[i].enabled != 0 && c->volumes[i].mount.path && streq(c->volumes[i].mount.path, OEM_MOUNT))
                        order[n++] = i;
        for (size_t i = 0; i < c->n_volumes; i++)
                if (c->volumes[i].enabled != 0 && !(c->volumes[i].mount.path && streq(c->volumes[i].mount.path, OEM_MOUNT)))
                        order[n++] = i;

        p->volumes = calloc(n + 1, sizeof *p->volumes);
        if (!p->volumes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct config_volume *cv = &c->volumes[order[i]];
                int k = build_volume(c, cv, cl, &p->volumes[p->n_volumes++], errors);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        r = k;
                if (cv->mount.path) {
                        k = claim(claims, cv->mount.path, "a volume", &cv->mount.mark, errors);
                        if (k == -ENOMEM)
                                return k;
                        if (k < 0)
                                r = k;
                }
        }
        int k = add_label_volumes(c, p, errors);
        return k < 0 ? k : r;
}

static int build_overlays(const struct config *c, const struct cmdline *cl, struct plan *p,
                          struct claims *claims, strv *errors) {
        _cleanup_free_ struct cpath *v = NULL;
        size_t n;
        int r, k;
        const char *size = c->overlay_size ? c->overlay_size : "25%";

        if (cl->overlay) {
                const char *s = startswith(cl->overlay, "tmpfs:");
                if (s && tmpfs_size_valid(s))
                        size = s;
                else if ((k = strv_pushf(&p->notes, "kernel command line overlay=%s ignored: expected tmpfs:SIZE such as tmpfs:25%%",
                                   cl->overlay)) < 0)
                        return k;
        }
        if (!(p->overlay_size = strdup(size)))
                return -ENOMEM;

        r = merge_paths(&c->overlay_paths, &c->overlay_extra_paths, &v, &n, errors);
        if (r == -ENOMEM)
                return r;
        for (size_t i = 0; i < n; i++) {
                if ((k = strv_push(&p->overlay_paths, v[i].path)) < 0)
                        return k;
                k = claim(claims, v[i].path, "an ephemeral path", &v[i].mark, errors);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        r = k;
        }
        return r;
}

static int build_binds(const struct config *c, struct plan *p, struct claims *claims, strv *errors) {
        _cleanup_free_ struct cpath *v = NULL;
        const struct cpath *state = &c->state_dir;
        size_t n;
        int r, k;

        if (!state->path)
                return config_error(errors, NULL, "no binds.state_dir configured; expected an absolute path");
        if (!(p->state_dir = strdup(state->path)))
                return -ENOMEM;
        p->seed = c->seed != SEED_UNSET ? c->seed : SEED_MISSING;

        r = merge_paths(&c->bind_paths, &c->bind_extra_paths, &v, &n, errors);
        if (r == -ENOMEM)
                return r;
        p->binds = calloc(n + 1, sizeof *p->binds);
        if (!p->binds)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                const char *path = v[i].path;
                struct plan_bind *b;

                /* The state must not be hidden by, or hide, a bind of itself. */
                if (path_startswith(state->path, path)) {
                        r = config_error(errors, &state->mark,
                                         "state dir %s is inside the persistent path %s (%s:%u:%u), which would hide it; expected a state dir outside every bound path",
                                         state->path, path, strempty(v[i].mark.file), v[i].mark.line, v[i].mark.column);
                        continue;
                }
                if (path_startswith(path, state->path)) {
                        r = config_error(errors, &v[i].mark,
                                         "persistent path %s is inside the state dir %s; expected a path outside it",
                                         path, state->path);
                        continue;
                }
                k = claim(claims, path, "a persistent path", &v[i].mark, errors);
                if (k == -ENOMEM)
                        return k;
                if (k < 0) {
                        r = k;
                        continue;
                }

                b = &p->binds[p->n_binds];
                _cleanup_free_ char *name = NULL;
                if (plan_state_name(path, &name) < 0)
                        return -ENOMEM;
                /* "/etc/a-b" and "/etc/a/b" both become etc-a-b.bind in Kairos'
                 * scheme; two paths sharing one state dir would mix their files. */
                for (size_t j = 0; j < p->n_binds; j++)
                        if (streq(strrchr(p->binds[j].state, '/') + 1, name)) {
                                r = config_error(errors, &v[i].mark,
                                                 "persistent paths %s and %s share the state dir name %s; expected paths whose names differ after '/' becomes '-'",
                                                 p->binds[j].path, path, name);
                                name[0] = '\0';
                                break;
                        }
                if (!name[0])
                        continue;
                b->path = strdup(path);
                if (asprintf(&b->state, "%s/%s", state->path, name) < 0)
                        b->state = NULL;
                if (!b->path || !b->state)
                        return -ENOMEM;
                p->n_binds++;
        }
        qsort(p->binds, p->n_binds, sizeof *p->binds, cmp_bind);

        bool on_volume = false;
        for (size_t i = 0; i < p->n_volumes; i++)
                on_volume = on_volume || (p->volumes[i].mount && path_startswith(state->path, p->volumes[i].mount));
        if (!on_volume && p->n_binds > 0 &&
            (k = strv_pushf(&p->notes, "state dir %s is not on a volume of the plan: persistent paths will not persist", state->path)) < 0)
                return k;
        return r;
}

static int push_unique(strv *s, const char *v) {
        return strv_contains(s, v) ? 0 : strv_push(s, v);
}

static int build_tpm(const struct config *c, const struct cmdline *cl, struct plan *p, strv *errors) {
        int r;

        if (!(p->tpm_device = strdup(cl->tpm2_device ? cl->tpm2_device :
                                     c->tpm_device ? c->tpm_device : "device:/dev/tpmrm0")))
                return -ENOMEM;
        /* 30 s: the built-in default's, also the TPM layer's own. */
        p->tpm_timeout_ms = (c->tpm_timeout_sec >= 0 ? (unsigned) c->tpm_timeout_sec : 30u) * 1000u;
        for (size_t i = 0; i < c->tpm_signatures.n; i++)
                if ((r = push_unique(&p->signatures, c->tpm_signatures.v[i].path)) < 0)
                        return r;
        for (size_t i = 0; i < ELEMENTSOF(signature_search); i++)
                if ((r = push_unique(&p->signatures, signature_search[i])) < 0)
                        return r;
        p->measure_phases = c->tpm_measure_phases != 0;
        p->measure_volume_keys = c->tpm_measure_volume_keys != 0;
        p->bind_volumes = c->tpm_bind_volumes ? c->tpm_bind_volumes : BIND_WARN;
        p->reseal = c->tpm_reseal ? c->tpm_reseal : RESEAL_OFF;
        /* The chain is made of the volume-key measurements. */
        if (p->bind_volumes == BIND_REQUIRE && !p->measure_volume_keys &&
            (r = config_error(errors, config_origin_of(c, "tpm.bind_volumes"),
                              "tpm.bind_volumes: require binds volumes through their keys in PCR 15; "
                              "expected tpm.measure_volume_keys: true")) < 0)
                return r;
        for (size_t i = 0; i < c->luks_ciphers.n; i++)
                if ((r = push_unique(&p->luks_ciphers, c->luks_ciphers.v[i].path)) < 0)
                        return r;
        return 0;
}

static int build_init(const struct config *c, const struct cmdline *cl, struct plan *p) {
        int r;

        if (cl->init) {
                if (cl->init[0] == '/') {
                        if ((r = push_unique(&p->init, cl->init)) < 0)
                                return r;
                } else if ((r = strv_pushf(&p->notes, "init=%s ignored: expected an absolute path", cl->init)) < 0)
                        return r;
        }
        for (size_t i = 0; i < c->init.n; i++)
                if ((r = push_unique(&p->init, c->init.v[i].path)) < 0)
                        return r;
        for (size_t i = 0; i < ELEMENTSOF(init_fallbacks); i++)
                if ((r = push_unique(&p->init, init_fallbacks[i])) < 0)
                        return r;
        return strv_copy(&p->init_args, &cl->init_args);
}

static int build_failure(const struct config *c, const struct cmdline *cl, struct plan *p) {
        enum on_failure f = ON_FAILURE_HALT;

        if (c->on_failure != ON_FAILURE_UNSET)
                f = c->on_failure;
        if (cl->shell)
                f = ON_FAILURE_SHELL;
        if (cl->on_failure != ON_FAILURE_UNSET)
                f = cl->on_failure;

        p->shell_allowed = cl->shell || c->allow_shell == 1;
        p->insecure_boot_allowed = cl->insecure || c->allow_insecure_boot == 1;
        p->reboot_delay_sec = c->reboot_delay_sec >= 0 ? (unsigned) c->reboot_delay_sec : 10;
        /* A shell is root on an unlocked node: only where someone allowed it. */
        if (f == ON_FAILURE_SHELL && !p->shell_allowed) {
                f = ON_FAILURE_HALT;
                int r = strv_pushf(&p->notes, "on_failure shell needs rd.usi.shell or allow_shell: true; the boot halts instead");
                if (r < 0)
                        return r;
        }
        p->on_failure = f;

        p->break_stage = -1;
        if (cl->break_stage) {
                int s = stage_from_string(cl->break_stage);
                if (s < 0) {
                        char list[256] = "";
                        for (size_t i = 0; i < _STAGE_MAX; i++) {
                                strcat(list, i ? ", " : "");
                                strcat(list, stage_names[i]);
                        }
                        return strv_pushf(&p->notes, "rd.usi.break=%s ignored: expected one of %s", cl->break_stage, list);
                }
                p->break_stage = s;
        }
        return 0;
}

/* The extension sources and the trust anchor. A certificate directory is
 * part of the trust chain only while it is the image's own: on a volume or
 * a persistent path the final OS (or whoever holds the disk) could add a
 * signer, so it is refused there. */
static int build_extensions(const struct config *c, struct plan *p, const struct claims *claims, strv *errors) {
        int r;

        for (size_t s = 0; s < _EXT_SOURCE_MAX; s++)
                p->ext_source[s] = c->ext_sources < 0 || (c->ext_sources & (1 << s));
        p->ext_efi_keys = c->ext_efi_keys != 0;
        for (size_t i = 0; i < c->ext_certificates.n; i++) {
                const struct cpath *d = &c->ext_certificates.v[i];
                bool refused = false;

                for (size_t k = 0; k < claims->n && !refused; k++)
                        if (!streq(claims->v[k].what, "an ephemeral path") && path_startswith(d->path, claims->v[k].path)) {
                                r = config_error(errors, &d->mark, "extension certificate directory %s is on %s (%s), "
                                                 "which the final OS can write; expected a directory of the image",
                                                 d->path, claims->v[k].what, claims->v[k].path);
                                if (r == -ENOMEM)
                                        return r;
                                refused = true;
                        }
                if (!refused && (r = push_unique(&p->ext_cert_dirs, d->path)) < 0)
                        return r;
        }
        /* kairos-agent writes the layout in the running system: without a
         * persistent /var/lib/kairos it would read the image's own. */
        bool persistent = false;
        for (size_t k = 0; k < claims->n; k++)
                persistent = persistent || (!streq(claims->v[k].what, "an ephemeral path") &&
                                            path_startswith(PLAN_KAIROS_SYSEXT_DIR, claims->v[k].path));
        if (p->ext_source[EXT_SOURCE_KAIROS] && !persistent &&
            (r = strv_pushf(&p->notes, "extensions: %s is not on a volume or a persistent path of the plan: the Kairos layout "
                         "is read from the image, not from the persistent volume", PLAN_KAIROS_SYSEXT_DIR)) < 0)
                return r;
        return 0;
}

void plan_facts_done(struct plan_facts *f) {
        strv_clear(&f->usi_evidence);
        free(f->loader_entry);
        free(f->loader_partuuid);
        *f = (struct plan_facts) {};
}

/* Trust-chain rule 1: USI mode on the command line's word or the system's
 * evidence, whichever there is; each reason is kept for `plan` and state.json. */
static int build_usi_mode(const struct cmdline *cl, const struct plan_facts *f, struct plan *p) {
        int r;

        if (cl->uki && (r = strv_push(&p->usi_evidence, "rd.immucore.uki on the kernel command line")) < 0)
                return r;
        for (size_t i = 0; f && i < f->usi_evidence.n; i++)
                if ((r = strv_push(&p->usi_evidence, f->usi_evidence.v[i])) < 0)
                        return r;
        p->usi_mode = p->usi_evidence.n > 0;
        return 0;
}

/* The Kairos mode, decided here once for both the early stage's /run/cos/
 * and the extensions stage; the boot loader's variables count only in USI
 * mode, as kairos_mode_detect() reads them. */
static int build_kairos(const struct cmdline *cl, const struct plan_facts *f, struct plan *p) {
        const char *entry = f && p->usi_mode ? f->loader_entry : NULL;
        const char *partuuid = f && p->usi_mode ? f->loader_partuuid : NULL;

        kairos_mode_detect(p->usi_mode, cl, entry, partuuid, &p->kairos);
        if ((entry && !(p->boot_entry = strdup(entry))) || (partuuid && !(p->boot_partuuid = strdup(partuuid))))
                return -ENOMEM;
        return 0;
}

int plan_build(const struct config *c, const struct cmdline *cl, struct plan *p, strv *errors) {
        return plan_build_on(c, cl, NULL, p, errors);
}

int plan_build_on(const struct config *c, const struct cmdline *cl, const struct plan_facts *facts, struct plan *p,
                  strv *errors) {
        struct claims claims = {};
        size_t before = errors->n;
        int r;

        *p = (struct plan) { .break_stage = -1 };
        p->debug = cl->debug;
        p->fsck = cl->fsck;
        if ((r = build_usi_mode(cl, facts, p)) < 0 || (r = build_kairos(cl, facts, p)) < 0)
                goto fail;
        p->root_relocate = c->root_relocate == 1;
        p->root_read_only = c->root_read_only == 1;

        for (size_t i = 0; i < cl->warnings.n; i++)
                if ((r = strv_push(&p->notes, cl->warnings.v[i])) < 0)
                        goto fail;
        for (size_t i = 0; i < c->ignored.n; i++)
                if ((r = strv_push(&p->notes, c->ignored.v[i])) < 0)
                        goto fail;

        if ((r = build_volumes(c, cl, p, &claims, errors)) == -ENOMEM ||
            (r = build_overlays(c, cl, p, &claims, errors)) == -ENOMEM ||
            (r = build_binds(c, p, &claims, errors)) == -ENOMEM ||
            (r = build_extensions(c, p, &claims, errors)) == -ENOMEM ||
            (r = build_tpm(c, cl, p, errors)) < 0 ||
            (r = build_init(c, cl, p)) < 0 ||
            (r = build_failure(c, cl, p)) < 0 ||
            (r = plan_build_origins(c, cl, p)) < 0)
                goto fail;

        free(claims.v);
        if (errors->n > before) {
                plan_done(p);
                return -EINVAL;
        }
        return 0;
fail:
        free(claims.v);
        plan_done(p);
        return r < 0 ? r : -EINVAL;
}
