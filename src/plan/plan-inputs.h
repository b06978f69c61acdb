/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "plan.h"

/* Everything a plan is built from, gathered once per run by `plan` and by
 * `boot` alike, so that both describe the same machine. */
struct plan_inputs {
        const char *root;          /* prefix for every file read (NULL, "" or "/": this machine) */
        strv config_files;         /* borrowed: read these instead of ROOT/etc/usi-init/... */
        const char *cmdline;       /* the kernel command line text (NULL: empty) */
        int efivars_fd;            /* the EFI variables, opened once and owned; -1: none */
        struct plan_facts facts;   /* what the system shows (USI evidence, the boot loader's entry) */
};

#define PLAN_INPUTS_INIT { .efivars_fd = -1 }

/* Open the EFI variables once and read the facts. Which variables:
 * - `efivars` (an efivarfs-like directory, --efivars DIR) when given;
 * - else, when the root is this machine, the firmware's in `firmware`
 *   (EFIVARS_DIR; a test gives its own directory), PID 1 or not: a service
 *   on the real root sees the same machine the initrd did; none without
 *   them (a BIOS boot);
 * - else none: the host's firmware says nothing about another root.
 * Returns 0, -ENOMEM, or the -errno of a given directory that cannot be
 * opened (`*why`, src/base/why.h, says which). */
int plan_inputs_gather(struct plan_inputs *in, const char *efivars, const char *firmware, char **why);

/* Closes the EFI variables and frees the facts (not the borrowed strings). */
void plan_inputs_done(struct plan_inputs *in);
