/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <tss2/tss2_tcti.h>

/* A TCTI in front of another that counts the commands sent through it, so
 * state.json can say how many TPM commands a boot issued: on a discrete TPM
 * each one costs milliseconds, and the count is what the fast-boot rules of
 * the design are about. The inner TCTI stays owned by the caller. */
int tcti_count_new(TSS2_TCTI_CONTEXT *inner, unsigned *counter, TSS2_TCTI_CONTEXT **ret);
void tcti_count_free(TSS2_TCTI_CONTEXT *t);
