/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "secret.h"
#include "token.h"

/* One TPM connection per process. It owns everything that is expensive on
 * a discrete TPM and is shared by every volume of a boot: the parent key
 * (created or found once), one salted policy session that also encrypts
 * the Unseal responses (reset by each Unseal, ended by the last one), the
 * verified signature tickets, and the signature file. Every handle is
 * flushed by tpm2_close(), or by the TPM itself after the last Unseal.
 * A parent, and so the salt key, is only ever the TPM's own storage key
 * (tpm2-trust.h), whatever a token names; the session passes to the next
 * token only after a successful Unseal. */
struct tpm2_ctx;

struct tpm2_stats {
        unsigned commands;           /* every command sent to the TPM */
        unsigned primaries_created;  /* CreatePrimary */
        unsigned srk_used;           /* persistent parent found and used */
        unsigned signatures_verified;/* VerifySignature */
        unsigned tickets_reused;
        unsigned salted_sessions;
        unsigned unsealed;
};

#define TPM2_DEFAULT_TCTIS "device:/dev/tpmrm0", "device:/dev/tpm0"

/* tcti: "driver:conf" (device:/dev/tpmrm0, swtpm:path=SOCK, pcap:swtpm:...),
 * NULL for the defaults. -ENODEV with "no TPM: ..." when none answers.
 * When the way to the TPM fails (the connection lost, no answer within the
 * deadline, a malformed response), every function below says so in one
 * sentence naming the TCTI and the command, whichever step noticed it. */
int tpm2_open(const char *tcti, struct tpm2_ctx **ret, char **why);
/* Every command gets `timeout_ms` (0: no limit) from its transmit to its
 * whole response; a TPM that misses it is given up for the rest of the
 * context, with "the TPM 'TCTI' did not answer COMMAND within N s". The
 * default is long enough for a discrete TPM generating an RSA primary key,
 * which takes seconds to tens of seconds on the slow ones. */
#define TPM2_TIMEOUT_DEFAULT_MS (30u * 1000u)
void tpm2_set_timeout(struct tpm2_ctx *c, unsigned timeout_ms);
void tpm2_close(struct tpm2_ctx *c);
static inline void tpm2_closep(struct tpm2_ctx **c) { tpm2_close(*c); }
#define _cleanup_tpm2_ __attribute__((cleanup(tpm2_closep)))

const struct tpm2_stats *tpm2_get_stats(const struct tpm2_ctx *c);

struct tpm2_unseal_args {
        const char *const *signatures;   /* NULL-terminated search list, before the defaults */
        bool signatures_complete;        /* the list already holds the defaults (under a root) */
        const struct secret *pin;        /* NULL: no PIN available */
        bool last;                       /* no other unseal follows on this context: the
                                          * Unseal ends the session (no FlushContext) */
};

/* Unseal the 32-byte secret of a token. On refusal *why is one sentence:
 * dictionary-attack lockout, PCR values that do not match the signed
 * policy (with expected and actual), missing or unmatched signature, wrong
 * PIN, policy digest mismatch (token, TPM, PCR values). */
int tpm2_unseal(struct tpm2_ctx *c, const struct tpm2_token *t, const struct tpm2_unseal_args *a,
                struct secret **ret, char **why);

/* Seal `data` as systemd-cryptenroll does (shared spec systemd-tpm2.md,
 * section 1): a KEYEDHASH object, fixedTPM|fixedParent, nameAlg SHA-256,
 * authPolicy = `policy` (computed offline, policy_token()), userAuth =
 * `auth` (a PIN's authValue; NULL: none). Its parent is the one an unseal of
 * a v252 token takes here and in systemd: the persistent key at 0x81000001
 * only when it is the TPM's own storage key made from systemd's ECC
 * template, else that template's primary. The data crosses the bus
 * encrypted by a session salted with that parent. */
int tpm2_seal(struct tpm2_ctx *c, const uint8_t policy[32], const TPM2B_AUTH *auth, const struct secret *data,
              TPM2B_PRIVATE *ret_private, TPM2B_PUBLIC *ret_public, char **why);

/* Values of the PCRs of `mask` in `bank`, ascending, each hash-size bytes. */
int tpm2_pcr_read(struct tpm2_ctx *c, TPMI_ALG_HASH bank, uint32_t mask, uint8_t *values, char **why);
/* The active banks that have `pcr` allocated. */
/* TPM2_GetCapability(TPM_PROPERTIES) of `n` consecutive properties from
 * `first`; one the TPM does not report stays 0. */
int tpm2_properties(struct tpm2_ctx *c, TPM2_PT first, size_t n, uint32_t *values, char **why);
int tpm2_pcr_banks(struct tpm2_ctx *c, unsigned pcr, TPMI_ALG_HASH banks[8], size_t *n, char **why);
/* Extend `pcr` in every active bank with H_bank(data), like systemd-pcrphase. */
int tpm2_pcr_extend_data(struct tpm2_ctx *c, unsigned pcr, const void *data, size_t size, char **why);
/* Extend `pcr` in every active bank, in one PCR_Extend, with the digest
 * fn writes for that bank (hash-size bytes); *ret (may be NULL) gets what
 * was extended. */
typedef int (*tpm2_bank_digest_fn)(TPMI_ALG_HASH bank, uint8_t *out, void *userdata, char **why);
int tpm2_pcr_extend_banks(struct tpm2_ctx *c, unsigned pcr, tpm2_bank_digest_fn fn, void *userdata,
                          TPML_DIGEST_VALUES *ret, char **why);

/* The PIN's authValue: SHA-256(pin) (v252), or with a token salt
 * SHA-256(base64(PBKDF2-HMAC-SHA256(pin, salt, 10000, 32))) (v253+). */
int tpm2_pin_auth(const struct secret *pin, const uint8_t *salt, size_t salt_size, TPM2B_AUTH *ret);

/* "TPM is in dictionary-attack lockout" etc. for a TSS return code. */
const char *tpm2_rc_sentence(TSS2_RC rc);
