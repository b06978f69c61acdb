/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "log.h"
#include "measure.h"
#include "phase.h"
#include "tpm-session.h"

bool phase_wanted(const struct plan *p, const struct boot *b) {
        return p->measure_phases && boot_may_extend(p, b);
}

/* 0 when measuring is off, 1 when measured, else a negative errno and why. */
static int measure_phase_why(const struct plan *p, struct boot *b, const char *word, char **why) {
        _cleanup_tpm2_ struct tpm2_ctx *own = NULL;
        struct tpm2_ctx *tpm = tpm_session_peek(b);
        int r = 0;

        if (!p->measure_phases)
                return 0;
        /* Outside the unlock stage's lifetime the connection is our own and
         * closed again at once: nothing is left open across the hand-off. */
        if (!tpm) {
                r = tpm_session_open(p, &own, why);
                tpm = own;
        }
        if (r >= 0)
                r = measure_phase(tpm, word, why);
        if (r < 0)
                return r;
        log_info("measured '%s' into PCR %d", word, MEASURE_PCR_PHASE);
        return 1;
}

int phase_step(const struct plan *p, struct boot *b, const char *word) {
        _cleanup_free_ char *why = NULL;

        if (!phase_wanted(p, b))
                return 0;
        /* The reason goes into the banner (and failure.log): "no TPM" is
         * what the operator must read there, not only in a line before. */
        int r = measure_phase_why(p, b, word, &why);
        if (r < 0)
                return boot_fail(b, r, "cannot measure '%s' into PCR %d: %s; not booting on", word, MEASURE_PCR_PHASE,
                                 strempty(why));
        return 0;
}

int measure_boot_phase(const struct plan *p, struct boot *b, const char *word) {
        _cleanup_free_ char *why = NULL;
        int r = measure_phase_why(p, b, word, &why);

        if (r < 0)
                return log_error_errno(r, "cannot measure '%s' into PCR %d: %s", word, MEASURE_PCR_PHASE, strempty(why));
        return 0;
}

void window_record_base(const struct plan *p, struct boot *b) {
        _cleanup_tpm2_ struct tpm2_ctx *tpm = NULL;
        _cleanup_free_ char *why = NULL;

        if (tpm_session_open(p, &tpm, &why) < 0 ||
            tpm2_pcr_read(tpm, TPM2_ALG_SHA256, UINT32_C(1) << MEASURE_PCR_PHASE, b->window.pcr11_base, &why) < 0) {
                log_warn("early: cannot read PCR %d before enter-initrd: %s", MEASURE_PCR_PHASE, strempty(why));
                return;
        }
        b->window.base_known = true;
}

bool pcr15_wanted(const struct plan *p, const struct boot *b) {
        return p->measure_volume_keys && ((b->handoff && boot_may_extend(p, b)) || b->measure_volume_keys);
}
