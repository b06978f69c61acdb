/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The stages of the boot, in the order src/boot/runner.c's table runs them. Each
 * lives in its own file, reads the plan, does its one kind of work and
 * appends facts to the record (src/boot/record.h); none calls another stage or
 * the runner. */

#include "record.h"

/* A stage: reads the plan, appends to *b, returns 0 or a negative errno. */
typedef int (*stage_fn)(const struct plan *p, struct boot *b);

int stage_early(const struct plan *p, struct boot *b);     /* early.c: API file systems, Secure Boot, enter-initrd */
int stage_modules(const struct plan *p, struct boot *b);   /* modules.c */
int stage_devices(const struct plan *p, struct boot *b);   /* devices.c */
int stage_unlock(const struct plan *p, struct boot *b);    /* unlock.c (LUKS2 + TPM2) */
int stage_mounts(const struct plan *p, struct boot *b);    /* mounts.c: the volumes */
int stage_overlays(const struct plan *p, struct boot *b);  /* overlays.c */
int stage_binds(const struct plan *p, struct boot *b);     /* binds.c */
int stage_extensions(const struct plan *p, struct boot *b); /* sysext-boot.c */
int stage_handoff(const struct plan *p, struct boot *b);   /* handoff.c (exec with pid1.c) */
