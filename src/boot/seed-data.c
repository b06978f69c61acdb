/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "seed-data.h"

/* The answers meaning "not between these two files" (another file system,
 * a file system without it, an old kernel), as opposed to an I/O error. */
static bool refused(int e) {
        return e == EXDEV || e == EINVAL || e == EOPNOTSUPP || e == ENOSYS;
}

/* One in-kernel way until the end: 1 when done, 0 when refused before any
 * byte moved or after some did (the offsets moved with them, so the next
 * way goes on from there), or a negative errno. */
static int copy_kernel(int in, int out, enum copy_way way) {
        for (;;) {
                ssize_t n = way == COPY_RANGE ? copy_file_range(in, NULL, out, NULL, 1 << 30, 0)
                                              : sendfile(out, in, NULL, 1 << 30);
                if (n == 0)
                        return 1;
                if (n < 0)
                        return refused(errno) ? 0 : -errno;
        }
}

int copy_data(int in, int out, enum copy_way *way) {
        for (; *way < COPY_READ_WRITE; (*way)++) {
                int r = copy_kernel(in, out, *way);
                if (r != 0)
                        return r < 0 ? r : 0;
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
