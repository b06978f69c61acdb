/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "record.h"
#include "secret.h"
#include "tpm-session.h"
#include "unlock-core.h"

/* The unlock stage: turns the plan's volumes of the pass into one unlock
 * batch (src/tpm/unlock-core.h: TPM for every volume first through the boot's
 * one TPM connection, then each volume's fallbacks in its `unlock` list's
 * order, trust-chain rule 3) and records what opened in struct boot. */

/* The volumes the stage tries in this pass, in plan order: found, LUKS2,
 * not yet opened, with an unlock list. Each unlock_volume's methods are
 * the plan's list; *ret_index maps them to plan->volumes. Pure: looks at
 * the plan and the devices stage's facts only. Both arrays malloc'ed; the
 * volumes' strings point into the plan and the boot. */
int unlock_volumes(const struct plan *p, const struct boot *b, struct unlock_volume **ret, size_t **ret_index,
                   size_t *ret_n);

/* The PCR signature files the unseal tries, in order: the boot's own
 * (`boot --signature`, paths of the running system), then the plan's search
 * list under the root. */
int unlock_signature_paths(const struct plan *p, const struct boot *b, strv *ret);
