/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <tss2/tss2_tcti.h>

/* A TCTI in front of another, between ESYS and the TPM. It
 *  - counts the commands sent through it, so state.json can say how many
 *    TPM commands a boot issued (on a discrete TPM each costs milliseconds);
 *  - gives each command a deadline: the TCTI below may wait forever for a
 *    TPM that stopped answering (libtss2-tcti-swtpm ignores the receive
 *    timeout, and ESYS's synchronous calls block in any case), so the
 *    receive runs on a thread the caller can walk away from;
 *  - checks each response's header (tag, size) and records the first
 *    transport failure: a lost connection, a missed deadline, a malformed
 *    response. ESYS only says "IO failure" for the first and "called in the
 *    wrong order" for every command after, so the record is what names the
 *    failure, the command and the TPM to a person.
 * After a failure every command fails at once with the same code. The inner
 * TCTI stays owned by the caller. */

enum tcti_guard_fault {
        TCTI_GUARD_OK,
        TCTI_GUARD_LOST,        /* the TCTI failed to send or receive */
        TCTI_GUARD_TIMEOUT,     /* no answer within the deadline */
        TCTI_GUARD_MALFORMED,   /* an answer whose header is not a TPM response's */
};

int tcti_guard_new(TSS2_TCTI_CONTEXT *inner, unsigned *counter, TSS2_TCTI_CONTEXT **ret);
/* Whether the inner TCTI may be finalized: not while a receive that missed
 * its deadline still runs in it (then it is left to the process's exit). */
bool tcti_guard_inner_idle(TSS2_TCTI_CONTEXT *t);
void tcti_guard_free(TSS2_TCTI_CONTEXT *t);

/* The deadline of each command, from its transmit to its whole response;
 * 0: none. */
void tcti_guard_set_timeout(TSS2_TCTI_CONTEXT *t, unsigned timeout_ms);

/* The first transport failure (TCTI_GUARD_OK: none) and the command it hit. */
enum tcti_guard_fault tcti_guard_fault(TSS2_TCTI_CONTEXT *t, uint32_t *ret_cc, char *detail, size_t detail_size);

/* The last run of TPM_RC_RETRY, TPM_RC_YIELDED or TPM_RC_TESTING, which
 * ESYS answers by sending the command again itself: the command, the code
 * and how many times in a row that command got it. */
void tcti_guard_last(TSS2_TCTI_CONTEXT *t, uint32_t *ret_cc, uint32_t *ret_rc, unsigned *ret_repeats);

/* "Unseal" for a command code; "command 0x..." for one usi-init never sends. */
const char *tcti_guard_command_name(uint32_t cc, char buf[24]);
