/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "record.h"

/* A module the plan needs, and whether the boot can go on without it. */
struct module_need {
        const char *name;
        bool required;
        const char *why;        /* "dm-crypt for encrypted volumes" */
};

/* The modules a plan needs, in load order. Returns the count (<= max). */
size_t modules_for_plan(const struct plan *p, struct module_need *ret, size_t max);

/* Is a device with this modalias (and sysfs class, may be NULL) a storage
 * controller or a bus its disks sit behind? Only those are coldplugged. */
bool modalias_is_storage(const char *modalias, const char *pci_class);

/* A device the kernel announced while the devices stage waits: load its
 * driver when it is storage (a USB disk enumerates after the coldplug).
 * *ctx is created on first use; free it with modules_ctx_free(). */
struct kmod_ctx;
int modules_hotplug(struct boot *b, struct kmod_ctx **ctx, const char *modalias, const char *pci_class);
void modules_ctx_free(struct kmod_ctx **ctx);

/* Load the needs with libkmod from `dirname` (NULL: /lib/modules/`uname -r`).
 * Built-in or already loaded counts as present. Missing optional ones are
 * warnings naming them; a missing required one fails. */
int modules_load(struct boot *b, const char *dirname, const struct module_need *needs, size_t n);
