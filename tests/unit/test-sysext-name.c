/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
