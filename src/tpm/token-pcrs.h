/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "token.h"

/* Offline reasoning about a token's literal PCRs, from its policy hash: no
 * TPM is asked. */

/* PCR 15, where the volume keys of a boot go (systemd's tpm2-measure-pcr,
 * src/tpm/pcr15.h): the literal PCR that moves within a boot. */
#define PCR15_PCR 15

/* The token's policy digest comes out when the literal PCRs of `mask` (from
 * `values`, ascending over `mask`) that are not zero are taken as zero: the
 * first such PCR, which changed since the token was enrolled, or -1. (PCR 15
 * is the usual one: the volume keys of a boot are measured into it after
 * the last unseal.) */
int token_literal_pcr_moved(const struct tpm2_token *t, TPMI_ALG_HASH bank, uint32_t mask, const uint8_t *values);
