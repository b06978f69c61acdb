/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

struct json_object;

/* The public key that signs PCR policies, and the signature file that
 * systemd-measure writes (shared spec systemd-tpm2.md, section 4). */
struct pcrsig_key {
        TPM2B_PUBLIC public;     /* as systemd loads it with LoadExternal */
        TPM2B_NAME name;         /* its TPM name, for the offline PolicyAuthorize */
        uint8_t fingerprint[32]; /* SHA-256 of the DER PKCS#1 RSAPublicKey */
};

/* PEM (SubjectPublicKeyInfo, RSA) -> key. */
int pcrsig_key_from_pem(const char *pem, size_t size, struct pcrsig_key *ret, char **why);

/* The files tried, in order, when the caller names none that exists:
 * NULL-terminated. */
extern const char *const pcrsig_default_paths[];

/* Load the first existing file of `paths` (NULL-terminated; may be NULL),
 * then, with defaults, of pcrsig_default_paths. *ret_path points into the
 * list. -ENOENT with a reason listing what was tried. */
int pcrsig_load(const char *const *paths, bool defaults, struct json_object **ret, const char **ret_path, char **why);
int pcrsig_parse(const char *json, struct json_object **ret, char **why);

/* Find the signature for (bank, PCR mask, key, approved policy) with
 * systemd's rules: first entry of the bank's array whose "pcrs" equal the
 * mask, "pkfp" the key's fingerprint and "pol" the policy. The signature is
 * decoded into *ret (TPMT_SIGNATURE, RSASSA with SHA-256).
 * -ENXIO: the key signed this bank and PCR selection, but for other PCR
 * values: *why is then just the list of signed policies (hex, ", ").
 * -ENOKEY: nothing signed by this key for the selection: *why says what was
 * looked for and what the file holds (another key's signature). */
int pcrsig_find(struct json_object *sig, TPMI_ALG_HASH bank, uint32_t mask,
                const struct pcrsig_key *key, const uint8_t policy[32],
                TPMT_SIGNATURE *ret, char **why);

/* The policies the bank's entries sign for `mask` (by `key`; NULL: by any
 * key), in file order, each with its index in the bank's array; at most
 * `max`. Returns how many. */
#define PCRSIG_MAX_ENTRIES 64
struct pcrsig_policy {
        size_t index;
        uint8_t pol[64];        /* 32 bytes used; room to refuse longer ones */
};
/* Does `sig` (an entry's "sig", decoded; its rsassa.hash picks the digest)
 * verify over pol with key, as the TPM's VerifySignature would? 0, -EKEYREJECTED, or another negative errno.
 * For verdicts given without the TPM (pcrsig-verify.c). */
int pcrsig_verify(const struct pcrsig_key *key, const uint8_t pol[32], const TPMT_SIGNATURE *sig);

size_t pcrsig_policies(struct json_object *sig, TPMI_ALG_HASH bank, uint32_t mask, const struct pcrsig_key *key,
                       struct pcrsig_policy *out, size_t max);

/* Whether any entry of the bank, by any key, signs `policy` for `mask`: the
 * hand-off check (shared spec trust-chain.md, "signed phase windows"). */
bool pcrsig_policy_signed(struct json_object *sig, TPMI_ALG_HASH bank, uint32_t mask, const uint8_t policy[32]);

/* Verify one signature entry offline (libcrypto) against a PEM public key:
 * "sig" (base64) must be the RSASSA-PKCS1-v1_5 signature of "pol" (hex) with
 * the bank's hash, as systemd-measure sign makes it (EVP_DigestSign with the
 * bank's digest over the policy digest). 1: valid, 0: not, negative errno
 * when the entry or key cannot be read (*why names what). */
int pcrsig_entry_verify(const char *pem, size_t pem_size, TPMI_ALG_HASH bank, const char *pol_hex,
                        const char *sig_b64, char **why);
