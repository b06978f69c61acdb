/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the kernel command line parser, then the plan built from it. */
#include <stdint.h>

#include "fuzz-plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = strndup((const char *) data, size);
        struct cmdline cl;
        struct config c;
        strv errors = {};

        if (!s)
                return 0;
        cmdline_init(&cl);
        config_init(&c);
        if (cmdline_parse(s, &cl) == 0 && config_load_defaults(&c, &errors) == 0)
                fuzz_plan_print(&c, &cl, NULL, &errors);
        strv_clear(&errors);
        config_done(&c);
        cmdline_done(&cl);
        free(s);
        return 0;
}
