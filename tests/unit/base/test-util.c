/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util.h"
#include "why.h"

static int pipe_with(const char *data, size_t len) {
        int p[2];

        assert_int_equal(pipe(p), 0);
        assert_int_equal(write(p[1], data, len), (ssize_t) len);
        close(p[1]);
        return p[0];
}

static void test_read_full_fd(void **state) {
        char big[10000];
        char *s = NULL;
        size_t n = 0;
        int fd;

        /* a pipe, like efivarfs, has no size to trust: read to the end */
        memset(big, 'x', sizeof big);
        fd = pipe_with(big, sizeof big);
        assert_int_equal(read_full_fd(fd, sizeof big, &s, &n), 0);
        assert_int_equal(n, sizeof big);
        assert_int_equal(s[n], '\0');
        assert_memory_equal(s, big, sizeof big);
        free(s);
        close(fd);

        /* one byte over the limit */
        fd = pipe_with(big, sizeof big);
        assert_int_equal(read_full_fd(fd, sizeof big - 1, &s, &n), -EFBIG);
        close(fd);

        /* empty: an empty string, not NULL */
        fd = pipe_with("", 0);
        assert_int_equal(read_full_fd(fd, 10, &s, &n), 0);
        assert_int_equal(n, 0);
        assert_string_equal(s, "");
        free(s);
        close(fd);

        /* binary data keeps its NULs */
        fd = pipe_with("a\0b", 3);
        assert_int_equal(read_full_fd(fd, 3, &s, NULL), 0);
        assert_memory_equal(s, "a\0b", 3);
        free(s);
        close(fd);

        assert_int_equal(read_full_fd(-1, 10, &s, &n), -EBADF);
}

static void test_path_join(void **state) {
        char *s;

        assert_string_equal(s = path_join("/sysroot", "/etc/x"), "/sysroot/etc/x");
        free(s);
        assert_string_equal(s = path_join("", "/etc/x"), "/etc/x");
        free(s);
        assert_string_equal(s = path_join("/a/", "/b"), "/a/b");
        free(s);
        assert_string_equal(s = path_join("/a", "b"), "/a/b");
        free(s);
}

/* A message stays one line of plain text whatever an outside string holds. */
static void test_escape(void **state) {
        char buf[16];
        _cleanup_free_ char *d = str_escape_dup("a\nb\x1b[31mc\xc3\xa9\\x");
        _cleanup_free_ char *why = NULL;

        assert_string_equal(d, "a\\x0ab\\x1b[31mc\\xc3\\xa9\\x");
        /* truncated on a whole escape */
        assert_string_equal(str_escape("abcdefghijk\n", buf, 15), "abcdefghijk");
        assert_string_equal(str_escape("abcdefghijk\n", buf, sizeof buf), "abcdefghijk\\x0a");
        assert_int_equal(why_set(&why, EBADMSG, "pol %s", "x\nusi-init: error: forged\x1b[2J"), -EBADMSG);
        assert_string_equal(why, "pol x\\x0ausi-init: error: forged\\x1b[2J");
        why_prefix(&why, "file %s", "a\rb");
        assert_string_equal(why, "file a\\x0db: pol x\\x0ausi-init: error: forged\\x1b[2J");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_full_fd),
                cmocka_unit_test(test_path_join),
                cmocka_unit_test(test_escape),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
