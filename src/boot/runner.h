/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The runner: builds the plan, runs the stages of src/boot/stages.h in order
 * (twice for devices, unlock and mounts: /oem first, then the rebuilt
 * plan), writes state.json, and applies the failure policy. The top of the
 * boot layer: nothing in it includes this. */

#include "record.h"

/* What PID 1 does after a failure: the plan's on_failure, except that a
 * refusal never gets a shell (it halts), and a shell needs shell_allowed. */
enum on_failure boot_failure_action(const struct plan *p, const struct boot *b);

/* The whole run. */
struct boot_options {
        const char *root;               /* NULL or "" for / */
        bool handoff;
        bool measure_volume_keys;       /* PCR 15 also with --no-handoff, into this machine's
                                         * TPM: a systemd initrd's service, whose systemd
                                         * measures leave-initrd after usi-init is done */
        bool pid1;
        strv config_files;
        const char *cmdline;
        const char *state_file;         /* NULL: ROOT/run/usi-init/state.json */
        strv signatures;                /* PCR signature files of the running system, tried
                                         * first and not under root (a systemd initrd's
                                         * /.extra while the volumes are under /sysroot) */
        const char *efivars;            /* an efivarfs-like directory read instead of the
                                         * firmware's (tests; replaying a machine) */
};

int boot_init(struct boot *b, const struct boot_options *o);
void boot_done(struct boot *b);

/* Builds the plan, runs the stages in order (rebuilding the plan once after
 * /oem), writes state.json. Returns 0 or the failing stage's negative errno. */
int boot_run(const struct boot_options *o);
