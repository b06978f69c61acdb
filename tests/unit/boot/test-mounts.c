/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fsck options from the kernel command line, the overlay layout on the
 * tmpfs, and the mount-root test every idempotency check relies on. */
#include <fcntl.h>

#include "mounts.h"
#include "overlays.h"
#include "testutil.h"

/* fsck.mode= and fsck.repair= as the plan has them from the command line. */
static void plan_fsck(const char *cmdline, struct fsck_opts *ret) {
        strv errors = {};
        struct plan p;

        assert_int_equal(load_plan(NULL, cmdline, &p, &errors), 0);
        *ret = p.fsck;
        plan_done(&p);
}

static void test_fsck_options(void **state) {
        struct fsck_opts o;
        const char *argv[6];

        plan_fsck(NULL, &o);
        assert_int_equal(o.mode, FSCK_AUTO);
        assert_int_equal(o.repair, FSCK_REPAIR_PREEN);
        assert_int_equal(fsck_argv(&o, "/sbin/e2fsck", "/dev/vda1", argv), 3);
        assert_string_equal(argv[1], "-p");
        assert_null(argv[3]);

        plan_fsck("quiet fsck.mode=force fsck.repair=yes", &o);
        assert_int_equal(fsck_argv(&o, "/sbin/e2fsck", "/dev/vda1", argv), 4);
        assert_string_equal(argv[1], "-y");
        assert_string_equal(argv[2], "-f");
        assert_string_equal(argv[3], "/dev/vda1");

        plan_fsck("fsck.repair=no", &o);
        assert_int_equal(fsck_argv(&o, "e2fsck", "/dev/x", argv), 3);
        assert_string_equal(argv[1], "-n");

        /* The last one wins, as for every kernel option. */
        plan_fsck("fsck.mode=force fsck.mode=skip", &o);
        assert_int_equal(fsck_argv(&o, "e2fsck", "/dev/x", argv), 0);

        /* An unknown value is the default; a bare word says nothing; a
         * longer word is another option. */
        plan_fsck("fsck.mode=force fsck.mode=sometimes fsck.repair=yes fsck.repair", &o);
        assert_int_equal(o.mode, FSCK_AUTO);
        assert_int_equal(o.repair, FSCK_REPAIR_YES);
        plan_fsck("rd.fsck.mode=force xfsck.repair=no", &o);
        assert_int_equal(o.mode, FSCK_AUTO);
        assert_int_equal(o.repair, FSCK_REPAIR_PREEN);
}

static void test_overlay_dirs(void **state) {
        _cleanup_free_ char *u = NULL, *w = NULL;

        assert_int_equal(overlay_dirs("/etc", &u, &w), 0);
        assert_string_equal(u, "/run/usi-init/overlay/etc/.overlay/upper");
        assert_string_equal(w, "/run/usi-init/overlay/etc/.overlay/work");
        free(u);
        free(w);
        /* A nested ephemeral path never lands in its parent's upper dir. */
        assert_int_equal(overlay_dirs("/var/upper", &u, &w), 0);
        assert_string_equal(u, "/run/usi-init/overlay/var/upper/.overlay/upper");
}

static void test_mount_root(void **state) {
        int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(fd_is_mount_root(fd), 1);
        close(fd);
        fd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(fd_is_mount_root(fd), 0);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fsck_options),
                cmocka_unit_test(test_overlay_dirs),
                cmocka_unit_test(test_mount_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
