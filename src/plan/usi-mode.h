/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "util.h"

/* USI mode (trust-chain rule 1) means usi-init runs as PID 1 of a UKI boot;
 * then every volume of the default plan is declared encrypted. What the
 * running system shows of such a boot, each one enough by itself:
 * - /.extra holds something: systemd-stub unpacks the UKI's .pcrsig and
 *   .pcrpkey sections, credentials and system extensions there (an empty
 *   directory is not evidence: images may carry one);
 * - an EFI variable only systemd-stub sets (StubInfo, StubFeatures,
 *   StubPcr*, vendor GUID 4a67b082-0a4c-41cf-b6c7-440b29bb8c4f).
 * (rd.immucore.uki on the command line is the third; plan.c adds it.)
 * /.extra is looked for under root (so a test points it at a directory);
 * the EFI variables in efivars_fd (-1: none; the plan inputs open the
 * firmware's when the root is this machine, or a given --efivars DIR,
 * src/plan/plan-inputs.h). Evidence only ever turns USI mode on: nothing found here
 * can switch it off. One sentence per kind is appended to *ret. */
int usi_mode_evidence(const char *root, int efivars_fd, strv *ret);
