/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A private directory on tmpfs (/dev/shm, else TMPDIR or /tmp) for targets
 * whose code reads files by name: made at start-up, emptied and removed at
 * exit. */

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[96];
static int fuzz_dir_fd = -1;

static void fuzz_tmpdir_remove(void) {
        DIR *d = opendir(fuzz_dir);
        struct dirent *e;

        while (d && (e = readdir(d)))
                if (e->d_name[0] != '.')
                        (void) unlinkat(fuzz_dir_fd, e->d_name, 0);
        if (d)
                closedir(d);
        rmdir(fuzz_dir);
}

static void fuzz_tmpdir(const char *name) {
        const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

        snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/%s-XXXXXX", tmp, name);
        if (!mkdtemp(fuzz_dir) || (fuzz_dir_fd = open(fuzz_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                abort();
        atexit(fuzz_tmpdir_remove);
}

/* The file `name` in the directory, holding exactly data[0..size). */
static int fuzz_tmpdir_write(const char *name, const uint8_t *data, size_t size) {
        int fd = openat(fuzz_dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int r = 0;

        if (fd < 0)
                return -1;
        if (size && write(fd, data, size) != (ssize_t) size)
                r = -1;
        close(fd);
        return r;
}
