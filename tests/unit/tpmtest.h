/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers of the TPM2/LUKS unit tests: fixtures under tests/tpm/data. */
#include <stdio.h>
#include <stdlib.h>

static inline char *tpm_fixture(const char *name) {
        char path[4096];
        FILE *f;
        char *buf = calloc(1, 1 << 20);
        size_t n;

        snprintf(path, sizeof path, "%s/%s", TPM_DATA_DIR, name);
        f = fopen(path, "re");
        if (!f || !buf) {
                fprintf(stderr, "cannot read fixture %s\n", path);
                abort();
        }
        n = fread(buf, 1, (1 << 20) - 1, f);
        buf[n] = 0;
        fclose(f);
        return buf;
}
