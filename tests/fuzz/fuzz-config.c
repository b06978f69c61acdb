/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: a YAML config file, read both as a usi-init config and as
 * a Kairos cloud-config, from the image and then from /oem, then turned into
 * a plan. */
#include <stdint.h>

#include "fuzz-plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct cmdline cl;
        struct config c;
        strv errors = {};

        cmdline_init(&cl);
        config_init(&c);
        if (config_load_defaults(&c, &errors) == 0) {
                int r1 = config_load_string(&c, "fuzz.yaml", (const char *) data, size, &errors);
                int r2 = config_load_kairos_string(&c, "fuzz-kairos.yaml", (const char *) data, size, &errors);
                /* and again as /oem, which may set only the layout */
                c.layer = CONFIG_LAYER_OEM;
                int r3 = config_load_string(&c, "fuzz-oem.yaml", (const char *) data, size, &errors);
                int r4 = config_load_kairos_string(&c, "fuzz-oem-kairos.yaml", (const char *) data, size, &errors);
                if (r1 == 0 && r2 == 0 && r3 == 0 && r4 == 0)
                        fuzz_plan_print(&c, &cl, NULL, &errors);
        }
        strv_clear(&errors);
        config_done(&c);
        cmdline_done(&cl);
        return 0;
}
