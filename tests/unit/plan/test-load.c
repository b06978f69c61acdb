/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The /oem layer of plan_load(): a file there that safe-open refuses is left
 * out with a note naming it, and the rest of /oem still applies. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "load.h"

static void put(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = path_join(dir, name);
        _cleanup_fclose_ FILE *f = p ? fopen(p, "we") : NULL;

        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
}

static bool has_bind(const struct plan *p, const char *path) {
        for (size_t i = 0; i < p->n_binds; i++)
                if (streq(p->binds[i].path, path))
                        return true;
        return false;
}

static bool has_note(const struct plan *p, const char *a, const char *b) {
        for (size_t i = 0; i < p->notes.n; i++)
                if (strstr(p->notes.v[i], a) && strstr(p->notes.v[i], b))
                        return true;
        return false;
}

static void test_oem_refused_files(void **state) {
        (void) state;
        char root[] = "/tmp/test-load-XXXXXX", cmd[64];
        struct plan_inputs o = PLAN_INPUTS_INIT;
        struct cmdline cl;
        struct plan p;
        strv errors = {};

        assert_non_null(mkdtemp(root));
        _cleanup_free_ char *oem = path_join(root, "oem"), *etc = path_join(root, "etc");
        _cleanup_free_ char *fifo = path_join(oem, "usi-init.yaml"), *link = path_join(oem, "10_out.yaml");
        assert_int_equal(mkdir(oem, 0755), 0);
        assert_int_equal(mkdir(etc, 0755), 0);
        /* Both would add /var/lib/leak if they were read. */
        put(etc, "leak.yaml", "#cloud-config\ninstall:\n  bind_mounts: [/var/lib/leak]\n");
        assert_int_equal(mkfifo(fifo, 0644), 0);
        assert_int_equal(symlink("../etc/leak.yaml", link), 0);
        put(oem, "90_ok.yaml", "#cloud-config\ninstall:\n  bind_mounts: [/var/lib/custom]\n");

        o.root = root;
        cmdline_init(&cl);
        alarm(10);
        assert_int_equal(plan_load(&o, true, &cl, &p, &errors), 0);
        alarm(0);
        assert_int_equal(errors.n, 0);
        assert_true(has_note(&p, fifo, "is a FIFO"));
        assert_true(has_note(&p, link, "is a symlink (to ../etc/leak.yaml)"));
        assert_true(has_bind(&p, "/var/lib/custom"));
        assert_false(has_bind(&p, "/var/lib/leak"));
        plan_done(&p);
        cmdline_done(&cl);

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_oem_refused_files),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
