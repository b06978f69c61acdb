/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "record.h"

/* The end of the boot. stage_handoff() is in the stage table (src/boot/stages.h). */

/* Right after the last unseal (the unlock stage of the second pass): the
 * volume keys into PCR 15 (pcr15_measure_boot(), src/boot/volume-keys.h), then leave-initrd into
 * PCR 11, so nothing that runs later, in the initrd (a break or failure
 * shell, the mounts of files an attacker may control) or in the final OS,
 * can unseal the keys again; the TPM connection goes with it; then the
 * audit (window_audit()). A --no-handoff run is a test or a look at a root,
 * not a boot: it measures no leave-initrd. */
int handoff_leave_initrd(const struct plan *p, struct boot *b);

/* Right after leave-initrd: is PCR 11 still signed for a token of this
 * boot's volumes? A warning with the remedy when it is; recorded in
 * b->window (state.json "handoff_window") either way. Never fails the
 * boot. */
void window_audit(const struct plan *p, struct boot *b);

/* /etc/fstab of the final OS (the /etc overlay by now), replaced as Kairos
 * does: one line per volume, overlay and bind this boot made, so mount(8),
 * findmnt --fstab and systemd in the final OS know them. A second run over
 * the same mounts leaves the file alone. */
int handoff_write_fstab(struct boot *b);
