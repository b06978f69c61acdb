/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cmdline.h"

struct words {
        char buf[64][128];
        int n;
};

static int collect(const char *param, const char *value, void *ud) {
        struct words *w = ud;
        if (w->n < 64)
                snprintf(w->buf[w->n++], 128, "%s%s%s", param, value ? "=" : "", value ? value : "");
        return 0;
}

static void split_expect(const char *line, const char *const *expected, const char *rest_expected) {
        struct words w = {};
        const char *rest = NULL;
        int n = 0;

        assert_int_equal(cmdline_split(line, collect, &w, &rest), 0);
        for (; expected[n]; n++) {
                assert_true(n < w.n);
                assert_string_equal(w.buf[n], expected[n]);
        }
        assert_int_equal(w.n, n);
        if (rest_expected)
                assert_string_equal(rest, rest_expected);
        else
                assert_null(rest);
}

static void test_split_plain(void **state) {
        split_expect("  root=/dev/sda1  ro quiet\n", (const char *[]) { "root=/dev/sda1", "ro", "quiet", NULL }, NULL);
        split_expect("", (const char *[]) { NULL }, NULL);
        split_expect("   \t ", (const char *[]) { NULL }, NULL);
}

static void test_split_quotes(void **state) {
        /* the value's quotes are dropped, spaces inside stay */
        split_expect("a=\"b c\" d", (const char *[]) { "a=b c", "d", NULL }, NULL);
        /* a quote around the whole word is dropped too */
        split_expect("\"a=b c\" d", (const char *[]) { "a=b c", "d", NULL }, NULL);
        /* an unterminated quote runs to the end of the line */
        split_expect("a=\"b c d", (const char *[]) { "a=b c d", NULL }, NULL);
        /* quotes in the middle of a word are kept, as the kernel keeps them */
        split_expect("a=b\"c d\"e f", (const char *[]) { "a=b\"c d\"e", "f", NULL }, NULL);
        /* '=' inside quotes of the key does not split */
        split_expect("x==y", (const char *[]) { "x==y", NULL }, NULL);
}

static void test_split_dashes(void **state) {
        split_expect("quiet -- single --foo x=1", (const char *[]) { "quiet", NULL }, "single --foo x=1");
        split_expect("-- ", (const char *[]) { NULL }, "");
        /* "--" with a value is a normal word */
        split_expect("--=1 a", (const char *[]) { "--=1", "a", NULL }, NULL);
}

static void test_parse_options(void **state) {
        struct cmdline c;

        cmdline_init(&c);
        assert_int_equal(cmdline_parse("rd.usi.debug rd.usi.shell rd.usi.break=mounts rd.usi.timeout=12 "
                                       "rd.usi.config=/etc/x.yaml rd.usi.on_failure=reboot "
                                       "rd.usi.tpm2_device=swtpm:path=/run/s init=/bin/sh", &c), 0);
        assert_true(c.debug);
        assert_true(c.shell);
        assert_string_equal(c.break_stage, "mounts");
        assert_int_equal(c.timeout_sec, 12);
        assert_string_equal(c.config, "/etc/x.yaml");
        assert_int_equal(c.on_failure, ON_FAILURE_REBOOT);
        assert_string_equal(c.tpm2_device, "swtpm:path=/run/s");
        assert_string_equal(c.init, "/bin/sh");
        assert_int_equal(c.warnings.n, 0);
        cmdline_done(&c);
}

static void test_parse_last_wins(void **state) {
        struct cmdline c;

        cmdline_init(&c);
        assert_int_equal(cmdline_parse("rd.usi.timeout=5 rd.usi.timeout=9 init=/a init=/b "
                                       "rd.cos.overlay=tmpfs:10% rd.immucore.overlay=tmpfs:30% "
                                       "rd.usi.debug rd.usi.debug=0", &c), 0);
        assert_int_equal(c.timeout_sec, 9);
        assert_string_equal(c.init, "/b");
        assert_string_equal(c.overlay, "tmpfs:30%");
        assert_false(c.debug);
        cmdline_done(&c);
}

static void test_parse_kairos(void **state) {
        struct cmdline c;

        cmdline_init(&c);
        assert_int_equal(cmdline_parse("rd.immucore.debug rd.immucore.oemlabel=MYOEM rd.immucore.oemtimeout=20 "
                                       "rd.immucore.rebootonfailure rd.cos.overlay=tmpfs:25% rd.immucore.uki", &c), 0);
        assert_true(c.debug);
        assert_string_equal(c.oem_label, "MYOEM");
        assert_int_equal(c.oem_timeout_sec, 20);
        assert_int_equal(c.on_failure, ON_FAILURE_REBOOT);
        assert_string_equal(c.overlay, "tmpfs:25%");
        assert_true(c.uki);
        assert_int_equal(c.warnings.n, 0);
        cmdline_done(&c);
}

/* Either spelling allows a boot with Secure Boot off; neither is the default. */
static void test_parse_insecure(void **state) {
        static const char *const on[] = { "rd.usi.insecure", "rd.immucore.securebootdisabled", "rd.usi.insecure=1",
                                          "rd.immucore.securebootdisabled=yes", "rd.usi.insecure=0 rd.immucore.securebootdisabled" };
        static const char *const off[] = { "", "rd.usi.insecure=0", "rd.immucore.securebootdisabled=no",
                                           "rd.immucore.securebootdisabled rd.usi.insecure=off", "rd.usi.insecurex" };
        struct cmdline c;

        for (size_t i = 0; i < ELEMENTSOF(on); i++) {
                cmdline_init(&c);
                assert_int_equal(cmdline_parse(on[i], &c), 0);
                assert_true(c.insecure);
                cmdline_done(&c);
        }
        for (size_t i = 0; i < ELEMENTSOF(off); i++) {
                cmdline_init(&c);
                assert_int_equal(cmdline_parse(off[i], &c), 0);
                assert_false(c.insecure);
                cmdline_done(&c);
        }
}

static void test_parse_warnings(void **state) {
        struct cmdline c;

        cmdline_init(&c);
        assert_int_equal(cmdline_parse("rd.usi.frobnicate=1 rd.usi.timeout=soon rd.usi.on_failure=explode "
                                       "rd.usi.config rd.usi.debug=maybe rd.other.thing=1 quiet", &c), 0);
        assert_int_equal(c.warnings.n, 5);
        assert_non_null(strstr(c.warnings.v[0], "rd.usi.frobnicate"));
        assert_non_null(strstr(c.warnings.v[1], "rd.usi.timeout=soon"));
        assert_non_null(strstr(c.warnings.v[2], "halt, reboot or shell"));
        assert_non_null(strstr(c.warnings.v[3], "rd.usi.config"));
        assert_non_null(strstr(c.warnings.v[4], "rd.usi.debug=maybe"));
        assert_int_equal(c.timeout_sec, -1);
        assert_int_equal(c.on_failure, ON_FAILURE_UNSET);
        assert_null(c.config);
        cmdline_done(&c);
}

static void test_parse_init_args(void **state) {
        struct cmdline c;

        cmdline_init(&c);
        assert_int_equal(cmdline_parse("rd.usi.debug -- single rd.usi.shell \"a b\" x=\"1 2\"", &c), 0);
        assert_true(c.debug);
        assert_false(c.shell); /* after "--" everything belongs to init */
        assert_int_equal(c.init_args.n, 4);
        assert_string_equal(c.init_args.v[0], "single");
        assert_string_equal(c.init_args.v[1], "rd.usi.shell");
        assert_string_equal(c.init_args.v[2], "a b");
        assert_string_equal(c.init_args.v[3], "x=1 2");
        cmdline_done(&c);
}

static void test_read_file(void **state) {
        char path[] = "/tmp/test-cmdline-XXXXXX";
        int fd = mkstemp(path);
        _cleanup_free_ char *why = NULL;
        char *s = NULL;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "a=1\0b\nc\n", 8), 8);
        close(fd);
        assert_int_equal(cmdline_read_file(path, &s, &why), 0);
        assert_string_equal(s, "a=1 b c ");
        free(s);
        unlink(path);
        assert_int_equal(cmdline_read_file("/nonexistent/cmdline", &s, &why), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split_plain),
                cmocka_unit_test(test_split_quotes),
                cmocka_unit_test(test_split_dashes),
                cmocka_unit_test(test_parse_options),
                cmocka_unit_test(test_parse_last_wins),
                cmocka_unit_test(test_parse_kairos),
                cmocka_unit_test(test_parse_insecure),
                cmocka_unit_test(test_parse_warnings),
                cmocka_unit_test(test_parse_init_args),
                cmocka_unit_test(test_read_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
