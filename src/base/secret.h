/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* A key, passphrase or PIN. The pages are mlock'ed so they never reach swap,
 * and wiped with explicit_bzero before they are freed. Nothing else in the
 * program may hold a copy of secret bytes. */
struct secret {
        uint8_t *data;
        size_t size;     /* bytes in use */
        size_t alloc;    /* bytes allocated (and locked) */
};

/* A zeroed secret of `size` bytes (size may be 0: room for at least 1). */
int secret_new(size_t size, struct secret **ret);
/* A copy of `size` bytes; the caller wipes its own source. */
int secret_new_from(const void *data, size_t size, struct secret **ret);
/* `size` bytes from the kernel's random pool (getrandom, blocking until it
 * is initialised): a new secret, or into `p`. */
int secret_random(size_t size, struct secret **ret);
int secret_random_fill(void *p, size_t size);
/* The caps of the files a secret is read from. */
#define KEYFILE_MAX (8 * 1024 * 1024)
#define PIN_MAX 1024

/* Read a whole file (a keyfile or a PIN file); with strip_newline, one
 * trailing "\n" (or "\r\n") is dropped. Never more than max bytes. The file
 * is opened by safe_open_path(): only a regular file, never through a final
 * symlink, never blocking; `*why` (src/base/why.h) names it and the reason. */
int secret_read_file(const char *path, size_t max, int strip_newline, struct secret **ret, char **why);
/* The same for `name` beneath dir_fd (safe_open_at()). */
int secret_read_at(int dir_fd, const char *dir_name, const char *name, size_t max, int strip_newline,
                   struct secret **ret, char **why);
/* A PIN file: secret_read_file() with PIN_MAX and the newline dropped; an
 * empty or white-space-only PIN is refused (-ENODATA), naming the file. */
int secret_read_pin(const char *path, struct secret **ret, char **why);
void secret_free(struct secret *s);

static inline void secret_freep(struct secret **s) {
        secret_free(*s);
        *s = NULL;
}
#define _cleanup_secret_ __attribute__((cleanup(secret_freep)))
