/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "efisiglist.h"
#include "why.h"

/* a5c059a1-94e4-4aa7-87b5-ab155c2bf072 and c1c41626-504c-4092-aca9-41f936934328. */
const uint8_t efi_cert_x509_guid[16] = {
        0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a, 0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72,
};
const uint8_t efi_cert_sha256_guid[16] = {
        0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40, 0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28,
};

/* SignatureType (16), SignatureListSize, SignatureHeaderSize, SignatureSize. */
#define LIST_HEADER_SIZE 28u
/* EFI_SIGNATURE_DATA starts with the 16-byte SignatureOwner. */
#define OWNER_SIZE 16u

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

int efi_siglist_parse(const uint8_t *buf, size_t size, efi_sig_entry_fn fn, void *userdata,
                      struct efi_siglist_stats *stats, char **why) {
        struct efi_siglist_stats st = {};
        size_t off = 0;
        int r = 0;

        while (off < size) {
                size_t left = size - off;
                const uint8_t *l = buf + off;
                uint32_t list_size, header_size, sig_size;
                size_t body;
                bool x509;

                if (left < LIST_HEADER_SIZE) {
                        r = why_set(why, EBADMSG, "signature list %u at offset %zu: %zu bytes left, a list header needs %u",
                                    st.lists, off, left, LIST_HEADER_SIZE);
                        break;
                }
                list_size = le32(l + 16);
                header_size = le32(l + 20);
                sig_size = le32(l + 24);
                if (list_size < LIST_HEADER_SIZE || list_size > left) {
                        r = why_set(why, EBADMSG, "signature list %u at offset %zu: SignatureListSize %u outside %u..%zu",
                                    st.lists, off, list_size, LIST_HEADER_SIZE, left);
                        break;
                }
                if (header_size > list_size - LIST_HEADER_SIZE) {
                        r = why_set(why, EBADMSG, "signature list %u at offset %zu: SignatureHeaderSize %u larger than the list",
                                    st.lists, off, header_size);
                        break;
                }
                body = list_size - LIST_HEADER_SIZE - header_size;
                if (sig_size <= OWNER_SIZE || body % sig_size != 0) {
                        r = why_set(why, EBADMSG, "signature list %u at offset %zu: SignatureSize %u does not divide the %zu bytes of entries",
                                    st.lists, off, sig_size, body);
                        break;
                }
                if (body == 0) {
                        r = why_set(why, EBADMSG, "signature list %u at offset %zu: no entries", st.lists, off);
                        break;
                }

                x509 = memcmp(l, efi_cert_x509_guid, 16) == 0;
                for (size_t e = LIST_HEADER_SIZE + header_size; e < list_size; e += sig_size) {
                        struct efi_sig_entry entry = {
                                .owner = l + e,
                                .data = l + e + OWNER_SIZE,
                                .size = sig_size - OWNER_SIZE,
                                .list = st.lists,
                                .offset = off + e + OWNER_SIZE,
                        };
                        if (!x509) {
                                st.skipped++;
                                continue;
                        }
                        if (fn) {
                                r = fn(&entry, userdata);
                                if (r < 0)
                                        goto out;
                        }
                        st.x509++;
                }
                st.lists++;
                off += list_size;
        }
out:
        if (stats)
                *stats = st;
        return r < 0 ? r : (int) st.x509;
}

int efi_var_data(const uint8_t *buf, size_t size, const uint8_t **ret_data, size_t *ret_size,
                 uint32_t *ret_attributes) {
        if (size < 4)
                return -EBADMSG;
        if (ret_attributes)
                *ret_attributes = le32(buf);
        *ret_data = buf + 4;
        *ret_size = size - 4;
        return 0;
}
