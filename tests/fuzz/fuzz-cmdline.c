/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the kernel command line parser, then the plan built from it. */
#include <stdint.h>

#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = strndup((const char *) data, size);
        struct cmdline cl;
        struct config c;
        struct plan p;
        strv errors = {};

        if (!s)
                return 0;
        cmdline_init(&cl);
        config_init(&c);
        if (cmdline_parse(s, &cl) == 0 && config_load_defaults(&c, &errors) == 0 &&
            plan_build(&c, &cl, &p, &errors) == 0) {
                FILE *f = fopen("/dev/null", "w");
                if (f) {
                        plan_print_text(&p, f);
                        plan_print_json(&p, f);
                        fclose(f);
                }
                plan_done(&p);
        }
        strv_clear(&errors);
        config_done(&c);
        cmdline_done(&cl);
        free(s);
        return 0;
}
