/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "tpm2.h"

/* Boot phases into PCR 11, byte-compatible with systemd-pcrphase: the word
 * (ASCII, no NUL) hashed with each active bank's algorithm and extended. */
#define MEASURE_PCR_PHASE 11

/* The phase words systemd knows; others are allowed but warned about. */
bool measure_phase_known(const char *word);
int measure_phase(struct tpm2_ctx *c, const char *word, char **why);
