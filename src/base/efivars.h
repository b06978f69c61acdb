/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* EFI variables as efivarfs shows them: one file NAME-GUID per variable, a
 * 4-byte attribute word, then the value. Every function takes the efivars
 * directory as a descriptor, so tests point it at a plain directory. */

#define EFI_GLOBAL_GUID  "8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define EFI_LOADER_GUID  "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
#define EFIVARS_DIR      "/sys/firmware/efi/efivars"
#define EFIVAR_MAX       4096

/* The value of NAME-GUID without its attribute word. -ENOENT when the
 * variable does not exist, -EBADMSG when it is shorter than its attributes or
 * not a regular file. */
int efivar_read(int dir_fd, const char *name, const char *guid, uint8_t *buf, size_t size, size_t *ret_len);

/* A UTF-16LE string variable (boot loader interface) as UTF-8, up to its
 * first NUL. Characters outside ASCII are kept as UTF-8. */
int efivar_read_string(int dir_fd, const char *name, const char *guid, char **ret);

/* Decode UTF-16LE (len bytes, an odd last byte ignored) into UTF-8, up to the
 * first NUL. */
int efi_utf16le_to_utf8(const uint8_t *s, size_t len, char **ret);

enum secure_boot {
        SECURE_BOOT_NO_EFI,     /* no EFI variables: a BIOS boot */
        SECURE_BOOT_OFF,        /* SecureBoot = 0, or EFI without the variable */
        SECURE_BOOT_ON,         /* SecureBoot = 1 */
};
const char *secure_boot_to_string(enum secure_boot s);

/* What the firmware says. dir_fd < 0: the machine has no EFI variables. An
 * EFI machine without a SecureBoot variable has no Secure Boot support: off. */
enum secure_boot secure_boot_state(int dir_fd);
