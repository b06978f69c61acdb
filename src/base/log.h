/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>

#include "util.h"

/* syslog priorities, as /dev/kmsg expects them in its "<N>" prefix. */
enum log_level {
        LOG_LEVEL_ERR = 3,
        LOG_LEVEL_WARN = 4,
        LOG_LEVEL_INFO = 6,
        LOG_LEVEL_DEBUG = 7,
};

enum log_target {
        LOG_TARGET_STDERR,  /* run by hand: plain lines on stderr */
        LOG_TARGET_KMSG,    /* PID 1: /dev/kmsg with "<prio>usi-init: " and the console */
};

/* The only global mutable state of the program (see DESIGN.md). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Open the targets. KMSG opens /dev/kmsg and /dev/console; when both are
 * missing it falls back to stderr. */
int log_open(enum log_target target);
/* The same with descriptors already open (taken over; -1 = none); for tests
 * and for a PID 1 that opened them itself. */
void log_open_fds(int kmsg, int console);
void log_close(void);

/* Returns -abs(error) so callers can write `return log_error_errno(r, ...)`. */
_printf_(3, 4) int log_full_errno(enum log_level level, int error, const char *fmt, ...);

#define log_error(...) log_full_errno(LOG_LEVEL_ERR, 0, __VA_ARGS__)
#define log_warn(...) log_full_errno(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_LEVEL_ERR, (e), __VA_ARGS__)
#define log_warn_errno(e, ...) log_full_errno(LOG_LEVEL_WARN, (e), __VA_ARGS__)
