/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json.h>
#include <string.h>

#include "pcrsig.h"
#include "policy.h"

#include "measure.h"

static const char *const phases[] = {
        "enter-initrd", "leave-initrd", "sysinit", "ready", "shutdown", "final",
};

bool measure_phase_known(const char *word) {
        for (size_t i = 0; i < ELEMENTSOF(phases); i++)
                if (streq(phases[i], word))
                        return true;
        return false;
}

int measure_phase(struct tpm2_ctx *c, const char *word, char **why) {
        int r;

        if (!*word)
                return why_set(why, EINVAL, "empty phase word");
        r = tpm2_pcr_extend_data(c, MEASURE_PCR_PHASE, word, strlen(word), why);
        if (r < 0)
                why_prefix(why, "measure '%s' into PCR %d", word, MEASURE_PCR_PHASE);
        return r;
}

int measure_signed_now(struct tpm2_ctx *c, const char *const *signatures, const char **ret_path, char **why) {
        json_object *sig = NULL;
        uint8_t value[32], pol[32] = {};
        bool is_signed;
        int r;

        r = tpm2_pcr_read(c, TPM2_ALG_SHA256, UINT32_C(1) << MEASURE_PCR_PHASE, value, why);
        if (r < 0)
                return r;
        if (policy_pcr(pol, TPM2_ALG_SHA256, UINT32_C(1) << MEASURE_PCR_PHASE, value, sizeof(value)) < 0)
                return why_set(why, EIO, "cannot compute the PCR policy");
        r = pcrsig_load(signatures, true, &sig, ret_path, why);
        if (r < 0)
                return r;
        is_signed = pcrsig_policy_signed(sig, TPM2_ALG_SHA256, UINT32_C(1) << MEASURE_PCR_PHASE, pol);
        json_object_put(sig);
        return is_signed;
}
