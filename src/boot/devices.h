/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "record.h"

/* Probe one block device (or image file) with libblkid: superblock type,
 * label, UUID, version, and GPT entry name/UUID when it is a partition.
 * Returns 0 (also when nothing is recognised: content NONE), or -errno. */
int probe_device(const char *devnode, struct probed *ret);

/* Probe every GPT/MBR partition of a whole-disk image file, each at its
 * offset, as if the kernel had made partition devices ("FILE:pN"). Lets tests
 * on a host without partition support check GPT-name matching. */
int probe_image_partitions(const char *file, struct probed **ret, size_t *ret_n);
void probed_free_array(struct probed *v, size_t n);

/* Does this device carry what the match names? Labels match whatever carries
 * them, LUKS or not: the type rule, not the match, decides what is allowed. */
bool probed_matches(const struct probed *d, const struct plan_match *m);

enum resolve_result {
        RESOLVE_NOT_YET,        /* nothing carries the volume's names (yet) */
        RESOLVE_FOUND,          /* exactly one device, and its content is allowed */
        RESOLVE_REFUSED,        /* a duplicate, or content the trust chain forbids */
};

struct resolve_out {
        size_t index;                   /* FOUND: the device picked */
        enum match_kind kind;           /* FOUND: the match that picked it */
        char device[512];               /* REFUSED: the device(s) at fault, for the failure banner */
        char why[2048];                 /* REFUSED: the sentence */
};

/* The pure decision of the devices stage, over the devices seen so far:
 * the uniqueness rule (two carriers refused unless pinned by UUID/PARTUUID)
 * and the type rule (encrypted volumes only as LUKS2; never LUKS1; a plain
 * file system only where allowed). */
enum resolve_result volume_resolve(const struct plan *p, const struct plan_volume *v,
                                   const struct probed *seen, size_t n_seen, struct resolve_out *out);

/* The uniqueness rule for a volume already found on `found`: does d, another
 * device, carry its names too (what the plan's matches look for; only the
 * UUID/PARTUUID when pinned)? Then out has the refusal naming both. */
bool volume_duplicate(const struct plan_volume *v, const struct probed *found, const struct probed *d,
                      struct resolve_out *out);

/* Trust-chain rule 2 until the hand-off: read, without waiting, what the
 * kernel announced since the devices stage last looked (the uevent monitor
 * stays open from the first devices stage on), and refuse the boot
 * (boot_refuse()) when a new device carries the names of a volume already
 * found. 0 when none does, or before the first devices stage. */
int devices_check_late(const struct plan *p, struct boot *b);

/* Close the uevent monitor (boot_done() does). */
void devices_release(struct boot *b);

/* "LUKS label COS_OEM, file system label COS_OEM or GPT partition name oem" */
void volume_describe_matches(const struct plan_volume *v, char *buf, size_t size);
