/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "window.h"

/* `usi-init unlock --check --explain`. */
struct window_explain_args {
        const char *const *signatures;  /* NULL-terminated, before the defaults */
        const char *tcti;               /* a TPM: pcr11_base "tpm", and each token
                                         * judged on its PCRs now (window_token_now) */
        const char *pcr11_base;         /* hex, "tpm", or NULL: the state file's */
        const char *state_file;         /* NULL: /run/usi-init/state.json */
        const char *const *images;
        size_t n_images;
};
/* Exit status: 0 every key closed after hand-off, 1 an image or file could
 * not be read, 3 some key stays unsealable, 4 not decidable. */
#define WINDOW_EXIT_OPEN 3
#define WINDOW_EXIT_UNKNOWN 4
int window_explain(const struct window_explain_args *a, FILE *out);
