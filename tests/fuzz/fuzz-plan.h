/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The plan built from what a target parsed, printed as text and as JSON to
 * /dev/null: everything the parsed values reach. */

#include <stdio.h>

#include "plan.h"

static void fuzz_plan_print(const struct config *c, const struct cmdline *cl, const struct plan_facts *facts,
                            strv *errors) {
        struct plan p;
        FILE *f;

        if (plan_build_on(c, cl, facts, &p, errors) != 0)
                return;
        f = fopen("/dev/null", "w");
        if (f) {
                plan_print_text(&p, f);
                plan_print_json(&p, f);
                fclose(f);
        }
        plan_done(&p);
}
