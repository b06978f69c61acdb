/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "luks.h"
#include "secret.h"
#include "tpm2.h"

static void test_new_free(void **state) {
        _cleanup_secret_ struct secret *s = NULL;
        assert_int_equal(secret_new_from("abc", 3, &s), 0);
        assert_int_equal(s->size, 3);
        assert_memory_equal(s->data, "abc", 3);
}

static void test_read_file(void **state) {
        char path[] = "/tmp/usi-secret-XXXXXX";
        int fd = mkstemp(path);
        _cleanup_secret_ struct secret *s = NULL, *t = NULL;
        _cleanup_free_ char *why = NULL;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "1234\r\n", 6), 6);
        close(fd);
        assert_int_equal(secret_read_file(path, 64, 1, &s, &why), 0);
        assert_int_equal(s->size, 4);
        assert_memory_equal(s->data, "1234", 4);
        assert_int_equal(secret_read_file(path, 64, 0, &t, &why), 0);
        assert_int_equal(t->size, 6);
        secret_free(TAKE_PTR(t));
        assert_int_equal(secret_read_file(path, 5, 0, &t, &why), -EFBIG);
        assert_int_equal(secret_read_file("/nonexistent", 5, 0, &t, &why), -ENOENT);
        unlink(path);
}

/* A blank PIN is refused before any TPM command, naming the file. */
static void test_read_pin(void **state) {
        static const char *const blank[] = { "", "\n", " \t\r\n" };
        char path[] = "/tmp/usi-pin-XXXXXX";
        _cleanup_secret_ struct secret *s = NULL;

        for (size_t i = 0; i < ELEMENTSOF(blank); i++) {
                _cleanup_free_ char *why = NULL;
                int fd = mkstemp(path);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, blank[i], strlen(blank[i])), (ssize_t) strlen(blank[i]));
                close(fd);
                assert_int_equal(secret_read_pin(path, &s, &why), -ENODATA);
                assert_null(s);
                assert_non_null(strstr(why, path));
                unlink(path);
                strcpy(path, "/tmp/usi-pin-XXXXXX");
        }
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, " 12\n", 4), 4);
        close(fd);
        assert_int_equal(secret_read_pin(path, &s, NULL), 0);
        assert_int_equal(s->size, 3);
        unlink(path);
}

/* systemd enrols base64 of the 32 unsealed bytes: 44 characters. */
static void test_passphrase(void **state) {
        _cleanup_secret_ struct secret *k = NULL, *p = NULL;
        assert_int_equal(secret_new(32, &k), 0);
        memset(k->data, 0xff, 32);
        assert_int_equal(luks_tpm2_passphrase(k, &p), 0);
        assert_int_equal(p->size, 44);
        assert_memory_equal(p->data, "//////////////////////////////////////////8=", 44);
}

static void test_pin_auth(void **state) {
        _cleanup_secret_ struct secret *pin = NULL;
        static const uint8_t salt[32] = "0123456789abcdef0123456789abcdef";
        TPM2B_AUTH a, b;
        uint8_t dk[32], want[32];
        char b64[45];

        assert_int_equal(secret_new_from("1234", 4, &pin), 0);
        /* v252: SHA-256 of the PIN */
        assert_int_equal(tpm2_pin_auth(pin, NULL, 0, &a), 0);
        assert_int_equal(a.size, 32);
        assert_true(EVP_Digest("1234", 4, want, NULL, EVP_sha256(), NULL));
        assert_memory_equal(a.buffer, want, 32);
        /* v253+: SHA-256(base64(PBKDF2-HMAC-SHA256(pin, salt, 10000, 32))) */
        assert_int_equal(tpm2_pin_auth(pin, salt, 32, &b), 0);
        assert_true(PKCS5_PBKDF2_HMAC("1234", 4, salt, 32, 10000, EVP_sha256(), 32, dk));
        assert_int_equal(EVP_EncodeBlock((unsigned char *) b64, dk, 32), 44);
        assert_true(EVP_Digest(b64, 44, want, NULL, EVP_sha256(), NULL));
        assert_memory_equal(b.buffer, want, 32);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_new_free),
                cmocka_unit_test(test_read_file),
                cmocka_unit_test(test_read_pin),
                cmocka_unit_test(test_passphrase),
                cmocka_unit_test(test_pin_auth),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
