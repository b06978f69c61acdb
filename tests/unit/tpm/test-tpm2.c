/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "policy.h"
#include "token.h"
#include "tpm2-trust.h"
#include "tpm2.h"
#include "tpmtest.h"

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

/* A serialized ESYS_TR as tpm2-tools and systemd write it (tpm2_srk):
 * handle, TPM2B_NAME, resource type, TPM2B_PUBLIC. */
struct serialized {
        TPM2_HANDLE handle;
        TPM2B_NAME name;
        TPM2B_PUBLIC pub;
};

static struct serialized srk_fixture(const char *file) {
        char *b64 = tpm_fixture(file);
        struct serialized s = {};
        uint8_t *raw = NULL;
        size_t n = 0, off = 0;
        uint32_t type;

        assert_int_equal(base64_decode(b64, &raw, &n), 0);
        assert_int_equal(Tss2_MU_UINT32_Unmarshal(raw, n, &off, &s.handle), TSS2_RC_SUCCESS);
        assert_int_equal(Tss2_MU_TPM2B_NAME_Unmarshal(raw, n, &off, &s.name), TSS2_RC_SUCCESS);
        assert_int_equal(Tss2_MU_UINT32_Unmarshal(raw, n, &off, &type), TSS2_RC_SUCCESS);
        assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(raw, n, &off, &s.pub), TSS2_RC_SUCCESS);
        assert_int_equal(off, n);
        free(raw);
        free(b64);
        return s;
}

/* Real keys from swtpm: the TCG SRK (systemd 254+'s, with noDA) and an RSA
 * key pair made by openssl and imported with every attribute the TPM
 * allows an imported key (sensitiveDataOrigin included). */
static void test_trust_fixtures(void **state) {
        struct serialized srk = srk_fixture("tpm2_srk-tcg.b64"), evil = srk_fixture("tpm2_srk-imported.b64");
        char missing[128], *why = NULL;

        assert_int_equal(srk.handle, 0x81000001);
        assert_int_equal(tpm2_trust_storage_key(&srk.pub.publicArea, missing, sizeof(missing)), 0);
        assert_int_equal(tpm2_trust_srk(srk.handle, &srk.name, &srk.pub, &srk.name, &why), 0);
        assert_null(why);

        assert_true(evil.pub.publicArea.objectAttributes & TPMA_OBJECT_SENSITIVEDATAORIGIN);
        assert_int_equal(tpm2_trust_storage_key(&evil.pub.publicArea, missing, sizeof(missing)), -EPERM);
        assert_string_equal(missing, "not fixedTPM, not fixedParent");
        assert_int_equal(tpm2_trust_srk(evil.handle, &evil.name, &evil.pub, &evil.name, &why), -EPERM);
        assert_string_equal(why, "tpm2_srk names 0x81000010, which is not the TPM's storage key "
                            "(not fixedTPM, not fixedParent): refused");
        free(why);
        why = NULL;

        /* The SRK's handle, the attacker's public area (which ESYS would
         * salt to): the TPM's name differs from the recorded one. */
        assert_int_equal(tpm2_trust_srk(srk.handle, &evil.name, &srk.pub, &srk.name, &why), -EPERM);
        assert_non_null(strstr(why, "tpm2_srk names 0x81000001 with name 000b"));
        assert_non_null(strstr(why, "but the TPM's key there has name 000b"));
        free(why);
        why = NULL;

        /* A TPM answer whose name is not its public area's hash. */
        assert_int_equal(tpm2_trust_srk(srk.handle, &evil.name, &srk.pub, &evil.name, &why), -EPERM);
        assert_non_null(strstr(why, "does not hash to the name the TPM gives"));
        free(why);
}

/* Each of the five attributes is required on its own and named. */
static void test_trust_attributes(void **state) {
        static const struct {
                TPMA_OBJECT bit;
                const char *missing;
        } cases[] = {
                { TPMA_OBJECT_FIXEDTPM,            "not fixedTPM" },
                { TPMA_OBJECT_FIXEDPARENT,         "not fixedParent" },
                { TPMA_OBJECT_SENSITIVEDATAORIGIN, "not sensitiveDataOrigin" },
                { TPMA_OBJECT_RESTRICTED,          "not restricted" },
                { TPMA_OBJECT_DECRYPT,             "not decrypt" },
        };
        struct serialized srk = srk_fixture("tpm2_srk-tcg.b64");
        char missing[128];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                TPMT_PUBLIC p = srk.pub.publicArea;
                p.objectAttributes &= ~cases[i].bit;
                assert_int_equal(tpm2_trust_storage_key(&p, missing, sizeof(missing)), -EPERM);
                assert_string_equal(missing, cases[i].missing);
        }
        TPMT_PUBLIC p = srk.pub.publicArea;
        p.type = TPM2_ALG_KEYEDHASH;
        assert_int_equal(tpm2_trust_storage_key(&p, missing, sizeof(missing)), -EPERM);
        assert_string_equal(missing, "not an RSA or ECC key");
        p = srk.pub.publicArea;
        p.nameAlg = TPM2_ALG_SHA1;
        assert_int_equal(tpm2_trust_storage_key(&p, missing, sizeof(missing)), -EPERM);
        assert_non_null(strstr(missing, "not sha256"));
}

/* Only owner persistent handles; the ends of the range included. */
static void test_trust_handles(void **state) {
        static const struct {
                TPM2_HANDLE h;
                int r;
        } cases[] = {
                { 0x81000000, 0 }, { 0x81000001, 0 }, { 0x817fffff, 0 },
                { 0x80000001, -EPERM },  /* transient */
                { 0x81800000, -EPERM },  /* platform persistent */
                { 0x01800001, -EPERM },  /* NV index */
                { 0x40000001, -EPERM },  /* owner hierarchy itself */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *why = NULL;
                assert_int_equal(tpm2_trust_srk_handle(cases[i].h, &why), cases[i].r);
                if (cases[i].r < 0)
                        assert_non_null(strstr(why, "which is not a persistent key of the owner hierarchy"));
                free(why);
        }
}

/* The PIN goes only to objects under dictionary-attack protection. */
static void test_trust_pin_object(void **state) {
        TPMT_PUBLIC p = { .type = TPM2_ALG_KEYEDHASH, .nameAlg = TPM2_ALG_SHA256,
                          .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT };
        char *why = NULL;

        assert_int_equal(tpm2_trust_pin_object(&p, &why), 0);
        assert_null(why);
        p.objectAttributes |= TPMA_OBJECT_NODA;
        assert_int_equal(tpm2_trust_pin_object(&p, &why), -EPERM);
        assert_non_null(strstr(why, "(noDA), so the PIN is not tried on it: refused"));
        free(why);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rc_sentences),
                cmocka_unit_test(test_open_nothing),
                cmocka_unit_test(test_trust_fixtures),
                cmocka_unit_test(test_trust_attributes),
                cmocka_unit_test(test_trust_handles),
                cmocka_unit_test(test_trust_pin_object),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
