/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seed-batch.h"
#include "why.h"

struct pending {
        char *name;
        char tmp[SEED_TMP_NAME_MAX];
        bool replace;
};

struct seed_batch_dir {
        int fd;
        dev_t dev;
        bool done, made;
        struct timespec ts[2];
        struct pending *files;
        size_t first, n, alloc;         /* files[first..n) not renamed yet */
};

struct seed_batch {
        struct seed_batch_dir **dirs;
        size_t n_dirs, alloc_dirs, n_files;
        struct seed_batch_counts counts;
};

int seed_batch_new(struct seed_batch **ret) {
        *ret = calloc(1, sizeof **ret);
        return *ret ? 0 : -ENOMEM;
}

void seed_batch_tmp_name(char buf[static SEED_TMP_NAME_MAX], ino_t ino, const char *name) {
        uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
        for (const unsigned char *c = (const unsigned char *) name; *c; c++)
                h = (h ^ *c) * 1099511628211ULL;
        snprintf(buf, SEED_TMP_NAME_MAX, SEED_TMP_PREFIX "%llu.%016llx", (unsigned long long) ino,
                 (unsigned long long) h);
}

const struct seed_batch_counts *seed_batch_counts(const struct seed_batch *b) {
        return &b->counts;
}

/* Unlinks the temporaries not renamed (unless `keep`), closes, frees. */
static void dir_free(struct seed_batch_dir *d, bool keep) {
        for (size_t i = d->first; i < d->n; i++) {
                if (!keep)
                        unlinkat(d->fd, d->files[i].tmp, 0);
                free(d->files[i].name);
        }
        free(d->files);
        close(d->fd);
        free(d);
}

void seed_batch_free(struct seed_batch *b) {
        if (!b)
                return;
        for (size_t i = 0; i < b->n_dirs; i++)
                dir_free(b->dirs[i], false);
        free(b->dirs);
        free(b);
}

static int dir_new(struct seed_batch *b, int dfd, struct seed_batch_dir **ret) {
        struct stat st;
        if (fstat(dfd, &st) < 0)
                return -errno;
        if (b->n_dirs == b->alloc_dirs) {
                size_t n = b->alloc_dirs ? 2 * b->alloc_dirs : 16;
                struct seed_batch_dir **p = reallocarray(b->dirs, n, sizeof *p);
                if (!p)
                        return -ENOMEM;
                b->dirs = p;
                b->alloc_dirs = n;
        }
        struct seed_batch_dir *d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (d->fd < 0) {
                free(d);
                return -errno;
        }
        d->dev = st.st_dev;
        b->dirs[b->n_dirs++] = d;
        *ret = d;
        return 0;
}

int seed_batch_add(struct seed_batch *b, struct seed_batch_dir **dir, int dfd, const char *tmp, const char *name,
                   bool replace, char **why) {
        int r;
        if (!*dir && (r = dir_new(b, dfd, dir)) < 0)
                return r;
        struct seed_batch_dir *d = *dir;
        if (d->n == d->alloc) {
                size_t n = d->alloc ? 2 * d->alloc : 16;
                struct pending *p = reallocarray(d->files, n, sizeof *p);
                if (!p)
                        return -ENOMEM;
                d->files = p;
                d->alloc = n;
        }
        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        struct pending *f = &d->files[d->n++];
        *f = (struct pending) { .name = copy, .replace = replace };
        snprintf(f->tmp, sizeof f->tmp, "%s", tmp);
        b->n_files++;
        if (b->n_dirs >= SEED_BATCH_DIRS || b->n_files >= SEED_BATCH_FILES)
                return seed_batch_flush(b, why);
        return 0;
}

int seed_batch_dir_done(struct seed_batch *b, struct seed_batch_dir *dir, int dfd, bool made,
                        const struct timespec ts[2]) {
        (void) b;
        if (dir && dir->first < dir->n) {
                dir->done = true;
                dir->made = made;
                if (made)
                        memcpy(dir->ts, ts, sizeof dir->ts);
                return 0;
        }
        if (dir)
                dir->done = true;       /* dropped by the next flush */
        return made && futimens(dfd, ts) < 0 ? -errno : 0;
}

/* Step 2: each file system holding a pending file, once. */
static int sync_all(struct seed_batch *b, char **why) {
        for (size_t i = 0; i < b->n_dirs; i++) {
                struct seed_batch_dir *d = b->dirs[i];
                bool seen = d->first == d->n;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = b->dirs[j]->dev == d->dev && b->dirs[j]->first < b->dirs[j]->n;
                if (!seen && syncfs(d->fd) < 0)
                        return why_set(why, errno, "syncfs: %s", strerror(errno));
        }
        return 0;
}

/* Step 3 for one directory. */
static int rename_all(struct seed_batch *b, struct seed_batch_dir *d, char **why) {
        for (; d->first < d->n; d->first++) {
                struct pending *f = &d->files[d->first];
                const char *tmp = f->tmp;
                if (renameat2(d->fd, tmp, d->fd, f->name, f->replace ? 0 : RENAME_NOREPLACE) == 0) {
                        if (f->replace)
                                b->counts.replaced++;
                        else
                                b->counts.renamed++;
                } else if (errno == EEXIST && !f->replace) {
                        /* Appeared meanwhile: it is someone's, keep it. */
                        unlinkat(d->fd, tmp, 0);
                        b->counts.raced++;
                } else
                        return why_set(why, errno, "%s: %s", f->name, strerror(errno));
                free(f->name);
                f->name = NULL;
        }
        d->first = d->n = 0;
        if (d->done && d->made && futimens(d->fd, d->ts) < 0)
                return why_set(why, errno, "setting a directory's times: %s", strerror(errno));
        return 0;
}

int seed_batch_flush(struct seed_batch *b, char **why) {
        int r;
        if (b->n_files > 0 && (r = sync_all(b, why)) < 0)
                return r;
        size_t kept = 0;
        for (size_t i = 0; i < b->n_dirs; i++) {
                struct seed_batch_dir *d = b->dirs[i];
                if ((r = rename_all(b, d, why)) < 0) {
                        /* The rest stay listed, so that freeing removes their temporaries. */
                        memmove(b->dirs + kept, b->dirs + i, (b->n_dirs - i) * sizeof *b->dirs);
                        b->n_dirs = kept + b->n_dirs - i;
                        return r;
                }
                if (d->done)
                        dir_free(d, true);
                else
                        b->dirs[kept++] = d;
        }
        b->n_dirs = kept;
        b->n_files = 0;
        return 0;
}
