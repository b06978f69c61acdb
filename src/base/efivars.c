/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "efivars.h"
#include "util.h"

int efivar_read(int dir_fd, const char *name, const char *guid, uint8_t *buf, size_t size, size_t *ret_len) {
        char file[256];
        _cleanup_free_ char *raw = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t n = 0;
        int r;

        if ((size_t) snprintf(file, sizeof file, "%s-%s", name, guid) >= sizeof file)
                return -ENAMETOOLONG;
        /* O_NONBLOCK: under --efivars DIR the directory is anyone's, and a
         * FIFO there must be refused by the S_ISREG check, not waited on. */
        fd = openat(dir_fd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        /* efivarfs hands out a variable in one read and reports size 0. */
        r = read_full_fd(fd, EFIVAR_MAX + 4, &raw, &n);
        if (r == -EFBIG)
                return -E2BIG;
        if (r < 0)
                return r;
        if (n < 4)
                return -EBADMSG;
        n -= 4;
        if (n > size)
                return -E2BIG;
        memcpy(buf, raw + 4, n);
        *ret_len = n;
        return 0;
}

static size_t utf8_put(char *out, uint32_t c) {
        if (c < 0x80) {
                out[0] = (char) c;
                return 1;
        }
        if (c < 0x800) {
                out[0] = (char) (0xc0 | (c >> 6));
                out[1] = (char) (0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                out[0] = (char) (0xe0 | (c >> 12));
                out[1] = (char) (0x80 | ((c >> 6) & 0x3f));
                out[2] = (char) (0x80 | (c & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (c >> 18));
        out[1] = (char) (0x80 | ((c >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((c >> 6) & 0x3f));
        out[3] = (char) (0x80 | (c & 0x3f));
        return 4;
}

int efi_utf16le_to_utf8(const uint8_t *s, size_t len, char **ret) {
        size_t units = len / 2, o = 0;
        char *out = malloc(units * 3 + 1);  /* a pair (4 bytes out) is two units */

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < units; i++) {
                uint32_t c = (uint32_t) s[2 * i] | (uint32_t) s[2 * i + 1] << 8;
                if (c == 0)
                        break;
                if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
                        uint32_t lo = (uint32_t) s[2 * i + 2] | (uint32_t) s[2 * i + 3] << 8;
                        if (lo >= 0xdc00 && lo < 0xe000) {
                                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                                i++;
                        } else
                                c = 0xfffd;
                } else if (c >= 0xd800 && c < 0xe000)
                        c = 0xfffd;   /* a lone surrogate */
                o += utf8_put(out + o, c);
        }
        out[o] = 0;
        *ret = out;
        return 0;
}

int efivar_read_string(int dir_fd, const char *name, const char *guid, char **ret) {
        uint8_t buf[EFIVAR_MAX];
        size_t n;
        int r = efivar_read(dir_fd, name, guid, buf, sizeof buf, &n);

        if (r < 0)
                return r;
        return efi_utf16le_to_utf8(buf, n, ret);
}

const char *secure_boot_to_string(enum secure_boot s) {
        switch (s) {
        case SECURE_BOOT_NO_EFI:
                return "no-efi";
        case SECURE_BOOT_OFF:
                return "off";
        case SECURE_BOOT_ON:
                return "on";
        }
        return "?";
}

enum secure_boot secure_boot_state(int dir_fd) {
        uint8_t v[8];
        size_t n;

        if (dir_fd < 0)
                return SECURE_BOOT_NO_EFI;
        /* Anything but a one-byte 1 is not Secure Boot: fail closed. */
        if (efivar_read(dir_fd, "SecureBoot", EFI_GLOBAL_GUID, v, sizeof v, &n) < 0 || n != 1 || v[0] != 1)
                return SECURE_BOOT_OFF;
        return SECURE_BOOT_ON;
}
