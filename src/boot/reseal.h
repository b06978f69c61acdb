/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "record.h"
#include "secret.h"

struct crypt_device;

/* Self-heal after a recovery (tpm.reseal: auto, docs/ARCHITECTURE.md): a
 * person opened volume `name` with its recovery key or passphrase because
 * its TPM tokens failed. A new systemd-tpm2 token is sealed to the booted
 * image's key (/.extra/tpm2-pcr-public-key.pem), with the failed token's
 * literal PCRs and, when it was bound, PCR 15 at the value the volumes
 * before it give; then the failed tokens go. Nothing is written when the
 * booted image's signature does not cover this boot's PCR 11 (the new token
 * could not unseal either), or when a failed token had a PIN.
 *
 * The outcome is one line on the console and in boot_volume.reseal (state.json,
 * `status`); a failure is a warning, never a boot failure: the volume is
 * open. Returns 0, or -ENOMEM. */
struct reseal_request {
        const char *name;               /* the plan's volume name */
        const char *path;               /* its device */
        struct crypt_device *cd;        /* the header judged by the unlock core */
        const struct secret *key;       /* what opened it: never kept beyond the call */
        const char *const *signatures;  /* the signature files the unseal tried */
};
int reseal_volume(const struct plan *p, struct boot *b, const struct reseal_request *req);
