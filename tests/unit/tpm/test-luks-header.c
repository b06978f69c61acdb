/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "luks-header.h"
#include "tpmtest.h"

/* The fixture is the header of an image systemd-cryptenroll 252 enrolled
 * (tests/tpm/unlock-header.sh writes it): keyslot 0 passphrase, keyslot 1
 * TPM token 0, one digest, one aes-xts-plain64 segment. */
#define FIXTURE "luks2-header-v252.json"

/* The fixture with `path` (dotted) set to the JSON `value`; NULL deletes. */
static char *edited(const char *path, const char *value) {
        _cleanup_free_ char *json = tpm_fixture(FIXTURE);
        _cleanup_free_ char *p = strdup(path);
        json_object *root = json_tokener_parse(json), *node = root;
        char *key = p, *dot;
        char *s;

        assert_non_null(root);
        while ((dot = strchr(key, '.'))) {
                *dot = 0;
                assert_true(json_object_object_get_ex(node, key, &node));
                key = dot + 1;
        }
        if (value) {
                json_object *v = json_tokener_parse(value);
                assert_non_null(v);
                json_object_object_add(node, key, v);
        } else
                json_object_object_del(node, key);
        s = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
        json_object_put(root);
        return s;
}

static void expect_refused(const char *path, const char *value, const char *reason) {
        _cleanup_free_ char *json = edited(path, value);
        _cleanup_free_ char *why = NULL;

        assert_int_equal(luks_header_check(json, NULL, &why), -LUKS_HEADER_REFUSED);
        assert_non_null(why);
        if (!strstr(why, reason)) {
                fprintf(stderr, "edit %s=%s: got \"%s\", want \"%s\"\n", path, strempty(value), why, reason);
                fail();
        }
}

static void test_genuine(void **state) {
        _cleanup_free_ char *json = tpm_fixture(FIXTURE);
        _cleanup_free_ char *why = NULL;
        const char *const more[] = { "aes-xts-plain64", "serpent-xts-plain64", NULL };

        assert_int_equal(luks_header_check(json, NULL, &why), 0);
        assert_null(why);
        assert_int_equal(luks_header_check(json, more, &why), 0);
}

/* The three edits of the issue and their kin: each keeps the genuine token
 * and keyslot working while the data would be the attacker's. */
static void test_segment(void **state) {
        expect_refused("segments.0.encryption", "\"cipher_null-ecb\"", "LUKS2 data segment 0 uses cipher_null-ecb");
        expect_refused("segments.0.encryption", "\"aes-cbc-essiv:sha256\"",
                       "LUKS2 data segment 0 uses aes-cbc-essiv:sha256");
        expect_refused("segments.0.encryption", NULL, "LUKS2 data segment 0 uses (no cipher)");
        expect_refused("segments.0", "{\"type\":\"linear\",\"offset\":\"16777216\",\"size\":\"dynamic\"}",
                       "LUKS2 data segment 0 is of type linear, not crypt");
        expect_refused("segments.0.integrity", "{\"type\":\"hmac(sha256)\"}",
                       "LUKS2 data segment 0 carries an integrity layer");
        expect_refused("segments.0.flags", "[\"in-reencryption\"]", "LUKS2 data segment 0 has flag in-reencryption");
        expect_refused("segments.0.offset", "\"16384\"",
                       "LUKS2 data segment 0 starts at byte 16384, inside the metadata and keyslot areas (which end at 1081344)");
        expect_refused("segments.0.offset", "\"0\"", "starts at byte 0");
        /* The window attack: offset and IV tweak moved together over the
         * genuine ciphertext, or the volume cut to a run of it. */
        expect_refused("segments.0.iv_tweak", "\"4096\"", "LUKS2 data segment 0 has an IV tweak other than 0");
        expect_refused("segments.0.iv_tweak", "4096", "LUKS2 data segment 0 has an IV tweak other than 0");
        expect_refused("segments.0.size", "\"1048576\"", "LUKS2 data segment 0 has a fixed size, not the whole device");
        expect_refused("segments.0.offset", "\"-1\"", "LUKS2 data segment 0 has no valid offset");
        expect_refused("segments.1", "{\"type\":\"crypt\",\"offset\":\"4194304\",\"size\":\"dynamic\","
                       "\"encryption\":\"aes-xts-plain64\",\"sector_size\":512}",
                       "LUKS2 header has 2 data segments, not exactly one");
        expect_refused("segments", "{}", "LUKS2 header has 0 data segments");
}

static void test_keyslots(void **state) {
        expect_refused("keyslots.1.area.encryption", "\"cipher_null-ecb\"", "LUKS2 keyslot 1 area uses cipher_null-ecb");
        expect_refused("keyslots.0.area.encryption", "\"cipher_null-ecb\"", "LUKS2 keyslot 0 area uses cipher_null-ecb");
        expect_refused("keyslots.1.area.key_size", "16", "LUKS2 keyslot 1 area uses a key of fewer than 256 bits");
        expect_refused("keyslots.1.key_size", "16", "LUKS2 keyslot 1 holds a key of fewer than 256 bits");
        expect_refused("keyslots.1.type", "\"reencrypt\"", "LUKS2 keyslot 1 is of type reencrypt, not luks2");
        expect_refused("keyslots.1.area.offset", "\"4096\"", "LUKS2 keyslot 1 area lies outside the keyslot area");
        expect_refused("keyslots.1.area.offset", "\"1073741824\"", "LUKS2 keyslot 1 area lies outside");
        expect_refused("keyslots.1.area.size", "\"18446744073709551615\"", "LUKS2 keyslot 1 area lies outside");
        /* The token's keyslot must vouch for the one segment's key. */
        expect_refused("digests.0.keyslots", "[\"0\"]", "LUKS2 keyslot 1 is not bound to data segment 0");
        expect_refused("digests.0.segments", "[]", "LUKS2 data segment 0 is bound to no digest");
        expect_refused("digests.1", "{\"type\":\"pbkdf2\",\"keyslots\":[\"1\"],\"segments\":[\"0\"]}",
                       "LUKS2 data segment 0 is bound to more than one digest (1 too)");
        expect_refused("tokens.0.keyslots", "[\"7\"]", "LUKS2 token 0 names keyslot 7, which does not exist");
}

static void test_config(void **state) {
        expect_refused("config.requirements", "{\"mandatory\":[\"online-reencrypt-v2\"]}",
                       "LUKS2 header requires online-reencrypt-v2");
        expect_refused("config.requirements", "{\"optional\":[\"x\"]}", "requirements this boot does not know");
        expect_refused("config.keyslots_size", NULL, "LUKS2 config has no valid json_size and keyslots_size");
        expect_refused("config", NULL, "LUKS2 metadata lacks one of segments, keyslots, digests or config");
}

static void test_allow_list(void **state) {
        _cleanup_free_ char *json = edited("segments.0.encryption", "\"serpent-xts-plain64\"");
        _cleanup_free_ char *why = NULL;
        const char *const serpent[] = { "serpent-xts-plain64", NULL };
        const char *const none[] = { NULL };

        /* The image's allow-list replaces the default, keyslot areas too. */
        assert_int_equal(luks_header_check(json, NULL, &why), -LUKS_HEADER_REFUSED);
        assert_int_equal(luks_header_check(json, serpent, &why), -LUKS_HEADER_REFUSED);
        assert_non_null(strstr(why, "LUKS2 keyslot 0 area uses aes-xts-plain64"));
        assert_int_equal(luks_header_check(json, none, &why), -LUKS_HEADER_REFUSED);
        assert_int_equal(luks_header_check("[]", NULL, &why), -LUKS_HEADER_REFUSED);
        assert_int_equal(luks_header_check("{", NULL, &why), -LUKS_HEADER_REFUSED);
        assert_int_equal(luks_header_check(NULL, NULL, &why), -LUKS_HEADER_REFUSED);
}

static void test_ranges(void **state) {
        _cleanup_free_ char *json = tpm_fixture(FIXTURE);
        _cleanup_free_ char *bad = edited("keyslots.1.area.offset", "\"99999999999\"");
        struct luks_header_range r[4];

        /* The two metadata copies, then each keyslot's area. */
        assert_int_equal(luks_header_ranges(json, 16384, 1048576, r, 4), 3);
        assert_int_equal(r[0].offset, 0);
        assert_int_equal(r[0].size, 32768);
        assert_int_equal(r[1].offset, 32768);
        assert_int_equal(r[1].size, 258048);
        assert_int_equal(r[2].offset, 290816);
        /* An area outside the header is not copied (its check refuses it). */
        assert_int_equal(luks_header_ranges(bad, 16384, 1048576, r, 4), 2);
        assert_int_equal(luks_header_ranges(json, 16384, 1048576, r, 2), 2);
        assert_int_equal(luks_header_ranges("x", 16384, 1048576, r, 4), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_genuine),
                cmocka_unit_test(test_segment),
                cmocka_unit_test(test_keyslots),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_allow_list),
                cmocka_unit_test(test_ranges),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
