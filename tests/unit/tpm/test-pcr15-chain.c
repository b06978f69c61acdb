/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "encoding.h"
#include "pcr15.h"
#include "policy.h"
#include "tpmtest.h"

/* The PCR 15 chain value a bound volume's token is enrolled to: every
 * expected value comes from the openssl command-line tool extending a zero
 * PCR with the digests written out here, never from the code under test. */

static const struct {
        TPMI_ALG_HASH alg;
        const char *name;
} banks[] = {
        { TPM2_ALG_SHA1, "sha1" }, { TPM2_ALG_SHA256, "sha256" },
        { TPM2_ALG_SHA384, "sha384" }, { TPM2_ALG_SHA512, "sha512" },
};

/* Three volumes' digests: arbitrary bytes, distinct per volume and bank. */
static void make_digests(struct pcr15_digests d[3]) {
        for (size_t i = 0; i < 3; i++) {
                d[i] = (struct pcr15_digests) { .n = ELEMENTSOF(banks) };
                snprintf(d[i].description, sizeof(d[i].description), "cryptsetup:vol%zu:uuid", i);
                for (size_t j = 0; j < ELEMENTSOF(banks); j++) {
                        d[i].v[j].alg = banks[j].alg;
                        d[i].v[j].size = tpm2_hash_size(banks[j].alg);
                        for (size_t k = 0; k < d[i].v[j].size; k++)
                                d[i].v[j].digest[k] = (uint8_t) (i * 59 + j * 17 + k * 3 + 1);
                }
        }
}

static void test_chain_matches_openssl(void **state) {
        struct pcr15_digests d[3];
        uint8_t value[64];
        char want[129], have[129], h[129];
        size_t size;

        make_digests(d);
        for (size_t j = 0; j < ELEMENTSOF(banks); j++) {
                size_t hs = tpm2_hash_size(banks[j].alg);

                /* V_0: PCR 15 before any volume key, all zeros */
                memset(want, '0', 2 * hs);
                want[2 * hs] = '\0';
                assert_int_equal(pcr15_chain_value(banks[j].alg, d, 0, value, &size), 0);
                assert_int_equal(size, hs);
                assert_string_equal(hex_string(value, size, have), want);
                /* V_1..V_3, each from the previous one with openssl */
                for (size_t n = 1; n <= 3; n++) {
                        openssl_extend(banks[j].name, want, hex_string(d[n - 1].v[j].digest, hs, h), want,
                                       sizeof(want));
                        assert_int_equal(pcr15_chain_value(banks[j].alg, d, n, value, &size), 0);
                        assert_string_equal(hex_string(value, size, have), want);
                }
        }
}

static void test_chain_order_matters(void **state) {
        struct pcr15_digests d[3], swapped[2];
        uint8_t a[64], b[64];
        size_t size;

        make_digests(d);
        swapped[0] = d[1];
        swapped[1] = d[0];
        assert_int_equal(pcr15_chain_value(TPM2_ALG_SHA256, d, 2, a, &size), 0);
        assert_int_equal(pcr15_chain_value(TPM2_ALG_SHA256, swapped, 2, b, &size), 0);
        assert_memory_not_equal(a, b, 32);
}

static void test_chain_refusals(void **state) {
        struct pcr15_digests d[3];
        uint8_t value[64];
        size_t size;

        make_digests(d);
        /* a volume without a digest for the bank cannot be chained */
        d[1].n = 1;     /* sha1 only */
        assert_int_equal(pcr15_chain_value(TPM2_ALG_SHA256, d, 3, value, &size), -ENOENT);
        assert_int_equal(pcr15_chain_value(TPM2_ALG_SHA1, d, 3, value, &size), 0);
        assert_int_equal(pcr15_chain_value(TPM2_ALG_SM3_256, d, 3, value, &size), -EOPNOTSUPP);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_chain_matches_openssl),
                cmocka_unit_test(test_chain_order_matters),
                cmocka_unit_test(test_chain_refusals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
