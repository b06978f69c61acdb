/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the verity superblock an extension's verity partition
 * starts with (verity_geometry_read(), src/sysext/verity-sb.c), read from a
 * memfd holding the input, at offset 0 and, when the input is long enough,
 * at 4096 (a superblock after other data). The sizes it gives are what
 * the staging copies: they must follow from the superblock's numbers. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "verity-sb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint64_t offsets[] = { 0, 4096 };
        int fd = memfd_create("verity", MFD_CLOEXEC);

        if (fd < 0)
                return 0;
        if (size && write(fd, data, size) != (ssize_t) size) {
                close(fd);
                return 0;
        }
        for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
                struct verity_geometry g;
                char *why = NULL;

                if (verity_geometry_read(fd, offsets[i], &g, &why) >= 0) {
                        /* Whole blocks of at least 512 bytes; the hash part
                         * holds at least the superblock's own block. */
                        if (g.data_bytes < 512 || g.data_bytes % 512 || g.hash_bytes < 512 || g.hash_bytes % 512)
                                abort();
                } else if (!why)
                        abort();
                free(why);
        }
        close(fd);
        return 0;
}
