/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "util.h"

enum on_failure {
        ON_FAILURE_UNSET = 0,
        ON_FAILURE_HALT,
        ON_FAILURE_REBOOT,
        ON_FAILURE_SHELL,
};

const char *on_failure_to_string(enum on_failure f);
enum on_failure on_failure_from_string(const char *s); /* UNSET when unknown */

/* fsck.mode= and fsck.repair=, systemd-fsck's words, for the ext file
 * systems the mounts stage checks (src/boot/mounts.c). */
enum fsck_mode { FSCK_AUTO, FSCK_FORCE, FSCK_SKIP, _FSCK_MODE_MAX };
enum fsck_repair { FSCK_REPAIR_PREEN, FSCK_REPAIR_YES, FSCK_REPAIR_NO, _FSCK_REPAIR_MAX };
struct fsck_opts {
        enum fsck_mode mode;
        enum fsck_repair repair;
};
const char *fsck_mode_to_string(enum fsck_mode m);
const char *fsck_repair_to_string(enum fsck_repair r);

/* The bare words a Kairos GRUB entry puts on the command line; with root=,
 * they name the image it boots (src/plan/kairos-mode.c). */
enum kairos_word {
        KAIROS_WORD_RESET,       /* kairos.reset */
        KAIROS_WORD_RECOVERY,    /* recovery-mode */
        KAIROS_WORD_NETBOOT,     /* netboot */
        _KAIROS_WORD_MAX,
};

/* What the kernel command line says to usi-init. Pointers are owned; NULL and
 * -1 mean "not given", so the plan can tell a default from an explicit value. */
struct cmdline {
        bool debug;
        bool shell;
        bool uki;                /* rd.immucore.uki: a UKI boot */
        bool insecure;           /* rd.usi.insecure / rd.immucore.securebootdisabled: boot with Secure Boot off */
        char *break_stage;       /* rd.usi.break=STAGE */
        int timeout_sec;         /* rd.usi.timeout=, -1 */
        char *config;            /* rd.usi.config=PATH */
        enum on_failure on_failure;
        char *tpm2_device;       /* rd.usi.tpm2_device=TCTI */
        char *init;              /* init= */
        strv init_args;          /* everything after "--" */
        char *oem_label;         /* rd.immucore.oemlabel= */
        int oem_timeout_sec;     /* rd.immucore.oemtimeout=, -1 */
        char *overlay;           /* rd.immucore.overlay= / rd.cos.overlay=, e.g. "tmpfs:25%" */
        struct fsck_opts fsck;   /* fsck.mode=, fsck.repair= (an unknown value: the default) */
        char *root;              /* root=, only for the Kairos mode: LABEL=COS_ACTIVE, live:CDLABEL=... */
        bool kairos_words[_KAIROS_WORD_MAX]; /* present anywhere on the line, whatever their value */
        strv warnings;           /* one sentence per option that was ignored, and why */
};

void cmdline_init(struct cmdline *c);
void cmdline_done(struct cmdline *c);

/* Split a command line exactly as the kernel does (kernel/params.c): quotes
 * group words, a leading quote of a word and a leading quote of its value are
 * dropped with their closing partner. Calls `cb` for each word; param is never
 * NULL, value is NULL for bare flags. Stops at "--" and reports the index of
 * the rest through *rest (NULL when there is no "--"). Returns 0, -ENOMEM, or
 * the first negative value of cb. */
typedef int (*cmdline_word_cb)(const char *param, const char *value, void *userdata);
int cmdline_split(const char *line, cmdline_word_cb cb, void *userdata, const char **rest);

/* Parse a whole command line into *c. The last occurrence of an option wins.
 * Unknown rd.usi.* options and bad values are recorded in c->warnings (and
 * otherwise ignored: a typo on the command line must not stop a boot). */
int cmdline_parse(const char *line, struct cmdline *c);

/* Read a command line from a file such as /proc/cmdline (trailing newline and
 * NUL bytes are word separators). Read by safe_read_path(): a regular file
 * only, never through a final symlink; `*why` (src/base/why.h) says what is wrong. */
int cmdline_read_file(const char *path, char **ret, char **why);
