/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* `usi-init unlock --check --explain --uki NEW.efi [IMAGE...]`: before the
 * reboot, what the new UKI gives PCR 11 on each phase path, which of its
 * .pcrsig entries verify against its .pcrpkey, the image lint, and per
 * volume whether its systemd-tpm2 tokens would unseal under it. */
#define PREFLIGHT_EXIT_LOCKED 5   /* a volume would stay locked */
#define PREFLIGHT_EXIT_NOTHING 4  /* no volume judged: none named, none in state.json */
struct preflight_args {
        const char *uki;
        const char *const *images;      /* none: this boot's opened volumes, from state.json */
        size_t n_images;
        const char *state_file;         /* NULL: STATE_FILE */
        const char *tcti;               /* NULL: no TPM, literal PCRs other than 4/12/13 unchecked */
};
int uki_preflight(const struct preflight_args *a, FILE *out);
