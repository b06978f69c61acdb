/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mem_largest(): what holds this process's resident memory, by mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mem-map.h"
#include "util.h"

static void test_largest(void **state) {
        struct mem_mapping top[6];
        uint64_t total = 0, sum = 0;
        size_t size = 8u << 20;
        /* 8 MiB touched, in a mapping of its own: it must come first. */
        char *big = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        (void) state;
        assert_true(big != MAP_FAILED);
        memset(big, 1, size);
        assert_int_equal(mem_largest(top, ELEMENTSOF(top), &total), 0);
        assert_string_equal(top[0].name, "[anon]");
        assert_true(top[0].rss_kb >= 8192);
        for (size_t i = 0; i < ELEMENTSOF(top) && top[i].rss_kb; i++) {
                if (i)
                        assert_true(top[i].rss_kb <= top[i - 1].rss_kb);
                assert_null(strchr(top[i].name, '/'));          /* base names */
                assert_null(strchr(top[i].name, '\n'));
                sum += top[i].rss_kb;
        }
        assert_true(sum <= total);
        /* libc is resident in every process. */
        bool libc = false;
        for (size_t i = 0; i < ELEMENTSOF(top); i++)
                libc = libc || strncmp(top[i].name, "libc.so", 7) == 0;
        assert_true(libc);
        munmap(big, size);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_largest),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
