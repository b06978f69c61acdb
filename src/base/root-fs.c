/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include "root-fs.h"
#include "why.h"
#include "util.h"

#define BENEATH_MAX_DEPTH 64
#define BENEATH_MAX_LINKS 40

static int walk_beneath(int dir_fd, const char *name, int flags, bool no_symlinks, bool follow_last) {
        int stack[BENEATH_MAX_DEPTH], depth = 0, links = 0, r;
        _cleanup_free_ char *left = strdup(name);

        if (!left)
                return -ENOMEM;
        if (*left == '/')
                return -EXDEV;
        for (char *p = left;;) {
                int cur = depth ? stack[depth - 1] : dir_fd, fd;
                size_t len;
                struct stat st;
                bool last;

                p += strspn(p, "/");
                len = strcspn(p, "/");
                last = !p[len + strspn(p + len, "/")];
                if (len > NAME_MAX) {
                        r = -ENAMETOOLONG;
                        break;
                }
                char comp[NAME_MAX + 1];
                memcpy(comp, p, len);
                comp[len] = 0;
                p += len;
                if (!len || streq(comp, ".")) {
                        if (!last)
                                continue;
                        fd = openat(cur, ".", flags | O_CLOEXEC);
                        r = fd < 0 ? -errno : fd;
                        break;
                }
                if (streq(comp, "..")) {
                        if (!depth) {
                                r = -EXDEV;
                                break;
                        }
                        close(stack[--depth]);
                        if (last) {
                                fd = openat(depth ? stack[depth - 1] : dir_fd, ".", flags | O_CLOEXEC);
                                r = fd < 0 ? -errno : fd;
                                break;
                        }
                        continue;
                }
                if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
                    (!last || follow_last)) {
                        char to[PATH_MAX];
                        ssize_t n;
                        char *rest;

                        if (no_symlinks || ++links > BENEATH_MAX_LINKS) {
                                r = -ELOOP;
                                break;
                        }
                        n = readlinkat(cur, comp, to, sizeof(to) - 1);
                        if (n < 0) {
                                r = -errno;
                                break;
                        }
                        to[n] = 0;
                        if (to[0] == '/') {
                                r = -EXDEV;
                                break;
                        }
                        /* Its target, then what was left after it. */
                        if (asprintf(&rest, "%s/%s", to, p) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        free(left);
                        p = left = rest;
                        continue;
                }
                if (last) {
                        fd = openat(cur, comp, flags | O_CLOEXEC | (follow_last ? 0 : O_NOFOLLOW));
                        r = fd < 0 ? -errno : fd;
                        break;
                }
                if (depth == BENEATH_MAX_DEPTH) {
                        r = -ENAMETOOLONG;
                        break;
                }
                /* O_NOFOLLOW: a symlink put there since the fstatat fails. */
                fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        r = -errno;
                        break;
                }
                stack[depth++] = fd;
        }
        while (depth)
                close(stack[--depth]);
        return r;
}

int openat_beneath(int dir_fd, const char *name, int flags, bool no_symlinks, bool follow_last) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC | (follow_last ? 0 : O_NOFOLLOW)),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
        };
        int fd = (int) syscall(SYS_openat2, dir_fd, name, &how, sizeof how);

        if (fd >= 0)
                return fd;
        if (errno != ENOSYS)
                return -errno;
        return walk_beneath(dir_fd, name, flags, no_symlinks, follow_last);
}

const char *fd_path(int fd, char buf[static FD_PATH_MAX]) {
        snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
        return buf;
}

int fd_is_mount_root(int fd) {
        struct statx sx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, 0, &sx) < 0)
                return -errno;
        if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return -EOPNOTSUPP;
        return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* After openat2 refused a path, walk it one component at a time to say which
 * component was the symlink and where it points. */
static void explain(int root_fd, const char *path, int error, char **why) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int fd = -1;
        char *save = NULL, sofar[4096] = "";

        why_set(why, 0, "%s: %s", path, strerror(error));
        if (!copy || (fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3)) < 0)
                return;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                struct stat st;
                strncat(sofar, "/", sizeof sofar - strlen(sofar) - 1);
                strncat(sofar, c, sizeof sofar - strlen(sofar) - 1);
                if (fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return;
                if (S_ISLNK(st.st_mode)) {
                        char to[4096];
                        ssize_t n = readlinkat(fd, c, to, sizeof to - 1);
                        to[n < 0 ? 0 : n] = '\0';
                        why_set(why, 0, "%.240s is a symlink (to %.200s); refusing to follow it", sofar, to);
                        return;
                }
                int nfd = openat(fd, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0)
                        return;
                close(fd);
                fd = nfd;
        }
}

/* follow_last: the path is a parent of what will be used, so a last
 * component that is a symlink (staying beneath the root) is an intermediate
 * one and is followed, as it would be in the full path. */
static int open_beneath(int root_fd, const char *path, enum resolve_mode mode, int flags, bool follow_last,
                        int *ret_fd, char **why) {
        follow_last = follow_last && mode == RESOLVE_TARGET;
        const char *rel = path;
        struct stat st;

        while (*rel == '/')
                rel++;
        if (!*rel)
                rel = ".";
        int fd = openat_beneath(root_fd, rel, flags, mode == RESOLVE_STRICT, follow_last);
        if (fd < 0) {
                int e = -fd;
                if (e == ENOENT)
                        why_set(why, 0, "%s does not exist", path);
                else if (e == ELOOP || e == EXDEV)
                        explain(root_fd, path, e, why);
                else
                        why_set(why, 0, "cannot open %s: %s", path, strerror(e));
                /* A last component that is a symlink opens (O_PATH|O_NOFOLLOW)
                 * or fails with ELOOP (other flags); both are refused. */
                return -e;
        }
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                why_set(why, 0, "cannot stat %s: %s", path, strerror(e));
                return -e;
        }
        if (S_ISLNK(st.st_mode)) {
                explain(root_fd, path, ELOOP, why);
                close(fd);
                return -ELOOP;
        }
        *ret_fd = fd;
        return 0;
}

int root_open_flags(int root_fd, const char *path, enum resolve_mode mode, int flags, int *ret_fd, char **why) {
        return open_beneath(root_fd, path, mode, flags, false, ret_fd, why);
}

int root_open(int root_fd, const char *path, enum resolve_mode mode, int *ret_fd, char **why) {
        return open_beneath(root_fd, path, mode, O_PATH, false, ret_fd, why);
}

int root_check(int root_fd, const char *path, enum resolve_mode mode, char **why) {
        _cleanup_free_ char *p = strdup(path);
        int fd, r;

        if (!p)
                return -ENOMEM;
        /* Cut the path back until it exists; what exists must resolve cleanly. */
        for (bool parent = false;; parent = true) {
                r = open_beneath(root_fd, p, mode, O_PATH, parent, &fd, why);
                if (r == 0) {
                        close(fd);
                        return 0;
                }
                if (r != -ENOENT)
                        return r;
                char *slash = strrchr(p, '/');
                if (!slash || slash == p)
                        return 0;
                *slash = '\0';
        }
}

static int mkdir_one(int parent, const char *name, const struct stat *tmpl, bool *created) {
        mode_t m = tmpl ? (tmpl->st_mode & 07777) : 0755;

        if (mkdirat(parent, name, 0700) < 0) {
                if (errno != EEXIST)
                        return -errno;
                *created = false;
                return 0;
        }
        *created = true;
        /* Owner and mode before anything goes in, so a crash never leaves a
         * directory with the wrong ones. */
        _cleanup_close_ int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (tmpl && fchown(fd, tmpl->st_uid, tmpl->st_gid) < 0)
                return -errno;
        if (fchmod(fd, m) < 0)
                return -errno;
        return 0;
}

static int mkdir_p(int root_fd, const char *path, enum resolve_mode mode, const struct stat *tmpl, bool parent,
                   int *ret_fd, bool *created, char **why) {
        _cleanup_free_ char *p = strdup(path);
        int r, fd;
        bool c = false;

        if (!p)
                return -ENOMEM;
        r = open_beneath(root_fd, path, mode, O_PATH, parent, &fd, why);
        if (r == 0) {
                struct stat st;
                if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) {
                        close(fd);
                        why_set(why, 0, "%s exists and is not a directory", path);
                        return -ENOTDIR;
                }
                *ret_fd = fd;
                if (created)
                        *created = false;
                return 0;
        }
        if (r != -ENOENT)
                return r;

        char *slash = strrchr(p, '/');
        if (!slash || !slash[1]) {
                why_set(why, 0, "%s: not a path to create", path);
                return -EINVAL;
        }
        *slash = '\0';
        _cleanup_close_ int pfd = -1;
        r = mkdir_p(root_fd, *p ? p : "/", mode, NULL, true, &pfd, NULL, why);
        if (r < 0)
                return r;
        r = mkdir_one(pfd, slash + 1, tmpl, &c);
        if (r < 0) {
                why_set(why, 0, "cannot create %s: %s", path, strerror(-r));
                return r;
        }
        r = open_beneath(root_fd, path, mode, O_PATH, parent, &fd, why);
        if (r < 0)
                return r;
        if (created)
                *created = c;
        *ret_fd = fd;
        return 0;
}

int root_mkdir_p(int root_fd, const char *path, enum resolve_mode mode, const struct stat *tmpl,
                 int *ret_fd, bool *created, char **why) {
        return mkdir_p(root_fd, path, mode, tmpl, false, ret_fd, created, why);
}
