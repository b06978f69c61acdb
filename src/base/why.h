/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "util.h"

/* The error convention (docs/ARCHITECTURE.md, Conventions): a function that
 * can fail returns 0 (or a count) or a negative errno. When its caller must
 * say why, it also takes `char **why` and sets there one sentence naming the
 * device, file or field and what is wrong: malloc'ed, handed up unprinted to
 * the one place that prints it (a stage's boot_fail(), a command's
 * log_error()). A caller that adds context prefixes it; a caller that does
 * not need it passes NULL. Nothing below the boot and the commands logs an
 * error itself. */

/* Replaces an earlier reason. Returns -abs(err), for
 * `return why_set(why, EINVAL, "...")`. */
_printf_(3, 4) int why_set(char **why, int err, const char *fmt, ...);
/* Prefix an existing reason: "token 0: <reason>". */
_printf_(2, 3) void why_prefix(char **why, const char *fmt, ...);

/* For printing: the reason, or a stand-in when none could be kept (out of
 * memory). */
static inline const char *why_or(const char *why) {
        return why ? why : "(no reason recorded)";
}
