/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading a file from a place that someone who holds the disk can write
 * (/oem, the persistent volume, the ESP's copies in /.extra) or that a
 * command line names (a key, PIN, signature, command-line or state file).
 * Such a file may be a FIFO that never answers, a device that never ends, a
 * symlink to a secret elsewhere, or simply huge. It is therefore:
 *
 *   - opened with O_NONBLOCK, so opening a FIFO cannot hang;
 *   - opened beneath its directory (openat2 RESOLVE_BENEATH, no magic links),
 *     and never through a symlink as its last component (O_NOFOLLOW);
 *   - used only when fstat says it is a regular file of at most `max` bytes,
 *     and read for at most max + 1 bytes, since st_size may lie (procfs).
 *
 * Every refusal returns a negative errno and writes one sentence naming the
 * file and what it is into `*why` (src/base/why.h): "/oem/a.yaml is a FIFO".
 * A missing file is -ENOENT with "... does not exist", so that callers of
 * optional files can tell it from a refusal. Nothing is logged here. */

#include <stddef.h>

/* The size caps of the files read this way. */
#define SAFE_CONFIG_MAX     (1024 * 1024)       /* usi-init.yaml, cloud-configs */
#define SAFE_SIGNATURE_MAX  (1024 * 1024)       /* tpm2-pcr-signature.json */
#define SAFE_CMDLINE_MAX    (1024 * 1024)       /* --cmdline-file, /proc/cmdline */
#define SAFE_STATE_MAX      (4 * 1024 * 1024)   /* state.json */
#define SAFE_EXTRA_MAX      (1024 * 1024)       /* /.extra files copied to /run/systemd */
#define SAFE_PUBKEY_MAX     (64 * 1024)         /* a PEM public key (enroll --public-key) */

/* `name` (relative, may hold '/') beneath the directory dir_fd, which the
 * messages call dir_name. Returns the fd (O_RDONLY) in *ret_fd. */
int safe_open_at(int dir_fd, const char *dir_name, const char *name, size_t max, int *ret_fd, char **why);

/* The same, then the whole content as a NUL-terminated buffer. */
int safe_read_at(int dir_fd, const char *dir_name, const char *name, size_t max,
                 char **ret, size_t *ret_len, char **why);

/* A path as given on a command line or in a configuration: the directory
 * part is the user's choice and is opened as given; the last component is
 * then opened beneath it by the rules above. */
int safe_open_path(const char *path, size_t max, int *ret_fd, char **why);
int safe_read_path(const char *path, size_t max, char **ret, size_t *ret_len, char **why);
