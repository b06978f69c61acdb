/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "seed.h"
#include "seed-batch.h"
#include "seed-data.h"
#include "seed-meta.h"
#include "why.h"

/* One seed_tree() call. */
struct seed {
        dev_t dev;                      /* the image's file system: nothing below it on another */
        enum seed_policy policy;
        enum copy_way way;              /* lowered for good once refused */
        struct seed_creds creds;
        struct seed_batch *batch;
        struct seed_stats *stats;
        char path[4096];                /* the directory walked, for messages */
        char **why;
};

/* A directory of the state dir being filled. */
struct dst_dir {
        int fd;
        bool plain;                     /* seed_dir_plain() */
        struct seed_batch_dir *pending; /* its handle in the batch, once a file waits there */
};

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* The temporary for one entry, made empty (regular file: *out is its fd) or
 * as the symlink or node it is. */
static int make_tmp(int sdfd, const char *name, const struct dst_dir *dd, const char *tmp, const struct stat *st,
                    int *out) {
        if (S_ISREG(st->st_mode)) {
                *out = openat(dd->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                              seed_create_mode(st, dd->plain, 0600));
                return *out < 0 ? -errno : 0;
        }
        if (S_ISLNK(st->st_mode)) {
                char to[4097];
                ssize_t n = readlinkat(sdfd, name, to, sizeof to - 1);
                if (n < 0)
                        return -errno;
                to[n] = '\0';
                return symlinkat(to, dd->fd, tmp) < 0 ? -errno : 0;
        }
        return mknodat(dd->fd, tmp, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0 ? -errno : 0;
}

/* Fill the temporary: contents and metadata. */
static int fill_tmp(struct seed *s, int sdfd, const char *name, const struct dst_dir *dd, const char *tmp,
                    const struct stat *st, int out) {
        if (!S_ISREG(st->st_mode))
                return seed_meta_at(sdfd, name, dd->fd, tmp, st, &s->creds, dd->plain);
        _cleanup_close_ int in = openat(sdfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
                return -errno;
        int r = copy_data(in, out, &s->way);
        return r < 0 ? r : seed_meta_fd(in, out, st, &s->creds, dd->plain);
}

/* Make one non-directory entry complete under its temporary name and hand
 * it to the batch, which renames it to `name` after the syncfs: without
 * replacing anything (missing) or over an older one. 1 when handed, 0 when
 * not a kind that is copied, or a negative errno. */
static int copy_leaf(struct seed *s, int sdfd, struct dst_dir *dd, const char *name, const struct stat *st,
                     bool replace) {
        char tmp[SEED_TMP_NAME_MAX];
        _cleanup_close_ int out = -1;
        int r;

        if (!S_ISREG(st->st_mode) && !S_ISLNK(st->st_mode) && !S_ISCHR(st->st_mode) && !S_ISBLK(st->st_mode) &&
            !S_ISFIFO(st->st_mode) && !S_ISSOCK(st->st_mode))
                return 0;
        seed_batch_tmp_name(tmp, st->st_ino, name);
        r = make_tmp(sdfd, name, dd, tmp, st, &out);
        if (r == -EEXIST) {
                /* Left by a seed a power cut interrupted: ours to redo. If it
                 * cannot be removed (a directory), someone else's: skip. */
                if (unlinkat(dd->fd, tmp, 0) < 0)
                        return -EEXIST;
                r = make_tmp(sdfd, name, dd, tmp, st, &out);
        }
        if (r < 0)
                return r;
        if ((r = fill_tmp(s, sdfd, name, dd, tmp, st, out)) < 0) {
                unlinkat(dd->fd, tmp, 0);
                return r;
        }
        if ((r = seed_batch_add(s->batch, &dd->pending, dd->fd, tmp, name, replace, s->why)) < 0)
                return r;
        return 1;
}

static bool newer(const struct stat *a, const struct stat *b) {
        return a->st_mtim.tv_sec > b->st_mtim.tv_sec ||
               (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec > b->st_mtim.tv_nsec);
}

static int seed_dir(struct seed *s, int sdfd, int ddfd, bool made, const struct stat *st);

/* A directory of the image: made when missing (owner, mode and xattrs before
 * its contents, times after them), then walked. */
static int seed_subdir(struct seed *s, int sdfd, int ddfd, const char *name, const struct stat *st, bool exists,
                       const struct stat *dt, bool plain) {
        /* Another file system mounted below the path is not the image's. */
        if (st->st_dev != s->dev)
                return 0;
        if (exists && !S_ISDIR(dt->st_mode)) {
                s->stats->kept++;
                return 0;
        }
        if (!exists && mkdirat(ddfd, name, seed_create_mode(st, plain, 0700)) < 0)
                return -errno;
        _cleanup_close_ int src = openat(sdfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int dst = openat(ddfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (src < 0 || dst < 0)
                return -errno;
        int r;
        if (!exists && (r = seed_meta_fd(src, dst, st, &s->creds, plain)) < 0)
                return r;
        if (exists)
                s->stats->kept++;
        else
                s->stats->copied++;
        size_t l = strlen(s->path);
        snprintf(s->path + l, sizeof s->path - l, "/%s", name);
        if ((r = seed_dir(s, src, dst, !exists, st)) < 0)
                return r;
        s->path[l] = '\0';
        return 0;
}

static int seed_entry(struct seed *s, int sdfd, struct dst_dir *dd, const char *name) {
        struct stat st, dt;
        int r;

        if (fstatat(sdfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        bool exists = fstatat(dd->fd, name, &dt, AT_SYMLINK_NOFOLLOW) == 0;
        if (!exists && errno != ENOENT)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return seed_subdir(s, sdfd, dd->fd, name, &st, exists, &dt, dd->plain);

        bool replace = false;
        if (exists) {
                bool same_kind = (st.st_mode & S_IFMT) == (dt.st_mode & S_IFMT) &&
                                 (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode));
                if (s->policy != SEED_NEWER || !same_kind || !newer(&st, &dt)) {
                        s->stats->kept++;
                        return 0;
                }
                replace = true;
        }
        r = copy_leaf(s, sdfd, dd, name, &st, replace);
        if (r == -EEXIST) {
                s->stats->kept++;
                return 0;
        }
        return r < 0 ? r : 0;
}

/* A stream over a directory fd of ours, on a duplicate of it (closedir()
 * closes the fd it was given). */
static int dir_stream(int dfd, DIR **ret) {
        int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        if (!(*ret = fdopendir(fd))) {
                int e = errno;
                close(fd);
                return -e;
        }
        return 0;
}

/* Temporaries an interrupted seed left in a directory that existed before
 * this one. They are named from the source inode, which another image (or
 * the same image unpacked again) need not give the same file, so the walk
 * would never reuse them and they would hold their space for good. None of
 * ours is pending here yet: the walk removes before it makes any. One pass
 * over the directory's names, only for directories not made by this seed
 * (a made one is empty), so a first boot pays nothing. Removal is best
 * effort: a directory of that name is someone else's and stays. */
static int remove_stale_tmps(int ddfd) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r = dir_stream(ddfd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (errno = 0, de = readdir(d));)
                if (startswith(de->d_name, SEED_TMP_PREFIX) && de->d_type != DT_DIR)
                        (void) unlinkat(ddfd, de->d_name, 0);
        return errno ? -errno : 0;
}

static int seed_dir(struct seed *s, int sdfd, int ddfd, bool made, const struct stat *st) {
        struct dst_dir dd = { .fd = ddfd, .plain = seed_dir_plain(ddfd) };
        int r;
        if (!made && (r = remove_stale_tmps(ddfd)) < 0) {
                why_set(s->why, 0, "%s: reading the state dir: %s", s->path[0] ? s->path : "/", strerror(-r));
                return r;
        }
        _cleanup_(closedirp) DIR *d = NULL;
        if ((r = dir_stream(sdfd, &d)) < 0)
                return r;
        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, "..") || startswith(de->d_name, SEED_TMP_PREFIX))
                        continue;
                r = seed_entry(s, sdfd, &dd, de->d_name);
                if (r < 0) {
                        if (!*s->why)
                                why_set(s->why, 0, "%s/%s: %s", s->path, de->d_name, strerror(-r));
                        return r;
                }
        }
        if (errno)
                return -errno;
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        return seed_batch_dir_done(s->batch, dd.pending, ddfd, made, ts);
}

int seed_tree(int src_dfd, int dst_dfd, enum seed_policy policy, struct seed_stats *stats, char **why) {
        struct seed s = { .policy = policy, .way = COPY_RANGE, .stats = stats, .why = why };
        struct stat st;
        int r;

        *stats = (struct seed_stats) {};
        free(*why);
        *why = NULL;
        if (fstat(src_dfd, &st) < 0)
                return -errno;
        s.dev = st.st_dev;
        seed_creds_get(&s.creds);
        if ((r = seed_batch_new(&s.batch)) < 0)
                return r;
        r = seed_dir(&s, src_dfd, dst_dfd, false, &st);
        if (r >= 0)
                r = seed_batch_flush(s.batch, why);
        const struct seed_batch_counts *c = seed_batch_counts(s.batch);
        stats->copied += c->renamed;
        stats->replaced += c->replaced;
        stats->kept += c->raced;
        seed_batch_free(s.batch);
        return r;
}
