/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "plan.h"

/* Where the inputs of a plan come from. */
struct load_options {
        const char *root;          /* prefix for every file read ("" or NULL: /) */
        strv config_files;         /* given: read these instead of ROOT/etc/usi-init/... */
        const char *cmdline;       /* the kernel command line text (NULL: empty) */
        bool oem;                  /* also read ROOT/oem/usi-init.yaml and ROOT/oem/ *.yaml */
        const strv *usi_evidence;  /* what the system shows of a UKI boot (src/plan/usi-mode.h),
                                    * gathered by the caller; NULL: none */
};

/* defaults -> system files (or the given ones) -> rd.usi.config= -> /oem
 * (when asked) -> plan, with the caller's evidence of a UKI boot. All errors are collected in `errors`; nothing is
 * applied unless every file and the plan are valid. Returns 0, -EINVAL
 * (errors appended), or -ENOMEM. */
int plan_load(const struct load_options *o, struct cmdline *cl, struct plan *p, strv *errors);
