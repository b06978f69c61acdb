/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

/* Offline TPM2 policy digests (SHA-256 sessions, as systemd uses). They let
 * the unlock path skip trial sessions and say "expected X, TPM has Y" when a
 * policy does not match. Each function extends digest[32] in place. */
#define POLICY_DIGEST_SIZE 32

/* PolicyPCR with `values` = the PCRs of `mask` in ascending order, each
 * `value_size` bytes (the bank's digest size). */
int policy_pcr(uint8_t digest[POLICY_DIGEST_SIZE], TPMI_ALG_HASH bank, uint32_t mask,
               const uint8_t *values, size_t value_size);
/* PolicyAuthorize with an empty policyRef. */
int policy_authorize(uint8_t digest[POLICY_DIGEST_SIZE], const TPM2B_NAME *key_name);
int policy_auth_value(uint8_t digest[POLICY_DIGEST_SIZE]);

/* A systemd-tpm2 token's whole policy (its tpm2-policy-hash), from zero:
 * PolicyAuthorize by key_name (NULL: no signed part), PolicyPCR of the
 * literal PCRs `literal_mask` with `values` (0: none), PolicyAuthValue with
 * a PIN. */
int policy_token(uint8_t digest[POLICY_DIGEST_SIZE], const TPM2B_NAME *key_name, TPMI_ALG_HASH bank,
                 uint32_t literal_mask, const uint8_t *values, bool pin);

/* Name of a public area: nameAlg || H(marshalled TPMT_PUBLIC) (SHA-256 only). */
int policy_public_name(const TPM2B_PUBLIC *pub, TPM2B_NAME *ret);

/* A PCR selection of one bank, in TPM wire order (3 bitmap bytes). */
void policy_pcr_selection(TPMI_ALG_HASH bank, uint32_t mask, TPML_PCR_SELECTION *ret);

/* Digest size of a TPM hash algorithm, 0 when not one of sha1/256/384/512. */
size_t tpm2_hash_size(TPMI_ALG_HASH alg);
/* "sha256" <-> TPM2_ALG_SHA256; NULL / 0 when unknown. */
const char *tpm2_hash_to_string(TPMI_ALG_HASH alg);
TPMI_ALG_HASH tpm2_hash_from_string(const char *s);
/* "11", "7+11" or "7,11" (systemd's spellings; "" is none) -> a mask of
 * PCRs 0..23. -EINVAL on anything else. */
int pcr_mask_from_string(const char *s, uint32_t *ret);
/* "11" or "7+11" (for messages). */
char *pcr_mask_to_string(uint32_t mask, char *out, size_t size);
