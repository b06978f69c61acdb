/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small helpers shared by every file: cleanup attributes so early returns
 * never leak, and string predicates used all over the parsers. */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The size of a buffer for one sentence built in place (a libmount reason,
 * a note). Reasons handed up between functions are `char **why`
 * (src/base/why.h). */
#define WHY_MAX 512

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) { int e = errno; close(*fd); errno = e; } }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool streq_ptr(const char *a, const char *b) {
        return a == b || (a && b && strcmp(a, b) == 0);
}
static inline const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}
static inline const char *strempty(const char *s) { return s ? s : ""; }

/* Replace *dst with a copy of src (NULL allowed). Returns 0 or -ENOMEM. */
int free_and_strdup(char **dst, const char *src);

/* A growable, NULL-terminated array of owned strings. */
typedef struct strv {
        char **v;
        size_t n;
} strv;

int strv_push(strv *s, const char *str);
/* Format one sentence and push it: the warnings and notes that are shown
 * and recorded (cut at 4 KiB, as every line of the log). */
_printf_(2, 3) int strv_pushf(strv *s, const char *fmt, ...);
int strv_pushv(strv *s, const char *fmt, va_list ap);
void strv_clear(strv *s);
bool strv_contains(const strv *s, const char *str);
int strv_copy(strv *dst, const strv *src);

/* a + b (b may start with '/'), malloc'ed; NULL on OOM. */
char *path_join(const char *a, const char *b);

/* A message is one line of text: every byte outside printable ASCII (a
 * newline, an ANSI escape, a NUL-free remainder of anything) becomes \xNN.
 * Applied where sentences are made (why_set, the log, config errors), so
 * a string from outside input (a JSON field, a label, a file name, a config
 * value) can neither break a line nor drive a terminal. Writes at most
 * size bytes with the NUL, truncated on a whole escape; returns out. */
char *str_escape(const char *s, char *out, size_t size);
/* The same, malloc'ed; NULL when out of memory. */
char *str_escape_dup(const char *s);

/* Read fd to its end into a new NUL-terminated buffer. Never trusts
 * st_size (efivarfs and /proc report 0); -EFBIG past `max` bytes. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);

/* pread() until `size` bytes at `offset` are read. -EIO when the file ends
 * first (a device or image shorter than what it claims), else 0 or -errno. */
int pread_exact(int fd, void *buf, size_t size, uint64_t offset);

/* Microseconds of `id` (CLOCK_MONOTONIC: deadlines and durations;
 * CLOCK_BOOTTIME: the timeline since the kernel started). */
uint64_t clock_usec(clockid_t id);

/* Parse a decimal unsigned integer that must use the whole string. */
int safe_atou(const char *s, unsigned *ret);
