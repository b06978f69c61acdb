/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* openat_beneath(): the kernel's openat2(RESOLVE_BENEATH) and the walk in
 * user space that stands in for it where openat2 is missing (kernels before
 * 5.6, valgrind) answer every case alike: a relative symlink that stays
 * beneath is followed, one that climbs out or is absolute is -EXDEV, any
 * symlink is -ELOOP when none may be followed, the last component is
 * followed only when asked. The walk is forced by a seccomp filter that
 * answers openat2 with ENOSYS. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "root-fs.h"
#include "util.h"
#include "../no-openat2.h"

static char dir[] = "/tmp/test-root-fs.XXXXXX";
static int dir_fd = -1;

static const struct {
        const char *name;
        int flags;
        bool no_symlinks, follow_last;
        int want;               /* 0: opens, else -errno */
} cases[] = {
        { "a/b/file",           O_RDONLY, false, false, 0 },
        { "a/b/../b/file",      O_RDONLY, false, false, 0 },
        { "./a//b/file",        O_RDONLY, false, false, 0 },
        { "a/up/a/b/file",      O_RDONLY, false, false, 0 },            /* up -> .. stays beneath */
        { "a/up/a/b/file",      O_RDONLY, true,  false, -ELOOP },
        { "a/out/x",            O_RDONLY, false, false, -EXDEV },       /* out -> ../.. climbs out */
        { "abs/passwd",         O_RDONLY, false, false, -EXDEV },       /* abs -> /etc */
        { "../x",               O_RDONLY, false, false, -EXDEV },
        { "a/../../x",          O_RDONLY, false, false, -EXDEV },
        { "/etc/passwd",        O_RDONLY, false, false, -EXDEV },
        { "link",               O_RDONLY, false, false, -ELOOP },       /* link -> a/b/file */
        { "link",               O_RDONLY, false, true,  0 },
        { "link",               O_RDONLY, true,  true,  -ELOOP },
        { "a/b/loop1/x",        O_RDONLY, false, false, -ELOOP },
        { "a/missing/x",        O_RDONLY, false, false, -ENOENT },
        { "a/b/file/x",         O_RDONLY, false, false, -ENOTDIR },
        { "a/b",                O_RDONLY | O_DIRECTORY, false, false, 0 },
        { "a/b/..",             O_RDONLY | O_DIRECTORY, false, false, 0 },
};

static int setup(void **state) {
        (void) state;
        if (!mkdtemp(dir))
                return -1;
        dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 || mkdirat(dir_fd, "a", 0755) < 0 || mkdirat(dir_fd, "a/b", 0755) < 0)
                return -1;
        int f = openat(dir_fd, "a/b/file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (f < 0)
                return -1;
        close(f);
        return symlinkat("..", dir_fd, "a/up") | symlinkat("../..", dir_fd, "a/out") |
               symlinkat("/etc", dir_fd, "abs") | symlinkat("a/b/file", dir_fd, "link") |
               symlinkat("loop2", dir_fd, "a/b/loop1") | symlinkat("loop1", dir_fd, "a/b/loop2");
}

static int teardown(void **state) {
        char cmd[128];
        (void) state;
        close(dir_fd);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static int result(size_t i) {
        int fd = openat_beneath(dir_fd, cases[i].name, cases[i].flags, cases[i].no_symlinks, cases[i].follow_last);
        if (fd >= 0)
                close(fd);
        return fd >= 0 ? 0 : fd;
}

static void test_kernel(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = result(i);
                if (r != cases[i].want)
                        print_error("%s (no_symlinks %d, follow_last %d): %d, want %d\n", cases[i].name,
                                    cases[i].no_symlinks, cases[i].follow_last, r, cases[i].want);
                assert_int_equal(r, cases[i].want);
        }
}

static void test_walk(void **state) {
        int p[2], status, got[ELEMENTSOF(cases)];
        pid_t pid;

        (void) state;
        assert_int_equal(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {

                if (no_openat2() < 0)
                        _exit(77);
                alarm(10);
                for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                        got[i] = result(i);
                _exit(write(p[1], got, sizeof(got)) == (ssize_t) sizeof(got) ? 0 : 1);
        }
        close(p[1]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(read(p[0], got, sizeof(got)), (ssize_t) sizeof(got));
        close(p[0]);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                if (got[i] != cases[i].want)
                        print_error("walk: %s (no_symlinks %d, follow_last %d): %d, want %d\n", cases[i].name,
                                    cases[i].no_symlinks, cases[i].follow_last, got[i], cases[i].want);
                assert_int_equal(got[i], cases[i].want);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kernel),
                cmocka_unit_test(test_walk),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
