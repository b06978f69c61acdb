/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* `usi-init unlock --check --explain --uki NEW.efi [IMAGE...]`: before the
 * reboot, what the new UKI gives PCR 11 on each phase path, which of its
 * .pcrsig entries verify against its .pcrpkey, the image lint, and per
 * volume whether its systemd-tpm2 tokens would unseal under it. */
#define PREFLIGHT_EXIT_LOCKED 5   /* a volume would stay locked, or the lint failed */
int uki_preflight(const char *uki, const char *const *images, size_t n_images, FILE *out);
