/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "root-fs.h"
#include "record.h"

/* Mount through libmount onto the directory behind target_fd (reached as
 * /proc/self/fd/N, so the path cannot be swapped for a symlink meanwhile).
 * No helpers, no mtab, no canonicalisation. `why` gets libmount's reason. */
int mount_on_fd(const char *source, int target_fd, const char *fstype, const char *options, char **why);

/* Bind the directory behind source_fd onto the one behind target_fd. */
int mount_bind_fd(int source_fd, int target_fd, char **why);

/* Is target_fd the root of a mount of file system magic `magic`? */
bool fd_is_mount_of(int target_fd, long magic);

/* The e2fsck arguments for the plan's fsck.mode= and fsck.repair= (src/plan/cmdline.h;
 * NULL-terminated, static strings). */
int fsck_argv(const struct fsck_opts *o, const char *checker, const char *device, const char *argv[static 6]);

/* The API file systems (/proc, /sys, /dev, /run, ... with safe flags; the
 * firmware's and the kernel's only as PID 1), each recorded as a mount of
 * the early stage; one that is already there is recorded as found. The
 * first part of the early stage (src/boot/early.c). */
int mounts_api(const struct plan *p, struct boot *b);
