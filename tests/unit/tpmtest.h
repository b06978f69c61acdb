/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers of the TPM2/LUKS unit tests: fixtures under tests/tpm/data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* `openssl dgst -ALG` of OLD || DIGEST (both hex): one PCR extend, as the
 * independent reference for PCR 15 chain values. Needs cmocka included. */
static inline void openssl_extend(const char *alg, const char *old, const char *digest, char *out, size_t size) {
        char cmd[1024];
        FILE *p;

        snprintf(cmd, sizeof(cmd), "printf '%s%s' | xxd -r -p | openssl dgst -%s -r", old, digest, alg);
        p = popen(cmd, "r");
        assert_non_null(p);
        assert_non_null(fgets(out, (int) size, p));
        assert_int_equal(pclose(p), 0);
        out[strcspn(out, " \n")] = '\0';
}
