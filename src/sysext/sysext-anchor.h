/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The trust anchor of system extensions: the X.509 certificates whose
 * holders may sign an image. systemd-sysext checks a signature against
 * verity.d/ by looking the signer up among these certificates, not by
 * building a chain, so the anchor is a flat set and a CA certificate in it
 * admits nothing signed by its subordinates. The check here uses the same
 * rule, so an image accepted now is never refused later by the final OS. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct stack_st_X509;

struct sysext_anchor {
        struct stack_st_X509 *certs;
        strv origins;   /* where each certificate came from, same order */
};

/* Directories under the image's root read for built-in certificates. */
extern const char *const sysext_anchor_cert_dirs[];
/* The EFI variables of the Kairos mode, in efivarfs naming; dbx is not read. */
extern const char *const sysext_anchor_efi_vars[];

int sysext_anchor_init(struct sysext_anchor *a);
void sysext_anchor_done(struct sysext_anchor *a);
size_t sysext_anchor_count(const struct sysext_anchor *a);

/* PEM text with one or more certificates. Returns how many were new. */
int sysext_anchor_add_pem(struct sysext_anchor *a, const char *pem, size_t size, const char *origin, char **why);
/* A PEM file (the --cert option). */
int sysext_anchor_add_cert_file(struct sysext_anchor *a, const char *path, char **why);
/* Every *.crt of sysext_anchor_cert_dirs under root_fd. A file that is not
 * PEM is skipped with a warning; a missing directory is not an error.
 * Returns the number of certificates added. */
int sysext_anchor_add_cert_dirs(struct sysext_anchor *a, int root_fd);
/* The same for one directory (absolute, resolved beneath root_fd). */
int sysext_anchor_add_cert_dir(struct sysext_anchor *a, int root_fd, const char *dir);

/* The X.509 entries of one variable's EFI_SIGNATURE_LISTs. `with_attributes`:
 * the buffer starts with efivarfs's 4 attribute bytes. A malformed list, or
 * an entry that is not a certificate, is refused with *why (the earlier
 * entries stay) and -EBADMSG is returned; it is not fatal to the caller. */
int sysext_anchor_add_efi_var(struct sysext_anchor *a, const uint8_t *buf, size_t size, bool with_attributes,
                              const char *origin, char **why);
/* A file holding one variable: efivarfs form (4 attribute bytes first) or a
 * bare signature list, told apart by its first four bytes. */
int sysext_anchor_add_efi_file(struct sysext_anchor *a, const char *path, char **why);
/* PK, KEK and db from an efivarfs directory (/sys/firmware/efi/efivars).
 * Each variable that is missing or malformed is logged and skipped.
 * Returns the number of certificates added. */
int sysext_anchor_add_efivars(struct sysext_anchor *a, int efivars_fd);

/* Write each certificate as its own PEM file NN-ORIGIN.crt into dir_fd (what
 * systemd reads from /run/verity.d: one certificate per file). */
int sysext_anchor_write_pem(const struct sysext_anchor *a, int dir_fd, char **why);

/* Read a whole regular file, at most max bytes, refusing symlinks. */
int sysext_read_file_at(int dir_fd, const char *name, size_t max, uint8_t **ret, size_t *ret_size);
