/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "boot.h"
#include "secret.h"
#include "tpm-session.h"

/* The unlock stage: every LUKS2 volume of the pass is tried with the TPM
 * first, all of them, through one TPM context (one parent, one salted
 * session, one verified signature ticket); only then the fallbacks each
 * volume's `unlock` list allows, in that list's order (trust-chain rule 3). */

struct unlock_step {
        size_t volume;                  /* index into plan->volumes */
        enum unlock_method method;
};

/* The attempts of a pass, in order: TPM2 for each eligible volume (found,
 * LUKS2, not yet opened) in plan order, then each one's fallbacks. Pure:
 * looks at the plan and the devices stage's facts only. *ret is malloc'ed. */
int unlock_order(const struct plan *p, const struct boot *b, struct unlock_step **ret, size_t *ret_n);

/* Read a passphrase or recovery key from in_fd (echo off on a terminal),
 * prompting on out_fd. -ETIME after timeout_ms, -ENODATA on empty input. */
int unlock_prompt(int in_fd, int out_fd, const char *prompt, unsigned timeout_ms, struct secret **ret);

/* How long a console prompt waits for a passphrase or recovery key. */
#define UNLOCK_PROMPT_TIMEOUT_MS (120u * 1000u)
#define UNLOCK_PROMPT_TRIES 3

/* The PCR signature files the unseal tries, in order: the boot's own
 * (`boot --signature`, paths of the running system), then the plan's search
 * list under the root. */
int unlock_signature_paths(const struct plan *p, const struct boot *b, strv *ret);
