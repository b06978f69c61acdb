/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "token.h"
#include "tpmtest.h"

/* The token Debian's systemd-cryptenroll 252 wrote (signed PCR 11). */
static void test_real_v252(void **state) {
        _cleanup_free_ char *json = tpm_fixture("token-v252-signed.json");
        struct tpm2_token t;

        assert_int_equal(tpm2_token_parse(json, &t, NULL), 0);
        assert_int_equal(t.keyslot, 1);
        assert_int_equal(t.pcr_mask, 0);
        assert_int_equal(t.pubkey_pcr_mask, 1u << 11);
        assert_int_equal(t.pcr_bank, TPM2_ALG_SHA256);
        assert_int_equal(t.primary_alg, TPM2_ALG_ECC);
        assert_false(t.pin);
        assert_int_equal(t.salt_size, 0);
        assert_null(t.srk);
        assert_false(t.has_seed);
        assert_non_null(strstr(t.pubkey_pem, "-----BEGIN PUBLIC KEY-----"));
        assert_int_equal(t.public.publicArea.type, TPM2_ALG_KEYEDHASH);
        assert_int_equal(t.public.publicArea.objectAttributes, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT);
        assert_memory_equal(t.public.publicArea.authPolicy.buffer, t.policy_hash, 32);
        assert_int_equal(tpm2_token_supported(&t, NULL), 0);
        tpm2_token_done(&t);
}

/* The writer gives back what systemd-cryptenroll 252 wrote, field for
 * field, and a PIN token carries v253's tpm2_salt. */
static void test_format_round_trip(void **state) {
        _cleanup_free_ char *json = tpm_fixture("token-v252-signed.json"), *out = NULL, *pin = NULL;
        struct tpm2_token t, back;
        json_object *want, *have;

        assert_int_equal(tpm2_token_parse(json, &t, NULL), 0);
        assert_int_equal(tpm2_token_format(&t, &out), 0);
        assert_null(strstr(out, "\\/"));     /* base64 as written, no escaped slashes */
        want = json_tokener_parse(json);
        have = json_tokener_parse(out);
        assert_non_null(have);
        assert_true(json_object_equal(want, have));
        json_object_put(want);
        json_object_put(have);

        t.pin = true;
        t.pcr_mask = (1u << 7) | (1u << 15);
        t.salt_size = 32;
        for (size_t i = 0; i < 32; i++)
                t.salt[i] = (uint8_t) (255 - i);
        assert_int_equal(tpm2_token_format(&t, &pin), 0);
        assert_int_equal(tpm2_token_parse(pin, &back, NULL), 0);
        assert_true(back.pin);
        assert_int_equal(back.pcr_mask, (1u << 7) | (1u << 15));
        assert_int_equal(back.salt_size, 32);
        assert_memory_equal(back.salt, t.salt, 32);
        assert_memory_equal(back.policy_hash, t.policy_hash, 32);
        assert_int_equal(back.keyslot, 1);
        tpm2_token_done(&back);
        tpm2_token_done(&t);
}

/* Rewrite one field of the real token: value NULL deletes it. */
static char *variant(const char *field, json_object *value) {
        _cleanup_free_ char *json = tpm_fixture("token-v252-signed.json");
        json_object *o = json_tokener_parse(json);
        char *s;

        assert_non_null(o);
        if (value)
                json_object_object_add(o, field, value);
        else
                json_object_object_del(o, field);
        s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return s;
}

static void expect_refusal(const char *field, json_object *value, const char *reason) {
        _cleanup_free_ char *json = variant(field, value), *why = NULL;
        struct tpm2_token t;

        assert_int_equal(tpm2_token_parse(json, &t, &why), -EBADMSG);
        assert_non_null(why);
        if (!strstr(why, reason))
                fail_msg("reason '%s' does not contain '%s'", why, reason);
}

static json_object *pcrs(int a, int b) {
        json_object *arr = json_object_new_array();
        json_object_array_add(arr, json_object_new_int(a));
        if (b >= 0)
                json_object_array_add(arr, json_object_new_int(b));
        return arr;
}

static json_object *truncated_blob(void) {
        _cleanup_free_ char *json = tpm_fixture("token-v252-signed.json");
        json_object *o = json_tokener_parse(json), *b;
        _cleanup_free_ uint8_t *blob = NULL;
        char out[1024];
        size_t n;

        assert_true(json_object_object_get_ex(o, "tpm2-blob", &b));
        assert_int_equal(base64_decode(json_object_get_string(b), &blob, &n), 0);
        base64_encode(blob, n - 10, out);
        json_object_put(o);
        return json_object_new_string(out);
}

static void test_malformed(void **state) {
        json_object *two = json_object_new_array();
        json_object_array_add(two, json_object_new_string("1"));
        json_object_array_add(two, json_object_new_string("2"));

        expect_refusal("tpm2-blob", NULL, "field 'tpm2-blob': missing");
        expect_refusal("tpm2-blob", json_object_new_string("!!!notbase64"), "field 'tpm2-blob': not valid base64");
        expect_refusal("tpm2-blob", truncated_blob(), "field 'tpm2-blob': truncated or malformed public part");
        expect_refusal("tpm2-blob", json_object_new_string("AAAA"), "field 'tpm2-blob': truncated or malformed");
        expect_refusal("tpm2-blob", json_object_new_int(3), "field 'tpm2-blob': not a string");
        expect_refusal("tpm2-policy-hash", json_object_new_string("abcd"), "field 'tpm2-policy-hash': not 32 bytes of hex");
        expect_refusal("tpm2-policy-hash", NULL, "field 'tpm2-policy-hash': missing");
        expect_refusal("tpm2-pcrs", pcrs(7, 24), "field 'tpm2-pcrs': PCR number out of range");
        expect_refusal("tpm2-pcrs", json_object_new_string("7"), "field 'tpm2-pcrs': not an array");
        expect_refusal("tpm2_pubkey_pcrs", pcrs(-1, -1), "field 'tpm2_pubkey_pcrs': PCR number out of range");
        expect_refusal("tpm2-pcr-bank", json_object_new_string("md5"), "field 'tpm2-pcr-bank'");
        expect_refusal("tpm2-primary-alg", json_object_new_string("dsa"), "field 'tpm2-primary-alg': not ecc or rsa");
        expect_refusal("tpm2-pin", json_object_new_string("yes"), "field 'tpm2-pin': not a boolean");
        expect_refusal("keyslots", two, "field 'keyslots': must list exactly one keyslot");
        expect_refusal("keyslots", NULL, "field 'keyslots': missing");
        expect_refusal("tpm2_pubkey", NULL, "field 'tpm2_pubkey': missing, but tpm2_pubkey_pcrs");
        expect_refusal("tpm2_salt", json_object_new_string("c2FsdA=="), "field 'tpm2_salt': present on a token without a PIN");
}

static void test_not_json(void **state) {
        _cleanup_free_ char *why = NULL;
        struct tpm2_token t;
        assert_int_equal(tpm2_token_parse("{\"type\":", &t, &why), -EBADMSG);
        assert_string_equal(why, "token: not a JSON object");
        /* A NUL inside a string would make "systemd-tpm2\u0000x" a TPM token. */
        assert_int_equal(tpm2_token_parse("{\"type\":\"systemd-tpm2\\u0000x\",\"keyslots\":[\"1\"]}", &t, &why), -EBADMSG);
        assert_string_equal(why, "token: a JSON string holds \\u0000 (a NUL)");
        assert_int_equal(tpm2_token_parse("{\"type\":\"systemd-fido2\",\"keyslots\":[\"1\"]}", &t, &why), -EMEDIUMTYPE);
        assert_non_null(strstr(why, "systemd-fido2"));
}

/* Fields of later systemd versions (shared spec, section 1). */
static void test_newer_formats(void **state) {
        _cleanup_free_ char *j1 = NULL, *j2 = NULL, *j3 = NULL, *j4 = NULL, *why = NULL;
        struct tpm2_token t;
        json_object *o;

        /* v253: PIN with a salt */
        j1 = variant("tpm2-pin", json_object_new_boolean(1));
        o = json_tokener_parse(j1);
        json_object_object_add(o, "tpm2_salt", json_object_new_string("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="));
        json_object_object_add(o, "tpm2-primary-alg", json_object_new_string("rsa"));
        j2 = strdup(json_object_to_json_string(o));
        json_object_put(o);
        assert_int_equal(tpm2_token_parse(j2, &t, NULL), 0);
        assert_true(t.pin);
        assert_int_equal(t.salt_size, 32);
        assert_memory_equal(t.salt, "0123456789abcdef0123456789abcdef", 32);
        assert_int_equal(t.primary_alg, TPM2_ALG_RSA);
        tpm2_token_done(&t);

        /* v254: SRK handle; v255: pcrlock (refused as not supported) */
        j3 = variant("tpm2_srk", json_object_new_string("gQAAAQ=="));
        assert_int_equal(tpm2_token_parse(j3, &t, NULL), 0);
        assert_int_equal(t.srk_size, 4);
        tpm2_token_done(&t);
        j4 = variant("tpm2_pcrlock", json_object_new_boolean(1));
        assert_int_equal(tpm2_token_parse(j4, &t, NULL), 0);
        assert_true(t.pcrlock);
        assert_int_equal(tpm2_token_supported(&t, &why), -EOPNOTSUPP);
        assert_non_null(strstr(why, "pcrlock"));
        assert_non_null(strstr(why, "not supported"));
        tpm2_token_done(&t);
}

/* Absent optional fields take systemd's defaults. */
static void test_defaults(void **state) {
        _cleanup_free_ char *a = variant("tpm2-pcr-bank", NULL), *b = NULL;
        struct tpm2_token t;
        json_object *o = json_tokener_parse(a);

        json_object_object_del(o, "tpm2-primary-alg");
        json_object_object_del(o, "tpm2-pin");
        json_object_object_del(o, "tpm2-pcrs");
        b = strdup(json_object_to_json_string(o));
        json_object_put(o);
        assert_int_equal(tpm2_token_parse(b, &t, NULL), 0);
        assert_int_equal(t.pcr_bank, 0);
        assert_int_equal(t.primary_alg, TPM2_ALG_ECC);
        assert_false(t.pin);
        tpm2_token_done(&t);
}

static void test_base64(void **state) {
        _cleanup_free_ uint8_t *d = NULL;
        size_t n;
        char out[16];

        assert_int_equal(base64_decode("YWJj", &d, &n), 0);
        assert_int_equal(n, 3);
        free(TAKE_PTR(d));
        assert_int_equal(base64_decode("YQ==", &d, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(base64_decode("YQ=", &d, &n), -EINVAL);
        assert_int_equal(base64_decode("", &d, &n), -EINVAL);
        assert_int_equal(base64_encode((const uint8_t *) "ab", 2, out), 4);
        assert_string_equal(out, "YWI=");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_real_v252),
                cmocka_unit_test(test_format_round_trip),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_not_json),
                cmocka_unit_test(test_newer_formats),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_base64),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
