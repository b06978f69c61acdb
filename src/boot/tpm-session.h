/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "record.h"
#include "tpm2.h"

/* The boot's one TPM connection (struct boot: tpm, tpm_stats, tpm_used).
 * It is opened on first use by whoever needs it first (the unlock stage,
 * a phase measurement, PCR 15) and shared, so the parent key, the salted
 * session and the signature tickets are made once per boot; it is closed
 * before anything the boot does not trust runs (the hand-off, a failure
 * shell). */

/* The plan's TPM as a TCTI string for tpm2_open() (NULL: the defaults). */
const char *tpm_session_tcti(const struct plan *p);

/* A connection of the plan's TPM with its deadline per command
 * (tpm.timeout), for work that keeps its own. */
int tpm_session_open(const struct plan *p, struct tpm2_ctx **ret, char **why);

/* The connection, opened on first use. */
int tpm_session_get(const struct plan *p, struct boot *b, struct tpm2_ctx **ret, char **why);

/* The connection if it is open, else NULL: for work that must not keep
 * one open past itself. */
struct tpm2_ctx *tpm_session_peek(const struct boot *b);

/* Close it (flushes every handle), keeping its statistics for state.json.
 * Idempotent. */
void tpm_session_close(struct boot *b);
