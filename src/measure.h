/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "boot.h"
#include "tpm2.h"

/* Boot phases into PCR 11, byte-compatible with systemd-pcrphase: the word
 * (ASCII, no NUL) hashed with each active bank's algorithm and extended. */
#define MEASURE_PCR_PHASE 11

/* The phase words systemd knows; others are allowed but warned about. */
bool measure_phase_known(const char *word);
int measure_phase(struct tpm2_ctx *c, const char *word, char **why);

/* For the boot stages (enter-initrd in the early stage, leave-initrd before
 * the hand-off): measure `word` when the plan's measure_phases is on,
 * through the unlock stage's TPM connection while it is open, else through
 * one opened and closed here (so nothing stays open across the exec). Logs one line naming the reason and returns
 * a negative errno on failure; 0 when measuring is off. */
int measure_boot_phase(const struct plan *p, struct boot *b, const char *word);

/* After leave-initrd: is the current PCR 11 (sha256) still signed in the
 * signature file (first of `signatures`, then the defaults)? Then the final
 * OS, and whoever roots it, can unseal the volume keys again. 1: signed
 * (*ret_path names the file), 0: not, negative errno on error. */
int measure_signed_now(struct tpm2_ctx *c, const char *const *signatures, const char **ret_path, char **why);
#define MEASURE_HANDOFF_REMEDY "sign only the initrd phase: systemd-measure sign --phase=enter-initrd"
