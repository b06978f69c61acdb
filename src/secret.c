/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

int secret_read_file(const char *path, size_t max, int strip_newline, struct secret **ret) {
        _cleanup_close_ int fd = -1;
        _cleanup_secret_ struct secret *s = NULL;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
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
                        return -errno;
                }
                if (n == 0)
                        break;
                s->size += (size_t) n;
                if (s->size > max)
                        return -EFBIG;
        }
        if (strip_newline && s->size > 0 && s->data[s->size - 1] == '\n') {
                s->data[--s->size] = 0;
                if (s->size > 0 && s->data[s->size - 1] == '\r')
                        s->data[--s->size] = 0;
        }
        *ret = TAKE_PTR(s);
        return 0;
}
