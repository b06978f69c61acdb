/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "safe-open.h"
#include "why.h"
#include "secret.h"
#include "util.h"

int secret_new(size_t size, struct secret **ret) {
        struct secret *s;
        size_t alloc = size ? size : 1;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->data = calloc(1, alloc);
        if (!s->data) {
                free(s);
                return -ENOMEM;
        }
        /* mlock may fail without CAP_IPC_LOCK under a low RLIMIT_MEMLOCK; the
         * wipe still happens, so a refusal to lock is not fatal. */
        (void) mlock(s->data, alloc);
        s->size = size;
        s->alloc = alloc;
        *ret = s;
        return 0;
}

int secret_new_from(const void *data, size_t size, struct secret **ret) {
        int r = secret_new(size, ret);
        if (r < 0)
                return r;
        if (size)
                memcpy((*ret)->data, data, size);
        return 0;
}

void secret_free(struct secret *s) {
        if (!s)
                return;
        if (s->data) {
                explicit_bzero(s->data, s->alloc);
                (void) munlock(s->data, s->alloc);
                free(s->data);
        }
        free(s);
}

/* Read what safe_open_*() opened; `path` names it in `why`. */
static int read_fd(int fd, const char *path, size_t max, int strip_newline, struct secret **ret, char **why) {
        _cleanup_secret_ struct secret *s = NULL;
        int r;

        /* One byte more than allowed, so an oversized file is detected. */
        r = secret_new(max + 1, &s);
        if (r < 0)
                return r;
        s->size = 0;
        for (;;) {
                ssize_t n = read(fd, s->data + s->size, s->alloc - s->size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        why_set(why, 0, "cannot read %s: %s", path, strerror(-r));
                        return r;
                }
                if (n == 0)
                        break;
                s->size += (size_t) n;
                if (s->size > max) {
                        why_set(why, 0, "%s is larger than %zu bytes; refused", path, max);
                        return -EFBIG;
                }
        }
        if (strip_newline && s->size > 0 && s->data[s->size - 1] == '\n') {
                s->data[--s->size] = 0;
                if (s->size > 0 && s->data[s->size - 1] == '\r')
                        s->data[--s->size] = 0;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int secret_read_file(const char *path, size_t max, int strip_newline, struct secret **ret, char **why) {
        _cleanup_close_ int fd = -1;
        int r = safe_open_path(path, max, &fd, why);

        return r < 0 ? r : read_fd(fd, path, max, strip_newline, ret, why);
}

int secret_read_pin(const char *path, struct secret **ret, char **why) {
        _cleanup_secret_ struct secret *s = NULL;
        int r = secret_read_file(path, PIN_MAX, true, &s, why);

        if (r < 0)
                return r;
        /* A blank PIN would still be sent to the TPM, and a wrong one costs
         * a dictionary-attack attempt: refuse it before any TPM command. */
        for (size_t i = 0; i < s->size; i++)
                if (!strchr(" \t\r\n", s->data[i]))
                        return *ret = TAKE_PTR(s), 0;
        return why_set(why, ENODATA, "PIN file %s is empty or only white space; refused before any TPM command", path);
}

int secret_read_at(int dir_fd, const char *dir_name, const char *name, size_t max, int strip_newline,
                   struct secret **ret, char **why) {
        _cleanup_free_ char *shown = path_join(dir_name, name);
        _cleanup_close_ int fd = -1;
        int r;

        if (!shown)
                return -ENOMEM;
        r = safe_open_at(dir_fd, dir_name, name, max, &fd, why);
        return r < 0 ? r : read_fd(fd, shown, max, strip_newline, ret, why);
}

int secret_random_fill(void *p, size_t size) {
        uint8_t *q = p;

        while (size > 0) {
                ssize_t k = getrandom(q, size, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                q += k;
                size -= (size_t) k;
        }
        return 0;
}

int secret_random(size_t size, struct secret **ret) {
        _cleanup_secret_ struct secret *s = NULL;
        int r = secret_new(size, &s);

        if (r >= 0)
                r = secret_random_fill(s->data, size);
        if (r >= 0)
                *ret = TAKE_PTR(s);
        return r;
}
