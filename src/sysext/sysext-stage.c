/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <strings.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "root-fs.h"
#include "log.h"
#include "sysext-stage.h"
#include "why.h"

#define COPY_CHUNK (1024 * 1024)

struct part_file {
        const char *suffix;
        int fd;
};

enum { FILE_VERITY, FILE_ROOTHASH, FILE_P7S, FILE_RAW, _FILE_MAX };

/* The link order: NAME.raw is what systemd-sysext looks for, so it comes
 * last, when its companions are in place. */
static const char *const file_suffix[_FILE_MAX] = {
        [FILE_VERITY] = ".verity",
        [FILE_ROOTHASH] = ".roothash",
        [FILE_P7S] = ".roothash.p7s",
        [FILE_RAW] = ".raw",
};

static int tmpfile_in(int dir_fd) {
        int fd = openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0444);
        return fd < 0 ? -errno : fd;
}

static int write_all(int fd, const void *buf, size_t size) {
        for (size_t done = 0; done < size;) {
                ssize_t k = write(fd, (const uint8_t *) buf + done, size - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                done += (size_t) k;
        }
        return 0;
}

/* Copy [off, off+size) of src to the start of dst, in chunks. copy_file_range
 * lets the kernel share extents where it can (reflinks on btrfs and XFS);
 * across file systems it may refuse, and plain reads take over. With
 * `consume`, each chunk is punched out of the source once it is written, so
 * source and copy together never hold much more than one image. */
static int copy_part(int src, uint64_t off, uint64_t size, int dst, bool consume) {
        _cleanup_free_ uint8_t *buf = NULL;
        bool use_cfr = true, punch = consume;
        uint64_t done = 0;

        while (done < size) {
                size_t want = (size - done) < COPY_CHUNK ? (size_t) (size - done) : COPY_CHUNK;
                ssize_t k = -1;

                if (use_cfr) {
                        loff_t in = (loff_t) (off + done), out = (loff_t) done;
                        k = copy_file_range(src, &in, dst, &out, want, 0);
                        if (k < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)) {
                                use_cfr = false;
                                k = -1;
                        } else if (k < 0 && errno != EINTR)
                                return -errno;
                }
                if (!use_cfr) {
                        if (!buf && !(buf = malloc(COPY_CHUNK)))
                                return -ENOMEM;
                        k = pread(src, buf, want, (off_t) (off + done));
                        if (k < 0 && errno != EINTR)
                                return -errno;
                        if (k > 0) {
                                int r = 0;
                                for (ssize_t w = 0; w < k && r == 0;) {
                                        ssize_t m = pwrite(dst, buf + w, (size_t) (k - w), (off_t) (done + (uint64_t) w));
                                        if (m < 0 && errno != EINTR)
                                                r = -errno;
                                        else if (m > 0)
                                                w += m;
                                }
                                if (r < 0)
                                        return r;
                        }
                }
                if (k == 0)
                        return -EIO;  /* the partition ends past the file */
                if (k < 0)
                        continue;     /* EINTR */
                if (punch && fallocate(src, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                       (off_t) (off + done), (off_t) k) < 0)
                        punch = false;  /* not on this file system: the unlink frees it later */
                done += (uint64_t) k;
        }
        return 0;
}

static void close_files(int fds[_FILE_MAX]) {
        for (int i = 0; i < _FILE_MAX; i++)
                if (fds[i] >= 0) {
                        close(fds[i]);
                        fds[i] = -1;
                }
}

static int link_files(int fds[_FILE_MAX], int dir_fd, const char *name, char **why) {
        int linked, err = -ENOMEM;

        for (linked = 0; linked < _FILE_MAX; linked++) {
                _cleanup_free_ char *fn = NULL;
                char p[FD_PATH_MAX];
                if (asprintf(&fn, "%s%s", name, file_suffix[linked]) < 0)
                        break;
                /* Through /proc: linking an O_TMPFILE by AT_EMPTY_PATH needs
                 * CAP_DAC_READ_SEARCH, this does not. */
                if (linkat(AT_FDCWD, fd_path(fds[linked], p), dir_fd, fn, AT_SYMLINK_FOLLOW) < 0) {
                        int e = errno;
                        err = why_set(why, e, e == EEXIST ? "%s is already staged" : "cannot link %s: %s",
                                      fn, strerror(e));
                        break;
                }
        }
        if (linked == _FILE_MAX)
                return 0;
        for (int i = 0; i < linked; i++) {
                _cleanup_free_ char *fn = NULL;
                if (asprintf(&fn, "%s%s", name, file_suffix[i]) >= 0)
                        (void) unlinkat(dir_fd, fn, 0);
        }
        return err;
}

/* Is NAME already staged (an image of the same name came first)? Checked
 * before the copy, so a duplicate costs nothing and, consumed, frees its
 * memory at once. */
static int already_staged(int dir_fd, const char *name, char **why) {
        _cleanup_free_ char *fn = NULL;

        if (asprintf(&fn, "%s%s", name, file_suffix[FILE_RAW]) < 0)
                return -ENOMEM;
        if (faccessat(dir_fd, fn, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        return why_set(why, EEXIST, "%s is already staged (an image of that name came first)", fn);
}

/* Refused before the copy: an image that does not fit the cap or the file
 * system, so a large one never fills the staging directory first. The
 * sizes are the verified ones (verity-sb.h), not the GPT's. */
static int check_room(int dir_fd, const char *name, uint64_t need, const uint64_t *room, bool consume, char **why) {
        struct statvfs sv;

        if (room && need > *room)
                return why_set(why, EFBIG, "extension %s needs %" PRIu64 " bytes, more than the %" PRIu64
                               " bytes left of the staging cap", name, need, *room);
        /* Consumed, the source frees its blocks as the copy grows: free
         * space now says nothing then. */
        if (!consume && fstatvfs(dir_fd, &sv) == 0 && sv.f_frsize > 0 && need / sv.f_frsize >= (uint64_t) sv.f_bavail)
                return why_set(why, ENOSPC, "extension %s needs %" PRIu64 " bytes, more than the %" PRIu64
                               " bytes free in the staging directory", name, need,
                               (uint64_t) sv.f_bavail * sv.f_frsize);
        return 0;
}

int sysext_stage_image(const struct sysext_source *s, const struct sysext_anchor *anchor, int dir_fd,
                       unsigned flags, uint64_t *room, char **ret_name, enum sysext_kind *ret_kind, char **why) {
        _cleanup_close_ int src = -1;
        struct sysext_image img = {};
        int fds[_FILE_MAX] = { -1, -1, -1, -1 };
        bool consume = flags & SYSEXT_STAGE_CONSUME;
        char pd[FD_PATH_MAX], ph[FD_PATH_MAX];
        uint64_t t0 = clock_usec(CLOCK_MONOTONIC), t1, t2, need;
        const char *path = s->path;
        struct stat st;
        int r;

        r = sysext_name_from_path(path, &img.name, &img.kind, why);
        if (r < 0)
                return r;
        if (s->confext)
                img.kind = SYSEXT_KIND_CONFEXT;
        /* O_NONBLOCK: a FIFO or device planted under an image's name must
         * not hold the boot in open(); only a regular file goes on. */
        src = openat(s->dir_fd, s->file, (consume ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (src < 0 && consume && (errno == EACCES || errno == EROFS))
                src = openat(s->dir_fd, s->file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (src < 0) {
                /* Never through a symlink: in a writable directory it could
                 * aim the hole punching of --consume at another file. */
                r = why_set(why, errno, errno == ELOOP ? "is a symlink; name the image itself" : "cannot open: %m");
                goto out;
        }
        if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
                r = why_set(why, EINVAL, "is not a regular file");
                goto out;
        }
        if (!(flags & SYSEXT_STAGE_CHECK_ONLY) && (r = already_staged(dir_fd, img.name, why)) < 0)
                goto out;
        r = sysext_inspect(src, anchor, &img, why);
        if (r < 0)
                goto out;
        t1 = clock_usec(CLOCK_MONOTONIC);
        need = img.data.size + img.hash.size + img.p7s_size + strlen(img.roothash_hex);
        r = check_room(dir_fd, img.name, need, room, consume, why);
        if (r < 0)
                goto out;

        for (int i = 0; i < _FILE_MAX; i++) {
                fds[i] = tmpfile_in(dir_fd);
                if (fds[i] < 0) {
                        r = why_set(why, fds[i], "cannot create a file in the staging directory: %s", strerror(-fds[i]));
                        goto out;
                }
        }
        r = copy_part(src, img.hash.offset, img.hash.size, fds[FILE_VERITY], consume);
        if (r >= 0)
                r = copy_part(src, img.data.offset, img.data.size, fds[FILE_RAW], consume);
        if (r < 0) {
                r = why_set(why, r, "cannot copy the partitions: %s", strerror(-r));
                goto out;
        }
        /* The tree is checked on the copies: they are what the final OS
         * mounts, and no one but us can write them. */
        t2 = clock_usec(CLOCK_MONOTONIC);
        r = sysext_verify_hash_tree(fd_path(fds[FILE_RAW], pd), fd_path(fds[FILE_VERITY], ph), 0, &img, why);
        if (r < 0)
                goto out;
        log_debug("sysext %s: %s partition %u (%" PRIu64 " bytes), verity %u, signature %u by %s; "
                  "checked in %" PRIu64 " ms, copied in %" PRIu64 " ms, hash tree verified in %" PRIu64 " ms",
                  path, img.designator, img.data.number, img.data.size, img.hash.number, img.sig.number,
                  strempty(img.signer), (t1 - t0) / 1000, (t2 - t1) / 1000, (clock_usec(CLOCK_MONOTONIC) - t2) / 1000);
        if (flags & SYSEXT_STAGE_CHECK_ONLY)
                goto done;
        if (room)
                *room -= need;

        r = write_all(fds[FILE_ROOTHASH], img.roothash_hex, strlen(img.roothash_hex));
        if (r >= 0)
                r = write_all(fds[FILE_P7S], img.p7s, img.p7s_size);
        if (r < 0) {
                r = why_set(why, r, "cannot write the root hash files: %s", strerror(-r));
                goto out;
        }
        r = link_files(fds, dir_fd, img.name, why);
        if (r < 0)
                goto out;
done:
        if (ret_kind)
                *ret_kind = img.kind;
        if (ret_name)
                *ret_name = TAKE_PTR(img.name);
        r = 0;
out:
        close_files(fds);
        if (consume && src >= 0)
                (void) unlinkat(s->dir_fd, s->file, 0);
        sysext_image_done(&img);
        return r;
}

void sysext_results_free(struct sysext_result *r, size_t n) {
        for (size_t i = 0; r && i < n; i++) {
                free(r[i].path);
                free(r[i].name);
                free(r[i].reason);
        }
        free(r);
}

int sysext_stage_all(const struct sysext_source *src, size_t n, const struct sysext_anchor *anchor, int ext_fd,
                     int confext_fd, unsigned flags, uint64_t *room, struct sysext_result **ret) {
        struct sysext_result *res = calloc(n ? n : 1, sizeof(*res));
        bool no_anchor = sysext_anchor_count(anchor) == 0;
        int accepted = 0;

        if (!res)
                return -ENOMEM;
        if (no_anchor && n > 0 && !(flags & SYSEXT_STAGE_QUIET))
                log_warn("sysext: no trust-anchor certificate (none in /usr/lib/verity.d or /etc/verity.d, "
                         "none from the EFI variables): no extension is staged");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *name = NULL, *why = NULL;
                enum sysext_kind kind = SYSEXT_KIND_SYSEXT;
                int r, fd = ext_fd;

                res[i].path = strdup(src[i].path);
                if (!res[i].path)
                        goto oom;
                if (no_anchor)
                        r = why_set(&why, ENOKEY, "no trust anchor");
                else {
                        /* Confexts go elsewhere: find the kind before staging. */
                        _cleanup_free_ char *probe = NULL;
                        if (src[i].confext || (sysext_name_from_path(src[i].path, &probe, &kind, NULL) >= 0 &&
                                               kind == SYSEXT_KIND_CONFEXT)) {
                                kind = SYSEXT_KIND_CONFEXT;
                                fd = confext_fd;
                        }
                        if (fd < 0)
                                r = why_set(&why, EOPNOTSUPP, "confexts are not enabled");
                        else
                                r = sysext_stage_image(&src[i], anchor, fd, flags, room, &name, &kind, &why);
                }
                if (r == -ENOMEM)
                        goto oom;
                res[i].kind = kind;
                if (r < 0) {
                        res[i].reason = TAKE_PTR(why);
                        if (!res[i].reason && !(res[i].reason = strdup(strerror(-r))))
                                goto oom;
                        if (!(flags & SYSEXT_STAGE_QUIET))
                                log_warn("sysext %s: rejected: %s", src[i].path, res[i].reason);
                        continue;
                }
                if (!(flags & SYSEXT_STAGE_QUIET))
                        log_info("sysext %s: accepted as %s", src[i].path, name);
                res[i].name = TAKE_PTR(name);
                accepted++;
        }
        *ret = res;
        return accepted;
oom:
        sysext_results_free(res, n);
        return -ENOMEM;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int sysext_list_dir(int dir_fd, const char *dir_path, unsigned flags, strv *ret) {
        _cleanup_close_ int fd = -1;
        strv names = {}, paths = {};
        struct dirent *de;
        DIR *d;
        int r = 0;

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1;
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                struct stat st;

                if (n <= 4 || strcasecmp(de->d_name + n - 4, ".raw") != 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !(S_ISREG(st.st_mode) || (S_ISLNK(st.st_mode) && (flags & SYSEXT_LIST_SYMLINKS)))) {
                        log_warn("sysext %s/%s: skipped: not a regular file", dir_path, de->d_name);
                        continue;
                }
                r = strv_push(&names, de->d_name);
                if (r < 0)
                        break;
        }
        closedir(d);
        if (r >= 0 && names.n > 1)
                qsort(names.v, names.n, sizeof(char *), cmp_str);
        for (size_t i = 0; r >= 0 && i < names.n; i++) {
                _cleanup_free_ char *p = path_join(dir_path, names.v[i]);
                r = p ? strv_push(&paths, p) : -ENOMEM;
        }
        strv_clear(&names);
        if (r < 0) {
                strv_clear(&paths);
                return r;
        }
        strv_clear(ret);
        *ret = paths;
        return 0;
}

