/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tpm-session.h"

const char *tpm_session_tcti(const struct plan *p) {
        /* The built-in default also falls back to /dev/tpm0. */
        return !p->tpm_device || streq(p->tpm_device, "device:/dev/tpmrm0") ? NULL : p->tpm_device;
}

int tpm_session_open(const struct plan *p, struct tpm2_ctx **ret, char **why) {
        int r = tpm2_open(tpm_session_tcti(p), ret, why);
        if (r >= 0)
                tpm2_set_timeout(*ret, p->tpm_timeout_ms);
        return r;
}

int tpm_session_get(const struct plan *p, struct boot *b, struct tpm2_ctx **ret, char **why) {
        if (!b->tpm) {
                int r = tpm_session_open(p, &b->tpm, why);
                if (r < 0)
                        return r;
        }
        *ret = b->tpm;
        return 0;
}

struct tpm2_ctx *tpm_session_peek(const struct boot *b) {
        return b->tpm;
}

void tpm_session_close(struct boot *b) {
        if (b->tpm) {
                b->tpm_stats = *tpm2_get_stats(b->tpm);
                b->tpm_used = true;
        }
        tpm2_close(b->tpm);
        b->tpm = NULL;
}
