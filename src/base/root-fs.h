/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Paths under the boot's root, resolved through file descriptors so that no
 * symlink can lead a mount, a mkdir or a copy outside the root (or, for the
 * state dir, outside anything at all). Every function logs nothing; each
 * returns a negative errno and fills `why` with a sentence for the caller's
 * one-line error. */

#include <stdbool.h>
#include <sys/stat.h>

#include "util.h"

enum resolve_mode {
        /* Relative symlinks that stay under the root are followed; absolute
         * ones and ones that climb out are refused. The last component must
         * not be a symlink (nothing is ever mounted over one). */
        RESOLVE_TARGET,
        /* No symlink anywhere: for the state dir and what is under it, data
         * that the final OS (or an offline attacker) can write. */
        RESOLVE_STRICT,
};

/* Open `path` (absolute, as in the final OS) beneath root_fd with O_PATH.
 * -ENOENT when some component is missing. */
int root_open(int root_fd, const char *path, enum resolve_mode mode, int *ret_fd, char **why);

/* Like root_open, but open with `flags` (O_RDONLY|O_DIRECTORY, ...). */
int root_open_flags(int root_fd, const char *path, enum resolve_mode mode, int flags, int *ret_fd, char **why);

/* Open a directory, creating every missing component. New directories get
 * the owner and mode of `tmpl` for the last component (NULL: root 0755) and
 * root 0755 for missing parents. *created tells whether the last one was new. */
int root_mkdir_p(int root_fd, const char *path, enum resolve_mode mode, const struct stat *tmpl,
                 int *ret_fd, bool *created, char **why);

/* Check a path that may not exist yet: every existing component is walked
 * as root_open would; a missing tail is fine. */
int root_check(int root_fd, const char *path, enum resolve_mode mode, char **why);

/* openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS [| RESOLVE_NO_SYMLINKS]),
 * or its walk in user space where the kernel (before 5.6) or a tool running
 * us (valgrind) has no openat2: a relative name only; ".." never above
 * dir_fd, an absolute symlink or a climb out is -EXDEV; with no_symlinks
 * any symlink on the way is -ELOOP, else a relative one is followed (at
 * most 40). The last component is never followed unless follow_last.
 * Returns the fd or a negative errno. */
int openat_beneath(int dir_fd, const char *name, int flags, bool no_symlinks, bool follow_last);

/* "/proc/self/fd/N", so a path-taking API acts on exactly what fd is. */
#define FD_PATH_MAX 32
const char *fd_path(int fd, char buf[static FD_PATH_MAX]);

/* Is the directory fd the root of a mount? */
int fd_is_mount_root(int fd);
