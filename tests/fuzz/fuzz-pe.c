/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: a UKI as `unlock --check --explain --uki` reads it. The
 * PE/COFF headers and section table (src/base/pe.c), the sections systemd-stub
 * measures hashed in bounded pieces, .pcrsig parsed and each entry verified
 * against .pcrpkey (src/tpm/uki.c). The input is the file, in a memfd. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct uki_entry entries[UKI_MAX_ENTRIES];
        struct uki u;
        char *why = NULL, lint[512];
        int fd = memfd_create("fuzz-pe", MFD_CLOEXEC);

        if (fd < 0)
                return 0;
        if (write(fd, data, size) == (ssize_t) size && uki_load_fd(fd, &u, &why) >= 0) {
                (void) uki_entries(&u, entries, UKI_MAX_ENTRIES);
                (void) pe_lint_alignment(&u.pe, lint, sizeof(lint));
                uki_done(&u);
        }
        free(why);
        close(fd);
        return 0;
}
