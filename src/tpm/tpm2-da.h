/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tpm2.h"

/* The TPM's dictionary-attack state, so that a lockout is explained with
 * its numbers and the way out instead of "wait or clear it". */
struct tpm2_da {
        uint32_t counter;       /* authorization failures counted now */
        uint32_t max;           /* failures before the lockout */
        uint32_t interval;      /* the recovery time: seconds to forgive one failure (0: never) */
        uint32_t recovery;      /* seconds the lockout authorization waits after its own failure */
        bool in_lockout;
};

int tpm2_da_read(struct tpm2_ctx *c, struct tpm2_da *ret, char **why);

/* One clause: the counter, the maximum, the recovery time and the command
 * that clears the lockout. */
void tpm2_da_describe(const struct tpm2_da *d, char *buf, size_t size);
