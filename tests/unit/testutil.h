/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "plan.h"

/* defaults + one YAML text named "test.yaml" (NULL: none) + command line
 * -> plan. Returns what plan loading would: 0 or -EINVAL with errors. */
static inline int load_plan(const char *yaml, const char *cmdline_text, struct plan *p, strv *errors) {
        struct config c;
        struct cmdline cl;
        int r;

        config_init(&c);
        cmdline_init(&cl);
        r = config_load_defaults(&c, errors);
        assert_int_equal(r, 0);
        if (yaml)
                r = config_load_string(&c, "test.yaml", yaml, strlen(yaml), errors);
        assert_int_equal(cmdline_parse(cmdline_text ? cmdline_text : "", &cl), 0);
        if (r == 0)
                r = plan_build(&c, &cl, p, errors);
        cmdline_done(&cl);
        config_done(&c);
        return r;
}

/* Assert that loading `yaml` fails, and that some error starts with
 * `prefix` ("test.yaml:3:7: ...") and contains `words`. */
static inline void expect_error(const char *yaml, const char *prefix, const char *words) {
        strv errors = {};
        struct plan p;
        bool found = false;

        assert_int_equal(load_plan(yaml, NULL, &p, &errors), -EINVAL);
        assert_true(errors.n > 0);
        for (size_t i = 0; i < errors.n; i++)
                if (strncmp(errors.v[i], prefix, strlen(prefix)) == 0 && strstr(errors.v[i], words))
                        found = true;
        if (!found)
                for (size_t i = 0; i < errors.n; i++)
                        print_error("got: %s\n", errors.v[i]);
        assert_true(found);
        strv_clear(&errors);
}
