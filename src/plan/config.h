/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "cmdline.h"
#include "provenance.h"
#include "util.h"

/* Where a value came from, so every later check can say FILE:LINE:COLUMN.
 * file == NULL means a built-in default. */
struct mark {
        const char *file;
        unsigned line, column;
};

/* How a volume is recognised. The plan tries them in this order; the last
 * ones are the fallbacks (GPT name for disks encrypted before labels). */
enum match_kind {
        MATCH_UUID,
        MATCH_PARTUUID,
        MATCH_LUKS_LABEL,
        MATCH_FS_LABEL,
        MATCH_PARTLABEL,
        _MATCH_MAX,
};
const char *match_kind_to_key(enum match_kind k);     /* YAML key: "luks_label" */
const char *match_kind_to_string(enum match_kind k);  /* words: "LUKS label" */

enum unlock_method {
        UNLOCK_TPM2,
        UNLOCK_RECOVERY_KEY,
        UNLOCK_PASSPHRASE,
        UNLOCK_KEYFILE,
        _UNLOCK_MAX,
};
const char *unlock_method_to_string(enum unlock_method m);

enum seed_policy {
        SEED_UNSET = 0,
        SEED_MISSING,   /* copy only what the state dir lacks (default) */
        SEED_NEWER,     /* also replace files older than the image's (rsync -u) */
};
const char *seed_policy_to_string(enum seed_policy s);

/* tpm.bind_volumes: are the volumes of a boot bound to one another (the
 * PCR 15 chain, docs/ARCHITECTURE.md)? */
enum bind_volumes {
        BIND_UNSET = 0,
        BIND_WARN,      /* an unbound set boots, with a warning (default) */
        BIND_REQUIRE,   /* a volume not bound behind the ones before it is refused */
};
const char *bind_volumes_to_string(enum bind_volumes b);

/* tpm.reseal: after a person opened a volume whose TPM token failed, with
 * its recovery key or passphrase, is a new token sealed to the booted
 * image's key (src/boot/reseal.c)? */
enum reseal {
        RESEAL_UNSET = 0,
        RESEAL_OFF,     /* never (default) */
        RESEAL_AUTO,    /* yes, keeping the binding; the failed token goes */
};
const char *reseal_to_string(enum reseal r);

/* Where the extensions stage looks for system extension images, in this
 * order (src/boot/sysext-boot.c). */
enum ext_source {
        EXT_SOURCE_STUB,        /* /.extra/sysext: systemd-stub's, from next to the UKI */
        EXT_SOURCE_KAIROS,      /* /var/lib/kairos/{extensions,confexts}/<mode>, then common */
        _EXT_SOURCE_MAX,
};
const char *ext_source_to_string(enum ext_source s);

/* Three-valued settings: -1 = not set in any file. */
#define TRI_UNSET (-1)

enum encryption {
        ENCRYPTION_UNSET = 0,
        ENCRYPTION_AUTO,        /* LUKS or plain, whatever carries the label */
        ENCRYPTION_YES,         /* only through a LUKS2 unlock of the trust chain */
        ENCRYPTION_NO,          /* a plain file system */
};
const char *encryption_to_string(enum encryption e);

struct cpath {
        char *path;
        struct mark mark;
};

struct cpath_list {
        struct cpath *v;
        size_t n;
        bool set;               /* given in some file (replaces the default) */
};

struct config_volume {
        char *name;
        struct mark mark;
        char *match[_MATCH_MAX];
        struct mark match_mark[_MATCH_MAX];
        struct cpath mount;
        char *fstype;
        char *options;
        int required;           /* TRI_UNSET, 0, 1 */
        int timeout_sec;        /* -1 */
        enum encryption encrypted;
        enum unlock_method unlock[_UNLOCK_MAX];
        size_t n_unlock;
        struct mark unlock_mark;
        struct cpath keyfile;
        int enabled;            /* TRI */
        enum config_layer layer; /* of the file that defined it first */
};

/* Where a key got its value: "tpm.measure_phases", "volumes.oem.unlock". */
struct config_origin {
        char *key;
        struct mark mark;
};

struct config {
        struct config_volume *volumes;
        size_t n_volumes;

        char *tpm_device;
        int tpm_timeout_sec;            /* -1 */
        struct cpath_list tpm_signatures;
        int tpm_measure_phases;         /* TRI */
        int tpm_measure_volume_keys;    /* TRI */
        enum bind_volumes tpm_bind_volumes;
        enum reseal tpm_reseal;

        char *overlay_size;
        struct mark overlay_size_mark;
        struct cpath_list overlay_paths;
        struct cpath_list overlay_extra_paths;

        struct cpath state_dir;
        enum seed_policy seed;
        struct cpath_list bind_paths;
        struct cpath_list bind_extra_paths;

        int root_relocate;              /* TRI */
        int root_read_only;             /* TRI */

        struct cpath_list init;
        enum on_failure on_failure;
        int allow_shell;                /* TRI */
        int allow_insecure_boot;        /* TRI: boot on with Secure Boot off */
        int reboot_delay_sec;           /* -1 */
        int default_timeout_sec;        /* -1 */

        struct cpath_list encrypted_labels; /* Kairos install.encrypted_partitions */

        /* extensions: (src/boot/sysext-boot.c) */
        int ext_sources;                /* -1: not set; else a bit per enum ext_source */
        struct cpath_list ext_certificates;
        int ext_efi_keys;               /* TRI */

        /* luks: the ciphers a LUKS2 header may name (data segment, keyslots) */
        struct cpath_list luks_ciphers;

        /* The layer of the files read next (src/plan/provenance.h): set by the
         * caller before each layer; keys the layer may not set are skipped
         * and named in `ignored`. */
        enum config_layer layer;
        strv ignored;                   /* "FILE:LINE:COLUMN: KEY ignored: ..." */
        struct config_origin *origins;  /* the file of each key's value, last wins */
        size_t n_origins;

        strv files;                     /* names the marks point to */
};

void config_init(struct config *c);
void config_done(struct config *c);

/* Read one usi-init YAML file into *c: scalars override what earlier files
 * set, lists given replace earlier ones, volumes merge by name. Every problem
 * is appended to `errors` as "FILE:LINE:COLUMN: what is wrong and what is
 * expected". Returns 0, -EINVAL when errors were appended, -errno on I/O
 * failure (also appended). A missing file is -ENOENT with nothing appended. */
int config_load_file(struct config *c, const char *path, strv *errors);
int config_load_string(struct config *c, const char *name, const char *text, size_t len, strv *errors);

/* A Kairos cloud-config: only install.bind_mounts, install.ephemeral_mounts and
 * install.encrypted_partitions are taken (appended); all else is ignored. */
int config_load_kairos_file(struct config *c, const char *path, strv *errors);
int config_load_kairos_string(struct config *c, const char *name, const char *text, size_t len, strv *errors);

/* The built-in defaults (a Kairos USI node), read through the same parser
 * before any file; marks point at "(built-in defaults)". */
extern const char config_defaults_yaml[];
int config_load_defaults(struct config *c, strv *errors);

/* The files of the system configuration, in the order they are read:
 * ROOT/etc/usi-init/config.yaml, then ROOT/etc/usi-init/config.d/ *.yaml in
 * lexical order. Missing files are skipped. */
int config_load_system(struct config *c, const char *root, strv *errors);

/* The mark of the file that last set `key` ("tpm.measure_phases",
 * "volumes.oem.unlock"); NULL when no file, not even the defaults, did. */
const struct mark *config_origin_of(const struct config *c, const char *key);
/* A mark in words: "FILE:LINE:COLUMN", or "(built-in defaults)". */
int mark_to_string(const struct mark *m, char **ret);

/* Append to `errors` in the standard form. */
_printf_(3, 4) int config_error(strv *errors, const struct mark *m, const char *fmt, ...);

enum path_kind {
        PATH_MOUNTPOINT,        /* where something is mounted: not /, not under /proc /sys /dev */
        PATH_FILE,              /* a file to read: absolute, no . or .. */
};
/* Check an absolute path and return it normalised (no "//", no trailing "/").
 * On failure *why says what is wrong and what is expected. */
int path_normalize(const char *in, enum path_kind kind, char **ret, const char **why);
/* A tmpfs size= value: "25%" (1-100) or a number with an optional k/m/g suffix. */
bool tmpfs_size_valid(const char *s);

/* Is `path` equal to `prefix` or below it? Both normalised. */
bool path_startswith(const char *path, const char *prefix);
