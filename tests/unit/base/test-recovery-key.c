/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Recovery keys: systemd's format, and what a person may type for one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "recovery-key.h"

static const char canonical[] =
        "cbdefghi-jklnrtuv-vutrnlkj-ihgfedbc-cccccccc-vvvvvvvv-bdbdbdbd-fhfhfhfh";

static struct secret *text(const char *s) {
        struct secret *t = NULL;

        assert_int_equal(secret_new_from(s, strlen(s), &t), 0);
        return t;
}

/* normalized(TYPED): the formatted key, or NULL when TYPED is not one. */
static void expect_normalized(const char *typed, const char *want) {
        _cleanup_secret_ struct secret *t = text(typed), *k = NULL;
        int r = recovery_key_normalize(t, &k);

        if (!want) {
                assert_int_equal(r, 0);
                assert_null(k);
                return;
        }
        assert_int_equal(r, 1);
        assert_int_equal(k->size, strlen(want));
        assert_memory_equal(k->data, want, k->size);
}

static void test_format(void **state) {
        _cleanup_secret_ struct secret *k = NULL, *n = NULL;

        (void) state;
        assert_int_equal(RECOVERY_KEY_CHARS, 71);
        assert_int_equal(recovery_key_generate(&k), 0);
        assert_int_equal(k->size, 71);
        for (size_t i = 0; i < k->size; i++) {
                if (i % 9 == 8)
                        assert_int_equal(k->data[i], '-');
                else
                        assert_non_null(strchr("cbdefghijklnrtuv", k->data[i]));
        }
        /* A generated key is its own normal form. */
        assert_int_equal(recovery_key_normalize(k, &n), 1);
        assert_memory_equal(n->data, k->data, k->size);
}

static void test_random(void **state) {
        _cleanup_secret_ struct secret *a = NULL, *b = NULL;

        (void) state;
        assert_int_equal(recovery_key_generate(&a), 0);
        assert_int_equal(recovery_key_generate(&b), 0);
        assert_memory_not_equal(a->data, b->data, a->size);
}

static void test_typed(void **state) {
        (void) state;
        expect_normalized(canonical, canonical);
        /* without dashes, in upper case, with spaces, in other groups */
        expect_normalized("cbdefghijklnrtuvvutrnlkjihgfedbcccccccccvvvvvvvvbdbdbdbdfhfhfhfh", canonical);
        expect_normalized("CBDEFGHI-JKLNRTUV-VUTRNLKJ-IHGFEDBC-CCCCCCCC-VVVVVVVV-BDBDBDBD-FHFHFHFH", canonical);
        expect_normalized("cbdefghi jklnrtuv vutrnlkj ihgfedbc cccccccc vvvvvvvv bdbdbdbd fhfhfhfh", canonical);
        expect_normalized("cbde-fghi-jkln-rtuv-vutr-nlkj-ihgf-edbc-cccc-cccc-vvvv-vvvv-bdbd-bdbd-fhfh-fhfh",
                          canonical);
}

static void test_not_a_key(void **state) {
        (void) state;
        expect_normalized("", NULL);
        expect_normalized("correct horse battery staple", NULL);
        /* one digit short, one too many, a letter outside the alphabet */
        expect_normalized("cbdefghi-jklnrtuv-vutrnlkj-ihgfedbc-cccccccc-vvvvvvvv-bdbdbdbd-fhfhfhf", NULL);
        expect_normalized("cbdefghi-jklnrtuv-vutrnlkj-ihgfedbc-cccccccc-vvvvvvvv-bdbdbdbd-fhfhfhfhc", NULL);
        expect_normalized("abdefghi-jklnrtuv-vutrnlkj-ihgfedbc-cccccccc-vvvvvvvv-bdbdbdbd-fhfhfhfh", NULL);
        expect_normalized("cbdefghi-jklnrtuv-vutrnlkj-ihgfedbc-cccccccc-vvvvvvvv-bdbdbdbd-fhfhfhf\n", NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_random),
                cmocka_unit_test(test_typed),
                cmocka_unit_test(test_not_a_key),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
