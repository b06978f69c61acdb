/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cmdline.h"

/* The boot mode a Kairos node's userspace reads from /run/cos/: one file per
 * fact, containing "1". Cloud-config stages and kairos-agent key off them.
 *
 * A UKI boot (USI mode) is classified from the boot loader's EFI variables:
 * - no LoaderDevicePartUUID (booted from removable or network media, or with
 *   no boot loader that says where it came from): live_mode, uki_install_mode;
 * - otherwise uki_boot_mode, and LoaderEntrySelected names the mode: a
 *   systemd-boot Type #1 entry ("*.conf") whose name starts with active,
 *   passive, recovery or statereset (the last one is autoreset_mode); any
 *   other or no entry: unknown.
 * Any other boot is classified from the kernel command line, as the GRUB
 * entries of a non-UKI Kairos node set it, whole words only (src/plan/cmdline.c
 * parses them): kairos.reset; the label root= names (LABEL=, live:LABEL= or
 * live:CDLABEL=): COS_ACTIVE, COS_PASSIVE, COS_RECOVERY / COS_SYSTEM; then
 * recovery-mode; then a live root= (live:...) or netboot. The first that
 * matches in this order wins: kairos.reset rides on a recovery command line. */
struct kairos_mode {
        const char *mode;       /* "active_mode", ..., "unknown" */
        const char *uki;        /* "uki_boot_mode", "uki_install_mode" or NULL */
};

void kairos_mode_uki(bool from_install, const char *entry, struct kairos_mode *ret);
void kairos_mode_cmdline(const struct cmdline *cl, struct kairos_mode *ret);

/* The mode of this boot: in USI mode from the EFI variables
 * LoaderDevicePartUUID and LoaderEntrySelected (their values, NULL when not
 * set; read once per boot with the plan's inputs, src/plan/plan-inputs.h), from
 * the command line otherwise. The plan decides it (p->kairos); the boot
 * only writes it and reads the extensions it names. */
void kairos_mode_detect(bool usi_mode, const struct cmdline *cl, const char *entry, const char *partuuid,
                        struct kairos_mode *ret);

/* The sub-directory of /var/lib/kairos/{extensions,confexts} a mode reads
 * its extensions from, as immucore picks it: active, passive, recovery (also
 * for autoreset, which runs the recovery image). NULL for live media and an
 * unknown mode: then no extension of that layout is loaded, not even
 * common/. */
const char *kairos_mode_extension_dir(const struct kairos_mode *m);

/* kairos-agent enables an image by a symlink in <mode>/ or common/ to the
 * image in the top directory `top` (an absolute path as the final OS sees
 * it, or "../NAME"). The link `file` in dir_fd is read, never followed: the
 * image's plain file name directly in top (pointing into buf, of `size`
 * bytes), or NULL when the link names anything else. The caller opens that
 * name in top again without following anything. */
const char *kairos_mode_link_target(int dir_fd, const char *file, const char *top, char *buf, size_t size);

#define KAIROS_SENTINEL_DIR "/run/cos"

/* Write the sentinel files of *m into the directory dir_fd. Returns 0 or a
 * negative errno (the name of the file that failed in *ret_failed). */
int kairos_mode_write(int dir_fd, const struct kairos_mode *m, const char **ret_failed);
