/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "record.h"

/* What the boot measures, and when: the phase words into PCR 11
 * (src/tpm/measure.c does the extend) and whether the volume keys go into PCR
 * 15 (src/tpm/pcr15.c computes and extends them; the hand-off stage measures
 * them). */

/* Phase words (PCR 11) and volume keys (PCR 15) are measured only where
 * they mean something and cannot do harm: as PID 1 of a UKI boot (the
 * signed policy binds them), or into a TPM that is not this machine's own
 * (a swtpm/mssim TCTI, for tests). A `boot --root` on a host never extends
 * the host's PCRs. boot_may_extend() (src/boot/record.h) and the plan's
 * measure_phases. */
bool phase_wanted(const struct plan *p, const struct boot *b);

/* Measure `word` when phase_wanted(); a failure fails the boot (boot_fail)
 * naming the word: nothing after it could trust PCR 11. */
int phase_step(const struct plan *p, struct boot *b, const char *word);

/* Measure `word` when the plan's measure_phases is on, through the unlock
 * stage's TPM connection while it is open, else through one opened and
 * closed here (so nothing stays open across the exec). Logs one line
 * naming the reason and returns a negative errno on failure; 0 when
 * measuring is off. */
int measure_boot_phase(const struct plan *p, struct boot *b, const char *word);

/* PCR 11 before enter-initrd, kept for `unlock --explain` (b->window).
 * Never fails the boot: without it only the explanation of a signature
 * file loses its phase names. */
void window_record_base(const struct plan *p, struct boot *b);

/* Does this boot measure the volume keys? tpm.measure_volume_keys, and a
 * boot that hands off with a TPM it may extend (boot_may_extend()), or a
 * `boot --measure-volume-keys` (the service of a systemd initrd). The
 * unlock stage then keeps each opened volume's digests in
 * boot_volume.pcr15. */
bool pcr15_wanted(const struct plan *p, const struct boot *b);
