/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "pcrsig.h"
#include "policy.h"
#include "token-pcrs.h"

/* Offline reasoning about a token's literal PCRs: which one moved since
 * enrollment, and how it binds PCR 15 (the volume-binding chain). Tokens
 * are made here as systemd-cryptenroll makes them: the policy hash over
 * PolicyAuthorize (when a signing key is given), the literal PCRs, and a
 * PIN. */

#define PCR(n) (UINT32_C(1) << (n))

static char *pem;
static size_t pem_size;

static int setup(void **state) {
        FILE *f = fopen(TPM_DATA_DIR "/sign-pub.pem", "re");
        (void) state;
        if (!f)
                return -1;
        pem = calloc(1, 4096);
        pem_size = fread(pem, 1, 4095, f);
        fclose(f);
        return pem_size > 0 ? 0 : -1;
}

static int teardown(void **state) {
        (void) state;
        free(pem);
        return 0;
}

/* A token sealed with its literal PCRs at `values` (ascending over mask). */
static struct tpm2_token token(uint32_t mask, const uint8_t *values, bool signed11) {
        struct tpm2_token t = { .pcr_mask = mask };
        struct pcrsig_key key = {};

        if (signed11) {
                t.pubkey_pcr_mask = PCR(11);
                t.pubkey_pem = pem;
                t.pubkey_pem_size = pem_size;
                assert_int_equal(pcrsig_key_from_pem(pem, pem_size, &key, NULL), 0);
        }
        assert_int_equal(policy_token(t.policy_hash, signed11 ? &key.name : NULL, TPM2_ALG_SHA256, mask, values, false), 0);
        return t;
}

/* A token enrolled with literal PCR 15 while it was zero: PCR 15 is named
 * once it moved. */
static void test_changed_since_enrollment(void **state) {
        uint8_t zero[32] = {}, two[64] = {}, one[32];
        struct tpm2_token t = token(PCR(15), zero, false);

        (void) state;
        memset(one, 0xab, sizeof(one));
        assert_int_equal(token_literal_pcr_moved(&t, TPM2_ALG_SHA256, t.pcr_mask, one), 15);
        assert_int_equal(token_literal_pcr_moved(&t, TPM2_ALG_SHA256, t.pcr_mask, zero), -1);
        /* values over a wider mask (11 and 15, ascending) */
        memset(two, 0x11, 32);
        memset(two + 32, 0xcd, 32);
        assert_int_equal(token_literal_pcr_moved(&t, TPM2_ALG_SHA256, PCR(11) | t.pcr_mask, two), 15);
        /* a token that never held for PCR 15 = 0 */
        t.policy_hash[0] ^= 1;
        assert_int_equal(token_literal_pcr_moved(&t, TPM2_ALG_SHA256, t.pcr_mask, one), -1);
}

/* PCR 15 alone: judged without any value read. */
static void test_pcr15_alone(void **state) {
        uint8_t zero[32] = {}, chained[32];
        struct tpm2_token at0 = token(PCR(15), zero, true), later;

        (void) state;
        memset(chained, 0x5a, sizeof(chained));
        later = token(PCR(15), chained, true);
        assert_int_equal(token_pcr15_binding(&at0, TPM2_ALG_SHA256, NULL), TOKEN_PCR15_ZERO);
        assert_int_equal(token_pcr15_binding(&later, TPM2_ALG_SHA256, NULL), TOKEN_PCR15_CHAINED);
        assert_int_equal(token_holds_with_pcr15(&later, TPM2_ALG_SHA256, NULL, chained), 1);
        assert_int_equal(token_holds_with_pcr15(&later, TPM2_ALG_SHA256, NULL, zero), 0);
        assert_int_equal(token_holds_with_pcr15(&at0, TPM2_ALG_SHA256, NULL, chained), 0);
        /* The signing key is part of the policy: another key's token at 0
         * is not this one. */
        struct tpm2_token unsigned0 = token(PCR(15), zero, false);
        unsigned0.pubkey_pcr_mask = PCR(11);
        unsigned0.pubkey_pem = pem;
        unsigned0.pubkey_pem_size = pem_size;
        assert_int_equal(token_pcr15_binding(&unsigned0, TPM2_ALG_SHA256, NULL), TOKEN_PCR15_CHAINED);
}

/* No PCR 15: not bound; PCR 7 and 15: the value of 7 is needed. */
static void test_other_literal_pcrs(void **state) {
        uint8_t v7[32], at0[64] = {}, chained[64], now[64] = {};
        struct tpm2_token t7, t0, tc;

        (void) state;
        memset(v7, 0x07, sizeof(v7));
        t7 = token(PCR(7), v7, true);
        assert_int_equal(token_pcr15_binding(&t7, TPM2_ALG_SHA256, v7), TOKEN_PCR15_UNBOUND);
        assert_int_equal(token_holds_with_pcr15(&t7, TPM2_ALG_SHA256, v7, at0), -EINVAL);

        memcpy(at0, v7, 32);
        t0 = token(PCR(7) | PCR(15), at0, true);
        memcpy(chained, v7, 32);
        memset(chained + 32, 0xc4, 32);
        tc = token(PCR(7) | PCR(15), chained, true);
        assert_int_equal(token_pcr15_binding(&t0, TPM2_ALG_SHA256, NULL), TOKEN_PCR15_UNKNOWN);
        assert_int_equal(token_holds_with_pcr15(&t0, TPM2_ALG_SHA256, NULL, at0 + 32), -ENODATA);
        /* PCR 7 as the TPM has it now; PCR 15's place holds anything. */
        memcpy(now, v7, 32);
        memset(now + 32, 0xee, 32);
        assert_int_equal(token_pcr15_binding(&t0, TPM2_ALG_SHA256, now), TOKEN_PCR15_ZERO);
        assert_int_equal(token_pcr15_binding(&tc, TPM2_ALG_SHA256, now), TOKEN_PCR15_CHAINED);
        assert_int_equal(token_holds_with_pcr15(&tc, TPM2_ALG_SHA256, now, chained + 32), 1);
        assert_int_equal(token_holds_with_pcr15(&t0, TPM2_ALG_SHA256, now, chained + 32), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_changed_since_enrollment),
                cmocka_unit_test(test_pcr15_alone),
                cmocka_unit_test(test_other_literal_pcrs),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
