/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "seed-meta.h"
#include "util.h"

void seed_creds_get(struct seed_creds *c) {
        c->uid = geteuid();
        c->gid = getegid();
        c->umask = umask(0);
        umask(c->umask);
}

bool seed_dir_plain(int dfd) {
        struct stat st;
        if (fstat(dfd, &st) < 0 || (st.st_mode & S_ISGID))
                return false;
        ssize_t n = fgetxattr(dfd, "system.posix_acl_default", NULL, 0);
        return n < 0 && (errno == ENODATA || errno == EOPNOTSUPP);
}

mode_t seed_create_mode(const struct stat *st, bool plain, mode_t owner_only) {
        return plain ? st->st_mode & 0777 : owner_only;
}

static bool need_chown(const struct stat *st, const struct seed_creds *c, bool plain) {
        return !plain || st->st_uid != c->uid || st->st_gid != c->gid;
}

/* chown clears the set-ID bits, the umask took some: set the mode again. */
static bool need_chmod(const struct stat *st, const struct seed_creds *c, bool plain) {
        return !plain || (st->st_mode & 07000) || (st->st_mode & 0777 & c->umask);
}

/* An open file, or an entry by path (the "/proc/self/fd/N/name" of one that
 * cannot be opened), for the xattr calls. */
struct xnode {
        int fd;
        const char *path;
};

static ssize_t x_list(const struct xnode *x, char *buf, size_t size) {
        return x->path ? llistxattr(x->path, buf, size) : flistxattr(x->fd, buf, size);
}

static ssize_t x_get(const struct xnode *x, const char *k, void *buf, size_t size) {
        return x->path ? lgetxattr(x->path, k, buf, size) : fgetxattr(x->fd, k, buf, size);
}

static int x_set(const struct xnode *x, const char *k, const void *v, size_t size) {
        return x->path ? lsetxattr(x->path, k, v, size, 0) : fsetxattr(x->fd, k, v, size, 0);
}

static bool xattr_ignorable(int e) {
        /* The state dir's file system may not do every namespace (security.*
         * without an LSM, trusted.* ...): a missing feature, not a failure. */
        return e == ENOTSUP || e == EOPNOTSUPP || e == EPERM;
}

static int copy_xattrs(const struct xnode *src, const struct xnode *dst) {
        ssize_t n = x_list(src, NULL, 0);
        if (n < 0)
                return xattr_ignorable(errno) ? 0 : -errno;
        if (n == 0)
                return 0;
        _cleanup_free_ char *names = malloc((size_t) n);
        if (!names)
                return -ENOMEM;
        n = x_list(src, names, (size_t) n);
        if (n < 0)
                return -errno;
        for (char *k = names; k < names + n; k += strlen(k) + 1) {
                ssize_t vn = x_get(src, k, NULL, 0);
                if (vn < 0)
                        continue;
                _cleanup_free_ char *val = malloc((size_t) vn + 1);
                if (!val)
                        return -ENOMEM;
                vn = x_get(src, k, val, (size_t) vn);
                if (vn < 0)
                        continue;
                if (x_set(dst, k, val, (size_t) vn) < 0 && !xattr_ignorable(errno))
                        return -errno;
        }
        return 0;
}

/* Owner, then mode (chown clears set-id bits), then xattrs (the ACL after the
 * mode, so its mask wins), then times, last because everything before
 * touches ctime/mtime. */
int seed_meta_fd(int sfd, int dfd, const struct stat *st, const struct seed_creds *c, bool plain) {
        int r;
        if (need_chown(st, c, plain) && fchown(dfd, st->st_uid, st->st_gid) < 0)
                return -errno;
        if (need_chmod(st, c, plain) && fchmod(dfd, st->st_mode & 07777) < 0)
                return -errno;
        if ((r = copy_xattrs(&(struct xnode) { .fd = sfd }, &(struct xnode) { .fd = dfd })) < 0)
                return r;
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        if (!S_ISDIR(st->st_mode) && futimens(dfd, ts) < 0)
                return -errno;
        return 0;
}

int seed_meta_at(int sdfd, const char *sname, int ddfd, const char *dname, const struct stat *st,
                 const struct seed_creds *c, bool plain) {
        char sp[4200], dp[4200];
        int r;

        if (need_chown(st, c, plain) && fchownat(ddfd, dname, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        /* Device nodes are made owner-only; a symlink has no mode. */
        if (!S_ISLNK(st->st_mode) && fchmodat(ddfd, dname, st->st_mode & 07777, 0) < 0)
                return -errno;
        snprintf(sp, sizeof sp, "/proc/self/fd/%d/%s", sdfd, sname);
        snprintf(dp, sizeof dp, "/proc/self/fd/%d/%s", ddfd, dname);
        if ((r = copy_xattrs(&(struct xnode) { .path = sp }, &(struct xnode) { .path = dp })) < 0)
                return r;
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        if (utimensat(ddfd, dname, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}
