/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "seed.h"
#include "why.h"

#define TMP_PREFIX ".#usi-init."

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static bool xattr_ignorable(int e) {
        /* The state dir's file system may not do every namespace (security.*
         * without an LSM, trusted.* ...): a missing feature, not a failure. */
        return e == ENOTSUP || e == EOPNOTSUPP || e == EPERM;
}

/* By path (the "/proc/self/fd/N/name" of an entry), so it also works for
 * symlinks and device nodes, which cannot be opened for it. */
static int copy_xattrs(const char *src, const char *dst) {
        ssize_t n = llistxattr(src, NULL, 0);
        if (n < 0)
                return xattr_ignorable(errno) ? 0 : -errno;
        if (n == 0)
                return 0;
        _cleanup_free_ char *names = malloc((size_t) n);
        if (!names)
                return -ENOMEM;
        n = llistxattr(src, names, (size_t) n);
        if (n < 0)
                return -errno;
        for (char *k = names; k < names + n; k += strlen(k) + 1) {
                ssize_t vn = lgetxattr(src, k, NULL, 0);
                if (vn < 0)
                        continue;
                _cleanup_free_ char *val = malloc((size_t) vn + 1);
                if (!val)
                        return -ENOMEM;
                vn = lgetxattr(src, k, val, (size_t) vn);
                if (vn < 0)
                        continue;
                if (lsetxattr(dst, k, val, (size_t) vn, 0) < 0 && !xattr_ignorable(errno))
                        return -errno;
        }
        return 0;
}

static void entry_path(char buf[static 4200], int dfd, const char *name) {
        snprintf(buf, 4200, "/proc/self/fd/%d/%s", dfd, name);
}

static int copy_data(int in, int out) {
        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
                if (n == 0)
                        return 0;
                if (n > 0)
                        continue;
                if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                        return -errno;
                break;
        }
        char buf[65536];
        for (;;) {
                ssize_t n = read(in, buf, sizeof buf);
                if (n == 0)
                        return 0;
                if (n < 0)
                        return -errno;
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(out, buf + off, (size_t) (n - off));
                        if (w < 0)
                                return -errno;
                        off += w;
                }
        }
}

/* Owner, then mode (chown clears set-id bits), then xattrs (the ACL after the
 * mode, so its mask wins), then times, last because everything before
 * touches ctime/mtime. */
static int apply_meta(int sdfd, const char *sname, int ddfd, const char *dname, const struct stat *st) {
        char sp[4200], dp[4200];
        int r;

        if (fchownat(ddfd, dname, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISLNK(st->st_mode) && fchmodat(ddfd, dname, st->st_mode & 07777, 0) < 0)
                return -errno;
        entry_path(sp, sdfd, sname);
        entry_path(dp, ddfd, dname);
        if ((r = copy_xattrs(sp, dp)) < 0)
                return r;
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        if (utimensat(ddfd, dname, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

/* Make one non-directory entry under a temporary name, then move it to
 * `name`: without replacing anything (missing) or over an older one. */
static int copy_leaf(int sdfd, int ddfd, const char *name, const struct stat *st, bool replace) {
        char tmp[64];
        int r = 0;

        /* Unique within the directory for this run: the source's inode. */
        snprintf(tmp, sizeof tmp, TMP_PREFIX "%d.%llu", (int) getpid(), (unsigned long long) st->st_ino);
        if (S_ISREG(st->st_mode)) {
                _cleanup_close_ int in = openat(sdfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (in < 0)
                        return -errno;
                _cleanup_close_ int out = openat(ddfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (out < 0)
                        return -errno;
                if ((r = copy_data(in, out)) < 0 || (fsync(out) < 0 && (r = -errno) < 0))
                        goto fail;
        } else if (S_ISLNK(st->st_mode)) {
                char to[4097];
                ssize_t n = readlinkat(sdfd, name, to, sizeof to - 1);
                if (n < 0)
                        return -errno;
                to[n] = '\0';
                if (symlinkat(to, ddfd, tmp) < 0)
                        return -errno;
        } else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode)) {
                if (mknodat(ddfd, tmp, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
                        return -errno;
        } else
                return 0;

        if ((r = apply_meta(sdfd, name, ddfd, tmp, st)) < 0)
                goto fail;
        if (renameat2(ddfd, tmp, ddfd, name, replace ? 0 : RENAME_NOREPLACE) < 0) {
                r = -errno;
                goto fail;
        }
        return 1;
fail:
        unlinkat(ddfd, tmp, 0);
        return r;
}

static bool newer(const struct stat *a, const struct stat *b) {
        return a->st_mtim.tv_sec > b->st_mtim.tv_sec ||
               (a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec > b->st_mtim.tv_nsec);
}

static int seed_dir(int sdfd, int ddfd, dev_t dev, enum seed_policy policy, struct seed_stats *stats,
                    char *path, size_t path_size, char **why);

static int seed_entry(int sdfd, int ddfd, const char *name, dev_t dev, enum seed_policy policy,
                      struct seed_stats *stats, char *path, size_t path_size, char **why) {
        struct stat st, dt;
        int r;

        if (fstatat(sdfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        bool exists = fstatat(ddfd, name, &dt, AT_SYMLINK_NOFOLLOW) == 0;
        if (!exists && errno != ENOENT)
                return -errno;

        if (S_ISDIR(st.st_mode)) {
                /* Another file system mounted below the path is not the image's. */
                if (st.st_dev != dev)
                        return 0;
                if (exists && !S_ISDIR(dt.st_mode)) {
                        stats->kept++;
                        return 0;
                }
                bool made = false;
                if (!exists) {
                        if (mkdirat(ddfd, name, 0700) < 0)
                                return -errno;
                        made = true;
                        /* Owner, mode and xattrs before the contents; times after. */
                        if (fchownat(ddfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                            fchmodat(ddfd, name, st.st_mode & 07777, 0) < 0)
                                return -errno;
                        char sp[4200], dp[4200];
                        entry_path(sp, sdfd, name);
                        entry_path(dp, ddfd, name);
                        if ((r = copy_xattrs(sp, dp)) < 0)
                                return r;
                        stats->copied++;
                } else
                        stats->kept++;
                _cleanup_close_ int s = openat(sdfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_close_ int d = openat(ddfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s < 0 || d < 0)
                        return -errno;
                size_t l = strlen(path);
                snprintf(path + l, path_size - l, "/%s", name);
                r = seed_dir(s, d, dev, policy, stats, path, path_size, why);
                if (r < 0)
                        return r;
                path[l] = '\0';
                if (made) {
                        struct timespec ts[2] = { st.st_atim, st.st_mtim };
                        if (futimens(d, ts) < 0)
                                return -errno;
                }
                return 0;
        }

        bool replace = false;
        if (exists) {
                bool same_kind = (st.st_mode & S_IFMT) == (dt.st_mode & S_IFMT) &&
                                 (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode));
                if (policy != SEED_NEWER || !same_kind || !newer(&st, &dt)) {
                        stats->kept++;
                        return 0;
                }
                replace = true;
        }
        r = copy_leaf(sdfd, ddfd, name, &st, replace);
        if (r == -EEXIST) {
                /* Appeared meanwhile: it is someone's, keep it. */
                stats->kept++;
                return 0;
        }
        if (r < 0)
                return r;
        if (r > 0) {
                if (replace)
                        stats->replaced++;
                else
                        stats->copied++;
        }
        return 0;
}

static int seed_dir(int sdfd, int ddfd, dev_t dev, enum seed_policy policy, struct seed_stats *stats,
                    char *path, size_t path_size, char **why) {
        int fd = fcntl(sdfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        _cleanup_(closedirp) DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, "..") || startswith(de->d_name, TMP_PREFIX))
                        continue;
                int r = seed_entry(sdfd, ddfd, de->d_name, dev, policy, stats, path, path_size, why);
                if (r < 0) {
                        if (!*why)
                                why_set(why, 0, "%s/%s: %s", path, de->d_name, strerror(-r));
                        return r;
                }
        }
        return errno ? -errno : 0;
}

int seed_tree(int src_dfd, int dst_dfd, enum seed_policy policy, struct seed_stats *stats, char **why) {
        struct stat st;
        char path[4096] = "";

        *stats = (struct seed_stats) {};
        free(*why);
        *why = NULL;
        if (fstat(src_dfd, &st) < 0)
                return -errno;
        return seed_dir(src_dfd, dst_dfd, st.st_dev, policy, stats, path, sizeof path, why);
}
