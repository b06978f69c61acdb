/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "log.h"

static enum log_level max_level = LOG_LEVEL_INFO;
static enum log_target target = LOG_TARGET_STDERR;
static int kmsg_fd = -1;
static int console_fd = -1;

void log_set_level(enum log_level level) { max_level = level; }
enum log_level log_get_level(void) { return max_level; }

int log_open(enum log_target t) {
        log_close();
        target = t;
        if (t != LOG_TARGET_KMSG)
                return 0;

        /* Both are best effort: an early PID 1 may lack either, and logging must
         * never be the reason a boot stops. */
        kmsg_fd = open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        console_fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (kmsg_fd < 0 && console_fd < 0) {
                target = LOG_TARGET_STDERR;
                return -errno;
        }
        return 0;
}

void log_open_fds(int kmsg, int console) {
        log_close();
        target = LOG_TARGET_KMSG;
        kmsg_fd = kmsg;
        console_fd = console;
}

void log_close(void) {
        if (kmsg_fd >= 0)
                close(kmsg_fd);
        if (console_fd >= 0)
                close(console_fd);
        kmsg_fd = console_fd = -1;
        target = LOG_TARGET_STDERR;
}

static const char *level_word(enum log_level l) {
        switch (l) {
        case LOG_LEVEL_ERR: return "error: ";
        case LOG_LEVEL_WARN: return "warning: ";
        default: return "";
        }
}

static void write_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                buf += n;
                len -= (size_t) n;
        }
}

int log_full_errno(enum log_level level, int error, const char *fmt, ...) {
        int saved = errno;
        char raw[2048], msg[2048], line[2200];
        va_list ap;
        int n;

        if (error < 0)
                error = -error;
        if (level > max_level)
                goto out;

        va_start(ap, fmt);
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        /* One record, one line: a newline or an ANSI escape from an outside
         * string would forge another record or drive the console. */
        str_escape(raw, msg, sizeof msg);

        if (target == LOG_TARGET_KMSG) {
                /* kmsg takes one record per write; the console gets the same words
                 * a person reads on a serial line. */
                if (kmsg_fd >= 0) {
                        n = snprintf(line, sizeof line, "<%d>usi-init: %s\n", (int) level, msg);
                        write_all(kmsg_fd, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
                }
                if (console_fd >= 0 && level <= LOG_LEVEL_INFO) {
                        n = snprintf(line, sizeof line, "usi-init: %s%s\n", level_word(level), msg);
                        write_all(console_fd, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
                }
        } else {
                n = snprintf(line, sizeof line, "usi-init: %s%s\n", level_word(level), msg);
                write_all(STDERR_FILENO, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
        }
out:
        errno = saved;
        return -error;
}
