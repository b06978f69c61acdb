/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "log.h"

static size_t drain(int fd, char *buf, size_t size) {
        ssize_t n = read(fd, buf, size - 1);
        buf[n > 0 ? n : 0] = '\0';
        return n > 0 ? (size_t) n : 0;
}

static void test_kmsg_and_console(void **state) {
        int kmsg[2], console[2];
        char buf[4096];

        assert_int_equal(pipe2(kmsg, O_NONBLOCK), 0);
        assert_int_equal(pipe2(console, O_NONBLOCK), 0);
        log_open_fds(kmsg[1], console[1]);
        log_set_level(LOG_LEVEL_INFO);

        log_error("unlock %s: %s", "COS_OEM", "no TPM");
        drain(kmsg[0], buf, sizeof buf);
        assert_string_equal(buf, "<3>usi-init: unlock COS_OEM: no TPM\n");
        drain(console[0], buf, sizeof buf);
        assert_string_equal(buf, "usi-init: error: unlock COS_OEM: no TPM\n");

        /* an outside string cannot forge a second record or drive the console */
        log_warn("label %s", "x\n<3>usi-init: forged\x1b[2J");
        drain(kmsg[0], buf, sizeof buf);
        assert_string_equal(buf, "<4>usi-init: label x\\x0a<3>usi-init: forged\\x1b[2J\n");
        drain(console[0], buf, sizeof buf);

        log_warn("w");
        drain(kmsg[0], buf, sizeof buf);
        assert_string_equal(buf, "<4>usi-init: w\n");
        drain(console[0], buf, sizeof buf);
        assert_string_equal(buf, "usi-init: warning: w\n");

        /* below the level: nothing at all */
        log_debug("hidden");
        assert_int_equal(drain(kmsg[0], buf, sizeof buf), 0);

        /* debug (rd.usi.debug / --debug): to kmsg, not to the console */
        log_set_level(LOG_LEVEL_DEBUG);
        log_debug("d%d", 1);
        drain(kmsg[0], buf, sizeof buf);
        assert_string_equal(buf, "<7>usi-init: d1\n");
        assert_int_equal(drain(console[0], buf, sizeof buf), 0);

        log_close();
        close(kmsg[0]);
        close(console[0]);
}

static void test_returns_negative_errno(void **state) {
        int saved = errno = 42;

        log_set_level(LOG_LEVEL_ERR);
        assert_int_equal(log_error_errno(ENOENT, "x"), -ENOENT);
        assert_int_equal(log_error_errno(-EIO, "x"), -EIO);
        assert_int_equal(log_info("y"), 0);
        assert_int_equal(errno, saved); /* logging never changes errno */
}

static void test_stderr(void **state) {
        int p[2], saved = dup(STDERR_FILENO);
        char buf[512];

        assert_int_equal(pipe2(p, O_NONBLOCK), 0);
        dup2(p[1], STDERR_FILENO);
        log_open(LOG_TARGET_STDERR);
        log_set_level(LOG_LEVEL_INFO);
        log_info("plain %s", "line");
        log_error("bad");
        dup2(saved, STDERR_FILENO);
        drain(p[0], buf, sizeof buf);
        assert_string_equal(buf, "usi-init: plain line\nusi-init: error: bad\n");
        close(p[0]);
        close(p[1]);
        close(saved);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kmsg_and_console),
                cmocka_unit_test(test_returns_negative_errno),
                cmocka_unit_test(test_stderr),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
