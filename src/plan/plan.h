/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "cmdline.h"
#include "config.h"
#include "kairos-mode.h"

/* The stages of a boot, in order. rd.usi.break=STAGE names one of them. */
enum stage {
        STAGE_EARLY,
        STAGE_MODULES,
        STAGE_DEVICES,
        STAGE_UNLOCK,
        STAGE_MOUNTS,
        STAGE_OVERLAYS,
        STAGE_BINDS,
        STAGE_EXTENSIONS,
        STAGE_HANDOFF,
        _STAGE_MAX,
};
const char *stage_to_string(enum stage s);
int stage_from_string(const char *s);  /* -EINVAL when unknown */

struct plan_match {
        enum match_kind kind;
        char *value;
};

struct plan_volume {
        char *name;                       /* also the device-mapper name */
        struct plan_match matches[_MATCH_MAX]; /* in the order they are tried */
        size_t n_matches;
        bool pinned;                      /* matched by UUID or PARTUUID */
        char *mount;                      /* NULL: unlock only */
        char *fstype;
        char *options;
        bool required;
        unsigned timeout_ms;
        enum encryption encrypted;
        enum unlock_method unlock[_UNLOCK_MAX];
        size_t n_unlock;
        char *keyfile;
};

struct plan_bind {
        char *path;        /* where it appears in the final OS */
        char *state;       /* <state_dir>/<Kairos name>.bind */
};

/* Where a trust setting came from (trust-chain rule 5), for `plan` and
 * state.json: "FILE:LINE:COLUMN", "(built-in defaults)" or "kernel command line". */
struct plan_origin {
        char *key;                        /* "tpm.measure_phases", "volumes.oem.unlock" */
        char *from;
};

#define PLAN_OVERLAY_BASE "/run/usi-init/overlay"

/* Everything the boot will do, decided before anything is touched. Built once
 * (and rebuilt once after /oem), never patched, never written by a stage. */
struct plan {
        struct plan_volume *volumes;      /* /oem first, then config order */
        size_t n_volumes;

        char *tpm_device;
        unsigned tpm_timeout_ms;          /* each TPM command's deadline; 0: none */
        strv signatures;                  /* search order */
        bool measure_phases;
        bool measure_volume_keys;         /* PCR 15, src/tpm/pcr15.h */
        enum bind_volumes bind_volumes;   /* the PCR 15 chain: warn or require */
        enum reseal reseal;               /* a new TPM token after a person's unlock: off or auto */

        strv luks_ciphers;                /* the allow-list a LUKS2 header is checked against */

        char *overlay_size;
        strv overlay_paths;               /* apply order: parents first */

        char *state_dir;
        enum seed_policy seed;
        struct plan_bind *binds;          /* apply order: parents first */
        size_t n_binds;

        bool root_relocate;
        bool root_read_only;

        strv init;                        /* candidates, first existing wins */
        strv init_args;

        enum on_failure on_failure;       /* effective action */
        bool shell_allowed;
        bool insecure_boot_allowed;       /* Secure Boot off does not stop the boot */
        unsigned reboot_delay_sec;
        int break_stage;                  /* -1: none */
        bool debug;
        bool usi_mode;                    /* a UKI boot: usi_evidence is not empty */
        strv usi_evidence;                /* why: one sentence per kind (src/plan/usi-mode.h) */
        struct kairos_mode kairos;        /* /run/cos/ and the extensions' sub-directory */
        char *boot_entry;                 /* in USI mode, LoaderEntrySelected (NULL: not set) */
        char *boot_partuuid;              /* in USI mode, LoaderDevicePartUUID (NULL: not set) */
        struct fsck_opts fsck;            /* fsck.mode=, fsck.repair= */

        /* extensions stage (src/boot/sysext-boot.c) */
        bool ext_source[_EXT_SOURCE_MAX]; /* read, in enum order */
        strv ext_cert_dirs;               /* *.crt of the image trusted to sign */
        bool ext_efi_keys;                /* and the X.509 entries of EFI PK, KEK, db */

        struct plan_origin *origins;      /* every trust setting, in src/plan/plan-origin.c order */
        size_t n_origins;

        strv notes;                       /* cmdline warnings, keys /oem may not set, plan decisions */
};

/* The Kairos layout of the extensions source: DIR/<mode>/ then DIR/common/. */
#define PLAN_KAIROS_SYSEXT_DIR  "/var/lib/kairos/extensions"
#define PLAN_KAIROS_CONFEXT_DIR "/var/lib/kairos/confexts"
/* systemd-stub's images, and where the final OS finds what is staged. */
#define PLAN_STUB_SYSEXT_DIR    "/.extra/sysext"
#define PLAN_RUN_EXTENSIONS     "/run/extensions"
#define PLAN_RUN_CONFEXTS       "/run/confexts"
#define PLAN_RUN_VERITY_D       "/run/verity.d"

void plan_done(struct plan *p);

/* Trust-chain rule 1: may this volume only be mounted through a dm-crypt
 * mapping opened with a key from the chain? Yes for `encrypted: yes`, and in
 * USI mode for every volume not declared `encrypted: no`. */
bool plan_volume_needs_crypt(const struct plan *p, const struct plan_volume *v);

/* config (defaults already loaded, then files) + command line -> *p.
 * Semantic problems (duplicate mount points, state dir inside a bound path,
 * colliding state names, ...) are appended to errors with the mark of the
 * value at fault; the plan is then not usable and -EINVAL is returned. */
int plan_build(const struct config *c, const struct cmdline *cl, struct plan *p, strv *errors);
/* What the system shows, gathered by the caller (src/plan/plan-inputs.h):
 * building the plan never looks at the system. */
struct plan_facts {
        strv usi_evidence;                /* of a UKI boot (usi_mode_evidence()) */
        char *loader_entry;               /* EFI LoaderEntrySelected; NULL: not set */
        char *loader_partuuid;            /* EFI LoaderDevicePartUUID; NULL: not set */
};
void plan_facts_done(struct plan_facts *f);

/* The same with those facts (NULL: none). */
int plan_build_on(const struct config *c, const struct cmdline *cl, const struct plan_facts *facts, struct plan *p,
                  strv *errors);

/* Fill p->origins from the config's marks and the command line (src/plan/plan-origin.c). */
int plan_build_origins(const struct config *c, const struct cmdline *cl, struct plan *p);

/* Kairos' state directory name for a persistent path: "/etc/ssh" -> "etc-ssh.bind". */
int plan_state_name(const char *path, char **ret);

/* Human text or JSON (stable keys, see usi-init(8)). */
int plan_print_text(const struct plan *p, FILE *f);
int plan_print_json(const struct plan *p, FILE *f);
/* The JSON object, for callers that embed it (state.json). Caller puts it. */
struct json_object *plan_to_json(const struct plan *p);
