/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <yaml.h>

#include "config.h"
#include "why.h"
#include "safe-open.h"
#include "root-fs.h"

#define BUILTIN_NAME "(built-in defaults)"
/* Config files are small; anything larger is a mistake or an attack. */
#define CONFIG_MAX_BYTES (1024 * 1024)

static const char *const match_keys[_MATCH_MAX] = {
        [MATCH_UUID] = "uuid",
        [MATCH_PARTUUID] = "partuuid",
        [MATCH_LUKS_LABEL] = "luks_label",
        [MATCH_FS_LABEL] = "fs_label",
        [MATCH_PARTLABEL] = "partlabel",
};
static const char *const match_words[_MATCH_MAX] = {
        [MATCH_UUID] = "UUID",
        [MATCH_PARTUUID] = "PARTUUID",
        [MATCH_LUKS_LABEL] = "LUKS label",
        [MATCH_FS_LABEL] = "filesystem label",
        [MATCH_PARTLABEL] = "GPT partition name",
};
static const char *const unlock_names[_UNLOCK_MAX] = {
        [UNLOCK_TPM2] = "tpm2",
        [UNLOCK_RECOVERY_KEY] = "recovery-key",
        [UNLOCK_PASSPHRASE] = "passphrase",
        [UNLOCK_KEYFILE] = "keyfile",
};
static const char *const seed_names[] = {
        [SEED_MISSING] = "missing",
        [SEED_NEWER] = "newer",
};
static const char *const bind_names[] = {
        [BIND_WARN] = "warn",
        [BIND_REQUIRE] = "require",
};
static const char *const reseal_names[] = {
        [RESEAL_OFF] = "off",
        [RESEAL_AUTO] = "auto",
};
static const char *const encryption_names[] = {
        [ENCRYPTION_AUTO] = "auto",
        [ENCRYPTION_YES] = "yes",
        [ENCRYPTION_NO] = "no",
};

static const char *const ext_source_names[_EXT_SOURCE_MAX] = {
        [EXT_SOURCE_STUB] = "stub",
        [EXT_SOURCE_KAIROS] = "kairos",
};

const char *ext_source_to_string(enum ext_source s) { return s < _EXT_SOURCE_MAX ? ext_source_names[s] : NULL; }
const char *match_kind_to_key(enum match_kind k) { return k < _MATCH_MAX ? match_keys[k] : NULL; }
const char *match_kind_to_string(enum match_kind k) { return k < _MATCH_MAX ? match_words[k] : NULL; }
const char *unlock_method_to_string(enum unlock_method m) { return m < _UNLOCK_MAX ? unlock_names[m] : NULL; }
const char *seed_policy_to_string(enum seed_policy s) {
        return s > SEED_UNSET && (size_t) s < ELEMENTSOF(seed_names) ? seed_names[s] : NULL;
}
const char *reseal_to_string(enum reseal r) {
        return r > RESEAL_UNSET && (size_t) r < ELEMENTSOF(reseal_names) ? reseal_names[r] : NULL;
}

const char *bind_volumes_to_string(enum bind_volumes b) {
        return b > BIND_UNSET && (size_t) b < ELEMENTSOF(bind_names) ? bind_names[b] : NULL;
}
const char *encryption_to_string(enum encryption e) {
        return e > ENCRYPTION_UNSET && (size_t) e < ELEMENTSOF(encryption_names) ? encryption_names[e] : NULL;
}

/* ---- paths --------------------------------------------------------------- */

bool path_startswith(const char *path, const char *prefix) {
        size_t n = strlen(prefix);

        if (streq(prefix, "/"))
                return path[0] == '/';
        return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int path_normalize(const char *in, enum path_kind kind, char **ret, const char **why) {
        static const char *const api[] = { "/proc", "/sys", "/dev" };
        _cleanup_free_ char *out = NULL;
        size_t o = 0;

        if (!in || in[0] != '/') {
                *why = "relative path; expected an absolute path starting with /";
                return -EINVAL;
        }
        if (strlen(in) >= PATH_MAX) {
                *why = "path too long";
                return -EINVAL;
        }
        for (const char *p = in; *p; p++)
                if (iscntrl((unsigned char) *p) || (kind == PATH_MOUNTPOINT && isspace((unsigned char) *p))) {
                        *why = kind == PATH_MOUNTPOINT ?
                                "path contains white space or control characters; expected a plain absolute path" :
                                "path contains control characters; expected a plain absolute path";
                        return -EINVAL;
                }

        out = malloc(strlen(in) + 1);
        if (!out)
                return -ENOMEM;
        for (const char *p = in; *p;) {
                size_t len;

                while (*p == '/')
                        p++;
                len = strcspn(p, "/");
                if (len == 0)
                        break;
                if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
                        *why = "path has a '.' or '..' component; expected a path without them";
                        return -EINVAL;
                }
                out[o++] = '/';
                memcpy(out + o, p, len);
                o += len;
                p += len;
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = '\0';

        if (kind == PATH_MOUNTPOINT) {
                if (streq(out, "/")) {
                        *why = "the root directory cannot be mounted over; expected a directory below /";
                        return -EINVAL;
                }
                for (size_t i = 0; i < ELEMENTSOF(api); i++)
                        if (path_startswith(out, api[i])) {
                                *why = "path is under /proc, /sys or /dev, which belong to the kernel; expected another directory";
                                return -EINVAL;
                        }
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* ---- errors -------------------------------------------------------------- */

int config_error(strv *errors, const struct mark *m, const char *fmt, ...) {
        char msg[1024], raw[1400], line[1400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (m && m->file && m->line > 0)
                snprintf(raw, sizeof raw, "%s:%u:%u: %s", m->file, m->line, m->column, msg);
        else if (m && m->file)
                snprintf(raw, sizeof raw, "%s: %s", m->file, msg);
        else
                snprintf(raw, sizeof raw, "%s", msg);
        /* A key or value of the file is in msg: one line whatever it holds. */
        str_escape(raw, line, sizeof line);
        if (strv_push(errors, line) < 0)
                return -ENOMEM;
        return -EINVAL;
}

/* ---- the walker ---------------------------------------------------------- */

struct ctx {
        struct config *c;
        yaml_document_t *doc;
        const char *file;       /* interned in c->files */
        strv *errors;
        int failed;             /* errors appended by this file */
        struct config_volume *volume;  /* the volume being filled */
        char key[128];          /* path of the mapping being walked: "tpm", "volumes.match" */
};

typedef int (*field_fn)(struct ctx *x, yaml_node_t *n, void *target);

struct field {
        const char *key;
        field_fn fn;
        size_t offset;
};

static struct mark mark_of(const struct ctx *x, const yaml_node_t *n) {
        return (struct mark) { x->file, (unsigned) n->start_mark.line + 1, (unsigned) n->start_mark.column + 1 };
}

_printf_(3, 4) static int fail(struct ctx *x, const yaml_node_t *n, const char *fmt, ...) {
        char msg[1024];
        struct mark m = mark_of(x, n);
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        x->failed++;
        return config_error(x->errors, &m, "%s", msg);
}

static const char *type_word(const yaml_node_t *n) {
        switch (n->type) {
        case YAML_SCALAR_NODE: return "a scalar";
        case YAML_SEQUENCE_NODE: return "a list";
        case YAML_MAPPING_NODE: return "a mapping";
        default: return "nothing";
        }
}

static const char *scalar(const yaml_node_t *n) {
        return n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

static bool is_null(const yaml_node_t *n) {
        const char *s = scalar(n);

        if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                return false;
        return !*s || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL");
}

/* A scalar string, non-empty, no NUL bytes inside. */
static int want_string(struct ctx *x, yaml_node_t *n, const char *expect, const char **ret) {
        const char *s = scalar(n);

        if (!s || is_null(n))
                return fail(x, n, "found %s; expected %s", is_null(n) ? "an empty value" : type_word(n), expect);
        if (strlen(s) != n->data.scalar.length)
                return fail(x, n, "value contains a NUL byte; expected %s", expect);
        *ret = s;
        return 0;
}

static int lookup_word(struct ctx *x, yaml_node_t *n, const char *const *names, size_t count,
                       const char *what, int *ret) {
        const char *s;
        char expect[256] = "";
        int r = want_string(x, n, what, &s);

        if (r < 0)
                return r;
        for (size_t i = 0; i < count; i++)
                if (names[i] && streq(s, names[i])) {
                        *ret = (int) i;
                        return 0;
                }
        for (size_t i = 0; i < count; i++)
                if (names[i]) {
                        if (*expect)
                                strncat(expect, ", ", sizeof expect - strlen(expect) - 1);
                        strncat(expect, names[i], sizeof expect - strlen(expect) - 1);
                }
        return fail(x, n, "unknown %s '%s'; expected one of: %s", what, s, expect);
}

static int f_string(struct ctx *x, yaml_node_t *n, void *target) {
        const char *s;
        int r = want_string(x, n, "a string", &s);

        return r < 0 ? r : free_and_strdup(target, s);
}

static int parse_path(struct ctx *x, yaml_node_t *n, enum path_kind kind, struct cpath *out) {
        const char *s, *why = NULL;
        char *norm = NULL;
        int r = want_string(x, n, "an absolute path", &s);

        if (r < 0)
                return r;
        r = path_normalize(s, kind, &norm, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(x, n, "'%s': %s", s, why);
        free(out->path);
        out->path = norm;
        out->mark = mark_of(x, n);
        return 0;
}

static int f_mountpoint(struct ctx *x, yaml_node_t *n, void *target) {
        return parse_path(x, n, PATH_MOUNTPOINT, target);
}

static int f_file(struct ctx *x, yaml_node_t *n, void *target) {
        return parse_path(x, n, PATH_FILE, target);
}

static int f_bool(struct ctx *x, yaml_node_t *n, void *target) {
        static const char *const words[] = { "false", "true", "no", "yes", "off", "on",
                                             "False", "True", "No", "Yes", "Off", "On",
                                             "FALSE", "TRUE", "NO", "YES", "OFF", "ON" };
        const char *s = scalar(n);

        if (s && !is_null(n))
                for (size_t i = 0; i < ELEMENTSOF(words); i++)
                        if (streq(s, words[i])) {
                                *(int *) target = (int) (i % 2);
                                return 0;
                        }
        return fail(x, n, "found %s%s%s; expected a boolean (true or false)",
                    s ? "'" : type_word(n), s ? s : "", s ? "'" : "");
}

static int f_seconds(struct ctx *x, yaml_node_t *n, void *target) {
        const char *s = scalar(n);
        unsigned u;

        if (!s || is_null(n) || safe_atou(s, &u) < 0 || u > 3600)
                return fail(x, n, "found %s%s%s; expected a number of seconds from 0 to 3600",
                            s ? "'" : type_word(n), s ? s : "", s ? "'" : "");
        *(int *) target = (int) u;
        return 0;
}

static int f_on_failure(struct ctx *x, yaml_node_t *n, void *target) {
        static const char *const names[] = { NULL, "halt", "reboot", "shell" };
        int v, r = lookup_word(x, n, names, ELEMENTSOF(names), "on_failure action", &v);

        if (r == 0)
                *(enum on_failure *) target = (enum on_failure) v;
        return r;
}

static int f_bind_volumes(struct ctx *x, yaml_node_t *n, void *target) {
        int v, r = lookup_word(x, n, bind_names, ELEMENTSOF(bind_names), "volume binding policy", &v);

        if (r == 0)
                *(enum bind_volumes *) target = (enum bind_volumes) v;
        return r;
}

static int f_reseal(struct ctx *x, yaml_node_t *n, void *target) {
        int v, r = lookup_word(x, n, reseal_names, ELEMENTSOF(reseal_names), "reseal policy", &v);

        if (r == 0)
                *(enum reseal *) target = (enum reseal) v;
        return r;
}

static int f_seed(struct ctx *x, yaml_node_t *n, void *target) {
        int v, r = lookup_word(x, n, seed_names, ELEMENTSOF(seed_names), "seed policy", &v);

        if (r == 0)
                *(enum seed_policy *) target = (enum seed_policy) v;
        return r;
}

static int f_encrypted(struct ctx *x, yaml_node_t *n, void *target) {
        const char *s = scalar(n);
        int b = -1;

        if (s && streq(s, "auto")) {
                *(enum encryption *) target = ENCRYPTION_AUTO;
                return 0;
        }
        if (s && !is_null(n)) {
                /* reuse the boolean words, quietly */
                static const char *const yes[] = { "true", "yes", "on", "True", "Yes", "On" };
                static const char *const no[] = { "false", "no", "off", "False", "No", "Off" };
                for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                        if (streq(s, yes[i]))
                                b = 1;
                        if (streq(s, no[i]))
                                b = 0;
                }
        }
        if (b < 0)
                return fail(x, n, "found %s%s%s; expected true, false or auto",
                            s ? "'" : type_word(n), s ? s : "", s ? "'" : "");
        *(enum encryption *) target = b ? ENCRYPTION_YES : ENCRYPTION_NO;
        return 0;
}

bool tmpfs_size_valid(const char *s) {
        char *p;
        unsigned long v;

        if (!s || !isdigit((unsigned char) *s))
                return false;
        errno = 0;
        v = strtoul(s, &p, 10);
        if (errno != 0 || v == 0)
                return false;
        if (*p == '%')
                return p[1] == '\0' && v <= 100;
        return *p == '\0' || (strchr("kKmMgG", *p) && p[1] == '\0');
}

static int f_size(struct ctx *x, yaml_node_t *n, void *target) {
        const char *s = scalar(n);

        if (!s || is_null(n) || !tmpfs_size_valid(s))
                return fail(x, n, "found %s%s%s; expected a tmpfs size such as 25%% or 512M",
                            s ? "'" : type_word(n), s ? s : "", s ? "'" : "");
        return free_and_strdup(target, s);
}

static int want_sequence(struct ctx *x, yaml_node_t *n, const char *expect) {
        if (n->type != YAML_SEQUENCE_NODE)
                return fail(x, n, "found %s; expected %s", is_null(n) ? "an empty value" : type_word(n), expect);
        return 0;
}

#define FOREACH_ITEM(x, n, item)                                                       \
        for (yaml_node_item_t *_i = (n)->data.sequence.items.start; _i < (n)->data.sequence.items.top; _i++) \
                for (yaml_node_t *item = yaml_document_get_node((x)->doc, *_i); item; item = NULL)

static void cpath_list_clear(struct cpath_list *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i].path);
        free(l->v);
        *l = (struct cpath_list) {};
}

static int cpath_list_push(struct cpath_list *l, char *path, struct mark m) {
        struct cpath *nv = realloc(l->v, (l->n + 1) * sizeof *nv);

        if (!nv) {
                free(path);
                return -ENOMEM;
        }
        l->v = nv;
        l->v[l->n++] = (struct cpath) { path, m };
        return 0;
}

/* A list of paths: replaces (replace=true) or extends the target. */
static int parse_path_list(struct ctx *x, yaml_node_t *n, enum path_kind kind, struct cpath_list *l, bool replace) {
        struct cpath_list nl = {};
        int r = want_sequence(x, n, "a list of absolute paths");

        if (r < 0)
                return r;
        FOREACH_ITEM(x, n, item) {
                struct cpath p = {};
                r = parse_path(x, item, kind, &p);
                if (r == -ENOMEM) {
                        cpath_list_clear(&nl);
                        return r;
                }
                if (r < 0)
                        continue;
                r = cpath_list_push(&nl, p.path, p.mark);
                if (r < 0) {
                        cpath_list_clear(&nl);
                        return r;
                }
        }
        if (replace) {
                cpath_list_clear(l);
                *l = nl;
        } else {
                for (size_t i = 0; i < nl.n; i++) {
                        r = cpath_list_push(l, TAKE_PTR(nl.v[i].path), nl.v[i].mark);
                        if (r < 0) {
                                cpath_list_clear(&nl);
                                return r;
                        }
                }
                cpath_list_clear(&nl);
        }
        l->set = true;
        return 0;
}

static int f_mountpoint_list(struct ctx *x, yaml_node_t *n, void *target) {
        return parse_path_list(x, n, PATH_MOUNTPOINT, target, true);
}

static int f_file_list(struct ctx *x, yaml_node_t *n, void *target) {
        return parse_path_list(x, n, PATH_FILE, target, true);
}

static int f_unlock(struct ctx *x, yaml_node_t *n, void *target) {
        struct config_volume *v = x->volume;
        enum unlock_method m[_UNLOCK_MAX];
        size_t count = 0;
        int r = want_sequence(x, n, "a list of unlock methods (tpm2, recovery-key, passphrase, keyfile)");

        if (r < 0)
                return r;
        FOREACH_ITEM(x, n, item) {
                int w;
                bool dup = false;

                if (lookup_word(x, item, unlock_names, _UNLOCK_MAX, "unlock method", &w) < 0)
                        continue;
                for (size_t i = 0; i < count; i++)
                        dup = dup || m[i] == (enum unlock_method) w;
                if (dup) {
                        fail(x, item, "unlock method '%s' is listed twice; expected each method at most once",
                             unlock_names[w]);
                        continue;
                }
                m[count++] = (enum unlock_method) w;
        }
        if (count == 0 && x->failed == 0)
                return fail(x, n, "empty list; expected at least one unlock method");
        memcpy(v->unlock, m, sizeof m);
        v->n_unlock = count;
        v->unlock_mark = mark_of(x, n);
        (void) target;
        return 0;
}

static int parse_map(struct ctx *x, yaml_node_t *n, const struct field *fields, size_t nfields,
                     void *base, const char *what);

static const struct field match_fields[] = {
        { "uuid",       f_string, offsetof(struct config_volume, match[MATCH_UUID]) },
        { "partuuid",   f_string, offsetof(struct config_volume, match[MATCH_PARTUUID]) },
        { "luks_label", f_string, offsetof(struct config_volume, match[MATCH_LUKS_LABEL]) },
        { "fs_label",   f_string, offsetof(struct config_volume, match[MATCH_FS_LABEL]) },
        { "partlabel",  f_string, offsetof(struct config_volume, match[MATCH_PARTLABEL]) },
};

static int f_match(struct ctx *x, yaml_node_t *n, void *target) {
        struct config_volume *v = x->volume;
        struct config_volume tmp = {};
        int before = x->failed, r;

        /* A match block is one unit: a later file's block replaces the whole set. */
        r = parse_map(x, n, match_fields, ELEMENTSOF(match_fields), &tmp, "match");
        if (r == -ENOMEM || x->failed > before) {
                for (size_t k = 0; k < _MATCH_MAX; k++)
                        free(tmp.match[k]);
                return r < 0 ? r : -EINVAL;
        }
        if (n->type == YAML_MAPPING_NODE && n->data.mapping.pairs.top == n->data.mapping.pairs.start)
                return fail(x, n, "empty match; expected at least one of uuid, partuuid, luks_label, fs_label, partlabel");
        for (size_t k = 0; k < _MATCH_MAX; k++) {
                free(v->match[k]);
                v->match[k] = tmp.match[k];
                v->match_mark[k] = mark_of(x, n);
        }
        (void) target;
        return 0;
}

static const struct field volume_fields[] = {
        { "name",      NULL,         0 },  /* handled by f_volumes */
        { "enabled",   f_bool,       offsetof(struct config_volume, enabled) },
        { "match",     f_match,      0 },
        { "mount",     f_mountpoint, offsetof(struct config_volume, mount) },
        { "fstype",    f_string,     offsetof(struct config_volume, fstype) },
        { "options",   f_string,     offsetof(struct config_volume, options) },
        { "required",  f_bool,       offsetof(struct config_volume, required) },
        { "timeout",   f_seconds,    offsetof(struct config_volume, timeout_sec) },
        { "encrypted", f_encrypted,  offsetof(struct config_volume, encrypted) },
        { "unlock",    f_unlock,     0 },
        { "keyfile",   f_file,       offsetof(struct config_volume, keyfile) },
};

static bool valid_volume_name(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr("_.-", *s))
                        return false;
        return true;
}

static yaml_node_t *map_get(struct ctx *x, yaml_node_t *n, const char *key) {
        if (n->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
                const char *s = k ? scalar(k) : NULL;
                if (s && streq(s, key))
                        return yaml_document_get_node(x->doc, p->value);
        }
        return NULL;
}

static struct config_volume *volume_get(struct config *c, const char *name) {
        for (size_t i = 0; i < c->n_volumes; i++)
                if (streq(c->volumes[i].name, name))
                        return &c->volumes[i];
        return NULL;
}

static struct config_volume *volume_add(struct config *c, const char *name) {
        struct config_volume *nv = realloc(c->volumes, (c->n_volumes + 1) * sizeof *nv);

        if (!nv)
                return NULL;
        c->volumes = nv;
        nv = &c->volumes[c->n_volumes];
        *nv = (struct config_volume) {
                .required = TRI_UNSET,
                .timeout_sec = -1,
                .enabled = TRI_UNSET,
                .layer = c->layer,
        };
        nv->name = strdup(name);
        if (!nv->name)
                return NULL;
        c->n_volumes++;
        return nv;
}

static void config_volume_done(struct config_volume *v) {
        free(v->name);
        for (size_t k = 0; k < _MATCH_MAX; k++)
                free(v->match[k]);
        free(v->mount.path);
        free(v->fstype);
        free(v->options);
        free(v->keyfile.path);
}

/* ---- what a volume from /oem may be (trust-chain rule 5) ------------------- */

/* Places a volume from /oem may not cover, be, or sit inside: the image's
 * own tree, the OEM volume itself and the persistent volume, and where
 * usi-init keeps its run state. */
static const char *const image_places[] = { "/etc", "/usr", "/oem", "/usr/local", "/run" };

static bool overlaps(const char *a, const char *b) {
        return path_startswith(a, b) || path_startswith(b, a);
}

static int oem_volume_refusal(const struct config *c, const struct config_volume *v, char **why) {
        const char *m = v->mount.path;

        /* A key file on /oem is a key the attacker holds; a plain volume is
         * data the attacker wrote. */
        if (v->encrypted == ENCRYPTION_NO)
                return why_set(why, EPERM, "a volume added on /oem must be encrypted, not 'encrypted: no'");
        if (v->keyfile.path)
                return why_set(why, EPERM, "a volume added on /oem cannot name a key file: "
                                "the key would come from a disk anyone can write");
        for (size_t i = 0; i < v->n_unlock; i++)
                if (v->unlock[i] == UNLOCK_KEYFILE)
                        return why_set(why, EPERM, "a volume added on /oem cannot be unlocked by a key file: "
                                        "the key would come from a disk anyone can write");
        /* The image's volumes are found and opened only as the image says:
         * a second entry for the same device could open it another way. */
        for (size_t i = 0; i < c->n_volumes; i++) {
                const struct config_volume *o = &c->volumes[i];
                if (o == v || o->layer == CONFIG_LAYER_OEM)
                        continue;
                for (size_t a = 0; a < _MATCH_MAX; a++)
                        for (size_t b = 0; b < _MATCH_MAX; b++)
                                if (v->match[a] && o->match[b] && streq(v->match[a], o->match[b]))
                                        return why_set(why, EPERM, "its %s %s is how the image's volume %s is found",
                                                        match_kind_to_string(a), v->match[a], o->name);
        }
        if (!m)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(image_places); i++)
                if (overlaps(m, image_places[i]))
                        return why_set(why, EPERM, "mount point %s is at, above or below %s, which only the image places",
                                        m, image_places[i]);
        for (size_t i = 0; i < c->n_volumes; i++) {
                const struct config_volume *o = &c->volumes[i];
                if (o != v && o->layer != CONFIG_LAYER_OEM && o->mount.path && overlaps(m, o->mount.path))
                        return why_set(why, EPERM, "mount point %s is at, above or below %s, the mount point of "
                                        "the image's volume %s", m, o->mount.path, o->name);
        }
        if (c->state_dir.path && overlaps(m, c->state_dir.path))
                return why_set(why, EPERM, "mount point %s is at, above or below the state directory %s", m,
                                c->state_dir.path);
        return 0;
}

/* A volume /oem added is dropped, by name, when it breaks a rule above;
 * the rest of the boot goes on without it. */
static int oem_volume_check(struct ctx *x, struct config_volume *v) {
        _cleanup_free_ char *why = NULL;

        if (v->layer != CONFIG_LAYER_OEM || oem_volume_refusal(x->c, v, &why) == 0)
                return 0;
        if (config_error(&x->c->ignored, &v->mark, "volume %s ignored: %s", v->name, why) == -ENOMEM)
                return -ENOMEM;
        config_volume_done(v);
        *v = x->c->volumes[--x->c->n_volumes];
        return 0;
}

static int f_volumes(struct ctx *x, yaml_node_t *n, void *target) {
        int r = want_sequence(x, n, "a list of volumes");

        if (r < 0)
                return r;
        FOREACH_ITEM(x, n, item) {
                yaml_node_t *name_node;
                const char *name;
                struct config_volume *v;

                if (item->type != YAML_MAPPING_NODE) {
                        fail(x, item, "found %s; expected a volume (a mapping with name, match, mount, ...)",
                             type_word(item));
                        continue;
                }
                name_node = map_get(x, item, "name");
                if (!name_node) {
                        fail(x, item, "volume without a name; expected 'name: IDENTIFIER'");
                        continue;
                }
                if (want_string(x, name_node, "a volume name", &name) < 0)
                        continue;
                if (!valid_volume_name(name)) {
                        fail(x, name_node, "volume name '%s' is not valid; expected 1-64 letters, digits, '_', '.' or '-'", name);
                        continue;
                }
                v = volume_get(x->c, name);
                if (!v) {
                        v = volume_add(x->c, name);
                        if (!v)
                                return -ENOMEM;
                        v->mark = mark_of(x, item);
                }
                x->volume = v;
                r = parse_map(x, item, volume_fields, ELEMENTSOF(volume_fields), v, "volume");
                x->volume = NULL;
                if (r == -ENOMEM)
                        return r;
                if ((r = oem_volume_check(x, v)) < 0)
                        return r;
        }
        (void) target;
        return 0;
}

/* ---- provenance: what the layer being read may set (src/plan/provenance.c) ---- */

/* A key's name as a person reads it: a volume's keys carry its name. */
static void display_key(const struct ctx *x, const char *path, char *buf, size_t size) {
        if (x->volume && strncmp(path, "volumes.", 8) == 0)
                snprintf(buf, size, "volumes.%s.%s", x->volume->name, path + 8);
        else
                snprintf(buf, size, "%s", path);
}

/* Name every key under an ignored one, so each is reported where it is; no
 * deeper than any key of the tables, so a planted file cannot nest its way
 * into a deep recursion. */
#define IGNORED_DEPTH 4
static void report_ignored(struct ctx *x, const yaml_node_t *at, yaml_node_t *v, const char *name, unsigned depth) {
        if (depth < IGNORED_DEPTH && v && v->type == YAML_MAPPING_NODE &&
            v->data.mapping.pairs.top > v->data.mapping.pairs.start) {
                for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
                        char sub[256];

                        if (!k || !scalar(k))
                                continue;
                        snprintf(sub, sizeof sub, "%s.%s", name, scalar(k));
                        report_ignored(x, k, yaml_document_get_node(x->doc, p->value), sub, depth + 1);
                }
                return;
        }
        struct mark m = mark_of(x, at);
        (void) config_error(&x->c->ignored, &m, "%s " IGNORED_ONLY_IMAGE, name);
}

static int origin_set(struct config *c, const char *key, struct mark m) {
        struct config_origin *o;

        for (size_t i = 0; i < c->n_origins; i++)
                if (streq(c->origins[i].key, key)) {
                        c->origins[i].mark = m;
                        return 0;
                }
        o = realloc(c->origins, (c->n_origins + 1) * sizeof *o);
        if (!o)
                return -ENOMEM;
        c->origins = o;
        o[c->n_origins] = (struct config_origin) { strdup(key), m };
        if (!o[c->n_origins].key)
                return -ENOMEM;
        c->n_origins++;
        return 0;
}

const struct mark *config_origin_of(const struct config *c, const char *key) {
        for (size_t i = 0; i < c->n_origins; i++)
                if (streq(c->origins[i].key, key))
                        return &c->origins[i].mark;
        return NULL;
}

int mark_to_string(const struct mark *m, char **ret) {
        char buf[PATH_MAX + 32];

        if (!m || !m->file || streq(m->file, BUILTIN_NAME))
                snprintf(buf, sizeof buf, "%s", BUILTIN_NAME);
        else
                snprintf(buf, sizeof buf, "%s:%u:%u", m->file, m->line, m->column);
        return (*ret = strdup(buf)) ? 0 : -ENOMEM;
}

/* Look the key up in the provenance table for the layer being read. A key
 * the layer may not set is named in c->ignored and skipped: the earlier
 * layers' value stays, and the boot goes on. */
static bool admit(struct ctx *x, const yaml_node_t *at, yaml_node_t *v, const char *path) {
        char name[256];
        bool image_volume = x->volume && x->volume->layer != CONFIG_LAYER_OEM;

        if (layer_may_set(x->c->layer, key_class_of(path), image_volume))
                return true;
        display_key(x, path, name, sizeof name);
        report_ignored(x, at, v, name, 0);
        return false;
}

/* Run a key's parser with the key as the walk's path, and keep where the
 * value came from. */
static int apply(struct ctx *x, field_fn fn, const char *path, yaml_node_t *v, void *target) {
        char saved[sizeof x->key], name[256];
        size_t len = strlen(path);
        int failed = x->failed, r;

        if (len >= sizeof x->key)
                return -ENAMETOOLONG;   /* the tables' names are short: never */
        memcpy(saved, x->key, sizeof saved);
        memcpy(x->key, path, len + 1);
        r = fn(x, v, target);
        memcpy(x->key, saved, sizeof saved);
        if (r < 0 || x->failed > failed)
                return r;
        display_key(x, path, name, sizeof name);
        return origin_set(x->c, name, mark_of(x, v));
}

static const struct field tpm_fields[] = {
        { "device",         f_string,    offsetof(struct config, tpm_device) },
        { "timeout",        f_seconds,   offsetof(struct config, tpm_timeout_sec) },
        { "signatures",     f_file_list, offsetof(struct config, tpm_signatures) },
        { "measure_phases", f_bool,      offsetof(struct config, tpm_measure_phases) },
        { "measure_volume_keys", f_bool, offsetof(struct config, tpm_measure_volume_keys) },
        { "bind_volumes",   f_bind_volumes, offsetof(struct config, tpm_bind_volumes) },
        { "reseal",         f_reseal,    offsetof(struct config, tpm_reseal) },
};

static int f_overlay_size(struct ctx *x, yaml_node_t *n, void *target) {
        int r = f_size(x, n, &x->c->overlay_size);
        if (r == 0)
                x->c->overlay_size_mark = mark_of(x, n);
        (void) target;
        return r;
}

static int f_extra_list(struct ctx *x, yaml_node_t *n, void *target) {
        return parse_path_list(x, n, PATH_MOUNTPOINT, target, false);
}

static const struct field overlay_fields[] = {
        { "size",        f_overlay_size,    0 },
        { "paths",       f_mountpoint_list, offsetof(struct config, overlay_paths) },
        { "extra_paths", f_extra_list,      offsetof(struct config, overlay_extra_paths) },
};

static const struct field binds_fields[] = {
        { "state_dir",   f_mountpoint,      offsetof(struct config, state_dir) },
        { "seed",        f_seed,            offsetof(struct config, seed) },
        { "paths",       f_mountpoint_list, offsetof(struct config, bind_paths) },
        { "extra_paths", f_extra_list,      offsetof(struct config, bind_extra_paths) },
};

static const struct field root_fields[] = {
        { "relocate",  f_bool, offsetof(struct config, root_relocate) },
        { "read_only", f_bool, offsetof(struct config, root_read_only) },
};

/* A list of source words; [] turns every source off. */
static int f_ext_sources(struct ctx *x, yaml_node_t *n, void *target) {
        int mask = 0, r = want_sequence(x, n, "a list of extension sources (stub, kairos)");

        if (r < 0)
                return r;
        FOREACH_ITEM(x, n, item) {
                int w;
                if (lookup_word(x, item, ext_source_names, _EXT_SOURCE_MAX, "extension source", &w) < 0)
                        continue;
                if (mask & (1 << w)) {
                        fail(x, item, "extension source '%s' is listed twice; expected each source at most once",
                             ext_source_names[w]);
                        continue;
                }
                mask |= 1 << w;
        }
        *(int *) target = mask;
        return 0;
}

/* A list of plain strings (partition labels, ciphers), each kept with its
 * mark; `valid` (NULL: any) names what an item may be. */
static int parse_string_list(struct ctx *x, yaml_node_t *n, const char *list_word, const char *item_word,
                             bool (*valid)(const char *), struct cpath_list *l, bool replace) {
        struct cpath_list nl = {};
        int r;

        if ((r = want_sequence(x, n, list_word)) < 0)
                return r;
        FOREACH_ITEM(x, n, item) {
                const char *s;
                char *d;

                if (want_string(x, item, item_word, &s) < 0)
                        continue;
                if (valid && !valid(s)) {
                        fail(x, item, "'%s' is not valid; expected %s", s, item_word);
                        continue;
                }
                if (!(d = strdup(s)) || cpath_list_push(&nl, d, mark_of(x, item)) < 0) {
                        cpath_list_clear(&nl);
                        return -ENOMEM;
                }
        }
        if (replace)
                cpath_list_clear(l);
        for (size_t i = 0; i < nl.n; i++)
                if ((r = cpath_list_push(l, TAKE_PTR(nl.v[i].path), nl.v[i].mark)) < 0) {
                        cpath_list_clear(&nl);
                        return r;
                }
        cpath_list_clear(&nl);
        l->set = true;
        return 0;
}

static bool cipher_valid(const char *s) {
        return strlen(s) <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(s);
}

/* The LUKS2 cipher allow-list: replaces the earlier one, and is never empty,
 * since no header could then be opened. */
static int f_cipher_list(struct ctx *x, yaml_node_t *n, void *target) {
        if (n->type == YAML_SEQUENCE_NODE && n->data.sequence.items.top == n->data.sequence.items.start)
                return fail(x, n, "empty list; expected at least one cipher");
        return parse_string_list(x, n, "a list of dm-crypt ciphers such as aes-xts-plain64",
                                 "a dm-crypt cipher such as aes-xts-plain64", cipher_valid, target, true);
}

static const struct field luks_fields[] = {
        { "ciphers", f_cipher_list, offsetof(struct config, luks_ciphers) },
};

static int f_luks(struct ctx *x, yaml_node_t *n, void *t) {
        return parse_map(x, n, luks_fields, ELEMENTSOF(luks_fields), x->c, "luks");
}

static const struct field extensions_fields[] = {
        { "sources",      f_ext_sources, offsetof(struct config, ext_sources) },
        { "certificates", f_file_list,   offsetof(struct config, ext_certificates) },
        { "efi_keys",     f_bool,        offsetof(struct config, ext_efi_keys) },
};

static int f_extensions(struct ctx *x, yaml_node_t *n, void *t) {
        return parse_map(x, n, extensions_fields, ELEMENTSOF(extensions_fields), x->c, "extensions");
}

static int f_tpm(struct ctx *x, yaml_node_t *n, void *t) {
        return parse_map(x, n, tpm_fields, ELEMENTSOF(tpm_fields), x->c, "tpm");
}
static int f_overlay(struct ctx *x, yaml_node_t *n, void *t) {
        return parse_map(x, n, overlay_fields, ELEMENTSOF(overlay_fields), x->c, "overlay");
}
static int f_binds(struct ctx *x, yaml_node_t *n, void *t) {
        return parse_map(x, n, binds_fields, ELEMENTSOF(binds_fields), x->c, "binds");
}
static int f_root(struct ctx *x, yaml_node_t *n, void *t) {
        return parse_map(x, n, root_fields, ELEMENTSOF(root_fields), x->c, "root");
}

static const struct field top_fields[] = {
        { "volumes",      f_volumes,    0 },
        { "tpm",          f_tpm,        0 },
        { "overlay",      f_overlay,    0 },
        { "binds",        f_binds,      0 },
        { "root",         f_root,       0 },
        { "init",         f_file_list,  offsetof(struct config, init) },
        { "on_failure",   f_on_failure, offsetof(struct config, on_failure) },
        { "allow_shell",  f_bool,       offsetof(struct config, allow_shell) },
        { "allow_insecure_boot", f_bool, offsetof(struct config, allow_insecure_boot) },
        { "reboot_delay", f_seconds,    offsetof(struct config, reboot_delay_sec) },
        { "timeout",      f_seconds,    offsetof(struct config, default_timeout_sec) },
        { "extensions",   f_extensions, 0 },
        { "luks",         f_luks,       0 },
};

static int parse_map(struct ctx *x, yaml_node_t *n, const struct field *fields, size_t nfields,
                     void *base, const char *what) {
        if (n->type != YAML_MAPPING_NODE)
                return fail(x, n, "found %s; expected a mapping (%s)", is_null(n) ? "an empty value" : type_word(n), what);

        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
                yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
                const char *key = k ? scalar(k) : NULL;
                const struct field *f = NULL;
                char expect[512] = "";

                if (!k || !v)
                        continue;
                if (!key) {
                        fail(x, k, "found %s as a key; expected a plain key in %s", type_word(k), what);
                        continue;
                }
                /* A key given twice in one mapping is almost always a paste error. */
                for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
                        yaml_node_t *qk = yaml_document_get_node(x->doc, q->key);
                        if (qk && scalar(qk) && streq(scalar(qk), key)) {
                                fail(x, k, "key '%s' appears twice in %s; expected it once", key, what);
                                key = NULL;
                                break;
                        }
                }
                if (!key)
                        continue;
                for (size_t i = 0; i < nfields; i++)
                        if (streq(fields[i].key, key))
                                f = &fields[i];
                if (f && !f->fn)
                        continue;
                char path[sizeof x->key * 2];
                /* The tables bound the names they know, so theirs always fit;
                 * an unknown name may be cut, which keeps its class. */
                bool cut = snprintf(path, sizeof path, "%s%s%s", x->key, *x->key ? "." : "", key) >= (int) sizeof path;
                if (cut && f)
                        return -ENAMETOOLONG;
                /* Before the unknown-key check: whatever /oem writes where only
                 * the image may write is ignored, not a reason to stop the boot. */
                if (!admit(x, k, v, path))
                        continue;
                if (!f) {
                        for (size_t i = 0; i < nfields; i++) {
                                if (*expect)
                                        strncat(expect, ", ", sizeof expect - strlen(expect) - 1);
                                strncat(expect, fields[i].key, sizeof expect - strlen(expect) - 1);
                        }
                        fail(x, k, "unknown key '%s' in %s; expected one of: %s", key, what, expect);
                        continue;
                }
                int r = apply(x, f->fn, path, v, (char *) base + f->offset);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

/* ---- documents ----------------------------------------------------------- */

typedef int (*root_fn)(struct ctx *x, yaml_node_t *root);

static int root_usi(struct ctx *x, yaml_node_t *root) {
        return parse_map(x, root, top_fields, ELEMENTSOF(top_fields), x->c, "the configuration");
}

/* Kairos cloud-configs carry far more than usi-init reads; only the three
 * install.* keys matter, and only their types are checked. */
static int kairos_list(struct ctx *x, yaml_node_t *n, struct cpath_list *l, bool labels) {
        if (is_null(n))
                return 0;
        if (!labels)
                return parse_path_list(x, n, PATH_MOUNTPOINT, l, false);
        return parse_string_list(x, n, "a list of partition labels", "a partition label", NULL, l, false);
}

/* The install.* keys taken, each appended to the usi-init list it extends. */
static const struct {
        const char *key;
        size_t offset;
        bool labels;
} kairos_keys[] = {
        { "bind_mounts",          offsetof(struct config, bind_extra_paths),    false },
        { "ephemeral_mounts",     offsetof(struct config, overlay_extra_paths), false },
        { "encrypted_partitions", offsetof(struct config, encrypted_labels),    true },
};

static int root_kairos(struct ctx *x, yaml_node_t *root) {
        yaml_node_t *install, *n;
        int r;

        if (root->type != YAML_MAPPING_NODE)
                return 0;
        install = map_get(x, root, "install");
        if (!install || is_null(install))
                return 0;
        if (install->type != YAML_MAPPING_NODE)
                return fail(x, install, "found %s; expected a mapping (install)", type_word(install));
        for (size_t i = 0; i < ELEMENTSOF(kairos_keys); i++) {
                char path[64];

                if (!(n = map_get(x, install, kairos_keys[i].key)))
                        continue;
                snprintf(path, sizeof path, "install.%s", kairos_keys[i].key);
                if (!admit(x, n, n, path))
                        continue;
                if ((r = kairos_list(x, n, (struct cpath_list *) ((char *) x->c + kairos_keys[i].offset),
                                     kairos_keys[i].labels)) == -ENOMEM)
                        return r;
        }
        return 0;
}

static const char *intern_file(struct config *c, const char *name) {
        for (size_t i = 0; i < c->files.n; i++)
                if (streq(c->files.v[i], name))
                        return c->files.v[i];
        if (strv_push(&c->files, name) < 0)
                return NULL;
        return c->files.v[c->files.n - 1];
}

static int load_string(struct config *c, const char *name, const char *text, size_t len,
                       strv *errors, root_fn fn) {
        yaml_parser_t parser;
        yaml_document_t doc;
        struct ctx x = { .c = c, .errors = errors, .doc = &doc };
        yaml_node_t *root;
        int r = 0;

        x.file = intern_file(c, name);
        if (!x.file)
                return -ENOMEM;
        if (len > CONFIG_MAX_BYTES)
                return config_error(errors, &(struct mark) { x.file, 0, 0 },
                                    "file is larger than 1 MiB; expected a small YAML file");

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);
        if (!yaml_parser_load(&parser, &doc)) {
                struct mark m = { x.file, (unsigned) parser.problem_mark.line + 1,
                                  (unsigned) parser.problem_mark.column + 1 };
                r = config_error(errors, &m, "YAML syntax error: %s%s%s; expected well-formed YAML",
                                 strempty(parser.problem), parser.context ? " " : "", strempty(parser.context));
                yaml_parser_delete(&parser);
                return r;
        }

        root = yaml_document_get_root_node(&doc);
        if (root && !(root->type == YAML_SCALAR_NODE && is_null(root))) {
                r = fn(&x, root);
                if (r >= 0 && x.failed)
                        r = -EINVAL;
        }
        yaml_document_delete(&doc);

        /* One document per file: a second one would be silently ignored otherwise. */
        if (r >= 0 && fn == root_usi) {
                yaml_document_t next;
                if (yaml_parser_load(&parser, &next)) {
                        yaml_node_t *nroot = yaml_document_get_root_node(&next);
                        if (nroot) {
                                struct mark m = mark_of(&x, nroot);
                                r = config_error(errors, &m, "a second YAML document; expected one document per file");
                        }
                        yaml_document_delete(&next);
                }
        }
        yaml_parser_delete(&parser);
        return r;
}

int config_load_string(struct config *c, const char *name, const char *text, size_t len, strv *errors) {
        return load_string(c, name, text, len, errors, root_usi);
}

int config_load_kairos_string(struct config *c, const char *name, const char *text, size_t len, strv *errors) {
        return load_string(c, name, text, len, errors, root_kairos);
}

/* The bytes of a file come through safe_read_path(): a FIFO, device,
 * symlink or oversized file is refused by name instead of read. */
/* A file that could not be read, as an error of the configuration. */
static int unreadable(struct config *c, const char *path, const char *why, int r, strv *errors) {
        const char *fname = intern_file(c, path);

        if (!fname)
                return -ENOMEM;
        config_error(errors, &(struct mark) { fname, 0, 0 }, "cannot read: %s", why_or(why));
        return r;
}

static int load_file(struct config *c, const char *path, strv *errors, root_fn fn) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ char *why = NULL;
        size_t len = 0;
        int r = safe_read_path(path, CONFIG_MAX_BYTES, &text, &len, &why);

        if (r == -ENOENT)
                return r;
        if (r < 0)
                return unreadable(c, path, why, r, errors);
        return load_string(c, path, text, len, errors, fn);
}

int config_load_file(struct config *c, const char *path, strv *errors) {
        return load_file(c, path, errors, root_usi);
}

int config_load_kairos_file(struct config *c, const char *path, strv *errors) {
        return load_file(c, path, errors, root_kairos);
}

int config_load_defaults(struct config *c, strv *errors) {
        return config_load_string(c, BUILTIN_NAME, config_defaults_yaml, strlen(config_defaults_yaml), errors);
}

static int yaml_name_filter(const struct dirent *d) {
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 5 && streq(d->d_name + n - 5, ".yaml");
}

/* NAME beneath dir_fd (shown as dir): read by safe_read_at(), so no
 * symlinked directory leads out of the root. */
static int load_at(struct config *c, int dir_fd, const char *dir, const char *name, strv *errors) {
        _cleanup_free_ char *path = path_join(dir, name), *text = NULL, *why = NULL;
        size_t len = 0;
        int r;

        if (!path)
                return -ENOMEM;
        r = safe_read_at(dir_fd, dir, name, CONFIG_MAX_BYTES, &text, &len, &why);
        if (r == -ENOENT || r == -ENOMEM)
                return r;
        if (r < 0)
                return unreadable(c, path, why, r, errors);
        return load_string(c, path, text, len, errors, root_usi);
}

int config_load_system(struct config *c, const char *root, strv *errors) {
        const char *shown = *root ? root : "/";
        _cleanup_free_ char *dir = path_join(root, "/etc/usi-init/config.d"), *why = NULL;
        _cleanup_close_ int root_fd = -1, dir_fd = -1;
        struct dirent **names = NULL;
        int n, r, ret = 0;

        if (!dir)
                return -ENOMEM;
        root_fd = open(shown, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return errno == ENOENT ? 0 : -errno;
        r = load_at(c, root_fd, shown, "etc/usi-init/config.yaml", errors);
        if (r < 0 && r != -ENOENT)
                ret = r;

        r = root_open_flags(root_fd, "/etc/usi-init/config.d", RESOLVE_TARGET, O_RDONLY | O_DIRECTORY, &dir_fd, &why);
        if (r == -ENOENT)
                return ret;
        if (r < 0) {
                r = unreadable(c, dir, why, r, errors);
                return ret < 0 && r != -ENOMEM ? ret : r;
        }
        n = scandirat(dir_fd, ".", &names, yaml_name_filter, alphasort);
        if (n < 0)
                return ret < 0 ? ret : -errno;
        for (int i = 0; i < n; i++) {
                r = load_at(c, dir_fd, dir, names[i]->d_name, errors);
                if (r < 0 && r != -ENOENT && ret == 0)
                        ret = r;
                free(names[i]);
        }
        free(names);
        return ret;
}

/* ---- lifetime ------------------------------------------------------------ */

void config_init(struct config *c) {
        *c = (struct config) {
                .tpm_timeout_sec = -1,
                .tpm_measure_phases = TRI_UNSET,
                .tpm_measure_volume_keys = TRI_UNSET,
                .root_relocate = TRI_UNSET,
                .root_read_only = TRI_UNSET,
                .allow_shell = TRI_UNSET,
                .allow_insecure_boot = TRI_UNSET,
                .reboot_delay_sec = -1,
                .default_timeout_sec = -1,
                .ext_sources = -1,
                .ext_efi_keys = TRI_UNSET,
        };
}

void config_done(struct config *c) {
        for (size_t i = 0; i < c->n_volumes; i++)
                config_volume_done(&c->volumes[i]);
        free(c->volumes);
        free(c->tpm_device);
        cpath_list_clear(&c->tpm_signatures);
        free(c->overlay_size);
        cpath_list_clear(&c->overlay_paths);
        cpath_list_clear(&c->overlay_extra_paths);
        free(c->state_dir.path);
        cpath_list_clear(&c->bind_paths);
        cpath_list_clear(&c->bind_extra_paths);
        cpath_list_clear(&c->init);
        cpath_list_clear(&c->encrypted_labels);
        cpath_list_clear(&c->ext_certificates);
        cpath_list_clear(&c->luks_ciphers);
        strv_clear(&c->ignored);
        for (size_t i = 0; i < c->n_origins; i++)
                free(c->origins[i].key);
        free(c->origins);
        strv_clear(&c->files);
        config_init(c);
}
