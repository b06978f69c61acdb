/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "pcrsig.h"
#include "policy.h"
#include "util.h"

/* Offline, what the TPM's VerifySignature would say: an entry's "sig" is
 * RSASSA-PKCS1-v1_5 with the signature's hash (SHA-256 for the unseal;
 * the bank's for the preflight) over its 32-byte "pol". Used where a
 * verdict ("unsealable") is given without the TPM checking the signature,
 * so a corrupted entry never counts as signed. */

static void pkey_freep(EVP_PKEY **p) { EVP_PKEY_free(*p); }
static void ctx_freep(EVP_PKEY_CTX **p) { EVP_PKEY_CTX_free(*p); }
static void md_freep(EVP_MD_CTX **p) { EVP_MD_CTX_free(*p); }
static void bld_freep(OSSL_PARAM_BLD **p) { OSSL_PARAM_BLD_free(*p); }
static void params_freep(OSSL_PARAM **p) { OSSL_PARAM_free(*p); }
static void bn_freep(BIGNUM **p) { BN_free(*p); }

static EVP_PKEY *key_to_pkey(const struct pcrsig_key *key) {
        const TPMT_PUBLIC *p = &key->public.publicArea;
        _cleanup_(bld_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        _cleanup_(params_freep) OSSL_PARAM *params = NULL;
        _cleanup_(ctx_freep) EVP_PKEY_CTX *ctx = NULL;
        _cleanup_(bn_freep) BIGNUM *n = BN_bin2bn(p->unique.rsa.buffer, p->unique.rsa.size, NULL);
        _cleanup_(bn_freep) BIGNUM *e = BN_new();
        EVP_PKEY *pkey = NULL;

        if (!bld || !n || !e || !BN_set_word(e, p->parameters.rsaDetail.exponent ? p->parameters.rsaDetail.exponent : 65537) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
            !(params = OSSL_PARAM_BLD_to_param(bld)) ||
            !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ||
            EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
                return NULL;
        return pkey;
}

int pcrsig_verify(const struct pcrsig_key *key, const uint8_t pol[32], const TPMT_SIGNATURE *sig) {
        _cleanup_(pkey_freep) EVP_PKEY *pkey = NULL;
        _cleanup_(md_freep) EVP_MD_CTX *md = NULL;
        const char *hash = tpm2_hash_to_string(sig->signature.rsassa.hash);
        const EVP_MD *digest = hash ? EVP_get_digestbyname(hash) : NULL;

        if (sig->sigAlg != TPM2_ALG_RSASSA || !digest)
                return -EBADMSG;
        pkey = key_to_pkey(key);
        md = EVP_MD_CTX_new();
        if (!pkey || !md)
                return -ENOMEM;
        if (EVP_DigestVerifyInit(md, NULL, digest, NULL, pkey) != 1)
                return -EIO;
        return EVP_DigestVerify(md, sig->signature.rsassa.sig.buffer, sig->signature.rsassa.sig.size, pol, 32) == 1 ?
               0 : -EKEYREJECTED;
}
