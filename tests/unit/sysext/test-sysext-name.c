/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "sysext-stage.h"
#include "sysext-verify.h"

static void expect_name(const char *path, const char *name, enum sysext_kind kind) {
        char *n = NULL;
        enum sysext_kind k;
        assert_int_equal(sysext_name_from_path(path, &n, &k, NULL), 0);
        assert_string_equal(n, name);
        assert_int_equal(k, kind);
        free(n);
}

static void expect_refused(const char *path, const char *words) {
        char *n = NULL, *why = NULL;
        assert_int_equal(sysext_name_from_path(path, &n, NULL, &why), -EINVAL);
        assert_null(n);
        if (!why || !strstr(why, words))
                fail_msg("reason '%s' lacks '%s'", why ? why : "(none)", words);
        free(why);
}

static void test_names(void **state) {
        expect_name("/.extra/sysext/foo.raw", "foo", SYSEXT_KIND_SYSEXT);
        expect_name("foo.sysext.raw", "foo", SYSEXT_KIND_SYSEXT);
        expect_name("dir/tools-1.2_x+y.sysext.RAW", "tools-1.2_x+y", SYSEXT_KIND_SYSEXT);
        expect_name("etc.confext.raw", "etc", SYSEXT_KIND_CONFEXT);
        /* Only the last suffix is the kind. */
        expect_name("a.confext.sysext.raw", "a.confext", SYSEXT_KIND_SYSEXT);
}

static void test_refused(void **state) {
        expect_refused("foo.img", "does not end in .raw");
        expect_refused(".raw", "does not end in .raw");
        expect_refused(".sysext.raw", "no valid extension name");
        expect_refused(".hidden.raw", "no valid extension name");
        expect_refused("sp ace.raw", "character other than");
        expect_refused("new\nline.raw", "character other than");
}

static void touch(const char *dir, const char *name) {
        char p[256];
        int fd;
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true(fd >= 0);
        close(fd);
}

/* The stub's choice: *.raw in any case, regular files, sorted by name. */
static void test_list_dir(void **state) {
        char dir[] = "/tmp/test-sysext-list.XXXXXX", p[256], cmd[300];
        strv l = {};
        int fd;

        assert_non_null(mkdtemp(dir));
        touch(dir, "b.raw");
        touch(dir, "a.RAW");
        touch(dir, "c.sysext.raw");
        touch(dir, "x.img");
        touch(dir, ".raw");
        snprintf(p, sizeof(p), "%s/link.raw", dir);
        assert_int_equal(symlink("b.raw", p), 0);
        snprintf(p, sizeof(p), "%s/sub.raw", dir);
        assert_int_equal(mkdir(p, 0755), 0);

        fd = open(dir, O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        assert_int_equal(sysext_list_dir(fd, "/.extra/sysext", 0, &l), 0);
        close(fd);
        assert_int_equal(l.n, 3);
        assert_string_equal(l.v[0], "/.extra/sysext/a.RAW");
        assert_string_equal(l.v[1], "/.extra/sysext/b.raw");
        assert_string_equal(l.v[2], "/.extra/sysext/c.sysext.raw");
        assert_null(l.v[3]);
        strv_clear(&l);
        /* Kairos enables an image by a symlink: listed when asked for. */
        fd = open(dir, O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        assert_int_equal(sysext_list_dir(fd, "/d", SYSEXT_LIST_SYMLINKS, &l), 0);
        close(fd);
        assert_int_equal(l.n, 4);
        assert_string_equal(l.v[2], "/d/c.sysext.raw");
        assert_string_equal(l.v[3], "/d/link.raw");
        strv_clear(&l);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_list_dir),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
