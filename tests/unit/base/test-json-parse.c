/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "json-parse.h"
#include "util.h"

static int parse(const char *text, char **why) {
        struct json_object *o = NULL;
        int r = json_parse_object(text, strlen(text), &o, why);
        json_object_put(o);
        return r;
}

static void assert_nul_refused(const char *const *bad, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *why = NULL;
                assert_int_equal(parse(bad[i], &why), -EBADMSG);
                assert_string_equal(why, "a JSON string holds \\u0000 (a NUL)");
        }
}

/* A NUL escaped in a value or a key is refused: json-c cuts keys there, so
 * {"sha256\u0000x": ...} would otherwise be looked up as "sha256". */
static void test_nul_escape(void **state) {
        static const char *const bad[] = {
                "{\"sha256\\u0000x\": [1]}",
                "{\"bank\": \"sha256\\u0000x\"}",
                "{\"a\": [\"x\", {\"b\": \"\\u0000\"}]}",
        };
        assert_nul_refused(bad, ELEMENTSOF(bad));
        /* An escaped backslash before "u0000" is text, not a NUL. */
        assert_int_equal(parse("{\"a\": \"\\\\u0000\", \"b\": \"\\u0001\"}", NULL), 0);
}

/* json-c also takes single-quoted strings (caught by fuzz-json's check): a NUL
 * escaped there is refused the same, and a quote of the other kind inside
 * a string does not end it. */
static void test_nul_escape_single_quotes(void **state) {
        static const char *const bad[] = {
                "{'a': 'x\\u0000y'}",
                "{'sha256\\u0000x': [1]}",
                "{'\"': \"\\u0000\"}",
                "{\"'\": '\\u0000'}",
        };
        assert_nul_refused(bad, ELEMENTSOF(bad));
        assert_int_equal(parse("{'a': 'say \"hi\"', \"b\": \"'\"}", NULL), 0);
}

static void test_whole_object(void **state) {
        _cleanup_free_ char *why = NULL;
        assert_int_equal(parse("{\"a\": 1}\n", NULL), 0);
        assert_int_equal(parse("[1]", NULL), -EBADMSG);
        assert_int_equal(parse("{\"a\": 1} {}", &why), -EBADMSG);
        assert_string_equal(why, "not a JSON object");
        assert_int_equal(json_parse_object("{}\0{}", 5, &(struct json_object *) { NULL }, NULL), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nul_escape),
                cmocka_unit_test(test_nul_escape_single_quotes),
                cmocka_unit_test(test_whole_object),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
