/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/resource.h>
#include <json-c/json.h>

#include "root-fs.h"
#include "json-util.h"
#include "log.h"
#include "pcr15.h"
#include "encoding.h"
#include "policy.h"
#include "safe-open.h"
#include "mem-map.h"
#include "state.h"

static const char *const bound_words[] = { [BOUND_UNKNOWN] = NULL, [BOUND_NO] = "no", [BOUND_YES] = "yes" };

/* "yes" when every volume the TPM opened was bound behind the ones before
 * it, "no" when one was not, null when none was judged. */
static const char *volumes_bound(const struct boot *b) {
        bool any = false;

        for (size_t i = 0; i < b->n_volumes; i++) {
                if (b->volumes[i].bound == BOUND_NO)
                        return bound_words[BOUND_NO];
                any = any || b->volumes[i].bound == BOUND_YES;
        }
        return any ? bound_words[BOUND_YES] : NULL;
}

static struct json_object *volume_json(const struct boot_volume *v) {
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "name", jstr(v->name));
        json_object_object_add(o, "found", json_object_new_boolean(v->found));
        if (v->found) {
                json_object_object_add(o, "device", jstr(v->dev.devnode));
                json_object_object_add(o, "found_by", jstr(match_kind_to_key(v->found_by)));
                json_object_object_add(o, "found_ms", json_object_new_uint64(v->found_ms));
                json_object_object_add(o, "content", jstr(content_to_string(v->dev.content)));
                json_object_object_add(o, "type", jstr(v->dev.type));
                json_object_object_add(o, "version", jstr(v->dev.version));
                json_object_object_add(o, "uuid", jstr(v->dev.uuid));
                json_object_object_add(o, "label", jstr(v->dev.label));
                json_object_object_add(o, "partuuid", jstr(v->dev.partuuid));
                json_object_object_add(o, "partlabel", jstr(v->dev.partlabel));
        }
        json_object_object_add(o, "opened", json_object_new_boolean(v->opened));
        if (v->opened) {
                json_object_object_add(o, "mapper", jstr(v->mapper));
                json_object_object_add(o, "unlocked_by", jstr(unlock_method_to_string(v->unlocked_by)));
                json_object_object_add(o, "bound", jstr(bound_words[v->bound]));
                if (v->reseal)
                        json_object_object_add(o, "reseal", jstr(v->reseal));
        }
        json_object_object_add(o, "mount_device", jstr(v->mount_device));
        json_object_object_add(o, "fstype", jstr(v->mount_fstype));
        json_object_object_add(o, "mounted", json_object_new_boolean(v->mounted));
        /* Its timeline, in the stages' clock (ms since the kernel started). */
        static const char *const at[] = { "found_at_ms", "unsealed_at_ms", "opened_at_ms", "mounted_at_ms" };
        const uint64_t when[] = { v->found_at_ms, v->unsealed_at_ms, v->opened_at_ms, v->mounted_at_ms };
        for (size_t i = 0; i < ELEMENTSOF(at); i++)
                if (when[i])
                        json_object_object_add(o, at[i], json_object_new_uint64(when[i]));
        return o;
}

/* The PCR 15 extends: what went to the TPM, never the key it came from. */
static struct json_object *pcr15_json(const struct boot *b) {
        struct json_object *a = json_object_new_array();

        for (size_t i = 0; i < b->n_pcr15; i++) {
                const struct pcr15_record *r = &b->pcr15[i];
                struct json_object *e = json_object_new_object();
                char hex[2 * sizeof(r->digest) + 1];

                json_object_object_add(e, "pcr", json_object_new_int(PCR15_PCR));
                json_object_object_add(e, "bank", jstr(tpm2_hash_to_string(r->bank)));
                json_object_object_add(e, "description", jstr(r->description));
                json_object_object_add(e, "digest", jstr(hex_string(r->digest, r->size, hex)));
                json_object_array_add(a, e);
        }
        return a;
}

static struct json_object *mount_json(const struct boot_mount *m) {
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "stage", jstr(stage_to_string(m->stage)));
        json_object_object_add(o, "source", jstr(m->source));
        json_object_object_add(o, "target", jstr(m->target));
        json_object_object_add(o, "fstype", jstr(m->fstype));
        json_object_object_add(o, "options", jstr(m->options));
        json_object_object_add(o, "existed", json_object_new_boolean(m->existed));
        return o;
}

/* The extensions stage: what reached /run/extensions and /run/confexts,
 * what was dropped and why, the trust anchor's origins, the stage's time. */
static struct json_object *extensions_json(const struct boot *b) {
        struct json_object *o = json_object_new_object(), *acc = json_object_new_array(), *rej = json_object_new_array();

        json_object_object_add(o, "ms", json_object_new_uint64(b->stages[STAGE_EXTENSIONS].ms));
        json_object_object_add(o, "kairos_mode_dir", jstr(b->ext_mode_dir));
        json_object_object_add(o, "anchor", jstrv(&b->ext_anchor));
        for (size_t i = 0; i < b->n_extensions; i++) {
                const struct boot_extension *x = &b->extensions[i];
                struct json_object *e = json_object_new_object();
                if (x->name)
                        json_object_object_add(e, "name", jstr(x->name));
                json_object_object_add(e, "path", jstr(x->path));
                json_object_object_add(e, "source", jstr(ext_source_to_string(x->source)));
                json_object_object_add(e, "kind", jstr(x->confext ? "confext" : "sysext"));
                if (!x->name)
                        json_object_object_add(e, "reason", jstr(x->reason));
                json_object_array_add(x->name ? acc : rej, e);
        }
        json_object_object_add(o, "accepted", acc);
        json_object_object_add(o, "rejected", rej);
        return o;
}

/* Signed phase windows (src/tpm/window.c): PCR 11 before the first phase word,
 * and whether the keys are still unsealable after hand-off. */
static void handoff_json(struct json_object *o, const struct boot *b) {
        char hex[65];

        if (b->window.base_known)
                json_object_object_add(o, "pcr11_base", jstr(hex_string(b->window.pcr11_base, 32, hex)));
        if (b->window.checked) {
                struct json_object *h = json_object_new_object();
                json_object_object_add(h, "keys_unsealable", json_object_new_boolean(b->window.unsealable));
                json_object_object_add(h, "signature", jstr(b->window.signature[0] ? b->window.signature : NULL));
                json_object_object_add(h, "reason", jstr(b->window.reason));
                json_object_object_add(o, "handoff_window", h);
        }
}

struct json_object *state_to_json(const struct plan *p, const struct boot *b) {
        struct json_object *o = json_object_new_object(), *a;

        if (!o)
                return NULL;
        json_object_object_add(o, "version", json_object_new_int(STATE_VERSION));
        json_object_object_add(o, "outcome", jstr(b->failed ? "failed" : "success"));
        if (b->failed) {
                json_object_object_add(o, "failed_stage",
                                       jstr(b->failed_stage >= 0 ? stage_to_string((enum stage) b->failed_stage) : "configuration"));
                json_object_object_add(o, "failure", jstr(b->failure));
                /* A trust-chain refusal: halted, never a shell. */
                json_object_object_add(o, "refused", json_object_new_boolean(b->refused));
        }
        json_object_object_add(o, "root", jstr(b->root[0] ? b->root : "/"));
        json_object_object_add(o, "started_at_us", json_object_new_uint64(b->start_realtime_usec));
        json_object_object_add(o, "elapsed_ms", json_object_new_uint64(boot_elapsed_ms(b)));
        json_object_object_add(o, "oem_config", json_object_new_boolean(b->oem_config));
        json_object_object_add(o, "volumes_bound", jstr(volumes_bound(b)));

        a = json_object_new_array();
        for (enum stage s = 0; s < _STAGE_MAX; s++) {
                struct json_object *e;
                if (!b->stages[s].ran)
                        continue;
                e = json_object_new_object();
                json_object_object_add(e, "name", jstr(stage_to_string(s)));
                json_object_object_add(e, "ms", json_object_new_uint64(b->stages[s].ms));
                json_object_object_add(e, "start_ms", json_object_new_uint64(b->stages[s].start_ms));
                json_object_object_add(e, "end_ms", json_object_new_uint64(b->stages[s].end_ms));
                json_object_object_add(e, "result", jstr(b->stages[s].result < 0 ? strerror(-b->stages[s].result) : "ok"));
                json_object_array_add(a, e);
        }
        json_object_object_add(o, "stages", a);

        a = json_object_new_array();
        for (size_t i = 0; i < b->n_volumes; i++)
                json_object_array_add(a, volume_json(&b->volumes[i]));
        json_object_object_add(o, "volumes", a);

        a = json_object_new_array();
        for (size_t i = 0; i < b->n_mounts; i++)
                json_object_array_add(a, mount_json(&b->mounts[i]));
        json_object_object_add(o, "mounts", a);

        struct json_object *m = json_object_new_object();
        json_object_object_add(m, "loaded", jstrv(&b->modules_loaded));
        json_object_object_add(m, "missing", jstrv(&b->modules_missing));
        json_object_object_add(o, "modules", m);
        json_object_object_add(o, "warnings", jstrv(&b->warnings));
        if (b->stages[STAGE_EXTENSIONS].ran)
                json_object_object_add(o, "extensions", extensions_json(b));
        json_object_object_add(o, "volume_key_measurements", pcr15_json(b));

        /* The TPM work of the unlock connection: what costs time on a discrete TPM. */
        if (b->tpm_used) {
                struct json_object *t = json_object_new_object();
                json_object_object_add(t, "commands", json_object_new_uint64(b->tpm_stats.commands));
                json_object_object_add(t, "primaries_created", json_object_new_uint64(b->tpm_stats.primaries_created));
                json_object_object_add(t, "persistent_parent_used", json_object_new_uint64(b->tpm_stats.srk_used));
                json_object_object_add(t, "salted_sessions", json_object_new_uint64(b->tpm_stats.salted_sessions));
                json_object_object_add(t, "signatures_verified", json_object_new_uint64(b->tpm_stats.signatures_verified));
                json_object_object_add(t, "tickets_reused", json_object_new_uint64(b->tpm_stats.tickets_reused));
                json_object_object_add(t, "unsealed", json_object_new_uint64(b->tpm_stats.unsealed));
                json_object_object_add(o, "tpm", t);
        }
        handoff_json(o, b);
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
                json_object_object_add(o, "peak_rss_kb", json_object_new_uint64((uint64_t) ru.ru_maxrss));
        /* What holds the memory now, by mapping: the boot explains its own
         * figure (docs/BENCHMARKS.md). */
        struct mem_mapping top[8];
        uint64_t total;
        if (mem_largest(top, ELEMENTSOF(top), &total) >= 0) {
                struct json_object *mem = json_object_new_object(), *big = json_object_new_array();
                json_object_object_add(mem, "rss_kb", json_object_new_uint64(total));
                for (size_t i = 0; i < ELEMENTSOF(top) && top[i].rss_kb; i++) {
                        struct json_object *e = json_object_new_object();
                        json_object_object_add(e, "mapping", jstr(top[i].name));
                        json_object_object_add(e, "rss_kb", json_object_new_uint64(top[i].rss_kb));
                        json_object_array_add(big, e);
                }
                json_object_object_add(mem, "largest", big);
                json_object_object_add(o, "memory", mem);
        }
        if (p)
                json_object_object_add(o, "plan", plan_to_json(p));
        return o;
}

static int write_at(int dfd, const char *name, const char *text) {
        char tmp[256];
        size_t len = strlen(text);

        snprintf(tmp, sizeof tmp, ".%s.%d.tmp", name, (int) getpid());
        _cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        while (len > 0) {
                ssize_t n = write(fd, text, len);
                if (n < 0) {
                        int e = errno;
                        unlinkat(dfd, tmp, 0);
                        return -e;
                }
                text += n;
                len -= (size_t) n;
        }
        if (renameat(dfd, tmp, dfd, name) < 0) {
                int e = errno;
                unlinkat(dfd, tmp, 0);
                return -e;
        }
        return 0;
}

int state_write(const struct plan *p, const struct boot *b, const char *path) {
        struct json_object *o = state_to_json(p, b);
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *why = NULL;
        const char *name;
        int r;

        if (!o)
                return log_error_errno(ENOMEM, "state: out of memory");
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (path) {
                _cleanup_free_ char *dir = strdup(path);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                if (!dir)
                        r = -ENOMEM;
                else {
                        if (slash)
                                *slash = '\0';
                        name = slash ? strrchr(path, '/') + 1 : path;
                        dfd = open(slash ? (*dir ? dir : "/") : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        r = dfd < 0 ? -errno : write_at(dfd, name, text);
                }
                if (r < 0)
                        log_error_errno(r, "state: cannot write %s: %s", path, strerror(-r));
        } else {
                r = root_mkdir_p(b->root_fd, "/run/usi-init", RESOLVE_TARGET, NULL, &dfd, NULL, &why);
                if (r < 0)
                        log_error_errno(r, "state: cannot write %s%s: %s", b->root, STATE_FILE, why);
                else if ((r = write_at(dfd, "state.json", text)) < 0)
                        log_error_errno(r, "state: cannot write %s%s: %s", b->root, STATE_FILE, strerror(-r));
        }
        json_object_put(o);
        return r;
}
