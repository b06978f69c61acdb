/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "tpm2-da.h"

int tpm2_da_read(struct tpm2_ctx *c, struct tpm2_da *ret, char **why) {
        uint32_t v[TPM2_PT_LOCKOUT_RECOVERY - TPM2_PT_LOCKOUT_COUNTER + 1], perm;
        int r;

        r = tpm2_properties(c, TPM2_PT_LOCKOUT_COUNTER, sizeof(v) / sizeof(v[0]), v, why);
        if (r >= 0)
                r = tpm2_properties(c, TPM2_PT_PERMANENT, 1, &perm, why);
        if (r < 0)
                return r;
        *ret = (struct tpm2_da) {
                .counter = v[TPM2_PT_LOCKOUT_COUNTER - TPM2_PT_LOCKOUT_COUNTER],
                .max = v[TPM2_PT_MAX_AUTH_FAIL - TPM2_PT_LOCKOUT_COUNTER],
                .interval = v[TPM2_PT_LOCKOUT_INTERVAL - TPM2_PT_LOCKOUT_COUNTER],
                .recovery = v[TPM2_PT_LOCKOUT_RECOVERY - TPM2_PT_LOCKOUT_COUNTER],
                .in_lockout = perm & TPMA_PERMANENT_INLOCKOUT,
        };
        return 0;
}

void tpm2_da_describe(const struct tpm2_da *d, char *buf, size_t size) {
        char recovery[96];

        /* The TPM's recovery time (TPM2_PT_LOCKOUT_INTERVAL) is what
         * tpm2_dictionarylockout calls --recovery-time. */
        if (d->interval)
                snprintf(recovery, sizeof(recovery), "recovery time %u s (one failure is forgiven every %u s)",
                         d->interval, d->interval);
        else
                snprintf(recovery, sizeof(recovery), "no recovery time (failures are never forgiven by time)");
        snprintf(buf, size,
                 "TPM dictionary-attack %s: %u of %u authorization failures counted, %s; clear it with "
                 "`tpm2_dictionarylockout --clear-lockout` and the lockout authorization",
                 d->in_lockout ? "lockout" : "counter", d->counter, d->max, recovery);
}
