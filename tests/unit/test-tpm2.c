/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tpm2.h"

/* TPM return codes carry handle/session/parameter numbers in their upper
 * bits; the sentence must not depend on them. */
static void test_rc_sentences(void **state) {
        assert_non_null(strstr(tpm2_rc_sentence(TPM2_RC_LOCKOUT), "dictionary-attack lockout"));
        assert_non_null(strstr(tpm2_rc_sentence(TPM2_RC_AUTH_FAIL | TPM2_RC_S | TPM2_RC_1), "wrong PIN"));
        assert_non_null(strstr(tpm2_rc_sentence(TPM2_RC_BAD_AUTH | TPM2_RC_S | TPM2_RC_2), "wrong PIN"));
        assert_non_null(strstr(tpm2_rc_sentence(TPM2_RC_INTEGRITY | TPM2_RC_P | TPM2_RC_1), "integrity"));
        assert_non_null(strstr(tpm2_rc_sentence(TPM2_RC_SESSION_MEMORY), "session memory"));
        /* anything else: the TSS's own decoding, never NULL */
        assert_non_null(tpm2_rc_sentence(TPM2_RC_HASH | TPM2_RC_P | TPM2_RC_3));
        assert_non_null(tpm2_rc_sentence(0x000a000a));
}

static void test_open_nothing(void **state) {
        struct tpm2_ctx *c = NULL;
        char *why = NULL;

        assert_int_equal(tpm2_open("swtpm:path=/nonexistent/usi-unit-socket", &c, &why), -ENODEV);
        assert_null(c);
        assert_non_null(strstr(why, "no TPM: cannot open TCTI 'swtpm:path=/nonexistent/usi-unit-socket'"));
        free(why);
        why = NULL;
        assert_int_equal(tpm2_open("nosuchdriver:x", &c, &why), -ENODEV);
        assert_non_null(strstr(why, "no TPM"));
        free(why);
        tpm2_close(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rc_sentences),
                cmocka_unit_test(test_open_nothing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
