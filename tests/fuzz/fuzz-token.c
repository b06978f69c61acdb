/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the systemd-tpm2 token parser (LUKS2 header JSON is
 * outside input), its PEM key, the PCR signature file matcher, and the
 * rules a whole LUKS2 header's JSON must keep (src/tpm/luks-header.h). */
#include <json-c/json.h>
#include <stdint.h>

#include "luks-header.h"
#include "pcrsig.h"
#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s = strndup((const char *) data, size);
        char *why = NULL;
        struct tpm2_token t;
        json_object *sig = NULL;

        if (!s)
                return 0;
        {
                struct luks_header_range r[4];
                (void) luks_header_check(s, NULL, &why);
                (void) luks_header_ranges(s, 16384, 1u << 20, r, ELEMENTSOF(r));
        }
        if (tpm2_token_parse(s, &t, &why) >= 0) {
                struct pcrsig_key key;
                (void) tpm2_token_supported(&t, &why);
                if (t.pubkey_pem && pcrsig_key_from_pem(t.pubkey_pem, t.pubkey_pem_size, &key, &why) >= 0) {
                        static const uint8_t pol[32];
                        TPMT_SIGNATURE ts;
                        /* The same bytes as a signature file, matched against the token's key. */
                        if (pcrsig_parse(s, &sig, &why) >= 0)
                                (void) pcrsig_find(sig, t.pcr_bank ? t.pcr_bank : TPM2_ALG_SHA256,
                                                   t.pubkey_pcr_mask, &key, pol, &ts, &why);
                }
                tpm2_token_done(&t);
        } else if (pcrsig_parse(s, &sig, &why) >= 0) {
                struct pcrsig_key key = {};
                static const uint8_t pol[32];
                TPMT_SIGNATURE ts;
                (void) pcrsig_find(sig, TPM2_ALG_SHA256, UINT32_C(1) << 11, &key, pol, &ts, &why);
        }
        json_object_put(sig);
        free(why);
        free(s);
        return 0;
}
