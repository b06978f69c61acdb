/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "token.h"
#include "tpm2-trust.h"

/* In the order a refusal names them: fixedTPM first, the one an imported
 * key can never have. */
static const struct {
        TPMA_OBJECT bit;
        const char *name;
} storage_attrs[] = {
        { TPMA_OBJECT_FIXEDTPM,            "fixedTPM" },
        { TPMA_OBJECT_FIXEDPARENT,         "fixedParent" },
        { TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitiveDataOrigin" },
        { TPMA_OBJECT_RESTRICTED,          "restricted" },
        { TPMA_OBJECT_DECRYPT,             "decrypt" },
};

int tpm2_trust_storage_key(const TPMT_PUBLIC *pub, char *missing, size_t size) {
        size_t len = 0;

        missing[0] = 0;
        /* A salt is only ever encrypted to RSA (OAEP) or ECC (ECDH) keys, and
         * the name check below hashes with SHA-256. */
        if (pub->type != TPM2_ALG_RSA && pub->type != TPM2_ALG_ECC) {
                snprintf(missing, size, "not an RSA or ECC key");
                return -EPERM;
        }
        if (pub->nameAlg != TPM2_ALG_SHA256) {
                snprintf(missing, size, "name algorithm 0x%04x, not sha256", pub->nameAlg);
                return -EPERM;
        }
        for (size_t i = 0; i < ELEMENTSOF(storage_attrs); i++) {
                int w;
                if (pub->objectAttributes & storage_attrs[i].bit)
                        continue;
                w = snprintf(missing + len, size - len, "%snot %s", len ? ", " : "", storage_attrs[i].name);
                if (w < 0 || (size_t) w >= size - len)
                        break;
                len += (size_t) w;
        }
        return missing[0] ? -EPERM : 0;
}

static bool same_name(const TPM2B_NAME *a, const TPM2B_NAME *b) {
        return a->size == b->size && a->size <= sizeof(a->name) && memcmp(a->name, b->name, a->size) == 0;
}

int tpm2_trust_srk_handle(TPM2_HANDLE handle, char **why) {
        if (handle < TPM2_TRUST_PERSISTENT_FIRST || handle > TPM2_TRUST_PERSISTENT_LAST)
                return why_set(why, EPERM, "tpm2_srk names 0x%08x, which is not a persistent key of the owner "
                               "hierarchy (0x%08x-0x%08x): refused", handle, TPM2_TRUST_PERSISTENT_FIRST,
                               TPM2_TRUST_PERSISTENT_LAST);
        return 0;
}

int tpm2_trust_srk(TPM2_HANDLE handle, const TPM2B_NAME *recorded, const TPM2B_PUBLIC *tpm_public,
                   const TPM2B_NAME *tpm_name, char **why) {
        char missing[128], want[2 * sizeof(recorded->name) + 1], have[2 * sizeof(recorded->name) + 1];
        TPM2B_NAME computed;

        int r = tpm2_trust_srk_handle(handle, why);

        if (r < 0)
                return r;
        if (tpm2_trust_storage_key(&tpm_public->publicArea, missing, sizeof(missing)) < 0)
                return why_set(why, EPERM, "tpm2_srk names 0x%08x, which is not the TPM's storage key (%s): refused",
                               handle, missing);
        /* ESYS hands back the TPM's name as sent; tie it to the area checked. */
        if (policy_public_name(tpm_public, &computed) < 0 || !same_name(&computed, tpm_name))
                return why_set(why, EPERM, "tpm2_srk names 0x%08x, whose public area in the TPM does not hash to "
                               "the name the TPM gives: refused", handle);
        /* The serialized public area is what the session's salt is encrypted
         * to: it must be the TPM's own, which equal names prove. */
        if (!same_name(recorded, tpm_name))
                return why_set(why, EPERM, "tpm2_srk names 0x%08x with name %s, but the TPM's key there has name %s: "
                               "refused", handle,
                               hex_string(recorded->name, recorded->size <= sizeof(recorded->name) ?
                                          recorded->size : 0, want),
                               hex_string(tpm_name->name, tpm_name->size, have));
        return 0;
}

int tpm2_trust_pin_object(const TPMT_PUBLIC *pub, char **why) {
        if (pub->objectAttributes & TPMA_OBJECT_NODA)
                return why_set(why, EPERM, "the sealed object is exempt from dictionary-attack protection (noDA), "
                               "so the PIN is not tried on it: refused");
        return 0;
}
