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

/* Does the token's policy hold with PCR 15 at `pcr15` (the bank's digest
 * size) and its other literal PCRs at `values` (ascending over the token's
 * literal PCRs, PCR 15's place ignored; NULL when PCR 15 is its only one)?
 * 1 or 0; -EINVAL when its policy has no PCR 15, -ENODATA when it needs
 * values that were not given, -EBADMSG for a public key that does not
 * load. */
int token_holds_with_pcr15(const struct tpm2_token *t, TPMI_ALG_HASH bank, const uint8_t *values,
                           const uint8_t *pcr15);

/* How a token binds PCR 15, the volume-key PCR (the binding design in
 * docs/ARCHITECTURE.md): judged offline from its policy hash. */
enum token_pcr15 {
        TOKEN_PCR15_UNBOUND,    /* no PCR 15 in its policy: not bound to any volume */
        TOKEN_PCR15_ZERO,       /* PCR 15 = 0: the first volume of a chain, or systemd's way */
        TOKEN_PCR15_CHAINED,    /* another value: it opens only after the volume keys it was
                                 * enrolled behind were measured */
        TOKEN_PCR15_UNKNOWN,    /* other literal PCRs whose values were not given */
};
enum token_pcr15 token_pcr15_binding(const struct tpm2_token *t, TPMI_ALG_HASH bank, const uint8_t *values);
