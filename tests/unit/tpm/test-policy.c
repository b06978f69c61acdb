/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "pcrsig.h"
#include "policy.h"
#include "token.h"
#include "tpmtest.h"

static void hexeq(const uint8_t *d, const char *want) {
        char hex[65];
        assert_string_equal(hex_string(d, 32, hex), want);
}

/* Vectors of shared spec systemd-tpm2.md, section 6. */
static void test_spec_vectors(void **state) {
        uint8_t d[32] = {}, zero[32] = {};

        assert_int_equal(policy_auth_value(d), 0);
        hexeq(d, "8fcd2169ab92694e0c633f1ab772842b8241bbc20288981fc7ac1eddc1fddb0e");

        memset(d, 0, 32);
        assert_int_equal(policy_pcr(d, TPM2_ALG_SHA256, UINT32_C(1) << 11, zero, 32), 0);
        hexeq(d, "fd32fa22c52cfc8e1a0c29eb38519f87084cab0b04b0d8f020a4d38b2f4e223e");

        memset(d, 0, 32);
        assert_int_equal(policy_pcr(d, TPM2_ALG_SHA256, UINT32_C(1) << 7, zero, 32), 0);
        hexeq(d, "8b5682d81b29435d08d79278150611dc7e5923b2fefcce684a09577b40130a8b");
}

static void test_bad_input(void **state) {
        uint8_t d[32] = {}, v[64] = {};
        assert_int_equal(policy_pcr(d, TPM2_ALG_SHA256, 1, v, 20), -EINVAL);
        assert_int_equal(policy_pcr(d, 0x1234, 1, v, 32), -EINVAL);
        assert_int_equal(policy_pcr(d, TPM2_ALG_SHA256, UINT32_C(1) << 24, v, 32), -EINVAL);
}

/* The token that Debian's systemd-cryptenroll 252 wrote for a signed PCR 11
 * policy: its tpm2-policy-hash is PolicyAuthorize(name of the signing key). */
static void test_token_hash_from_real_enrolment(void **state) {
        _cleanup_free_ char *json = tpm_fixture("token-v252-signed.json");
        struct tpm2_token t;
        struct pcrsig_key key;
        uint8_t d[32] = {};

        assert_int_equal(tpm2_token_parse(json, &t, NULL), 0);
        assert_int_equal(pcrsig_key_from_pem(t.pubkey_pem, t.pubkey_pem_size, &key, NULL), 0);
        assert_int_equal(policy_authorize(d, &key.name), 0);
        assert_memory_equal(d, t.policy_hash, 32);
        /* and a PIN would add PolicyAuthValue on top */
        assert_int_equal(policy_auth_value(d), 0);
        assert_memory_not_equal(d, t.policy_hash, 32);
        tpm2_token_done(&t);
}

static void sha256(const void *p, size_t n, uint8_t out[32]) {
        assert_true(EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL));
}

static void extend(uint8_t pcr[32], const void *p, size_t n) {
        uint8_t buf[64];
        memcpy(buf, pcr, 32);
        sha256(p, n, buf + 32);
        sha256(buf, 64, pcr);
}

/* Replay what systemd-stub measures for the UKI sections, then the
 * enter-initrd phase, and find the "pol" that systemd-measure 252 signed. */
static void test_signed_pol_from_sections(void **state) {
        static const char *const sections[][2] = {
                { ".linux", "uki-linux" }, { ".osrel", "uki-osrel" },
                { ".cmdline", "uki-cmdline" }, { ".initrd", "uki-initrd" },
        };
        _cleanup_free_ char *sigjson = tpm_fixture("sign-sig.json");
        uint8_t pcr[32] = {}, d[32] = {};
        json_object *sig, *arr, *e, *pol;

        for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
                _cleanup_free_ char *data = tpm_fixture(sections[i][1]);
                extend(pcr, sections[i][0], strlen(sections[i][0]) + 1);
                extend(pcr, data, strlen(data));
        }
        extend(pcr, "enter-initrd", strlen("enter-initrd"));
        assert_int_equal(policy_pcr(d, TPM2_ALG_SHA256, UINT32_C(1) << 11, pcr, 32), 0);

        assert_int_equal(pcrsig_parse(sigjson, &sig, NULL), 0);
        assert_true(json_object_object_get_ex(sig, "sha256", &arr));
        e = json_object_array_get_idx(arr, 0);
        assert_true(json_object_object_get_ex(e, "pol", &pol));
        hexeq(d, json_object_get_string(pol));
        json_object_put(sig);
}

static void test_hex(void **state) {
        uint8_t b[32];
        size_t n;
        char out[65];

        assert_int_equal(hex_parse("00ff10", b, sizeof b, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(hex_string(b, 3, out), "00ff10");
        assert_int_equal(hex_parse("00ff1", b, sizeof b, &n), -EINVAL);
        assert_int_equal(hex_parse("zz", b, sizeof b, &n), -EINVAL);
        assert_int_equal(hex_parse("00:ff", b, sizeof b, &n), -EINVAL);
        assert_int_equal(hex_parse("00ff", b, 3, NULL), -EINVAL);
        assert_int_equal(hex_parse("", b, 3, &n), -EINVAL);
}

/* PCR lists as systemd spells them, each back through pcr_mask_to_string. */
static void test_pcr_lists(void **state) {
        static const struct {
                const char *in;
                int r;
                uint32_t mask;
        } cases[] = {
                { "11", 0, 1u << 11 },
                { "7+11", 0, (1u << 7) | (1u << 11) },
                { "15,7", 0, (1u << 7) | (1u << 15) },
                { "0+23", 0, 1u | (1u << 23) },
                { "", 0, 0 },
                { "24", -EINVAL, 0 },
                { "7+", -EINVAL, 0 },
                { "+7", -EINVAL, 0 },
                { "7++11", -EINVAL, 0 },
                { "seven", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "1000", -EINVAL, 0 },
        };
        char back[64];
        uint32_t mask;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                mask = 0xdeadbeef;
                assert_int_equal(pcr_mask_from_string(cases[i].in, &mask), cases[i].r);
                if (cases[i].r == 0)
                        assert_int_equal(mask, cases[i].mask);
        }
        /* what the messages print reads back */
        assert_int_equal(pcr_mask_from_string(pcr_mask_to_string((1u << 7) | (1u << 15), back, sizeof(back)),
                                              &mask), 0);
        assert_int_equal(mask, (1u << 7) | (1u << 15));
}

static void test_names(void **state) {
        char buf[64];
        assert_int_equal(tpm2_hash_from_string("sha256"), TPM2_ALG_SHA256);
        assert_int_equal(tpm2_hash_from_string("SHA1"), TPM2_ALG_SHA1);
        assert_int_equal(tpm2_hash_from_string("md5"), 0);
        assert_string_equal(tpm2_hash_to_string(TPM2_ALG_SHA384), "sha384");
        assert_int_equal(tpm2_hash_size(TPM2_ALG_SHA512), 64);
        assert_string_equal(pcr_mask_to_string((1u << 7) | (1u << 11), buf, sizeof buf), "7+11");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_spec_vectors),
                cmocka_unit_test(test_bad_input),
                cmocka_unit_test(test_token_hash_from_real_enrolment),
                cmocka_unit_test(test_signed_pol_from_sections),
                cmocka_unit_test(test_hex),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_pcr_lists),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
