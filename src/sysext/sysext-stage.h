/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Hand-over of verified extension images to the final OS, in the sidecar
 * form systemd-sysext 252 and later take: NAME.raw (the data partition
 * alone), NAME.verity, NAME.roothash (hex) and NAME.roothash.p7s (DER).
 * systemd then never parses the untrusted GPT, and can mount the data only
 * through dm-verity with the root hash checked here. */

#include <stdbool.h>
#include <stddef.h>

#include "sysext-verify.h"

enum {
        /* Release the source's memory as it is copied (holes punched, then
         * the file unlinked): for /.extra/sysext, which lives in the
         * initramfs, so that an image is never held twice in RAM. */
        SYSEXT_STAGE_CONSUME = 1 << 0,
        /* Verify only: the parts go to unnamed temporary files in the
         * directory and vanish when closed. */
        SYSEXT_STAGE_CHECK_ONLY = 1 << 1,
        /* sysext_stage_all logs nothing per image: the caller prints the
         * results (the sysext command, on stdout). */
        SYSEXT_STAGE_QUIET = 1 << 2,
};

/* One image to stage: `file` in the directory dir_fd (AT_FDCWD: a path),
 * opened without following a symlink. NAME and, unless `confext`, the kind
 * come from the last component of `path`, which is also what messages and
 * results show (the boot gives paths as the final OS sees them). */
struct sysext_source {
        int dir_fd;
        const char *file;
        const char *path;
        bool confext;   /* from a confext directory: a confext whatever its name */
};

/* What all staged images together may take, unless the caller says
 * otherwise: /run, where the boot stages them, is a tmpfs without a cap of
 * its own. */
#define SYSEXT_STAGE_ROOM_DEFAULT (UINT64_C(1) << 30)

/* One image: inspect, copy its data and verity partitions into dir_fd,
 * verify the whole hash tree on those copies (what the final OS will
 * mount), then link the four files in. Nothing is left behind on failure;
 * a NAME already staged is refused before anything is copied.
 * An image that needs more than *room bytes (NULL: no cap) or more than
 * the staging file system has free is refused before anything is copied;
 * one staged takes its size off *room. *ret_name: NAME; *why: the reason
 * of a refusal. */
int sysext_stage_image(const struct sysext_source *src, const struct sysext_anchor *anchor, int dir_fd,
                       unsigned flags, uint64_t *room, char **ret_name, enum sysext_kind *ret_kind, char **why);

struct sysext_result {
        char *path;
        char *name;     /* NULL when rejected */
        char *reason;   /* NULL when accepted */
        enum sysext_kind kind;
};

void sysext_results_free(struct sysext_result *r, size_t n);

/* Every image, in the order given: sysexts into ext_fd, confexts into
 * confext_fd (-1: confexts refused). A refusal is logged as one line
 * ("sysext IMAGE: rejected: REASON") and never stops the others; with no
 * anchor certificate nothing is staged and one warning says why. Returns
 * the number accepted; *ret lists every image. *room: as for
 * sysext_stage_image(), shared by the images. */
int sysext_stage_all(const struct sysext_source *src, size_t n, const struct sysext_anchor *anchor, int ext_fd,
                     int confext_fd, unsigned flags, uint64_t *room, struct sysext_result **ret);

/* The images of a source directory as systemd-stub picks them: regular
 * files whose names end in .raw in any case, sorted by name (byte order).
 * Other file types are skipped with a warning naming them, and so are
 * symlinks unless SYSEXT_LIST_SYMLINKS (the caller then decides where they
 * may lead). Paths are dir_path/NAME. */
enum { SYSEXT_LIST_SYMLINKS = 1 << 0 };
int sysext_list_dir(int dir_fd, const char *dir_path, unsigned flags, strv *ret);

