/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "token-pcrs.h"
#include "tpm2.h"

/* PCR 15, the volume-key latch, byte-compatible with systemd-cryptsetup's
 * tpm2-measure-pcr=yes (systemd 253+): for every opened volume and every
 * active bank, PCR 15 is extended with
 *     HMAC_bank(key = volume key, "cryptsetup:" NAME ":" LUKS-UUID)
 * where NAME is the device-mapper name with ':' (and '\', control and
 * non-ASCII bytes) written as \xNN. An HMAC, not a hash: the digest crosses
 * the TPM bus in clear, the key never does. Measured after the last unseal
 * and before leave-initrd, in plan order, so tokens enrolled with a literal
 * PCR 15 = 0 unseal for every volume of this boot and for none after it. */
#define PCR15_DESCRIPTION_MAX 640       /* "cryptsetup:" + 4 * 127 + ":" + UUID */

/* The bank algorithms an HMAC is computed for at unlock time, before the
 * TPM's active banks are asked for. */
#define PCR15_ALGS_MAX 4

/* What one volume contributes: not secret (it is what goes to the TPM).
 * Plain data, so an activation child can hand it back through a pipe. */
struct pcr15_digests {
        char description[PCR15_DESCRIPTION_MAX];
        size_t n;
        struct {
                TPMI_ALG_HASH alg;
                size_t size;
                uint8_t digest[64];
        } v[PCR15_ALGS_MAX];
};

/* One extend made, as state.json records it. */
struct pcr15_record {
        TPMI_ALG_HASH bank;
        char description[PCR15_DESCRIPTION_MAX];
        size_t size;
        uint8_t digest[64];
};

/* "cryptsetup:NAME:UUID" with systemd's xescape(NAME, ":"). -ENAMETOOLONG
 * when it does not fit. */
int pcr15_description(const char *name, const char *uuid, char out[PCR15_DESCRIPTION_MAX]);

/* HMAC of `description` keyed with the volume key, in `alg`'s hash. */
int pcr15_hmac(TPMI_ALG_HASH alg, const struct secret *volume_key, const char *description,
               uint8_t out[64], size_t *ret_size);

/* The description and its HMAC in every algorithm of PCR15_ALGS_MAX. */
int pcr15_digests_compute(const struct secret *volume_key, const char *name, const char *uuid,
                          struct pcr15_digests *ret);

/* PCR 15 of `bank` as the TPM would have it after extending `value` with
 * `d` (in place): the chain value a bound volume's token is sealed to
 * (docs/ARCHITECTURE.md, volume binding). -ENOENT when `d` has no digest
 * for the bank. */
int pcr15_chain(TPMI_ALG_HASH bank, uint8_t value[64], const struct pcr15_digests *d);

/* Extend PCR 15 with `d` in every active bank (one PCR_Extend) and append
 * one record per bank. A bank no HMAC was computed for is an error. */
int pcr15_extend(struct tpm2_ctx *c, const struct pcr15_digests *d, struct pcr15_record **records,
                 size_t *n_records, char **why);

/* The chain value of `bank` after the digests of `n` volumes, extended in
 * order from zero: V_n = H(...H(H(0 || D_0) || D_1)... || D_{n-1}), what
 * PCR 15 holds once those volume keys were measured, and what the token of
 * the volume after them is enrolled to (usi-init enroll). *size gets the
 * bank's digest size. Pure: no TPM. */
int pcr15_chain_value(TPMI_ALG_HASH bank, const struct pcr15_digests *d, size_t n, uint8_t value[64], size_t *size);
