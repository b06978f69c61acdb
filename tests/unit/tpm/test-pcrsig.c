/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <fcntl.h>

#include "pcrsig.h"
#include "policy.h"
#include "token.h"
#include "tpmtest.h"

/* The pair made by systemd-measure 252: sign-pub.pem and its signature. */
struct fx {
        char *pem, *sig;
        struct pcrsig_key key;
        json_object *json;
        uint8_t pol[32];
};

static int setup(void **state) {
        struct fx *f = calloc(1, sizeof(*f));
        json_object *arr, *pol;

        f->pem = tpm_fixture("sign-pub.pem");
        f->sig = tpm_fixture("sign-sig.json");
        assert_int_equal(pcrsig_key_from_pem(f->pem, strlen(f->pem), &f->key, NULL), 0);
        assert_int_equal(pcrsig_parse(f->sig, &f->json, NULL), 0);
        assert_true(json_object_object_get_ex(f->json, "sha256", &arr));
        assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "pol", &pol));
        assert_int_equal(hex_parse(json_object_get_string(pol), f->pol, 32, NULL), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;
        free(f->pem);
        free(f->sig);
        json_object_put(f->json);
        free(f);
        return 0;
}

/* pkfp as systemd-measure writes it: SHA-256 of the PKCS#1 DER. */
static void test_fingerprint(void **state) {
        struct fx *f = *state;
        json_object *arr, *fp;
        char hex[65];

        assert_true(json_object_object_get_ex(f->json, "sha256", &arr));
        assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "pkfp", &fp));
        assert_string_equal(hex_string(f->key.fingerprint, 32, hex), json_object_get_string(fp));
}

static void test_public_template(void **state) {
        struct fx *f = *state;
        const TPMT_PUBLIC *p = &f->key.public.publicArea;

        assert_int_equal(p->type, TPM2_ALG_RSA);
        assert_int_equal(p->nameAlg, TPM2_ALG_SHA256);
        assert_int_equal(p->objectAttributes, 0x00060040);
        assert_int_equal(p->parameters.rsaDetail.keyBits, 2048);
        assert_int_equal(p->parameters.rsaDetail.exponent, 65537);
        assert_int_equal(p->parameters.rsaDetail.symmetric.algorithm, TPM2_ALG_NULL);
        assert_int_equal(p->parameters.rsaDetail.scheme.scheme, TPM2_ALG_NULL);
        assert_int_equal(p->unique.rsa.size, 256);
        assert_int_equal(f->key.name.size, 34);
        assert_int_equal(f->key.name.name[0], 0x00);
        assert_int_equal(f->key.name.name[1], 0x0b);
}

static void test_find(void **state) {
        struct fx *f = *state;
        TPMT_SIGNATURE sig;
        _cleanup_free_ char *why = NULL;
        uint8_t other[32] = { 1 };
        struct pcrsig_key wrong = f->key;
        EVP_PKEY *pkey;
        EVP_MD_CTX *md;
        BIO *bio;

        assert_int_equal(pcrsig_find(f->json, TPM2_ALG_SHA256, 1u << 11, &f->key, f->pol, &sig, NULL), 0);
        assert_int_equal(sig.sigAlg, TPM2_ALG_RSASSA);
        assert_int_equal(sig.signature.rsassa.hash, TPM2_ALG_SHA256);
        assert_int_equal(sig.signature.rsassa.sig.size, 256);

        /* The signature is RSASSA-PKCS1-v1_5/SHA-256 over the 32-byte pol. */
        bio = BIO_new_mem_buf(f->pem, -1);
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        md = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey), 1);
        assert_int_equal(EVP_DigestVerify(md, sig.signature.rsassa.sig.buffer, 256, f->pol, 32), 1);
        EVP_MD_CTX_free(md);
        EVP_PKEY_free(pkey);
        BIO_free(bio);

        /* same key and PCRs, other values: the signed policies are listed */
        assert_int_equal(pcrsig_find(f->json, TPM2_ALG_SHA256, 1u << 11, &f->key, other, &sig, &why), -ENXIO);
        assert_string_equal(why, "55b84cc8c0f9f24ca0301efbb853e9530e3dc74efba3c22cd1f92d8bc57afd9b");
        assert_int_equal(pcrsig_find(f->json, TPM2_ALG_SHA256, (1u << 11) | (1u << 7), &f->key, f->pol, &sig, NULL), -ENOKEY);
        assert_int_equal(pcrsig_find(f->json, TPM2_ALG_SHA1, 1u << 11, &f->key, f->pol, &sig, &why), -ENOKEY);
        assert_non_null(strstr(why, "no entries"));
        /* another key's file */
        wrong.fingerprint[0] ^= 1;
        assert_int_equal(pcrsig_find(f->json, TPM2_ALG_SHA256, 1u << 11, &wrong, f->pol, &sig, &why), -ENOKEY);
        assert_non_null(strstr(why, "no signature by key 93563260"));
        assert_non_null(strstr(why, "the file holds under sha256: {pcrs [11], pkfp 92563260e4172007"));
}

/* An entry's pol with a newline and ANSI escapes cannot break the refusal
 * into lines or drive a terminal: it comes back escaped. */
static void test_find_escapes(void **state) {
        struct fx *f = *state;
        json_object *sig = NULL;
        TPMT_SIGNATURE s;
        _cleanup_free_ char *why = NULL;

        assert_int_equal(pcrsig_parse("{\"sha256\":[{\"pcrs\":[11],\"pkfp\":\"ab\\u001b[2J\","
                                      "\"pol\":\"x\\nusi-init: unlocked\\u001b[31m\",\"sig\":\"AA==\"}]}", &sig, NULL), 0);
        assert_int_equal(pcrsig_find(sig, TPM2_ALG_SHA256, 1u << 11, &f->key, f->pol, &s, &why), -ENOKEY);
        assert_null(strchr(why, '\n'));
        assert_null(strchr(why, '\x1b'));
        assert_non_null(strstr(why, "pol x\\x0ausi-init: unlocked\\x1b[31m}"));
        json_object_put(sig);
}

/* The hand-off check asks whether any entry signs a policy: an entry after
 * the first PCRSIG_MAX_ENTRIES of the selection counts too. */
static void test_policy_signed_past_cap(void **state) {
        json_object *sig = json_object_new_object(), *arr = json_object_new_array();
        uint8_t pol[32];
        char hex[65];

        for (int i = 0; i <= PCRSIG_MAX_ENTRIES + 1; i++) {
                json_object *e = json_object_new_object(), *pcrs = json_object_new_array();

                memset(pol, i, sizeof(pol));
                json_object_array_add(pcrs, json_object_new_int(11));
                json_object_object_add(e, "pcrs", pcrs);
                json_object_object_add(e, "pol", json_object_new_string(hex_string(pol, 32, hex)));
                json_object_array_add(arr, e);
        }
        json_object_object_add(sig, "sha256", arr);
        memset(pol, 0, sizeof(pol));
        assert_true(pcrsig_policy_signed(sig, TPM2_ALG_SHA256, 1u << 11, pol));
        memset(pol, PCRSIG_MAX_ENTRIES + 1, sizeof(pol));
        assert_true(pcrsig_policy_signed(sig, TPM2_ALG_SHA256, 1u << 11, pol));
        memset(pol, 0xee, sizeof(pol));
        assert_false(pcrsig_policy_signed(sig, TPM2_ALG_SHA256, 1u << 11, pol));
        json_object_put(sig);
}

static void test_bad_keys(void **state) {
        _cleanup_free_ char *why = NULL;
        struct pcrsig_key k;
        assert_int_equal(pcrsig_key_from_pem("junk", 4, &k, &why), -EBADMSG);
        assert_string_equal(why, "not a PEM public key");
}

static void test_load(void **state) {
        _cleanup_free_ char *why = NULL, *good = NULL;
        const char *paths[] = { "/nonexistent/a.json", NULL, NULL };
        const char *used;
        json_object *o;

        assert_int_equal(pcrsig_load(paths, true, &o, &used, &why), -ENOENT);
        assert_non_null(strstr(why, "no PCR signature file (tried /nonexistent/a.json, /.extra/tpm2-pcr-signature.json"));
        assert_int_equal(asprintf(&good, "%s/sign-sig.json", TPM_DATA_DIR) > 0, 1);
        paths[1] = good;
        assert_int_equal(pcrsig_load(paths, true, &o, &used, NULL), 0);
        json_object_put(o);
        paths[1] = NULL;
        free(why);
        why = NULL;
        assert_int_equal(pcrsig_load(paths, false, &o, &used, &why), -ENOENT);
        assert_string_equal(why, "no PCR signature file (tried /nonexistent/a.json)");
        paths[1] = good;
        assert_int_equal(pcrsig_load(paths, false, &o, &used, NULL), 0);
        assert_string_equal(used, good);
        json_object_put(o);
}

/* A signature file from the ESP, /oem or a command line that is not a small
 * regular file is refused by name, and the search stops there: a FIFO must
 * not hold the unlock, a symlink must not lead elsewhere. */
static void test_load_refused(void **state) {
        char dir[] = "/tmp/test-pcrsig-XXXXXX", cmd[64];
        const char *kinds[][2] = {
                { "fifo", "is a FIFO" },
                { "link", "is a symlink (to /dev/zero)" },
                { "big", "is larger than 1048576 bytes" },
        };

        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *fifo = path_join(dir, "fifo"), *link = path_join(dir, "link"), *big = path_join(dir, "big");
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(symlink("/dev/zero", link), 0);
        int fd = creat(big, 0600);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(truncate(big, 1024 * 1024 + 1), 0);
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                _cleanup_free_ char *why = NULL, *path = path_join(dir, kinds[i][0]);
                const char *paths[] = { path, NULL }, *used = NULL;
                json_object *o = NULL;

                alarm(10);
                assert_true(pcrsig_load(paths, true, &o, &used, &why) < 0);
                alarm(0);
                assert_non_null(why);
                assert_non_null(strstr(why, path));
                assert_non_null(strstr(why, kinds[i][1]));
        }
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_fingerprint, setup, teardown),
                cmocka_unit_test_setup_teardown(test_public_template, setup, teardown),
                cmocka_unit_test_setup_teardown(test_find, setup, teardown),
                cmocka_unit_test_setup_teardown(test_find_escapes, setup, teardown),
                cmocka_unit_test(test_policy_signed_past_cap),
                cmocka_unit_test(test_bad_keys),
                cmocka_unit_test(test_load),
                cmocka_unit_test(test_load_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
