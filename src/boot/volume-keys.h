/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "record.h"

struct crypt_device;

/* Extend PCR 15 for every opened volume that has digests, in plan order,
 * over the boot's TPM connection (opened here if none is). No TPM at all is
 * a warning (nothing can be unsealed to latch); any other failure fails the
 * boot (boot_fail) with the volume and the reason. Called before a volume
 * bound behind them is unsealed (volume_keys_bind()) and right before
 * leave-initrd. */
int pcr15_measure_boot(const struct plan *p, struct boot *b);

/* Before the Unseal of volume `name` (header `cd`, judged): does one of its
 * systemd-tpm2 tokens hold PCR 15 at the value the keys opened before it
 * give? Then those keys are measured now, if they are not yet, and the
 * volume is recorded bound (boot_volume.bound). 1: keys unsealed before it
 * in the same batch must be opened first (their digests are not known
 * yet), then ask again; 0: go on; -EPERM (with *why), a trust-chain
 * refusal: every token of it is bound behind keys this boot did not open
 * (whatever the policy), or, under tpm.bind_volumes: require, none of its
 * tokens is bound. */
int volume_keys_bind(const struct plan *p, struct boot *b, const char *name, struct crypt_device *cd,
                     struct tpm2_ctx *tpm, bool unopened_before, char **why);

/* After the last pass: the warning for the volumes opened unbound. */
int volume_keys_verdict(const struct plan *p, struct boot *b);
