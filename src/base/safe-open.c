/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>

#include "root-fs.h"
#include "safe-open.h"
#include "why.h"
#include "util.h"

#define OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)

/* Write the refusal. File names and symlink targets come from the disk:
 * a control character in them (a newline forging a second log line, an
 * escape sequence for the console) is shown as '?'. */
_printf_(2, 3) static void say(char **why, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;

        if (!why)
                return;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        for (char *c = s; c && *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        *c = '?';
        free(*why);
        *why = s;
}

/* What a file is when it is not a regular file, and the errno it gets. */
static const struct {
        mode_t type;
        const char *what;
        int error;
} kinds[] = {
        { S_IFIFO,  "a FIFO",             EBADFD },
        { S_IFCHR,  "a character device", EBADFD },
        { S_IFBLK,  "a block device",     EBADFD },
        { S_IFSOCK, "a socket",           EBADFD },
        { S_IFDIR,  "a directory",        EISDIR },
        { S_IFLNK,  "a symlink",          ELOOP },
};

/* 0 for a regular file; else the refusal, naming what the file is. */
static int check_kind(mode_t mode, const char *shown, char **why) {
        if (S_ISREG(mode))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if ((mode & S_IFMT) == kinds[i].type) {
                        say(why, "%s is %s, not a regular file; refused", shown, kinds[i].what);
                        return -kinds[i].error;
                }
        say(why, "%s is not a regular file; refused", shown);
        return -EBADFD;
}

static int refuse_size(const char *shown, size_t max, char **why) {
        say(why, "%s is larger than %zu bytes; refused", shown, max);
        return -EFBIG;
}

/* The open failed: say why in terms of the file, not of the syscall. */
static int explain_open(int dir_fd, const char *dir_name, const char *name, const char *shown, int error, char **why) {
        struct stat st;

        if (error == ENOENT)
                say(why, "%s does not exist", shown);
        else if (error == EXDEV)
                say(why, "%s leads outside %s; refused", shown, dir_name);
        else if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                char to[256];
                ssize_t n = readlinkat(dir_fd, name, to, sizeof to - 1);
                to[n < 0 ? 0 : n] = '\0';
                say(why, "%s is a symlink (to %s); refused", shown, to);
        } else if (error == ELOOP)
                say(why, "%s leads through a symlink; refused", shown);
        else
                say(why, "cannot open %s: %s", shown, strerror(error));
        return -error;
}

/* Beneath dir_fd, the last component never followed; a symlink on the
 * way only when it stays beneath (openat_beneath()). */
static int open_below(int dir_fd, const char *name) {
        return openat_beneath(dir_fd, name, OPEN_FLAGS, false, false);
}

static int open_shown(int dir_fd, const char *dir_name, const char *name, const char *shown, size_t max,
                      int *ret_fd, char **why) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        /* A single component is looked at before it is opened, so that a
         * device node is refused without being opened at all (an open can
         * have effects: a tape rewinds, a tty becomes ours). The fstat after
         * the open is what decides. */
        if (!strchr(name, '/') && fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            !S_ISLNK(st.st_mode) && (r = check_kind(st.st_mode, shown, why)) < 0)
                return r;
        fd = open_below(dir_fd, name);
        if (fd < 0)
                return explain_open(dir_fd, dir_name, name, shown, -fd, why);
        if (fstat(fd, &st) < 0) {
                int e = errno;
                say(why, "cannot stat %s: %s", shown, strerror(e));
                return -e;
        }
        if ((r = check_kind(st.st_mode, shown, why)) < 0)
                return r;
        if ((uint64_t) st.st_size > max)
                return refuse_size(shown, max, why);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int read_shown(int fd, const char *shown, size_t max, char **ret, size_t *ret_len, char **why) {
        int r = read_full_fd(fd, max, ret, ret_len);

        if (r == -EFBIG)
                return refuse_size(shown, max, why);
        if (r < 0)
                say(why, "cannot read %s: %s", shown, strerror(-r));
        return r;
}

int safe_open_at(int dir_fd, const char *dir_name, const char *name, size_t max, int *ret_fd, char **why) {
        _cleanup_free_ char *shown = path_join(dir_name, name);

        if (!shown)
                return -ENOMEM;
        return open_shown(dir_fd, dir_name, name, shown, max, ret_fd, why);
}

int safe_read_at(int dir_fd, const char *dir_name, const char *name, size_t max,
                 char **ret, size_t *ret_len, char **why) {
        _cleanup_free_ char *shown = path_join(dir_name, name);
        _cleanup_close_ int fd = -1;
        int r;

        if (!shown)
                return -ENOMEM;
        if ((r = open_shown(dir_fd, dir_name, name, shown, max, &fd, why)) < 0)
                return r;
        return read_shown(fd, shown, max, ret, ret_len, why);
}

int safe_open_path(const char *path, size_t max, int *ret_fd, char **why) {
        _cleanup_free_ char *d = strdup(path), *b = strdup(path);
        _cleanup_close_ int dir_fd = -1;

        if (!d || !b)
                return -ENOMEM;
        const char *dir = dirname(d), *name = basename(b);
        /* "/", "dir/" and "." name a directory, never a file to read. */
        if (!*path || path[strlen(path) - 1] == '/' || streq(name, "/") || streq(name, ".") || streq(name, "..")) {
                say(why, "%s is not a file name; refused", path);
                return -EISDIR;
        }
        dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0) {
                int e = errno;
                if (e == ENOENT)
                        say(why, "%s does not exist", path);
                else
                        say(why, "cannot open the directory of %s: %s", path, strerror(e));
                return -e;
        }
        return open_shown(dir_fd, dir, name, path, max, ret_fd, why);
}

int safe_read_path(const char *path, size_t max, char **ret, size_t *ret_len, char **why) {
        _cleanup_close_ int fd = -1;
        int r = safe_open_path(path, max, &fd, why);

        if (r < 0)
                return r;
        return read_shown(fd, path, max, ret, ret_len, why);
}
