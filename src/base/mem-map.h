/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* What holds this process's resident memory, from /proc/self/smaps: each
 * file's segments summed (libraries by their base name), anonymous memory
 * as "[anon]", and "[heap]", "[stack]". For the record, so that a boot's
 * memory is explained by its own state.json. */
struct mem_mapping {
        char name[64];
        uint64_t rss_kb;
};

/* The `n` largest, biggest first, in out[] (unused entries zeroed);
 * *total_kb the resident total. Negative errno when smaps cannot be read. */
int mem_largest(struct mem_mapping *out, size_t n, uint64_t *total_kb);
