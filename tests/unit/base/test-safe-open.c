/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The reader of files from outside-controlled places: each kind of file an
 * attacker can leave there is refused by name, and none of them can hang. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "safe-open.h"
#include "util.h"
#include "../no-openat2.h"

static char dir[] = "/tmp/test-safe-open.XXXXXX";
static int dir_fd = -1;

static void put(const char *name, const char *text, size_t len) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t) len);
}

static int setup(void **state) {
        (void) state;
        assert_non_null(mkdtemp(dir));
        dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(dir_fd >= 0);
        assert_int_equal(mkdirat(dir_fd, "d", 0755), 0);
        put("ok", "hello\n", 6);
        put("secret", "outside\n", 8);
        assert_int_equal(mkfifoat(dir_fd, "d/fifo", 0644), 0);
        assert_int_equal(symlinkat("../secret", dir_fd, "d/out"), 0);
        assert_int_equal(symlinkat("/dev/zero", dir_fd, "d/zero"), 0);
        assert_int_equal(symlinkat("..", dir_fd, "d/up"), 0);
        assert_int_equal(symlinkat("x\ny\033[2J", dir_fd, "d/nl"), 0);
        assert_int_equal(mkdirat(dir_fd, "d/sub", 0755), 0);
        /* A regular file one byte over the cap used below. */
        char big[101];
        memset(big, 'x', sizeof big);
        put("d/big", big, sizeof big);
        put("d/fits", big, sizeof big - 1);
        return 0;
}

static int teardown(void **state) {
        (void) state;
        char cmd[64];

        close(dir_fd);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

/* Read NAME beneath DIR/d with a cap of 100 bytes; the reason in why. */
static int read_in_d(const char *name, char **why) {
        _cleanup_close_ int d = openat(dir_fd, "d", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char *shown = path_join(dir, "d");
        size_t n = 0;

        assert_true(d >= 0);
        return safe_read_at(d, shown, name, 100, &buf, &n, why);
}

static void expect_refused(const char *name, int error, const char *words) {
        _cleanup_free_ char *why = NULL;
        int r = read_in_d(name, &why);

        if (r != -error || !strstr(why, words) || !strstr(why, name))
                print_error("%s: got %d (%s), why '%s'\n", name, r, strerror(-r), why);
        assert_int_equal(r, -error);
        assert_non_null(strstr(why, words));
        assert_non_null(strstr(why, name));
}

static void test_regular(void **state) {
        (void) state;
        _cleanup_free_ char *p = path_join(dir, "ok");
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char *why = NULL;
        size_t n = 0;

        assert_int_equal(safe_read_path(p, 100, &buf, &n, &why), 0);
        assert_int_equal(n, 6);
        assert_string_equal(buf, "hello\n");
        free(buf);
        buf = NULL;
        /* exactly the cap is fine */
        assert_int_equal(read_in_d("fits", &why), 0);
}

static void test_fifo(void **state) {
        (void) state;
        /* Without O_NONBLOCK the open would wait for a writer forever. */
        alarm(10);
        expect_refused("fifo", EBADFD, "is a FIFO");
        alarm(0);
}

static void test_symlinks(void **state) {
        (void) state;
        expect_refused("out", ELOOP, "is a symlink (to ../secret)");
        expect_refused("zero", ELOOP, "is a symlink (to /dev/zero)");
        /* through a symlink in the middle, out of the directory */
        expect_refused("up/secret", EXDEV, "leads outside");
        expect_refused("../secret", EXDEV, "leads outside");
        expect_refused("/etc/passwd", EXDEV, "leads outside");
        /* the disk's bytes never reach the console raw */
        expect_refused("nl", ELOOP, "is a symlink (to x?y?[2J)");
}

static void test_device_node(void **state) {
        (void) state;
        if (mknodat(dir_fd, "d/chr", S_IFCHR | 0666, makedev(1, 5)) < 0)
                skip();
        expect_refused("chr", EBADFD, "is a character device");
}

static void test_not_files(void **state) {
        (void) state;
        expect_refused("sub", EISDIR, "is a directory");
        expect_refused("big", EFBIG, "is larger than 100 bytes");
        expect_refused("missing", ENOENT, "does not exist");
}

static void test_size_not_trusted(void **state) {
        (void) state;
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char *why = NULL;
        size_t n = 0;

        /* procfs says 0 bytes; the content is longer than 4. */
        assert_int_equal(safe_read_path("/proc/self/status", 4, &buf, &n, &why), -EFBIG);
        assert_non_null(strstr(why, "/proc/self/status is larger than 4 bytes"));
}

static void test_paths(void **state) {
        (void) state;
        _cleanup_free_ char *fifo = path_join(dir, "d/fifo");
        _cleanup_free_ char *out = path_join(dir, "d/out");
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char *why = NULL;
        size_t n = 0;
        int fd = -1;

        alarm(10);
        assert_int_equal(safe_read_path(fifo, 100, &buf, &n, &why), -EBADFD);
        alarm(0);
        assert_non_null(strstr(why, fifo));
        assert_int_equal(safe_open_path(out, 100, &fd, &why), -ELOOP);
        assert_non_null(strstr(why, "is a symlink"));
        assert_int_equal(safe_open_path(dir, 100, &fd, &why), -EISDIR);
        assert_int_equal(safe_open_path("/", 100, &fd, &why), -EISDIR);
        assert_int_equal(safe_open_path("", 100, &fd, &why), -EISDIR);
        assert_int_equal(fd, -1);
}

/* A kernel without openat2 (before 5.6): seccomp makes the syscall answer
 * ENOSYS in a child, and the fallback still refuses what it can see. */
static void test_without_openat2(void **state) {
        (void) state;
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                _cleanup_free_ char *why = NULL;

                if (no_openat2() < 0)
                        _exit(77);
                alarm(10);
                _exit(read_in_d("fits", &why) == 0 &&
                      read_in_d("fifo", &why) == -EBADFD && strstr(why, "is a FIFO") &&
                      read_in_d("out", &why) == -ELOOP && strstr(why, "is a symlink") &&
                      read_in_d("../secret", &why) == -EXDEV && strstr(why, "leads outside") &&
                      read_in_d("up/secret", &why) == -EXDEV && strstr(why, "leads outside") &&
                      read_in_d("/etc/passwd", &why) == -EXDEV &&
                      read_in_d("big", &why) == -EFBIG ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_regular),
                cmocka_unit_test(test_fifo),
                cmocka_unit_test(test_symlinks),
                cmocka_unit_test(test_device_node),
                cmocka_unit_test(test_not_files),
                cmocka_unit_test(test_size_not_trusted),
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_without_openat2),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
