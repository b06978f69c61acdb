/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* EFI_SIGNATURE_LIST, as the firmware keeps PK, KEK, db and dbx (UEFI 2.x,
 * section 32.4.1). No library parses it, so this is the one parser of our
 * own in the sysext code: it only walks sizes and hands out the X.509
 * entries; certificates are decoded by libcrypto. Every length is checked
 * against what is left of the buffer before it is used. */

/* One entry of an EFI_CERT_X509_GUID list: `data` is the DER certificate. */
struct efi_sig_entry {
        const uint8_t *owner;   /* SignatureOwner, 16 bytes */
        const uint8_t *data;
        size_t size;
        unsigned list;          /* index of the list in the variable */
        size_t offset;          /* of the entry's data in the buffer */
};

struct efi_siglist_stats {
        unsigned lists;         /* well-formed lists walked */
        unsigned x509;          /* X.509 entries handed to the callback */
        unsigned skipped;       /* entries of other types (hashes, RSA keys): ignored */
};

/* Return < 0 to stop the walk with that error. */
typedef int (*efi_sig_entry_fn)(const struct efi_sig_entry *e, void *userdata);

/* Walk the lists in buf. Entries of lists before a malformed one have
 * already been delivered when it returns -EBADMSG with *why naming the list,
 * its offset and what is wrong; nothing after it can be trusted, because its
 * size is what locates the next list. */
int efi_siglist_parse(const uint8_t *buf, size_t size, efi_sig_entry_fn fn, void *userdata,
                      struct efi_siglist_stats *stats, char **why);

/* An efivarfs file holds the variable's 4-byte attributes, then its data. */
int efi_var_data(const uint8_t *buf, size_t size, const uint8_t **ret_data, size_t *ret_size,
                 uint32_t *ret_attributes);

/* EFI_GUID in its on-disk (mixed-endian) byte order. */
extern const uint8_t efi_cert_x509_guid[16];
extern const uint8_t efi_cert_sha256_guid[16];
