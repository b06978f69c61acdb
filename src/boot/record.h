/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* struct boot: what a boot did. The plan says what should happen and is
 * never written; each stage reads the plan, does its one kind of work and
 * appends facts here. state.json is written from this struct alone.
 *
 * Stages share nothing else. A stage returns 0 or a negative errno and, on
 * failure, has already logged one line naming the device or path and the
 * reason (boot_fail() records that line for the banner and state.json). */

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"

#include "tpm2.h"  /* struct tpm2_ctx for the unlock stage, struct tpm2_stats */

struct pcr15_digests;   /* src/tpm/pcr15.h */
struct pcr15_record;

/* What a device carries, as libblkid sees it. */
enum content {
        CONTENT_NONE = 0,       /* nothing recognised */
        CONTENT_LUKS2,
        CONTENT_LUKS1,
        CONTENT_FS,             /* a plain file system: ext4, xfs, ... */
        CONTENT_OTHER,          /* swap, raid member, a partition table, ... */
};
const char *content_to_string(enum content c);

/* One device as probed: the facts every matching rule and message uses. */
struct probed {
        char *devnode;          /* /dev/loop0, /dev/vda2 */
        char *syspath;          /* /sys/devices/... (NULL when probed from a file) */
        enum content content;
        char *type;             /* blkid TYPE: "crypto_LUKS", "ext4", ... */
        char *version;          /* blkid VERSION: "2" for LUKS2 */
        char *uuid;             /* LUKS UUID for LUKS, else the file system UUID */
        char *label;            /* LUKS2 label for LUKS, else the file system label */
        char *partuuid;         /* GPT partition UUID, when a partition */
        char *partlabel;        /* GPT partition name, when a partition */
};
void probed_done(struct probed *p);
int probed_copy(struct probed *dst, const struct probed *src);
/* "ext4 label COS_OEM uuid 1234..." for messages. */
int probed_describe(const struct probed *p, char *buf, size_t size);

/* Per volume of the plan, keyed by the plan volume's name (the plan is rebuilt
 * after /oem, so indexes and pointers into it do not survive). */
struct boot_volume {
        char *name;                     /* plan_volume.name = device-mapper name */

        /* devices stage */
        bool found;
        struct probed dev;              /* the raw device found and what is on it */
        enum match_kind found_by;       /* which match of the plan picked it */
        uint64_t found_ms;              /* since the boot started */
        /* The volume's timeline, in the stages' clock (ms since the kernel
         * started, CLOCK_BOOTTIME); 0: did not happen. `status --svg`. */
        uint64_t found_at_ms, unsealed_at_ms, opened_at_ms, mounted_at_ms;

        /* unlock stage (src/boot/unlock.c): set only after a key from the trust
         * chain opened the LUKS2 header of dev.devnode. */
        bool opened;
        char *mapper;                   /* "/dev/mapper/<name>" */
        enum unlock_method unlocked_by;
        char *fs_type;                  /* blkid TYPE inside the mapping */
        struct pcr15_digests *pcr15;    /* the volume key's PCR 15 HMACs (no key), until
                                         * leave-initrd extends them (src/tpm/pcr15.h) */

        enum {
                BOUND_UNKNOWN = 0,      /* not judged: not opened through the TPM */
                BOUND_NO,               /* opened by a token that ignores the keys before it */
                BOUND_YES,              /* its token held PCR 15 at the chain of the keys before it */
        } bound;
        char *reseal;                   /* tpm.reseal: what was resealed, or "not resealed: why" */

        /* The device the mounts stage may mount: the mapping once opened, or
         * dev.devnode for a volume allowed to be plain. NULL: not mountable
         * (a LUKS volume nobody opened is never mounted raw). The unlock
         * stage sets opened, mapper, mount_device = mapper and mount_fstype
         * (probe_device() on the mapper, src/boot/devices.h). */
        char *mount_device;
        char *mount_fstype;             /* file system type of mount_device */

        /* mounts stage */
        bool mounted;
};

/* A mount this boot made, or found already made (a second run). */
struct boot_mount {
        enum stage stage;
        char *source;                   /* device, "tmpfs", "overlay", state dir */
        char *target;                   /* path in the final OS (no --root prefix) */
        char *fstype;                   /* ext4, tmpfs, overlay, bind, ... */
        char *options;
        bool existed;                   /* already there: not mounted again */
};

/* One system extension image the extensions stage looked at. */
struct boot_extension {
        char *path;                     /* as the final OS sees it */
        enum ext_source source;
        bool confext;                   /* a confext (/etc), else a sysext (/usr) */
        char *name;                     /* staged as NAME.raw; NULL when rejected */
        char *reason;                   /* why it was rejected; NULL when accepted */
};

struct boot_stage_time {
        bool ran;
        uint64_t ms;                    /* summed over both passes */
        uint64_t start_ms, end_ms;      /* first start, last end: ms since the kernel started */
        int result;                     /* 0 or negative errno */
};

/* The devices, unlock and mounts stages run twice: first for /oem only (its
 * config may change the rest of the plan), then, with the rebuilt plan, for
 * every volume not yet done. */
enum boot_pass {
        BOOT_PASS_OEM,
        BOOT_PASS_REST,
};

struct boot {
        /* inputs of the run (not facts) */
        const char *root;               /* prefix for every path; "" is / */
        const strv *signatures;         /* boot_options.signatures */
        int root_fd;                    /* O_PATH|O_DIRECTORY of root, owned */
        char *root_buf;                 /* owns root: the canonical path */
        int efivars_fd;                 /* the plan inputs' EFI variables, borrowed; -1: none */
        bool handoff;                   /* false with --no-handoff */
        bool measure_volume_keys;       /* --measure-volume-keys: PCR 15 without a hand-off */
        bool pid1;
        enum boot_pass pass;
        bool break_done;                /* rd.usi.break shell already given */
        uint64_t start_usec;            /* CLOCK_MONOTONIC at start */
        uint64_t start_realtime_usec;   /* CLOCK_REALTIME at start, for state.json */

        struct boot_volume *volumes;
        size_t n_volumes;

        struct boot_mount *mounts;      /* in the order made */
        size_t n_mounts;

        strv modules_loaded;
        strv modules_missing;           /* optional ones only: required ones fail */
        strv warnings;                  /* one sentence each, shown and recorded */

        struct boot_stage_time stages[_STAGE_MAX];
        bool oem_config;                /* plan rebuilt with the /oem config */

        /* ---- unlock stage (src/boot/unlock.c) fields ----------------------------
         * The TPM connection shared by both passes, so the parent key, the
         * salted session and the signature tickets are made once per boot.
         * Owned by the unlock stage; tpm_session_close() (src/boot/unlock.h) closes it. */
        struct tpm2_ctx *tpm;
        struct tpm2_stats tpm_stats;    /* of that connection, kept when it closes */
        bool tpm_used;
        /* ---- end of unlock stage fields ------------------------------------ */

        /* ---- extensions stage (src/boot/sysext-boot.c) fields ------------------- */
        struct boot_extension *extensions;
        size_t n_extensions;
        const char *ext_mode_dir;       /* Kairos layout sub-directory read; NULL: none */
        strv ext_anchor;                /* where each trusted certificate came from */
        /* ---- end of extensions stage fields -------------------------------- */
        /* The kernel-uevent monitor, opened by the first devices stage and
         * read until the hand-off (src/boot/devices.h: devices_check_late()). */
        struct device_watch *watch;

        /* ---- signed phase windows (src/tpm/window.c) --------------------------- */
        struct {
                bool base_known;
                uint8_t pcr11_base[32];         /* sha256 PCR 11 before enter-initrd */
                bool checked;                   /* the audit after leave-initrd ran */
                bool unsealable;                /* keys unsealable after hand-off */
                char signature[256];            /* the signature file it looked in */
                char reason[768];               /* one sentence */
        } window;

        /* PCR 15 extends, in the order made (src/tpm/pcr15.c) */
        struct pcr15_record *pcr15;
        size_t n_pcr15;

        /* outcome */
        bool failed;
        int failed_stage;               /* -1 */
        char *failure;                  /* the one line that says why */
        bool refused;                   /* a trust-chain refusal (boot_refuse): never a shell */
        char *failure_device;           /* the device(s) a refusal names, for the banner */
};

/* The volume record for a plan volume, created on first use. NULL on OOM.
 * Creating one may move the array: do not keep a pointer across a call for
 * another name. */
struct boot_volume *boot_volume_get(struct boot *b, const char *name);
const struct boot_volume *boot_volume_find(const struct boot *b, const char *name);

/* Is this plan volume in scope of the current pass? (/oem in the first,
 * everything in the second.) */
bool boot_volume_in_pass(const struct plan *p, const struct boot *b, const struct plan_volume *v);

/* May the boot extend the PCRs of its TPM? As PID 1 of a UKI boot (the
 * signed policy binds them), or a TPM that is not this machine's own (a
 * swtpm/mssim TCTI, for tests); never the host's on a `boot --root`. */
bool boot_may_extend(const struct plan *p, const struct boot *b);

/* Does the trust chain require a dm-crypt mapping for this volume? True for
 * encrypted: yes, and for every non-"no" volume in USI mode. */
bool volume_needs_crypt(const struct plan *p, const struct plan_volume *v);

/* Append a mount record. */
int boot_add_mount(struct boot *b, enum stage st, const char *source, const char *target,
                   const char *fstype, const char *options, bool existed);
_printf_(2, 3) int boot_warn(struct boot *b, const char *fmt, ...);

/* Log the reason at error level and record it as the boot's failure (the
 * first one wins). Returns -abs(error), for `return boot_fail(b, -EIO, ...)`. */
_printf_(3, 4) int boot_fail(struct boot *b, int error, const char *fmt, ...);

/* A trust-chain refusal (a planted or duplicate volume, Secure Boot off):
 * boot_fail() with -EPERM, naming `device` (NULL: none) in the banner, and
 * the failure action is never a shell, whatever rd.usi.shell says. */
_printf_(3, 4) int boot_refuse(struct boot *b, const char *device, const char *fmt, ...);

/* Milliseconds since the boot started. */
uint64_t boot_elapsed_ms(const struct boot *b);
