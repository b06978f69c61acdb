/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <tss2/tss2_tpm2_types.h>

/* Which keys usi-init lets the TPM use as the parent of a sealed object and
 * as the salt key of its policy session. The salt encrypts the Unseal
 * response and keys the PIN's HMAC, so whoever holds the private part of
 * the salt key reads both from a recording of the bus. A LUKS2 header is
 * plaintext: a token on it may name any key, including one whose private
 * part was imported into the TPM from outside. So a key is trusted only
 * when the TPM itself says it made the key and never lets it out, from the
 * public area the TPM returns, never from bytes on the disk. Pure checks,
 * no TPM: the callers in tpm2.c read the public area. */

/* Owner-hierarchy persistent handles (TPM 2.0 part 2, handle ranges);
 * systemd 254+ and the TCG put the SRK at the first one plus one. */
#define TPM2_TRUST_PERSISTENT_FIRST UINT32_C(0x81000000)
#define TPM2_TRUST_PERSISTENT_LAST  UINT32_C(0x817FFFFF)

/* 0 when `pub` (as the TPM returned it) is a storage key only this TPM
 * holds: an RSA or ECC key with nameAlg SHA-256 and fixedTPM, fixedParent,
 * sensitiveDataOrigin, restricted and decrypt. fixedTPM is what decides:
 * the TPM refuses it on every key whose private part came from outside
 * (Import, LoadExternal) and on every child of such a key, while
 * sensitiveDataOrigin is only a claim an imported key may carry. Otherwise
 * -EPERM, and `missing` gets "not fixedTPM, not fixedParent" (or the type). */
int tpm2_trust_storage_key(const TPMT_PUBLIC *pub, char *missing, size_t size);

/* 0 when `handle` is an owner persistent handle, else -EPERM and *why. */
int tpm2_trust_srk_handle(TPM2_HANDLE handle, char **why);

/* A token's tpm2_srk, checked against the TPM: `handle` and `recorded` are
 * the handle and name of the serialized ESYS_TR (its name is computed from
 * the public area it carries, which ESYS salts to), `tpm_public` and
 * `tpm_name` what ReadPublic returned for that handle. Accepted only when
 * the handle is an owner persistent one, the TPM's name is the hash of the
 * TPM's public area, equals the recorded one (so the serialized public area
 * is the TPM's, byte for byte), and that area is a storage key as above.
 * Otherwise -EPERM with one sentence in *why:
 * "tpm2_srk names 0x81000010, which is not the TPM's storage key (not fixedTPM, not fixedParent): refused". */
int tpm2_trust_srk(TPM2_HANDLE handle, const TPM2B_NAME *recorded, const TPM2B_PUBLIC *tpm_public,
                   const TPM2B_NAME *tpm_name, char **why);

/* 0 when a PIN may be proven to the sealed object `pub`: the TPM counts
 * each wrong proof toward its dictionary-attack lockout (no noDA). A
 * planted PIN token's object with noDA would be an oracle that answers one
 * guess per token and boot, unseen and unlimited (LUKS2 holds 32 tokens);
 * with DA protection each guess costs the lockout that the genuine object
 * has anyway. systemd seals PIN objects without noDA. Otherwise -EPERM. */
int tpm2_trust_pin_object(const TPMT_PUBLIC *pub, char **why);
