/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "plan-inputs.h"

/* defaults -> system files (or the given ones) -> rd.usi.config= -> /oem
 * (with `oem`: ROOT/oem/usi-init.yaml and ROOT/oem/ *.yaml) -> plan, with the
 * facts of the inputs (src/plan/plan-inputs.h). All errors are collected in
 * `errors`; nothing is applied unless every file and the plan are valid.
 * Returns 0, -EINVAL (errors appended), or -ENOMEM. */
int plan_load(const struct plan_inputs *in, bool oem, struct cmdline *cl, struct plan *p, strv *errors);
