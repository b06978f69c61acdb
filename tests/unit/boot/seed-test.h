/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/* What the seeding tests share: shell set-up, one seed_tree() by paths, and
 * a main that skips without root (owners, device nodes). */
#include <fcntl.h>
#include <stdio.h>

#include "seed.h"
#include "testutil.h"
#include "why.h"

static inline void sh(const char *fmt, ...) {
        char cmd[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        assert_int_equal(system(cmd), 0);
}

static inline int seed_paths(const char *src, const char *dst, enum seed_policy pol, struct seed_stats *st) {
        _cleanup_free_ char *why = NULL;
        int s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC), d = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(s >= 0 && d >= 0);
        int r = seed_tree(s, d, pol, st, &why);
        if (r < 0)
                print_message("seed_tree: %s\n", why_or(why));
        close(s);
        close(d);
        return r;
}

/* A scratch directory: image/ (the source), state/ and outside/ below it. */
struct seed_dirs {
        char dir[64], src[96], dst[96], outside[96];
};

static inline struct seed_dirs *seed_dirs_new(void) {
        struct seed_dirs *t = calloc(1, sizeof *t);
        assert_non_null(t);
        strcpy(t->dir, "/tmp/usi-seed.XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        snprintf(t->src, sizeof t->src, "%s/image", t->dir);
        snprintf(t->dst, sizeof t->dst, "%s/state", t->dir);
        snprintf(t->outside, sizeof t->outside, "%s/outside", t->dir);
        sh("mkdir -p %s %s %s", t->src, t->dst, t->outside);
        return t;
}

static inline int teardown(void **state) {
        struct seed_dirs *t = *state;
        sh("rm -rf %s", t->dir);
        free(t);
        return 0;
}

/* One test with the file's own setup() and the teardown above. */
#define SEED_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static inline int run_as_root(const char *group, const struct CMUnitTest *tests, size_t n) {
        if (geteuid() != 0) {
                printf("1..0 # SKIP %s: needs root\n", group);
                return 0;
        }
        return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}
