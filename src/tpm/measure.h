/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "tpm2.h"

/* Boot phases into PCR 11, byte-compatible with systemd-pcrphase: the word
 * (ASCII, no NUL) hashed with each active bank's algorithm and extended. */
#define MEASURE_PCR_PHASE 11

/* The phase words systemd knows; others are allowed but warned about. */
bool measure_phase_known(const char *word);
int measure_phase(struct tpm2_ctx *c, const char *word, char **why);

/* After leave-initrd: is the current PCR 11 (sha256) still signed in the
 * signature file (first of `signatures`, then the defaults)? Then the final
 * OS, and whoever roots it, can unseal the volume keys again. 1: signed
 * (*ret_path names the file), 0: not, negative errno on error. */
int measure_signed_now(struct tpm2_ctx *c, const char *const *signatures, const char **ret_path, char **why);
#define MEASURE_HANDOFF_REMEDY "sign only the initrd phase: systemd-measure sign --phase=enter-initrd"
