/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* The durability order of seeding (docs/ARCHITECTURE.md, Seeding):
 *   1. every file is written under a temporary name, with its metadata;
 *   2. one syncfs() per file system makes all of that durable at once;
 *   3. only then is each renamed to its name, and the times of the
 *      directories made are set (a rename changes a directory's mtime).
 * A name therefore never reaches the disk before its data: a power cut
 * before 3 leaves temporaries and no new name (the next boot seeds those
 * files again, reusing the temporaries' names); during or after 3, every
 * name present is complete, and the rest are missing and seeded again.
 * No fsync per file, no fsync of a directory: a rename lost is redone.
 *
 * The batch holds a directory's fd from its first pending file until its
 * renames are done; past SEED_BATCH_DIRS such directories or
 * SEED_BATCH_FILES files it flushes early (one more syncfs), so any tree
 * fits the fd limit. */
#define SEED_BATCH_DIRS 256
#define SEED_BATCH_FILES 65536

struct seed_batch;
struct seed_batch_dir;

struct seed_batch_counts {
        unsigned renamed;       /* new names */
        unsigned replaced;      /* renamed over an older file */
        unsigned raced;         /* the name appeared meanwhile: kept, temporary removed */
};

int seed_batch_new(struct seed_batch **ret);
/* Removes every temporary still pending (after a failure) and frees. */
void seed_batch_free(struct seed_batch *b);
/* What the flushes so far did. */
const struct seed_batch_counts *seed_batch_counts(const struct seed_batch *b);

/* The temporary name for entry `name` (source inode `ino`): unique in its
 * directory (hard links differ by name) and the same for the same image on
 * every boot, so a temporary left by a power cut is found and reused. */
#define SEED_TMP_PREFIX ".#usi-init."
#define SEED_TMP_NAME_MAX 64
void seed_batch_tmp_name(char buf[static SEED_TMP_NAME_MAX], ino_t ino, const char *name);

/* `tmp` in directory `dfd` is complete and is to become `name`, over an
 * older one when `replace`. *dir is the walk's handle for dfd: NULL before
 * the first file there, set here (the batch keeps a dup of dfd). May flush
 * (a limit reached). */
int seed_batch_add(struct seed_batch *b, struct seed_batch_dir **dir, int dfd, const char *tmp, const char *name,
                   bool replace, char **why);

/* The walk is done with directory `dfd` (its handle `dir`, NULL when no file
 * is pending there). When `made`, its times `ts` are set after its renames:
 * now when nothing is pending, else by the flush. */
int seed_batch_dir_done(struct seed_batch *b, struct seed_batch_dir *dir, int dfd, bool made,
                        const struct timespec ts[2]);

/* Steps 2 and 3 for everything pending; directories not done stay held. */
int seed_batch_flush(struct seed_batch *b, char **why);
