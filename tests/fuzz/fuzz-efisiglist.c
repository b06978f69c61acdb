/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: EFI_SIGNATURE_LIST walking (PK, KEK and db are firmware
 * data read by PID 1) and the X.509 decoding of its entries into an anchor.
 * The input is an efivarfs file: 4 attribute bytes, then the lists. */
#include <stdint.h>

#include "efisiglist.h"
#include "sysext-anchor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int touch(const struct efi_sig_entry *e, void *userdata) {
        size_t *sum = userdata;
        /* Read every byte handed out, so ASan sees any out-of-bounds entry. */
        for (size_t i = 0; i < e->size; i++)
                *sum += e->data[i];
        *sum += e->owner[0] + e->owner[15];
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sysext_anchor a;
        struct efi_siglist_stats st;
        char *why = NULL;
        size_t sum = 0;

        (void) efi_siglist_parse(data, size, touch, &sum, &st, &why);
        free(why);
        why = NULL;
        if (sysext_anchor_init(&a) < 0)
                return 0;
        (void) sysext_anchor_add_efi_var(&a, data, size, true, "fuzz", &why);
        free(why);
        sysext_anchor_done(&a);
        return (int) (sum & 0);
}
