/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

/* What a file made by this process gets without being asked, so that the
 * calls that would set the same again are skipped: most image files are
 * root's with a mode the umask leaves alone. */
struct seed_creds {
        uid_t uid;
        gid_t gid;
        mode_t umask;
};

void seed_creds_get(struct seed_creds *c);

/* Whether entries made in directory `dfd` get the creds' owner and their
 * mode less the umask: not under a set-group-ID directory (its group, its
 * bit) or one with a default ACL (that ACL instead of the umask). */
bool seed_dir_plain(int dfd);

/* The mode to create an entry with: its own (less the umask) where the
 * directory is plain, else owner-only until its owner and mode are set. */
mode_t seed_create_mode(const struct stat *st, bool plain, mode_t owner_only);

/* Owner, mode, xattrs (ACLs too) and times of `st` onto the open file or
 * directory `dfd`, read from the open `sfd`; the times not for a directory,
 * whose mtime its contents change (set after them). Skips the owner and
 * mode when a plain creation already gave them. */
int seed_meta_fd(int sfd, int dfd, const struct stat *st, const struct seed_creds *c, bool plain);

/* The same by name in the directories, for symlinks and device nodes, which
 * cannot be opened. */
int seed_meta_at(int sdfd, const char *sname, int ddfd, const char *dname, const struct stat *st,
                 const struct seed_creds *c, bool plain);
