/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "boot.h"

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

/* The pure decision of the devices stage, over the devices seen so far:
 * the uniqueness rule (two carriers refused unless pinned by UUID/PARTUUID)
 * and the type rule (encrypted volumes only as LUKS2; never LUKS1; a plain
 * file system only where allowed). *index is the device picked, *kind the
 * match that picked it; `why` gets the sentence for a refusal. */
enum resolve_result volume_resolve(const struct plan *p, const struct plan_volume *v,
                                   const struct probed *seen, size_t n_seen,
                                   size_t *index, enum match_kind *kind, char *why, size_t why_size);

/* "LUKS label COS_OEM, file system label COS_OEM or GPT partition name oem" */
void volume_describe_matches(const struct plan_volume *v, char *buf, size_t size);
