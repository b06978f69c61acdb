/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "plan.h"

struct seed_stats {
        unsigned copied;        /* new in the state dir */
        unsigned replaced;      /* older there than in the image (policy newer) */
        unsigned kept;          /* present there and left alone */
};

/* Merge the image's tree (src_dfd) into a state dir (dst_dfd), both opened
 * O_RDONLY|O_DIRECTORY. Copies what dst lacks (and, with SEED_NEWER, replaces
 * regular files and symlinks older than the image's), preserving owner, mode,
 * timestamps, xattrs (ACLs are xattrs), symlinks, device nodes, fifos and
 * sockets. Never deletes, never follows a symlink, never replaces an entry
 * of another type. Each file is written under a temporary name and renamed
 * into place only after one syncfs made every temporary durable
 * (seed-batch.h), so a crash leaves either the old state or complete files. */
int seed_tree(int src_dfd, int dst_dfd, enum seed_policy policy, struct seed_stats *stats, char **why);
