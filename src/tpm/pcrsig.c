/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "json-parse.h"
#include "pcrsig.h"
#include "policy.h"
#include "safe-open.h"
#include "token.h"

const char *const pcrsig_default_paths[] = {
        "/.extra/tpm2-pcr-signature.json",
        "/run/systemd/tpm2-pcr-signature.json",
        "/etc/systemd/tpm2-pcr-signature.json",
        NULL,
};

static void pkey_freep(EVP_PKEY **p) { EVP_PKEY_free(*p); }
static void bn_freep(BIGNUM **p) { BN_free(*p); }
static void bio_freep(BIO **p) { BIO_free(*p); }

int pcrsig_key_from_pem(const char *pem, size_t size, struct pcrsig_key *ret, char **why) {
        _cleanup_(bio_freep) BIO *bio = NULL;
        _cleanup_(pkey_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(bn_freep) BIGNUM *n = NULL, *e = NULL;
        unsigned char *der = NULL;
        int der_len, nbytes;
        TPMT_PUBLIC *p = &ret->public.publicArea;

        *ret = (struct pcrsig_key) {};
        bio = BIO_new_mem_buf(pem, (int) size);
        if (!bio)
                return -ENOMEM;
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        if (!pkey)
                return why_set(why, EBADMSG, "not a PEM public key");
        if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
                return why_set(why, EOPNOTSUPP, "only RSA keys sign PCR policies");
        if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
            !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e))
                return why_set(why, EBADMSG, "cannot read the RSA modulus and exponent");
        nbytes = BN_num_bytes(n);
        if (nbytes <= 0 || (size_t) nbytes > sizeof(p->unique.rsa.buffer) || BN_num_bytes(e) > 4)
                return why_set(why, EOPNOTSUPP, "RSA key of %d bits is too large for the TPM", nbytes * 8);

        /* The external key as systemd loads it: decrypt|sign|userWithAuth,
         * no scheme, the exponent written out even when it is 65537. */
        *p = (TPMT_PUBLIC) {
                .type = TPM2_ALG_RSA,
                .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = TPMA_OBJECT_DECRYPT | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_USERWITHAUTH,
                .parameters.rsaDetail = {
                        .symmetric.algorithm = TPM2_ALG_NULL,
                        .scheme.scheme = TPM2_ALG_NULL,
                        .keyBits = (TPMI_RSA_KEY_BITS) (nbytes * 8),
                        .exponent = (UINT32) BN_get_word(e),
                },
        };
        p->unique.rsa.size = (UINT16) nbytes;
        if (BN_bn2bin(n, p->unique.rsa.buffer) != nbytes)
                return why_set(why, EIO, "cannot export the RSA modulus");
        ret->public.size = 0; /* the marshaller computes it */

        if (policy_public_name(&ret->public, &ret->name) < 0)
                return why_set(why, EIO, "cannot compute the key's TPM name");

        /* Fingerprint: SHA-256 of the PKCS#1 RSAPublicKey, as systemd-measure
         * writes it into "pkfp". i2d_PublicKey emits exactly that for RSA. */
        der_len = i2d_PublicKey(pkey, &der);
        if (der_len <= 0)
                return why_set(why, EIO, "cannot encode the public key");
        if (!EVP_Digest(der, (size_t) der_len, ret->fingerprint, NULL, EVP_sha256(), NULL)) {
                OPENSSL_free(der);
                return why_set(why, EIO, "cannot hash the public key");
        }
        OPENSSL_free(der);
        return 0;
}

int pcrsig_parse(const char *json, json_object **ret, char **why) {
        return json_parse_object(json, strlen(json), ret, why);
}

/* A signature file may come from the ESP, /oem or the command line: read
 * only as safe_read_path() allows (a FIFO there must not hold the boot). */
static int load_one(const char *path, json_object **ret, char **why) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char *file_why = NULL;
        int r;

        r = safe_read_path(path, SAFE_SIGNATURE_MAX, &buf, NULL, &file_why);
        if (r == -ENOENT || r == -ENOMEM)
                return r;
        if (r < 0)
                return why_set(why, -r, "signature file %s", why_or(file_why));
        r = pcrsig_parse(buf, ret, why);
        if (r < 0)
                why_prefix(why, "signature file %s", path);
        return r;
}

int pcrsig_load(const char *const *paths, bool defaults, json_object **ret, const char **ret_path, char **why) {
        const char *const *lists[] = { paths, defaults ? pcrsig_default_paths : NULL };
        char tried[1024] = "";
        size_t len = 0;

        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                for (const char *const *p = lists[l]; p && *p; p++) {
                        int r = load_one(*p, ret, why);
                        if (r >= 0) {
                                *ret_path = *p;
                                return 0;
                        }
                        if (r != -ENOENT)
                                return r == -ENOMEM ? r : (why && *why ? r : why_set(why, r, "signature file %s: %s", *p, strerror(-r)));
                        if (len < sizeof(tried)) {
                                int w = snprintf(tried + len, sizeof(tried) - len, "%s%s", len ? ", " : "", *p);
                                if (w > 0)
                                        len += (size_t) w;
                        }
                }
        return why_set(why, ENOENT, "no PCR signature file (tried %s)", tried);
}

static bool entry_pcrs_equal(json_object *pcrs, uint32_t mask) {
        uint32_t m = 0;

        if (!json_object_is_type(pcrs, json_type_array))
                return false;
        for (size_t i = 0; i < json_object_array_length(pcrs); i++) {
                json_object *e = json_object_array_get_idx(pcrs, i);
                int64_t v = json_object_get_int64(e);
                if (!json_object_is_type(e, json_type_int) || v < 0 || v >= 24)
                        return false;
                m |= UINT32_C(1) << v;
        }
        return m == mask;
}

static const char *entry_string(json_object *e, const char *name) {
        json_object *v;
        if (!json_object_object_get_ex(e, name, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int decode_signature(const char *b64, TPMT_SIGNATURE *ret, char **why) {
        _cleanup_free_ uint8_t *sig = NULL;
        size_t size;

        if (!b64 || base64_decode(b64, &sig, &size) < 0)
                return why_set(why, EBADMSG, "signature entry has no valid base64 \"sig\"");
        if (size > sizeof(ret->signature.rsassa.sig.buffer))
                return why_set(why, EBADMSG, "signature of %zu bytes is too long", size);
        *ret = (TPMT_SIGNATURE) {
                .sigAlg = TPM2_ALG_RSASSA,
                .signature.rsassa.hash = TPM2_ALG_SHA256,
                .signature.rsassa.sig.size = (UINT16) size,
        };
        memcpy(ret->signature.rsassa.sig.buffer, sig, size);
        return 0;
}

/* A short description of the entries of one bank, for the refusal message. */
static void describe_bank(json_object *arr, char *out, size_t size) {
        size_t len = 0;

        out[0] = 0;
        for (size_t i = 0; arr && i < json_object_array_length(arr) && len < size; i++) {
                json_object *e = json_object_array_get_idx(arr, i), *pcrs = NULL;
                const char *fp = entry_string(e, "pkfp"), *pol = entry_string(e, "pol");
                int w;
                (void) json_object_object_get_ex(e, "pcrs", &pcrs);
                w = snprintf(out + len, size - len, "%s{pcrs %s, pkfp %.16s.., pol %s}", i ? ", " : "",
                             pcrs ? json_object_to_json_string_ext(pcrs, JSON_C_TO_STRING_PLAIN) : "?",
                             fp ? fp : "?", pol ? pol : "?");
                if (w < 0)
                        break;
                len += (size_t) w;
        }
        if (!out[0])
                snprintf(out, size, "no entries");
}

int pcrsig_find(json_object *sig, TPMI_ALG_HASH bank, uint32_t mask,
                const struct pcrsig_key *key, const uint8_t policy[32],
                TPMT_SIGNATURE *ret, char **why) {
        const char *bank_name = tpm2_hash_to_string(bank);
        json_object *arr = NULL;
        char fp[65], masks[64], held[1024], pols[512] = "";
        size_t n_key = 0, len = 0;

        hex_string(key->fingerprint, 32, fp);
        if (!bank_name || !json_object_object_get_ex(sig, bank_name, &arr) ||
            !json_object_is_type(arr, json_type_array))
                arr = NULL;
        for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
                json_object *e = json_object_array_get_idx(arr, i), *pcrs;
                const char *efp, *epol;
                uint8_t epol_bin[64];
                size_t epol_size;

                if (!json_object_is_type(e, json_type_object) ||
                    !json_object_object_get_ex(e, "pcrs", &pcrs) || !entry_pcrs_equal(pcrs, mask))
                        continue;
                efp = entry_string(e, "pkfp");
                if (efp && strcasecmp(efp, fp) != 0)
                        continue;
                epol = entry_string(e, "pol");
                if (!epol || hex_parse(epol, epol_bin, sizeof(epol_bin), &epol_size) < 0 || epol_size != 32)
                        continue;
                if (memcmp(epol_bin, policy, 32) == 0)
                        return decode_signature(entry_string(e, "sig"), ret, why);
                n_key++;
                if (len < sizeof(pols)) {
                        int w = snprintf(pols + len, sizeof(pols) - len, "%s%s", len ? ", " : "", epol);
                        if (w > 0)
                                len += (size_t) w;
                }
        }
        pcr_mask_to_string(mask, masks, sizeof(masks));
        if (n_key > 0)
                /* The key signed this PCR selection, just not for these values. */
                return why_set(why, ENXIO, "%s", pols);
        describe_bank(arr, held, sizeof(held));
        return why_set(why, ENOKEY, "no signature by key %s for bank %s, PCR %s (the file holds under %s: %s)",
                       fp, strempty(bank_name), masks, strempty(bank_name), held);
}

/* The bank's array, or NULL. */
static json_object *bank_entries(json_object *sig, TPMI_ALG_HASH bank) {
        const char *bank_name = tpm2_hash_to_string(bank);
        json_object *arr;

        if (!bank_name || !json_object_object_get_ex(sig, bank_name, &arr) || !json_object_is_type(arr, json_type_array))
                return NULL;
        return arr;
}

/* Does entry e sign a 32-byte policy for `mask` (by the key of fingerprint
 * fp; NULL: any)? Then the policy is in pol. */
static bool entry_policy(json_object *e, uint32_t mask, const char *fp, uint8_t pol[64]) {
        json_object *pcrs;
        const char *epol, *efp;
        size_t size;

        if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, "pcrs", &pcrs) ||
            !entry_pcrs_equal(pcrs, mask))
                return false;
        efp = entry_string(e, "pkfp");
        if (fp && efp && strcasecmp(efp, fp) != 0)
                return false;
        epol = entry_string(e, "pol");
        return epol && hex_parse(epol, pol, 64, &size) >= 0 && size == 32;
}

size_t pcrsig_policies(json_object *sig, TPMI_ALG_HASH bank, uint32_t mask, const struct pcrsig_key *key,
                       struct pcrsig_policy *out, size_t max) {
        json_object *arr = bank_entries(sig, bank);
        char fp[65];
        size_t n = 0;

        if (key)
                hex_string(key->fingerprint, 32, fp);
        for (size_t i = 0; arr && i < json_object_array_length(arr) && n < max; i++) {
                json_object *e = json_object_array_get_idx(arr, i);
                TPMT_SIGNATURE s;

                if (!entry_policy(e, mask, key ? fp : NULL, out[n].pol))
                        continue;
                /* With a key, an entry counts only if its signature verifies:
                 * nothing else checks it before a verdict is given. */
                if (key && (decode_signature(entry_string(e, "sig"), &s, NULL) < 0 ||
                            pcrsig_verify(key, out[n].pol, &s) < 0))
                        continue;
                out[n++].index = i;
        }
        return n;
}

bool pcrsig_policy_signed(json_object *sig, TPMI_ALG_HASH bank, uint32_t mask, const uint8_t policy[32]) {
        json_object *arr = bank_entries(sig, bank);
        uint8_t pol[64];

        /* Every entry: one past the first PCRSIG_MAX_ENTRIES counts too. */
        for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
                if (entry_policy(json_object_array_get_idx(arr, i), mask, NULL, pol) && memcmp(pol, policy, 32) == 0)
                        return true;
        return false;
}

int pcrsig_entry_verify(const char *pem, size_t pem_size, TPMI_ALG_HASH bank, const char *pol_hex,
                        const char *sig_b64, char **why) {
        struct pcrsig_key key;
        TPMT_SIGNATURE sig;
        uint8_t pol[64];
        size_t pol_size;
        int r;

        if (!tpm2_hash_size(bank))
                return why_set(why, EOPNOTSUPP, "bank %#x is not a hash usi-init knows", bank);
        if (!pol_hex || hex_parse(pol_hex, pol, sizeof(pol), &pol_size) < 0 || pol_size != 32)
                return why_set(why, EBADMSG, "entry has no valid hex \"pol\" of 32 bytes");
        if ((r = pcrsig_key_from_pem(pem, pem_size, &key, why)) < 0 || (r = decode_signature(sig_b64, &sig, why)) < 0)
                return r;
        /* systemd-measure signs each bank's entries with that bank's hash. */
        sig.signature.rsassa.hash = bank;
        r = pcrsig_verify(&key, pol, &sig);
        return r == -EKEYREJECTED ? 0 : r < 0 ? why_set(why, r, "cannot verify the entry: %s", strerror(-r)) : 1;
}
