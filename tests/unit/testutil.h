/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "plan.h"

/* defaults + an image file `image_name` (NULL text: none) + `oem` read as
 * the /oem layer ("/oem/usi-init.yaml"; NULL: none) + command line -> plan.
 * Keys /oem may not set land in p->notes. */
static inline int load_plan_layers(const char *image_name, const char *image, const char *oem,
                                   const char *cmdline_text, struct plan *p, strv *errors) {
        struct config c;
        struct cmdline cl;
        int r = 0;

        config_init(&c);
        cmdline_init(&cl);
        assert_int_equal(config_load_defaults(&c, errors), 0);
        if (image)
                r = config_load_string(&c, image_name, image, strlen(image), errors);
        c.layer = CONFIG_LAYER_OEM;
        if (r == 0 && oem)
                r = config_load_string(&c, "/oem/usi-init.yaml", oem, strlen(oem), errors);
        assert_int_equal(cmdline_parse(cmdline_text ? cmdline_text : "", &cl), 0);
        if (r == 0)
                r = plan_build(&c, &cl, p, errors);
        cmdline_done(&cl);
        config_done(&c);
        return r;
}

/* defaults + one YAML text named "test.yaml" (NULL: none) + command line
 * -> plan. Returns what plan loading would: 0 or -EINVAL with errors. */
static inline int load_plan(const char *yaml, const char *cmdline_text, struct plan *p, strv *errors) {
        return load_plan_layers("test.yaml", yaml, NULL, cmdline_text, p, errors);
}

/* The same with the image's file named /etc/usi-init/config.yaml. */
static inline int load_plan_oem(const char *image, const char *oem, const char *cmdline_text, struct plan *p,
                                strv *errors) {
        return load_plan_layers("/etc/usi-init/config.yaml", image, oem, cmdline_text, p, errors);
}

/* Is `s` one of `v`? */
static inline bool strv_has(const strv *v, const char *s) {
        for (size_t i = 0; i < v->n; i++)
                if (streq(v->v[i], s))
                        return true;
        return false;
}

/* Where the plan says a trust setting came from; NULL when it lists none. */
static inline const char *trust_origin(const struct plan *p, const char *key) {
        for (size_t i = 0; i < p->n_origins; i++)
                if (streq(p->origins[i].key, key))
                        return p->origins[i].from;
        return NULL;
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
