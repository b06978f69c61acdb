/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark helper: unlock LUKS2 images (check only, no device-mapper)
 * through systemd's own path, the libcryptsetup token plugin
 * libcryptsetup-token-systemd-tpm2.so, pointed at a TCTI. One crypt device
 * per image, as systemd-cryptsetup does for each volume.
 *   tpm-systemd-unlock TCTI SIGNATURE IMAGE... */
#include <libcryptsetup.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The plugin's parameter block as systemd 252 reads it (three fields; later
 * versions append more, which 252 never looks at). */
struct tpm2_plugin_params {
        uint32_t search_pcr_mask;
        const char *device;
        const char *signature_path;
        const char *pcrlock_path;
};

int main(int argc, char **argv) {
        int failed = 0;

        if (argc < 4) {
                fprintf(stderr, "usage: %s TCTI SIGNATURE IMAGE...\n", argv[0]);
                return 2;
        }
        for (int i = 3; i < argc; i++) {
                struct tpm2_plugin_params params = {
                        .search_pcr_mask = UINT32_MAX,
                        .device = argv[1],
                        .signature_path = argv[2],
                };
                struct crypt_device *cd = NULL;
                int r = crypt_init(&cd, argv[i]);
                if (r >= 0)
                        r = crypt_load(cd, CRYPT_LUKS2, NULL);
                if (r >= 0)
                        r = crypt_activate_by_token_pin(cd, NULL, "systemd-tpm2", CRYPT_ANY_TOKEN, NULL, 0, &params, 0);
                printf("%s: %s (%d)\n", argv[i], r >= 0 ? "unlocked by systemd's token plugin" : strerror(-r), r);
                failed |= r < 0;
                crypt_free(cd);
        }
        return failed;
}
