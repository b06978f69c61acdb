/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json.h>
#include <stdarg.h>

#include "json-util.h"
#include "plan.h"

/* One list of actions feeds both the text and the JSON form, so the two can
 * never disagree about what the boot will do. */
struct action {
        enum stage stage;
        const char *verb;        /* find, unlock, mount, reload-config, tmpfs, overlay, bind, measure, exec */
        const char *subject;     /* volume name, path or phase word */
        char detail[1024];       /* the sentence a person reads */
};

typedef int (*action_cb)(const struct action *a, void *userdata);

_printf_(6, 7) static int emit(action_cb cb, void *ud, enum stage st, const char *verb, const char *subject,
                               const char *fmt, ...) {
        struct action a = { .stage = st, .verb = verb, .subject = subject };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(a.detail, sizeof a.detail, fmt, ap);
        va_end(ap);
        return cb(&a, ud);
}

static void join(char *buf, size_t size, const char *sep, const char *word) {
        if (*buf)
                strncat(buf, sep, size - strlen(buf) - 1);
        strncat(buf, word, size - strlen(buf) - 1);
}

static void describe_matches(const struct plan_volume *v, char *buf, size_t size) {
        buf[0] = '\0';
        for (size_t i = 0; i < v->n_matches; i++) {
                char one[512];
                snprintf(one, sizeof one, "%s %s", match_kind_to_string(v->matches[i].kind), v->matches[i].value);
                join(buf, size, ", else ", one);
        }
}

static void describe_unlock(const struct plan_volume *v, char *buf, size_t size) {
        buf[0] = '\0';
        for (size_t i = 0; i < v->n_unlock; i++)
                join(buf, size, ", then ", unlock_method_to_string(v->unlock[i]));
}

static const char *accepts(const struct plan *p, const struct plan_volume *v) {
        if (plan_volume_needs_crypt(p, v))
                return "only LUKS2 opened through its unlock methods";
        if (v->encrypted == ENCRYPTION_NO)
                return "only a plain file system";
        return "LUKS2 through its unlock methods, or a plain file system";
}

static bool any_ext_source(const struct plan *p) {
        for (size_t s = 0; s < _EXT_SOURCE_MAX; s++)
                if (p->ext_source[s])
                        return true;
        return false;
}

static int extension_actions(const struct plan *p, action_cb cb, void *ud) {
        char trust[1024] = "";
        int r;

        if (!any_ext_source(p))
                return 0;
        if (p->ext_source[EXT_SOURCE_STUB] &&
            (r = emit(cb, ud, STAGE_EXTENSIONS, "extensions-source", PLAN_STUB_SYSEXT_DIR,
                      "take the images systemd-stub unpacked into %s (measured into PCR 13), each one freed as it is staged",
                      PLAN_STUB_SYSEXT_DIR)) < 0)
                return r;
        if (p->ext_source[EXT_SOURCE_KAIROS] &&
            (r = emit(cb, ud, STAGE_EXTENSIONS, "extensions-source", PLAN_KAIROS_SYSEXT_DIR,
                      "take %s/MODE/*.raw then common/*.raw (confexts: %s/...), MODE from LoaderEntrySelected "
                      "(none without LoaderDevicePartUUID) or, not in USI mode, the command line",
                      PLAN_KAIROS_SYSEXT_DIR, PLAN_KAIROS_CONFEXT_DIR)) < 0)
                return r;
        for (size_t i = 0; i < p->ext_cert_dirs.n; i++) {
                char one[512];
                snprintf(one, sizeof one, "%s/*.crt", p->ext_cert_dirs.v[i]);
                join(trust, sizeof trust, ", ", one);
        }
        if (p->ext_efi_keys)
                join(trust, sizeof trust, ", ", "the X.509 entries of EFI PK, KEK and db");
        if ((r = emit(cb, ud, STAGE_EXTENSIONS, "extensions-trust", PLAN_RUN_VERITY_D,
                      "trust as signers %s; write them to %s as PEM (none: no extension is staged)",
                      *trust ? trust : "nothing", PLAN_RUN_VERITY_D)) < 0)
                return r;
        return emit(cb, ud, STAGE_EXTENSIONS, "extensions-stage", PLAN_RUN_EXTENSIONS,
                    "verify each image (GPT layout, signature by a trusted certificate, the whole hash tree) and stage "
                    "it in %s (confexts %s) as NAME.raw, .verity, .roothash, .roothash.p7s; a rejected one is dropped with its reason",
                    PLAN_RUN_EXTENSIONS, PLAN_RUN_CONFEXTS);
}

/* PCR 15 (src/tpm/pcr15.h): one extend per opened volume, in plan order. */
static int measure_volume_keys_action(const struct plan *p, action_cb cb, void *ud) {
        char names[1024] = "";

        for (size_t i = 0; i < p->n_volumes; i++)
                join(names, sizeof names, ", ", p->volumes[i].name);
        return emit(cb, ud, STAGE_UNLOCK, "measure", "volume-keys",
                    "after the last unlock, measure the key of each opened volume into PCR 15, in this order: %s",
                    names);
}

/* What closes the keys: PCR 15, then leave-initrd (which the window audit
 * follows). */
static int close_keys_actions(const struct plan *p, action_cb cb, void *ud) {
        int r;

        if (p->measure_volume_keys && (r = emit(cb, ud, STAGE_UNLOCK, "check", "volume-binding",
                                                "measure the keys opened so far into PCR 15 before a token that is "
                                                "bound behind them (the PCR 15 chain); a volume not bound behind the "
                                                "ones opened before it is %s (tpm.bind_volumes: %s)",
                                                p->bind_volumes == BIND_REQUIRE ? "refused before its unseal" :
                                                "opened with a warning", bind_volumes_to_string(p->bind_volumes))) < 0)
                return r;
        if (p->reseal == RESEAL_AUTO && (r = emit(cb, ud, STAGE_UNLOCK, "reseal", "tpm-token",
                                                  "a volume a person opened with its recovery key or passphrase "
                                                  "after its TPM token failed gets a new token sealed to the booted "
                                                  "image's key, keeping its binding, and the failed token goes "
                                                  "(tpm.reseal: auto)")) < 0)
                return r;
        if (p->measure_volume_keys && (r = measure_volume_keys_action(p, cb, ud)) < 0)
                return r;
        if (p->measure_phases && (r = emit(cb, ud, STAGE_UNLOCK, "measure", "leave-initrd",
                                           "measure leave-initrd into PCR 11, then report whether the keys "
                                           "could still be unsealed after the hand-off")) < 0)
                return r;
        return 0;
}

static int plan_actions(const struct plan *p, action_cb cb, void *ud) {
        int r;

        if (p->measure_phases && (r = emit(cb, ud, STAGE_EARLY, "measure", "enter-initrd",
                                           "measure enter-initrd into PCR 11")) < 0)
                return r;

        /* The boot measures PCR 15 and leave-initrd right after the last
         * unlock (boot.c leave_initrd()), not at the hand-off: the plan
         * lists them there so that it says when the keys close. */
        size_t last_unlock = p->n_volumes;
        for (size_t i = 0; i < p->n_volumes; i++)
                if (p->volumes[i].encrypted != ENCRYPTION_NO)
                        last_unlock = i;

        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct plan_volume *v = &p->volumes[i];
                char m[1024], u[256];

                describe_matches(v, m, sizeof m);
                describe_unlock(v, u, sizeof u);
                if ((r = emit(cb, ud, STAGE_DEVICES, "find", v->name, "find volume %s: %s%s (wait up to %u s, %s)",
                              v->name, m, v->pinned ? " [pinned]" : "", v->timeout_ms / 1000,
                              v->required ? "required" : "optional")) < 0)
                        return r;
                if (v->encrypted != ENCRYPTION_NO &&
                    (r = emit(cb, ud, STAGE_UNLOCK, "unlock", v->name, "unlock %s as /dev/mapper/%s with %s (accepts %s)",
                              v->name, v->name, u, accepts(p, v))) < 0)
                        return r;
                if (i == last_unlock && (r = close_keys_actions(p, cb, ud)) < 0)
                        return r;
                if (v->mount &&
                    (r = emit(cb, ud, STAGE_MOUNTS, "mount", v->name, "mount %s on %s (type %s, options %s)",
                              v->name, v->mount, v->fstype, v->options)) < 0)
                        return r;
                if (v->mount && streq(v->mount, "/oem") &&
                    (r = emit(cb, ud, STAGE_MOUNTS, "reload-config", "/oem",
                              "read /oem/usi-init.yaml and the install.* keys of /oem/*.yaml, then rebuild this plan")) < 0)
                        return r;
        }

        if (p->overlay_paths.n > 0 &&
            (r = emit(cb, ud, STAGE_OVERLAYS, "tmpfs", PLAN_OVERLAY_BASE, "mount a tmpfs on %s (size %s)",
                      PLAN_OVERLAY_BASE, p->overlay_size)) < 0)
                return r;
        for (size_t i = 0; i < p->overlay_paths.n; i++)
                if ((r = emit(cb, ud, STAGE_OVERLAYS, "overlay", p->overlay_paths.v[i],
                              "overlay %s: lower the image's %s, upper and work on the tmpfs (ephemeral)",
                              p->overlay_paths.v[i], p->overlay_paths.v[i])) < 0)
                        return r;

        for (size_t i = 0; i < p->n_binds; i++)
                if ((r = emit(cb, ud, STAGE_BINDS, "bind", p->binds[i].path, "bind %s from %s (seed: %s)",
                              p->binds[i].path, p->binds[i].state, seed_policy_to_string(p->seed))) < 0)
                        return r;

        if ((r = extension_actions(p, cb, ud)) < 0)
                return r;

        if (last_unlock == p->n_volumes && (r = close_keys_actions(p, cb, ud)) < 0)
                return r;

        char inits[2048] = "";
        for (size_t i = 0; i < p->init.n; i++)
                join(inits, sizeof inits, ", ", p->init.v[i]);
        return emit(cb, ud, STAGE_HANDOFF, "exec", p->init.n ? p->init.v[0] : "",
                    "exec the first existing of %s as PID 1 (no pivot_root, no switch_root)", inits);
}

/* ---- text ---------------------------------------------------------------- */

struct text_ctx {
        FILE *f;
        unsigned n;
};

static int text_action(const struct action *a, void *ud) {
        struct text_ctx *t = ud;
        fprintf(t->f, "%3u. [%s] %s\n", ++t->n, stage_to_string(a->stage), a->detail);
        return 0;
}

int plan_print_text(const struct plan *p, FILE *f) {
        struct text_ctx t = { .f = f };
        int r;

        fprintf(f, "usi-init boot plan (%s)\n", p->usi_mode ? "USI mode: UKI boot" : "not a UKI boot");
        r = plan_actions(p, text_action, &t);
        if (r < 0)
                return r;

        if (p->usi_mode) {
                fputs("USI mode: on (every volume not declared `encrypted: no` is accepted only as LUKS2), because:\n", f);
                for (size_t i = 0; i < p->usi_evidence.n; i++)
                        fprintf(f, "  - %s\n", p->usi_evidence.v[i]);
        } else
                fputs("USI mode: off (no rd.immucore.uki, nothing in /.extra, no EFI variable of systemd-stub): "
                      "a volume not declared encrypted may be LUKS2 or plain\n", f);
        if (p->usi_mode)
                fprintf(f, "Kairos mode: %s%s%s (from the boot loader's EFI variables: boot entry %s, boot partition %s)\n",
                        p->kairos.mode, p->kairos.uki ? ", " : "", strempty(p->kairos.uki),
                        p->boot_entry ? p->boot_entry : "none", p->boot_partuuid ? p->boot_partuuid : "none");
        else
                fprintf(f, "Kairos mode: %s (from the kernel command line)\n", p->kairos.mode);
        fprintf(f, "fsck of ext file systems: mode %s, repair %s\n", fsck_mode_to_string(p->fsck.mode),
                fsck_repair_to_string(p->fsck.repair));

        if (p->tpm_timeout_ms)
                fprintf(f, "TPM: %s, each command within %u s", p->tpm_device, p->tpm_timeout_ms / 1000);
        else
                fprintf(f, "TPM: %s, no time limit per command", p->tpm_device);
        fprintf(f, "; PCR signature searched in:");
        for (size_t i = 0; i < p->signatures.n; i++)
                fprintf(f, " %s", p->signatures.v[i]);
        fputc('\n', f);
        if (p->on_failure == ON_FAILURE_REBOOT)
                fprintf(f, "On failure: reboot after %u s\n", p->reboot_delay_sec);
        else
                fprintf(f, "On failure: %s%s\n", on_failure_to_string(p->on_failure),
                        p->on_failure == ON_FAILURE_SHELL ? " (a trust-chain refusal halts instead)" : "");
        if (p->break_stage >= 0)
                fprintf(f, "Break: a shell before stage %s\n", stage_to_string((enum stage) p->break_stage));
        fprintf(f, "Root: relocate %s, read-only %s\n", p->root_relocate ? "yes" : "no", p->root_read_only ? "yes" : "no");
        if (p->init_args.n) {
                fprintf(f, "Init arguments:");
                for (size_t i = 0; i < p->init_args.n; i++)
                        fprintf(f, " %s", p->init_args.v[i]);
                fputc('\n', f);
        }
        if (p->luks_ciphers.n) {
                fprintf(f, "LUKS2 ciphers allowed:");
                for (size_t i = 0; i < p->luks_ciphers.n; i++)
                        fprintf(f, " %s", p->luks_ciphers.v[i]);
                fputc('\n', f);
        }
        if (p->n_origins)
                fprintf(f, "Trust settings, and where each came from:\n");
        for (size_t i = 0; i < p->n_origins; i++)
                fprintf(f, "  %-32s %s\n", p->origins[i].key, p->origins[i].from);
        for (size_t i = 0; i < p->notes.n; i++)
                fprintf(f, "Note: %s\n", p->notes.v[i]);
        return ferror(f) ? -EIO : 0;
}

/* ---- JSON ---------------------------------------------------------------- */

static int json_action(const struct action *a, void *ud) {
        struct json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "stage", jstr(stage_to_string(a->stage)));
        json_object_object_add(o, "action", jstr(a->verb));
        json_object_object_add(o, "subject", jstr(a->subject));
        json_object_object_add(o, "text", jstr(a->detail));
        json_object_array_add(ud, o);
        return 0;
}

static struct json_object *volume_json(const struct plan *p, const struct plan_volume *v) {
        struct json_object *o = json_object_new_object(), *m = json_object_new_array(), *u = json_object_new_array();
        char dm[300];

        for (size_t i = 0; i < v->n_matches; i++) {
                struct json_object *e = json_object_new_object();
                json_object_object_add(e, "kind", jstr(match_kind_to_key(v->matches[i].kind)));
                json_object_object_add(e, "value", jstr(v->matches[i].value));
                json_object_array_add(m, e);
        }
        for (size_t i = 0; i < v->n_unlock; i++)
                json_object_array_add(u, jstr(unlock_method_to_string(v->unlock[i])));
        snprintf(dm, sizeof dm, "/dev/mapper/%s", v->name);

        json_object_object_add(o, "name", jstr(v->name));
        json_object_object_add(o, "match", m);
        json_object_object_add(o, "pinned", json_object_new_boolean(v->pinned));
        json_object_object_add(o, "mount", jstr(v->mount));
        json_object_object_add(o, "fstype", jstr(v->fstype));
        json_object_object_add(o, "options", jstr(v->options));
        json_object_object_add(o, "required", json_object_new_boolean(v->required));
        json_object_object_add(o, "timeout_ms", json_object_new_int64(v->timeout_ms));
        json_object_object_add(o, "encrypted", jstr(encryption_to_string(v->encrypted)));
        json_object_object_add(o, "accepts", jstr(accepts(p, v)));
        json_object_object_add(o, "unlock", u);
        json_object_object_add(o, "keyfile", jstr(v->keyfile));
        json_object_object_add(o, "device_mapper", v->encrypted == ENCRYPTION_NO ? NULL : jstr(dm));
        return o;
}

struct json_object *plan_to_json(const struct plan *p) {
        struct json_object *o = json_object_new_object();
        struct json_object *vols = json_object_new_array(), *actions = json_object_new_array();
        struct json_object *tpm = json_object_new_object(), *ov = json_object_new_object();
        struct json_object *binds = json_object_new_object(), *entries = json_object_new_array();
        struct json_object *root = json_object_new_object(), *init = json_object_new_object();
        struct json_object *fail = json_object_new_object();

        if (!o || !vols || !actions || !tpm || !ov || !binds || !entries || !root || !init || !fail)
                goto oom;

        json_object_object_add(o, "version", json_object_new_int(1));
        json_object_object_add(o, "usi_mode", json_object_new_boolean(p->usi_mode));
        json_object_object_add(o, "usi_evidence", jstrv(&p->usi_evidence));
        json_object_object_add(o, "debug", json_object_new_boolean(p->debug));
        struct json_object *kairos = json_object_new_object(), *fsck = json_object_new_object();
        if (!kairos || !fsck) {
                json_object_put(kairos);
                json_object_put(fsck);
                goto oom;
        }
        json_object_object_add(kairos, "mode", jstr(p->kairos.mode));
        json_object_object_add(kairos, "uki", jstr(p->kairos.uki));
        json_object_object_add(kairos, "boot_entry", jstr(p->boot_entry));
        json_object_object_add(kairos, "boot_partuuid", jstr(p->boot_partuuid));
        json_object_object_add(o, "kairos", kairos);
        json_object_object_add(fsck, "mode", jstr(fsck_mode_to_string(p->fsck.mode)));
        json_object_object_add(fsck, "repair", jstr(fsck_repair_to_string(p->fsck.repair)));
        json_object_object_add(o, "fsck", fsck);

        for (size_t i = 0; i < p->n_volumes; i++)
                json_object_array_add(vols, volume_json(p, &p->volumes[i]));
        json_object_object_add(o, "volumes", vols);

        json_object_object_add(tpm, "device", jstr(p->tpm_device));
        json_object_object_add(tpm, "timeout_ms", json_object_new_int64(p->tpm_timeout_ms));
        json_object_object_add(tpm, "signatures", jstrv(&p->signatures));
        json_object_object_add(tpm, "measure_phases", json_object_new_boolean(p->measure_phases));
        json_object_object_add(tpm, "measure_volume_keys", json_object_new_boolean(p->measure_volume_keys));
        json_object_object_add(tpm, "bind_volumes", jstr(bind_volumes_to_string(p->bind_volumes)));
        json_object_object_add(tpm, "reseal", jstr(reseal_to_string(p->reseal)));
        json_object_object_add(o, "tpm", tpm);

        json_object_object_add(ov, "base", jstr(PLAN_OVERLAY_BASE));
        json_object_object_add(ov, "size", jstr(p->overlay_size));
        json_object_object_add(ov, "paths", jstrv(&p->overlay_paths));
        json_object_object_add(o, "overlay", ov);

        json_object_object_add(binds, "state_dir", jstr(p->state_dir));
        json_object_object_add(binds, "seed", jstr(seed_policy_to_string(p->seed)));
        for (size_t i = 0; i < p->n_binds; i++) {
                struct json_object *e = json_object_new_object();
                json_object_object_add(e, "path", jstr(p->binds[i].path));
                json_object_object_add(e, "state", jstr(p->binds[i].state));
                json_object_array_add(entries, e);
        }
        json_object_object_add(binds, "entries", entries);
        json_object_object_add(o, "binds", binds);

        struct json_object *ext = json_object_new_object(), *src = json_object_new_array();
        for (size_t i = 0; i < _EXT_SOURCE_MAX; i++)
                if (p->ext_source[i])
                        json_object_array_add(src, jstr(ext_source_to_string(i)));
        json_object_object_add(ext, "sources", src);
        json_object_object_add(ext, "certificates", jstrv(&p->ext_cert_dirs));
        json_object_object_add(ext, "efi_keys", json_object_new_boolean(p->ext_efi_keys));
        json_object_object_add(o, "extensions", ext);

        json_object_object_add(root, "relocate", json_object_new_boolean(p->root_relocate));
        json_object_object_add(root, "read_only", json_object_new_boolean(p->root_read_only));
        json_object_object_add(o, "root", root);

        json_object_object_add(init, "candidates", jstrv(&p->init));
        json_object_object_add(init, "args", jstrv(&p->init_args));
        json_object_object_add(o, "init", init);

        json_object_object_add(fail, "action", jstr(on_failure_to_string(p->on_failure)));
        json_object_object_add(fail, "shell_allowed", json_object_new_boolean(p->shell_allowed));
        json_object_object_add(fail, "reboot_delay_sec", json_object_new_int64(p->reboot_delay_sec));
        json_object_object_add(o, "on_failure", fail);
        json_object_object_add(o, "break", p->break_stage >= 0 ? jstr(stage_to_string((enum stage) p->break_stage)) : NULL);

        if (plan_actions(p, json_action, actions) < 0) {
                actions = NULL; /* owned by o below? no: free separately */
                goto oom;
        }
        json_object_object_add(o, "actions", actions);
        struct json_object *origins = json_object_new_object();
        for (size_t i = 0; origins && i < p->n_origins; i++)
                json_object_object_add(origins, p->origins[i].key, jstr(p->origins[i].from));
        json_object_object_add(o, "trust_origins", origins);
        struct json_object *luks = json_object_new_object();
        if (luks)
                json_object_object_add(luks, "ciphers", jstrv(&p->luks_ciphers));
        json_object_object_add(o, "luks", luks);
        json_object_object_add(o, "notes", jstrv(&p->notes));
        return o;
oom:
        json_object_put(o);
        return NULL;
}

int plan_print_json(const struct plan *p, FILE *f) {
        struct json_object *o = plan_to_json(p);

        if (!o)
                return -ENOMEM;
        fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return ferror(f) ? -EIO : 0;
}
