/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "record.h"

/* The boot's one TPM connection (struct boot's tpm, tpm_stats, tpm_used):
 * opened on first use, shared by the unlock stage of both passes (one
 * parent key, one salted session, one verified signature ticket a boot)
 * and the PCR 15 measurements, closed right after leave-initrd, before
 * anything from outside the image runs. */

/* The plan's TPM as a TCTI string for tpm2_open() (NULL: the defaults). */
const char *tpm_session_tcti(const struct plan *p);

/* The connection, opened on first use. */
int tpm_session_get(const struct plan *p, struct boot *b, struct tpm2_ctx **ret, char **why);

/* Close it (flushes every handle), keeping its statistics for state.json.
 * After the last unseal, on failure, and in boot_done(). Idempotent. */
void tpm_session_close(struct boot *b);
